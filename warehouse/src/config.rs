//! Plain configuration of a warehouse: where the data lives, who may do what, and which
//! faults to inject. Everything has a default; [`Config::new`] gives a warehouse that answers
//! the admin token [`crate::DEFAULT_TOKEN`] with all privileges.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{DEFAULT_TOKEN, DEFAULT_WAREHOUSE_ID};

/// A privilege that can be granted on a catalog, a schema or a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Privilege {
    /// Read rows (SELECT, DESCRIBE, SHOW, DESCRIBE HISTORY).
    Select,
    /// Change rows or files (INSERT, MERGE, UPDATE, DELETE, OPTIMIZE, VACUUM, COPY INTO,
    /// CREATE/DROP TABLE inside a granted schema, Files API writes).
    Modify,
    /// Both of the above.
    #[serde(rename = "ALL PRIVILEGES", alias = "ALL")]
    All,
}

impl Privilege {
    /// Whether holding `self` includes `wanted`.
    pub fn covers(self, wanted: Privilege) -> bool {
        self == Privilege::All || self == wanted
    }
}

/// One grant: a privilege on a securable named `catalog`, `catalog.schema` or
/// `catalog.schema.table` (case-insensitive). A grant on a catalog or schema covers everything
/// inside it, as in Unity Catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The privilege granted.
    pub privilege: Privilege,
    /// `catalog`, `catalog.schema` or `catalog.schema.table`.
    pub on: String,
}

/// A user or service principal, the tokens that authenticate it, and its grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// User name as shown in `DESCRIBE HISTORY` (`userName`).
    pub name: String,
    /// Personal access tokens of this principal.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Metastore admin: every privilege everywhere, and may create catalogs and schemas.
    #[serde(default)]
    pub admin: bool,
    /// Grants of a non-admin principal.
    #[serde(default)]
    pub grants: Vec<Grant>,
}

impl Principal {
    /// A principal with no tokens and no grants.
    pub fn new(name: impl Into<String>) -> Self {
        Principal {
            name: name.into(),
            tokens: Vec::new(),
            admin: false,
            grants: Vec::new(),
        }
    }

    /// An admin principal (all privileges) authenticated by `token`.
    pub fn admin(name: impl Into<String>, token: impl Into<String>) -> Self {
        Principal::new(name).token(token).with_admin(true)
    }

    /// Adds a personal access token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// Sets the admin flag.
    pub fn with_admin(mut self, admin: bool) -> Self {
        self.admin = admin;
        self
    }

    /// Grants `privilege` on `on` (`catalog`, `catalog.schema` or `catalog.schema.table`).
    pub fn grant(mut self, privilege: Privilege, on: impl Into<String>) -> Self {
        self.grants.push(Grant {
            privilege,
            on: on.into(),
        });
        self
    }

    /// Whether this principal holds `wanted` on the table `catalog.schema.table`
    /// (pass `table = None` for a schema-level check).
    pub fn allows(
        &self,
        wanted: Privilege,
        catalog: &str,
        schema: &str,
        table: Option<&str>,
    ) -> bool {
        if self.admin {
            return true;
        }
        let cat = catalog.to_ascii_lowercase();
        let sch = format!("{cat}.{}", schema.to_ascii_lowercase());
        let tbl = table.map(|t| format!("{sch}.{}", t.to_ascii_lowercase()));
        self.grants.iter().any(|g| {
            let on = g.on.to_ascii_lowercase().replace('`', "");
            g.privilege.covers(wanted)
                && (on == cat || on == sch || tbl.as_deref() == Some(on.as_str()))
        })
    }
}

impl Principal {
    /// Whether any grant of this principal reaches into `catalog` (or into
    /// `catalog.schema`): a grant on it, on something inside it, or (for a schema) on its
    /// catalog. Listings (SHOW CATALOGS, SHOW SCHEMAS) show only what this allows.
    pub fn sees(&self, catalog: &str, schema: Option<&str>) -> bool {
        if self.admin {
            return true;
        }
        let cat = catalog.to_ascii_lowercase();
        let prefix = match schema {
            None => cat.clone(),
            Some(s) => format!("{cat}.{}", s.to_ascii_lowercase()),
        };
        self.grants.iter().any(|g| {
            let on = g.on.to_ascii_lowercase().replace('`', "");
            on == prefix || on.starts_with(&format!("{prefix}.")) || (schema.is_some() && on == cat)
        })
    }
}

/// An OAuth machine-to-machine client (`POST /oidc/v1/token`, client credentials).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClient {
    /// `client_id` sent with HTTP Basic.
    pub client_id: String,
    /// `client_secret` sent with HTTP Basic.
    pub client_secret: String,
    /// Name of the [`Principal`] the issued tokens act as.
    pub principal: String,
}

/// Which endpoint a [`FaultRule`] applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// Every request.
    Any,
    /// `POST /api/2.0/sql/statements`.
    ExecuteStatement,
    /// `GET /api/2.0/sql/statements/{id}`.
    GetStatement,
    /// `GET /api/2.0/sql/statements/{id}/result/chunks/{n}`.
    GetChunk,
    /// `POST /api/2.0/sql/statements/{id}/cancel` and `DELETE /api/2.0/sql/statements/{id}`.
    CancelStatement,
    /// `/api/2.0/sql/warehouses...`.
    Warehouses,
    /// The unauthenticated external-link downloads.
    ExternalLink,
    /// `/api/2.0/fs/files/...`.
    Files,
    /// `/oidc/...`.
    Oidc,
}

impl Endpoint {
    /// Parses the names used by the CLI (`statements`, `get-statement`, `chunks`, `cancel`,
    /// `warehouses`, `external-links`, `files`, `oidc`, `any`).
    pub fn parse(s: &str) -> Option<Endpoint> {
        Some(match s {
            "any" | "*" => Endpoint::Any,
            "statements" | "execute" | "execute-statement" => Endpoint::ExecuteStatement,
            "get-statement" | "poll" => Endpoint::GetStatement,
            "chunks" | "chunk" | "get-chunk" => Endpoint::GetChunk,
            "cancel" | "cancel-statement" => Endpoint::CancelStatement,
            "warehouses" => Endpoint::Warehouses,
            "external-links" | "external-link" | "links" => Endpoint::ExternalLink,
            "files" => Endpoint::Files,
            "oidc" => Endpoint::Oidc,
            _ => return None,
        })
    }
}

/// What an injected fault does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FaultKind {
    /// HTTP 429 `REQUEST_LIMIT_EXCEEDED` with `Retry-After: <secs>`.
    TooManyRequests {
        /// Seconds in the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// HTTP 503 `TEMPORARILY_UNAVAILABLE`.
    Unavailable,
    /// The connection is closed without a response.
    DropConnection,
    /// The request is answered normally after a delay.
    Delay {
        /// Delay in milliseconds.
        millis: u64,
    },
    /// External links are issued already expired (and the download answers 403 like S3).
    ExpiredLinks,
}

/// A fault injection rule: on `endpoint`, with probability `rate`, at most `times` times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Where the fault applies.
    pub endpoint: Endpoint,
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Probability in `0.0..=1.0` that a matching request is hit.
    #[serde(default = "one")]
    pub rate: f64,
    /// Upper bound on how many requests are hit (`None` = unbounded).
    #[serde(default)]
    pub times: Option<u64>,
    /// How many matching requests pass untouched before the rule starts hitting.
    #[serde(default)]
    pub skip: u64,
}

fn one() -> f64 {
    1.0
}

impl FaultRule {
    /// A rule that hits every matching request (`rate` 1.0, unbounded).
    pub fn new(endpoint: Endpoint, kind: FaultKind) -> Self {
        FaultRule {
            endpoint,
            kind,
            rate: 1.0,
            times: None,
            skip: 0,
        }
    }

    /// Sets the probability.
    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = rate;
        self
    }

    /// Limits how many requests are hit.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Lets the first `n` matching requests through (e.g. a write's table probe).
    pub fn skip(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }

    /// Parses the CLI form `endpoint=statements,kind=429,retry_after=2,rate=0.5,times=3,skip=1`
    /// (`kind` one of `429`, `503`, `drop`, `delay` (with `millis=`), `expired-links`).
    pub fn parse(spec: &str) -> Result<FaultRule, String> {
        let mut endpoint = Endpoint::Any;
        let mut kind = None::<String>;
        let mut rate = 1.0;
        let mut times = None;
        let mut skip = 0;
        let mut retry_after = 1;
        let mut millis = 1000;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("expected key=value in {part:?}"))?;
            match k {
                "endpoint" => {
                    endpoint =
                        Endpoint::parse(v).ok_or_else(|| format!("unknown endpoint {v:?}"))?
                }
                "kind" => kind = Some(v.to_string()),
                "rate" => rate = v.parse().map_err(|_| format!("bad rate {v:?}"))?,
                "times" => times = Some(v.parse().map_err(|_| format!("bad times {v:?}"))?),
                "skip" => skip = v.parse().map_err(|_| format!("bad skip {v:?}"))?,
                "retry_after" | "retry-after" => {
                    retry_after = v.parse().map_err(|_| format!("bad retry_after {v:?}"))?
                }
                "millis" | "ms" => millis = v.parse().map_err(|_| format!("bad millis {v:?}"))?,
                _ => return Err(format!("unknown fault key {k:?}")),
            }
        }
        let kind = match kind.as_deref() {
            Some("429") => FaultKind::TooManyRequests {
                retry_after_secs: retry_after,
            },
            Some("503") => FaultKind::Unavailable,
            Some("drop") => FaultKind::DropConnection,
            Some("delay") => FaultKind::Delay { millis },
            Some("expired-links") => FaultKind::ExpiredLinks,
            other => return Err(format!("unknown or missing fault kind {other:?}")),
        };
        Ok(FaultRule {
            endpoint,
            kind,
            rate,
            times,
            skip,
        })
    }
}

/// The grants file given with `--grants`: principals and OAuth clients.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GrantsFile {
    /// Principals with tokens and grants.
    #[serde(default)]
    pub principals: Vec<Principal>,
    /// OAuth M2M clients.
    #[serde(default)]
    pub oauth_clients: Vec<OAuthClient>,
}

/// Where the TLS certificate of an HTTPS warehouse comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// PEM files: a certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1).
    Files {
        /// Certificate chain PEM.
        cert: PathBuf,
        /// Private key PEM.
        key: PathBuf,
    },
    /// A self-signed certificate for `localhost` and `127.0.0.1`, generated at start. Its PEM
    /// is written to `write_cert_to`, for clients to trust as a CA file.
    SelfSigned {
        /// Where the certificate PEM is written.
        write_cert_to: PathBuf,
    },
}

/// Configuration of one warehouse server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Root directory: `<data>/<catalog>/<schema>/<table>` are Delta tables,
    /// `<data>/.volumes/<catalog>/<schema>/<volume>/...` hold Files API data.
    pub data_dir: PathBuf,
    /// Address to bind (default `127.0.0.1:0`).
    pub listen: SocketAddr,
    /// Warehouse id answered by `/api/2.0/sql/warehouses` and required in `warehouse_id`.
    pub warehouse_id: String,
    /// Display name of the warehouse.
    pub warehouse_name: String,
    /// Principals (default: one admin `admin` with [`DEFAULT_TOKEN`]).
    pub principals: Vec<Principal>,
    /// OAuth clients for `POST /oidc/v1/token`.
    pub oauth_clients: Vec<OAuthClient>,
    /// Lifetime of OAuth tokens issued by `/oidc/v1/token`.
    pub oauth_token_ttl: Duration,
    /// Rows per result chunk (INLINE and EXTERNAL_LINKS).
    pub chunk_rows: usize,
    /// Lifetime of external links.
    pub external_link_ttl: Duration,
    /// Fault injection rules (empty = off).
    pub faults: Vec<FaultRule>,
    /// Refuse `VACUUM ... RETAIN n HOURS` with n < 168, like
    /// `spark.databricks.delta.retentionDurationCheck.enabled` (default true).
    pub retention_duration_check: bool,
    /// How long finished statements are kept before their results expire (CLOSED).
    pub result_ttl: Duration,
    /// Seed of the fault-injection random generator (deterministic tests).
    pub fault_seed: u64,
    /// Serve HTTPS with this certificate (default: plain HTTP).
    pub tls: Option<Tls>,
    /// How long a client may take for the TLS handshake and for each request's headers
    /// (also the longest a keep-alive connection may sit idle); default 30 s.
    pub header_read_timeout: Duration,
    /// Connections served at once (default 1024); further connections wait in the listen
    /// backlog until one ends.
    pub max_connections: usize,
    /// Memory DataFusion may use for one statement (default 2 GiB); past it the statement
    /// fails with `RESOURCE_EXHAUSTED` (53200).
    pub statement_memory_bytes: usize,
    /// Rendered result bytes kept for one statement (default 2 GiB; EXTERNAL_LINKS results
    /// are held in memory until they expire); past it the statement fails with
    /// `RESULT_SIZE_LIMIT_EXCEEDED` (54000). INLINE results have the service's 25 MiB limit.
    pub max_result_bytes: usize,
    /// `INLINE_OR_EXTERNAL_LINKS`: the largest one-chunk result (Arrow bytes before
    /// compression) answered inline as `result.attachment`; larger results get links.
    pub attachment_limit: usize,
}

impl Config {
    /// Defaults with data under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            warehouse_id: DEFAULT_WAREHOUSE_ID.to_string(),
            warehouse_name: "OpenMatch Local Warehouse".to_string(),
            principals: vec![Principal::admin("admin", DEFAULT_TOKEN)],
            oauth_clients: Vec::new(),
            oauth_token_ttl: Duration::from_secs(3600),
            chunk_rows: 100_000,
            external_link_ttl: Duration::from_secs(900),
            faults: Vec::new(),
            retention_duration_check: true,
            result_ttl: Duration::from_secs(3600),
            fault_seed: 0x5eed,
            tls: None,
            header_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            statement_memory_bytes: crate::engine::DEFAULT_STATEMENT_MEMORY,
            max_result_bytes: 2 * 1024 * 1024 * 1024,
            attachment_limit: 16 * 1024 * 1024,
        }
    }

    /// Sets the memory DataFusion may use for one statement (at least 1 MiB).
    pub fn statement_memory_bytes(mut self, bytes: usize) -> Self {
        self.statement_memory_bytes = bytes.max(1024 * 1024);
        self
    }

    /// Sets the most rendered result bytes kept for one statement (at least 1 MiB).
    pub fn max_result_bytes(mut self, bytes: usize) -> Self {
        self.max_result_bytes = bytes.max(1024 * 1024);
        self
    }

    /// Serves HTTPS with the certificate chain and private key in these PEM files.
    pub fn tls_files(mut self, cert_pem: impl Into<PathBuf>, key_pem: impl Into<PathBuf>) -> Self {
        self.tls = Some(Tls::Files {
            cert: cert_pem.into(),
            key: key_pem.into(),
        });
        self
    }

    /// Serves HTTPS with a self-signed certificate for `localhost` and `127.0.0.1` generated at
    /// start; its PEM is written to `write_cert_to` (a CA file for clients).
    pub fn tls_self_signed(mut self, write_cert_to: impl Into<PathBuf>) -> Self {
        self.tls = Some(Tls::SelfSigned {
            write_cert_to: write_cert_to.into(),
        });
        self
    }

    /// Sets the TLS handshake / request header timeout (at least 1 ms).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Sets how many connections are served at once (at least 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets the listen address.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Sets the warehouse id.
    pub fn warehouse_id(mut self, id: impl Into<String>) -> Self {
        self.warehouse_id = id.into();
        self
    }

    /// Adds a principal (see [`Principal`]).
    pub fn principal(mut self, p: Principal) -> Self {
        self.principals.push(p);
        self
    }

    /// Adds an OAuth client whose tokens act as the principal named `principal`.
    pub fn oauth_client(
        mut self,
        id: impl Into<String>,
        secret: impl Into<String>,
        principal: impl Into<String>,
    ) -> Self {
        self.oauth_clients.push(OAuthClient {
            client_id: id.into(),
            client_secret: secret.into(),
            principal: principal.into(),
        });
        self
    }

    /// Sets the lifetime of issued OAuth tokens.
    pub fn oauth_token_ttl(mut self, ttl: Duration) -> Self {
        self.oauth_token_ttl = ttl;
        self
    }

    /// Sets the rows per result chunk (at least 1).
    pub fn chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// Sets the largest result answered inline under `INLINE_OR_EXTERNAL_LINKS`.
    pub fn attachment_limit(mut self, bytes: usize) -> Self {
        self.attachment_limit = bytes;
        self
    }

    /// Sets the lifetime of external links.
    pub fn external_link_ttl(mut self, ttl: Duration) -> Self {
        self.external_link_ttl = ttl;
        self
    }

    /// Adds a fault injection rule.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Turns the VACUUM retention check on or off.
    pub fn retention_duration_check(mut self, on: bool) -> Self {
        self.retention_duration_check = on;
        self
    }

    /// Merges a grants file (principals and OAuth clients are appended).
    pub fn grants_file(mut self, file: GrantsFile) -> Self {
        self.principals.extend(file.principals);
        self.oauth_clients.extend(file.oauth_clients);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_cover_children() {
        let p = Principal::new("r").grant(Privilege::Select, "main.default");
        assert!(p.allows(Privilege::Select, "main", "default", Some("t")));
        assert!(!p.allows(Privilege::Modify, "main", "default", Some("t")));
        assert!(!p.allows(Privilege::Select, "main", "other", Some("t")));
        let p = Principal::new("w").grant(Privilege::All, "main.default.t");
        assert!(p.allows(Privilege::Modify, "MAIN", "Default", Some("T")));
        assert!(!p.allows(Privilege::Modify, "main", "default", Some("u")));
    }

    #[test]
    fn visibility_follows_grants() {
        let p = Principal::new("r").grant(Privilege::Select, "main.sales.orders");
        assert!(p.sees("main", None));
        assert!(p.sees("MAIN", Some("Sales")));
        assert!(!p.sees("main", Some("secret")));
        assert!(!p.sees("main", Some("sale")));
        assert!(!p.sees("other", None));
        let p = Principal::new("c").grant(Privilege::All, "other");
        assert!(p.sees("other", Some("anything")));
        assert!(!p.sees("main", None));
        assert!(!p.sees("othe", None));
    }

    #[test]
    fn fault_spec_parses() {
        let r = FaultRule::parse("endpoint=statements,kind=429,retry_after=2,rate=0.5,times=3")
            .unwrap();
        assert_eq!(r.endpoint, Endpoint::ExecuteStatement);
        assert_eq!(
            r.kind,
            FaultKind::TooManyRequests {
                retry_after_secs: 2
            }
        );
        assert_eq!(r.times, Some(3));
        assert!(FaultRule::parse("kind=nope").is_err());
    }
}
