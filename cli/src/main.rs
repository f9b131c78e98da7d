//! `connector-host`: run the openmatch-databricks component from the command line.
//!
//! Without `DATABRICKS_HOST` it starts the local warehouse in-process (feature
//! `embedded-warehouse`, on by default) and runs everything against it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

/// mimalloc: large reads allocate and free batch-sized buffers in a loop, which glibc's
/// allocator answers with heap trimming and fresh page faults on every batch.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use connector_host::{
    ConnectConfig, ConnectorHost, Connection, Credential, Error, ErrorKind, Limits, Origin, Param, Row, Secret,
    TenantPolicy, TlsTrust, Value,
};

#[path = "cli/demo.rs"]
mod demo;
#[cfg(feature = "embedded-warehouse")]
#[path = "cli/embedded.rs"]
mod embedded;
#[path = "cli/output.rs"]
mod output;

/// Run the Databricks SQL connector component (WebAssembly, WASI 0.2) in wasmtime.
#[derive(Parser, Debug)]
#[command(name = "connector-host", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    conn: ConnArgs,
    /// Print JSON: an array of row objects for queries, `{"count": n}` for writes.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Debug)]
struct ConnArgs {
    /// Workspace host: bare hostname (https implied) or URL with scheme and port (http only for
    /// loopback). Without it the local warehouse is started in-process.
    #[arg(long, env = "DATABRICKS_HOST", global = true)]
    host: Option<String>,
    /// The warehouse's HTTP path, `/sql/1.0/warehouses/<id>`.
    #[arg(long, env = "DATABRICKS_HTTP_PATH", global = true)]
    http_path: Option<String>,
    /// Personal access token (or any bearer token).
    #[arg(long, env = "DATABRICKS_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// OAuth M2M client id (service principal), used with --client-secret instead of a token.
    #[arg(long, env = "DATABRICKS_CLIENT_ID", global = true)]
    client_id: Option<String>,
    /// OAuth M2M client secret.
    #[arg(long, env = "DATABRICKS_CLIENT_SECRET", hide_env_values = true, global = true)]
    client_secret: Option<String>,
    /// Default catalog.
    #[arg(long, env = "DATABRICKS_CATALOG", global = true)]
    catalog: Option<String>,
    /// Default schema.
    #[arg(long, env = "DATABRICKS_SCHEMA", global = true)]
    schema: Option<String>,
    /// Data directory of the embedded warehouse [default: ~/.cache/openmatch-databricks/warehouse].
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Also trust the CA certificates in this PEM file for https (default: `SSL_CERT_FILE`).
    #[arg(long, env = "SSL_CERT_FILE", global = true)]
    ca_cert: Option<PathBuf>,
    /// Also allow requests to this origin (e.g. the storage host of EXTERNAL_LINKS); repeatable.
    #[arg(long = "allow", global = true)]
    allow: Vec<String>,
    /// Fetch results through EXTERNAL_LINKS.
    #[arg(long, global = true)]
    external_links: bool,
    /// Connector-side deadline of one call, ms.
    #[arg(long, global = true)]
    timeout_ms: Option<u64>,
    /// Most rows per write statement.
    #[arg(long, global = true)]
    batch_rows: Option<u32>,
    /// Guest memory limit, MiB.
    #[arg(long, global = true, default_value_t = 256)]
    memory_mib: usize,
    /// Log the connector's debug events (statement ids, timings) to stderr.
    #[arg(long, global = true)]
    debug_log: bool,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a query: `%(name)s` markers take --param values.
    Query {
        /// The SQL.
        sql: String,
        /// `name=value` (type inferred: integer, float, boolean, else string) or `name:TYPE=value`.
        #[arg(long = "param", short = 'p')]
        params: Vec<String>,
    },
    /// Insert records from a JSON Lines (.jsonl) or JSON array (.json) file.
    Write {
        /// Target table (`t`, `schema.t` or `catalog.schema.t`).
        target: String,
        /// The records file.
        file: PathBuf,
    },
    /// Update rows from a records file, matched on the key columns (default `id`), via MERGE.
    Update {
        /// Target table.
        target: String,
        /// The records file.
        file: PathBuf,
        /// Key column; repeatable.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// Delete rows by key.
    Delete {
        /// Target table.
        target: String,
        /// Key values.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Key column [default: id].
        #[arg(long)]
        key: Option<String>,
    },
    /// Compact a Delta table, optionally Z-ordering by columns.
    Optimize {
        /// Table.
        table: String,
        /// Z-order column; repeatable.
        #[arg(long = "zorder")]
        zorder: Vec<String>,
    },
    /// Remove unreferenced files older than the retention period.
    Vacuum {
        /// Table.
        table: String,
        /// Retention in hours [default: 168].
        #[arg(long)]
        retain_hours: Option<u32>,
    },
    /// Show a Delta table's history, newest first.
    History {
        /// Table.
        table: String,
        /// Most entries.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Run any statement (DDL, DML) and report its timing and counts.
    Exec {
        /// The SQL.
        sql: String,
        /// Parameters, as for `query`.
        #[arg(long = "param", short = 'p')]
        params: Vec<String>,
    },
    /// Run OpenMatch's Databricks workflow through the component, with timing per step.
    Demo,
}

/// Where the CLI connects, and what keeps an embedded warehouse alive.
pub struct Target {
    config: ConnectConfig,
    allow: Vec<Origin>,
    #[cfg(feature = "embedded-warehouse")]
    _embedded: Option<embedded::Embedded>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.conn.debug_log);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(debug_log: bool) {
    // Only the connector's own events by default; the embedded warehouse's libraries stay quiet.
    let default = if debug_log { "error,openmatch::guest=debug,openmatch::host=info" } else { "error,openmatch=warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn run(cli: Cli) -> Result<(), Error> {
    // Reject bad input before starting anything.
    if let Cmd::Query { params, .. } | Cmd::Exec { params, .. } = &cli.cmd {
        parse_params(params)?;
    }
    let target = resolve_target(&cli.conn).await?;
    let t0 = Instant::now();
    let host = Arc::new(ConnectorHost::load_default()?);
    let load_time = t0.elapsed();
    let limits = Limits { memory_bytes: cli.conn.memory_mib << 20, ..Limits::default() };
    let tls = match &cli.conn.ca_cert {
        Some(path) => TlsTrust::with_pem_file(path)?,
        None => TlsTrust::webpki(),
    };
    let mut policy = TenantPolicy { limits, label: "cli".into(), tls, ..TenantPolicy::default() };
    for o in &target.allow {
        policy.allow.push(o.clone());
    }

    if let Cmd::Demo = cli.cmd {
        return demo::run(&host, load_time, policy, &target.config).await;
    }

    let mut tenant = host.tenant(policy).await?;
    let mut conn = tenant.connect(&target.config).await?;
    let json = cli.json;
    match cli.cmd {
        Cmd::Query { sql, params } => query(&mut conn, &sql, &parse_params(&params)?, json).await?,
        Cmd::Exec { sql, params } => {
            let e = conn.execute(&sql, &parse_params(&params)?).await?;
            if json {
                output::print_json(&e);
            } else {
                println!(
                    "ok: {} rows affected, {} rows in result, {} ms (statement {}{})",
                    e.rows_affected,
                    e.row_count,
                    e.elapsed_ms,
                    e.statement_id,
                    if e.retries > 0 { format!(", {} retries", e.retries) } else { String::new() }
                );
            }
        }
        Cmd::Write { target, file } => {
            let records = typed_records(&mut conn, &target, &file).await?;
            let mut n = 0;
            for group in group_by_columns(&records) {
                n += write_with_progress(&mut conn, &group, &target, cli.conn.batch_rows)
                    .await
                    .map_err(|e| add_committed(e, n))?;
            }
            print_count(json, n, "inserted");
        }
        Cmd::Update { target, file, keys } => {
            let records = typed_records(&mut conn, &target, &file).await?;
            let mut n = 0;
            for group in group_by_columns(&records) {
                n += conn.update_records(&group, &target, &keys).await.map_err(|e| add_committed(e, n))?;
            }
            print_count(json, n, "updated");
        }
        Cmd::Delete { target, ids, key } => {
            let key_name = key.clone().unwrap_or_else(|| "id".to_string());
            let columns = conn.table_columns(&target).await.ok();
            let key_col = columns.as_ref().and_then(|cols| cols.iter().find(|c| c.name.eq_ignore_ascii_case(&key_name)));
            let mut values = Vec::with_capacity(ids.len());
            for id in &ids {
                let v = Value::infer(id);
                values.push(match key_col {
                    Some(col) => Value::Text(id.clone()).coerce_to(col).or_else(|_| v.coerce_to(col))?,
                    None => v,
                });
            }
            let n = conn.delete_records(&values, &target, key.as_deref()).await?;
            print_count(json, n, "deleted");
        }
        Cmd::Optimize { table, zorder } => {
            let rows = conn.optimize(&table, &zorder).await?;
            print_rows(json, &rows);
        }
        Cmd::Vacuum { table, retain_hours } => {
            let rows = conn.vacuum(&table, retain_hours).await?;
            print_rows(json, &rows);
        }
        Cmd::History { table, limit } => {
            let entries = conn.history(&table, limit).await?;
            if json {
                output::print_json(&output::history_json(&entries));
            } else {
                output::print_history(&entries);
            }
        }
        Cmd::Demo => unreachable!("handled above"),
    }
    conn.close().await?;
    Ok(())
}

fn print_count(json: bool, n: u64, verb: &str) {
    if json {
        println!("{}", serde_json::json!({ "count": n }));
    } else {
        println!("{verb} {n} row{}", if n == 1 { "" } else { "s" });
    }
}

fn print_rows(json: bool, rows: &[Row]) {
    if json {
        output::print_json(rows);
    } else {
        output::print_rows(rows, None);
    }
}

/// Count rows committed by earlier calls into an error's `committed_rows`.
fn add_committed(e: Error, earlier: u64) -> Error {
    if earlier == 0 {
        return e;
    }
    let mut info = e.info().clone();
    info.committed_rows = Some(earlier + info.committed_rows.unwrap_or(0));
    Error::new(e.kind(), info)
}

/// Split records into groups with the same set of columns (the connector sends one column
/// list per statement), keeping the order of first appearance.
fn group_by_columns(records: &[Row]) -> Vec<Vec<Row>> {
    let mut groups: Vec<(Vec<String>, Vec<Row>)> = Vec::new();
    for r in records {
        let mut key: Vec<String> = r.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        key.sort();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(r.clone()),
            None => groups.push((key, vec![r.clone()])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

fn parse_params(specs: &[String]) -> Result<Vec<Param>, Error> {
    specs.iter().map(|s| Param::parse(s)).collect()
}

/// Stream a query's rows: JSON is written row by row (bounded memory), a table needs them all.
async fn query(conn: &mut Connection<'_>, sql: &str, params: &[Param], json: bool) -> Result<(), Error> {
    let mut stream = conn.query(sql, params).await?;
    let columns = stream.columns().to_vec();
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    if json {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let io = |e: std::io::Error| Error::message(ErrorKind::Host, format!("cannot write output: {e}"));
        out.write_all(b"[").map_err(io)?;
        let mut first = true;
        loop {
            let batch = stream.next_batch(10_000).await?;
            if batch.is_empty() {
                break;
            }
            for values in batch {
                let row: Row = names.iter().cloned().zip(values).collect();
                out.write_all(if first { b"\n  " } else { b",\n  " }).map_err(io)?;
                first = false;
                serde_json::to_writer(&mut out, &row)
                    .map_err(|e| Error::message(ErrorKind::Host, format!("cannot write JSON: {e}")))?;
            }
        }
        out.write_all(if first { b"]\n" } else { b"\n]\n" }).map_err(io)?;
        out.flush().map_err(io)?;
    } else {
        let mut all = Vec::new();
        loop {
            let batch = stream.next_batch(10_000).await?;
            if batch.is_empty() {
                break;
            }
            all.extend(batch);
        }
        output::print_table(&names, &all);
    }
    stream.close().await
}

/// Read a records file and type each value by the target table's columns.
async fn typed_records(conn: &mut Connection<'_>, target: &str, file: &PathBuf) -> Result<Vec<Row>, Error> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::invalid_input(format!("cannot read {}: {e}", file.display())))?;
    let records = Row::parse_records(&text)?;
    if records.is_empty() {
        return Err(Error::invalid_input(format!("{} holds no records", file.display())));
    }
    let columns = conn.table_columns(target).await?;
    records.iter().enumerate().map(|(i, r)| r.coerce_to(&columns).map_err(|e| {
        Error::new(e.kind(), connector_host::ErrorInfo { message: format!("record {}: {}", i + 1, e.text()), ..e.info().clone() })
    })).collect()
}

/// Write in slices so progress can be shown on stderr; each slice is one connector call.
async fn write_with_progress(conn: &mut Connection<'_>, records: &[Row], target: &str, batch_rows: Option<u32>) -> Result<u64, Error> {
    let slice = batch_rows.unwrap_or(50_000).max(1) as usize;
    let total = records.len();
    let show = total > slice;
    let started = Instant::now();
    let mut written = 0u64;
    for chunk in records.chunks(slice) {
        match conn.write_records(chunk, target).await {
            Ok(n) => written += n,
            Err(e) => {
                let committed = written + e.info().committed_rows.unwrap_or(0);
                let mut info = e.info().clone();
                info.committed_rows = Some(committed);
                return Err(Error::new(e.kind(), info));
            }
        }
        if show {
            let secs = started.elapsed().as_secs_f64().max(1e-6);
            eprintln!("  written {written}/{total} rows ({:.0} rows/s)", written as f64 / secs);
        }
    }
    Ok(written)
}

/// The connection config from flags/env, or the embedded warehouse when no host is given.
async fn resolve_target(args: &ConnArgs) -> Result<Target, Error> {
    let mut allow: Vec<Origin> = args.allow.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
    let host = args.host.clone().filter(|h| !h.trim().is_empty());
    let (server, http_path, token, embedded) = match host {
        Some(h) => {
            let http_path = args.http_path.clone().ok_or_else(|| {
                Error::invalid_input("DATABRICKS_HTTP_PATH (or --http-path) is required with DATABRICKS_HOST")
            })?;
            (h, http_path, args.token.clone(), None)
        }
        None => start_embedded(args).await?,
    };
    let credential = match (&args.client_id, &args.client_secret, token) {
        (Some(id), Some(secret), _) => {
            Credential::OAuthM2m { client_id: id.clone(), client_secret: Secret::new(secret.clone()), scope: None }
        }
        (_, _, Some(t)) => Credential::AccessToken(Secret::new(t)),
        _ => {
            return Err(Error::message(
                ErrorKind::Authentication,
                "no credential: set DATABRICKS_TOKEN (or --token), or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET",
            ));
        }
    };
    let mut config = ConnectConfig::new(server, http_path, credential);
    config.catalog = args.catalog.clone().or_else(|| embedded_default(&embedded, "main"));
    config.schema = args.schema.clone().or_else(|| embedded_default(&embedded, "default"));
    config.timeout_ms = args.timeout_ms;
    config.batch_rows = args.batch_rows;
    config.external_links = args.external_links;
    config.debug_log = args.debug_log;
    allow.push(config.origin()?);
    Ok(Target {
        config,
        allow,
        #[cfg(feature = "embedded-warehouse")]
        _embedded: embedded,
    })
}

#[cfg(feature = "embedded-warehouse")]
type EmbeddedHandle = Option<embedded::Embedded>;
#[cfg(not(feature = "embedded-warehouse"))]
type EmbeddedHandle = Option<()>;

fn embedded_default(embedded: &EmbeddedHandle, value: &str) -> Option<String> {
    embedded.as_ref().map(|_| value.to_string())
}

#[cfg(feature = "embedded-warehouse")]
async fn start_embedded(args: &ConnArgs) -> Result<(String, String, Option<String>, EmbeddedHandle), Error> {
    let data = match &args.data {
        Some(d) => d.clone(),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cache/openmatch-databricks/warehouse"))
            .ok_or_else(|| Error::invalid_input("HOME is not set: pass --data <dir> for the local warehouse"))?,
    };
    let w = embedded::start(data.clone()).await?;
    eprintln!(
        "no DATABRICKS_HOST: started the local warehouse in-process at {} (data: {})",
        w.url,
        data.display()
    );
    let token = args.token.clone().or_else(|| Some(w.token.clone()));
    Ok((w.url.clone(), w.http_path.clone(), token, Some(w)))
}

#[cfg(not(feature = "embedded-warehouse"))]
async fn start_embedded(_args: &ConnArgs) -> Result<(String, String, Option<String>, EmbeddedHandle), Error> {
    Err(Error::invalid_input(
        "DATABRICKS_HOST is not set and this build has no embedded warehouse (feature `embedded-warehouse`)",
    ))
}
