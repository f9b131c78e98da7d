//! Staged bulk inserts end to end: the component uploads files to a volume through the Files API
//! and loads them with one `COPY INTO` of the local warehouse — one Delta commit, exact values,
//! nothing left in the volume, and a refused value writes nothing.

use connector_host::{Date, Decimal, ErrorKind, Row, Value};
use openmatch_e2e::{ADMIN_TOKEN, Env};

fn dec(digits: &str, p: u8, s: u8) -> Value {
    Value::Decimal(Decimal { digits: digits.into(), precision: p, scale: s })
}

fn record(i: i64) -> Row {
    record_with(i, dec(&format!("{i}.25"), 12, 2))
}

fn record_with(i: i64, amount: Value) -> Row {
    Row::new()
        .with("id", i)
        .with("name", format!("customer \"{i}\"\n"))
        .with("amount", amount)
        .with("blob", Value::Binary(vec![0, 255, i as u8]))
        .with("day", Value::Date(Date { year: 2024, month: 2, day: 29 }))
        .with("at", Value::Timestamp(1_700_000_000_123_456 + i))
        .with("ok", i % 2 == 0)
}

/// Delta commits of table `t` (DESCRIBE HISTORY rows).
async fn commits(conn: &mut connector_host::Connection<'_>, t: &str) -> usize {
    conn.read_records(&format!("DESCRIBE HISTORY {t}"), &[]).await.expect("history").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_insert_is_staged_and_loaded_with_one_commit() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.batch_rows = Some(100);
    cfg.staging_volume = Some("/Volumes/main/default/stage".into());
    let mut conn = tenant.connect(&cfg).await.expect("connect");
    conn.execute("CREATE VOLUME stage", &[]).await.expect("volume");
    conn.execute(
        "CREATE TABLE s (id BIGINT, name STRING, amount DECIMAL(12,2), blob BINARY, day DATE, at TIMESTAMP, ok BOOLEAN)",
        &[],
    )
    .await
    .expect("create");
    let before = commits(&mut conn, "s").await;
    let rows: Vec<Row> = (0..1000).map(record).collect();
    assert_eq!(conn.write_records(&rows, "s").await.expect("staged write"), 1000);
    let exec = conn.last_execution().await.expect("execution").expect("some");
    assert_eq!(exec.rows_affected, 1000);
    assert_eq!(commits(&mut conn, "s").await, before + 1, "one commit for the whole write");

    let back = conn.read_records("SELECT * FROM s WHERE id IN (0, 7, 999) ORDER BY id", &[]).await.expect("read");
    assert_eq!(back.len(), 3);
    for (row, i) in back.iter().zip([0i64, 7, 999]) {
        let want = record(i);
        for col in ["id", "name", "amount", "blob", "day", "at", "ok"] {
            assert_eq!(row.get(col), want.get(col), "{col} of {i}");
        }
    }
    let sum = conn.read_records("SELECT sum(amount) AS s, count(*) AS n FROM s", &[]).await.expect("sum");
    assert_eq!(sum[0].get("n"), Some(&Value::BigInt(1000)));
    assert_eq!(sum[0].get("s"), Some(&dec("499750.00", 22, 2)));

    // Nothing left in the volume: the staged files and their directory are gone.
    let url = format!("{}/api/2.0/fs/directories/Volumes/main/default/stage/openmatch-staging", env.url);
    let listed: serde_json::Value = tokio::task::spawn_blocking(move || {
        reqwest::blocking::Client::new().get(url).bearer_auth(ADMIN_TOKEN).send().and_then(|r| r.json())
    })
    .await
    .expect("join")
    .expect("list the staging directory");
    let left = listed["contents"].as_array().map_or(0, Vec::len);
    assert_eq!(left, 0, "staged files left: {listed}");

    // A value that does not fit is refused before anything is uploaded or loaded.
    let mut bad: Vec<Row> = (2000..2200).map(record).collect();
    bad[150] = record_with(2150, dec("1.234", 4, 3));
    let e = conn.write_records(&bad, "s").await.expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("record 150, column \"amount\""), "{e}");
    let n = conn.read_records("SELECT count(*) AS n FROM s", &[]).await.expect("count");
    assert_eq!(n[0].get("n"), Some(&Value::BigInt(1000)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_insert_appends_across_calls_and_commits_once() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.staging_volume = Some("/Volumes/main/default/stage".into());
    let mut conn = tenant.connect(&cfg).await.expect("connect");
    conn.execute("CREATE VOLUME stage", &[]).await.expect("volume");
    conn.execute("CREATE TABLE b (id BIGINT, name STRING, amount DECIMAL(12,2))", &[]).await.expect("create");
    let before = commits(&mut conn, "b").await;
    let slice = |r: std::ops::Range<i64>| -> Vec<Row> {
        r.map(|i| Row::new().with("id", i).with("name", format!("n{i}")).with("amount", dec("0.5", 2, 1))).collect()
    };
    {
        let mut bulk = conn.begin_bulk_insert("b").await.expect("begin");
        for k in 0..5 {
            bulk.append(&slice(k * 100..(k + 1) * 100)).await.expect("append");
        }
        assert_eq!(bulk.commit().await.expect("commit"), 500);
    }
    assert_eq!(commits(&mut conn, "b").await, before + 1);
    // Dropped without commit: nothing inserted.
    {
        let mut bulk = conn.begin_bulk_insert("b").await.expect("begin");
        bulk.append(&slice(900..950)).await.expect("append");
    }
    let n = conn.read_records("SELECT count(*) AS n, sum(amount) AS s FROM b", &[]).await.expect("count");
    assert_eq!(n[0].get("n"), Some(&Value::BigInt(500)));
    assert_eq!(n[0].get("s"), Some(&dec("250.00", 22, 2)));
    // Without a staging volume there is no bulk insert.
    let mut plain = tenant_plain(&env).await;
    let mut c = plain.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    let e = c.begin_bulk_insert("b").await.map(|_| ()).expect_err("needs a volume");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

async fn tenant_plain(env: &Env) -> connector_host::Tenant {
    env.tenant().await
}

/// Record `i` as a staged update sets it: every column but the key changed.
fn updated(i: i64) -> Row {
    Row::new()
        .with("id", i)
        .with("name", format!("updated '{i}'"))
        .with("amount", dec(&format!("-{i}.75"), 12, 2))
        .with("blob", Value::Binary(vec![i as u8, 7]))
        .with("day", Value::Date(Date { year: 1999, month: 12, day: 31 }))
        .with("at", Value::Timestamp(-1_000_000 - i))
        .with("ok", i % 2 != 0)
}

/// Files left in the staging directory of `/Volumes/main/default/stage`.
async fn staged_left(env: &Env) -> usize {
    let url = format!("{}/api/2.0/fs/directories/Volumes/main/default/stage/openmatch-staging", env.url);
    let listed: serde_json::Value = tokio::task::spawn_blocking(move || {
        reqwest::blocking::Client::new().get(url).bearer_auth(ADMIN_TOKEN).send().and_then(|r| r.json())
    })
    .await
    .expect("join")
    .expect("list the staging directory");
    listed["contents"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_update_and_a_large_delete_are_one_staged_merge_each() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.batch_rows = Some(100);
    cfg.staging_volume = Some("/Volumes/main/default/stage".into());
    let mut conn = tenant.connect(&cfg).await.expect("connect");
    conn.execute("CREATE VOLUME stage", &[]).await.expect("volume");
    conn.execute(
        "CREATE TABLE u (id BIGINT, name STRING, amount DECIMAL(12,2), blob BINARY, day DATE, at TIMESTAMP, ok BOOLEAN)",
        &[],
    )
    .await
    .expect("create");
    let rows: Vec<Row> = (0..1000).map(record).collect();
    assert_eq!(conn.write_records(&rows, "u").await.expect("insert"), 1000);
    let keys = ["id".to_string()];

    // 700 records, 600 of them (ids 400..999) in the table: one MERGE, counted by the server.
    let before = commits(&mut conn, "u").await;
    let upd: Vec<Row> = (400..1100).map(updated).collect();
    assert_eq!(conn.update_records(&upd, "u", &keys).await.expect("staged update"), 600);
    let exec = conn.last_execution().await.expect("execution").expect("some");
    assert_eq!(exec.rows_affected, 600);
    assert_eq!(commits(&mut conn, "u").await, before + 1, "one commit for the whole update");
    let back =
        conn.read_records("SELECT * FROM u WHERE id IN (399, 400, 777, 999) ORDER BY id", &[]).await.expect("read");
    assert_eq!(back.len(), 4);
    for (row, i) in back.iter().zip([399i64, 400, 777, 999]) {
        let want = if i < 400 { record(i) } else { updated(i) };
        for col in ["id", "name", "amount", "blob", "day", "at", "ok"] {
            assert_eq!(row.get(col), want.get(col), "{col} of {i}");
        }
    }
    let n = conn.read_records("SELECT count(*) AS n FROM u WHERE id >= 1000", &[]).await.expect("count");
    assert_eq!(n[0].get("n"), Some(&Value::BigInt(0)), "an update inserts nothing");
    assert_eq!(staged_left(&env).await, 0, "the update's files are deleted");

    // Two records with one key: refused before anything is uploaded, as on the parameter path.
    let mut twice: Vec<Row> = (0..200).map(updated).collect();
    twice[150] = updated(3);
    let e = conn.update_records(&twice, "u", &keys).await.expect_err("repeated key");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let back = conn.read_records("SELECT name FROM u WHERE id = 3", &[]).await.expect("read");
    assert_eq!(back[0].get("name"), record(3).get("name"));

    // 350 ids (300 present, 50 absent) and 30 repeats: one MERGE deletes the 300.
    let before = commits(&mut conn, "u").await;
    let ids: Vec<Value> = (0..300).chain(5000..5050).chain(0..30).map(Value::BigInt).collect();
    assert_eq!(conn.delete_records(&ids, "u", Some("id")).await.expect("staged delete"), 300);
    let exec = conn.last_execution().await.expect("execution").expect("some");
    assert_eq!(exec.rows_affected, 300);
    assert_eq!(commits(&mut conn, "u").await, before + 1, "one commit for the whole delete");
    let n = conn.read_records("SELECT count(*) AS n, min(id) AS lo FROM u", &[]).await.expect("count");
    assert_eq!(n[0].get("n"), Some(&Value::BigInt(700)));
    assert_eq!(n[0].get("lo"), Some(&Value::BigInt(300)));
    // Deleting them again matches nothing.
    assert_eq!(conn.delete_records(&ids, "u", Some("id")).await.expect("again"), 0);
    assert_eq!(staged_left(&env).await, 0, "the delete's files are deleted");
}
