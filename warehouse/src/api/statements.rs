//! `/api/2.0/sql/statements...` and the external-link downloads.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use deltalake::arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::config::Principal;
use crate::engine::types::type_names;
use crate::engine::{ExecRequest, Param};
use crate::registry::{Entry, Format, ResultOpts, Results, State as StmtState};

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

/// `result` (or a chunk).
#[derive(Serialize, Default)]
struct ResultJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row_count: Option<usize>,
    /// Holds [`DATA_MARKER`]; the rendered rows are spliced in by [`json_response`].
    #[serde(skip_serializing_if = "Option::is_none")]
    data_array: Option<&'static str>,
    #[serde(skip)]
    raw: Option<Arc<Vec<u8>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_chunk_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_chunk_internal_link: Option<String>,
}

const DATA_MARKER: &str = "\u{1}openmatch-data-array\u{1}";

/// Serializes `value`, splicing the pre-rendered `data_array` text in place of the marker
/// (results are rendered once, when the statement finishes).
fn json_response<T: Serialize>(value: &T, raw: Option<&[u8]>) -> Response {
    let skeleton = match serde_json::to_vec(value) {
        Ok(s) => s,
        Err(e) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                e.to_string(),
            )
            .into_response();
        }
    };
    let body = match raw {
        None => skeleton,
        Some(raw) => {
            let marker = serde_json::to_vec(DATA_MARKER).unwrap_or_default();
            match skeleton
                .windows(marker.len())
                .position(|w| w == marker.as_slice())
            {
                Some(at) => {
                    let mut out = Vec::with_capacity(skeleton.len() + raw.len());
                    out.extend_from_slice(&skeleton[..at]);
                    out.extend_from_slice(raw);
                    out.extend_from_slice(&skeleton[at + marker.len()..]);
                    out
                }
                None => skeleton,
            }
        }
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
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
    let wid = b.warehouse_id.unwrap_or_default();
    if wid.is_empty() {
        return Err(ApiError::invalid(" is not a valid endpoint id."));
    }
    if wid != st.config.warehouse_id {
        return Err(ApiError::not_found(format!(
            "Warehouse {wid} does not exist."
        )));
    }
    let external = match b.disposition.as_deref().unwrap_or("INLINE") {
        "INLINE" => false,
        "EXTERNAL_LINKS" => true,
        other => return Err(ApiError::invalid(format!("Invalid disposition: {other}."))),
    };
    let format = match b.format.as_deref().unwrap_or("JSON_ARRAY") {
        "JSON_ARRAY" => Format::JsonArray,
        "ARROW_STREAM" => Format::ArrowStream,
        "CSV" => Format::Csv,
        other => return Err(ApiError::invalid(format!("Invalid format: {other}."))),
    };
    if !external && format != Format::JsonArray {
        return Err(ApiError::invalid(format!(
            "The INLINE disposition only supports JSON_ARRAY format, got {}.",
            format.as_str()
        )));
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
        external,
        format,
        row_limit,
        byte_limit,
        chunk_rows: st.config.chunk_rows,
        max_result_bytes: st.config.max_result_bytes,
    };
    let req = ExecRequest {
        sql: statement,
        params: b.parameters,
        catalog: b.catalog,
        schema: b.schema,
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
                    chunk_json(st, id, &r, 0)?
                });
            }
        }
        _ => {}
    }
    let raw = resp.result.as_ref().and_then(|r| r.raw.clone());
    Ok(json_response(&resp, raw.as_deref().map(|v| v.as_slice())))
}

fn column_json(i: usize, name: &str, dt: &DataType) -> Value {
    let (type_name, type_text) = type_names(dt);
    let mut c =
        json!({"name": name, "type_text": type_text, "type_name": type_name, "position": i});
    match dt {
        DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal32(p, s) => {
            c["type_precision"] = json!(p);
            c["type_scale"] = json!(s);
        }
        DataType::Interval(_) | DataType::Duration(_) => {
            c["type_interval_type"] = json!(type_text.trim_start_matches("INTERVAL "));
        }
        _ => {}
    }
    c
}

fn manifest(r: &Results) -> Value {
    let schema = match &r.schema {
        None => json!({"column_count": 0}),
        Some(s) => json!({
            "column_count": s.fields().len(),
            "columns": s.fields().iter().enumerate().map(|(i, f)| column_json(i, f.name(), f.data_type())).collect::<Vec<_>>(),
        }),
    };
    let mut m = json!({
        "format": r.opts.format.as_str(),
        "schema": schema,
        "total_chunk_count": r.chunks.len(),
    });
    if !r.chunks.is_empty() {
        m["chunks"] = Value::Array(
            r.chunks
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut v = json!({"chunk_index": i, "row_offset": c.row_offset, "row_count": c.row_count});
                    if r.opts.external {
                        v["byte_count"] = json!(c.bytes.len());
                    }
                    v
                })
                .collect(),
        );
    }
    m["total_row_count"] = json!(r.total_rows);
    if r.opts.external {
        m["total_byte_count"] = json!(r.chunks.iter().map(|c| c.bytes.len()).sum::<usize>());
    }
    m["truncated"] = json!(r.truncated);
    m
}

fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let mut s = String::new();
    crate::engine::values::push_timestamp(&mut s, d.as_millis() as i128 * 1_000_000, true);
    s
}

fn chunk_json(st: &AppState, id: &str, r: &Results, n: usize) -> Result<ResultJson, ApiError> {
    let c = r.chunks.get(n).ok_or_else(|| {
        ApiError::invalid(format!(
            "Chunk index {n} is out of range; the result has {} chunks.",
            r.chunks.len()
        ))
    })?;
    let next = (n + 1 < r.chunks.len()).then_some(n + 1);
    if r.opts.external {
        let expires = if st.faults.expire_links() {
            SystemTime::now() - Duration::from_secs(60)
        } else {
            SystemTime::now() + st.config.external_link_ttl
        };
        let token = st.registry.grant_link(id, n, expires);
        let mut link = json!({
            "chunk_index": n,
            "row_offset": c.row_offset,
            "row_count": c.row_count,
            "byte_count": c.bytes.len(),
            "external_link": format!("{}/ext/results/{token}", st.base_url),
            "expiration": rfc3339_millis(expires),
        });
        if let Some(nx) = next {
            link["next_chunk_index"] = json!(nx);
            link["next_chunk_internal_link"] =
                json!(format!("/api/2.0/sql/statements/{id}/result/chunks/{nx}"));
        }
        return Ok(ResultJson {
            external_links: Some(vec![link]),
            ..Default::default()
        });
    }
    Ok(ResultJson {
        chunk_index: Some(n),
        row_offset: Some(c.row_offset),
        row_count: Some(c.row_count),
        data_array: Some(DATA_MARKER),
        raw: Some(c.bytes.clone()),
        external_links: None,
        next_chunk_index: next,
        next_chunk_internal_link: next.map(|nx| {
            format!(
                "/api/2.0/sql/statements/{id}/result/chunks/{nx}?row_offset={}",
                r.chunks[nx].row_offset
            )
        }),
    })
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
            let c = chunk_json(&st, &id, &r, n)?;
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
    if g.expires <= SystemTime::now() {
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
    let ctype = match r.opts.format {
        Format::JsonArray => "application/json",
        Format::ArrowStream => "application/vnd.apache.arrow.stream",
        Format::Csv => "text/csv",
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, ctype)
        .header(header::CONTENT_LENGTH, c.bytes.len())
        .body(Body::from(c.bytes.as_ref().clone()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
