//! Load test on loopback: 64 concurrent tenants in one host process (one `ConnectorHost`, a
//! store and instance per tenant) against one local warehouse, bounded in time and in request
//! count. Every tenant has its own token whose principal is granted SELECT on one of 8 schemas
//! (and 16 of them ALL on their own log table); each reads its schema's table several times,
//! writes to its log table, and tries a table it was not granted. Checks: every row a tenant sees
//! carries its own schema's tag (no cross-tenant leak), every ungranted read or write is a
//! `permission` error while the granted calls of the same and other tenants succeed, and each log
//! table holds exactly its own tenant's rows. Prints throughput and p50/p99 latency.

use std::time::{Duration, Instant};

use connector_host::{ConnectConfig, Credential, ErrorKind, Param, Row, Secret, Value};
use openmatch_e2e::{ADMIN_TOKEN, TempDir, host};
use warehouse::{Principal, Privilege};

const TENANTS: usize = 64;
const SCHEMAS: usize = 8;
const WRITERS: usize = 16;
const READS: usize = 6;
const ROWS: i64 = 200;

fn token(i: usize) -> String {
    format!("dapi-load-tenant-{i:02}")
}

fn config(url: &str, http_path: &str, token: &str) -> ConnectConfig {
    let mut c = ConnectConfig::new(url, http_path, Credential::AccessToken(Secret::new(token)))
        .with_namespace("main", "default");
    c.timeout_ms = Some(60_000);
    c
}

#[derive(Debug, Default)]
struct TenantReport {
    latencies: Vec<Duration>,
    calls: usize,
    denied: usize,
    rows_seen: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tenants_on_loopback() {
    let host = host();
    let dir = TempDir::new("load");
    let mut cfg = warehouse::Config::new(dir.path().join("data"));
    for i in 0..TENANTS {
        let mut p = Principal::new(format!("tenant{i:02}"))
            .token(token(i))
            .grant(Privilege::Select, format!("main.s{}", i % SCHEMAS));
        if i < WRITERS {
            p = p.grant(Privilege::All, format!("main.s{}.log{i}", i % SCHEMAS));
        }
        cfg = cfg.principal(p);
    }
    let server = warehouse::spawn(cfg).await.expect("warehouse");
    let http_path = format!("/sql/1.0/warehouses/{}", server.warehouse_id);
    let url = server.url.clone();

    // Setup as admin: 8 schemas with a tagged table each, and a log table per writer.
    {
        let mut owned = host.connect(&config(&url, &http_path, ADMIN_TOKEN)).await.expect("admin");
        let mut c = owned.conn();
        for k in 0..SCHEMAS {
            c.execute(&format!("CREATE SCHEMA IF NOT EXISTS main.s{k}"), &[]).await.expect("schema");
            c.execute(&format!("CREATE TABLE main.s{k}.data (id BIGINT, tag STRING)"), &[]).await.expect("table");
            let rows: Vec<Row> = (1..=ROWS).map(|i| Row::new().with("id", i).with("tag", format!("s{k}"))).collect();
            assert_eq!(c.write_records(&rows, &format!("main.s{k}.data")).await.expect("seed"), ROWS as u64);
        }
        for i in 0..WRITERS {
            c.execute(&format!("CREATE TABLE main.s{}.log{i} (id BIGINT, tenant STRING)", i % SCHEMAS), &[])
                .await
                .expect("log table");
        }
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..TENANTS {
        let host = host.clone();
        let cfg = config(&url, &http_path, &token(i));
        tasks.push(tokio::spawn(async move {
            let k = i % SCHEMAS;
            let mut rep = TenantReport::default();
            let t = Instant::now();
            let mut owned = host.connect(&cfg).await.unwrap_or_else(|e| panic!("tenant {i} connect: {e}"));
            rep.latencies.push(t.elapsed());
            rep.calls += 1;
            let mut c = owned.conn();
            for round in 0..READS {
                let n = 10 + (i as i64 * 7 + round as i64 * 13) % (ROWS - 10);
                let t = Instant::now();
                let rows = c
                    .read_records(&format!("SELECT id, tag FROM main.s{k}.data WHERE id <= %(n)s ORDER BY id"), &[
                        Param::new("n", n),
                    ])
                    .await
                    .unwrap_or_else(|e| panic!("tenant {i} read: {e}"));
                rep.latencies.push(t.elapsed());
                rep.calls += 1;
                assert_eq!(rows.len() as i64, n, "tenant {i}");
                for (j, r) in rows.iter().enumerate() {
                    assert_eq!(r.get("id"), Some(&Value::BigInt(j as i64 + 1)), "tenant {i}");
                    assert_eq!(r.get("tag"), Some(&Value::Text(format!("s{k}"))), "tenant {i} saw another schema's row");
                }
                rep.rows_seen += rows.len();
            }
            // A table of another schema: denied, typed.
            let other = (k + 1) % SCHEMAS;
            let t = Instant::now();
            let denied = c.read_records(&format!("SELECT count(*) AS n FROM main.s{other}.data"), &[]).await;
            rep.latencies.push(t.elapsed());
            rep.calls += 1;
            assert_eq!(denied.map(|_| ()).map_err(|e| e.kind()), Err(ErrorKind::Permission), "tenant {i} read s{other}");
            rep.denied += 1;
            if i < WRITERS {
                for b in 0..2i64 {
                    let recs: Vec<Row> =
                        (0..5).map(|j| Row::new().with("id", b * 5 + j).with("tenant", format!("t{i}"))).collect();
                    let t = Instant::now();
                    let n = c
                        .write_records(&recs, &format!("main.s{k}.log{i}"))
                        .await
                        .unwrap_or_else(|e| panic!("tenant {i} write: {e}"));
                    rep.latencies.push(t.elapsed());
                    rep.calls += 1;
                    assert_eq!(n, 5);
                }
                // Another writer's log table: denied.
                let j = (i + 1) % WRITERS;
                let t = Instant::now();
                let w = c
                    .write_records(&[Row::new().with("id", 99i64).with("tenant", format!("t{i}"))], &format!("main.s{}.log{j}", j % SCHEMAS))
                    .await;
                rep.latencies.push(t.elapsed());
                rep.calls += 1;
                assert_eq!(w.map_err(|e| e.kind()), Err(ErrorKind::Permission), "tenant {i} wrote log{j}");
                rep.denied += 1;
            } else {
                // A reader may not write even its own schema's table.
                let t = Instant::now();
                let w = c.write_records(&[Row::new().with("id", 0i64).with("tag", "x")], &format!("main.s{k}.data")).await;
                rep.latencies.push(t.elapsed());
                rep.calls += 1;
                assert_eq!(w.map_err(|e| e.kind()), Err(ErrorKind::Permission), "tenant {i} wrote s{k}.data");
                rep.denied += 1;
            }
            rep
        }));
    }
    let mut latencies = Vec::new();
    let (mut calls, mut denied, mut rows) = (0, 0, 0);
    for t in tasks {
        let rep = t.await.expect("tenant task");
        latencies.extend(rep.latencies);
        calls += rep.calls;
        denied += rep.denied;
        rows += rep.rows_seen;
    }
    let wall = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];

    // Each log table holds exactly its tenant's 10 rows; nothing else was written anywhere.
    let mut owned = host.connect(&config(&url, &http_path, ADMIN_TOKEN)).await.expect("admin");
    let mut c = owned.conn();
    for i in 0..WRITERS {
        let r = c
            .read_records(
                &format!("SELECT count(*) AS n, count(DISTINCT id) AS d, min(tenant) AS lo, max(tenant) AS hi FROM main.s{}.log{i}", i % SCHEMAS),
                &[],
            )
            .await
            .expect("log check");
        assert_eq!(r[0].get("n"), Some(&Value::BigInt(10)), "log{i}");
        assert_eq!(r[0].get("d"), Some(&Value::BigInt(10)), "log{i}");
        assert_eq!(r[0].get("lo"), Some(&Value::Text(format!("t{i}"))));
        assert_eq!(r[0].get("hi"), Some(&Value::Text(format!("t{i}"))));
    }
    for k in 0..SCHEMAS {
        let r = c.read_records(&format!("SELECT count(*) AS n FROM main.s{k}.data"), &[]).await.expect("data check");
        assert_eq!(r[0].get("n"), Some(&Value::BigInt(ROWS)), "s{k}.data");
    }
    println!();
    println!("| tenants | calls | denied (permission) | rows read | wall | throughput | p50 | p99 | max |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {TENANTS} | {calls} | {denied} | {rows} | {:.2} s | {:.1} calls/s | {:.1} ms | {:.1} ms | {:.1} ms |",
        wall.as_secs_f64(),
        calls as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    // Bounded: a fixed number of calls, and well inside the test's time budget.
    assert_eq!(calls, TENANTS * (1 + READS + 1 + 1) + WRITERS * 2);
    assert!(wall < Duration::from_secs(180), "load test took {wall:?}");
}
