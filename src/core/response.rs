//! Parsing of server responses (tolerant of missing fields) and classification of errors.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::error::{Error, ErrorKind, Result};
use super::http::HttpResponse;
use super::json_rows::{self, JsonRows};
use super::value::Column;

/// A `StatementResponse`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatementResponse {
    /// The statement id.
    pub statement_id: Option<String>,
    /// Execution status.
    pub status: Option<Status>,
    /// Result manifest.
    pub manifest: Option<Manifest>,
    /// First chunk of the result.
    pub result: Option<ResultData>,
}

/// `status` of a statement.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    /// PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED or CLOSED.
    pub state: Option<String>,
    /// Error details when FAILED.
    pub error: Option<ServiceError>,
    /// SQLSTATE when FAILED (not always present).
    pub sql_state: Option<String>,
}

/// An error body, REST-level or inside `status`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServiceError {
    /// Error code: a string, or an integer on some auth failures.
    pub error_code: Option<ErrorCode>,
    /// Message.
    pub message: Option<String>,
}

/// `manifest` of a result.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Manifest {
    /// Result schema.
    pub schema: Option<Schema>,
    /// Total rows of the result.
    pub total_row_count: Option<u64>,
    /// Total chunks of the result: no chunk index at or past it exists.
    pub total_chunk_count: Option<u64>,
    /// `JSON_ARRAY` or `ARROW_STREAM` (absent: what was asked for).
    pub format: Option<String>,
    /// `LZ4_FRAME` when every Arrow chunk is one LZ4 frame (absent or `NONE`: uncompressed).
    pub result_compression: Option<String>,
}

/// `manifest.schema`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Schema {
    /// Columns; absent for DDL.
    pub columns: Option<Vec<ColumnInfo>>,
}

/// One column of `manifest.schema.columns`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ColumnInfo {
    /// Column name.
    pub name: Option<String>,
    /// Type name.
    pub type_name: Option<String>,
    /// Type text.
    pub type_text: Option<String>,
    /// Position.
    pub position: Option<u32>,
    /// Decimal precision.
    pub type_precision: Option<u8>,
    /// Decimal scale.
    pub type_scale: Option<u8>,
}

/// A chunk of a result (`result` of a statement or the body of a chunk GET).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResultData {
    /// Chunk index.
    pub chunk_index: Option<u64>,
    /// Rows (INLINE), kept as their JSON text and read row by row.
    #[serde(deserialize_with = "raw_rows")]
    pub data_array: Option<JsonRows>,
    /// Index of the next chunk.
    pub next_chunk_index: Option<u64>,
    /// Path of the next chunk, followed verbatim.
    pub next_chunk_internal_link: Option<String>,
    /// Presigned links (EXTERNAL_LINKS).
    pub external_links: Option<Vec<ExternalLink>>,
    /// An inline Arrow chunk (ARROW_STREAM with INLINE_OR_EXTERNAL_LINKS): the IPC stream,
    /// LZ4-framed when the manifest says so, decoded from the base64 text as it is parsed.
    #[serde(deserialize_with = "base64_bytes")]
    pub attachment: Option<Vec<u8>>,
}

/// One presigned result link.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExternalLink {
    /// Chunk index.
    pub chunk_index: Option<u64>,
    /// The presigned URL.
    pub external_link: Option<String>,
    /// Headers to send with the GET, in the order given.
    #[serde(deserialize_with = "header_pairs")]
    pub http_headers: Option<Vec<(String, String)>>,
    /// Index of the next chunk.
    pub next_chunk_index: Option<u64>,
    /// Path of the next chunk.
    pub next_chunk_internal_link: Option<String>,
}

/// A statement's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Queued or running: poll again.
    Running,
    /// Done with a result.
    Succeeded,
    /// Failed; see `status.error`.
    Failed,
    /// Canceled.
    Canceled,
    /// Closed (deleted or expired).
    Closed,
}

impl StatementResponse {
    /// The statement's state; unknown or missing states are a `server` error.
    pub fn state(&self) -> Result<State> {
        let s = self
            .status
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .unwrap_or("");
        Ok(match s {
            "PENDING" | "RUNNING" => State::Running,
            "SUCCEEDED" => State::Succeeded,
            "FAILED" => State::Failed,
            "CANCELED" | "CANCELLED" => State::Canceled,
            "CLOSED" => State::Closed,
            other => {
                return Err(Error::server(format!(
                    "unexpected statement state {:?}",
                    short(other, 40)
                )));
            }
        })
    }

    /// The result columns (empty for DDL).
    pub fn columns(&self) -> Vec<Column> {
        let infos = self
            .manifest
            .as_ref()
            .and_then(|m| m.schema.as_ref())
            .and_then(|s| s.columns.as_ref());
        infos
            .map(|cols| {
                cols.iter()
                    .enumerate()
                    .map(|(i, c)| Column {
                        name: c.name.clone().unwrap_or_default(),
                        type_name: c
                            .type_name
                            .clone()
                            .filter(|t| !t.is_empty())
                            .or_else(|| c.type_text.as_deref().map(type_name_of_text))
                            .unwrap_or_else(|| "STRING".into()),
                        type_text: c
                            .type_text
                            .clone()
                            .or_else(|| c.type_name.clone())
                            .unwrap_or_default(),
                        position: c.position.unwrap_or(i as u32),
                        precision: c.type_precision,
                        scale: c.type_scale,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The type name a `type_text` starts with: `DECIMAL(10,2)` → `DECIMAL`, `ARRAY<INT>` → `ARRAY`.
fn type_name_of_text(text: &str) -> String {
    let t = text.trim();
    let end = t.find(['(', '<', ' ']).unwrap_or(t.len());
    t[..end].to_ascii_uppercase()
}

fn short(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8], what: &str) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}")
            .map_err(|e| Error::server(format!("malformed {what}: {e}")));
    }
    serde_json::from_slice(body)
        .map_err(|e| Error::server(format!("malformed {what} from server: {e}")))
}

/// Parse a `StatementResponse` body; its rows stay text (see [`parse_chunk`]).
pub fn parse_statement(body: impl Into<Vec<u8>>) -> Result<StatementResponse> {
    parse_keeping_rows(
        body.into(),
        &["result", "data_array"],
        "statement response",
        |r: &mut StatementResponse, rows| {
            r.result.get_or_insert_with(ResultData::default).data_array = Some(rows);
        },
    )
}

/// Parse the body of a chunk GET (a `result` object). Its `data_array` is not decoded: the
/// rows stay in the body's text and are read row by row as the caller asks for them.
pub fn parse_chunk(body: impl Into<Vec<u8>>) -> Result<ResultData> {
    parse_keeping_rows(
        body.into(),
        &["data_array"],
        "result chunk",
        |r: &mut ResultData, rows| r.data_array = Some(rows),
    )
}

/// A chunk GET's body, split where its rows start.
pub enum ChunkBody {
    /// A body with rows: they are read lazily, and the members after them (where the next chunk
    /// is) are parsed once the rows have been read ([`JsonRows::rest_of_object`] then
    /// [`parse_chunk`]), so the rows' text is scanned once.
    Rows(JsonRows),
    /// A body without rows (external links, an empty chunk), parsed whole.
    Parsed(ResultData),
}

/// Split a chunk GET's body (see [`ChunkBody`]).
pub fn parse_chunk_body(body: Vec<u8>) -> Result<ChunkBody> {
    let text = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return parse_json(e.as_bytes(), "result chunk").map(ChunkBody::Parsed),
    };
    match json_rows::value_start(&text, &["data_array"]) {
        Some((object, start)) => Ok(ChunkBody::Rows(JsonRows::in_object(
            text.into_boxed_str(),
            object,
            start,
        ))),
        None => parse_json(text.as_bytes(), "result chunk").map(ChunkBody::Parsed),
    }
}

/// The members of a `result` object after its rows: the object at the start of `text` (what
/// [`JsonRows::rest_of_object`] gives; text after the object is ignored).
pub fn parse_result_prefix(text: &str) -> Result<ResultData> {
    // From bytes, like every other parse here: a `from_str` reader would be a second copy of
    // every derived deserializer in the .wasm.
    let mut de = serde_json::Deserializer::from_slice(text.as_bytes());
    ResultData::deserialize(&mut de)
        .map_err(|e| Error::server(format!("malformed result chunk from server: {e}")))
}

/// A statement response with its rows, if any, split off unread: the members before the rows
/// are parsed now (status, manifest: they come first), the rest once the rows have been read
/// ([`JsonRows::rest_of_object`], [`parse_result_prefix`]), so the rows are scanned once. Falls
/// back to [`parse_statement`] (rows left in `result.data_array`) when the members needed now do
/// not come before the rows.
pub fn parse_statement_body(body: Vec<u8>) -> Result<(StatementResponse, Option<JsonRows>)> {
    let text = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return parse_statement(e.into_bytes()).map(|r| (r, None)),
    };
    let head =
        json_rows::value_start(&text, &["result", "data_array"]).and_then(|(object, start)| {
            // The members before the rows, closed off after them.
            let head = format!("{}null}}}}", text.get(..start)?);
            let parsed: StatementResponse = serde_json::from_slice(head.as_bytes()).ok()?;
            (parsed.status.is_some() && parsed.manifest.is_some())
                .then_some((parsed, object, start))
        });
    match head {
        Some((parsed, object, start)) => {
            let rows = JsonRows::in_object(text.into_boxed_str(), object, start);
            if rows.has_no_rows() {
                return parse_statement(rows.into_text().into_bytes()).map(|r| (r, None));
            }
            Ok((parsed, Some(rows)))
        }
        // Rows (if any) stay in `result.data_array`, found by skipping over them.
        None => parse_statement(text.into_bytes()).map(|r| (r, None)),
    }
}

/// Parse `body`, except the rows array at `path`: that is found by skipping over it (no
/// decoding, no copy), the rest is parsed with the array replaced by `null`, and `put` hands the
/// rows, still inside the body's text, to the parsed value.
fn parse_keeping_rows<T: for<'de> Deserialize<'de>>(
    body: Vec<u8>,
    path: &[&str],
    what: &str,
    put: impl FnOnce(&mut T, JsonRows),
) -> Result<T> {
    let text = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return parse_json(e.as_bytes(), what),
    };
    let Some(range) = json_rows::locate(&text, path) else {
        return parse_json(text.as_bytes(), what);
    };
    let (Some(head), Some(tail)) = (text.get(..range.start), text.get(range.end..)) else {
        return parse_json(text.as_bytes(), what);
    };
    let mut parsed: T = parse_json(format!("{head}null{tail}").as_bytes(), what)?;
    put(&mut parsed, JsonRows::within(text.into_boxed_str(), range));
    Ok(parsed)
}

/// The body of an external link: a JSON array of rows, read row by row.
pub fn parse_external_rows(body: Vec<u8>) -> Result<JsonRows> {
    JsonRows::from_body(body)
}

/// `data_array` as its JSON text (`null` is no rows).
fn raw_rows<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<JsonRows>, D::Error> {
    let raw: Option<Box<RawValue>> = Deserialize::deserialize(d)?;
    Ok(raw.map(|r| JsonRows::new(Box::<str>::from(r))))
}

/// A base64 string as its bytes (`null` is none); text that is not base64 is an error.
fn base64_bytes<'de, D: de::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<u8>>, D::Error> {
    struct Bytes;
    impl Visitor<'_> for Bytes {
        type Value = Option<Vec<u8>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("base64 text")
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            super::base64::decode(v)
                .map(Some)
                .ok_or_else(|| E::custom("result.attachment is not base64"))
        }
    }
    d.deserialize_any(Bytes)
}

/// An `error_code` as the server sent it. (Decoded by hand rather than as a `serde_json::Value`,
/// which would link a JSON tree and map into the component for this one field.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    /// A string code, e.g. `BAD_REQUEST`.
    Text(String),
    /// A numeric code (some authentication failures), as its decimal text.
    Number(String),
    /// Anything else (ignored).
    Other,
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Code;
        impl<'de> Visitor<'de> for Code {
            type Value = ErrorCode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an error code")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<ErrorCode, E> {
                Ok(ErrorCode::Text(v.to_owned()))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<ErrorCode, E> {
                Ok(ErrorCode::Number(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<ErrorCode, E> {
                Ok(ErrorCode::Number(v.to_string()))
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<ErrorCode, E> {
                Ok(ErrorCode::Other)
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<ErrorCode, E> {
                Ok(ErrorCode::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<ErrorCode, E> {
                Ok(ErrorCode::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<ErrorCode, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ErrorCode::Other)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<ErrorCode, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ErrorCode::Other)
            }
        }
        d.deserialize_any(Code)
    }
}

/// A JSON object of string values as `(name, value)` pairs (`null` is none).
fn header_pairs<'de, D: de::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<(String, String)>>, D::Error> {
    struct Pairs;
    impl<'de> Visitor<'de> for Pairs {
        type Value = Option<Vec<(String, String)>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of strings")
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut a: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = a.next_entry::<String, String>()? {
                pairs.push(pair);
            }
            Ok(Some(pairs))
        }
    }
    d.deserialize_any(Pairs)
}

/// The `error_code` as text (integers as their decimal digits).
fn code_text(code: &Option<ErrorCode>) -> Option<String> {
    match code {
        Some(ErrorCode::Text(s)) if !s.is_empty() => Some(s.clone()),
        Some(ErrorCode::Number(n)) => Some(n.clone()),
        _ => None,
    }
}

/// The `[ERROR_CLASS]` at the start of a message, if any.
pub fn error_class(message: &str) -> Option<String> {
    let t = message.trim_start();
    let rest = t.strip_prefix('[')?;
    let end = rest.find(']')?;
    let class = &rest[..end];
    let ok = !class.is_empty()
        && class
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '.');
    ok.then(|| class.to_owned())
}

/// The `SQLSTATE: xxxxx` inside a message, if any.
pub fn message_sql_state(message: &str) -> Option<String> {
    let i = message.find("SQLSTATE: ")?;
    let code: String = message[i + 10..].chars().take(5).collect();
    (code.len() == 5 && code.chars().all(|c| c.is_ascii_alphanumeric())).then_some(code)
}

/// Error kind from an error class and SQLSTATE (docs/wire.md, Errors).
fn classify_sql(class: Option<&str>, sql_state: Option<&str>) -> Option<ErrorKind> {
    let class = class.unwrap_or("");
    let state = sql_state.unwrap_or("");
    if state == "42501"
        || class.contains("INSUFFICIENT_PERMISSIONS")
        || class == "PERMISSION_DENIED"
    {
        return Some(ErrorKind::Permission);
    }
    if ["42P01", "42703", "3F000", "42704", "42P06", "42883"].contains(&state)
        || class.ends_with("NOT_FOUND")
    {
        return Some(ErrorKind::NotFound);
    }
    if class.starts_with("DELTA_CONCURRENT") {
        return Some(ErrorKind::Server);
    }
    if state.starts_with("42") {
        return Some(ErrorKind::Syntax);
    }
    None
}

/// Error kind from a service error code alone.
fn classify_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "RESOURCE_EXHAUSTED" | "REQUEST_LIMIT_EXCEEDED" | "TOO_MANY_REQUESTS" => {
            ErrorKind::ResourceExhausted
        }
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "CANCELLED" | "CANCELED" => ErrorKind::Canceled,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::Permission,
        "NOT_FOUND" | "RESOURCE_DOES_NOT_EXIST" => ErrorKind::NotFound,
        _ => return None,
    })
}

/// The error of a statement whose state is FAILED, CANCELED or CLOSED.
pub fn statement_error(resp: &StatementResponse, state: &State) -> Error {
    let id = resp.statement_id.as_deref();
    let status = resp.status.as_ref();
    let err = status.and_then(|s| s.error.as_ref());
    let message = err
        .and_then(|e| e.message.as_deref())
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    let code = err.and_then(|e| code_text(&e.error_code));
    let class = error_class(&message);
    let sql_state = status
        .and_then(|s| s.sql_state.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| message_sql_state(&message));
    let kind = match state {
        State::Canceled => ErrorKind::Canceled,
        State::Closed => ErrorKind::NotFound,
        _ => classify_sql(class.as_deref(), sql_state.as_deref())
            .or_else(|| code.as_deref().and_then(classify_code))
            .unwrap_or(ErrorKind::Server),
    };
    let message = match (message.is_empty(), state) {
        (false, _) => message,
        (true, State::Canceled) => "the statement was canceled".into(),
        (true, State::Closed) => "the statement is closed (deleted or its result expired)".into(),
        (true, _) => "the statement failed without an error message".into(),
    };
    let mut e = Error::new(kind, message).with_statement(id);
    e.sql_state = sql_state;
    e.error_code = class.or(code);
    e
}

/// The error of a non-2xx response (docs/wire.md, Errors).
pub fn http_error(resp: &HttpResponse) -> Error {
    let parsed: Option<ServiceError> = serde_json::from_slice(&resp.body).ok();
    let code = parsed.as_ref().and_then(|p| code_text(&p.error_code));
    let int_code = matches!(
        parsed.as_ref().and_then(|p| p.error_code.as_ref()),
        Some(ErrorCode::Number(_))
    );
    let text = match parsed.as_ref().and_then(|p| p.message.clone()) {
        Some(m) => m,
        None => short(String::from_utf8_lossy(&resp.body).trim(), 300),
    };
    let class = error_class(&text);
    let sql_state = message_sql_state(&text);
    let kind = match resp.status {
        401 => ErrorKind::Authentication,
        403 if int_code || text.contains("Invalid access token") => ErrorKind::Authentication,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::ResourceExhausted,
        _ => classify_sql(class.as_deref(), sql_state.as_deref())
            .or_else(|| code.as_deref().and_then(classify_code))
            .unwrap_or(ErrorKind::Server),
    };
    let message = if text.trim().is_empty() {
        format!("HTTP {}", resp.status)
    } else {
        format!("HTTP {}: {}", resp.status, text.trim())
    };
    let mut e = Error::new(kind, message);
    e.http_status = Some(resp.status);
    e.error_code = class.or(code);
    e.sql_state = sql_state;
    e.retry_after_ms = resp.retry_after_ms();
    e
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
