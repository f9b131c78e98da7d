//! Databricks functions DataFusion lacks: `unhex(string) -> binary` (NULL on invalid input,
//! like Spark), used by the connector for binary parameters (`unhex(:p)`), `unbase64(string)
//! -> binary`, and the
//! statement's context as constants: `current_catalog()`, `current_schema()`,
//! `current_database()`, `current_user()`.

use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, BinaryBuilder, StringArray};
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

/// The `unhex` UDF.
pub fn unhex() -> ScalarUDF {
    create_udf(
        "unhex",
        vec![DataType::Utf8],
        DataType::Binary,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let input = arrays
                .first()
                .ok_or_else(|| DataFusionError::Plan("unhex() takes one argument".into()))?;
            let input: ArrayRef = cast(input.as_ref(), &DataType::Utf8)?;
            let s = input
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Internal("unhex input".into()))?;
            let mut b = BinaryBuilder::new();
            for v in s.iter() {
                match v.and_then(decode_hex) {
                    Some(bytes) => b.append_value(bytes),
                    None => b.append_null(),
                }
            }
            let out: ArrayRef = Arc::new(b.finish());
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

/// The `unbase64` UDF: standard base64 (padded or not) to BINARY; invalid input fails the
/// statement (`CAST_INVALID_INPUT`).
pub fn unbase64() -> ScalarUDF {
    use base64::Engine as _;
    create_udf(
        "unbase64",
        vec![DataType::Utf8],
        DataType::Binary,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let input = arrays
                .first()
                .ok_or_else(|| DataFusionError::Plan("unbase64() takes one argument".into()))?;
            let input: ArrayRef = cast(input.as_ref(), &DataType::Utf8)?;
            let s = input
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| DataFusionError::Internal("unbase64 input".into()))?;
            let mut b = BinaryBuilder::new();
            for v in s.iter() {
                match v.map(str::trim) {
                    None => b.append_null(),
                    Some(t) => match base64::engine::general_purpose::STANDARD
                        .decode(t)
                        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
                    {
                        Ok(bytes) => b.append_value(bytes),
                        Err(_) => {
                            return Err(DataFusionError::External(Box::new(
                                super::error::SqlError::CastInvalidInput {
                                    value: t.to_string(),
                                    target: "BINARY".into(),
                                },
                            )));
                        }
                    },
                }
            }
            let out: ArrayRef = Arc::new(b.finish());
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
