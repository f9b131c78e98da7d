//! Reads and whole-process runs against one replay server (loopback or WAN profile), every
//! client the format allows:
//!
//! - JSON_ARRAY (INLINE or EXTERNAL_LINKS): the curl floor, the component (rows and columns,
//!   `result-format: json`), the native Rust client, databricks-sdk-py;
//! - ARROW_STREAM with LZ4_FRAME (INLINE_OR_EXTERNAL_LINKS): the curl floor over the compressed
//!   chunks, the component (rows and columns, `result-format: arrow`), databricks-sql-kernel.
//!
//! Whole process: `connector-host … --json query` (JSON_ARRAY, and with `--external-links`
//! ARROW_STREAM) vs a Python process through databricks-sdk-py or the kernel, each printing
//! every row as JSON to a pipe.

use std::path::PathBuf;

use anyhow::Result;

use crate::kernel::{self, KERNEL};
use crate::proto::Spec;
use crate::replay::ReplayServer;
use crate::report::{Line, Outcome, Results};
use crate::{
    COMPONENT_COLUMNS, Opts, PyClient, PyRun, component, curl_floor, data, python_whole, run_child,
    run_python,
};

/// The format and disposition of a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadKind {
    JsonInline,
    JsonLinks,
    Arrow,
}

/// The `connector-host` CLI reading ARROW_STREAM (`--external-links`).
pub const CLI_ARROW: &str = "connector-host CLI (Arrow)";
/// The `connector-host` CLI reading JSON_ARRAY.
pub const CLI_JSON: &str = "connector-host CLI (JSON)";

/// One server and what runs against it.
pub struct Ctx<'a> {
    pub opts: &'a Opts,
    pub server: &'a ReplayServer,
    /// The report's `mode` column.
    pub mode: String,
    pub kernel_py: &'a Result<PathBuf, String>,
}

impl Ctx<'_> {
    fn spec0(&self) -> Spec {
        Spec {
            base: self.server.base().to_string(),
            token: data::TOKEN.into(),
            warehouse_id: data::WAREHOUSE_ID.into(),
            batch_bytes: 900_000,
            batch_rows: 10_000,
            ..Spec::default()
        }
    }

    fn na(&self, results: &mut Results, name: &str, client: &str, why: String) {
        results.push(Line::na(&self.mode, name, client, why));
    }
}

/// The workload name of a read.
pub fn read_name(rows: u64, kind: ReadKind) -> String {
    let what = match kind {
        ReadKind::JsonInline => "JSON_ARRAY",
        ReadKind::JsonLinks => "EXTERNAL_LINKS",
        ReadKind::Arrow => "ARROW_STREAM LZ4",
    };
    format!("read {} ({what})", crate::fmt_rows(rows))
}

/// Every client reading `rows` rows as `kind`; the server's bytes are built first.
pub fn read(
    ctx: &Ctx,
    results: &mut Results,
    rows: u64,
    kind: ReadKind,
    runs: usize,
) -> Result<()> {
    let name = read_name(rows, kind);
    let mode = ctx.mode.as_str();
    eprintln!("{mode}: {name}");
    let base = ctx.server.base().to_string();
    let expect = data::expected_checksum(rows);
    let (urls, bytes): (Vec<String>, u64) = if kind == ReadKind::Arrow {
        let d = ctx.server.prepare_arrow(rows, true)?;
        (
            (0..d.bodies.len())
                .map(|c| format!("{base}/external-arrow/{rows}/lz4/{c}"))
                .collect(),
            d.wire_bytes,
        )
    } else {
        let d = ctx.server.prepare(rows);
        (
            (0..d.ext_bodies.len())
                .map(|c| format!("{base}/external/{rows}/{c}"))
                .collect(),
            d.array_bytes,
        )
    };
    // floor: the same chunk bytes, downloaded raw by curl (one process, one connection)
    let floor = "floor (curl raw bytes)";
    match curl_floor(&urls, runs) {
        Ok(ms) => results.push(Line::ok(mode, &name, floor, ms, rows, bytes)),
        Err(e) => ctx.na(results, &name, floor, format!("{e:#}")),
    }
    let arrow = kind == ReadKind::Arrow;
    let spec = Spec {
        sql: data::select_sql(rows),
        external: kind == ReadKind::JsonLinks,
        result_format: if arrow { "arrow" } else { "json" }.into(),
        runs,
        op: "read".into(),
        ..ctx.spec0()
    };
    let clients: &[&str] = if arrow {
        &["component", COMPONENT_COLUMNS]
    } else {
        &["component", COMPONENT_COLUMNS, "native"]
    };
    for &client in clients {
        if client != "native"
            && let Some(why) = component::unavailable()
        {
            ctx.na(results, &name, client, why);
            continue;
        }
        let before = ctx.server.counts();
        let columns = client == COMPONENT_COLUMNS;
        let child = if columns { "component" } else { client };
        let r = run_child(&Spec {
            client: child.into(),
            columns,
            ..spec.clone()
        });
        let counts = ctx.server.counts().since(&before);
        results.push(match r {
            Ok((rep, _)) => Line::from_report(
                mode,
                &name,
                client,
                &rep,
                Some(counts),
                runs + 1,
                Some(expect),
            ),
            Err(e) => Line::na(mode, &name, client, format!("{e:#}")),
        });
    }
    if arrow {
        match ctx.kernel_py {
            Ok(py) => {
                let before = ctx.server.counts();
                let client = PyClient::new(py, &base, data::TOKEN, data::WAREHOUSE_ID);
                let r = kernel::run(&client, &data::select_sql(rows), runs);
                let counts = ctx.server.counts().since(&before);
                results.push(match r {
                    Ok(rep) => Line::from_report(
                        mode,
                        &name,
                        KERNEL,
                        &rep,
                        Some(counts),
                        runs + 1,
                        Some(expect),
                    ),
                    Err(e) => Line::na(mode, &name, KERNEL, format!("{e:#}")),
                });
            }
            Err(why) => ctx.na(results, &name, KERNEL, why.clone()),
        }
        return Ok(());
    }
    let sdk = "databricks-sdk-py";
    match &ctx.opts.python {
        Ok(py) => {
            let before = ctx.server.counts();
            let disposition = if kind == ReadKind::JsonLinks {
                "EXTERNAL_LINKS"
            } else {
                "INLINE"
            };
            let run = PyRun {
                host: base.clone(),
                token: data::TOKEN.into(),
                warehouse_id: data::WAREHOUSE_ID.into(),
                args: vec![
                    "--sql".into(),
                    data::select_sql(rows),
                    "--disposition".into(),
                    disposition.into(),
                ],
                runs: ctx.opts.sizes.runs_python,
                emit_json: false,
            };
            let r = run_python(py, &run);
            let counts = ctx.server.counts().since(&before);
            let total = ctx.opts.sizes.runs_python;
            results.push(match r {
                Ok((rep, _)) => {
                    Line::from_report(mode, &name, sdk, &rep, Some(counts), total, Some(expect))
                }
                Err(e) => Line::na(mode, &name, sdk, format!("{e:#}")),
            });
        }
        Err(e) => ctx.na(results, &name, sdk, e.clone()),
    }
    Ok(())
}

/// The whole-process workload name.
pub fn whole_name(rows: u64) -> String {
    format!("whole process: {} rows → JSON", crate::fmt_rows(rows))
}

fn whole_line(
    mode: &str,
    name: &str,
    client: &str,
    r: Result<(f64, Option<u64>)>,
    rows: u64,
) -> Line {
    match r {
        Ok((ms, rss)) => {
            let mut l = Line::ok(mode, name, client, ms, rows, 0);
            if let Outcome::Ok { rss_kb, .. } = &mut l.outcome {
                *rss_kb = rss;
            }
            l
        }
        Err(e) => Line::na(mode, name, client, format!("{e:#}")),
    }
}

/// Whole process, `rows` rows to JSON on a pipe: the CLI (JSON_ARRAY and Arrow), databricks-sdk-py
/// (JSON_ARRAY INLINE) and the kernel (Arrow).
pub fn whole(ctx: &Ctx, results: &mut Results, rows: u64, runs: usize) {
    let name = whole_name(rows);
    let mode = ctx.mode.as_str();
    eprintln!("{mode}: {name}");
    let base = ctx.server.base().to_string();
    let sql = data::select_sql(rows);
    let (tok, wid) = (data::TOKEN, data::WAREHOUSE_ID);
    for (client, external) in [(CLI_JSON, false), (CLI_ARROW, true)] {
        let r = component::cli_query_json(&base, tok, wid, &sql, runs, external);
        results.push(whole_line(mode, &name, client, r, rows));
    }
    let sdk = "databricks-sdk-py";
    match &ctx.opts.python {
        Ok(py) => {
            let client = PyClient::new(py, &base, tok, wid);
            let r = python_whole(&client, &sql, runs).map(|(ms, rss, _)| (ms, Some(rss)));
            results.push(whole_line(mode, &name, sdk, r, rows));
        }
        Err(e) => ctx.na(results, &name, sdk, e.clone()),
    }
    match ctx.kernel_py {
        Ok(py) => {
            let client = PyClient::new(py, &base, tok, wid);
            let r = kernel::whole(&client, &sql, runs).map(|(ms, rss)| (ms, Some(rss)));
            results.push(whole_line(mode, &name, KERNEL, r, rows));
        }
        Err(why) => ctx.na(results, &name, KERNEL, why.clone()),
    }
}

/// The WAN profile's runs: a server of its own, the 1M-row reads that judge the issue-15
/// targets (JSON_ARRAY links, ARROW_STREAM) and the whole-process comparison.
pub fn wan_workloads(
    opts: &Opts,
    results: &mut Results,
    kernel_py: &Result<PathBuf, String>,
    wan: crate::wan::Wan,
) -> Result<()> {
    let s = &opts.sizes;
    let server = ReplayServer::start(s.chunk_rows, Some(wan))?;
    eprintln!(
        "{}: building response bytes ({} rows)",
        wan.label(),
        s.large
    );
    server.prepare(s.large);
    server.prepare_arrow(s.large, true)?;
    let ctx = Ctx {
        opts,
        server: &server,
        mode: MODE_WAN.into(),
        kernel_py,
    };
    read(&ctx, results, s.large, ReadKind::JsonLinks, s.runs_wan)?;
    read(&ctx, results, s.large, ReadKind::Arrow, s.runs_wan)?;
    // The smoke run (CI) leaves the WAN whole-process runs out: the loopback ones cover the code.
    if !opts.smoke {
        whole(&ctx, results, s.large, s.runs_wan);
    }
    Ok(())
}

/// The `mode` of the WAN rows (the profile is stated above the table).
pub const MODE_WAN: &str = "replay WAN";
