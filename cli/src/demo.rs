//! `connector-host demo`: OpenMatch's Databricks workflow through the component, step by step
//! with timings. Harmless anywhere: it works in a schema of its own (`openmatch_demo_<random>`)
//! that it creates first and drops (with everything in it) at the end, even after a failure, so
//! no existing table is ever touched.

use std::time::{Duration, Instant};

use chrono::{Datelike, Days, Utc};
use connector_host::{
    ConnectConfig, ConnectorHost, Date, Decimal, Error, ErrorKind, Param, Row, TenantPolicy, Value, parse_timestamp,
    quote_name,
};

use crate::exit::Failure;
use crate::output::{Format, Out, RowWriter};

/// `writeln!` to the demo's output, a closed pipe ending the demo.
macro_rules! say {
    ($out:expr) => { $out.line("")? };
    ($out:expr, $($arg:tt)*) => { $out.line(&format!($($arg)*))? };
}

/// The demo schema's name: `openmatch_demo_` and 12 random hex digits.
pub fn schema_name() -> String {
    format!("openmatch_demo_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

struct Timings(Vec<(String, Duration, Option<Error>)>);

impl Timings {
    fn record(&mut self, out: &mut Out, step: &str, started: Instant) -> Result<(), Failure> {
        let d = started.elapsed();
        say!(out, "   ({} ms)", d.as_millis());
        self.0.push((step.to_string(), d, None));
        Ok(())
    }

    /// Record a step's outcome; a failed step is reported and the demo goes on, unless the
    /// failure stopped the instance (trap, limit, timeout).
    fn done(&mut self, out: &mut Out, step: &str, started: Instant, r: Result<(), Failure>) -> Result<(), Failure> {
        let d = started.elapsed();
        match r {
            Ok(()) => {
                say!(out, "   ({} ms)", d.as_millis());
                self.0.push((step.to_string(), d, None));
                Ok(())
            }
            Err(Failure::Error(e)) if !e.is_fatal() => {
                say!(out, "   FAILED after {} ms: {}", d.as_millis(), crate::output::sanitize(&e.to_string(), crate::output::Keep::Lines));
                self.0.push((step.to_string(), d, Some(e)));
                Ok(())
            }
            Err(f) => Err(f),
        }
    }
}

fn step(out: &mut Out, n: usize, title: &str) -> Result<Instant, Failure> {
    say!(out);
    say!(out, "== {n}. {title}");
    Ok(Instant::now())
}

fn dec(digits: &str) -> Value {
    Value::Decimal(Decimal { digits: digits.to_string(), precision: 12, scale: 2 })
}

fn date(y: i32, m: u8, d: u8) -> Value {
    Value::Date(Date { year: y, month: m, day: d })
}

fn ts(text: &str) -> Value {
    parse_timestamp(text).map_or(Value::Null, Value::Timestamp)
}

fn customer(id: i64, name: &str, region: &str, status: &str, balance: &str, signup: Value, updated: &str) -> Row {
    let email = format!("{}@example.com", name.to_ascii_lowercase().replace(' ', "."));
    Row::new()
        .with("id", id)
        .with("name", name)
        .with("email", email)
        .with("region", region)
        .with("status", status)
        .with("balance", dec(balance))
        .with("signup_date", signup)
        .with("updated_at", ts(updated))
}

/// Run the demo: create its schema, run the steps in it, drop it, print the timings.
pub async fn run(
    host: &ConnectorHost,
    load_time: Duration,
    policy: TenantPolicy,
    config: &ConnectConfig,
    out: &mut Out,
) -> Result<(), Failure> {
    let report = host.load_report();
    say!(
        out,
        "component: {} ({} KiB), {} in {} ms{}",
        report.wasm_path.display(),
        report.wasm_bytes / 1024,
        if report.from_cache { "loaded from the compiled cache" } else { "compiled" },
        load_time.as_millis(),
        if report.from_cache { String::new() } else { format!(" (compile {} ms)", report.compile_time.as_millis()) },
    );
    let mut t = Timings(Vec::new());
    t.0.push(("load component".into(), load_time, None));

    let schema = schema_name();
    let s = step(out, 1, &format!("instantiate + connect, create schema {schema}"))?;
    let mut tenant = host.tenant(policy.clone()).await?;
    let mut setup = tenant.connect(config).await?;
    let catalog = match &config.catalog {
        Some(c) => c.clone(),
        None => current_catalog(&mut setup).await?,
    };
    let qualified = format!("{}.{}", quote_name(&catalog)?, quote_name(&schema)?);
    setup.execute(&format!("CREATE SCHEMA {qualified}"), &[]).await?;
    say!(out, "connected to {}; created schema {catalog}.{schema} (dropped at the end)", config.server_hostname);
    setup.close().await?;
    drop(setup);
    t.record(out, "instantiate + connect", s)?;

    let mut config = config.clone();
    config.catalog = Some(catalog.clone());
    config.schema = Some(schema.clone());
    let r = steps(&mut tenant, &config, &catalog, &schema, out, &mut t).await;
    drop(tenant);

    // Dropped from a fresh instance: the steps' one may have been stopped by a limit.
    let s = Instant::now();
    let dropped: Result<(), Error> = async {
        let mut tenant = host.tenant(policy).await?;
        let mut conn = tenant.connect(&config).await?;
        conn.execute(&format!("DROP SCHEMA IF EXISTS {qualified} CASCADE"), &[]).await?;
        conn.close().await
    }
    .await;
    match &dropped {
        Ok(()) => say!(out, "\n== dropped schema {catalog}.{schema}   ({} ms)", s.elapsed().as_millis()),
        Err(e) => crate::note(&format!("could not drop the demo schema {catalog}.{schema}: {e}; drop it by hand")),
    }
    let mem = r?;
    dropped?;
    summary(out, t, mem)
}

async fn current_catalog(conn: &mut connector_host::Connection<'_>) -> Result<String, Error> {
    let rows = conn.read_records("SELECT current_catalog() AS c", &[]).await?;
    match rows.first().and_then(|r| r.get("c")) {
        Some(Value::Text(c)) if !c.is_empty() => Ok(c.clone()),
        _ => Err(Error::message(ErrorKind::Server, "the warehouse named no current catalog: pass --catalog")),
    }
}

/// Steps 2–12 in the demo schema; the guest memory figures at the end.
async fn steps(
    tenant: &mut connector_host::Tenant,
    config: &ConnectConfig,
    catalog: &str,
    schema: &str,
    out: &mut Out,
    t: &mut Timings,
) -> Result<connector_host::MemoryUsage, Failure> {
    let mut conn = tenant.connect(config).await?;
    let s = step(out, 2, "create tables customers, orders")?;
    let r: Result<(), Failure> = async {
        for sql in [
            "CREATE TABLE customers (id BIGINT, name STRING, email STRING, region STRING, status STRING, \
             balance DECIMAL(12,2), signup_date DATE, updated_at TIMESTAMP)",
            "CREATE TABLE orders (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12,2), order_date DATE)",
        ] {
            let e = conn.execute(sql, &[]).await?;
            say!(out, "{sql}  [{} ms]", e.elapsed_ms);
        }
        Ok(())
    }
    .await;
    t.done(out, "create tables", s, r)?;

    let s = step(out, 3, "write_records: 8 customers")?;
    let r: Result<(), Failure> = async {
        let customers = vec![
            customer(1, "Ada Lovelace", "WEST", "active", "1200.50", date(2023, 1, 15), "2024-05-01T10:00:00Z"),
            customer(2, "Alan Turing", "WEST", "active", "310.00", date(2023, 3, 2), "2024-05-02T11:30:00Z"),
            customer(3, "Grace Hopper", "EAST", "active", "5400.25", date(2022, 11, 20), "2024-05-03T09:15:00.123456Z"),
            customer(4, "Edsger Dijkstra", "EAST", "inactive", "0.00", date(2021, 6, 30), "2024-04-28T08:00:00Z"),
            customer(5, "Barbara Liskov", "WEST", "active", "875.10", date(2024, 2, 29), "2024-05-04T16:45:00Z"),
            customer(6, "Donald Knuth", "NORTH", "active", "42.42", date(2020, 1, 1), "2024-05-05T12:00:00Z"),
            customer(7, "Margaret Hamilton", "SOUTH", "pending", "99.99", date(2024, 4, 1), "2024-05-06T07:30:00Z"),
            customer(8, "Ken Thompson", "SOUTH", "pending", "-15.00", Value::Null, "2024-05-07T18:20:00Z"),
        ];
        let n = conn.write_records(&customers, "customers").await?;
        say!(out, "inserted {n} rows (server count)");
        Ok(())
    }
    .await;
    t.done(out, "write customers", s, r)?;

    let s = step(out, 4, "read_records with %(region)s / %(status)s parameters")?;
    let r: Result<(), Failure> = async {
        let sql = "SELECT id, name, email, balance, signup_date, updated_at FROM customers \
                   WHERE region = %(region)s AND status = %(status)s ORDER BY id";
        say!(out, "{sql}\n  region = 'WEST', status = 'active'");
        let rows = conn
            .read_records(sql, &[Param::new("region", "WEST"), Param::new("status", "active")])
            .await?;
        RowWriter::rows(Format::Table, out, &rows)?;
        Ok(())
    }
    .await;
    t.done(out, "parameterized read", s, r)?;

    let s = step(out, 5, "update_records via MERGE (key id)")?;
    let r: Result<(), Failure> = async {
        let updates = vec![
            Row::new().with("id", 2i64).with("status", "inactive").with("balance", dec("0.00")),
            Row::new().with("id", 7i64).with("status", "active").with("balance", dec("150.00")),
            Row::new().with("id", 99i64).with("status", "active").with("balance", dec("1.00")),
        ];
        let n = conn.update_records(&updates, "customers", &[]).await?;
        say!(out, "updated {n} rows (3 sent; id 99 has no match)");
        Ok(())
    }
    .await;
    t.done(out, "update via MERGE", s, r)?;

    let s = step(out, 6, "delete_records by ids [4, 8]")?;
    let r: Result<(), Failure> = async {
        let n = conn.delete_records(&[Value::BigInt(4), Value::BigInt(8)], "customers", None).await?;
        say!(out, "deleted {n} rows");
        Ok(())
    }
    .await;
    t.done(out, "delete by ids", s, r)?;

    let s = step(out, 7, "orders joined with customers, last 30 days")?;
    let r: Result<(), Failure> = async {
        let today = Utc::now().date_naive();
        let day = |back: u64| {
            let d = today.checked_sub_days(Days::new(back)).unwrap_or(today);
            Value::Date(Date { year: d.year(), month: d.month() as u8, day: d.day() as u8 })
        };
        let orders: Vec<Row> = [
            (101, 1, "250.00", 2),
            (102, 1, "75.50", 12),
            (103, 3, "1200.00", 5),
            (104, 5, "19.99", 29),
            (105, 6, "300.00", 45),
            (106, 2, "80.00", 90),
            (107, 7, "42.00", 1),
        ]
        .into_iter()
        .map(|(id, cust, amount, back)| {
            Row::new().with("order_id", id as i64).with("customer_id", cust as i64).with("amount", dec(amount)).with("order_date", day(back))
        })
        .collect();
        let n = conn.write_records(&orders, "orders").await?;
        say!(out, "inserted {n} orders");
        let sql = "SELECT c.name, c.region, COUNT(*) AS orders, SUM(o.amount) AS total \
                   FROM customers c JOIN orders o ON o.customer_id = c.id \
                   WHERE o.order_date >= current_date() - INTERVAL 30 DAYS \
                   GROUP BY c.name, c.region ORDER BY total DESC";
        say!(out, "{sql}");
        let rows = conn.read_records(sql, &[]).await?;
        RowWriter::rows(Format::Table, out, &rows)?;
        Ok(())
    }
    .await;
    t.done(out, "orders join (30 days)", s, r)?;

    let s = step(out, 8, "three-level name")?;
    let r: Result<(), Failure> = async {
        let sql = format!(
            "SELECT region, COUNT(*) AS customers, SUM(balance) AS balance FROM {}.{}.customers \
             GROUP BY region ORDER BY region",
            quote_name(catalog)?,
            quote_name(schema)?
        );
        say!(out, "{sql}");
        let rows = conn.read_records(&sql, &[]).await?;
        RowWriter::rows(Format::Table, out, &rows)?;
        Ok(())
    }
    .await;
    t.done(out, "three-level name query", s, r)?;

    let s = step(out, 9, "OPTIMIZE customers ZORDER BY (region)")?;
    let r: Result<(), Failure> = async {
        let rows = conn.optimize("customers", &["region".to_string()]).await?;
        RowWriter::rows(Format::Table, out, &rows)?;
        Ok(())
    }
    .await;
    t.done(out, "optimize zorder", s, r)?;

    let s = step(out, 10, "VACUUM customers RETAIN 168 HOURS")?;
    let r: Result<(), Failure> = async {
        let rows = conn.vacuum("customers", Some(168)).await?;
        RowWriter::rows(Format::Table, out, &rows)?;
        Ok(())
    }
    .await;
    t.done(out, "vacuum", s, r)?;

    let s = step(out, 11, "DESCRIBE HISTORY customers")?;
    let r: Result<(), Failure> = async {
        let entries = conn.history("customers", None).await?;
        crate::output::history(Format::Table, out, &entries)?;
        Ok(())
    }
    .await;
    t.done(out, "history", s, r)?;

    let s = step(out, 12, "a deliberately bad query shows a typed error")?;
    let bad = "SELEC id FROM customers";
    say!(out, "{bad}");
    match conn.read_records(bad, &[]).await {
        Ok(rows) => {
            return Err(Error::message(
                ErrorKind::Server,
                format!("the bad query unexpectedly succeeded with {} rows", rows.len()),
            )
            .into());
        }
        Err(e) => {
            say!(out, "error kind : {}", e.kind());
            say!(out, "sql-state  : {}", e.sql_state().unwrap_or("-"));
            say!(out, "error-code : {}", e.error_code().unwrap_or("-"));
            say!(out, "message    : {}", e.text());
            if e.is_fatal() {
                return Err(e.into());
            }
        }
    }
    t.record(out, "bad query (typed error)", s)?;

    let mem = conn.tenant().memory_usage();
    conn.close().await?;
    Ok(mem)
}

/// The timings table; the first failed step, if any, becomes the demo's error.
fn summary(out: &mut Out, t: Timings, mem: connector_host::MemoryUsage) -> Result<(), Failure> {
    say!(out);
    say!(out, "== timings");
    let total: Duration = t.0.iter().map(|(_, d, _)| *d).sum();
    for (name, d, failed) in &t.0 {
        let mark = if failed.is_some() { "  FAILED" } else { "" };
        say!(out, "{name:<28} {:>8.1} ms{mark}", d.as_secs_f64() * 1000.0);
    }
    say!(out, "{:<28} {:>8.1} ms", "total", total.as_secs_f64() * 1000.0);
    say!(out, 
        "guest memory: {:.1} MiB now, {:.1} MiB peak, limit {} MiB",
        mem.current as f64 / 1048576.0,
        mem.peak as f64 / 1048576.0,
        mem.limit >> 20
    );
    let failed: Vec<(String, Error)> = t.0.into_iter().filter_map(|(n, _, e)| e.map(|e| (n, e))).collect();
    match failed.first() {
        None => Ok(()),
        Some((name, first)) => Err(Error::new(
            first.kind(),
            connector_host::ErrorInfo {
                message: format!(
                    "{} of the demo's steps failed (first: {name}: {})",
                    failed.len(),
                    first.text()
                ),
                ..first.info().clone()
            },
        )
        .into()),
    }
}
