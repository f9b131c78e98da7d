//! Bearer tokens -> principals (personal access tokens from config, OAuth tokens issued by
//! `/oidc/v1/token`). Tokens are never logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::{Config, OAuthClient, Principal};

/// Credentials known to the server.
#[derive(Debug)]
pub struct Auth {
    pats: HashMap<String, Arc<Principal>>,
    by_name: HashMap<String, Arc<Principal>>,
    clients: Vec<OAuthClient>,
    issued: Mutex<HashMap<String, (Arc<Principal>, Instant)>>,
    ttl: Duration,
}

/// Result of a token lookup.
pub enum Lookup {
    /// Known and valid.
    Ok(Arc<Principal>),
    /// Issued by us but expired.
    Expired,
    /// Unknown.
    Unknown,
}

impl Auth {
    /// From the configuration.
    pub fn new(config: &Config) -> Auth {
        let mut pats = HashMap::new();
        let mut by_name = HashMap::new();
        for p in &config.principals {
            let p = Arc::new(p.clone());
            for t in &p.tokens {
                pats.insert(t.clone(), p.clone());
            }
            by_name.insert(p.name.clone(), p);
        }
        Auth {
            pats,
            by_name,
            clients: config.oauth_clients.clone(),
            issued: Mutex::new(HashMap::new()),
            ttl: config.oauth_token_ttl,
        }
    }

    /// Resolves a bearer token.
    pub fn lookup(&self, token: &str) -> Lookup {
        if let Some(p) = self.pats.get(token) {
            return Lookup::Ok(p.clone());
        }
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        match issued.get(token) {
            Some((p, exp)) if *exp > Instant::now() => Lookup::Ok(p.clone()),
            Some(_) => Lookup::Expired,
            None => Lookup::Unknown,
        }
    }

    /// Client-credentials grant: a new token for the client's principal, or None.
    pub fn issue(&self, client_id: &str, secret: &str) -> Option<(String, Duration)> {
        let c = self
            .clients
            .iter()
            .find(|c| c.client_id == client_id && c.client_secret == secret)?;
        let p = self.by_name.get(&c.principal)?.clone();
        let token = format!(
            "eyJ{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        issued.retain(|_, (_, exp)| *exp > now);
        issued.insert(token.clone(), (p, now + self.ttl));
        Some((token, self.ttl))
    }
}

fn needs_auth(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Middleware: `Authorization: Bearer <token>` on `/api/...`; the principal goes into the
/// request extensions.
pub async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    if !needs_auth(req.uri().path()) {
        return next.run(req).await;
    }
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or("");
    if token.is_empty() {
        return ApiError::unauthenticated().into_response();
    }
    match st.auth.lookup(token) {
        Lookup::Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Lookup::Expired => ApiError::invalid_token().into_response(),
        Lookup::Unknown => ApiError::unauthenticated().into_response(),
    }
}
