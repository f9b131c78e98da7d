//! The connector's operations over a [`Session`]: queries, execute with timing, batched
//! writes with server counts, and Delta maintenance.

use super::batch::{self, Batcher, Mode, Record};
use super::driver::{self, Cursor};
use super::error::{Error, Result};
use super::http::{Method, Transport};
use super::retry::Retry;
use super::session::{Session, Stats};
use super::sql::{is_read_only, quote_ident, quote_table, translate};
use super::value::{Column, ParamSpec, Value, param_spec};

/// Timing and counts of one executed statement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Execution {
    /// The statement id.
    pub statement_id: String,
    /// Submission to last byte, ms.
    pub elapsed_ms: u64,
    /// `num_affected_rows`, 0 when absent.
    pub rows_affected: u64,
    /// Rows in the result set.
    pub row_count: u64,
    /// Retried requests.
    pub retries: u32,
}

/// A fully read result.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows, values in column order.
    pub rows: Vec<Vec<Value>>,
    /// Timing and counts.
    pub execution: Execution,
}

impl Rows {
    /// The first row's value of column `name`, as a count.
    pub fn count(&self, name: &str) -> Option<u64> {
        let i = self.columns.iter().position(|c| c.name == name)?;
        match self.rows.first()?.get(i)? {
            Value::BigInt(n) => u64::try_from(*n).ok(),
            Value::Int(n) => u64::try_from(*n).ok(),
            Value::Text(t) => t.parse().ok(),
            _ => None,
        }
    }
}

/// Translate `%(name)s` markers and start the statement; rows are read from the cursor.
pub fn query<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    params: &[(String, Value)],
    deadline: u64,
) -> Result<Cursor> {
    let t = translate(sql, params)?;
    // A read-only statement is re-sent when its answer was lost; anything else may write.
    let submit = if is_read_only(&t.sql) {
        Retry::Idempotent
    } else {
        Retry::Submit
    };
    driver::run(s, &t.sql, &t.params, submit, deadline)
}

/// The execution record of a cursor read to its end.
pub fn execution_of<T: Transport>(s: &Session<T>, c: &Cursor, rows_affected: u64) -> Execution {
    Execution {
        statement_id: c.statement_id.clone(),
        elapsed_ms: s.transport.now_ms().saturating_sub(c.started_ms),
        rows_affected,
        row_count: c.delivered,
        retries: c.stats.retries,
    }
}

/// Run a statement and read every row.
pub fn read_all<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    params: &[(String, Value)],
) -> Result<Rows> {
    let deadline = s.deadline();
    let mut c = query(s, sql, params, deadline)?;
    let rows = c.all_rows(s, deadline)?;
    let mut out = Rows {
        columns: std::mem::take(&mut c.columns),
        rows,
        execution: Execution::default(),
    };
    let affected = out.count("num_affected_rows").unwrap_or(0);
    out.execution = execution_of(s, &c, affected);
    s.debug(|| {
        let e = &out.execution;
        format!(
            "statement {} done: {} ms, {} rows, {} affected, {} retries",
            e.statement_id, e.elapsed_ms, e.row_count, e.rows_affected, e.retries
        )
    });
    Ok(out)
}

/// The server's count of a batch statement for `mode`.
fn batch_count(r: &Rows, mode: &Mode) -> Result<u64> {
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

/// A batch statement that ran: its count row, or — it SUCCEEDED, so it committed — the error
/// that kept its count row from being read (e.g. an expired result link).
enum Ran {
    Counted(Rows),
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
            let mut r = Rows {
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

/// The rows of a batch whose statement committed but whose count row could not be read:
/// an insert inserts every record of the batch, a delete the rows its probe matched; an update
/// is re-sent once (idempotent) to be counted.
#[allow(clippy::too_many_arguments)]
fn uncounted<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    mode: &Mode,
    rows: u64,
    matched: Option<u64>,
    params: &[ParamSpec],
    deadline: u64,
    cause: Error,
) -> Result<u64> {
    s.debug(|| {
        format!(
            "batch committed but its count was not read ({}); counting it",
            cause.message
        )
    });
    match mode {
        Mode::Insert => Ok(rows),
        Mode::Delete => matched.ok_or(cause),
        Mode::Update(_) => match run_batch(s, sql, params, Retry::Idempotent, deadline)? {
            Ran::Counted(r) => batch_count(&r, mode),
            Ran::Uncounted(e, _) => Err(e),
        },
    }
}

/// Write `records` to `target` in batches (one statement, one Delta commit each); returns the
/// server's count. Exactly once: a batch whose submission's answer was lost (outcome unknown) is
/// re-sent in its idempotent form ([`batch::Plan::resend_sql`]) and counted once whichever
/// attempt committed; when it has none, the write stops with the outcome unknown. On failure the
/// error's `committed_rows` holds the rows committed by the batches before the failing one, and
/// its message says which batch failed and whether its outcome is unknown.
pub fn write<T: Transport>(
    s: &mut Session<T>,
    records: &[Record],
    target: &str,
    mode: Mode,
) -> Result<(u64, Vec<Execution>)> {
    if records.is_empty() {
        quote_table(target)?;
        return Ok((0, Vec::new()));
    }
    let plan = batch::plan(records, target, &mode)?;
    if let Mode::Update(keys) = &mode {
        batch::check_unique_keys(records, &plan, keys)?;
    }
    // A batch's answer is one count row: read it INLINE whatever the connection's disposition,
    // so no presigned link (which may expire) stands between a commit and its count.
    let links = std::mem::replace(&mut s.config.external_links, false);
    let out = write_batches(s, records, &plan, &mode);
    s.config.external_links = links;
    out
}

fn write_batches<T: Transport>(
    s: &mut Session<T>,
    records: &[Record],
    plan: &batch::Plan,
    mode: &Mode,
) -> Result<(u64, Vec<Execution>)> {
    let mode = mode.clone();
    // An update MERGE sets the same values however often it runs, so a batch whose outcome is
    // unknown may be re-sent by the retry policy itself (and its count stays right).
    let submit = if matches!(mode, Mode::Update(_)) {
        Retry::Idempotent
    } else {
        Retry::Submit
    };
    let mut batcher = Batcher::new(records, plan, s.config.batch_rows, s.config.batch_bytes);
    let mut committed = 0u64;
    let mut executions = Vec::new();
    let mut number = 0usize;
    loop {
        let fail = |mut e: Error, committed: u64, number: usize| {
            e.committed_rows = Some(committed);
            let done = number.saturating_sub(1);
            let what = if e.outcome_unknown {
                "its outcome is unknown"
            } else {
                "it did not commit"
            };
            e.message = format!(
                "{} (write: batch {number} failed and {what}; the {done} batches before it committed {committed} rows)",
                e.message
            );
            e
        };
        let Some(b) = batcher
            .next_batch()
            .map_err(|e| fail(e, committed, number + 1))?
        else {
            break;
        };
        number += 1;
        let params =
            [param_spec("rows", &Value::Text(b.json)).map_err(|e| fail(e, committed, number))?];
        let deadline = s.deadline();
        // Deletes: how many target rows this batch matches before it runs.
        let matched = match &plan.probe_sql {
            Some(sql) => {
                let probe = match run_batch(s, sql, &params, Retry::Idempotent, deadline) {
                    Ok(Ran::Counted(r)) => r,
                    Ok(Ran::Uncounted(e, _)) | Err(e) => return Err(fail(e, committed, number)),
                };
                Some(probe.count("num_matched_rows").ok_or_else(|| {
                    fail(
                        Error::server("the match count of a delete batch has no num_matched_rows")
                            .with_statement(Some(&probe.execution.statement_id)),
                        committed,
                        number,
                    )
                })?)
            }
            None => None,
        };
        // Once a statement SUCCEEDED the batch committed: a count row that cannot be read
        // then is worked out, never reported as "did not commit".
        let committed_uncounted = |e: Error, committed: u64, number: usize| {
            let mut e = fail(e, committed, number);
            e.outcome_unknown = false;
            e.message.push_str(
                "; the batch did commit (its statement succeeded) but its count could not be established",
            );
            e
        };
        let (execution, n) = match run_batch(s, &plan.sql, &params, submit, deadline) {
            Ok(Ran::Counted(r)) => {
                let n = batch_count(&r, &mode).map_err(|e| fail(e, committed, number))?;
                (r.execution, n)
            }
            Ok(Ran::Uncounted(e, x)) => {
                let n = uncounted(
                    s,
                    &plan.sql,
                    &mode,
                    b.rows as u64,
                    matched,
                    &params,
                    deadline,
                    e,
                )
                .map_err(|e| committed_uncounted(e, committed, number))?;
                (x, n)
            }
            Err(e) if e.outcome_unknown && e.statement_id.is_none() => {
                let Some(resend) = &plan.resend_sql else {
                    let mut e = e;
                    e.message.push_str(
                        "; not re-sent: the records have no non-null, unique `id` column to make the insert idempotent",
                    );
                    return Err(fail(e, committed, number));
                };
                s.debug(|| {
                    format!(
                        "batch {number}: outcome unknown ({}); re-sending it in idempotent form",
                        e.message
                    )
                });
                let ran =
                    run_batch(s, resend, &params, Retry::Idempotent, deadline).map_err(|e2| {
                        let mut e2 = fail(e2, committed, number);
                        e2.outcome_unknown = true;
                        e2.message = format!(
                            "{} — after the first attempt's outcome was unknown: {}",
                            e2.message, e.message
                        );
                        e2
                    })?;
                match ran {
                    Ran::Counted(r) => {
                        let again =
                            batch_count(&r, &mode).map_err(|e| fail(e, committed, number))?;
                        let n = resent_count(&mode, b.rows as u64, again, matched);
                        s.debug(|| {
                            format!("batch {number}: re-send counted {again}, the batch committed {n} rows")
                        });
                        (r.execution, n)
                    }
                    // The re-send committed; whichever attempt inserted them, the batch's rows
                    // are in the table once.
                    Ran::Uncounted(e, x) => {
                        let n = uncounted(
                            s,
                            &plan.sql,
                            &mode,
                            b.rows as u64,
                            matched,
                            &params,
                            deadline,
                            e,
                        )
                        .map_err(|e| committed_uncounted(e, committed, number))?;
                        (x, n)
                    }
                }
            }
            Err(e) => return Err(fail(e, committed, number)),
        };
        committed += n;
        s.debug(|| {
            format!(
                "batch {number} of {} records: statement {} counted {n} rows in {} ms ({} retries)",
                b.rows, execution.statement_id, execution.elapsed_ms, execution.retries
            )
        });
        let mut execution = execution;
        execution.rows_affected = n;
        executions.push(execution);
    }
    Ok((committed, executions))
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

/// Cancel statement `id` (validated), with retries; the server answers `{}`.
pub fn cancel<T: Transport>(s: &mut Session<T>, id: &str) -> Result<()> {
    if !driver::valid_statement_id(id) {
        return Err(Error::invalid("malformed statement id"));
    }
    let deadline = s.deadline();
    let path = format!("/api/2.0/sql/statements/{id}/cancel");
    s.api(
        Method::Post,
        &path,
        Some(b"{}".to_vec()),
        Retry::Idempotent,
        deadline,
        &mut Stats::default(),
    )
    .map_err(|e| e.with_statement(Some(id)))?;
    s.debug(|| format!("statement {id} canceled on request"));
    Ok(())
}

/// One execution summing the batches of a write (last statement id, total time and counts).
pub fn total_execution(batches: &[Execution], count: u64) -> Option<Execution> {
    let last = batches.last()?;
    Some(Execution {
        statement_id: last.statement_id.clone(),
        elapsed_ms: batches.iter().map(|e| e.elapsed_ms).sum(),
        rows_affected: count,
        row_count: batches.iter().map(|e| e.row_count).sum(),
        retries: batches.iter().map(|e| e.retries).sum(),
    })
}

/// `OPTIMIZE t [ZORDER BY (c, …)]`.
pub fn optimize_sql(table: &str, zorder_by: &[String]) -> Result<String> {
    let mut sql = format!("OPTIMIZE {}", quote_table(table)?);
    if !zorder_by.is_empty() {
        let cols: Vec<String> = zorder_by
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Result<_>>()?;
        sql.push_str(&format!(" ZORDER BY ({})", cols.join(", ")));
    }
    Ok(sql)
}

/// `VACUUM t RETAIN n HOURS` (168 when absent).
pub fn vacuum_sql(table: &str, retain_hours: Option<u32>) -> Result<String> {
    Ok(format!(
        "VACUUM {} RETAIN {} HOURS",
        quote_table(table)?,
        retain_hours.unwrap_or(168)
    ))
}

/// `DESCRIBE HISTORY t [LIMIT n]`.
pub fn history_sql(table: &str, limit: Option<u32>) -> Result<String> {
    let mut sql = format!("DESCRIBE HISTORY {}", quote_table(table)?);
    if let Some(n) = limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    Ok(sql)
}

/// One `DESCRIBE HISTORY` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Table version.
    pub version: i64,
    /// Commit time, micros since the epoch UTC.
    pub timestamp: i64,
    /// Operation name.
    pub operation: String,
    /// Parameters as a JSON object text.
    pub operation_parameters: String,
    /// Metrics as a JSON object text.
    pub operation_metrics: String,
    /// Committing principal.
    pub user_name: Option<String>,
}

/// Decode `DESCRIBE HISTORY` rows (columns as Delta's `DeltaHistory`).
pub fn history_entries(r: &Rows) -> Result<Vec<HistoryEntry>> {
    let col = |name: &str| {
        r.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    };
    let (Some(v), Some(ts), Some(op)) = (col("version"), col("timestamp"), col("operation")) else {
        return Err(Error::server(
            "DESCRIBE HISTORY result lacks version, timestamp or operation",
        ));
    };
    let (params, metrics, user) = (
        col("operationParameters"),
        col("operationMetrics"),
        col("userName"),
    );
    let text = |row: &[Value], i: Option<usize>| -> Option<String> {
        match row.get(i?)? {
            Value::Text(t) | Value::Json(t) => Some(t.clone()),
            _ => None,
        }
    };
    r.rows
        .iter()
        .map(|row| {
            let version = match row.get(v) {
                Some(Value::BigInt(n)) => *n,
                Some(Value::Int(n)) => i64::from(*n),
                _ => return Err(Error::server("DESCRIBE HISTORY version is not an integer")),
            };
            let timestamp = match row.get(ts) {
                Some(Value::Timestamp(t) | Value::TimestampNtz(t)) => *t,
                _ => {
                    return Err(Error::server(
                        "DESCRIBE HISTORY timestamp is not a timestamp",
                    ));
                }
            };
            Ok(HistoryEntry {
                version,
                timestamp,
                operation: text(row, Some(op)).unwrap_or_default(),
                operation_parameters: text(row, params).unwrap_or_else(|| "{}".into()),
                operation_metrics: text(row, metrics).unwrap_or_else(|| "{}".into()),
                user_name: text(row, user),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_sql() {
        assert_eq!(
            optimize_sql("cat.s.t", &[]).unwrap(),
            "OPTIMIZE `cat`.`s`.`t`"
        );
        assert_eq!(
            optimize_sql("t", &["c".into(), "d`x".into()]).unwrap(),
            "OPTIMIZE `t` ZORDER BY (`c`, `d``x`)"
        );
        assert_eq!(
            vacuum_sql("t", None).unwrap(),
            "VACUUM `t` RETAIN 168 HOURS"
        );
        assert_eq!(
            vacuum_sql("t", Some(200)).unwrap(),
            "VACUUM `t` RETAIN 200 HOURS"
        );
        assert_eq!(history_sql("t", None).unwrap(), "DESCRIBE HISTORY `t`");
        assert_eq!(
            history_sql("t", Some(5)).unwrap(),
            "DESCRIBE HISTORY `t` LIMIT 5"
        );
        assert!(optimize_sql("", &[]).is_err());
        assert!(optimize_sql("t", &["".into()]).is_err());
    }
}
