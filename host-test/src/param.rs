//! Named query parameters and their command-line form.

use crate::error::Error;
use crate::value::{Coerce, Value};

/// A named query parameter (`%(name)s` in the SQL).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Marker name.
    pub name: String,
    /// Value; its case decides the SQL type.
    pub value: Value,
}

impl Param {
    /// A parameter.
    pub fn new(name: impl Into<String>, value: impl Into<Value>) -> Param {
        Param { name: name.into(), value: value.into() }
    }

    /// Parse a command-line parameter. Nothing is guessed from the text:
    ///
    /// - `name=value` is a STRING, always (`01234` stays `"01234"`, `null` stays `"null"`);
    /// - `name:TYPE=value` is that type (`n:INT=5`, `since:DATE=2024-01-01`,
    ///   `amt:DECIMAL(12,2)=9.5`; see [`Coerce::parse_typed`](crate::Coerce::parse_typed));
    /// - `name:NULL` (or `name:NULL=`) is SQL NULL.
    pub fn parse(spec: &str) -> Result<Param, Error> {
        let (lhs, text) = match spec.split_once('=') {
            Some((lhs, text)) => (lhs, Some(text)),
            None => (spec, None),
        };
        let (name, ty) = match lhs.split_once(':') {
            Some((name, ty)) => (name.trim(), Some(ty.trim())),
            None => (lhs.trim(), None),
        };
        if name.is_empty() {
            return Err(Error::invalid_input(format!("parameter `{spec}` has no name")));
        }
        let value = match (ty, text) {
            (Some(ty), _) if ty.eq_ignore_ascii_case("NULL") => match text {
                None | Some("") => Value::Null,
                Some(_) => {
                    return Err(Error::invalid_input(format!("parameter `{spec}`: `name:NULL` takes no value")));
                }
            },
            (Some(ty), Some(text)) => Value::parse_typed(ty, text)?,
            (None, Some(text)) => Value::Text(text.to_string()),
            (_, None) => {
                return Err(Error::invalid_input(format!(
                    "parameter `{spec}` must be name=value (a STRING), name:TYPE=value or name:NULL"
                )));
            }
        };
        Ok(Param { name: name.to_string(), value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Date, Decimal};

    #[test]
    fn untyped_parameters_are_strings() {
        assert_eq!(Param::parse("a=1").unwrap().value, Value::Text("1".into()));
        assert_eq!(Param::parse("a=01234").unwrap().value, Value::Text("01234".into()));
        assert_eq!(Param::parse("a=null").unwrap().value, Value::Text("null".into()));
        assert_eq!(Param::parse("a=true").unwrap().value, Value::Text("true".into()));
        assert_eq!(Param::parse("a=").unwrap().value, Value::Text(String::new()));
        assert_eq!(Param::parse("a=x=y").unwrap().value, Value::Text("x=y".into()));
    }

    #[test]
    fn typed_and_null_parameters() {
        assert_eq!(Param::parse("n:INT=5").unwrap().value, Value::Int(5));
        assert_eq!(Param::parse("n:BIGINT=01234").unwrap().value, Value::BigInt(1234));
        assert_eq!(
            Param::parse("d:DATE=2024-02-29").unwrap().value,
            Value::Date(Date { year: 2024, month: 2, day: 29 })
        );
        assert_eq!(
            Param::parse("m:DECIMAL(12,2)=9.5").unwrap().value,
            Value::Decimal(Decimal { digits: "9.50".into(), precision: 12, scale: 2 })
        );
        assert_eq!(Param::parse("s:STRING=null").unwrap().value, Value::Text("null".into()));
        assert_eq!(Param::parse("x:NULL").unwrap().value, Value::Null);
        assert_eq!(Param::parse("x:null=").unwrap().value, Value::Null);
        assert_eq!(Param::parse(" spaced : INT = 7").unwrap(), Param::new("spaced", Value::Int(7)));
    }

    #[test]
    fn malformed_parameters_are_invalid_input() {
        for bad in ["noequals", "=1", ":INT=1", "x:NULL=1", "x:INT", "n:INT=five", "t:WHAT=1"] {
            let e = Param::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}: {e}");
        }
    }
}
