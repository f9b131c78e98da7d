//! Failures: classification, retries and their limits, cancel, OAuth.

use super::*;

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
        &count_answer("s-11", &["num_affected_rows", "num_inserted_rows"], &[3, 3]),
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
            &count_answer("s-13", &["num_affected_rows", "num_inserted_rows"], &[2, 2]),
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
fn a_denied_request_is_not_retried() {
    let mut s = session();
    s.transport.deny(Method::Get, "/warehouses/wh1");
    let e = s.check_warehouse().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connection);
    assert_eq!(s.transport.sent.len(), 1);
    assert!(s.transport.sleeps.is_empty());
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
