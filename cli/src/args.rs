//! The command line (clap): global options in three help groups, one subcommand per action,
//! each with an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Flags;
use crate::output::Format;

/// Run the Databricks SQL connector component (WebAssembly, WASI 0.2) in wasmtime.
///
/// Connects to the workspace given by flags, the environment (DATABRICKS_HOST, …) or a
/// ~/.databrickscfg profile, in that order. `--local` (and `demo` when nothing is configured)
/// uses a local warehouse started in-process instead.
#[derive(Parser, Debug)]
#[command(name = "connector-host", version, about, long_about)]
#[command(after_help = "Examples:\n  \
    connector-host demo\n  \
    connector-host --local query \"SELECT 1 AS one\"\n  \
    connector-host --profile DEV query -f report.sql --format csv --output report.csv\n\n\
    Exit codes: 0 ok, 1 host error, 2 invalid input, 3 authentication, 4 permission, 5 not found,\n\
    6 syntax, 7 timeout, 8 connection, 9 resource exhausted, 10 canceled, 11 server,\n\
    12 sandbox limit or trap, 13 component load (docs/errors.md).")]
pub struct Cli {
    /// Connection settings.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Output settings.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Sandbox and tuning.
    #[command(flatten)]
    pub tuning: TuningArgs,
    /// What to do.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Where to connect (flags win over DATABRICKS_* variables, which win over the profile).
#[derive(Args, Debug, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnArgs {
    /// Workspace host, bare (https implied) or a URL [env: DATABRICKS_HOST].
    #[arg(long, global = true)]
    pub host: Option<String>,
    /// The warehouse's HTTP path, /sql/1.0/warehouses/<id> [env: DATABRICKS_HTTP_PATH].
    #[arg(long, global = true)]
    pub http_path: Option<String>,
    /// The warehouse id (instead of --http-path) [env: DATABRICKS_WAREHOUSE_ID].
    #[arg(long, global = true)]
    pub warehouse_id: Option<String>,
    /// Personal access token [env: DATABRICKS_TOKEN].
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// OAuth M2M client id of a service principal [env: DATABRICKS_CLIENT_ID].
    #[arg(long, global = true)]
    pub client_id: Option<String>,
    /// OAuth M2M client secret [env: DATABRICKS_CLIENT_SECRET].
    #[arg(long, global = true)]
    pub client_secret: Option<String>,
    /// Profile of ~/.databrickscfg (or DATABRICKS_CONFIG_FILE) [env: DATABRICKS_CONFIG_PROFILE].
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Default catalog [env: DATABRICKS_CATALOG].
    #[arg(long, global = true)]
    pub catalog: Option<String>,
    /// Default schema [env: DATABRICKS_SCHEMA].
    #[arg(long, global = true)]
    pub schema: Option<String>,
    /// Use the local warehouse started in-process, whatever is configured.
    #[arg(long, global = true)]
    pub local: bool,
    /// Data directory of the local warehouse [default: ~/.cache/openmatch-databricks/warehouse].
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl ConnArgs {
    /// The connection flags, for [`crate::config::resolve`].
    pub fn flags(&self) -> Flags {
        Flags {
            host: self.host.clone(),
            http_path: self.http_path.clone(),
            warehouse_id: self.warehouse_id.clone(),
            token: self.token.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            catalog: self.catalog.clone(),
            schema: self.schema.clone(),
            profile: self.profile.clone(),
        }
    }
}

/// How results are printed.
#[derive(Args, Debug)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Same as --format json.
    #[arg(long, global = true)]
    pub json: bool,
    /// Write results to this file instead of stdout.
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Log the connector's debug events (statement ids, timings, retries) to stderr.
    #[arg(long, global = true)]
    pub debug_log: bool,
}

impl OutputArgs {
    /// The format, `--json` included.
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}

/// Sandbox limits and tuning.
#[derive(Args, Debug)]
#[command(next_help_heading = "Sandbox and tuning")]
pub struct TuningArgs {
    /// Also trust the CA certificates in this PEM file for https [env: SSL_CERT_FILE].
    #[arg(long, env = "SSL_CERT_FILE", global = true, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Also allow requests to this origin (e.g. the storage host of EXTERNAL_LINKS); repeatable.
    #[arg(long = "allow", global = true, value_name = "ORIGIN")]
    pub allow: Vec<String>,
    /// Fetch results through EXTERNAL_LINKS.
    #[arg(long, global = true)]
    pub external_links: bool,
    /// Result format of reads: auto (Arrow with --external-links, else JSON), arrow or json.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub result_format: Option<ResultFormatArg>,
    /// Result downloads (chunks or links) in flight at once, 1..=16 [default: 4].
    #[arg(long, global = true, value_name = "N")]
    pub download_window: Option<u32>,
    /// Stage large writes in this volume and load them with one COPY INTO.
    #[arg(long, global = true, env = "DATABRICKS_STAGING_VOLUME", value_name = "/Volumes/C/S/V")]
    pub staging_volume: Option<String>,
    /// Connector-side deadline of one call, ms.
    #[arg(long, global = true, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// Most rows per write statement.
    #[arg(long, global = true, value_name = "ROWS")]
    pub batch_rows: Option<u32>,
    /// Guest memory limit, MiB.
    #[arg(long, global = true, default_value_t = 256, value_name = "MIB")]
    pub memory_mib: usize,
}

/// `--result-format` (the WIT `result-format`).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormatArg {
    /// ARROW_STREAM with --external-links, else JSON_ARRAY INLINE.
    Auto,
    /// ARROW_STREAM, INLINE_OR_EXTERNAL_LINKS, LZ4_FRAME.
    Arrow,
    /// JSON_ARRAY.
    Json,
}

impl From<ResultFormatArg> for connector_host::ResultFormat {
    fn from(f: ResultFormatArg) -> Self {
        match f {
            ResultFormatArg::Auto => connector_host::ResultFormat::Auto,
            ResultFormatArg::Arrow => connector_host::ResultFormat::Arrow,
            ResultFormatArg::Json => connector_host::ResultFormat::Json,
        }
    }
}

/// SQL given as an argument, a file (`-f FILE`) or stdin (`-` / `-f -`).
#[derive(Args, Debug)]
pub struct SqlSource {
    /// The SQL; `-` reads it from stdin.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub sql: Option<String>,
    /// Read the SQL from this file (`-` for stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A parameter for a `%(name)s` marker: `name=value` (a STRING), `name:TYPE=value`
    /// (e.g. `n:INT=5`, `d:DATE=2024-01-01`), or `name:NULL`; repeatable.
    #[arg(long = "param", short = 'p', value_name = "NAME[:TYPE]=VALUE")]
    pub params: Vec<String>,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a query and print its rows as they arrive.
    #[command(after_help = "Example:\n  connector-host query \"SELECT * FROM customers WHERE region = %(r)s AND id > %(n)s\" -p r=WEST -p n:INT=10 --format csv")]
    Query(SqlSource),
    /// Run any statement (DDL, DML) and report its timing and counts.
    #[command(after_help = "Example:\n  connector-host exec \"CREATE TABLE IF NOT EXISTS people (id BIGINT, name STRING)\"")]
    Exec(SqlSource),
    /// Insert records from a JSON Lines or JSON array file (`-` for stdin).
    #[command(after_help = "Example:\n  connector-host write people people.jsonl\n  cat people.jsonl | connector-host write people -")]
    Write {
        /// Target table (`t`, `schema.t` or `catalog.schema.t`).
        target: String,
        /// The records file; `-` reads stdin.
        file: PathBuf,
    },
    /// Update rows from a records file (`-` for stdin), matched on key columns, via MERGE.
    #[command(after_help = "Example:\n  connector-host update people changes.jsonl --key id")]
    Update {
        /// Target table.
        target: String,
        /// The records file; `-` reads stdin.
        file: PathBuf,
        /// Key column [default: id]; repeatable.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// Delete rows by key.
    #[command(after_help = "Example:\n  connector-host delete people 4 8 15 --key id")]
    Delete {
        /// Target table.
        target: String,
        /// Key values (typed by the key column).
        #[arg(required = true)]
        ids: Vec<String>,
        /// Key column [default: id].
        #[arg(long)]
        key: Option<String>,
    },
    /// Compact a Delta table, optionally Z-ordering by columns.
    #[command(after_help = "Example:\n  connector-host optimize customers --zorder region")]
    Optimize {
        /// Table.
        table: String,
        /// Z-order column; repeatable.
        #[arg(long = "zorder")]
        zorder: Vec<String>,
    },
    /// Remove unreferenced files older than the retention period.
    #[command(after_help = "Example:\n  connector-host vacuum customers --retain-hours 168")]
    Vacuum {
        /// Table.
        table: String,
        /// Retention in hours [default: 168].
        #[arg(long)]
        retain_hours: Option<u32>,
    },
    /// Show a Delta table's history, newest first.
    #[command(after_help = "Example:\n  connector-host history customers --limit 5")]
    History {
        /// Table.
        table: String,
        /// Most entries.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Cancel a running statement by its id.
    #[command(after_help = "Example:\n  connector-host cancel 01ef-4c1b-9a70-1f2e3d4c5b6a")]
    Cancel {
        /// The statement id (as printed by `exec`, or in an error).
        statement_id: String,
    },
    /// Run OpenMatch's Databricks workflow in a schema of its own, created and dropped.
    #[command(after_help = "Without a configured workspace it runs against the local warehouse.\n\nExample:\n  connector-host demo")]
    Demo,
}
