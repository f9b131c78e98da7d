//! Host-side typing of values: the table's columns ([`Column`]) and the [`Coerce`] rules that
//! turn text from the command line or a records file into the exact type of a column.
//!
//! The values themselves and their JSON forms are the shared vocabulary (`openmatch-types`),
//! re-exported here: [`Value`], [`Decimal`], [`Date`], [`Interval`]. [`Row::from_json_object`]
//! infers a value from JSON alone (integers → `BigInt`, other numbers → an exact `Decimal`
//! read from the number's text, never via `f64`, strings → `Text`), and [`Coerce::coerce_to`]
//! converts those inferred values to the exact type of each target column (e.g. `"12.50"` →
//! `DECIMAL(12,2)`, `"2024-01-01"` → `DATE`), which is what the CLI's `write` does with the
//! table's schema.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use openmatch_types::base64;
use serde::{Deserialize, Serialize};

use crate::error::Error;
pub use crate::row::Row;
pub use openmatch_types::json::{format_timestamp, format_timestamp_ntz};
pub use openmatch_types::value::{Date, Decimal, Interval, Value};

/// Typing text and inferred values by SQL type (bring it into scope to call these on [`Value`]).
pub trait Coerce: Sized {
    /// Parse `text` as a value of the SQL type `ty` (`BIGINT`, `DECIMAL(12,2)`, `DATE`, …; the
    /// names of the Databricks `type_name`s are accepted too: `LONG`, `SHORT`, `BYTE`).
    fn parse_typed(ty: &str, text: &str) -> Result<Self, Error>;

    /// Convert an inferred value (from JSON or the command line) to the exact type of `column`.
    /// Values already of the right case pass through; NULL stays NULL.
    fn coerce_to(&self, column: &Column) -> Result<Self, Error>;
}

impl Coerce for Value {
    fn parse_typed(ty: &str, text: &str) -> Result<Value, Error> {
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

    fn coerce_to(&self, column: &Column) -> Result<Value, Error> {
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
        return base64::hex_decode(hex);
    }
    base64::decode(t).or_else(|| base64::hex_decode(t))
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
