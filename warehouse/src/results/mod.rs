//! A statement's result: cut into chunks and rendered while its rows arrive ([`build`]), in
//! the format and disposition its request asked for (docs/wire.md).
//!
//! - `JSON_ARRAY`: each chunk is the text of its `data_array`.
//! - `ARROW_STREAM`: each chunk is one Arrow IPC stream of that chunk's rows, with the wire
//!   types of [`arrow::wire_schema`]; with `LZ4_FRAME` the whole stream is one LZ4 frame.
//! - `CSV`: each chunk is CSV text with a header.

pub mod arrow;
mod build;

pub use build::{INLINE_LIMIT, build};

use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;

use crate::engine::values::render_data_array;
use crate::engine::SqlError;

/// Result format (`format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON_ARRAY.
    JsonArray,
    /// ARROW_STREAM (EXTERNAL_LINKS or INLINE_OR_EXTERNAL_LINKS).
    ArrowStream,
    /// CSV (EXTERNAL_LINKS only).
    Csv,
}

impl Format {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JsonArray => "JSON_ARRAY",
            Format::ArrowStream => "ARROW_STREAM",
            Format::Csv => "CSV",
        }
    }

    /// The `Content-Type` of a chunk served behind an external link.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::JsonArray => "application/json",
            Format::ArrowStream => "application/vnd.apache.arrow.stream",
            Format::Csv => "text/csv",
        }
    }
}

/// How the result is delivered (`disposition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// `INLINE`: rows in the response (`data_array`).
    Inline,
    /// `EXTERNAL_LINKS`: each chunk behind an expiring link.
    ExternalLinks,
    /// `INLINE_OR_EXTERNAL_LINKS`: a small one-chunk result inline as `result.attachment`,
    /// anything larger as external links.
    InlineOrExternalLinks,
}

impl Disposition {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Inline => "INLINE",
            Disposition::ExternalLinks => "EXTERNAL_LINKS",
            Disposition::InlineOrExternalLinks => "INLINE_OR_EXTERNAL_LINKS",
        }
    }
}

/// `result_compression`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// `NONE` (or absent).
    None,
    /// `LZ4_FRAME`: each chunk (and an attachment) is one LZ4 frame. Applied to ARROW_STREAM
    /// only; other formats are served uncompressed and their manifest says nothing.
    Lz4Frame,
}

/// How results are delivered and cut.
#[derive(Clone, Copy, Debug)]
pub struct ResultOpts {
    /// `disposition`.
    pub disposition: Disposition,
    /// `format`.
    pub format: Format,
    /// `result_compression` as asked.
    pub compression: Compression,
    /// `row_limit`.
    pub row_limit: Option<usize>,
    /// `byte_limit`.
    pub byte_limit: Option<usize>,
    /// Rows per chunk.
    pub chunk_rows: usize,
    /// INLINE_OR_EXTERNAL_LINKS: the largest (uncompressed) one-chunk result sent inline.
    pub attachment_limit: usize,
    /// Most rendered bytes kept for one result (`Config::max_result_bytes`).
    pub max_result_bytes: usize,
}

/// One chunk of a result.
#[derive(Debug)]
pub struct Chunk {
    /// First row.
    pub row_offset: usize,
    /// Rows.
    pub row_count: usize,
    /// Size of the rendered chunk before compression (`byte_count`, as the service counts it).
    pub byte_count: usize,
    /// The bytes served: JSON `data_array` text, Arrow IPC stream (LZ4-framed when
    /// compressed) or CSV.
    pub bytes: Arc<Vec<u8>>,
}

/// How a finished result reaches the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// `result.data_array` (INLINE).
    DataArray,
    /// `result.attachment` (INLINE_OR_EXTERNAL_LINKS, small).
    Attachment,
    /// `result.external_links`.
    Links,
}

/// A finished result.
#[derive(Debug)]
pub struct Results {
    /// Columns (None for DDL: `column_count: 0`).
    pub schema: Option<SchemaRef>,
    /// Chunks.
    pub chunks: Vec<Chunk>,
    /// Rows in all chunks.
    pub total_rows: usize,
    /// Cut by row_limit/byte_limit.
    pub truncated: bool,
    /// Options used.
    pub opts: ResultOpts,
    /// How the chunks are delivered.
    pub delivery: Delivery,
}

impl Results {
    /// Whether the chunks are LZ4 frames (`manifest.result_compression: LZ4_FRAME`).
    pub fn lz4(&self) -> bool {
        self.opts.compression == Compression::Lz4Frame && self.opts.format == Format::ArrowStream
    }

    /// Whether `byte_count`/`total_byte_count` are reported (not for INLINE, as the service).
    pub fn reports_bytes(&self) -> bool {
        self.delivery != Delivery::DataArray
    }
}

/// `bytes` as one LZ4 frame (the `LZ4_FRAME` result compression).
pub fn lz4_frame(bytes: &[u8]) -> Result<Vec<u8>, SqlError> {
    use std::io::Write as _;
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(bytes.len() / 2 + 64));
    enc.write_all(bytes)
        .map_err(|e| SqlError::Internal(format!("lz4: {e}")))?;
    enc.finish()
        .map_err(|e| SqlError::Internal(format!("lz4: {e}")))
}

/// Renders slices of one result in one format.
enum Renderer {
    Json,
    Arrow(arrow::WireSchema),
    Csv,
}

impl Renderer {
    fn new(schema: &SchemaRef, format: Format) -> Result<Renderer, SqlError> {
        Ok(match format {
            Format::JsonArray => Renderer::Json,
            Format::ArrowStream => Renderer::Arrow(arrow::WireSchema::new(schema)?),
            Format::Csv => Renderer::Csv,
        })
    }

    fn render(&self, batch: &RecordBatch) -> Result<Vec<u8>, SqlError> {
        let err = |e: deltalake::arrow::error::ArrowError| SqlError::Internal(e.to_string());
        match self {
            Renderer::Json => Ok(render_data_array(std::slice::from_ref(batch)).into_bytes()),
            Renderer::Arrow(wire) => wire.ipc_stream(batch),
            Renderer::Csv => {
                let mut out = Vec::new();
                {
                    let mut w = deltalake::arrow::csv::WriterBuilder::new()
                        .with_header(true)
                        .build(&mut out);
                    w.write(batch).map_err(err)?;
                }
                Ok(out)
            }
        }
    }
}
