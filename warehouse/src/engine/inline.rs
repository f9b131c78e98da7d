//! `inline(from_json(:rows, 'ARRAY<STRUCT<c0: T0, ...>>'))`: the JSON array parameter decoded with
//! the declared struct schema into one Arrow batch (docs/wire.md "Batched writes").

use std::sync::Arc;

use base64::Engine as _;
use deltalake::arrow::array::{
    Array, ArrayRef, BinaryArray, Float32Array, Float64Array, RecordBatch, StringArray,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::json::ReaderBuilder;

use super::error::SqlError;
use super::types::{TypeError, parse_type};

/// Decodes `json` (a JSON array of objects) with `schema_text` (`ARRAY<STRUCT<...>>`).
pub fn decode(json: Option<&str>, schema_text: &str) -> Result<RecordBatch, SqlError> {
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
    let rows: Vec<&serde_json::value::RawValue> = match json {
        None => Vec::new(),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            SqlError::analysis(
                "MALFORMED_RECORD_IN_PARSING",
                format!("Malformed records are detected in record parsing: {e}."),
                "22023",
            )
        })?,
    };
    let bad = |e: deltalake::arrow::error::ArrowError| {
        SqlError::analysis(
            "MALFORMED_RECORD_IN_PARSING",
            format!("Malformed records are detected in record parsing: {e}."),
            "22023",
        )
    };
    let mut decoder = ReaderBuilder::new(staged.clone())
        .with_batch_size(rows.len().max(1))
        .with_coerce_primitive(true)
        .build_decoder()
        .map_err(bad)?;
    for row in &rows {
        let bytes = row.get().as_bytes();
        let used = decoder.decode(bytes).map_err(bad)?;
        if used != bytes.len() {
            return Err(SqlError::analysis(
                "MALFORMED_RECORD_IN_PARSING",
                "Malformed records are detected in record parsing: trailing data in a record.",
                "22023",
            ));
        }
    }
    let staged_batch = decoder
        .flush()
        .map_err(bad)?
        .unwrap_or_else(|| RecordBatch::new_empty(staged.clone()));
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
    for (i, f) in target.fields().iter().enumerate() {
        let col = staged_batch.column(i);
        let out: ArrayRef = match f.data_type() {
            DataType::Float64 | DataType::Float32 => {
                let s = col
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| SqlError::Internal("staged float".into()))?;
                let vals: Result<Vec<Option<f64>>, SqlError> = s
                    .iter()
                    .map(|v| {
                        v.map(|t| {
                            t.trim()
                                .parse::<f64>()
                                .map_err(|_| SqlError::CastInvalidInput {
                                    value: t.into(),
                                    target: "DOUBLE".into(),
                                })
                        })
                        .transpose()
                    })
                    .collect();
                let vals = vals?;
                if *f.data_type() == DataType::Float32 {
                    Arc::new(
                        vals.into_iter()
                            .map(|v| v.map(|x| x as f32))
                            .collect::<Float32Array>(),
                    )
                } else {
                    Arc::new(Float64Array::from(vals))
                }
            }
            DataType::Binary => {
                let s = col
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| SqlError::Internal("staged binary".into()))?;
                let vals: Result<Vec<Option<Vec<u8>>>, SqlError> = s
                    .iter()
                    .map(|v| {
                        v.map(|t| {
                            base64::engine::general_purpose::STANDARD
                                .decode(t)
                                .map_err(|_| SqlError::CastInvalidInput {
                                    value: t.into(),
                                    target: "BINARY".into(),
                                })
                        })
                        .transpose()
                    })
                    .collect();
                let vals = vals?;
                Arc::new(BinaryArray::from_iter(vals))
            }
            _ => col.clone(),
        };
        cols.push(out);
    }
    RecordBatch::try_new(target, cols).map_err(|e| SqlError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_declared_schema() {
        let b = decode(
            Some(r#"[{"c0":1,"c1":"a","c2":"NaN","c3":12.50,"c4":"AQI=","c5":"2021-01-01T10:00:00.000001Z"},{"c0":2,"c1":null,"c2":1.5,"c3":null,"c4":null,"c5":null}]"#),
            "ARRAY<STRUCT<c0: BIGINT, c1: STRING, c2: DOUBLE, c3: DECIMAL(10,2), c4: BINARY, c5: TIMESTAMP>>",
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
        assert!(decode(Some("[{\"c0\": \"x\"}]"), "ARRAY<STRUCT<c0: BIGINT>>").is_err());
    }

    #[test]
    fn decimals_keep_every_digit() {
        use deltalake::arrow::array::Decimal128Array;
        let b = decode(
            Some(r#"[{"c0": 1234567890123456789012345678.0123456789}, {"c0": -9999999999999999999999999999.9999999999}]"#),
            "ARRAY<STRUCT<c0: DECIMAL(38,10)>>",
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
}
