//! Every conversion between the generated WIT types and the crate's Rust types.

use crate::bindings::{wit, wit_connector, wit_delta};
use crate::connection::{ConnectConfig, Credential, Execution, HistoryEntry, ResultFormat};
use crate::error::{Error, ErrorInfo, ErrorKind};
use crate::param::Param;
use crate::value::{Column, Date, Decimal, Interval, Row, Value};

pub(crate) fn value_to_wit(v: &Value) -> wit::Value {
    match v {
        Value::Null => wit::Value::Null,
        Value::Boolean(b) => wit::Value::Boolean(*b),
        Value::TinyInt(x) => wit::Value::Tinyint(*x),
        Value::SmallInt(x) => wit::Value::Smallint(*x),
        Value::Int(x) => wit::Value::Int(*x),
        Value::BigInt(x) => wit::Value::Bigint(*x),
        Value::Float(x) => wit::Value::Float(*x),
        Value::Double(x) => wit::Value::Double(*x),
        Value::Decimal(d) => wit::Value::Decimal(wit::Decimal {
            digits: d.digits.clone(),
            precision: d.precision,
            scale: d.scale,
        }),
        Value::Text(s) => wit::Value::Text(s.clone()),
        Value::Binary(b) => wit::Value::Binary(b.clone()),
        Value::Date(d) => wit::Value::Date(wit::Date { year: d.year, month: d.month, day: d.day }),
        Value::Timestamp(us) => wit::Value::Timestamp(*us),
        Value::TimestampNtz(us) => wit::Value::TimestampNtz(*us),
        Value::Interval(i) => wit::Value::Interval(wit::Interval { months: i.months, micros: i.micros }),
        Value::Json(s) => wit::Value::Json(s.clone()),
    }
}

pub(crate) fn value_from_wit(v: wit::Value) -> Value {
    match v {
        wit::Value::Null => Value::Null,
        wit::Value::Boolean(b) => Value::Boolean(b),
        wit::Value::Tinyint(x) => Value::TinyInt(x),
        wit::Value::Smallint(x) => Value::SmallInt(x),
        wit::Value::Int(x) => Value::Int(x),
        wit::Value::Bigint(x) => Value::BigInt(x),
        wit::Value::Float(x) => Value::Float(x),
        wit::Value::Double(x) => Value::Double(x),
        wit::Value::Decimal(d) => Value::Decimal(Decimal { digits: d.digits, precision: d.precision, scale: d.scale }),
        wit::Value::Text(s) => Value::Text(s),
        wit::Value::Binary(b) => Value::Binary(b),
        wit::Value::Date(d) => Value::Date(Date { year: d.year, month: d.month, day: d.day }),
        wit::Value::Timestamp(us) => Value::Timestamp(us),
        wit::Value::TimestampNtz(us) => Value::TimestampNtz(us),
        wit::Value::Interval(i) => Value::Interval(Interval { months: i.months, micros: i.micros }),
        wit::Value::Json(s) => Value::Json(s),
    }
}

pub(crate) fn row_to_wit(row: &Row) -> Vec<wit::Field> {
    row.0.iter().map(|(name, value)| wit::Field { name: name.clone(), value: value_to_wit(value) }).collect()
}

pub(crate) fn row_from_wit(row: Vec<wit::Field>) -> Row {
    Row(row.into_iter().map(|f| (f.name, value_from_wit(f.value))).collect())
}

pub(crate) fn params_to_wit(params: &[Param]) -> Vec<wit::Param> {
    params.iter().map(|p| wit::Param { name: p.name.clone(), value: value_to_wit(&p.value) }).collect()
}

pub(crate) fn column_from_wit(c: wit::Column) -> Column {
    Column { name: c.name, type_name: c.type_name, type_text: c.type_text, position: c.position }
}

pub(crate) fn error_from_wit(e: wit::Error) -> Error {
    let kind = match e.kind {
        wit::ErrorKind::Connection => ErrorKind::Connection,
        wit::ErrorKind::Authentication => ErrorKind::Authentication,
        wit::ErrorKind::Permission => ErrorKind::Permission,
        wit::ErrorKind::Syntax => ErrorKind::Syntax,
        wit::ErrorKind::NotFound => ErrorKind::NotFound,
        wit::ErrorKind::ResourceExhausted => ErrorKind::ResourceExhausted,
        wit::ErrorKind::Timeout => ErrorKind::Timeout,
        wit::ErrorKind::Canceled => ErrorKind::Canceled,
        wit::ErrorKind::InvalidInput => ErrorKind::InvalidInput,
        wit::ErrorKind::Server => ErrorKind::Server,
    };
    Error::new(
        kind,
        ErrorInfo {
            message: e.message,
            sql_state: e.sql_state,
            error_code: e.error_code,
            statement_id: e.statement_id,
            http_status: e.http_status,
            retry_after_ms: e.retry_after_ms,
            committed_rows: e.committed_rows,
        },
    )
}

pub(crate) fn config_to_wit(c: &ConnectConfig) -> wit_connector::Config {
    wit_connector::Config {
        server_hostname: c.server_hostname.clone(),
        http_path: c.http_path.clone(),
        credential: match &c.credential {
            Credential::AccessToken(t) => wit_connector::Credential::AccessToken(t.expose().to_string()),
            Credential::OAuthM2m { client_id, client_secret, scope } => {
                wit_connector::Credential::OauthM2m(wit_connector::ClientCredentials {
                    client_id: client_id.clone(),
                    client_secret: client_secret.expose().to_string(),
                    scope: scope.clone(),
                })
            }
        },
        catalog: c.catalog.clone(),
        schema: c.schema.clone(),
        timeout_ms: c.timeout_ms,
        batch_rows: c.batch_rows,
        batch_bytes: c.batch_bytes,
        max_attempts: c.max_attempts,
        external_links: c.external_links,
        result_format: c.result_format.map(|f| match f {
            ResultFormat::Auto => wit_connector::ResultFormat::Auto,
            ResultFormat::Arrow => wit_connector::ResultFormat::Arrow,
            ResultFormat::Json => wit_connector::ResultFormat::Json,
        }),
        download_window: c.download_window,
        staging_volume: c.staging_volume.clone(),
        debug_log: c.debug_log,
    }
}

pub(crate) fn execution_from_wit(e: wit_connector::Execution) -> Execution {
    Execution {
        statement_id: e.statement_id,
        elapsed_ms: e.elapsed_ms,
        rows_affected: e.rows_affected,
        row_count: e.row_count,
        retries: e.retries,
    }
}

pub(crate) fn history_from_wit(h: wit_delta::HistoryEntry) -> HistoryEntry {
    HistoryEntry {
        version: h.version,
        timestamp: h.timestamp,
        operation: h.operation,
        operation_parameters: h.operation_parameters,
        operation_metrics: h.operation_metrics,
        user_name: h.user_name,
    }
}
