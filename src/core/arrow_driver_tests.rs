//! ARROW_STREAM results through the statement driver, against responses shaped as Databricks'
//! own clients parse them (shared/sea-notes.md): an inline `result.attachment`, external links
//! whose bodies are LZ4-framed IPC streams, chunk chains, and the `auto` fallback to JSON_ARRAY.

use std::sync::Arc;

use arrow_array::TimestampMicrosecondArray;
use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray};

use super::arrow::tests::{lz4, stream};
use super::base64;
use super::config::ResultFormat;
use super::error::ErrorKind;
use super::fake::{input, session_with};
use super::http::Method;
use super::ops;
use super::value::{Decimal, Value};
use super::write::{self, Mode};

const STMTS: &str = "/api/2.0/sql/statements";

/// The manifest columns of [`batch`].
const COLUMNS: &str = r#"[{"name":"id","type_name":"LONG","type_text":"BIGINT","position":0},
  {"name":"amount","type_name":"DECIMAL","type_text":"DECIMAL(38,18)","type_precision":38,"type_scale":18,"position":1},
  {"name":"ts","type_name":"TIMESTAMP","type_text":"TIMESTAMP","position":2},
  {"name":"name","type_name":"STRING","type_text":"STRING","position":3}]"#;

/// Rows `ids` of a result with a BIGINT, a DECIMAL(38,18), a TIMESTAMP and a STRING column.
fn batch(ids: std::ops::Range<i64>) -> RecordBatch {
    let amounts = Decimal128Array::from_iter_values(ids.clone().map(|i| i128::from(i) * 10))
        .with_precision_and_scale(38, 18)
        .unwrap();
    let ts = TimestampMicrosecondArray::from_iter_values(ids.clone().map(|i| i * 1_000_001))
        .with_timezone("Etc/UTC");
    let names = StringArray::from_iter(ids.clone().map(|i| (i % 3 != 0).then(|| format!("n{i}"))));
    // Every field nullable, as the schema of every batch of a stream must be the same.
    RecordBatch::try_from_iter_with_nullable([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(ids)) as ArrayRef,
            true,
        ),
        ("amount", Arc::new(amounts), true),
        ("ts", Arc::new(ts), true),
        ("name", Arc::new(names), true),
    ])
    .unwrap()
}

/// The values [`batch`] holds for `ids`.
fn expected(ids: std::ops::Range<i64>) -> Vec<Vec<Value>> {
    ids.map(|i| {
        vec![
            Value::BigInt(i),
            Value::Decimal(Decimal {
                digits: format!("0.{:018}", i * 10),
                precision: 38,
                scale: 18,
            }),
            Value::Timestamp(i * 1_000_001),
            if i % 3 == 0 {
                Value::Null
            } else {
                Value::Text(format!("n{i}"))
            },
        ]
    })
    .collect()
}

/// An LZ4-framed IPC stream of `batches`.
fn framed(batches: &[RecordBatch]) -> Vec<u8> {
    lz4(&stream(batches))
}

/// A SUCCEEDED ARROW_STREAM statement response of `rows` rows with `result`.
fn succeeded(id: &str, rows: u64, chunks: u64, result: &str) -> String {
    format!(
        r#"{{"statement_id":"{id}","status":{{"state":"SUCCEEDED"}},
  "manifest":{{"format":"ARROW_STREAM","schema":{{"column_count":4,"columns":{COLUMNS}}},
   "total_chunk_count":{chunks},"total_row_count":{rows},"total_byte_count":1000,"truncated":false,
   "result_compression":"LZ4_FRAME"}},
  "result":{result}}}"#
    )
}

fn arrow_session(
    external: bool,
    format: ResultFormat,
) -> super::session::Session<super::fake::Fake> {
    let mut cfg = input();
    cfg.external_links = external;
    cfg.result_format = Some(format);
    session_with(cfg)
}

fn body(s: &super::session::Session<super::fake::Fake>, i: usize) -> serde_json::Value {
    serde_json::from_slice(&s.transport.sent[i].body).unwrap()
}

#[test]
fn auto_with_external_links_reads_an_inline_lz4_attachment() {
    let mut s = arrow_session(true, ResultFormat::Auto);
    let attachment = base64::encode(&framed(&[batch(0..2), batch(2..5)]));
    let result = format!(
        r#"{{"chunk_index":0,"row_offset":0,"row_count":5,"byte_count":1000,"attachment":"{attachment}"}}"#
    );
    s.transport
        .on(Method::Post, STMTS, 200, &succeeded("a1", 5, 1, &result));
    let r = ops::read_all(&mut s, "SELECT * FROM t", &[]).unwrap();
    assert_eq!(r.rows, expected(0..5));
    assert_eq!(r.execution.row_count, 5);
    // What Databricks' own clients ask for.
    let b = body(&s, 0);
    assert_eq!(
        (
            b["disposition"].as_str(),
            b["format"].as_str(),
            b["result_compression"].as_str()
        ),
        (
            Some("INLINE_OR_EXTERNAL_LINKS"),
            Some("ARROW_STREAM"),
            Some("LZ4_FRAME")
        )
    );
    assert_eq!(s.transport.sent.len(), 1);
}

#[test]
fn column_batches_split_record_batches_at_any_size() {
    let mut s = arrow_session(false, ResultFormat::Arrow);
    let attachment = base64::encode(&framed(&[batch(0..3), batch(3..7)]));
    let result = format!(r#"{{"chunk_index":0,"row_count":7,"attachment":"{attachment}"}}"#);
    s.transport
        .on(Method::Post, STMTS, 200, &succeeded("a2", 7, 1, &result));
    let deadline = s.deadline();
    let mut c = ops::query(&mut s, "SELECT * FROM t", &[], deadline).unwrap();
    let mut rows = Vec::new();
    for want in [2, 2, 2, 1, 0] {
        let b = c.next_columns(&mut s, 2, deadline).unwrap();
        assert_eq!(b.rows, want);
        rows.extend(b.to_rows());
    }
    assert_eq!(rows, expected(0..7));
    assert!(c.exhausted());
}

#[test]
fn external_links_carry_lz4_ipc_streams_without_authorization() {
    let mut s = arrow_session(true, ResultFormat::Auto);
    let first = r#"{"external_links":[{"chunk_index":0,"row_offset":0,"row_count":4,"byte_count":500,
        "external_link":"https://storage.example/c0?sig=a","expiration":"2030-01-01T00:00:00Z",
        "http_headers":{"x-ms-blob-type":"BlockBlob"},"next_chunk_index":1,
        "next_chunk_internal_link":"/api/2.0/sql/statements/a3/result/chunks/1?row_offset=4"}]}"#;
    let second = r#"{"external_links":[{"chunk_index":1,"row_offset":4,"row_count":3,"byte_count":400,
        "external_link":"https://storage.example/c1?sig=b","expiration":"2030-01-01T00:00:00Z"}]}"#;
    s.transport
        .on(Method::Post, STMTS, 200, &succeeded("a3", 7, 2, first))
        .on_bytes(Method::Get, "storage.example/c0", framed(&[batch(0..4)]))
        .on(Method::Get, "/a3/result/chunks/1?row_offset=4", 200, second)
        .on_bytes(
            Method::Get,
            "storage.example/c1",
            framed(&[batch(4..6), batch(6..7)]),
        );
    let r = ops::read_all(&mut s, "SELECT * FROM big", &[]).unwrap();
    assert_eq!(r.rows, expected(0..7));
    for req in s
        .transport
        .sent
        .iter()
        .filter(|r| r.url.contains("storage.example"))
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
            .contains(&("x-ms-blob-type".into(), "BlockBlob".into()))
    );
}

#[test]
fn inline_chunks_follow_the_chunk_chain() {
    let mut s = arrow_session(false, ResultFormat::Arrow);
    let a0 = base64::encode(&framed(&[batch(0..2)]));
    let a1 = base64::encode(&framed(&[batch(2..4)]));
    let result =
        format!(r#"{{"chunk_index":0,"row_count":2,"next_chunk_index":1,"attachment":"{a0}"}}"#);
    s.transport
        .on(Method::Post, STMTS, 200, &succeeded("a4", 4, 2, &result))
        .on(
            Method::Get,
            "/a4/result/chunks/1",
            200,
            &format!(r#"{{"chunk_index":1,"row_offset":2,"row_count":2,"attachment":"{a1}"}}"#),
        );
    assert_eq!(
        ops::read_all(&mut s, "SELECT 1", &[]).unwrap().rows,
        expected(0..4)
    );
}

#[test]
fn uncompressed_streams_and_json_answers_are_read_too() {
    // The manifest without `result_compression`: plain IPC.
    let mut s = arrow_session(false, ResultFormat::Arrow);
    let plain = base64::encode(&stream(&[batch(0..3)]));
    let resp = succeeded("a5", 3, 1, &format!(r#"{{"attachment":"{plain}"}}"#)).replace(
        r#""result_compression":"LZ4_FRAME""#,
        r#""result_compression":"NONE""#,
    );
    s.transport.on(Method::Post, STMTS, 200, &resp);
    assert_eq!(
        ops::read_all(&mut s, "SELECT 1", &[]).unwrap().rows,
        expected(0..3)
    );
    // A server that answers JSON_ARRAY whatever was asked: its manifest says so.
    let mut s = arrow_session(false, ResultFormat::Arrow);
    s.transport.on(
        Method::Post,
        STMTS,
        200,
        r#"{"statement_id":"j1","status":{"state":"SUCCEEDED"},"manifest":{"format":"JSON_ARRAY",
          "schema":{"columns":[{"name":"x","type_name":"INT","position":0}]},"total_row_count":1},
          "result":{"data_array":[["7"]]}}"#,
    );
    assert_eq!(
        ops::read_all(&mut s, "SELECT 7", &[]).unwrap().rows,
        vec![vec![Value::Int(7)]]
    );
}

#[test]
fn auto_falls_back_to_json_when_the_server_refuses_arrow() {
    let mut s = arrow_session(true, ResultFormat::Auto);
    let json = r#"{"statement_id":"j2","status":{"state":"SUCCEEDED"},"manifest":{"format":"JSON_ARRAY",
      "schema":{"columns":[{"name":"x","type_name":"INT","position":0}]},"total_row_count":1},
      "result":{"external_links":[{"chunk_index":0,"external_link":"https://storage.example/j"}]}}"#;
    s.transport
        .on(
            Method::Post,
            STMTS,
            400,
            r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Invalid disposition: INLINE_OR_EXTERNAL_LINKS."}"#,
        )
        .on(Method::Post, STMTS, 200, json)
        .on(Method::Get, "storage.example/j", 200, r#"[["7"]]"#);
    let r = ops::read_all(&mut s, "SELECT 7", &[]).unwrap();
    assert_eq!(r.rows, vec![vec![Value::Int(7)]]);
    assert_eq!(body(&s, 0)["format"], "ARROW_STREAM");
    let b = body(&s, 1);
    assert_eq!(
        (b["format"].as_str(), b["disposition"].as_str()),
        (Some("JSON_ARRAY"), Some("EXTERNAL_LINKS"))
    );
    assert!(b.get("result_compression").is_none());
    assert!(s.arrow_refused);
    assert!(
        s.transport
            .logs
            .iter()
            .any(|l| l.contains("ARROW_STREAM refused"))
    );
    // The connection remembers: the next read asks for JSON at once.
    s.transport.on(Method::Post, STMTS, 200, json).on(
        Method::Get,
        "storage.example/j",
        200,
        r#"[["7"]]"#,
    );
    ops::read_all(&mut s, "SELECT 7", &[]).unwrap();
    assert_eq!(body(&s, 3)["format"], "JSON_ARRAY");
}

#[test]
fn refusals_are_errors_when_arrow_is_forced_or_the_statement_is_at_fault() {
    let refusal = r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"The INLINE disposition only supports JSON_ARRAY format, got ARROW_STREAM."}"#;
    let mut s = arrow_session(false, ResultFormat::Arrow);
    s.transport.on(Method::Post, STMTS, 400, refusal);
    let e = ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err();
    assert_eq!(e.http_status, Some(400));
    assert_eq!(s.transport.sent.len(), 1);
    assert!(!s.arrow_refused);
    // A bad request about the statement itself is not a reason to change formats.
    let mut s = arrow_session(true, ResultFormat::Auto);
    s.transport.on(
        Method::Post,
        STMTS,
        400,
        r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"No value was given for parameter x."}"#,
    );
    assert_eq!(
        ops::read_all(&mut s, "SELECT :x", &[])
            .unwrap_err()
            .http_status,
        Some(400)
    );
    assert_eq!(s.transport.sent.len(), 1);
}

#[test]
fn writes_read_their_count_as_inline_json_whatever_the_format() {
    let mut s = arrow_session(true, ResultFormat::Arrow);
    let count = r#"{"statement_id":"w1","status":{"state":"SUCCEEDED"},"manifest":{"format":"JSON_ARRAY",
      "schema":{"columns":[{"name":"num_affected_rows","type_name":"LONG","position":0},
      {"name":"num_inserted_rows","type_name":"LONG","position":1}]},"total_row_count":1},
      "result":{"data_array":[["2","2"]]}}"#;
    s.transport.on(Method::Post, STMTS, 200, count);
    let recs: Vec<Vec<(String, Value)>> = (0..2)
        .map(|i| vec![("id".into(), Value::BigInt(i))])
        .collect();
    assert_eq!(write::write(&mut s, &recs, "t", Mode::Insert).unwrap().0, 2);
    let b = body(&s, 0);
    assert_eq!(
        (b["format"].as_str(), b["disposition"].as_str()),
        (Some("JSON_ARRAY"), Some("INLINE"))
    );
}

#[test]
fn arrow_results_are_checked_like_json_ones() {
    let one = |rows: u64, batches: &[RecordBatch], columns: Option<&str>| {
        let mut s = arrow_session(false, ResultFormat::Arrow);
        let a = base64::encode(&framed(batches));
        let mut resp = succeeded("c1", rows, 1, &format!(r#"{{"attachment":"{a}"}}"#));
        if let Some(c) = columns {
            resp = resp.replace(COLUMNS, c);
        }
        s.transport.on(Method::Post, STMTS, 200, &resp);
        ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err()
    };
    let e = one(2, &[batch(0..3)], None);
    assert!(e.message.contains("more rows than the 2"), "{}", e.message);
    assert_eq!(e.statement_id.as_deref(), Some("c1"));
    let e = one(4, &[batch(0..3)], None);
    assert!(
        e.message
            .contains("result has 3 rows but the manifest announced 4"),
        "{}",
        e.message
    );
    let e = one(
        3,
        &[batch(0..3)],
        Some(r#"[{"name":"id","type_name":"LONG","position":0}]"#),
    );
    assert!(
        e.message
            .contains("Arrow result has 4 columns, the schema 1"),
        "{}",
        e.message
    );
    let e = one(
        3,
        &[batch(0..3)],
        Some(&COLUMNS.replace(r#""type_name":"TIMESTAMP""#, r#""type_name":"BOOLEAN""#)),
    );
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.message.contains("column \"ts\""), "{}", e.message);
    // An attachment that is not base64, a link body that is JSON.
    let mut s = arrow_session(false, ResultFormat::Arrow);
    s.transport.on(
        Method::Post,
        STMTS,
        200,
        &succeeded("c2", 1, 1, r#"{"attachment":"not base64!"}"#),
    );
    let e = ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err();
    assert!(
        e.message.contains("attachment is not base64"),
        "{}",
        e.message
    );
    let mut s = arrow_session(true, ResultFormat::Auto);
    s.transport
        .on(
            Method::Post,
            STMTS,
            200,
            &succeeded("c3", 1, 1, r#"{"external_links":[{"chunk_index":0,"external_link":"https://storage.example/x"}]}"#),
        )
        .on(Method::Get, "storage.example/x", 200, r#"[["1"]]"#);
    let e = ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.message.contains("malformed LZ4_FRAME"), "{}", e.message);
    assert_eq!(e.statement_id.as_deref(), Some("c3"));
}
