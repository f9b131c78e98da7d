//! `cargo run --release -p bench [-- --smoke]`: issue 6's and issue 15's benchmarks, side by
//! side in one run.
//!
//! The clients do the same work: the connector component in the wasmtime host
//! (`connector_host`, JSON_ARRAY and ARROW_STREAM), a native Rust client (`native.rs`, a
//! baseline), databricks-sdk-py (`py/sdk_client.py`, in the venv
//! `$HOME/.cache/openmatch/sdk-venv`) and databricks-sql-kernel (`py/kernel_client.py`, in the
//! venv of `warehouse/scripts/clients-venv.sh`). Servers: the replay server (`replay.rs`,
//! pre-built bytes, judges client cost) on loopback and with a WAN profile (`wan.rs`), and the
//! local warehouse (end to end).
//! Each client runs in a child process of its own (`bench __client <spec>`), so its peak RSS is
//! its own; it times its runs itself (one untimed warm-up first) and the medians are reported.
//! Prints the table and PASS/MISS per target; the full run also rewrites the "Connector"
//! section of BENCHMARKS.md. Nothing here fails the build: a part that cannot run says why.

mod arrow_data;
mod client;
mod component;
mod data;
mod kernel;
mod measure;
mod native;
mod proto;
mod reads;
mod replay;
mod replay_runs;
mod report;
mod report15;
mod wan;
mod warehouse_e2e;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use proto::{Report, Spec, median};
use report::Results;

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
    /// Timed runs of each client under the WAN profile.
    pub runs_wan: usize,
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
            runs_wan: 3,
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
            runs_wan: 1,
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
    /// The WAN profile the replay reads run under too (`None`: loopback only).
    pub wan: Option<wan::Wan>,
    /// The databricks-sql-kernel interpreter, or why there is none.
    pub kernel_python: Result<PathBuf, String>,
    pub command: String,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
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
        // `BENCH_WAN=30ms,25MBps` serves under that profile.
        let wan = std::env::var("BENCH_WAN")
            .ok()
            .map(|w| wan::Wan::parse(&w).expect("BENCH_WAN"));
        let server = replay::ReplayServer::start(chunk_rows, wan).expect("replay server");
        for rows in args.iter().skip(3).filter_map(|a| a.parse().ok()) {
            server.prepare(rows);
            server.prepare_arrow(rows, true).expect("arrow chunks");
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

const USAGE: &str = "usage: bench [--smoke] [--no-python] [--no-kernel] [--no-warehouse] [--no-replay] \
[--wan LATENCY,BANDWIDTH (default 30ms,25MBps) | --no-wan] [--write-md PATH | --no-md]";

/// The WAN profile of the smoke run: light, so CI stays fast.
const SMOKE_WAN: wan::Wan = wan::Wan {
    latency: std::time::Duration::from_millis(2),
    bytes_per_s: 100e6,
};

fn run(args: &[String]) -> Result<()> {
    let mut smoke = false;
    let mut write_md: Option<Option<PathBuf>> = None;
    let (mut skip_python, mut skip_warehouse, mut skip_replay) = (false, false, false);
    let mut skip_kernel = false;
    let mut wan_arg: Option<Option<wan::Wan>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--smoke" => smoke = true,
            "--no-python" => skip_python = true,
            "--no-warehouse" => skip_warehouse = true,
            "--no-replay" => skip_replay = true,
            "--no-kernel" => skip_kernel = true,
            "--no-wan" => wan_arg = Some(None),
            "--wan" => {
                wan_arg = Some(Some(wan::Wan::parse(
                    it.next().ok_or_else(|| anyhow!(USAGE))?,
                )?))
            }
            "--no-md" => write_md = Some(None),
            "--write-md" => {
                write_md = Some(Some(PathBuf::from(
                    it.next().ok_or_else(|| anyhow!(USAGE))?,
                )))
            }
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
    let profile = if cfg!(debug_assertions) {
        ""
    } else {
        " --release"
    };
    let command = if args.is_empty() {
        format!("cargo run{profile} -p bench")
    } else {
        format!("cargo run{profile} -p bench -- {}", args.join(" "))
    };
    let opts = Opts {
        smoke,
        sizes: if smoke { Sizes::smoke() } else { Sizes::full() },
        python: if skip_python {
            Err("skipped (--no-python)".into())
        } else {
            find_python()
        },
        write_md,
        skip_python,
        skip_warehouse,
        skip_replay,
        wan: wan_arg.unwrap_or(Some(if smoke { SMOKE_WAN } else { wan::Wan::DEFAULT })),
        kernel_python: if skip_python || skip_kernel {
            Err("skipped (--no-python / --no-kernel)".into())
        } else {
            kernel::find_python()?
        },
        command,
    };
    if cfg!(debug_assertions) && !smoke {
        eprintln!("note: dev profile; numbers are only meaningful with --release");
    }
    let mut results = Results::default();
    results.profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    }
    .into();
    if let Err(e) = &opts.python {
        results.notes.push(format!("databricks-sdk-py: {e}"));
    }
    results.wasm = component::wasm_file();
    if let Err(e) = &opts.kernel_python {
        results.notes.push(format!("{}: {e}", kernel::KERNEL));
    }
    results.wan = opts.wan;
    results.load_start = report::loadavg();
    if !opts.skip_replay {
        replay_runs::replay_workloads(&opts, &mut results, &opts.kernel_python)?;
        if let Some(w) = opts.wan {
            reads::wan_workloads(&opts, &mut results, &opts.kernel_python, w)?;
        }
    }
    if !opts.skip_warehouse {
        if let Err(e) = warehouse_e2e::run(&opts, &mut results) {
            results
                .notes
                .push(format!("local warehouse workloads stopped: {e:#}"));
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
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
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
        let _ = Command::new("bash")
            .arg(&script)
            .stdout(Stdio::null())
            .status();
    } else {
        eprintln!("creating the databricks-sdk venv at {}", py.display());
        let venv = home.join(".cache/openmatch/sdk-venv");
        let _ = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status();
        let _ = Command::new(&py)
            .args(["-m", "pip", "install", "--quiet", "databricks-sdk>=0.50"])
            .status();
    }
    if ok(&py) {
        Ok(py)
    } else {
        Err(format!(
            "no usable venv at {} (databricks-sdk not importable)",
            py.display()
        ))
    }
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
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        bail!(
            "{} client, op {}: {}",
            spec.client,
            spec.op,
            tail.join(" | ")
        );
    }
    let last = stdout.lines().last().unwrap_or_default();
    Ok((
        serde_json::from_str(last).with_context(|| format!("client report {last:?}"))?,
        whole,
    ))
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
        .args([
            "--host",
            &run.host,
            "--token",
            &run.token,
            "--warehouse-id",
            &run.warehouse_id,
        ])
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
        bail!("python client: {}", measure::stderr_tail(&stderr));
    }
    let report = Report::from_python_file(&report_path, |v| v)?;
    Ok((report, whole))
}

/// Whole-process python (`--emit-json`, stdout through a pipe): median wall ms, peak RSS KiB
/// and median time to the first row, over `runs` (after one warm-up).
pub fn python_whole(client: &PyClient, sql: &str, runs: usize) -> Result<(f64, u64, f64)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("py/sdk_client.py");
    let report_path = std::env::temp_dir().join(format!("bench-pyw-{}.json", std::process::id()));
    let mut args = client.args(&script, sql, &report_path);
    args.push("--emit-json".into());
    let measured = measure::after_warm_up(client.python, &args, None, runs, |_| Ok(()))?;
    let _ = std::fs::remove_file(&report_path);
    let walls: Vec<f64> = measured.iter().map(|m| m.wall_ms).collect();
    let firsts: Vec<f64> = measured
        .iter()
        .map(|m| m.first_row_ms.unwrap_or(f64::NAN))
        .collect();
    let rss = measured.last().map_or(0, |m| m.maxrss_kb);
    Ok((median(&walls), rss, median(&firsts)))
}

/// A Python client (`py/sdk_client.py`, `py/kernel_client.py`) run by an interpreter against
/// a warehouse.
pub struct PyClient<'a> {
    /// The interpreter (of a venv with the client's packages).
    pub python: &'a std::path::Path,
    base: &'a str,
    token: &'a str,
    warehouse_id: &'a str,
}

impl<'a> PyClient<'a> {
    /// `python` reading from the warehouse `warehouse_id` at `base` with `token`.
    pub fn new(
        python: &'a std::path::Path,
        base: &'a str,
        token: &'a str,
        warehouse_id: &'a str,
    ) -> Self {
        PyClient {
            python,
            base,
            token,
            warehouse_id,
        }
    }

    /// The arguments both scripts take to read `sql` and write their report to `report`.
    pub fn args(
        &self,
        script: &std::path::Path,
        sql: &str,
        report: &std::path::Path,
    ) -> Vec<String> {
        vec![
            script.display().to_string(),
            "--host".into(),
            self.base.into(),
            "--token".into(),
            self.token.into(),
            "--warehouse-id".into(),
            self.warehouse_id.into(),
            "--sql".into(),
            sql.into(),
            "--report".into(),
            report.display().to_string(),
        ]
    }
}

/// Times a `curl` download of `urls` (one process, one connection): the floor of a read.
pub fn curl_floor(urls: &[String], runs: usize) -> Result<f64> {
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

pub fn fmt_rows(n: u64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}
