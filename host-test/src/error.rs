//! The host-side error: every kind of the WIT `error` variant, plus what the sandbox adds
//! (trap, memory limit, CPU limit, per-call timeout, an instance left unusable).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// What went wrong, as one stable, machine-readable kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The server could not be reached, the host denied the request (not on the allow-list),
    /// or the connection broke.
    Connection,
    /// The credential is missing, malformed, expired or unknown.
    Authentication,
    /// The principal lacks a privilege (SQLSTATE 42501).
    Permission,
    /// The SQL text does not parse or resolve.
    Syntax,
    /// A table, column, schema, catalog, warehouse or statement does not exist.
    NotFound,
    /// Rate limit or quota hit; see [`ErrorInfo::retry_after_ms`].
    ResourceExhausted,
    /// The connector's own deadline passed; the statement was canceled on the server.
    Timeout,
    /// The statement was canceled.
    Canceled,
    /// The input was rejected before anything was sent (also: bad host-side input such as a
    /// malformed records file).
    InvalidInput,
    /// Any other server-side failure, including malformed responses.
    Server,
    /// The guest trapped (a bug in the component, or a hostile guest).
    Trap,
    /// The guest tried to grow its memory past the tenant's limit.
    MemoryLimit,
    /// The guest used up the call's CPU time budget.
    CpuLimit,
    /// The host's per-call wall-clock timeout fired.
    CallTimeout,
    /// The tenant's instance is unusable after an earlier trap, limit or timeout; open a new
    /// tenant.
    Unusable,
    /// The component could not be loaded (missing file, compile or link error).
    Load,
    /// Any other host-side failure.
    Host,
}

impl ErrorKind {

    /// Whether this kind comes from the connector itself (the WIT `error` variant) rather
    /// than from the host's sandbox.
    pub fn is_connector(self) -> bool {
        !matches!(
            self,
            ErrorKind::Trap
                | ErrorKind::MemoryLimit
                | ErrorKind::CpuLimit
                | ErrorKind::CallTimeout
                | ErrorKind::Unusable
                | ErrorKind::Load
                | ErrorKind::Host
        )
    }

    /// The kebab-case name (`not-found`, `memory-limit`, …), as printed by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connection => "connection",
            ErrorKind::Authentication => "authentication",
            ErrorKind::Permission => "permission",
            ErrorKind::Syntax => "syntax",
            ErrorKind::NotFound => "not-found",
            ErrorKind::ResourceExhausted => "resource-exhausted",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Canceled => "canceled",
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::Server => "server",
            ErrorKind::Trap => "trap",
            ErrorKind::MemoryLimit => "memory-limit",
            ErrorKind::CpuLimit => "cpu-limit",
            ErrorKind::CallTimeout => "call-timeout",
            ErrorKind::Unusable => "unusable",
            ErrorKind::Load => "load",
            ErrorKind::Host => "host",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Details of an error (the WIT `error-info` record; host errors fill only `message`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorInfo {
    /// Human-readable message (never contains credentials).
    pub message: String,
    /// SQLSTATE, when the server gave one.
    pub sql_state: Option<String>,
    /// Databricks error code or class, e.g. `TABLE_OR_VIEW_NOT_FOUND`.
    pub error_code: Option<String>,
    /// Statement id, when a statement had been accepted.
    pub statement_id: Option<String>,
    /// HTTP status of the failing response.
    pub http_status: Option<u16>,
    /// How long the server asked to wait before retrying, ms.
    pub retry_after_ms: Option<u64>,
    /// For writes: rows committed before the failure.
    pub committed_rows: Option<u64>,
}

/// An error from the connector (guest) or from the host's sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    kind: ErrorKind,
    info: Box<ErrorInfo>,
}

impl Error {
    /// An error of `kind` with details `info`.
    pub fn new(kind: ErrorKind, info: ErrorInfo) -> Error {
        Error { kind, info: Box::new(info) }
    }

    /// An error of `kind` with only a message.
    pub fn message(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, ErrorInfo { message: message.into(), ..ErrorInfo::default() })
    }

    /// A host-side `invalid-input` error.
    pub fn invalid_input(message: impl Into<String>) -> Error {
        Error::message(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn call_timeout(after: Duration) -> Error {
        Error::message(
            ErrorKind::CallTimeout,
            format!("the call did not finish within the host's limit of {after:?}; the instance was stopped"),
        )
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The details.
    pub fn info(&self) -> &ErrorInfo {
        &self.info
    }

    /// The message.
    pub fn text(&self) -> &str {
        &self.info.message
    }

    /// The SQLSTATE, if any.
    pub fn sql_state(&self) -> Option<&str> {
        self.info.sql_state.as_deref()
    }

    /// The Databricks error code or class, if any.
    pub fn error_code(&self) -> Option<&str> {
        self.info.error_code.as_deref()
    }

    /// Whether the tenant's instance can no longer be used after this error.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Trap | ErrorKind::MemoryLimit | ErrorKind::CpuLimit | ErrorKind::CallTimeout | ErrorKind::Unusable
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.info.message)?;
        let mut extra = Vec::new();
        if let Some(s) = &self.info.sql_state
            && !self.info.message.contains(s.as_str())
        {
            extra.push(format!("SQLSTATE {s}"));
        }
        if let Some(c) = &self.info.error_code
            && !self.info.message.contains(c.as_str())
        {
            extra.push(c.clone());
        }
        if let Some(h) = self.info.http_status {
            extra.push(format!("HTTP {h}"));
        }
        if let Some(ms) = self.info.retry_after_ms {
            extra.push(format!("retry after {ms} ms"));
        }
        if let Some(n) = self.info.committed_rows {
            extra.push(format!("{n} rows committed"));
        }
        if let Some(id) = &self.info.statement_id {
            extra.push(format!("statement {id}"));
        }
        if !extra.is_empty() {
            write!(f, " ({})", extra.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
