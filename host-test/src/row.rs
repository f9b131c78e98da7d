//! [`Row`]: one record as ordered `(column, value)` pairs, and its JSON forms.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::value::{Coerce, Column, Value};

/// One row: `(column, value)` pairs in column order. Serializes as a JSON object with the keys in
/// that order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row(pub Vec<(String, Value)>);

impl Row {
    /// An empty row.
    pub fn new() -> Row {
        Row(Vec::new())
    }

    /// Append a field (builder style).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Row {
        self.0.push((name.into(), value.into()));
        self
    }

    /// Append a field.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.0.push((name.into(), value.into()));
    }

    /// The value of column `name` (exact match first, then case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v)
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The row as a JSON object (keys in column order when serialized through `serde`;
    /// a `serde_json::Value` object itself sorts its keys).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.0.iter().map(|(n, v)| (n.clone(), v.to_json())).collect())
    }

    /// A row from a JSON object, values inferred from JSON alone (see [`Value::from_json`]).
    pub fn from_json_object(json: &serde_json::Value) -> Result<Row, Error> {
        match json {
            serde_json::Value::Object(map) => {
                Ok(Row(map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()))
            }
            other => Err(Error::invalid_input(format!("a record must be a JSON object, got {other}"))),
        }
    }

    /// Parse records from JSON Lines (one object per line) or a JSON array of objects (or a single
    /// object), keeping each object's key order.
    pub fn parse_records(text: &str) -> Result<Vec<Row>, Error> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') {
            let rows: Vec<Row> = serde_json::from_str(trimmed)
                .map_err(|e| Error::invalid_input(format!("records are not a JSON array of objects: {e}")))?;
            return Ok(rows);
        }
        let mut rows = Vec::new();
        let stream = serde_json::Deserializer::from_str(text).into_iter::<Row>();
        for (i, row) in stream.enumerate() {
            rows.push(row.map_err(|e| Error::invalid_input(format!("record {}: {e}", i + 1)))?);
        }
        Ok(rows)
    }

    /// Convert every field to the exact type of the column of the same name
    /// (case-insensitive); fields with no such column are an `invalid-input` error.
    pub fn coerce_to(&self, columns: &[Column]) -> Result<Row, Error> {
        let mut out = Vec::with_capacity(self.0.len());
        for (name, value) in &self.0 {
            let column = columns
                .iter()
                .find(|c| c.name == *name)
                .or_else(|| columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)))
                .ok_or_else(|| Error::invalid_input(format!("the target has no column `{name}`")))?;
            out.push((name.clone(), value.coerce_to(column)?));
        }
        Ok(Row(out))
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = Row;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object (one record)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
                let mut row = Row::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    // Column names are case-insensitive: `id` and `ID` would silently lose one.
                    if let Some((first, _)) = row.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(&k)) {
                        return Err(serde::de::Error::custom(format!(
                            "the record has the field `{k}` twice (as `{first}` and `{k}`; names are case-insensitive)"
                        )));
                    }
                    row.0.push((k, v));
                }
                Ok(row)
            }
        }
        deserializer.deserialize_map(RowVisitor)
    }
}

impl FromIterator<(String, Value)> for Row {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Row {
        Row(iter.into_iter().collect())
    }
}
