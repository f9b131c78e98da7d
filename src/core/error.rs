//! The connector's error: a kind (what the caller can do) plus structured details.

use std::fmt;
use std::ops::{Deref, DerefMut};

pub use openmatch_types::error::{ErrorInfo, ErrorKind};

/// An error with its kind and every detail the server gave. It reads as its [`ErrorInfo`]
/// (`e.message`, `e.sql_state`, …) through `Deref`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// What kind of failure this is (only the connector's kinds are raised here).
    pub kind: ErrorKind,
    /// Message, SQLSTATE, error code, statement id and the rest.
    pub info: ErrorInfo,
    /// A request that may write reached the server but its answer was lost (connection broken
    /// after sending, or a gateway 500/502/504): whether it took effect is unknown.
    pub outcome_unknown: bool,
}

impl Deref for Error {
    type Target = ErrorInfo;

    fn deref(&self) -> &ErrorInfo {
        &self.info
    }
}

impl DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.info
    }
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with `message` and no other details.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            info: ErrorInfo::message(message),
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

    /// Remove every occurrence of `secret` from every text field (defence in depth: a server
    /// may echo a credential in `error_code` or `sql_state` as well as in the message).
    pub fn redact(&mut self, secret: &str) {
        let info = &mut self.info;
        let fields = [
            Some(&mut info.message),
            info.sql_state.as_mut(),
            info.error_code.as_mut(),
            info.statement_id.as_mut(),
        ];
        for field in fields.into_iter().flatten() {
            redact_text(field, secret);
        }
    }

    /// The error as it may leave the connector: `secrets` redacted from every field, control
    /// characters (terminal escapes) replaced, the message cut to [`MAX_MESSAGE`] bytes and the
    /// other fields to [`MAX_FIELD`] (a server may echo megabytes).
    pub fn sanitized(mut self, secrets: &[String]) -> Self {
        for s in secrets {
            self.redact(s);
        }
        let info = &mut self.info;
        info.message = printable(&info.message, MAX_MESSAGE, true);
        for field in [
            info.sql_state.as_mut(),
            info.error_code.as_mut(),
            info.statement_id.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            *field = printable(field, MAX_FIELD, false);
        }
        self
    }
}

/// Replace every occurrence of `secret` (at least 4 bytes long) in `text` with `[REDACTED]`.
pub fn redact_text(text: &mut String, secret: &str) {
    if secret.len() >= 4 && text.contains(secret) {
        *text = text.replace(secret, "[REDACTED]");
    }
}

/// Longest message an error carries, bytes.
pub const MAX_MESSAGE: usize = 4096;
/// Longest `sql_state`, `error_code` or `statement_id`, bytes.
pub const MAX_FIELD: usize = 256;

/// `text` with control characters replaced by U+FFFD (newlines and tabs kept when
/// `multiline`), cut at a character boundary to at most `max` bytes plus a note of the cut.
fn printable(text: &str, max: usize, multiline: bool) -> String {
    let keep = |c: char| multiline && (c == '\n' || c == '\t');
    let clean = |c: char| {
        if c.is_control() && !keep(c) {
            '\u{FFFD}'
        } else {
            c
        }
    };
    if text.len() <= max && !text.chars().any(|c| c.is_control() && !keep(c)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(max + 32));
    for c in text.chars() {
        if out.len() + c.len_utf8() > max {
            out.push_str(&format!(" … [{} more bytes cut]", text.len() - out.len()));
            break;
        }
        out.push(clean(c));
    }
    out
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
    fn sanitized_redacts_every_field_strips_escapes_and_cuts() {
        let mut e = Error::server(format!(
            "echo dapiSECRET \u{1b}[31mred\u{7}\n{}",
            "x".repeat(100_000)
        ));
        e.error_code = Some("dapiSECRET".into());
        e.sql_state = Some("\u{1b}]0;title\u{7}".into());
        let e = e.sanitized(&["dapiSECRET".into()]);
        assert_eq!(e.error_code.as_deref(), Some("[REDACTED]"));
        assert!(!e.message.contains("dapiSECRET"));
        assert!(!e.message.contains('\u{1b}') && !e.message.contains('\u{7}'));
        assert!(e.message.contains("\n"), "newlines are kept in messages");
        assert!(e.message.len() < MAX_MESSAGE + 64, "{}", e.message.len());
        assert!(e.message.ends_with("more bytes cut]"));
        assert!(!e.info.sql_state.unwrap().contains('\u{1b}'));
    }

    #[test]
    fn with_statement_keeps_first_id() {
        let e = Error::server("x")
            .with_statement(Some("a"))
            .with_statement(Some("b"));
        assert_eq!(e.statement_id.as_deref(), Some("a"));
    }
}
