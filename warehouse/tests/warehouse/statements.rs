//! Statements end to end: types and manifests, parameters, DDL and the wire's writes, catalogs,
//! maintenance and history, every value type, awkward identifiers, concurrent writers and restarts.

use std::time::Duration;

use crate::common::*;
use crate::{T, make_t};
use serde_json::{Value, json};
use warehouse::DEFAULT_TOKEN;

#[test]
fn select_types_and_manifest() {
    let w = start();
    let r = w.run("SELECT CAST(1 AS INT) AS i, CAST(2 AS BIGINT) AS l, CAST(12.5 AS DECIMAL(10,2)) AS dec, 'x\"y' AS s, true AS b, CAST('2021-01-01' AS DATE) AS d, CAST('2021-01-01T10:00:00Z' AS TIMESTAMP) AS ts, CAST(1.5 AS DOUBLE) AS f, CAST(NULL AS STRING) AS n");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let cols = r["manifest"]["schema"]["columns"].as_array().unwrap();
    assert_eq!(r["manifest"]["schema"]["column_count"], 9);
    let names: Vec<(&str, &str)> = cols
        .iter()
        .map(|c| {
            (
                c["type_name"].as_str().unwrap(),
                c["type_text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("INT", "INT"),
            ("LONG", "BIGINT"),
            ("DECIMAL", "DECIMAL(10,2)"),
            ("STRING", "STRING"),
            ("BOOLEAN", "BOOLEAN"),
            ("DATE", "DATE"),
            ("TIMESTAMP", "TIMESTAMP"),
            ("DOUBLE", "DOUBLE"),
            ("STRING", "STRING")
        ]
    );
    assert_eq!(cols[2]["type_precision"], 10);
    assert_eq!(cols[2]["type_scale"], 2);
    assert_eq!(cols[0]["position"], 0);
    assert_eq!(
        r["result"]["data_array"],
        json!([[
            "1",
            "2",
            "12.50",
            "x\"y",
            "true",
            "2021-01-01",
            "2021-01-01T10:00:00.000Z",
            "1.5",
            null
        ]])
    );
    assert_eq!(r["manifest"]["total_row_count"], 1);
    assert_eq!(r["manifest"]["truncated"], false);
    assert!(r["manifest"].get("total_byte_count").is_none());
    // range(n): one BIGINT column `id`
    let r = w.run("SELECT * FROM range(3)");
    assert_eq!(r["manifest"]["schema"]["columns"][0]["name"], "id");
    assert_eq!(r["manifest"]["schema"]["columns"][0]["type_name"], "LONG");
    assert_eq!(r["result"]["data_array"], json!([["0"], ["1"], ["2"]]));
    // hints ignored, intervals, current_date
    let rows = w.rows("SELECT /*+ REPARTITION(10) */ count(*) AS c FROM range(10) WHERE current_date() - INTERVAL 30 DAYS < current_date()");
    assert_eq!(rows, vec![vec![s("10")]]);
}

#[test]
fn typed_parameters_are_bound_not_spliced() {
    let w = start();
    let rows = w.rows_p(
        "SELECT :a + 1 AS a, :b AS b, :c AS c, :d AS d, :e AS e",
        json!([
            {"name": "a", "value": "41", "type": "BIGINT"},
            {"name": "b", "value": "x'); DROP TABLE t; --", "type": "STRING"},
            {"name": "c", "type": "STRING"},
            {"name": "d", "value": "12.50", "type": "DECIMAL(10,2)"},
            {"name": "e", "value": "2024-02-29", "type": "DATE"}
        ]),
    );
    assert_eq!(
        rows,
        vec![vec![
            s("42"),
            s("x'); DROP TABLE t; --"),
            Value::Null,
            s("12.50"),
            s("2024-02-29")
        ]]
    );
    // positional `?` markers with `ordinal` (undocumented; sent by the JDBC driver)
    let rows = w.rows_p(
        "SELECT ? * 2 AS a, ? AS b",
        json!([{"ordinal": 2, "value": "x", "type": "STRING"}, {"ordinal": 1, "value": "21", "type": "INT"}]),
    );
    assert_eq!(rows, vec![vec![s("42"), s("x")]]);
    let (state, msg) = w.fails_as(
        DEFAULT_TOKEN,
        "SELECT :a",
        json!([{"name": "a", "value": "abc", "type": "INT"}]),
    );
    assert_eq!(state, "22018", "{msg}");
}

#[test]
fn ddl_and_wire_writes() {
    let w = start();
    make_t(&w);
    // IF NOT EXISTS twice is fine; without it the table exists
    make_t(&w);
    let (st, msg) = w.fails("CREATE TABLE `main`.`default`.`t` (id BIGINT) USING DELTA");
    assert_eq!(st, "42P07", "{msg}");
    assert!(msg.starts_with("[TABLE_OR_VIEW_ALREADY_EXISTS]"));
    // INSERT VALUES
    let r = w.run(&format!(
        "INSERT INTO {T} (id, name, amount) VALUES (1, 'a', 1.10), (2, 'b', 2.20)"
    ));
    let cols = manifest_columns(&r, "name");
    assert_eq!(cols, vec!["num_affected_rows", "num_inserted_rows"]);
    assert_eq!(r["manifest"]["schema"]["columns"][0]["type_name"], "LONG");
    assert_eq!(r["manifest"]["schema"]["columns"][0]["type_text"], "BIGINT");
    assert_eq!(r["result"]["data_array"], json!([["2", "2"]]));
    // wire: write-records
    let rows = json!([{"c0": 3, "c1": "c", "c2": 3.30, "c3": "2021-01-01T10:00:00.000001Z"}, {"c0": 4, "c1": null, "c2": null, "c3": null}]).to_string();
    let r = w.run_p(
        &format!("INSERT INTO {T} (`id`, `name`, `amount`, `ts`) SELECT c0, c1, c2, c3 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING, c2: DECIMAL(10,2), c3: TIMESTAMP>>'))) AS s"),
        json!([{"name": "rows", "value": rows, "type": "STRING"}]),
    );
    assert_eq!(r["result"]["data_array"], json!([["2", "2"]]), "{r}");
    // wire: update-records
    let upd =
        json!([{"c0": 1, "c1": "A"}, {"c0": 3, "c1": "C"}, {"c0": 99, "c1": "nobody"}]).to_string();
    let r = w.run_p(
        &format!("MERGE INTO {T} AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>'))) AS s ON t.`id` = s.c0 WHEN MATCHED THEN UPDATE SET t.`name` = s.c1"),
        json!([{"name": "rows", "value": upd, "type": "STRING"}]),
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let cols = manifest_columns(&r, "name");
    assert_eq!(
        cols,
        vec![
            "num_affected_rows",
            "num_updated_rows",
            "num_deleted_rows",
            "num_inserted_rows"
        ],
        "{r}"
    );
    assert_eq!(r["result"]["data_array"], json!([["2", "2", "0", "0"]]));
    // wire: delete-records
    let del = json!([{"c0": 2}]).to_string();
    let r = w.run_p(
        &format!("MERGE INTO {T} AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT>>'))) AS s ON t.`id` = s.c0 WHEN MATCHED THEN DELETE"),
        json!([{"name": "rows", "value": del, "type": "STRING"}]),
    );
    assert_eq!(
        r["result"]["data_array"],
        json!([["1", "0", "1", "0"]]),
        "{r}"
    );
    let rows = w.rows(&format!("SELECT id, name, amount, ts FROM {T} ORDER BY id"));
    assert_eq!(
        rows,
        vec![
            vec![s("1"), s("A"), s("1.10"), Value::Null],
            vec![s("3"), s("C"), s("3.30"), s("2021-01-01T10:00:00.000001Z")],
            vec![s("4"), Value::Null, Value::Null, Value::Null]
        ]
    );
    // UPDATE / DELETE statements
    let r = w.run(&format!("UPDATE {T} SET amount = amount * 2 WHERE id >= 3"));
    assert_eq!(r["result"]["data_array"], json!([["2"]]), "{r}");
    let r = w.run_p(
        &format!("DELETE FROM {T} WHERE id = :id"),
        json!([{"name": "id", "value": "4", "type": "BIGINT"}]),
    );
    assert_eq!(r["result"]["data_array"], json!([["1"]]), "{r}");
    assert_eq!(
        w.rows(&format!("SELECT id, amount FROM {T} ORDER BY id")),
        vec![vec![s("1"), s("1.10")], vec![s("3"), s("6.60")]]
    );
    // MERGE with *, not matched insert, matched delete with condition
    w.run("CREATE TABLE src (id BIGINT NOT NULL, name STRING, amount DECIMAL(10,2), ts TIMESTAMP, d DATE)");
    w.run("INSERT INTO src VALUES (1, 'one', 9.99, NULL, NULL), (3, 'gone', 0, NULL, NULL), (7, 'seven', 7.00, NULL, DATE'2020-02-02')");
    let r = w.run(&format!("MERGE INTO {T} t USING src s ON t.id = s.id WHEN MATCHED AND s.name = 'gone' THEN DELETE WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"));
    assert_eq!(
        r["result"]["data_array"],
        json!([["3", "1", "1", "1"]]),
        "{r}"
    );
    assert_eq!(
        w.rows(&format!("SELECT id, name, amount, d FROM {T} ORDER BY id")),
        vec![
            vec![s("1"), s("one"), s("9.99"), Value::Null],
            vec![s("7"), s("seven"), s("7.00"), s("2020-02-02")]
        ]
    );
    // a failing write changes nothing
    let before = w.rows(&format!("SELECT count(*) FROM {T}"));
    let (st, msg) = w.fails(&format!(
        "INSERT INTO {T} (id, name) VALUES (10, 'x'), (NULL, 'y')"
    ));
    assert_eq!(st, "23502", "{msg}");
    // an unbound marker
    let (st, msg) = w.fails("SELECT :nope");
    assert_eq!(st, "42P02", "{msg}");
    assert_eq!(w.rows(&format!("SELECT count(*) FROM {T}")), before);
    // DROP
    w.run("DROP TABLE src");
    let (st, _) = w.fails("SELECT * FROM src");
    assert_eq!(st, "42P01");
    let r = w.run("DROP TABLE IF EXISTS src");
    assert_eq!(r["status"]["state"], "SUCCEEDED");
}

#[test]
fn catalogs_schemas_show_describe() {
    let w = start();
    assert_eq!(
        w.run("CREATE CATALOG IF NOT EXISTS sales")["status"]["state"],
        "SUCCEEDED"
    );
    assert_eq!(
        w.run("CREATE SCHEMA IF NOT EXISTS sales.eu")["status"]["state"],
        "SUCCEEDED"
    );
    assert_eq!(w.run("USE CATALOG sales")["status"]["state"], "SUCCEEDED");
    w.run("CREATE TABLE sales.eu.orders (id BIGINT, region STRING, day DATE) USING DELTA PARTITIONED BY (day)");
    w.run(
        "INSERT INTO sales.eu.orders VALUES (1, 'x', DATE'2024-01-01'), (2, 'y', DATE'2024-01-02')",
    );
    // defaults from the request
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT count(*) FROM orders",
        json!([]),
        json!({"catalog": "sales", "schema": "eu"}),
    );
    assert_eq!(w.all_rows(&r), vec![vec![s("2")]]);
    assert_eq!(
        w.rows("SHOW TABLES IN sales.eu"),
        vec![vec![s("eu"), s("orders"), s("false")]]
    );
    let d = w.rows("DESCRIBE TABLE sales.eu.orders");
    assert_eq!(d[0][..2], [s("id"), s("bigint")]);
    assert!(d.iter().any(|r| r[0] == s("# Partition Information")));
    // like Databricks, a missing schema in a query is a missing table
    let (st, msg) = w.fails("SELECT * FROM sales.nope.orders");
    assert_eq!(st, "42P01", "{msg}");
    let (st, msg) = w.fails("CREATE TABLE sales.nope.x (id INT)");
    assert_eq!(st, "42704", "{msg}");
    let (st, msg) = w.fails("SELECT * FROM main.default.nope");
    assert_eq!(st, "42P01", "{msg}");
    assert!(
        msg.contains("[TABLE_OR_VIEW_NOT_FOUND]") && msg.contains("SQLSTATE: 42P01"),
        "{msg}"
    );
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT 1",
        json!([]),
        json!({"schema": "nope"}),
    );
    assert_eq!(r["status"]["sql_state"], "42704");
    // persisted as directories
    assert!(w.dir.join("sales/eu/orders/_delta_log").is_dir());
}

#[test]
fn maintenance_and_history() {
    let w = start_with(|c| c.retention_duration_check(true));
    make_t(&w);
    for i in 0..3 {
        w.run(&format!("INSERT INTO {T} (id, name) VALUES ({i}, 'n{i}')"));
    }
    w.run(&format!("DELETE FROM {T} WHERE id = 0"));
    let r = w.run(&format!("OPTIMIZE {T}"));
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(r["manifest"]["schema"]["columns"][1]["type_name"], "STRUCT");
    let metrics: Value =
        serde_json::from_str(r["result"]["data_array"][0][1].as_str().unwrap()).unwrap();
    assert!(
        metrics["numFilesRemoved"].as_u64().unwrap() >= 2,
        "{metrics}"
    );
    let r = w.run(&format!("OPTIMIZE {T} ZORDER BY (id)"));
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let (st, msg) = w.fails(&format!("VACUUM {T} RETAIN 0 HOURS"));
    assert!(msg.contains("retentionDurationCheck"), "{msg}");
    assert_eq!(st, "22023");
    let r = w.run(&format!("VACUUM {T} RETAIN 168 HOURS"));
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let r = w.run(&format!("DESCRIBE HISTORY {T}"));
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let cols = manifest_columns(&r, "name");
    assert_eq!(
        cols[..6],
        [
            "version",
            "timestamp",
            "userId",
            "userName",
            "operation",
            "operationParameters"
        ]
    );
    assert_eq!(cols.len(), 15);
    let rows = w.all_rows(&r);
    let ops: Vec<String> = rows
        .iter()
        .map(|r| r[4].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ops.last().unwrap(), "CREATE TABLE", "{ops:?}");
    assert!(
        ops.contains(&"DELETE".to_string())
            && ops.contains(&"OPTIMIZE".to_string())
            && ops.contains(&"WRITE".to_string()),
        "{ops:?}"
    );
    let versions: Vec<i64> = rows
        .iter()
        .map(|r| r[0].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(*versions.last().unwrap(), 0);
    assert!(
        versions.windows(2).all(|p| p[0] == p[1] + 1),
        "{versions:?}"
    );
    assert_eq!(rows[rows.len() - 1][3], s("admin"));
    let path = w.dir.join("main/default/t");
    let r = w.run(&format!("DESCRIBE HISTORY delta.`{}`", path.display()));
    assert_eq!(w.all_rows(&r).len(), rows.len(), "{r}");
    let r = w.run(&format!("DESCRIBE HISTORY {T} LIMIT 1"));
    assert_eq!(w.all_rows(&r).len(), 1);
    let delete_row = rows.iter().find(|r| r[4] == s("DELETE")).unwrap();
    let m: Value = serde_json::from_str(delete_row[12].as_str().unwrap()).unwrap();
    assert!(
        m.as_object().unwrap().keys().all(|k| !k.contains('_')),
        "{m}"
    );
    // retention check disabled
    let w2 = start_with(|c| c.retention_duration_check(false));
    make_t(&w2);
    assert_eq!(
        w2.run(&format!("VACUUM {T} RETAIN 0 HOURS"))["status"]["state"],
        "SUCCEEDED"
    );
}

#[test]
fn concurrent_writers_never_lose_updates() {
    let w = std::sync::Arc::new(start());
    w.run("CREATE TABLE counter (k INT, n BIGINT)");
    w.run("INSERT INTO counter VALUES (1, 0)");
    w.run("CREATE TABLE ev (id BIGINT)");
    let mut hs = Vec::new();
    for t in 0..4 {
        let w = w.clone();
        hs.push(std::thread::spawn(move || {
            let mut ok = 0;
            for i in 0..5 {
                let r = w.run("UPDATE counter SET n = n + 1 WHERE k = 1");
                if r["status"]["state"] == "SUCCEEDED" {
                    ok += 1;
                } else {
                    // only retryable concurrency errors are allowed
                    assert!(r["status"]["error"]["message"].as_str().unwrap().contains("DELTA_CONCURRENT"), "{r}");
                }
                let rows = json!([{"c0": t * 100 + i}]).to_string();
                let r = w.run_p("INSERT INTO ev SELECT c0 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT>>'))) AS s", json!([{"name": "rows", "value": rows}]));
                assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
            }
            ok
        }));
    }
    let ok: i64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(
        w.rows("SELECT n FROM counter"),
        vec![vec![s(&ok.to_string())]]
    );
    assert_eq!(ok, 20);
    assert_eq!(
        w.rows("SELECT count(DISTINCT id) FROM ev"),
        vec![vec![s("20")]]
    );
}

#[test]
fn tables_persist_across_restart() {
    let dir = temp_dir();
    {
        let w = start_in(dir.clone(), |c| c);
        make_t(&w);
        w.run(&format!("INSERT INTO {T} (id, name) VALUES (5, 'kept')"));
    }
    std::thread::sleep(Duration::from_millis(200));
    let w = start_in(dir, |c| c);
    assert_eq!(
        w.rows(&format!("SELECT id, name FROM {T}")),
        vec![vec![s("5"), s("kept")]]
    );
}

#[test]
fn all_value_types_round_trip() {
    let w = start();
    let r = w.run("CREATE TABLE ty (tiny TINYINT, small SMALLINT, i INT, f FLOAT, dbl DOUBLE, b BINARY, ntz TIMESTAMP_NTZ, ts TIMESTAMP, ok BOOLEAN, arr ARRAY<INT>, st STRUCT<a: INT, b: STRING>, m MAP<STRING, INT>)");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let rows = json!([
        {"c0": 1, "c1": 2, "c2": 3, "c3": "NaN", "c4": "-Infinity", "c5": "AQID", "c6": "2021-01-01T10:00:00.123456", "c7": "2021-01-01T10:00:00.000000Z", "c8": true},
        {"c0": null, "c1": null, "c2": null, "c3": 1.5, "c4": 0.1, "c5": null, "c6": null, "c7": null, "c8": null}
    ])
    .to_string();
    let r = w.run_p(
        "INSERT INTO ty (tiny, small, i, f, dbl, b, ntz, ts, ok) SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: TINYINT, c1: SMALLINT, c2: INT, c3: FLOAT, c4: DOUBLE, c5: BINARY, c6: TIMESTAMP_NTZ, c7: TIMESTAMP, c8: BOOLEAN>>'))) AS s",
        json!([{"name": "rows", "value": rows}]),
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let r = w.run("SELECT tiny, small, i, f, dbl, b, ntz, ts, ok FROM ty ORDER BY tiny NULLS LAST");
    let names = manifest_columns(&r, "type_name");
    assert_eq!(
        names,
        vec![
            "BYTE",
            "SHORT",
            "INT",
            "FLOAT",
            "DOUBLE",
            "BINARY",
            "TIMESTAMP_NTZ",
            "TIMESTAMP",
            "BOOLEAN"
        ]
    );
    assert_eq!(
        w.all_rows(&r),
        vec![
            vec![
                s("1"),
                s("2"),
                s("3"),
                s("NaN"),
                s("-Infinity"),
                s("AQID"),
                s("2021-01-01T10:00:00.123456"),
                s("2021-01-01T10:00:00.000Z"),
                s("true")
            ],
            vec![
                Value::Null,
                Value::Null,
                Value::Null,
                s("1.5"),
                s("0.1"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ]
        ]
    );
    // binary parameters as the connector sends them
    let r = w.run_p(
        "SELECT unhex(:p) AS b",
        json!([{"name": "p", "value": "48656C6C6F", "type": "STRING"}]),
    );
    assert_eq!(r["manifest"]["schema"]["columns"][0]["type_name"], "BINARY");
    assert_eq!(r["result"]["data_array"], json!([["SGVsbG8="]]));
    // complex values as JSON text
    let r = w.run("SELECT make_array(1, 2) AS arr, named_struct('a', 1, 'b', 'x') AS st");
    assert_eq!(
        r["manifest"]["schema"]["columns"][0]["type_text"], "ARRAY<BIGINT>",
        "{r}"
    );
    assert_eq!(r["manifest"]["schema"]["columns"][1]["type_name"], "STRUCT");
    assert_eq!(
        r["result"]["data_array"],
        json!([["[1,2]", "{\"a\":1,\"b\":\"x\"}"]])
    );
    // interval and null columns
    let r = w.run("SELECT INTERVAL 3 DAYS AS iv, NULL AS n");
    assert_eq!(
        r["manifest"]["schema"]["columns"][0]["type_name"], "INTERVAL",
        "{r}"
    );
    assert_eq!(
        r["result"]["data_array"],
        json!([["3 00:00:00.000000000", null]])
    );
    assert_eq!(r["manifest"]["schema"]["columns"][1]["type_name"], "NULL");
    assert_eq!(r["manifest"]["schema"]["columns"][1]["type_text"], "VOID");
}

#[test]
fn awkward_identifiers() {
    let w = start();
    let r = w.run("CREATE TABLE `Odd-Table` (`my col` BIGINT, `a.b` STRING, `Tick``s` INT)");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let rows = json!([{"c0": 1, "c1": "x", "c2": 5}]).to_string();
    let r = w.run_p(
        "INSERT INTO `main`.`default`.`Odd-Table` (`my col`, `a.b`, `Tick``s`) SELECT c0, c1, c2 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING, c2: INT>>'))) AS s",
        json!([{"name": "rows", "value": rows}]),
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let upd = json!([{"c0": 1, "c1": "y"}]).to_string();
    let r = w.run_p(
        "MERGE INTO `main`.`default`.`Odd-Table` AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>'))) AS s ON t.`my col` = s.c0 WHEN MATCHED THEN UPDATE SET t.`a.b` = s.c1",
        json!([{"name": "rows", "value": upd}]),
    );
    assert_eq!(
        r["result"]["data_array"],
        json!([["1", "1", "0", "0"]]),
        "{r}"
    );
    let r = w.run("UPDATE `Odd-Table` SET `Tick``s` = `Tick``s` + 1 WHERE `my col` = 1");
    assert_eq!(r["result"]["data_array"], json!([["1"]]), "{r}");
    assert_eq!(
        w.rows("SELECT `my col`, `a.b`, `Tick``s` FROM `odd-table`"),
        vec![vec![s("1"), s("y"), s("6")]]
    );
    let r = w.run("UPDATE `Odd-Table` SET `a.b` = 'O''Brien -- \\ \"x\"' WHERE `a.b` = 'y'");
    assert_eq!(r["result"]["data_array"], json!([["1"]]), "{r}");
    let r = w.run("DELETE FROM `Odd-Table` WHERE `a.b` = 'O''Brien -- \\ \"x\"'");
    assert_eq!(r["result"]["data_array"], json!([["1"]]), "{r}");
}
