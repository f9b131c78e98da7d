//! The sandbox a tenant runs in: which origins it may reach and how much it may use.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::connection::ConnectConfig;
use crate::error::Error;
use crate::outbound::TlsTrust;

/// URL scheme of an allowed origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http` (plain; meant for loopback).
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    /// The scheme's default port.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One allowed origin: scheme, host and port. A host written `*.example.com` matches every
/// subdomain of `example.com` (not `example.com` itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// Scheme.
    pub scheme: Scheme,
    /// Host name or IP literal, lower-case (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Origin {
    /// An origin from its parts.
    pub fn new(scheme: Scheme, host: impl Into<String>, port: u16) -> Origin {
        Origin { scheme, host: normalize_host(&host.into()), port }
    }

    /// The origin a connector config's `server-hostname` points at: a bare hostname means
    /// `https` on 443; a URL gives scheme and (optional) port.
    pub fn from_server_hostname(text: &str) -> Result<Origin, Error> {
        text.parse()
    }

    /// The origin `config.server_hostname` points at (what the allow-list must contain).
    pub fn of(config: &ConnectConfig) -> Result<Origin, Error> {
        Origin::from_server_hostname(&config.server_hostname)
    }

    /// Whether the origin's host is a loopback name or address.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self.host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
    }

    /// Whether a request to `scheme://host:port` is covered by this origin.
    pub fn matches(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        if self.scheme != scheme || self.port != port {
            return false;
        }
        let host = normalize_host(host);
        match self.host.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => self.host == host,
        }
    }
}

impl FromStr for Origin {
    type Err = Error;

    fn from_str(text: &str) -> Result<Origin, Error> {
        let t = text.trim();
        let bad = |why: &str| Error::invalid_input(format!("`{text}` is not a valid host or origin: {why}"));
        let (scheme, rest) = match t.split_once("://") {
            Some((s, rest)) => match s.to_ascii_lowercase().as_str() {
                "https" => (Scheme::Https, rest),
                "http" => (Scheme::Http, rest),
                other => return Err(bad(&format!("unsupported scheme `{other}`"))),
            },
            None => (Scheme::Https, t),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return Err(bad("user info is not allowed"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("junk after `]`")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| bad("bad port"))?,
            None => scheme.default_port(),
        };
        Ok(Origin::new(scheme, host, port))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]:{}", self.scheme.as_str(), self.host, self.port)
        } else {
            write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

/// The origins a tenant may send HTTP requests to. Everything else is denied: the guest sees
/// `HttpRequestDenied`, which the connector reports as a `connection` error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    origins: Vec<Origin>,
}

impl AllowList {
    /// An empty list (denies everything).
    pub fn new() -> AllowList {
        AllowList::default()
    }

    /// Add an origin (builder style).
    pub fn allow(mut self, origin: Origin) -> AllowList {
        self.push(origin);
        self
    }

    /// Add an origin.
    pub fn push(&mut self, origin: Origin) {
        if !self.origins.contains(&origin) {
            self.origins.push(origin);
        }
    }

    /// The allowed origins.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// Whether a request to `scheme://host:port` is allowed.
    pub fn allows(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        self.origins.iter().any(|o| o.matches(scheme, host, port))
    }

    /// Whether a request URI is allowed (absolute `http`/`https` URIs only).
    pub fn allows_uri(&self, uri: &http::Uri) -> bool {
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => Scheme::Https,
            Some(s) if s.eq_ignore_ascii_case("http") => Scheme::Http,
            _ => return false,
        };
        let Some(host) = uri.host() else { return false };
        let port = uri.port_u16().unwrap_or(scheme.default_port());
        self.allows(scheme, host, port)
    }
}

impl FromIterator<Origin> for AllowList {
    fn from_iter<I: IntoIterator<Item = Origin>>(iter: I) -> AllowList {
        let mut list = AllowList::new();
        for o in iter {
            list.push(o);
        }
        list
    }
}

/// Resource limits of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of linear memory the guest may have (all its memories together).
    /// Default 256 MiB.
    pub memory_bytes: usize,
    /// Most table elements per table. Default 100 000.
    pub table_elements: usize,
    /// Guest CPU time one call may use: the CPU limit. Counted in 10 ms ticks of the engine's
    /// epoch during which guest code ran (a call blocked on I/O uses at most one tick per wait).
    /// `Duration::ZERO` stops a call at its first check. Default 60 s.
    pub cpu_per_call: Duration,
    /// Wall-clock limit of one call, host-enforced. Keep it above the connector's own
    /// `timeout-ms` so the connector can cancel its statement first. Default 16 minutes.
    pub call_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 256 << 20,
            table_elements: 100_000,
            cpu_per_call: Duration::from_secs(60),
            call_timeout: Duration::from_secs(16 * 60),
        }
    }
}

/// Everything that decides a tenant's sandbox.
#[derive(Debug, Clone, Default)]
pub struct TenantPolicy {
    /// Origins the tenant may reach.
    pub allow: AllowList,
    /// Resource limits.
    pub limits: Limits,
    /// A label for log events (e.g. the tenant's name).
    pub label: String,
    /// Certificate authorities trusted for `https` (default: the Mozilla roots).
    pub tls: TlsTrust,
}

impl TenantPolicy {
    /// A policy allowing exactly `origin`, with default limits.
    pub fn for_origin(origin: Origin) -> TenantPolicy {
        TenantPolicy { allow: AllowList::new().allow(origin), ..TenantPolicy::default() }
    }

    /// Set the label (builder style).
    pub fn label(mut self, label: impl Into<String>) -> TenantPolicy {
        self.label = label.into();
        self
    }

    /// Set the trusted certificate authorities (builder style).
    pub fn tls(mut self, tls: TlsTrust) -> TenantPolicy {
        self.tls = tls;
        self
    }

    /// Set the limits (builder style).
    pub fn limits(mut self, limits: Limits) -> TenantPolicy {
        self.limits = limits;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse() {
        let o: Origin = "adb-1.2.azuredatabricks.net".parse().unwrap();
        assert_eq!(o, Origin::new(Scheme::Https, "adb-1.2.azuredatabricks.net", 443));
        let o: Origin = "http://127.0.0.1:8080/x".parse().unwrap();
        assert_eq!(o, Origin::new(Scheme::Http, "127.0.0.1", 8080));
        assert!(o.is_loopback());
        let o: Origin = "http://[::1]:9".parse().unwrap();
        assert_eq!(o.host, "::1");
        assert!("ftp://x".parse::<Origin>().is_err());
        assert!("https://u@h".parse::<Origin>().is_err());
    }

    #[test]
    fn allow_list_matches_scheme_host_port() {
        let list = AllowList::new()
            .allow("http://127.0.0.1:8080".parse().unwrap())
            .allow(Origin::new(Scheme::Https, "*.blob.core.windows.net", 443));
        assert!(list.allows_uri(&"http://127.0.0.1:8080/api".parse().unwrap()));
        assert!(!list.allows_uri(&"http://127.0.0.1:8081/api".parse().unwrap()));
        assert!(!list.allows_uri(&"https://127.0.0.1:8080/api".parse().unwrap()));
        assert!(!list.allows_uri(&"http://localhost:8080/api".parse().unwrap()));
        assert!(list.allows_uri(&"https://acct.blob.core.windows.net/c".parse().unwrap()));
        assert!(!list.allows_uri(&"https://blob.core.windows.net/c".parse().unwrap()));
        assert!(!list.allows_uri(&"https://evil.com/acct.blob.core.windows.net".parse().unwrap()));
    }
}
