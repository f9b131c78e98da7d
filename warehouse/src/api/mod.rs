//! HTTP surface: axum routes, Databricks-shaped JSON, one [`ApiError`] for REST errors,
//! authentication and fault injection as middleware.

mod auth;
mod dirs;
mod error;
mod faults;
mod files;
mod misc;
mod result_json;
mod sessions;
mod statements;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, post};

pub use auth::Auth;
pub use error::ApiError;
pub use faults::Faults;

use crate::config::Config;
use crate::engine::Engine;
use crate::registry::Registry;
use crate::sessions::Sessions;

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// SQL engine.
    pub engine: Arc<Engine>,
    /// Statements.
    pub registry: Arc<Registry>,
    /// Sessions.
    pub sessions: Arc<Sessions>,
    /// Tokens and OAuth.
    pub auth: Arc<Auth>,
    /// Fault injection.
    pub faults: Arc<Faults>,
    /// `http://ip:port` of this server (for external links).
    pub base_url: Arc<str>,
}

/// Access log at debug level: method, path (link tokens redacted), status, duration.
/// Credentials are never logged.
async fn access_log(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let path = if path.starts_with("/ext/results/") {
        "/ext/results/<redacted>".to_string()
    } else {
        path
    };
    let t0 = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::debug!(%method, %path, status = resp.status().as_u16(), duration_ms = t0.elapsed().as_millis() as u64, "request");
    resp
}

fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    router
        .route(path, handler.clone())
        .route(&format!("{path}/"), handler)
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    // The API's own routes, each answered with and without a trailing slash.
    #[rustfmt::skip]
    let api: [(&str, MethodRouter<AppState>); 13] = [
        ("/api/2.0/sql/sessions", post(sessions::create)),
        ("/api/2.0/sql/sessions/{id}", delete(sessions::delete)),
        ("/api/2.0/sql/statements", post(statements::execute)),
        ("/api/2.0/sql/statements/{id}", get(statements::get_statement).delete(statements::close)),
        ("/api/2.0/sql/statements/{id}/cancel", post(statements::cancel)),
        ("/api/2.0/sql/statements/{id}/result/chunks/{n}", get(statements::get_chunk)),
        ("/api/2.0/sql/warehouses", get(misc::list_warehouses)),
        ("/api/2.0/sql/warehouses/{id}", get(misc::get_warehouse)),
        ("/api/2.0/sql/warehouses/{id}/start", post(misc::start_warehouse)),
        ("/api/2.0/sql/warehouses/{id}/stop", post(misc::start_warehouse)),
        ("/.well-known/databricks-config", get(misc::databricks_config)),
        ("/oidc/.well-known/oauth-authorization-server", get(misc::oauth_metadata)),
        ("/oidc/v1/token", post(misc::oauth_token)),
    ];
    let mut r = Router::new();
    for (path, handler) in api {
        r = both(r, path, handler);
    }
    r = r.route(
        "/api/2.0/fs/files/{*path}",
        get(files::get_file)
            .head(files::head_file)
            .put(files::put_file)
            .delete(files::delete_file),
    );
    r = r.route(
        "/api/2.0/fs/directories/{*path}",
        get(dirs::list)
            .head(dirs::head)
            .put(dirs::create)
            .delete(dirs::delete),
    );
    r = r.route("/ext/results/{token}", get(statements::external_download));
    r.fallback(misc::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .layer(axum::middleware::from_fn(access_log))
        .layer(DefaultBodyLimit::max(512 * 1024 * 1024))
        .with_state(state)
}
