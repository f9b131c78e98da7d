//! JSON and form bodies of the requests the connector sends.

use serde::Serialize;

use super::base64;
use super::config::{Config, ResultFormat};
use super::secret::Secret;
use super::value::ParamSpec;

/// Longest server-side wait before a statement call returns PENDING, s.
const MAX_WAIT_S: u64 = 10;
/// Time kept for the answer to travel back after the server's wait ends, ms.
const WAIT_MARGIN_MS: u64 = 1_000;

/// The statement's `wait_timeout` for a call with `remaining_ms` left: as long as fits in
/// what remains (at most 10 s, and the service only accepts `0s` or 5–50 s), so the server
/// answers before the call's deadline; `0s` (answer at once, then poll) when under 5 s remain.
pub fn wait_timeout(remaining_ms: u64) -> String {
    let fits = remaining_ms.saturating_sub(WAIT_MARGIN_MS) / 1_000;
    if fits < 5 {
        "0s".to_string()
    } else {
        format!("{}s", fits.min(MAX_WAIT_S))
    }
}

/// The result a statement asks for: its `disposition`, `format` and `result_compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultShape {
    /// JSON_ARRAY, INLINE.
    JsonInline,
    /// JSON_ARRAY, EXTERNAL_LINKS.
    JsonLinks,
    /// ARROW_STREAM, INLINE_OR_EXTERNAL_LINKS, LZ4_FRAME: small results inline (base64 in
    /// `result.attachment`), larger ones through presigned links.
    Arrow,
}

impl ResultShape {
    /// JSON_ARRAY with the connection's disposition: what writes and their probes ask for (their
    /// answer is one count row), and reads under `result-format: json`.
    pub fn json(config: &Config) -> ResultShape {
        if config.external_links {
            ResultShape::JsonLinks
        } else {
            ResultShape::JsonInline
        }
    }

    /// What a read asks for (docs/wire.md, "Result formats"): `arrow` → Arrow; `json` → JSON;
    /// `auto` → Arrow when `external-links` is set (the host then allows the link host) and the
    /// server has not refused Arrow on this connection (`arrow_refused`), else JSON.
    pub fn read(config: &Config, arrow_refused: bool) -> ResultShape {
        match config.result_format {
            ResultFormat::Arrow => ResultShape::Arrow,
            ResultFormat::Auto if config.external_links && !arrow_refused => ResultShape::Arrow,
            _ => ResultShape::json(config),
        }
    }
}

/// The body of `POST /api/2.0/sql/statements`.
#[derive(Serialize)]
struct StatementBody<'a> {
    statement: &'a str,
    warehouse_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    parameters: Vec<Parameter<'a>>,
    disposition: &'static str,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_compression: Option<&'static str>,
    wait_timeout: String,
    on_wait_timeout: &'static str,
}

/// One named parameter of a statement.
#[derive(Serialize)]
struct Parameter<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(rename = "type")]
    sql_type: &'a str,
}

/// The body of `POST /api/2.0/sql/statements` asking for `shape`, with `remaining_ms` of the
/// call left.
pub fn statement_body(
    config: &Config,
    sql: &str,
    params: &[ParamSpec],
    remaining_ms: u64,
    shape: ResultShape,
) -> Vec<u8> {
    let (disposition, format, result_compression) = match shape {
        ResultShape::JsonInline => ("INLINE", "JSON_ARRAY", None),
        ResultShape::JsonLinks => ("EXTERNAL_LINKS", "JSON_ARRAY", None),
        ResultShape::Arrow => (
            "INLINE_OR_EXTERNAL_LINKS",
            "ARROW_STREAM",
            Some("LZ4_FRAME"),
        ),
    };
    let body = StatementBody {
        statement: sql,
        warehouse_id: &config.warehouse_id,
        catalog: config.catalog.as_deref(),
        schema: config.schema.as_deref(),
        parameters: params
            .iter()
            .map(|p| Parameter {
                name: &p.name,
                value: p.value.as_deref(),
                sql_type: &p.sql_type,
            })
            .collect(),
        disposition,
        format,
        result_compression,
        wait_timeout: wait_timeout(remaining_ms),
        on_wait_timeout: "CONTINUE",
    };
    // Strings only: serializing cannot fail (an empty object would be refused by the server).
    serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec())
}

/// Percent-encode a form value (application/x-www-form-urlencoded).
fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The form body of the OAuth client-credentials token request.
pub fn token_form(scope: &str) -> Vec<u8> {
    format!("grant_type=client_credentials&scope={}", form_encode(scope)).into_bytes()
}

/// `Basic base64(client_id:client_secret)`, as the Databricks SDKs send it.
pub fn basic_auth(client_id: &str, client_secret: &Secret) -> Secret {
    let raw = format!("{client_id}:{}", client_secret.expose());
    Secret::new(format!("Basic {}", base64::encode(raw.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{Config, ConnectConfig, Credential, ResultFormat};
    use serde_json::{Value as Json, json};

    fn config(external: bool) -> Config {
        Config::validate(ConnectConfig {
            server_hostname: "h".into(),
            http_path: "/sql/1.0/warehouses/w1".into(),
            credential: Credential::AccessToken(Secret::new("t")),
            catalog: Some("cat".into()),
            schema: None,
            timeout_ms: None,
            batch_rows: None,
            batch_bytes: None,
            max_attempts: None,
            external_links: external,
            result_format: None,
            download_window: None,
            staging_volume: None,
            debug_log: false,
        })
        .unwrap()
    }

    #[test]
    fn statement_body_has_every_field() {
        let p = [
            ParamSpec {
                name: "a".into(),
                value: Some("1".into()),
                sql_type: "INT".into(),
                unhex: false,
            },
            ParamSpec {
                name: "n".into(),
                value: None,
                sql_type: "STRING".into(),
                unhex: false,
            },
        ];
        let body: Json = serde_json::from_slice(&statement_body(
            &config(false),
            "SELECT :a, :n",
            &p,
            900_000,
            ResultShape::JsonInline,
        ))
        .unwrap();
        assert_eq!(
            body,
            json!({"statement": "SELECT :a, :n", "warehouse_id": "w1", "catalog": "cat",
                   "parameters": [{"name": "a", "value": "1", "type": "INT"}, {"name": "n", "type": "STRING"}],
                   "disposition": "INLINE", "format": "JSON_ARRAY", "wait_timeout": "10s", "on_wait_timeout": "CONTINUE"})
        );
        let body: Json = serde_json::from_slice(&statement_body(
            &config(true),
            "X",
            &[],
            900_000,
            ResultShape::JsonLinks,
        ))
        .unwrap();
        assert_eq!(body["disposition"], "EXTERNAL_LINKS");
        assert_eq!(body["format"], "JSON_ARRAY");
        assert!(body.get("result_compression").is_none());
        assert!(body.get("parameters").is_none());
        assert!(body.get("schema").is_none());
        // What Databricks' own clients send for Arrow (shared/sea-notes.md).
        let body: Json = serde_json::from_slice(&statement_body(
            &config(true),
            "X",
            &[],
            900_000,
            ResultShape::Arrow,
        ))
        .unwrap();
        assert_eq!(body["disposition"], "INLINE_OR_EXTERNAL_LINKS");
        assert_eq!(body["format"], "ARROW_STREAM");
        assert_eq!(body["result_compression"], "LZ4_FRAME");
    }

    #[test]
    fn reads_ask_for_arrow_when_the_format_says_so() {
        let with = |external: bool, format: ResultFormat| {
            let mut c = config(external);
            c.result_format = format;
            c
        };
        use ResultShape::*;
        // auto: Arrow only with external links (an old config keeps today's INLINE JSON), and
        // not once the server refused Arrow on this connection.
        assert_eq!(
            ResultShape::read(&with(false, ResultFormat::Auto), false),
            JsonInline
        );
        assert_eq!(
            ResultShape::read(&with(true, ResultFormat::Auto), false),
            Arrow
        );
        assert_eq!(
            ResultShape::read(&with(true, ResultFormat::Auto), true),
            JsonLinks
        );
        assert_eq!(
            ResultShape::read(&with(false, ResultFormat::Arrow), false),
            Arrow
        );
        assert_eq!(
            ResultShape::read(&with(false, ResultFormat::Arrow), true),
            Arrow
        );
        assert_eq!(
            ResultShape::read(&with(true, ResultFormat::Json), false),
            JsonLinks
        );
        assert_eq!(
            ResultShape::read(&with(false, ResultFormat::Json), false),
            JsonInline
        );
        // Writes: JSON whatever the format.
        assert_eq!(
            ResultShape::json(&with(false, ResultFormat::Arrow)),
            JsonInline
        );
    }

    #[test]
    fn wait_timeout_fits_in_what_remains() {
        assert_eq!(wait_timeout(900_000), "10s");
        assert_eq!(wait_timeout(8_000), "7s");
        assert_eq!(wait_timeout(6_000), "5s");
        // Under 5 s the service only accepts 0s: answer at once, then poll within the deadline.
        assert_eq!(wait_timeout(5_500), "0s");
        assert_eq!(wait_timeout(300), "0s");
    }

    #[test]
    fn oauth_bodies() {
        assert_eq!(
            token_form("all-apis"),
            b"grant_type=client_credentials&scope=all-apis"
        );
        assert_eq!(
            token_form("a b"),
            b"grant_type=client_credentials&scope=a+b"
        );
        assert_eq!(
            basic_auth("id", &Secret::new("s")).expose(),
            "Basic aWQ6cw=="
        );
    }
}
