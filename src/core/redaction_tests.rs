//! Credentials never leave the connector in any error field or log line (issue 11 item 6).

use super::config::Credential;
use super::error::ErrorKind;
use super::fake::{input, session, session_with};
use super::http::Method;
use super::ops;
use super::secret::Secret;

/// Every text field of an error, as the host would see it.
fn fields(e: &super::error::Error) -> String {
    format!(
        "{} {:?} {:?} {:?}",
        e.message, e.sql_state, e.error_code, e.statement_id
    )
}

#[test]
fn a_token_echoed_in_error_code_and_sql_state_is_redacted() {
    let mut s = session();
    let body = r#"{"statement_id":"s-1","status":{"state":"FAILED","error":{"error_code":"dapi-secret","sql_state":"dapi-secret","message":"Bearer dapi-secret is bad"}}}"#;
    s.transport
        .on(Method::Post, "/api/2.0/sql/statements", 200, body);
    let e = ops::read_all(&mut s, "SELECT 1", &[]).unwrap_err();
    let e = e.sanitized(&s.secrets());
    assert!(!fields(&e).contains("dapi-secret"), "{}", fields(&e));
    assert_eq!(e.error_code.as_deref(), Some("[REDACTED]"));
}

#[test]
fn an_oauth_endpoint_echoing_the_basic_header_is_redacted() {
    let mut cfg = input();
    cfg.credential = Credential::OAuthM2m {
        client_id: "sp-id".into(),
        client_secret: Secret::new("sp-secret"),
        scope: Some("all-apis".into()),
    };
    let mut s = session_with(cfg);
    // base64("sp-id:sp-secret") as sent in `Authorization: Basic …`.
    let echo = r#"{"error":"invalid_client","error_description":"bad credentials: Basic c3AtaWQ6c3Atc2VjcmV0"}"#;
    s.transport.on(Method::Post, "/oidc/v1/token", 401, echo);
    let e = s.check_warehouse().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication, "{}", e.message);
    let e = e.sanitized(&s.secrets());
    let all = fields(&e);
    assert!(
        !all.contains("c3AtaWQ6c3Atc2VjcmV0") && !all.contains("sp-secret"),
        "{all}"
    );
    assert!(
        s.transport
            .logs
            .iter()
            .all(|l| !l.contains("c3AtaWQ6c3Atc2VjcmV0"))
    );
}

#[test]
fn a_huge_server_message_is_cut() {
    let mut s = session();
    let long = "y".repeat(50 * 1024 * 1024 / 100);
    let body = format!(
        r#"{{"statement_id":"s-1","status":{{"state":"FAILED","error":{{"error_code":"X","message":"{long}"}}}}}}"#
    );
    s.transport
        .on(Method::Post, "/api/2.0/sql/statements", 200, &body);
    let e = ops::read_all(&mut s, "SELECT 1", &[])
        .unwrap_err()
        .sanitized(&[]);
    assert!(
        e.message.len() <= super::error::MAX_MESSAGE + 64,
        "{}",
        e.message.len()
    );
}
