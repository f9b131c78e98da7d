//! Builds the guest component (`openmatch-databricks`, `wasm32-wasip2`, profile `guest`) and
//! hands its path to the crate as `CONNECTOR_WASM`.
//!
//! - `OPENMATCH_CONNECTOR_WASM=<path>` skips the nested build and uses that file instead.
//! - The nested cargo runs in its own target dir (`<outer target dir>/guest-wasm`) so it never
//!   waits on the lock the outer build holds.
//! - `CONNECTOR_WASM_EMBED` names the same file for `include_bytes!` (feature
//!   `embed-component`), or an empty placeholder in `OUT_DIR` when there is none, so the crate
//!   still compiles and `ConnectorHost::load_bytes` reports the missing component at run time.
//! - If the guest does not build, this script warns and still succeeds: `CONNECTOR_WASM` then
//!   names the last good build, or a file that does not exist, which the host reports clearly at
//!   load time.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_PACKAGE: &str = "openmatch-databricks";
const GUEST_TARGET: &str = "wasm32-wasip2";
const GUEST_PROFILE: &str = "guest";

fn main() {
    println!("cargo:rerun-if-env-changed=OPENMATCH_CONNECTOR_WASM");
    println!("cargo:rerun-if-changed=build.rs");

    if let Some(path) = env::var_os("OPENMATCH_CONNECTOR_WASM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        println!("cargo:rerun-if-changed={}", path.display());
        emit(&path);
        return;
    }

    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("host-test lives inside the workspace").to_path_buf();
    for watched in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    // OUT_DIR = <target>/<profile>/build/<pkg>-<hash>/out (or <target>/<triple>/<profile>/...).
    let target_dir = out_dir
        .ancestors()
        .find(|p| p.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.ancestors().nth(4).unwrap_or(&out_dir).to_path_buf());
    let guest_target_dir = target_dir.join("guest-wasm");
    let wasm = guest_target_dir
        .join(GUEST_TARGET)
        .join(GUEST_PROFILE)
        .join(format!("{}.wasm", GUEST_PACKAGE.replace('-', "_")));

    match build_guest(&root, &guest_target_dir) {
        Ok(()) if wasm.exists() => {}
        Ok(()) => println!(
            "cargo:warning=guest build succeeded but {} is missing; the host will fail at load time",
            wasm.display()
        ),
        Err(message) => {
            for line in message.lines().filter(|l| !l.trim().is_empty()).take(40) {
                println!("cargo:warning={line}");
            }
            println!(
                "cargo:warning=the connector component did not build; the host will report it at load time \
                 (set OPENMATCH_CONNECTOR_WASM=<path to .wasm> to use a prebuilt one)"
            );
            // A .wasm from an earlier successful build, if any, stays in use (the warnings above
            // say it is stale); with none, the host reports the missing file at load time.
        }
    }
    emit(&wasm);
}

fn emit(path: &Path) {
    println!("cargo:rustc-env=CONNECTOR_WASM={}", path.display());
    let embed = if path.is_file() {
        path.to_path_buf()
    } else {
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
        let placeholder = out_dir.join("missing-connector.wasm");
        if let Err(e) = std::fs::write(&placeholder, b"") {
            println!("cargo:warning=cannot write {}: {e}", placeholder.display());
        }
        placeholder
    };
    println!("cargo:rustc-env=CONNECTOR_WASM_EMBED={}", embed.display());
}

fn build_guest(root: &Path, target_dir: &Path) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    if !target_installed() {
        return Err(format!(
            "the {GUEST_TARGET} Rust target is not installed: run `rustup target add {GUEST_TARGET}`"
        ));
    }
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root)
        .args(["build", "-p", GUEST_PACKAGE, "--target", GUEST_TARGET, "--profile", GUEST_PROFILE])
        .arg("--target-dir")
        .arg(target_dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    // Cargo sets these for build scripts; they describe the host build, not the guest one.
    for (key, _) in env::vars_os() {
        if let Some(key) = key.to_str()
            && (key.starts_with("CARGO_FEATURE_") || key.starts_with("CARGO_CFG_"))
        {
            cmd.env_remove(key);
        }
    }
    let output = cmd.output().map_err(|e| format!("could not run cargo for the guest: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        Err(format!(
            "guest build failed ({}):\n{}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ))
    }
}

/// Whether the `wasm32-wasip2` standard library is present for the active toolchain.
fn target_installed() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return true; // let the nested build report it
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if sysroot.is_empty() {
        return true;
    }
    Path::new(&sysroot).join("lib/rustlib").join(GUEST_TARGET).exists()
}
