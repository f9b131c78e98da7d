//! The HTTP vocabulary of the core and the [`Transport`] trait that performs I/O.

use super::secret::Secret;

/// HTTP method used by the connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// DELETE.
    Delete,
    /// PUT (Files API uploads).
    Put,
}

/// One outgoing request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers other than `Authorization` and `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The full `Authorization` header value, if any (kept secret).
    pub authorization: Option<Secret>,
    /// Request body (empty for GET/DELETE).
    pub body: Vec<u8>,
    /// Longest wait for the response's first byte and between bytes, ms (transport default when absent).
    pub timeout_ms: Option<u64>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            authorization: None,
            body: Vec::new(),
            timeout_ms: None,
        }
    }
}

/// A response: status, headers (names lower-case) and the whole body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Retry-After` in ms, when given as whole seconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(|s| s.saturating_mul(1000))
    }
}

/// A request that produced no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// What went wrong (no secrets).
    pub message: String,
    /// Whether the request may have reached the server (outcome unknown).
    pub maybe_sent: bool,
    /// Whether repeating the request can help (false for a host policy denial or a malformed request).
    pub retryable: bool,
    /// Whether the request's own timeout (what remained of the call's deadline) ran out.
    pub timed_out: bool,
}

/// The I/O the core needs: send a request, read a monotonic clock, sleep, random numbers, log.
pub trait Transport {
    /// Send `req` and return its whole response.
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError>;
    /// Send every request of `reqs` at once (their responses may arrive in any order) and
    /// return each outcome in the order of `reqs`. Defaults to one after another.
    fn send_all(&mut self, reqs: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        reqs.iter().map(|r| self.send(r)).collect()
    }
    /// Milliseconds of a monotonic clock.
    fn now_ms(&self) -> u64;
    /// Block for `ms` milliseconds.
    fn sleep_ms(&mut self, ms: u64);
    /// A random number (for backoff jitter).
    fn random(&mut self) -> u64;
    /// Emit a debug event (never given secrets). Defaults to nothing.
    fn log(&mut self, _message: &str) {}
}
