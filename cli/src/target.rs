//! Local or remote: the local warehouse runs only when asked (`--local`, or `demo` with no
//! workspace configured); everything else needs a configured workspace and says how to give one.

use connector_host::{ConnectConfig, Error, Origin};

use crate::args::{ConnArgs, TuningArgs};
use crate::config::{self, ConfigError, Env, Workspace};

/// Where a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The local warehouse, started in-process; no configured credential is used.
    Local,
    /// A configured workspace.
    Remote(Workspace),
}

/// Decide local or remote. `--local` always means local (the configuration is not even read);
/// otherwise a configured workspace is used, and with none only `demo` falls back to local.
pub fn choose(local: bool, is_demo: bool, resolve: impl FnOnce() -> Result<Workspace, ConfigError>) -> Result<Choice, ConfigError> {
    if local {
        return Ok(Choice::Local);
    }
    match resolve() {
        Ok(w) => Ok(Choice::Remote(w)),
        Err(ConfigError::NotConfigured) if is_demo => Ok(Choice::Local),
        Err(e) => Err(e),
    }
}

/// Where the CLI connects, and what keeps an embedded warehouse alive.
pub struct Target {
    /// The connector config.
    pub config: ConnectConfig,
    /// Origins the tenant may reach.
    pub allow: Vec<Origin>,
    #[cfg(feature = "embedded-warehouse")]
    _embedded: Option<crate::embedded::Embedded>,
}

/// Resolve the target of a command: configuration, then (for local) the warehouse started.
pub async fn resolve(conn: &ConnArgs, tuning: &TuningArgs, is_demo: bool, env: &dyn Env) -> Result<Target, Error> {
    let choice = choose(conn.local, is_demo, || config::resolve(&conn.flags(), env))?;
    let mut allow: Vec<Origin> = tuning.allow.iter().map(|a| a.parse()).collect::<Result<_, _>>()?;
    let (mut config, embedded) = match choice {
        Choice::Remote(w) => {
            tracing::info!(target: "openmatch::cli", "workspace {} from {}", w.host, w.source);
            let mut c = ConnectConfig::new(w.host, w.http_path, w.credential);
            c.catalog = w.catalog;
            c.schema = w.schema;
            (c, None)
        }
        Choice::Local => {
            start_local(conn).await?
        }
    };
    config.timeout_ms = tuning.timeout_ms;
    config.batch_rows = tuning.batch_rows;
    config.external_links = tuning.external_links;
    config.result_format = tuning.result_format.map(Into::into);
    config.download_window = tuning.download_window;
    config.staging_volume = tuning.staging_volume.clone();
    // Guest events always flow; the log filter decides what shows (retries at info).
    config.debug_log = true;
    allow.push(Origin::of(&config)?);
    #[cfg(not(feature = "embedded-warehouse"))]
    let _: Option<()> = embedded;
    Ok(Target {
        config,
        allow,
        #[cfg(feature = "embedded-warehouse")]
        _embedded: embedded,
    })
}

#[cfg(feature = "embedded-warehouse")]
async fn start_local(conn: &ConnArgs) -> Result<(ConnectConfig, Option<crate::embedded::Embedded>), Error> {
    use connector_host::{Credential, Secret};
    use std::path::PathBuf;
    let data = match &conn.data {
        Some(d) => d.clone(),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache/openmatch-databricks/warehouse"))
            .ok_or_else(|| Error::invalid_input("HOME is not set: pass --data <dir> for the local warehouse"))?,
    };
    let w = crate::embedded::start(data.clone()).await?;
    crate::note(&format!("local warehouse started in-process at {} (data: {})", w.url, data.display()));
    // Only the local warehouse's own token: a configured credential is never sent here.
    let mut c = ConnectConfig::new(w.url.clone(), w.http_path.clone(), Credential::AccessToken(Secret::new(w.token.clone())));
    c.catalog = conn.catalog.clone().or(Some("main".into()));
    c.schema = conn.schema.clone().or(Some("default".into()));
    Ok((c, Some(w)))
}

#[cfg(not(feature = "embedded-warehouse"))]
async fn start_local(_conn: &ConnArgs) -> Result<(ConnectConfig, Option<()>), Error> {
    Err(Error::invalid_input("this build has no local warehouse (feature `embedded-warehouse`): configure a workspace"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_host::{Credential, Secret};

    fn ws() -> Workspace {
        Workspace {
            host: "h.example.com".into(),
            http_path: "/sql/1.0/warehouses/w".into(),
            credential: Credential::AccessToken(Secret::new("t")),
            catalog: None,
            schema: None,
            source: "test".into(),
        }
    }

    #[test]
    fn local_only_when_asked_or_for_an_unconfigured_demo() {
        assert_eq!(choose(true, false, || panic!("--local must not read the configuration")), Ok(Choice::Local));
        assert_eq!(choose(false, true, || Err(ConfigError::NotConfigured)), Ok(Choice::Local));
        assert_eq!(choose(false, false, || Err(ConfigError::NotConfigured)), Err(ConfigError::NotConfigured));
        assert_eq!(choose(false, true, || Ok(ws())), Ok(Choice::Remote(ws())), "a configured demo runs remotely");
        assert_eq!(choose(false, false, || Ok(ws())), Ok(Choice::Remote(ws())));
        // A broken configuration is reported, not papered over by local mode.
        assert_eq!(choose(false, true, || Err(ConfigError::NoWarehouse)), Err(ConfigError::NoWarehouse));
    }
}
