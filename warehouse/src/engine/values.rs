//! Arrow values -> JSON_ARRAY cells (every cell a JSON string or `null`), as in
//! docs/wire.md "Result values".

use base64::Engine as _;
use chrono::DateTime;
use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float32Array, Float64Array, RecordBatch,
};
use deltalake::arrow::datatypes::{
    DataType, Date32Type, Int8Type, Int16Type, Int32Type, Int64Type, IntervalDayTimeType,
    IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use openmatch_types::json::push_json_string as push_json_str;
use serde_json::Value;

/// Renders the rows of `batch` as the JSON text of a `data_array` (`[["1","a"],...]`).
pub fn render_data_array(batches: &[RecordBatch]) -> String {
    let mut out = String::with_capacity(64);
    out.push('[');
    let mut first_row = true;
    let mut cell = String::new();
    for batch in batches {
        let cols: Vec<&ArrayRef> = batch.columns().iter().collect();
        let formatters: Vec<Option<ArrayFormatter>> = cols
            .iter()
            .map(|c| {
                if uses_arrow_display(c.data_type()) {
                    ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()).ok()
                } else {
                    None
                }
            })
            .collect();
        for row in 0..batch.num_rows() {
            if !first_row {
                out.push(',');
            }
            first_row = false;
            out.push('[');
            for (i, col) in cols.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if col.is_null(row) || col.data_type() == &DataType::Null {
                    out.push_str("null");
                    continue;
                }
                cell.clear();
                match &formatters[i] {
                    Some(f) => {
                        use std::fmt::Write;
                        let _ = write!(cell, "{}", f.value(row));
                    }
                    None => cell_text(col, row, &mut cell),
                }
                push_json_str(&mut out, &cell);
            }
            out.push(']');
        }
    }
    out.push(']');
    out
}

fn uses_arrow_display(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Date32
    )
}

/// Text of one non-null cell.
pub fn cell_text(col: &ArrayRef, row: usize, out: &mut String) {
    match col.data_type() {
        DataType::Boolean => out.push_str(
            if col
                .as_any()
                .downcast_ref::<BooleanArray>()
                .map(|a| a.value(row))
                .unwrap_or(false)
            {
                "true"
            } else {
                "false"
            },
        ),
        DataType::Float32 => {
            let v = col
                .as_any()
                .downcast_ref::<Float32Array>()
                .map(|a| a.value(row))
                .unwrap_or(0.0);
            push_float(out, v as f64, Some(v));
        }
        DataType::Float64 => {
            let v = col
                .as_any()
                .downcast_ref::<Float64Array>()
                .map(|a| a.value(row))
                .unwrap_or(0.0);
            push_float(out, v, None);
        }
        DataType::Binary => out.push_str(
            &base64::engine::general_purpose::STANDARD.encode(col.as_binary::<i32>().value(row)),
        ),
        DataType::LargeBinary => out.push_str(
            &base64::engine::general_purpose::STANDARD.encode(col.as_binary::<i64>().value(row)),
        ),
        DataType::BinaryView => out.push_str(
            &base64::engine::general_purpose::STANDARD.encode(col.as_binary_view().value(row)),
        ),
        DataType::FixedSizeBinary(_) => out.push_str(
            &base64::engine::general_purpose::STANDARD
                .encode(col.as_fixed_size_binary().value(row)),
        ),
        DataType::Timestamp(unit, tz) => {
            let nanos: i128 = match unit {
                TimeUnit::Second => {
                    col.as_primitive::<TimestampSecondType>().value(row) as i128 * 1_000_000_000
                }
                TimeUnit::Millisecond => {
                    col.as_primitive::<TimestampMillisecondType>().value(row) as i128 * 1_000_000
                }
                TimeUnit::Microsecond => {
                    col.as_primitive::<TimestampMicrosecondType>().value(row) as i128 * 1_000
                }
                TimeUnit::Nanosecond => {
                    col.as_primitive::<TimestampNanosecondType>().value(row) as i128
                }
            };
            push_timestamp(out, nanos, tz.is_some());
        }
        DataType::Date64 => {
            let ms = col
                .as_primitive::<deltalake::arrow::datatypes::Date64Type>()
                .value(row);
            if let Some(d) = DateTime::from_timestamp_millis(ms) {
                out.push_str(&d.format("%Y-%m-%d").to_string());
            }
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            let m = col.as_primitive::<IntervalYearMonthType>().value(row);
            push_year_month(out, m as i64);
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = col.as_primitive::<IntervalDayTimeType>().value(row);
            push_day_time(
                out,
                v.days as i128 * 86_400_000_000_000 + v.milliseconds as i128 * 1_000_000,
            );
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = col.as_primitive::<IntervalMonthDayNanoType>().value(row);
            if v.days == 0 && v.nanoseconds == 0 {
                push_year_month(out, v.months as i64);
            } else {
                push_day_time(
                    out,
                    v.days as i128 * 86_400_000_000_000 + v.nanoseconds as i128,
                );
            }
        }
        DataType::Duration(_) => {
            let nanos = match col.data_type() {
                DataType::Duration(TimeUnit::Second) => {
                    col.as_primitive::<deltalake::arrow::datatypes::DurationSecondType>()
                        .value(row) as i128
                        * 1_000_000_000
                }
                DataType::Duration(TimeUnit::Millisecond) => {
                    col.as_primitive::<deltalake::arrow::datatypes::DurationMillisecondType>()
                        .value(row) as i128
                        * 1_000_000
                }
                DataType::Duration(TimeUnit::Microsecond) => {
                    col.as_primitive::<deltalake::arrow::datatypes::DurationMicrosecondType>()
                        .value(row) as i128
                        * 1_000
                }
                _ => col
                    .as_primitive::<deltalake::arrow::datatypes::DurationNanosecondType>()
                    .value(row) as i128,
            };
            push_day_time(out, nanos);
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::Struct(_)
        | DataType::Map(..)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_) => {
            out.push_str(&json_value(col.as_ref(), row).to_string());
        }
        _ => {
            if let Ok(f) = ArrayFormatter::try_new(col.as_ref(), &FormatOptions::default()) {
                use std::fmt::Write;
                let _ = write!(out, "{}", f.value(row));
            }
        }
    }
}

fn push_float(out: &mut String, v: f64, as_f32: Option<f32>) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else if let Some(f) = as_f32 {
        out.push_str(&format!("{f:?}"));
    } else {
        out.push_str(&format!("{v:?}"));
    }
}

/// `YYYY-MM-DDTHH:MM:SS.fff` (+`Z` when zoned), 6 or 9 fraction digits when needed.
pub fn push_timestamp(out: &mut String, nanos: i128, zoned: bool) {
    let secs = nanos.div_euclid(1_000_000_000) as i64;
    let sub = nanos.rem_euclid(1_000_000_000) as u32;
    let Some(dt) = DateTime::from_timestamp(secs, sub) else {
        out.push_str(&nanos.to_string());
        return;
    };
    let fmt = if sub % 1_000_000 == 0 {
        "%Y-%m-%dT%H:%M:%S%.3f"
    } else if sub % 1_000 == 0 {
        "%Y-%m-%dT%H:%M:%S%.6f"
    } else {
        "%Y-%m-%dT%H:%M:%S%.9f"
    };
    out.push_str(&dt.naive_utc().format(fmt).to_string());
    if zoned {
        out.push('Z');
    }
}

fn push_year_month(out: &mut String, months: i64) {
    if months < 0 {
        out.push('-');
    }
    let m = months.unsigned_abs();
    out.push_str(&format!("{}-{}", m / 12, m % 12));
}

fn push_day_time(out: &mut String, nanos: i128) {
    if nanos < 0 {
        out.push('-');
    }
    let n = nanos.unsigned_abs();
    let day = 86_400_000_000_000u128;
    let d = n / day;
    let rest = n % day;
    let h = rest / 3_600_000_000_000;
    let m = rest / 60_000_000_000 % 60;
    let s = rest / 1_000_000_000 % 60;
    let f = rest % 1_000_000_000;
    out.push_str(&format!("{d} {h:02}:{m:02}:{s:02}.{f:09}"));
}

/// A nested value as JSON (for ARRAY / MAP / STRUCT cells).
pub fn json_value(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float32 | DataType::Float64 => {
            let v = if let Some(a) = array.as_any().downcast_ref::<Float32Array>() {
                a.value(row) as f64
            } else {
                array
                    .as_primitive::<deltalake::arrow::datatypes::Float64Type>()
                    .value(row)
            };
            serde_json::Number::from_f64(v)
                .map(Value::Number)
                .unwrap_or_else(|| {
                    let mut s = String::new();
                    push_float(&mut s, v, None);
                    Value::String(s)
                })
        }
        DataType::Decimal128(..) | DataType::Decimal256(..) => {
            let text = ArrayFormatter::try_new(array, &FormatOptions::default())
                .map(|f| f.value(row).to_string())
                .unwrap_or_default();
            serde_json::from_str::<serde_json::Number>(&text)
                .map(Value::Number)
                .unwrap_or(Value::String(text))
        }
        DataType::Date32 => {
            let d = array.as_primitive::<Date32Type>().value(row);
            Value::String(
                DateTime::from_timestamp(d as i64 * 86_400, 0)
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
            )
        }
        DataType::List(_) => {
            let l = array.as_list::<i32>().value(row);
            Value::Array((0..l.len()).map(|i| json_value(l.as_ref(), i)).collect())
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>().value(row);
            Value::Array((0..l.len()).map(|i| json_value(l.as_ref(), i)).collect())
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            Value::Object(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.name().clone(), json_value(s.column(i).as_ref(), row)))
                    .collect(),
            )
        }
        DataType::Map(..) => {
            let m = array.as_map();
            let entries = m.value(row);
            let keys = entries.column(0);
            let vals = entries.column(1);
            let mut obj = serde_json::Map::new();
            for i in 0..entries.len() {
                let k = match json_value(keys.as_ref(), i) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                obj.insert(k, json_value(vals.as_ref(), i));
            }
            Value::Object(obj)
        }
        _ => {
            let arr: ArrayRef = array.slice(row, 1);
            let mut s = String::new();
            cell_text(&arr, 0, &mut s);
            Value::String(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{
        Decimal128Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use deltalake::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    #[test]
    fn renders_cells() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("c", DataType::Decimal128(10, 2), true),
            Field::new("d", DataType::Float64, true),
            Field::new(
                "e",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec![Some("x\"y"), Some("z")])),
                Arc::new(
                    Decimal128Array::from(vec![Some(1250), Some(-5)])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
                Arc::new(Float64Array::from(vec![f64::NAN, 1.5])),
                Arc::new(
                    TimestampMicrosecondArray::from(vec![
                        Some(1_609_495_200_000_000),
                        Some(1_609_495_200_000_001),
                    ])
                    .with_timezone("UTC"),
                ),
            ],
        )
        .unwrap();
        let text = render_data_array(&[batch]);
        assert_eq!(
            text,
            r#"[["1","x\"y","12.50","NaN","2021-01-01T10:00:00.000Z"],[null,"z","-0.05","1.5","2021-01-01T10:00:00.000001Z"]]"#
        );
    }
}
