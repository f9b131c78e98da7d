//! Fault injection (off unless rules are configured): 429 with Retry-After, 503, dropped
//! connections and delays per endpoint; expired external links are applied where links are made.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::config::{Endpoint, FaultKind, FaultRule};

/// Rules plus their hit counters and a seeded random generator.
#[derive(Debug)]
pub struct Faults {
    rules: Vec<(FaultRule, AtomicU64)>,
    rng: Mutex<u64>,
}

impl Faults {
    /// From configured rules.
    pub fn new(rules: &[FaultRule], seed: u64) -> Faults {
        Faults {
            rules: rules
                .iter()
                .map(|r| (r.clone(), AtomicU64::new(0)))
                .collect(),
            rng: Mutex::new(seed | 1),
        }
    }

    fn roll(&self) -> f64 {
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        (*s >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The first rule that fires for `ep` among those accepted by `filter`.
    pub fn pick(&self, ep: Endpoint, filter: impl Fn(&FaultKind) -> bool) -> Option<FaultKind> {
        for (rule, hits) in &self.rules {
            if !(rule.endpoint == Endpoint::Any || rule.endpoint == ep) || !filter(&rule.kind) {
                continue;
            }
            if rule.rate < 1.0 && self.roll() >= rule.rate {
                continue;
            }
            let n = hits.fetch_add(1, Ordering::SeqCst);
            let Some(n) = n.checked_sub(rule.skip) else {
                continue;
            };
            if rule.times.is_some_and(|t| n >= t) {
                continue;
            }
            return Some(rule.kind.clone());
        }
        None
    }

    /// Whether links issued now should be already expired.
    pub fn expire_links(&self) -> bool {
        self.pick(Endpoint::ExternalLink, |k| {
            matches!(k, FaultKind::ExpiredLinks)
        })
        .is_some()
    }
}

/// Which endpoint a request targets.
pub fn classify(method: &Method, path: &str) -> Endpoint {
    let p = path.trim_end_matches('/');
    if p.starts_with("/api/2.0/sql/statements") {
        if p == "/api/2.0/sql/statements" {
            Endpoint::ExecuteStatement
        } else if p.contains("/result/chunks/") {
            Endpoint::GetChunk
        } else if p.ends_with("/cancel") || method == Method::DELETE {
            Endpoint::CancelStatement
        } else {
            Endpoint::GetStatement
        }
    } else if p.starts_with("/api/2.0/sql/warehouses") {
        Endpoint::Warehouses
    } else if p.starts_with("/api/2.0/fs/") {
        Endpoint::Files
    } else if p.starts_with("/oidc") {
        Endpoint::Oidc
    } else if p.starts_with("/ext/") {
        Endpoint::ExternalLink
    } else {
        Endpoint::Any
    }
}

/// Middleware applying the rules.
pub async fn inject(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let ep = classify(req.method(), req.uri().path());
    let kind = st
        .faults
        .pick(ep, |k| !matches!(k, FaultKind::ExpiredLinks));
    match kind {
        None => next.run(req).await,
        Some(FaultKind::Delay { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(req).await
        }
        Some(FaultKind::TooManyRequests { retry_after_secs }) => {
            tracing::debug!(endpoint = ?ep, "fault: 429");
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "REQUEST_LIMIT_EXCEEDED",
                "The request rate limit has been exceeded. Please try again later.",
            );
            e.retry_after = Some(retry_after_secs);
            e.into_response()
        }
        Some(FaultKind::Unavailable) => {
            tracing::debug!(endpoint = ?ep, "fault: 503");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "TEMPORARILY_UNAVAILABLE",
                "The service is temporarily unavailable. Please try again later.",
            )
            .into_response()
        }
        Some(FaultKind::DropConnection) => {
            tracing::debug!(endpoint = ?ep, "fault: dropped connection");
            let stream = futures::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
                    "injected fault: connection dropped",
                ))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header("content-length", "1024")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Some(FaultKind::ExpiredLinks) => next.run(req).await,
    }
}
