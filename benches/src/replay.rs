//! The replay server: a loopback HTTP/1.1 server answering the Statement Execution API with
//! pre-built bytes (see `data.rs`), so a client's time is the client's cost.
//!
//! Routes: `POST /api/2.0/sql/statements` (replay SELECTs by `rows_<n>`, INSERT/MERGE answered
//! with the DML count shapes, anything else as DDL), `GET /api/2.0/sql/statements/{id}`,
//! `GET .../result/chunks/{n}`, `DELETE /api/2.0/sql/statements/{id}`, `POST .../cancel`,
//! `GET /api/2.0/sql/warehouses/{id}`, the unauthenticated `GET /external/{rows}/{n}`, and a 404
//! for `/.well-known/databricks-config` (databricks-sdk-py asks for it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::data::{self, Dataset};

/// Requests seen by the server, by kind.
#[derive(Default)]
pub struct Counters {
    pub statements: AtomicU64,
    pub polls: AtomicU64,
    pub chunks: AtomicU64,
    pub external: AtomicU64,
    pub warehouses: AtomicU64,
    pub closes: AtomicU64,
    pub other: AtomicU64,
}

/// A copy of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub statements: u64,
    pub polls: u64,
    pub chunks: u64,
    pub external: u64,
    pub warehouses: u64,
    pub closes: u64,
    pub other: u64,
}

impl Counts {
    pub fn requests(&self) -> u64 {
        self.statements + self.polls + self.chunks + self.external + self.warehouses + self.closes + self.other
    }
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            statements: self.statements - before.statements,
            polls: self.polls - before.polls,
            chunks: self.chunks - before.chunks,
            external: self.external - before.external,
            warehouses: self.warehouses - before.warehouses,
            closes: self.closes - before.closes,
            other: self.other - before.other,
        }
    }
}

impl Counters {
    pub fn snapshot(&self) -> Counts {
        Counts {
            statements: self.statements.load(Ordering::Relaxed),
            polls: self.polls.load(Ordering::Relaxed),
            chunks: self.chunks.load(Ordering::Relaxed),
            external: self.external.load(Ordering::Relaxed),
            warehouses: self.warehouses.load(Ordering::Relaxed),
            closes: self.closes.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }
}

struct Inner {
    base: String,
    chunk_rows: u64,
    datasets: RwLock<HashMap<u64, Arc<Dataset>>>,
    counters: Counters,
}

type Shared = Arc<Inner>;

impl Inner {
    fn dataset(&self, rows: u64) -> Arc<Dataset> {
        if let Some(d) = self.datasets.read().unwrap().get(&rows) {
            return d.clone();
        }
        let d = Arc::new(Dataset::build(rows, self.chunk_rows, &self.base));
        self.datasets.write().unwrap().entry(rows).or_insert(d).clone()
    }
}

/// A running replay server (it lives until the process ends).
pub struct ReplayServer {
    inner: Shared,
    pub addr: SocketAddr,
}

impl ReplayServer {
    /// Binds `127.0.0.1:0` and serves on a runtime of its own (2 worker threads).
    pub fn start(chunk_rows: u64) -> anyhow::Result<ReplayServer> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let inner = Arc::new(Inner {
            base: format!("http://{addr}"),
            chunk_rows,
            datasets: RwLock::new(HashMap::new()),
            counters: Counters::default(),
        });
        let app = router(inner.clone());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("replay")
            .enable_all()
            .build()?;
        std::thread::Builder::new().name("replay-server".into()).spawn(move || {
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                axum::serve(listener, app).await.expect("replay server");
            })
        })?;
        Ok(ReplayServer { inner, addr })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    /// Builds (once) the bytes for `rows` rows, before anything is timed.
    pub fn prepare(&self, rows: u64) -> Arc<Dataset> {
        self.inner.dataset(rows)
    }

    pub fn counts(&self) -> Counts {
        self.inner.counters.snapshot()
    }
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/api/2.0/sql/statements", post(execute))
        .route("/api/2.0/sql/statements/", post(execute))
        .route("/api/2.0/sql/statements/{id}", get(poll).delete(close))
        .route("/api/2.0/sql/statements/{id}/cancel", post(close))
        .route("/api/2.0/sql/statements/{id}/result/chunks/{n}", get(chunk))
        .route("/api/2.0/sql/warehouses/{id}", get(warehouse))
        .route("/external/{rows}/{n}", get(external))
        .fallback(fallback)
        .with_state(state)
}

fn json(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn not_found(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"error_code":"NOT_FOUND","message":"{message}"}}"#),
    )
        .into_response()
}

async fn fallback(State(s): State<Shared>) -> Response {
    s.counters.other.fetch_add(1, Ordering::Relaxed);
    not_found("No API found")
}

/// Which replayed statement an id names: (INLINE?, rows).
fn parse_id(id: &str) -> Option<(bool, u64)> {
    let rows = id.rsplit('-').next()?.parse().ok()?;
    if id.contains("-inline-") {
        Some((true, rows))
    } else if id.contains("-extlnk-") {
        Some((false, rows))
    } else {
        None
    }
}

async fn execute(State(s): State<Shared>, body: Bytes) -> Response {
    s.counters.statements.fetch_add(1, Ordering::Relaxed);
    let req: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!(r#"{{"error_code":"BAD_REQUEST","message":"{e}"}}"#))
                .into_response();
        }
    };
    let sql = req["statement"].as_str().unwrap_or_default();
    let upper = sql.trim_start().to_ascii_uppercase();
    if upper.starts_with("SELECT")
        && let Some(rows) = data::rows_in_sql(sql)
    {
        let external = req["disposition"].as_str() == Some("EXTERNAL_LINKS");
        let d = s.dataset(rows);
        return json(if external { d.ext_first.clone() } else { d.inline_first.clone() });
    }
    // DML: count the rows of the `:rows` JSON parameter (the wire.md batch shape).
    let batch_rows = req["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "rows"))
        .and_then(|p| p["value"].as_str())
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .and_then(|v| v.as_array().map(|a| a.len() as u64))
        .unwrap_or(0);
    let sid = format!("01f0bench-0000-dml-{}", s.counters.statements.load(Ordering::Relaxed));
    let long = |name: &str, pos: usize| {
        format!(r#"{{"name":"{name}","type_text":"BIGINT","type_name":"LONG","position":{pos}}}"#)
    };
    let (cols, vals): (Vec<&str>, Vec<u64>) = if upper.starts_with("SELECT") && sql.contains("num_matched_rows") {
        // the connector's pre-delete probe: every id of the batch matches
        (vec!["num_matched_rows"], vec![batch_rows])
    } else if upper.starts_with("INSERT") {
        (vec!["num_affected_rows", "num_inserted_rows"], vec![batch_rows, batch_rows])
    } else if upper.starts_with("MERGE") {
        if upper.contains("THEN DELETE") {
            (
                vec!["num_affected_rows", "num_updated_rows", "num_deleted_rows", "num_inserted_rows"],
                vec![batch_rows, 0, batch_rows, 0],
            )
        } else {
            (
                vec!["num_affected_rows", "num_updated_rows", "num_deleted_rows", "num_inserted_rows"],
                vec![batch_rows, batch_rows, 0, 0],
            )
        }
    } else {
        (vec![], vec![])
    };
    let body = if cols.is_empty() {
        format!(
            r#"{{"statement_id":"{sid}","status":{{"state":"SUCCEEDED"}},"manifest":{{"format":"JSON_ARRAY","schema":{{"column_count":0}},"total_chunk_count":0,"total_row_count":0,"truncated":false}},"result":{{}}}}"#
        )
    } else {
        let columns: Vec<String> = cols.iter().enumerate().map(|(i, c)| long(c, i)).collect();
        let row: Vec<String> = vals.iter().map(|v| format!("\"{v}\"")).collect();
        format!(
            r#"{{"statement_id":"{sid}","status":{{"state":"SUCCEEDED"}},"manifest":{{"format":"JSON_ARRAY","schema":{{"column_count":{},"columns":[{}]}},"total_chunk_count":1,"chunks":[{{"chunk_index":0,"row_offset":0,"row_count":1}}],"total_row_count":1,"truncated":false}},"result":{{"chunk_index":0,"row_offset":0,"row_count":1,"data_array":[[{}]]}}}}"#,
            cols.len(),
            columns.join(","),
            row.join(",")
        )
    };
    json(Bytes::from(body))
}

async fn poll(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    s.counters.polls.fetch_add(1, Ordering::Relaxed);
    match parse_id(&id) {
        Some((true, rows)) => json(s.dataset(rows).inline_first.clone()),
        Some((false, rows)) => json(s.dataset(rows).ext_first.clone()),
        None => not_found("statement not found"),
    }
}

async fn close(State(s): State<Shared>) -> Response {
    s.counters.closes.fetch_add(1, Ordering::Relaxed);
    json(Bytes::from_static(b"{}"))
}

async fn chunk(State(s): State<Shared>, Path((id, n)): Path<(String, usize)>) -> Response {
    s.counters.chunks.fetch_add(1, Ordering::Relaxed);
    let Some((inline, rows)) = parse_id(&id) else { return not_found("statement not found") };
    let d = s.dataset(rows);
    let list = if inline { &d.inline_chunks } else { &d.ext_chunks };
    match list.get(n) {
        Some(b) => json(b.clone()),
        None => not_found("chunk not found"),
    }
}

async fn external(State(s): State<Shared>, Path((rows, n)): Path<(u64, usize)>) -> Response {
    s.counters.external.fetch_add(1, Ordering::Relaxed);
    let d = s.dataset(rows);
    match d.ext_bodies.get(n) {
        Some(b) => ([(header::CONTENT_TYPE, "application/octet-stream")], b.clone()).into_response(),
        None => not_found("no such object"),
    }
}

async fn warehouse(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    s.counters.warehouses.fetch_add(1, Ordering::Relaxed);
    if id != data::WAREHOUSE_ID {
        return not_found("warehouse not found");
    }
    json(Bytes::from(format!(
        r#"{{"id":"{id}","name":"bench replay","state":"RUNNING","cluster_size":"2X-Small","warehouse_type":"PRO","enable_serverless_compute":true,"num_clusters":1,"jdbc_url":"","odbc_params":{{}}}}"#
    )))
}
