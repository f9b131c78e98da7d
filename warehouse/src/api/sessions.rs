//! `/api/2.0/sql/sessions`: open and close the sessions of [`crate::sessions`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::config::Principal;
use crate::sessions::SessionError;

/// Request body of `POST /api/2.0/sql/sessions`.
#[derive(Debug, Deserialize)]
struct CreateBody {
    warehouse_id: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
    #[serde(default)]
    session_confs: BTreeMap<String, Value>,
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> ApiError {
        match e {
            SessionError::NotFound(_) => ApiError::not_found(e.to_string()),
            SessionError::UnknownConf(_) | SessionError::BadConf { .. } => {
                ApiError::invalid(e.to_string())
            }
            SessionError::TooMany(_) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                e.to_string(),
            ),
        }
    }
}

/// The warehouse named by a request must be this one.
pub(super) fn check_warehouse(st: &AppState, wid: Option<&str>) -> Result<(), ApiError> {
    match wid {
        None | Some("") => Err(ApiError::invalid(" is not a valid endpoint id.")),
        Some(w) if w != st.config.warehouse_id => Err(ApiError::not_found(format!(
            "Warehouse {w} does not exist."
        ))),
        Some(_) => Ok(()),
    }
}

/// `POST /api/2.0/sql/sessions` → `{"session_id": ...}`.
pub async fn create(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: CreateBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("Could not parse request object: {e}")))?;
    check_warehouse(&st, b.warehouse_id.as_deref())?;
    let confs = b
        .session_confs
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect();
    let id = st.sessions.open(&p, b.catalog, b.schema, confs)?;
    Ok(axum::Json(json!({ "session_id": id })).into_response())
}

/// `DELETE /api/2.0/sql/sessions/{id}[?warehouse_id=]` → `{}`. A JSON body (the SEA
/// connector sends `{warehouse_id, session_id}`) is ignored.
pub async fn delete(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(w) = q.get("warehouse_id") {
        check_warehouse(&st, Some(w))?;
    }
    st.sessions.close(&id, &p)?;
    Ok(axum::Json(json!({})).into_response())
}
