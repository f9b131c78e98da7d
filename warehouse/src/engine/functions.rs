//! Databricks functions DataFusion lacks: `unhex(string) -> binary` (NULL on invalid input,
//! like Spark), used by the connector for binary parameters (`unhex(:p)`), `unbase64(string)
//! -> binary`, and the
//! statement's context as constants: `current_catalog()`, `current_schema()`,
//! `current_database()`, `current_user()`.

use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, BinaryArray, BinaryBuilder, StringArray};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::DataType;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let bytes = s.as_bytes();
    let (first, rest) = if bytes.len() % 2 == 1 {
        (Some(&bytes[..1]), &bytes[1..])
    } else {
        (None, bytes)
    };
    let nib = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len() / 2 + 1);
    if let Some(f) = first {
        out.push(nib(f[0])?);
    }
    for pair in rest.chunks(2) {
        out.push(nib(pair[0])? << 4 | nib(pair[1])?);
    }
    Some(out)
}

/// Base64 text (standard, padded or not; surrounding blanks ignored) to BINARY; text that is not
/// base64 is `CAST_INVALID_INPUT`. What `unbase64` does, in SQL and in `COPY INTO`.
pub(crate) fn unbase64_array(s: &StringArray) -> Result<BinaryArray, super::error::SqlError> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let mut b = BinaryBuilder::new();
    for v in s.iter() {
        match v.map(str::trim) {
            None => b.append_null(),
            Some(t) => match STANDARD.decode(t).or_else(|_| STANDARD_NO_PAD.decode(t)) {
                Ok(bytes) => b.append_value(bytes),
                Err(_) => {
                    return Err(super::error::SqlError::CastInvalidInput {
                        value: t.to_string(),
                        target: "BINARY".into(),
                    });
                }
            },
        }
    }
    Ok(b.finish())
}

/// A one-argument STRING → BINARY function computing its result column with `f`.
fn text_to_binary(
    name: &'static str,
    f: fn(&StringArray) -> Result<BinaryArray, DataFusionError>,
) -> ScalarUDF {
    create_udf(
        name,
        vec![DataType::Utf8],
        DataType::Binary,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let input = arrays
                .first()
                .ok_or_else(|| DataFusionError::Plan(format!("{name}() takes one argument")))?;
            let input: ArrayRef = cast(input.as_ref(), &DataType::Utf8)?;
            let s = input
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Internal(format!("{name} input")))?;
            let out: ArrayRef = Arc::new(f(s)?);
            if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) && out.len() == 1 {
                Ok(ColumnarValue::Scalar(
                    deltalake::datafusion::common::ScalarValue::try_from_array(&out, 0)?,
                ))
            } else {
                Ok(ColumnarValue::Array(out))
            }
        }),
    )
}

/// The `unhex` UDF (text that is not hex gives NULL).
pub fn unhex() -> ScalarUDF {
    text_to_binary("unhex", |s| {
        let mut b = BinaryBuilder::new();
        for v in s.iter() {
            match v.and_then(decode_hex) {
                Some(bytes) => b.append_value(bytes),
                None => b.append_null(),
            }
        }
        Ok(b.finish())
    })
}

/// The `unbase64` UDF: standard base64 (padded or not) to BINARY; invalid input fails the
/// statement (`CAST_INVALID_INPUT`).
pub fn unbase64() -> ScalarUDF {
    text_to_binary("unbase64", |s| {
        unbase64_array(s).map_err(|e| DataFusionError::External(Box::new(e)))
    })
}

/// A zero-argument function answering `value` (a STRING) for the whole statement.
pub fn constant(name: &str, value: &str) -> ScalarUDF {
    let value = value.to_string();
    create_udf(
        name,
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_args: &[ColumnarValue]| {
            Ok(ColumnarValue::Scalar(
                deltalake::datafusion::common::ScalarValue::Utf8(Some(value.clone())),
            ))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::decode_hex;

    #[test]
    fn hex() {
        assert_eq!(decode_hex("48656C6C6F"), Some(b"Hello".to_vec()));
        assert_eq!(decode_hex("F"), Some(vec![15]));
        assert_eq!(decode_hex("zz"), None);
    }
}
