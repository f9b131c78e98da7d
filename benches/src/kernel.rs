//! databricks-sql-kernel (Databricks' Rust SQL client, through its Python bindings) as a
//! client: `py/kernel_client.py` in the venv of `warehouse/scripts/clients-venv.sh`.
//! Absent venv: the kernel rows say why and are skipped, unless `OPENMATCH_REQUIRE_CLIENTS=1`
//! (then the bench fails).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::proto::{Report, median};
use crate::{PyClient, measure};

/// The client name in the report.
pub const KERNEL: &str = "databricks-sql-kernel";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("py/kernel_client.py")
}

/// The venv interpreter with databricks-sql-kernel: `OPENMATCH_CLIENTS_PYTHON`, else
/// `$HOME/.cache/openmatch/clients-venv/bin/python`. `Err(why)` when it is not usable;
/// `Err` of the outer result when `OPENMATCH_REQUIRE_CLIENTS=1` asks that it be.
pub fn find_python() -> Result<Result<PathBuf, String>> {
    let py = std::env::var_os("OPENMATCH_CLIENTS_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/openmatch/clients-venv/bin/python")
        });
    let ok = Command::new(&py)
        .args(["-c", "import databricks_sql_kernel, pyarrow"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(Ok(py));
    }
    let why = format!(
        "no usable venv at {} (databricks_sql_kernel not importable; make it with `bash warehouse/scripts/clients-venv.sh`)",
        py.display()
    );
    if std::env::var("OPENMATCH_REQUIRE_CLIENTS").is_ok_and(|v| v == "1") {
        bail!("{why}, and OPENMATCH_REQUIRE_CLIENTS=1");
    }
    Ok(Err(why))
}

/// The kernel client's report: the common fields plus its version and import time.
fn read_report(path: &Path) -> Result<Report> {
    Report::from_python_file(
        path,
        |v| serde_json::json!({ "kernel_version": v["kernel_version"], "import_ms": v["import_ms"] }),
    )
}

/// Client time: one process, one session, a warm-up and `runs` timed reads of `sql`.
pub fn run(client: &PyClient, sql: &str, runs: usize) -> Result<Report> {
    let report = std::env::temp_dir().join(format!("bench-kernel-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&report);
    let out = Command::new(client.python)
        .args(client.args(&script(), sql, &report))
        .args(["--runs", &runs.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("running the kernel client")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!("kernel client: {}", measure::stderr_tail(&stderr));
    }
    read_report(&report)
}

/// Whole process (`--emit-json`, stdout through a pipe): median wall ms and peak RSS KiB over
/// `runs` processes after one warm-up process.
pub fn whole(client: &PyClient, sql: &str, runs: usize) -> Result<(f64, u64)> {
    let report = std::env::temp_dir().join(format!("bench-kernelw-{}.json", std::process::id()));
    let mut args = client.args(&script(), sql, &report);
    args.push("--emit-json".into());
    let measured = measure::after_warm_up(client.python, &args, None, runs, |m| {
        measure::printed_rows(m, "the kernel client")
    })?;
    let _ = std::fs::remove_file(&report);
    let walls: Vec<f64> = measured.iter().map(|m| m.wall_ms).collect();
    let rss = measured.iter().map(|m| m.maxrss_kb).max().unwrap_or(0);
    Ok((median(&walls), rss))
}
