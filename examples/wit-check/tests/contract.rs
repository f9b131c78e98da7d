//! The contract checks CI runs: `cargo test -p wit-check`.

use std::path::PathBuf;

use wit_check::{
    check_snapshot, contract_version, find_component, render_component, render_wit_dir,
    workspace_root,
};

const BLESS: &str = "`WIT_CHECK_BLESS=1 cargo test -p wit-check`";

#[test]
fn wit_package_matches_snapshot() {
    let root = workspace_root();
    let current = render_wit_dir(&root.join("wit"), true).expect("wit/ parses");
    check_snapshot(
        &current,
        &root.join("docs/wit/openmatch-databricks.wit"),
        BLESS,
    )
    .unwrap();
}

#[test]
fn built_component_matches_snapshot() {
    let root = workspace_root();
    let required = std::env::var_os("WIT_CHECK_REQUIRE_COMPONENT").is_some_and(|v| v == "1");
    let Some(path) = component() else {
        assert!(
            !required,
            "no built component found (set OPENMATCH_CONNECTOR_WASM)"
        );
        eprintln!(
            "wit-check: SKIP built_component_matches_snapshot: no built component found; build it with \
                   `cargo build -p openmatch-databricks --target wasm32-wasip2 --profile guest` or set OPENMATCH_CONNECTOR_WASM"
        );
        return;
    };
    eprintln!("wit-check: checking {}", path.display());
    let wasm = std::fs::read(&path).unwrap();
    let current = render_component(&wasm, true).expect("component decodes");
    check_snapshot(&current, &root.join("docs/wit/component.wit"), BLESS).unwrap();
}

#[test]
fn component_exports_the_packaged_interfaces() {
    // The world in wit/ and the component agree on the contract's version and on what is exported.
    let root = workspace_root();
    let wit = render_wit_dir(&root.join("wit"), false).unwrap();
    let version = contract_version(&wit).expect("wit/ declares openmatch:databricks@<version>");
    assert!(!version.is_empty());
    let Some(path) = component() else { return };
    let component = render_component(&std::fs::read(path).unwrap(), false).unwrap();
    for iface in ["types", "connector", "delta"] {
        let export = format!("export openmatch:databricks/{iface}@{version};");
        assert!(
            component.contains(&export),
            "the built component lacks `{export}`"
        );
    }
    assert!(
        component.contains("import wasi:http/outgoing-handler@0.2."),
        "the component no longer imports wasi:http/outgoing-handler@0.2.x — hosts (jco, wasmtime serve, Spin) depend on it"
    );
}

#[test]
fn contract_version_is_read_from_package_line() {
    assert_eq!(
        contract_version("package openmatch:databricks@0.1.0;\n").as_deref(),
        Some("0.1.0")
    );
    assert_eq!(
        contract_version("export openmatch:databricks/types@1.2.3-rc.1;").as_deref(),
        Some("1.2.3-rc.1")
    );
    assert_eq!(contract_version("package wasi:logging;"), None);
}

/// `OPENMATCH_CONNECTOR_WASM`, else the component connector-host's build script built for this
/// test (a dev-dependency), else any other build found.
fn component() -> Option<PathBuf> {
    if std::env::var_os("OPENMATCH_CONNECTOR_WASM").is_some_and(|p| !p.is_empty()) {
        return find_component();
    }
    Some(PathBuf::from(connector_host::BUNDLED_WASM)).filter(|p| p.exists()).or_else(find_component)
}

/// Largest accepted component, bytes. Issue 6 set < 500 KiB for the JSON-only connector (~495
/// KiB); issue 15 raised it to 1.5 MiB for ARROW_STREAM results, whose decoder (arrow-ipc,
/// arrow-array and what they link: ~590 KiB at `--profile guest`) now makes the component ~1.06
/// MiB. A size is deterministic for a given build, so this is a test, not a benchmark.
const MAX_COMPONENT_BYTES: u64 = 1536 * 1024;

#[test]
fn component_stays_under_1_5_mib() {
    // (A second serde reader or a JSON tree type can add 50 KB; an arrow-ipc feature or reader
    // that links arrow-select adds ~380 KB.)
    let Some(path) = component() else { return };
    let bytes = std::fs::metadata(&path).unwrap().len();
    assert!(
        bytes < MAX_COMPONENT_BYTES,
        "{} is {} KiB; the limit is {} KiB (twiggy on the core module shows what grew)",
        path.display(),
        bytes / 1024,
        MAX_COMPONENT_BYTES / 1024
    );
}
