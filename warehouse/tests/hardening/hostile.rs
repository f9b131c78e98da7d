//! Hostile SQL: random garbage, token soup, deep nesting and odd parameters thrown at the
//! engine over HTTP. Every statement must answer SUCCEEDED, a typed FAILED
//! (`[CLASS] ... SQLSTATE: nnnnn`), or CANCELED by its wait timeout — never a dropped
//! connection, a 5xx or a hung statement — and the server must still answer afterwards.

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};
use warehouse::DEFAULT_WAREHOUSE_ID;

use crate::common::{W, start};

const WORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "JOIN",
    "ON",
    "UNION ALL",
    "INSERT INTO",
    "VALUES",
    "CREATE TABLE",
    "DROP TABLE",
    "CREATE SCHEMA",
    "DROP SCHEMA",
    "MERGE INTO",
    "USING",
    "WHEN MATCHED THEN",
    "UPDATE SET",
    "DELETE FROM",
    "SHOW TABLES",
    "DESCRIBE",
    "OPTIMIZE",
    "VACUUM",
    "COPY INTO",
    "CAST",
    "AS",
    "NOT",
    "AND",
    "OR",
    "IS NULL",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "IN",
    "BETWEEN",
    "LIKE",
    "EXISTS",
    "DISTINCT",
    "range(3)",
    "range(100)",
    "t",
    "main.default.t",
    "`..`",
    "`.`",
    "`a/b`",
    "`\u{2024}`",
    "x",
    "id",
    "*",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    ",",
    ".",
    ";",
    ":",
    "::",
    "+",
    "-",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "!",
    "'",
    "\"",
    "`",
    "''",
    "'abc'",
    "'[{\"c0\": 1}]'",
    "1",
    "0",
    "-1",
    "1.5e308",
    "9223372036854775807",
    "NULL",
    "TRUE",
    "ARRAY<",
    "MAP<",
    "STRUCT<",
    "INT",
    "BIGINT",
    "STRING",
    "DECIMAL(38,38)",
    "TIMESTAMP",
    "BINARY",
    "from_json(",
    "inline(",
    "array(",
    "map(",
    "struct(",
    "named_struct(",
    "unhex(",
    "concat(",
    "count(*)",
    "sum(",
    ":p",
    "?",
    "--",
    "/*",
    "*/",
    "\\",
    "\u{0}",
    "\u{feff}",
    "é",
    "🦀",
];

const TYPES: &[&str] = &[
    "STRING",
    "INT",
    "BIGINT",
    "BOOLEAN",
    "DOUBLE",
    "FLOAT",
    "DECIMAL(10,2)",
    "DECIMAL(99,1)",
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "BINARY",
    "VOID",
    "ARRAY<INT>",
    "MAP<STRING, INT>",
    "STRUCT<a: INT>",
    "WHAT",
    "",
    "ARRAY<",
    "INTERVAL DAY",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..40).prop_map(|w| w.join(" "))
}

/// Wrapped `depth` times in one of a few recursive shapes, or chained `depth` long.
fn deep() -> impl Strategy<Value = String> {
    (0usize..6, 0usize..6000).prop_map(|(kind, n)| match kind {
        0 => format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n)),
        1 => format!("SELECT {}", vec!["1"; n.max(1)].join(" * ")),
        2 => format!(
            "SELECT CAST(NULL AS {}INT{})",
            "ARRAY<".repeat(n),
            ">".repeat(n)
        ),
        3 => format!("SELECT {}true", "NOT ".repeat(n)),
        4 => format!("SELECT {}", vec!["- 1"; n.max(1)].join(" ")),
        _ => format!(
            "SELECT {}1{}",
            "CASE WHEN true THEN ".repeat(n),
            " END".repeat(n)
        ),
    })
}

fn params() -> impl Strategy<Value = Value> {
    let one = (
        prop::sample::select(&["p", "q", "", "1", "p p"][..]),
        prop::option::of(".{0,30}"),
        prop_oneof![
            prop::sample::select(TYPES).prop_map(str::to_string),
            (0usize..3000).prop_map(|n| format!("{}INT{}", "ARRAY<".repeat(n), ">".repeat(n))),
        ],
    )
        .prop_map(|(name, value, ty)| json!({"name": name, "value": value, "type": ty}));
    prop::collection::vec(one, 0..3).prop_map(Value::Array)
}

fn statement() -> impl Strategy<Value = (String, Value)> {
    let sql = prop_oneof![
        3 => soup(),
        2 => deep(),
        1 => ".{0,200}",
        1 => soup().prop_map(|s| format!("SELECT {s}")),
        1 => soup().prop_map(|s| format!("SELECT * FROM range(10) WHERE {s}")),
    ];
    (sql, params())
}

/// One statement; `Err` describes a broken promise.
fn check(w: &W, sql: &str, params: &Value) -> Result<(), TestCaseError> {
    let body = json!({"statement": sql, "warehouse_id": DEFAULT_WAREHOUSE_ID, "parameters": params,
        "wait_timeout": "20s", "on_wait_timeout": "CANCEL"});
    let resp = w
        .http
        .post(w.url("/api/2.0/sql/statements"))
        .bearer_auth(&w.token)
        .json(&body)
        .send()
        .map_err(|e| TestCaseError::fail(format!("no HTTP answer: {e}")))?;
    let status = resp.status().as_u16();
    let r: Value = resp
        .json()
        .map_err(|e| TestCaseError::fail(format!("not JSON ({status}): {e}")))?;
    if status == 400 {
        // request-level validation (empty statement, bad parameter shape...)
        prop_assert!(r["error_code"].is_string(), "{r}");
        return Ok(());
    }
    prop_assert_eq!(status, 200, "{}", r);
    let state = r["status"]["state"].as_str().unwrap_or("");
    match state {
        "SUCCEEDED" | "CANCELED" => {}
        "FAILED" => {
            let code = r["status"]["error"]["error_code"].as_str().unwrap_or("");
            let msg = r["status"]["error"]["message"].as_str().unwrap_or("");
            let sql_state = r["status"]["sql_state"].as_str().unwrap_or("");
            prop_assert!(!code.is_empty(), "{}", r);
            prop_assert!(msg.starts_with('['), "{}", r);
            prop_assert_eq!(sql_state.len(), 5, "{}", r);
            prop_assert!(msg.ends_with(&format!("SQLSTATE: {sql_state}")), "{}", r);
        }
        other => return Err(TestCaseError::fail(format!("state {other}: {r}"))),
    }
    Ok(())
}

#[test]
fn hostile_sql_gets_typed_answers_and_the_server_survives() {
    let w = start();
    let r = w.run("CREATE TABLE t (id BIGINT, x STRING)");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let cases = std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(PtConfig {
        cases,
        failure_persistence: None,
        ..PtConfig::default()
    });
    let result = runner.run(&statement(), |(sql, params)| check(&w, &sql, &params));
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(w.rows("SELECT 1 + 1 AS x"), vec![vec![json!("2")]]);
}
