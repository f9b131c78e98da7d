//! Exact or refused: every value of a write is checked against its target column before the
//! first batch is sent.
//!
//! The table's columns come from `SELECT * FROM <table> LIMIT 0` (one round trip per write). For
//! the numeric, date and timestamp columns the batch then carries each value already in the
//! column's own type (`from_json` parses straight into it), so the INSERT or MERGE casts nothing:
//! a real warehouse cannot round a decimal, wrap an integer or drop a time of day behind the
//! connector's back. A value that does not fit is an `invalid-input` error naming the record and
//! the column, and nothing is written.
//!
//! Other columns (STRING, BOOLEAN, BINARY, CHAR/VARCHAR, complex types) keep the value's own type
//! in the batch, and the server's cast rules apply as before (docs/wire.md, Batched writes).

use std::borrow::Cow;

use crate::core::value::{
    Column, Date, Decimal, Value, decimal_digits, format_double, format_float, normalize_decimal,
};
use crate::core::{error::Error, time};

/// What a target column holds, for the columns whose values are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// TINYINT, SMALLINT, INT, BIGINT: an integer of this many bits.
    Integer(u8),
    /// FLOAT.
    Float,
    /// DOUBLE.
    Double,
    /// DECIMAL(precision, scale).
    Decimal(u8, u8),
    /// DATE.
    Date,
    /// TIMESTAMP (an instant).
    Timestamp,
    /// TIMESTAMP_NTZ (a wall-clock time).
    TimestampNtz,
}

impl Target {
    /// The checked target of a table column, from the manifest's `type_name`; `None` for the
    /// columns whose values go as they are.
    pub fn of(col: &Column) -> Option<Target> {
        Some(match col.type_name.to_ascii_uppercase().as_str() {
            "BYTE" | "TINYINT" => Target::Integer(8),
            "SHORT" | "SMALLINT" => Target::Integer(16),
            "INT" | "INTEGER" => Target::Integer(32),
            "LONG" | "BIGINT" => Target::Integer(64),
            "FLOAT" | "REAL" => Target::Float,
            "DOUBLE" => Target::Double,
            "DECIMAL" => {
                let (p, s) = col.decimal_precision_scale();
                Target::Decimal(p, s)
            }
            "DATE" => Target::Date,
            "TIMESTAMP" => Target::Timestamp,
            "TIMESTAMP_NTZ" => Target::TimestampNtz,
            _ => return None,
        })
    }

    /// The SQL type of the batch field that carries this column.
    pub fn sql(self) -> String {
        match self {
            Target::Integer(8) => "TINYINT".into(),
            Target::Integer(16) => "SMALLINT".into(),
            Target::Integer(32) => "INT".into(),
            Target::Integer(_) => "BIGINT".into(),
            Target::Float => "FLOAT".into(),
            Target::Double => "DOUBLE".into(),
            Target::Decimal(p, s) => format!("DECIMAL({p},{s})"),
            Target::Date => "DATE".into(),
            Target::Timestamp => "TIMESTAMP".into(),
            Target::TimestampNtz => "TIMESTAMP_NTZ".into(),
        }
    }
}

/// The statement that reads a table's columns without reading a row.
pub fn schema_sql(quoted_table: &str) -> String {
    format!("SELECT * FROM {quoted_table} LIMIT 0")
}

/// `value` as it goes into a batch field of `target`, or why it does not fit. Borrowed when the
/// value is already in the target's form.
pub fn fit(value: &Value, target: Target) -> Result<Cow<'_, Value>, String> {
    match (target, value) {
        (_, Value::Null) => Ok(Cow::Borrowed(value)),
        (Target::Integer(bits), v) => integer(v, bits).map(|i| Cow::Owned(Value::BigInt(i))),
        (Target::Float, Value::Float(_)) | (Target::Double, Value::Double(_)) => {
            Ok(Cow::Borrowed(value))
        }
        (Target::Float, v) => {
            let x = float(v)?;
            let f = x as f32;
            if x.is_finite() && !f.is_finite() {
                return Err(format!("{} is out of FLOAT range", format_double(x)));
            }
            Ok(Cow::Owned(Value::Float(f)))
        }
        (Target::Double, v) => float(v).map(|x| Cow::Owned(Value::Double(x))),
        (Target::Decimal(p, s), v) => decimal_cow(v, p, s),
        (Target::Date, v) => date(v).map(Cow::Owned),
        (Target::Timestamp, Value::Timestamp(t))
        | (Target::TimestampNtz, Value::TimestampNtz(t)) => {
            in_range(*t).map(|_| Cow::Borrowed(value))
        }
        (Target::Timestamp, Value::TimestampNtz(_)) => Err(
            "a TIMESTAMP_NTZ (wall-clock) value for a TIMESTAMP column: its instant depends on \
             the session time zone; pass a timestamp"
                .into(),
        ),
        (Target::TimestampNtz, Value::Timestamp(_)) => Err(
            "a TIMESTAMP (instant) value for a TIMESTAMP_NTZ column: its wall-clock time \
             depends on the session time zone; pass a timestamp-ntz"
                .into(),
        ),
        (Target::Timestamp | Target::TimestampNtz, Value::Date(d)) => {
            check_date(d)?;
            let micros = time::days_from_civil(d.year, d.month, d.day) * 86_400_000_000;
            Ok(Cow::Owned(if target == Target::Timestamp {
                Value::Timestamp(micros)
            } else {
                Value::TimestampNtz(micros)
            }))
        }
        (Target::Timestamp | Target::TimestampNtz, Value::Text(s)) => {
            let ntz = target == Target::TimestampNtz;
            let t = time::parse_timestamp(s, !ntz)
                .ok_or_else(|| format!("{} is not a {}", shown(s), target.sql()))?;
            in_range(t)?;
            Ok(Cow::Owned(if ntz {
                Value::TimestampNtz(t)
            } else {
                Value::Timestamp(t)
            }))
        }
        (_, v) => Err(format!("{} value for a {} column", kind(v), target.sql())),
    }
}

/// A timestamp's year must print as four digits (0001..=9999), the range Databricks parses.
fn in_range(micros: i64) -> Result<(), String> {
    let (y, _, _) = time::civil_from_days(micros.div_euclid(86_400_000_000));
    if (1..=9999).contains(&y) {
        Ok(())
    } else {
        Err(format!("year {y} is outside 0001..9999"))
    }
}

fn check_date(d: &Date) -> Result<(), String> {
    if !time::valid_date(d.year, d.month, d.day) {
        return Err(format!("{}-{}-{} is not a date", d.year, d.month, d.day));
    }
    if !(1..=9999).contains(&d.year) {
        return Err(format!("year {} is outside 0001..9999", d.year));
    }
    Ok(())
}

fn date(v: &Value) -> Result<Value, String> {
    let d = match v {
        Value::Date(d) => *d,
        Value::Text(s) => {
            let (year, month, day) =
                time::parse_date(s).ok_or_else(|| format!("{} is not a DATE", shown(s)))?;
            Date { year, month, day }
        }
        Value::Timestamp(t) | Value::TimestampNtz(t) => {
            if t.rem_euclid(86_400_000_000) != 0 {
                return Err("a timestamp with a time of day for a DATE column".into());
            }
            let (y, month, day) = time::civil_from_days(t.div_euclid(86_400_000_000));
            let year = i32::try_from(y).map_err(|_| format!("year {y} is outside 0001..9999"))?;
            Date { year, month, day }
        }
        other => return Err(format!("{} value for a DATE column", kind(other))),
    };
    check_date(&d)?;
    Ok(Value::Date(d))
}

fn integer(v: &Value, bits: u8) -> Result<i64, String> {
    let wide: i128 = match v {
        Value::TinyInt(i) => (*i).into(),
        Value::SmallInt(i) => (*i).into(),
        Value::Int(i) => (*i).into(),
        Value::BigInt(i) => (*i).into(),
        Value::Decimal(d) => whole(&d.digits)?,
        Value::Text(s) => whole(s)?,
        Value::Float(f) => whole_float(f64::from(*f), &format_float(*f))?,
        Value::Double(f) => whole_float(*f, &format_double(*f))?,
        other => return Err(format!("{} value for an integer column", kind(other))),
    };
    let max = (1i128 << (bits - 1)) - 1;
    if wide < -max - 1 || wide > max {
        return Err(format!(
            "{wide} is out of {} range",
            Target::Integer(bits).sql()
        ));
    }
    // In range of at most 64 bits, so it fits.
    i64::try_from(wide).map_err(|_| format!("{wide} is out of range"))
}

/// A whole number from decimal text (plain or exponent form, `.0` fractions allowed).
fn whole(text: &str) -> Result<i128, String> {
    let plain = normalize_decimal(text, 0)
        .ok_or_else(|| format!("{} is not a whole number", shown(text)))?;
    plain
        .parse::<i128>()
        .map_err(|_| format!("{} is out of range", shown(text)))
}

fn whole_float(x: f64, text: &str) -> Result<i128, String> {
    if !x.is_finite() || x.fract() != 0.0 {
        return Err(format!("{text} is not a whole number"));
    }
    whole(text).map_err(|_| format!("{text} is out of range"))
}

fn float(v: &Value) -> Result<f64, String> {
    Ok(match v {
        Value::TinyInt(i) => (*i).into(),
        Value::SmallInt(i) => (*i).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => (*f).into(),
        Value::Double(f) => *f,
        Value::BigInt(i) => {
            let x = *i as f64;
            // Past 2^53 an integer may not have a double of its own.
            if x as i128 != i128::from(*i) {
                return Err(format!("{i} has no exact DOUBLE"));
            }
            x
        }
        Value::Decimal(d) => parse_float(&d.digits)?,
        Value::Text(s) => parse_float(s)?,
        other => return Err(format!("{} value for a floating-point column", kind(other))),
    })
}

fn parse_float(s: &str) -> Result<f64, String> {
    // Rust's parser also takes `inf`/`NaN` spellings, which Databricks' JSON reader does too.
    s.trim()
        .parse::<f64>()
        .map_err(|_| format!("{} is not a number", shown(s)))
}

/// Whether plain decimal text fits DECIMAL(p,s) as it is (the common case: no copy).
fn fits_as_is(digits: &str, p: u8, s: u8) -> bool {
    if !crate::core::value::is_decimal_text(digits) {
        return false;
    }
    let body = digits.trim_start_matches(['-', '+']);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0').len();
    frac.len() <= usize::from(s) && int <= usize::from(p - s)
}

fn decimal_cow(v: &Value, p: u8, s: u8) -> Result<Cow<'_, Value>, String> {
    match v {
        Value::Decimal(d) if fits_as_is(&d.digits, p, s) => Ok(Cow::Borrowed(v)),
        _ => decimal(v, p, s).map(Cow::Owned),
    }
}

fn decimal(v: &Value, p: u8, s: u8) -> Result<Value, String> {
    let text: Cow<'_, str> = match v {
        Value::TinyInt(i) => i.to_string().into(),
        Value::SmallInt(i) => i.to_string().into(),
        Value::Int(i) => i.to_string().into(),
        Value::BigInt(i) => i.to_string().into(),
        Value::Decimal(d) => Cow::Borrowed(&d.digits),
        Value::Text(t) => Cow::Borrowed(t.trim()),
        // The shortest text that reads back as the same float: what the caller wrote.
        Value::Float(f) if f.is_finite() => format_float(*f).into(),
        Value::Double(f) if f.is_finite() => format_double(*f).into(),
        other => {
            return Err(format!(
                "{} value for a DECIMAL({p},{s}) column",
                kind(other)
            ));
        }
    };
    let digits = normalize_decimal(&text, s).ok_or_else(|| {
        if crate::core::value::is_decimal_text(text.trim_start_matches(['-', '+']))
            || text.contains(['e', 'E'])
        {
            format!(
                "{} has more than {s} digits after the point (DECIMAL({p},{s}) would round it)",
                shown(&text)
            )
        } else {
            format!("{} is not a number", shown(&text))
        }
    })?;
    if decimal_digits(&digits) > usize::from(p) {
        return Err(format!("{} does not fit DECIMAL({p},{s})", shown(&text)));
    }
    Ok(Value::Decimal(Decimal {
        digits,
        precision: p,
        scale: s,
    }))
}

/// How a value is named in an error.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "a null",
        Value::Boolean(_) => "a BOOLEAN",
        Value::TinyInt(_) | Value::SmallInt(_) | Value::Int(_) | Value::BigInt(_) => "an integer",
        Value::Float(_) | Value::Double(_) => "a floating-point",
        Value::Decimal(_) => "a DECIMAL",
        Value::Text(_) => "a string",
        Value::Json(_) => "a JSON",
        Value::Binary(_) => "a BINARY",
        Value::Date(_) => "a DATE",
        Value::Timestamp(_) => "a TIMESTAMP",
        Value::TimestampNtz(_) => "a TIMESTAMP_NTZ",
        Value::Interval(_) => "an INTERVAL",
    }
}

/// A value's text in an error: quoted and cut at 64 characters.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(64).collect();
    format!("{cut:?}")
}

/// The `invalid-input` error of record `index` (0-based) whose field `column` does not fit.
pub fn misfit(index: usize, column: &str, why: &str) -> Error {
    Error::invalid(format!(
        "record {index}, column {column:?}: {why}; nothing was written"
    ))
}

#[cfg(test)]
#[path = "fit_tests.rs"]
mod tests;
