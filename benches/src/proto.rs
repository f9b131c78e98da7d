//! What the orchestrator asks a client child process to do, and what the child reports.
//! Every client runs in a process of its own so its peak RSS is its own.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Spec {
    /// `native` or `component`.
    pub client: String,
    /// `read`, `raw`, `write`, `update`, `delete`, `instantiate`, `tenants`.
    pub op: String,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub token: String,
    pub warehouse_id: String,
    #[serde(default)]
    pub sql: String,
    #[serde(default)]
    pub external: bool,
    /// Timed runs (one untimed warm-up run comes first).
    pub runs: usize,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub start_id: u64,
    #[serde(default)]
    pub count: u64,
    /// Id offset between runs (so deletes and inserts do not repeat the same ids).
    #[serde(default)]
    pub stride: u64,
    #[serde(default)]
    pub batch_bytes: usize,
    /// For `raw`: chunk paths to download after the POST.
    #[serde(default)]
    pub raw_paths: Vec<String>,
    /// For `tenants`: how many tenants, and queries per tenant.
    #[serde(default)]
    pub tenants: usize,
    #[serde(default)]
    pub queries_per_tenant: usize,
    /// Rows per `next-batch` call (component reads).
    #[serde(default)]
    pub batch_rows: u32,
    /// Component reads: take column batches (`next-columns`) instead of rows of values.
    #[serde(default)]
    pub columns: bool,
    /// Component reads: the guest's `result-format` (`arrow`, `json`, `auto`; empty = default).
    #[serde(default)]
    pub result_format: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// Client time of each timed run, ms.
    pub times_ms: Vec<f64>,
    /// Rows delivered (reads) or counted by the server (writes), last run.
    pub rows: u64,
    /// Check value over typed values (reads).
    #[serde(default)]
    pub checksum: Option<u64>,
    /// Statements the client issued in the last run (writes).
    #[serde(default)]
    pub statements: u64,
    /// Peak RSS of the client process (VmHWM), KiB.
    pub vmhwm_kb: u64,
    /// Peak guest linear memory, bytes (component only).
    #[serde(default)]
    pub guest_peak_bytes: Option<u64>,
    /// Anything else worth printing (instantiate times, latencies, ...).
    #[serde(default)]
    pub extra: serde_json::Value,
}

impl Report {
    /// The report a Python client wrote to `path` (read, then removed); `extra` keeps what of
    /// the whole report this one carries besides the common fields.
    pub fn from_python_file(
        path: &std::path::Path,
        extra: impl FnOnce(serde_json::Value) -> serde_json::Value,
    ) -> anyhow::Result<Report> {
        use anyhow::Context as _;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("client report {}", path.display()))?;
        let _ = std::fs::remove_file(path);
        let v: serde_json::Value = serde_json::from_str(&text)?;
        Ok(Report {
            times_ms: serde_json::from_value(v["times_ms"].clone())?,
            rows: v["rows"].as_u64().unwrap_or(0),
            checksum: v["checksum"].as_u64(),
            statements: v["statements"].as_u64().unwrap_or(0),
            vmhwm_kb: v["vmhwm_kb"].as_u64().unwrap_or(0),
            guest_peak_bytes: None,
            extra: extra(v),
        })
    }
}

/// Peak resident set of this process, KiB (`VmHWM` in /proc/self/status).
pub fn vmhwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
