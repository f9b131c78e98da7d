//! `download-window`: chunks and external links requested together, taken in order, and a
//! failed first attempt falling back to the one-at-a-time path.

use super::config::ResultFormat;
use super::fake::{input, session_with};
use super::http::Method;
use super::ops;
use super::value::Value;

const STMTS: &str = "/api/2.0/sql/statements";

fn ids(rows: &[Vec<Value>]) -> Vec<i32> {
    rows.iter()
        .map(|r| match r[0] {
            Value::Int(i) => i,
            ref other => panic!("not an INT: {other:?}"),
        })
        .collect()
}

/// A JSON_ARRAY INLINE result of `chunks` chunks, two rows each; chunk 0 in the first answer.
fn first(chunks: u64) -> String {
    format!(
        r#"{{"statement_id":"w-1","status":{{"state":"SUCCEEDED"}},
        "manifest":{{"schema":{{"columns":[{{"name":"id","type_name":"INT","position":0}}]}},"total_row_count":{},"total_chunk_count":{chunks}}},
        "result":{{"chunk_index":0,"data_array":[["0"],["1"]],"next_chunk_index":1,"next_chunk_internal_link":"/api/2.0/sql/statements/w-1/result/chunks/1?row_offset=2"}}}}"#,
        chunks * 2
    )
}

fn chunk(i: u64, chunks: u64) -> String {
    let next = if i + 1 < chunks {
        format!(r#","next_chunk_index":{}"#, i + 1)
    } else {
        String::new()
    };
    format!(
        r#"{{"chunk_index":{i},"data_array":[["{}"],["{}"]]{next}}}"#,
        2 * i,
        2 * i + 1
    )
}

#[test]
fn json_chunks_after_the_next_are_fetched_together_and_read_in_order() {
    let mut cfg = input();
    cfg.download_window = Some(3);
    let mut s = session_with(cfg);
    s.transport.on(Method::Post, STMTS, 200, &first(6));
    for i in 1..6 {
        s.transport.on(
            Method::Get,
            &format!("/w-1/result/chunks/{i}"),
            200,
            &chunk(i, 6),
        );
    }
    let r = ops::read_all(&mut s, "SELECT id FROM t", &[]).unwrap();
    assert_eq!(ids(&r.rows), (0..12).collect::<Vec<_>>());
    // Chunks 1-3 together, then 4-5 (the manifest says 6).
    assert_eq!(s.transport.windows, vec![3, 2]);
    // The first of a window follows the server's link verbatim; the others go by index.
    assert!(s.transport.sent[1].url.ends_with("/chunks/1?row_offset=2"));
    assert!(s.transport.sent[2].url.ends_with("/chunks/2"));
    assert!(s.transport.sent[2].authorization.is_some());
}

#[test]
fn a_failed_piece_of_a_window_is_retried_alone_and_the_order_holds() {
    let mut cfg = input();
    cfg.download_window = Some(3);
    let mut s = session_with(cfg);
    s.transport
        .on(Method::Post, STMTS, 200, &first(4))
        .on(Method::Get, "/chunks/1", 200, &chunk(1, 4))
        .on(Method::Get, "/chunks/2", 503, "busy")
        .on(Method::Get, "/chunks/3", 200, &chunk(3, 4))
        // Chunk 2's retry, after the window: its rows still come before chunk 3's.
        .on(Method::Get, "/chunks/2", 200, &chunk(2, 4));
    let r = ops::read_all(&mut s, "SELECT id FROM t", &[]).unwrap();
    assert_eq!(ids(&r.rows), (0..8).collect::<Vec<_>>());
    assert_eq!(s.transport.windows, vec![3]);
    // A window never makes a bad chain pass: a chunk past the manifest's count is refused.
    let mut cfg = input();
    cfg.download_window = Some(2);
    let mut s = session_with(cfg);
    s.transport.on(Method::Post, STMTS, 200, &first(2)).on(
        Method::Get,
        "/chunks/1",
        200,
        &chunk(1, 3),
    );
    let e = ops::read_all(&mut s, "SELECT id FROM t", &[]).unwrap_err();
    assert!(e.message.contains("past the manifest"), "{}", e.message);
}

#[test]
fn external_links_download_together_and_an_expired_one_is_refreshed() {
    let mut cfg = input();
    cfg.download_window = Some(4);
    cfg.external_links = true;
    cfg.result_format = Some(ResultFormat::Json);
    let mut s = session_with(cfg);
    let link = |i: u64, sig: &str| {
        format!(
            r#"{{"chunk_index":{i},"row_offset":{},"row_count":2,"external_link":"https://bucket.s3/{i}?sig={sig}"}}"#,
            2 * i
        )
    };
    let links: Vec<String> = (0..3).map(|i| link(i, "a")).collect();
    let first = format!(
        r#"{{"statement_id":"w-2","status":{{"state":"SUCCEEDED"}},
        "manifest":{{"schema":{{"columns":[{{"name":"id","type_name":"INT","position":0}}]}},"total_row_count":6,"total_chunk_count":3}},
        "result":{{"external_links":[{}]}}}}"#,
        links.join(",")
    );
    let rows = |i: i32| format!(r#"[["{}"],["{}"]]"#, 2 * i, 2 * i + 1);
    s.transport
        .on(Method::Post, STMTS, 200, &first)
        .on(Method::Get, "bucket.s3/0?sig=a", 200, &rows(0))
        .on(Method::Get, "bucket.s3/1?sig=a", 403, "expired")
        .on(Method::Get, "bucket.s3/2?sig=a", 200, &rows(2))
        .on(
            Method::Get,
            "/w-2/result/chunks/1",
            200,
            &format!(r#"{{"external_links":[{}]}}"#, link(1, "b")),
        )
        .on(Method::Get, "bucket.s3/1?sig=b", 200, &rows(1));
    let r = ops::read_all(&mut s, "SELECT id FROM t", &[]).unwrap();
    assert_eq!(ids(&r.rows), (0..6).collect::<Vec<_>>());
    assert_eq!(s.transport.windows, vec![3]);
    assert!(
        s.transport
            .sent
            .iter()
            .filter(|r| r.url.contains("bucket.s3"))
            .all(|r| r.authorization.is_none())
    );
}
