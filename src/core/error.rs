//! The connector's error: a kind (what the caller can do) plus structured details.

use std::fmt;

/// Why a call failed; mirrors the cases of the WIT `error` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server could not be reached, the host denied the request, or the connection broke.
    Connection,
    /// The credential is missing, malformed, expired or unknown.
    Authentication,
    /// The principal lacks a privilege.
    Permission,
    /// The SQL text does not parse or resolve.
    Syntax,
    /// An object does not exist.
    NotFound,
    /// Rate limit or quota hit.
    ResourceExhausted,
    /// The call's deadline passed.
    Timeout,
    /// The statement was canceled.
    Canceled,
    /// The caller's input was rejected before anything was sent.
    InvalidInput,
    /// Any other server-side failure, including malformed responses.
    Server,
}

/// An error with its kind and every detail the server gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// Human-readable message (never contains credentials).
    pub message: String,
    /// SQLSTATE, when the server gave one.
    pub sql_state: Option<String>,
    /// Databricks error code or error class.
    pub error_code: Option<String>,
    /// Statement id, when a statement had been accepted.
    pub statement_id: Option<String>,
    /// HTTP status of the failing response.
    pub http_status: Option<u16>,
    /// How long the server asked the client to wait, ms.
    pub retry_after_ms: Option<u64>,
    /// For writes: rows committed before the failure.
    pub committed_rows: Option<u64>,
    /// A request that may write reached the server but its answer was lost (connection broken
    /// after sending, or a gateway 500/502/504): whether it took effect is unknown.
    pub outcome_unknown: bool,
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with `message` and no other details.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            sql_state: None,
            error_code: None,
            statement_id: None,
            http_status: None,
            retry_after_ms: None,
            committed_rows: None,
            outcome_unknown: false,
        }
    }

    /// An `invalid-input` error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// A `server` error (malformed or unexpected server data).
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Server, message)
    }

    /// This error with its statement id set (kept when already set).
    pub fn with_statement(mut self, id: Option<&str>) -> Self {
        if self.statement_id.is_none() {
            self.statement_id = id.map(str::to_owned);
        }
        self
    }

    /// Remove every occurrence of `secret` from the message (defence in depth).
    pub fn redact(&mut self, secret: &str) {
        if secret.len() >= 4 && self.message.contains(secret) {
            self.message = self.message.replace(secret, "[REDACTED]");
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_secret_everywhere() {
        let mut e = Error::server("token dapiSECRET echoed dapiSECRET");
        e.redact("dapiSECRET");
        assert_eq!(e.message, "token [REDACTED] echoed [REDACTED]");
    }

    #[test]
    fn with_statement_keeps_first_id() {
        let e = Error::server("x")
            .with_statement(Some("a"))
            .with_statement(Some("b"));
        assert_eq!(e.statement_id.as_deref(), Some("a"));
    }
}
