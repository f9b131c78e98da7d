//! End-to-end tests of the warehouse over loopback HTTP: every endpoint, every statement kind,
//! error cases, permissions, faults, concurrency, restart persistence, the CLI and
//! databricks-sdk-py (when `OPENMATCH_SDK_PYTHON` is set).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use warehouse::{
    DEFAULT_TOKEN, DEFAULT_WAREHOUSE_ID, Endpoint, FaultKind, FaultRule, Principal, Privilege,
};

const T: &str = "`main`.`default`.`t`";

fn make_t(w: &W) {
    let r = w.run("CREATE TABLE IF NOT EXISTS `main`.`default`.`t` (id BIGINT NOT NULL, name STRING, amount DECIMAL(10,2), ts TIMESTAMP, d DATE) USING DELTA");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(r["manifest"]["schema"], json!({"column_count": 0}));
    assert_eq!(r["result"], json!({}));
}

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
fn errors_and_auth() {
    let w = start();
    let (st, msg) = w.fails("INSER INTO x VALUES (1)");
    assert_eq!(st, "42601");
    assert!(
        msg.starts_with("[PARSE_SYNTAX_ERROR] Syntax error at or near 'INSER'"),
        "{msg}"
    );
    assert!(msg.ends_with("SQLSTATE: 42601"));
    let (st, msg) = w.fails("SELECT nope FROM range(1)");
    assert_eq!(st, "42703", "{msg}");
    assert!(msg.starts_with("[UNRESOLVED_COLUMN"), "{msg}");
    let r = w.run("SELECT * FROM missing_table");
    assert_eq!(r["status"]["error"]["error_code"], "BAD_REQUEST");
    assert_eq!(r["status"]["sql_state"], "42P01");
    // 401 exactly as the service
    let expected = json!({"error_code": 401, "message": "Credential was not sent or was of an unsupported type for this API."});
    let resp = w.http.get(w.url("/api/2.0/sql/warehouses")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.json::<Value>().unwrap(), expected);
    let (s401, body) = w.get_as("wrong-token", "/api/2.0/sql/warehouses");
    assert_eq!((s401, body), (401, expected));
    // request validation
    let (code, body) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": "SELECT 1", "warehouse_id": ""}),
    );
    assert_eq!(code, 400, "{body}");
    let (code, body) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": "SELECT 1", "warehouse_id": "0123456789abcdef"}),
    );
    assert_eq!(code, 404, "{body}");
    let (code, body) = w.post("/api/2.0/sql/statements", &json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "3s"}));
    assert_eq!(
        (code, body["error_code"].clone()),
        (400, json!("INVALID_PARAMETER_VALUE"))
    );
    let (code, _) = w.post("/api/2.0/sql/statements", &json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID, "format": "ARROW_STREAM"}));
    assert_eq!(code, 400);
    let (code, body) = w.get("/api/2.0/sql/statements/nope");
    assert_eq!(code, 404, "{body}");
    let (code, body) = w.get("/api/2.0/sql/nothing-here");
    assert_eq!(
        (code, body["error_code"].clone()),
        (404, json!("ENDPOINT_NOT_FOUND"))
    );
}

#[test]
fn permissions() {
    let w = start_with(|c| {
        c.principal(user("reader").grant(Privilege::Select, "main.default"))
            .principal(
                user("writer")
                    .grant(Privilege::Select, "main.default.t")
                    .grant(Privilege::Modify, "main.default.t"),
            )
    });
    make_t(&w);
    w.run("CREATE TABLE other (x INT)");
    w.run(&format!("INSERT INTO {T} (id) VALUES (1)"));
    let r = w.run_as(
        "reader-token",
        &format!("SELECT id FROM {T}"),
        json!([]),
        json!({}),
    );
    assert_eq!(w.all_rows(&r), vec![vec![s("1")]]);
    let (st, msg) = w.fails_as(
        "reader-token",
        &format!("INSERT INTO {T} (id) VALUES (2)"),
        json!([]),
    );
    assert_eq!(st, "42501");
    assert!(
        msg.starts_with("[INSUFFICIENT_PERMISSIONS]") && msg.contains("MODIFY"),
        "{msg}"
    );
    let r = w.run_as(
        "writer-token",
        &format!("INSERT INTO {T} (id) VALUES (2)"),
        json!([]),
        json!({}),
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let (st, msg) = w.fails_as("writer-token", "SELECT * FROM other", json!([]));
    assert_eq!(st, "42501", "{msg}");
    let (st, _) = w.fails_as("reader-token", "CREATE CATALOG c2", json!([]));
    assert_eq!(st, "42501");
    // statements of one principal are not visible to another
    let r = w.run_as("writer-token", "SELECT 1", json!([]), json!({}));
    let id = r["statement_id"].as_str().unwrap();
    let (code, _) = w.get_as("reader-token", &format!("/api/2.0/sql/statements/{id}"));
    assert_eq!(code, 404);
}

#[test]
fn chunks_links_and_limits() {
    let w = start_with(|c| c.chunk_rows(3));
    let r = w.run("SELECT id FROM range(10) ORDER BY id");
    assert_eq!(r["manifest"]["total_chunk_count"], 4);
    assert_eq!(
        r["manifest"]["chunks"][1],
        json!({"chunk_index": 1, "row_offset": 3, "row_count": 3})
    );
    assert_eq!(r["result"]["next_chunk_index"], 1);
    let id = r["statement_id"].as_str().unwrap().to_string();
    assert_eq!(
        r["result"]["next_chunk_internal_link"],
        json!(format!(
            "/api/2.0/sql/statements/{id}/result/chunks/1?row_offset=3"
        ))
    );
    let all = w.all_rows(&r);
    assert_eq!(all.len(), 10);
    assert_eq!(all[9], vec![s("9")]);
    // by index, trailing slash
    let (code, c3) = w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/3/"));
    assert_eq!(code, 200);
    assert_eq!(c3["data_array"], json!([["9"]]));
    assert!(c3.get("next_chunk_index").is_none());
    let (code, _) = w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/4"));
    assert_eq!(code, 400);
    // row_limit
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(10)",
        json!([]),
        json!({"row_limit": 4}),
    );
    assert_eq!(r["manifest"]["total_row_count"], 4);
    assert_eq!(r["manifest"]["truncated"], true);
    // byte_limit
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(100)",
        json!([]),
        json!({"byte_limit": 30}),
    );
    assert_eq!(r["manifest"]["truncated"], true, "{r}");
    assert!(r["manifest"]["total_row_count"].as_u64().unwrap() < 100);
}

#[test]
fn async_lifecycle_cancel_close() {
    let w = start();
    // wait_timeout 0s: answered before the result
    let (code, r) = w.post("/api/2.0/sql/statements/", &json!({"statement": "SELECT count(*) FROM range(3000000) a", "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "0s"}));
    assert_eq!(code, 200);
    let st = r["status"]["state"].as_str().unwrap();
    assert!(st == "PENDING" || st == "RUNNING", "{r}");
    assert!(r.get("manifest").is_none());
    let id = r["statement_id"].as_str().unwrap().to_string();
    let mut r = r;
    for _ in 0..2000 {
        if r["status"]["state"] == "SUCCEEDED" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        r = w.get(&format!("/api/2.0/sql/statements/{id}")).1;
    }
    assert_eq!(r["result"]["data_array"], json!([["3000000"]]));
    // DELETE -> CLOSED
    let (code, body) = w
        .http
        .delete(w.url(&format!("/api/2.0/sql/statements/{id}")))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .map(|r| (r.status().as_u16(), r.text().unwrap()))
        .unwrap();
    assert_eq!((code, body.as_str()), (200, "{}"));
    assert_eq!(
        w.get(&format!("/api/2.0/sql/statements/{id}")).1["status"]["state"],
        "CLOSED"
    );
    // cancel a long statement
    let slow = "SELECT sum(a.id * b.id) FROM range(30000) a CROSS JOIN range(30000) b";
    let (_, r) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": slow, "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "0s"}),
    );
    let id = r["statement_id"].as_str().unwrap().to_string();
    let (code, body) = w.post(&format!("/api/2.0/sql/statements/{id}/cancel"), &json!({}));
    assert_eq!((code, body), (200, json!({})));
    assert_eq!(
        w.get(&format!("/api/2.0/sql/statements/{id}")).1["status"]["state"],
        "CANCELED"
    );
    // on_wait_timeout CANCEL
    let (_, r) = w.post("/api/2.0/sql/statements", &json!({"statement": slow, "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "5s", "on_wait_timeout": "CANCEL"}));
    assert_eq!(r["status"]["state"], "CANCELED", "{r}");
}

#[test]
fn warehouses_and_metadata() {
    let w = start();
    let (code, r) = w.get("/api/2.0/sql/warehouses");
    assert_eq!(code, 200);
    assert_eq!(r["warehouses"][0]["id"], DEFAULT_WAREHOUSE_ID);
    assert_eq!(r["warehouses"][0]["state"], "RUNNING");
    let (code, r) = w.get(&format!("/api/2.0/sql/warehouses/{DEFAULT_WAREHOUSE_ID}/"));
    assert_eq!(code, 200);
    assert_eq!(
        r["odbc_params"]["path"],
        format!("/sql/1.0/warehouses/{DEFAULT_WAREHOUSE_ID}")
    );
    let (code, r) = w.post(
        &format!("/api/2.0/sql/warehouses/{DEFAULT_WAREHOUSE_ID}/start"),
        &json!({}),
    );
    assert_eq!((code, r), (200, json!({})));
    assert_eq!(w.get("/api/2.0/sql/warehouses/ffffffffffffffff").0, 404);
    let r: Value = w
        .http
        .get(w.url("/.well-known/databricks-config"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(r["oidc_endpoint"].as_str().unwrap().ends_with("/oidc"));
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
fn external_links_json_and_arrow() {
    let w = start_with(|c| c.chunk_rows(4));
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(10) ORDER BY id",
        json!([]),
        json!({"disposition": "EXTERNAL_LINKS", "format": "JSON_ARRAY"}),
    );
    assert_eq!(r["manifest"]["total_chunk_count"], 3, "{r}");
    assert!(r["manifest"]["total_byte_count"].as_u64().unwrap() > 0);
    let link = &r["result"]["external_links"][0];
    assert_eq!(
        link["next_chunk_internal_link"],
        json!(format!(
            "/api/2.0/sql/statements/{}/result/chunks/1",
            r["statement_id"].as_str().unwrap()
        ))
    );
    assert!(link["expiration"].as_str().unwrap().ends_with('Z'));
    let body: Value = reqwest::blocking::get(link["external_link"].as_str().unwrap())
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body, json!([["0"], ["1"], ["2"], ["3"]]));
    let (_, c2) = w.get(link["next_chunk_internal_link"].as_str().unwrap());
    let body: Value =
        reqwest::blocking::get(c2["external_links"][0]["external_link"].as_str().unwrap())
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(body, json!([["4"], ["5"], ["6"], ["7"]]));
    // arrow stream
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(10) ORDER BY id",
        json!([]),
        json!({"disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM"}),
    );
    let bytes = reqwest::blocking::get(
        r["result"]["external_links"][0]["external_link"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
    .bytes()
    .unwrap();
    let reader = deltalake::arrow::ipc::reader::StreamReader::try_new(
        std::io::Cursor::new(bytes.to_vec()),
        None,
    )
    .unwrap();
    let n: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(n, 4);
    // expired links
    let w = start_with(|c| {
        c.fault(FaultRule::new(Endpoint::ExternalLink, FaultKind::ExpiredLinks).times(1))
    });
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT 1",
        json!([]),
        json!({"disposition": "EXTERNAL_LINKS"}),
    );
    let resp = reqwest::blocking::get(
        r["result"]["external_links"][0]["external_link"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // re-reading the chunk refreshes the link
    let (_, c0) = w.get(&format!(
        "/api/2.0/sql/statements/{}/result/chunks/0",
        r["statement_id"].as_str().unwrap()
    ));
    let body: Value =
        reqwest::blocking::get(c0["external_links"][0]["external_link"].as_str().unwrap())
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(body, json!([["1"]]));
}

#[test]
fn files_api_and_copy_into() {
    let w = start();
    // a volume must exist before files go into it
    let r = w.run("CREATE VOLUME main.default.landing");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let put = |path: &str, body: Vec<u8>| {
        w.http
            .put(w.url(&format!("/api/2.0/fs/files{path}?overwrite=true")))
            .bearer_auth(DEFAULT_TOKEN)
            .body(body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        put(
            "/Volumes/main/default/landing/a.json",
            b"{\"id\": 1, \"name\": \"x\"}\n{\"id\": 2, \"name\": \"y\"}\n".to_vec()
        ),
        204
    );
    assert_eq!(
        put(
            "/Volumes/main/default/landing/b.csv",
            b"id,name\n3,z\n".to_vec()
        ),
        204
    );
    let got = w
        .http
        .get(w.url("/api/2.0/fs/files/Volumes/main/default/landing/b.csv"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.text().unwrap(), "id,name\n3,z\n");
    let no = w
        .http
        .put(w.url(
            "/api/2.0/fs/files/Volumes/main/default/landing/b.csv?overwrite=false",
        ))
        .bearer_auth(DEFAULT_TOKEN)
        .body("x")
        .send()
        .unwrap();
    assert_eq!(no.status().as_u16(), 409);
    // parquet
    {
        use deltalake::arrow::array::{Int64Array, RecordBatch, StringArray};
        use deltalake::arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![4])),
                Arc::new(StringArray::from(vec!["p"])),
            ],
        )
        .unwrap();
        let mut buf = Vec::new();
        let mut wr =
            deltalake::parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).unwrap();
        wr.write(&b).unwrap();
        wr.close().unwrap();
        assert_eq!(put("/Volumes/main/default/landing/c.parquet", buf), 204);
    }
    w.run("CREATE TABLE loaded (id BIGINT, name STRING)");
    let r = w.run("COPY INTO loaded FROM '/Volumes/main/default/landing/a.json' FILEFORMAT = JSON");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(r["result"]["data_array"][0][0], "2");
    let r = w.run("COPY INTO loaded FROM '/Volumes/main/default/landing/b.csv' FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let r = w.run(
        "COPY INTO loaded FROM '/Volumes/main/default/landing/c.parquet' FILEFORMAT = PARQUET",
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(
        w.rows("SELECT id, name FROM loaded ORDER BY id"),
        vec![
            vec![s("1"), s("x")],
            vec![s("2"), s("y")],
            vec![s("3"), s("z")],
            vec![s("4"), s("p")]
        ]
    );
    let del = w
        .http
        .delete(w.url("/api/2.0/fs/files/Volumes/main/default/landing/b.csv"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(del.status().as_u16(), 204);
    let gone = w
        .http
        .get(w.url("/api/2.0/fs/files/Volumes/main/default/landing/b.csv"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(gone.status().as_u16(), 404);
    assert_eq!(put("/Volumes/nocat/default/v/x", b"1".to_vec()), 404);
    assert_eq!(put("/Volumes/main/default/nosuchvolume/x", b"1".to_vec()), 404);
}

#[test]
fn oauth_client_credentials() {
    let w = start_with(|c| {
        c.principal(Principal::new("sp").grant(Privilege::All, "main.default"))
            .oauth_client("client-1", "s3cret", "sp")
            .oauth_token_ttl(Duration::from_secs(2))
    });
    let meta: Value = w
        .http
        .get(w.url("/oidc/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        meta["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/oidc/v1/token")
    );
    let bad = w
        .http
        .post(w.url("/oidc/v1/token"))
        .basic_auth("client-1", Some("wrong"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=all-apis")
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    let tok: Value = w
        .http
        .post(w.url("/oidc/v1/token"))
        .basic_auth("client-1", Some("s3cret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=all-apis")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 2);
    let access = tok["access_token"].as_str().unwrap();
    let r = w.run_as(access, "SELECT 1", json!([]), json!({}));
    assert_eq!(r["status"]["state"], "SUCCEEDED");
    std::thread::sleep(Duration::from_millis(2200));
    let (code, body) = w.get_as(access, "/api/2.0/sql/warehouses");
    assert_eq!(
        (code, body),
        (
            403,
            json!({"error_code": 403, "message": "Invalid access token."})
        )
    );
}

#[test]
fn fault_injection() {
    let w = start_with(|c| {
        c.fault(
            FaultRule::new(
                Endpoint::ExecuteStatement,
                FaultKind::TooManyRequests {
                    retry_after_secs: 3,
                },
            )
            .times(1),
        )
        .fault(FaultRule::new(Endpoint::Warehouses, FaultKind::Unavailable).times(1))
        .fault(FaultRule::new(Endpoint::GetStatement, FaultKind::DropConnection).times(1))
        .fault(FaultRule::new(Endpoint::Files, FaultKind::Delay { millis: 300 }).times(1))
    });
    let resp = w
        .http
        .post(w.url("/api/2.0/sql/statements"))
        .bearer_auth(DEFAULT_TOKEN)
        .json(&json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID}))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(
        resp.json::<Value>().unwrap()["error_code"],
        "REQUEST_LIMIT_EXCEEDED"
    );
    let (code, r) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID}),
    );
    assert_eq!(code, 200, "{r}");
    let (code, body) = w.get("/api/2.0/sql/warehouses");
    assert_eq!(
        (code, body["error_code"].clone()),
        (503, json!("TEMPORARILY_UNAVAILABLE"))
    );
    assert_eq!(w.get("/api/2.0/sql/warehouses").0, 200);
    let id = r["statement_id"].as_str().unwrap();
    let dropped = w
        .http
        .get(w.url(&format!("/api/2.0/sql/statements/{id}")))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .and_then(|r| r.text());
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(w.get(&format!("/api/2.0/sql/statements/{id}")).0, 200);
    let t0 = std::time::Instant::now();
    let _ = w
        .http
        .get(w.url("/api/2.0/fs/files/Volumes/main/default/v/x"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300));
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
fn cli_prints_listening_line() {
    let dir = temp_dir();
    let grants = dir.join("grants.json");
    std::fs::write(
        &grants,
        r#"{"principals": [{"name": "reader", "tokens": ["reader-token"], "grants": [{"privilege": "SELECT", "on": "main.default"}]}]}"#,
    )
    .unwrap();
    let grants_arg = grants.clone().into_os_string();
    let (mut child, url, line) = serve_bin(
        &dir,
        ["--token".into(), "cli-token".into(), "--fault".into(), "endpoint=warehouses,kind=503,times=1".into(), "--grants".into(), grants_arg],
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let http = reqwest::blocking::Client::new();
    let r = http
        .get(format!("{url}/api/2.0/sql/warehouses"))
        .bearer_auth("cli-token")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503, "--fault applies once");
    let r = http
        .get(format!("{url}/api/2.0/sql/warehouses"))
        .bearer_auth("cli-token")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r: Value = http
        .post(format!("{url}/api/2.0/sql/statements"))
        .bearer_auth("reader-token")
        .json(&json!({"statement": "SELECT 41 + 1", "warehouse_id": DEFAULT_WAREHOUSE_ID}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["result"]["data_array"], json!([["42"]]), "{r}");
    let r: Value = http
        .post(format!("{url}/api/2.0/sql/statements"))
        .bearer_auth("reader-token")
        .json(&json!({"statement": "CREATE TABLE x (i INT)", "warehouse_id": DEFAULT_WAREHOUSE_ID}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["status"]["sql_state"], "42501", "{r}");
    let r = http
        .get(format!("{url}/api/2.0/sql/warehouses"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    child.kill().unwrap();
    let _ = child.wait();
}

/// The python of the databricks-sdk-py venv, or `None` (test skipped) when it is not set up.
fn sdk_python(test: &str) -> Option<String> {
    match std::env::var("OPENMATCH_SDK_PYTHON") {
        Ok(python) => Some(python),
        Err(_) if std::env::var("OPENMATCH_REQUIRE_SDK").as_deref() == Ok("1") => panic!(
            "OPENMATCH_REQUIRE_SDK=1 but OPENMATCH_SDK_PYTHON is not set (run warehouse/scripts/sdk-venv.sh)"
        ),
        Err(_) => {
            println!("SKIP {test}: OPENMATCH_SDK_PYTHON is not set (run warehouse/scripts/sdk-venv.sh)");
            None
        }
    }
}

/// Fill `sdk` with 2500 rows, then run tests/sdk_client.py against `url`.
fn run_sdk_client(python: &str, url: &str, ca_file: Option<&std::path::Path>) {
    let script = env!("CARGO_MANIFEST_DIR").to_string() + "/tests/sdk_client.py";
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script)
        .env("WH_HOST", url)
        .env("WH_TOKEN", DEFAULT_TOKEN)
        .env("WH_ID", DEFAULT_WAREHOUSE_ID);
    if let Some(ca) = ca_file {
        // requests (under databricks-sdk-py) trusts this bundle instead of its own.
        cmd.env("REQUESTS_CA_BUNDLE", ca);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sdk client failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("SDK OK rows=2500 sum=31237.50"), "{stdout}\n{stderr}");
}

const SDK_TABLE: &str = "CREATE TABLE sdk (id BIGINT, amount DECIMAL(10,2))";
const SDK_ROWS: &str = "INSERT INTO sdk SELECT id, CAST(id AS DECIMAL(10,2)) / 100 FROM range(2500)";

#[test]
fn databricks_sdk_py_unmodified() {
    let Some(python) = sdk_python("databricks_sdk_py_unmodified") else {
        return;
    };
    let w = start_with(|c| c.chunk_rows(1000));
    w.run(SDK_TABLE);
    w.run(SDK_ROWS);
    run_sdk_client(&python, &w.bg.url(), None);
}

#[test]
fn databricks_sdk_py_over_https() {
    let Some(python) = sdk_python("databricks_sdk_py_over_https") else {
        return;
    };
    // Fill the tables over http, then serve the same data directory over https.
    let dir = temp_dir();
    {
        let w = start_in(dir.clone(), |c| c);
        w.run(SDK_TABLE);
        w.run(SDK_ROWS);
    }
    let cert = dir.with_extension("pem");
    let w = start_in(dir.clone(), |c| c.chunk_rows(1000).tls_self_signed(&cert));
    assert!(w.bg.url().starts_with("https://"), "{}", w.bg.url());
    run_sdk_client(&python, &w.bg.url(), Some(&cert));
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
