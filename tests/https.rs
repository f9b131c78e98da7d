//! HTTPS end to end (issue 11 item 1): the real `.wasm` in the wasmtime host and the CLI against
//! a warehouse serving TLS with a self-signed certificate. Always https, whatever
//! `OPENMATCH_E2E_TLS` says; that variable runs the whole e2e suite over https as well.

use connector_host::{AllowList, ErrorKind, Row, TenantPolicy, TlsTrust, Value};
use openmatch_e2e::{ADMIN_TOKEN, Env, TempDir, cli_binary};

/// An https warehouse and the path of the certificate it generated.
async fn https_env() -> (Env, std::path::PathBuf) {
    let certs = TempDir::new("tls");
    let cert = certs.path().join("warehouse.pem");
    let cert_for_config = cert.clone();
    let env = Env::start_with(move |c| c.tls_self_signed(cert_for_config)).await;
    assert!(env.url.starts_with("https://"), "{}", env.url);
    // Keep the directory for the test's lifetime.
    std::mem::forget(certs);
    (env, cert)
}

fn policy(env: &Env, tls: TlsTrust) -> TenantPolicy {
    TenantPolicy { allow: AllowList::new().allow(env.origin()), label: "https".into(), tls, ..TenantPolicy::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_writes_and_reads_over_https() {
    let (env, cert) = https_env().await;
    let trust = TlsTrust::with_pem_file(&cert).expect("certificate file");
    let mut tenant = env.host.tenant(policy(&env, trust)).await.expect("tenant");
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect over https");
    conn.execute("CREATE TABLE t (id BIGINT, name STRING)", &[]).await.expect("create");
    let rows: Vec<Row> = (1..=3).map(|i| Row::new().with("id", i as i64).with("name", format!("n{i}"))).collect();
    assert_eq!(conn.write_records(&rows, "t").await.expect("write"), 3);
    let back = conn.read_records("SELECT id, name FROM t ORDER BY id", &[]).await.expect("read");
    assert_eq!(back.len(), 3);
    assert_eq!(back[2].get("name"), Some(&Value::Text("n3".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_connection_error_naming_tls_and_other_tenants_go_on() {
    let (env, cert) = https_env().await;
    // Web PKI roots only: the self-signed certificate is not trusted.
    let mut stranger = env.host.tenant(policy(&env, TlsTrust::webpki())).await.expect("tenant");
    let e = stranger.connect(&env.config(ADMIN_TOKEN)).await.map(|_| ()).expect_err("untrusted");
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.to_string().contains("TLS"), "{e}");
    assert!(!stranger.is_broken(), "a TLS failure is an error, not a trap");
    // The same host serves a tenant that trusts the certificate (no process-wide panic).
    let trust = TlsTrust::with_pem_file(&cert).expect("certificate file");
    let mut friend = env.host.tenant(policy(&env, trust)).await.expect("tenant");
    let mut conn = friend.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    let rows = conn.read_records("SELECT 'ok' AS x", &[]).await.expect("read");
    assert_eq!(rows[0].get("x"), Some(&Value::Text("ok".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reaches_an_https_warehouse_with_ca_cert() {
    let (env, cert) = https_env().await;
    let bin = cli_binary();
    let run = |extra: &[&str]| {
        std::process::Command::new(&bin)
            .args(["--host", &env.url, "--http-path", &env.http_path, "--token", ADMIN_TOKEN])
            .args(extra)
            .args(["query", "SELECT 41 + 1 AS answer", "--json"])
            .env_remove("DATABRICKS_HOST")
            .env_remove("DATABRICKS_TOKEN")
            .env_remove("DATABRICKS_HTTP_PATH")
            .env_remove("SSL_CERT_FILE")
            .output()
            .expect("run the CLI")
    };
    let out = tokio::task::block_in_place(|| run(&["--ca-cert", cert.to_str().expect("utf-8 path")]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json, serde_json::json!([{"answer": 42}]));

    // Without the CA: a typed error naming TLS, never a panic (exit 101 before the fix).
    let out = tokio::task::block_in_place(|| run(&[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_ne!(out.status.code(), Some(101), "{stderr}");
    assert!(stderr.contains("TLS") && !stderr.contains(ADMIN_TOKEN), "{stderr}");
}
