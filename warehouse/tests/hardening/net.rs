//! HTTPS (self-signed and PEM files, server and CLI), the header-read timeout and the
//! connection cap.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use warehouse::{Config, DEFAULT_TOKEN, DEFAULT_WAREHOUSE_ID};

use crate::common::temp_dir;

/// A blocking reqwest client trusting exactly the PEM certificate `ca` (ring provider).
fn https_client(ca: &std::path::Path) -> reqwest::blocking::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn select_42(http: &reqwest::blocking::Client, url: &str, token: &str) -> Value {
    http.post(format!("{url}/api/2.0/sql/statements"))
        .bearer_auth(token)
        .json(&json!({"statement": "SELECT 41 + 1 AS x", "warehouse_id": DEFAULT_WAREHOUSE_ID}))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

#[test]
fn https_with_a_self_signed_certificate() {
    let dir = temp_dir();
    let ca = dir.join("ca.pem");
    let bg =
        warehouse::spawn_background(Config::new(dir.join("data")).tls_self_signed(&ca)).unwrap();
    let url = bg.url().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let http = https_client(&ca);
    let r = select_42(&http, &url, DEFAULT_TOKEN);
    assert_eq!(r["result"]["data_array"], json!([["42"]]), "{r}");
    // the certificate also names localhost
    let port = bg.running.addr.port();
    let r = select_42(&http, &format!("https://localhost:{port}"), DEFAULT_TOKEN);
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    // external links point at https too
    let r: Value = http
        .post(format!("{url}/api/2.0/sql/statements"))
        .bearer_auth(DEFAULT_TOKEN)
        .json(&json!({"statement": "SELECT 1 AS x", "warehouse_id": DEFAULT_WAREHOUSE_ID, "disposition": "EXTERNAL_LINKS"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let link = r["result"]["external_links"][0]["external_link"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.starts_with(&format!("{url}/ext/results/")), "{link}");
    let body = http.get(&link).send().unwrap().text().unwrap();
    assert_eq!(body, "[[\"1\"]]");
    // a client that does not trust the certificate is refused
    let untrusting = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        )
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{url}/api/2.0/sql/warehouses"))
            .send()
            .is_err()
    );
    // plain HTTP on the TLS port gets no HTTP answer
    let plain = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/2.0/sql/warehouses"))
        .bearer_auth(DEFAULT_TOKEN)
        .send();
    assert!(plain.is_err(), "{plain:?}");
}

#[test]
fn https_with_pem_files_and_from_the_cli() {
    let dir = temp_dir();
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let bg =
        warehouse::spawn_background(Config::new(dir.join("data")).tls_files(&cert, &key)).unwrap();
    assert!(bg.url().starts_with("https://"));
    let r = select_42(&https_client(&cert), bg.url(), DEFAULT_TOKEN);
    assert_eq!(r["result"]["data_array"], json!([["42"]]), "{r}");
    drop(bg);
    // a missing key file is a start-up error, not a panic
    let err = warehouse::spawn_background(
        Config::new(dir.join("data")).tls_files(&cert, dir.join("nope.pem")),
    )
    .unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");

    for args in [
        vec![
            "--tls-cert".into(),
            cert.clone(),
            "--tls-key".into(),
            key.clone(),
        ],
        vec!["--tls-self-signed".into(), dir.join("cli-ca.pem")],
    ] {
        let (mut child, url, line) = crate::common::serve_bin(&dir.join("cli-data"), &args);
        assert!(url.starts_with("https://127.0.0.1:"), "{line}");
        let ca = if args[0].as_os_str() == "--tls-cert" {
            cert.clone()
        } else {
            dir.join("cli-ca.pem")
        };
        let r = select_42(&https_client(&ca), &url, DEFAULT_TOKEN);
        assert_eq!(r["result"]["data_array"], json!([["42"]]), "{r}");
        child.kill().unwrap();
        let _ = child.wait();
    }
}

/// Reads until EOF or error; `Some(elapsed)` when the server closed the socket within `limit`.
fn closed_within(mut s: &TcpStream, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(t0.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => {
                return Some(t0.elapsed());
            }
            Err(_) => return None,
        }
    }
}

#[test]
fn idle_and_slow_sockets_are_closed_after_the_header_timeout() {
    let w = crate::common::start_with(|c| c.header_read_timeout(Duration::from_millis(300)));
    let addr = w.bg.running.addr;
    // never sends a byte
    let idle = TcpStream::connect(addr).unwrap();
    // sends half a request line and stalls
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /api/2.0/sql/warehouses HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    for s in [&idle, &slow] {
        let t = closed_within(s, Duration::from_secs(5)).expect("socket left open");
        assert!(t < Duration::from_secs(3), "{t:?}");
    }
    // a keep-alive connection idle after a response is closed too
    let mut ka = TcpStream::connect(addr).unwrap();
    write!(
        ka,
        "GET /api/2.0/sql/warehouses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEFAULT_TOKEN}\r\n\r\n"
    )
    .unwrap();
    assert!(closed_within(&ka, Duration::from_secs(5)).is_some());
    // the server still answers
    let (s, _) = w.get("/api/2.0/sql/warehouses");
    assert_eq!(s, 200);
}

#[test]
fn connections_over_the_cap_wait_for_a_free_slot() {
    let w = crate::common::start_with(|c| c.max_connections(2));
    let addr = w.bg.running.addr;
    let a = TcpStream::connect(addr).unwrap();
    let b = TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // the third connection is accepted by the kernel but not served while two are open
    let mut c = TcpStream::connect(addr).unwrap();
    write!(
        c,
        "GET /api/2.0/sql/warehouses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEFAULT_TOKEN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    c.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(c.read(&mut buf).is_err(), "served over the cap");
    drop(a);
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    drop(b);
}
