//! The JSON of a result: `manifest`, and `result` (or a chunk) as `data_array`,
//! `attachment` or `external_links`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use deltalake::arrow::datatypes::DataType;
use serde::Serialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::engine::types::type_names;
use crate::results::{Delivery, Format, Results};

/// `result` (or a chunk).
#[derive(Serialize, Default)]
pub(super) struct ResultJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_count: Option<usize>,
    /// Holds [`DATA_MARKER`]; the rendered rows are spliced in by [`json_response`].
    #[serde(skip_serializing_if = "Option::is_none")]
    data_array: Option<&'static str>,
    #[serde(skip)]
    pub(super) raw: Option<Arc<Vec<u8>>>,
    /// Base64 of the chunk's Arrow IPC stream (LZ4-framed when compressed).
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<String>,
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
pub(super) fn json_response<T: Serialize>(value: &T, raw: Option<&[u8]>) -> Response {
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

/// `manifest`.
pub(super) fn manifest(r: &Results) -> Value {
    let schema = match &r.schema {
        None => json!({"column_count": 0}),
        Some(s) => json!({
            "column_count": s.fields().len(),
            "columns": s.fields().iter().enumerate().map(|(i, f)| column_json(i, f.name(), f.data_type())).collect::<Vec<_>>(),
        }),
    };
    let bytes = r.reports_bytes();
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
                    if bytes {
                        v["byte_count"] = json!(c.byte_count);
                    }
                    v
                })
                .collect(),
        );
    }
    m["total_row_count"] = json!(r.total_rows);
    if bytes {
        m["total_byte_count"] = json!(r.chunks.iter().map(|c| c.byte_count).sum::<usize>());
    }
    m["truncated"] = json!(r.truncated);
    if r.lz4() {
        m["result_compression"] = json!("LZ4_FRAME");
    }
    m
}

fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let mut s = String::new();
    crate::engine::values::push_timestamp(&mut s, d.as_millis() as i128 * 1_000_000, true);
    s
}

/// Links answered by one chunk request of an Arrow result at most.
pub const LINK_BATCH: usize = 8;

/// One external link: a new expiring grant on chunk `n`.
fn link_json(st: &AppState, id: &str, r: &Results, n: usize) -> Value {
    let c = &r.chunks[n];
    let now = st.registry.clock().wall();
    let expires = if st.faults.expire_links() {
        now - Duration::from_secs(60)
    } else {
        now + st.config.external_link_ttl
    };
    let token = st.registry.grant_link(id, n, expires);
    let mut link = json!({
        "chunk_index": n,
        "row_offset": c.row_offset,
        "row_count": c.row_count,
        "byte_count": c.byte_count,
        "external_link": format!("{}/ext/results/{token}", st.base_url),
        "expiration": rfc3339_millis(expires),
    });
    if n + 1 < r.chunks.len() {
        link["next_chunk_index"] = json!(n + 1);
        link["next_chunk_internal_link"] = json!(format!(
            "/api/2.0/sql/statements/{id}/result/chunks/{}",
            n + 1
        ));
    }
    link
}

/// `result` of the statement (`first`), or its chunk `n`.
pub(super) fn chunk_json(
    st: &AppState,
    id: &str,
    r: &Results,
    n: usize,
    first: bool,
) -> Result<ResultJson, ApiError> {
    let c = r.chunks.get(n).ok_or_else(|| {
        ApiError::invalid(format!(
            "Chunk index {n} is out of range; the result has {} chunks.",
            r.chunks.len()
        ))
    })?;
    let next = (n + 1 < r.chunks.len()).then_some(n + 1);
    match r.delivery {
        Delivery::Links => {
            // The statement's first answer carries one link. A chunk request for an Arrow
            // result answers a batch of links from `n` on (each with its own next_*), as
            // the API's `external_links` array allows; JSON_ARRAY and CSV keep one link.
            let batch = if first || r.opts.format != Format::ArrowStream {
                1
            } else {
                LINK_BATCH
            };
            let last = (n + batch).min(r.chunks.len());
            let links = (n..last)
                .map(|k| link_json(st, id, r, k))
                .collect::<Vec<_>>();
            Ok(ResultJson {
                external_links: Some(links),
                ..Default::default()
            })
        }
        Delivery::Attachment => Ok(ResultJson {
            chunk_index: Some(n),
            row_offset: Some(c.row_offset),
            row_count: Some(c.row_count),
            byte_count: Some(c.byte_count),
            attachment: Some(base64::engine::general_purpose::STANDARD.encode(c.bytes.as_slice())),
            ..Default::default()
        }),
        Delivery::DataArray => Ok(ResultJson {
            chunk_index: Some(n),
            row_offset: Some(c.row_offset),
            row_count: Some(c.row_count),
            data_array: Some(DATA_MARKER),
            raw: Some(c.bytes.clone()),
            next_chunk_index: next,
            next_chunk_internal_link: next.map(|nx| {
                format!(
                    "/api/2.0/sql/statements/{id}/result/chunks/{nx}?row_offset={}",
                    r.chunks[nx].row_offset
                )
            }),
            ..Default::default()
        }),
    }
}
