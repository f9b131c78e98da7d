//! Reading one Arrow IPC stream (an ARROW_STREAM chunk) message by message, without a panic on
//! hostile bytes.
//!
//! arrow-ipc's own stream readers trust parts of the stream they are given: its schema
//! conversion panics on a field it does not expect, and a buffer pointing outside its message
//! body panics when sliced. So the framing and the schema are read here — only the Arrow types a
//! Databricks result carries, every flatbuffer verified, every buffer checked to lie within its
//! body — and arrow-ipc decodes the record batches (validating every array). Dictionary batches
//! are refused (Databricks does not send them; arrow-ipc's support for delta dictionaries
//! alone would add ~380 KB to the component).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::{self as fb, MessageHeader, MetadataVersion};
use arrow_schema::{DataType, Field, Fields, IntervalUnit, Schema, SchemaRef, TimeUnit};

use super::error::{Error, Result};

/// Largest Arrow IPC stream accepted from one chunk, bytes (after LZ4 decompression): a guard
/// against a decompression bomb well below the default 256 MiB guest memory.
pub const MAX_STREAM_BYTES: usize = 128 << 20;
/// The LZ4 frame magic number, little-endian (an IPC stream never starts with it).
const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4D, 0x18];
/// Deepest type nesting accepted in a schema.
const MAX_DEPTH: usize = 32;

/// The `server` error of a malformed stream.
fn malformed(what: impl std::fmt::Display) -> Error {
    Error::server(format!("malformed Arrow result stream: {what}"))
}

/// Decompress one LZ4 frame (or several, back to back), refusing more than
/// [`MAX_STREAM_BYTES`] of output.
pub fn lz4_frame(frame: &[u8]) -> Result<Vec<u8>> {
    lz4_frame_limited(frame, MAX_STREAM_BYTES)
}

/// [`lz4_frame`] with at most `limit` bytes of output.
pub fn lz4_frame_limited(frame: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut frames = lz4_flex::frame::FrameDecoder::new(frame);
    // One frame per `read_to_end`: the next call reads the next frame.
    loop {
        let before = frames.get_ref().len();
        let room = (limit + 1).saturating_sub(out.len()) as u64;
        let n = (&mut frames)
            .take(room)
            .read_to_end(&mut out)
            .map_err(|e| Error::server(format!("malformed LZ4_FRAME result: {e}")))?;
        if out.len() > limit {
            return Err(Error::server(format!(
                "an Arrow result chunk decompresses to over {limit} bytes"
            )));
        }
        let left = frames.get_ref().len();
        if left == 0 {
            return Ok(out);
        }
        if n == 0 && left == before {
            return Err(Error::server("malformed LZ4_FRAME result: trailing bytes"));
        }
    }
}

/// The rows of one Arrow chunk: the (decompressed) IPC stream, decoded one record batch at a
/// time; record batches are zero-copy views of the stream's bytes.
pub struct ArrowRows {
    /// The stream's bytes not read yet.
    rest: Buffer,
    schema: Option<SchemaRef>,
    /// The record batch being read.
    batch: Option<RecordBatch>,
    /// Its next row.
    row: usize,
    /// The stream has ended (or failed).
    done: bool,
}

impl std::fmt::Debug for ArrowRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowRows")
            .field("rest", &self.rest.len())
            .field("row", &self.row)
            .field("done", &self.done)
            .finish()
    }
}

impl ArrowRows {
    /// The rows of `body`, an Arrow IPC stream, LZ4-framed when `lz4` (or when it starts with
    /// the LZ4 frame magic). Nothing is decoded beyond the decompression yet.
    pub fn from_body(body: Vec<u8>, lz4: bool) -> Result<ArrowRows> {
        let bytes = if lz4 || body.starts_with(&LZ4_MAGIC) {
            lz4_frame(&body)?
        } else if body.len() > MAX_STREAM_BYTES {
            return Err(Error::server(format!(
                "an Arrow result chunk is over {} MiB",
                MAX_STREAM_BYTES >> 20
            )));
        } else {
            body
        };
        Ok(ArrowRows {
            rest: Buffer::from_vec(bytes),
            schema: None,
            batch: None,
            row: 0,
            done: false,
        })
    }

    /// The record batch being read and its next row, decoding the next record batch once the
    /// current one is read; `None` at the end of the stream.
    pub fn current(&mut self) -> Result<Option<(&RecordBatch, usize)>> {
        while !self.done && self.batch.as_ref().is_none_or(|b| self.row >= b.num_rows()) {
            self.batch = None;
            self.row = 0;
            match self.next_message() {
                Ok(Some(b)) => self.batch = Some(b),
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
        Ok(self.batch.as_ref().map(|b| (b, self.row)))
    }

    /// Mark `n` rows of the current record batch as read.
    pub fn advance(&mut self, n: usize) {
        self.row += n;
    }

    /// Take `n` bytes off the front of the stream.
    fn take(&mut self, n: usize, what: &str) -> Result<Buffer> {
        if n > self.rest.len() {
            return Err(malformed(format!("{what} runs past the end of the stream")));
        }
        let head = self.rest.slice_with_length(0, n);
        self.rest = self.rest.slice(n);
        Ok(head)
    }

    /// Read one message: a record batch, or `None` after a schema message or at the end.
    fn next_message(&mut self) -> Result<Option<RecordBatch>> {
        // `[0xFFFFFFFF] <i32 metadata length> <metadata> <body>`; length 0 (or nothing) ends it.
        if self.rest.len() < 4 {
            self.done = true;
            return match self.rest.is_empty() {
                true => Ok(None),
                false => Err(malformed("the stream ends inside a message header")),
            };
        }
        let mut word = self.take(4, "a message header")?;
        if word.as_slice() == [0xFF; 4] {
            word = self.take(4, "a message header")?;
        }
        let len = u32::from_le_bytes([word[0], word[1], word[2], word[3]]) as usize;
        if len == 0 {
            self.done = true;
            return Ok(None);
        }
        let meta = self.take(len, "a message")?;
        let message = fb::root_as_message(meta.as_slice()).map_err(malformed)?;
        let body_len =
            usize::try_from(message.bodyLength()).map_err(|_| malformed("negative body length"))?;
        let body = self.take(body_len, "a message body")?;
        let version = message.version();
        if !matches!(version, MetadataVersion::V4 | MetadataVersion::V5) {
            return Err(malformed(format!("metadata version {:?}", version.0)));
        }
        match message.header_type() {
            MessageHeader::Schema => {
                let schema = message
                    .header_as_schema()
                    .ok_or_else(|| malformed("no schema"))?;
                if self.schema.is_some() {
                    return Err(malformed("a second schema"));
                }
                self.schema = Some(Arc::new(schema_of(schema)?));
                Ok(None)
            }
            MessageHeader::RecordBatch => {
                let batch = message
                    .header_as_record_batch()
                    .ok_or_else(|| malformed("no record batch"))?;
                let schema = self
                    .schema
                    .clone()
                    .ok_or_else(|| malformed("a record batch before the schema"))?;
                check_layout(&batch, &schema, body_len)?;
                let no_dictionaries = HashMap::new();
                arrow_ipc::reader::read_record_batch(
                    &body,
                    batch,
                    schema,
                    &no_dictionaries,
                    None,
                    &version,
                )
                .map(Some)
                .map_err(malformed)
            }
            MessageHeader::DictionaryBatch => Err(Error::server(
                "dictionary-encoded Arrow results are not supported",
            )),
            MessageHeader::NONE => Ok(None),
            other => Err(malformed(format!("unexpected message type {}", other.0))),
        }
    }
}

/// Check what arrow-ipc trusts in a record batch message before it decodes it: every buffer
/// lies within the body (it slices them unchecked), every field node is a sane length with at
/// most that many nulls, a validity bitmap covers its node (it is wrapped before the array is
/// validated), and the nodes, buffers and variadic counts are as many as the schema needs.
fn check_layout(batch: &fb::RecordBatch, schema: &Schema, body_len: usize) -> Result<()> {
    let buffers: Vec<(i64, i64)> = batch
        .buffers()
        .into_iter()
        .flatten()
        .map(|b| (b.offset(), b.length()))
        .collect();
    for &(offset, length) in &buffers {
        let end = offset.checked_add(length);
        if offset < 0 || length < 0 || end.is_none_or(|e| e > body_len as i64) {
            return Err(malformed("a buffer outside its message body"));
        }
    }
    let mut layout = Layout {
        nodes: batch
            .nodes()
            .into_iter()
            .flatten()
            .map(|n| (n.length(), n.null_count()))
            .collect(),
        buffers,
        variadic: batch.variadicBufferCounts().into_iter().flatten().collect(),
        at: (0, 0, 0),
    };
    for f in schema.fields() {
        layout.field(f.data_type())?;
    }
    // Counts left over: arrow-ipc asserts there are none.
    if layout.at.2 != layout.variadic.len() {
        return Err(malformed("more variadic buffer counts than view columns"));
    }
    Ok(())
}

/// The field nodes, buffers (offset, length) and variadic buffer counts of a record batch, and
/// how many of each the fields walked so far took.
struct Layout {
    nodes: Vec<(i64, i64)>,
    buffers: Vec<(i64, i64)>,
    variadic: Vec<i64>,
    at: (usize, usize, usize),
}

impl Layout {
    fn buffer(&mut self) -> Result<(i64, i64)> {
        self.typed_buffer(1)
    }

    /// A buffer of `width`-byte values: its length a multiple of `width` (arrow asserts it).
    fn typed_buffer(&mut self, width: i64) -> Result<(i64, i64)> {
        let b = self.buffers.get(self.at.1).copied();
        self.at.1 += 1;
        match b {
            Some((_, len)) if len % width != 0 => {
                Err(malformed("a buffer that is not a whole number of values"))
            }
            Some(b) => Ok(b),
            None => Err(malformed("fewer buffers than the schema needs")),
        }
    }

    /// Take the node and buffers of one field of type `dt` (and of its children).
    fn field(&mut self, dt: &DataType) -> Result<()> {
        let (len, nulls) = self
            .nodes
            .get(self.at.0)
            .copied()
            .ok_or_else(|| malformed("fewer field nodes than the schema needs"))?;
        self.at.0 += 1;
        if len < 0 || nulls < 0 || nulls > len || len > i64::from(i32::MAX) {
            return Err(malformed("a field node of impossible length"));
        }
        if dt == &DataType::Null {
            return Ok(());
        }
        let (_, validity) = self.buffer()?;
        if nulls > 0 && validity.saturating_mul(8) < len {
            return Err(malformed("a validity bitmap shorter than its array"));
        }
        match dt {
            DataType::Utf8 | DataType::Binary => {
                self.typed_buffer(4)?;
                self.buffer()?;
            }
            DataType::LargeUtf8 | DataType::LargeBinary => {
                self.typed_buffer(8)?;
                self.buffer()?;
            }
            DataType::Utf8View | DataType::BinaryView => {
                let n = self.variadic.get(self.at.2).copied();
                self.at.2 += 1;
                let n = n.ok_or_else(|| malformed("a missing variadic buffer count"))?;
                if !(0..=i64::from(u16::MAX)).contains(&n) {
                    return Err(malformed("an impossible variadic buffer count"));
                }
                self.typed_buffer(16)?;
                for _ in 0..n {
                    self.buffer()?;
                }
            }
            DataType::List(child) | DataType::Map(child, _) => {
                self.typed_buffer(4)?;
                self.field(child.data_type())?;
            }
            DataType::LargeList(child) => {
                self.typed_buffer(8)?;
                self.field(child.data_type())?;
            }
            DataType::FixedSizeList(child, _) => self.field(child.data_type())?,
            DataType::Struct(fields) => {
                for f in fields {
                    self.field(f.data_type())?;
                }
            }
            _ => {
                self.typed_buffer(dt.primitive_width().map_or(1, |w| w as i64))?;
            }
        }
        Ok(())
    }
}

/// The schema of a schema message: every field converted by [`field_of`].
fn schema_of(s: fb::Schema) -> Result<Schema> {
    if s.endianness() != fb::Endianness::Little {
        return Err(malformed("a big-endian stream"));
    }
    let fields = s
        .fields()
        .ok_or_else(|| malformed("a schema without fields"))?;
    let fields: Vec<Field> = fields
        .iter()
        .map(|f| field_of(f, 0))
        .collect::<Result<_>>()?;
    Ok(Schema::new(fields))
}

/// One field of a schema, for the Arrow types a Databricks result carries (see
/// `core::arrow`); any other type, a dictionary encoding or a malformed type is an error.
fn field_of(f: fb::Field, depth: usize) -> Result<Field> {
    let name = f.name().unwrap_or_default();
    let bad = || malformed(format!("field {name:?} has a malformed type"));
    if depth > MAX_DEPTH {
        return Err(malformed("types nested too deeply"));
    }
    if f.dictionary().is_some() {
        return Err(Error::server(
            "dictionary-encoded Arrow results are not supported",
        ));
    }
    let children = || -> Result<Vec<Field>> {
        f.children()
            .into_iter()
            .flatten()
            .map(|c| field_of(c, depth + 1))
            .collect()
    };
    let only_child = || -> Result<Arc<Field>> {
        let mut c = children()?;
        match (c.pop(), c.is_empty()) {
            (Some(c), true) => Ok(Arc::new(c)),
            _ => Err(bad()),
        }
    };
    let unit = |u: fb::TimeUnit| match u {
        fb::TimeUnit::SECOND => Some(TimeUnit::Second),
        fb::TimeUnit::MILLISECOND => Some(TimeUnit::Millisecond),
        fb::TimeUnit::MICROSECOND => Some(TimeUnit::Microsecond),
        fb::TimeUnit::NANOSECOND => Some(TimeUnit::Nanosecond),
        _ => None,
    };
    let t = f.type_type();
    let dt = match t {
        fb::Type::Null => DataType::Null,
        fb::Type::Bool => DataType::Boolean,
        fb::Type::Int => {
            let i = f.type_as_int().ok_or_else(bad)?;
            match (i.bitWidth(), i.is_signed()) {
                (8, true) => DataType::Int8,
                (16, true) => DataType::Int16,
                (32, true) => DataType::Int32,
                (64, true) => DataType::Int64,
                (8, false) => DataType::UInt8,
                (16, false) => DataType::UInt16,
                (32, false) => DataType::UInt32,
                (64, false) => DataType::UInt64,
                _ => return Err(bad()),
            }
        }
        fb::Type::FloatingPoint => match f.type_as_floating_point().ok_or_else(bad)?.precision() {
            fb::Precision::SINGLE => DataType::Float32,
            fb::Precision::DOUBLE => DataType::Float64,
            _ => return Err(bad()),
        },
        fb::Type::Decimal => {
            let d = f.type_as_decimal().ok_or_else(bad)?;
            let p = u8::try_from(d.precision()).map_err(|_| bad())?;
            let s = i8::try_from(d.scale()).map_err(|_| bad())?;
            match d.bitWidth() {
                128 if (1..=38).contains(&p) => DataType::Decimal128(p, s),
                64 if (1..=18).contains(&p) => DataType::Decimal64(p, s),
                32 if (1..=9).contains(&p) => DataType::Decimal32(p, s),
                _ => return Err(bad()),
            }
        }
        fb::Type::Utf8 => DataType::Utf8,
        fb::Type::LargeUtf8 => DataType::LargeUtf8,
        fb::Type::Utf8View => DataType::Utf8View,
        fb::Type::Binary => DataType::Binary,
        fb::Type::LargeBinary => DataType::LargeBinary,
        fb::Type::BinaryView => DataType::BinaryView,
        fb::Type::FixedSizeBinary => {
            let w = f.type_as_fixed_size_binary().ok_or_else(bad)?.byteWidth();
            if w < 0 {
                return Err(bad());
            }
            DataType::FixedSizeBinary(w)
        }
        fb::Type::Date => match f.type_as_date().ok_or_else(bad)?.unit() {
            fb::DateUnit::DAY => DataType::Date32,
            fb::DateUnit::MILLISECOND => DataType::Date64,
            _ => return Err(bad()),
        },
        fb::Type::Timestamp => {
            let ts = f.type_as_timestamp().ok_or_else(bad)?;
            DataType::Timestamp(
                unit(ts.unit()).ok_or_else(bad)?,
                ts.timezone().map(Arc::from),
            )
        }
        fb::Type::Duration => {
            DataType::Duration(unit(f.type_as_duration().ok_or_else(bad)?.unit()).ok_or_else(bad)?)
        }
        fb::Type::Interval => {
            DataType::Interval(match f.type_as_interval().ok_or_else(bad)?.unit() {
                fb::IntervalUnit::YEAR_MONTH => IntervalUnit::YearMonth,
                fb::IntervalUnit::DAY_TIME => IntervalUnit::DayTime,
                fb::IntervalUnit::MONTH_DAY_NANO => IntervalUnit::MonthDayNano,
                _ => return Err(bad()),
            })
        }
        fb::Type::List => DataType::List(only_child()?),
        fb::Type::LargeList => DataType::LargeList(only_child()?),
        fb::Type::FixedSizeList => {
            let n = f.type_as_fixed_size_list().ok_or_else(bad)?.listSize();
            if n < 0 {
                return Err(bad());
            }
            DataType::FixedSizeList(only_child()?, n)
        }
        fb::Type::Struct_ => DataType::Struct(Fields::from(children()?)),
        fb::Type::Map => {
            let sorted = f.type_as_map().ok_or_else(bad)?.keysSorted();
            let entries = only_child()?;
            // Entries: a struct of a key and a value (a map array panics on anything else).
            match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => {}
                _ => return Err(bad()),
            }
            DataType::Map(entries, sorted)
        }
        other => {
            return Err(Error::server(format!(
                "field {name:?} has Arrow type {} the connector does not read",
                other.variant_name().unwrap_or("unknown")
            )));
        }
    };
    Ok(Field::new(name, dt, f.nullable()))
}
