//! Loading the component once (engine, on-disk compiled cache, `InstancePre`) and instantiating
//! it per tenant, each in its own `Store` with its own sandbox.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker, ResourceAny};
use wasmtime::{Config, Engine, Store, Trap, UpdateDeadline};

use crate::bindings::{ConnectorComponent, ConnectorComponentPre};
use crate::connection::{ConnectConfig, Connection};
use crate::convert;
use crate::error::{Error, ErrorKind};
use crate::policy::{Limits, Origin, TenantPolicy};
use crate::state::{CpuLimitExceeded, EPOCH_TICK, HostState, MemoryLimitExceeded};

/// The wasmtime version compiled artifacts are made with (part of the cache key).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Path of the component built by this crate's build script (may not exist if the guest did
/// not build; [`ConnectorHost::load_default`] then fails with a clear `load` error).
pub const BUNDLED_WASM: &str = env!("CONNECTOR_WASM");

/// The bytes of the component this crate's build script built, carried inside the library
/// (feature `embed-component`); empty if the guest did not build.
/// [`ConnectorHost::load_embedded`] loads it.
#[cfg(feature = "embed-component")]
pub static EMBEDDED_WASM: &[u8] = include_bytes!(env!("CONNECTOR_WASM_EMBED"));

/// How the component was obtained, and how long that took.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The `.wasm` file, or the label of a component loaded from memory.
    pub wasm_path: PathBuf,
    /// Whether the component came from memory ([`ConnectorHost::load_bytes`]) rather than a file.
    pub in_memory: bool,
    /// Size of the `.wasm` in bytes.
    pub wasm_bytes: usize,
    /// The compiled artifact in the cache, if caching is on.
    pub cache_path: Option<PathBuf>,
    /// Whether the compiled artifact came from the cache (no compilation).
    pub from_cache: bool,
    /// Time spent compiling (zero when loaded from the cache).
    pub compile_time: Duration,
    /// Time spent loading: reading, deserializing or compiling, linking and pre-instantiating.
    pub load_time: Duration,
    /// Why the compiled cache was not used or not written, if it was not.
    pub cache_problem: Option<String>,
}

/// Options of [`ConnectorHost::load_with`].
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Directory of compiled artifacts; `None` disables the cache. Default
    /// `$XDG_CACHE_HOME/openmatch-databricks` or `~/.cache/openmatch-databricks`.
    pub cache_dir: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions { cache_dir: default_cache_dir() }
    }
}

/// The loaded connector component: one engine, one compiled component, one `InstancePre`.
/// Cheap to share (`Arc`) between tasks; each tenant gets its own instance.
pub struct ConnectorHost {
    engine: Engine,
    pre: ConnectorComponentPre<HostState>,
    report: LoadReport,
}

impl std::fmt::Debug for ConnectorHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorHost").field("report", &self.report).finish_non_exhaustive()
    }
}

impl ConnectorHost {
    /// Load the component named by `OPENMATCH_CONNECTOR_WASM`, else the one this crate's build
    /// script built ([`BUNDLED_WASM`]), with the default cache.
    pub fn load_default() -> Result<ConnectorHost, Error> {
        let path = std::env::var_os("OPENMATCH_CONNECTOR_WASM")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(BUNDLED_WASM));
        ConnectorHost::load(&path)
    }

    /// Load a component file with the default cache.
    pub fn load(path: &Path) -> Result<ConnectorHost, Error> {
        ConnectorHost::load_with(path, &LoadOptions::default())
    }

    /// Load a component file.
    pub fn load_with(path: &Path, options: &LoadOptions) -> Result<ConnectorHost, Error> {
        let started = Instant::now();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::message(
                ErrorKind::Load,
                format!(
                    "cannot read the connector component {}: {e} (build it with `cargo build -p connector-host`, \
                     which builds the guest for wasm32-wasip2 — `rustup target add wasm32-wasip2` if missing — \
                     or set OPENMATCH_CONNECTOR_WASM)",
                    path.display()
                ),
            )
        })?;
        ConnectorHost::from_bytes(&bytes, path.to_path_buf(), false, options, started)
    }

    /// Load a component from memory (e.g. bytes the embedding program carries with
    /// `include_bytes!`). `label` names it in reports and errors; the compiled cache works as for
    /// files (keyed by the bytes).
    pub fn load_bytes(bytes: &[u8], label: &str, options: &LoadOptions) -> Result<ConnectorHost, Error> {
        if bytes.is_empty() {
            return Err(Error::message(
                ErrorKind::Load,
                format!("the connector component `{label}` is empty (its guest build failed; see the build warnings)"),
            ));
        }
        ConnectorHost::from_bytes(bytes, PathBuf::from(label), true, options, Instant::now())
    }

    /// Load the component carried in this library ([`EMBEDDED_WASM`], feature
    /// `embed-component`) with the default cache, unless `OPENMATCH_CONNECTOR_WASM` names a
    /// file, which then wins. A program built this way needs no `.wasm` file at run time.
    #[cfg(feature = "embed-component")]
    pub fn load_embedded() -> Result<ConnectorHost, Error> {
        match std::env::var_os("OPENMATCH_CONNECTOR_WASM").filter(|p| !p.is_empty()) {
            Some(path) => ConnectorHost::load(Path::new(&path)),
            None => ConnectorHost::load_bytes(EMBEDDED_WASM, "<embedded connector component>", &LoadOptions::default()),
        }
    }

    fn from_bytes(
        bytes: &[u8],
        wasm_path: PathBuf,
        in_memory: bool,
        options: &LoadOptions,
        started: Instant,
    ) -> Result<ConnectorHost, Error> {
        let path = wasm_path.as_path();
        let engine = new_engine()?;
        start_epoch_ticker(&engine)?;
        let cache_path = options.cache_dir.as_ref().map(|dir| dir.join(format!("{}.cwasm", cache_key(&engine, bytes))));

        let mut from_cache = false;
        let mut cache_problem = None;
        let mut compile_time = Duration::ZERO;
        let mut component = None;
        if let Some(cache) = &cache_path
            && cache.exists()
        {
            // SAFETY: the file was written by `Component::serialize` of this same wasmtime version
            // and engine configuration (both are part of its name), in a directory of our own.
            match unsafe { Component::deserialize_file(&engine, cache) } {
                Ok(c) => {
                    component = Some(c);
                    from_cache = true;
                }
                Err(e) => {
                    tracing::warn!(target: "openmatch::host", "ignoring unusable compiled cache {}: {e:#}", cache.display());
                    cache_problem = Some(format!("cannot use {}: {e:#}", cache.display()));
                }
            }
        }
        let component = match component {
            Some(c) => c,
            None => {
                let t = Instant::now();
                let c = Component::new(&engine, bytes).map_err(|e| {
                    Error::message(ErrorKind::Load, format!("cannot compile {}: {e:#}", path.display()))
                })?;
                compile_time = t.elapsed();
                if let Some(cache) = &cache_path {
                    if let Err(e) = write_cache(cache, &c) {
                        tracing::warn!(target: "openmatch::host", "could not write compiled cache {}: {e}", cache.display());
                        cache_problem = Some(format!("cannot write {}: {e}", cache.display()));
                    }
                }
                c
            }
        };

        let pre = link(&engine, &component)?;
        Ok(ConnectorHost {
            engine,
            pre,
            report: LoadReport {
                wasm_path: path.to_path_buf(),
                in_memory,
                wasm_bytes: bytes.len(),
                cache_path,
                from_cache,
                compile_time,
                load_time: started.elapsed(),
                cache_problem,
            },
        })
    }

    /// How the component was loaded.
    pub fn load_report(&self) -> &LoadReport {
        &self.report
    }

    /// The engine (shared by every tenant).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A new tenant: a fresh instance in its own store, sandboxed by `policy`.
    pub async fn tenant(&self, policy: TenantPolicy) -> Result<Tenant, Error> {
        let state = HostState::new(policy.allow.clone(), policy.tls.clone(), &policy.limits, &policy.label);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        // Each epoch tick seen in guest code is charged to the call, then the guest yields so
        // the executor runs other tenants and per-call timeouts can fire.
        store.epoch_deadline_callback(|mut ctx| {
            ctx.data_mut().cpu.tick()?;
            Ok(UpdateDeadline::Yield(1))
        });
        let deadline = store.data_mut().cpu.reset();
        store.set_epoch_deadline(deadline);
        let timeout = policy.limits.call_timeout;
        let bindings = match tokio::time::timeout(timeout, self.pre.instantiate_async(&mut store)).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return Err(classify(e)),
            Err(_) => return Err(Error::call_timeout(timeout)),
        };
        Ok(Tenant { store, bindings, limits: policy.limits, broken: None, pending_drops: Vec::new() })
    }

    /// Shorthand: a tenant allowed to reach exactly the config's server, then a connection.
    pub async fn connect(&self, config: &ConnectConfig) -> Result<OwnedConnection, Error> {
        self.connect_with(config, TenantPolicy::default()).await
    }

    /// Like [`ConnectorHost::connect`], with `policy`'s limits, TLS trust and extra origins;
    /// the config's server is added to its allow-list.
    pub async fn connect_with(&self, config: &ConnectConfig, mut policy: TenantPolicy) -> Result<OwnedConnection, Error> {
        let origin = Origin::of(config)?;
        policy.allow = std::mem::take(&mut policy.allow).allow(origin);
        let mut tenant = self.tenant(policy).await?;
        let handle = tenant.open(config).await?;
        Ok(OwnedConnection { tenant, handle: Some(handle) })
    }
}

fn new_engine() -> Result<Engine, Error> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Epoch interruption (a counter check at loop heads and calls) meters guest CPU time and
    // makes busy guests yield; it costs far less than fuel, which counts every instruction.
    config.epoch_interruption(true);
    // `OPENMATCH_PERFMAP=1` names the compiled guest functions for `perf` (/tmp/perf-<pid>.map).
    if std::env::var_os("OPENMATCH_PERFMAP").is_some_and(|v| v == "1") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config).map_err(|e| Error::message(ErrorKind::Load, format!("cannot create the wasmtime engine: {e:#}")))
}

/// Advance `engine`'s epoch every [`EPOCH_TICK`] for as long as the engine lives.
fn start_epoch_ticker(engine: &Engine) -> Result<(), Error> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("openmatch-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map(drop)
        .map_err(|e| Error::message(ErrorKind::Load, format!("cannot start the epoch ticker thread: {e}")))
}

fn link(engine: &Engine, component: &Component) -> Result<ConnectorComponentPre<HostState>, Error> {
    let load = |what: &str, e: wasmtime::Error| Error::message(ErrorKind::Load, format!("{what}: {e:#}"));
    let mut linker = Linker::<HostState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| load("linking WASI", e))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(|e| load("linking wasi:http", e))?;
    ConnectorComponent::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
        .map_err(|e| load("linking wasi:logging", e))?;
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| load("the component's imports cannot be satisfied", e))?;
    ConnectorComponentPre::new(pre).map_err(|e| load("the component does not export the connector-component world", e))
}

fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    // Two independent 64-bit SipHashes (fixed keys) of the wasm bytes, the wasmtime version and
    // the engine's compatibility hash (configuration + target). A miss only costs a compile.
    let mut parts = [0u64; 2];
    for (seed, part) in parts.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (seed as u64 + 0x6f6d_6462).hash(&mut h);
        WASMTIME_VERSION.hash(&mut h);
        engine.precompile_compatibility_hash().hash(&mut h);
        bytes.hash(&mut h);
        *part = h.finish();
    }
    format!("{:016x}{:016x}-wasmtime{}", parts[0], parts[1], WASMTIME_VERSION)
}

fn write_cache(path: &Path, component: &Component) -> std::io::Result<()> {
    let serialized = component.serialize().map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, serialized)?;
    std::fs::rename(&tmp, path)
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|p| !p.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("openmatch-databricks"))
}

/// Map a wasmtime error from a guest call to a typed host error.
fn classify(e: wasmtime::Error) -> Error {
    if let Some(m) = e.downcast_ref::<MemoryLimitExceeded>() {
        return Error::message(ErrorKind::MemoryLimit, m.to_string());
    }
    if let Some(c) = e.downcast_ref::<CpuLimitExceeded>() {
        return Error::message(ErrorKind::CpuLimit, c.to_string());
    }
    match e.downcast_ref::<Trap>() {
        Some(trap) => {
            let detail = format!("{e:#}");
            let first = detail.lines().next().unwrap_or_default();
            Error::message(ErrorKind::Trap, format!("the connector component trapped ({trap}): {first}"))
        }
        // Only the first line: the rest is a wasm backtrace, not for users.
        None => {
            let detail = format!("{e:#}");
            let first = detail.lines().next().unwrap_or_default();
            Error::message(ErrorKind::Trap, format!("the connector component failed: {first}"))
        }
    }
}

/// One tenant: a connector instance in its own store, with its own allow-list and limits. A
/// guest trap, limit or timeout makes the tenant unusable (later calls fail with `unusable`);
/// other tenants are not affected.
pub struct Tenant {
    pub(crate) store: Store<HostState>,
    pub(crate) bindings: ConnectorComponent,
    pub(crate) limits: Limits,
    broken: Option<Error>,
    pending_drops: Vec<ResourceAny>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("limits", &self.limits)
            .field("broken", &self.broken)
            .field("memory_bytes", &self.memory_bytes())
            .finish_non_exhaustive()
    }
}

/// Memory figures of a tenant's guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Bytes of linear memory now.
    pub current: usize,
    /// Most bytes of linear memory the guest has had.
    pub peak: usize,
    /// The limit.
    pub limit: usize,
}

impl Tenant {
    /// Open a connection (`connection.open`), borrowing this tenant.
    pub async fn connect(&mut self, config: &ConnectConfig) -> Result<Connection<'_>, Error> {
        let handle = self.open(config).await?;
        Ok(Connection::new(self, handle))
    }

    pub(crate) async fn open(&mut self, config: &ConnectConfig) -> Result<ResourceAny, Error> {
        let wit_config = convert::config_to_wit(config);
        self.prepare().await?;
        let guest = self.bindings.openmatch_databricks_connector().connection();
        let r = tokio::time::timeout(self.limits.call_timeout, guest.call_open(&mut self.store, &wit_config)).await;
        self.finish(r)?.map_err(convert::error_from_wit)
    }

    /// Linear memory of the guest: now, peak, limit.
    pub fn memory_usage(&self) -> MemoryUsage {
        let l = &self.store.data().limiter;
        MemoryUsage { current: l.current, peak: l.peak, limit: self.limits.memory_bytes }
    }

    /// Bytes of guest linear memory now.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limiter.current
    }

    /// Whether an earlier trap, limit or timeout has stopped this tenant's instance.
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// A fresh CPU budget for the next guest call.
    fn reset_cpu(&mut self) {
        let deadline = self.store.data_mut().cpu.reset();
        self.store.set_epoch_deadline(deadline);
    }

    /// Before a guest call: refuse if broken, release handles dropped since, reset the budget.
    pub(crate) async fn prepare(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.broken {
            return Err(Error::message(
                ErrorKind::Unusable,
                format!("this tenant's instance was stopped by an earlier error ({e}); open a new tenant"),
            ));
        }
        let pending = std::mem::take(&mut self.pending_drops);
        for handle in pending {
            self.reset_cpu();
            let r = tokio::time::timeout(self.limits.call_timeout, handle.resource_drop_async(&mut self.store)).await;
            self.finish(r)?;
        }
        self.reset_cpu();
        Ok(())
    }

    /// After a guest call: map traps, limits and timeouts, and mark the tenant broken on them.
    pub(crate) fn finish<R>(
        &mut self,
        r: Result<wasmtime::Result<R>, tokio::time::error::Elapsed>,
    ) -> Result<R, Error> {
        let err = match r {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => classify(e),
            Err(_) => Error::call_timeout(self.limits.call_timeout),
        };
        tracing::warn!(target: "openmatch::host", error = %err, "tenant instance stopped");
        self.broken = Some(err.clone());
        Err(err)
    }

    /// Queue a resource handle to be dropped in the guest before the next call.
    pub(crate) fn defer_drop(&mut self, handle: ResourceAny) {
        if self.broken.is_none() {
            self.pending_drops.push(handle);
        }
    }

    /// Drop a resource handle in the guest now.
    pub(crate) async fn drop_now(&mut self, handle: ResourceAny) -> Result<(), Error> {
        self.prepare().await?;
        let r = tokio::time::timeout(self.limits.call_timeout, handle.resource_drop_async(&mut self.store)).await;
        self.finish(r)
    }
}

/// A connection that owns its tenant (from [`ConnectorHost::connect`]).
pub struct OwnedConnection {
    tenant: Tenant,
    handle: Option<ResourceAny>,
}

impl std::fmt::Debug for OwnedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedConnection").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

impl OwnedConnection {
    /// The connection, to call its methods.
    pub fn conn(&mut self) -> Connection<'_> {
        let handle = self.handle.expect("handle present until drop");
        Connection::borrowed(&mut self.tenant, handle)
    }

    /// The tenant (for memory figures).
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }
}

impl Drop for OwnedConnection {
    fn drop(&mut self) {
        // The store (and every resource in it) goes away with the tenant.
        self.handle.take();
    }
}
