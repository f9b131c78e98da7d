//! Files API directories on volumes: `PUT/GET/HEAD/DELETE
//! /api/2.0/fs/directories/Volumes/<c>/<s>/<v>/<path>` (create, list, metadata, delete empty).

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use serde_json::{Value, json};

use super::files::{internal, locate};
use super::{ApiError, AppState};
use crate::config::{Principal, Privilege};
use crate::volumes::in_progress;

/// Most entries one listing page holds (the reference's maximum and default).
const MAX_PAGE: usize = 1000;

fn no_directory() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The directory being accessed is not found.",
    )
}

/// `/Volumes/...` of a request path, without a trailing `/`.
fn volume_path(path: &str) -> String {
    format!("/{}", path.trim_matches('/'))
}

/// Creates a directory and its parents (idempotent); 409 `ALREADY_EXISTS` when a file is in
/// the way.
pub async fn create(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Modify)?;
    if local.is_dir() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if tokio::fs::create_dir_all(&local).await.is_err() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            "A file exists at the path of the directory being created.",
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Directory metadata: 200 without a body when the directory exists, else 404.
pub async fn head(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Select)?;
    if !local.is_dir() {
        return Err(no_directory());
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

/// One listing entry as the reference shapes it (directories: a trailing `/`, no size).
fn entry(dir_path: &str, name: &str, local: &FsPath) -> Option<Value> {
    let meta = std::fs::metadata(local).ok()?;
    if meta.is_dir() {
        Some(json!({
            "path": format!("{dir_path}/{name}/"),
            "is_directory": true,
            "name": name,
        }))
    } else {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Some(json!({
            "path": format!("{dir_path}/{name}"),
            "is_directory": false,
            "file_size": meta.len(),
            "last_modified": modified,
            "name": name,
        }))
    }
}

/// Lists a directory in name order: `{"contents": [...], "next_page_token"?}`; `page_size`
/// (at most 1000) and the opaque `page_token` of the previous page.
pub async fn list(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Select)?;
    if !local.is_dir() {
        return Err(no_directory());
    }
    let page = match q.get("page_size") {
        None => MAX_PAGE,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n > 0 => (n as usize).min(MAX_PAGE),
            Ok(_) => MAX_PAGE,
            Err(_) => return Err(ApiError::invalid(format!("Invalid page_size: {s}"))),
        },
    };
    // the token is the last name of the previous page
    let after = match q.get("page_token").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::invalid("Invalid page_token."))?,
        ),
    };
    let mut names: Vec<String> = std::fs::read_dir(&local)
        .map_err(internal)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !in_progress(n))
        .filter(|n| after.as_deref().is_none_or(|a| n.as_str() > a))
        .collect();
    names.sort();
    let more = names.len() > page;
    names.truncate(page);
    let dir_path = volume_path(&path);
    let contents: Vec<Value> = names
        .iter()
        .filter_map(|n| entry(&dir_path, n, &local.join(n)))
        .collect();
    let mut body = json!({ "contents": contents });
    if let Some(last) = names.last().filter(|_| more) {
        body["next_page_token"] =
            Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last));
    }
    Ok(Json(body).into_response())
}

/// Deletes an empty directory: 404 when missing, 400 `INVALID_PARAMETER_VALUE` (reason
/// `FILES_API_DIRECTORY_IS_NOT_EMPTY`, as the service answers) when it holds anything. The
/// volume's own root is refused (drop the volume instead).
pub async fn delete(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (v, local) = locate(&st, &p, &path, Privilege::Modify)?;
    if !local.is_dir() {
        return Err(no_directory());
    }
    if v.dir(st.engine.root()).ok().as_deref() == Some(local.as_path()) {
        return Err(ApiError::invalid(format!(
            "The root directory of volume '{}' cannot be deleted; use DROP VOLUME.",
            v.full()
        )));
    }
    let empty = std::fs::read_dir(&local)
        .map_err(internal)?
        .next()
        .is_none();
    if !empty {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error_code": "INVALID_PARAMETER_VALUE",
                "message": format!("The directory {} is not empty.", volume_path(&path)),
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "FILES_API_DIRECTORY_IS_NOT_EMPTY",
                    "domain": "filesystem.databricks.com",
                }],
            })),
        )
            .into_response());
    }
    match tokio::fs::remove_dir(&local).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_directory()),
        Err(e) => Err(internal(e)),
    }
}
