//! `cargo run --release -p bench [-- --smoke]`: issue 6's benchmarks, side by side in one run.
//!
//! Three clients do the same work: the connector component in the wasmtime host
//! (`connector_host`), a native Rust client (`native.rs`, a baseline), and databricks-sdk-py
//! (`py/sdk_client.py`, in the venv `$HOME/.cache/openmatch/sdk-venv`). Two servers: the replay
//! server (`replay.rs`, pre-built bytes, judges client cost) and the local warehouse (end to end).
//! Each client runs in a child process of its own (`bench __client <spec>`), so its peak RSS is
//! its own; it times its runs itself (one untimed warm-up first) and the medians are reported.
//! Prints the table and PASS/MISS per target; the full run also rewrites the "Connector"
//! section of BENCHMARKS.md. Nothing here fails the build: a part that cannot run says why.

mod client;
mod component;
mod data;
mod measure;
mod native;
mod proto;
mod replay;
mod report;
mod warehouse_e2e;


#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use proto::{Report, Spec, median};
use report::{Line, Outcome, Results};

/// Workload sizes of one run.
#[derive(Clone, Debug)]
pub struct Sizes {
    pub small: u64,
    pub large: u64,
    pub chunk_rows: u64,
    pub write: u64,
    pub merge_table: u64,
    pub merge: u64,
    pub delete: u64,
    pub tenants: usize,
    pub tenant_queries: usize,
    pub runs_small: usize,
    pub runs_large: usize,
    pub runs_python: usize,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            small: 100_000,
            large: 1_000_000,
            chunk_rows: 100_000,
            write: 100_000,
            merge_table: 1_000_000,
            merge: 100_000,
            delete: 10_000,
            tenants: 64,
            tenant_queries: 20,
            runs_small: 7,
            runs_large: 5,
            runs_python: 3,
        }
    }
    fn smoke() -> Sizes {
        Sizes {
            small: 2_000,
            large: 10_000,
            chunk_rows: 1_000,
            write: 2_000,
            merge_table: 10_000,
            merge: 2_000,
            delete: 500,
            tenants: 4,
            tenant_queries: 3,
            runs_small: 2,
            runs_large: 2,
            runs_python: 1,
        }
    }
}

pub struct Opts {
    pub smoke: bool,
    pub sizes: Sizes,
    pub python: Result<PathBuf, String>,
    pub write_md: Option<PathBuf>,
    pub skip_python: bool,
    pub skip_warehouse: bool,
    pub skip_replay: bool,
    pub command: String,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__client") {
        if let Err(e) = client::main(args.get(2).map(String::as_str).unwrap_or("{}")) {
            eprintln!("client failed: {e:#}");
            std::process::exit(1);
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("__serve") {
        // For profiling by hand: `bench __serve [chunk_rows] [rows...]` serves until killed.
        let chunk_rows = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
        let server = replay::ReplayServer::start(chunk_rows).expect("replay server");
        for rows in args.iter().skip(3).filter_map(|a| a.parse().ok()) {
            server.prepare(rows);
        }
        println!("{}", server.base());
        loop {
            std::thread::park();
        }
    }
    if let Err(e) = run(&args[1..]) {
        eprintln!("bench: {e:#}");
        std::process::exit(1);
    }
}

/// The component client reading column batches (`next-columns`) instead of rows of values.
pub const COMPONENT_COLUMNS: &str = "component, columns";

const USAGE: &str = "usage: bench [--smoke] [--no-python] [--no-warehouse] [--no-replay] [--write-md PATH | --no-md]";

fn run(args: &[String]) -> Result<()> {
    let mut smoke = false;
    let mut write_md: Option<Option<PathBuf>> = None;
    let (mut skip_python, mut skip_warehouse, mut skip_replay) = (false, false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "--no-python" => skip_python = true,
            "--no-warehouse" => skip_warehouse = true,
            "--no-replay" => skip_replay = true,
            "--no-md" => write_md = Some(None),
            "--write-md" => write_md = Some(Some(PathBuf::from(it.next().ok_or_else(|| anyhow!(USAGE))?))),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    // The smoke run (CI) does not touch BENCHMARKS.md unless asked to.
    let write_md = match write_md {
        Some(w) => w,
        None if smoke => None,
        None => Some(workspace_root().join("BENCHMARKS.md")),
    };
    let profile = if cfg!(debug_assertions) { "" } else { " --release" };
    let command = if args.is_empty() { format!("cargo run{profile} -p bench") } else { format!("cargo run{profile} -p bench -- {}", args.join(" ")) };
    let opts = Opts {
        smoke,
        sizes: if smoke { Sizes::smoke() } else { Sizes::full() },
        python: if skip_python { Err("skipped (--no-python)".into()) } else { find_python() },
        write_md,
        skip_python,
        skip_warehouse,
        skip_replay,
        command,
    };
    if cfg!(debug_assertions) && !smoke {
        eprintln!("note: dev profile; numbers are only meaningful with --release");
    }
    let mut results = Results::default();
    results.profile = if cfg!(debug_assertions) { "dev" } else { "release" }.into();
    if let Err(e) = &opts.python {
        results.notes.push(format!("databricks-sdk-py: {e}"));
    }
    results.wasm = component::wasm_file();
    if !opts.skip_replay {
        replay_workloads(&opts, &mut results)?;
    }
    if !opts.skip_warehouse {
        if let Err(e) = warehouse_e2e::run(&opts, &mut results) {
            results.notes.push(format!("local warehouse workloads stopped: {e:#}"));
        }
    }
    let text = report::render(&opts, &results);
    println!("{text}");
    if let Some(path) = &opts.write_md {
        report::write_markdown(path, &text)?;
        println!("wrote the Connector section of {}", path.display());
    }
    Ok(())
}

/// The venv interpreter with databricks-sdk, creating the venv with the warehouse's script
/// (`warehouse/scripts/sdk-venv.sh`, PyPI) when it is missing.
fn find_python() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("OPENMATCH_SDK_PYTHON").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let py = home.join(".cache/openmatch/sdk-venv/bin/python");
    let ok = |py: &PathBuf| {
        Command::new(py)
            .args(["-c", "import databricks.sdk, requests"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ok(&py) {
        return Ok(py);
    }
    let script = workspace_root().join("warehouse/scripts/sdk-venv.sh");
    if script.exists() {
        eprintln!("creating the databricks-sdk venv with {}", script.display());
        let _ = Command::new("bash").arg(&script).stdout(Stdio::null()).status();
    } else {
        eprintln!("creating the databricks-sdk venv at {}", py.display());
        let venv = home.join(".cache/openmatch/sdk-venv");
        let _ = Command::new("python3").arg("-m").arg("venv").arg(&venv).status();
        let _ = Command::new(&py).args(["-m", "pip", "install", "--quiet", "databricks-sdk>=0.50"]).status();
    }
    if ok(&py) { Ok(py) } else { Err(format!("no usable venv at {} (databricks-sdk not importable)", py.display())) }
}

/// Runs one client child and returns its report and the child's whole-process wall time.
pub fn run_child(spec: &Spec) -> Result<(Report, f64)> {
    let exe = std::env::current_exe()?;
    let t0 = Instant::now();
    let out = Command::new(exe)
        .arg("__client")
        .arg(serde_json::to_string(spec)?)
        .stdin(Stdio::null())
        .output()
        .context("spawning a client child")?;
    let whole = t0.elapsed().as_secs_f64() * 1000.0;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("{} client, op {}: {}", spec.client, spec.op, tail.join(" | "));
    }
    let last = stdout.lines().last().unwrap_or_default();
    Ok((serde_json::from_str(last).with_context(|| format!("client report {last:?}"))?, whole))
}

/// Python client arguments common to every op.
pub struct PyRun {
    pub host: String,
    pub token: String,
    pub warehouse_id: String,
    pub args: Vec<String>,
    pub runs: usize,
    /// Send the rows as JSON to stdout (discarded) instead of converting them.
    pub emit_json: bool,
}

/// Runs the databricks-sdk-py client; returns its report and the process wall time.
pub fn run_python(py: &PathBuf, run: &PyRun) -> Result<(Report, f64)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("py/sdk_client.py");
    let report_path = std::env::temp_dir().join(format!("bench-py-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&report_path);
    let mut cmd = Command::new(py);
    cmd.arg(&script)
        .args(["--host", &run.host, "--token", &run.token, "--warehouse-id", &run.warehouse_id])
        .args(["--runs", &run.runs.to_string()])
        .args(&run.args)
        .arg("--report")
        .arg(&report_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if run.emit_json {
        cmd.arg("--emit-json");
    }
    let t0 = Instant::now();
    let out = cmd.output().context("running python")?;
    let whole = t0.elapsed().as_secs_f64() * 1000.0;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("python client: {}", tail.join(" | "));
    }
    let text = std::fs::read_to_string(&report_path)?;
    let _ = std::fs::remove_file(&report_path);
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let report = Report {
        times_ms: serde_json::from_value(v["times_ms"].clone())?,
        rows: v["rows"].as_u64().unwrap_or(0),
        checksum: v["checksum"].as_u64(),
        statements: v["statements"].as_u64().unwrap_or(0),
        vmhwm_kb: v["vmhwm_kb"].as_u64().unwrap_or(0),
        guest_peak_bytes: None,
        extra: v,
    };
    Ok((report, whole))
}

/// Whole-process python (`--emit-json`, stdout through a pipe): median wall ms, peak RSS KiB
/// and median time to the first row, over `runs` (after one warm-up).
pub fn python_whole(py: &PathBuf, base: &str, token: &str, warehouse_id: &str, sql: &str, runs: usize) -> Result<(f64, u64, f64)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("py/sdk_client.py");
    let report_path = std::env::temp_dir().join(format!("bench-pyw-{}.json", std::process::id()));
    let args: Vec<String> = vec![
        script.display().to_string(),
        "--host".into(), base.into(), "--token".into(), token.into(), "--warehouse-id".into(), warehouse_id.into(),
        "--sql".into(), sql.into(), "--emit-json".into(), "--report".into(), report_path.display().to_string(),
    ];
    let (mut walls, mut firsts, mut rss) = (Vec::new(), Vec::new(), 0);
    for run in 0..=runs {
        let m = measure::spawn_measured(py, &args, None)?;
        if run > 0 {
            walls.push(m.wall_ms);
            firsts.push(m.first_row_ms.unwrap_or(f64::NAN));
            rss = m.maxrss_kb;
        }
    }
    let _ = std::fs::remove_file(&report_path);
    Ok((median(&walls), rss, median(&firsts)))
}

/// Times a `curl` download of `urls` (one process, one connection): the floor of a read.
fn curl_floor(urls: &[String], runs: usize) -> Result<f64> {
    let mut times = Vec::new();
    for _ in 0..=runs {
        let mut cmd = Command::new("curl");
        cmd.arg("-sS").arg("--fail");
        for u in urls {
            cmd.arg("-o").arg("/dev/null").arg(u);
        }
        let t0 = Instant::now();
        let st = cmd.stdout(Stdio::null()).status().context("curl")?;
        if !st.success() {
            bail!("curl failed: {st}");
        }
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(&times[1..]))
}

fn replay_workloads(opts: &Opts, results: &mut Results) -> Result<()> {
    let s = &opts.sizes;
    eprintln!("replay: building response bytes ({} and {} rows, {} rows per chunk)", s.small, s.large, s.chunk_rows);
    let server = replay::ReplayServer::start(s.chunk_rows)?;
    let base = server.base().to_string();
    for rows in [s.small, s.large, 10] {
        server.prepare(rows);
    }
    let spec0 = Spec {
        base: base.clone(),
        token: data::TOKEN.into(),
        warehouse_id: data::WAREHOUSE_ID.into(),
        batch_bytes: 900_000,
        batch_rows: 10_000,
        ..Spec::default()
    };
    let reads = [
        (format!("read {} (JSON_ARRAY)", fmt_rows(s.small)), s.small, false, s.runs_small),
        (format!("read {} (JSON_ARRAY)", fmt_rows(s.large)), s.large, false, s.runs_large),
        (format!("read {} (EXTERNAL_LINKS)", fmt_rows(s.large)), s.large, true, s.runs_large),
    ];
    for (name, rows, external, runs) in reads {
        eprintln!("replay: {name}");
        let d = server.prepare(rows);
        let expect = data::expected_checksum(rows);
        // floor: the same row bytes, downloaded raw by curl
        let urls: Vec<String> = (0..d.ext_bodies.len()).map(|c| format!("{base}/external/{rows}/{c}")).collect();
        match curl_floor(&urls, runs) {
            Ok(ms) => results.push(Line::ok("replay", &name, "floor (curl raw bytes)", ms, rows, d.array_bytes)),
            Err(e) => results.push(Line::na("replay", &name, "floor (curl raw bytes)", format!("{e:#}"))),
        }
        let spec = Spec { sql: data::select_sql(rows), external, runs, op: "read".into(), ..spec0.clone() };
        for client in ["component", COMPONENT_COLUMNS, "native"] {
            if client != "native"
                && let Some(why) = component::unavailable()
            {
                results.push(Line::na("replay", &name, client, why));
                continue;
            }
            let before = server.counts();
            let columns = client == COMPONENT_COLUMNS;
            let child = if columns { "component" } else { client };
            let r = run_child(&Spec { client: child.into(), columns, ..spec.clone() });
            let counts = server.counts().since(&before);
            results.push(match r {
                Ok((rep, _whole)) => Line::from_report("replay", &name, client, &rep, Some(counts), runs + 1, Some(expect)),
                Err(e) => Line::na("replay", &name, client, format!("{e:#}")),
            });
        }
        match &opts.python {
            Ok(py) => {
                let before = server.counts();
                let run = PyRun {
                    host: base.clone(),
                    token: data::TOKEN.into(),
                    warehouse_id: data::WAREHOUSE_ID.into(),
                    args: vec![
                        "--sql".into(),
                        data::select_sql(rows),
                        "--disposition".into(),
                        if external { "EXTERNAL_LINKS" } else { "INLINE" }.into(),
                    ],
                    runs: s.runs_python,
                    emit_json: false,
                };
                let r = run_python(py, &run);
                let counts = server.counts().since(&before);
                results.push(match r {
                    Ok((rep, _)) => Line::from_report("replay", &name, "databricks-sdk-py", &rep, Some(counts), s.runs_python, Some(expect)),
                    Err(e) => Line::na("replay", &name, "databricks-sdk-py", format!("{e:#}")),
                });
            }
            Err(e) => results.push(Line::na("replay", &name, "databricks-sdk-py", e.clone())),
        }
    }

    // Whole process: 1M rows to JSON on stdout, `connector-host query --json` vs python.
    let name = format!("whole process: {} rows → JSON", fmt_rows(s.large));
    eprintln!("replay: {name}");
    match component::cli_query_json(&base, data::TOKEN, data::WAREHOUSE_ID, &data::select_sql(s.large), s.runs_python) {
        Ok((ms, rss)) => {
            let mut l = Line::ok("replay", &name, "connector-host CLI", ms, s.large, 0);
            if let Outcome::Ok { rss_kb, .. } = &mut l.outcome {
                *rss_kb = rss;
            }
            results.push(l)
        }
        Err(e) => results.push(Line::na("replay", &name, "connector-host CLI", format!("{e:#}"))),
    }
    match &opts.python {
        Ok(py) => match python_whole(py, &base, data::TOKEN, data::WAREHOUSE_ID, &data::select_sql(s.large), s.runs_python) {
            Ok((ms, rss, _)) => {
                let mut l = Line::ok("replay", &name, "databricks-sdk-py", ms, s.large, 0);
                if let Outcome::Ok { rss_kb, .. } = &mut l.outcome {
                    *rss_kb = Some(rss);
                }
                results.push(l);
            }
            Err(e) => results.push(Line::na("replay", &name, "databricks-sdk-py", format!("{e:#}"))),
        },
        Err(e) => results.push(Line::na("replay", &name, "databricks-sdk-py", e.clone())),
    }

    // Cold start: process start to the first row of a small query.
    let name = "cold start: process start → first row".to_string();
    eprintln!("replay: {name}");
    match component::cold_start(&base, data::TOKEN, data::WAREHOUSE_ID, &data::select_sql(10), s.runs_small) {
        Ok((ms, rss)) => {
            let mut l = Line::ok("replay", &name, "connector-host CLI", ms, 0, 0);
            if let Outcome::Ok { rss_kb, note, .. } = &mut l.outcome {
                *rss_kb = Some(rss);
                *note = "compiled component from the on-disk cache".into();
            }
            results.push(l);
        }
        Err(e) => results.push(Line::na("replay", &name, "connector-host CLI", format!("{e:#}"))),
    }
    match &opts.python {
        Ok(py) => match python_whole(py, &base, data::TOKEN, data::WAREHOUSE_ID, &data::select_sql(10), s.runs_python.max(3)) {
            Ok((_, rss, first)) => {
                let mut l = Line::ok("replay", &name, "databricks-sdk-py", first, 0, 0);
                if let Outcome::Ok { rss_kb, .. } = &mut l.outcome {
                    *rss_kb = Some(rss);
                }
                results.push(l);
            }
            Err(e) => results.push(Line::na("replay", &name, "databricks-sdk-py", format!("{e:#}"))),
        },
        Err(e) => results.push(Line::na("replay", &name, "databricks-sdk-py", e.clone())),
    }

    // Writes against the replay server: client cost and statements counted at the server.
    let dml = [
        (format!("write {}", fmt_rows(s.write)), "write", s.write),
        (format!("MERGE {}", fmt_rows(s.merge)), "update", s.merge),
        (format!("delete {} ids", fmt_rows(s.delete)), "delete", s.delete),
    ];
    for (name, op, count) in dml {
        eprintln!("replay: {name}");
        let spec = Spec {
            op: op.into(),
            target: "bench.replay.target".into(),
            start_id: 0,
            count,
            stride: 0,
            runs: s.runs_small.min(5),
            ..spec0.clone()
        };
        for client in ["component", "native"] {
            if client == "component"
                && let Some(why) = component::unavailable()
            {
                results.push(Line::na("replay", &name, client, why));
                continue;
            }
            let before = server.counts();
            let r = run_child(&Spec { client: client.into(), ..spec.clone() });
            let counts = server.counts().since(&before);
            results.push(match r {
                Ok((rep, _)) => Line::from_report("replay", &name, client, &rep, Some(counts), spec.runs + 1, None),
                Err(e) => Line::na("replay", &name, client, format!("{e:#}")),
            });
        }
        match &opts.python {
            Ok(py) => {
                let before = server.counts();
                let run = PyRun {
                    host: base.clone(),
                    token: data::TOKEN.into(),
                    warehouse_id: data::WAREHOUSE_ID.into(),
                    args: vec![
                        "--op".into(),
                        op.into(),
                        "--target".into(),
                        native::quote(&spec.target),
                        "--count".into(),
                        count.to_string(),
                    ],
                    runs: s.runs_python,
                    emit_json: false,
                };
                let r = run_python(py, &run);
                let counts = server.counts().since(&before);
                results.push(match r {
                    Ok((rep, _)) => Line::from_report("replay", &name, "databricks-sdk-py", &rep, Some(counts), s.runs_python, None),
                    Err(e) => Line::na("replay", &name, "databricks-sdk-py", format!("{e:#}")),
                });
            }
            Err(e) => results.push(Line::na("replay", &name, "databricks-sdk-py", e.clone())),
        }
    }

    // Component-only: instantiate + connect, and 64 tenants in one host.
    eprintln!("replay: instantiate + connect, concurrent tenants");
    let name = "instantiate + connect".to_string();
    match component::unavailable() {
        Some(why) => results.push(Line::na("replay", &name, "component", why)),
        None => match run_child(&Spec { client: "component".into(), op: "instantiate".into(), runs: 50, ..spec0.clone() }) {
            Ok((rep, _)) => results.push(Line::from_report("replay", &name, "component", &rep, None, 51, None)),
            Err(e) => results.push(Line::na("replay", &name, "component", format!("{e:#}"))),
        },
    }
    let name = format!("{} tenants × {} small queries", s.tenants, s.tenant_queries);
    match component::unavailable() {
        Some(why) => results.push(Line::na("replay", &name, "component", why)),
        None => {
            let spec = Spec {
                client: "component".into(),
                op: "tenants".into(),
                sql: data::select_sql(10),
                tenants: s.tenants,
                queries_per_tenant: s.tenant_queries,
                runs: 3,
                ..spec0.clone()
            };
            let before = server.counts();
            let r = run_child(&spec);
            let counts = server.counts().since(&before);
            match r {
                Ok((rep, _)) => results.push(Line::from_report("replay", &name, "component", &rep, Some(counts), 4, None)),
                Err(e) => results.push(Line::na("replay", &name, "component", format!("{e:#}"))),
            }
        }
    }
    Ok(())
}

pub fn fmt_rows(n: u64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}
