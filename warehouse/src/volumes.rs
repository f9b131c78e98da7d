//! Unity Catalog volume paths (`/Volumes/<catalog>/<schema>/<volume>/<path>`) mapped to
//! `<data>/.volumes/<catalog>/<schema>/<volume>/<path>`.

use std::path::{Component, Path, PathBuf};

use crate::names::{self, Kind, NameError};

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

    /// `/Volumes/catalog/schema/volume`.
    pub fn path(&self) -> String {
        format!("/Volumes/{}/{}/{}", self.catalog, self.schema, self.volume)
    }

    /// The volume's directory, `<root>/.volumes/<catalog>/<schema>/<volume>` (names checked).
    pub fn dir(&self, root: &Path) -> Result<PathBuf, NameError> {
        names::join(
            &root.join(VOLUMES_DIR),
            &[
                (Kind::Catalog, &self.catalog),
                (Kind::Schema, &self.schema),
                (Kind::Volume, &self.volume),
            ],
        )
    }

    /// Whether the volume exists: `CREATE VOLUME` made its directory (a directory already on
    /// disk from an earlier version of the warehouse counts too).
    pub fn exists(&self, root: &Path) -> bool {
        self.dir(root).map(|d| d.is_dir()).unwrap_or(false)
    }
}

/// The directory under the data directory that holds every volume.
pub const VOLUMES_DIR: &str = ".volumes";

/// The directory of a schema's volumes, `<root>/.volumes/<catalog>/<schema>` (names checked).
pub fn schema_dir(root: &Path, catalog: &str, schema: &str) -> Result<PathBuf, NameError> {
    names::join(
        &root.join(VOLUMES_DIR),
        &[(Kind::Catalog, catalog), (Kind::Schema, schema)],
    )
}

/// Name prefix of an upload in progress: the Files API writes `.upload-<id>` next to the file
/// and renames it into place when complete.
pub const UPLOAD_PREFIX: &str = ".upload-";

/// Whether a directory entry is an upload in progress (not listed, not loaded).
pub fn in_progress(name: &str) -> bool {
    name.starts_with(UPLOAD_PREFIX)
}

/// Whether `COPY INTO` of a directory loads a file of this name: as Spark's file sources,
/// names starting with `.` or `_` are hidden.
pub fn loadable(name: &str) -> bool {
    !name.starts_with('.') && !name.starts_with('_')
}

/// Why a volume path was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not under `/Volumes/`.
    #[error("Path {0} is not under /Volumes/")]
    NotVolumes(String),
    /// Fewer than three parts after `/Volumes/`.
    #[error("Path {0} does not name a volume (/Volumes/<catalog>/<schema>/<volume>/...)")]
    NoVolume(String),
    /// A catalog, schema or volume part breaks the naming rules.
    #[error("Invalid path {path}: {reason}")]
    Name {
        /// The path.
        path: String,
        /// Which part and why.
        reason: NameError,
    },
    /// An empty, `.`, `..` or otherwise unusable part in the file path.
    #[error("Invalid path {0}")]
    Invalid(String),
}

/// Whether `part` can be one file-path component below a volume: a plain name, no `.`/`..`,
/// no separator (`/`, `\\`), no control character.
fn plain_component(part: &str) -> bool {
    let c: Vec<Component> = Path::new(part).components().collect();
    c.len() == 1
        && matches!(c[0], Component::Normal(_))
        && !part.contains('\\')
        && !part.chars().any(char::is_control)
}

/// Resolves `/Volumes/c/s/v/rest...` to its volume and local path. The catalog, schema and
/// volume parts follow [`crate::names`]; the rest must be plain components (no `.`, `..`,
/// backslash or control character; empty ones are skipped).
pub fn resolve(root: &Path, path: &str) -> Result<(VolumeRef, PathBuf), PathError> {
    let p = path.trim_start_matches("dbfs:");
    let rest = p
        .strip_prefix("/Volumes/")
        .ok_or_else(|| PathError::NotVolumes(path.to_string()))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() < 3 {
        return Err(PathError::NoVolume(path.to_string()));
    }
    let v = VolumeRef {
        catalog: parts[0].to_ascii_lowercase(),
        schema: parts[1].to_ascii_lowercase(),
        volume: parts[2].to_ascii_lowercase(),
    };
    let mut local = v.dir(root).map_err(|reason| PathError::Name {
        path: path.to_string(),
        reason,
    })?;
    // `a//b` is `a/b` below the volume, as in POSIX paths
    for part in parts[3..].iter().filter(|p| !p.is_empty()) {
        if !plain_component(part) {
            return Err(PathError::Invalid(path.to_string()));
        }
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
        assert!(resolve(Path::new("/d"), "/Volumes/main/default//x").is_err());
        assert!(resolve(Path::new("/d"), "/Volumes//default/v/x").is_err());
        let (_, p) = resolve(Path::new("/d"), "/Volumes/main/default/v//x").unwrap();
        assert_eq!(p, PathBuf::from("/d/.volumes/main/default/v/x"));
        assert!(resolve(Path::new("/d"), "/Volumes/main/\u{2024}\u{2024}/v/x").is_err());
        assert!(resolve(Path::new("/d"), "/Volumes/main/default/v/a\\b").is_err());
        assert!(resolve(Path::new("/d"), "/Volumes/main/default/v/").is_ok());
    }
}
