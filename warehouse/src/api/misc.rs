//! Warehouses, host metadata, OAuth and the 404 fallback.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{ApiError, AppState};

fn warehouse_json(st: &AppState) -> Value {
    let host = st.base_url.trim_start_matches("http://").to_string();
    let (hostname, port) = host
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.parse::<u16>().unwrap_or(80)))
        .unwrap_or((host.clone(), 80));
    let id = &st.config.warehouse_id;
    json!({
        "id": id,
        "name": st.config.warehouse_name,
        "size": "XXSMALL",
        "cluster_size": "2X-Small",
        "min_num_clusters": 1,
        "max_num_clusters": 1,
        "num_clusters": 1,
        "num_active_sessions": 0,
        "auto_stop_mins": 10,
        "creator_name": "admin",
        "state": "RUNNING",
        "health": {"status": "HEALTHY"},
        "enable_photon": true,
        "enable_serverless_compute": true,
        "warehouse_type": "PRO",
        "spot_instance_policy": "COST_OPTIMIZED",
        "channel": {"name": "CHANNEL_NAME_CURRENT"},
        "tags": {},
        "odbc_params": {"hostname": hostname, "path": format!("/sql/1.0/warehouses/{id}"), "protocol": "http", "port": port},
        "jdbc_url": format!("jdbc:databricks://{hostname}:{port}/default;transportMode=http;ssl=0;AuthMech=3;httpPath=/sql/1.0/warehouses/{id};"),
    })
}

fn check_id(st: &AppState, id: &str) -> Result<(), ApiError> {
    if id == st.config.warehouse_id {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "Warehouse {id} does not exist."
        )))
    }
}

/// `GET /api/2.0/sql/warehouses`.
pub async fn list_warehouses(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"warehouses": [warehouse_json(&st)]}))
}

/// `GET /api/2.0/sql/warehouses/{id}`.
pub async fn get_warehouse(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&st, &id)?;
    Ok(Json(warehouse_json(&st)))
}

/// `POST /api/2.0/sql/warehouses/{id}/start` (the local warehouse is always running).
pub async fn start_warehouse(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&st, &id)?;
    Ok(Json(json!({})))
}

/// `GET /.well-known/databricks-config` (databricks-sdk-py asks on start-up).
pub async fn databricks_config(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"oidc_endpoint": format!("{}/oidc", st.base_url)}))
}

/// `GET /oidc/.well-known/oauth-authorization-server`.
pub async fn oauth_metadata(State(st): State<AppState>) -> Json<Value> {
    let b = &st.base_url;
    Json(json!({
        "issuer": format!("{b}/oidc"),
        "authorization_endpoint": format!("{b}/oidc/v1/authorize"),
        "token_endpoint": format!("{b}/oidc/v1/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["all-apis"],
    }))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /oidc/v1/token`: client credentials (HTTP Basic or form fields).
pub async fn oauth_token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=client_credentials is supported.",
        );
    }
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    let creds = basic.or_else(|| Some((field("client_id")?, field("client_secret")?)));
    let Some((id, secret)) = creds else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    };
    match st.auth.issue(&id, &secret) {
        Some((token, ttl)) => Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl.as_secs(),
            "scope": field("scope").unwrap_or_else(|| "all-apis".into()),
        }))
        .into_response(),
        None => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        ),
    }
}

/// Unknown paths, as the service answers them.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        format!(
            "No API found for '{} {}'",
            method,
            uri.path().trim_start_matches("/api/2.0")
        ),
    )
}
