//! ARROW_STREAM chunks: the engine's Arrow types mapped onto the ones the service sends, so a
//! client reading the stream sees exactly the type the manifest names:
//!
//! | manifest `type_name` | Arrow on the wire |
//! |---|---|
//! | BYTE / SHORT / INT / LONG | int8 / int16 / int32 / int64 |
//! | FLOAT / DOUBLE | float32 / float64 |
//! | DECIMAL (p,s) | decimal128(p, s) |
//! | STRING | utf8 (never large or view) |
//! | BINARY | binary |
//! | BOOLEAN / DATE | bool / date32 |
//! | TIMESTAMP | timestamp\[us, tz=UTC\] |
//! | TIMESTAMP_NTZ | timestamp\[us\] |
//! | INTERVAL YEAR TO MONTH / DAY TO SECOND | interval\[year_month\] / duration\[us\] |
//! | ARRAY / MAP / STRUCT | list / map / struct of the mapped types |
//! | NULL (VOID) | null |
//!
//! Unsigned integers widen as the manifest says (`UInt64` is DECIMAL(20,0)); times of day are
//! STRING, as in JSON_ARRAY.

use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, DurationMicrosecondArray, RecordBatch};
use deltalake::arrow::compute::{CastOptions, cast_with_options};
use deltalake::arrow::datatypes::{
    DataType, Field, FieldRef, Fields, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit,
    Schema, SchemaRef, TimeUnit,
};
use deltalake::arrow::ipc::writer::StreamWriter;

use crate::engine::SqlError;

/// The service's time zone name for TIMESTAMP values (the local warehouse runs in UTC).
pub const UTC: &str = "UTC";

/// The Arrow type sent for a column of engine type `dt`.
pub fn wire_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Null => DataType::Null,
        DataType::Boolean => DataType::Boolean,
        DataType::Int8 => DataType::Int8,
        DataType::Int16 | DataType::UInt8 => DataType::Int16,
        DataType::Int32 | DataType::UInt16 => DataType::Int32,
        DataType::Int64 | DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 | DataType::Float32 => DataType::Float32,
        DataType::Float64 => DataType::Float64,
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            DataType::Decimal128(*p, *s)
        }
        DataType::Decimal256(p, s) if *p <= 38 => DataType::Decimal128(*p, *s),
        DataType::Decimal256(p, s) => DataType::Decimal256(*p, *s),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => DataType::Binary,
        DataType::Date32 | DataType::Date64 => DataType::Date32,
        DataType::Timestamp(_, Some(_)) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
        }
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Interval(IntervalUnit::YearMonth) => DataType::Interval(IntervalUnit::YearMonth),
        DataType::Interval(_) | DataType::Duration(_) => DataType::Duration(TimeUnit::Microsecond),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => DataType::List(wire_field(f)),
        DataType::Map(f, sorted) => DataType::Map(wire_field(f), *sorted),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(wire_field).collect::<Fields>())
        }
        DataType::Dictionary(_, v) => wire_type(v),
        _ => DataType::Utf8,
    }
}

fn wire_field(f: &FieldRef) -> FieldRef {
    Arc::new(Field::new(
        f.name(),
        wire_type(f.data_type()),
        f.is_nullable(),
    ))
}

/// A result's schema as sent, and the conversion of its batches.
#[derive(Debug)]
pub struct WireSchema {
    schema: SchemaRef,
}

impl WireSchema {
    /// The wire schema of an engine schema.
    pub fn new(engine: &SchemaRef) -> Result<WireSchema, SqlError> {
        let fields: Vec<FieldRef> = engine.fields().iter().map(wire_field).collect();
        Ok(WireSchema {
            schema: Arc::new(Schema::new(fields)),
        })
    }

    /// The schema sent.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// `batch` converted to the wire types.
    pub fn convert(&self, batch: &RecordBatch) -> Result<RecordBatch, SqlError> {
        let cols = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(c, f)| to_wire(c, f.data_type()))
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            cols,
            &deltalake::arrow::array::RecordBatchOptions::new()
                .with_row_count(Some(batch.num_rows())),
        )
        .map_err(|e| SqlError::Internal(format!("arrow result: {e}")))
    }

    /// `batch` as one Arrow IPC stream (schema message, the batch, end-of-stream marker).
    pub fn ipc_stream(&self, batch: &RecordBatch) -> Result<Vec<u8>, SqlError> {
        let err = |e: deltalake::arrow::error::ArrowError| SqlError::Internal(e.to_string());
        let batch = self.convert(batch)?;
        let mut out = Vec::new();
        {
            let mut w = StreamWriter::try_new(&mut out, &self.schema).map_err(err)?;
            if batch.num_rows() > 0 {
                w.write(&batch).map_err(err)?;
            }
            w.finish().map_err(err)?;
        }
        Ok(out)
    }
}

fn to_wire(col: &ArrayRef, target: &DataType) -> Result<ArrayRef, SqlError> {
    if col.data_type() == target {
        return Ok(col.clone());
    }
    if let DataType::Duration(TimeUnit::Microsecond) = target
        && let Some(d) = interval_micros(col)?
    {
        return Ok(Arc::new(d));
    }
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    cast_with_options(col, target, &opts).map_err(|e| {
        SqlError::Internal(format!(
            "cannot send a {} column as Arrow {target}: {e}",
            col.data_type()
        ))
    })
}

/// Day-time intervals as microsecond durations (Spark's DayTimeIntervalType on the wire).
/// A month count cannot be a duration: such a value fails the statement.
fn interval_micros(col: &ArrayRef) -> Result<Option<DurationMicrosecondArray>, SqlError> {
    use deltalake::arrow::array::AsArray;
    let months = || {
        SqlError::Unsupported(
            "an interval with months in a DAY TO SECOND result sent as ARROW_STREAM".into(),
        )
    };
    Ok(Some(match col.data_type() {
        DataType::Interval(IntervalUnit::DayTime) => col
            .as_primitive::<IntervalDayTimeType>()
            .iter()
            .map(|v| v.map(|v| v.days as i64 * 86_400_000_000 + v.milliseconds as i64 * 1000))
            .collect(),
        DataType::Interval(IntervalUnit::MonthDayNano) => col
            .as_primitive::<IntervalMonthDayNanoType>()
            .iter()
            .map(|v| match v {
                None => Ok(None),
                Some(v) if v.months != 0 => Err(months()),
                Some(v) => Ok(Some(v.days as i64 * 86_400_000_000 + v.nanoseconds / 1000)),
            })
            .collect::<Result<DurationMicrosecondArray, SqlError>>()?,
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{
        Int64Array, LargeStringArray, StringViewArray, TimestampNanosecondArray, UInt8Array,
    };
    use deltalake::arrow::ipc::reader::StreamReader;

    #[test]
    fn engine_types_become_service_types() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8View, true),
            Field::new("l", DataType::LargeUtf8, true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into())),
                true,
            ),
            Field::new("u", DataType::UInt8, true),
            Field::new("i", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringViewArray::from(vec![Some("a"), None])),
                Arc::new(LargeStringArray::from(vec![Some("b"), Some("c")])),
                Arc::new(
                    TimestampNanosecondArray::from(vec![Some(1_000_001_000), None])
                        .with_timezone("+00:00"),
                ),
                Arc::new(UInt8Array::from(vec![Some(255), None])),
                Arc::new(Int64Array::from(vec![1, 2])),
            ],
        )
        .unwrap();
        let wire = WireSchema::new(&schema).unwrap();
        let bytes = wire.ipc_stream(&batch).unwrap();
        let mut r = StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
        let got = r.next().unwrap().unwrap();
        assert!(r.next().is_none(), "one batch per stream");
        let types: Vec<String> = got
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect();
        assert_eq!(
            types,
            ["Utf8", "Utf8", "Timestamp(µs, \"UTC\")", "Int16", "Int64"]
        );
        assert_eq!(
            got.column(2)
                .as_any()
                .downcast_ref::<deltalake::arrow::array::TimestampMicrosecondArray>()
                .unwrap()
                .value(0),
            1_000_001
        );
        assert!(!got.schema().field(4).is_nullable());
        // No rows: the stream still carries the schema.
        let empty = wire.ipc_stream(&batch.slice(0, 0)).unwrap();
        let r = StreamReader::try_new(std::io::Cursor::new(empty), None).unwrap();
        assert_eq!(r.schema().fields().len(), 5);
    }
}
