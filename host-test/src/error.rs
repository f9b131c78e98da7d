//! The host-side error: a kind of the shared vocabulary (the WIT `error-kind`s plus what the
//! sandbox adds: trap, memory limit, CPU limit, per-call timeout, an instance left unusable)
//! and its details.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub use openmatch_types::error::{ErrorInfo, ErrorKind};

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
