//! Minimal URL handling: split absolute `http(s)` URLs and recognise loopback hosts.

use super::error::{Error, Result};

/// An absolute URL split into the parts an HTTP request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `true` for https, `false` for http.
    pub https: bool,
    /// Host with optional `:port`, e.g. `127.0.0.1:8080`.
    pub authority: String,
    /// Path with query, starting with `/`.
    pub path_and_query: String,
}

impl Url {
    /// Split `text`, an absolute `http://` or `https://` URL.
    pub fn parse(text: &str) -> Result<Url> {
        let (https, rest) = if let Some(r) = strip_prefix_ci(text, "https://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(text, "http://") {
            (false, r)
        } else {
            return Err(Error::invalid("URL scheme must be http or https"));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let mut path = rest[end..].split('#').next().unwrap_or("").to_owned();
        if authority.is_empty() || authority.contains('@') || !authority.chars().all(authority_char)
        {
            return Err(Error::invalid("URL host is empty or malformed"));
        }
        if path.is_empty() || path.starts_with('?') {
            path.insert(0, '/');
        }
        if path.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::invalid(
                "URL path contains spaces or control characters",
            ));
        }
        Ok(Url {
            https,
            authority: authority.to_owned(),
            path_and_query: path,
        })
    }

    /// The host part of the authority, without port and brackets kept for IPv6.
    pub fn host(&self) -> &str {
        host_of(&self.authority)
    }

    /// `scheme://authority` without a path.
    pub fn origin(&self) -> String {
        format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.authority
        )
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn authority_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_')
}

/// The host of an authority: `[::1]:80` → `[::1]`, `h:443` → `h`.
pub fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => &authority[..=i],
            None => authority,
        }
    } else {
        authority.split(':').next().unwrap_or(authority)
    }
}

/// Whether `host` is a loopback host: `localhost`, `127.0.0.0/8` or `[::1]`.
pub fn is_loopback(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    if h == "localhost" || h == "[::1]" {
        return true;
    }
    let parts: Vec<&str> = h.split('.').collect();
    parts.len() == 4
        && parts[0] == "127"
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let u = Url::parse("https://bucket.s3.amazonaws.com/a/b?X-Amz=1&y=2").unwrap();
        assert!(u.https);
        assert_eq!(u.authority, "bucket.s3.amazonaws.com");
        assert_eq!(u.path_and_query, "/a/b?X-Amz=1&y=2");
        let u = Url::parse("HTTP://127.0.0.1:8080").unwrap();
        assert!(!u.https);
        assert_eq!(u.path_and_query, "/");
        assert_eq!(u.host(), "127.0.0.1");
        assert_eq!(Url::parse("http://[::1]:9/x").unwrap().host(), "[::1]");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "ftp://x",
            "https://",
            "https://user:pw@host/",
            "https://ho st/",
            "//x",
            "https://h/a b",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "127.0.0.1.evil.com",
            "128.0.0.1",
            "localhost.evil",
            "127.0.0",
            "10.0.0.1",
            "[::2]",
            "127.0.0.256",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
