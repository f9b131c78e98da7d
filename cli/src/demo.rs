//! `connector-host demo`: OpenMatch's Databricks workflow through the component, step by step
//! with timings. Idempotent: it drops and recreates its own tables.

use std::time::{Duration, Instant};

use chrono::{Datelike, Days, Utc};
use connector_host::{
    ConnectConfig, ConnectorHost, Date, Decimal, Error, ErrorKind, Param, Row, TenantPolicy, Value,
    parse_timestamp,
};

use crate::output;

struct Timings(Vec<(String, Duration, Option<Error>)>);

impl Timings {
    fn record(&mut self, step: &str, started: Instant) {
        let d = started.elapsed();
        println!("   ({} ms)", d.as_millis());
        self.0.push((step.to_string(), d, None));
    }

    /// Record a step's outcome; a failed step is reported and the demo goes on, unless the
    /// failure stopped the instance (trap, limit, timeout).
    fn done(&mut self, step: &str, started: Instant, r: Result<(), Error>) -> Result<(), Error> {
        let d = started.elapsed();
        match r {
            Ok(()) => {
                println!("   ({} ms)", d.as_millis());
                self.0.push((step.to_string(), d, None));
                Ok(())
            }
            Err(e) if e.is_fatal() => Err(e),
            Err(e) => {
                println!("   FAILED after {} ms: {e}", d.as_millis());
                self.0.push((step.to_string(), d, Some(e)));
                Ok(())
            }
        }
    }
}

fn step(n: usize, title: &str) -> Instant {
    println!();
    println!("== {n}. {title}");
    Instant::now()
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

/// Run the demo.
pub async fn run(host: &ConnectorHost, load_time: Duration, policy: TenantPolicy, config: &ConnectConfig) -> Result<(), Error> {
    let report = host.load_report();
    println!(
        "component: {} ({} KiB), {} in {} ms{}",
        report.wasm_path.display(),
        report.wasm_bytes / 1024,
        if report.from_cache { "loaded from the compiled cache" } else { "compiled" },
        load_time.as_millis(),
        if report.from_cache { String::new() } else { format!(" (compile {} ms)", report.compile_time.as_millis()) },
    );
    let mut t = Timings(Vec::new());
    t.0.push(("load component".into(), load_time, None));

    let mut config = config.clone();
    config.catalog = config.catalog.or(Some("main".into()));
    config.schema = config.schema.or(Some("default".into()));
    let catalog = config.catalog.clone().unwrap_or_default();
    let schema = config.schema.clone().unwrap_or_default();

    let s = step(1, &format!("instantiate + connect (catalog {catalog}, schema {schema})"));
    let mut tenant = host.tenant(policy).await?;
    let mut conn = tenant.connect(&config).await?;
    println!("connected to {}", config.server_hostname);
    t.record("instantiate + connect", s);

    let s = step(2, "drop and create tables customers, orders");
    let r: Result<(), Error> = async {
        for sql in [
            "DROP TABLE IF EXISTS customers",
            "DROP TABLE IF EXISTS orders",
            "CREATE TABLE customers (id BIGINT, name STRING, email STRING, region STRING, status STRING, \
             balance DECIMAL(12,2), signup_date DATE, updated_at TIMESTAMP)",
            "CREATE TABLE orders (order_id BIGINT, customer_id BIGINT, amount DECIMAL(12,2), order_date DATE)",
        ] {
            let e = conn.execute(sql, &[]).await?;
            println!("{sql}  [{} ms]", e.elapsed_ms);
        }
        Ok(())
    }
    .await;
    t.done("create tables", s, r)?;

    let s = step(3, "write_records: 8 customers");
    let r: Result<(), Error> = async {
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
        println!("inserted {n} rows (server count)");
        Ok(())
    }
    .await;
    t.done("write customers", s, r)?;

    let s = step(4, "read_records with %(region)s / %(status)s parameters");
    let r: Result<(), Error> = async {
        let sql = "SELECT id, name, email, balance, signup_date, updated_at FROM customers \
                   WHERE region = %(region)s AND status = %(status)s ORDER BY id";
        println!("{sql}\n  region = 'WEST', status = 'active'");
        let rows = conn
            .read_records(sql, &[Param::new("region", "WEST"), Param::new("status", "active")])
            .await?;
        output::print_rows(&rows, None);
        Ok(())
    }
    .await;
    t.done("parameterized read", s, r)?;

    let s = step(5, "update_records via MERGE (key id)");
    let r: Result<(), Error> = async {
        let updates = vec![
            Row::new().with("id", 2i64).with("status", "inactive").with("balance", dec("0.00")),
            Row::new().with("id", 7i64).with("status", "active").with("balance", dec("150.00")),
            Row::new().with("id", 99i64).with("status", "active").with("balance", dec("1.00")),
        ];
        let n = conn.update_records(&updates, "customers", &[]).await?;
        println!("updated {n} rows (3 sent; id 99 has no match)");
        Ok(())
    }
    .await;
    t.done("update via MERGE", s, r)?;

    let s = step(6, "delete_records by ids [4, 8]");
    let r: Result<(), Error> = async {
        let n = conn.delete_records(&[Value::BigInt(4), Value::BigInt(8)], "customers", None).await?;
        println!("deleted {n} rows");
        Ok(())
    }
    .await;
    t.done("delete by ids", s, r)?;

    let s = step(7, "orders joined with customers, last 30 days");
    let r: Result<(), Error> = async {
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
        println!("inserted {n} orders");
        let sql = "SELECT c.name, c.region, COUNT(*) AS orders, SUM(o.amount) AS total \
                   FROM customers c JOIN orders o ON o.customer_id = c.id \
                   WHERE o.order_date >= current_date() - INTERVAL 30 DAYS \
                   GROUP BY c.name, c.region ORDER BY total DESC";
        println!("{sql}");
        let rows = conn.read_records(sql, &[]).await?;
        output::print_rows(&rows, None);
        Ok(())
    }
    .await;
    t.done("orders join (30 days)", s, r)?;

    let s = step(8, "three-level name");
    let r: Result<(), Error> = async {
        let sql = format!(
            "SELECT region, COUNT(*) AS customers, SUM(balance) AS balance FROM {catalog}.{schema}.customers \
             GROUP BY region ORDER BY region"
        );
        println!("{sql}");
        let rows = conn.read_records(&sql, &[]).await?;
        output::print_rows(&rows, None);
        Ok(())
    }
    .await;
    t.done("three-level name query", s, r)?;

    let s = step(9, "OPTIMIZE customers ZORDER BY (region)");
    let r: Result<(), Error> = async {
        let rows = conn.optimize("customers", &["region".to_string()]).await?;
        output::print_rows(&rows, None);
        Ok(())
    }
    .await;
    t.done("optimize zorder", s, r)?;

    let s = step(10, "VACUUM customers RETAIN 168 HOURS");
    let r: Result<(), Error> = async {
        let rows = conn.vacuum("customers", Some(168)).await?;
        output::print_rows(&rows, None);
        Ok(())
    }
    .await;
    t.done("vacuum", s, r)?;

    let s = step(11, "DESCRIBE HISTORY customers");
    let r: Result<(), Error> = async {
        let entries = conn.history("customers", None).await?;
        output::print_history(&entries);
        Ok(())
    }
    .await;
    t.done("history", s, r)?;

    let s = step(12, "a deliberately bad query shows a typed error");
    let bad = "SELEC id FROM customers";
    println!("{bad}");
    match conn.read_records(bad, &[]).await {
        Ok(rows) => {
            return Err(Error::message(
                ErrorKind::Server,
                format!("the bad query unexpectedly succeeded with {} rows", rows.len()),
            ));
        }
        Err(e) => {
            println!("error kind : {}", e.kind());
            println!("sql-state  : {}", e.sql_state().unwrap_or("-"));
            println!("error-code : {}", e.error_code().unwrap_or("-"));
            println!("message    : {}", e.text());
            if e.is_fatal() {
                return Err(e);
            }
        }
    }
    t.record("bad query (typed error)", s);

    let mem = conn.tenant().memory_usage();
    conn.close().await?;
    drop(conn);

    println!();
    println!("== timings");
    let total: Duration = t.0.iter().map(|(_, d, _)| *d).sum();
    for (name, d, failed) in &t.0 {
        let mark = if failed.is_some() { "  FAILED" } else { "" };
        println!("{name:<28} {:>8.1} ms{mark}", d.as_secs_f64() * 1000.0);
    }
    println!("{:<28} {:>8.1} ms", "total", total.as_secs_f64() * 1000.0);
    println!(
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
        )),
    }
}
