//! Argument handling of the `connector-host` binary (no warehouse needed). Its presence also
//! makes `cargo test` build the binary, which the end-to-end CLI tests in `tests/` run.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_connector-host"));
    for var in ["DATABRICKS_HOST", "DATABRICKS_HTTP_PATH", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"] {
        c.env_remove(var);
    }
    c
}

#[test]
fn help_lists_every_subcommand() {
    let out = bin().arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["query", "write", "update", "delete", "optimize", "vacuum", "history", "exec", "demo"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
}

#[test]
fn host_without_http_path_is_a_typed_error() {
    let out = bin().args(["query", "SELECT 1"]).env("DATABRICKS_HOST", "adb-1.2.azuredatabricks.net").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: invalid-input: DATABRICKS_HTTP_PATH"), "{stderr}");
}

#[test]
fn bad_param_is_rejected_before_connecting() {
    let out = bin()
        .args(["query", "SELECT %(a)s", "--param", "a:DATE=not-a-date"])
        .env("DATABRICKS_HOST", "https://127.0.0.1:1")
        .env("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/x")
        .env("DATABRICKS_TOKEN", "t")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: invalid-input: `not-a-date` is not a valid DATE"), "{stderr}");
}
