//! The connector's operations over a [`Session`]: queries, execute with timing, cancel, and
//! Delta maintenance. Writes are in [`super::write`].

use super::driver::{self, Cursor};
use super::error::{Error, Result};
use super::http::{Method, Transport};
use super::retry::Retry;
use super::session::{Session, Stats};
use super::sql::{is_read_only, quote_ident, quote_table, translate};
use super::value::{Column, Value};

pub use openmatch_types::execution::{Execution, HistoryEntry};

/// A fully read result set (every row in memory; a stream is a [`Cursor`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows, values in column order.
    pub rows: Vec<Vec<Value>>,
    /// Timing and counts.
    pub execution: Execution,
}

impl ResultSet {
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
    driver::read(s, &t.sql, &t.params, submit, deadline)
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
) -> Result<ResultSet> {
    let deadline = s.deadline();
    let mut c = query(s, sql, params, deadline)?;
    let rows = c.all_rows(s, deadline)?;
    let mut out = ResultSet {
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

/// Decode `DESCRIBE HISTORY` rows (columns as Delta's `DeltaHistory`).
pub fn history_entries(r: &ResultSet) -> Result<Vec<HistoryEntry>> {
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
