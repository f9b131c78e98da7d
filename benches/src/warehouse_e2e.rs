//! End-to-end workloads against the local warehouse (`warehouse::spawn_background`), every
//! client against the same server: SELECT 1M rows, write 100k rows, MERGE 100k rows into a
//! 1M-row table, delete 10k ids, cold start of the CLI, concurrent tenants.

use anyhow::Result;

use crate::Opts;
use crate::report::{Line, Results};

#[cfg(not(feature = "local-warehouse"))]
pub fn run(_opts: &Opts, results: &mut Results) -> Result<()> {
    results.push(Line::na(
        "warehouse",
        "all",
        "-",
        "bench built without the `local-warehouse` feature".into(),
    ));
    Ok(())
}

#[cfg(feature = "local-warehouse")]
pub fn run(opts: &Opts, results: &mut Results) -> Result<()> {
    use std::time::Instant;

    use crate::native::Native;
    use crate::proto::Spec;
    use crate::report::Outcome;
    use crate::{PyRun, component, fmt_rows, run_child, run_python};

    let s = &opts.sizes;
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = home.join(".cache/openmatch/bench-warehouse");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let config = warehouse::Config::new(&dir).chunk_rows(s.chunk_rows as usize);
    let bg = warehouse::spawn_background(config)?;
    let base = bg.url().to_string();
    let token = warehouse::DEFAULT_TOKEN.to_string();
    let wid = bg.running.warehouse_id.clone();
    eprintln!("warehouse: {base}, data in {}", dir.display());

    // Setup (not timed as a workload): a catalog, a schema, the 1M-row table, an empty target.
    let admin = Native::new(&base, &token, &wid)?;
    let t0 = Instant::now();
    for sql in [
        "CREATE CATALOG IF NOT EXISTS bench".to_string(),
        "CREATE SCHEMA IF NOT EXISTS bench.e2e".to_string(),
        format!(
            "CREATE TABLE bench.e2e.big AS SELECT id, concat('user_', lpad(CAST(id AS STRING), 7, '0')) AS name, \
             CAST((id * 7919) % 1000000 AS DECIMAL(10,2)) AS amount FROM range({})",
            s.merge_table
        ),
        "CREATE TABLE bench.e2e.w (id BIGINT, name STRING, amount DECIMAL(10,2))".to_string(),
    ] {
        admin
            .exec(&sql)
            .map_err(|e| anyhow::anyhow!("setup `{sql}`: {e:#}"))?;
    }
    results.notes.push(format!(
        "local warehouse setup (CREATE TABLE … AS SELECT … FROM range({})): {:.0} ms",
        s.merge_table,
        t0.elapsed().as_secs_f64() * 1000.0
    ));

    let spec0 = Spec {
        base: base.clone(),
        token: token.clone(),
        warehouse_id: wid.clone(),
        batch_bytes: 900_000,
        batch_rows: 10_000,
        runs: if opts.smoke { 1 } else { 3 },
        ..Spec::default()
    };
    let py_runs = spec0.runs;
    let clients = ["component", "native", "databricks-sdk-py"];

    // (workload, op, sql/target, count, per-client start ids, stride)
    struct W {
        name: String,
        op: &'static str,
        sql: String,
        target: String,
        count: u64,
        starts: [u64; 3],
        stride: u64,
    }
    let wl = vec![
        // EXTERNAL_LINKS: an INLINE result over 25 MiB fails, on the service and here alike.
        W {
            name: format!("SELECT {} rows", fmt_rows(s.merge_table)),
            op: "read",
            sql: "SELECT id, name, amount FROM bench.e2e.big".into(),
            target: String::new(),
            count: 0,
            starts: [0; 3],
            stride: 0,
        },
        W {
            name: format!("write {}", fmt_rows(s.write)),
            op: "write",
            sql: String::new(),
            target: "bench.e2e.w".into(),
            count: s.write,
            starts: [0, 100_000_000, 200_000_000],
            stride: s.write,
        },
        W {
            name: format!(
                "MERGE {} into {}",
                fmt_rows(s.merge),
                fmt_rows(s.merge_table)
            ),
            op: "update",
            sql: String::new(),
            target: "bench.e2e.big".into(),
            count: s.merge,
            starts: [0; 3],
            stride: 0,
        },
        W {
            name: format!("delete {} ids", fmt_rows(s.delete)),
            op: "delete",
            sql: String::new(),
            target: "bench.e2e.big".into(),
            count: s.delete,
            starts: [
                s.merge_table / 2,
                s.merge_table / 2 + s.merge_table / 8,
                s.merge_table / 2 + s.merge_table / 4,
            ],
            stride: s.delete,
        },
    ];
    for w in &wl {
        eprintln!("warehouse: {}", w.name);
        let mut checks = Vec::new();
        for (ci, client) in clients.iter().enumerate() {
            if *client == "component"
                && let Some(why) = component::unavailable()
            {
                results.push(Line::na("warehouse", &w.name, client, why));
                continue;
            }
            let spec = Spec {
                client: client.to_string(),
                op: w.op.into(),
                sql: w.sql.clone(),
                target: w.target.clone(),
                count: w.count,
                start_id: w.starts[ci],
                stride: w.stride,
                external: w.op == "read",
                ..spec0.clone()
            };
            let r = if *client == "databricks-sdk-py" {
                match &opts.python {
                    Ok(py) => {
                        let mut args = vec!["--op".to_string(), w.op.to_string()];
                        if w.op == "read" {
                            args.extend([
                                "--sql".to_string(),
                                w.sql.clone(),
                                "--disposition".to_string(),
                                "EXTERNAL_LINKS".to_string(),
                            ]);
                        } else {
                            args.extend([
                                "--target".to_string(),
                                crate::native::quote(&w.target),
                                "--count".to_string(),
                                w.count.to_string(),
                                "--start-id".to_string(),
                                w.starts[ci].to_string(),
                                "--stride".to_string(),
                                w.stride.to_string(),
                            ]);
                        }
                        let run = PyRun {
                            host: base.clone(),
                            token: token.clone(),
                            warehouse_id: wid.clone(),
                            args,
                            runs: py_runs,
                            emit_json: false,
                        };
                        run_python(py, &run)
                    }
                    Err(e) => Err(anyhow::anyhow!("{e}")),
                }
            } else {
                run_child(&spec)
            };
            match r {
                Ok((rep, _)) => {
                    if let Some(c) = rep.checksum {
                        checks.push((client.to_string(), c));
                    }
                    results.push(Line::from_report(
                        "warehouse",
                        &w.name,
                        client,
                        &rep,
                        None,
                        1,
                        None,
                    ));
                }
                Err(e) => results.push(Line::na("warehouse", &w.name, client, format!("{e:#}"))),
            }
        }
        if checks.windows(2).any(|p| p[0].1 != p[1].1) {
            results.notes.push(format!(
                "warehouse {}: clients disagree on the typed-value checksum: {checks:?}",
                w.name
            ));
        }
    }

    // Cold start against the warehouse (CLI vs python): spawn → first row of a 10-row query.
    let name = "cold start: process start → first row".to_string();
    let sql = "SELECT id, name, amount FROM bench.e2e.big WHERE id < 10";
    eprintln!("warehouse: {name}");
    match component::cold_start(&base, &token, &wid, sql, 5) {
        Ok((ms, rss)) => {
            let mut l = Line::ok("warehouse", &name, "connector-host CLI", ms, 0, 0);
            if let Outcome::Ok { rss_kb, note, .. } = &mut l.outcome {
                *rss_kb = Some(rss);
                *note = "compiled component from the on-disk cache".into();
            }
            results.push(l);
        }
        Err(e) => results.push(Line::na(
            "warehouse",
            &name,
            "connector-host CLI",
            format!("{e:#}"),
        )),
    }
    match &opts.python {
        Ok(py) => match crate::python_whole(&crate::PyClient::new(py, &base, &token, &wid), sql, 3)
        {
            Ok((_, rss, first)) => {
                let mut l = Line::ok("warehouse", &name, "databricks-sdk-py", first, 0, 0);
                if let Outcome::Ok { rss_kb, .. } = &mut l.outcome {
                    *rss_kb = Some(rss);
                }
                results.push(l);
            }
            Err(e) => results.push(Line::na(
                "warehouse",
                &name,
                "databricks-sdk-py",
                format!("{e:#}"),
            )),
        },
        Err(e) => results.push(Line::na("warehouse", &name, "databricks-sdk-py", e.clone())),
    }

    // Concurrent tenants in one host, small queries.
    // Fewer queries than on replay: each one is a real scan of the 1M-row table.
    let queries = s.tenant_queries.min(5);
    let name = format!("{} tenants × {} small queries", s.tenants, queries);
    eprintln!("warehouse: {name}");
    match component::unavailable() {
        Some(why) => results.push(Line::na("warehouse", &name, "component", why)),
        None => {
            let spec = Spec {
                client: "component".into(),
                op: "tenants".into(),
                sql: sql.into(),
                tenants: s.tenants,
                queries_per_tenant: queries,
                runs: 1,
                ..spec0.clone()
            };
            match run_child(&spec) {
                Ok((rep, _)) => results.push(Line::from_report(
                    "warehouse",
                    &name,
                    "component",
                    &rep,
                    None,
                    1,
                    None,
                )),
                Err(e) => results.push(Line::na("warehouse", &name, "component", format!("{e:#}"))),
            }
        }
    }
    drop(bg);
    Ok(())
}
