//! The one gate between a user-supplied securable name and the file system.
//!
//! Catalogs, schemas, tables and volumes are directories under the data directory, so their
//! names follow Unity Catalog's naming rules, which exclude everything that could walk out of
//! that directory: a name is 1 to 255 characters; no period, space, forward slash, ASCII
//! control character or DEL (the documented rules); and, beyond them, no backslash, no other
//! control, whitespace or format character, and outside ASCII only letters and digits
//! (`char::is_alphanumeric`), which rules out every Unicode look-alike of `.` and `/`
//! (U+2024, U+FF0E, U+2215, U+FF0F, U+29F8, U+2044...). Names are stored lowercase.
//!
//! [`contained`] is the second line: before anything is created or removed, the path's
//! deepest existing ancestor is canonicalised (symlinks resolved) and must lie under the
//! canonical data directory.

use std::path::{Path, PathBuf};

/// What a name names (for messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A catalog.
    Catalog,
    /// A schema.
    Schema,
    /// A table.
    Table,
    /// A volume.
    Volume,
}

impl Kind {
    /// Lowercase English name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::Schema => "schema",
            Kind::Table => "table",
            Kind::Volume => "volume",
        }
    }
}

/// Why a name or path was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name breaks the naming rules.
    #[error("`{name}` is not a valid {} name", kind.as_str())]
    Invalid {
        /// What it names.
        kind: Kind,
        /// The name (control characters escaped).
        name: String,
    },
    /// The path resolves outside the data directory.
    #[error("the location {0} is outside the data directory")]
    Outside(PathBuf),
}

/// Longest name, in characters (Unity Catalog's limit).
pub const MAX_LEN: usize = 255;

/// Whether `c` may appear in a securable name.
pub fn allowed_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_graphic() && !matches!(c, '.' | '/' | '\\')
    } else {
        c.is_alphanumeric()
    }
}

/// Checks a catalog, schema, table or volume name.
pub fn check(kind: Kind, name: &str) -> Result<(), NameError> {
    let n = name.chars().count();
    if n == 0 || n > MAX_LEN || !name.chars().all(allowed_char) {
        return Err(NameError::Invalid {
            kind,
            name: name.escape_debug().to_string(),
        });
    }
    Ok(())
}

/// `root/part/...` after checking every part (`kinds[i]` names `parts[i]`).
pub fn join(root: &Path, parts: &[(Kind, &str)]) -> Result<PathBuf, NameError> {
    let mut p = root.to_path_buf();
    for (kind, part) in parts {
        check(*kind, part)?;
        p.push(part);
    }
    Ok(p)
}

/// Verifies that `path` (existing or not) resolves under `root`, which must be canonical:
/// the deepest existing ancestor of `path` is canonicalised and the rest must be plain names.
pub fn contained(root: &Path, path: &Path) -> Result<(), NameError> {
    let outside = || NameError::Outside(path.to_path_buf());
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(c) => {
                if !c.starts_with(root) {
                    return Err(outside());
                }
                break;
            }
            Err(_) => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(outside());
                };
                rest.push(name);
                existing = parent;
            }
        }
    }
    // `file_name` never yields `.` or `..`, so the missing tail cannot climb back out.
    if rest.iter().any(|n| n.is_empty()) {
        return Err(outside());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        for ok in [
            "main",
            "default",
            "t_1",
            "my-table",
            "Ünïcödé",
            "表",
            "x$y",
            "a@b",
        ] {
            assert!(check(Kind::Table, ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a.b",
            "a b",
            "a/b",
            "a\\b",
            "a\0b",
            "a\tb",
            "a\u{7f}b",
            "\u{2024}\u{2024}",
            "\u{FF0E}",
            "a\u{2215}b",
            "a\u{FF0F}b",
            "a\u{29F8}b",
            "a\u{2044}b",
            "a\u{00A0}b",
            "a\u{200B}b",
            "a\u{0338}b",
            "a\u{3002}b",
        ] {
            assert!(check(Kind::Schema, bad).is_err(), "{bad:?}");
        }
        assert!(check(Kind::Catalog, &"x".repeat(255)).is_ok());
        assert!(check(Kind::Catalog, &"x".repeat(256)).is_err());
    }

    #[test]
    fn containment_resolves_symlinks_and_missing_tails() {
        let base = std::env::temp_dir().join(format!("wh-names-{}", std::process::id()));
        let root = base.join("data");
        std::fs::create_dir_all(root.join("main")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        let root = root.canonicalize().unwrap();
        assert!(contained(&root, &root.join("main/default/t")).is_ok());
        assert!(contained(&root, &root.join("main/../../outside")).is_err());
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink(base.join("outside"), root.join("main/link"));
            assert!(contained(&root, &root.join("main/link/t")).is_err());
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}
