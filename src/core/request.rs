//! JSON and form bodies of the requests the connector sends.

use serde::Serialize;

use super::base64;
use super::config::Config;
use super::secret::Secret;
use super::value::ParamSpec;

/// Server-side wait before a statement call returns PENDING.
pub const WAIT_TIMEOUT: &str = "10s";

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
    wait_timeout: &'static str,
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

/// The body of `POST /api/2.0/sql/statements`.
pub fn statement_body(config: &Config, sql: &str, params: &[ParamSpec]) -> Vec<u8> {
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
        disposition: if config.external_links {
            "EXTERNAL_LINKS"
        } else {
            "INLINE"
        },
        format: "JSON_ARRAY",
        wait_timeout: WAIT_TIMEOUT,
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
    use crate::core::config::{Config, ConfigInput, Credential};
    use serde_json::{Value as Json, json};

    fn config(external: bool) -> Config {
        Config::validate(ConfigInput {
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
        let body: Json =
            serde_json::from_slice(&statement_body(&config(false), "SELECT :a, :n", &p)).unwrap();
        assert_eq!(
            body,
            json!({"statement": "SELECT :a, :n", "warehouse_id": "w1", "catalog": "cat",
                   "parameters": [{"name": "a", "value": "1", "type": "INT"}, {"name": "n", "type": "STRING"}],
                   "disposition": "INLINE", "format": "JSON_ARRAY", "wait_timeout": "10s", "on_wait_timeout": "CONTINUE"})
        );
        let body: Json = serde_json::from_slice(&statement_body(&config(true), "X", &[])).unwrap();
        assert_eq!(body["disposition"], "EXTERNAL_LINKS");
        assert!(body.get("parameters").is_none());
        assert!(body.get("schema").is_none());
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
