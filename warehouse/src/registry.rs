//! Statement lifecycle: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELED, then CLOSED
//! (deleted or expired). Results are cut into chunks and rendered while the rows arrive
//! ([`crate::results`]); external links are random, expiring grants on one chunk.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinError};

use crate::clock::Clock;
use crate::engine::{Engine, ExecRequest, SqlError};
use crate::results::{ResultOpts, Results};

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
    clock: Arc<dyn Clock>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    /// An empty registry keeping finished results for `ttl` as measured by `clock`.
    pub fn new(ttl: Duration, clock: Arc<dyn Clock>) -> Registry {
        Registry {
            entries: Mutex::new(HashMap::new()),
            done: Mutex::new(HashMap::new()),
            links: Mutex::new(HashMap::new()),
            ttl,
            clock,
        }
    }

    /// The time source of statement ends and link expiry.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Starts a statement in the background; returns its id.
    pub fn submit(
        self: &Arc<Self>,
        engine: Arc<Engine>,
        req: ExecRequest,
        opts: ResultOpts,
    ) -> String {
        let exec = engine.exec_handle();
        let owner = req.principal.name.clone();
        self.submit_work(&exec, owner, opts, async move {
            let _active = engine.track();
            let outcome = engine.execute(&req).await?;
            crate::results::build(outcome, opts).await
        })
    }

    /// Runs `work` on `exec` as a statement of `owner`. The statement is RUNNING once the
    /// work starts; its end (a result, an error, or a panic, which fails this statement
    /// only) is recorded by a watcher on the caller's runtime. Canceling aborts the work: the
    /// query's stream is dropped and with it every task DataFusion spawned for it.
    pub(crate) fn submit_work<F>(
        self: &Arc<Self>,
        exec: &tokio::runtime::Handle,
        owner: String,
        opts: ResultOpts,
        work: F,
    ) -> String
    where
        F: Future<Output = Result<Results, SqlError>> + Send + 'static,
    {
        self.sweep();
        let id = new_statement_id();
        let (tx, rx) = watch::channel(false);
        let entry = Arc::new(Mutex::new(Entry {
            id: id.clone(),
            owner,
            state: State::Pending,
            error: None,
            results: None,
            opts,
            abort: None,
            finished: None,
        }));
        lock(&self.entries).insert(id.clone(), entry.clone());
        lock(&self.done).insert(id.clone(), rx);
        let work_entry = entry.clone();
        let job = exec.spawn(async move {
            {
                let mut e = lock(&work_entry);
                if e.state == State::Pending {
                    e.state = State::Running;
                }
            }
            work.await
        });
        let abort = job.abort_handle();
        let task_entry = entry.clone();
        let sid = id.clone();
        let clock = self.clock.clone();
        tokio::spawn(async move {
            let started = clock.now();
            let prepared = match job.await {
                Ok(r) => r,
                Err(e) if e.is_panic() => Err(panicked(e)),
                Err(_) => {
                    // canceled: `cancel` has set the state
                    let _ = tx.send(true);
                    return;
                }
            };
            let mut e = lock(&task_entry);
            if e.state.is_terminal() {
                drop(e);
                let _ = tx.send(true);
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
            let finished = clock.now();
            e.finished = Some(finished);
            tracing::debug!(statement_id = %sid, state = e.state.as_str(), duration_ms = finished.duration_since(started).as_millis() as u64, rows, "statement finished");
            drop(e);
            let _ = tx.send(true);
        });
        lock(&entry).abort = Some(abort);
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
                e.finished = Some(self.clock.now());
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
        let now = self.clock.now();
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
        let sys_now = self.clock.wall();
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

/// A panic inside a statement fails that statement only.
fn panicked(e: JoinError) -> SqlError {
    let payload = e.into_panic();
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    tracing::error!(panic = %msg, "a statement panicked");
    SqlError::Internal(format!("The statement failed unexpectedly: {msg}."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, SystemClock};
    use crate::results::{Compression, Disposition, Format};

    fn opts() -> ResultOpts {
        ResultOpts {
            disposition: Disposition::Inline,
            format: Format::JsonArray,
            compression: Compression::None,
            row_limit: None,
            byte_limit: None,
            chunk_rows: 10,
            attachment_limit: 0,
            max_result_bytes: usize::MAX,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_statement_fails_alone() {
        let reg = Arc::new(Registry::new(
            Duration::from_secs(60),
            Arc::new(SystemClock),
        ));
        let exec = tokio::runtime::Handle::current();
        let id = reg.submit_work(&exec, "me".into(), opts(), async {
            if std::hint::black_box(true) {
                panic!("boom in a statement");
            }
            Err(SqlError::Canceled)
        });
        assert!(reg.wait(&id, Duration::from_secs(5)).await);
        let e = reg.get(&id).unwrap();
        let e = lock(&e);
        assert_eq!(e.state, State::Failed);
        let err = e.error.clone().unwrap();
        assert_eq!(err.error_code(), "INTERNAL_ERROR");
        assert!(err.to_string().contains("boom in a statement"), "{err}");
        drop(e);
        // the registry goes on
        let ok = reg.submit_work(&exec, "me".into(), opts(), empty_result());
        assert!(reg.wait(&ok, Duration::from_secs(5)).await);
        assert_eq!(lock(&reg.get(&ok).unwrap()).state, State::Succeeded);
    }

    fn empty_result() -> impl Future<Output = Result<Results, SqlError>> + Send + 'static {
        async { crate::results::build(crate::engine::Outcome::Empty, opts()).await }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancel_drops_the_work() {
        use tokio::sync::oneshot;
        /// Reports its drop, i.e. the end of the work holding it.
        struct Flag(Option<oneshot::Sender<()>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                if let Some(tx) = self.0.take() {
                    let _ = tx.send(());
                }
            }
        }
        let (dropped_tx, dropped) = oneshot::channel();
        let (started_tx, started) = oneshot::channel();
        let reg = Arc::new(Registry::new(
            Duration::from_secs(60),
            Arc::new(SystemClock),
        ));
        let exec = tokio::runtime::Handle::current();
        let flag = Flag(Some(dropped_tx));
        let id = reg.submit_work(&exec, "me".into(), opts(), async move {
            let _flag = flag;
            let _ = started_tx.send(());
            std::future::pending::<()>().await;
            Err(SqlError::Canceled)
        });
        started.await.unwrap();
        assert_eq!(lock(&reg.get(&id).unwrap()).state, State::Running);
        reg.cancel(&id);
        let was_dropped = tokio::time::timeout(Duration::from_secs(1), dropped).await;
        assert!(matches!(was_dropped, Ok(Ok(()))));
        assert_eq!(lock(&reg.get(&id).unwrap()).state, State::Canceled);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn results_and_links_expire_with_the_clock() {
        let clock = Arc::new(ManualClock::new());
        let reg = Arc::new(Registry::new(Duration::from_secs(60), clock.clone()));
        let exec = tokio::runtime::Handle::current();
        let id = reg.submit_work(&exec, "me".into(), opts(), empty_result());
        assert!(reg.wait(&id, Duration::from_secs(5)).await);
        let token = reg.grant_link(&id, 0, clock.wall() + Duration::from_secs(90));
        // Expiry is checked when the next statement is submitted.
        clock.advance(Duration::from_secs(60));
        reg.submit_work(&exec, "me".into(), opts(), empty_result());
        assert_eq!(lock(&reg.get(&id).unwrap()).state, State::Succeeded);
        assert!(reg.link(&token).is_some());
        clock.advance(Duration::from_secs(1));
        reg.submit_work(&exec, "me".into(), opts(), empty_result());
        let e = reg.get(&id).unwrap();
        assert_eq!(lock(&e).state, State::Closed);
        assert!(lock(&e).results.is_none());
        assert!(
            reg.link(&token).is_some(),
            "the link outlives the result until it expires"
        );
        clock.advance(Duration::from_secs(30));
        reg.submit_work(&exec, "me".into(), opts(), empty_result());
        assert!(reg.link(&token).is_none());
    }
}
