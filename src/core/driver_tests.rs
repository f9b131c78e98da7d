//! Flows of the statement driver and the operations against recorded server responses.

use super::config::{Credential, ResultFormat};
use super::driver;
use super::error::ErrorKind;
use super::fake::{Fake, input, session, session_with};
use super::http::{HttpResponse, Method};
use super::ops;
use super::secret::Secret;
use super::session::Session;
use super::value::Value;
use super::write::{self, Mode};

const STMTS: &str = "/api/2.0/sql/statements";

/// The real recorded INLINE response of `SELECT id, ts` (databricks-jdbc WireMock fixtures).
const TIMESTAMPS: &str = r#"{"statement_id":"01f00f48-d4ac-1dc7-8b29-c92b18761007","status":{"state":"SUCCEEDED"},
 "manifest":{"format":"JSON_ARRAY","schema":{"column_count":2,"columns":[
   {"name":"id","type_text":"INT","type_name":"INT","position":0},
   {"name":"ts","type_text":"TIMESTAMP","type_name":"TIMESTAMP","position":1}]},
  "total_chunk_count":1,"chunks":[{"chunk_index":0,"row_offset":0,"row_count":3}],
  "total_row_count":3,"truncated":false},
 "result":{"chunk_index":0,"row_offset":0,"row_count":3,
  "data_array":[["1","2021-01-01T10:00:00.000-08:00"],["2","2021-06-15T12:34:56.789-07:00"],["3",null]]}}"#;

/// The real recorded DDL response (no columns, empty result).
const DDL: &str = r#"{"statement_id":"01ef9de3-8ad8-1237-a769-1fea120e3c0a","status":{"state":"SUCCEEDED"},
 "manifest":{"format":"JSON_ARRAY","schema":{"column_count":0},"total_chunk_count":0,"total_row_count":0,"truncated":false},"result":{}}"#;

/// The real recorded syntax error (no `sql_state` field).
const SYNTAX: &str = r#"{"statement_id":"01ef9de4-091e-1cca-a458-a00ed5ab7b11","status":{"state":"FAILED","error":{"error_code":"BAD_REQUEST",
 "message":"\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'INSER'. SQLSTATE: 42601 (line 1, pos 0)\n\n== SQL ==\nINSER INTO ...\n^^^\n"}}}"#;

fn pending(id: &str) -> String {
    format!(r#"{{"statement_id":"{id}","status":{{"state":"PENDING"}}}}"#)
}

fn running(id: &str) -> String {
    format!(r#"{{"statement_id":"{id}","status":{{"state":"RUNNING"}}}}"#)
}

fn dml(id: &str, cols: &[&str], vals: &[u64]) -> String {
    let columns: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(r#"{{"name":"{c}","type_text":"BIGINT","type_name":"LONG","position":{i}}}"#)
        })
        .collect();
    let cells: Vec<String> = vals.iter().map(|v| format!("\"{v}\"")).collect();
    format!(
        r#"{{"statement_id":"{id}","status":{{"state":"SUCCEEDED"}},"manifest":{{"format":"JSON_ARRAY","schema":{{"column_count":{},"columns":[{}]}},"total_row_count":1}},"result":{{"chunk_index":0,"row_count":1,"data_array":[[{}]]}}}}"#,
        cols.len(),
        columns.join(","),
        cells.join(",")
    )
}

fn with_header(status: u16, body: &str, name: &str, value: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![(name.into(), value.into())],
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn pending_then_succeeded_polls_with_backoff() {
    let mut s = session();
    s.transport
        .on(Method::Post, STMTS, 200, &pending("s-1"))
        .on(Method::Get, "/statements/s-1", 200, &running("s-1"))
        .on(Method::Get, "/statements/s-1", 200, &running("s-1"))
        .on(
            Method::Get,
            "/statements/s-1",
            200,
            &TIMESTAMPS.replace("01f00f48-d4ac-1dc7-8b29-c92b18761007", "s-1"),
        );
    let r = ops::read_all(
        &mut s,
        "SELECT id, ts FROM t WHERE id > %(min)s",
        &[("min".into(), Value::Int(0))],
    )
    .unwrap();
    assert_eq!(s.transport.sleeps, vec![50, 100, 200]);
    assert_eq!(r.rows.len(), 3);
    assert_eq!(r.rows[0][0], Value::Int(1));
    assert_eq!(
        r.rows[0][1],
        Value::Timestamp((18_628 * 86_400 + 18 * 3600) * 1_000_000)
    );
    assert_eq!(r.rows[2][1], Value::Null);
    assert_eq!(r.execution.statement_id, "s-1");
    assert_eq!(r.execution.row_count, 3);
    let post = &s.transport.sent[0];
    assert_eq!(post.url, "http://127.0.0.1:9/api/2.0/sql/statements");
    assert_eq!(
        post.authorization.as_ref().map(|a| a.expose()),
        Some("Bearer dapi-secret")
    );
    assert!(
        post.headers
            .contains(&("user-agent".into(), "openmatch-databricks/0.1.0".into()))
    );
    assert!(
        post.headers
            .contains(&("content-type".into(), "application/json".into()))
    );
    let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(body["statement"], "SELECT id, ts FROM t WHERE id > :min");
    assert_eq!(
        body["parameters"][0],
        serde_json::json!({"name": "min", "value": "0", "type": "INT"})
    );
    assert_eq!(
        (body["catalog"].as_str(), body["schema"].as_str()),
        (Some("main"), Some("default"))
    );
    assert_eq!(body["wait_timeout"], "10s");
    assert!(s.transport.logs.iter().any(|l| l.contains("s-1")));
    assert!(s.transport.logs.iter().all(|l| !l.contains("dapi-secret")));
}

#[test]
fn ddl_without_columns_gives_empty_result() {
    let mut s = session();
    s.transport.on(Method::Post, STMTS, 200, DDL);
    let r = ops::read_all(&mut s, "CREATE TABLE t (id BIGINT)", &[]).unwrap();
    assert!(r.columns.is_empty() && r.rows.is_empty());
    assert_eq!(r.execution.rows_affected, 0);
}

#[test]
fn dml_counts_become_rows_affected() {
    let mut s = session();
    s.transport.on(
        Method::Post,
        STMTS,
        200,
        &dml("s-2", &["num_affected_rows"], &[7]),
    );
    let r = ops::read_all(&mut s, "UPDATE t SET x = 1", &[]).unwrap();
    assert_eq!(r.execution.rows_affected, 7);
}

#[test]
fn follows_chunk_links_verbatim_then_indexes() {
    let mut s = session();
    let first = r#"{"statement_id":"s-3","status":{"state":"SUCCEEDED"},
      "manifest":{"schema":{"column_count":1,"columns":[{"name":"id","type_name":"LONG","type_text":"BIGINT","position":0}]},"total_row_count":5},
      "result":{"chunk_index":0,"data_array":[["0"],["1"]],"next_chunk_index":1,"next_chunk_internal_link":"/api/2.0/sql/statements/s-3/result/chunks/1?row_offset=2"}}"#;
    let second = r#"{"chunk_index":1,"data_array":[["2"],["3"]],"next_chunk_index":2}"#;
    let third = r#"{"chunk_index":2,"data_array":[["4"]]}"#;
    s.transport
        .on(Method::Post, STMTS, 200, first)
        .on(
            Method::Get,
            "/s-3/result/chunks/1?row_offset=2",
            200,
            second,
        )
        .on(Method::Get, "/s-3/result/chunks/2", 200, third);
    let r = ops::read_all(&mut s, "SELECT * FROM range(5)", &[]).unwrap();
    let ids: Vec<Value> = r.rows.into_iter().map(|mut row| row.remove(0)).collect();
    assert_eq!(ids, (0..5).map(Value::BigInt).collect::<Vec<_>>());
    assert_eq!(
        s.transport.sent[1].url,
        "http://127.0.0.1:9/api/2.0/sql/statements/s-3/result/chunks/1?row_offset=2"
    );
    assert!(s.transport.sent[1].authorization.is_some());
}

#[test]
fn streaming_fetches_one_chunk_at_a_time_and_close_deletes() {
    let mut s = session();
    let first = r#"{"statement_id":"s-4","status":{"state":"SUCCEEDED"},
      "manifest":{"schema":{"columns":[{"name":"id","type_name":"INT","position":0}]}},
      "result":{"chunk_index":0,"data_array":[["0"],["1"]],"next_chunk_index":1}}"#;
    s.transport.on(Method::Post, STMTS, 200, first);
    let deadline = s.deadline();
    let mut c = ops::query(&mut s, "SELECT id FROM big", &[], deadline).unwrap();
    assert_eq!(
        c.next_rows(&mut s, 1, deadline).unwrap(),
        vec![vec![Value::Int(0)]]
    );
    assert_eq!(
        c.next_rows(&mut s, 1, deadline).unwrap(),
        vec![vec![Value::Int(1)]]
    );
    assert_eq!(
        s.transport.sent.len(),
        1,
        "no chunk fetched before it is needed"
    );
    // Filling a batch of 3 reads chunks until 3 rows are buffered, and no further.
    s.transport
        .on(
            Method::Get,
            "/s-4/result/chunks/1",
            200,
            r#"{"chunk_index":1,"data_array":[["2"]],"next_chunk_index":2}"#,
        )
        .on(
            Method::Get,
            "/s-4/result/chunks/2",
            200,
            r#"{"chunk_index":2,"data_array":[["3"],["4"],["5"]],"next_chunk_index":3}"#,
        );
    let ids: Vec<Value> = c
        .next_rows(&mut s, 3, deadline)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(ids, vec![Value::Int(2), Value::Int(3), Value::Int(4)]);
    assert_eq!(s.transport.sent.len(), 3);
    assert!(!c.exhausted());
    s.transport.on(Method::Delete, "/statements/s-4", 200, "{}");
    driver::close(&mut s, &c.statement_id);
    assert_eq!(
        s.transport.calls().last().map(|c| c.0),
        Some(Method::Delete)
    );
}

#[test]
fn failed_statements_are_classified() {
    let mut s = session();
    s.transport.on(Method::Post, STMTS, 200, SYNTAX);
    let e = ops::read_all(&mut s, "INSER INTO t", &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(e.sql_state.as_deref(), Some("42601"));
    assert_eq!(e.error_code.as_deref(), Some("PARSE_SYNTAX_ERROR"));
    assert_eq!(
        e.statement_id.as_deref(),
        Some("01ef9de4-091e-1cca-a458-a00ed5ab7b11")
    );

    let mut s = session();
    let nf = r#"{"statement_id":"s-5","status":{"state":"FAILED","sql_state":"42P01","error":{"error_code":"BAD_REQUEST","message":"[TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found. SQLSTATE: 42P01"}}}"#;
    s.transport
        .on(Method::Post, STMTS, 200, &pending("s-5"))
        .on(Method::Get, "/s-5", 200, nf);
    let e = ops::read_all(&mut s, "SELECT * FROM x", &[]).unwrap_err();
    assert_eq!(
        (e.kind, e.statement_id.as_deref()),
        (ErrorKind::NotFound, Some("s-5"))
    );

    let mut s = session();
    s.transport.on(
        Method::Post,
        STMTS,
        200,
        r#"{"statement_id":"s-6","status":{"state":"CANCELED"}}"#,
    );
    assert_eq!(
        ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err().kind,
        ErrorKind::Canceled
    );
}

#[test]
fn auth_failure_on_open_is_not_retried() {
    let mut s = session();
    s.transport.on(Method::Get, "/api/2.0/sql/warehouses/wh1", 401, r#"{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API."}"#);
    let e = s.check_warehouse().unwrap_err();
    assert_eq!(
        (e.kind, e.http_status, e.error_code.as_deref()),
        (ErrorKind::Authentication, Some(401), Some("401"))
    );
    assert_eq!(s.transport.sent.len(), 1);
    assert!(!e.message.contains("dapi-secret"));
}

#[test]
fn rate_limit_honours_retry_after_then_succeeds() {
    let mut s = session();
    let limited = with_header(
        429,
        r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#,
        "Retry-After",
        "2",
    );
    s.transport
        .reply(Method::Post, STMTS, limited)
        .on(Method::Post, STMTS, 200, DDL);
    let r = ops::read_all(&mut s, "CREATE TABLE t (i INT)", &[]).unwrap();
    assert_eq!(s.transport.sleeps, vec![2000]);
    assert_eq!(r.execution.retries, 1);
}

#[test]
fn rate_limit_gives_up_after_max_attempts() {
    let mut cfg = input();
    cfg.max_attempts = Some(3);
    let mut s = session_with(cfg);
    for _ in 0..3 {
        let limited = with_header(
            429,
            r#"{"error_code":"RESOURCE_EXHAUSTED","message":"quota"}"#,
            "retry-after",
            "1",
        );
        s.transport.reply(Method::Post, STMTS, limited);
    }
    let e = ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after_ms, e.http_status),
        (ErrorKind::ResourceExhausted, Some(1000), Some(429))
    );
    assert_eq!(s.transport.sent.len(), 3);
    assert_eq!(s.transport.sleeps, vec![1000, 1000]);
}

#[test]
fn unavailable_without_retry_after_backs_off_exponentially() {
    let mut s = session();
    s.transport.rng = 0;
    s.transport
        .on(
            Method::Post,
            STMTS,
            503,
            r#"{"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"}"#,
        )
        .on(Method::Post, STMTS, 503, "")
        .on(Method::Post, STMTS, 200, DDL);
    ops::read_all(&mut s, "CREATE TABLE t (i INT)", &[]).unwrap();
    assert_eq!(s.transport.sleeps, vec![100, 200]);
}

#[test]
fn server_errors_on_submit_are_not_retried() {
    for status in [500, 502, 504] {
        let mut s = session();
        s.transport.on(
            Method::Post,
            STMTS,
            status,
            r#"{"error_code":"INTERNAL_ERROR","message":"boom"}"#,
        );
        let e = ops::read_all(&mut s, "INSERT INTO t VALUES (1)", &[]).unwrap_err();
        assert_eq!((e.kind, e.http_status), (ErrorKind::Server, Some(status)));
        assert_eq!(s.transport.sent.len(), 1);
    }
}

#[test]
fn connection_failure_before_sending_is_retried_but_unknown_outcome_is_not() {
    let mut s = session();
    s.transport
        .fail(Method::Post, STMTS, false)
        .on(Method::Post, STMTS, 200, DDL);
    ops::read_all(&mut s, "CREATE TABLE t (i INT)", &[]).unwrap();
    assert_eq!(s.transport.sent.len(), 2);

    let mut s = session();
    s.transport.fail(Method::Post, STMTS, true);
    let e = ops::read_all(&mut s, "INSERT INTO t VALUES (1)", &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connection);
    assert!(e.message.contains("outcome is unknown"));
    assert_eq!(
        s.transport.sent.len(),
        1,
        "a maybe-sent statement is never re-sent"
    );
}

#[test]
fn polling_and_chunk_reads_are_retried() {
    let mut s = session();
    let first = r#"{"statement_id":"s-7","status":{"state":"SUCCEEDED"},
      "manifest":{"schema":{"columns":[{"name":"id","type_name":"INT","position":0}]}},
      "result":{"chunk_index":0,"data_array":[["0"]],"next_chunk_index":1}}"#;
    s.transport
        .on(Method::Post, STMTS, 200, &pending("s-7"))
        .fail(Method::Get, "/statements/s-7", true)
        .on(Method::Get, "/statements/s-7", 503, "")
        .on(Method::Get, "/statements/s-7", 200, first)
        .on(Method::Get, "/s-7/result/chunks/1", 504, "")
        .on(
            Method::Get,
            "/s-7/result/chunks/1",
            200,
            r#"{"chunk_index":1,"data_array":[["1"]]}"#,
        );
    let r = ops::read_all(&mut s, "SELECT id FROM t", &[]).unwrap();
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.execution.retries, 3);
}

#[test]
fn pending_past_deadline_cancels_and_times_out() {
    let mut cfg = input();
    cfg.timeout_ms = Some(3_000);
    let mut s = session_with(cfg);
    s.transport.on(Method::Post, STMTS, 200, &pending("s-8"));
    // Sleeps 50+100+200+400+800+1000 and the last 443 ms reach the 3 s deadline after 7 polls.
    for _ in 0..7 {
        s.transport
            .on(Method::Get, "/statements/s-8", 200, &running("s-8"));
    }
    s.transport
        .on(Method::Post, "/statements/s-8/cancel", 200, "{}")
        .on(
            Method::Get,
            "/statements/s-8",
            200,
            r#"{"statement_id":"s-8","status":{"state":"CANCELED"}}"#,
        );
    let e = ops::read_all(&mut s, "SELECT slow()", &[]).unwrap_err();
    assert_eq!(
        (e.kind, e.statement_id.as_deref()),
        (ErrorKind::Timeout, Some("s-8"))
    );
    assert!(e.message.contains("canceled"), "{}", e.message);
    assert!(
        s.transport.script.is_empty(),
        "polled until the deadline, then canceled"
    );
    assert!(
        s.transport.now <= 3_000 + 20,
        "stopped at the deadline, now {}",
        s.transport.now
    );
    assert_eq!(s.transport.sleeps, [50, 100, 200, 400, 800, 1000, 443]);
}

#[test]
fn external_links_without_authorization_and_refresh_on_expiry() {
    let mut cfg = input();
    cfg.external_links = true;
    // JSON_ARRAY links (with `auto`, external links read Arrow: arrow_driver_tests.rs).
    cfg.result_format = Some(ResultFormat::Json);
    let mut s = session_with(cfg);
    let first = r#"{"statement_id":"s-9","status":{"state":"SUCCEEDED"},
      "manifest":{"schema":{"columns":[{"name":"id","type_name":"INT","position":0}]},"total_row_count":3},
      "result":{"external_links":[{"chunk_index":0,"row_offset":0,"row_count":2,"external_link":"https://bucket.s3/x?sig=old",
        "http_headers":{"x-amz-sse":"k"},"expiration":"2024-11-08T15:20:17.922Z","next_chunk_index":1,
        "next_chunk_internal_link":"/api/2.0/sql/statements/s-9/result/chunks/1"}]}}"#;
    let refreshed = r#"{"external_links":[{"chunk_index":0,"external_link":"https://bucket.s3/x?sig=new","next_chunk_index":1,
        "next_chunk_internal_link":"/api/2.0/sql/statements/s-9/result/chunks/1"}]}"#;
    let second = r#"{"external_links":[{"chunk_index":1,"external_link":"https://bucket.s3/y"}]}"#;
    s.transport
        .on(Method::Post, STMTS, 200, first)
        .on(
            Method::Get,
            "sig=old",
            403,
            "<Error>AccessDenied: Request has expired</Error>",
        )
        .on(Method::Get, "/s-9/result/chunks/0", 200, refreshed)
        .on(Method::Get, "sig=new", 200, r#"[["0"],["1"]]"#)
        .on(Method::Get, "/s-9/result/chunks/1", 200, second)
        .on(Method::Get, "bucket.s3/y", 200, r#"[["2"]]"#);
    let r = ops::read_all(&mut s, "SELECT id FROM big", &[]).unwrap();
    assert_eq!(r.rows.len(), 3);
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[0].body).unwrap();
    assert_eq!(body["disposition"], "EXTERNAL_LINKS");
    for req in s
        .transport
        .sent
        .iter()
        .filter(|r| r.url.contains("bucket.s3"))
    {
        assert!(
            req.authorization.is_none(),
            "no Authorization to {}",
            req.url
        );
    }
    assert!(
        s.transport.sent[1]
            .headers
            .contains(&("x-amz-sse".into(), "k".into()))
    );
}

#[test]
fn bad_server_data_is_a_typed_error() {
    let cases = [
        ("{not json", "malformed"),
        (
            r#"{"statement_id":"s-10","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[{"name":"a","type_name":"INT"}]}},"result":{"data_array":[["1","2"]]}}"#,
            "cells",
        ),
        (
            r#"{"statement_id":"s-10","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[{"name":"a","type_name":"INT"}]},"total_row_count":5},"result":{"data_array":[["1"]]}}"#,
            "manifest",
        ),
        (
            r#"{"statement_id":"s-10","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[{"name":"a","type_name":"INT"}]}},"result":{"data_array":[["x"]]}}"#,
            "malformed INT",
        ),
        (
            r#"{"statement_id":"s-10","status":{"state":"SUCCEEDED"},"result":{"chunk_index":3,"next_chunk_index":3}}"#,
            "advance",
        ),
        (
            r#"{"statement_id":"s-10","status":{"state":"SUCCEEDED"},"result":{"next_chunk_internal_link":"https://evil/x"}}"#,
            "next_chunk_internal_link",
        ),
        (r#"{"status":{"state":"PENDING"}}"#, "statement_id"),
        (
            r#"{"statement_id":"s-10","status":{"state":"EXPLODED"}}"#,
            "state",
        ),
    ];
    for (body, needle) in cases {
        let mut s = session();
        s.transport.on(Method::Post, STMTS, 200, body);
        let e = ops::read_all(&mut s, "SELECT a", &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server, "{body}");
        assert!(e.message.contains(needle), "{} lacks {needle}", e.message);
    }
}

#[test]
fn writes_batch_and_count_from_the_server() {
    let mut cfg = input();
    cfg.batch_rows = Some(2);
    let mut s = session_with(cfg);
    let recs: Vec<Vec<(String, Value)>> = (0..5)
        .map(|i| {
            vec![
                ("id".into(), Value::BigInt(i)),
                ("name".into(), Value::Text(format!("n{i}"))),
            ]
        })
        .collect();
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("b1", &["num_affected_rows", "num_inserted_rows"], &[2, 2]),
        )
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("b2", &["num_affected_rows", "num_inserted_rows"], &[2, 2]),
        )
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("b3", &["num_affected_rows", "num_inserted_rows"], &[1, 1]),
        );
    let (n, execs) = write::write(&mut s, &recs, "main.default.customers", Mode::Insert).unwrap();
    assert_eq!((n, execs.len()), (5, 3));
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[0].body).unwrap();
    assert_eq!(
        body["statement"],
        "INSERT INTO `main`.`default`.`customers` (`id`, `name`) SELECT c0, c1 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>', map('mode', 'FAILFAST')))) AS s"
    );
    assert_eq!(body["parameters"][0]["name"], "rows");
    assert_eq!(body["parameters"][0]["type"], "STRING");
    assert_eq!(
        body["parameters"][0]["value"],
        r#"[{"c0":0,"c1":"n0"},{"c0":1,"c1":"n1"}]"#
    );
    assert_eq!(ops::total_execution(&execs, n).unwrap().statement_id, "b3");
}

#[test]
fn failed_batch_reports_rows_committed_by_earlier_batches() {
    let mut cfg = input();
    cfg.batch_rows = Some(2);
    let mut s = session_with(cfg);
    // No `id` column: a batch whose outcome is unknown cannot be re-sent idempotently.
    let recs: Vec<Vec<(String, Value)>> = (0..6)
        .map(|i| vec![("v".into(), Value::BigInt(i))])
        .collect();
    // The server's count (1) differs from the batch size (2): the server's count wins.
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("b1", &["num_affected_rows", "num_inserted_rows"], &[1, 1]),
        )
        .fail(Method::Post, STMTS, true);
    let e = write::write(&mut s, &recs, "t", Mode::Insert).unwrap_err();
    assert_eq!((e.kind, e.committed_rows), (ErrorKind::Connection, Some(1)));
    assert!(e.outcome_unknown);
    assert!(
        e.message
            .contains("batch 2 failed and its outcome is unknown"),
        "{}",
        e.message
    );
    assert_eq!(s.transport.sent.len(), 2);

    let mut s = session();
    s.transport.on(
        Method::Post,
        STMTS,
        200,
        &dml("b1", &["something_else"], &[1]),
    );
    let e = write::write(&mut s, &recs, "t", Mode::Insert).unwrap_err();
    assert_eq!((e.kind, e.committed_rows), (ErrorKind::Server, Some(0)));
}

#[test]
fn update_and_delete_use_merge_counts() {
    let mut s = session();
    let recs = vec![vec![
        ("id".into(), Value::BigInt(1)),
        ("status".into(), Value::Text("vip".into())),
    ]];
    let merge = [
        "num_affected_rows",
        "num_updated_rows",
        "num_deleted_rows",
        "num_inserted_rows",
    ];
    s.transport
        .on(Method::Post, STMTS, 200, &dml("m1", &merge, &[1, 1, 0, 0]));
    let (n, _) = write::write(&mut s, &recs, "t", Mode::Update(vec!["id".into()])).unwrap();
    assert_eq!(n, 1);
    let ids = super::write::id_records(&[Value::BigInt(1), Value::BigInt(2)], "id").unwrap();
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("p2", &["num_matched_rows"], &[2]),
        )
        .on(Method::Post, STMTS, 200, &dml("m2", &merge, &[2, 0, 2, 0]));
    let (n, _) = write::write(&mut s, &ids, "t", Mode::Delete).unwrap();
    assert_eq!(n, 2);
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[1].body).unwrap();
    assert_eq!(
        body["statement"],
        "SELECT count(*) AS num_matched_rows FROM `t` AS t WHERE t.`id` IN (SELECT s.c0 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT>>', map('mode', 'FAILFAST')))) AS s)"
    );
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[2].body).unwrap();
    assert!(
        body["statement"]
            .as_str()
            .unwrap()
            .ends_with("WHEN MATCHED THEN DELETE")
    );
}

#[test]
fn invalid_input_sends_nothing() {
    let mut s = session();
    assert_eq!(
        ops::read_all(&mut s, "SELECT %(x)s", &[]).unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    let recs = vec![vec![("id".into(), Value::BigInt(1))]];
    assert_eq!(
        write::write(&mut s, &recs, "a.b.c.d", Mode::Insert)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(
        write::write(&mut s, &[], "t`", Mode::Insert)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(write::write(&mut s, &[], "t", Mode::Insert).unwrap().0, 0);
    assert_eq!(
        ops::cancel(&mut s, "../../warehouses").unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    assert!(s.transport.sent.is_empty());
}

#[test]
fn cancel_posts_to_the_statement() {
    let mut s = session();
    s.transport
        .on(Method::Post, "/statements/01ef-9/cancel", 200, "{}");
    ops::cancel(&mut s, "01ef-9").unwrap();
    s.transport.on(
        Method::Post,
        "/statements/nope/cancel",
        404,
        r#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no"}"#,
    );
    assert_eq!(
        ops::cancel(&mut s, "nope").unwrap_err().kind,
        ErrorKind::NotFound
    );
}

fn oauth_session() -> Session<Fake> {
    let mut cfg = input();
    cfg.credential = Credential::OAuthM2m {
        client_id: "sp-id".into(),
        client_secret: Secret::new("sp-secret"),
        scope: Some("all-apis".into()),
    };
    session_with(cfg)
}

#[test]
fn oauth_token_is_fetched_reused_and_refreshed() {
    let mut s = oauth_session();
    let token =
        |t: &str| format!(r#"{{"access_token":"{t}","token_type":"Bearer","expires_in":3600}}"#);
    s.transport
        .on(Method::Post, "/oidc/v1/token", 200, &token("tok-1"))
        .on(Method::Get, "/warehouses/wh1", 200, "{}")
        .on(Method::Get, "/warehouses/wh1", 200, "{}");
    s.check_warehouse().unwrap();
    s.check_warehouse().unwrap();
    let sent = &s.transport.sent;
    assert_eq!(
        sent[0].authorization.as_ref().map(|a| a.expose()),
        Some("Basic c3AtaWQ6c3Atc2VjcmV0")
    );
    assert_eq!(
        sent[0].body,
        b"grant_type=client_credentials&scope=all-apis"
    );
    assert_eq!(
        sent[1].authorization.as_ref().map(|a| a.expose()),
        Some("Bearer tok-1")
    );
    assert_eq!(sent.len(), 3, "the token is reused");
    // After expiry (minus a minute) a new token is fetched.
    s.transport.now += 3_600_000 - 59_000;
    s.transport
        .on(Method::Post, "/oidc/v1/token", 200, &token("tok-2"))
        .on(Method::Get, "/warehouses/wh1", 200, "{}");
    s.check_warehouse().unwrap();
    assert_eq!(
        s.transport.sent[4]
            .authorization
            .as_ref()
            .map(|a| a.expose()),
        Some("Bearer tok-2")
    );
    // A revoked token (401) is replaced once.
    s.transport
        .on(
            Method::Get,
            "/warehouses/wh1",
            401,
            r#"{"error_code":401,"message":"expired"}"#,
        )
        .on(Method::Post, "/oidc/v1/token", 200, &token("tok-3"))
        .on(Method::Get, "/warehouses/wh1", 200, "{}");
    s.check_warehouse().unwrap();
    assert!(s.secrets().contains(&"tok-3".to_string()));
    assert!(
        s.transport
            .logs
            .iter()
            .all(|l| !l.contains("tok-") && !l.contains("sp-secret"))
    );
}

#[test]
fn oauth_rejection_is_an_authentication_error() {
    let mut s = oauth_session();
    s.transport.on(
        Method::Post,
        "/oidc/v1/token",
        401,
        r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
    );
    let e = s.check_warehouse().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert!(e.message.contains("invalid_client"));
    assert!(!e.message.contains("sp-secret"));
}

#[test]
fn history_rows_decode_into_entries() {
    let mut s = session();
    let body = r#"{"statement_id":"h1","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[
      {"name":"version","type_name":"LONG","type_text":"BIGINT","position":0},
      {"name":"timestamp","type_name":"TIMESTAMP","type_text":"TIMESTAMP","position":1},
      {"name":"userId","type_name":"STRING","type_text":"STRING","position":2},
      {"name":"userName","type_name":"STRING","type_text":"STRING","position":3},
      {"name":"operation","type_name":"STRING","type_text":"STRING","position":4},
      {"name":"operationParameters","type_name":"MAP","type_text":"MAP<STRING, STRING>","position":5},
      {"name":"operationMetrics","type_name":"MAP","type_text":"MAP<STRING, STRING>","position":6}]}},
      "result":{"data_array":[["1","2024-01-02T03:04:05.000Z","u","a@b.c","MERGE","{\"predicate\":\"x\"}","{\"numTargetRowsUpdated\":\"1\"}"],
                              ["0","2024-01-01T00:00:00.000Z",null,null,"CREATE TABLE",null,null]]}}"#;
    s.transport.on(Method::Post, STMTS, 200, body);
    let sql = ops::history_sql("main.default.customers", Some(10)).unwrap();
    let rows = ops::read_all(&mut s, &sql, &[]).unwrap();
    let h = ops::history_entries(&rows).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (
            h[0].version,
            h[0].operation.as_str(),
            h[0].user_name.as_deref()
        ),
        (1, "MERGE", Some("a@b.c"))
    );
    assert_eq!(h[0].operation_metrics, r#"{"numTargetRowsUpdated":"1"}"#);
    assert_eq!(h[1].operation_parameters, "{}");
    assert_eq!(h[1].user_name, None);
}

#[test]
fn polling_rides_out_a_long_outage_until_success() {
    let mut cfg = input();
    cfg.max_attempts = Some(2);
    let mut s = session_with(cfg);
    s.transport.on(Method::Post, STMTS, 200, &pending("s-11"));
    for _ in 0..6 {
        s.transport.fail(Method::Get, "/statements/s-11", true);
    }
    s.transport.on(
        Method::Get,
        "/statements/s-11",
        200,
        &dml("s-11", &["num_affected_rows", "num_inserted_rows"], &[3, 3]),
    );
    let r = ops::read_all(&mut s, "INSERT INTO t SELECT * FROM u", &[]).unwrap();
    assert_eq!(r.execution.rows_affected, 3);
    assert_eq!(
        s.transport.sent.len(),
        8,
        "the statement was submitted once"
    );
    assert!(r.execution.retries >= 6);
}

#[test]
fn polling_stops_at_permanent_errors() {
    let mut s = session();
    s.transport
        .on(Method::Post, STMTS, 200, &pending("s-12"))
        .on(
            Method::Get,
            "/statements/s-12",
            404,
            r#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"gone"}"#,
        )
        .on(Method::Post, "/statements/s-12/cancel", 200, "{}");
    let e = ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err();
    assert_eq!(
        (e.kind, e.statement_id.as_deref()),
        (ErrorKind::NotFound, Some("s-12"))
    );
}

#[test]
fn an_update_batch_with_unknown_outcome_is_resent_but_an_insert_without_key_is_not() {
    let recs = vec![vec![
        ("id".into(), Value::BigInt(1)),
        ("status".into(), Value::Text("vip".into())),
    ]];
    let merge = [
        "num_affected_rows",
        "num_updated_rows",
        "num_deleted_rows",
        "num_inserted_rows",
    ];
    let mut s = session();
    s.transport.fail(Method::Post, STMTS, true).on(
        Method::Post,
        STMTS,
        200,
        &dml("m1", &merge, &[1, 1, 0, 0]),
    );
    assert_eq!(
        write::write(&mut s, &recs, "t", Mode::Update(vec!["id".into()]))
            .unwrap()
            .0,
        1
    );

    let mut s = session();
    s.transport.fail(Method::Post, STMTS, true);
    let keyless = vec![vec![("status".into(), Value::Text("vip".into()))]];
    let e = write::write(&mut s, &keyless, "t", Mode::Insert).unwrap_err();
    assert_eq!((e.kind, e.committed_rows), (ErrorKind::Connection, Some(0)));
    assert!(e.message.contains("not re-sent"), "{}", e.message);
    assert_eq!(s.transport.sent.len(), 1);
}

#[test]
fn a_statement_finishing_before_the_cancel_lands_counts() {
    let mut cfg = input();
    cfg.timeout_ms = Some(100);
    let mut s = session_with(cfg);
    s.transport
        .on(Method::Post, STMTS, 200, &pending("s-13"))
        .on(Method::Get, "/statements/s-13", 200, &running("s-13"))
        .on(Method::Get, "/statements/s-13", 200, &running("s-13"))
        .on(Method::Post, "/statements/s-13/cancel", 200, "{}")
        .on(
            Method::Get,
            "/statements/s-13",
            200,
            &dml("s-13", &["num_affected_rows", "num_inserted_rows"], &[2, 2]),
        );
    let recs: Vec<Vec<(String, Value)>> = (0..2)
        .map(|i| vec![("id".into(), Value::BigInt(i))])
        .collect();
    assert_eq!(write::write(&mut s, &recs, "t", Mode::Insert).unwrap().0, 2);

    let mut cfg = input();
    cfg.timeout_ms = Some(60);
    let mut s = session_with(cfg);
    s.transport
        .on(Method::Post, STMTS, 200, &pending("s-14"))
        .on(Method::Get, "/statements/s-14", 200, &running("s-14"))
        .on(Method::Get, "/statements/s-14", 200, &running("s-14"))
        .on(Method::Post, "/statements/s-14/cancel", 200, "{}")
        .fail(Method::Get, "/statements/s-14", true);
    let e = write::write(&mut s, &recs, "t", Mode::Insert).unwrap_err();
    assert_eq!((e.kind, e.committed_rows), (ErrorKind::Timeout, Some(0)));
    assert!(e.message.contains("unknown"), "{}", e.message);
}

#[test]
fn a_result_without_its_first_chunk_reads_chunk_zero() {
    let mut s = session();
    let done = r#"{"statement_id":"s-15","status":{"state":"SUCCEEDED"},
      "manifest":{"schema":{"columns":[{"name":"id","type_name":"INT","position":0}]},"total_row_count":1}}"#;
    s.transport.on(Method::Post, STMTS, 200, done).on(
        Method::Get,
        "/s-15/result/chunks/0",
        200,
        r#"{"chunk_index":0,"data_array":[["9"]]}"#,
    );
    let r = ops::read_all(&mut s, "SELECT 9", &[]).unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(9)]]);
}

#[test]
fn a_denied_request_is_not_retried() {
    let mut s = session();
    s.transport.deny(Method::Get, "/warehouses/wh1");
    let e = s.check_warehouse().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connection);
    assert_eq!(s.transport.sent.len(), 1);
    assert!(s.transport.sleeps.is_empty());
}

const MERGE: [&str; 4] = [
    "num_affected_rows",
    "num_updated_rows",
    "num_deleted_rows",
    "num_inserted_rows",
];

fn id_recs(ids: std::ops::Range<i64>) -> Vec<Vec<(String, Value)>> {
    ids.map(|i| {
        vec![
            ("id".into(), Value::BigInt(i)),
            ("name".into(), Value::Text(format!("n{i}"))),
        ]
    })
    .collect()
}

fn statement_of(s: &Session<Fake>, i: usize) -> String {
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[i].body).unwrap();
    body["statement"].as_str().unwrap().to_owned()
}

fn rows_param(s: &Session<Fake>, i: usize) -> String {
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[i].body).unwrap();
    body["parameters"][0]["value"].as_str().unwrap().to_owned()
}

#[test]
fn an_insert_whose_answer_was_lost_is_resent_as_merge_and_counted_once() {
    // The lost attempt did not commit: the MERGE inserts the whole batch.
    let mut s = session();
    let recs = id_recs(0..3);
    s.transport.fail(Method::Post, STMTS, true).on(
        Method::Post,
        STMTS,
        200,
        &dml("r1", &MERGE, &[3, 0, 0, 3]),
    );
    let (n, execs) = write::write(&mut s, &recs, "main.default.t", Mode::Insert).unwrap();
    assert_eq!((n, execs.len()), (3, 1));
    assert_eq!(
        statement_of(&s, 1),
        "MERGE INTO `main`.`default`.`t` AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>', map('mode', 'FAILFAST')))) AS s ON t.`id` = s.c0 WHEN NOT MATCHED THEN INSERT (`id`, `name`) VALUES (s.c0, s.c1)"
    );
    assert_eq!(rows_param(&s, 0), rows_param(&s, 1));

    // The lost attempt committed: the MERGE finds every id and inserts nothing; the batch counts 3.
    let mut s = session();
    s.transport.fail(Method::Post, STMTS, true).on(
        Method::Post,
        STMTS,
        200,
        &dml("r2", &MERGE, &[0, 0, 0, 0]),
    );
    assert_eq!(write::write(&mut s, &recs, "t", Mode::Insert).unwrap().0, 3);

    // A gateway 502 on the submission is an unknown outcome too; the re-send's own answer is
    // lost as well (it is idempotent, so it is retried), and the third attempt finds all ids.
    let mut s = session();
    s.transport
        .on(Method::Post, STMTS, 502, "bad gateway")
        .fail(Method::Post, STMTS, true)
        .on(Method::Post, STMTS, 200, &dml("r3", &MERGE, &[0, 0, 0, 0]));
    assert_eq!(write::write(&mut s, &recs, "t", Mode::Insert).unwrap().0, 3);
    assert!(statement_of(&s, 2).starts_with("MERGE INTO `t` AS t"));

    // The key column is found whatever its case.
    let upper = vec![vec![
        ("ID".into(), Value::Int(7)),
        ("x".into(), Value::Null),
    ]];
    let p = super::write::plan::plan_for(&upper, "t", &Mode::Insert).unwrap();
    assert!(
        p.resend_sql
            .unwrap()
            .contains("ON t.`ID` = s.c0 WHEN NOT MATCHED")
    );
}

#[test]
fn an_insert_without_a_usable_key_reports_which_batches_committed() {
    let mut cfg = input();
    cfg.batch_rows = Some(2);
    let mut s = session_with(cfg);
    // Duplicate ids: the MERGE form would drop a record, so the batch is not re-sent.
    let mut recs = id_recs(0..4);
    recs[3][0].1 = Value::BigInt(0);
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("b1", &["num_affected_rows", "num_inserted_rows"], &[2, 2]),
        )
        .fail(Method::Post, STMTS, true);
    let e = write::write(&mut s, &recs, "t", Mode::Insert).unwrap_err();
    assert_eq!(e.committed_rows, Some(2));
    assert!(e.outcome_unknown);
    assert!(
        e.message.contains(
            "batch 2 failed and its outcome is unknown; the 1 batches before it committed 2 rows"
        ) || e.message.contains("not re-sent"),
        "{}",
        e.message
    );
    assert_eq!(s.transport.sent.len(), 2);

    // A null id: likewise.
    let mut s = session();
    let mut recs = id_recs(0..2);
    recs[1][0].1 = Value::Null;
    s.transport.fail(Method::Post, STMTS, true);
    let e = write::write(&mut s, &recs, "t", Mode::Insert).unwrap_err();
    assert_eq!((e.committed_rows, e.outcome_unknown), (Some(0), true));
    assert_eq!(s.transport.sent.len(), 1);
}

#[test]
fn a_failed_resend_reports_the_earlier_batches_and_an_unknown_outcome() {
    let mut cfg = input();
    cfg.batch_rows = Some(2);
    cfg.max_attempts = Some(2);
    let mut s = session_with(cfg);
    let recs = id_recs(0..4);
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("b1", &["num_affected_rows", "num_inserted_rows"], &[2, 2]),
        )
        .fail(Method::Post, STMTS, true)
        .fail(Method::Post, STMTS, true)
        .fail(Method::Post, STMTS, true);
    let e = write::write(&mut s, &recs, "t", Mode::Insert).unwrap_err();
    assert_eq!(
        (e.kind, e.committed_rows, e.outcome_unknown),
        (ErrorKind::Connection, Some(2), true)
    );
    assert!(e.message.contains("batch 2 failed"), "{}", e.message);

    // A plain statement failure of the re-send (the table is gone) is typed and not unknown
    // of itself, but the batch's outcome stays unknown.
    let mut s = session();
    s.transport
        .fail(Method::Post, STMTS, true)
        .on(Method::Post, STMTS, 200, SYNTAX);
    let e = write::write(&mut s, &id_recs(0..1), "t", Mode::Insert).unwrap_err();
    assert_eq!((e.kind, e.committed_rows), (ErrorKind::Syntax, Some(0)));
    assert!(e.outcome_unknown);
}

#[test]
fn a_delete_whose_answer_was_lost_is_resent_and_counted_from_the_probe() {
    let ids = super::write::id_records(
        &[Value::BigInt(1), Value::BigInt(2), Value::BigInt(3)],
        "id",
    )
    .unwrap();
    // The lost attempt committed (3 rows matched before it): the re-send deletes nothing.
    let mut s = session();
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("p1", &["num_matched_rows"], &[3]),
        )
        .fail(Method::Post, STMTS, true)
        .on(Method::Post, STMTS, 200, &dml("d1", &MERGE, &[0, 0, 0, 0]));
    assert_eq!(write::write(&mut s, &ids, "t", Mode::Delete).unwrap().0, 3);
    assert_eq!(statement_of(&s, 1), statement_of(&s, 2));
    assert_eq!(rows_param(&s, 0), rows_param(&s, 2));

    // The lost attempt did not commit: the re-send's own count stands.
    let mut s = session();
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("p2", &["num_matched_rows"], &[3]),
        )
        .on(Method::Post, STMTS, 504, "gateway timeout")
        .on(Method::Post, STMTS, 200, &dml("d2", &MERGE, &[2, 0, 2, 0]));
    assert_eq!(write::write(&mut s, &ids, "t", Mode::Delete).unwrap().0, 2);

    // A probe that fails is an error before anything was written.
    let mut s = session();
    s.transport.on(Method::Post, STMTS, 200, SYNTAX);
    let e = write::write(&mut s, &ids, "t", Mode::Delete).unwrap_err();
    assert_eq!(
        (e.kind, e.committed_rows, e.outcome_unknown),
        (ErrorKind::Syntax, Some(0), false)
    );
}

/// A model warehouse: one table of `id`s (with multiplicity), each statement one atomic commit,
/// and answers lost — after the commit or before it — on a seeded pseudo-random schedule.
struct ModelWarehouse {
    table: std::collections::BTreeMap<i64, u64>,
    seed: u64,
    now: u64,
    lost_after_commit: u32,
    lost_before_commit: u32,
}

impl ModelWarehouse {
    fn roll(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed % 6
    }

    fn execute(&mut self, sql: &str, ids: &[i64]) -> (Vec<&'static str>, Vec<u64>) {
        let present =
            |t: &std::collections::BTreeMap<i64, u64>, id| t.get(&id).copied().unwrap_or(0);
        if sql.starts_with("SELECT count(*)") {
            let n = ids.iter().map(|&i| present(&self.table, i)).sum();
            (vec!["num_matched_rows"], vec![n])
        } else if sql.starts_with("INSERT") {
            for &i in ids {
                *self.table.entry(i).or_default() += 1;
            }
            (
                vec!["num_affected_rows", "num_inserted_rows"],
                vec![ids.len() as u64; 2],
            )
        } else if sql.contains("WHEN NOT MATCHED THEN INSERT") {
            let mut n = 0;
            for &i in ids {
                if present(&self.table, i) == 0 {
                    self.table.insert(i, 1);
                    n += 1;
                }
            }
            (MERGE.to_vec(), vec![n, 0, 0, n])
        } else if sql.ends_with("WHEN MATCHED THEN DELETE") {
            let n = ids.iter().filter_map(|i| self.table.remove(i)).sum();
            (MERGE.to_vec(), vec![n, 0, n, 0])
        } else {
            panic!("model warehouse: unexpected statement {sql}")
        }
    }
}

impl super::http::Transport for ModelWarehouse {
    fn send(
        &mut self,
        req: &super::http::HttpRequest,
    ) -> Result<HttpResponse, super::http::TransportError> {
        self.now += 1;
        assert_eq!(req.method, Method::Post);
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        let sql = body["statement"].as_str().unwrap().to_owned();
        if sql.ends_with(" LIMIT 0") {
            let answer = super::fake::table_answer(&[("id", "BIGINT"), ("name", "STRING")]);
            return Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: answer.into_bytes(),
            });
        }
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(body["parameters"][0]["value"].as_str().unwrap()).unwrap();
        let ids: Vec<i64> = rows.iter().map(|r| r["c0"].as_i64().unwrap()).collect();
        let lost = |m: &mut Self| super::http::TransportError {
            message: format!("model: answer lost ({})", m.now),
            maybe_sent: true,
            retryable: true,
            timed_out: false,
        };
        match self.roll() {
            0 => {
                self.lost_before_commit += 1;
                Err(lost(self))
            }
            1 => {
                self.execute(&sql, &ids);
                self.lost_after_commit += 1;
                Err(lost(self))
            }
            _ => {
                let (cols, vals) = self.execute(&sql, &ids);
                let body = dml(&format!("m{}", self.now), &cols, &vals);
                Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: body.into_bytes(),
                })
            }
        }
    }
    fn now_ms(&self) -> u64 {
        self.now
    }
    fn sleep_ms(&mut self, ms: u64) {
        self.now += ms;
    }
    fn random(&mut self) -> u64 {
        0
    }
}

/// Whatever answers are lost, and whether their statements committed, an insert ends with every
/// id exactly once (or reports exactly the rows of the batches that committed), and a delete
/// removes exactly the ids with an exact count.
#[test]
fn exactly_once_against_a_lossy_model_warehouse() {
    let (mut ok, mut failed, mut lost_after, mut lost_before) = (0, 0, 0, 0);
    for seed in 1..400u64 {
        let mut cfg = input();
        cfg.batch_rows = Some(3);
        cfg.max_attempts = Some(4);
        cfg.debug_log = false;
        let config = super::config::Config::validate(cfg).unwrap();
        let model = ModelWarehouse {
            table: (100..105).map(|i| (i, 1)).collect(),
            seed: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            now: 0,
            lost_after_commit: 0,
            lost_before_commit: 0,
        };
        let mut s = Session::new(config, model);
        let recs = id_recs(0..10);
        match write::write(&mut s, &recs, "t", Mode::Insert) {
            Ok((n, _)) => {
                ok += 1;
                assert_eq!(n, 10, "seed {seed}");
                for i in 0..10 {
                    assert_eq!(s.transport.table.get(&i), Some(&1), "seed {seed} id {i}");
                }
            }
            Err(e) => {
                failed += 1;
                let c = e.committed_rows.unwrap();
                // The earlier batches committed exactly `c` rows, each once; the failing batch
                // committed all or nothing (never twice); later batches nothing.
                let counted: u64 = (0..10)
                    .map(|i| s.transport.table.get(&i).copied().unwrap_or(0))
                    .sum();
                assert!(
                    (0..10).all(|i| s.transport.table.get(&i).copied().unwrap_or(0) <= 1),
                    "seed {seed}: duplicate"
                );
                assert!(
                    counted == c || (e.outcome_unknown && counted <= c + 3),
                    "seed {seed}: {counted} vs {c} {e:?}"
                );
                assert_eq!(c % 3, 0, "seed {seed}");
            }
        }
        let other: u64 = (100..105)
            .map(|i| s.transport.table.get(&i).copied().unwrap_or(0))
            .sum();
        assert_eq!(other, 5, "seed {seed}: other rows touched");
        // Delete ids 0..10 (plus 100, 101) whatever is left.
        let mut ids: Vec<Value> = (0..10).map(Value::BigInt).collect();
        ids.extend([Value::BigInt(100), Value::BigInt(101)]);
        let before: u64 = s.transport.table.values().sum();
        let del = super::write::id_records(&ids, "id").unwrap();
        match write::write(&mut s, &del, "t", Mode::Delete) {
            Ok((n, _)) => {
                let after: u64 = s.transport.table.values().sum();
                assert_eq!(n, before - after, "seed {seed}: delete count");
                assert_eq!(after, 3, "seed {seed}");
            }
            Err(e) => {
                failed += 1;
                let after: u64 = s.transport.table.values().sum();
                let c = e.committed_rows.unwrap();
                assert!(before - after >= c, "seed {seed}");
            }
        }
        lost_after += s.transport.lost_after_commit;
        lost_before += s.transport.lost_before_commit;
    }
    eprintln!(
        "model: {ok} inserts exact, {failed} writes failed typed, {lost_after} answers lost after commit, {lost_before} before"
    );
    assert!(ok > 100 && lost_after > 50 && lost_before > 50);
}

#[test]
fn a_read_only_statement_whose_answer_was_lost_is_resent() {
    let mut s = session();
    s.transport
        .fail(Method::Post, STMTS, true)
        .on(Method::Post, STMTS, 200, TIMESTAMPS);
    let r = ops::read_all(&mut s, "/* report */ SELECT id, ts FROM t", &[]).unwrap();
    assert_eq!(r.rows.len(), 3);
    // DML through read-all is not re-sent.
    let mut s = session();
    s.transport.fail(Method::Post, STMTS, true);
    let e = ops::read_all(&mut s, "DELETE FROM t", &[]).unwrap_err();
    assert!(e.outcome_unknown);
    assert_eq!(s.transport.sent.len(), 1);
}

/// A DML result that SUCCEEDED but whose count row is not inline (read as chunk 0).
fn succeeded_without_rows(id: &str, cols: &[&str]) -> String {
    let columns: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(r#"{{"name":"{c}","type_text":"BIGINT","type_name":"LONG","position":{i}}}"#)
        })
        .collect();
    format!(
        r#"{{"statement_id":"{id}","status":{{"state":"SUCCEEDED"}},"manifest":{{"format":"JSON_ARRAY","schema":{{"column_count":{},"columns":[{}]}},"total_row_count":1}},"result":{{}}}}"#,
        cols.len(),
        columns.join(",")
    )
}

#[test]
fn a_committed_batch_whose_count_cannot_be_read_is_still_counted() {
    // Insert: the statement succeeded, so every record of the batch is in; the count row is lost.
    let mut cfg = input();
    cfg.external_links = true;
    let mut s = session_with(cfg);
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &succeeded_without_rows("i1", &["num_affected_rows", "num_inserted_rows"]),
        )
        .on(Method::Get, "/statements/i1/result/chunks/0", 404, "{}");
    assert_eq!(
        write::write(&mut s, &id_recs(0..3), "t", Mode::Insert)
            .unwrap()
            .0,
        3
    );
    // Writes read their count INLINE even on an EXTERNAL_LINKS connection.
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[0].body).unwrap();
    assert_eq!(body["disposition"], "INLINE");
    assert!(s.config.external_links);

    // Update: re-sent once (idempotent) to be counted.
    let mut s = session();
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &succeeded_without_rows("u1", &MERGE),
        )
        .on(Method::Get, "/statements/u1/result/chunks/0", 404, "{}")
        .on(Method::Post, STMTS, 200, &dml("u2", &MERGE, &[2, 2, 0, 0]));
    let recs = id_recs(0..2);
    assert_eq!(
        write::write(&mut s, &recs, "t", Mode::Update(vec!["id".into()]))
            .unwrap()
            .0,
        2
    );

    // Delete: the probe's count stands; if the update's re-send cannot be counted either, the
    // error says the batch did commit.
    let ids = super::write::id_records(&[Value::BigInt(1), Value::BigInt(2)], "id").unwrap();
    let mut s = session();
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &dml("p", &["num_matched_rows"], &[1]),
        )
        .on(
            Method::Post,
            STMTS,
            200,
            &succeeded_without_rows("d1", &MERGE),
        )
        .on(Method::Get, "/statements/d1/result/chunks/0", 404, "{}");
    assert_eq!(write::write(&mut s, &ids, "t", Mode::Delete).unwrap().0, 1);

    let mut s = session();
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &succeeded_without_rows("u3", &MERGE),
        )
        .on(Method::Get, "/statements/u3/result/chunks/0", 404, "{}")
        .on(
            Method::Post,
            STMTS,
            200,
            &succeeded_without_rows("u4", &MERGE),
        )
        .on(Method::Get, "/statements/u4/result/chunks/0", 404, "{}");
    let e = write::write(&mut s, &recs, "t", Mode::Update(vec!["id".into()])).unwrap_err();
    assert!(e.message.contains("the batch did commit"), "{}", e.message);
    assert!(!e.outcome_unknown);
}

#[test]
fn a_link_still_refused_after_refreshes_is_a_server_error() {
    let mut cfg = input();
    cfg.external_links = true;
    cfg.max_attempts = Some(2);
    let mut s = session_with(cfg);
    let links = |n: u32| {
        format!(
            r#"{{"chunk_index":0,"row_count":1,"external_links":[{{"chunk_index":0,"row_count":1,"external_link":"https://storage.example/x{n}"}}]}}"#
        )
    };
    let first = format!(
        r#"{{"statement_id":"l1","status":{{"state":"SUCCEEDED"}},"manifest":{{"schema":{{"column_count":1,"columns":[{{"name":"a","type_name":"INT","position":0}}]}},"total_row_count":1}},"result":{}}}"#,
        links(0)
    );
    s.transport
        .on(Method::Post, STMTS, 200, &first)
        .on(
            Method::Get,
            "storage.example/x0",
            403,
            "<Error>AccessDenied</Error>",
        )
        .on(
            Method::Get,
            "/statements/l1/result/chunks/0",
            200,
            &links(1),
        )
        .on(
            Method::Get,
            "storage.example/x1",
            403,
            "<Error>AccessDenied</Error>",
        );
    let e = ops::read_all(&mut s, "SELECT a", &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server, "{e:?}");
    assert_eq!(e.http_status, Some(403));
    assert!(
        e.message.contains("still rejected after 1 refreshes"),
        "{}",
        e.message
    );
}

#[test]
fn column_batches_carry_the_same_rows_across_chunks() {
    let mut s = session();
    let first = r#"{"statement_id":"s-9","status":{"state":"SUCCEEDED"},
      "manifest":{"schema":{"columns":[{"name":"id","type_name":"LONG","position":0},{"name":"name","type_name":"STRING","position":1},{"name":"amt","type_name":"DECIMAL","type_text":"DECIMAL(5,2)","position":2}]},"total_row_count":3},
      "result":{"chunk_index":0,"data_array":[["1","a\"b",null],["2",null,"-1.50"]],"next_chunk_index":1}}"#;
    s.transport.on(Method::Post, STMTS, 200, first).on(
        Method::Get,
        "/s-9/result/chunks/1",
        200,
        r#"{"chunk_index":1,"data_array":[["3","名","0.00"]]}"#,
    );
    let deadline = s.deadline();
    let mut c = ops::query(&mut s, "SELECT * FROM t", &[], deadline).unwrap();
    let a = c.next_columns(&mut s, 2, deadline).unwrap();
    assert_eq!(a.rows, 2);
    assert_eq!(
        s.transport.sent.len(),
        1,
        "a full batch fetches nothing more"
    );
    let b = c.next_columns(&mut s, 2, deadline).unwrap();
    assert_eq!(b.rows, 1);
    let end = c.next_columns(&mut s, 2, deadline).unwrap();
    assert_eq!(end.rows, 0);
    let dec = |d: &str| {
        Value::Decimal(super::value::Decimal {
            digits: d.into(),
            precision: 5,
            scale: 2,
        })
    };
    let rows: Vec<Vec<Value>> = a.to_rows().into_iter().chain(b.to_rows()).collect();
    assert_eq!(
        rows,
        vec![
            vec![Value::BigInt(1), Value::Text("a\"b".into()), Value::Null],
            vec![Value::BigInt(2), Value::Null, dec("-1.50")],
            vec![Value::BigInt(3), Value::Text("名".into()), dec("0.00")],
        ]
    );
}

/// A write reads its table's columns first; a value that does not fit its column is refused
/// before any batch is sent, naming record and column (the real service would round or null it).
#[test]
fn a_write_probes_its_table_and_refuses_a_misfit_before_any_batch() {
    let mut s = session();
    s.transport.auto_table = None;
    let recs = |amount: &str| -> Vec<Vec<(String, Value)>> {
        vec![
            vec![
                ("id".into(), Value::BigInt(1)),
                ("amount".into(), Value::Text("1.50".into())),
            ],
            vec![
                ("id".into(), Value::BigInt(2)),
                ("amount".into(), Value::Text(amount.into())),
            ],
        ]
    };
    let table = [("id", "BIGINT"), ("amount", "DECIMAL(12,2)")];
    s.transport.table(&table);
    let e = write::write(&mut s, &recs("1.234"), "main.default.t", Mode::Insert).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        e.message.contains("record 1, column \"amount\""),
        "{}",
        e.message
    );
    assert_eq!(e.committed_rows, None);
    assert_eq!(s.transport.sent.len(), 1, "only the probe was sent");
    assert_eq!(
        statement_of(&s, 0),
        "SELECT * FROM `main`.`default`.`t` LIMIT 0"
    );

    // Fitting text goes as a number of the column's own type: no cast left to the server.
    s.transport.table(&table).on(
        Method::Post,
        STMTS,
        200,
        &dml("b1", &["num_affected_rows", "num_inserted_rows"], &[2, 2]),
    );
    let (n, _) = write::write(&mut s, &recs("7"), "main.default.t", Mode::Insert).unwrap();
    assert_eq!(n, 2);
    assert!(statement_of(&s, 2).contains("STRUCT<c0: BIGINT, c1: DECIMAL(12,2)>"));
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[2].body).unwrap();
    assert_eq!(
        body["parameters"][0]["value"],
        r#"[{"c0":1,"c1":1.50},{"c0":2,"c1":7.00}]"#
    );
}
