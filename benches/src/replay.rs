//! The replay server: a loopback HTTP/1.1 server answering the Statement Execution API with
//! pre-built bytes (see `data.rs`), so a client's time is the client's cost.
//!
//! Routes: `POST /api/2.0/sql/statements` (replay SELECTs by `rows_<n>` as JSON_ARRAY or, when
//! asked, ARROW_STREAM (`arrow_data.rs`); INSERT/MERGE answered with the DML count shapes,
//! anything else as DDL), `GET /api/2.0/sql/statements/{id}`, `GET .../result/chunks/{n}`,
//! `DELETE /api/2.0/sql/statements/{id}`, `POST .../cancel`, `POST /api/2.0/sql/sessions` and
//! `DELETE /api/2.0/sql/sessions/{id}` (databricks-sql-kernel opens one),
//! `GET /api/2.0/sql/warehouses/{id}`, the unauthenticated `GET /external/{rows}/{n}` (JSON) and
//! `GET /external-arrow/{rows}/{lz4|none}/{n}`, and a 404 for `/.well-known/databricks-config`
//! (databricks-sdk-py asks for it). With a WAN profile (`wan.rs`) every answer is delayed and
//! its body paced.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use crate::arrow_data::ArrowDataset;
use crate::data::{self, Dataset};
use crate::wan::Wan;

/// Requests seen by the server, by kind.
#[derive(Default)]
pub struct Counters {
    pub statements: AtomicU64,
    pub polls: AtomicU64,
    pub chunks: AtomicU64,
    pub external: AtomicU64,
    pub warehouses: AtomicU64,
    pub closes: AtomicU64,
    pub sessions: AtomicU64,
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
    pub sessions: u64,
    pub other: u64,
}

impl Counts {
    pub fn requests(&self) -> u64 {
        self.statements
            + self.polls
            + self.chunks
            + self.external
            + self.warehouses
            + self.closes
            + self.sessions
            + self.other
    }
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            statements: self.statements - before.statements,
            polls: self.polls - before.polls,
            chunks: self.chunks - before.chunks,
            external: self.external - before.external,
            warehouses: self.warehouses - before.warehouses,
            closes: self.closes - before.closes,
            sessions: self.sessions - before.sessions,
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
            sessions: self.sessions.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
        }
    }
}

struct Inner {
    base: String,
    chunk_rows: u64,
    datasets: RwLock<HashMap<u64, Arc<Dataset>>>,
    arrow: RwLock<HashMap<(u64, bool), Arc<ArrowDataset>>>,
    counters: Counters,
}

type Shared = Arc<Inner>;

impl Inner {
    fn dataset(&self, rows: u64) -> Arc<Dataset> {
        if let Some(d) = self.datasets.read().unwrap().get(&rows) {
            return d.clone();
        }
        let d = Arc::new(Dataset::build(rows, self.chunk_rows, &self.base));
        self.datasets
            .write()
            .unwrap()
            .entry(rows)
            .or_insert(d)
            .clone()
    }

    fn arrow(&self, rows: u64, lz4: bool) -> anyhow::Result<Arc<ArrowDataset>> {
        if let Some(d) = self.arrow.read().unwrap().get(&(rows, lz4)) {
            return Ok(d.clone());
        }
        let expiration = data::link_expiration();
        let d = Arc::new(ArrowDataset::build(
            rows,
            self.chunk_rows,
            lz4,
            &self.base,
            &expiration,
        )?);
        Ok(self
            .arrow
            .write()
            .unwrap()
            .entry((rows, lz4))
            .or_insert(d)
            .clone())
    }
}

/// A running replay server (it lives until the process ends).
pub struct ReplayServer {
    inner: Shared,
}

impl ReplayServer {
    /// Binds `127.0.0.1:0` and serves on a runtime of its own (2 worker threads), every answer
    /// shaped by `wan` when given.
    pub fn start(chunk_rows: u64, wan: Option<Wan>) -> anyhow::Result<ReplayServer> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let inner = Arc::new(Inner {
            base: format!("http://{addr}"),
            chunk_rows,
            datasets: RwLock::new(HashMap::new()),
            arrow: RwLock::new(HashMap::new()),
            counters: Counters::default(),
        });
        let app = router(inner.clone())
            .layer(axum::middleware::from_fn_with_state(wan, crate::wan::layer));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("replay")
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("replay-server".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(std_listener).expect("listener");
                    axum::serve(listener, app).await.expect("replay server");
                })
            })?;
        Ok(ReplayServer { inner })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    /// Builds (once) the bytes for `rows` rows, before anything is timed.
    pub fn prepare(&self, rows: u64) -> Arc<Dataset> {
        self.inner.dataset(rows)
    }

    /// Builds (once) the ARROW_STREAM chunks for `rows` rows, before anything is timed.
    pub fn prepare_arrow(&self, rows: u64, lz4: bool) -> anyhow::Result<Arc<ArrowDataset>> {
        self.inner.arrow(rows, lz4)
    }

    /// Requests seen so far.
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
        .route("/api/2.0/sql/sessions", post(open_session))
        .route("/api/2.0/sql/sessions/", post(open_session))
        .route("/api/2.0/sql/sessions/{id}", delete(close_session))
        .route("/api/2.0/sql/warehouses/{id}", get(warehouse))
        .route("/external/{rows}/{n}", get(external))
        .route("/external-arrow/{rows}/{z}/{n}", get(external_arrow))
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

/// Which replayed result a statement id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Replayed {
    /// JSON_ARRAY, INLINE.
    Inline(u64),
    /// JSON_ARRAY, EXTERNAL_LINKS.
    Links(u64),
    /// ARROW_STREAM (`true`: LZ4_FRAME).
    Arrow(u64, bool),
}

fn parse_id(id: &str) -> Option<Replayed> {
    let rows = id.rsplit('-').next()?.parse().ok()?;
    if id.contains("-inline-") {
        Some(Replayed::Inline(rows))
    } else if id.contains("-extlnk-") {
        Some(Replayed::Links(rows))
    } else if id.contains("-arrowz-") {
        Some(Replayed::Arrow(rows, true))
    } else if id.contains("-arrown-") {
        Some(Replayed::Arrow(rows, false))
    } else {
        None
    }
}

fn bad_request(message: &str) -> Response {
    let body = serde_json::json!({"error_code": "INVALID_PARAMETER_VALUE", "message": message});
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn internal(e: anyhow::Error) -> Response {
    let body = serde_json::json!({"error_code": "INTERNAL_ERROR", "message": format!("{e:#}")});
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A replay SELECT, answered in the format and disposition the request asks.
fn select(s: &Inner, req: &serde_json::Value, rows: u64) -> Response {
    let disposition = req["disposition"].as_str().unwrap_or("INLINE");
    match req["format"].as_str().unwrap_or("JSON_ARRAY") {
        "ARROW_STREAM" => {
            if disposition == "INLINE" {
                return bad_request("The INLINE disposition only supports the JSON_ARRAY format.");
            }
            let lz4 = req["result_compression"].as_str() == Some("LZ4_FRAME");
            match s.arrow(rows, lz4) {
                Ok(d) if disposition == "EXTERNAL_LINKS" => json(d.links_first.clone()),
                Ok(d) => json(d.mixed_first.clone()),
                Err(e) => internal(e),
            }
        }
        "JSON_ARRAY" => {
            let d = s.dataset(rows);
            json(if disposition == "EXTERNAL_LINKS" {
                d.ext_first.clone()
            } else {
                d.inline_first.clone()
            })
        }
        other => bad_request(&format!("format {other} is not replayed")),
    }
}

async fn execute(State(s): State<Shared>, body: Bytes) -> Response {
    s.counters.statements.fetch_add(1, Ordering::Relaxed);
    let req: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!(r#"{{"error_code":"BAD_REQUEST","message":"{e}"}}"#),
            )
                .into_response();
        }
    };
    let sql = req["statement"].as_str().unwrap_or_default();
    let upper = sql.trim_start().to_ascii_uppercase();
    if upper.starts_with("SELECT")
        && let Some(rows) = data::rows_in_sql(sql)
    {
        return select(&s, &req, rows);
    }
    // A write's table probe (`SELECT * FROM <target> LIMIT 0`): the replayed columns, no rows.
    if upper.starts_with("SELECT") && upper.trim_end().ends_with("LIMIT 0") {
        return select(&s, &req, 0);
    }
    // DML: count the rows of the `:rows` JSON parameter (the wire.md batch shape).
    let batch_rows = req["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "rows"))
        .and_then(|p| p["value"].as_str())
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .and_then(|v| v.as_array().map(|a| a.len() as u64))
        .unwrap_or(0);
    let sid = format!(
        "01f0bench-0000-dml-{}",
        s.counters.statements.load(Ordering::Relaxed)
    );
    let long = |name: &str, pos: usize| {
        format!(r#"{{"name":"{name}","type_text":"BIGINT","type_name":"LONG","position":{pos}}}"#)
    };
    let (cols, vals): (Vec<&str>, Vec<u64>) =
        if upper.starts_with("SELECT") && sql.contains("num_matched_rows") {
            // the connector's pre-delete probe: every id of the batch matches
            (vec!["num_matched_rows"], vec![batch_rows])
        } else if upper.starts_with("INSERT") {
            (
                vec!["num_affected_rows", "num_inserted_rows"],
                vec![batch_rows, batch_rows],
            )
        } else if upper.starts_with("MERGE") {
            if upper.contains("THEN DELETE") {
                (
                    vec![
                        "num_affected_rows",
                        "num_updated_rows",
                        "num_deleted_rows",
                        "num_inserted_rows",
                    ],
                    vec![batch_rows, 0, batch_rows, 0],
                )
            } else {
                (
                    vec![
                        "num_affected_rows",
                        "num_updated_rows",
                        "num_deleted_rows",
                        "num_inserted_rows",
                    ],
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
        Some(Replayed::Inline(rows)) => json(s.dataset(rows).inline_first.clone()),
        Some(Replayed::Links(rows)) => json(s.dataset(rows).ext_first.clone()),
        Some(Replayed::Arrow(rows, lz4)) => match s.arrow(rows, lz4) {
            Ok(d) => json(d.links_first.clone()),
            Err(e) => internal(e),
        },
        None => not_found("statement not found"),
    }
}

async fn close(State(s): State<Shared>) -> Response {
    s.counters.closes.fetch_add(1, Ordering::Relaxed);
    json(Bytes::from_static(b"{}"))
}

async fn chunk(State(s): State<Shared>, Path((id, n)): Path<(String, usize)>) -> Response {
    s.counters.chunks.fetch_add(1, Ordering::Relaxed);
    let page = match parse_id(&id) {
        Some(Replayed::Inline(rows)) => s.dataset(rows).inline_chunks.get(n).cloned(),
        Some(Replayed::Links(rows)) => s.dataset(rows).ext_chunks.get(n).cloned(),
        Some(Replayed::Arrow(rows, lz4)) => match s.arrow(rows, lz4) {
            Ok(d) => d.chunk_pages.get(n).cloned(),
            Err(e) => return internal(e),
        },
        None => return not_found("statement not found"),
    };
    match page {
        Some(b) => json(b),
        None => not_found("chunk not found"),
    }
}

async fn external(State(s): State<Shared>, Path((rows, n)): Path<(u64, usize)>) -> Response {
    s.counters.external.fetch_add(1, Ordering::Relaxed);
    let d = s.dataset(rows);
    match d.ext_bodies.get(n) {
        Some(b) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            b.clone(),
        )
            .into_response(),
        None => not_found("no such object"),
    }
}

async fn external_arrow(
    State(s): State<Shared>,
    Path((rows, z, n)): Path<(u64, String, usize)>,
) -> Response {
    s.counters.external.fetch_add(1, Ordering::Relaxed);
    let d = match s.arrow(rows, z == "lz4") {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    match d.bodies.get(n) {
        Some(b) => (
            [(header::CONTENT_TYPE, "application/vnd.apache.arrow.stream")],
            b.clone(),
        )
            .into_response(),
        None => not_found("no such object"),
    }
}

/// `POST /api/2.0/sql/sessions` → `{"session_id": ...}` (the body is not looked at).
async fn open_session(State(s): State<Shared>) -> Response {
    let n = s.counters.sessions.fetch_add(1, Ordering::Relaxed);
    json(Bytes::from(format!(
        r#"{{"session_id":"01f0bench-session-{n:08}"}}"#
    )))
}

/// `DELETE /api/2.0/sql/sessions/{id}` → `{}`.
async fn close_session(State(s): State<Shared>) -> Response {
    s.counters.sessions.fetch_add(1, Ordering::Relaxed);
    json(Bytes::from_static(b"{}"))
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
