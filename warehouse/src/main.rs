//! `warehouse serve --listen 127.0.0.1:0 --data <dir> [--token t]... [--grants file.json] [--fault spec]...
//! [--tls-cert cert.pem --tls-key key.pem | --tls-self-signed cert-out.pem]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use warehouse::{Config, FaultRule, GrantsFile, Principal};

#[derive(Parser)]
#[command(
    name = "warehouse",
    about = "Local Databricks SQL Statement Execution API 2.0 over Delta tables"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve until interrupted.
    Serve {
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Data directory (catalog/schema/table directories).
        #[arg(long)]
        data: PathBuf,
        /// Admin token (repeatable). When given, replaces the default token.
        #[arg(long = "token")]
        tokens: Vec<String>,
        /// JSON grants file: {"principals": [...], "oauth_clients": [...]}.
        #[arg(long)]
        grants: Option<PathBuf>,
        /// Warehouse id.
        #[arg(long, default_value = warehouse::DEFAULT_WAREHOUSE_ID)]
        warehouse_id: String,
        /// Rows per result chunk.
        #[arg(long, default_value_t = 100_000)]
        chunk_rows: usize,
        /// Fault rule, e.g. `endpoint=statements,kind=429,retry_after=2,rate=0.5,times=3` (repeatable).
        #[arg(long = "fault")]
        faults: Vec<String>,
        /// Lifetime of OAuth tokens in seconds.
        #[arg(long, default_value_t = 3600)]
        oauth_token_ttl: u64,
        /// Lifetime of external links in seconds.
        #[arg(long, default_value_t = 900)]
        link_ttl: u64,
        /// Allow VACUUM with a retention below 168 hours.
        #[arg(long)]
        no_retention_check: bool,
        /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, requires = "tls_key", conflicts_with = "tls_self_signed")]
        tls_cert: Option<PathBuf>,
        /// Private key (PEM) of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Serve HTTPS with a self-signed certificate for localhost/127.0.0.1, written (PEM) to
        /// this file for clients to trust.
        #[arg(long, value_name = "CERT_OUT_FILE")]
        tls_self_signed: Option<PathBuf>,
        /// Seconds a client may take for the TLS handshake and each request's headers.
        #[arg(long, default_value_t = 30)]
        header_read_timeout: u64,
        /// Connections served at once; more wait in the listen backlog.
        #[arg(long, default_value_t = 1024)]
        max_connections: usize,
        /// Memory (bytes) DataFusion may use for one statement.
        #[arg(long, default_value_t = warehouse::engine::DEFAULT_STATEMENT_MEMORY)]
        statement_memory: usize,
        /// Rendered result bytes kept for one statement.
        #[arg(long, default_value_t = 2 * 1024 * 1024 * 1024)]
        max_result_bytes: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve {
            listen,
            data,
            tokens,
            grants,
            warehouse_id,
            chunk_rows,
            faults,
            oauth_token_ttl,
            link_ttl,
            no_retention_check,
            tls_cert,
            tls_key,
            tls_self_signed,
            header_read_timeout,
            max_connections,
            statement_memory,
            max_result_bytes,
        } => {
            let mut config = Config::new(data)
                .listen(listen)
                .warehouse_id(warehouse_id)
                .chunk_rows(chunk_rows)
                .oauth_token_ttl(Duration::from_secs(oauth_token_ttl))
                .external_link_ttl(Duration::from_secs(link_ttl))
                .retention_duration_check(!no_retention_check)
                .header_read_timeout(Duration::from_secs(header_read_timeout))
                .max_connections(max_connections)
                .statement_memory_bytes(statement_memory)
                .max_result_bytes(max_result_bytes);
            if let (Some(cert), Some(key)) = (tls_cert, tls_key) {
                config = config.tls_files(cert, key);
            }
            if let Some(out) = tls_self_signed {
                config = config.tls_self_signed(out);
            }
            if !tokens.is_empty() {
                let mut admin = Principal::new("admin").with_admin(true);
                admin.tokens = tokens;
                config.principals = vec![admin];
            }
            if let Some(path) = grants {
                let text = std::fs::read_to_string(&path)?;
                let file: GrantsFile = serde_json::from_str(&text)?;
                config = config.grants_file(file);
            }
            for f in faults {
                config = config.fault(FaultRule::parse(&f).map_err(anyhow::Error::msg)?);
            }
            let running = warehouse::spawn(config).await?;
            println!("listening on {}", running.url);
            use std::io::Write;
            std::io::stdout().flush()?;
            tokio::signal::ctrl_c().await?;
            running.stopped().await;
            Ok(())
        }
    }
}
