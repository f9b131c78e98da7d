//! The component path: the connector `.wasm` in the wasmtime host library (`connector_host`),
//! and the `connector-host` CLI as a whole process.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::measure;
use crate::proto::{Report, Spec, median};

/// Why the component path cannot run in this build, if it cannot.
pub fn unavailable() -> Option<String> {
    #[cfg(feature = "component")]
    {
        let path = imp::wasm_path();
        if !path.exists() {
            return Some(format!("connector .wasm not built ({})", path.display()));
        }
        None
    }
    #[cfg(not(feature = "component"))]
    Some("bench built without the `component` feature".into())
}

/// Path and size of the connector `.wasm` the host library was built with.
pub fn wasm_file() -> Option<(PathBuf, u64)> {
    #[cfg(feature = "component")]
    {
        let p = imp::wasm_path();
        let n = std::fs::metadata(&p).ok()?.len();
        Some((p, n))
    }
    #[cfg(not(feature = "component"))]
    None
}

pub fn run(spec: &Spec) -> Result<Report> {
    #[cfg(feature = "component")]
    {
        imp::run(spec)
    }
    #[cfg(not(feature = "component"))]
    {
        let _ = spec;
        bail!("bench built without the `component` feature")
    }
}

/// The `connector-host` binary next to this one, built on demand (`cargo build -p openmatch-cli`).
pub fn cli_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("exe dir")?;
    let bin = dir.join("connector-host");
    // Missing (a fresh target dir): build it when cargo is at hand (`cargo run`). An existing
    // binary is used as is: `cargo build -p openmatch-cli` refreshes it.
    if !bin.exists()
        && let Some(cargo) = std::env::var_os("CARGO")
    {
        eprintln!("building the connector-host CLI");
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "-q",
            "-p",
            "openmatch-cli",
            "--bin",
            "connector-host",
        ]);
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        cmd.current_dir(crate::workspace_root());
        let st = cmd.status().context("cargo build -p openmatch-cli")?;
        if !st.success() {
            bail!("cargo build -p openmatch-cli failed");
        }
    }
    if !bin.exists() {
        bail!(
            "{} not found (cargo build{} -p openmatch-cli)",
            bin.display(),
            if cfg!(debug_assertions) {
                ""
            } else {
                " --release"
            }
        );
    }
    Ok(bin)
}

/// The CLI loads the same `.wasm` as the library path (its compiled form from the cache).
fn cli_env() -> Vec<(String, String)> {
    wasm_file()
        .map(|(p, _)| {
            vec![(
                "OPENMATCH_CONNECTOR_WASM".to_string(),
                p.display().to_string(),
            )]
        })
        .unwrap_or_default()
}

/// `connector-host` arguments that point it at `base`.
pub fn cli_args(base: &str, token: &str, warehouse_id: &str, external: bool) -> Vec<String> {
    let mut v = vec![
        "--host".into(),
        base.into(),
        "--http-path".into(),
        format!("/sql/1.0/warehouses/{warehouse_id}"),
        "--token".into(),
        token.into(),
        "--json".into(),
    ];
    if external {
        v.push("--external-links".into());
    }
    v
}

/// Whole-process `connector-host ... query <sql> --json` against `base`, stdout consumed through
/// a pipe: median wall ms over `runs` (after one warm-up that also fills the compiled cache)
/// and the peak RSS of the CLI process (KiB).
pub fn cli_query_json(
    base: &str,
    token: &str,
    warehouse_id: &str,
    sql: &str,
    runs: usize,
    external: bool,
) -> Result<(f64, Option<u64>)> {
    if let Some(why) = unavailable() {
        bail!("{why}");
    }
    let bin = cli_binary()?;
    let mut args = cli_args(base, token, warehouse_id, external);
    args.push("query".into());
    args.push(sql.into());
    let measured = measure::after_warm_up(&bin, &args, Some(&cli_env()), runs, |m| {
        measure::printed_rows(m, "connector-host")
    })?;
    let times: Vec<f64> = measured.iter().map(|m| m.wall_ms).collect();
    Ok((median(&times), measured.last().map(|m| m.maxrss_kb)))
}

/// Cold start of the CLI: spawn to the first row of `sql` (median over `runs`, after a warm-up
/// that fills the compiled cache), and the peak RSS (KiB).
pub fn cold_start(
    base: &str,
    token: &str,
    warehouse_id: &str,
    sql: &str,
    runs: usize,
) -> Result<(f64, u64)> {
    if let Some(why) = unavailable() {
        bail!("{why}");
    }
    let bin = cli_binary()?;
    let mut args = cli_args(base, token, warehouse_id, false);
    args.push("query".into());
    args.push(sql.into());
    let measured = measure::after_warm_up(&bin, &args, Some(&cli_env()), runs, |_| Ok(()))?;
    let firsts = measured
        .iter()
        .map(|m| m.first_row_ms.context("no row in the CLI output"))
        .collect::<Result<Vec<f64>>>()?;
    Ok((median(&firsts), measured.last().map_or(0, |m| m.maxrss_kb)))
}

#[cfg(feature = "component")]
mod imp {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Instant;

    use anyhow::{Result, anyhow, bail};
    use connector_host::{
        ConnectConfig, ConnectorHost, Credential, Decimal, Origin, RecordColumns, ResultFormat, Row, TenantPolicy,
        Value,
    };

    use crate::data;
    use crate::proto::{Report, Spec, median, vmhwm_kb};

    pub fn wasm_path() -> PathBuf {
        std::env::var_os("OPENMATCH_CONNECTOR_WASM")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(connector_host::BUNDLED_WASM))
    }

    fn config(spec: &Spec) -> ConnectConfig {
        let mut c = ConnectConfig::new(
            spec.base.clone(),
            format!("/sql/1.0/warehouses/{}", spec.warehouse_id),
            Credential::AccessToken(spec.token.as_str().into()),
        );
        c.external_links = spec.external;
        c.result_format = match spec.result_format.as_str() {
            "arrow" => Some(ResultFormat::Arrow),
            "json" => Some(ResultFormat::Json),
            "auto" => Some(ResultFormat::Auto),
            _ => None,
        };
        if spec.batch_bytes > 0 {
            c.batch_bytes = Some(spec.batch_bytes as u32);
        }
        c
    }

    fn err(e: connector_host::Error) -> anyhow::Error {
        anyhow!("{e}")
    }

    pub fn run(spec: &Spec) -> Result<Report> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        rt.block_on(run_async(spec))
    }

    fn bench_row(i: u64, full: bool) -> Row {
        let (_, name, amount) = data::row_cells(i);
        let mut r = Row::new().with("id", i as i64);
        if full {
            r.push("name", name.map(|n| format!("{n}-v2")));
            r.push(
                "amount",
                Value::Decimal(Decimal {
                    digits: amount,
                    precision: 10,
                    scale: 2,
                }),
            );
        }
        r
    }

    async fn run_async(spec: &Spec) -> Result<Report> {
        let t_load = Instant::now();
        let host = Arc::new(ConnectorHost::load(&wasm_path()).map_err(err)?);
        let load_ms = t_load.elapsed().as_secs_f64() * 1000.0;
        let from_cache = host.load_report().from_cache;
        let cfg = config(spec);
        let mut report = Report::default();
        match spec.op.as_str() {
            "instantiate" => {
                let origin = Origin::of(&cfg).map_err(err)?;
                let (mut inst, mut open) = (Vec::new(), Vec::new());
                for run in 0..=spec.runs {
                    let t0 = Instant::now();
                    let mut tenant = host
                        .tenant(TenantPolicy::for_origin(origin.clone()))
                        .await
                        .map_err(err)?;
                    let t1 = Instant::now();
                    let conn = tenant.connect(&cfg).await.map_err(err)?;
                    let t2 = Instant::now();
                    drop(conn);
                    if run > 0 {
                        report.times_ms.push((t2 - t0).as_secs_f64() * 1000.0);
                        inst.push((t1 - t0).as_secs_f64() * 1000.0);
                        open.push((t2 - t1).as_secs_f64() * 1000.0);
                    }
                    report.guest_peak_bytes = Some(tenant.memory_usage().peak as u64);
                }
                report.extra = serde_json::json!({
                    "instantiate_us_median": (median(&inst) * 1000.0).round(),
                    "open_us_median": (median(&open) * 1000.0).round(),
                    "load_ms": load_ms, "from_cache": from_cache,
                    "note": format!("instantiate {:.0} µs + open (1 GET) {:.0} µs", median(&inst) * 1000.0, median(&open) * 1000.0),
                });
            }
            "tenants" => {
                let mut lat = Vec::new();
                let mut peak = 0u64;
                for run in 0..=spec.runs {
                    let t0 = Instant::now();
                    let mut tasks = Vec::new();
                    for _ in 0..spec.tenants {
                        let host = host.clone();
                        let cfg = cfg.clone();
                        let sql = spec.sql.clone();
                        let q = spec.queries_per_tenant;
                        tasks.push(tokio::spawn(async move {
                            let mut conn = host.connect(&cfg).await.map_err(err)?;
                            let mut lats = Vec::with_capacity(q);
                            let mut rows = 0u64;
                            for _ in 0..q {
                                let t = Instant::now();
                                rows += conn
                                    .conn()
                                    .read_records(&sql, &[])
                                    .await
                                    .map_err(err)?
                                    .len() as u64;
                                lats.push(t.elapsed().as_secs_f64() * 1000.0);
                            }
                            Ok::<_, anyhow::Error>((
                                lats,
                                rows,
                                conn.tenant().memory_usage().peak as u64,
                            ))
                        }));
                    }
                    let mut rows = 0;
                    for task in tasks {
                        let (l, r, p) = task.await??;
                        if run > 0 {
                            lat.extend(l);
                        }
                        rows += r;
                        peak = peak.max(p);
                    }
                    if run > 0 {
                        report.times_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                    report.rows = rows;
                }
                lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let pct = |p: f64| {
                    lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
                        .copied()
                        .unwrap_or(f64::NAN)
                };
                let qps = (spec.tenants * spec.queries_per_tenant) as f64
                    / (median(&report.times_ms) / 1000.0);
                report.guest_peak_bytes = Some(peak);
                report.extra = serde_json::json!({
                    "query_ms_p50": pct(0.5), "query_ms_p99": pct(0.99), "queries_per_s": qps.round(),
                    "note": format!("per query p50 {:.2} ms, p99 {:.2} ms; {:.0} queries/s; guest peak is per tenant", pct(0.5), pct(0.99), qps),
                });
            }
            "read" | "write" | "update" | "delete" => {
                let mut owned = host.connect(&cfg).await.map_err(err)?;
                for run in 0..=spec.runs {
                    let start = spec.start_id + run as u64 * spec.stride;
                    let ids = start..start + spec.count;
                    // inputs are built before the clock starts
                    let rows: Vec<Row> = match spec.op.as_str() {
                        "write" | "update" => ids.clone().map(|i| bench_row(i, true)).collect(),
                        _ => Vec::new(),
                    };
                    let keys: Vec<Value> = ids.clone().map(|i| Value::BigInt(i as i64)).collect();
                    let t0 = Instant::now();
                    let mut conn = owned.conn();
                    match spec.op.as_str() {
                        "read" => {
                            let mut tally = crate::native::Tally::default();
                            let mut stream = conn.query(&spec.sql, &[]).await.map_err(err)?;
                            let max = spec.batch_rows.max(1);
                            if spec.columns {
                                // Typed cells read in place from the column batch: BIGINT as
                                // i64, STRING and DECIMAL as text slices (no per-cell values).
                                loop {
                                    let batch = stream.next_columns(max).await.map_err(err)?;
                                    if batch.rows() == 0 {
                                        break;
                                    }
                                    let ids = batch
                                        .bigint(0)
                                        .ok_or_else(|| anyhow!("column 0 is not BIGINT"))?;
                                    for (row, id) in ids.iter().enumerate() {
                                        tally.rows += 1;
                                        let mut x = id.map_or(0, |i| i as u64);
                                        x = x.wrapping_add(
                                            batch.text(row, 1).map_or(0, |s| s.len() as u64),
                                        );
                                        x = x.wrapping_add(
                                            batch.text(row, 2).map_or(0, |d| data::cents(d) as u64),
                                        );
                                        tally.checksum = tally.checksum.wrapping_add(x);
                                    }
                                }
                            } else {
                                loop {
                                    let batch = stream.next_batch(max).await.map_err(err)?;
                                    if batch.is_empty() {
                                        break;
                                    }
                                    for row in &batch {
                                        tally.rows += 1;
                                        for v in row {
                                            let x = match v {
                                                Value::BigInt(i) => *i as u64,
                                                Value::Text(s) => s.len() as u64,
                                                Value::Decimal(d) => data::cents(&d.digits) as u64,
                                                _ => 0,
                                            };
                                            tally.checksum = tally.checksum.wrapping_add(x);
                                        }
                                    }
                                }
                            }
                            stream.close().await.map_err(err)?;
                            report.rows = tally.rows;
                            report.checksum = Some(tally.checksum);
                        }
                        "write" | "update" if spec.columns => {
                            // Column-major across the WIT; building the columns is timed too.
                            let columns = RecordColumns::from_records(&rows).map_err(err)?;
                            report.rows = if spec.op == "write" {
                                conn.write_columns(&columns, &spec.target).await
                            } else {
                                conn.update_columns(&columns, &spec.target, &["id".to_string()]).await
                            }
                            .map_err(err)?
                        }
                        "write" => {
                            report.rows =
                                conn.write_records(&rows, &spec.target).await.map_err(err)?
                        }
                        "update" => {
                            report.rows = conn
                                .update_records(&rows, &spec.target, &["id".to_string()])
                                .await
                                .map_err(err)?
                        }
                        "delete" => {
                            report.rows = conn
                                .delete_records(&keys, &spec.target, Some("id"))
                                .await
                                .map_err(err)?
                        }
                        _ => unreachable!(),
                    }
                    if run > 0 {
                        report.times_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                report.guest_peak_bytes = Some(owned.tenant().memory_usage().peak as u64);
                report.extra = serde_json::json!({ "load_ms": load_ms, "from_cache": from_cache });
            }
            other => bail!("component client: unsupported op {other}"),
        }
        report.vmhwm_kb = vmhwm_kb();
        Ok(report)
    }
}
