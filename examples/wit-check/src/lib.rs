//! # wit-check — the connector's WIT contract, pinned
//!
//! Renders the contract exactly as `wasm-tools component wit` (1.263) does and compares it with
//! the snapshots checked in under `docs/wit/`:
//!
//! - `docs/wit/openmatch-databricks.wit` — the WIT package in `wit/` (what `wasm-tools component
//!   wit wit/` prints): the source contract guests and hosts are generated from.
//! - `docs/wit/component.wit` — the world of the *built* component (what `wasm-tools component
//!   wit openmatch_databricks.wasm` prints): its real imports (including the exact `wasi:http`
//!   version a host must provide) and exports.
//!
//! On top of the plain comparison the tests enforce the versioning rule of
//! `docs/wit-versioning.md`: a change of the contract itself (anything other than doc comments)
//! must come with a new package version. Regenerate the snapshots with
//! `WIT_CHECK_BLESS=1 cargo test -p wit-check`.

#![deny(missing_docs)]

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use wit_component::{DecodedWasm, WitPrinter};
use wit_parser::{PackageId, Resolve};

/// The package name of the contract, without version.
pub const PACKAGE: &str = "openmatch:databricks";

/// Workspace root (two levels above this crate). Cargo's run-time `CARGO_MANIFEST_DIR` wins
/// over the compile-time one, so a library built in another checkout sharing the target
/// directory never points the checks at that checkout.
pub fn workspace_root() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dir.ancestors()
        .nth(2)
        .expect("examples/wit-check is two levels deep")
        .to_path_buf()
}

/// Prints `pkg` of `resolve` and every other package it holds, as `wasm-tools component wit`
/// does. With `docs` false doc comments are left out (the contract proper).
fn print(resolve: &Resolve, pkg: PackageId, docs: bool) -> Result<String> {
    let nested: Vec<PackageId> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != pkg)
        .collect();
    let mut printer = WitPrinter::default();
    printer.emit_docs(docs);
    printer.print(resolve, pkg, &nested)?;
    Ok(printer.output.to_string())
}

/// The WIT package in directory `dir` (with its `deps/`), rendered.
pub fn render_wit_dir(dir: &Path, docs: bool) -> Result<String> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve
        .push_dir(dir)
        .map_err(|e| anyhow!("{}", resolve.render_error(&e)))?;
    print(&resolve, pkg, docs)
}

/// The world of a built component (its imports and exports), rendered.
pub fn render_component(wasm: &[u8], docs: bool) -> Result<String> {
    let decoded = wit_component::decode(wasm).context("decoding the component's WIT")?;
    if !matches!(decoded, DecodedWasm::Component(..)) {
        bail!("the file is a WIT package, not a component");
    }
    print(decoded.resolve(), decoded.package(), docs)
}

/// Re-renders WIT text (e.g. a snapshot) without doc comments.
pub fn strip_docs(text: &str, name: &str) -> Result<String> {
    let mut resolve = Resolve::default();
    let pkg = resolve
        .push_str(name, text)
        .map_err(|e| anyhow!("{}", resolve.render_error(&e)))?;
    print(&resolve, pkg, false)
}

/// The version of `openmatch:databricks` declared in WIT text (the first `package` line naming it,
/// or a `use`/`import`/`export` path carrying `@version`).
pub fn contract_version(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find(PACKAGE) {
        rest = &rest[i + PACKAGE.len()..];
        // `openmatch:databricks@v` or `openmatch:databricks/<interface>@v`.
        let after = match rest.strip_prefix('/') {
            Some(r) => r.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-'),
            None => rest,
        };
        if let Some(v) = after.strip_prefix('@') {
            let end = v
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+'))
                .unwrap_or(v.len());
            return Some(v[..end].to_string());
        }
    }
    None
}

/// Where a built component may be: `OPENMATCH_CONNECTOR_WASM`, the bundle `connector-host`'s
/// build script makes inside the shared target dir, or the guest engineer's build dir.
pub fn find_component() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OPENMATCH_CONNECTOR_WASM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let file = Path::new("wasm32-wasip2")
        .join("guest")
        .join("openmatch_databricks.wasm");
    let mut candidates = Vec::new();
    // The test binary lives in <target>/debug/deps; connector-host builds into <target>/guest-wasm.
    if let Ok(exe) = std::env::current_exe()
        && let Some(target) = exe.ancestors().find(|p| p.join("CACHEDIR.TAG").exists())
    {
        candidates.push(target.join("guest-wasm").join(&file));
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("guest-wasm").join(&file));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(
            PathBuf::from(home)
                .join(".cache/openmatch/guest-target")
                .join(&file),
        );
    }
    candidates.push(workspace_root().join("target").join(&file));
    candidates
        .into_iter()
        .filter(|p| p.exists())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// Compares `current` with the snapshot at `snapshot`; with `WIT_CHECK_BLESS=1` rewrites it.
/// A difference fails with a message saying whether the package version must be bumped.
pub fn check_snapshot(current: &str, snapshot: &Path, regenerate: &str) -> Result<()> {
    if std::env::var_os("WIT_CHECK_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(snapshot, current)
            .with_context(|| format!("writing {}", snapshot.display()))?;
        eprintln!("wit-check: wrote {}", snapshot.display());
        return Ok(());
    }
    let old = std::fs::read_to_string(snapshot).with_context(|| {
        format!(
            "reading {} (create it with {regenerate})",
            snapshot.display()
        )
    })?;
    if old == current {
        return Ok(());
    }
    let name = snapshot.display().to_string();
    let old_contract = strip_docs(&old, &name)?;
    let new_contract = strip_docs(current, "current")?;
    let diff = first_difference(&old, current);
    if old_contract == new_contract {
        bail!(
            "{name}: only doc comments changed ({diff}). No version bump needed; \
             update the snapshot with {regenerate} and commit it."
        );
    }
    let (old_v, new_v) = (contract_version(&old), contract_version(current));
    if old_v == new_v {
        bail!(
            "{name}: the WIT contract changed ({diff}) but {PACKAGE} is still @{}. \
             If the change is intended, bump the package version in wit/world.wit (and every \
             `@{0}` reference) as docs/wit-versioning.md says — patch for additions only, minor \
             for anything that breaks an existing guest or host — then run {regenerate}.",
            old_v.unwrap_or_default()
        );
    }
    bail!(
        "{name}: the WIT contract changed ({diff}), version {} -> {}. Review the change against \
         docs/wit-versioning.md, then update the snapshot with {regenerate} and commit it.",
        old_v.unwrap_or_default(),
        new_v.unwrap_or_default()
    )
}

/// `line N: "old" vs "new"` for the first differing line.
fn first_difference(old: &str, new: &str) -> String {
    let (mut a, mut b) = (old.lines(), new.lines());
    let mut n = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (x, y) => {
                return format!(
                    "first difference at line {n}: snapshot {:?} vs now {:?}",
                    x.unwrap_or("<end>").trim(),
                    y.unwrap_or("<end>").trim()
                );
            }
        }
    }
}
