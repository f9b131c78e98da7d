//! The connection config as a caller gives it (the WIT `config` record). The guest validates it
//! and applies defaults; the host builds it from flags, environment and profiles.

use crate::secret::Secret;

/// How the connector authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A personal access token or any bearer token.
    AccessToken(Secret),
    /// OAuth machine-to-machine client credentials.
    OAuthM2m {
        /// The service principal's application id.
        client_id: String,
        /// The OAuth secret.
        client_secret: Secret,
        /// Token scope (`all-apis` when `None`).
        scope: Option<String>,
    },
}

/// The result format reads ask for (the WIT `result-format`; docs/wire.md, "Result formats").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultFormat {
    /// ARROW_STREAM (INLINE_OR_EXTERNAL_LINKS, LZ4_FRAME) when `external_links` is set, else
    /// JSON_ARRAY INLINE; falls back to JSON_ARRAY when the server refuses the Arrow request.
    #[default]
    Auto,
    /// Always ARROW_STREAM (INLINE_OR_EXTERNAL_LINKS, LZ4_FRAME).
    Arrow,
    /// Always JSON_ARRAY (INLINE, or EXTERNAL_LINKS when `external_links` is set).
    Json,
}

/// Connection settings (the WIT `config` record); `None` means the connector's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectConfig {
    /// Bare hostname (https implied) or URL with scheme and port (http only for loopback).
    pub server_hostname: String,
    /// `/sql/1.0/warehouses/<id>`.
    pub http_path: String,
    /// The credential.
    pub credential: Credential,
    /// Default catalog.
    pub catalog: Option<String>,
    /// Default schema.
    pub schema: Option<String>,
    /// Connector-side deadline of one call, ms (default 900 000).
    pub timeout_ms: Option<u64>,
    /// Most rows per write statement (default 50 000).
    pub batch_rows: Option<u32>,
    /// Most parameter bytes per write statement (default 900 000).
    pub batch_bytes: Option<u32>,
    /// Most attempts of a retryable request (default 5).
    pub max_attempts: Option<u32>,
    /// Fetch results through EXTERNAL_LINKS.
    pub external_links: bool,
    /// Result format of reads (`None` = auto).
    pub result_format: Option<ResultFormat>,
    /// Result downloads in flight at once, 1..=16 (default 4).
    pub download_window: Option<u32>,
    /// `/Volumes/<catalog>/<schema>/<volume>` to stage large writes in.
    pub staging_volume: Option<String>,
    /// Emit debug log events through `wasi:logging`.
    pub debug_log: bool,
}

impl ConnectConfig {
    /// A config with `credential` and defaults for everything else.
    pub fn new(
        server_hostname: impl Into<String>,
        http_path: impl Into<String>,
        credential: Credential,
    ) -> ConnectConfig {
        ConnectConfig {
            server_hostname: server_hostname.into(),
            http_path: http_path.into(),
            credential,
            catalog: None,
            schema: None,
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

    /// Set catalog and schema (builder style).
    pub fn with_namespace(
        mut self,
        catalog: impl Into<String>,
        schema: impl Into<String>,
    ) -> ConnectConfig {
        self.catalog = Some(catalog.into());
        self.schema = Some(schema.into());
        self
    }
}
