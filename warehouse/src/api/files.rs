//! Files API on volumes: `PUT/GET/HEAD/DELETE /api/2.0/fs/files/Volumes/<c>/<s>/<v>/<path>`
//! (directories: [`super::dirs`]). The volume must exist (`CREATE VOLUME`); parent
//! directories of an uploaded file are created.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::{Principal, Privilege};
use crate::volumes::{VolumeRef, resolve};

/// Resolves a Files API path and checks that its volume exists and that the caller holds
/// `privilege` on it (a grant on its catalog, schema or the volume itself).
pub(super) fn locate(
    st: &AppState,
    p: &Arc<Principal>,
    path: &str,
    privilege: Privilege,
) -> Result<(VolumeRef, PathBuf), ApiError> {
    let full = format!("/{}", path.trim_start_matches('/'));
    let (v, local) =
        resolve(st.engine.root(), &full).map_err(|e| ApiError::invalid(e.to_string()))?;
    // the names were checked by `resolve`; the resolved path must still stay inside the data
    // directory (no symlink out of it) before anything is read, written or removed
    crate::names::contained(st.engine.root(), &local)
        .map_err(|e| ApiError::invalid(format!("Invalid path {full}: {e}")))?;
    if !st.engine.root().join(&v.catalog).join(&v.schema).is_dir() || !v.exists(st.engine.root()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Volume '{}' does not exist.", v.full()),
        ));
    }
    if !p.allows(privilege, &v.catalog, &v.schema, Some(&v.volume)) {
        let what = if privilege == Privilege::Select {
            "READ VOLUME"
        } else {
            "WRITE VOLUME"
        };
        return Err(ApiError::denied(format!(
            "User does not have {what} on Volume '{}'.",
            v.full()
        )));
    }
    Ok((v, local))
}

pub(super) fn missing() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The file being accessed is not found.",
    )
}

/// `Last-Modified` (RFC 7231) of a file's metadata.
pub(super) fn http_date(meta: &std::fs::Metadata) -> Option<String> {
    let t: chrono::DateTime<chrono::Utc> = meta.modified().ok()?.into();
    Some(t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

pub(super) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        e.to_string(),
    )
}

fn file_response(meta: &std::fs::Metadata, body: Body) -> Response {
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, meta.len());
    if let Some(d) = http_date(meta) {
        b = b.header(header::LAST_MODIFIED, d);
    }
    b.body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Uploads a file (`overwrite` absent or `true` replaces an existing file, as in the
/// reference; `false` answers 409 `ALREADY_EXISTS`). The bytes go to a hidden
/// `.upload-<id>` first and are renamed into place, so a reader (or `COPY INTO`) never
/// sees half a file.
pub async fn put_file(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Modify)?;
    let overwrite = q
        .get("overwrite")
        .map(|v| !v.eq_ignore_ascii_case("false"))
        .unwrap_or(true);
    if local.is_dir() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            "A directory exists at the path of the file being created.",
        ));
    }
    if local.exists() && !overwrite {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            "The file being created already exists.",
        ));
    }
    let (Some(parent), Some(_)) = (local.parent(), local.file_name()) else {
        return Err(ApiError::invalid(
            "The path of the file is not a file path.",
        ));
    };
    if tokio::fs::create_dir_all(parent).await.is_err() {
        // a file where a parent directory should be
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            "A file exists at a parent path of the file being created.",
        ));
    }
    // the name is the id alone: `<prefix><id>-<name>` could pass the file system's name limit
    let tmp = parent.join(format!(
        "{}{}",
        crate::volumes::UPLOAD_PREFIX,
        uuid::Uuid::new_v4().simple()
    ));
    if let Err(e) = tokio::fs::write(&tmp, &body).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(internal(e));
    }
    if let Err(e) = tokio::fs::rename(&tmp, &local).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(internal(e));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Downloads a file.
pub async fn get_file(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Select)?;
    if !local.is_file() {
        return Err(missing());
    }
    let meta = tokio::fs::metadata(&local).await.map_err(|_| missing())?;
    let data = tokio::fs::read(&local).await.map_err(|_| missing())?;
    Ok(file_response(&meta, Body::from(data)))
}

/// File metadata: `Content-Length`, `Last-Modified`, no body; 404 for a directory.
pub async fn head_file(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Select)?;
    let meta = tokio::fs::metadata(&local).await.map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(missing());
    }
    Ok(file_response(&meta, Body::empty()))
}

/// Deletes a file (404 `NOT_FOUND` when there is none).
pub async fn delete_file(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Modify)?;
    if !local.is_file() {
        return Err(missing());
    }
    tokio::fs::remove_file(&local)
        .await
        .map_err(|_| missing())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
