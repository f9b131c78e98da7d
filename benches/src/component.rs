//! The component path: the connector `.wasm` in the wasmtime host library (`connector_host`).

use anyhow::{Result, bail};

use crate::proto::{Report, Spec};

/// Why the component path cannot run in this build, if it cannot.
pub fn unavailable() -> Option<String> {
    if cfg!(feature = "component") {
        None
    } else {
        Some("bench built without the `component` feature".into())
    }
}

/// Path and size of the connector `.wasm` the host library was built with.
pub fn wasm_file() -> Option<(std::path::PathBuf, u64)> {
    None
}

pub fn run(spec: &Spec) -> Result<Report> {
    let _ = spec;
    bail!("the component path is not wired yet (host library API pending)")
}

/// Whole-process `connector-host query ... --json` of `sql` against `base`, stdout discarded:
/// median wall ms over `runs` and the peak RSS of the last run (KiB), if known.
pub fn cli_query_json(base: &str, token: &str, warehouse_id: &str, sql: &str, runs: usize) -> Result<(f64, Option<u64>)> {
    let _ = (base, token, warehouse_id, sql, runs);
    bail!("the connector-host CLI path is not wired yet")
}
