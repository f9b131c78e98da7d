//! Fault-injection suite: for each fault kind the local warehouse offers (429 + Retry-After, 503,
//! dropped connection, delay, expired external links) × reads, writes (INSERT), MERGE
//! (update-records) and DELETE, the real component in the wasmtime host runs the operation against
//! a warehouse injecting that fault, and the table is then read back row by row from a clean
//! warehouse on the same data: 0 rows lost, 0 duplicated, every failure a typed connector error
//! whose `committed-rows` matches the table. Bounded faults must be retried to success; unbounded
//! ones must surface as typed errors. Prints the table the issue asks for.
//!
//! How many faults fired is measured, not assumed: after the operation, raw HTTP probes consume
//! what is left of each bounded rule, so `injected = times - left`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_host::{ConnectConfig, Credential, ErrorKind, Row, Secret, Value};
use openmatch_e2e::{ADMIN_TOKEN, TempDir, host};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warehouse::{Endpoint, FaultKind, FaultRule};

/// Rows seeded in `t` before each scenario: ids 1..=SEED, name `n{id}`.
const SEED: i64 = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Read,
    Write,
    /// INSERT of records without an `id` column (no idempotent form).
    WriteNoKey,
    Merge,
    Delete,
    /// INSERT staged through a volume: files (Files API) and one COPY INTO.
    Staged,
    /// update-records staged through a volume: files and one MERGE over `read_files`.
    StagedMerge,
    /// delete-records staged through a volume: files, a match count and one MERGE.
    StagedDelete,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    TooMany,
    Unavailable,
    Drop,
    Delay,
    Expired,
}

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Fault::TooMany => "429 + Retry-After",
            Fault::Unavailable => "503",
            Fault::Drop => "dropped connection",
            Fault::Delay => "delay 300 ms",
            Fault::Expired => "expired links",
        }
    }

    fn kind(self) -> FaultKind {
        match self {
            Fault::TooMany => FaultKind::TooManyRequests { retry_after_secs: 1 },
            Fault::Unavailable => FaultKind::Unavailable,
            Fault::Drop => FaultKind::DropConnection,
            Fault::Delay => FaultKind::Delay { millis: 300 },
            Fault::Expired => FaultKind::ExpiredLinks,
        }
    }
}

struct Scenario {
    fault: Fault,
    op: Op,
    endpoint: Endpoint,
    times: u64,
    /// Whether the operation must succeed (bounded faults) or surface a typed error.
    expect_ok: bool,
    max_attempts: u32,
}

#[derive(Debug, Default, Clone)]
struct Outcome {
    injected: u64,
    ok: bool,
    error: Option<String>,
    lost: u64,
    duplicated: u64,
    elapsed: Duration,
}

fn config(url: &str, http_path: &str, s: &Scenario) -> ConnectConfig {
    let mut c = ConnectConfig::new(url, http_path, Credential::AccessToken(Secret::new(ADMIN_TOKEN)))
        .with_namespace("main", "default");
    c.timeout_ms = Some(60_000);
    c.batch_rows = Some(10);
    c.max_attempts = Some(s.max_attempts);
    c.external_links = s.fault == Fault::Expired;
    if matches!(s.op, Op::Staged | Op::StagedMerge | Op::StagedDelete) {
        c.staging_volume = Some("/Volumes/main/default/stage".into());
    }
    c
}

async fn start(data: &Path, faults: Vec<FaultRule>) -> warehouse::Running {
    let mut cfg = warehouse::Config::new(data).chunk_rows(15);
    for f in faults {
        cfg = cfg.fault(f);
    }
    warehouse::spawn(cfg).await.unwrap_or_else(|e| panic!("warehouse: {e:#}"))
}

async fn stop(w: warehouse::Running) {
    let _ = tokio::time::timeout(Duration::from_secs(5), w.stopped()).await;
}

/// The table as `id -> [names]` (a list, so duplicates show).
async fn table(data: &Path, s: &Scenario) -> BTreeMap<i64, Vec<String>> {
    let w = start(data, vec![]).await;
    let cfg = config(&w.url, &format!("/sql/1.0/warehouses/{}", w.warehouse_id), s);
    let mut owned = host().connect(&cfg).await.expect("clean connect");
    let rows = owned.conn().read_records("SELECT id, name FROM t ORDER BY id", &[]).await.expect("read back");
    drop(owned);
    stop(w).await;
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in rows {
        let id = match r.get("id") {
            Some(Value::BigInt(id)) => *id,
            // Keyless inserts.
            Some(Value::Null) => i64::MIN,
            other => panic!("bad id {other:?}"),
        };
        let Some(Value::Text(name)) = r.get("name") else { panic!("bad row {r:?}") };
        out.entry(id).or_default().push(name.clone());
    }
    out
}

fn seed_rows() -> BTreeMap<i64, String> {
    (1..=SEED).map(|i| (i, format!("n{i}"))).collect()
}

fn rows(ids: impl Iterator<Item = i64>, prefix: &str) -> Vec<Row> {
    ids.map(|i| Row::new().with("id", i).with("name", format!("{prefix}{i}"))).collect()
}

/// One raw HTTP/1.1 request (Connection: close); `None` when the connection broke or the body
/// came short (a dropped connection), else the status and body.
async fn raw(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let len = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().ok()))
        .flatten();
    if !matches!(read, Ok(Ok(_))) || len.is_some_and(|n| body.len() < n) {
        return None;
    }
    Some((status, body.to_string()))
}

/// Consume what is left of a bounded rule on `endpoint` with harmless requests; returns how many
/// were still faulted.
async fn left(w: &warehouse::Running, fault: Fault, endpoint: Endpoint, times: u64) -> u64 {
    let statement = |disp: &str| {
        format!(r#"{{"statement":"SELECT 1 AS one","warehouse_id":"{}","disposition":"{disp}","wait_timeout":"10s"}}"#, w.warehouse_id)
    };
    let mut n = 0;
    for _ in 0..times {
        let faulted = match (fault, endpoint) {
            (Fault::Expired, _) => {
                let Some((200, body)) = raw(w.addr, "POST", "/api/2.0/sql/statements", &statement("EXTERNAL_LINKS")).await else {
                    panic!("probe failed")
                };
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                let link = v["result"]["external_links"][0]["external_link"].as_str().unwrap_or_default().to_string();
                let path = link.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default();
                !matches!(raw(w.addr, "GET", &path, "").await, Some((200, _)))
            }
            (_, Endpoint::ExecuteStatement) => {
                let t = Instant::now();
                let r = raw(w.addr, "POST", "/api/2.0/sql/statements", &statement("INLINE")).await;
                !matches!(r, Some((200, _))) || t.elapsed() >= Duration::from_millis(250)
            }
            _ => {
                let t = Instant::now();
                let r = raw(w.addr, "GET", &format!("/api/2.0/sql/warehouses/{}", w.warehouse_id), "").await;
                !matches!(r, Some((200, _))) || t.elapsed() >= Duration::from_millis(250)
            }
        };
        if !faulted {
            break;
        }
        n += 1;
    }
    n
}

async fn run(s: Scenario) -> (Scenario, Outcome) {
    let dir = TempDir::new("faults");
    let data = dir.path().join("data");
    // Seed with a clean warehouse.
    {
        let w = start(&data, vec![]).await;
        let cfg = config(&w.url, &format!("/sql/1.0/warehouses/{}", w.warehouse_id), &s);
        let mut owned = host().connect(&cfg).await.expect("seed connect");
        {
            let mut c = owned.conn();
            c.execute("CREATE TABLE t (id BIGINT, name STRING)", &[]).await.expect("create");
            c.execute("CREATE VOLUME stage", &[]).await.expect("volume");
            assert_eq!(c.write_records(&rows(1..=SEED, "n"), "t").await.expect("seed"), SEED as u64);
        }
        drop(owned);
        stop(w).await;
    }
    // A write reads its table's columns first (one statement, re-sent safely): the faults are
    // for the write's own statements, so that probe goes through.
    let skip = u64::from(s.op != Op::Read && s.endpoint == Endpoint::ExecuteStatement);
    let rule = FaultRule::new(s.endpoint, s.fault.kind()).times(s.times).skip(skip);
    let w = start(&data, vec![rule]).await;
    let cfg = config(&w.url, &format!("/sql/1.0/warehouses/{}", w.warehouse_id), &s);
    let t0 = Instant::now();
    let mut out = Outcome::default();
    let mut read_back = None;
    // What the connector reports as committed decides the expected table.
    let mut expected = seed_rows();
    let result: Result<u64, connector_host::Error> = async {
        let mut owned = host().connect(&cfg).await?;
        let mut c = owned.conn();
        match s.op {
            Op::Read => {
                let r = c.read_records("SELECT id, name FROM t ORDER BY id", &[]).await?;
                read_back = Some(r);
                Ok(0)
            }
            Op::Write | Op::Staged => c.write_records(&rows(101..=130, "w"), "t").await,
            Op::WriteNoKey => {
                let recs: Vec<Row> = (101..=130).map(|i: i64| Row::new().with("name", format!("w{i}"))).collect();
                c.write_records(&recs, "t").await
            }
            Op::Merge | Op::StagedMerge => c.update_records(&rows(1..=20, "u"), "t", &["id".to_string()]).await,
            Op::Delete | Op::StagedDelete => {
                let ids: Vec<Value> = (21..=30).map(Value::BigInt).collect();
                c.delete_records(&ids, "t", Some("id")).await
            }
        }
    }
    .await;
    out.elapsed = t0.elapsed();
    let committed = match &result {
        Ok(n) => {
            out.ok = true;
            *n
        }
        Err(e) => {
            out.error = Some(format!("{}", e.kind().as_str()));
            assert!(e.kind().is_connector(), "{:?}: not a typed connector error: {e:?}", (s.fault, s.op));
            e.info().committed_rows.unwrap_or(0)
        }
    };
    // Apply the reported effect to the expectation (batches of 10 in order).
    match s.op {
        Op::Read => {}
        Op::Write | Op::Staged => {
            for i in (101..=130).take(committed as usize) {
                expected.insert(i, format!("w{i}"));
            }
        }
        Op::WriteNoKey => {}
        Op::Merge | Op::StagedMerge => {
            for i in (1..=20).take(committed as usize) {
                expected.insert(i, format!("u{i}"));
            }
        }
        Op::Delete | Op::StagedDelete => {
            for i in (21..=30).take(committed as usize) {
                expected.remove(&i);
            }
        }
    }
    if out.ok {
        let n = match s.op {
            Op::Read => 0,
            Op::Write | Op::WriteNoKey | Op::Staged => 30,
            Op::Merge | Op::StagedMerge => 20,
            Op::Delete | Op::StagedDelete => 10,
        };
        assert_eq!(committed, n, "{:?} count", (s.fault, s.op));
    }
    out.injected = s.times - left(&w, s.fault, s.endpoint, s.times).await;
    stop(w).await;
    let got = table(&data, &s).await;
    // Keyless inserts get no id: compare their names separately.
    let mut got_names: BTreeMap<String, u64> = BTreeMap::new();
    for names in got.values() {
        for n in names {
            *got_names.entry(n.clone()).or_default() += 1;
        }
    }
    if s.op == Op::WriteNoKey {
        let null_rows = got_names.iter().filter(|(n, _)| n.starts_with('w')).map(|(_, c)| *c).sum::<u64>();
        out.lost += committed.saturating_sub(null_rows);
        out.duplicated += null_rows.saturating_sub(committed);
    }
    for (id, name) in &expected {
        match got.get(id) {
            Some(names) if names.iter().any(|n| n == name) => {
                out.duplicated += names.len() as u64 - 1;
            }
            _ => out.lost += 1,
        }
    }
    for (id, names) in &got {
        if !expected.contains_key(id) && !(s.op == Op::WriteNoKey && names.iter().all(|n| n.starts_with('w'))) {
            // A row the connector did not report (e.g. a committed batch counted as failed).
            out.duplicated += names.len() as u64;
        }
    }
    if let Some(r) = read_back {
        let seen: Vec<(i64, String)> = r
            .iter()
            .map(|row| match (row.get("id"), row.get("name")) {
                (Some(Value::BigInt(i)), Some(Value::Text(n))) => (*i, n.clone()),
                other => panic!("bad row {other:?}"),
            })
            .collect();
        let want: Vec<(i64, String)> = seed_rows().into_iter().collect();
        for w in &want {
            if !seen.contains(w) {
                out.lost += 1;
            }
        }
        out.duplicated += (seen.len() as u64).saturating_sub(want.len() as u64);
    }
    (s, out)
}

fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    let ops = [Op::Read, Op::Write, Op::Merge, Op::Delete, Op::Staged];
    for fault in [Fault::TooMany, Fault::Unavailable, Fault::Drop, Fault::Delay, Fault::Expired] {
        for op in ops {
            // Bounded: must be retried to success.
            let (endpoint, times) = match (fault, op) {
                (Fault::Expired, _) => (Endpoint::ExternalLink, 2),
                (Fault::Delay, _) => (Endpoint::Any, 4),
                (_, Op::Read) => (Endpoint::Any, 4),
                _ => (Endpoint::ExecuteStatement, 3),
            };
            v.push(Scenario { fault, op, endpoint, times, expect_ok: true, max_attempts: 5 });
            // Unbounded (more than the attempts allow): must surface as a typed error.
            // (Writes read their one count row INLINE, so links cannot fail them.)
            if matches!(fault, Fault::TooMany | Fault::Unavailable | Fault::Drop) || (fault, op) == (Fault::Expired, Op::Read) {
                let endpoint = if fault == Fault::Expired { Endpoint::ExternalLink } else { Endpoint::ExecuteStatement };
                v.push(Scenario { fault, op, endpoint, times: 8, expect_ok: false, max_attempts: 2 });
            }
        }
    }
    // A dropped answer of an insert without a key column: not re-sent, reported unknown.
    v.push(Scenario {
        fault: Fault::Drop,
        op: Op::WriteNoKey,
        endpoint: Endpoint::ExecuteStatement,
        times: 1,
        expect_ok: false,
        max_attempts: 5,
    });
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_lose_and_duplicate_nothing() {
    let _ = host();
    let started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = Vec::new();
    for s in scenarios() {
        let limit = limit.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            run(s).await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("scenario task"));
    }
    println!();
    println!(
        "| fault | operation | bounded | faults injected | retried to success | surfaced as errors | rows lost | rows duplicated | time |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|");
    let (mut inj, mut retried, mut surfaced, mut lost, mut dup) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for (s, o) in &results {
        let (r, e) = if o.ok { (o.injected, 0) } else { (0, 1) };
        inj += o.injected;
        retried += r;
        surfaced += e;
        lost += o.lost;
        dup += o.duplicated;
        println!(
            "| {} | {:?} | {} | {} | {} | {}{} | {} | {} | {:.1} s |",
            s.fault.label(),
            s.op,
            if s.expect_ok { "yes" } else { "no" },
            o.injected,
            r,
            e,
            o.error.as_ref().map(|k| format!(" ({k})")).unwrap_or_default(),
            o.lost,
            o.duplicated,
            o.elapsed.as_secs_f64()
        );
        if o.ok != s.expect_ok {
            failures.push(format!("{:?} {:?}: expected ok={} got {:?}", s.fault, s.op, s.expect_ok, o.error));
        }
        if o.lost + o.duplicated > 0 {
            failures.push(format!("{:?} {:?}: {} lost, {} duplicated", s.fault, s.op, o.lost, o.duplicated));
        }
    }
    println!(
        "| **total** ({} scenarios) | | | {inj} | {retried} | {surfaced} | {lost} | {dup} | {:.1} s |",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(started.elapsed() < Duration::from_secs(600));
    let _ = ErrorKind::Connection;
}

/// A loopback proxy in front of the warehouse that forwards every request whole and, for the
/// first statement submission whose body contains `needle`, lets the warehouse run it (and
/// commit) but closes the client's connection instead of returning the answer: the case the
/// warehouse's own `drop` fault (which drops before running) cannot produce.
async fn lossy_proxy(upstream: std::net::SocketAddr, needle: &'static str) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
    let addr = listener.local_addr().expect("proxy addr");
    let dropped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let fired = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count = dropped.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let fired = fired.clone();
            let count = count.clone();
            tokio::spawn(async move {
                while let Some(req) = read_request(&mut client).await {
                    let text = String::from_utf8_lossy(&req);
                    let lose = text.starts_with("POST /api/2.0/sql/statements ")
                        && text.contains(needle)
                        && !fired.swap(true, std::sync::atomic::Ordering::SeqCst);
                    let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else { return };
                    if up.write_all(&req).await.is_err() {
                        return;
                    }
                    let mut resp = Vec::new();
                    if up.read_to_end(&mut resp).await.is_err() {
                        return;
                    }
                    if lose {
                        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        return; // the statement ran; its answer is lost with the connection
                    }
                    if client.write_all(&resp).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, dropped)
}

/// One HTTP/1.1 request from `s` (content-length or chunked body), rewritten to
/// `Connection: close` so the upstream answer ends at EOF.
async fn read_request(s: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let lower = head.to_ascii_lowercase();
    let len = lower.lines().find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok()));
    let chunked = lower.contains("transfer-encoding: chunked");
    let body_done = |b: &[u8]| match (len, chunked) {
        (Some(n), _) => b.len() >= n,
        (None, true) => b.ends_with(b"0\r\n\r\n"),
        _ => true,
    };
    let mut body = buf[head_end..].to_vec();
    while !body_done(&body) {
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    let mut out: Vec<String> = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(str::to_string)
        .collect();
    out.push("Connection: close".into());
    let mut req = (out.join("\r\n") + "\r\n\r\n").into_bytes();
    req.extend_from_slice(&body);
    Some(req)
}

/// Answers lost AFTER the commit: each write kind's first batch statement commits but its answer
/// never arrives. The idempotent re-send must neither duplicate nor lose a row, and the count
/// must be the batch's, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_lost_after_commit_are_counted_once() {
    let _ = host();
    println!();
    println!("| answer lost after commit | answers lost | outcome | count | rows lost | rows duplicated |");
    println!("|---|---:|---|---:|---:|---:|");
    let cases: [(Op, &'static str); 7] = [
        (Op::Write, "INSERT INTO"),
        (Op::Merge, "UPDATE SET"),
        (Op::Delete, "THEN DELETE"),
        (Op::WriteNoKey, "INSERT INTO"),
        (Op::Staged, "COPY INTO"),
        // More than batch-rows (10) records: one MERGE over the staged files (the needle is in
        // no parameter-path statement, nor in a staged delete's match count).
        (Op::StagedMerge, "'FAILFAST')) AS s ON"),
        (Op::StagedDelete, "'FAILFAST')) AS s ON"),
    ];
    let mut bad = Vec::new();
    for (op, needle) in cases {
        let s = Scenario { fault: Fault::Drop, op, endpoint: Endpoint::Any, times: 0, expect_ok: op != Op::WriteNoKey, max_attempts: 5 };
        let dir = TempDir::new("lost");
        let data = dir.path().join("data");
        let w = start(&data, vec![]).await;
        let http_path = format!("/sql/1.0/warehouses/{}", w.warehouse_id);
        {
            let mut owned = host().connect(&config(&w.url, &http_path, &s)).await.expect("seed connect");
            let mut c = owned.conn();
            c.execute("CREATE TABLE t (id BIGINT, name STRING)", &[]).await.expect("create");
            c.execute("CREATE VOLUME stage", &[]).await.expect("volume");
            c.write_records(&rows(1..=SEED, "n"), "t").await.expect("seed");
        }
        let (proxy, dropped) = lossy_proxy(w.addr, needle).await;
        let mut owned = host().connect(&config(&format!("http://{proxy}"), &http_path, &s)).await.expect("connect via proxy");
        let mut expected = seed_rows();
        let mut c = owned.conn();
        let result = match op {
            Op::Write | Op::Staged => {
                (101..=130).for_each(|i| drop(expected.insert(i, format!("w{i}"))));
                c.write_records(&rows(101..=130, "w"), "t").await
            }
            Op::WriteNoKey => {
                let recs: Vec<Row> = (101..=110).map(|i: i64| Row::new().with("name", format!("w{i}"))).collect();
                c.write_records(&recs, "t").await
            }
            Op::Merge | Op::StagedMerge => {
                (1..=20).for_each(|i| drop(expected.insert(i, format!("u{i}"))));
                c.update_records(&rows(1..=20, "u"), "t", &["id".to_string()]).await
            }
            Op::StagedDelete => {
                (21..=35).for_each(|i| drop(expected.remove(&i)));
                c.delete_records(&(21..=35).map(Value::BigInt).collect::<Vec<_>>(), "t", Some("id")).await
            }
            Op::Delete | Op::Read => {
                (21..=30).for_each(|i| drop(expected.remove(&i)));
                c.delete_records(&(21..=30).map(Value::BigInt).collect::<Vec<_>>(), "t", Some("id")).await
            }
        };
        drop(c);
        drop(owned);
        let got = {
            let mut owned = host().connect(&config(&w.url, &http_path, &s)).await.expect("clean connect");
            let r = owned.conn().read_records("SELECT id, name FROM t", &[]).await.expect("read back");
            r
        };
        stop(w).await;
        let mut table: BTreeMap<Option<i64>, Vec<String>> = BTreeMap::new();
        for r in &got {
            let id = match r.get("id") {
                Some(Value::BigInt(i)) => Some(*i),
                _ => None,
            };
            let Some(Value::Text(n)) = r.get("name") else { panic!("{r:?}") };
            table.entry(id).or_default().push(n.clone());
        }
        let (mut lost, mut dup) = (0u64, 0u64);
        for (id, name) in &expected {
            match table.get(&Some(*id)) {
                Some(v) if v.contains(name) => dup += v.len() as u64 - 1,
                _ => lost += 1,
            }
        }
        for id in table.keys().flatten() {
            if !expected.contains_key(id) {
                dup += 1;
            }
        }
        let keyless = table.get(&None).map_or(0, Vec::len) as u64;
        let outcome = match &result {
            Ok(n) => format!("ok ({n})"),
            Err(e) => format!("{} (committed-rows {:?})", e.kind().as_str(), e.info().committed_rows),
        };
        if op == Op::WriteNoKey {
            // Not re-sent: reported unknown, and the batch is in once (it did commit) — never twice.
            let e = result.as_ref().expect_err("keyless insert with a lost answer must not succeed");
            assert!(e.text().contains("outcome is unknown"), "{e:?}");
            assert_eq!(e.info().committed_rows, Some(0));
            dup += keyless.saturating_sub(10);
        }
        let want = match op {
            Op::Write | Op::Staged => Some(30),
            Op::Merge | Op::StagedMerge => Some(20),
            Op::Delete | Op::Read => Some(10),
            Op::StagedDelete => Some(15),
            Op::WriteNoKey => None,
        };
        let n = dropped.load(std::sync::atomic::Ordering::SeqCst);
        println!("| {:?} | {n} | {outcome} | {} | {lost} | {dup} |", op, result.as_ref().map(|n| n.to_string()).unwrap_or("-".into()));
        if n != 1 || lost + dup > 0 || result.as_ref().ok().copied() != want {
            bad.push(format!("{op:?}: dropped {n}, {outcome}, lost {lost}, dup {dup}"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
