//! Every conversion between the WIT types and the shared vocabulary (`openmatch-types`) and
//! core types the guest works with.

use crate::bindings::exports::openmatch::databricks::connector as wit;
use crate::bindings::exports::openmatch::databricks::delta::HistoryEntry;
use crate::bindings::exports::openmatch::databricks::types as wt;
use crate::core::columns::{ColumnBatch, ColumnData, PackedText};
use crate::core::config::{ConnectConfig, Credential, ResultFormat};
use crate::core::error::{Error, ErrorKind};
use crate::core::ops::{self, Execution};
use crate::core::secret::Secret;
use crate::core::value::{Column, Date, Decimal, Interval, Value};
use crate::core::write::plan::Record;

/// WIT config → core config input.
pub fn config(c: wit::Config) -> ConnectConfig {
    let credential = match c.credential {
        wit::Credential::AccessToken(t) => Credential::AccessToken(Secret::new(t)),
        wit::Credential::OauthM2m(cc) => Credential::OAuthM2m {
            client_id: cc.client_id,
            client_secret: Secret::new(cc.client_secret),
            scope: cc.scope,
        },
    };
    ConnectConfig {
        server_hostname: c.server_hostname,
        http_path: c.http_path,
        credential,
        catalog: c.catalog,
        schema: c.schema,
        timeout_ms: c.timeout_ms,
        batch_rows: c.batch_rows,
        batch_bytes: c.batch_bytes,
        max_attempts: c.max_attempts,
        external_links: c.external_links,
        result_format: c.result_format.map(|f| match f {
            wit::ResultFormat::Auto => ResultFormat::Auto,
            wit::ResultFormat::Arrow => ResultFormat::Arrow,
            wit::ResultFormat::Json => ResultFormat::Json,
        }),
        download_window: c.download_window,
        staging_volume: c.staging_volume,
        debug_log: c.debug_log,
    }
}

/// WIT value → core value.
pub fn value(v: wt::Value) -> Value {
    match v {
        wt::Value::Null => Value::Null,
        wt::Value::Boolean(b) => Value::Boolean(b),
        wt::Value::Tinyint(i) => Value::TinyInt(i),
        wt::Value::Smallint(i) => Value::SmallInt(i),
        wt::Value::Int(i) => Value::Int(i),
        wt::Value::Bigint(i) => Value::BigInt(i),
        wt::Value::Float(f) => Value::Float(f),
        wt::Value::Double(f) => Value::Double(f),
        wt::Value::Decimal(d) => Value::Decimal(Decimal {
            digits: d.digits,
            precision: d.precision,
            scale: d.scale,
        }),
        wt::Value::Text(s) => Value::Text(s),
        wt::Value::Binary(b) => Value::Binary(b),
        wt::Value::Date(d) => Value::Date(Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }),
        wt::Value::Timestamp(t) => Value::Timestamp(t),
        wt::Value::TimestampNtz(t) => Value::TimestampNtz(t),
        wt::Value::Interval(i) => Value::Interval(Interval {
            months: i.months,
            micros: i.micros,
        }),
        wt::Value::Json(s) => Value::Json(s),
    }
}

/// Core value → WIT value.
pub fn to_wit_value(v: Value) -> wt::Value {
    match v {
        Value::Null => wt::Value::Null,
        Value::Boolean(b) => wt::Value::Boolean(b),
        Value::TinyInt(i) => wt::Value::Tinyint(i),
        Value::SmallInt(i) => wt::Value::Smallint(i),
        Value::Int(i) => wt::Value::Int(i),
        Value::BigInt(i) => wt::Value::Bigint(i),
        Value::Float(f) => wt::Value::Float(f),
        Value::Double(f) => wt::Value::Double(f),
        Value::Decimal(d) => wt::Value::Decimal(wt::Decimal {
            digits: d.digits,
            precision: d.precision,
            scale: d.scale,
        }),
        Value::Text(s) => wt::Value::Text(s),
        Value::Binary(b) => wt::Value::Binary(b),
        Value::Date(d) => wt::Value::Date(wt::Date {
            year: d.year,
            month: d.month,
            day: d.day,
        }),
        Value::Timestamp(t) => wt::Value::Timestamp(t),
        Value::TimestampNtz(t) => wt::Value::TimestampNtz(t),
        Value::Interval(i) => wt::Value::Interval(wt::Interval {
            months: i.months,
            micros: i.micros,
        }),
        Value::Json(s) => wt::Value::Json(s),
    }
}

/// Core column batch → WIT column batch (the vectors move; nothing is copied per cell).
pub fn column_batch(b: ColumnBatch) -> wit::ColumnBatch {
    let packed = |p: PackedText| wit::PackedText {
        data: p.data,
        ends: p.ends,
        nulls: p.nulls,
    };
    let date = |d: Option<Date>| {
        d.map(|d| wt::Date {
            year: d.year,
            month: d.month,
            day: d.day,
        })
    };
    let columns = b
        .columns
        .into_iter()
        .map(|c| match c {
            ColumnData::Boolean(v) => wit::ColumnData::Boolean(v),
            ColumnData::TinyInt(v) => wit::ColumnData::Tinyint(v),
            ColumnData::SmallInt(v) => wit::ColumnData::Smallint(v),
            ColumnData::Int(v) => wit::ColumnData::Int(v),
            ColumnData::BigInt(v) => wit::ColumnData::Bigint(v),
            ColumnData::Float(v) => wit::ColumnData::Float(v),
            ColumnData::Double(v) => wit::ColumnData::Double(v),
            ColumnData::Decimal {
                precision,
                scale,
                digits,
            } => wit::ColumnData::Decimal(wit::PackedDecimal {
                precision,
                scale,
                digits: packed(digits),
            }),
            ColumnData::Text(p) => wit::ColumnData::Text(packed(p)),
            ColumnData::Json(p) => wit::ColumnData::Json(packed(p)),
            ColumnData::Date(v) => wit::ColumnData::Date(v.into_iter().map(date).collect()),
            ColumnData::Timestamp(v) => wit::ColumnData::Timestamp(v),
            ColumnData::TimestampNtz(v) => wit::ColumnData::TimestampNtz(v),
            ColumnData::Values(v) => {
                wit::ColumnData::Values(v.into_iter().map(to_wit_value).collect())
            }
        })
        .collect();
    wit::ColumnBatch {
        rows: b.rows as u32,
        columns,
    }
}

/// WIT column-major records (`write-columns`) → core records: record `i` holds `(names[j],
/// cell i of column j)` for every column. Names and columns that do not line up, or a column
/// without `records.rows` cells, are `invalid-input`.
pub fn column_records(names: Vec<String>, batch: wit::ColumnBatch) -> Result<Vec<Record>, Error> {
    let rows = batch.rows as usize;
    if names.len() != batch.columns.len() {
        return Err(Error::invalid(format!(
            "{} field names for {} columns",
            names.len(),
            batch.columns.len()
        )));
    }
    let mut records: Vec<Record> = (0..rows).map(|_| Vec::with_capacity(names.len())).collect();
    for (name, column) in names.iter().zip(batch.columns) {
        let cells = column_values(column, rows).ok_or_else(|| {
            Error::invalid(format!(
                "column {name:?} does not hold {rows} well-formed cells"
            ))
        })?;
        for (record, value) in records.iter_mut().zip(cells) {
            record.push((name.clone(), value));
        }
    }
    Ok(records)
}

/// The cells of one WIT column as values; `None` unless it has exactly `rows` cells.
fn column_values(column: wit::ColumnData, rows: usize) -> Option<Vec<Value>> {
    fn cells<T>(v: Vec<Option<T>>, rows: usize, f: impl Fn(T) -> Value) -> Option<Vec<Value>> {
        (v.len() == rows).then(|| v.into_iter().map(|c| c.map_or(Value::Null, &f)).collect())
    }
    fn texts(p: wit::PackedText, rows: usize, f: impl Fn(String) -> Value) -> Option<Vec<Value>> {
        if p.ends.len() != rows || p.nulls.len() != rows {
            return None;
        }
        let mut start = 0;
        let mut out = Vec::with_capacity(rows);
        for (&end, &null) in p.ends.iter().zip(&p.nulls) {
            let end = end as usize;
            let text = p.data.get(start..end)?;
            start = end;
            out.push(if null {
                Value::Null
            } else {
                f(text.to_owned())
            });
        }
        Some(out)
    }
    match column {
        wit::ColumnData::Boolean(v) => cells(v, rows, Value::Boolean),
        wit::ColumnData::Tinyint(v) => cells(v, rows, Value::TinyInt),
        wit::ColumnData::Smallint(v) => cells(v, rows, Value::SmallInt),
        wit::ColumnData::Int(v) => cells(v, rows, Value::Int),
        wit::ColumnData::Bigint(v) => cells(v, rows, Value::BigInt),
        wit::ColumnData::Float(v) => cells(v, rows, Value::Float),
        wit::ColumnData::Double(v) => cells(v, rows, Value::Double),
        wit::ColumnData::Decimal(d) => texts(d.digits, rows, |digits| {
            Value::Decimal(Decimal {
                digits,
                precision: d.precision,
                scale: d.scale,
            })
        }),
        wit::ColumnData::Text(p) => texts(p, rows, Value::Text),
        wit::ColumnData::Json(p) => texts(p, rows, Value::Json),
        wit::ColumnData::Date(v) => cells(v, rows, |d| {
            Value::Date(Date {
                year: d.year,
                month: d.month,
                day: d.day,
            })
        }),
        wit::ColumnData::Timestamp(v) => cells(v, rows, Value::Timestamp),
        wit::ColumnData::TimestampNtz(v) => cells(v, rows, Value::TimestampNtz),
        wit::ColumnData::Values(v) => (v.len() == rows).then(|| v.into_iter().map(value).collect()),
    }
}

/// WIT params → core `(name, value)` pairs.
pub fn params(ps: Vec<wt::Param>) -> Vec<(String, Value)> {
    ps.into_iter().map(|p| (p.name, value(p.value))).collect()
}

/// WIT rows → core records.
pub fn records(rows: Vec<wt::Row>) -> Vec<Vec<(String, Value)>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(|f| (f.name, value(f.value))).collect())
        .collect()
}

/// Core column → WIT column.
pub fn column(c: &Column) -> wt::Column {
    wt::Column {
        name: c.name.clone(),
        type_name: c.type_name.clone(),
        type_text: c.type_text.clone(),
        position: c.position,
    }
}

/// Core rows → WIT keyed records.
pub fn keyed_rows(r: ops::ResultSet) -> Vec<wt::Row> {
    let names: Vec<String> = r.columns.iter().map(|c| c.name.clone()).collect();
    r.rows
        .into_iter()
        .map(|row| {
            names
                .iter()
                .zip(row)
                .map(|(n, v)| wt::Field {
                    name: n.clone(),
                    value: to_wit_value(v),
                })
                .collect()
        })
        .collect()
}

/// Core execution → WIT execution.
pub fn execution(e: &Execution) -> wit::Execution {
    wit::Execution {
        statement_id: e.statement_id.clone(),
        elapsed_ms: e.elapsed_ms,
        rows_affected: e.rows_affected,
        row_count: e.row_count,
        retries: e.retries,
    }
}

/// Core history entry → WIT history entry.
pub fn history(h: ops::HistoryEntry) -> HistoryEntry {
    HistoryEntry {
        version: h.version,
        timestamp: h.timestamp,
        operation: h.operation,
        operation_parameters: h.operation_parameters,
        operation_metrics: h.operation_metrics,
        user_name: h.user_name,
    }
}

/// Core error → WIT error, with every secret in `secrets` removed from the message.
pub fn error(e: Error, secrets: &[String]) -> wt::Error {
    let e = e.sanitized(secrets);
    let kind = match e.kind {
        ErrorKind::Connection => wt::ErrorKind::Connection,
        ErrorKind::Authentication => wt::ErrorKind::Authentication,
        ErrorKind::Permission => wt::ErrorKind::Permission,
        ErrorKind::Syntax => wt::ErrorKind::Syntax,
        ErrorKind::NotFound => wt::ErrorKind::NotFound,
        ErrorKind::ResourceExhausted => wt::ErrorKind::ResourceExhausted,
        ErrorKind::Timeout => wt::ErrorKind::Timeout,
        ErrorKind::Canceled => wt::ErrorKind::Canceled,
        ErrorKind::InvalidInput => wt::ErrorKind::InvalidInput,
        // The sandbox's kinds are raised by hosts, never by the guest.
        ErrorKind::Server
        | ErrorKind::Trap
        | ErrorKind::MemoryLimit
        | ErrorKind::CpuLimit
        | ErrorKind::CallTimeout
        | ErrorKind::Unusable
        | ErrorKind::Load
        | ErrorKind::Host => wt::ErrorKind::Server,
    };
    let info = e.info;
    wt::Error {
        kind,
        message: info.message,
        sql_state: info.sql_state,
        error_code: info.error_code,
        statement_id: info.statement_id,
        http_status: info.http_status,
        retry_after_ms: info.retry_after_ms,
        committed_rows: info.committed_rows,
    }
}
