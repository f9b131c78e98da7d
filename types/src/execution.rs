//! What a statement reports back: its timing and counts, and a Delta table's history entries.

use serde::Serialize;

/// Timing and counts of one executed statement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Execution {
    /// The server's statement id.
    pub statement_id: String,
    /// Submission to last byte, ms.
    pub elapsed_ms: u64,
    /// Rows affected (the server's `num_affected_rows`, 0 when absent).
    pub rows_affected: u64,
    /// Rows in the result set.
    pub row_count: u64,
    /// Requests retried.
    pub retries: u32,
}

/// One entry of a Delta table's history (`DESCRIBE HISTORY`), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Table version.
    pub version: i64,
    /// Commit time, µs since the epoch (UTC).
    pub timestamp: i64,
    /// Operation, e.g. `WRITE`, `MERGE`, `OPTIMIZE`.
    pub operation: String,
    /// Operation parameters (JSON object text).
    pub operation_parameters: String,
    /// Operation metrics (JSON object text).
    pub operation_metrics: String,
    /// Committing principal.
    pub user_name: Option<String>,
}

impl HistoryEntry {
    /// The metrics parsed as JSON (`Null` if they do not parse).
    pub fn metrics(&self) -> serde_json::Value {
        serde_json::from_str(&self.operation_metrics).unwrap_or(serde_json::Value::Null)
    }

    /// The parameters parsed as JSON (`Null` if they do not parse).
    pub fn parameters(&self) -> serde_json::Value {
        serde_json::from_str(&self.operation_parameters).unwrap_or(serde_json::Value::Null)
    }
}
