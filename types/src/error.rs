//! Error kinds and the details of a failed call: one vocabulary for the guest (which raises the
//! connector's kinds) and the host (which adds the sandbox's).

use std::fmt;

use serde::Serialize;

/// What went wrong, as one stable, machine-readable kind. The first ten are the cases of the
/// WIT `error-kind` (raised by the connector); the rest are raised only by a host's sandbox.
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
    /// Whether this kind comes from the connector itself (the WIT `error-kind`) rather than
    /// from the host's sandbox.
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

    /// The kebab-case name (`not-found`, `memory-limit`, …), as the WIT and the CLI spell it.
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

/// Details of a failed call (the WIT `error` record without its kind; host errors fill only
/// `message`).
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

impl ErrorInfo {
    /// Details with only a message.
    pub fn message(message: impl Into<String>) -> ErrorInfo {
        ErrorInfo {
            message: message.into(),
            ..ErrorInfo::default()
        }
    }
}
