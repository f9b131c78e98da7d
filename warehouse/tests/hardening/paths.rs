//! The data directory is a boundary: no catalog, schema, table or volume name, in SQL, in
//! the request's `catalog`/`schema` fields or in a Files API path, reaches a directory outside
//! its own place under `--data`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use warehouse::DEFAULT_TOKEN;

use crate::common::{W, start_in, temp_dir};

/// Names that must never be accepted as a catalog, schema, table or volume.
const BAD: &[&str] = &[
    "..",
    ".",
    "",
    "a/b",
    "../x",
    "a\\b",
    "a\u{0}b",
    "a\u{1}b",
    "a\u{7f}b",
    "a b",
    "a.b",
    "\u{2024}\u{2024}",
    "\u{FF0E}\u{FF0E}",
    "a\u{2215}b",
    "a\u{FF0F}b",
    "a\u{29F8}b",
    "a\u{2044}b",
    "\u{3002}",
];

fn q(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A warehouse in `<tmp>/data` with a sibling `<tmp>/outside/keep.txt` and a catalog `bcat`
/// holding `bcat.default.t`.
fn setup() -> (W, std::path::PathBuf) {
    let base = temp_dir();
    let outside = base.join("outside");
    std::fs::create_dir_all(outside.join("default")).unwrap();
    std::fs::write(outside.join("keep.txt"), "keep").unwrap();
    let w = start_in(base.join("data"), |c| c);
    for sql in [
        "CREATE CATALOG bcat",
        "CREATE TABLE bcat.default.t (i INT)",
        "INSERT INTO bcat.default.t VALUES (7)",
    ] {
        let r = w.run(sql);
        assert_eq!(r["status"]["state"], "SUCCEEDED", "{sql}: {r}");
    }
    (w, outside)
}

fn intact(w: &W, outside: &Path) {
    assert_eq!(
        std::fs::read_to_string(outside.join("keep.txt")).unwrap(),
        "keep"
    );
    assert!(outside.join("default").is_dir());
    assert_eq!(
        w.rows("SELECT i FROM bcat.default.t"),
        vec![vec![json!("7")]]
    );
    let base = outside.parent().unwrap();
    let mut entries: Vec<String> = std::fs::read_dir(base)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec!["data", "outside"],
        "nothing created beside the data dir"
    );
}

fn refused(w: &W, sql: &str) -> Value {
    let r = w.run(sql);
    assert_eq!(r["status"]["state"], "FAILED", "{sql:?}: {r}");
    r
}

#[test]
fn the_reported_escape_is_refused() {
    let (w, outside) = setup();
    for sql in [
        "CREATE TABLE main.`..`.bcat (i INT)",
        "DROP TABLE main.`..`.bcat",
        "DROP TABLE IF EXISTS main.`..`.bcat",
        "CREATE SCHEMA `..`.outside",
        "DROP SCHEMA `..`.outside CASCADE",
        "DROP SCHEMA IF EXISTS `..`.outside CASCADE",
        "CREATE TABLE `..`.outside.t (i INT)",
        "DROP TABLE `..`.outside.default",
        "CREATE CATALOG `..`",
    ] {
        let r = refused(&w, sql);
        assert_eq!(r["status"]["sql_state"], "42602", "{sql}: {r}");
        assert!(
            r["status"]["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("[INVALID_SCHEMA_OR_RELATION_NAME]"),
            "{r}"
        );
        intact(&w, &outside);
    }
}

#[test]
fn every_name_position_refuses_bad_names() {
    let (w, outside) = setup();
    for bad in BAD {
        let n = q(bad);
        let typed = [
            format!("CREATE CATALOG {n}"),
            format!("CREATE CATALOG IF NOT EXISTS {n}"),
            format!("CREATE SCHEMA main.{n}"),
            format!("CREATE SCHEMA {n}.x"),
            format!("DROP SCHEMA main.{n} CASCADE"),
            format!("DROP SCHEMA IF EXISTS main.{n} CASCADE"),
            format!("DROP SCHEMA {n}.default CASCADE"),
            format!("CREATE TABLE {n}.default.t (i INT)"),
            format!("CREATE TABLE main.{n}.t (i INT)"),
            format!("CREATE TABLE main.default.{n} (i INT)"),
            format!("CREATE TABLE main.default.{n} AS SELECT 1 AS i"),
            format!("DROP TABLE {n}.default.t"),
            format!("DROP TABLE main.{n}.t"),
            format!("DROP TABLE main.default.{n}"),
            format!("DROP TABLE IF EXISTS main.default.{n}"),
            format!("INSERT INTO main.default.{n} VALUES (1)"),
            format!("DELETE FROM main.{n}.t"),
            format!("SHOW TABLES IN main.{n}"),
            format!("SHOW SCHEMAS IN {n}"),
            format!("USE CATALOG {n}"),
            format!("USE SCHEMA main.{n}"),
            format!("DESCRIBE TABLE main.default.{n}"),
            format!("OPTIMIZE main.default.{n}"),
            format!("VACUUM {n}.default.t"),
        ];
        for sql in typed {
            let r = refused(&w, &sql);
            let state = r["status"]["sql_state"].as_str().unwrap_or("");
            // a name the tokenizer cannot take (NUL...) may already be a syntax error
            assert!(
                state == "42602" || (state == "42601" && bad.chars().any(char::is_control)),
                "{sql:?}: {r}"
            );
        }
        // DataFusion lookups: not found or invalid, never a read outside
        for sql in [
            format!("SELECT * FROM {n}.default.t"),
            format!("SELECT * FROM main.{n}.t"),
            format!("SELECT * FROM main.default.{n}"),
        ] {
            refused(&w, &sql);
        }
        // the request's default catalog and schema
        for extra in [json!({"catalog": bad}), json!({"schema": bad})] {
            if bad.is_empty() {
                continue; // empty means "the default"
            }
            let r = w.run_as(DEFAULT_TOKEN, "SELECT 1", json!([]), extra.clone());
            assert_eq!(r["status"]["state"], "FAILED", "{extra}: {r}");
        }
    }
    intact(&w, &outside);
}

#[test]
fn the_outside_is_not_readable_through_dot_dot() {
    let (w, outside) = setup();
    // a Delta table beside the data dir, reachable as `..`.outside.<t> before
    let r = w.run("CREATE TABLE bcat.default.src (i INT)");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let data = outside.parent().unwrap().join("data");
    copy_dir(
        &data.join("bcat/default/src"),
        &outside.join("default/leak"),
    );
    refused(&w, "SELECT * FROM `..`.outside.leak");
    refused(&w, "SHOW TABLES IN `..`.outside");
    refused(&w, "DESCRIBE HISTORY `..`.outside.leak");
    std::fs::remove_dir_all(outside.join("default/leak")).unwrap();
    intact(&w, &outside);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Sends a raw request (the path is not normalised by a URL library) and returns the status.
fn raw(w: &W, method: &str, path: &str, body: &[u8]) -> u16 {
    let mut s = TcpStream::connect(w.bg.running.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEFAULT_TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn files_api_paths_stay_in_their_volume() {
    let (w, outside) = setup();
    let r = w.run("CREATE VOLUME main.default.v");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    for bad in ["`..`", "`a/b`", "`.`", "`a b`"] {
        refused(&w, &format!("CREATE VOLUME main.default.{bad}"));
        refused(&w, &format!("CREATE VOLUME main.{bad}.v"));
    }
    let ok = raw(
        &w,
        "PUT",
        "/api/2.0/fs/files/Volumes/main/default/v/ok.txt",
        b"x",
    );
    assert_eq!(ok, 204);
    for bad in BAD {
        let b = pct(bad);
        let mut paths = vec![
            format!("/api/2.0/fs/files/Volumes/{b}/default/v/f.txt"),
            format!("/api/2.0/fs/files/Volumes/main/{b}/v/f.txt"),
            format!("/api/2.0/fs/files/Volumes/{b}/outside/v/f.txt"),
        ];
        // an encoded `/` is a separator once decoded: `a%2Fb` as the volume is volume `a`
        if *bad != "a/b" {
            paths.push(format!("/api/2.0/fs/files/Volumes/main/default/{b}/f.txt"));
        }
        for path in paths {
            for method in ["PUT", "GET", "DELETE", "HEAD"] {
                let status = raw(&w, method, &path, b"data");
                assert!(status == 400 || status == 404, "{method} {path}: {status}");
            }
        }
        // inside a volume, `.`/`..`/separators/NUL in the file path are refused too
        if matches!(*bad, ".." | "." | "../x" | "a\\b" | "a\u{0}b") {
            let path = format!("/api/2.0/fs/files/Volumes/main/default/v/{b}/f.txt");
            let status = raw(&w, "PUT", &path, b"data");
            assert!(status == 400 || status == 404, "PUT {path}: {status}");
        }
    }
    let deep = format!(
        "/api/2.0/fs/files/Volumes/main/default/v/{}",
        pct("../../../../outside/keep.txt")
    );
    assert_ne!(raw(&w, "DELETE", &deep, b""), 204);
    assert_ne!(raw(&w, "PUT", &deep, b"owned"), 204);
    // COPY INTO reads volumes through the same resolution
    let r = w.run("CREATE TABLE main.default.ci (i INT)");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    for p in [
        "/Volumes/../outside/default/keep.txt",
        "/Volumes/main/\u{2024}\u{2024}/v/x.csv",
        "/Volumes/main/default/v/../../../../../outside",
    ] {
        refused(
            &w,
            &format!("COPY INTO main.default.ci FROM '{p}' FILEFORMAT = CSV"),
        );
    }
    intact(&w, &outside);
}
