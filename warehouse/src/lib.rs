//! A local server speaking the Databricks SQL Statement Execution API 2.0 over real Delta
//! tables (delta-rs + DataFusion), for tests, benchmarks and running the connector without a
//! workspace. `docs/wire.md` at the repository root is the contract it implements.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use warehouse::{Config, Principal, Privilege, FaultRule, FaultKind, Endpoint};
//! let config = Config::new("/tmp/wh")
//!     .chunk_rows(1000)
//!     .principal(Principal::new("reader").token("reader-token").grant(Privilege::Select, "main.default"))
//!     .fault(FaultRule::new(Endpoint::ExecuteStatement, FaultKind::TooManyRequests { retry_after_secs: 1 }).times(1));
//! let running = warehouse::spawn(config).await?;
//! println!("{} {} {}", running.url, running.warehouse_id, warehouse::DEFAULT_TOKEN);
//! running.shutdown();
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod api;
pub mod clock;
pub mod config;
pub mod engine;
pub mod names;
pub mod registry;
pub mod results;
mod serve;
pub mod sessions;
pub mod volumes;

use std::sync::Arc;

pub use api::app;
pub use config::{
    Config, Endpoint, FaultKind, FaultRule, Grant, GrantsFile, OAuthClient, Principal, Privilege,
    Tls,
};
pub use serve::TlsError;

/// The admin token of a default configuration (all privileges everywhere).
pub const DEFAULT_TOKEN: &str = "dapi0000000000000000000000000000local";

/// The warehouse id of a default configuration (16 hex digits, like the service's);
/// `http_path` is `/sql/1.0/warehouses/8a1c2e3f4b5d6a7e`.
pub const DEFAULT_WAREHOUSE_ID: &str = "8a1c2e3f4b5d6a7e";

/// A running server. Dropping it (or calling [`Running::shutdown`]) stops it.
#[derive(Debug)]
pub struct Running {
    /// `http://127.0.0.1:<port>`, or `https://127.0.0.1:<port>` with TLS.
    pub url: String,
    /// The warehouse id to send as `warehouse_id`.
    pub warehouse_id: String,
    /// The bound address.
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting connections (in-flight requests finish).
    pub fn shutdown(mut self) {
        self.signal();
    }

    /// Stops and waits until the server task has ended.
    pub async fn stopped(mut self) {
        self.signal();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    fn signal(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.signal();
    }
}

/// Starts a server on `config.listen` (default `127.0.0.1:0`) on the current tokio runtime,
/// over HTTPS when `config.tls` is set.
pub async fn spawn(config: Config) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let tls = match &config.tls {
        Some(t) => Some(serve::acceptor(t, addr.ip())?),
        None => None,
    };
    let url = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" });
    let engine = Arc::new(
        engine::Engine::new(&config.data_dir, config.retention_duration_check)?
            .with_statement_memory(config.statement_memory_bytes),
    );
    let clock: Arc<dyn clock::Clock> = Arc::new(clock::SystemClock);
    let state = api::AppState {
        auth: Arc::new(api::Auth::new(&config)),
        faults: Arc::new(api::Faults::new(&config.faults, config.fault_seed)),
        registry: Arc::new(registry::Registry::new(config.result_ttl, clock.clone())),
        sessions: Arc::new(sessions::Sessions::new(config.result_ttl, clock)),
        engine,
        base_url: url.clone().into(),
        config: Arc::new(config.clone()),
    };
    let router = api::app(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let limits = serve::Limits::of(&config);
    let task = tokio::spawn(serve::serve(listener, router, tls, limits, rx));
    tracing::info!(%url, warehouse_id = %config.warehouse_id, "warehouse listening");
    Ok(Running {
        url,
        warehouse_id: config.warehouse_id.clone(),
        addr,
        stop: Some(tx),
        task: Some(task),
    })
}

/// A server with its own runtime on a background thread, for synchronous callers (tests
/// using blocking HTTP clients). Dropping it stops the server and the runtime.
#[derive(Debug)]
pub struct Background {
    /// The server.
    pub running: Running,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Background {
    /// Base URL.
    pub fn url(&self) -> &str {
        &self.running.url
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.running.signal();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Starts a server on a new multi-threaded runtime (2 workers) and returns without blocking.
pub fn spawn_background(config: Config) -> anyhow::Result<Background> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("warehouse")
        .build()?;
    let running = runtime.block_on(spawn(config))?;
    Ok(Background {
        running,
        runtime: Some(runtime),
    })
}
