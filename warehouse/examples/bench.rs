//! Throughput of the local warehouse over loopback HTTP (not a timed test):
//! - a 1M-row SELECT in JSON_ARRAY (INLINE, all chunks fetched and parsed by the client);
//! - a 100k-row INSERT through the connector's batched-write construct
//!   (`inline(from_json(:rows, ...))`, batches under the 900 000-byte parameter budget).
//!
//! `cargo run --release -p warehouse --example bench [-- --rows 1000000 --insert-rows 100000]`

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use warehouse::{Config, DEFAULT_TOKEN, DEFAULT_WAREHOUSE_ID};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Client {
    http: reqwest::blocking::Client,
    base: String,
}

impl Client {
    fn run(&self, sql: &str, params: Value, external: bool) -> Value {
        let disposition = if external { "EXTERNAL_LINKS" } else { "INLINE" };
        let body = json!({"statement": sql, "warehouse_id": DEFAULT_WAREHOUSE_ID, "parameters": params, "wait_timeout": "10s", "disposition": disposition, "format": "JSON_ARRAY"});
        let mut r: Value = self
            .http
            .post(format!("{}/api/2.0/sql/statements", self.base))
            .bearer_auth(DEFAULT_TOKEN)
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let id = r["statement_id"].as_str().unwrap().to_string();
        let mut backoff = Duration::from_millis(50);
        while matches!(
            r["status"]["state"].as_str(),
            Some("PENDING") | Some("RUNNING")
        ) {
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(1));
            r = self
                .http
                .get(format!("{}/api/2.0/sql/statements/{id}", self.base))
                .bearer_auth(DEFAULT_TOKEN)
                .send()
                .unwrap()
                .json()
                .unwrap();
        }
        assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
        r
    }

    /// Follows every chunk; returns the number of rows received.
    fn drain(&self, first: &Value) -> usize {
        let mut rows = 0;
        let mut res = first["result"].clone();
        loop {
            rows += res["data_array"].as_array().map(|a| a.len()).unwrap_or(0);
            let Some(link) = res["next_chunk_internal_link"].as_str() else {
                break;
            };
            res = self.chunk(link);
        }
        rows
    }

    /// The result chunk at `internal_link` (a `next_chunk_internal_link`).
    fn chunk(&self, internal_link: &str) -> Value {
        self.http
            .get(format!("{}{internal_link}", self.base))
            .bearer_auth(DEFAULT_TOKEN)
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// Downloads every external link; returns the number of rows received.
    fn drain_links(&self, first: &Value) -> usize {
        let mut rows = 0;
        let mut res = first["result"].clone();
        loop {
            let link = &res["external_links"][0];
            let data: Vec<Value> = self
                .http
                .get(link["external_link"].as_str().unwrap())
                .send()
                .unwrap()
                .json()
                .unwrap();
            rows += data.len();
            let Some(next) = link["next_chunk_internal_link"].as_str() else {
                break;
            };
            res = self.chunk(next);
        }
        rows
    }
}

fn main() -> anyhow::Result<()> {
    let rows = arg("--rows", 1_000_000);
    let insert_rows = arg("--insert-rows", 100_000);
    let dir = std::env::temp_dir().join(format!("wh-bench-{}", std::process::id()));
    let bg = warehouse::spawn_background(Config::new(&dir))?;
    let c = Client {
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()?,
        base: bg.url().to_string(),
    };
    println!(
        "machine: {} logical CPUs; warehouse at {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        bg.url()
    );

    // SELECT 1M rows, INLINE JSON_ARRAY (one BIGINT column: the whole result must stay under the
    // 25 MiB INLINE limit, as on the service)
    let sql = format!("SELECT id FROM range({rows})");
    for round in 0..2 {
        let t0 = Instant::now();
        let r = c.run(&sql, json!([]), false);
        let got = c.drain(&r);
        let dt = t0.elapsed();
        assert_eq!(got, rows);
        println!(
            "select INLINE json_array round {round}: {rows} rows x 1 col in {:.3} s = {:.0} rows/s ({} chunks)",
            dt.as_secs_f64(),
            rows as f64 / dt.as_secs_f64(),
            r["manifest"]["total_chunk_count"]
        );
    }
    // SELECT 1M rows x 4 columns, EXTERNAL_LINKS JSON_ARRAY (links fetched without Authorization)
    let sql = format!(
        "SELECT id, concat('name-', CAST(id AS STRING)) AS name, CAST(id AS DECIMAL(18,2)) / 100 AS amount, CAST(id AS TIMESTAMP) AS ts FROM range({rows})"
    );
    for round in 0..2 {
        let t0 = Instant::now();
        let r = c.run(&sql, json!([]), true);
        let got = c.drain_links(&r);
        let dt = t0.elapsed();
        assert_eq!(got, rows);
        println!(
            "select EXTERNAL_LINKS json_array round {round}: {rows} rows x 4 cols in {:.3} s = {:.0} rows/s ({} chunks, {} bytes)",
            dt.as_secs_f64(),
            rows as f64 / dt.as_secs_f64(),
            r["manifest"]["total_chunk_count"],
            r["manifest"]["total_byte_count"]
        );
    }

    // INSERT through inline(from_json(:rows)) in batches under 900 000 bytes
    c.run(
        "CREATE TABLE IF NOT EXISTS bench_ins (id BIGINT, name STRING, amount DECIMAL(18,2))",
        json!([]),
        false,
    );
    let t0 = Instant::now();
    let mut done = 0;
    let mut statements = 0;
    while done < insert_rows {
        let mut batch = String::from("[");
        let mut n = 0;
        while done + n < insert_rows {
            let i = done + n;
            let row = format!(
                "{{\"c0\":{i},\"c1\":\"name-{i}\",\"c2\":{}.{:02}}}",
                i / 100,
                i % 100
            );
            if batch.len() + row.len() + 2 > 900_000 {
                break;
            }
            if n > 0 {
                batch.push(',');
            }
            batch.push_str(&row);
            n += 1;
        }
        batch.push(']');
        let r = c.run(
            "INSERT INTO `main`.`default`.`bench_ins` (`id`, `name`, `amount`) SELECT c0, c1, c2 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING, c2: DECIMAL(18,2)>>'))) AS s",
            json!([{"name": "rows", "value": batch, "type": "STRING"}]),
            false,
        );
        assert_eq!(r["result"]["data_array"][0][1], json!(n.to_string()));
        done += n;
        statements += 1;
    }
    let dt = t0.elapsed();
    println!(
        "insert inline(from_json): {insert_rows} rows x 3 cols in {statements} statements ({statements} Delta commits) in {:.3} s = {:.0} rows/s",
        dt.as_secs_f64(),
        insert_rows as f64 / dt.as_secs_f64()
    );
    let r = c.run("SELECT count(*) FROM bench_ins", json!([]), false);
    assert_eq!(
        r["result"]["data_array"][0][0],
        json!(insert_rows.to_string())
    );
    drop(bg);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
