//! Databricks SQL type text <-> Arrow types.
//!
//! | Databricks `type_text` | `type_name` | Arrow |
//! |---|---|---|
//! | TINYINT / SMALLINT / INT / BIGINT | BYTE / SHORT / INT / LONG | Int8 / Int16 / Int32 / Int64 |
//! | FLOAT / DOUBLE | FLOAT / DOUBLE | Float32 / Float64 |
//! | DECIMAL(p,s) | DECIMAL | Decimal128(p,s) |
//! | STRING | STRING | Utf8 (also LargeUtf8, Utf8View) |
//! | BINARY | BINARY | Binary (also Large, View) |
//! | BOOLEAN / DATE | BOOLEAN / DATE | Boolean / Date32 |
//! | TIMESTAMP | TIMESTAMP | Timestamp(µs, "UTC") |
//! | TIMESTAMP_NTZ | TIMESTAMP_NTZ | Timestamp(µs, None) |
//! | ARRAY<T> / MAP<K, V> / STRUCT<a: T> | ARRAY / MAP / STRUCT | List / Map / Struct |
//! | VOID | NULL | Null |

use std::sync::Arc;

use deltalake::arrow::datatypes::{DataType, Field, Fields, IntervalUnit, TimeUnit};

/// Databricks `(type_name, type_text)` of an Arrow type.
pub fn type_names(dt: &DataType) -> (&'static str, String) {
    match dt {
        DataType::Null => ("NULL", "VOID".into()),
        DataType::Boolean => ("BOOLEAN", "BOOLEAN".into()),
        DataType::Int8 => ("BYTE", "TINYINT".into()),
        DataType::Int16 | DataType::UInt8 => ("SHORT", "SMALLINT".into()),
        DataType::Int32 | DataType::UInt16 => ("INT", "INT".into()),
        DataType::Int64 | DataType::UInt32 => ("LONG", "BIGINT".into()),
        DataType::UInt64 => ("DECIMAL", "DECIMAL(20,0)".into()),
        DataType::Float16 | DataType::Float32 => ("FLOAT", "FLOAT".into()),
        DataType::Float64 => ("DOUBLE", "DOUBLE".into()),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            ("DECIMAL", format!("DECIMAL({p},{s})"))
        }
        DataType::Decimal256(p, s) => ("DECIMAL", format!("DECIMAL({p},{s})")),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ("STRING", "STRING".into()),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => ("BINARY", "BINARY".into()),
        DataType::Date32 | DataType::Date64 => ("DATE", "DATE".into()),
        DataType::Timestamp(_, Some(_)) => ("TIMESTAMP", "TIMESTAMP".into()),
        DataType::Timestamp(_, None) => ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ".into()),
        DataType::Interval(IntervalUnit::YearMonth) => {
            ("INTERVAL", "INTERVAL YEAR TO MONTH".into())
        }
        DataType::Interval(_) | DataType::Duration(_) => {
            ("INTERVAL", "INTERVAL DAY TO SECOND".into())
        }
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::FixedSizeList(f, _) => {
            ("ARRAY", format!("ARRAY<{}>", type_names(f.data_type()).1))
        }
        DataType::Map(f, _) => match f.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => (
                "MAP",
                format!(
                    "MAP<{}, {}>",
                    type_names(kv[0].data_type()).1,
                    type_names(kv[1].data_type()).1
                ),
            ),
            _ => ("MAP", "MAP<STRING, STRING>".into()),
        },
        DataType::Struct(fields) => (
            "STRUCT",
            format!(
                "STRUCT<{}>",
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name(), type_names(f.data_type()).1))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        DataType::Dictionary(_, v) => type_names(v),
        DataType::Time32(_) | DataType::Time64(_) => ("STRING", "STRING".into()),
        _ => ("STRING", "STRING".into()),
    }
}

/// Why a type text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TypeError {
    /// Not a type this warehouse knows.
    #[error("{0}")]
    Syntax(String),
    /// Nested deeper than [`super::limits::MAX_TYPE_DEPTH`].
    #[error(
        "the type is nested deeper than {} levels",
        super::limits::MAX_TYPE_DEPTH
    )]
    TooDeep,
}

impl From<String> for TypeError {
    fn from(s: String) -> TypeError {
        TypeError::Syntax(s)
    }
}

impl From<TypeError> for super::error::SqlError {
    /// `TooDeep` is `FAILED_TO_PARSE_TOO_COMPLEX`; other errors are mapped by the caller.
    fn from(e: TypeError) -> super::error::SqlError {
        match e {
            TypeError::TooDeep => super::error::SqlError::TooComplex,
            TypeError::Syntax(m) => super::error::SqlError::Internal(m),
        }
    }
}

/// Parses a Databricks type text (`BIGINT`, `DECIMAL(10,2)`, `ARRAY<STRUCT<c0: INT>>`...) into an
/// Arrow type as Delta stores it. Nesting is bounded ([`TypeError::TooDeep`]), so no text can
/// exhaust the stack.
pub fn parse_type(text: &str) -> Result<DataType, TypeError> {
    let mut p = TypeParser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let t = p.ty()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text after type: {:?}", &text[p.i..]).into());
    }
    Ok(t)
}

struct TypeParser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl TypeParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected '{}' at position {}", c as char, self.i))
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        if self.s.get(self.i) == Some(&b'`') {
            self.i += 1;
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'`' {
                self.i += 1;
            }
            let out = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            self.i += 1;
            return Ok(out);
        }
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("expected a name at position {}", self.i));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn number(&mut self) -> Result<u32, String> {
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| "expected a number".to_string())
    }

    fn ty(&mut self) -> Result<DataType, TypeError> {
        self.depth += 1;
        if self.depth > super::limits::MAX_TYPE_DEPTH {
            return Err(TypeError::TooDeep);
        }
        let t = self.ty_inner();
        self.depth -= 1;
        t
    }

    fn ty_inner(&mut self) -> Result<DataType, TypeError> {
        let name = self.ident()?.to_ascii_uppercase();
        Ok(match name.as_str() {
            "TINYINT" | "BYTE" => DataType::Int8,
            "SMALLINT" | "SHORT" => DataType::Int16,
            "INT" | "INTEGER" => DataType::Int32,
            "BIGINT" | "LONG" => DataType::Int64,
            "FLOAT" | "REAL" => DataType::Float32,
            "DOUBLE" => DataType::Float64,
            "BOOLEAN" | "BOOL" => DataType::Boolean,
            "STRING" | "TEXT" => DataType::Utf8,
            "VARCHAR" | "CHAR" => {
                if self.eat(b'(') {
                    self.number()?;
                    self.expect(b')')?;
                }
                DataType::Utf8
            }
            "BINARY" => DataType::Binary,
            "DATE" => DataType::Date32,
            "TIMESTAMP" | "TIMESTAMP_LTZ" => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            "TIMESTAMP_NTZ" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "VOID" | "NULL" => DataType::Null,
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let (mut p, mut s) = (10u32, 0u32);
                if self.eat(b'(') {
                    p = self.number()?;
                    if self.eat(b',') {
                        s = self.number()?;
                    }
                    self.expect(b')')?;
                }
                if p == 0 || p > 38 || s > p {
                    return Err(format!("invalid DECIMAL({p},{s})").into());
                }
                DataType::Decimal128(p as u8, s as i8)
            }
            "ARRAY" => {
                self.expect(b'<')?;
                let inner = self.ty()?;
                self.expect(b'>')?;
                DataType::List(Arc::new(Field::new("element", inner, true)))
            }
            "MAP" => {
                self.expect(b'<')?;
                let k = self.ty()?;
                self.expect(b',')?;
                let v = self.ty()?;
                self.expect(b'>')?;
                let entries = Field::new(
                    "key_value",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k, false),
                        Field::new("value", v, true),
                    ])),
                    false,
                );
                DataType::Map(Arc::new(entries), false)
            }
            "STRUCT" => {
                self.expect(b'<')?;
                let mut fields = Vec::new();
                if !self.eat(b'>') {
                    loop {
                        let n = self.ident()?;
                        self.eat(b':');
                        let t = self.ty()?;
                        // optional NOT NULL / COMMENT are not supported inside STRUCT here
                        fields.push(Field::new(n, t, true));
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b'>')?;
                        break;
                    }
                }
                DataType::Struct(Fields::from(fields))
            }
            other => return Err(format!("unsupported data type {other}").into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_texts() {
        for t in [
            "BIGINT",
            "DECIMAL(10,2)",
            "STRING",
            "TIMESTAMP",
            "TIMESTAMP_NTZ",
            "ARRAY<INT>",
            "MAP<STRING, BIGINT>",
            "STRUCT<a: INT, b: STRING>",
        ] {
            let dt = parse_type(t).unwrap();
            assert_eq!(type_names(&dt).1, t);
        }
        assert_eq!(type_names(&parse_type("bigint").unwrap()).0, "LONG");
        assert!(parse_type("ARRAY<STRUCT<c0: BIGINT, c1: STRING>>").is_ok());
        assert!(parse_type("WHAT").is_err());
        let deep = |n: usize| format!("{}INT{}", "ARRAY<".repeat(n), ">".repeat(n));
        assert!(parse_type(&deep(super::super::limits::MAX_TYPE_DEPTH - 1)).is_ok());
        assert_eq!(parse_type(&deep(5000)), Err(TypeError::TooDeep));
    }
}
