//! Builds the Spin example (`examples/spin-app`, wasm32-wasip2, release) and hands its path to
//! the crate as `SPIN_APP_WASM`. `SPIN_APP_WASM=<path>` skips the nested build. The nested cargo
//! uses its own target dir (`<outer target>/spin-app`) so it never waits on the outer build's lock.
//! A failed build is a warning here; the test then fails naming the missing file.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SPIN_APP_WASM");
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(path) = env::var_os("SPIN_APP_WASM").filter(|p| !p.is_empty()) {
        println!(
            "cargo:rustc-env=SPIN_APP_WASM={}",
            PathBuf::from(path).display()
        );
        return;
    }
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let app = manifest.parent().unwrap().join("spin-app");
    for watched in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", app.join(watched).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        manifest
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("wit")
            .display()
    );
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target = out_dir
        .ancestors()
        .find(|p| p.join("CACHEDIR.TAG").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.ancestors().nth(4).unwrap().to_path_buf())
        .join("spin-app");
    let wasm = target.join("wasm32-wasip2/release/customers_app.wasm");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&app)
        .args([
            "build",
            "--locked",
            "--release",
            "--target",
            "wasm32-wasip2",
        ])
        .env("CARGO_TARGET_DIR", &target)
        // Do not leak the outer build's settings into the nested wasm build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => println!(
            "cargo:warning=building examples/spin-app failed ({s}); the serve-host test will fail"
        ),
        Err(e) => println!("cargo:warning=could not run cargo for examples/spin-app: {e}"),
    }
    println!("cargo:rustc-env=SPIN_APP_WASM={}", wasm.display());
}
