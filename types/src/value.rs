//! Typed SQL values (the WIT `value`) and their parts: exact decimals, dates, intervals.
//!
//! | WIT `value` | [`Value`] | text |
//! |---|---|---|
//! | null | `Null` | `NULL` |
//! | boolean | `Boolean(bool)` | `true` / `false` |
//! | tinyint/smallint/int/bigint | `TinyInt(i8)` … `BigInt(i64)` | decimal |
//! | float/double | `Float(f32)` / `Double(f64)` | shortest round-trip; `NaN`, `Infinity` |
//! | decimal | `Decimal(Decimal)` | the exact digits, e.g. `12.50` |
//! | text | `Text(String)` | itself |
//! | binary | `Binary(Vec<u8>)` | base64 |
//! | date | `Date(Date)` | `YYYY-MM-DD` |
//! | timestamp | `Timestamp(i64)` µs since the epoch UTC | RFC 3339 |
//! | timestamp-ntz | `TimestampNtz(i64)` | RFC 3339 without offset |
//! | interval | `Interval(Interval)` | `Y-M` or `D HH:MM:SS.ffffff` |
//! | json | `Json(String)` | the JSON text |
//!
//! The JSON forms are in [`crate::json`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time;

/// An exact decimal number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Decimal {
    /// Plain decimal text, e.g. `-12.50` (scale zeros kept).
    pub digits: String,
    /// Total number of digits the column allows (1..=38).
    pub precision: u8,
    /// Digits after the decimal point.
    pub scale: u8,
}

impl Decimal {
    /// A decimal from its text, with precision and scale taken from the text itself
    /// (`"12.50"` → `DECIMAL(4,2)`); `None` if the text is not a plain decimal number.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let scale = u8::try_from(frac.len()).ok()?;
        let precision = u8::try_from((int.len() + frac.len()).max(1)).ok()?;
        if precision > 38 {
            return None;
        }
        // Canonical text: no `+`, no leading zeros, `0` before a bare fraction, no trailing `.`.
        let mut digits = String::new();
        if t.starts_with('-') {
            digits.push('-');
        }
        digits.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            digits.push('.');
            digits.push_str(frac);
        }
        Some(Decimal {
            digits,
            precision: precision.max(scale),
            scale,
        })
    }

    /// Rescale the digits to `scale` (padding zeros, or rejecting lost digits) and set the
    /// column's precision. Used when writing into a `DECIMAL(p,s)` column.
    pub fn with_type(&self, precision: u8, scale: u8) -> Option<Decimal> {
        let t = self.digits.as_str();
        let (neg, unsigned) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let mut frac = frac.to_string();
        while frac.len() > scale as usize {
            if frac.ends_with('0') {
                frac.pop();
            } else {
                return None;
            }
        }
        while frac.len() < scale as usize {
            frac.push('0');
        }
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        if int.len() + scale as usize > precision as usize && int != "0" {
            return None;
        }
        let mut digits = String::new();
        if neg {
            digits.push('-');
        }
        digits.push_str(int);
        if scale > 0 {
            digits.push('.');
            digits.push_str(&frac);
        }
        Some(Decimal {
            digits,
            precision,
            scale,
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Date {
    /// Year, e.g. 2024.
    pub year: i32,
    /// Month 1..=12.
    pub month: u8,
    /// Day of month 1..=31.
    pub day: u8,
}

impl Date {
    /// Parse `[+-]YYYY-MM-DD` (surrounding white space ignored); `None` if it is not a real date.
    pub fn parse(text: &str) -> Option<Date> {
        let (year, month, day) = time::parse_date(text.trim())?;
        Some(Date { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&time::format_date(
            i64::from(self.year),
            self.month,
            self.day,
        ))
    }
}

/// An interval: year-month intervals use `months`, day-time intervals `micros`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interval {
    /// Whole months.
    pub months: i32,
    /// Microseconds.
    pub micros: i64,
}

impl fmt::Display for Interval {
    /// `Y-M` for a year-month interval, else `D HH:MM:SS.ffffff`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.months, self.micros) {
            (0, 0) => f.write_str("0 00:00:00.000000"),
            (months, 0) => f.write_str(&time::format_interval(months, 0)),
            (_, micros) => f.write_str(&time::format_interval(0, micros)),
        }
    }
}

/// A typed SQL value: a parameter, a field of a record to write, or a result cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// BOOLEAN.
    Boolean(bool),
    /// TINYINT.
    TinyInt(i8),
    /// SMALLINT.
    SmallInt(i16),
    /// INT.
    Int(i32),
    /// BIGINT.
    BigInt(i64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL(p,s), exact.
    Decimal(Decimal),
    /// STRING (and types the connector does not know).
    Text(String),
    /// BINARY.
    Binary(Vec<u8>),
    /// DATE.
    Date(Date),
    /// TIMESTAMP: microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// TIMESTAMP_NTZ: microseconds since the epoch of a wall-clock time without zone.
    TimestampNtz(i64),
    /// INTERVAL.
    Interval(Interval),
    /// ARRAY / MAP / STRUCT / VARIANT as JSON text.
    Json(String),
}

impl Value {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Same value, treating NaN as equal to NaN (for exact round-trip checks).
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => {
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
            }
            (Value::Double(a), Value::Double(b)) => {
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
            }
            _ => self == other,
        }
    }

    /// The SQL type name this value is sent as (`BIGINT`, `DECIMAL(12,2)`, …).
    pub fn sql_type(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Boolean(_) => "BOOLEAN".into(),
            Value::TinyInt(_) => "TINYINT".into(),
            Value::SmallInt(_) => "SMALLINT".into(),
            Value::Int(_) => "INT".into(),
            Value::BigInt(_) => "BIGINT".into(),
            Value::Float(_) => "FLOAT".into(),
            Value::Double(_) => "DOUBLE".into(),
            Value::Decimal(d) => format!("DECIMAL({},{})", d.precision, d.scale),
            Value::Text(_) => "STRING".into(),
            Value::Binary(_) => "BINARY".into(),
            Value::Date(_) => "DATE".into(),
            Value::Timestamp(_) => "TIMESTAMP".into(),
            Value::TimestampNtz(_) => "TIMESTAMP_NTZ".into(),
            Value::Interval(_) => "INTERVAL".into(),
            Value::Json(_) => "JSON".into(),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $case:ident),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::$case(v.into()) }
        }
    )*};
}
value_from!(bool => Boolean, i8 => TinyInt, i16 => SmallInt, i32 => Int, i64 => BigInt,
    f32 => Float, f64 => Double, String => Text, &str => Text, Vec<u8> => Binary,
    Date => Date, Decimal => Decimal, Interval => Interval);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}
