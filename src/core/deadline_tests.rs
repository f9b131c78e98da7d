//! Hard deadlines and chunk-chain progress (issue 11 item 5, issue 12 item 3): a stalled
//! connection, a server that holds a statement, and chains that never end.

use super::error::ErrorKind;
use super::fake::{input, session, session_with};
use super::http::Method;
use super::ops;
use super::value::Value;
use super::write::{self, Mode};

const STMTS: &str = "/api/2.0/sql/statements";

fn sent_wait_timeout(s: &super::session::Session<super::fake::Fake>) -> String {
    let body: serde_json::Value = serde_json::from_slice(&s.transport.sent[0].body).unwrap();
    body["wait_timeout"].as_str().unwrap().to_string()
}

#[test]
fn a_stalled_connection_is_a_timeout_at_the_deadline() {
    let mut cfg = input();
    cfg.timeout_ms = Some(3_000);
    let mut s = session_with(cfg);
    let start = s.transport.now;
    s.transport.stall(Method::Post, STMTS);
    let e = ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{}", e.message);
    assert!(e.message.contains("deadline (3000 ms)"), "{}", e.message);
    // The request was given what remained, not a 30 s floor, and nothing was retried.
    assert_eq!(s.transport.sent[0].timeout_ms, Some(3_000));
    assert!(
        s.transport.now - start <= 3_001 + 1,
        "ended at {} ms",
        s.transport.now - start
    );
}

#[test]
fn wait_timeout_fits_in_the_deadline() {
    let mut cfg = input();
    cfg.timeout_ms = Some(3_000);
    let mut s = session_with(cfg);
    s.transport.stall(Method::Post, STMTS);
    let _ = ops::read_all(&mut s, "SELECT 1", &[]);
    assert_eq!(sent_wait_timeout(&s), "0s");

    let mut s = session();
    s.transport.stall(Method::Post, STMTS);
    let _ = ops::read_all(&mut s, "SELECT 1", &[]);
    assert_eq!(sent_wait_timeout(&s), "10s");
}

const FIRST: &str = r#"{"statement_id":"s-1","status":{"state":"SUCCEEDED"},
  "manifest":{"schema":{"column_count":1,"columns":[{"name":"id","type_name":"LONG","type_text":"BIGINT","position":0}]},
  "total_row_count":100,"total_chunk_count":3},
  "result":{"chunk_index":0,"data_array":[["0"]],"next_chunk_index":1}}"#;

/// The error of reading a statement answered with `first` whose chunk 1 is `chunk`.
fn chain_error(first: &str, chunk: &str) -> super::error::Error {
    let mut s = session();
    s.transport
        .on(Method::Post, STMTS, 200, first)
        .on(Method::Get, "/result/chunks/1", 200, chunk)
        .on(Method::Delete, "/statements/s-1", 200, "{}");
    ops::read_all(&mut s, "SELECT id", &[]).unwrap_err()
}

#[test]
fn a_chunk_chain_that_repeats_an_index_is_refused() {
    let e = chain_error(
        FIRST,
        r#"{"chunk_index":1,"data_array":[["1"]],"next_chunk_index":1}"#,
    );
    assert_eq!(e.kind, ErrorKind::Server, "{}", e.message);
    assert!(e.message.contains("does not advance"), "{}", e.message);
}

#[test]
fn a_chunk_link_without_indexes_must_still_advance() {
    let first = FIRST.replace(
        r#""next_chunk_index":1"#,
        r#""next_chunk_internal_link":"/api/2.0/sql/statements/s-1/result/chunks/1""#,
    );
    // The chunk omits chunk_index and points back at itself.
    let again = r#"{"data_array":[["1"]],"next_chunk_internal_link":"/api/2.0/sql/statements/s-1/result/chunks/1?row_offset=1"}"#;
    let e = chain_error(&first, again);
    assert!(e.message.contains("does not advance"), "{}", e.message);
}

#[test]
fn a_chain_past_the_manifest_is_refused() {
    let e = chain_error(
        FIRST,
        r#"{"chunk_index":1,"data_array":[["1"]],"next_chunk_index":3}"#,
    );
    assert!(
        e.message.contains("past the manifest's 3 chunks"),
        "{}",
        e.message
    );
}

#[test]
fn more_rows_than_the_manifest_are_refused_as_they_arrive() {
    let first = FIRST.replace(r#""total_row_count":100"#, r#""total_row_count":2"#);
    let e = chain_error(
        &first,
        r#"{"chunk_index":1,"data_array":[["1"],["2"],["3"]]}"#,
    );
    assert!(e.message.contains("more rows than the 2"), "{}", e.message);
}

#[test]
fn one_deadline_spans_every_batch_of_a_write() {
    let mut cfg = input();
    cfg.timeout_ms = Some(3_000);
    cfg.batch_rows = Some(1);
    let mut s = session_with(cfg);
    s.transport.latency_ms = 2_000;
    let counted = r#"{"statement_id":"s-1","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"column_count":1,"columns":[{"name":"num_inserted_rows","type_name":"LONG","type_text":"BIGINT","position":0}]},"total_row_count":1},"result":{"data_array":[["1"]]}}"#;
    s.transport
        .on(Method::Post, STMTS, 200, counted)
        .on(Method::Post, STMTS, 200, counted);
    let records: Vec<write::Record> = (1..=2)
        .map(|i| vec![("id".to_string(), Value::BigInt(i))])
        .collect();
    // The second batch starts 2 s into a 3 s write: it has 1 s, not a fresh 3 s.
    let e = write::write(&mut s, &records, "t", Mode::Insert).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{}", e.message);
    assert_eq!(e.committed_rows, Some(1));
    assert_eq!(s.transport.sent[1].timeout_ms, Some(1_000));
}

#[test]
fn a_failed_delete_batch_says_delete() {
    let mut s = session();
    let failed = r#"{"statement_id":"s-1","status":{"state":"FAILED","error":{"error_code":"BAD_REQUEST","message":"no"}}}"#;
    s.transport.on(Method::Post, STMTS, 200, failed);
    let ids = write::id_records(&[Value::BigInt(1)], "id").unwrap();
    let e = write::write(&mut s, &ids, "t", Mode::Delete).unwrap_err();
    assert!(
        e.message.contains("(delete: batch 1 failed"),
        "{}",
        e.message
    );
}
