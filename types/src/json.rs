//! JSON forms of values: the string escaper the guest writes batches with, and the
//! `serde_json` form a host prints and reads records in.
//!
//! | [`Value`] | JSON ([`Value::to_json`]) |
//! |---|---|
//! | `Null`, `Boolean`, integers | `null`, `true`/`false`, number |
//! | `Float` / `Double` | number; `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | `Decimal` | string of the exact digits, e.g. `"12.50"` |
//! | `Text` | string |
//! | `Binary` | base64 string |
//! | `Date` | `"YYYY-MM-DD"` |
//! | `Timestamp` | RFC 3339 UTC, as few fraction digits as stay exact: `"2024-01-02T03:04:05.123Z"` |
//! | `TimestampNtz` | the same without offset |
//! | `Interval` | `"Y-M"` or `"D HH:MM:SS.ffffff"` |
//! | `Json` | the JSON itself (parsed), or a string if it does not parse |
//!
//! Going the other way, [`Value::from_json_text`] (and `Deserialize`) infer a value from JSON
//! alone: integers → `BigInt`, other numbers → an exact `Decimal` read from the number's text,
//! never via `f64`, strings → `Text`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::base64;
use crate::time::{self, Fraction};
use crate::value::{Decimal, Value};

/// Append `s` as a JSON string literal to `out`: runs that need no escape are copied whole.
pub fn push_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // `b` is ASCII, so `run..i` and `i + 1..` fall on character boundaries.
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Microseconds since the epoch as RFC 3339 UTC (`Z`), with only as many fraction digits as
/// needed (0, 3 or 6), so the text is exact.
pub fn format_timestamp(micros: i64) -> String {
    format!(
        "{}Z",
        time::format_timestamp_with(micros, 'T', Fraction::Shortest)
    )
}

/// Microseconds of a zone-less timestamp as `YYYY-MM-DDTHH:MM:SS[.fff[fff]]`.
pub fn format_timestamp_ntz(micros: i64) -> String {
    time::format_timestamp_with(micros, 'T', Fraction::Shortest)
}

impl Value {
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
            Value::Binary(b) => J::String(base64::encode(b)),
            Value::Date(d) => J::String(d.to_string()),
            Value::Timestamp(us) => J::String(format_timestamp(*us)),
            Value::TimestampNtz(us) => J::String(format_timestamp_ntz(*us)),
            Value::Interval(i) => J::String(i.to_string()),
            Value::Json(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| J::String(text.clone()))
            }
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
        let numeric = !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
        match t.parse::<f64>() {
            Ok(f) if numeric && f.is_finite() => Some(Value::Double(f)),
            _ => None,
        }
    }

    /// Command-line text: a number → exactly as [`Value::number`] reads it (`BigInt`,
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
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
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
        (
            "0".to_string(),
            format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
        )
    } else if point as usize >= digits.len() {
        (
            format!("{digits}{}", "0".repeat(point as usize - digits.len())),
            String::new(),
        )
    } else {
        (
            digits[..point as usize].to_string(),
            digits[point as usize..].to_string(),
        )
    };
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        w => w,
    };
    Some(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

fn float_json(v: f64, single: Option<f32>) -> serde_json::Value {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if let Some(f) = single {
        // Print the shortest text that round-trips the f32, not the widened f64.
        f.to_string()
            .parse::<f64>()
            .map(serde_json::Value::from)
            .unwrap_or(serde_json::Value::from(v))
    } else {
        serde_json::Value::from(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_few_fraction_digits_as_stay_exact() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(1_500_000), "1970-01-01T00:00:01.500Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(
            format_timestamp_ntz(1_000_001),
            "1970-01-01T00:00:01.000001"
        );
        assert_eq!(
            time::format_timestamp(1_500_000, ' '),
            "1970-01-01 00:00:01.500000"
        );
    }

    #[test]
    fn escaper_writes_json_that_serde_reads_back() {
        let text = "a\"b\\c\nd\u{1}é";
        let mut out = String::new();
        push_json_string(&mut out, text);
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text);
    }

    #[test]
    fn plain_decimal_text_shifts_exponents() {
        assert_eq!(plain_decimal_text("1.25e3").as_deref(), Some("1250"));
        assert_eq!(plain_decimal_text("-5E-3").as_deref(), Some("-0.005"));
        assert_eq!(plain_decimal_text("12.5").as_deref(), Some("12.5"));
        assert_eq!(plain_decimal_text("0.5e1").as_deref(), Some("5"));
        assert_eq!(plain_decimal_text("1e999"), None);
        assert_eq!(plain_decimal_text("abc"), None);
    }
}
