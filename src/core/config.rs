//! Validation of the connection config and its defaults.

use super::error::{Error, Result};
use super::url::{Url, is_loopback};

/// Default wall-clock deadline of one call, ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 900_000;
/// Default most rows per write statement.
pub const DEFAULT_BATCH_ROWS: u32 = 50_000;
/// Default most JSON bytes of parameter values per write statement.
pub const DEFAULT_BATCH_BYTES: u32 = 900_000;
/// Default most attempts of a retryable request.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Default most result downloads (chunks or links) in flight at once.
pub const DEFAULT_DOWNLOAD_WINDOW: u32 = 4;
/// Most downloads in flight a config may ask for (each holds one chunk in guest memory).
const MAX_DOWNLOAD_WINDOW: u32 = 16;
/// The service's documented limit on parameter values per statement.
const MAX_BATCH_BYTES: u32 = 1_000_000;

pub use openmatch_types::config::{ConnectConfig, Credential, ResultFormat};

/// OAuth scope asked for when the config names none.
pub const DEFAULT_OAUTH_SCOPE: &str = "all-apis";

/// A validated config with defaults applied.
#[derive(Debug, Clone)]
pub struct Config {
    /// `scheme://host[:port]` of the workspace, no trailing slash.
    pub base_url: String,
    /// The warehouse id from the http path.
    pub warehouse_id: String,
    /// The credential.
    pub credential: Credential,
    /// Default catalog.
    pub catalog: Option<String>,
    /// Default schema.
    pub schema: Option<String>,
    /// Deadline per call, ms.
    pub timeout_ms: u64,
    /// Rows per write statement.
    pub batch_rows: u32,
    /// JSON bytes per write statement.
    pub batch_bytes: u32,
    /// Attempts per retryable request.
    pub max_attempts: u32,
    /// Use EXTERNAL_LINKS.
    pub external_links: bool,
    /// Result format of reads.
    pub result_format: ResultFormat,
    /// Result downloads (chunks or external links) in flight at once, 1..=16.
    pub download_window: u32,
    /// The volume large inserts are staged in (`/Volumes/<catalog>/<schema>/<volume>`).
    pub staging_volume: Option<String>,
    /// Emit debug log events.
    pub debug_log: bool,
}

impl Config {
    /// Validate `input` and apply defaults; errors are `invalid-input`.
    pub fn validate(input: ConnectConfig) -> Result<Config> {
        let base_url = base_url(&input.server_hostname)?;
        let warehouse_id = warehouse_id(&input.http_path)?;
        match &input.credential {
            Credential::AccessToken(t) if t.is_empty() => {
                return Err(Error::invalid("config: access token is empty"));
            }
            Credential::OAuthM2m {
                client_id,
                client_secret,
                ..
            } if client_id.trim().is_empty() || client_secret.is_empty() => {
                return Err(Error::invalid("config: OAuth client id or secret is empty"));
            }
            _ => {}
        }
        let batch_bytes = input.batch_bytes.unwrap_or(DEFAULT_BATCH_BYTES);
        if !(1024..=MAX_BATCH_BYTES).contains(&batch_bytes) {
            return Err(Error::invalid("config: batch-bytes must be 1024..=1000000"));
        }
        let batch_rows = input.batch_rows.unwrap_or(DEFAULT_BATCH_ROWS);
        let max_attempts = input.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        let timeout_ms = input.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        let download_window = input.download_window.unwrap_or(DEFAULT_DOWNLOAD_WINDOW);
        if !(1..=MAX_DOWNLOAD_WINDOW).contains(&download_window) {
            return Err(Error::invalid("config: download-window must be 1..=16"));
        }
        if batch_rows == 0 || max_attempts == 0 || timeout_ms == 0 {
            return Err(Error::invalid(
                "config: batch-rows, max-attempts and timeout-ms must be positive",
            ));
        }
        Ok(Config {
            base_url,
            warehouse_id,
            credential: with_default_scope(input.credential),
            catalog: non_empty(input.catalog),
            schema: non_empty(input.schema),
            timeout_ms,
            batch_rows,
            batch_bytes,
            max_attempts,
            external_links: input.external_links,
            result_format: input.result_format.unwrap_or_default(),
            download_window,
            staging_volume: input
                .staging_volume
                .filter(|v| !v.trim().is_empty())
                .map(|v| staging_volume(&v))
                .transpose()?,
            debug_log: input.debug_log,
        })
    }
}

/// The credential with a blank or missing OAuth scope replaced by [`DEFAULT_OAUTH_SCOPE`].
fn with_default_scope(credential: Credential) -> Credential {
    match credential {
        Credential::OAuthM2m {
            client_id,
            client_secret,
            scope,
        } => Credential::OAuthM2m {
            client_id,
            client_secret,
            scope: Some(
                scope
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_OAUTH_SCOPE.into()),
            ),
        },
        other => other,
    }
}

/// A staging volume path, `/Volumes/<catalog>/<schema>/<volume>` (a trailing `/` allowed), each
/// name valid for Unity Catalog: it goes into Files API paths and a `COPY INTO` string literal.
fn staging_volume(text: &str) -> Result<String> {
    let bad = || {
        Error::invalid(format!(
            "config: staging-volume must be /Volumes/<catalog>/<schema>/<volume>, not {:?}",
            text.chars().take(80).collect::<String>()
        ))
    };
    let rest = text
        .trim()
        .trim_end_matches('/')
        .strip_prefix("/Volumes/")
        .ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && p.len() <= 255
            && p.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    };
    if parts.len() != 3 || !parts.iter().all(valid) {
        return Err(bad());
    }
    Ok(format!("/Volumes/{rest}"))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// `scheme://authority` from a bare host or URL; http only for loopback hosts.
fn base_url(server_hostname: &str) -> Result<String> {
    let s = server_hostname.trim().trim_end_matches('/');
    if s.is_empty() {
        return Err(Error::invalid("config: server-hostname is empty"));
    }
    let text = if s.contains("://") {
        s.to_owned()
    } else {
        format!("https://{s}")
    };
    let url = Url::parse(&text)
        .map_err(|e| Error::invalid(format!("config: server-hostname: {}", e.message)))?;
    // A workspace URL pasted from the browser may carry `?o=<workspace id>`: the query is ignored.
    if !(url.path_and_query == "/" || url.path_and_query.starts_with("/?")) {
        return Err(Error::invalid(
            "config: server-hostname must not carry a path",
        ));
    }
    if !url.https && !is_loopback(url.host()) {
        return Err(Error::invalid(
            "config: plain http is allowed only for loopback hosts; use https",
        ));
    }
    let authority = url
        .authority
        .strip_suffix(":443")
        .filter(|_| url.https)
        .unwrap_or(&url.authority);
    Ok(format!(
        "{}://{}",
        if url.https { "https" } else { "http" },
        authority.to_ascii_lowercase()
    ))
}

/// The warehouse id of `/sql/1.0/warehouses/<id>` (also the legacy `/sql/1.0/endpoints/<id>`).
fn warehouse_id(http_path: &str) -> Result<String> {
    let p = http_path.trim().trim_end_matches('/');
    let p = p.strip_prefix('/').unwrap_or(p);
    let id = p
        .strip_prefix("sql/1.0/warehouses/")
        .or_else(|| p.strip_prefix("sql/1.0/endpoints/"))
        .ok_or_else(|| Error::invalid("config: http-path must be /sql/1.0/warehouses/<id>"))?;
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::invalid(
            "config: the warehouse id in http-path is malformed",
        ));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::secret::Secret;

    fn input(host: &str, path: &str) -> ConnectConfig {
        ConnectConfig {
            server_hostname: host.into(),
            http_path: path.into(),
            credential: Credential::AccessToken(Secret::new("dapi-token")),
            catalog: Some("main".into()),
            schema: Some(" ".into()),
            timeout_ms: None,
            batch_rows: None,
            batch_bytes: None,
            max_attempts: None,
            external_links: false,
            result_format: None,
            download_window: None,
            staging_volume: None,
            debug_log: false,
        }
    }

    #[test]
    fn bare_host_implies_https_and_defaults_apply() {
        let c = Config::validate(input(
            "adb-123.4.azuredatabricks.net",
            "/sql/1.0/warehouses/abc123",
        ))
        .unwrap();
        assert_eq!(c.base_url, "https://adb-123.4.azuredatabricks.net");
        assert_eq!(c.warehouse_id, "abc123");
        assert_eq!(c.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(c.batch_rows, DEFAULT_BATCH_ROWS);
        assert_eq!(c.batch_bytes, DEFAULT_BATCH_BYTES);
        assert_eq!(c.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(c.download_window, DEFAULT_DOWNLOAD_WINDOW);
        assert_eq!(c.staging_volume, None);
        let mut i = input("h.example", "/sql/1.0/warehouses/abc123");
        i.staging_volume = Some("/Volumes/main/default/stage/".into());
        assert_eq!(
            Config::validate(i).unwrap().staging_volume.as_deref(),
            Some("/Volumes/main/default/stage")
        );
        for bad in [
            "/Volumes/main/default",
            "Volumes/a/b/c",
            "/Volumes/a/b/c/d",
            "/Volumes/a/b/c'd",
            "/Volumes/a/../c",
        ] {
            let mut i = input("h.example", "/sql/1.0/warehouses/abc123");
            i.staging_volume = Some(bad.into());
            assert!(
                Config::validate(i)
                    .unwrap_err()
                    .message
                    .contains("staging-volume"),
                "{bad}"
            );
        }
        for bad in [0, 17] {
            let mut i = input("h.example", "/sql/1.0/warehouses/abc123");
            i.download_window = Some(bad);
            assert!(
                Config::validate(i)
                    .unwrap_err()
                    .message
                    .contains("download-window")
            );
        }
        assert_eq!(c.catalog.as_deref(), Some("main"));
        assert_eq!(c.schema, None);
    }

    #[test]
    fn urls_with_scheme_and_port() {
        let ok = [
            (
                "https://h.cloud.databricks.com/",
                "https://h.cloud.databricks.com",
            ),
            (
                "https://h.cloud.databricks.com:443",
                "https://h.cloud.databricks.com",
            ),
            ("https://h:8443", "https://h:8443"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://localhost:1", "http://localhost:1"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            (
                "https://adb-1.2.azuredatabricks.net/?o=1234",
                "https://adb-1.2.azuredatabricks.net",
            ),
            (
                " adb-1.2.azuredatabricks.net?o=1 ",
                "https://adb-1.2.azuredatabricks.net",
            ),
        ];
        for (h, want) in ok {
            assert_eq!(
                Config::validate(input(h, "sql/1.0/warehouses/w/"))
                    .unwrap()
                    .base_url,
                want
            );
        }
    }

    #[test]
    fn rejects_plain_http_to_remote_hosts_and_junk() {
        for h in [
            "http://example.com",
            "http://127.0.0.1.nip.io",
            "ftp://h",
            "",
            "https://h/path",
            "https://u:p@h",
            "h x",
        ] {
            let e = Config::validate(input(h, "/sql/1.0/warehouses/w")).unwrap_err();
            assert_eq!(e.kind, super::super::error::ErrorKind::InvalidInput, "{h}");
        }
    }

    #[test]
    fn rejects_bad_http_paths() {
        for p in [
            "",
            "/sql/1.0/warehouses/",
            "/sql/2.0/warehouses/x",
            "/sql/1.0/warehouses/a/b",
            "/sql/1.0/warehouses/a?b",
        ] {
            assert!(Config::validate(input("h", p)).is_err(), "{p}");
        }
        assert_eq!(
            Config::validate(input("h", "/sql/1.0/endpoints/e1"))
                .unwrap()
                .warehouse_id,
            "e1"
        );
    }

    #[test]
    fn rejects_empty_credentials_and_bad_limits() {
        let mut i = input("h", "/sql/1.0/warehouses/w");
        i.credential = Credential::AccessToken(Secret::new(" "));
        assert!(Config::validate(i).is_err());
        let mut i = input("h", "/sql/1.0/warehouses/w");
        i.batch_bytes = Some(2_000_000);
        assert!(Config::validate(i).is_err());
        let mut i = input("h", "/sql/1.0/warehouses/w");
        i.batch_rows = Some(0);
        assert!(Config::validate(i).is_err());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = Config::validate(input("h", "/sql/1.0/warehouses/w")).unwrap();
        assert!(!format!("{c:?}").contains("dapi-token"));
    }
}
