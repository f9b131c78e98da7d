//! # serve-host — run a `wasi:http/proxy` component the way `wasmtime serve` does
//!
//! A small embedding of wasmtime 48 for the Spin example: it composes the app with the
//! connector ([`compose`], the library behind `wasm-tools compose`), then serves HTTP on a
//! loopback port ([`serve`]), one fresh instance per request, with
//!
//! - WASI 0.2 (`wasi:cli`, clocks, random, io — no preopens, no sockets) and the environment
//!   variables given in [`ServeOptions::env`] (how the app gets its Databricks settings),
//! - `wasi:http` 0.2 incoming and outgoing handlers (any 0.2.x import links),
//! - an outbound allow-list of `host:port` authorities ([`ServeOptions::allow`]): anything else
//!   is `HttpRequestDenied`, which the connector reports as a `connection` error,
//! - `wasi:logging/logging` (the connector imports it) printed to stderr when
//!   [`ServeOptions::log`] is set.
//!
//! This is what Spin does for the app at run time (it composes `[component.*.dependencies]` and
//! enforces `allowed_outbound_hosts`), reduced to what a test needs.

#![deny(missing_docs)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use tokio::net::TcpListener;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{
    RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
    default_send_request,
};

mod logging {
    wasmtime::component::bindgen!({
        inline: "package serve-host:logging; world host { import wasi:logging/logging; }",
        path: "../../wit/deps/logging",
    });
}
use logging::wasi::logging::logging as wit_logging;

/// Composes `app` (which imports `openmatch:databricks/*`) with `connector` (which exports
/// them) into one component, as `wasm-tools compose app.wasm -d connector.wasm` does.
pub fn compose(app: &Path, connector: &Path) -> Result<Vec<u8>> {
    for p in [app, connector] {
        if !p.exists() {
            bail!("{} does not exist", p.display());
        }
    }
    // The composer names the plugged instance after the file stem, which must be kebab-case
    // (`openmatch_databricks.wasm` is not): plug a copy named `openmatch-databricks.wasm`.
    let dir = std::env::temp_dir().join(format!(
        "serve-host-compose-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir)?;
    let plug = dir.join("openmatch-databricks.wasm");
    std::fs::copy(connector, &plug).with_context(|| format!("copying {}", connector.display()))?;
    let config = wasm_compose::config::Config {
        definitions: vec![plug],
        ..Default::default()
    };
    let composed = wasm_compose::composer::ComponentComposer::new(app, &config)
        .compose()
        .with_context(|| format!("composing {} with {}", app.display(), connector.display()));
    let _ = std::fs::remove_dir_all(&dir);
    composed
}

/// How requests are served.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Environment variables of every instance.
    pub env: Vec<(String, String)>,
    /// Outbound authorities (`host:port`, port required) the component may call.
    pub allow: Vec<String>,
    /// Print the guest's `wasi:logging` events to stderr.
    pub log: bool,
}

/// A running server; dropping it stops accepting connections.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A compiled, linked component ready to serve (compile once, serve many times).
#[derive(Clone)]
pub struct Host {
    pre: ProxyPre<State>,
}

impl Host {
    /// Compiles `component` and links it against WASI 0.2, wasi:http 0.2 and wasi:logging.
    pub fn new(component: &[u8]) -> Result<Host> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let component = Component::new(&engine, component)
            .map_err(anyhow::Error::from)
            .context("compiling the component")?;
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        wit_logging::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the component")?;
        let pre = ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export wasi:http/incoming-handler@0.2")?;
        Ok(Host { pre })
    }

    /// Serves on `listen` (port 0 for an ephemeral port) with `options`, one instance per request.
    pub async fn serve(&self, listen: SocketAddr, options: ServeOptions) -> Result<Server> {
        let listener = TcpListener::bind(listen).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            pre: self.pre.clone(),
            options,
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { shared.handle(req).await }
                    });
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Server { url, task })
    }
}

/// Compiles `component` and serves it on `listen`: [`Host::new`] then [`Host::serve`].
pub async fn serve(component: &[u8], listen: SocketAddr, options: ServeOptions) -> Result<Server> {
    Host::new(component)?.serve(listen, options).await
}

struct Shared {
    pre: ProxyPre<State>,
    options: ServeOptions,
}

impl Shared {
    async fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> Result<hyper::Response<HyperOutgoingBody>> {
        let mut wasi = WasiCtx::builder();
        for (k, v) in &self.options.env {
            wasi.env(k, v);
        }
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let state = State {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: AllowList(Arc::new(self.options.allow.clone())),
            log: self.options.log,
        };
        let mut store = Store::new(self.pre.engine(), state);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        });
        match receiver.await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                let e = match task.await {
                    Ok(Ok(())) => anyhow!("the guest never set a response"),
                    Ok(Err(e)) => e.into(),
                    Err(e) => e.into(),
                };
                Err(e.context("the guest never set a response"))
            }
        }
    }
}

struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: AllowList,
    log: bool,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl wit_logging::Host for State {
    fn log(&mut self, level: wit_logging::Level, context: String, message: String) {
        if self.log {
            eprintln!("[guest {level:?}] {context}: {message}");
        }
    }
}

/// `allowed_outbound_hosts`, reduced: exact `host:port` authorities.
struct AllowList(Arc<Vec<String>>);

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl WasiHttpHooks for AllowList {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let uri = request.uri();
        let authority = match (uri.host(), uri.port_u16()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) if uri.scheme_str() == Some("http") => format!("{h}:80"),
            (Some(h), None) => format!("{h}:443"),
            _ => String::new(),
        };
        if !self.0.contains(&authority) {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            let (response, io) = default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            ))
        })
    }
}
