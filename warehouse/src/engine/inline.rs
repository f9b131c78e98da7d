//! `inline(from_json(:rows, 'ARRAY<STRUCT<c0: T0, ...>>'))`: the JSON array parameter decoded with
//! the declared struct schema into one Arrow batch (docs/wire.md "Batched writes").

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use deltalake::arrow::array::{
    Array, ArrayRef, BinaryArray, Float32Array, Float64Array, RecordBatch, StringArray,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::json::ReaderBuilder;
use serde_json::value::RawValue;

use super::error::SqlError;
use super::types::{TypeError, parse_type};

/// How `from_json` treats a value that does not fit its declared type (its `mode` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParseMode {
    /// The service's default: a field that does not fit its type becomes NULL, an element that
    /// is not an object a row of NULLs, text that is not a JSON array no rows; decimals are
    /// rounded HALF_UP to the field's scale (NULL when the precision is exceeded).
    #[default]
    Permissive,
    /// `map('mode', 'FAILFAST')`: any record that does not fit fails the statement; decimals are
    /// rounded HALF_UP to the field's scale too, and fail only past the precision.
    FailFast,
}

impl ParseMode {
    /// The option's value, case-insensitive (`DROPMALFORMED` is refused, as by the service).
    pub fn parse(value: &str) -> Result<ParseMode, SqlError> {
        if value.eq_ignore_ascii_case("PERMISSIVE") {
            Ok(ParseMode::Permissive)
        } else if value.eq_ignore_ascii_case("FAILFAST") {
            Ok(ParseMode::FailFast)
        } else {
            Err(SqlError::analysis(
                "PARSE_MODE_UNSUPPORTED",
                format!(
                    "The function `from_json` doesn't support the {} mode. Acceptable modes are PERMISSIVE and FAILFAST.",
                    value.to_ascii_uppercase()
                ),
                "42601",
            ))
        }
    }
}

fn malformed(detail: impl std::fmt::Display) -> SqlError {
    SqlError::analysis(
        "MALFORMED_RECORD_IN_PARSING",
        format!("Malformed records are detected in record parsing: {detail}."),
        "22023",
    )
}

/// Decodes `json` (a JSON array of objects) with `schema_text` (`ARRAY<STRUCT<...>>`) in `mode`.
pub fn decode(
    json: Option<&str>,
    schema_text: &str,
    mode: ParseMode,
) -> Result<RecordBatch, SqlError> {
    let dt = parse_type(schema_text).map_err(|e| match e {
        TypeError::TooDeep => SqlError::TooComplex,
        TypeError::Syntax(e) => SqlError::analysis(
            "PARSE_SYNTAX_ERROR",
            format!("Invalid schema for from_json: {e}."),
            "42601",
        ),
    })?;
    let fields = match dt {
        DataType::List(f) => match f.data_type() {
            DataType::Struct(fields) => fields.clone(),
            _ => {
                return Err(SqlError::Unsupported(
                    "inline() of an array whose elements are not structs".into(),
                ));
            }
        },
        _ => {
            return Err(SqlError::analysis(
                "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                "inline() expects an ARRAY<STRUCT<...>>.",
                "42K09",
            ));
        }
    };
    let target = Arc::new(Schema::new(
        fields
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    // Floats (to accept "NaN"/"Infinity") and binaries (base64) are read as text first.
    let staged: SchemaRef = Arc::new(Schema::new(
        target
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Float32 | DataType::Float64 | DataType::Binary => {
                    Field::new(f.name(), DataType::Utf8, true)
                }
                _ => f.as_ref().clone(),
            })
            .collect::<Vec<_>>(),
    ));
    // Each element is handed to the Arrow decoder as its raw text: numbers are never routed
    // through f64, so a DECIMAL(38,10) keeps every digit (Databricks parses them exactly).
    let rows: Vec<&RawValue> = match json {
        None => Vec::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(rows) => rows,
            Err(_) if mode == ParseMode::Permissive => Vec::new(),
            Err(e) => return Err(malformed(e)),
        },
    };
    let rounded = rows
        .iter()
        .map(|r| round_decimals(r, &staged, mode))
        .collect::<Result<Vec<_>, _>>()?;
    let staged_batch = match mode {
        ParseMode::FailFast => decode_rows(&staged, rounded.iter().map(|r| r.as_ref()))?,
        ParseMode::Permissive => match decode_rows(&staged, rounded.iter().map(|r| r.as_ref())) {
            Ok(b) => b,
            Err(_) => {
                let fitting = rounded
                    .iter()
                    .map(|r| drop_misfits(r, &staged))
                    .collect::<Vec<_>>();
                decode_rows(&staged, fitting.iter().map(|r| r.as_str()))?
            }
        },
    };
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
    for (i, f) in target.fields().iter().enumerate() {
        let col = staged_batch.column(i);
        let out: ArrayRef = match f.data_type() {
            DataType::Float64 | DataType::Float32 => {
                let vals = parse_staged(col, mode, "DOUBLE", |t| t.trim().parse::<f64>().ok())?;
                float_array(vals, f.data_type())
            }
            DataType::Binary => {
                let vals = parse_staged(col, mode, "BINARY", |t| {
                    base64::engine::general_purpose::STANDARD.decode(t).ok()
                })?;
                Arc::new(BinaryArray::from_iter(vals))
            }
            _ => col.clone(),
        };
        cols.push(out);
    }
    RecordBatch::try_new(target, cols).map_err(|e| SqlError::Internal(e.to_string()))
}

/// The values of a column staged as text, each parsed by `parse`: one that does not parse is
/// NULL in PERMISSIVE and fails the statement in FAILFAST (`CAST_INVALID_INPUT` to `target`).
fn parse_staged<T>(
    col: &ArrayRef,
    mode: ParseMode,
    target: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<Option<T>>, SqlError> {
    let text = col
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| SqlError::Internal(format!("staged {target}")))?;
    text.iter()
        .map(|v| {
            let Some(t) = v else { return Ok(None) };
            match (parse(t), mode) {
                (Some(x), _) => Ok(Some(x)),
                (None, ParseMode::Permissive) => Ok(None),
                (None, ParseMode::FailFast) => Err(SqlError::CastInvalidInput {
                    value: t.into(),
                    target: target.into(),
                }),
            }
        })
        .collect()
}

/// Parsed floats as a column of `dt`: FLOAT (`Float32`) or else DOUBLE.
pub(crate) fn float_array(vals: Vec<Option<f64>>, dt: &DataType) -> ArrayRef {
    if *dt == DataType::Float32 {
        Arc::new(
            vals.into_iter()
                .map(|v| v.map(|x| x as f32))
                .collect::<Float32Array>(),
        )
    } else {
        Arc::new(Float64Array::from(vals))
    }
}

/// Decodes JSON objects (one text each) into one batch of `schema`; any misfit is an error.
fn decode_rows<'a>(
    schema: &SchemaRef,
    rows: impl ExactSizeIterator<Item = &'a str>,
) -> Result<RecordBatch, SqlError> {
    let mut decoder = ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.len().max(1))
        .with_coerce_primitive(true)
        .build_decoder()
        .map_err(malformed)?;
    for row in rows {
        let bytes = row.as_bytes();
        let used = decoder.decode(bytes).map_err(malformed)?;
        if used != bytes.len() {
            return Err(malformed("trailing data in a record"));
        }
    }
    Ok(decoder
        .flush()
        .map_err(malformed)?
        .unwrap_or_else(|| RecordBatch::new_empty(schema.clone())))
}

/// The fields of a JSON object, each as its raw text; None when `row` is not an object.
fn object_fields(row: &str) -> Option<BTreeMap<String, &RawValue>> {
    serde_json::from_str(row).ok()
}

fn object_text<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("{");
    for (k, v) in fields {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::from(k).to_string());
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// Decimal values rounded HALF_UP to their field's scale, as Spark's `Decimal.set` does in both
/// modes. A decimal that does not fit its precision (or is no number) is dropped, i.e. NULL, in
/// PERMISSIVE and fails the statement in FAILFAST. PERMISSIVE also makes an element that is not
/// an object `{}` (a row of NULLs); FAILFAST leaves it to the decoder to refuse.
fn round_decimals<'a>(
    row: &'a RawValue,
    schema: &Schema,
    mode: ParseMode,
) -> Result<Cow<'a, str>, SqlError> {
    let text = row.get();
    let has_decimal = schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Decimal128(..)));
    if !has_decimal && (text.starts_with('{') || mode == ParseMode::FailFast) {
        return Ok(Cow::Borrowed(text));
    }
    let Some(fields) = object_fields(text) else {
        return Ok(Cow::Borrowed(match mode {
            ParseMode::Permissive => "{}",
            ParseMode::FailFast => text,
        }));
    };
    let mut kept: Vec<(&str, Cow<'_, str>)> = Vec::with_capacity(fields.len());
    for (k, v) in &fields {
        match schema.field_with_name(k).map(|f| f.data_type()) {
            Ok(DataType::Decimal128(p, s)) if v.get() != "null" => {
                match (round_half_up(v.get(), *p, *s), mode) {
                    (Some(r), _) => kept.push((k, Cow::Owned(r))),
                    (None, ParseMode::Permissive) => {}
                    (None, ParseMode::FailFast) => {
                        return Err(malformed(format_args!(
                            "{} does not fit DECIMAL({p},{s})",
                            v.get()
                        )));
                    }
                }
            }
            _ => kept.push((k, Cow::Borrowed(v.get()))),
        }
    }
    Ok(Cow::Owned(object_text(
        kept.iter().map(|(k, v)| (*k, v.as_ref())),
    )))
}

/// PERMISSIVE: keeps only the fields whose value decodes as its declared type.
fn drop_misfits(row: &str, schema: &Schema) -> String {
    let Some(fields) = object_fields(row) else {
        return "{}".into();
    };
    let kept = fields.iter().filter_map(|(k, v)| {
        let field = schema.field_with_name(k).ok()?;
        let one: SchemaRef = Arc::new(Schema::new(vec![field.clone()]));
        let text = object_text(std::iter::once((k.as_str(), v.get())));
        decode_rows(&one, std::iter::once(text.as_str())).ok()?;
        Some((k.as_str(), v.get()))
    });
    object_text(kept)
}

/// A JSON number (or a string holding one) rounded HALF_UP to `scale` digits, as decimal
/// text; None when it is not a number or needs more than `precision` digits.
pub(crate) fn round_half_up(raw: &str, precision: u8, scale: i8) -> Option<String> {
    let owned: String;
    let text = if raw.starts_with('"') {
        owned = serde_json::from_str::<String>(raw).ok()?;
        owned.trim()
    } else {
        raw
    };
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], body[at + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // value = digits * 10^(exp - frac.len()); wanted: unscaled = value * 10^scale.
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let shift = i64::from(exp) - frac.len() as i64 + i64::from(scale);
    if shift >= 0 {
        let first = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
        if first < digits.len() {
            // Checked before growing, so `1e999999999` costs nothing.
            if (digits.len() - first) as i64 + shift > i64::from(precision) {
                return None;
            }
            digits.extend(std::iter::repeat_n(0, shift as usize));
        }
    } else {
        let drop = (-shift) as usize;
        if drop > digits.len() {
            digits = vec![0];
        } else {
            let round_up = digits[digits.len() - drop] >= 5;
            digits.truncate(digits.len() - drop);
            if round_up {
                let mut i = digits.len();
                loop {
                    if i == 0 {
                        digits.insert(0, 1);
                        break;
                    }
                    i -= 1;
                    if digits[i] == 9 {
                        digits[i] = 0;
                    } else {
                        digits[i] += 1;
                        break;
                    }
                }
            }
        }
    }
    let first = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
    let digits = &digits[first..];
    if digits.len() > usize::from(precision) {
        return None;
    }
    let scale = usize::try_from(scale).ok()?;
    let mut padded = vec![0u8; (scale + 1).saturating_sub(digits.len())];
    padded.extend_from_slice(digits);
    let (ip, fp) = padded.split_at(padded.len() - scale);
    let mut out = String::new();
    if negative && !digits.is_empty() {
        out.push('-');
    }
    out.extend(ip.iter().map(|d| char::from(b'0' + d)));
    if !fp.is_empty() {
        out.push('.');
        out.extend(fp.iter().map(|d| char::from(b'0' + d)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_declared_schema() {
        let b = decode(
            Some(r#"[{"c0":1,"c1":"a","c2":"NaN","c3":12.50,"c4":"AQI=","c5":"2021-01-01T10:00:00.000001Z"},{"c0":2,"c1":null,"c2":1.5,"c3":null,"c4":null,"c5":null}]"#),
            "ARRAY<STRUCT<c0: BIGINT, c1: STRING, c2: DOUBLE, c3: DECIMAL(10,2), c4: BINARY, c5: TIMESTAMP>>",
            ParseMode::FailFast,
        )
        .unwrap();
        assert_eq!(b.num_rows(), 2);
        assert!(
            b.column(2)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .value(0)
                .is_nan()
        );
        assert_eq!(
            b.column(4)
                .as_any()
                .downcast_ref::<BinaryArray>()
                .unwrap()
                .value(0),
            &[1u8, 2]
        );
        assert!(b.column(1).is_null(1));
        assert!(
            decode(
                Some("[{\"c0\": \"x\"}]"),
                "ARRAY<STRUCT<c0: BIGINT>>",
                ParseMode::FailFast
            )
            .is_err()
        );
    }

    #[test]
    fn decimals_keep_every_digit() {
        use deltalake::arrow::array::Decimal128Array;
        let b = decode(
            Some(r#"[{"c0": 1234567890123456789012345678.0123456789}, {"c0": -9999999999999999999999999999.9999999999}]"#),
            "ARRAY<STRUCT<c0: DECIMAL(38,10)>>",
            ParseMode::FailFast,
        )
        .unwrap();
        let col = b
            .column(0)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(
            col.value_as_string(0),
            "1234567890123456789012345678.0123456789"
        );
        assert_eq!(
            col.value_as_string(1),
            "-9999999999999999999999999999.9999999999"
        );
    }

    const MIXED: &str = "ARRAY<STRUCT<c0: BIGINT, c1: DOUBLE, c2: BINARY, c3: TIMESTAMP, c4: DECIMAL(5,2), c5: STRING>>";

    #[test]
    fn failfast_refuses_a_misfit() {
        for row in [
            r#"[{"c0": "x"}]"#,
            r#"[{"c0": 1e40}]"#,
            r#"[{"c1": "abc"}]"#,
            r#"[{"c2": "not base64!"}]"#,
            r#"[{"c3": "yesterday"}]"#,
            r#"[{"c4": 12345.6}]"#,
            r#"[{"c5": {"a": 1}}]"#,
            r#"[{"c0": 1"#,
        ] {
            assert!(
                decode(Some(row), MIXED, ParseMode::FailFast).is_err(),
                "{row}"
            );
        }
    }

    #[test]
    fn failfast_rounds_decimals_half_up_and_fails_past_the_precision() {
        use deltalake::arrow::array::Decimal128Array;
        let b = decode(
            Some(r#"[{"c0": 1.235}, {"c0": -1.235}, {"c0": "1.235"}]"#),
            "ARRAY<STRUCT<c0: DECIMAL(10,2)>>",
            ParseMode::FailFast,
        )
        .unwrap();
        let d = b
            .column(0)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(d.value_as_string(0), "1.24");
        assert_eq!(d.value_as_string(1), "-1.24");
        assert_eq!(d.value_as_string(2), "1.24");
        let err = decode(
            Some(r#"[{"c0": 12345.678}]"#),
            "ARRAY<STRUCT<c0: DECIMAL(5,2)>>",
            ParseMode::FailFast,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("[MALFORMED_RECORD_IN_PARSING]"),
            "{err}"
        );
        assert_eq!(err.sql_state(), "22023");
    }

    #[test]
    fn permissive_nulls_a_misfit_and_keeps_the_rest() {
        use deltalake::arrow::array::{Decimal128Array, Int64Array};
        let b = decode(
            Some(
                r#"[{"c0": "x", "c1": "abc", "c2": "not base64!", "c3": "yesterday", "c4": 12345.6, "c5": "ok"},
                    {"c0": 7, "c1": 1.5, "c2": "AQI=", "c3": "2021-01-01T10:00:00Z", "c4": 1.005, "c5": {"a": 1}},
                    42,
                    {"c0": 1e40, "c4": "-2.344"}]"#,
            ),
            MIXED,
            ParseMode::Permissive,
        )
        .unwrap();
        assert_eq!(b.num_rows(), 4);
        for c in 0..5 {
            assert!(b.column(c).is_null(0), "column {c}");
        }
        let s = b.column(5).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(s.value(0), "ok");
        assert!(s.is_null(1));
        let ints = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(ints.value(1), 7);
        assert!(ints.is_null(3));
        let d = b
            .column(4)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(d.value_as_string(1), "1.01");
        assert_eq!(d.value_as_string(3), "-2.34");
        assert!(
            (0..6).all(|c| b.column(c).is_null(2)),
            "a non-object is a row of NULLs"
        );
        // Not a JSON array at all: no rows (from_json gives NULL).
        assert_eq!(
            decode(Some("[{"), MIXED, ParseMode::Permissive)
                .unwrap()
                .num_rows(),
            0
        );
    }

    #[test]
    fn permissive_rounds_decimals_half_up() {
        let r = |raw: &str, p: u8, s: i8| round_half_up(raw, p, s);
        assert_eq!(r("1.005", 5, 2).as_deref(), Some("1.01"));
        assert_eq!(r("1.004999", 5, 2).as_deref(), Some("1.00"));
        assert_eq!(r("-1.005", 5, 2).as_deref(), Some("-1.01"));
        assert_eq!(r("999.995", 5, 2), None);
        assert_eq!(r("99.995", 5, 2).as_deref(), Some("100.00"));
        assert_eq!(
            r("0.0000001", 38, 18).as_deref(),
            Some("0.000000100000000000")
        );
        assert_eq!(r("0", 38, 18).as_deref(), Some("0.000000000000000000"));
        assert_eq!(r("-0.0001", 5, 2).as_deref(), Some("0.00"));
        assert_eq!(r("1.5e2", 5, 0).as_deref(), Some("150"));
        assert_eq!(r("2.5E-1", 3, 0).as_deref(), Some("0"));
        assert_eq!(r("5E-1", 3, 0).as_deref(), Some("1"));
        assert_eq!(r("\"12.345\"", 5, 2).as_deref(), Some("12.35"));
        assert_eq!(r("0e999999999", 5, 2).as_deref(), Some("0.00"));
        assert_eq!(r("1e999999999", 38, 2), None);
        assert_eq!(r("1e-999999999", 38, 2).as_deref(), Some("0.00"));
        for bad in ["", "-", ".", "1..2", "abc", "1e", "true", "{}", "\"\""] {
            assert_eq!(r(bad, 10, 2), None, "{bad}");
        }
    }
}
