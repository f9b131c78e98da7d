//! Column-major writes (`write-columns`, `update-columns`, `bulk-insert.append-columns`, WIT
//! 0.4.1) end to end: the same rows as `write-records` writes, exact values of every type, and
//! records whose fields do not line up refused before anything is sent.

use connector_host::{Date, Decimal, ErrorKind, Interval, RecordColumns, Row, Value};
use openmatch_e2e::{ADMIN_TOKEN, Env};

const DDL: &str = "(id BIGINT, name STRING, amount DECIMAL(12,2), blob BINARY, day DATE, at TIMESTAMP, \
                   ntz TIMESTAMP_NTZ, ok BOOLEAN, small SMALLINT, ratio DOUBLE, tags ARRAY<STRING>)";

fn record(i: i64) -> Row {
    let null_every = |n: i64, v: Value| if i % n == 0 { Value::Null } else { v };
    Row::new()
        .with("id", i)
        .with("name", null_every(5, Value::Text(format!("näme \"{i}\"\n"))))
        .with("amount", Value::Decimal(Decimal { digits: format!("-{i}.05"), precision: 12, scale: 2 }))
        .with("blob", Value::Binary(vec![0, 255, i as u8]))
        .with("day", null_every(7, Value::Date(Date { year: 1815, month: 12, day: 10 })))
        .with("at", Value::Timestamp(1_700_000_000_123_456 + i))
        .with("ntz", Value::TimestampNtz(-1_000_001 * i))
        .with("ok", i % 2 == 0)
        .with("small", Value::SmallInt(-(i as i16)))
        .with("ratio", 0.1 * i as f64)
        .with("tags", Value::Json(format!("[\"t{i}\"]")))
}

async fn table(conn: &mut connector_host::Connection<'_>, t: &str) -> Vec<Row> {
    conn.read_records(&format!("SELECT * FROM {t} ORDER BY id"), &[]).await.expect("read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_writes_store_what_row_writes_store() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.batch_rows = Some(40);
    let mut conn = tenant.connect(&cfg).await.expect("connect");
    conn.execute(&format!("CREATE TABLE by_rows {DDL}"), &[]).await.expect("create");
    conn.execute(&format!("CREATE TABLE by_columns {DDL}"), &[]).await.expect("create");

    let records: Vec<Row> = (1..=100).map(record).collect();
    assert_eq!(conn.write_records(&records, "by_rows").await.expect("rows"), 100);
    let columns = RecordColumns::from_records(&records).expect("columns");
    assert_eq!(conn.write_columns(&columns, "by_columns").await.expect("columns"), 100);
    let (a, b) = (table(&mut conn, "by_rows").await, table(&mut conn, "by_columns").await);
    assert_eq!(a.len(), 100);
    assert_eq!(a, b, "the same rows through both forms");
    assert_eq!(b[6].get("amount"), Some(&Value::Decimal(Decimal { digits: "-7.05".into(), precision: 12, scale: 2 })));
    assert_eq!(b[6].get("day"), Some(&Value::Null));
    assert_eq!(b[6].get("blob"), Some(&Value::Binary(vec![0, 255, 7])));

    // Updates by key, column-major, with the keys' column order differing from the table's.
    let changes: Vec<Row> = (1..=3)
        .map(|i| Row::new().with("name", format!("new {i}")).with("id", i * 10))
        .chain([Row::new().with("name", "nobody").with("id", 1000i64)])
        .collect();
    let changes = RecordColumns::from_records(&changes).expect("columns");
    assert_eq!(conn.update_columns(&changes, "by_columns", &["id".to_string()]).await.expect("update"), 3);
    let r = conn.read_records("SELECT name FROM by_columns WHERE id = 20", &[]).await.expect("read");
    assert_eq!(r[0].get("name"), Some(&Value::Text("new 2".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misaligned_or_unwritable_columns_are_refused_and_write_nothing() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    conn.execute(&format!("CREATE TABLE c {DDL}"), &[]).await.expect("create");

    // A value that does not fit its column: refused by the guest, as for write-records.
    let mut misfit = record(2);
    misfit.0.retain(|(name, _)| name != "amount");
    misfit.push("amount", Value::Decimal(Decimal::parse("1.234").expect("decimal")));
    let bad = vec![record(1), misfit];
    let bad = RecordColumns::from_records(&bad).expect("columns");
    let e = conn.write_columns(&bad, "c").await.expect_err("misfit");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    // Intervals cannot be written, whichever form carries them.
    let interval = vec![Row::new().with("id", 1i64).with("name", Value::Interval(Interval { months: 1, micros: 0 }))];
    let e = conn.write_columns(&RecordColumns::from_records(&interval).expect("columns"), "c").await.expect_err("interval");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(table(&mut conn, "c").await.is_empty(), "nothing was written");
}
