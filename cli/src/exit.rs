//! How a run ends: exit codes per error kind (the table in docs/errors.md), and the quiet end
//! when the reader of stdout went away (`connector-host query … | head`).

use std::io;
use std::process::ExitCode;

use connector_host::{Error, ErrorKind};

use crate::output::{Keep, sanitize};

/// Why a run stopped early.
#[derive(Debug)]
pub enum Failure {
    /// A typed error: printed as `error: <kind>: <message>`, exit code by kind.
    Error(Error),
    /// Stdout was closed by its reader: exit 0 without a word.
    PipeClosed,
}

impl Failure {
    /// An output error: a closed pipe ends quietly, anything else is a `host` error.
    pub fn output(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::PipeClosed
        } else {
            Failure::Error(Error::message(ErrorKind::Host, format!("cannot write output: {e}")))
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Failure {
        Failure::Error(e.into())
    }
}

/// The exit code of an error kind (documented in docs/errors.md).
pub fn code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 2,
        ErrorKind::Authentication => 3,
        ErrorKind::Permission => 4,
        ErrorKind::NotFound => 5,
        ErrorKind::Syntax => 6,
        ErrorKind::Timeout | ErrorKind::CallTimeout => 7,
        ErrorKind::Connection => 8,
        ErrorKind::ResourceExhausted => 9,
        ErrorKind::Canceled => 10,
        ErrorKind::Server => 11,
        ErrorKind::Trap | ErrorKind::MemoryLimit | ErrorKind::CpuLimit | ErrorKind::Unusable => 12,
        ErrorKind::Load => 13,
        ErrorKind::Host => 1,
    }
}

/// Report `failure` on stderr (control characters replaced) and give the exit code.
pub fn report(failure: Failure) -> ExitCode {
    match failure {
        Failure::PipeClosed => ExitCode::SUCCESS,
        Failure::Error(e) => {
            use std::io::Write as _;
            let text = e.to_string();
            let _ = writeln!(io::stderr(), "error: {}", sanitize(&text, Keep::Lines));
            ExitCode::from(code(e.kind()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_documented_code() {
        let table = [
            (ErrorKind::InvalidInput, 2),
            (ErrorKind::Authentication, 3),
            (ErrorKind::Permission, 4),
            (ErrorKind::NotFound, 5),
            (ErrorKind::Syntax, 6),
            (ErrorKind::Timeout, 7),
            (ErrorKind::CallTimeout, 7),
            (ErrorKind::Connection, 8),
            (ErrorKind::ResourceExhausted, 9),
            (ErrorKind::Canceled, 10),
            (ErrorKind::Server, 11),
            (ErrorKind::Trap, 12),
            (ErrorKind::MemoryLimit, 12),
            (ErrorKind::CpuLimit, 12),
            (ErrorKind::Unusable, 12),
            (ErrorKind::Load, 13),
            (ErrorKind::Host, 1),
        ];
        for (kind, expected) in table {
            assert_eq!(code(kind), expected, "{kind}");
        }
        // The documented table lists the same codes.
        let doc = include_str!("../../docs/errors.md");
        for (kind, expected) in table {
            let row = format!("| {expected} | ");
            assert!(doc.lines().any(|l| l.starts_with(&row) && l.contains(&format!("`{kind}`"))), "docs/errors.md: {kind} → {expected}");
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_other_output_errors_are_host_errors() {
        assert!(matches!(Failure::output(io::Error::from(io::ErrorKind::BrokenPipe)), Failure::PipeClosed));
        match Failure::output(io::Error::other("disk full")) {
            Failure::Error(e) => assert_eq!((e.kind(), code(e.kind())), (ErrorKind::Host, 1)),
            Failure::PipeClosed => panic!("not a pipe"),
        }
    }
}
