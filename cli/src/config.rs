//! Where the CLI connects: flags, then environment, then a `~/.databrickscfg` profile — the
//! order of the Databricks SDKs' unified authentication.
//!
//! - Flags (`--host`, `--token`, …) win; an environment variable (`DATABRICKS_HOST`, …) fills
//!   what no flag set; blank values count as unset at every level.
//! - The profile is `--profile`, else `DATABRICKS_CONFIG_PROFILE` (explicit), else
//!   `[__settings__] default_profile`, else `DEFAULT`; the file is `DATABRICKS_CONFIG_FILE`,
//!   else `~/.databrickscfg`. As in the SDKs, without an explicit profile the file is not read at
//!   all once a host or any credential came from flags or the environment, a missing file or a
//!   missing `DEFAULT` is fine, and an explicit profile that does not exist is an error (here a
//!   missing file with an explicit profile is one too). A profile fills only what is still unset.
//! - A profile gives `host`, `token` or `client_id` + `client_secret`, `warehouse_id` or
//!   `http_path`, and (ours) `catalog`, `schema`. The warehouse is taken per level: the first
//!   level with `http_path` or `warehouse_id` wins (`http_path` first within a level);
//!   `warehouse_id` means `/sql/1.0/warehouses/<id>`.
//! - A token and OAuth client credentials together are an error, as in the SDKs, unless
//!   `auth_type` (`DATABRICKS_AUTH_TYPE`) is `pat` or `oauth-m2m`.

use std::fmt;
use std::path::{Path, PathBuf};

use connector_host::{Credential, Secret};
use ini::{Ini, ParseOption};

/// Connection settings as given on the command line (each `None` when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--host`.
    pub host: Option<String>,
    /// `--http-path`.
    pub http_path: Option<String>,
    /// `--warehouse-id`.
    pub warehouse_id: Option<String>,
    /// `--token`.
    pub token: Option<String>,
    /// `--client-id`.
    pub client_id: Option<String>,
    /// `--client-secret`.
    pub client_secret: Option<String>,
    /// `--catalog`.
    pub catalog: Option<String>,
    /// `--schema`.
    pub schema: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
}

/// A configured workspace: everything needed to open a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Host (bare hostname or URL).
    pub host: String,
    /// `/sql/1.0/warehouses/<id>`.
    pub http_path: String,
    /// The credential.
    pub credential: Credential,
    /// Default catalog.
    pub catalog: Option<String>,
    /// Default schema.
    pub schema: Option<String>,
    /// Where the settings came from, for messages (`flags/environment`, `profile DEV in …`).
    pub source: String,
}

/// Why no workspace could be configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// No host at any level.
    NotConfigured,
    /// An explicit profile, but no config file.
    NoConfigFile {
        /// The file looked for.
        path: PathBuf,
        /// The profile asked for.
        profile: String,
    },
    /// The config file cannot be read or parsed.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The profile asked for is not in the file.
    NoSuchProfile {
        /// The file.
        path: PathBuf,
        /// The profile asked for.
        profile: String,
    },
    /// A host but no warehouse.
    NoWarehouse,
    /// A host but no credential, or half of the OAuth pair.
    NoCredential(&'static str),
    /// A token and OAuth client credentials, and no `auth_type` to choose.
    TwoCredentials,
    /// An `auth_type` this CLI does not know.
    UnknownAuthType(String),
    /// `HOME` is unset and no `DATABRICKS_CONFIG_FILE` is given.
    NoHome,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotConfigured => f.write_str(
                "no Databricks workspace is configured: set DATABRICKS_HOST (with DATABRICKS_HTTP_PATH or \
                 DATABRICKS_WAREHOUSE_ID, and DATABRICKS_TOKEN), or pass --profile <name> of ~/.databrickscfg; \
                 add --local to use the local warehouse instead",
            ),
            ConfigError::NoConfigFile { path, profile } => {
                write!(f, "profile `{profile}` was asked for, but there is no config file {}", path.display())
            }
            ConfigError::Unreadable { path, reason } => write!(f, "cannot read {}: {reason}", path.display()),
            ConfigError::NoSuchProfile { path, profile } => write!(f, "{} has no profile `{profile}`", path.display()),
            ConfigError::NoWarehouse => f.write_str(
                "a host is configured but no warehouse: set DATABRICKS_HTTP_PATH or DATABRICKS_WAREHOUSE_ID \
                 (--http-path, --warehouse-id, or http_path / warehouse_id in the profile)",
            ),
            ConfigError::NoCredential(detail) => write!(f, "no credential: {detail}"),
            ConfigError::TwoCredentials => f.write_str(
                "more than one authorization method configured: a token and OAuth client credentials; \
                 remove one or set DATABRICKS_AUTH_TYPE (auth_type) to pat or oauth-m2m",
            ),
            ConfigError::UnknownAuthType(t) => write!(f, "auth_type `{t}` is not supported (use pat or oauth-m2m)"),
            ConfigError::NoHome => f.write_str("HOME is not set: set DATABRICKS_CONFIG_FILE to find the config file"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for connector_host::Error {
    fn from(e: ConfigError) -> connector_host::Error {
        let kind = match e {
            ConfigError::NoCredential(_) => connector_host::ErrorKind::Authentication,
            _ => connector_host::ErrorKind::InvalidInput,
        };
        connector_host::Error::message(kind, e.to_string())
    }
}

/// The warehouse as one setting: whichever of the two forms a level gave first.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Warehouse {
    HttpPath(String),
    Id(String),
}

#[derive(Debug, Default)]
struct Settings {
    host: Option<String>,
    warehouse: Option<Warehouse>,
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    auth_type: Option<String>,
    catalog: Option<String>,
    schema: Option<String>,
}

impl Settings {
    /// Fill every unset field from `get` (one level: flags, environment or profile).
    fn fill(&mut self, get: impl Fn(Key) -> Option<String>) {
        let set = |slot: &mut Option<String>, key: Key| {
            if slot.is_none() {
                *slot = get(key).filter(|v| !v.trim().is_empty()).map(|v| v.trim().to_string());
            }
        };
        set(&mut self.host, Key::Host);
        set(&mut self.token, Key::Token);
        set(&mut self.client_id, Key::ClientId);
        set(&mut self.client_secret, Key::ClientSecret);
        set(&mut self.auth_type, Key::AuthType);
        set(&mut self.catalog, Key::Catalog);
        set(&mut self.schema, Key::Schema);
        if self.warehouse.is_none() {
            let mut path = None;
            let mut id = None;
            set(&mut path, Key::HttpPath);
            set(&mut id, Key::WarehouseId);
            self.warehouse = path.map(Warehouse::HttpPath).or(id.map(Warehouse::Id));
        }
    }

    fn any_auth(&self) -> bool {
        self.token.is_some() || self.client_id.is_some() || self.client_secret.is_some()
    }
}

/// One setting, named at every level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Host,
    HttpPath,
    WarehouseId,
    Token,
    ClientId,
    ClientSecret,
    AuthType,
    Catalog,
    Schema,
}

impl Key {
    fn env(self) -> &'static str {
        match self {
            Key::Host => "DATABRICKS_HOST",
            Key::HttpPath => "DATABRICKS_HTTP_PATH",
            Key::WarehouseId => "DATABRICKS_WAREHOUSE_ID",
            Key::Token => "DATABRICKS_TOKEN",
            Key::ClientId => "DATABRICKS_CLIENT_ID",
            Key::ClientSecret => "DATABRICKS_CLIENT_SECRET",
            Key::AuthType => "DATABRICKS_AUTH_TYPE",
            Key::Catalog => "DATABRICKS_CATALOG",
            Key::Schema => "DATABRICKS_SCHEMA",
        }
    }

    fn profile_key(self) -> &'static str {
        match self {
            Key::Host => "host",
            Key::HttpPath => "http_path",
            Key::WarehouseId => "warehouse_id",
            Key::Token => "token",
            Key::ClientId => "client_id",
            Key::ClientSecret => "client_secret",
            Key::AuthType => "auth_type",
            Key::Catalog => "catalog",
            Key::Schema => "schema",
        }
    }

    fn flag(self, flags: &Flags) -> Option<String> {
        match self {
            Key::Host => flags.host.clone(),
            Key::HttpPath => flags.http_path.clone(),
            Key::WarehouseId => flags.warehouse_id.clone(),
            Key::Token => flags.token.clone(),
            Key::ClientId => flags.client_id.clone(),
            Key::ClientSecret => flags.client_secret.clone(),
            Key::AuthType => None,
            Key::Catalog => flags.catalog.clone(),
            Key::Schema => flags.schema.clone(),
        }
    }
}

/// The environment, as a lookup (tests pass a map).
pub trait Env {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

fn non_blank(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string())
}

/// Resolve the workspace from flags, environment and profile. `Err(NotConfigured)` when no
/// host is configured anywhere (the caller decides whether local mode applies).
pub fn resolve(flags: &Flags, env: &dyn Env) -> Result<Workspace, ConfigError> {
    let mut s = Settings::default();
    s.fill(|k| k.flag(flags));
    let from_flags_or_env = {
        s.fill(|k| env.var(k.env()));
        s.host.is_some() || s.any_auth()
    };
    let explicit = non_blank(flags.profile.clone()).or_else(|| non_blank(env.var("DATABRICKS_CONFIG_PROFILE")));
    let mut source = "flags and environment".to_string();
    if explicit.is_some() || !from_flags_or_env {
        let path = match non_blank(env.var("DATABRICKS_CONFIG_FILE")) {
            Some(p) => expand_home(&p, env),
            None => non_blank(env.var("HOME")).map(|h| PathBuf::from(h).join(".databrickscfg")).ok_or(ConfigError::NoHome),
        };
        // Without HOME and without an explicit profile there is simply no file to read.
        let path = match (path, &explicit) {
            (Ok(p), _) => Some(p),
            (Err(e), Some(_)) => return Err(e),
            (Err(_), None) => None,
        };
        if let Some(path) = path
            && let Some((name, section)) = read_profile(&path, explicit.as_deref())?
        {
            s.fill(|k| {
                section.iter().find(|(key, _)| key.trim().eq_ignore_ascii_case(k.profile_key())).map(|(_, v)| v.to_string())
            });
            source = format!("profile {name} in {}", path.display());
        }
    }
    let host = s.host.clone().ok_or(ConfigError::NotConfigured)?;
    let http_path = match s.warehouse.clone().ok_or(ConfigError::NoWarehouse)? {
        Warehouse::HttpPath(p) => p,
        Warehouse::Id(id) => format!("/sql/1.0/warehouses/{id}"),
    };
    let credential = credential(&s)?;
    Ok(Workspace { host, http_path, credential, catalog: s.catalog, schema: s.schema, source })
}

fn credential(s: &Settings) -> Result<Credential, ConfigError> {
    let oauth = || match (&s.client_id, &s.client_secret) {
        (Some(id), Some(secret)) => {
            Ok(Credential::OAuthM2m { client_id: id.clone(), client_secret: Secret::new(secret.clone()), scope: None })
        }
        (Some(_), None) => Err(ConfigError::NoCredential("DATABRICKS_CLIENT_ID is set without DATABRICKS_CLIENT_SECRET")),
        (None, Some(_)) => Err(ConfigError::NoCredential("DATABRICKS_CLIENT_SECRET is set without DATABRICKS_CLIENT_ID")),
        (None, None) => Err(ConfigError::NoCredential("auth_type oauth-m2m needs DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET")),
    };
    let pat = || {
        s.token
            .clone()
            .map(|t| Credential::AccessToken(Secret::new(t)))
            .ok_or(ConfigError::NoCredential("auth_type pat needs DATABRICKS_TOKEN (--token, or token in the profile)"))
    };
    match s.auth_type.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("pat") => pat(),
        Some("oauth-m2m") => oauth(),
        Some(other) => Err(ConfigError::UnknownAuthType(other.to_string())),
        None => {
            let has_oauth = s.client_id.is_some() || s.client_secret.is_some();
            match (&s.token, has_oauth) {
                (Some(_), true) => Err(ConfigError::TwoCredentials),
                (Some(_), false) => pat(),
                (None, true) => oauth(),
                (None, false) => Err(ConfigError::NoCredential(
                    "set DATABRICKS_TOKEN (--token), or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, or put them in the profile",
                )),
            }
        }
    }
}

fn expand_home(path: &str, env: &dyn Env) -> Result<PathBuf, ConfigError> {
    match path.strip_prefix("~/") {
        Some(rest) => non_blank(env.var("HOME")).map(|h| Path::new(&h).join(rest)).ok_or(ConfigError::NoHome),
        None => Ok(PathBuf::from(path)),
    }
}

/// The chosen profile's `(key, value)` pairs, or `None` when there is nothing to read.
fn read_profile(path: &Path, explicit: Option<&str>) -> Result<Option<(String, Vec<(String, String)>)>, ConfigError> {
    if !path.exists() {
        return match explicit {
            Some(p) => Err(ConfigError::NoConfigFile { path: path.to_path_buf(), profile: p.to_string() }),
            None => Ok(None),
        };
    }
    // As Python's configparser reads it: no quote or escape processing.
    let options = ParseOption { enabled_quote: false, enabled_escape: false, ..ParseOption::default() };
    let ini = Ini::load_from_file_opt(path, options).map_err(|e| ConfigError::Unreadable {
        path: path.to_path_buf(),
        reason: match e {
            ini::Error::Io(e) => e.to_string(),
            ini::Error::Parse(p) => format!("not an INI file (line {}, column {})", p.line, p.col),
        },
    })?;
    let name = match explicit {
        Some(p) => p.to_string(),
        None => {
            let settings = ini.section(Some("__settings__")).and_then(|s| s.get("default_profile")).map(str::trim);
            match settings.filter(|p| !p.is_empty()) {
                Some(p) => p.to_string(),
                None if ini.section(Some("DEFAULT")).is_some() => "DEFAULT".to_string(),
                None => return Ok(None),
            }
        }
    };
    if name == "__settings__" {
        return Err(ConfigError::NoSuchProfile { path: path.to_path_buf(), profile: name });
    }
    match ini.section(Some(name.as_str())) {
        Some(section) => Ok(Some((name, section.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))),
        None => Err(ConfigError::NoSuchProfile { path: path.to_path_buf(), profile: name }),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
