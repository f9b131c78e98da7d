//! A connected session: config, transport and credential, and request sending with retries.

use serde::Deserialize;

use super::config::{self, Config, Credential};
use super::error::{Error, ErrorKind, Result, redact_text};
use super::http::{HttpRequest, HttpResponse, Method, Transport};
use super::request;
use super::response::http_error;
use super::retry::{Retry, delay_ms};
use super::secret::Secret;

/// Requests retried while serving one call.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Retried requests.
    pub retries: u32,
}

/// The `User-Agent` of API requests (lets workspace admins attribute traffic to the connector).
const USER_AGENT: &str = concat!("openmatch-databricks/", env!("CARGO_PKG_VERSION"));

/// Per-request timeout: what is left of the call's deadline (at least 1 ms). The statement's
/// `wait_timeout` is chosen to fit in the same time (`request::wait_timeout`), so the server
/// answers before a request is cut off.
fn request_timeout_ms(now: u64, deadline: u64) -> u64 {
    deadline.saturating_sub(now).max(1)
}

/// The path of `url`, without scheme, host or query (a presigned link's query is a credential).
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// A cached OAuth access token.
#[derive(Debug)]
struct Token {
    bearer: Secret,
    refresh_at_ms: u64,
}

/// The OAuth token endpoint's answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A validated config bound to a transport; every request of a connection goes through it.
pub struct Session<T: Transport> {
    /// The validated config.
    pub config: Config,
    /// The I/O.
    pub transport: T,
    /// The server refused an ARROW_STREAM request (`result-format: auto` then asks for
    /// JSON_ARRAY for the rest of the connection).
    pub arrow_refused: bool,
    token: Option<Token>,
}

impl<T: Transport> Session<T> {
    /// A session for `config` over `transport` (no request is sent).
    pub fn new(config: Config, transport: T) -> Self {
        Session {
            config,
            transport,
            arrow_refused: false,
            token: None,
        }
    }

    /// A deadline `timeout-ms` from now.
    pub fn deadline(&self) -> u64 {
        self.transport
            .now_ms()
            .saturating_add(self.config.timeout_ms)
    }

    /// Log `message` when debug logging is on.
    pub fn debug(&mut self, message: impl FnOnce() -> String) {
        if self.config.debug_log {
            // Log lines may quote a server's message, which may echo a credential.
            let mut line = message();
            for secret in self.secrets() {
                redact_text(&mut line, &secret);
            }
            self.transport.log(&line);
        }
    }

    /// Check the warehouse is reachable and the credential accepted.
    pub fn check_warehouse(&mut self) -> Result<()> {
        let path = format!("/api/2.0/sql/warehouses/{}", self.config.warehouse_id);
        let deadline = self.deadline();
        self.api(
            Method::Get,
            &path,
            None,
            Retry::Idempotent,
            deadline,
            &mut Stats::default(),
        )?;
        Ok(())
    }

    /// Send an authenticated API request to `path` (a path on the workspace, starting with `/`)
    /// with retries per `retry`; a non-2xx final answer becomes the classified error.
    pub fn api(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Vec<u8>>,
        retry: Retry,
        deadline: u64,
        stats: &mut Stats,
    ) -> Result<HttpResponse> {
        let body = json.map(|b| (b, "application/json"));
        self.api_with(method, path, body, retry, deadline, stats)
    }

    /// Like [`Session::api`], with a body of any content type (e.g. a Files API upload).
    pub fn api_with(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
        retry: Retry,
        deadline: u64,
        stats: &mut Stats,
    ) -> Result<HttpResponse> {
        let url = format!("{}{}", self.config.base_url, path);
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = HttpRequest::new(method, url.clone());
            req.headers.push(("user-agent".into(), USER_AGENT.into()));
            if let Some((bytes, content_type)) = &body {
                req.headers
                    .push(("content-type".into(), (*content_type).into()));
                req.body = bytes.clone();
            }
            req.authorization = Some(self.bearer(deadline, stats)?);
            let resp = self.send_once(&req, retry, attempt, deadline, stats)?;
            match resp {
                Some(r)
                    if self.is_oauth()
                        && !refreshed
                        && http_error(&r).kind == ErrorKind::Authentication =>
                {
                    // A rotated or revoked token: fetch a new one once.
                    refreshed = true;
                    self.token = None;
                    stats.retries += 1;
                }
                Some(r) if (200..300).contains(&r.status) => return Ok(r),
                Some(r) => {
                    let mut e = http_error(&r);
                    // A gateway error on a submission: the statement may or may not have run.
                    e.outcome_unknown =
                        retry == Retry::Submit && matches!(r.status, 500 | 502 | 504);
                    return Err(e);
                }
                None => {}
            }
        }
    }

    /// An authenticated GET of `path` on the workspace (for [`Session::first_attempts`]).
    pub fn api_get(&mut self, path: &str, deadline: u64, stats: &mut Stats) -> Result<HttpRequest> {
        let mut req = HttpRequest::new(Method::Get, format!("{}{}", self.config.base_url, path));
        req.headers.push(("user-agent".into(), USER_AGENT.into()));
        req.authorization = Some(self.bearer(deadline, stats)?);
        Ok(req)
    }

    /// The first attempts of several idempotent GETs, in flight together
    /// ([`Transport::send_all`]). Each answer in order: the response, whatever its status, or
    /// `None` when the request got none. Anything but a 2xx sends the caller down the request's
    /// one-at-a-time path, with its retries, link refreshes and typed errors.
    pub fn first_attempts(
        &mut self,
        mut reqs: Vec<HttpRequest>,
        deadline: u64,
    ) -> Vec<Option<HttpResponse>> {
        let now = self.transport.now_ms();
        if now >= deadline {
            return vec![None; reqs.len()];
        }
        for r in &mut reqs {
            r.timeout_ms = Some(request_timeout_ms(now, deadline));
        }
        let n = reqs.len();
        let answers = self.transport.send_all(&reqs);
        let ok: Vec<Option<HttpResponse>> = answers.into_iter().map(|a| a.ok()).collect();
        let failed = ok
            .iter()
            .filter(|a| !a.as_ref().is_some_and(|r| (200..300).contains(&r.status)))
            .count();
        self.debug(|| format!("downloaded {n} pieces at once ({failed} to retry one by one)"));
        ok
    }

    /// Send `req` (no Authorization added) with retries; e.g. presigned external links.
    pub fn plain(
        &mut self,
        req: &HttpRequest,
        retry: Retry,
        deadline: u64,
        stats: &mut Stats,
    ) -> Result<HttpResponse> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(r) = self.send_once(req, retry, attempt, deadline, stats)? {
                return if (200..300).contains(&r.status) {
                    Ok(r)
                } else {
                    Err(http_error(&r))
                };
            }
        }
    }

    /// One attempt: `Ok(Some(resp))` when it is final (success or non-retryable status),
    /// `Ok(None)` after sleeping for a retry, `Err` for a final failure.
    fn send_once(
        &mut self,
        req: &HttpRequest,
        retry: Retry,
        attempt: u32,
        deadline: u64,
        stats: &mut Stats,
    ) -> Result<Option<HttpResponse>> {
        let last = attempt >= self.config.max_attempts;
        let mut req = req.clone();
        let now = self.transport.now_ms();
        if now >= deadline {
            return Err(self.deadline_passed(&req, false));
        }
        req.timeout_ms = Some(request_timeout_ms(now, deadline));
        let (error, retry_after) = match self.transport.send(&req) {
            Ok(r) if retry.status(r.status) && !last => {
                let ra = r.retry_after_ms();
                (http_error(&r), ra)
            }
            Ok(r) => return Ok(Some(r)),
            Err(te) if te.timed_out || self.transport.now_ms() >= deadline => {
                return Err(self.deadline_passed(&req, te.maybe_sent && retry == Retry::Submit));
            }
            Err(te) => {
                let unknown = te.maybe_sent && retry == Retry::Submit;
                let message = if unknown {
                    format!(
                        "connection failed after the statement was sent; its outcome is unknown: {}",
                        te.message
                    )
                } else {
                    format!("connection failed: {}", te.message)
                };
                let mut e = Error::new(ErrorKind::Connection, message);
                e.outcome_unknown = unknown;
                if last || !te.retryable || !retry.connection(te.maybe_sent) {
                    return Err(e);
                }
                (e, None)
            }
        };
        let delay = delay_ms(attempt, retry_after, self.transport.random());
        let now = self.transport.now_ms();
        if now.saturating_add(delay) >= deadline {
            return Err(error);
        }
        self.debug(|| format!("retry {attempt} after {delay} ms: {}", error.message));
        self.transport.sleep_ms(delay);
        stats.retries += 1;
        Ok(None)
    }

    /// The `timeout` error of a call whose deadline passed before `req` was answered (a stalled
    /// connection included). `unknown`: a statement may have been created (its id never came).
    fn deadline_passed(&self, req: &HttpRequest, unknown: bool) -> Error {
        let what = if unknown {
            "; the statement may have been created, its outcome is unknown"
        } else {
            ""
        };
        let message = format!(
            "the call's deadline ({} ms) passed waiting for {} {}{what}",
            self.config.timeout_ms,
            match req.method {
                Method::Get => "GET",
                Method::Post => "POST",
                Method::Delete => "DELETE",
                Method::Put => "PUT",
            },
            url_path(&req.url)
        );
        let mut e = Error::new(ErrorKind::Timeout, message);
        e.outcome_unknown = unknown;
        e
    }

    fn is_oauth(&self) -> bool {
        matches!(self.config.credential, Credential::OAuthM2m { .. })
    }

    /// The `Authorization` value: the access token, or a cached OAuth token refreshed before expiry.
    fn bearer(&mut self, deadline: u64, stats: &mut Stats) -> Result<Secret> {
        let (client_id, client_secret, scope) = match &self.config.credential {
            Credential::AccessToken(t) => return Ok(Secret::new(format!("Bearer {}", t.expose()))),
            Credential::OAuthM2m {
                client_id,
                client_secret,
                scope,
            } => (
                client_id.clone(),
                client_secret.clone(),
                scope
                    .clone()
                    .unwrap_or_else(|| config::DEFAULT_OAUTH_SCOPE.into()),
            ),
        };
        let now = self.transport.now_ms();
        if let Some(t) = &self.token
            && now < t.refresh_at_ms
        {
            return Ok(t.bearer.clone());
        }
        let mut req = HttpRequest::new(
            Method::Post,
            format!("{}/oidc/v1/token", self.config.base_url),
        );
        req.headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        req.body = request::token_form(&scope);
        req.authorization = Some(request::basic_auth(&client_id, &client_secret));
        let mut attempt = 0;
        let resp = loop {
            attempt += 1;
            if let Some(r) = self.send_once(&req, Retry::Idempotent, attempt, deadline, stats)? {
                break r;
            }
        };
        let parsed: Option<TokenResponse> = serde_json::from_slice(&resp.body).ok();
        if !(200..300).contains(&resp.status) {
            let mut e = http_error(&resp);
            if matches!(resp.status, 400 | 401 | 403) {
                e.kind = ErrorKind::Authentication;
                if let Some(p) = parsed {
                    let what = [p.error, p.error_description]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ");
                    if !what.is_empty() {
                        e.message =
                            format!("OAuth token request failed (HTTP {}): {what}", resp.status);
                    }
                }
            }
            return Err(e);
        }
        let parsed = parsed.ok_or_else(|| Error::server("malformed OAuth token response"))?;
        let token = parsed
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::server("OAuth token response has no access_token"))?;
        let lifetime_ms = parsed.expires_in.unwrap_or(3600).saturating_mul(1000);
        let margin = (lifetime_ms / 2).min(60_000);
        let bearer = Secret::new(format!("Bearer {token}"));
        self.token = Some(Token {
            bearer: bearer.clone(),
            refresh_at_ms: now.saturating_add(lifetime_ms - margin),
        });
        self.debug(|| format!("fetched an OAuth token valid for {} s", lifetime_ms / 1000));
        Ok(bearer)
    }

    /// The secret strings of the credential, for redaction of messages.
    pub fn secrets(&self) -> Vec<String> {
        let mut s = match &self.config.credential {
            Credential::AccessToken(t) => vec![t.expose().to_owned()],
            // The secret as sent: inside `Basic base64(id:secret)` it shows in no plain form.
            Credential::OAuthM2m {
                client_id,
                client_secret,
                ..
            } => {
                let basic = request::basic_auth(client_id, client_secret);
                vec![
                    client_secret.expose().to_owned(),
                    basic.expose().trim_start_matches("Basic ").to_owned(),
                ]
            }
        };
        if let Some(t) = &self.token {
            s.push(t.bearer.expose().trim_start_matches("Bearer ").to_owned());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_is_what_remains_of_the_deadline() {
        assert_eq!(request_timeout_ms(1_000, 901_000), 900_000);
        assert_eq!(request_timeout_ms(1_000, 2_000), 1_000);
        assert_eq!(request_timeout_ms(5_000, 1_000), 1);
    }
}
