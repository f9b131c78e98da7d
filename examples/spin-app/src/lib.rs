//! `/customers` over the openmatch-databricks connector, as a Spin HTTP component.
//!
//! - `GET /customers?region=WEST` → `200` and a JSON array of customer objects (all customers
//!   without `region`).
//! - `POST /customers` with a JSON object or array of objects → `201` and `{"count": n}` (the
//!   server's count of inserted rows).
//! - Connector errors become JSON `{"error": kind, "message", "sql_state"}` with a status that
//!   says whose fault it is (see `status_of`).
//!
//! The connector is an *import* (`openmatch:databricks/connector@0.4.1`): Spin plugs the
//! connector component in from `spin.toml`'s dependencies; `wasm-tools compose` does the same
//! ahead of time for other hosts. Connection settings come from environment variables
//! (`DATABRICKS_HOST`, `DATABRICKS_HTTP_PATH`, `DATABRICKS_TOKEN`, optional
//! `DATABRICKS_CATALOG`, `DATABRICKS_SCHEMA`, `DATABRICKS_RESULT_FORMAT` = `auto`|`arrow`|`json`,
//! `CUSTOMERS_TABLE`), which Spin sets from the
//! component's `environment` table and `wasmtime serve` from `--env`.

use serde_json::{Map, Value as Json, json};
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: ["../../wit", "wit"],
    world: "openmatch:customers-app/app",
    generate_all,
});

use openmatch::databricks::connector::{Config, Connection, Credential, ResultFormat};
use openmatch::databricks::types::{Error, ErrorKind, Field, Param, Row, Value};

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path();
    let route = path.trim_end_matches('/');
    if route != "/customers" {
        return Ok(json_response(
            404,
            &json!({"error": "not-found", "message": format!("no route {path}")}),
        ));
    }
    let result = match req.method() {
        Method::Get => list(query_param(req.query(), "region")),
        Method::Post => insert(req.body()),
        _ => {
            return Ok(json_response(
                405,
                &json!({"error": "method-not-allowed", "message": "use GET or POST"}),
            ));
        }
    };
    Ok(match result {
        Ok((status, body)) => json_response(status, &body),
        Err(Failure::BadRequest(message)) => {
            json_response(400, &json!({"error": "invalid-input", "message": message}))
        }
        Err(Failure::Connector(e)) => error_response(e),
    })
}

enum Failure {
    BadRequest(String),
    Connector(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Connector(e)
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn table() -> String {
    env("CUSTOMERS_TABLE").unwrap_or_else(|| "customers".to_string())
}

/// One connection per request: a Spin component instance lives for one request anyway.
fn connect() -> Result<Connection, Failure> {
    let missing =
        |name: &str| Failure::BadRequest(format!("the app is not configured: set {name}"));
    let config = Config {
        server_hostname: env("DATABRICKS_HOST").ok_or_else(|| missing("DATABRICKS_HOST"))?,
        http_path: env("DATABRICKS_HTTP_PATH").ok_or_else(|| missing("DATABRICKS_HTTP_PATH"))?,
        credential: Credential::AccessToken(
            env("DATABRICKS_TOKEN").ok_or_else(|| missing("DATABRICKS_TOKEN"))?,
        ),
        catalog: env("DATABRICKS_CATALOG"),
        schema: env("DATABRICKS_SCHEMA"),
        timeout_ms: Some(60_000),
        batch_rows: None,
        batch_bytes: None,
        max_attempts: None,
        external_links: false,
        result_format: match env("DATABRICKS_RESULT_FORMAT").as_deref() {
            None | Some("auto") => None,
            Some("arrow") => Some(ResultFormat::Arrow),
            Some("json") => Some(ResultFormat::Json),
            Some(other) => {
                return Err(Failure::BadRequest(format!(
                    "DATABRICKS_RESULT_FORMAT is auto, arrow or json, not {other:?}"
                )));
            }
        },
        download_window: None,
        staging_volume: None,
        debug_log: false,
    };
    Ok(Connection::open(&config)?)
}

fn list(region: Option<String>) -> Result<(u16, Json), Failure> {
    let conn = connect()?;
    let table = table();
    let (sql, params) = match region {
        Some(region) => (
            format!("SELECT * FROM {table} WHERE region = %(region)s ORDER BY id"),
            vec![Param {
                name: "region".into(),
                value: Value::Text(region),
            }],
        ),
        None => (format!("SELECT * FROM {table} ORDER BY id"), Vec::new()),
    };
    let rows = conn.read_records(&sql, &params)?;
    Ok((
        200,
        Json::Array(rows.into_iter().map(row_to_json).collect()),
    ))
}

fn insert(body: &[u8]) -> Result<(u16, Json), Failure> {
    let parsed: Json = serde_json::from_slice(body)
        .map_err(|e| Failure::BadRequest(format!("body is not JSON: {e}")))?;
    let objects = match parsed {
        Json::Array(items) => items,
        object @ Json::Object(_) => vec![object],
        _ => {
            return Err(Failure::BadRequest(
                "send a JSON object or an array of objects".into(),
            ));
        }
    };
    let mut records = Vec::with_capacity(objects.len());
    for item in objects {
        let Json::Object(fields) = item else {
            return Err(Failure::BadRequest(
                "every record must be a JSON object".into(),
            ));
        };
        records.push(json_to_row(fields)?);
    }
    if records.is_empty() {
        return Ok((201, json!({"count": 0})));
    }
    let conn = connect()?;
    let count = conn.write_records(&records, &table())?;
    Ok((201, json!({"count": count})))
}

/// JSON → WIT: integers → bigint, other numbers → double, strings → text, null → null.
fn json_to_row(fields: Map<String, Json>) -> Result<Row, Failure> {
    fields
        .into_iter()
        .map(|(name, v)| {
            let value = match v {
                Json::Null => Value::Null,
                Json::Bool(b) => Value::Boolean(b),
                Json::Number(n) => match n.as_i64() {
                    Some(i) => Value::Bigint(i),
                    None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
                },
                Json::String(s) => Value::Text(s),
                other => {
                    return Err(Failure::BadRequest(format!(
                        "field {name}: nested JSON {other} is not a column value"
                    )));
                }
            };
            Ok(Field { name, value })
        })
        .collect()
}

fn row_to_json(row: Row) -> Json {
    Json::Object(
        row.into_iter()
            .map(|f| (f.name, value_to_json(f.value)))
            .collect(),
    )
}

/// WIT → JSON: exact decimals and 64-bit integers beyond 2^53 as strings, dates `YYYY-MM-DD`,
/// timestamps RFC 3339 UTC with microseconds, binary as lower-case hex.
fn value_to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => json!(b),
        Value::Tinyint(i) => json!(i),
        Value::Smallint(i) => json!(i),
        Value::Int(i) => json!(i),
        Value::Bigint(i) if i.unsigned_abs() <= 1 << 53 => json!(i),
        Value::Bigint(i) => json!(i.to_string()),
        Value::Float(f) => json!(f),
        Value::Double(f) => json!(f),
        Value::Decimal(d) => json!(d.digits),
        Value::Text(s) | Value::Json(s) => json!(s),
        Value::Binary(b) => json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        Value::Date(d) => json!(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        Value::Timestamp(us) => json!(format_micros(us, "Z")),
        Value::TimestampNtz(us) => json!(format_micros(us, "")),
        Value::Interval(i) => json!({"months": i.months, "micros": i.micros}),
    }
}

fn format_micros(us: i64, zone: &str) -> String {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}{zone}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(v))
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which HTTP status a connector error becomes: the caller's fault → 4xx, the warehouse's or
/// the network's → 502/503/504.
fn status_of(e: &Error) -> u16 {
    match e.kind {
        ErrorKind::InvalidInput | ErrorKind::Syntax => 400,
        ErrorKind::NotFound => 404,
        ErrorKind::ResourceExhausted => 429,
        ErrorKind::Timeout => 504,
        ErrorKind::Connection => 503,
        ErrorKind::Authentication | ErrorKind::Permission | ErrorKind::Canceled | ErrorKind::Server => 502,
    }
}

fn error_response(e: Error) -> Response {
    let status = status_of(&e);
    let kind = match e.kind {
        ErrorKind::Connection => "connection",
        ErrorKind::Authentication => "authentication",
        ErrorKind::Permission => "permission",
        ErrorKind::Syntax => "syntax",
        ErrorKind::NotFound => "not-found",
        ErrorKind::ResourceExhausted => "resource-exhausted",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Canceled => "canceled",
        ErrorKind::InvalidInput => "invalid-input",
        ErrorKind::Server => "server",
    };
    let mut response = json_response(
        status,
        &json!({"error": kind, "message": e.message, "sql_state": e.sql_state, "statement_id": e.statement_id}),
    );
    if let Some(ms) = e.retry_after_ms {
        response.set_header("retry-after", ms.div_ceil(1000).to_string());
    }
    response
}

fn json_response(status: u16, body: &Json) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}
