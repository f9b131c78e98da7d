//! The warehouse as a process and to other clients: the `warehouse` binary's CLI and
//! databricks-sdk-py (when `OPENMATCH_SDK_PYTHON` is set).

use crate::common::*;
use serde_json::{Value, json};
use warehouse::{DEFAULT_TOKEN, DEFAULT_WAREHOUSE_ID};

#[test]
fn cli_prints_listening_line() {
    let dir = temp_dir();
    let grants = dir.join("grants.json");
    std::fs::write(
        &grants,
        r#"{"principals": [{"name": "reader", "tokens": ["reader-token"], "grants": [{"privilege": "SELECT", "on": "main.default"}]}]}"#,
    )
    .unwrap();
    let grants_arg = grants.clone().into_os_string();
    let (mut child, url, line) = serve_bin(
        &dir,
        [
            "--token".into(),
            "cli-token".into(),
            "--fault".into(),
            "endpoint=warehouses,kind=503,times=1".into(),
            "--grants".into(),
            grants_arg,
        ],
    );
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let http = reqwest::blocking::Client::new();
    let r = http
        .get(format!("{url}/api/2.0/sql/warehouses"))
        .bearer_auth("cli-token")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503, "--fault applies once");
    let r = http
        .get(format!("{url}/api/2.0/sql/warehouses"))
        .bearer_auth("cli-token")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r: Value = http
        .post(format!("{url}/api/2.0/sql/statements"))
        .bearer_auth("reader-token")
        .json(&json!({"statement": "SELECT 41 + 1", "warehouse_id": DEFAULT_WAREHOUSE_ID}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["result"]["data_array"], json!([["42"]]), "{r}");
    let r: Value = http
        .post(format!("{url}/api/2.0/sql/statements"))
        .bearer_auth("reader-token")
        .json(&json!({"statement": "CREATE TABLE x (i INT)", "warehouse_id": DEFAULT_WAREHOUSE_ID}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["status"]["sql_state"], "42501", "{r}");
    let r = http
        .get(format!("{url}/api/2.0/sql/warehouses"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    child.kill().unwrap();
    let _ = child.wait();
}

/// The python of the databricks-sdk-py venv, or `None` (test skipped) when it is not set up.
fn sdk_python(test: &str) -> Option<String> {
    match std::env::var("OPENMATCH_SDK_PYTHON") {
        Ok(python) => Some(python),
        Err(_) if std::env::var("OPENMATCH_REQUIRE_SDK").as_deref() == Ok("1") => panic!(
            "OPENMATCH_REQUIRE_SDK=1 but OPENMATCH_SDK_PYTHON is not set (run warehouse/scripts/sdk-venv.sh)"
        ),
        Err(_) => {
            println!(
                "SKIP {test}: OPENMATCH_SDK_PYTHON is not set (run warehouse/scripts/sdk-venv.sh)"
            );
            None
        }
    }
}

/// Fill `sdk` with 2500 rows, then run tests/sdk_client.py against `url`.
fn run_sdk_client(python: &str, url: &str, ca_file: Option<&std::path::Path>) {
    let script = env!("CARGO_MANIFEST_DIR").to_string() + "/tests/sdk_client.py";
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script)
        .env("WH_HOST", url)
        .env("WH_TOKEN", DEFAULT_TOKEN)
        .env("WH_ID", DEFAULT_WAREHOUSE_ID);
    if let Some(ca) = ca_file {
        // requests (under databricks-sdk-py) trusts this bundle instead of its own.
        cmd.env("REQUESTS_CA_BUNDLE", ca);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "sdk client failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("SDK OK rows=2500 sum=31237.50"),
        "{stdout}\n{stderr}"
    );
}

const SDK_TABLE: &str = "CREATE TABLE sdk (id BIGINT, amount DECIMAL(10,2))";
const SDK_ROWS: &str =
    "INSERT INTO sdk SELECT id, CAST(id AS DECIMAL(10,2)) / 100 FROM range(2500)";

#[test]
fn databricks_sdk_py_unmodified() {
    let Some(python) = sdk_python("databricks_sdk_py_unmodified") else {
        return;
    };
    let w = start_with(|c| c.chunk_rows(1000));
    w.run(SDK_TABLE);
    w.run(SDK_ROWS);
    run_sdk_client(&python, &w.bg.url(), None);
}

#[test]
fn databricks_sdk_py_over_https() {
    let Some(python) = sdk_python("databricks_sdk_py_over_https") else {
        return;
    };
    // Fill the tables over http, then serve the same data directory over https.
    let dir = temp_dir();
    {
        let w = start_in(dir.clone(), |c| c);
        w.run(SDK_TABLE);
        w.run(SDK_ROWS);
    }
    let cert = dir.with_extension("pem");
    let w = start_in(dir.clone(), |c| c.chunk_rows(1000).tls_self_signed(&cert));
    assert!(w.bg.url().starts_with("https://"), "{}", w.bg.url());
    run_sdk_client(&python, &w.bg.url(), Some(&cert));
}
