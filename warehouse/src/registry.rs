//! Statement lifecycle: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELED, then CLOSED
//! (deleted or expired). Results are cut into chunks and rendered once, when the statement
//! finishes; external links are random, expiring grants on one chunk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::engine::values::render_data_array;
use crate::engine::{Engine, ExecRequest, Outcome, ResultSet, SqlError};

/// Statement state as in the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Queued.
    Pending,
    /// Executing.
    Running,
    /// Done with a result.
    Succeeded,
    /// Done with an error.
    Failed,
    /// Canceled by the caller or by `on_wait_timeout: CANCEL`.
    Canceled,
    /// Closed (DELETE) or expired.
    Closed,
}

impl State {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "PENDING",
            State::Running => "RUNNING",
            State::Succeeded => "SUCCEEDED",
            State::Failed => "FAILED",
            State::Canceled => "CANCELED",
            State::Closed => "CLOSED",
        }
    }

    /// Whether the statement can no longer change.
    pub fn is_terminal(self) -> bool {
        !matches!(self, State::Pending | State::Running)
    }
}

/// Result format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON_ARRAY.
    JsonArray,
    /// ARROW_STREAM (EXTERNAL_LINKS only).
    ArrowStream,
    /// CSV (EXTERNAL_LINKS only).
    Csv,
}

impl Format {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JsonArray => "JSON_ARRAY",
            Format::ArrowStream => "ARROW_STREAM",
            Format::Csv => "CSV",
        }
    }
}

/// How results are delivered and cut.
#[derive(Clone, Copy, Debug)]
pub struct ResultOpts {
    /// EXTERNAL_LINKS (else INLINE).
    pub external: bool,
    /// Format.
    pub format: Format,
    /// `row_limit`.
    pub row_limit: Option<usize>,
    /// `byte_limit`.
    pub byte_limit: Option<usize>,
    /// Rows per chunk.
    pub chunk_rows: usize,
}

/// One chunk of a result.
#[derive(Debug)]
pub struct Chunk {
    /// First row.
    pub row_offset: usize,
    /// Rows.
    pub row_count: usize,
    /// Rendered bytes (JSON `data_array` text, Arrow IPC stream or CSV).
    pub bytes: Arc<Vec<u8>>,
}

/// A finished result.
#[derive(Debug)]
pub struct Results {
    /// Columns (None for DDL: `column_count: 0`).
    pub schema: Option<SchemaRef>,
    /// Chunks.
    pub chunks: Vec<Chunk>,
    /// Rows in all chunks.
    pub total_rows: usize,
    /// Cut by row_limit/byte_limit.
    pub truncated: bool,
    /// Options used.
    pub opts: ResultOpts,
}

/// One statement.
#[derive(Debug)]
pub struct Entry {
    /// Id.
    pub id: String,
    /// Submitting principal.
    pub owner: String,
    /// State.
    pub state: State,
    /// Error when FAILED.
    pub error: Option<SqlError>,
    /// Result when SUCCEEDED.
    pub results: Option<Arc<Results>>,
    /// Options.
    pub opts: ResultOpts,
    abort: Option<AbortHandle>,
    finished: Option<Instant>,
}

/// An issued external link.
#[derive(Clone, Debug)]
pub struct LinkGrant {
    /// Statement.
    pub statement_id: String,
    /// Chunk.
    pub chunk: usize,
    /// Expiry.
    pub expires: SystemTime,
}

/// All statements of a server.
#[derive(Debug)]
pub struct Registry {
    entries: Mutex<HashMap<String, Arc<Mutex<Entry>>>>,
    done: Mutex<HashMap<String, watch::Receiver<bool>>>,
    links: Mutex<HashMap<String, LinkGrant>>,
    ttl: Duration,
}

const INLINE_LIMIT: usize = 25 * 1024 * 1024;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    /// An empty registry keeping finished results for `ttl`.
    pub fn new(ttl: Duration) -> Registry {
        Registry {
            entries: Mutex::new(HashMap::new()),
            done: Mutex::new(HashMap::new()),
            links: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// Starts a statement in the background; returns its id.
    pub fn submit(
        self: &Arc<Self>,
        engine: Arc<Engine>,
        req: ExecRequest,
        opts: ResultOpts,
    ) -> String {
        self.sweep();
        let id = new_statement_id();
        let (tx, rx) = watch::channel(false);
        let entry = Arc::new(Mutex::new(Entry {
            id: id.clone(),
            owner: req.principal.name.clone(),
            state: State::Pending,
            error: None,
            results: None,
            opts,
            abort: None,
            finished: None,
        }));
        lock(&self.entries).insert(id.clone(), entry.clone());
        lock(&self.done).insert(id.clone(), rx);
        let task_entry = entry.clone();
        let sid = id.clone();
        let handle = tokio::spawn(async move {
            let started = Instant::now();
            {
                let mut e = lock(&task_entry);
                if e.state == State::Pending {
                    e.state = State::Running;
                }
            }
            let outcome = engine.execute(&req).await;
            let prepared = match outcome {
                Ok(o) => tokio::task::spawn_blocking(move || prepare(o, opts))
                    .await
                    .unwrap_or_else(|e| Err(SqlError::Internal(e.to_string()))),
                Err(e) => Err(e),
            };
            let mut e = lock(&task_entry);
            if e.state.is_terminal() {
                return;
            }
            let rows = prepared.as_ref().map(|r| r.total_rows).unwrap_or(0);
            match prepared {
                Ok(r) => {
                    e.state = State::Succeeded;
                    e.results = Some(Arc::new(r));
                }
                Err(err) => {
                    e.state = State::Failed;
                    e.error = Some(err);
                }
            }
            e.finished = Some(Instant::now());
            tracing::debug!(statement_id = %sid, state = e.state.as_str(), duration_ms = started.elapsed().as_millis() as u64, rows, "statement finished");
            drop(e);
            let _ = tx.send(true);
        });
        lock(&entry).abort = Some(handle.abort_handle());
        id
    }

    /// The statement, if known.
    pub fn get(&self, id: &str) -> Option<Arc<Mutex<Entry>>> {
        lock(&self.entries).get(id).cloned()
    }

    /// Waits until the statement finishes or `timeout` passes; true when finished.
    pub async fn wait(&self, id: &str, timeout: Duration) -> bool {
        let Some(mut rx) = lock(&self.done).get(id).cloned() else {
            return true;
        };
        if *rx.borrow() {
            return true;
        }
        matches!(
            tokio::time::timeout(timeout, rx.wait_for(|d| *d)).await,
            Ok(Ok(_))
        )
    }

    /// Cancels a running statement (no-op when finished).
    pub fn cancel(&self, id: &str) {
        if let Some(e) = self.get(id) {
            let mut e = lock(&e);
            if !e.state.is_terminal() {
                if let Some(a) = e.abort.take() {
                    a.abort();
                }
                e.state = State::Canceled;
                e.finished = Some(Instant::now());
                tracing::debug!(statement_id = %e.id, "statement canceled");
            }
        }
    }

    /// Closes a statement: cancels it if running and drops its result.
    pub fn close(&self, id: &str) {
        self.cancel(id);
        if let Some(e) = self.get(id) {
            let mut e = lock(&e);
            e.state = State::Closed;
            e.results = None;
            e.error = None;
        }
    }

    /// Issues a link token for a chunk.
    pub fn grant_link(&self, statement_id: &str, chunk: usize, expires: SystemTime) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        lock(&self.links).insert(
            token.clone(),
            LinkGrant {
                statement_id: statement_id.into(),
                chunk,
                expires,
            },
        );
        token
    }

    /// Looks up a link token.
    pub fn link(&self, token: &str) -> Option<LinkGrant> {
        lock(&self.links).get(token).cloned()
    }

    fn sweep(&self) {
        let now = Instant::now();
        let mut expired = Vec::new();
        for (id, e) in lock(&self.entries).iter() {
            if let Ok(e) = e.try_lock() {
                if e.finished.is_some_and(|f| now.duration_since(f) > self.ttl) {
                    expired.push(id.clone());
                }
            }
        }
        if expired.is_empty() {
            return;
        }
        for id in &expired {
            if let Some(e) = self.get(id) {
                let mut e = lock(&e);
                e.state = State::Closed;
                e.results = None;
            }
        }
        let sys_now = SystemTime::now();
        lock(&self.links).retain(|_, g| g.expires > sys_now);
    }
}

/// Statement ids look like the service's (`01ef9de3-4558-1916-bf71-5f936821c39d`).
fn new_statement_id() -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "01f0{}-{}-{}-{}-{}",
        &u[0..4],
        &u[4..8],
        &u[8..12],
        &u[12..16],
        &u[16..28]
    )
}

/// Cuts and renders a result.
pub fn prepare(outcome: Outcome, opts: ResultOpts) -> Result<Results, SqlError> {
    let rs = match outcome {
        Outcome::Empty => {
            return Ok(Results {
                schema: None,
                chunks: Vec::new(),
                total_rows: 0,
                truncated: false,
                opts,
            });
        }
        Outcome::Rows(rs) => rs,
    };
    let ResultSet { schema, batches } = rs;
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut keep = total;
    let mut truncated = false;
    if let Some(l) = opts.row_limit {
        if l < keep {
            keep = l;
            truncated = true;
        }
    }
    let all = if batches.is_empty() {
        RecordBatch::new_empty(schema.clone())
    } else {
        deltalake::arrow::compute::concat_batches(&schema, &batches)
            .map_err(|e| SqlError::Internal(e.to_string()))?
    };
    let mut chunks = Vec::new();
    let mut offset = 0;
    let mut bytes_total = 0usize;
    let step = opts.chunk_rows.max(1);
    while offset < keep {
        let mut n = step.min(keep - offset);
        let mut bytes = render(&all.slice(offset, n), opts.format)?;
        if let Some(limit) = opts.byte_limit {
            while bytes_total + bytes.len() > limit && n > 0 {
                truncated = true;
                let per_row = (bytes.len() / n).max(1);
                let fit = limit.saturating_sub(bytes_total) / per_row;
                n = if fit >= n { n - 1 } else { fit };
                bytes = if n > 0 {
                    render(&all.slice(offset, n), opts.format)?
                } else {
                    Vec::new()
                };
            }
            if n == 0 {
                break;
            }
        }
        bytes_total += bytes.len();
        if !opts.external && bytes_total > INLINE_LIMIT {
            return Err(SqlError::InlineTooLarge);
        }
        chunks.push(Chunk {
            row_offset: offset,
            row_count: n,
            bytes: Arc::new(bytes),
        });
        offset += n;
        if truncated && opts.byte_limit.is_some() && n < step.min(keep - (offset - n)) {
            break;
        }
    }
    Ok(Results {
        schema: Some(schema),
        chunks,
        total_rows: offset,
        truncated,
        opts,
    })
}

fn render(batch: &RecordBatch, format: Format) -> Result<Vec<u8>, SqlError> {
    let err = |e: deltalake::arrow::error::ArrowError| SqlError::Internal(e.to_string());
    match format {
        Format::JsonArray => Ok(render_data_array(std::slice::from_ref(batch)).into_bytes()),
        Format::ArrowStream => {
            let mut out = Vec::new();
            {
                let mut w =
                    deltalake::arrow::ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())
                        .map_err(err)?;
                w.write(batch).map_err(err)?;
                w.finish().map_err(err)?;
            }
            Ok(out)
        }
        Format::Csv => {
            let mut out = Vec::new();
            {
                let mut w = deltalake::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                w.write(batch).map_err(err)?;
            }
            Ok(out)
        }
    }
}
