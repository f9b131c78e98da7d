//! `connector-host`: run the openmatch-databricks component from the command line. This file
//! parses arguments, dispatches and prints; the work is in `connector_host`.

use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use connector_host::{ConnectorHost, Connection, Error, IngestOptions, Limits, Operation, Param, TenantPolicy, TlsTrust};

mod args;
mod config;
mod demo;
#[cfg(feature = "embedded-warehouse")]
mod embedded;
mod exit;
mod input;
mod output;
mod progress;
mod target;

use args::{Cli, Cmd};
use exit::Failure;
use output::{Format, Out, RowWriter};

/// mimalloc: large reads allocate and free batch-sized buffers in a loop, which glibc's
/// allocator answers with heap trimming and fresh page faults on every batch.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rows asked of the connector per batch when streaming a query.
const BATCH_ROWS: u32 = 10_000;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.output.debug_log);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => exit::report(f),
    }
}

/// A line on stderr for the person at the terminal (never fails, never panics).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{}", output::sanitize(text, output::Keep::Lines));
}

fn init_tracing(debug_log: bool) {
    // The connector's warnings and retries (info) by default; the embedded warehouse's
    // libraries stay quiet. `RUST_LOG` overrides.
    let default = if debug_log {
        "error,openmatch=info,openmatch::guest=debug"
    } else {
        "error,openmatch=warn,openmatch::guest=info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// What a command needs read and checked before anything starts.
enum Input {
    Sql(String, Vec<Param>),
    Records(input::RecordsInput),
    None,
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let format = cli.output.format();
    // Bad input is refused before a warehouse starts or a request goes out.
    let input = match &cli.cmd {
        Cmd::Query(src) | Cmd::Exec(src) => {
            let (sql, params) = input::sql(src)?;
            Input::Sql(sql, params)
        }
        Cmd::Write { file, .. } | Cmd::Update { file, .. } => Input::Records(input::records(file)?),
        _ => Input::None,
    };
    let is_demo = matches!(cli.cmd, Cmd::Demo);
    let target = target::resolve(&cli.conn, &cli.tuning, is_demo, &config::ProcessEnv).await?;
    let t0 = Instant::now();
    let host = ConnectorHost::load_embedded()?;
    let load_time = t0.elapsed();
    let limits = Limits { memory_bytes: cli.tuning.memory_mib << 20, ..Limits::default() };
    let tls = match &cli.tuning.ca_cert {
        Some(path) => TlsTrust::with_pem_file(path)?,
        None => TlsTrust::webpki(),
    };
    let mut policy = TenantPolicy { limits, label: "cli".into(), tls, ..TenantPolicy::default() };
    for o in &target.allow {
        policy.allow.push(o.clone());
    }

    if is_demo {
        let mut out = Out::open(cli.output.output.as_deref())?;
        return demo::run(&host, load_time, policy, &target.config, &mut out).await;
    }

    let mut tenant = host.tenant(policy).await?;
    let mut conn = tenant.connect(&target.config).await?;
    // Opened once connected: a failed connection leaves an existing --output file alone.
    let mut out = Out::open(cli.output.output.as_deref())?;
    let to_file = cli.output.output.is_some();
    let options = IngestOptions {
        slice_rows: cli.tuning.batch_rows.map(|n| n as usize),
        staged: cli.tuning.staging_volume.is_some(),
    };
    match (cli.cmd, input) {
        (Cmd::Query(_), Input::Sql(sql, params)) => query(&mut conn, &sql, &params, format, &mut out).await?,
        (Cmd::Exec(_), Input::Sql(sql, params)) => {
            let e = conn.execute(&sql, &params).await?;
            output::execution(format, &mut out, &e)?;
        }
        (Cmd::Write { target, .. }, Input::Records(records)) => {
            let bar = progress::Bar::new(records.len() as u64, format, to_file, "inserting");
            let r = conn.write_source(Operation::Insert, &target, records.source(), options, |p| bar.update(p)).await;
            bar.finish();
            output::count(format, &mut out, r?, "inserted")?;
        }
        (Cmd::Update { target, keys, .. }, Input::Records(records)) => {
            let bar = progress::Bar::new(records.len() as u64, format, to_file, "updating");
            let op = Operation::Update { key_columns: &keys };
            let r = conn.write_source(op, &target, records.source(), options, |p| bar.update(p)).await;
            bar.finish();
            output::count(format, &mut out, r?, "updated")?;
        }
        (Cmd::Delete { target, ids, key }, _) => {
            let bar = progress::Bar::new(ids.len() as u64, format, to_file, "deleting");
            let r = conn.delete_keys(&target, key.as_deref(), &ids, options, |p| bar.update(p)).await;
            bar.finish();
            output::count(format, &mut out, r?, "deleted")?;
        }
        (Cmd::Optimize { table, zorder }, _) => RowWriter::rows(format, &mut out, &conn.optimize(&table, &zorder).await?)?,
        (Cmd::Vacuum { table, retain_hours }, _) => {
            RowWriter::rows(format, &mut out, &conn.vacuum(&table, retain_hours).await?)?
        }
        (Cmd::History { table, limit }, _) => output::history(format, &mut out, &conn.history(&table, limit).await?)?,
        (Cmd::Cancel { statement_id }, _) => {
            conn.cancel(&statement_id).await?;
            match format {
                Format::Table => out.line(&format!("canceled {}", output::sanitize(&statement_id, output::Keep::Nothing)))?,
                _ => out.line(&serde_json::json!({ "canceled": statement_id }).to_string())?,
            }
            out.flush()?;
        }
        (cmd, _) => {
            return Err(Error::message(connector_host::ErrorKind::Host, format!("{cmd:?} got the wrong input")).into());
        }
    }
    conn.close().await?;
    Ok(())
}

/// Stream a query's rows to `out` batch by batch: memory stays at one batch whatever the format.
async fn query(conn: &mut Connection<'_>, sql: &str, params: &[Param], format: Format, out: &mut Out) -> Result<(), Failure> {
    let mut stream = conn.query(sql, params).await?;
    let names: Vec<String> = stream.columns().iter().map(|c| c.name.clone()).collect();
    let mut writer = RowWriter::new(format, names);
    loop {
        let batch = stream.next_batch(BATCH_ROWS).await?;
        if batch.is_empty() {
            break;
        }
        writer.batch(out, &batch)?;
        // A slow reader sees rows as they come; a closed pipe stops the query here.
        out.flush()?;
    }
    writer.finish(out)?;
    stream.close().await?;
    Ok(())
}
