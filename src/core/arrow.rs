//! ARROW_STREAM results: one Arrow IPC stream per chunk (an inline `result.attachment` or an
//! external link's body), optionally wrapped in one LZ4 frame (`LZ4_FRAME`), decoded record batch
//! by record batch into the same [`Value`]s and [`ColumnData`] as JSON_ARRAY rows.
//!
//! A column decodes by its manifest type ([`Kind`]), and the Arrow type must carry it:
//!
//! | [`Kind`] | Arrow types accepted |
//! |---|---|
//! | `Boolean` | bool |
//! | `TinyInt`..`BigInt` | int8..int64, uint8..uint64 (refused when out of range) |
//! | `Float`, `Double` | float32; float64 (and float32 for `Double`) |
//! | `Decimal(p,s)` | decimal32/64/128, exact digits at the column's scale |
//! | `Date` | date32, date64 |
//! | `Timestamp`, `TimestampNtz` | timestamp of any unit, as µs (the zone, if any, is UTC) |
//! | `Binary` | binary, large binary, binary view, fixed-size binary |
//! | `Interval` | interval (year-month, day-time, month-day-nano), duration |
//! | `Json` | list, large list, fixed-size list, struct, map → JSON text |
//! | `Text` | utf8, large utf8, utf8 view; anything else as its JSON text |
//!
//! Any column may also arrive as text (utf8): the cell is then decoded exactly as a JSON_ARRAY
//! cell (how a server sends intervals or complex types "as strings"). Anything else is a
//! `server` error naming the column. The stream itself is read by `core::ipc`.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, IntervalDayTimeType, IntervalMonthDayNanoType,
    IntervalYearMonthType, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_schema::{DataType, IntervalUnit, TimeUnit};

use super::base64;
use super::columns::ColumnData;
use super::error::{Error, Result};
use super::time;
use super::value::{
    Column, Date, Decimal, Interval, Kind, Value, decimal_digits, decode_as, format_double,
    format_float, normalize_decimal, push_json_string,
};

/// Deepest nesting of list/struct/map rendered as JSON.
const MAX_DEPTH: usize = 64;
/// Microseconds per day.
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The error of a column whose Arrow type cannot carry its manifest type.
fn mismatch(col: &Column, dt: &DataType) -> Error {
    let shown: String = format!("{dt}").chars().take(80).collect();
    Error::server(format!(
        "column {:?} ({}) arrived as Arrow {shown}",
        col.name, col.type_text
    ))
}

/// An out-of-range cell.
fn out_of_range(col: &Column, what: &str) -> Error {
    Error::server(format!(
        "value {what} does not fit column {:?} ({})",
        col.name, col.type_text
    ))
}

/// Integer cell `i` of an integer array (any width, signed or not).
fn int_at(a: &dyn Array, i: usize) -> Option<i128> {
    macro_rules! at {
        ($($t:ty),*) => {
            $(if let Some(p) = a.as_primitive_opt::<$t>() {
                return Some(i128::from(p.value(i)));
            })*
        };
    }
    at!(
        Int64Type, Int32Type, Int16Type, Int8Type, UInt64Type, UInt32Type, UInt16Type, UInt8Type
    );
    None
}

/// The text cell `i` of a string array, `None` when `a` holds no strings.
fn str_at(a: &dyn Array, i: usize) -> Option<&str> {
    if let Some(s) = a.as_string_opt::<i32>() {
        Some(s.value(i))
    } else if let Some(s) = a.as_string_opt::<i64>() {
        Some(s.value(i))
    } else {
        a.as_string_view_opt().map(|s| s.value(i))
    }
}

/// The bytes of cell `i` of a binary array, `None` when `a` holds no bytes.
fn bytes_at(a: &dyn Array, i: usize) -> Option<&[u8]> {
    if let Some(b) = a.as_binary_opt::<i32>() {
        Some(b.value(i))
    } else if let Some(b) = a.as_binary_opt::<i64>() {
        Some(b.value(i))
    } else if let Some(b) = a.as_binary_view_opt() {
        Some(b.value(i))
    } else {
        a.as_fixed_size_binary_opt().map(|b| b.value(i))
    }
}

/// The unscaled value and scale of decimal cell `i`.
fn decimal_at(a: &dyn Array, i: usize) -> Option<(i128, i8)> {
    Some(match a.data_type() {
        DataType::Decimal128(_, s) => (a.as_primitive_opt::<Decimal128Type>()?.value(i), *s),
        DataType::Decimal64(_, s) => (a.as_primitive_opt::<Decimal64Type>()?.value(i).into(), *s),
        DataType::Decimal32(_, s) => (a.as_primitive_opt::<Decimal32Type>()?.value(i).into(), *s),
        _ => return None,
    })
}

/// Exact decimal text of `unscaled × 10^-scale`, with `scale` digits after the point.
pub fn decimal_text(unscaled: i128, scale: i8) -> String {
    let mut out = String::with_capacity(24);
    push_decimal(&mut out, unscaled, scale);
    out
}

/// Append [`decimal_text`] to `out` (no allocation: this runs for every DECIMAL cell).
pub fn push_decimal(out: &mut String, unscaled: i128, scale: i8) {
    const CHUNK: u128 = 10_000_000_000_000_000_000;
    // The digits, least significant first; 19 at a time in u64 (u128 division is slow).
    let mut buf = [0u8; 40];
    let mut n = 0;
    let mut rest = unscaled.unsigned_abs();
    while rest >= CHUNK {
        let mut low = (rest % CHUNK) as u64;
        rest /= CHUNK;
        for _ in 0..19 {
            buf[n] = b'0' + (low % 10) as u8;
            low /= 10;
            n += 1;
        }
    }
    let mut low = rest as u64;
    loop {
        buf[n] = b'0' + (low % 10) as u8;
        low /= 10;
        n += 1;
        if low == 0 {
            break;
        }
    }
    let digits = &mut buf[..n];
    digits.reverse();
    // ASCII digits: always UTF-8.
    fn text(d: &[u8]) -> &str {
        std::str::from_utf8(d).unwrap_or_default()
    }
    if unscaled < 0 {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(text(digits));
        if unscaled != 0 {
            out.extend(std::iter::repeat_n('0', usize::from(scale.unsigned_abs())));
        }
        return;
    }
    let frac = usize::from(scale.unsigned_abs());
    if n > frac {
        out.push_str(text(&digits[..n - frac]));
        out.push('.');
        out.push_str(text(&digits[n - frac..]));
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', frac - n));
        out.push_str(text(digits));
    }
}

/// Microseconds of timestamp (or duration) cell `i` of `unit`, `None` on overflow.
fn micros_at(a: &dyn Array, i: usize) -> Option<i64> {
    let (v, unit) = match a.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            (a.as_primitive_opt::<TimestampSecondType>()?.value(i), 0)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => (
            a.as_primitive_opt::<TimestampMillisecondType>()?.value(i),
            1,
        ),
        DataType::Timestamp(TimeUnit::Microsecond, _) => (
            a.as_primitive_opt::<TimestampMicrosecondType>()?.value(i),
            2,
        ),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            (a.as_primitive_opt::<TimestampNanosecondType>()?.value(i), 3)
        }
        DataType::Duration(TimeUnit::Second) => {
            (a.as_primitive_opt::<DurationSecondType>()?.value(i), 0)
        }
        DataType::Duration(TimeUnit::Millisecond) => {
            (a.as_primitive_opt::<DurationMillisecondType>()?.value(i), 1)
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            (a.as_primitive_opt::<DurationMicrosecondType>()?.value(i), 2)
        }
        DataType::Duration(TimeUnit::Nanosecond) => {
            (a.as_primitive_opt::<DurationNanosecondType>()?.value(i), 3)
        }
        _ => return None,
    };
    match unit {
        0 => v.checked_mul(1_000_000),
        1 => v.checked_mul(1_000),
        2 => Some(v),
        // Nanoseconds truncated to the microsecond before them, as text with 9 digits is.
        _ => Some(v.div_euclid(1_000)),
    }
}

/// Date cell `i` (date32 days or date64 ms since the epoch).
fn date_at(a: &dyn Array, i: usize) -> Option<Date> {
    let days = match a.data_type() {
        DataType::Date32 => i64::from(a.as_primitive_opt::<Date32Type>()?.value(i)),
        DataType::Date64 => a
            .as_primitive_opt::<Date64Type>()?
            .value(i)
            .div_euclid(MICROS_PER_DAY / 1_000),
        _ => return None,
    };
    let (year, month, day) = time::civil_from_days(days);
    Some(Date {
        year: i32::try_from(year).ok()?,
        month,
        day,
    })
}

/// Interval cell `i`: an Arrow interval of any unit, or a duration.
fn interval_at(a: &dyn Array, i: usize) -> Option<Interval> {
    let (months, micros) = match a.data_type() {
        DataType::Interval(IntervalUnit::YearMonth) => {
            (a.as_primitive_opt::<IntervalYearMonthType>()?.value(i), 0)
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = a.as_primitive_opt::<IntervalDayTimeType>()?.value(i);
            let ms = i64::from(v.days) * 86_400_000 + i64::from(v.milliseconds);
            (0, ms.checked_mul(1_000)?)
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = a.as_primitive_opt::<IntervalMonthDayNanoType>()?.value(i);
            let micros = i64::from(v.days)
                .checked_mul(MICROS_PER_DAY)?
                .checked_add(v.nanoseconds / 1_000)?;
            (v.months, micros)
        }
        DataType::Duration(_) => (0, micros_at(a, i)?),
        _ => return None,
    };
    Some(Interval { months, micros })
}

/// Whether cell `i` is SQL NULL (a null-typed array is all nulls).
fn is_null(a: &dyn Array, i: usize) -> bool {
    a.data_type() == &DataType::Null || a.is_null(i)
}

/// Decode cell `i` of `a`, the Arrow column of `col` (of `kind`).
pub fn value(a: &dyn Array, i: usize, kind: Kind, col: &Column) -> Result<Value> {
    if is_null(a, i) || kind == Kind::Null {
        return Ok(Value::Null);
    }
    if let Some(s) = str_at(a, i) {
        return match kind {
            Kind::Text => Ok(Value::Text(s.to_owned())),
            Kind::Json => Ok(Value::Json(s.to_owned())),
            _ => decode_as(kind, col, Some(s)),
        };
    }
    let dt = a.data_type();
    let e = || mismatch(col, dt);
    let int = |a| int_at(a, i).ok_or_else(e);
    let range = |v: i128| out_of_range(col, &v.to_string());
    Ok(match kind {
        Kind::Null => Value::Null,
        Kind::Boolean => Value::Boolean(a.as_boolean_opt().ok_or_else(e)?.value(i)),
        Kind::TinyInt => Value::TinyInt(int(a).and_then(|v| v.try_into().map_err(|_| range(v)))?),
        Kind::SmallInt => Value::SmallInt(int(a).and_then(|v| v.try_into().map_err(|_| range(v)))?),
        Kind::Int => Value::Int(int(a).and_then(|v| v.try_into().map_err(|_| range(v)))?),
        Kind::BigInt => Value::BigInt(int(a).and_then(|v| v.try_into().map_err(|_| range(v)))?),
        Kind::Float => Value::Float(a.as_primitive_opt::<Float32Type>().ok_or_else(e)?.value(i)),
        Kind::Double => match a.as_primitive_opt::<Float64Type>() {
            Some(f) => Value::Double(f.value(i)),
            None => Value::Double(
                a.as_primitive_opt::<Float32Type>()
                    .ok_or_else(e)?
                    .value(i)
                    .into(),
            ),
        },
        Kind::Decimal(precision, scale) => {
            let (unscaled, s) = decimal_at(a, i).ok_or_else(e)?;
            let text = decimal_text(unscaled, s);
            let digits = if i16::from(s) == i16::from(scale) {
                text
            } else {
                normalize_decimal(&text, scale)
                    .filter(|d| decimal_digits(d) <= usize::from(precision))
                    .ok_or_else(|| out_of_range(col, &text))?
            };
            Value::Decimal(Decimal {
                digits,
                precision,
                scale,
            })
        }
        Kind::Date => Value::Date(date_at(a, i).ok_or_else(e)?),
        Kind::Timestamp => Value::Timestamp(micros_at(a, i).ok_or_else(e)?),
        Kind::TimestampNtz => Value::TimestampNtz(micros_at(a, i).ok_or_else(e)?),
        Kind::Binary => Value::Binary(bytes_at(a, i).ok_or_else(e)?.to_vec()),
        Kind::Interval => Value::Interval(interval_at(a, i).ok_or_else(e)?),
        Kind::Json => {
            let mut out = String::new();
            push_json(&mut out, a, i, 0).map_err(|()| e())?;
            Value::Json(out)
        }
        Kind::Text => {
            // A scalar's text is its JSON form without the quotes of a JSON string.
            let mut out = String::new();
            push_json(&mut out, a, i, 0).map_err(|()| e())?;
            if out.starts_with('"') {
                out = serde_json::from_slice(out.as_bytes()).map_err(|_| e())?;
            }
            Value::Text(out)
        }
    })
}

/// Append cell `i` of `a` as JSON to `out`: list → array, struct → object in field order, map →
/// object (keys as text), numbers bare (non-finite floats as `"NaN"`, `"Infinity"`,
/// `"-Infinity"`), decimals as their exact digits, dates and timestamps as strings
/// (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS.ffffff` with `Z` when zoned), binary as base64, intervals
/// as their text (`Y-M`, `D HH:MM:SS.ffffff`). `Err` for a type that has no JSON form.
fn push_json(
    out: &mut String,
    a: &dyn Array,
    i: usize,
    depth: usize,
) -> std::result::Result<(), ()> {
    if depth > MAX_DEPTH {
        return Err(());
    }
    if is_null(a, i) {
        out.push_str("null");
        return Ok(());
    }
    if let Some(s) = str_at(a, i) {
        push_json_string(out, s);
        return Ok(());
    }
    if let Some(v) = int_at(a, i) {
        out.push_str(&v.to_string());
        return Ok(());
    }
    let list = |out: &mut String, items: &dyn Array| {
        out.push('[');
        for j in 0..items.len() {
            if j > 0 {
                out.push(',');
            }
            push_json(out, items, j, depth + 1)?;
        }
        out.push(']');
        Ok(())
    };
    match a.data_type() {
        DataType::Boolean => out.push_str(if a.as_boolean().value(i) {
            "true"
        } else {
            "false"
        }),
        DataType::Float32 | DataType::Float64 => {
            let (text, finite) = match a.as_primitive_opt::<Float32Type>() {
                Some(f) => (format_float(f.value(i)), f.value(i).is_finite()),
                None => {
                    let v = a.as_primitive_opt::<Float64Type>().ok_or(())?.value(i);
                    (format_double(v), v.is_finite())
                }
            };
            if finite {
                out.push_str(&text);
            } else {
                push_json_string(out, &text);
            }
        }
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) => {
            let (unscaled, scale) = decimal_at(a, i).ok_or(())?;
            push_decimal(out, unscaled, scale);
        }
        DataType::Date32 | DataType::Date64 => {
            let d = date_at(a, i).ok_or(())?;
            push_json_string(out, &time::format_date(d.year.into(), d.month, d.day));
        }
        DataType::Timestamp(_, tz) => {
            let mut t = time::format_timestamp(micros_at(a, i).ok_or(())?, 'T');
            if tz.is_some() {
                t.push('Z');
            }
            push_json_string(out, &t);
        }
        DataType::Interval(_) | DataType::Duration(_) => {
            let v = interval_at(a, i).ok_or(())?;
            push_json_string(out, &time::format_interval(v.months, v.micros));
        }
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => {
            push_json_string(out, &base64::encode(bytes_at(a, i).ok_or(())?));
        }
        DataType::List(_) => list(out, a.as_list::<i32>().value(i).as_ref())?,
        DataType::LargeList(_) => list(out, a.as_list::<i64>().value(i).as_ref())?,
        DataType::FixedSizeList(..) => list(out, a.as_fixed_size_list().value(i).as_ref())?,
        DataType::Struct(fields) => {
            let s = a.as_struct();
            out.push('{');
            for (j, (f, c)) in fields.iter().zip(s.columns()).enumerate() {
                if j > 0 {
                    out.push(',');
                }
                push_json_string(out, f.name());
                out.push(':');
                push_json(out, c.as_ref(), i, depth + 1)?;
            }
            out.push('}');
        }
        DataType::Map(..) => {
            let entries = a.as_map().value(i);
            let (keys, values) = (entries.column(0), entries.column(1));
            out.push('{');
            let mut key = String::new();
            for j in 0..entries.len() {
                if j > 0 {
                    out.push(',');
                }
                match str_at(keys.as_ref(), j) {
                    Some(k) if !is_null(keys.as_ref(), j) => push_json_string(out, k),
                    _ => {
                        key.clear();
                        push_json(&mut key, keys.as_ref(), j, depth + 1)?;
                        push_json_string(out, &key);
                    }
                }
                out.push(':');
                push_json(out, values.as_ref(), j, depth + 1)?;
            }
            out.push('}');
        }
        _ => return Err(()),
    }
    Ok(())
}

/// Rows `start..start + n` of `a`, the Arrow column of `col` (of `kind`), as values: the
/// Arrow types Databricks sends for the column's type in one typed loop, anything else cell by
/// cell through [`value`].
pub fn values(
    a: &dyn Array,
    start: usize,
    n: usize,
    kind: Kind,
    col: &Column,
) -> Result<Vec<Value>> {
    let rows = start..start + n;
    macro_rules! typed {
        ($arr:expr, $case:expr) => {
            if let Some(p) = $arr {
                return Ok(rows
                    .map(|i| {
                        if p.is_null(i) {
                            Value::Null
                        } else {
                            $case(p.value(i))
                        }
                    })
                    .collect());
            }
        };
    }
    match kind {
        Kind::BigInt => typed!(a.as_primitive_opt::<Int64Type>(), Value::BigInt),
        Kind::Int => typed!(a.as_primitive_opt::<Int32Type>(), Value::Int),
        Kind::SmallInt => typed!(a.as_primitive_opt::<Int16Type>(), Value::SmallInt),
        Kind::TinyInt => typed!(a.as_primitive_opt::<Int8Type>(), Value::TinyInt),
        Kind::Double => typed!(a.as_primitive_opt::<Float64Type>(), Value::Double),
        Kind::Float => typed!(a.as_primitive_opt::<Float32Type>(), Value::Float),
        Kind::Boolean => typed!(a.as_boolean_opt(), Value::Boolean),
        Kind::Timestamp => typed!(
            a.as_primitive_opt::<TimestampMicrosecondType>(),
            Value::Timestamp
        ),
        Kind::TimestampNtz => typed!(
            a.as_primitive_opt::<TimestampMicrosecondType>(),
            Value::TimestampNtz
        ),
        Kind::Text => typed!(a.as_string_opt::<i32>(), |t: &str| Value::Text(
            t.to_owned()
        )),
        Kind::Decimal(precision, scale) => {
            if matches!(a.data_type(), DataType::Decimal128(_, s) if i16::from(*s) == i16::from(scale))
            {
                typed!(a.as_primitive_opt::<Decimal128Type>(), |v| {
                    Value::Decimal(Decimal {
                        digits: decimal_text(v, scale as i8),
                        precision,
                        scale,
                    })
                });
            }
        }
        _ => {}
    }
    rows.map(|i| value(a, i, kind, col)).collect()
}

/// Append rows `start..start + n` of `a`, the Arrow column of `col` (of `kind`), to `data`:
/// numbers, timestamps and text straight into their vectors, everything else cell by cell
/// through [`value`].
pub fn append(
    data: &mut ColumnData,
    a: &dyn Array,
    start: usize,
    n: usize,
    kind: Kind,
    col: &Column,
) -> Result<()> {
    let rows = start..start + n;
    macro_rules! extend {
        ($v:expr, $t:ty) => {
            if let Some(p) = a.as_primitive_opt::<$t>() {
                $v.extend(rows.map(|i| p.is_valid(i).then(|| p.value(i))));
                return Ok(());
            }
        };
    }
    match data {
        ColumnData::BigInt(v) => extend!(v, Int64Type),
        ColumnData::Int(v) => extend!(v, Int32Type),
        ColumnData::SmallInt(v) => extend!(v, Int16Type),
        ColumnData::TinyInt(v) => extend!(v, Int8Type),
        ColumnData::Double(v) => extend!(v, Float64Type),
        ColumnData::Float(v) => extend!(v, Float32Type),
        ColumnData::Timestamp(v) | ColumnData::TimestampNtz(v) => {
            if let Some(p) = a.as_primitive_opt::<TimestampMicrosecondType>() {
                v.extend(rows.map(|i| p.is_valid(i).then(|| p.value(i))));
                return Ok(());
            }
        }
        ColumnData::Text(p) if kind == Kind::Text => {
            if let Some(s) = a.as_string_opt::<i32>() {
                for i in rows {
                    p.push(s.is_valid(i).then(|| s.value(i)))?;
                }
                return Ok(());
            }
        }
        ColumnData::Decimal { digits, scale, .. } => {
            if let Some(d) = a.as_primitive_opt::<Decimal128Type>()
                && let DataType::Decimal128(_, s) = a.data_type()
                && i16::from(*s) == i16::from(*scale)
            {
                for i in rows {
                    if d.is_valid(i) {
                        digits.push_with(|out| push_decimal(out, d.value(i), *s))?;
                    } else {
                        digits.push(None)?;
                    }
                }
                return Ok(());
            }
        }
        _ => {}
    }
    for i in rows {
        data.push_value(col, value(a, i, kind, col)?)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "arrow_tests.rs"]
pub(crate) mod tests;
