//! Unit tests of `config.rs`: precedence of flags, environment and profiles, with temp files.

use std::collections::HashMap;

use super::*;

struct MapEnv(HashMap<&'static str, String>);

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A temp dir as HOME, with an optional `.databrickscfg`.
struct Home {
    dir: tempfile::TempDir,
    env: HashMap<&'static str, String>,
}

impl Home {
    fn new(cfg: Option<&str>) -> Home {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(text) = cfg {
            std::fs::write(dir.path().join(".databrickscfg"), text).expect("write cfg");
        }
        let mut env = HashMap::new();
        env.insert("HOME", dir.path().display().to_string());
        Home { dir, env }
    }

    fn set(mut self, k: &'static str, v: &str) -> Home {
        self.env.insert(k, v.to_string());
        self
    }

    fn resolve(&self, flags: &Flags) -> Result<Workspace, ConfigError> {
        resolve(flags, &MapEnv(self.env.clone()))
    }
}

const CFG: &str = "\
[DEFAULT]
host = https://default.cloud.databricks.com
token = dapi-default
warehouse_id = abc123

[DEV]
host = dev.cloud.databricks.com
client_id = sp-id
client_secret = sp-secret
http_path = /sql/1.0/warehouses/dev1
catalog = devcat
";

fn token(w: &Workspace) -> String {
    match &w.credential {
        Credential::AccessToken(t) => t.expose().to_string(),
        Credential::OAuthM2m { client_id, .. } => format!("oauth:{client_id}"),
    }
}

#[test]
fn nothing_configured_is_not_configured() {
    let home = Home::new(None);
    assert_eq!(home.resolve(&Flags::default()), Err(ConfigError::NotConfigured));
    // An empty DATABRICKS_HOST counts as unset.
    let home = Home::new(None).set("DATABRICKS_HOST", "").set("DATABRICKS_TOKEN", "  ");
    assert_eq!(home.resolve(&Flags::default()), Err(ConfigError::NotConfigured));
    let msg = ConfigError::NotConfigured.to_string();
    for needle in ["DATABRICKS_HOST", "--profile", "--local"] {
        assert!(msg.contains(needle), "{msg}");
    }
}

#[test]
fn default_profile_is_read_when_nothing_else_is_set() {
    let home = Home::new(Some(CFG));
    let w = home.resolve(&Flags::default()).unwrap();
    assert_eq!(w.host, "https://default.cloud.databricks.com");
    assert_eq!(w.http_path, "/sql/1.0/warehouses/abc123");
    assert_eq!(token(&w), "dapi-default");
    assert!(w.source.starts_with("profile DEFAULT in "), "{}", w.source);
}

#[test]
fn explicit_profile_from_flag_or_env_and_env_fills_first() {
    let home = Home::new(Some(CFG));
    let w = home.resolve(&Flags { profile: Some("DEV".into()), ..Flags::default() }).unwrap();
    assert_eq!(w.host, "dev.cloud.databricks.com");
    assert_eq!(token(&w), "oauth:sp-id");
    assert_eq!(w.http_path, "/sql/1.0/warehouses/dev1");
    assert_eq!(w.catalog.as_deref(), Some("devcat"));

    // DATABRICKS_CONFIG_PROFILE is explicit too; environment values beat the profile's.
    let home = Home::new(Some(CFG)).set("DATABRICKS_CONFIG_PROFILE", "DEV").set("DATABRICKS_CATALOG", "envcat");
    let w = home.resolve(&Flags::default()).unwrap();
    assert_eq!(w.host, "dev.cloud.databricks.com");
    assert_eq!(w.catalog.as_deref(), Some("envcat"));
    // The flag beats the environment variable.
    let w = home.resolve(&Flags { profile: Some("DEFAULT".into()), ..Flags::default() }).unwrap();
    assert_eq!(w.host, "https://default.cloud.databricks.com");
}

#[test]
fn flags_beat_environment_beats_profile() {
    let home = Home::new(Some(CFG))
        .set("DATABRICKS_CONFIG_PROFILE", "DEFAULT")
        .set("DATABRICKS_HOST", "env.example.com")
        .set("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/envwh");
    let w = home.resolve(&Flags::default()).unwrap();
    assert_eq!(w.host, "env.example.com");
    assert_eq!(w.http_path, "/sql/1.0/warehouses/envwh");
    assert_eq!(token(&w), "dapi-default", "the profile fills what is still unset");

    let flags = Flags { host: Some("flag.example.com".into()), warehouse_id: Some("flagwh".into()), ..Flags::default() };
    let w = home.resolve(&flags).unwrap();
    assert_eq!(w.host, "flag.example.com");
    assert_eq!(w.http_path, "/sql/1.0/warehouses/flagwh", "a flag's warehouse id beats the env's http path");
}

#[test]
fn without_explicit_profile_the_file_is_skipped_once_env_configures_anything() {
    // As the SDKs: DATABRICKS_HOST (or any credential) from the environment means no file.
    let home = Home::new(Some(CFG)).set("DATABRICKS_HOST", "env.example.com");
    assert_eq!(home.resolve(&Flags::default()), Err(ConfigError::NoWarehouse));
    let home = Home::new(Some(CFG)).set("DATABRICKS_TOKEN", "dapi-env");
    assert_eq!(home.resolve(&Flags::default()), Err(ConfigError::NotConfigured));
}

#[test]
fn config_file_env_and_settings_default_profile() {
    let home = Home::new(None);
    let other = home.dir.path().join("other.cfg");
    std::fs::write(&other, "[__settings__]\ndefault_profile = PROD\n\n[PROD]\nhost = prod.example.com\ntoken = t\nhttp_path = /sql/1.0/warehouses/p\n")
        .unwrap();
    let home = home.set("DATABRICKS_CONFIG_FILE", &other.display().to_string());
    let w = home.resolve(&Flags::default()).unwrap();
    assert_eq!(w.host, "prod.example.com");
    assert!(w.source.starts_with("profile PROD in "), "{}", w.source);
}

#[test]
fn missing_profile_or_file_errors_only_when_explicit() {
    let home = Home::new(Some("[OTHER]\nhost = x\n"));
    assert_eq!(home.resolve(&Flags::default()), Err(ConfigError::NotConfigured), "no DEFAULT: skipped");
    let e = home.resolve(&Flags { profile: Some("NOPE".into()), ..Flags::default() }).unwrap_err();
    assert!(matches!(e, ConfigError::NoSuchProfile { ref profile, .. } if profile == "NOPE"), "{e}");
    let home = Home::new(None);
    let e = home.resolve(&Flags { profile: Some("DEV".into()), ..Flags::default() }).unwrap_err();
    assert!(matches!(e, ConfigError::NoConfigFile { .. }), "{e}");
}

#[test]
fn unparsable_file_is_an_error_without_its_contents() {
    let home = Home::new(Some("[DEFAULT\ntoken = dapi-secret\n"));
    let e = home.resolve(&Flags::default()).unwrap_err();
    assert!(matches!(e, ConfigError::Unreadable { .. }), "{e}");
    assert!(!e.to_string().contains("dapi-secret"), "{e}");
}

#[test]
fn credentials_conflict_unless_auth_type_chooses() {
    let home = Home::new(None)
        .set("DATABRICKS_HOST", "h.example.com")
        .set("DATABRICKS_WAREHOUSE_ID", "w")
        .set("DATABRICKS_TOKEN", "t")
        .set("DATABRICKS_CLIENT_ID", "id")
        .set("DATABRICKS_CLIENT_SECRET", "s");
    assert_eq!(home.resolve(&Flags::default()), Err(ConfigError::TwoCredentials));
    let pat = home.set("DATABRICKS_AUTH_TYPE", "pat");
    assert_eq!(token(&pat.resolve(&Flags::default()).unwrap()), "t");
    let m2m = pat.set("DATABRICKS_AUTH_TYPE", "oauth-m2m");
    assert_eq!(token(&m2m.resolve(&Flags::default()).unwrap()), "oauth:id");
    let bad = m2m.set("DATABRICKS_AUTH_TYPE", "azure-cli");
    assert_eq!(bad.resolve(&Flags::default()), Err(ConfigError::UnknownAuthType("azure-cli".into())));
}

#[test]
fn missing_credential_and_half_oauth_pair() {
    let home = Home::new(None).set("DATABRICKS_HOST", "h.example.com").set("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/w");
    let e = home.resolve(&Flags::default()).unwrap_err();
    assert!(matches!(e, ConfigError::NoCredential(_)), "{e}");
    assert_eq!(connector_host::Error::from(e).kind(), connector_host::ErrorKind::Authentication);
    let half = home.set("DATABRICKS_CLIENT_ID", "id");
    let e = half.resolve(&Flags::default()).unwrap_err();
    assert!(e.to_string().contains("without DATABRICKS_CLIENT_SECRET"), "{e}");
}

#[test]
fn values_are_trimmed_and_profile_keys_are_case_insensitive() {
    let home = Home::new(Some("[DEFAULT]\nHost =  h.example.com  \nTOKEN=t\nWarehouse_Id = w1\n"));
    let w = home.resolve(&Flags::default()).unwrap();
    assert_eq!((w.host.as_str(), w.http_path.as_str()), ("h.example.com", "/sql/1.0/warehouses/w1"));
}
