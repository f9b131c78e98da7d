//! End-to-end tests: the real `.wasm` in the wasmtime host (`connector_host`) against the local
//! warehouse (`warehouse::spawn`) on loopback, one warehouse (own temp data dir) per test.

use std::time::{Duration, Instant};

use connector_host::{
    AllowList, ConnectConfig, Credential, Date, Decimal, ErrorKind, Interval, Limits, Origin, Param, Row, Secret,
    TenantPolicy, Value, parse_timestamp,
};
use openmatch_e2e::{
    ADMIN_TOKEN, Env, NOGRANT_TOKEN, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, READER_TOKEN, TempDir, cli_binary, timed,
};

fn dec(digits: &str, p: u8, s: u8) -> Value {
    Value::Decimal(Decimal { digits: digits.into(), precision: p, scale: s })
}

fn ts(text: &str) -> i64 {
    parse_timestamp(text).unwrap_or_else(|| panic!("bad timestamp {text}"))
}

fn customers(n: i64) -> Vec<Row> {
    (1..=n)
        .map(|i| {
            Row::new()
                .with("id", i)
                .with("name", format!("customer {i}"))
                .with("region", if i % 2 == 0 { "WEST" } else { "EAST" })
                .with("status", "active")
                .with("balance", dec(&format!("{i}.50"), 12, 2))
        })
        .collect()
}

const CUSTOMERS_DDL: &str =
    "CREATE TABLE customers (id BIGINT, name STRING, region STRING, status STRING, balance DECIMAL(12,2))";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_write_and_read_with_parameters() {
    let env = Env::start().await;
    let t0 = Instant::now();
    let mut fresh = env.tenant().await;
    let instantiate = t0.elapsed();
    fresh.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    let connect = t0.elapsed();
    eprintln!("[e2e] instantiate {instantiate:?}; instantiate + connect {connect:?}");
    assert!(connect < Duration::from_secs(5));
    drop(fresh);

    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    conn.execute(CUSTOMERS_DDL, &[]).await.expect("create");
    let n = conn.write_records(&customers(6), "customers").await.expect("write");
    assert_eq!(n, 6);

    let rows = conn
        .read_records(
            "SELECT id, name, balance FROM customers WHERE region = %(region)s AND status = %(status)s ORDER BY id",
            &[Param::new("region", "WEST"), Param::new("status", "active")],
        )
        .await
        .expect("read");
    let ids: Vec<_> = rows.iter().map(|r| r.get("id").cloned()).collect();
    assert_eq!(ids, vec![Some(Value::BigInt(2)), Some(Value::BigInt(4)), Some(Value::BigInt(6))]);
    assert_eq!(rows[0].get("name"), Some(&Value::Text("customer 2".into())));
    assert_eq!(rows[0].get("balance"), Some(&dec("2.50", 12, 2)));
    // Keys come in column order.
    assert_eq!(rows[0].iter().map(|(n, _)| n).collect::<Vec<_>>(), vec!["id", "name", "balance"]);

    // A literal %% and a marker inside quotes are left alone.
    let rows = conn
        .read_records("SELECT '%(x)s' AS m, 10 %% 3 AS r, %(n)s AS n", &[Param::new("n", 7i64)])
        .await
        .expect("markers");
    assert_eq!(rows[0].get("m"), Some(&Value::Text("%(x)s".into())));
    assert_eq!(rows[0].get("n"), Some(&Value::BigInt(7)));

    let last = conn.last_execution().await.expect("last").expect("some execution");
    assert!(!last.statement_id.is_empty());
    assert_eq!(last.row_count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_type_and_null_round_trips_exactly() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    conn.execute(
        "CREATE TABLE all_types (id BIGINT, b BOOLEAN, ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, \
         d DOUBLE, dec DECIMAL(38,10), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, tsn TIMESTAMP_NTZ)",
        &[],
    )
    .await
    .expect("create");

    let full = |id: i64, sign: i64| {
        Row::new()
            .with("id", id)
            .with("b", sign > 0)
            .with("ti", if sign > 0 { i8::MAX } else { i8::MIN })
            .with("si", if sign > 0 { i16::MAX } else { i16::MIN })
            .with("i", if sign > 0 { i32::MAX } else { i32::MIN })
            .with("bi", if sign > 0 { i64::MAX } else { i64::MIN })
            .with("f", 1.5f32 * sign as f32)
            .with("d", 0.1f64 * sign as f64)
            .with(
                "dec",
                dec(if sign > 0 { "12345.0123456789" } else { "-0.0000000001" }, 38, 10),
            )
            .with("s", if sign > 0 { "plain" } else { "quotes ' \" ` ; -- /* */ ünïcødé 🦀 \n tab\t" })
            .with("bin", if sign > 0 { vec![0u8, 1, 2, 254, 255] } else { Vec::new() })
            .with("dt", Date { year: if sign > 0 { 2024 } else { 1900 }, month: 2, day: 29 - (sign < 0) as u8 })
            .with("ts", Value::Timestamp(ts(if sign > 0 { "2024-05-06T07:08:09.123456Z" } else { "1970-01-01T00:00:00Z" })))
            .with("tsn", Value::TimestampNtz(ts(if sign > 0 { "2024-05-06T07:08:09.5Z" } else { "1999-12-31T23:59:59Z" })))
    };
    let specials = Row::new()
        .with("id", 3i64)
        .with("f", f32::INFINITY)
        .with("d", f64::NAN)
        .with("s", "")
        .with("bin", vec![7u8; 300]);
    let nulls: Row = ["id", "b", "ti", "si", "i", "bi", "f", "d", "dec", "s", "bin", "dt", "ts", "tsn"]
        .iter()
        .map(|c| (c.to_string(), if *c == "id" { Value::BigInt(4) } else { Value::Null }))
        .collect();
    let more_specials = Row::new().with("id", 5i64).with("f", f32::NEG_INFINITY).with("d", f64::NEG_INFINITY);
    let written = vec![full(1, 1), full(2, -1), specials, nulls, more_specials];
    for row in &written {
        // One statement per distinct column set.
        let n = conn.write_records(std::slice::from_ref(row), "all_types").await.unwrap_or_else(|e| panic!("write {row:?}: {e}"));
        assert_eq!(n, 1);
    }

    let read = conn.read_records("SELECT * FROM all_types ORDER BY id", &[]).await.expect("read");
    assert_eq!(read.len(), written.len());
    for (want, got) in written.iter().zip(&read) {
        for (name, want_value) in want.iter() {
            let got_value = got.get(name).unwrap_or_else(|| panic!("column {name} missing in {got:?}"));
            assert!(
                want_value.same_as(got_value),
                "row {:?} column {name}: wrote {want_value:?}, read {got_value:?}",
                want.get("id")
            );
        }
        // Columns not written are NULL.
        for (name, v) in got.iter() {
            if want.get(name).is_none() {
                assert_eq!(v, &Value::Null, "unwritten column {name}");
            }
        }
    }

    // The same values as parameters come back unchanged too.
    let params = vec![
        Param::new("b", true),
        Param::new("ti", -7i8),
        Param::new("si", 300i16),
        Param::new("i", -70000i32),
        Param::new("bi", 9_007_199_254_740_993i64),
        Param::new("d", 2.5e-300f64),
        Param::new("dec", dec("-12.50", 10, 2)),
        Param::new("s", "it's"),
        Param::new("dt", Date { year: 2000, month: 1, day: 1 }),
        Param::new("ts", Value::Timestamp(ts("2021-01-01T10:00:00.000001Z"))),
        Param::new("n", Value::Null),
    ];
    let rows = conn
        .read_records(
            "SELECT %(b)s AS b, %(ti)s AS ti, %(si)s AS si, %(i)s AS i, %(bi)s AS bi, %(d)s AS d, %(dec)s AS dec, \
             %(s)s AS s, %(dt)s AS dt, %(ts)s AS ts, %(n)s AS n",
            &params,
        )
        .await
        .expect("params");
    for p in &params {
        let got = rows[0].get(&p.name).unwrap_or_else(|| panic!("{} missing", p.name));
        assert!(p.value.same_as(got), "param {}: sent {:?}, got {got:?}", p.name, p.value);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_with_38_digits_round_trips_exactly() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    conn.execute("CREATE TABLE wide (id BIGINT, v DECIMAL(38,10))", &[]).await.expect("create");
    let values = ["1234567890123456789012345678.0123456789", "-9999999999999999999999999999.9999999999", "0.0000000001"];
    let rows: Vec<Row> = values.iter().enumerate().map(|(i, v)| Row::new().with("id", i as i64).with("v", dec(v, 38, 10))).collect();
    assert_eq!(conn.write_records(&rows, "wide").await.expect("write"), 3);
    // As a parameter the value is exact…
    let p = conn.read_records("SELECT %(v)s AS v", &[Param::new("v", dec(values[0], 38, 10))]).await.expect("param");
    assert_eq!(p[0].get("v"), Some(&dec(values[0], 38, 10)));
    // …and through write-records + read-records too.
    let back = conn.read_records("SELECT v FROM wide ORDER BY id", &[]).await.expect("read");
    let got: Vec<_> = back.iter().map(|r| r.get("v").cloned()).collect();
    let want: Vec<_> = values.iter().map(|v| Some(dec(v, 38, 10))).collect();
    assert_eq!(got, want);
}

/// Exact or refused, through the WIT with no host-side typing: a value the target column would
/// round (scale), overflow (precision) or wrap (integer width) is `invalid-input` naming record
/// and column, and nothing is written. (A real warehouse's PERMISSIVE `from_json` or INSERT cast
/// would otherwise round or null it and report success.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_do_not_fit_their_columns_are_refused_before_anything_is_written() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    conn.execute("CREATE TABLE fit (id INT, amount DECIMAL(10,2))", &[]).await.expect("create");
    let row = |id: Value, amount: Value| Row::new().with("id", id).with("amount", amount);
    let cases = [
        (Value::Int(2), dec("1.234", 4, 3), "more than 2 digits after the point"),
        (Value::Int(2), dec("123456789.5", 10, 1), "does not fit DECIMAL(10,2)"),
        (Value::BigInt(1 << 40), dec("1", 1, 0), "out of INT range"),
        (Value::Int(2), Value::Text("12,5".into()), "is not a number"),
    ];
    for (id, amount, needle) in cases {
        let rows = vec![row(Value::Int(1), dec("1.5", 2, 1)), row(id, amount)];
        let e = conn.write_records(&rows, "fit").await.expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("record 1") && e.to_string().contains(needle), "{e}");
    }
    let n = conn.read_records("SELECT count(*) AS n FROM fit", &[]).await.expect("count");
    assert_eq!(n[0].get("n"), Some(&Value::BigInt(0)));
    // What fits is written exactly, text included (parsed, not cast by the server).
    let rows = vec![row(Value::Int(1), dec("1.5", 2, 1)), row(Value::Text("2".into()), Value::Text("7.25".into()))];
    assert_eq!(conn.write_records(&rows, "fit").await.expect("write"), 2);
    let back = conn.read_records("SELECT id, amount FROM fit ORDER BY id", &[]).await.expect("read");
    assert_eq!(back[1].get("id"), Some(&Value::Int(2)));
    assert_eq!(back[1].get("amount"), Some(&dec("7.25", 10, 2)));
    assert_eq!(back[0].get("amount"), Some(&dec("1.50", 10, 2)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_and_complex_values_decode() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    let rows = conn
        .read_records(
            "SELECT INTERVAL '14' MONTH AS ym, INTERVAL '3' DAY AS d, INTERVAL '90' MINUTE AS m, \
             named_struct('a', 1, 'b', 'x') AS st, map('k', 1) AS mp",
            &[],
        )
        .await
        .expect("read");
    let r = &rows[0];
    assert_eq!(r.get("ym"), Some(&Value::Interval(Interval { months: 14, micros: 0 })));
    assert_eq!(r.get("d"), Some(&Value::Interval(Interval { months: 0, micros: 3 * 86_400 * 1_000_000 })));
    assert_eq!(r.get("m"), Some(&Value::Interval(Interval { months: 0, micros: 90 * 60 * 1_000_000 })));
    match r.get("st") {
        Some(Value::Json(text)) => assert_eq!(
            serde_json::from_str::<serde_json::Value>(text).ok(),
            Some(serde_json::json!({"a": 1, "b": "x"}))
        ),
        other => panic!("struct decoded as {other:?}"),
    }
    match r.get("mp") {
        Some(Value::Json(text)) => {
            assert_eq!(serde_json::from_str::<serde_json::Value>(text).ok(), Some(serde_json::json!({"k": 1})))
        }
        other => panic!("map decoded as {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_streams_in_batches_with_columns() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    let mut stream = conn
        .query("SELECT id, id * %(k)s AS twice FROM range(25) ORDER BY id", &[Param::new("k", 2i64)])
        .await
        .expect("query");
    let cols: Vec<_> = stream.columns().iter().map(|c| (c.name.as_str(), c.type_name.as_str(), c.position)).collect();
    assert_eq!(cols, vec![("id", "LONG", 0), ("twice", "LONG", 1)]);
    assert!(!stream.statement_id().is_empty());
    let mut sizes = Vec::new();
    let mut next = 0i64;
    loop {
        let batch = stream.next_batch(10).await.expect("batch");
        if batch.is_empty() {
            break;
        }
        sizes.push(batch.len());
        for row in batch {
            assert_eq!(row, vec![Value::BigInt(next), Value::BigInt(next * 2)]);
            next += 1;
        }
    }
    assert_eq!(sizes, vec![10, 10, 5]);
    assert!(stream.next_batch(10).await.expect("after end").is_empty());
    stream.close().await.expect("close stream");

    // A stream dropped half-way is released; the connection keeps working.
    {
        let mut s = conn.query("SELECT id FROM range(1000)", &[]).await.expect("query");
        assert_eq!(s.next_rows(3).await.expect("rows").len(), 3);
    }
    let rows = conn.read_records("SELECT CAST(1 AS INT) AS one", &[]).await.expect("after drop");
    assert_eq!(rows[0].get("one"), Some(&Value::Int(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_and_delete_counts_come_from_the_server() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    conn.execute(CUSTOMERS_DDL, &[]).await.expect("create");
    assert_eq!(conn.write_records(&customers(5), "customers").await.expect("write"), 5);

    let updates = vec![
        Row::new().with("id", 2i64).with("status", "inactive").with("balance", dec("0.00", 12, 2)),
        Row::new().with("id", 4i64).with("status", "inactive").with("balance", dec("-1.25", 12, 2)),
        Row::new().with("id", 99i64).with("status", "inactive").with("balance", dec("1.00", 12, 2)),
    ];
    assert_eq!(conn.update_records(&updates, "customers", &[]).await.expect("update"), 2);
    // Explicit key column, another column set.
    let by_name = vec![Row::new().with("name", "customer 5").with("region", "NORTH")];
    assert_eq!(conn.update_records(&by_name, "customers", &["name".to_string()]).await.expect("update by name"), 1);

    let deleted = conn
        .delete_records(&[Value::BigInt(1), Value::BigInt(2), Value::BigInt(99)], "customers", None)
        .await
        .expect("delete");
    assert_eq!(deleted, 2);
    let deleted = conn
        .delete_records(&[Value::Text("NORTH".into())], "main.default.customers", Some("region"))
        .await
        .expect("delete by region");
    assert_eq!(deleted, 1);

    let rows = conn.read_records("SELECT id, status, balance FROM customers ORDER BY id", &[]).await.expect("read");
    let got: Vec<(Value, Value, Value)> = rows
        .iter()
        .map(|r| (r.get("id").cloned().unwrap(), r.get("status").cloned().unwrap(), r.get("balance").cloned().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Value::BigInt(3), Value::Text("active".into()), dec("3.50", 12, 2)),
            (Value::BigInt(4), Value::Text("inactive".into()), dec("-1.25", 12, 2)),
        ]
    );

    let e = conn.execute("INSERT INTO customers (id, name) VALUES (10, 'x'), (11, 'y')", &[]).await.expect("insert");
    assert_eq!(e.rows_affected, 2);
    assert!(!e.statement_id.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_optimize_vacuum_history_and_cancel() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut conn = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");
    conn.execute(CUSTOMERS_DDL, &[]).await.expect("create");
    for chunk in customers(6).chunks(2) {
        conn.write_records(chunk, "customers").await.expect("write");
    }
    let optimized = conn.optimize("customers", &["region".to_string()]).await.expect("optimize");
    assert!(!optimized.is_empty(), "OPTIMIZE returns its metrics row");
    let vacuumed = conn.vacuum("customers", Some(168)).await.expect("vacuum");
    let _ = vacuumed;
    let below = conn.vacuum("customers", Some(1)).await.expect_err("retention check");
    assert_ne!(below.kind(), ErrorKind::Trap, "{below}");

    let history = conn.history("customers", None).await.expect("history");
    let ops: Vec<&str> = history.iter().map(|h| h.operation.as_str()).collect();
    assert!(ops.contains(&"OPTIMIZE"), "{ops:?}");
    assert_eq!(ops.iter().filter(|o| **o == "WRITE").count(), 3, "{ops:?}");
    assert_eq!(*ops.last().unwrap(), "CREATE TABLE", "{ops:?}");
    let versions: Vec<i64> = history.iter().map(|h| h.version).collect();
    assert!(versions.windows(2).all(|w| w[0] > w[1]), "newest first: {versions:?}");
    assert!(history.iter().all(|h| h.timestamp > ts("2020-01-01T00:00:00Z")));
    let write = history.iter().find(|h| h.operation == "WRITE").unwrap();
    assert!(write.metrics().is_object(), "{}", write.operation_metrics);

    let limited = conn.history("customers", Some(2)).await.expect("history limit");
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[0].version, history[0].version);

    // Cancel: a finished statement can be canceled without error (the API is best-effort).
    let last = conn.last_execution().await.expect("last").expect("some");
    conn.cancel(&last.statement_id).await.expect("cancel finished statement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_kinds_are_typed() {
    let env = Env::start().await;

    // Bad token → authentication (at open).
    let mut t = env.tenant().await;
    let e = t.connect(&env.config("dapi-wrong")).await.map(|_| ()).expect_err("bad token");
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(!e.to_string().contains("dapi-wrong"), "token leaked: {e}");

    // Setup as admin.
    let mut admin_t = env.tenant().await;
    let mut admin = admin_t.connect(&env.config(ADMIN_TOKEN)).await.expect("admin");
    admin.execute(CUSTOMERS_DDL, &[]).await.expect("create");
    admin.write_records(&customers(2), "customers").await.expect("write");

    // Bad SQL → syntax with SQLSTATE 42601.
    let e = admin.read_records("SELEC * FROM customers", &[]).await.expect_err("bad sql");
    assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
    assert_eq!(e.sql_state(), Some("42601"), "{e}");
    assert!(e.info().statement_id.is_some() || e.info().http_status.is_some(), "{e:?}");

    // Unknown table → not-found.
    let e = admin.read_records("SELECT * FROM no_such_table", &[]).await.expect_err("unknown table");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.sql_state(), Some("42P01"), "{e}");

    // Unknown column → not-found (42703).
    let e = admin.read_records("SELECT no_such_column FROM customers", &[]).await.expect_err("unknown column");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");

    // Bad identifier → invalid-input before anything is sent.
    let e = admin.write_records(&customers(1), "bad`name; DROP TABLE x").await.expect_err("bad target");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    // A principal without a grant → permission.
    let mut t = env.tenant().await;
    let mut nobody = t.connect(&env.config(NOGRANT_TOKEN)).await.expect("nobody can connect");
    let e = nobody.read_records("SELECT * FROM customers", &[]).await.expect_err("no grant");
    assert_eq!(e.kind(), ErrorKind::Permission, "{e}");
    assert_eq!(e.sql_state(), Some("42501"), "{e}");
    drop(nobody);

    // SELECT-only principal: reads work, writes are denied.
    let mut t = env.tenant().await;
    let mut reader = t.connect(&env.config(READER_TOKEN)).await.expect("reader");
    assert_eq!(reader.read_records("SELECT id FROM customers", &[]).await.expect("reader reads").len(), 2);
    let e = reader.write_records(&customers(1), "customers").await.expect_err("reader writes");
    assert_eq!(e.kind(), ErrorKind::Permission, "{e}");
    drop(reader);

    // A host not on the allow-list → connection (the host denied the request).
    let other = Origin::new(connector_host::Scheme::Http, "127.0.0.1", env.origin().port.wrapping_add(1));
    let policy = TenantPolicy { allow: AllowList::new().allow(other), limits: Limits::default(), label: "deny".into(), ..TenantPolicy::default() };
    let mut t = env.host.tenant(policy).await.expect("tenant");
    let e = t.connect(&env.config(ADMIN_TOKEN)).await.map(|_| ()).expect_err("denied");
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(!t.is_broken(), "a denied request is an error, not a trap");

    // Nothing listening → connection.
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.server_hostname = "http://127.0.0.1:9".into();
    cfg.max_attempts = Some(1);
    let mut t = env.host.tenant(TenantPolicy::for_origin(Origin::of(&cfg).unwrap())).await.expect("tenant");
    let e = t.connect(&cfg).await.map(|_| ()).expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");

    // Plain http to a non-loopback host → invalid-input (https enforced).
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.server_hostname = "http://example.com".into();
    let mut t = env.host.tenant(TenantPolicy::for_origin(Origin::of(&cfg).unwrap())).await.expect("tenant");
    let e = t.connect(&cfg).await.map(|_| ()).expect_err("http");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    // Closed connection → invalid-input.
    admin.close().await.expect("close");
    let e = admin.read_records("SELECT 1", &[]).await.expect_err("closed");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let e = admin.history("customers", None).await.expect_err("closed delta");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_m2m_connects() {
    let env = Env::start().await;
    let mut t = env.tenant().await;
    let cfg = ConnectConfig {
        credential: Credential::OAuthM2m {
            client_id: OAUTH_CLIENT_ID.into(),
            client_secret: Secret::new(OAUTH_CLIENT_SECRET),
            scope: None,
        },
        ..env.config("unused")
    };
    let mut conn = t.connect(&cfg).await.expect("oauth connect");
    let rows = conn.read_records("SELECT CAST(40 + 2 AS INT) AS answer", &[]).await.expect("read");
    assert_eq!(rows[0].get("answer"), Some(&Value::Int(42)));

    let bad = ConnectConfig {
        credential: Credential::OAuthM2m { client_id: OAUTH_CLIENT_ID.into(), client_secret: Secret::new("nope"), scope: None },
        ..env.config("unused")
    };
    let mut t = env.tenant().await;
    let e = t.connect(&bad).await.map(|_| ()).expect_err("bad secret");
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn million_rows_stream_with_bounded_guest_memory() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    // Over 25 MiB of JSON: like the real service, INLINE refuses it, so fetch through
    // EXTERNAL_LINKS (the local warehouse serves the links from its own origin).
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.external_links = true;
    let mut conn = tenant.connect(&cfg).await.expect("connect");
    let started = Instant::now();
    let mut stream = conn
        .query("SELECT id, id % 7 AS bucket, concat('row-', CAST(id AS STRING)) AS label FROM range(1000000)", &[])
        .await
        .expect("query");
    let mut count = 0u64;
    let mut sum = 0i128;
    let mut peak_seen = 0usize;
    loop {
        let batch = stream.next_batch(10_000).await.expect("batch");
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            match row.as_slice() {
                [Value::BigInt(id), Value::BigInt(bucket), Value::Text(label)] => {
                    assert_eq!(*bucket, id % 7);
                    if *id < 3 || *id == 999_999 {
                        assert_eq!(label, &format!("row-{id}"));
                    }
                    sum += i128::from(*id);
                }
                other => panic!("unexpected row {other:?}"),
            }
        }
        count += batch.len() as u64;
        peak_seen = peak_seen.max(stream.tenant().memory_bytes());
    }
    let elapsed = started.elapsed();
    let mem = stream.tenant().memory_usage();
    stream.close().await.expect("close");
    eprintln!(
        "[e2e] 1M-row stream: {count} rows in {elapsed:?} ({:.0} rows/s); guest memory now {:.1} MiB, peak {:.1} MiB",
        count as f64 / elapsed.as_secs_f64(),
        mem.current as f64 / 1048576.0,
        mem.peak as f64 / 1048576.0
    );
    assert_eq!(count, 1_000_000);
    assert_eq!(sum, 999_999 * 1_000_000 / 2);
    assert!(mem.peak < 64 << 20, "guest linear memory peaked at {} bytes", mem.peak);
    assert!(peak_seen <= mem.peak);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_limits_stop_one_tenant_not_the_others() {
    let env = Env::start().await;
    let mut healthy = env.tenant().await;
    let mut good = healthy.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");

    // CPU: a zero CPU budget stops the call at its first check with a clear error; the tenant
    // is then unusable.
    let policy = TenantPolicy {
        allow: AllowList::new().allow(env.origin()),
        limits: Limits { cpu_per_call: Duration::ZERO, ..Limits::default() },
        label: "cpu".into(),
        tls: env.tls.clone(),
        ..TenantPolicy::default()
    };
    match env.host.tenant(policy).await {
        Err(e) => assert_eq!(e.kind(), ErrorKind::CpuLimit, "{e}"),
        Ok(mut t) => {
            let e = t.connect(&env.config(ADMIN_TOKEN)).await.map(|_| ()).expect_err("cpu budget");
            assert_eq!(e.kind(), ErrorKind::CpuLimit, "{e}");
            assert!(t.is_broken());
            let e = t.connect(&env.config(ADMIN_TOKEN)).await.map(|_| ()).expect_err("unusable");
            assert_eq!(e.kind(), ErrorKind::Unusable, "{e}");
        }
    }

    // Memory: a limit below what a large result needs.
    let mut t = env.tenant_with(Limits { memory_bytes: 4 << 20, ..Limits::default() }).await;
    let outcome = async {
        let mut c = t.connect(&env.config(ADMIN_TOKEN)).await?;
        c.read_records("SELECT id, repeat('x', 200) AS pad FROM range(100000)", &[]).await
    }
    .await;
    let e = outcome.expect_err("memory limit");
    assert_eq!(e.kind(), ErrorKind::MemoryLimit, "{e}");
    assert!(e.text().contains("limit"), "{e}");

    // Wall clock: the host's per-call timeout.
    let slow = Env::start_with(|c| {
        c.fault(warehouse::FaultRule::new(warehouse::Endpoint::Warehouses, warehouse::FaultKind::Delay { millis: 3000 }))
    })
    .await;
    let mut t = slow.tenant_with(Limits { call_timeout: Duration::from_millis(300), ..Limits::default() }).await;
    let started = Instant::now();
    let e = t.connect(&slow.config(ADMIN_TOKEN)).await.map(|_| ()).expect_err("timeout");
    assert_eq!(e.kind(), ErrorKind::CallTimeout, "{e}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    // The healthy tenant is unaffected.
    let rows = good.read_records("SELECT CAST(1 AS INT) AS ok", &[]).await.expect("healthy tenant still works");
    assert_eq!(rows[0].get("ok"), Some(&Value::Int(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_write_of_many_rows_counts_exactly() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut cfg = env.config(ADMIN_TOKEN);
    cfg.batch_rows = Some(4_000);
    let mut conn = tenant.connect(&cfg).await.expect("connect");
    conn.execute(CUSTOMERS_DDL, &[]).await.expect("create");
    let rows = customers(10_000);
    let (n, d) = timed("write 10k rows", conn.write_records(&rows, "customers")).await;
    assert_eq!(n.expect("write"), 10_000);
    assert!(d < Duration::from_secs(120));
    let r = conn.read_records("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(id) AS s FROM customers", &[]).await.expect("count");
    assert_eq!(r[0].get("n"), Some(&Value::BigInt(10_000)));
    assert_eq!(r[0].get("d"), Some(&Value::BigInt(10_000)));
    assert_eq!(r[0].get("s"), Some(&Value::BigInt(10_000 * 10_001 / 2)));
    let history = conn.history("customers", None).await.expect("history");
    assert_eq!(history.iter().filter(|h| h.operation == "WRITE").count(), 3, "one commit per batch of 4000");
}

// ---- CLI smoke: the built `connector-host` binary with its embedded warehouse ----

struct Cli {
    bin: std::path::PathBuf,
    data: TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli { bin: cli_binary(), data: TempDir::new("cli") }
    }

    /// `connector-host --local --data <dir> <args>`, with no workspace in the environment.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(&self.bin);
        c.arg("--local")
            .arg("--data")
            .arg(self.data.path())
            .args(args)
            .env_remove("DATABRICKS_HOST")
            .env_remove("DATABRICKS_TOKEN")
            .env_remove("DATABRICKS_HTTP_PATH");
        c
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("run connector-host")
    }

    /// Like [`Cli::run`], with `input` on stdin.
    fn run_with_stdin(&self, args: &[&str], input: &str) -> std::process::Output {
        use std::io::Write as _;
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run connector-host");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("connector-host output")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "connector-host {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
}

#[test]
fn cli_exec_write_query_json_and_errors() {
    let cli = Cli::new();
    cli.ok(&["exec", "DROP TABLE IF EXISTS people"]);
    cli.ok(&["exec", "CREATE TABLE people (id BIGINT, name STRING, score DECIMAL(6,2), born DATE, seen TIMESTAMP)"]);

    let file = cli.data.path().join("people.jsonl");
    std::fs::write(
        &file,
        "{\"id\": 1, \"name\": \"Ada\", \"score\": \"12.50\", \"born\": \"1815-12-10\", \"seen\": \"2024-01-02T03:04:05.123456Z\"}\n\
         {\"id\": 2, \"name\": \"Alan\", \"score\": 7, \"born\": null, \"seen\": null}\n",
    )
    .unwrap();
    let out = cli.ok(&["write", "people", file.to_str().unwrap(), "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), serde_json::json!({"count": 2}));

    let out = cli.ok(&["query", "SELECT * FROM people WHERE id >= %(min)s ORDER BY id", "--param", "min=1", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        json,
        serde_json::json!([
            {"id": 1, "name": "Ada", "score": "12.50", "born": "1815-12-10", "seen": "2024-01-02T03:04:05.123456Z"},
            {"id": 2, "name": "Alan", "score": "7.00", "born": null, "seen": null}
        ])
    );
    // Key order follows the columns.
    assert!(out.find("\"id\"").unwrap() < out.find("\"seen\"").unwrap());

    let out = cli.ok(&["query", "SELECT name FROM people WHERE born = %(b)s", "-p", "b:DATE=1815-12-10"]);
    assert!(out.contains("Ada") && out.contains("(1 row)"), "{out}");

    let upd = cli.data.path().join("upd.jsonl");
    std::fs::write(&upd, "{\"id\": 2, \"score\": \"8.25\"}\n{\"id\": 3, \"score\": \"1\"}\n").unwrap();
    let out = cli.ok(&["update", "people", upd.to_str().unwrap(), "--key", "id", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), serde_json::json!({"count": 1}));
    let out = cli.ok(&["delete", "people", "1", "3", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), serde_json::json!({"count": 1}));
    let out = cli.ok(&["history", "people", "--limit", "1", "--json"]);
    let h: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(h.as_array().map(|a| a.len()), Some(1), "{out}");

    // Errors: non-zero exit, `error: <kind>: <message>` on stderr.
    let out = cli.run(&["query", "SELEC 1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: syntax:"), "{stderr}");
    assert!(stderr.contains("42601"), "{stderr}");
    let out = cli.run(&["query", "SELECT * FROM missing_table", "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: not-found:"));
    assert!(out.stdout.is_empty(), "no partial JSON on error");
}

#[test]
fn cli_streams_records_from_stdin_in_slices_and_refuses_a_misfit_before_sending() {
    let cli = Cli::new();
    cli.ok(&["exec", "CREATE TABLE streamed (id BIGINT, name STRING, score DECIMAL(6,2))"]);
    // Two column sets, interleaved; written in slices of 4 rows.
    let line = |i: i64| {
        if i % 3 == 0 {
            format!("{{\"id\": {i}, \"score\": \"1.5\"}}\n")
        } else {
            format!("{{\"id\": {i}, \"name\": \"n{i}\", \"score\": {i}}}\n")
        }
    };
    let input: String = (1..=25).map(line).collect();
    let out = cli.run_with_stdin(&["write", "streamed", "-", "--batch-rows", "4", "--json"], &input);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!({"count": 25}));
    let sum_id: i64 = (1..=25).sum();
    let named = (1..=25).filter(|i| i % 3 != 0).count();
    let score_cents: i64 = (1..=25).map(|i| if i % 3 == 0 { 150 } else { i * 100 }).sum();
    let want = serde_json::json!([{
        "n": 25, "s": sum_id, "named": named, "score": format!("{}.{:02}", score_cents / 100, score_cents % 100)
    }]);
    let count = "SELECT count(*) AS n, sum(id) AS s, count(name) AS named, sum(score) AS score FROM streamed";
    let got: serde_json::Value = serde_json::from_str(&cli.ok(&["query", count, "--json"])).unwrap();
    assert_eq!(got, want);

    // Record 20 of 25 does not fit DECIMAL(6,2): refused before the first slice is sent.
    let bad: String = (1..=25).map(|i| if i == 20 { "{\"id\": 20, \"score\": \"12345.67\"}\n".into() } else { line(i) }).collect();
    let out = cli.run_with_stdin(&["write", "streamed", "-", "--batch-rows", "4", "--json"], &bad);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid-input") && stderr.contains("record 20"), "{stderr}");
    let got: serde_json::Value = serde_json::from_str(&cli.ok(&["query", count, "--json"])).unwrap();
    assert_eq!(got, want, "nothing of the refused file was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tenants_run_in_parallel_and_stay_isolated() {
    let env = Env::start().await;
    {
        let mut t = env.tenant().await;
        let mut admin = t.connect(&env.config(ADMIN_TOKEN)).await.expect("admin");
        admin.execute(CUSTOMERS_DDL, &[]).await.expect("create");
        admin.write_records(&customers(20), "customers").await.expect("write");
        // The concurrent writes go to their own table, so they cannot race the reads' counts.
        admin.execute(&CUSTOMERS_DDL.replace("customers", "customer_writes"), &[]).await.expect("create");
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..16i64 {
        let host = env.host.clone();
        let cfg = env.config(if i % 2 == 0 { ADMIN_TOKEN } else { READER_TOKEN });
        let trust = TenantPolicy { tls: env.tls.clone(), ..TenantPolicy::default() };
        tasks.push(tokio::spawn(async move {
            // Each task owns its tenant (store + instance); `connect` allows exactly the config's origin.
            let mut owned = host.connect_with(&cfg, trust).await?;
            let mut conn = owned.conn();
            let mut seen = 0;
            for _ in 0..5 {
                let rows = conn
                    .read_records("SELECT id FROM customers WHERE id <= %(max)s ORDER BY id", &[Param::new("max", i + 1)])
                    .await?;
                seen += rows.len();
                assert_eq!(rows.last().and_then(|r| r.get("id").cloned()), Some(Value::BigInt(i + 1)));
            }
            let write = conn.write_records(&customers(1), "customer_writes").await;
            Ok::<_, connector_host::Error>((i, seen, write.map_err(|e| e.kind())))
        }));
    }
    for task in tasks {
        let (i, seen, write) = task.await.expect("task").expect("tenant");
        assert_eq!(seen, 5 * (i as usize + 1));
        if i % 2 == 0 {
            assert_eq!(write, Ok(1), "admin tenant {i} may write");
        } else {
            assert_eq!(write, Err(ErrorKind::Permission), "reader tenant {i} may not write");
        }
    }
    eprintln!("[e2e] 16 tenants x 6 calls: {:?}", started.elapsed());
}

#[test]
fn compiled_component_is_cached_on_disk() {
    // A private copy, so a concurrent rebuild of the guest cannot change the bytes between loads.
    let first = openmatch_e2e::host();
    let dir = TempDir::new("wasm");
    let wasm = dir.path().join("connector.wasm");
    std::fs::copy(&first.load_report().wasm_path, &wasm).expect("copy wasm");
    let a = connector_host::ConnectorHost::load(&wasm).expect("load");
    let started = Instant::now();
    let b = connector_host::ConnectorHost::load(&wasm).expect("load again");
    let elapsed = started.elapsed();
    let r = b.load_report();
    assert!(r.from_cache, "second load should come from {:?}: {:?} / {:?}", r.cache_path, r.cache_problem, a.load_report().cache_problem);
    assert_eq!(r.compile_time, Duration::ZERO);
    assert_eq!(r.cache_path, a.load_report().cache_path);
    let cache = r.cache_path.as_ref().expect("cache path");
    assert!(cache.exists() && cache.extension().is_some_and(|e| e == "cwasm"), "{cache:?}");
    eprintln!(
        "[e2e] cached load: {elapsed:?} (a load before it: {:?}, compile {:?})",
        a.load_report().load_time,
        a.load_report().compile_time
    );
    assert!(elapsed < Duration::from_secs(3), "cached load took {elapsed:?}");
}
