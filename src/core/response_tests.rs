//! Unit tests of `response.rs`.

use super::*;

fn resp(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn parses_real_inline_response() {
    let body = r#"{"statement_id":"01f00f48-d4ac-1dc7-8b29-c92b18761007","status":{"state":"SUCCEEDED"},
 "manifest":{"format":"JSON_ARRAY","schema":{"column_count":2,"columns":[
   {"name":"id","type_text":"INT","type_name":"INT","position":0},
   {"name":"ts","type_text":"TIMESTAMP","type_name":"TIMESTAMP","position":1}]},
  "total_chunk_count":1,"chunks":[{"chunk_index":0,"row_offset":0,"row_count":3}],
  "total_row_count":3,"truncated":false},
 "result":{"chunk_index":0,"row_offset":0,"row_count":3,
  "data_array":[["1","2021-01-01T10:00:00.000-08:00"],["2","2021-06-15T12:34:56.789-07:00"],["3",null]]}}"#;
    let r = parse_statement(body.as_bytes()).unwrap();
    assert_eq!(r.state().unwrap(), State::Succeeded);
    let cols = r.columns();
    assert_eq!(cols.len(), 2);
    assert_eq!(
        (
            cols[1].name.as_str(),
            cols[1].type_name.as_str(),
            cols[1].position
        ),
        ("ts", "TIMESTAMP", 1)
    );
    let rows = r
        .result
        .unwrap()
        .data_array
        .unwrap()
        .to_owned_rows()
        .unwrap();
    assert_eq!(rows[2], vec![Some("3".to_string()), None]);
}

#[test]
fn statement_rows_are_split_off_and_the_rest_parsed_after_them() {
    let body = r#"{"statement_id":"s","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[{"name":"a","type_name":"INT"}]},"total_row_count":2},
      "result":{"chunk_index":0,"data_array":[["1"],["2"]],"next_chunk_index":1,"next_chunk_internal_link":"/x/1"}}"#;
    let (head, rows) = parse_statement_body(body.as_bytes().to_vec()).unwrap();
    assert_eq!(head.state().unwrap(), State::Succeeded);
    assert_eq!(head.columns().len(), 1);
    let head_result = head.result.unwrap();
    assert!(head_result.data_array.is_none() && head_result.next_chunk_index.is_none());
    let mut rows = rows.expect("rows split off");
    let mut scratch = String::new();
    while rows.next_row(&mut scratch, |_, _| {}).unwrap().is_some() {}
    let rest = parse_result_prefix(&rows.rest_of_object().unwrap()).unwrap();
    assert_eq!(rest.next_chunk_index, Some(1));
    assert_eq!(rest.next_chunk_internal_link.as_deref(), Some("/x/1"));

    // Status after the rows: parsed whole, rows left in `result.data_array`.
    let late = r#"{"result":{"data_array":[["1"]]},"status":{"state":"SUCCEEDED"},"manifest":{}}"#;
    let (r, rows) = parse_statement_body(late.as_bytes().to_vec()).unwrap();
    assert!(rows.is_none());
    assert_eq!(r.state().unwrap(), State::Succeeded);
    assert_eq!(
        r.result
            .unwrap()
            .data_array
            .unwrap()
            .to_owned_rows()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn parses_ddl_and_empty_bodies() {
    let body = r#"{"statement_id":"x","status":{"state":"SUCCEEDED"},"manifest":{"format":"ARROW_STREAM","schema":{"column_count":0},"total_chunk_count":0,"total_row_count":0,"truncated":false},"result":{}}"#;
    let r = parse_statement(body.as_bytes()).unwrap();
    assert!(r.columns().is_empty());
    assert!(r.result.unwrap().data_array.is_none());
    assert!(parse_chunk(b"").unwrap().data_array.is_none());
    assert!(parse_statement(b"{").is_err());
    assert!(
        parse_statement(b"{\"status\":{\"state\":\"WEIRD\"}}")
            .unwrap()
            .state()
            .is_err()
    );
    assert!(parse_statement(b"{}").unwrap().state().is_err());
    let numbers = parse_statement(br#"{"result":{"data_array":[[1]]}}"#).unwrap();
    assert!(
        numbers
            .result
            .unwrap()
            .data_array
            .unwrap()
            .to_owned_rows()
            .is_err()
    );
    assert!(parse_statement(br#"{"result":{"data_array":[[1}}"#).is_err());
}

#[test]
fn type_name_falls_back_to_type_text() {
    let body = r#"{"statement_id":"x","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"columns":[
        {"name":"a","type_text":"DECIMAL(10,2)"},{"name":"b","type_text":"array<int>"},{"name":"c"},
        {"name":"d","type_name":"","type_text":"INTERVAL DAY TO SECOND"}]}}}"#;
    let cols = parse_statement(body.as_bytes()).unwrap().columns();
    let names: Vec<&str> = cols.iter().map(|c| c.type_name.as_str()).collect();
    assert_eq!(names, ["DECIMAL", "ARRAY", "STRING", "INTERVAL"]);
    assert_eq!(cols[0].decimal_precision_scale(), (10, 2));
    assert_eq!(cols[2].position, 2);
}

#[test]
fn parses_external_links() {
    let body = r#"{"external_links":[{"chunk_index":0,"row_offset":0,"row_count":2,"byte_count":10,
      "next_chunk_index":1,"next_chunk_internal_link":"/api/2.0/sql/statements/s/result/chunks/1",
      "external_link":"https://bucket/x?sig=1","expiration":"2024-11-08T15:20:17.922Z","http_headers":{"x-h":"v"}}]}"#;
    let c = parse_chunk(body.as_bytes()).unwrap();
    let l = &c.external_links.unwrap()[0];
    assert_eq!(l.external_link.as_deref(), Some("https://bucket/x?sig=1"));
    assert_eq!(
        l.http_headers.as_deref(),
        Some(&[("x-h".to_string(), "v".to_string())][..])
    );
    assert_eq!(
        parse_external_rows(br#"[["1",null]]"#.to_vec())
            .unwrap()
            .to_owned_rows()
            .unwrap(),
        vec![vec![Some("1".into()), None]]
    );
}

fn failed(msg: &str, sql_state: Option<&str>) -> Error {
    let status = Status {
        state: Some("FAILED".into()),
        error: Some(ServiceError {
            error_code: Some(ErrorCode::Text("BAD_REQUEST".into())),
            message: Some(msg.into()),
        }),
        sql_state: sql_state.map(Into::into),
    };
    let r = StatementResponse {
        statement_id: Some("s1".into()),
        status: Some(status),
        ..Default::default()
    };
    statement_error(&r, &State::Failed)
}

#[test]
fn classifies_failed_statements() {
    let e = failed(
        "\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'INSER'. SQLSTATE: 42601 (line 1, pos 0)\n",
        None,
    );
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(e.sql_state.as_deref(), Some("42601"));
    assert_eq!(e.error_code.as_deref(), Some("PARSE_SYNTAX_ERROR"));
    assert_eq!(e.statement_id.as_deref(), Some("s1"));
    let e = failed(
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `x` cannot be found. SQLSTATE: 42P01",
        Some("42P01"),
    );
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(
        failed(
            "[UNRESOLVED_COLUMN.WITH_SUGGESTION] x SQLSTATE: 42703",
            None
        )
        .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        failed("[SCHEMA_NOT_FOUND] x", None).kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        failed("[INSUFFICIENT_PERMISSIONS] no", Some("42501")).kind,
        ErrorKind::Permission
    );
    assert_eq!(
        failed("[INSUFFICIENT_PERMISSIONS] no", None).kind,
        ErrorKind::Permission
    );
    assert_eq!(
        failed("[DATATYPE_MISMATCH] x", Some("42K09")).kind,
        ErrorKind::Syntax
    );
    let e = failed("[DELTA_CONCURRENT_APPEND] retry", Some("2D521"));
    assert_eq!(
        (e.kind, e.error_code.as_deref()),
        (ErrorKind::Server, Some("DELTA_CONCURRENT_APPEND"))
    );
    let e = failed("Command failed because warehouse w was stopped.", None);
    assert_eq!(
        (e.kind, e.error_code.as_deref()),
        (ErrorKind::Server, Some("BAD_REQUEST"))
    );
    let r = StatementResponse {
        statement_id: Some("s".into()),
        ..Default::default()
    };
    assert_eq!(
        statement_error(&r, &State::Canceled).kind,
        ErrorKind::Canceled
    );
}

#[test]
fn classifies_http_errors() {
    let e = http_error(&resp(
        401,
        r#"{"error_code":401,"message":"Credential was not sent or was of an unsupported type for this API."}"#,
    ));
    assert_eq!(
        (e.kind, e.error_code.as_deref(), e.http_status),
        (ErrorKind::Authentication, Some("401"), Some(401))
    );
    assert_eq!(
        http_error(&resp(
            403,
            r#"{"error_code":403,"message":"Invalid access token."}"#
        ))
        .kind,
        ErrorKind::Authentication
    );
    assert_eq!(
        http_error(&resp(
            403,
            r#"{"error_code":"PERMISSION_DENIED","message":"no"}"#
        ))
        .kind,
        ErrorKind::Permission
    );
    assert_eq!(
        http_error(&resp(
            404,
            r#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no"}"#
        ))
        .kind,
        ErrorKind::NotFound
    );
    let mut r = resp(
        429,
        r#"{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}"#,
    );
    r.headers.push(("retry-after".into(), "3".into()));
    let e = http_error(&r);
    assert_eq!(
        (e.kind, e.retry_after_ms),
        (ErrorKind::ResourceExhausted, Some(3000))
    );
    assert_eq!(
        http_error(&resp(503, "<html>down</html>")).kind,
        ErrorKind::Server
    );
    assert!(
        http_error(&resp(503, "<html>down</html>"))
            .message
            .contains("down")
    );
    assert_eq!(
        http_error(&resp(
            400,
            r#"{"error_code":"BAD_REQUEST","message":"[PARSE_SYNTAX_ERROR] x SQLSTATE: 42601"}"#
        ))
        .kind,
        ErrorKind::Syntax
    );
    assert_eq!(http_error(&resp(500, "")).message, "HTTP 500");
}
