//! The native Rust baseline: the same REST calls the component makes (POST the statement,
//! follow `next_chunk_internal_link` / download external links, batched DML with one JSON
//! parameter per statement), written the way a Rust developer would with `reqwest` + `serde`,
//! decoding every cell into a typed value (i64, String, exact decimal text). Not product code.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::data;

#[derive(Deserialize)]
struct StatementResponse {
    statement_id: String,
    status: Status,
    #[serde(default)]
    manifest: Option<Manifest>,
    #[serde(default)]
    result: Option<ResultData>,
}

#[derive(Deserialize)]
struct Status {
    state: String,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Manifest {
    schema: Schema,
}

#[derive(Deserialize)]
struct Schema {
    #[serde(default)]
    columns: Vec<Column>,
}

#[derive(Deserialize, Clone)]
pub struct Column {
    pub type_name: String,
    #[serde(default)]
    pub type_precision: Option<u8>,
    #[serde(default)]
    pub type_scale: Option<u8>,
}

#[derive(Deserialize, Default)]
struct ResultData {
    #[serde(default)]
    data_array: Option<Vec<Vec<Option<String>>>>,
    #[serde(default)]
    external_links: Option<Vec<ExternalLink>>,
    #[serde(default)]
    next_chunk_internal_link: Option<String>,
}

#[derive(Deserialize)]
struct ExternalLink {
    external_link: String,
    #[serde(default)]
    http_headers: Option<std::collections::HashMap<String, String>>,
    #[serde(default)]
    next_chunk_internal_link: Option<String>,
}

/// A typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Long(i64),
    Int(i32),
    Double(f64),
    Bool(bool),
    Text(String),
    Decimal {
        digits: String,
        precision: u8,
        scale: u8,
    },
}

/// Rows and the check value (see `data::expected_checksum`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub rows: u64,
    pub checksum: u64,
}

impl Tally {
    pub fn add_row(&mut self, row: &[Value]) {
        self.rows += 1;
        for v in row {
            let x = match v {
                Value::Long(i) => *i as u64,
                Value::Int(i) => *i as u64,
                Value::Text(s) => s.len() as u64,
                Value::Decimal { digits, .. } => data::cents(digits) as u64,
                _ => 0,
            };
            self.checksum = self.checksum.wrapping_add(x);
        }
    }
}

fn decode(col: &Column, cell: Option<String>) -> Result<Value> {
    let Some(s) = cell else {
        return Ok(Value::Null);
    };
    Ok(match col.type_name.as_str() {
        "LONG" | "BIGINT" => Value::Long(s.parse().with_context(|| format!("bad LONG {s:?}"))?),
        "INT" | "SHORT" | "BYTE" => {
            Value::Int(s.parse().with_context(|| format!("bad INT {s:?}"))?)
        }
        "DOUBLE" | "FLOAT" => {
            Value::Double(s.parse().with_context(|| format!("bad DOUBLE {s:?}"))?)
        }
        "BOOLEAN" => Value::Bool(s == "true"),
        "DECIMAL" => {
            let body = s.strip_prefix('-').unwrap_or(&s);
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                bail!("bad DECIMAL {s:?}");
            }
            Value::Decimal {
                digits: s,
                precision: col.type_precision.unwrap_or(38),
                scale: col.type_scale.unwrap_or(0),
            }
        }
        _ => Value::Text(s),
    })
}

/// `a.b.c` → `` `a`.`b`.`c` `` (bench table names are plain identifiers).
pub fn quote(name: &str) -> String {
    name.split('.')
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(".")
}

/// A batched write of the bench row shape, as wire.md's writes send it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOp {
    /// `INSERT INTO ... SELECT` new rows.
    Insert,
    /// `MERGE ... WHEN MATCHED THEN UPDATE` of the name and amount.
    Update,
    /// `MERGE ... WHEN MATCHED THEN DELETE`.
    Delete,
}

impl WriteOp {
    /// The statement over `target` (quoted) with the batch as `:rows`.
    fn sql(self, target: &str) -> String {
        const FULL: &str = "ARRAY<STRUCT<c0: BIGINT, c1: STRING, c2: DECIMAL(10,2)>>";
        let rows = |schema: &str| {
            format!("(SELECT inline(from_json(:rows, '{schema}', map('mode', 'FAILFAST'))))")
        };
        match self {
            WriteOp::Insert => format!(
                "INSERT INTO {target} (`id`, `name`, `amount`) SELECT c0, c1, c2 FROM {} AS s",
                rows(FULL)
            ),
            WriteOp::Update => format!(
                "MERGE INTO {target} AS t USING {} AS s ON t.`id` = s.c0 WHEN MATCHED THEN UPDATE SET t.`name` = s.c1, t.`amount` = s.c2",
                rows(FULL)
            ),
            WriteOp::Delete => format!(
                "MERGE INTO {target} AS t USING {} AS s ON t.`id` = s.c0 WHEN MATCHED THEN DELETE",
                rows("ARRAY<STRUCT<c0: BIGINT>>")
            ),
        }
    }
}

/// A connection-like client: base URL, token, warehouse id.
pub struct Native {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
    warehouse_id: String,
}

impl Native {
    pub fn new(base: &str, token: &str, warehouse_id: &str) -> Result<Native> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(900))
            .build()?;
        Ok(Native {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.into(),
            warehouse_id: warehouse_id.into(),
        })
    }

    /// `GET /api/2.0/sql/warehouses/{id}`, like the component's `open`.
    pub fn open(&self) -> Result<()> {
        let r = self
            .http
            .get(format!(
                "{}/api/2.0/sql/warehouses/{}",
                self.base, self.warehouse_id
            ))
            .bearer_auth(&self.token)
            .send()?;
        if !r.status().is_success() {
            bail!("warehouse check failed: {}", r.status());
        }
        Ok(())
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, path_or_url: &str, auth: bool) -> Result<T> {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.base, path_or_url)
        };
        let mut req = self.http.get(url);
        if auth {
            req = req.bearer_auth(&self.token);
        }
        let r = req.send()?;
        let status = r.status();
        let bytes = r.bytes()?;
        if !status.is_success() {
            bail!(
                "GET {path_or_url}: {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            );
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    fn submit(
        &self,
        sql: &str,
        params: serde_json::Value,
        external: bool,
    ) -> Result<StatementResponse> {
        let body = serde_json::json!({
            "statement": sql,
            "warehouse_id": self.warehouse_id,
            "parameters": params,
            "disposition": if external { "EXTERNAL_LINKS" } else { "INLINE" },
            "format": "JSON_ARRAY",
            "wait_timeout": "10s",
            "on_wait_timeout": "CONTINUE",
        });
        let r = self
            .http
            .post(format!("{}/api/2.0/sql/statements", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()?;
        let status = r.status();
        let bytes = r.bytes()?;
        if !status.is_success() {
            bail!(
                "POST statement: {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            );
        }
        let mut resp: StatementResponse = serde_json::from_slice(&bytes)?;
        let mut delay = Duration::from_millis(50);
        while resp.status.state == "PENDING" || resp.status.state == "RUNNING" {
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_secs(1));
            resp = self.get_json(
                &format!("/api/2.0/sql/statements/{}", resp.statement_id),
                true,
            )?;
        }
        if resp.status.state != "SUCCEEDED" {
            bail!(
                "statement {}: {} {:?}",
                resp.statement_id,
                resp.status.state,
                resp.status.error
            );
        }
        Ok(resp)
    }

    /// Runs any statement, ignoring its result (the warehouse workloads' setup).
    #[cfg(feature = "local-warehouse")]
    pub fn exec(&self, sql: &str) -> Result<()> {
        self.submit(sql, serde_json::json!([]), false).map(|_| ())
    }

    /// Runs `sql` and streams every row through `each` as typed values, chunk by chunk.
    pub fn query(
        &self,
        sql: &str,
        external: bool,
        mut each: impl FnMut(&[Value]),
    ) -> Result<Vec<Column>> {
        let resp = self.submit(sql, serde_json::json!([]), external)?;
        let cols = resp.manifest.map(|m| m.schema.columns).unwrap_or_default();
        let mut result = resp.result.unwrap_or_default();
        loop {
            let mut next = result.next_chunk_internal_link.take();
            if let Some(rows) = result.data_array.take() {
                for raw in rows {
                    let mut row = Vec::with_capacity(cols.len());
                    for (col, cell) in cols.iter().zip(raw) {
                        row.push(decode(col, cell)?);
                    }
                    each(&row);
                }
            }
            for link in result.external_links.take().unwrap_or_default() {
                let mut req = self.http.get(&link.external_link);
                for (k, v) in link.http_headers.iter().flatten() {
                    req = req.header(k, v);
                }
                let r = req.send()?;
                if !r.status().is_success() {
                    bail!("external link: {}", r.status());
                }
                let rows: Vec<Vec<Option<String>>> = serde_json::from_slice(&r.bytes()?)?;
                for raw in rows {
                    let mut row = Vec::with_capacity(cols.len());
                    for (col, cell) in cols.iter().zip(raw) {
                        row.push(decode(col, cell)?);
                    }
                    each(&row);
                }
                if link.next_chunk_internal_link.is_some() {
                    next = link.next_chunk_internal_link;
                }
            }
            match next {
                Some(link) => result = self.get_json(&link, true)?,
                None => break,
            }
        }
        Ok(cols)
    }

    /// Runs a DML statement with one `:rows` parameter and returns its count row.
    fn dml(&self, sql: &str, rows_json: String) -> Result<Vec<i64>> {
        let params = serde_json::json!([{ "name": "rows", "value": rows_json, "type": "STRING" }]);
        let resp = self.submit(sql, params, false)?;
        let row = resp
            .result
            .and_then(|r| r.data_array)
            .and_then(|mut a| {
                if a.is_empty() {
                    None
                } else {
                    Some(a.swap_remove(0))
                }
            })
            .unwrap_or_default();
        Ok(row
            .into_iter()
            .map(|c| c.and_then(|s| s.parse().ok()).unwrap_or(0))
            .collect())
    }

    /// Runs `op` on rows `ids` (bench row shape) of `target` in wire.md batches; returns (rows
    /// the server counted as inserted, updated or deleted, statements).
    pub fn modify(
        &self,
        op: WriteOp,
        target: &str,
        ids: std::ops::Range<u64>,
        batch_bytes: usize,
    ) -> Result<(u64, u64)> {
        let sql = op.sql(&quote(target));
        let (full, count_col) = match op {
            WriteOp::Insert | WriteOp::Update => (true, 1),
            WriteOp::Delete => (false, 2),
        };
        self.batched(&sql, ids, batch_bytes, full, count_col)
    }

    fn batched(
        &self,
        sql: &str,
        ids: std::ops::Range<u64>,
        batch_bytes: usize,
        full: bool,
        count_col: usize,
    ) -> Result<(u64, u64)> {
        let (mut total, mut statements) = (0u64, 0u64);
        let mut buf = String::from("[");
        let flush = |buf: &mut String, total: &mut u64, statements: &mut u64| -> Result<()> {
            buf.push(']');
            let counts = self.dml(sql, std::mem::replace(buf, String::from("[")))?;
            *total += *counts.get(count_col).or(counts.first()).unwrap_or(&0) as u64;
            *statements += 1;
            Ok(())
        };
        for i in ids {
            let item = if full {
                let (_, name, amount) = data::row_cells(i);
                let name = name.map_or("null".to_string(), |n| format!("\"{n}-v2\""));
                format!(r#"{{"c0":{i},"c1":{name},"c2":{amount}}}"#)
            } else {
                format!(r#"{{"c0":{i}}}"#)
            };
            if buf.len() > 1 && buf.len() + item.len() + 2 > batch_bytes {
                flush(&mut buf, &mut total, &mut statements)?;
            }
            if buf.len() > 1 {
                buf.push(',');
            }
            buf.push_str(&item);
        }
        if buf.len() > 1 {
            flush(&mut buf, &mut total, &mut statements)?;
        }
        Ok((total, statements))
    }

    /// Downloads the raw bytes of `paths` (no decoding): the floor of a read.
    pub fn raw(&self, first_sql: &str, paths: &[String]) -> Result<u64> {
        let body = serde_json::json!({
            "statement": first_sql, "warehouse_id": self.warehouse_id,
            "disposition": "INLINE", "format": "JSON_ARRAY", "wait_timeout": "10s",
        });
        let mut n = self
            .http
            .post(format!("{}/api/2.0/sql/statements", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()?
            .bytes()?
            .len() as u64;
        for p in paths {
            n += self
                .http
                .get(format!("{}{}", self.base, p))
                .bearer_auth(&self.token)
                .send()?
                .bytes()?
                .len() as u64;
        }
        Ok(n)
    }
}
