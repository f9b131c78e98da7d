//! Flows of the statement driver and the operations against recorded server responses: the
//! shared fixtures here; reads, failures and writes in their own files.

use super::config::{Credential, ResultFormat};
use super::driver;
use super::error::ErrorKind;
use super::fake::{Fake, count_answer, input, session, session_with};
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

fn with_header(status: u16, body: &str, name: &str, value: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![(name.into(), value.into())],
        body: body.as_bytes().to_vec(),
    }
}

mod failures;
mod reads;
mod writes;
