//! Turning what a statement produced into chunks, while it is produced.
//!
//! Rows are pulled batch by batch from the statement's stream and cut into chunks of
//! `chunk_rows` rows as soon as enough have arrived, so at most one chunk of unrendered rows
//! is held at a time. The limits apply while rows arrive: `row_limit` and `byte_limit` stop
//! pulling (dropping the stream stops the query), the INLINE limit (25 MiB) and the
//! warehouse's `max_result_bytes` fail the statement as soon as they are passed.
//!
//! Each chunk is rendered (and LZ4-framed when asked) as it is cut, by the format's
//! [`Renderer`]; when the rows have ended the delivery is chosen: an
//! `INLINE_OR_EXTERNAL_LINKS` result of at most one chunk within `attachment_limit` is an
//! attachment, anything larger links.

use std::collections::VecDeque;
use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use futures::StreamExt;

use super::{
    Chunk, Compression, Delivery, Disposition, Format, Renderer, ResultOpts, Results, lz4_frame,
};
use crate::engine::{Outcome, SqlError};

/// Rendered bytes an INLINE result may have in all (the service's limit).
pub const INLINE_LIMIT: usize = 25 * 1024 * 1024;

/// Pulls `outcome` to its end (or to the limits of `opts`) and renders its chunks.
pub async fn build(outcome: Outcome, opts: ResultOpts) -> Result<Results, SqlError> {
    match outcome {
        Outcome::Empty => Ok(Results {
            schema: None,
            chunks: Vec::new(),
            total_rows: 0,
            truncated: false,
            opts,
            delivery: if opts.disposition == Disposition::Inline {
                Delivery::DataArray
            } else {
                Delivery::Links
            },
        }),
        Outcome::Rows(rs) => {
            let mut b = Builder::new(rs.schema, opts)?;
            for batch in rs.batches {
                if !b.push(batch)? {
                    break;
                }
            }
            b.finish()
        }
        Outcome::Stream { schema, mut stream } => {
            let mut b = Builder::new(schema, opts)?;
            while let Some(batch) = stream.next().await {
                if !b.push(batch.map_err(SqlError::from)?)? {
                    break;
                }
                // rendering is CPU work: let a cancellation in between batches
                tokio::task::consume_budget().await;
            }
            drop(stream);
            b.finish()
        }
    }
}

/// Chunks being cut from arriving batches.
struct Builder {
    schema: SchemaRef,
    opts: ResultOpts,
    renderer: Renderer,
    /// Rows not yet in a chunk.
    pending: VecDeque<RecordBatch>,
    pending_rows: usize,
    /// Rows seen in all (chunked or pending).
    seen: usize,
    chunks: Vec<Chunk>,
    /// Rows in chunks.
    offset: usize,
    /// Rendered bytes before compression (`byte_limit`, the INLINE limit, attachments).
    bytes_total: usize,
    /// Bytes kept, after compression (`max_result_bytes`).
    stored_total: usize,
    truncated: bool,
    /// A limit was reached: nothing more is taken.
    done: bool,
}

impl Builder {
    fn new(schema: SchemaRef, opts: ResultOpts) -> Result<Builder, SqlError> {
        Ok(Builder {
            renderer: Renderer::new(&schema, opts.format)?,
            schema,
            opts,
            pending: VecDeque::new(),
            pending_rows: 0,
            seen: 0,
            chunks: Vec::new(),
            offset: 0,
            bytes_total: 0,
            stored_total: 0,
            truncated: false,
            done: false,
        })
    }

    fn lz4(&self) -> bool {
        self.opts.compression == Compression::Lz4Frame && self.opts.format == Format::ArrowStream
    }

    fn step(&self) -> usize {
        self.opts.chunk_rows.max(1)
    }

    /// Rows that may still become part of the result (`row_limit`).
    fn keep(&self) -> usize {
        self.opts.row_limit.map_or(usize::MAX, |l| l.min(self.seen))
    }

    /// Takes a batch; `Ok(false)` when no more rows are wanted.
    fn push(&mut self, batch: RecordBatch) -> Result<bool, SqlError> {
        if self.done {
            return Ok(false);
        }
        let n = batch.num_rows();
        if n > 0 {
            self.seen += n;
            self.pending_rows += n;
            self.pending.push_back(batch);
        }
        if let Some(l) = self.opts.row_limit {
            if self.seen > l {
                // one row past the limit tells that the result is cut
                self.truncated = true;
            }
        }
        while !self.done && self.pending_rows >= self.step() && self.offset < self.keep() {
            self.cut()?;
        }
        Ok(!self.done && !self.opts.row_limit.is_some_and(|l| self.seen > l))
    }

    fn finish(mut self) -> Result<Results, SqlError> {
        while !self.done && self.pending_rows > 0 && self.offset < self.keep() {
            self.cut()?;
        }
        let delivery = match self.opts.disposition {
            Disposition::Inline => Delivery::DataArray,
            Disposition::ExternalLinks => Delivery::Links,
            Disposition::InlineOrExternalLinks => {
                if self.chunks.len() <= 1 && self.bytes_total <= self.opts.attachment_limit {
                    // A result without rows is still one (empty) stream: the schema travels.
                    if self.chunks.is_empty() {
                        let bytes = self
                            .renderer
                            .render(&RecordBatch::new_empty(self.schema.clone()))?;
                        self.keep_chunk(0, bytes)?;
                    }
                    Delivery::Attachment
                } else {
                    Delivery::Links
                }
            }
        };
        Ok(Results {
            schema: Some(self.schema),
            chunks: self.chunks,
            total_rows: self.offset,
            truncated: self.truncated,
            opts: self.opts,
            delivery,
        })
    }

    /// Removes the first `n` pending rows as one batch.
    fn take(&mut self, n: usize) -> Result<RecordBatch, SqlError> {
        let mut parts = Vec::new();
        let mut need = n;
        while need > 0 {
            let Some(first) = self.pending.pop_front() else {
                break;
            };
            let rows = first.num_rows();
            if rows <= need {
                parts.push(first);
                need -= rows;
            } else {
                parts.push(first.slice(0, need));
                self.pending.push_front(first.slice(need, rows - need));
                need = 0;
            }
        }
        self.pending_rows -= n - need;
        let schema = parts
            .first()
            .map(|p| p.schema())
            .unwrap_or_else(|| self.schema.clone());
        deltalake::arrow::compute::concat_batches(&schema, &parts)
            .map_err(|e| SqlError::Internal(e.to_string()))
    }

    /// Cuts the next chunk from the pending rows, honouring `byte_limit` and the size limits.
    fn cut(&mut self) -> Result<(), SqlError> {
        let step = self.step();
        let want = step.min(self.keep() - self.offset).min(self.pending_rows);
        let rows = self.take(want)?;
        let mut n = want;
        let mut bytes = self.renderer.render(&rows)?;
        if let Some(limit) = self.opts.byte_limit {
            while self.bytes_total + bytes.len() > limit && n > 0 {
                self.truncated = true;
                let per_row = (bytes.len() / n).max(1);
                let fit = limit.saturating_sub(self.bytes_total) / per_row;
                n = if fit >= n { n - 1 } else { fit };
                bytes = if n > 0 {
                    self.renderer.render(&rows.slice(0, n))?
                } else {
                    Vec::new()
                };
            }
            if n == 0 {
                self.done = true;
                return Ok(());
            }
        }
        self.bytes_total += bytes.len();
        if self.opts.disposition == Disposition::Inline && self.bytes_total > INLINE_LIMIT {
            return Err(SqlError::InlineTooLarge);
        }
        self.keep_chunk(n, bytes)?;
        self.offset += n;
        if self.truncated && self.opts.byte_limit.is_some() && n < want {
            self.done = true;
        }
        Ok(())
    }

    /// Keeps a rendered chunk of `n` rows at the current offset (LZ4-framed when asked),
    /// within `max_result_bytes`.
    fn keep_chunk(&mut self, n: usize, bytes: Vec<u8>) -> Result<(), SqlError> {
        let byte_count = bytes.len();
        let bytes = if self.lz4() {
            lz4_frame(&bytes)?
        } else {
            bytes
        };
        self.stored_total += bytes.len();
        if self.stored_total > self.opts.max_result_bytes {
            return Err(SqlError::ResultTooLarge {
                limit: self.opts.max_result_bytes,
            });
        }
        self.chunks.push(Chunk {
            row_offset: self.offset,
            row_count: n,
            byte_count,
            bytes: Arc::new(bytes),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::Int64Array;
    use deltalake::arrow::datatypes::{DataType, Field, Schema};

    fn opts(row_limit: Option<usize>, byte_limit: Option<usize>, chunk_rows: usize) -> ResultOpts {
        ResultOpts {
            disposition: Disposition::ExternalLinks,
            format: Format::JsonArray,
            compression: Compression::None,
            row_limit,
            byte_limit,
            chunk_rows,
            attachment_limit: 16 * 1024 * 1024,
            max_result_bytes: usize::MAX,
        }
    }

    fn batches(sizes: &[usize]) -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let mut next = 0i64;
        let out = sizes
            .iter()
            .map(|&n| {
                let v: Vec<i64> = (next..next + n as i64).collect();
                next += n as i64;
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(v))]).unwrap()
            })
            .collect();
        (schema, out)
    }

    fn run(sizes: &[usize], o: ResultOpts) -> Results {
        let (schema, b) = batches(sizes);
        let mut bld = Builder::new(schema, o).unwrap();
        for x in b {
            if !bld.push(x).unwrap() {
                break;
            }
        }
        bld.finish().unwrap()
    }

    #[test]
    fn chunks_are_cut_across_batches() {
        let r = run(&[3, 4, 0, 5], opts(None, None, 5));
        let cuts: Vec<(usize, usize)> = r
            .chunks
            .iter()
            .map(|c| (c.row_offset, c.row_count))
            .collect();
        assert_eq!(cuts, vec![(0, 5), (5, 5), (10, 2)]);
        assert_eq!(r.total_rows, 12);
        assert!(!r.truncated);
        assert_eq!(
            r.chunks[1].bytes.as_slice(),
            br#"[["5"],["6"],["7"],["8"],["9"]]"#
        );
    }

    #[test]
    fn row_limit_cuts_and_marks_truncation() {
        let r = run(&[3, 4, 5], opts(Some(7), None, 5));
        assert_eq!(r.total_rows, 7);
        assert!(r.truncated);
        let r = run(&[3, 4], opts(Some(7), None, 5));
        assert_eq!(r.total_rows, 7);
        assert!(!r.truncated);
    }

    #[test]
    fn byte_limit_stops_early() {
        let r = run(&[100, 100], opts(None, Some(50), 10));
        assert!(r.truncated);
        let bytes: usize = r.chunks.iter().map(|c| c.bytes.len()).sum();
        assert!(bytes <= 50, "{bytes}");
        assert!(r.total_rows > 0);
    }

    #[test]
    fn size_limits_fail_typed() {
        let (schema, b) = batches(&[10_000]);
        let mut o = opts(None, None, 1000);
        o.max_result_bytes = 100;
        let mut bld = Builder::new(schema.clone(), o).unwrap();
        assert!(matches!(
            bld.push(b[0].clone()),
            Err(SqlError::ResultTooLarge { .. })
        ));
    }
}
