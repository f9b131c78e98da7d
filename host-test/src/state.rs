//! Per-tenant store state: WASI + wasi-http contexts, the outbound allow-list hook, the memory
//! limiter, and the `wasi:logging` implementation (forwarded to `tracing`).

use std::future::Future;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::bindings::wit_logging;
use crate::outbound::{self, TlsTrust};
use crate::policy::{AllowList, Limits};

/// The `T` of `Store<T>` for one tenant.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    hooks: AllowListHooks,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) cpu: CpuMeter,
    label: Arc<str>,
}

impl HostState {
    pub(crate) fn new(allow: AllowList, tls: TlsTrust, limits: &Limits, label: &str) -> HostState {
        // No preopens, no sockets, no env, no args: the only way out is wasi:http, and that goes
        // through the allow-list below.
        let wasi = WasiCtx::builder().allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false).build();
        let label: Arc<str> = Arc::from(label);
        HostState {
            wasi,
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            hooks: AllowListHooks { allow: Arc::new(allow), tls, label: label.clone() },
            limiter: MemoryLimiter::new(limits),
            cpu: CpuMeter::new(limits.cpu_per_call),
            label,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// Outbound policy: a request goes out only if its (scheme, host, port) is on the allow-list,
/// and `https` trusts only the tenant's certificate authorities.
struct AllowListHooks {
    allow: Arc<AllowList>,
    tls: TlsTrust,
    label: Arc<str>,
}

type SendResult = wasmtime_wasi_http::Result<outbound::Sent>;

impl WasiHttpHooks for AllowListHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        if !self.allow.allows_uri(request.uri()) {
            // Log the origin only: a path or query may carry a presigned credential.
            let uri = request.uri();
            tracing::warn!(
                target: "openmatch::host",
                tenant = %self.label,
                scheme = uri.scheme_str().unwrap_or("?"),
                host = uri.host().unwrap_or("?"),
                port = uri.port_u16(),
                "outbound request denied: origin not on the allow-list"
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let tls = self.tls.clone();
        Box::new(async move { outbound::send(request, options, &tls).await })
    }
}

/// How often the engine's epoch advances: the CPU meter's tick and the longest stretch a busy
/// guest runs before yielding to the executor (so per-call timeouts fire).
pub(crate) const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// Epoch ticks a call has spent in guest code, against the tenant's budget.
pub(crate) struct CpuMeter {
    pub(crate) budget: std::time::Duration,
    max_ticks: u64,
    ticks: u64,
}

impl CpuMeter {
    fn new(budget: std::time::Duration) -> CpuMeter {
        let max_ticks = budget.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
        CpuMeter { budget, max_ticks: u64::try_from(max_ticks).unwrap_or(u64::MAX), ticks: 0 }
    }

    /// Start a call: returns the epoch deadline to set (0 = check at once, for a zero budget).
    pub(crate) fn reset(&mut self) -> u64 {
        self.ticks = 0;
        u64::from(self.max_ticks > 0)
    }

    /// One more tick seen in guest code; an error once the budget is spent.
    pub(crate) fn tick(&mut self) -> Result<(), CpuLimitExceeded> {
        self.ticks += 1;
        if self.ticks > self.max_ticks { Err(CpuLimitExceeded { budget: self.budget }) } else { Ok(()) }
    }
}

/// Marker error raised (as a trap) when a call spends its guest CPU budget.
#[derive(Debug)]
pub(crate) struct CpuLimitExceeded {
    pub(crate) budget: std::time::Duration,
}

impl std::fmt::Display for CpuLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the call used up its guest CPU budget ({:?}) and was stopped", self.budget)
    }
}

impl std::error::Error for CpuLimitExceeded {}

/// Marker error raised (as a trap) when the guest tries to grow memory past its limit.
#[derive(Debug)]
pub(crate) struct MemoryLimitExceeded {
    pub(crate) limit: usize,
    pub(crate) requested: usize,
}

impl std::fmt::Display for MemoryLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the guest tried to grow its linear memory to {} bytes; the tenant's limit is {} bytes",
            self.requested, self.limit
        )
    }
}

impl std::error::Error for MemoryLimitExceeded {}

/// `StoreLimits` (with `trap_on_grow_failure`) plus accounting: current and peak linear memory.
pub(crate) struct MemoryLimiter {
    inner: StoreLimits,
    limit: usize,
    /// Bytes of linear memory the guest has now (all memories).
    pub(crate) current: usize,
    /// Highest `current` seen.
    pub(crate) peak: usize,
}

impl MemoryLimiter {
    fn new(limits: &Limits) -> MemoryLimiter {
        let inner = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .table_elements(limits.table_elements)
            .instances(64)
            .tables(64)
            .memories(16)
            .trap_on_grow_failure(true)
            .build();
        MemoryLimiter { inner, limit: limits.memory_bytes, current: 0, peak: 0 }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        // StoreLimits checks one memory at a time; the tenant's limit is on the total.
        let total = self.current.saturating_sub(current).saturating_add(desired);
        if total > self.limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded { limit: self.limit, requested: total }));
        }
        match self.inner.memory_growing(current, desired, maximum) {
            Ok(true) => {
                self.current = total;
                self.peak = self.peak.max(total);
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(_) => Err(wasmtime::Error::new(MemoryLimitExceeded { limit: self.limit, requested: total })),
        }
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// Longest guest log message forwarded, in bytes.
const MAX_LOG_MESSAGE: usize = 8 * 1024;

impl wit_logging::Host for HostState {
    fn log(&mut self, level: wit_logging::Level, context: String, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_MESSAGE {
            let mut end = MAX_LOG_MESSAGE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        let tenant = &*self.label;
        use wit_logging::Level as L;
        match level {
            L::Trace => tracing::trace!(target: "openmatch::guest", tenant, context, "{message}"),
            // A retry is worth seeing without the whole debug stream: raised to info.
            L::Debug if message.starts_with("retry ") => {
                tracing::info!(target: "openmatch::guest", tenant, context, "{message}")
            }
            L::Debug => tracing::debug!(target: "openmatch::guest", tenant, context, "{message}"),
            L::Info => tracing::info!(target: "openmatch::guest", tenant, context, "{message}"),
            L::Warn => tracing::warn!(target: "openmatch::guest", tenant, context, "{message}"),
            L::Error | L::Critical => tracing::error!(target: "openmatch::guest", tenant, context, "{message}"),
        }
    }
}
