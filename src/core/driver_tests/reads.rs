//! Reads: polling, chunks and links, result shapes, history.

use super::*;

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
        &count_answer("s-2", &["num_affected_rows"], &[7]),
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
        Value::Decimal(crate::core::value::Decimal {
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
