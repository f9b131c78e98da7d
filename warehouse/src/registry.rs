//! Statement lifecycle: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELED, then CLOSED
//! (deleted or expired). Results are cut into chunks and rendered once, when the statement
//! finishes ([`crate::results`]); external links are random, expiring grants on one chunk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::engine::{Engine, ExecRequest, SqlError};
use crate::results::{ResultOpts, Results, prepare};

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
            if let Ok(e) = e.try_lock()
                && e.finished.is_some_and(|f| now.duration_since(f) > self.ttl)
            {
                expired.push(id.clone());
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
pub(crate) fn new_statement_id() -> String {
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
