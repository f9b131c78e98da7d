//! Rust-side values, rows and columns, and their JSON forms.
//!
//! | WIT `value` | [`Value`] | JSON (output of [`Value::to_json`]) |
//! |---|---|---|
//! | null | `Null` | `null` |
//! | boolean | `Boolean(bool)` | `true` / `false` |
//! | tinyint/smallint/int/bigint | `TinyInt(i8)` … `BigInt(i64)` | number |
//! | float/double | `Float(f32)` / `Double(f64)` | number; `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | decimal | `Decimal(Decimal)` | string of the exact digits, e.g. `"12.50"` |
//! | text | `Text(String)` | string |
//! | binary | `Binary(Vec<u8>)` | base64 string |
//! | date | `Date(Date)` | `"YYYY-MM-DD"` |
//! | timestamp | `Timestamp(i64)` µs since epoch UTC | RFC 3339, `"2024-01-02T03:04:05.123456Z"` |
//! | timestamp-ntz | `TimestampNtz(i64)` | `"2024-01-02T03:04:05.123456"` (no offset) |
//! | interval | `Interval(Interval)` | `"Y-M"` or `"D HH:MM:SS.ffffff"` |
//! | json | `Json(String)` | the JSON itself (parsed), or a string if it does not parse |
//!
//! Going the other way, [`Row::from_json_object`] infers a value from JSON alone (integers →
//! `BigInt`, other numbers → an exact `Decimal` read from the number's text, never via `f64`,
//! strings → `Text`), and [`Row::coerce_to`] converts those
//! inferred values to the exact type of each target column (e.g. `"12.50"` → `DECIMAL(12,2)`,
//! `"2024-01-01"` → `DATE`), which is what the CLI's `write` does with the table's schema.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
pub use crate::row::Row;

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
        Some(Decimal { digits, precision: precision.max(scale), scale })
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
        Some(Decimal { digits, precision, scale })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

/// A calendar date.
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
    /// Parse `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let d = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
        Some(Date::from_naive(d))
    }

    fn from_naive(d: NaiveDate) -> Date {
        use chrono::Datelike;
        Date { year: d.year(), month: d.month() as u8, day: d.day() as u8 }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (0..=9999).contains(&self.year) {
            write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
        } else {
            write!(f, "{:+05}-{:02}-{:02}", self.year, self.month, self.day)
        }
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.micros == 0 && self.months != 0 {
            let sign = if self.months < 0 { "-" } else { "" };
            let m = self.months.unsigned_abs();
            write!(f, "{sign}{}-{}", m / 12, m % 12)
        } else {
            let sign = if self.micros < 0 { "-" } else { "" };
            let us = self.micros.unsigned_abs();
            let secs = us / 1_000_000;
            write!(
                f,
                "{sign}{} {:02}:{:02}:{:02}.{:06}",
                secs / 86_400,
                secs / 3600 % 24,
                secs / 60 % 60,
                secs % 60,
                us % 1_000_000
            )
        }
    }
}

/// A typed SQL value: a parameter or a result cell.
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
    /// STRING.
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
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (Value::Double(a), Value::Double(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
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

    /// The value's JSON form (see the module docs).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Boolean(b) => J::Bool(*b),
            Value::TinyInt(v) => J::from(*v),
            Value::SmallInt(v) => J::from(*v),
            Value::Int(v) => J::from(*v),
            Value::BigInt(v) => J::from(*v),
            Value::Float(v) => float_json(f64::from(*v), Some(*v)),
            Value::Double(v) => float_json(*v, None),
            Value::Decimal(d) => J::String(d.digits.clone()),
            Value::Text(s) => J::String(s.clone()),
            Value::Binary(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::Date(d) => J::String(d.to_string()),
            Value::Timestamp(us) => J::String(format_timestamp(*us)),
            Value::TimestampNtz(us) => J::String(format_timestamp_ntz(*us)),
            Value::Interval(i) => J::String(i.to_string()),
            Value::Json(text) => serde_json::from_str(text).unwrap_or_else(|_| J::String(text.clone())),
        }
    }

    /// A value inferred from JSON alone: `null`, booleans, integers (`BigInt`), other numbers
    /// (an exact `Decimal`, see [`Value::number`]), strings (`Text`); arrays and objects become
    /// `Json`. Prefer deserializing [`Value`] from JSON text: a `serde_json::Value` has already
    /// rounded non-integer numbers to `f64`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Boolean(*b),
            J::Number(n) => Value::number(&n.to_string()).unwrap_or(Value::Null),
            J::String(s) => Value::Text(s.clone()),
            J::Array(_) | J::Object(_) => Value::Json(json.to_string()),
        }
    }

    /// A value from one JSON text, numbers kept exactly as written (see [`Value::number`]).
    pub fn from_json_text(text: &str) -> Result<Value, serde_json::Error> {
        let t = text.trim();
        match t.as_bytes().first() {
            Some(b'-' | b'0'..=b'9') => match Value::number(t) {
                Some(v) => Ok(v),
                None => serde_json::from_str::<serde_json::Value>(t).map(|j| Value::from_json(&j)),
            },
            Some(b'[' | b'{') => {
                // Validate, but keep the text: numbers inside keep their digits.
                serde_json::from_str::<serde::de::IgnoredAny>(t)?;
                Ok(Value::Json(t.to_string()))
            }
            _ => serde_json::from_str::<serde_json::Value>(t).map(|j| Value::from_json(&j)),
        }
    }

    /// A number from its text, exactly: an integer that fits `i64` → `BigInt`; any other number
    /// whose digits fit 38 (exponent forms shifted into plain digits) → `Decimal`; beyond that
    /// (e.g. `1e300`) → `Double`, the correctly rounded `f64`. `None` if `text` is not a number.
    pub fn number(text: &str) -> Option<Value> {
        let t = text.trim();
        if let Ok(i) = t.parse::<i64>() {
            return Some(Value::BigInt(i));
        }
        if let Some(d) = plain_decimal_text(t).as_deref().and_then(Decimal::parse) {
            return Some(Value::Decimal(d));
        }
        let numeric = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
        match t.parse::<f64>() {
            Ok(f) if numeric && f.is_finite() => Some(Value::Double(f)),
            _ => None,
        }
    }

    /// Parse command-line text: a number → exactly as [`Value::number`] reads it (`BigInt`,
    /// `Decimal`, or `Double` only beyond 38 digits), `true`/`false` → `Boolean`, anything else
    /// `Text`.
    pub fn infer(text: &str) -> Value {
        if text.bytes().any(|b| b.is_ascii_digit())
            && let Some(v) = Value::number(text)
        {
            return v;
        }
        match text {
            "true" | "TRUE" | "True" => Value::Boolean(true),
            "false" | "FALSE" | "False" => Value::Boolean(false),
            _ => Value::Text(text.to_string()),
        }
    }

    /// Parse `text` as a value of the SQL type `ty` (`BIGINT`, `DECIMAL(12,2)`, `DATE`, …; the
    /// names of the Databricks `type_name`s are accepted too: `LONG`, `SHORT`, `BYTE`).
    pub fn parse_typed(ty: &str, text: &str) -> Result<Value, Error> {
        let bad = || Error::invalid_input(format!("`{text}` is not a valid {ty}"));
        let upper = ty.trim().to_ascii_uppercase();
        let (base, args) = match upper.split_once('(') {
            Some((b, rest)) => (b.trim().to_string(), Some(rest.trim_end_matches(')').to_string())),
            None => (upper.clone(), None),
        };
        if text.eq_ignore_ascii_case("null") && base != "STRING" {
            return Ok(Value::Null);
        }
        Ok(match base.as_str() {
            "NULL" | "VOID" => Value::Null,
            "BOOLEAN" | "BOOL" => match text.to_ascii_lowercase().as_str() {
                "true" | "1" => Value::Boolean(true),
                "false" | "0" => Value::Boolean(false),
                _ => return Err(bad()),
            },
            "TINYINT" | "BYTE" => Value::TinyInt(text.trim().parse().map_err(|_| bad())?),
            "SMALLINT" | "SHORT" => Value::SmallInt(text.trim().parse().map_err(|_| bad())?),
            "INT" | "INTEGER" => Value::Int(text.trim().parse().map_err(|_| bad())?),
            "BIGINT" | "LONG" => Value::BigInt(text.trim().parse().map_err(|_| bad())?),
            "FLOAT" | "REAL" => Value::Float(parse_float(text).ok_or_else(bad)? as f32),
            "DOUBLE" => Value::Double(parse_float(text).ok_or_else(bad)?),
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let d = Decimal::parse(text).ok_or_else(bad)?;
                match args.as_deref().and_then(parse_precision_scale) {
                    Some((p, s)) => Value::Decimal(d.with_type(p, s).ok_or_else(bad)?),
                    None => Value::Decimal(d),
                }
            }
            "STRING" | "VARCHAR" | "CHAR" | "TEXT" => Value::Text(text.to_string()),
            "BINARY" => Value::Binary(parse_binary(text).ok_or_else(bad)?),
            "DATE" => Value::Date(Date::parse(text).ok_or_else(bad)?),
            "TIMESTAMP" | "TIMESTAMP_LTZ" => Value::Timestamp(parse_timestamp(text).ok_or_else(bad)?),
            "TIMESTAMP_NTZ" => Value::TimestampNtz(parse_timestamp_ntz(text).ok_or_else(bad)?),
            "JSON" | "ARRAY" | "MAP" | "STRUCT" | "VARIANT" => Value::Json(text.to_string()),
            _ => return Err(Error::invalid_input(format!("unknown parameter type `{ty}`"))),
        })
    }

    /// Convert an inferred value (from JSON or the command line) to the exact type of `column`.
    /// Values already of the right case pass through; NULL stays NULL.
    pub fn coerce_to(&self, column: &Column) -> Result<Value, Error> {
        let ty = column.type_name.to_ascii_uppercase();
        let bad = || {
            Error::invalid_input(format!(
                "column `{}` is {}: cannot store {} value {}",
                column.name,
                column.type_text,
                self.sql_type(),
                self.to_json()
            ))
        };
        let text_form = |v: &Value| -> Option<String> {
            match v {
                Value::Text(s) => Some(s.clone()),
                Value::BigInt(i) => Some(i.to_string()),
                Value::Double(f) => Some(f.to_string()),
                Value::Decimal(d) => Some(d.digits.clone()),
                Value::Boolean(b) => Some(b.to_string()),
                _ => None,
            }
        };
        if self.is_null() {
            return Ok(Value::Null);
        }
        let out = match ty.as_str() {
            "BOOLEAN" => match self {
                Value::Boolean(_) => self.clone(),
                _ => Value::parse_typed("BOOLEAN", &text_form(self).ok_or_else(bad)?).map_err(|_| bad())?,
            },
            "BYTE" | "TINYINT" | "SHORT" | "SMALLINT" | "INT" | "INTEGER" | "LONG" | "BIGINT" => {
                let i = match self {
                    Value::TinyInt(v) => i64::from(*v),
                    Value::SmallInt(v) => i64::from(*v),
                    Value::Int(v) => i64::from(*v),
                    Value::BigInt(v) => *v,
                    Value::Text(s) => s.trim().parse().map_err(|_| bad())?,
                    Value::Double(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => *f as i64,
                    // Only an integral value: `2.0` fits, `2.5` is refused rather than truncated.
                    Value::Decimal(d) => match d.digits.split_once('.') {
                        Some((int, frac)) if frac.bytes().all(|b| b == b'0') => int.parse().map_err(|_| bad())?,
                        Some(_) => return Err(bad()),
                        None => d.digits.parse().map_err(|_| bad())?,
                    },
                    _ => return Err(bad()),
                };
                match ty.as_str() {
                    "BYTE" | "TINYINT" => Value::TinyInt(i8::try_from(i).map_err(|_| bad())?),
                    "SHORT" | "SMALLINT" => Value::SmallInt(i16::try_from(i).map_err(|_| bad())?),
                    "INT" | "INTEGER" => Value::Int(i32::try_from(i).map_err(|_| bad())?),
                    _ => Value::BigInt(i),
                }
            }
            "FLOAT" | "DOUBLE" => {
                let f = match self {
                    Value::Float(v) => f64::from(*v),
                    Value::Double(v) => *v,
                    Value::BigInt(v) => *v as f64,
                    Value::Int(v) => f64::from(*v),
                    Value::Decimal(d) => parse_float(&d.digits).ok_or_else(bad)?,
                    Value::Text(s) => parse_float(s).ok_or_else(bad)?,
                    _ => return Err(bad()),
                };
                if ty == "FLOAT" { Value::Float(f as f32) } else { Value::Double(f) }
            }
            "DECIMAL" => {
                let d = match self {
                    Value::Decimal(d) => d.clone(),
                    other => Decimal::parse(&text_form(other).ok_or_else(bad)?).ok_or_else(bad)?,
                };
                match column.precision_scale() {
                    Some((p, s)) => Value::Decimal(d.with_type(p, s).ok_or_else(bad)?),
                    None => Value::Decimal(d),
                }
            }
            "STRING" | "VARCHAR" | "CHAR" => match self {
                Value::Text(_) => self.clone(),
                Value::Json(s) => Value::Text(s.clone()),
                other => Value::Text(text_form(other).ok_or_else(bad)?),
            },
            "BINARY" => match self {
                Value::Binary(_) => self.clone(),
                Value::Text(s) => Value::Binary(parse_binary(s).ok_or_else(bad)?),
                _ => return Err(bad()),
            },
            "DATE" => match self {
                Value::Date(_) => self.clone(),
                Value::Text(s) => Value::Date(Date::parse(s).ok_or_else(bad)?),
                _ => return Err(bad()),
            },
            "TIMESTAMP" | "TIMESTAMP_LTZ" => match self {
                Value::Timestamp(_) => self.clone(),
                Value::TimestampNtz(us) => Value::Timestamp(*us),
                Value::Text(s) => Value::Timestamp(parse_timestamp(s).ok_or_else(bad)?),
                Value::Date(d) => Value::Timestamp(
                    parse_timestamp(&format!("{d}T00:00:00Z")).ok_or_else(bad)?,
                ),
                _ => return Err(bad()),
            },
            "TIMESTAMP_NTZ" => match self {
                Value::TimestampNtz(_) => self.clone(),
                Value::Timestamp(us) => Value::TimestampNtz(*us),
                Value::Text(s) => Value::TimestampNtz(parse_timestamp_ntz(s).ok_or_else(bad)?),
                _ => return Err(bad()),
            },
            _ => self.clone(),
        };
        Ok(out)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Text(s) | Value::Json(s) => f.write_str(s),
            other => match other.to_json() {
                serde_json::Value::String(s) => f.write_str(&s),
                j => write!(f, "{j}"),
            },
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// Reads JSON with numbers exact (from their text, never via `f64`; see [`Value::number`]).
/// Works with `serde_json` deserializers, which can hand over a value's raw text.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        Value::from_json_text(raw.get()).map_err(serde::de::Error::custom)
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

/// Metadata of one result column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Databricks `type_name`, e.g. `DECIMAL`, `LONG`.
    pub type_name: String,
    /// Databricks `type_text`, e.g. `DECIMAL(12,2)`.
    pub type_text: String,
    /// 0-based position.
    pub position: u32,
}

impl Column {
    /// `(precision, scale)` from a `DECIMAL(p,s)` type text.
    pub fn precision_scale(&self) -> Option<(u8, u8)> {
        let (_, rest) = self.type_text.split_once('(')?;
        parse_precision_scale(rest.trim_end_matches(')'))
    }
}

fn parse_precision_scale(args: &str) -> Option<(u8, u8)> {
    let mut it = args.split(',').map(|s| s.trim().parse::<u8>());
    let p = it.next()?.ok()?;
    let s = match it.next() {
        Some(s) => s.ok()?,
        None => 0,
    };
    Some((p, s))
}

/// `text` as plain decimal digits: exponent forms (`1.25e3`, `-5E-3`) are shifted into
/// `1250`, `-0.005`; plain forms pass through. `None` if it is not a number or the exponent
/// would make more than 80 digits.
fn plain_decimal_text(text: &str) -> Option<String> {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (sign, unsigned) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    if exp == 0 {
        return Some(mantissa.to_string());
    }
    if exp.unsigned_abs() > 80 {
        return None;
    }
    let digits = format!("{int}{frac}");
    // Position of the decimal point within `digits` after shifting.
    let point = int.len() as i64 + i64::from(exp);
    let (whole, fraction) = if point <= 0 {
        ("0".to_string(), format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)))
    } else if point as usize >= digits.len() {
        (format!("{digits}{}", "0".repeat(point as usize - digits.len())), String::new())
    } else {
        (digits[..point as usize].to_string(), digits[point as usize..].to_string())
    };
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        w => w,
    };
    Some(if fraction.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") })
}

fn float_json(v: f64, single: Option<f32>) -> serde_json::Value {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else if let Some(f) = single {
        // Print the shortest text that round-trips the f32, not the widened f64.
        f.to_string().parse::<f64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::from(v))
    } else {
        serde_json::Value::from(v)
    }
}

fn parse_float(text: &str) -> Option<f64> {
    match text.trim() {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

fn parse_binary(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("X'").and_then(|h| h.strip_suffix('\''))) {
        return parse_hex(hex);
    }
    base64::engine::general_purpose::STANDARD.decode(t).ok().or_else(|| parse_hex(t))
}

fn parse_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Format microseconds since the epoch as RFC 3339 UTC (`Z`), with only as many fraction
/// digits as needed (0, 3 or 6), so the text is exact.
pub fn format_timestamp(micros: i64) -> String {
    match DateTime::<Utc>::from_timestamp_micros(micros) {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => micros.to_string(),
    }
}

/// Format microseconds of a zone-less timestamp as `YYYY-MM-DDTHH:MM:SS[.ffffff]`.
pub fn format_timestamp_ntz(micros: i64) -> String {
    match DateTime::<Utc>::from_timestamp_micros(micros) {
        Some(t) => {
            let s = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            s.trim_end_matches('Z').to_string()
        }
        None => micros.to_string(),
    }
}

/// Parse an RFC 3339 timestamp (offset required; a date-time without one is taken as UTC).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_micros());
    }
    parse_timestamp_ntz(t)
}

/// Parse a zone-less timestamp (`T` or space separator, 0–9 fraction digits).
pub fn parse_timestamp_ntz(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('Z');
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_micros())
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
