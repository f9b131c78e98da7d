//! `/api/2.0/sql/statements...` and the external-link downloads.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::result_json::{ResultJson, chunk_json, json_response, manifest};
use super::{ApiError, AppState};
use crate::config::Principal;
use crate::engine::{ExecRequest, Param};
use crate::registry::{Entry, State as StmtState};
use crate::results::{Compression, Disposition, Format, ResultOpts};

/// Request body of `POST /api/2.0/sql/statements`.
#[derive(Debug, Deserialize)]
struct ExecuteBody {
    statement: Option<String>,
    warehouse_id: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    #[serde(default)]
    parameters: Vec<Param>,
    row_limit: Option<i64>,
    byte_limit: Option<i64>,
    disposition: Option<String>,
    format: Option<String>,
    wait_timeout: Option<String>,
    on_wait_timeout: Option<String>,
    /// The session whose catalog and schema the statement inherits.
    session_id: Option<String>,
    /// `LZ4_FRAME` or `NONE`.
    result_compression: Option<String>,
}

/// `status`.
#[derive(Serialize)]
struct StatusJson {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sql_state: Option<String>,
}

/// `StatementResponse`.
#[derive(Serialize)]
struct StatementResponse {
    statement_id: String,
    status: StatusJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<ResultJson>,
}

fn parse_wait(s: Option<&str>) -> Result<Duration, ApiError> {
    let s = s.unwrap_or("10s").trim();
    let n: u64 = s
        .strip_suffix('s')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "wait_timeout must be \"0s\" or between \"5s\" and \"50s\", got \"{s}\"."
            ))
        })?;
    if n == 0 || (5..=50).contains(&n) {
        Ok(Duration::from_secs(n))
    } else {
        Err(ApiError::invalid(format!(
            "wait_timeout must be 0 seconds, or between 5 seconds and 50 seconds, got {n} seconds."
        )))
    }
}

/// `POST /api/2.0/sql/statements`.
pub async fn execute(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ExecuteBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("Could not parse request object: {e}")))?;
    let statement = b
        .statement
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("statement is required."))?;
    if statement.len() > 16 * 1024 * 1024 {
        return Err(ApiError::invalid(
            "The statement exceeds the maximum size of 16 MiB.",
        ));
    }
    super::sessions::check_warehouse(&st, b.warehouse_id.as_deref())?;
    let disposition = match b.disposition.as_deref().unwrap_or("INLINE") {
        "INLINE" => Disposition::Inline,
        "EXTERNAL_LINKS" => Disposition::ExternalLinks,
        "INLINE_OR_EXTERNAL_LINKS" => Disposition::InlineOrExternalLinks,
        other => return Err(ApiError::invalid(format!("Invalid disposition: {other}."))),
    };
    let format = match b.format.as_deref().unwrap_or("JSON_ARRAY") {
        "JSON_ARRAY" => Format::JsonArray,
        "ARROW_STREAM" => Format::ArrowStream,
        "CSV" => Format::Csv,
        other => return Err(ApiError::invalid(format!("Invalid format: {other}."))),
    };
    match (disposition, format) {
        (Disposition::Inline, Format::JsonArray)
        | (Disposition::ExternalLinks, _)
        | (Disposition::InlineOrExternalLinks, Format::ArrowStream) => {}
        (d, f) => {
            return Err(ApiError::invalid(format!(
                "The {} disposition does not support the {} format.",
                d.as_str(),
                f.as_str()
            )));
        }
    }
    let compression = match b.result_compression.as_deref().unwrap_or("NONE") {
        "NONE" => Compression::None,
        "LZ4_FRAME" => Compression::Lz4Frame,
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid result_compression: {other}."
            )));
        }
    };
    let (mut catalog, mut schema) = (b.catalog, b.schema);
    if let Some(sid) = b.session_id.as_deref() {
        let session = st.sessions.get(sid, &p)?;
        catalog = catalog.or(session.catalog);
        schema = schema.or(session.schema);
    }
    let wait = parse_wait(b.wait_timeout.as_deref())?;
    let cancel_on_timeout = match b.on_wait_timeout.as_deref().unwrap_or("CONTINUE") {
        "CONTINUE" => false,
        "CANCEL" => true,
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid on_wait_timeout: {other}."
            )));
        }
    };
    let row_limit = match b.row_limit {
        Some(n) if n < 0 => return Err(ApiError::invalid("row_limit must be non-negative.")),
        n => n.map(|n| n as usize),
    };
    let byte_limit = match b.byte_limit {
        Some(n) if n < 0 => return Err(ApiError::invalid("byte_limit must be non-negative.")),
        n => n.map(|n| n as usize),
    };
    let opts = ResultOpts {
        disposition,
        format,
        compression,
        row_limit,
        byte_limit,
        chunk_rows: st.config.chunk_rows,
        max_result_bytes: st.config.max_result_bytes,
        attachment_limit: st.config.attachment_limit,
    };
    let req = ExecRequest {
        sql: statement,
        params: b.parameters,
        catalog,
        schema,
        principal: p,
    };
    let id = st.registry.submit(st.engine.clone(), req, opts);
    if !wait.is_zero() && !st.registry.wait(&id, wait).await && cancel_on_timeout {
        st.registry.cancel(&id);
    }
    respond(&st, &id)
}

fn entry(st: &AppState, id: &str, p: &Principal) -> Result<Arc<std::sync::Mutex<Entry>>, ApiError> {
    let e = st
        .registry
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("The statement {id} was not found.")))?;
    let owner = e.lock().map(|e| e.owner.clone()).unwrap_or_default();
    if owner != p.name && !p.admin {
        return Err(ApiError::not_found(format!(
            "The statement {id} was not found."
        )));
    }
    Ok(e)
}

fn respond(st: &AppState, id: &str) -> Result<Response, ApiError> {
    let e = st
        .registry
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("The statement {id} was not found.")))?;
    let (state, error, results) = {
        let e = e.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "lock")
        })?;
        (e.state, e.error.clone(), e.results.clone())
    };
    let mut resp = StatementResponse {
        statement_id: id.to_string(),
        status: StatusJson {
            state: state.as_str(),
            error: None,
            sql_state: None,
        },
        manifest: None,
        result: None,
    };
    match state {
        StmtState::Failed => {
            if let Some(err) = error {
                resp.status.error =
                    Some(json!({"error_code": err.error_code(), "message": err.to_string()}));
                resp.status.sql_state = Some(err.sql_state().to_string());
            }
        }
        StmtState::Succeeded => {
            if let Some(r) = results {
                resp.manifest = Some(manifest(&r));
                resp.result = Some(if r.chunks.is_empty() {
                    ResultJson::default()
                } else {
                    chunk_json(st, id, &r, 0, true)?
                });
            }
        }
        _ => {}
    }
    let raw = resp.result.as_ref().and_then(|r| r.raw.clone());
    Ok(json_response(&resp, raw.as_deref().map(|v| v.as_slice())))
}

/// `GET /api/2.0/sql/statements/{id}`.
pub async fn get_statement(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    entry(&st, &id, &p)?;
    respond(&st, &id)
}

/// `GET /api/2.0/sql/statements/{id}/result/chunks/{n}`.
pub async fn get_chunk(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let e = entry(&st, &id, &p)?;
    let n: usize = n
        .parse()
        .map_err(|_| ApiError::invalid(format!("Invalid chunk index: {n}.")))?;
    let (state, results) = {
        let e = e.lock().map_err(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "lock")
        })?;
        (e.state, e.results.clone())
    };
    match (state, results) {
        (StmtState::Succeeded, Some(r)) => {
            let c = chunk_json(&st, &id, &r, n, false)?;
            Ok(json_response(&c, c.raw.as_deref().map(|v| v.as_slice())))
        }
        (StmtState::Closed, _) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_DOES_NOT_EXIST",
            format!("The statement {id} is closed; its results are no longer available."),
        )),
        (s, _) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_STATE",
            format!(
                "The statement {id} is in state {}; results are only available for SUCCEEDED statements.",
                s.as_str()
            ),
        )),
    }
}

/// `POST /api/2.0/sql/statements/{id}/cancel`.
pub async fn cancel(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    entry(&st, &id, &p)?;
    st.registry.cancel(&id);
    Ok(axum::Json(json!({})).into_response())
}

/// `DELETE /api/2.0/sql/statements/{id}`: CLOSED.
pub async fn close(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    entry(&st, &id, &p)?;
    st.registry.close(&id);
    Ok(axum::Json(json!({})).into_response())
}

fn s3_error(code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

/// `GET /ext/results/{token}` (no Authorization; the token is the signature).
pub async fn external_download(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(g) = st.registry.link(&token) else {
        return s3_error("AccessDenied", "Access Denied");
    };
    if g.expires <= st.registry.clock().wall() {
        return s3_error("AccessDenied", "Request has expired");
    }
    let Some(e) = st.registry.get(&g.statement_id) else {
        return s3_error("NoSuchKey", "The specified key does not exist.");
    };
    let results = e.lock().ok().and_then(|e| e.results.clone());
    let Some(r) = results else {
        return s3_error("NoSuchKey", "The specified key does not exist.");
    };
    let Some(c) = r.chunks.get(g.chunk) else {
        return s3_error("NoSuchKey", "The specified key does not exist.");
    };
    let ctype = r.opts.format.content_type();
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, ctype)
        .header(header::CONTENT_LENGTH, c.bytes.len())
        .body(Body::from(c.bytes.as_ref().clone()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
