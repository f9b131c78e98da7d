//! The replayed result set as `format: ARROW_STREAM`: the same N rows as `data.rs`, one Arrow
//! IPC stream per chunk (id int64, name utf8, amount decimal128(10,2)), each stream one LZ4
//! frame when `result_compression: LZ4_FRAME` is asked — the shapes the local warehouse serves
//! (`warehouse/src/results/`, `warehouse/src/api/result_json.rs`) and databricks-sql-kernel
//! reads. Built before any timing starts.
//!
//! Delivery: `EXTERNAL_LINKS` always links; `INLINE_OR_EXTERNAL_LINKS` answers a one-chunk
//! result of at most [`ATTACHMENT_LIMIT`] bytes inline (`result.attachment`, base64), anything
//! larger as links. The first answer carries the link of chunk 0; a chunk request answers the
//! links of [`LINK_BATCH`] chunks from the one asked, each with its own `next_*`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::{ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};
use axum::body::Bytes;
use base64::Engine as _;

use crate::data::{self, COLUMNS};

/// Largest uncompressed one-chunk result sent inline (the local warehouse's default).
pub const ATTACHMENT_LIMIT: usize = 16 * 1024 * 1024;
/// Links answered by one chunk request (as the local warehouse).
pub const LINK_BATCH: usize = 8;

/// Statement id of an Arrow replay (`lz4`: compressed chunks).
pub fn statement_id(rows: u64, lz4: bool) -> String {
    format!(
        "01f0bench-0000-arrow{}-{rows:012}",
        if lz4 { "z" } else { "n" }
    )
}

/// The amount of row `i` in cents (the unscaled DECIMAL(10,2) value), as `data::row_cells`.
pub fn amount_cents(i: u64) -> i128 {
    let whole = (i.wrapping_mul(7919) % 1_000_000) as i128;
    let v = whole * 100 + (i % 100) as i128;
    if i % 7 == 3 { -v } else { v }
}

/// One Arrow IPC stream holding rows `from..to`.
fn ipc_stream(from: u64, to: u64) -> Result<Vec<u8>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(10, 2), true),
    ]));
    let ids: Vec<i64> = (from..to).map(|i| i as i64).collect();
    let names: Vec<Option<String>> = (from..to).map(|i| data::row_cells(i).1).collect();
    let amounts: Vec<i128> = (from..to).map(amount_cents).collect();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(names)),
        Arc::new(Decimal128Array::from(amounts).with_precision_and_scale(10, 2)?),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols)?;
    let mut out = Vec::new();
    {
        let mut w = StreamWriter::try_new(&mut out, &schema)?;
        w.write(&batch)?;
        w.finish()?;
    }
    Ok(out)
}

fn lz4_frame(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(bytes.len() / 2 + 64));
    enc.write_all(bytes)?;
    enc.finish().context("lz4 frame")
}

/// One Arrow result set's response bytes.
pub struct ArrowDataset {
    /// The chunk bodies behind the links (LZ4-framed when `lz4`).
    pub bodies: Vec<Bytes>,
    /// Bytes sent for all chunks (after compression).
    pub wire_bytes: u64,
    /// `POST /statements` answer for `EXTERNAL_LINKS` (link to chunk 0).
    pub links_first: Bytes,
    /// `POST /statements` answer for `INLINE_OR_EXTERNAL_LINKS`.
    pub mixed_first: Bytes,
    /// `GET .../result/chunks/{n}` answers (`{"external_links": [...]}`).
    pub chunk_pages: Vec<Bytes>,
}

impl ArrowDataset {
    /// Builds the chunks of `rows` rows (`chunk_rows` per chunk); links point at `base`.
    pub fn build(
        rows: u64,
        chunk_rows: u64,
        lz4: bool,
        base: &str,
        expiration: &str,
    ) -> Result<ArrowDataset> {
        let chunk_rows = chunk_rows.max(1);
        let n_chunks = rows.div_ceil(chunk_rows).max(1);
        let rows_of = |c: u64| ((c + 1) * chunk_rows).min(rows) - c * chunk_rows;
        let streams: Vec<Vec<u8>> = (0..n_chunks)
            .map(|c| ipc_stream(c * chunk_rows, c * chunk_rows + rows_of(c)))
            .collect::<Result<_>>()?;
        let byte_counts: Vec<usize> = streams.iter().map(Vec::len).collect();
        let bodies: Vec<Vec<u8>> = if lz4 {
            streams
                .iter()
                .map(|s| lz4_frame(s))
                .collect::<Result<_>>()?
        } else {
            streams
        };
        let wire_bytes = bodies.iter().map(|b| b.len() as u64).sum();
        let sid = statement_id(rows, lz4);
        let z = if lz4 { "lz4" } else { "none" };
        let link = |c: u64| -> String {
            let mut s = format!(
                r#"{{"chunk_index":{c},"row_offset":{},"row_count":{},"byte_count":{}"#,
                c * chunk_rows,
                rows_of(c),
                byte_counts[c as usize]
            );
            if c + 1 < n_chunks {
                let _ = write!(
                    s,
                    r#","next_chunk_index":{},"next_chunk_internal_link":"/api/2.0/sql/statements/{sid}/result/chunks/{}""#,
                    c + 1,
                    c + 1
                );
            }
            let _ = write!(
                s,
                r#","external_link":"{base}/external-arrow/{rows}/{z}/{c}?X-Amz-Expires=899&X-Amz-Signature=bench","expiration":"{expiration}"}}"#
            );
            s
        };
        let chunk_list: String = (0..n_chunks)
            .map(|c| {
                format!(
                    r#"{{"chunk_index":{c},"row_offset":{},"row_count":{},"byte_count":{}}}"#,
                    c * chunk_rows,
                    rows_of(c),
                    byte_counts[c as usize]
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let total: usize = byte_counts.iter().sum();
        let compression = if lz4 {
            r#","result_compression":"LZ4_FRAME""#
        } else {
            ""
        };
        let manifest = format!(
            r#"{{"format":"ARROW_STREAM","schema":{COLUMNS},"total_chunk_count":{n_chunks},"chunks":[{chunk_list}],"total_row_count":{rows},"total_byte_count":{total},"truncated":false{compression}}}"#
        );
        let head = format!(
            r#"{{"statement_id":"{sid}","status":{{"state":"SUCCEEDED"}},"manifest":{manifest},"result":"#
        );
        let links_first = format!(r#"{head}{{"external_links":[{}]}}}}"#, link(0));
        let mixed_first = if n_chunks == 1 && byte_counts[0] <= ATTACHMENT_LIMIT {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bodies[0]);
            format!(
                r#"{head}{{"chunk_index":0,"row_offset":0,"row_count":{rows},"byte_count":{},"attachment":"{b64}"}}}}"#,
                byte_counts[0]
            )
        } else {
            links_first.clone()
        };
        let chunk_pages = (0..n_chunks)
            .map(|c| {
                let last = (c + LINK_BATCH as u64).min(n_chunks);
                let links: Vec<String> = (c..last).map(link).collect();
                Bytes::from(format!(r#"{{"external_links":[{}]}}"#, links.join(",")))
            })
            .collect();
        Ok(ArrowDataset {
            bodies: bodies.into_iter().map(Bytes::from).collect(),
            wire_bytes,
            links_first: Bytes::from(links_first),
            mixed_first: Bytes::from(mixed_first),
            chunk_pages,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    fn read_stream(bytes: &[u8], lz4: bool) -> RecordBatch {
        let plain = if lz4 {
            let mut out = Vec::new();
            std::io::copy(&mut lz4_flex::frame::FrameDecoder::new(bytes), &mut out).unwrap();
            out
        } else {
            bytes.to_vec()
        };
        let mut r =
            arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(plain), None).unwrap();
        r.next().unwrap().unwrap()
    }

    #[test]
    fn chunks_carry_the_json_rows() {
        let d = ArrowDataset::build(
            2500,
            1000,
            true,
            "http://127.0.0.1:1",
            "2030-01-01T00:00:00.000Z",
        )
        .unwrap();
        assert_eq!(d.bodies.len(), 3);
        let b = read_stream(&d.bodies[1], true);
        assert_eq!(b.num_rows(), 1000);
        let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let names = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        let amounts = b
            .column(2)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(ids.value(0), 1000);
        assert!(names.is_null(999)); // row 1999
        assert_eq!(names.value(3), data::row_cells(1003).1.unwrap());
        assert_eq!(amounts.value_as_string(3), data::row_cells(1003).2);
        assert_eq!(amounts.value_as_string(0), data::row_cells(1000).2);
        let first: serde_json::Value = serde_json::from_slice(&d.mixed_first).unwrap();
        assert_eq!(first["manifest"]["result_compression"], "LZ4_FRAME");
        assert!(
            first["result"]["external_links"][0]["external_link"]
                .as_str()
                .unwrap()
                .contains("/external-arrow/2500/lz4/0")
        );
        let page: serde_json::Value = serde_json::from_slice(&d.chunk_pages[1]).unwrap();
        assert_eq!(page["external_links"].as_array().unwrap().len(), 2);
        // one small chunk: inline attachment
        let small = ArrowDataset::build(10, 1000, false, "http://x", "e").unwrap();
        let first: serde_json::Value = serde_json::from_slice(&small.mixed_first).unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(first["result"]["attachment"].as_str().unwrap())
            .unwrap();
        assert_eq!(read_stream(&raw, false).num_rows(), 10);
    }
}
