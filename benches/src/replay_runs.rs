//! The replay workloads on loopback: reads (JSON_ARRAY and ARROW_STREAM), whole process, cold
//! start, writes, instantiate and concurrent tenants. The reads and the whole-process
//! comparison are `reads.rs`'s, shared with the WAN profile.

use std::path::PathBuf;

use anyhow::Result;

use crate::proto::Spec;
use crate::reads::{self, ReadKind};
use crate::report::{Line, Outcome, Results};
use crate::{
    Opts, PyClient, PyRun, component, data, fmt_rows, native, python_whole, replay, run_child,
    run_python,
};

/// Every replay workload on loopback.
pub fn replay_workloads(
    opts: &Opts,
    results: &mut Results,
    kernel_py: &Result<PathBuf, String>,
) -> Result<()> {
    let s = &opts.sizes;
    eprintln!(
        "replay: building response bytes ({} and {} rows, {} rows per chunk)",
        s.small, s.large, s.chunk_rows
    );
    let server = replay::ReplayServer::start(s.chunk_rows, None)?;
    let base = server.base().to_string();
    for rows in [s.small, s.large, 10] {
        server.prepare(rows);
        server.prepare_arrow(rows, true)?;
    }
    let spec0 = Spec {
        base: base.clone(),
        token: data::TOKEN.into(),
        warehouse_id: data::WAREHOUSE_ID.into(),
        batch_bytes: 900_000,
        batch_rows: 10_000,
        ..Spec::default()
    };
    let ctx = reads::Ctx {
        opts,
        server: &server,
        mode: "replay".into(),
        kernel_py,
    };
    reads::read(&ctx, results, s.small, ReadKind::JsonInline, s.runs_small)?;
    reads::read(&ctx, results, s.large, ReadKind::JsonInline, s.runs_large)?;
    reads::read(&ctx, results, s.large, ReadKind::JsonLinks, s.runs_large)?;
    reads::read(&ctx, results, s.small, ReadKind::Arrow, s.runs_small)?;
    reads::read(&ctx, results, s.large, ReadKind::Arrow, s.runs_large)?;
    reads::whole(&ctx, results, s.large, s.runs_python);

    // Cold start: process start to the first row of a small query.
    let name = "cold start: process start → first row".to_string();
    eprintln!("replay: {name}");
    match component::cold_start(
        &base,
        data::TOKEN,
        data::WAREHOUSE_ID,
        &data::select_sql(10),
        s.runs_small,
    ) {
        Ok((ms, rss)) => {
            let mut l = Line::ok("replay", &name, "connector-host CLI", ms, 0, 0);
            if let Outcome::Ok { rss_kb, note, .. } = &mut l.outcome {
                *rss_kb = Some(rss);
                *note = "compiled component from the on-disk cache".into();
            }
            results.push(l);
        }
        Err(e) => results.push(Line::na(
            "replay",
            &name,
            "connector-host CLI",
            format!("{e:#}"),
        )),
    }
    match &opts.python {
        Ok(py) => match python_whole(
            &PyClient::new(py, &base, data::TOKEN, data::WAREHOUSE_ID),
            &data::select_sql(10),
            s.runs_python.max(3),
        ) {
            Ok((_, rss, first)) => {
                let mut l = Line::ok("replay", &name, "databricks-sdk-py", first, 0, 0);
                if let Outcome::Ok { rss_kb, .. } = &mut l.outcome {
                    *rss_kb = Some(rss);
                }
                results.push(l);
            }
            Err(e) => results.push(Line::na(
                "replay",
                &name,
                "databricks-sdk-py",
                format!("{e:#}"),
            )),
        },
        Err(e) => results.push(Line::na("replay", &name, "databricks-sdk-py", e.clone())),
    }

    // Writes against the replay server: client cost and statements counted at the server.
    let dml = [
        (format!("write {}", fmt_rows(s.write)), "write", s.write),
        (format!("MERGE {}", fmt_rows(s.merge)), "update", s.merge),
        (
            format!("delete {} ids", fmt_rows(s.delete)),
            "delete",
            s.delete,
        ),
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
        // "component, columns": the rows cross the WIT column-major (`write-columns`).
        let clients: &[&str] = if op == "delete" {
            &["component", "native"]
        } else {
            &["component", crate::COMPONENT_COLUMNS, "native"]
        };
        for &client in clients {
            if client != "native"
                && let Some(why) = component::unavailable()
            {
                results.push(Line::na("replay", &name, client, why));
                continue;
            }
            let before = server.counts();
            let columns = client == crate::COMPONENT_COLUMNS;
            let r = run_child(&Spec {
                client: if columns { "component".into() } else { client.into() },
                columns,
                ..spec.clone()
            });
            let counts = server.counts().since(&before);
            results.push(match r {
                Ok((rep, _)) => Line::from_report(
                    "replay",
                    &name,
                    client,
                    &rep,
                    Some(counts),
                    spec.runs + 1,
                    None,
                ),
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
                    Ok((rep, _)) => Line::from_report(
                        "replay",
                        &name,
                        "databricks-sdk-py",
                        &rep,
                        Some(counts),
                        s.runs_python,
                        None,
                    ),
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
        None => match run_child(&Spec {
            client: "component".into(),
            op: "instantiate".into(),
            runs: 50,
            ..spec0.clone()
        }) {
            Ok((rep, _)) => results.push(Line::from_report(
                "replay",
                &name,
                "component",
                &rep,
                None,
                51,
                None,
            )),
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
                Ok((rep, _)) => results.push(Line::from_report(
                    "replay",
                    &name,
                    "component",
                    &rep,
                    Some(counts),
                    4,
                    None,
                )),
                Err(e) => results.push(Line::na("replay", &name, "component", format!("{e:#}"))),
            }
        }
    }
    Ok(())
}
