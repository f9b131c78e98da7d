//! The replayed result set and its pre-built Statement Execution API response bytes.
//!
//! N rows × 3 columns: `id` LONG (BIGINT), `name` STRING (null every 1000th row),
//! `amount` DECIMAL(10,2). Every byte the replay server sends for a read is built here, before
//! any timing starts, so a benchmark run measures the client only.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use openmatch_types::time;

/// Warehouse id the replay server answers (last segment of the http path).
pub const WAREHOUSE_ID: &str = "b0bbe11ab0bbe11a";
/// The bearer token the clients send (the replay server does not check it).
pub const TOKEN: &str = "dapi-bench-token";

/// SQL that reads `rows` rows from the replay server (the server keys its data on `rows_<n>`).
pub fn select_sql(rows: u64) -> String {
    format!("SELECT id, name, amount FROM bench.replay.rows_{rows}")
}

/// The row count named by a replay SELECT (`rows_<n>`), if the text is one.
pub fn rows_in_sql(sql: &str) -> Option<u64> {
    let at = sql.find("rows_")? + 5;
    let digits: String = sql[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The cells of row `i` exactly as JSON_ARRAY prints them.
pub fn row_cells(i: u64) -> (String, Option<String>, String) {
    let id = i.to_string();
    let name = if i % 1000 == 999 {
        None
    } else {
        Some(format!("user_{i:07}"))
    };
    let whole = (i.wrapping_mul(7919)) % 1_000_000;
    let sign = if i % 7 == 3 { "-" } else { "" };
    let amount = format!("{sign}{whole}.{:02}", i % 100);
    (id, name, amount)
}

/// The check value every client must reproduce from typed values:
/// Σ id + Σ (amount in cents) + Σ len(name) over all rows, wrapping.
pub fn expected_checksum(rows: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..rows {
        let (_, name, amount) = row_cells(i);
        sum = sum.wrapping_add(i);
        sum = sum.wrapping_add(cents(&amount) as u64);
        sum = sum.wrapping_add(name.map_or(0, |n| n.len() as u64));
    }
    sum
}

/// Exact decimal text with scale 2 → cents (the checksum's view of a DECIMAL(10,2)).
pub fn cents(digits: &str) -> i64 {
    let (neg, body) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, "0"));
    let mut frac = frac.to_string();
    while frac.len() < 2 {
        frac.push('0');
    }
    let v = whole.parse::<i64>().unwrap_or(0) * 100 + frac[..2].parse::<i64>().unwrap_or(0);
    if neg { -v } else { v }
}

/// One result set's response bytes, both dispositions.
pub struct Dataset {
    /// Bytes of all data arrays together (what a raw download of the rows costs).
    pub array_bytes: u64,
    /// `POST /statements` answer, INLINE (carries chunk 0).
    pub inline_first: Bytes,
    /// `GET .../result/chunks/{n}` answers, INLINE (`result` objects).
    pub inline_chunks: Vec<Bytes>,
    /// `POST /statements` answer, EXTERNAL_LINKS (link to chunk 0).
    pub ext_first: Bytes,
    /// `GET .../result/chunks/{n}` answers, EXTERNAL_LINKS (`{"external_links": [...]}`).
    pub ext_chunks: Vec<Bytes>,
    /// The external-link download bodies: plain JSON arrays of rows.
    pub ext_bodies: Vec<Bytes>,
}

pub fn inline_statement_id(rows: u64) -> String {
    format!("01f0bench-0000-inline-{rows:012}")
}

pub fn ext_statement_id(rows: u64) -> String {
    format!("01f0bench-0000-extlnk-{rows:012}")
}

/// The `manifest.schema` of the replayed result (both formats).
pub const COLUMNS: &str = r#"{"column_count":3,"columns":[{"name":"id","type_text":"BIGINT","type_name":"LONG","position":0},{"name":"name","type_text":"STRING","type_name":"STRING","position":1},{"name":"amount","type_text":"DECIMAL(10,2)","type_name":"DECIMAL","position":2,"type_precision":10,"type_scale":2}]}"#;

fn data_array(from: u64, to: u64) -> Vec<u8> {
    let mut out = String::with_capacity(((to - from) * 42) as usize + 2);
    out.push('[');
    for i in from..to {
        if i > from {
            out.push(',');
        }
        let (id, name, amount) = row_cells(i);
        match name {
            Some(n) => write!(out, r#"["{id}","{n}","{amount}"]"#).unwrap(),
            None => write!(out, r#"["{id}",null,"{amount}"]"#).unwrap(),
        }
    }
    out.push(']');
    out.into_bytes()
}

/// RFC 3339 UTC with millis, `secs` seconds after the Unix epoch.
fn rfc3339(secs: u64) -> String {
    let whole = time::format_timestamp_with(secs as i64 * 1_000_000, 'T', time::Fraction::Shortest);
    format!("{whole}.000Z")
}

/// The `expiration` of the replay's external links: six hours from now.
pub fn link_expiration() -> String {
    rfc3339(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 6 * 3600,
    )
}

impl Dataset {
    /// Builds every response for `rows` rows in chunks of `chunk_rows`; external links point at
    /// `base` (`http://127.0.0.1:<port>`).
    pub fn build(rows: u64, chunk_rows: u64, base: &str) -> Dataset {
        let chunk_rows = chunk_rows.max(1);
        let n_chunks = rows.div_ceil(chunk_rows).max(1);
        let arrays: Vec<Vec<u8>> = (0..n_chunks)
            .map(|c| data_array(c * chunk_rows, ((c + 1) * chunk_rows).min(rows)))
            .collect();
        let array_bytes: u64 = arrays.iter().map(|a| a.len() as u64).sum();
        let rows_of = |c: u64| ((c + 1) * chunk_rows).min(rows) - c * chunk_rows;
        let expiration = rfc3339(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 6 * 3600,
        );

        // INLINE
        let sid = inline_statement_id(rows);
        let inline_result = |c: u64| -> Vec<u8> {
            let mut head = format!(
                r#"{{"chunk_index":{c},"row_offset":{},"row_count":{}"#,
                c * chunk_rows,
                rows_of(c)
            );
            if c + 1 < n_chunks {
                write!(
                    head,
                    r#","next_chunk_index":{},"next_chunk_internal_link":"/api/2.0/sql/statements/{sid}/result/chunks/{}?row_offset={}""#,
                    c + 1,
                    c + 1,
                    (c + 1) * chunk_rows
                )
                .unwrap();
            }
            head.push_str(r#","data_array":"#);
            let mut out = head.into_bytes();
            out.extend_from_slice(&arrays[c as usize]);
            out.push(b'}');
            out
        };
        let inline_chunk_list: String = (0..n_chunks)
            .map(|c| {
                format!(
                    r#"{{"chunk_index":{c},"row_offset":{},"row_count":{}}}"#,
                    c * chunk_rows,
                    rows_of(c)
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let inline_manifest = format!(
            r#"{{"format":"JSON_ARRAY","schema":{COLUMNS},"total_chunk_count":{n_chunks},"chunks":[{inline_chunk_list}],"total_row_count":{rows},"truncated":false}}"#
        );
        let mut inline_first =
            format!(r#"{{"statement_id":"{sid}","status":{{"state":"SUCCEEDED"}},"manifest":{inline_manifest},"result":"#)
                .into_bytes();
        inline_first.extend_from_slice(&inline_result(0));
        inline_first.push(b'}');
        let inline_chunks = (0..n_chunks)
            .map(|c| Bytes::from(inline_result(c)))
            .collect();

        // EXTERNAL_LINKS
        let sid = ext_statement_id(rows);
        let link = |c: u64| -> String {
            let mut s = format!(
                r#"{{"chunk_index":{c},"row_offset":{},"row_count":{},"byte_count":{}"#,
                c * chunk_rows,
                rows_of(c),
                arrays[c as usize].len()
            );
            if c + 1 < n_chunks {
                write!(
                    s,
                    r#","next_chunk_index":{},"next_chunk_internal_link":"/api/2.0/sql/statements/{sid}/result/chunks/{}""#,
                    c + 1,
                    c + 1
                )
                .unwrap();
            }
            write!(
                s,
                r#","external_link":"{base}/external/{rows}/{c}?X-Amz-Expires=899&X-Amz-Signature=bench","expiration":"{expiration}"}}"#
            )
            .unwrap();
            s
        };
        let ext_chunk_list: String = (0..n_chunks)
            .map(|c| {
                format!(
                    r#"{{"chunk_index":{c},"row_offset":{},"row_count":{},"byte_count":{}}}"#,
                    c * chunk_rows,
                    rows_of(c),
                    arrays[c as usize].len()
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let ext_manifest = format!(
            r#"{{"format":"JSON_ARRAY","schema":{COLUMNS},"total_chunk_count":{n_chunks},"chunks":[{ext_chunk_list}],"total_row_count":{rows},"total_byte_count":{array_bytes},"truncated":false}}"#
        );
        let ext_first = format!(
            r#"{{"statement_id":"{sid}","status":{{"state":"SUCCEEDED"}},"manifest":{ext_manifest},"result":{{"external_links":[{}]}}}}"#,
            link(0)
        );
        let ext_chunks = (0..n_chunks)
            .map(|c| Bytes::from(format!(r#"{{"external_links":[{}]}}"#, link(c))))
            .collect();
        let ext_bodies = arrays.into_iter().map(Bytes::from).collect();

        Dataset {
            array_bytes,
            inline_first: Bytes::from(inline_first),
            inline_chunks,
            ext_first: Bytes::from(ext_first),
            ext_chunks,
            ext_bodies,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_json_and_complete() {
        let d = Dataset::build(2500, 1000, "http://127.0.0.1:1");
        let first: serde_json::Value = serde_json::from_slice(&d.inline_first).unwrap();
        assert_eq!(first["manifest"]["total_chunk_count"], 3);
        assert_eq!(
            first["result"]["data_array"].as_array().unwrap().len(),
            1000
        );
        let last: serde_json::Value = serde_json::from_slice(&d.inline_chunks[2]).unwrap();
        assert_eq!(last["row_count"], 500);
        assert!(last.get("next_chunk_internal_link").is_none());
        let ext: serde_json::Value = serde_json::from_slice(&d.ext_first).unwrap();
        assert!(
            ext["result"]["external_links"][0]["external_link"]
                .as_str()
                .unwrap()
                .contains("/external/2500/0")
        );
        let body: serde_json::Value = serde_json::from_slice(&d.ext_bodies[1]).unwrap();
        assert_eq!(body.as_array().unwrap().len(), 1000);
        assert_eq!(rows_in_sql(&select_sql(2500)), Some(2500));
        assert_eq!(cents("-12.5"), -1250);
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20.000Z");
    }
}
