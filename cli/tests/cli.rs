//! The `connector-host` binary as a process: local mode only when asked, profiles, formats,
//! stdin, closed pipes, exit codes, a self-contained binary, the demo's own schema, retries.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use warehouse::{Endpoint, FaultKind, FaultRule};

const BIN: &str = env!("CARGO_BIN_EXE_connector-host");

/// A clean environment: a HOME of its own (no ~/.databrickscfg), no DATABRICKS_* variables,
/// a compiled-component cache shared by the tests of this run.
struct Sandbox {
    home: tempfile::TempDir,
    data: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let home = tempfile::tempdir().expect("temp home");
        let data = home.path().join("wh");
        Sandbox { home, data }
    }

    fn cmd(&self) -> Command {
        self.cmd_of(Path::new(BIN))
    }

    fn cmd_of(&self, bin: &Path) -> Command {
        let mut c = Command::new(bin);
        for (k, _) in std::env::vars() {
            if k.starts_with("DATABRICKS_") || k == "OPENMATCH_CONNECTOR_WASM" || k == "RUST_LOG" {
                c.env_remove(k);
            }
        }
        c.env("HOME", self.home.path());
        c.env("XDG_CACHE_HOME", cache_dir());
        c.stdin(Stdio::null());
        c
    }

    /// `connector-host --local --data <dir> <args>`.
    fn local(&self, args: &[&str]) -> Output {
        self.cmd().arg("--local").arg("--data").arg(&self.data).args(args).output().expect("run connector-host")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.local(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn write_cfg(&self, text: &str) {
        std::fs::write(self.home.path().join(".databrickscfg"), text).expect("write cfg");
    }
}

/// One compiled-component cache for every test of this binary (compiling takes ~1 s).
fn cache_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("openmatch-cli-tests-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_groups_globals_and_shows_an_example_per_subcommand() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["query", "write", "update", "delete", "optimize", "vacuum", "history", "exec", "cancel", "demo"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
        let sub = Command::new(BIN).args([cmd, "--help"]).output().expect("run");
        let sub = String::from_utf8_lossy(&sub.stdout);
        assert!(sub.contains("Example:"), "`{cmd} --help` has no example:\n{sub}");
        // Subcommand options first, the globals under their own headings.
        assert!(sub.contains("Connection:") && sub.contains("Output:"), "{sub}");
    }
}

#[test]
fn without_a_workspace_only_local_and_demo_run() {
    let sb = Sandbox::new();
    for env_host in [None, Some("")] {
        let mut c = sb.cmd();
        c.args(["query", "SELECT 1"]).env("DATABRICKS_TOKEN", "dapi-must-not-travel");
        if let Some(h) = env_host {
            c.env("DATABRICKS_HOST", h);
        }
        let out = c.output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        for needle in ["error: invalid-input:", "DATABRICKS_HOST", "--profile", "--local"] {
            assert!(err.contains(needle), "{needle}: {err}");
        }
        assert!(!err.contains("local warehouse started"), "{err}");
        assert!(!sb.data.exists() && !sb.home.path().join(".cache/openmatch-databricks/warehouse").exists());
    }
    let out = sb.ok(&["query", "SELECT 1 AS one"]);
    assert!(out.contains("(1 row)"), "{out}");
}

#[test]
fn a_host_without_warehouse_and_bad_params_fail_before_any_request() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let host = format!("http://{}", listener.local_addr().expect("addr"));
    let sb = Sandbox::new();
    let out = sb.cmd().args(["query", "SELECT 1"]).env("DATABRICKS_HOST", &host).env("DATABRICKS_TOKEN", "t").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no warehouse"), "{}", stderr(&out));
    let out = sb
        .cmd()
        .args(["query", "SELECT %(a)s", "--param", "a:DATE=not-a-date"])
        .env("DATABRICKS_HOST", &host)
        .env("DATABRICKS_WAREHOUSE_ID", "x")
        .env("DATABRICKS_TOKEN", "t")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("error: invalid-input: `not-a-date` is not a valid DATE"), "{}", stderr(&out));
    assert!(listener.accept().is_err(), "nothing may connect");
}

#[test]
fn a_profile_reaches_a_workspace_and_the_demo_leaves_its_tables_alone() {
    let sb = Sandbox::new();
    let wh_dir = sb.home.path().join("remote");
    let wh = warehouse::spawn_background(warehouse::Config::new(wh_dir.clone())).expect("warehouse");
    sb.write_cfg(&format!(
        "[DEFAULT]\nhost = https://unused.example.com\ntoken = x\nwarehouse_id = nope\n\n[LOCALWH]\nhost = {}\ntoken = {}\nwarehouse_id = {}\ncatalog = main\n",
        wh.url(),
        warehouse::DEFAULT_TOKEN,
        wh.running.warehouse_id
    ));
    let run = |args: &[&str]| {
        let out = sb.cmd().arg("--profile").arg("LOCALWH").args(args).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    run(&["exec", "CREATE TABLE main.default.customers (id BIGINT, name STRING)"]);
    run(&["exec", "INSERT INTO main.default.customers VALUES (42, 'mine')"]);
    let demo = run(&["demo"]);
    assert!(demo.contains("created schema main.openmatch_demo_"), "{demo}");
    assert!(demo.contains("== dropped schema main.openmatch_demo_"), "{demo}");
    // The existing table is untouched, and the demo's schema is gone.
    let rows = run(&["query", "SELECT * FROM main.default.customers", "--format", "jsonl"]);
    assert_eq!(rows, "{\"id\":42,\"name\":\"mine\"}\n");
    let schemas: Vec<String> = std::fs::read_dir(wh_dir.join("main"))
        .expect("catalog dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert!(!schemas.iter().any(|s| s.starts_with("openmatch_demo_")), "{schemas:?}");
    // DATABRICKS_CONFIG_PROFILE selects it too; an unknown profile is invalid input.
    let out = sb.cmd().args(["query", "SELECT 1 AS x", "--json"]).env("DATABRICKS_CONFIG_PROFILE", "LOCALWH").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sb.cmd().args(["--profile", "NOPE", "query", "SELECT 1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("has no profile `NOPE`"), "{}", stderr(&out));
}

#[test]
fn retries_show_on_stderr_at_info_level() {
    let sb = Sandbox::new();
    let config = warehouse::Config::new(sb.home.path().join("flaky"))
        .fault(FaultRule::new(Endpoint::ExecuteStatement, FaultKind::TooManyRequests { retry_after_secs: 0 }).times(1));
    let wh = warehouse::spawn_background(config).expect("warehouse");
    let out = sb
        .cmd()
        .args(["--host", wh.url(), "--warehouse-id", &wh.running.warehouse_id, "--token", warehouse::DEFAULT_TOKEN])
        .args(["query", "SELECT 1 AS one", "--format", "csv"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\n1\n");
    let err = stderr(&out);
    assert!(err.contains("INFO") && err.contains("retry 1 after"), "{err}");
    assert!(!err.contains('\u{1b}'), "no ANSI colours when stderr is not a terminal: {err:?}");
}

#[test]
fn formats_output_file_sql_file_and_stdin() {
    let sb = Sandbox::new();
    sb.ok(&["exec", "CREATE TABLE t (id BIGINT, name STRING)"]);
    // Records from stdin.
    let mut child = sb
        .cmd()
        .args(["--local", "--data"])
        .arg(&sb.data)
        .args(["write", "t", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"{\"id\": 1, \"name\": \"a,b\"}\n{\"id\": 2, \"name\": null}\n").expect("feed");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "{\"count\":2}");

    let sql = sb.home.path().join("q.sql");
    std::fs::write(&sql, "SELECT id, name FROM t ORDER BY id").unwrap();
    let sql = sql.to_str().unwrap();
    assert_eq!(sb.ok(&["query", "-f", sql, "--format", "csv"]), "id,name\n1,\"a,b\"\n2,\n");
    assert_eq!(sb.ok(&["query", "-f", sql, "--format", "jsonl"]), "{\"id\":1,\"name\":\"a,b\"}\n{\"id\":2,\"name\":null}\n");
    let json: serde_json::Value = serde_json::from_str(&sb.ok(&["query", "-f", sql, "--json"])).expect("JSON");
    assert_eq!(json, serde_json::json!([{"id": 1, "name": "a,b"}, {"id": 2, "name": null}]));
    let file = sb.home.path().join("out.csv");
    assert_eq!(sb.ok(&["query", "-f", sql, "--format", "csv", "--output", file.to_str().unwrap()]), "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "id,name\n1,\"a,b\"\n2,\n");

    // SQL from stdin.
    let mut child = sb
        .cmd()
        .args(["--local", "--data"])
        .arg(&sb.data)
        .args(["query", "-", "-p", "n=01234", "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"SELECT %(n)s AS n").expect("feed");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n01234\n", "an untyped parameter stays a string");
}

#[test]
fn a_closed_pipe_is_a_quiet_exit() {
    let sb = Sandbox::new();
    let mut child = sb
        .cmd()
        .args(["--local", "--data"])
        .arg(&sb.data)
        .args(["query", "SELECT id, repeat('x', 40) AS pad FROM range(300000)"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let header = lines.next().expect("a header").expect("utf-8");
    assert!(header.starts_with("id"), "{header}");
    drop(lines); // `| head -1`
    let out = child.wait_with_output().expect("wait");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked") && !err.contains("error"), "{err}");
}

/// Peak RSS (kB) of a `query` printing `rows` rows as a table from a warehouse in this process,
/// read from /proc while its output is consumed; `None` where /proc is missing.
fn table_peak_kb(sb: &Sandbox, wh: &warehouse::Background, rows: u64) -> Option<u64> {
    let sql = format!("SELECT id, repeat('x', 40) AS pad FROM range({rows})");
    let mut child = sb
        .cmd()
        .args(["--host", wh.url(), "--warehouse-id", &wh.running.warehouse_id, "--token", warehouse::DEFAULT_TOKEN])
        .args(["query", &sql])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = format!("/proc/{}/status", child.id());
    let hwm = || {
        std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
    };
    let mut peak = None;
    let mut n = 0u64;
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        line.expect("utf-8");
        n += 1;
        if n % 5_000 == 0 {
            peak = peak.max(hwm());
        }
    }
    assert!(child.wait().expect("wait").success());
    assert_eq!(n, rows + 3, "header, rule, rows, count");
    peak.or(Some(0)).filter(|_| Path::new("/proc/self/status").exists())
}

#[test]
fn table_output_streams_in_bounded_memory() {
    let sb = Sandbox::new();
    let wh = warehouse::spawn_background(warehouse::Config::new(sb.home.path().join("remote"))).expect("warehouse");
    let (Some(small), Some(large)) = (table_peak_kb(&sb, &wh, 10_000), table_peak_kb(&sb, &wh, 200_000)) else {
        return; // no /proc: the row counts above were still checked
    };
    // Buffering the table cost ~180 MB for 200k rows; streaming keeps to about a batch and a chunk.
    assert!(large < small + 60_000, "peak RSS {small} kB for 10k rows, {large} kB for 200k rows");
}

#[test]
fn exit_codes_follow_the_error_kind_and_messages_are_cleaned() {
    let sb = Sandbox::new();
    let out = sb.local(&["query", "SELEC 1"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains("error: syntax:") && stderr(&out).contains("42601"));
    // A control character is not allowed in a Unity Catalog name: refused (42602), and the
    // message that quotes it reaches the terminal without the raw escape.
    let out = sb.local(&["query", "SELECT * FROM `evil\u{1b}[31mtable`"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error: syntax:") && err.contains("42602") && err.contains("evil") && !err.contains('\u{1b}'), "{err:?}");
    let out = sb.local(&["delete", "missing_table", "1"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let out = sb.cmd().args(["query"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "usage errors: {}", stderr(&out));
}

/// Exact or refused: a value that would be rounded or overflow its DECIMAL column is
/// `invalid-input` (exit 2) naming record and column, and the table stays empty.
#[test]
fn a_value_that_does_not_fit_its_column_writes_nothing() {
    let sb = Sandbox::new();
    sb.ok(&["exec", "CREATE TABLE m (id BIGINT, amount DECIMAL(12,2))"]);
    let f = sb.home.path().join("m.jsonl");
    for bad in ["12345678901.25", "1.234"] {
        std::fs::write(&f, format!("{{\"id\": 1, \"amount\": 5}}\n{{\"id\": 2, \"amount\": {bad}}}\n")).unwrap();
        let out = sb.local(&["write", "m", f.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("error: invalid-input:") && err.contains("amount") && err.contains("DECIMAL(12,2)"), "{bad}: {err}");
        assert_eq!(sb.ok(&["query", "SELECT count(*) AS n FROM m", "--format", "csv"]), "n\n0\n", "{bad}");
    }
}

#[test]
fn update_delete_and_cancel() {
    let sb = Sandbox::new();
    sb.ok(&["exec", "CREATE TABLE p (id BIGINT, code STRING, score DECIMAL(6,2))"]);
    let f = sb.home.path().join("p.jsonl");
    std::fs::write(&f, "{\"id\": 1, \"code\": \"007\", \"score\": \"1.5\"}\n{\"id\": 2, \"code\": \"8\", \"score\": 2}\n").unwrap();
    assert_eq!(sb.ok(&["write", "p", f.to_str().unwrap()]), "inserted 2 rows\n");
    std::fs::write(&f, "{\"id\": 2, \"score\": \"9.25\"}\n").unwrap();
    assert_eq!(sb.ok(&["update", "p", f.to_str().unwrap(), "--key", "id"]), "updated 1 row\n");
    // Keys are typed by the key column: `007` stays a string for a STRING key.
    assert_eq!(sb.ok(&["delete", "p", "007", "--key", "code", "--format", "jsonl"]), "{\"count\":1}\n");
    assert_eq!(sb.ok(&["query", "SELECT id, score FROM p", "--format", "csv"]), "id,score\n2,9.25\n");
    // `cancel` reaches the warehouse: a finished (closed) statement is not found there.
    let exec = sb.ok(&["exec", "SELECT 1", "--format", "jsonl"]);
    let id = serde_json::from_str::<serde_json::Value>(&exec).expect("JSON")["statement_id"].as_str().expect("id").to_string();
    let out = sb.local(&["cancel", &id, "--format", "json"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("The statement {id} was not found")), "{}", stderr(&out));
}

#[test]
fn the_binary_carries_its_component() {
    let sb = Sandbox::new();
    // A copy elsewhere, with an empty compiled cache: nothing from the build tree is needed.
    let moved = sb.home.path().join("bin/connector-host");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::copy(BIN, &moved).expect("copy binary");
    let mut c = sb.cmd_of(&moved);
    let out = c.env("XDG_CACHE_HOME", sb.home.path().join("cache")).args(["--local", "--data"]).arg(&sb.data).args(["query", "SELECT 7 AS n", "--format", "csv"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n7\n");
    // OPENMATCH_CONNECTOR_WASM still overrides.
    let out = sb.cmd_of(&moved).env("OPENMATCH_CONNECTOR_WASM", "/nonexistent/x.wasm").args(["--local", "query", "SELECT 1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert!(stderr(&out).contains("/nonexistent/x.wasm"), "{}", stderr(&out));
}

#[test]
fn demo_runs_locally_with_no_setup() {
    let sb = Sandbox::new();
    let out = sb.cmd().arg("--data").arg(&sb.data).arg("demo").output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("== dropped schema main.openmatch_demo_") && text.contains("== timings"), "{text}");
    assert!(stderr(&out).contains("local warehouse started in-process"), "{}", stderr(&out));
    let left: Vec<_> = std::fs::read_dir(sb.data.join("main")).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("default")]);
}
