//! REST errors (non-2xx) in the service's shape: `{"error_code": ..., "message": ...}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A REST-level error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error_code` (a string, or the integer form the auth layer uses).
    pub code: Value,
    /// `message`.
    pub message: String,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a string code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: Value::String(code.into()),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 401 as the service answers a missing or unsupported credential.
    pub fn unauthenticated() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: json!(401),
            message: "Credential was not sent or was of an unsupported type for this API.".into(),
            retry_after: None,
        }
    }

    /// 403 as the service answers an invalid (e.g. expired OAuth) token.
    pub fn invalid_token() -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: json!(403),
            message: "Invalid access token.".into(),
            retry_after: None,
        }
    }

    /// 400 INVALID_PARAMETER_VALUE.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 400 MALFORMED_REQUEST.
    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", message)
    }

    /// 404 RESOURCE_DOES_NOT_EXIST.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
    }

    /// 403 PERMISSION_DENIED.
    pub fn denied(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(json!({"error_code": self.code, "message": self.message})),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}
