//! Files API on volumes: `PUT/GET/HEAD/DELETE /api/2.0/fs/files/Volumes/<c>/<s>/<v>/<path>`.

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

fn locate(
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
    if !st.engine.root().join(&v.catalog).join(&v.schema).is_dir() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Volume '{}' does not exist.", v.full()),
        ));
    }
    if !p.allows(privilege, &v.catalog, &v.schema, None) {
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

fn missing() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The file being accessed is not found.",
    )
}

/// Uploads a file.
pub async fn put_file(
    State(st): State<AppState>,
    Extension(p): Extension<Arc<Principal>>,
    Path(path): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_v, local) = locate(&st, &p, &path, Privilege::Modify)?;
    let overwrite = q.get("overwrite").map(|v| v == "true").unwrap_or(false);
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
    if let Some(parent) = local.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                e.to_string(),
            )
        })?;
    }
    let tmp = local.with_extension(format!("upload-{}", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&tmp, &body).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            e.to_string(),
        )
    })?;
    tokio::fs::rename(&tmp, &local).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            e.to_string(),
        )
    })?;
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
    let data = tokio::fs::read(&local).await.map_err(|_| missing())?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, data.len())
        .body(Body::from(data))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

/// File metadata.
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
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, meta.len())
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

/// Deletes a file.
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
