//! Delta time travel (`VERSION AS OF`, `TIMESTAMP AS OF`, `t@vN`), `EXPLAIN`, and the context
//! functions `current_catalog()`, `current_schema()`, `current_user()`.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use warehouse::{DEFAULT_TOKEN, Privilege};

fn ids(w: &W, sql: &str) -> Vec<String> {
    w.rows(sql)
        .into_iter()
        .map(|r| r[0].as_str().unwrap_or("null").to_string())
        .collect()
}

#[test]
fn time_travel_reads_old_versions() {
    let w = start_with(|c| c.principal(user("stranger").grant(Privilege::Select, "main.other")));
    for sql in [
        "CREATE TABLE t (id BIGINT)", // v0
        "INSERT INTO t VALUES (1)",   // v1
        "INSERT INTO t VALUES (2)",   // v2
    ] {
        let r = w.run(sql);
        assert_eq!(r["status"]["state"], "SUCCEEDED", "{sql}: {r}");
    }
    std::thread::sleep(Duration::from_millis(1100));
    let between = chrono::Utc::now();
    std::thread::sleep(Duration::from_millis(1100));
    let r = w.run("DELETE FROM t WHERE id = 1"); // v3
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");

    assert_eq!(ids(&w, "SELECT id FROM t ORDER BY id"), vec!["2"]);
    assert_eq!(
        ids(&w, "SELECT id FROM t VERSION AS OF 1 ORDER BY id"),
        vec!["1"]
    );
    assert_eq!(
        ids(
            &w,
            "SELECT id FROM main.default.t VERSION AS OF 2 ORDER BY id"
        ),
        vec!["1", "2"]
    );
    assert_eq!(ids(&w, "SELECT count(*) FROM t VERSION AS OF 0"), vec!["0"]);
    assert_eq!(ids(&w, "SELECT id FROM t@v2 ORDER BY id"), vec!["1", "2"]);
    assert_eq!(ids(&w, "SELECT t.id FROM t VERSION AS OF 1"), vec!["1"]);
    assert_eq!(
        ids(&w, "SELECT x.id FROM t VERSION AS OF 2 AS x WHERE x.id > 1"),
        vec!["2"]
    );
    // old and new side by side
    assert_eq!(
        ids(
            &w,
            "SELECT o.id FROM t VERSION AS OF 2 o LEFT ANTI JOIN t n ON o.id = n.id"
        ),
        vec!["1"]
    );
    let ts = between.format("%Y-%m-%d %H:%M:%S%.3f").to_string();
    assert_eq!(
        ids(
            &w,
            &format!("SELECT id FROM t TIMESTAMP AS OF '{ts}' ORDER BY id")
        ),
        vec!["1", "2"]
    );
    assert_eq!(
        ids(
            &w,
            "SELECT id FROM t TIMESTAMP AS OF '2999-01-01' ORDER BY id"
        ),
        vec!["2"]
    );
    let (state, msg) = w.fails("SELECT * FROM t VERSION AS OF 99");
    assert!(
        msg.starts_with("[DELTA_VERSION_NOT_FOUND]"),
        "{state} {msg}"
    );
    assert!(msg.contains("[0, 3]"), "{msg}");
    let (_, msg) = w.fails("SELECT * FROM t TIMESTAMP AS OF '2000-01-01'");
    assert!(msg.starts_with("[DELTA_TIMESTAMP_EARLIER"), "{msg}");
    let (state, _) = w.fails("SELECT * FROM t TIMESTAMP AS OF 'not a time'");
    assert_eq!(state, "22018");
    let (state, _) = w.fails("SELECT * FROM nope VERSION AS OF 1");
    assert_eq!(state, "42P01");
    let (state, _) = w.fails_as(
        "stranger-token",
        "SELECT * FROM t VERSION AS OF 1",
        json!([]),
    );
    assert_eq!(state, "42501");
}

#[test]
fn explain_plans_without_running() {
    let w = start();
    let r = w.run("CREATE TABLE e (id BIGINT, s STRING)");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let r = w.run("EXPLAIN SELECT s, count(*) FROM e WHERE id > 1 GROUP BY s");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(r["manifest"]["schema"]["columns"][0]["name"], "plan");
    let rows = w.all_rows(&r);
    assert_eq!(rows.len(), 1);
    let plan = rows[0][0].as_str().unwrap();
    assert!(plan.contains("== Physical Plan =="), "{plan}");
    assert!(plan.contains("Aggregate"), "{plan}");
    // not executed: a query that would run for hours is explained at once
    let r = w.run("EXPLAIN EXTENDED SELECT count(*) FROM range(1000000000000000)");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let (state, _) = w.fails("EXPLAIN SELECT * FROM nope");
    assert_eq!(state, "42P01");
    let (state, _) = w.fails("EXPLAIN DROP TABLE e");
    assert_eq!(state, "0A000");
}

#[test]
fn context_functions() {
    let w = start_with(|c| c.principal(user("reader").grant(Privilege::Select, "main")));
    let r = w.run("CREATE SCHEMA main.s2");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(
        w.rows("SELECT current_catalog(), current_schema(), current_user()"),
        vec![vec![json!("main"), json!("default"), json!("admin")]]
    );
    let r = w.run_as(
        "reader-token",
        "SELECT current_catalog() AS c, current_schema() AS s, current_user() AS u, current_database() AS d",
        json!([]),
        json!({"catalog": "main", "schema": "s2"}),
    );
    assert_eq!(
        w.all_rows(&r),
        vec![vec![
            json!("main"),
            json!("s2"),
            json!("reader"),
            json!("s2")
        ]]
    );
    let r = w.run("SELECT current_catalog()");
    assert_eq!(
        r["manifest"]["schema"]["columns"][0]["name"], "current_catalog()",
        "{r}"
    );
    let _ = DEFAULT_TOKEN;
}
