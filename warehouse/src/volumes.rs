//! Unity Catalog volume paths (`/Volumes/<catalog>/<schema>/<volume>/<path>`) mapped to
//! `<data>/.volumes/<catalog>/<schema>/<volume>/<path>`.

use std::path::{Component, Path, PathBuf};

/// The volume part of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeRef {
    /// Catalog.
    pub catalog: String,
    /// Schema.
    pub schema: String,
    /// Volume.
    pub volume: String,
}

impl VolumeRef {
    /// `catalog.schema.volume`.
    pub fn full(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.volume)
    }
}

/// Resolves `/Volumes/c/s/v/rest...` to its volume and local path; refuses `..` and paths
/// outside a volume.
pub fn resolve(root: &Path, path: &str) -> Result<(VolumeRef, PathBuf), String> {
    let p = path.trim_start_matches("dbfs:");
    let rest = p
        .strip_prefix("/Volumes/")
        .ok_or_else(|| format!("Path {path} is not under /Volumes/"))?;
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() < 3 {
        return Err(format!(
            "Path {path} does not name a volume (/Volumes/<catalog>/<schema>/<volume>/...)"
        ));
    }
    for part in &parts {
        let c: Vec<Component> = Path::new(part).components().collect();
        if c.len() != 1 || !matches!(c[0], Component::Normal(_)) {
            return Err(format!("Invalid path {path}"));
        }
    }
    let v = VolumeRef {
        catalog: parts[0].to_ascii_lowercase(),
        schema: parts[1].to_ascii_lowercase(),
        volume: parts[2].to_ascii_lowercase(),
    };
    let mut local = root
        .join(".volumes")
        .join(&v.catalog)
        .join(&v.schema)
        .join(&v.volume);
    for part in &parts[3..] {
        local.push(part);
    }
    Ok((v, local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_and_refuses_traversal() {
        let (v, p) = resolve(Path::new("/d"), "/Volumes/Main/default/v1/a/b.json").unwrap();
        assert_eq!(v.full(), "main.default.v1");
        assert_eq!(p, PathBuf::from("/d/.volumes/main/default/v1/a/b.json"));
        assert!(resolve(Path::new("/d"), "/Volumes/main/default/v1/../../x").is_err());
        assert!(resolve(Path::new("/d"), "/tmp/x").is_err());
    }
}
