//! Named statement parameters (`{name, value, type}`) bound as typed DataFusion values.

use std::collections::HashMap;

use deltalake::arrow::datatypes::DataType;
use deltalake::datafusion::common::ParamValues;
use deltalake::datafusion::common::ScalarValue;

use super::error::SqlError;
use super::types::{TypeError, parse_type};

/// One parameter of the request.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Param {
    /// Marker name (`:name` in the SQL).
    #[serde(default)]
    pub name: Option<String>,
    /// Value text; absent = NULL.
    #[serde(default)]
    pub value: Option<String>,
    /// SQL type text, default `STRING`.
    #[serde(default, rename = "type")]
    pub type_text: Option<String>,
    /// 1-based position of a `?` marker (undocumented, sent by the JDBC driver).
    #[serde(default)]
    pub ordinal: Option<u32>,
}

/// Typed values by name.
#[derive(Clone, Debug, Default)]
pub struct Bound {
    /// name -> value.
    pub values: HashMap<String, ScalarValue>,
    /// name -> raw text (for `inline(from_json(:p, ...))`).
    pub raw: HashMap<String, Option<String>>,
    /// `?` markers by position (from `ordinal`).
    pub positional: Vec<ScalarValue>,
}

impl Bound {
    /// DataFusion parameter values.
    pub fn param_values(&self) -> ParamValues {
        if !self.positional.is_empty() {
            return ParamValues::List(self.positional.iter().map(|v| v.clone().into()).collect());
        }
        ParamValues::Map(
            self.values
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect(),
        )
    }
}

/// Binds every parameter to a typed value by casting its text to its `type`, as the service
/// does ("checked according to the given type ... using the cast function").
pub fn bind(params: &[Param]) -> Result<Bound, SqlError> {
    let mut out = Bound::default();
    let mut positional = Vec::new();
    for p in params {
        let name = match (p.name.clone().filter(|n| !n.is_empty()), p.ordinal) {
            (Some(n), _) => n,
            (None, Some(o)) if o >= 1 => format!("\u{0}{o}"),
            _ => {
                return Err(SqlError::analysis(
                    "INVALID_PARAMETER_VALUE",
                    "A parameter needs a `name` (or an `ordinal` for `?` markers).",
                    "22023",
                ));
            }
        };
        let type_text = p.type_text.clone().unwrap_or_else(|| "STRING".into());
        let dt = parse_type(&type_text).map_err(|e| match e {
            TypeError::TooDeep => SqlError::TooComplex,
            TypeError::Syntax(e) => SqlError::analysis(
                "UNSUPPORTED_DATATYPE",
                format!("Unsupported data type \"{type_text}\": {e}."),
                "0A000",
            ),
        })?;
        let value = match &p.value {
            None => ScalarValue::try_from(&dt).map_err(|e| SqlError::Internal(e.to_string()))?,
            Some(v) => cast_text(v, &dt, &type_text)?,
        };
        if let Some(o) = name.strip_prefix('\u{0}') {
            positional.push((o.parse::<u32>().unwrap_or(0), value));
            continue;
        }
        out.values.insert(name.clone(), value);
        out.raw.insert(name, p.value.clone());
    }
    if !positional.is_empty() {
        if !out.values.is_empty() {
            return Err(SqlError::analysis(
                "INVALID_QUERY_MIXED_QUERY_PARAMETERS",
                "Parameterized query must either use positional, or named parameters, but not both.",
                "42613",
            ));
        }
        positional.sort_by_key(|(o, _)| *o);
        out.positional = positional.into_iter().map(|(_, v)| v).collect();
    }
    Ok(out)
}

fn cast_text(v: &str, dt: &DataType, type_text: &str) -> Result<ScalarValue, SqlError> {
    let err = || SqlError::CastInvalidInput {
        value: v.to_string(),
        target: type_text.to_ascii_uppercase(),
    };
    match dt {
        DataType::Utf8 => Ok(ScalarValue::Utf8(Some(v.to_string()))),
        DataType::Boolean => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "y" => Ok(ScalarValue::Boolean(Some(true))),
            "false" | "f" | "0" | "no" | "n" => Ok(ScalarValue::Boolean(Some(false))),
            _ => Err(err()),
        },
        DataType::Float32 | DataType::Float64 => {
            let f: f64 = v.trim().parse().map_err(|_| err())?;
            Ok(if *dt == DataType::Float32 {
                ScalarValue::Float32(Some(f as f32))
            } else {
                ScalarValue::Float64(Some(f))
            })
        }
        _ => {
            let s = ScalarValue::Utf8(Some(v.trim().to_string()));
            let c = s.cast_to(dt).map_err(|_| err())?;
            if c.is_null() { Err(err()) } else { Ok(c) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, value: Option<&str>, t: &str) -> Param {
        Param {
            name: Some(name.into()),
            value: value.map(Into::into),
            type_text: Some(t.into()),
            ordinal: None,
        }
    }

    #[test]
    fn binds_typed_values() {
        let b = bind(&[
            p("a", Some("42"), "BIGINT"),
            p("b", Some("12.50"), "DECIMAL(10,2)"),
            p("c", None, "STRING"),
            p("d", Some("NaN"), "DOUBLE"),
            p("e", Some("2021-01-01T10:00:00.000000Z"), "TIMESTAMP"),
            p("f", Some("2021-01-02"), "DATE"),
        ])
        .unwrap();
        assert_eq!(b.values["a"], ScalarValue::Int64(Some(42)));
        assert_eq!(b.values["b"], ScalarValue::Decimal128(Some(1250), 10, 2));
        assert!(b.values["c"].is_null());
        assert!(matches!(
            b.values["e"],
            ScalarValue::TimestampMicrosecond(Some(1_609_495_200_000_000), _)
        ));
        assert!(bind(&[p("x", Some("abc"), "INT")]).is_err());
    }
}
