//! Typed values: decoding JSON_ARRAY cells by column type, encoding parameters and batch JSON.
//!
//! | `type_name` | [`Value`] | cell text |
//! |---|---|---|
//! | BOOLEAN | `Boolean` | `true`/`false` |
//! | BYTE, SHORT, INT, LONG | `TinyInt`..`BigInt` | decimal |
//! | FLOAT, DOUBLE | `Float`, `Double` | float text, `NaN`, `Infinity`, `-Infinity` |
//! | DECIMAL | `Decimal` | exact digits; exponent form normalised to the scale |
//! | DATE | `Date` | `YYYY-MM-DD` |
//! | TIMESTAMP / TIMESTAMP_NTZ | `Timestamp` / `TimestampNtz` | RFC 3339 / without offset |
//! | BINARY | `Binary` | base64 or hex; text valid as both is refused |
//! | INTERVAL | `Interval` | `Y-M`, `D HH:MM:SS.f` or an ANSI `INTERVAL '…' … TO …` |
//! | ARRAY, MAP, STRUCT, VARIANT | `Json` | JSON text verbatim |
//! | NULL/VOID | `Null` | null |
//! | anything else | `Text` | verbatim |

use std::borrow::Cow;
use std::fmt::Write as _;

use super::base64;
use super::error::{Error, ErrorKind, Result};
use super::time;

pub use openmatch_types::json::push_json_string;
pub use openmatch_types::value::{Date, Decimal, Interval, Value};

/// Metadata of one result column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Databricks `type_name` (open string).
    pub type_name: String,
    /// Databricks `type_text`.
    pub type_text: String,
    /// 0-based position.
    pub position: u32,
    /// `type_precision`, when given.
    pub precision: Option<u8>,
    /// `type_scale`, when given.
    pub scale: Option<u8>,
}

impl Column {
    /// Precision and scale of a DECIMAL column: the manifest's fields, else `DECIMAL(p,s)` text, else (10,0).
    pub fn decimal_precision_scale(&self) -> (u8, u8) {
        let from_text = || {
            let inner = self
                .type_text
                .trim()
                .strip_prefix("DECIMAL(")?
                .strip_suffix(')')?;
            let (p, s) = inner.split_once(',')?;
            Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
        };
        match (self.precision, self.scale) {
            (Some(p), Some(s)) => (p, s),
            _ => from_text().unwrap_or((10, 0)),
        }
    }
}

pub(crate) fn bad(col: &Column, cell: &str) -> Error {
    let shown: String = cell.chars().take(64).collect();
    Error::server(format!(
        "malformed {} value {shown:?} in column {:?}",
        col.type_name, col.name
    ))
}

/// Whether `s` is plain decimal text: `[-+]digits[.digits]`.
pub fn is_decimal_text(s: &str) -> bool {
    // One pass: this runs for every DECIMAL cell of a result.
    let b = s.as_bytes();
    let body = match b.first() {
        Some(b'-' | b'+') => &b[1..],
        _ => b,
    };
    let (mut digits, mut dot) = (false, false);
    for &c in body {
        match c {
            b'0'..=b'9' => digits = true,
            b'.' if !dot => dot = true,
            _ => return false,
        }
    }
    digits && body.last() != Some(&b'.')
}

/// The digits of a DECIMAL cell of `scale`: plain decimal text as it is, exponent form
/// (`0E-18`, `1.5E+3`: Java's `BigDecimal.toString`) normalised to `scale` digits after the point
/// ([`normalize_decimal`]); anything else, or a value that would need rounding, is a `server`
/// error.
pub fn decimal_cell<'a>(col: &Column, cell: &'a str, scale: u8) -> Result<Cow<'a, str>> {
    if is_decimal_text(cell) {
        return Ok(Cow::Borrowed(cell));
    }
    let (precision, _) = col.decimal_precision_scale();
    normalize_decimal(cell, scale)
        .filter(|d| decimal_digits(d) <= usize::from(precision))
        .map(Cow::Owned)
        .ok_or_else(|| bad(col, cell))
}

/// How many digits decimal text has, leading zeros aside (what counts against a precision).
pub fn decimal_digits(d: &str) -> usize {
    let digits = d.bytes().filter(u8::is_ascii_digit);
    let total = digits.clone().count();
    total - digits.take_while(|&b| b == b'0').count()
}

/// Most digits a normalised decimal may have (DECIMAL allows 38).
const MAX_DECIMAL_DIGITS: usize = 40;

/// Decimal text, plain or with an exponent (`[-+]digits[.digits][(e|E)[-+]digits]`), as plain
/// text with exactly `scale` digits after the point (none when `scale` is 0): `0E-18` at scale
/// 18 is `0.000000000000000000`, `1.5E+3` at scale 2 is `1500.00`. `None` when `s` is not such
/// text, when digits other than zeros would be cut (no rounding), or past 40 digits.
pub fn normalize_decimal(s: &str, scale: u8) -> Option<String> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => {
            let e = s.get(i + 1..)?;
            if e.is_empty() || e.len() > 6 {
                return None;
            }
            (s.get(..i)?, e.parse::<i64>().ok()?)
        }
        None => (s, 0),
    };
    if !is_decimal_text(mantissa) {
        return None;
    }
    let (neg, body) = match mantissa.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut digits = format!("{int}{frac}");
    // `digits × 10^shift` is the value scaled by 10^scale.
    let shift = exp - frac.len() as i64 + i64::from(scale);
    let significant = digits.trim_start_matches('0').len();
    if shift >= 0 {
        if significant > 0 {
            if significant as i64 + shift > MAX_DECIMAL_DIGITS as i64 {
                return None;
            }
            digits.extend(std::iter::repeat_n('0', shift as usize));
        }
    } else {
        let cut = usize::try_from(shift.unsigned_abs())
            .ok()?
            .min(digits.len());
        let (keep, dropped) = digits.split_at(digits.len() - cut);
        // Cut past every digit: only a zero may be cut that far.
        let beyond = shift.unsigned_abs() as usize > cut && significant > 0;
        if beyond || dropped.bytes().any(|b| b != b'0') {
            return None;
        }
        digits = keep.to_owned();
    }
    let unscaled = digits.trim_start_matches('0');
    if unscaled.len() > MAX_DECIMAL_DIGITS {
        return None;
    }
    let scale = usize::from(scale);
    let mut padded = String::with_capacity(unscaled.len().max(scale + 1) + 2);
    if neg && !unscaled.is_empty() {
        padded.push('-');
    }
    padded.extend(std::iter::repeat_n(
        '0',
        (scale + 1).saturating_sub(unscaled.len()),
    ));
    padded.push_str(unscaled);
    if scale > 0 {
        padded.insert(padded.len() - scale, '.');
    }
    Some(padded)
}

/// Parse integer text of the target width (surrounding whitespace allowed): a direct digit loop
/// for the plain `-?[0-9]+` form every integer cell has, `str::parse` otherwise.
pub(crate) fn parse_int<I: TryFrom<i64> + std::str::FromStr>(s: &str) -> Option<I> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return s.trim().parse().ok();
    }
    // At most 18 digits: no overflow in i64.
    let magnitude = digits
        .iter()
        .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    I::try_from(if neg { -magnitude } else { magnitude }).ok()
}

/// Parse float text (Rust's grammar plus Spark's `NaN`, `Infinity`, `-Infinity`) directly in the
/// target width, so a FLOAT is not rounded twice.
fn parse_float<F: std::str::FromStr>(s: &str) -> Option<F> {
    let t = s.trim();
    let t = match t {
        "NaN" => "NaN",
        "Infinity" | "+Infinity" => "inf",
        "-Infinity" => "-inf",
        t => t,
    };
    t.parse().ok()
}

/// How a column's cells decode, worked out once per column from its `type_name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// NULL/VOID.
    Null,
    /// BOOLEAN.
    Boolean,
    /// BYTE/TINYINT.
    TinyInt,
    /// SHORT/SMALLINT.
    SmallInt,
    /// INT.
    Int,
    /// LONG/BIGINT.
    BigInt,
    /// FLOAT.
    Float,
    /// DOUBLE.
    Double,
    /// DECIMAL with precision and scale.
    Decimal(u8, u8),
    /// DATE.
    Date,
    /// TIMESTAMP (with offset).
    Timestamp,
    /// TIMESTAMP_NTZ.
    TimestampNtz,
    /// BINARY.
    Binary,
    /// INTERVAL.
    Interval,
    /// ARRAY/MAP/STRUCT/VARIANT.
    Json,
    /// STRING and anything unknown.
    Text,
}

impl Column {
    /// How this column's cells decode.
    pub fn kind(&self) -> Kind {
        let t = self.type_name.trim();
        let is = |names: &[&str]| names.iter().any(|n| t.eq_ignore_ascii_case(n));
        if is(&["NULL", "VOID"]) {
            Kind::Null
        } else if is(&["BOOLEAN"]) {
            Kind::Boolean
        } else if is(&["BYTE", "TINYINT"]) {
            Kind::TinyInt
        } else if is(&["SHORT", "SMALLINT"]) {
            Kind::SmallInt
        } else if is(&["INT", "INTEGER"]) {
            Kind::Int
        } else if is(&["LONG", "BIGINT"]) {
            Kind::BigInt
        } else if is(&["FLOAT", "REAL"]) {
            Kind::Float
        } else if is(&["DOUBLE"]) {
            Kind::Double
        } else if is(&["DECIMAL", "DEC", "NUMERIC"]) {
            let (p, s) = self.decimal_precision_scale();
            Kind::Decimal(p, s)
        } else if is(&["DATE"]) {
            Kind::Date
        } else if is(&["TIMESTAMP", "TIMESTAMP_LTZ"]) {
            Kind::Timestamp
        } else if is(&["TIMESTAMP_NTZ"]) {
            Kind::TimestampNtz
        } else if is(&["BINARY"]) {
            Kind::Binary
        } else if is(&["INTERVAL"]) {
            Kind::Interval
        } else if is(&["ARRAY", "MAP", "STRUCT", "VARIANT"]) {
            Kind::Json
        } else {
            Kind::Text
        }
    }
}

/// Decode one JSON_ARRAY cell of `col`; malformed text is a `server` error.
pub fn decode_cell(col: &Column, cell: Option<&str>) -> Result<Value> {
    decode_as(col.kind(), col, cell)
}

/// Decode one cell of `col` whose kind is `kind` (see [`Column::kind`]).
pub fn decode_as(kind: Kind, col: &Column, cell: Option<&str>) -> Result<Value> {
    let Some(s) = cell else {
        return Ok(Value::Null);
    };
    let e = || bad(col, s);
    let v = match kind {
        Kind::Null => Value::Null,
        Kind::Boolean => match s {
            "true" | "TRUE" | "True" => Value::Boolean(true),
            "false" | "FALSE" | "False" => Value::Boolean(false),
            _ => return Err(e()),
        },
        Kind::TinyInt => Value::TinyInt(parse_int(s).ok_or_else(e)?),
        Kind::SmallInt => Value::SmallInt(parse_int(s).ok_or_else(e)?),
        Kind::Int => Value::Int(parse_int(s).ok_or_else(e)?),
        Kind::BigInt => Value::BigInt(parse_int(s).ok_or_else(e)?),
        Kind::Float => Value::Float(parse_float(s).ok_or_else(e)?),
        Kind::Double => Value::Double(parse_float(s).ok_or_else(e)?),
        Kind::Decimal(precision, scale) => Value::Decimal(Decimal {
            digits: decimal_cell(col, s, scale)?.into_owned(),
            precision,
            scale,
        }),
        Kind::Date => {
            let (year, month, day) = time::parse_date(s.trim()).ok_or_else(e)?;
            Value::Date(Date { year, month, day })
        }
        Kind::Timestamp => Value::Timestamp(time::parse_timestamp(s, true).ok_or_else(e)?),
        Kind::TimestampNtz => Value::TimestampNtz(time::parse_timestamp(s, false).ok_or_else(e)?),
        Kind::Binary => Value::Binary(binary_cell(col, s)?),
        Kind::Interval => {
            let (months, micros) = time::parse_interval(s).ok_or_else(e)?;
            Value::Interval(Interval { months, micros })
        }
        Kind::Json => Value::Json(s.to_owned()),
        Kind::Text => Value::Text(s.to_owned()),
    };
    Ok(v)
}

/// The `error-code` of a BINARY cell that reads as both hex and base64.
pub const AMBIGUOUS_BINARY: &str = "AMBIGUOUS_BINARY_TEXT";

/// The bytes of a BINARY cell: base64 (what the local warehouse sends) or hex (what some servers
/// send). Text valid as both (e.g. `00FF`, which is also base64 of 3 other bytes) is refused
/// with a `server` error whose `error-code` is [`AMBIGUOUS_BINARY`] rather than guessed;
/// ARROW_STREAM results carry BINARY exactly.
pub fn binary_cell(col: &Column, cell: &str) -> Result<Vec<u8>> {
    let t = cell.trim();
    match (base64::decode(t), base64::hex_decode(t)) {
        (Some(b), Some(h)) if b != h => {
            let shown: String = t.chars().take(64).collect();
            let mut e = Error::new(
                ErrorKind::Server,
                format!(
                    "ambiguous BINARY value {shown:?} in column {:?}: it reads as both hex and \
                     base64; select hex(col) or base64(col) as text, or use result-format arrow",
                    col.name
                ),
            );
            e.error_code = Some(AMBIGUOUS_BINARY.into());
            Err(e)
        }
        (Some(b), _) | (None, Some(b)) => Ok(b),
        (None, None) => Err(bad(col, cell)),
    }
}

/// Shortest round-trip text of a double; `NaN`, `Infinity`, `-Infinity` for the specials.
pub fn format_double(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        // zmij (serde_json's float printer, already linked) instead of `{:?}`: the same
        // shortest round-trip digits without pulling core's float formatting into the .wasm.
        zmij::Buffer::new().format_finite(x).to_owned()
    }
}

/// Shortest round-trip text of a float (same specials as [`format_double`]).
pub fn format_float(x: f32) -> String {
    if x.is_finite() {
        zmij::Buffer::new().format_finite(x).to_owned()
    } else {
        format_double(f64::from(x))
    }
}

/// One native statement parameter `{name, value, type}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// Marker name.
    pub name: String,
    /// The value text, absent for NULL.
    pub value: Option<String>,
    /// SQL type text.
    pub sql_type: String,
    /// Whether the marker must be written `unhex(:name)` (binary values).
    pub unhex: bool,
}

fn check_decimal(d: &Decimal) -> Result<()> {
    if !is_decimal_text(&d.digits) || d.precision == 0 || d.precision > 38 || d.scale > d.precision
    {
        return Err(Error::invalid(format!(
            "invalid decimal {:?} ({},{})",
            d.digits, d.precision, d.scale
        )));
    }
    Ok(())
}

fn check_date(d: &Date) -> Result<()> {
    if !time::valid_date(d.year, d.month, d.day) {
        return Err(Error::invalid(format!(
            "invalid date {}-{}-{}",
            d.year, d.month, d.day
        )));
    }
    Ok(())
}

/// Encode `value` as a native parameter named `name` (see docs/wire.md, Parameters).
pub fn param_spec(name: &str, value: &Value) -> Result<ParamSpec> {
    let p = |value: Option<String>, ty: &str| ParamSpec {
        name: name.to_owned(),
        value,
        sql_type: ty.to_owned(),
        unhex: false,
    };
    Ok(match value {
        Value::Null => p(None, "STRING"),
        Value::Boolean(b) => p(Some(b.to_string()), "BOOLEAN"),
        Value::TinyInt(i) => p(Some(i.to_string()), "TINYINT"),
        Value::SmallInt(i) => p(Some(i.to_string()), "SMALLINT"),
        Value::Int(i) => p(Some(i.to_string()), "INT"),
        Value::BigInt(i) => p(Some(i.to_string()), "BIGINT"),
        Value::Float(f) => p(Some(format_float(*f)), "FLOAT"),
        Value::Double(f) => p(Some(format_double(*f)), "DOUBLE"),
        Value::Decimal(d) => {
            check_decimal(d)?;
            p(
                Some(d.digits.clone()),
                &format!("DECIMAL({},{})", d.precision, d.scale),
            )
        }
        Value::Text(s) => p(Some(s.clone()), "STRING"),
        Value::Binary(b) => ParamSpec {
            unhex: true,
            ..p(Some(base64::hex_encode(b)), "STRING")
        },
        Value::Date(d) => {
            check_date(d)?;
            p(
                Some(time::format_date(i64::from(d.year), d.month, d.day)),
                "DATE",
            )
        }
        Value::Timestamp(t) => p(
            Some(format!("{}Z", time::format_timestamp(*t, 'T'))),
            "TIMESTAMP",
        ),
        Value::TimestampNtz(t) => p(Some(time::format_timestamp(*t, ' ')), "TIMESTAMP_NTZ"),
        Value::Interval(_) => {
            return Err(Error::invalid(format!(
                "parameter {name:?}: intervals cannot be parameters"
            )));
        }
        Value::Json(_) => {
            return Err(Error::invalid(format!(
                "parameter {name:?}: complex (json) values cannot be parameters"
            )));
        }
    })
}

/// The struct-field SQL type of a value in batch JSON; `None` for null; intervals are rejected.
pub fn batch_type(value: &Value) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::Text(_) | Value::Json(_) => Ok(Some("STRING".into())),
        Value::Interval(_) => Err(Error::invalid("interval values cannot be written")),
        other => Ok(Some(other.sql_type())),
    }
}

/// Append `value` as a batch-JSON value to `out` (docs/wire.md, Batched writes).
pub fn push_json_value(out: &mut String, value: &Value) -> Result<()> {
    let float = |out: &mut String, text: String, finite: bool| {
        if finite {
            out.push_str(&text)
        } else {
            push_json_string(out, &text)
        }
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        // Written in place (`fmt::Write` for `String` cannot fail): no string per cell.
        Value::TinyInt(i) => _ = write!(out, "{i}"),
        Value::SmallInt(i) => _ = write!(out, "{i}"),
        Value::Int(i) => _ = write!(out, "{i}"),
        Value::BigInt(i) => _ = write!(out, "{i}"),
        Value::Float(f) => float(out, format_float(*f), f.is_finite()),
        Value::Double(f) => float(out, format_double(*f), f.is_finite()),
        Value::Decimal(d) => {
            check_decimal(d)?;
            // JSON numbers have no leading '+' and no bare leading '.'.
            let digits = d.digits.strip_prefix('+').unwrap_or(&d.digits);
            let (sign, body) = digits.strip_prefix('-').map_or(("", digits), |b| ("-", b));
            out.push_str(sign);
            if body.starts_with('.') {
                out.push('0');
            }
            out.push_str(body);
        }
        Value::Text(s) | Value::Json(s) => push_json_string(out, s),
        Value::Binary(b) => push_json_string(out, &base64::encode(b)),
        Value::Date(d) => {
            check_date(d)?;
            push_json_string(out, &time::format_date(i64::from(d.year), d.month, d.day));
        }
        Value::Timestamp(t) => {
            push_json_string(out, &format!("{}Z", time::format_timestamp(*t, 'T')))
        }
        Value::TimestampNtz(t) => push_json_string(out, &time::format_timestamp(*t, 'T')),
        Value::Interval(_) => return Err(Error::invalid("interval values cannot be written")),
    }
    Ok(())
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
