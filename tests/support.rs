//! Shared helpers for the end-to-end tests: one compiled component per test process, a local
//! warehouse per test (own temp data dir, loopback, ephemeral port) with a few principals, and
//! tenants/connections wired to it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use connector_host::{
    AllowList, ConnectConfig, ConnectorHost, Credential, Limits, Origin, Secret, Tenant, TenantPolicy, TlsTrust,
};

/// Token of the admin principal (all privileges).
pub const ADMIN_TOKEN: &str = warehouse::DEFAULT_TOKEN;
/// Token of `reader`: SELECT on `main.default` only.
pub const READER_TOKEN: &str = "dapi-e2e-reader";
/// Token of `nobody`: authenticated, no grants at all.
pub const NOGRANT_TOKEN: &str = "dapi-e2e-nobody";
/// OAuth M2M client acting as the admin.
pub const OAUTH_CLIENT_ID: &str = "e2e-sp";
/// Its secret.
pub const OAUTH_CLIENT_SECRET: &str = "e2e-sp-secret";

/// The component, loaded (and compiled or read from the cache) once per test process.
pub fn host() -> Arc<ConnectorHost> {
    static HOST: OnceLock<Arc<ConnectorHost>> = OnceLock::new();
    HOST.get_or_init(|| {
        let started = Instant::now();
        let host = ConnectorHost::load_default().unwrap_or_else(|e| panic!("{e}"));
        let r = host.load_report();
        eprintln!(
            "[e2e] component {} ({} bytes): {} in {:?} (compile {:?})",
            r.wasm_path.display(),
            r.wasm_bytes,
            if r.from_cache { "from cache" } else { "compiled" },
            started.elapsed(),
            r.compile_time
        );
        Arc::new(host)
    })
    .clone()
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory under the system temp dir.
    pub fn new(prefix: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("openmatch-e2e-{prefix}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether the suite runs against an https warehouse (`OPENMATCH_E2E_TLS=1`, as `.ci/run`
/// does in its second pass): each warehouse serves a self-signed certificate that the
/// tenants trust through [`TlsTrust`].
pub fn https_mode() -> bool {
    std::env::var("OPENMATCH_E2E_TLS").is_ok_and(|v| v == "1")
}

/// A running local warehouse for one test.
pub struct Env {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// `/sql/1.0/warehouses/<id>`.
    pub http_path: String,
    /// The shared component.
    pub host: Arc<ConnectorHost>,
    /// What tenants trust: the warehouse's self-signed certificate in https mode.
    pub tls: TlsTrust,
    _server: warehouse::Running,
    _dir: TempDir,
}

impl Env {
    /// Start a warehouse with the default principals (admin, reader, nobody, an OAuth client).
    pub async fn start() -> Env {
        Env::start_with(|c| c).await
    }

    /// Start a warehouse, letting the test adjust its config (faults, chunk size, …).
    pub async fn start_with(adjust: impl FnOnce(warehouse::Config) -> warehouse::Config) -> Env {
        let host = host();
        let dir = TempDir::new("wh");
        let config = warehouse::Config::new(dir.path().join("data"))
            .principal(warehouse::Principal::new("reader").token(READER_TOKEN).grant(warehouse::Privilege::Select, "main.default"))
            .principal(warehouse::Principal::new("nobody").token(NOGRANT_TOKEN))
            .oauth_client(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, "admin");
        let mut config = adjust(config);
        let cert = dir.path().join("cert.pem");
        // A test that chose its own TLS keeps it (and builds its own trust).
        let own_tls = https_mode() && config.tls.is_none();
        if own_tls {
            config = config.tls_self_signed(&cert);
        }
        let server = warehouse::spawn(config).await.unwrap_or_else(|e| panic!("warehouse did not start: {e:#}"));
        let tls = if own_tls {
            TlsTrust::with_pem_file(&cert).unwrap_or_else(|e| panic!("warehouse certificate: {e}"))
        } else {
            TlsTrust::webpki()
        };
        Env {
            url: server.url.clone(),
            http_path: format!("/sql/1.0/warehouses/{}", server.warehouse_id),
            host,
            tls,
            _server: server,
            _dir: dir,
        }
    }

    /// The warehouse's origin.
    pub fn origin(&self) -> Origin {
        self.url.parse().expect("warehouse url parses")
    }

    /// A connector config with `token`, catalog `main`, schema `default`.
    pub fn config(&self, token: &str) -> ConnectConfig {
        ConnectConfig::new(&self.url, &self.http_path, Credential::AccessToken(Secret::new(token)))
            .with_namespace("main", "default")
    }

    /// A tenant allowed to reach this warehouse, with default limits.
    pub async fn tenant(&self) -> Tenant {
        self.tenant_with(Limits::default()).await
    }

    /// A tenant allowed to reach this warehouse, with `limits`.
    pub async fn tenant_with(&self, limits: Limits) -> Tenant {
        let policy = TenantPolicy {
            allow: AllowList::new().allow(self.origin()),
            limits,
            label: "e2e".into(),
            tls: self.tls.clone(),
            ..TenantPolicy::default()
        };
        self.host.tenant(policy).await.unwrap_or_else(|e| panic!("tenant: {e}"))
    }
}

/// Time an async block and print it (for the numbers in the report).
pub async fn timed<T>(what: &str, f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let t = Instant::now();
    let out = f.await;
    let d = t.elapsed();
    eprintln!("[e2e] {what}: {d:?}");
    (out, d)
}

/// The `connector-host` CLI binary next to the test executables (built when missing).
pub fn cli_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // <target>/<profile>/deps/e2e-<hash> → <target>/<profile>/connector-host
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join(format!("connector-host{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target_dir = dir.parent().expect("target root");
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "openmatch-cli", "--bin", "connector-host", "--target-dir"])
            .arg(target_dir)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("run cargo build for the CLI");
        assert!(status.success(), "building connector-host failed");
    }
    bin
}
