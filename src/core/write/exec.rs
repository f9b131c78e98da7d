//! Executing a write plan: one statement (one Delta commit) per batch, counted by the server,
//! exactly once even when an answer is lost. [`Writer`] holds the state between batches.

use super::plan::{Batch, Batcher, Mode, Plan};
use crate::core::driver;
use crate::core::error::{Error, Result};
use crate::core::http::Transport;
use crate::core::ops::{Execution, ResultSet, execution_of};
use crate::core::retry::Retry;
use crate::core::session::Session;
use crate::core::value::{ParamSpec, Value, param_spec};

/// A batch statement that ran: its count row, or — it SUCCEEDED, so it committed — the error
/// that kept its count row from being read (e.g. an expired result link).
enum Ran {
    Counted(ResultSet),
    Uncounted(Error, Execution),
}

/// Run one batch statement and read its count row.
fn run_batch<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    params: &[ParamSpec],
    submit: Retry,
    deadline: u64,
) -> Result<Ran> {
    let mut c = driver::run(s, sql, params, submit, deadline)?;
    match c.all_rows(s, deadline) {
        Ok(rows) => {
            let mut r = ResultSet {
                columns: std::mem::take(&mut c.columns),
                rows,
                execution: Execution::default(),
            };
            r.execution = execution_of(s, &c, r.count("num_affected_rows").unwrap_or(0));
            Ok(Ran::Counted(r))
        }
        Err(e) => Ok(Ran::Uncounted(e, execution_of(s, &c, 0))),
    }
}

/// The server's count of a batch statement for `mode`.
fn batch_count(r: &ResultSet, mode: &Mode) -> Result<u64> {
    let name = match mode {
        Mode::Insert => "num_inserted_rows",
        Mode::Update(_) => "num_updated_rows",
        Mode::Delete => "num_deleted_rows",
    };
    r.count(name)
        .or_else(|| r.count("num_affected_rows"))
        .ok_or_else(|| {
            Error::server(format!("the server reported no {name} for the batch"))
                .with_statement(Some(&r.execution.statement_id))
        })
}

/// The rows a batch of `rows` records committed when its first attempt's outcome was unknown and
/// its idempotent re-send counted `again`. One batch is one Delta commit, so the lost attempt
/// committed all of it or nothing.
/// - Insert (`MERGE … WHEN NOT MATCHED THEN INSERT` on `id`): `again == 0` means every id was
///   already present, i.e. the lost attempt committed the batch (ids are keys: a write inserts new
///   ids), so `rows`; otherwise the lost attempt committed nothing and the re-send's count stands.
/// - Delete (the same MERGE again): `again > 0` means the lost attempt deleted nothing (it would
///   have left no matching row); `again == 0` means it deleted the `matched` rows counted before.
fn resent_count(mode: &Mode, rows: u64, again: u64, matched: Option<u64>) -> u64 {
    match mode {
        Mode::Insert if again == 0 => rows,
        Mode::Delete if again == 0 => matched.unwrap_or(0),
        _ => again,
    }
}

/// One batch in flight: its parameters (`:rows`; none for a staged statement), size, and
/// (deletes) the rows it matched before.
struct Current {
    params: Vec<ParamSpec>,
    rows: u64,
    matched: Option<u64>,
}

/// The state of a write between batches: what committed so far, and the call's one deadline.
pub struct Writer<'p> {
    plan: &'p Plan,
    mode: Mode,
    /// How safe re-sending a batch statement is.
    submit: Retry,
    /// The deadline of the whole write (every batch).
    deadline: u64,
    /// Rows committed by the batches done.
    pub committed: u64,
    /// Batches started (1-based number of the current one).
    number: usize,
    /// One execution per batch done.
    pub executions: Vec<Execution>,
}

impl<'p> Writer<'p> {
    /// A writer of `plan` in `mode` that must finish by `deadline`.
    pub fn new(plan: &'p Plan, mode: Mode, deadline: u64) -> Self {
        // An update MERGE sets the same values however often it runs, so a batch whose outcome
        // is unknown may be re-sent by the retry policy itself (and its count stays right).
        let submit = if matches!(mode, Mode::Update(_)) {
            Retry::Idempotent
        } else {
            Retry::Submit
        };
        Writer {
            plan,
            mode,
            submit,
            deadline,
            committed: 0,
            number: 0,
            executions: Vec::new(),
        }
    }

    /// Write every batch of `batcher`; returns the rows committed.
    pub fn run<T: Transport>(&mut self, s: &mut Session<T>, batcher: Batcher<'_>) -> Result<u64> {
        for batch in batcher {
            let batch = batch.map_err(|e| self.fail_at(e, self.number + 1))?;
            self.number += 1;
            self.write_batch(s, batch)?;
        }
        Ok(self.committed)
    }

    /// `e` as the failure of batch `number`: committed rows so far, which batch, and whether
    /// its outcome is known.
    fn fail_at(&self, mut e: Error, number: usize) -> Error {
        e.committed_rows = Some(self.committed);
        let done = number.saturating_sub(1);
        let what = if e.outcome_unknown {
            "its outcome is unknown"
        } else {
            "it did not commit"
        };
        let op = match self.mode {
            Mode::Insert => "write",
            Mode::Update(_) => "update",
            Mode::Delete => "delete",
        };
        e.message = format!(
            "{} ({op}: batch {number} failed and {what}; the {done} batches before it committed {} rows)",
            e.message, self.committed
        );
        e
    }

    /// [`Writer::fail_at`] for the current batch.
    fn fail(&self, e: Error) -> Error {
        self.fail_at(e, self.number)
    }

    /// Once a statement SUCCEEDED its batch committed: a count row that cannot be read then is
    /// reported as committed-but-uncounted, never as "did not commit".
    fn fail_uncounted(&self, e: Error) -> Error {
        let mut e = self.fail(e);
        e.outcome_unknown = false;
        e.message.push_str(
            "; the batch did commit (its statement succeeded) but its count could not be established",
        );
        e
    }

    fn write_batch<T: Transport>(&mut self, s: &mut Session<T>, b: Batch) -> Result<()> {
        let params = vec![param_spec("rows", &Value::Text(b.json)).map_err(|e| self.fail(e))?];
        self.write_statement(s, params, b.rows as u64)
    }

    /// Run the plan's statement once, as batch 1 of `rows` records, without parameters: a
    /// staged write whose statement reads its rows from files. Counted and re-sent exactly as a
    /// batch is; returns the rows committed.
    pub fn run_once<T: Transport>(&mut self, s: &mut Session<T>, rows: u64) -> Result<u64> {
        self.number += 1;
        self.write_statement(s, Vec::new(), rows)?;
        Ok(self.committed)
    }

    /// Run the plan's statement with `params` (one batch of `rows` records) and count it.
    fn write_statement<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        params: Vec<ParamSpec>,
        rows: u64,
    ) -> Result<()> {
        let mut cur = Current {
            params,
            rows,
            matched: None,
        };
        cur.matched = self.probe(s, &cur)?;
        let (execution, n) =
            match run_batch(s, &self.plan.sql, &cur.params, self.submit, self.deadline) {
                Ok(Ran::Counted(r)) => {
                    let n = batch_count(&r, &self.mode).map_err(|e| self.fail(e))?;
                    (r.execution, n)
                }
                Ok(Ran::Uncounted(e, x)) => (
                    x,
                    self.uncounted(s, &cur, e)
                        .map_err(|e| self.fail_uncounted(e))?,
                ),
                Err(e) if e.outcome_unknown && e.statement_id.is_none() => {
                    self.resend(s, &cur, e)?
                }
                Err(e) => return Err(self.fail(e)),
            };
        self.committed += n;
        let number = self.number;
        s.debug(|| {
            format!(
                "batch {number} of {} records: statement {} counted {n} rows in {} ms ({} retries)",
                cur.rows, execution.statement_id, execution.elapsed_ms, execution.retries
            )
        });
        self.executions.push(Execution {
            rows_affected: n,
            ..execution
        });
        Ok(())
    }

    /// Deletes: how many target rows this batch matches before it runs.
    fn probe<T: Transport>(&self, s: &mut Session<T>, cur: &Current) -> Result<Option<u64>> {
        let Some(sql) = &self.plan.probe_sql else {
            return Ok(None);
        };
        let probe = match run_batch(s, sql, &cur.params, Retry::Idempotent, self.deadline) {
            Ok(Ran::Counted(r)) => r,
            Ok(Ran::Uncounted(e, _)) | Err(e) => return Err(self.fail(e)),
        };
        probe.count("num_matched_rows").map(Some).ok_or_else(|| {
            self.fail(
                Error::server("the match count of a delete batch has no num_matched_rows")
                    .with_statement(Some(&probe.execution.statement_id)),
            )
        })
    }

    /// The rows of a batch whose statement committed but whose count row could not be read:
    /// an insert inserts every record of the batch, a delete the rows its probe matched; an
    /// update is re-sent once (idempotent) to be counted.
    fn uncounted<T: Transport>(
        &self,
        s: &mut Session<T>,
        cur: &Current,
        cause: Error,
    ) -> Result<u64> {
        s.debug(|| {
            format!(
                "batch committed but its count was not read ({}); counting it",
                cause.message
            )
        });
        match self.mode {
            Mode::Insert => Ok(cur.rows),
            Mode::Delete => cur.matched.ok_or(cause),
            Mode::Update(_) => match run_batch(
                s,
                &self.plan.sql,
                &cur.params,
                Retry::Idempotent,
                self.deadline,
            )? {
                Ran::Counted(r) => batch_count(&r, &self.mode),
                Ran::Uncounted(e, _) => Err(e),
            },
        }
    }

    /// The first attempt's outcome is unknown (`lost`): re-send the batch in its idempotent
    /// form and count it once, whichever attempt committed.
    fn resend<T: Transport>(
        &self,
        s: &mut Session<T>,
        cur: &Current,
        lost: Error,
    ) -> Result<(Execution, u64)> {
        let number = self.number;
        let Some(resend) = &self.plan.resend_sql else {
            let mut e = lost;
            e.message.push_str(
                "; not re-sent: the records have no non-null, unique `id` column to make the insert idempotent",
            );
            return Err(self.fail(e));
        };
        s.debug(|| {
            format!(
                "batch {number}: outcome unknown ({}); re-sending it in idempotent form",
                lost.message
            )
        });
        let ran =
            run_batch(s, resend, &cur.params, Retry::Idempotent, self.deadline).map_err(|e2| {
                let mut e2 = self.fail(e2);
                e2.outcome_unknown = true;
                e2.message = format!(
                    "{} — after the first attempt's outcome was unknown: {}",
                    e2.message, lost.message
                );
                e2
            })?;
        match ran {
            Ran::Counted(r) => {
                let again = batch_count(&r, &self.mode).map_err(|e| self.fail(e))?;
                let n = resent_count(&self.mode, cur.rows, again, cur.matched);
                s.debug(|| {
                    format!("batch {number}: re-send counted {again}, the batch committed {n} rows")
                });
                Ok((r.execution, n))
            }
            // The re-send committed; whichever attempt inserted them, the batch's rows are in
            // the table once.
            Ran::Uncounted(e, x) => Ok((
                x,
                self.uncounted(s, cur, e)
                    .map_err(|e| self.fail_uncounted(e))?,
            )),
        }
    }
}
