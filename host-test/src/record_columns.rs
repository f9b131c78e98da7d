//! Records in column-major form for the 0.4.1 writes (`write-columns`, `update-columns`,
//! `bulk-insert.append-columns`): the field names once and one typed column per name, so a
//! write lowers a few lists into the guest instead of a name and a value per cell.

use crate::bindings::wit_connector::{ColumnBatch as WitBatch, ColumnData, PackedDecimal, PackedText};
use crate::bindings::wit;
use crate::convert;
use crate::error::Error;
use crate::row::Row;
use crate::value::Value;

/// Records with one set of fields, column by column.
#[derive(Debug, Clone)]
pub struct RecordColumns {
    pub(crate) names: Vec<String>,
    pub(crate) batch: WitBatch,
}

impl RecordColumns {
    /// The fields of `records`, named as in the first record (each other record's field is
    /// found by name, case-insensitively). A column whose values are all of one case (and, for
    /// DECIMAL, one precision and scale) travels as a typed list; any other as one value per
    /// cell. A record without one of the first record's fields is `invalid-input`.
    pub fn from_records(records: &[Row]) -> Result<RecordColumns, Error> {
        let names: Vec<String> = records.first().map(|r| r.iter().map(|(n, _)| n.to_owned()).collect()).unwrap_or_default();
        let rows = u32::try_from(records.len()).map_err(|_| Error::invalid_input("too many records for one call"))?;
        let mut columns = Vec::with_capacity(names.len());
        for name in &names {
            let cells = records
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    r.get(name).ok_or_else(|| {
                        Error::invalid_input(format!("record {} has no field `{name}` (records of one call share their fields)", i + 1))
                    })
                })
                .collect::<Result<Vec<&Value>, Error>>()?;
            columns.push(column(&cells)?);
        }
        Ok(RecordColumns { names, batch: WitBatch { rows, columns } })
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.batch.rows as usize
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.batch.rows == 0
    }

    /// The field names, in column order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// One column's cells as the narrowest WIT case that holds them all exactly.
fn column(cells: &[&Value]) -> Result<ColumnData, Error> {
    macro_rules! typed {
        ($case:ident, $variant:ident) => {
            cells
                .iter()
                .map(|v| match v {
                    Value::Null => Some(None),
                    Value::$variant(x) => Some(Some(x.clone())),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(ColumnData::$case)
        };
    }
    let first = cells.iter().find(|v| !v.is_null());
    let typed = match first {
        Some(Value::Boolean(_)) => typed!(Boolean, Boolean),
        Some(Value::TinyInt(_)) => typed!(Tinyint, TinyInt),
        Some(Value::SmallInt(_)) => typed!(Smallint, SmallInt),
        Some(Value::Int(_)) => typed!(Int, Int),
        Some(Value::BigInt(_)) => typed!(Bigint, BigInt),
        Some(Value::Float(_)) => typed!(Float, Float),
        Some(Value::Double(_)) => typed!(Double, Double),
        Some(Value::Timestamp(_)) => typed!(Timestamp, Timestamp),
        Some(Value::TimestampNtz(_)) => typed!(TimestampNtz, TimestampNtz),
        Some(Value::Date(_)) => cells
            .iter()
            .map(|v| match v {
                Value::Null => Some(None),
                Value::Date(d) => Some(Some(wit::Date { year: d.year, month: d.month, day: d.day })),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(ColumnData::Date),
        Some(Value::Text(_)) => packed(cells, |v| if let Value::Text(s) = v { Some(s) } else { None })?.map(ColumnData::Text),
        Some(Value::Json(_)) => packed(cells, |v| if let Value::Json(s) = v { Some(s) } else { None })?.map(ColumnData::Json),
        Some(Value::Decimal(d)) => {
            let (precision, scale) = (d.precision, d.scale);
            packed(cells, |v| match v {
                Value::Decimal(x) if x.precision == precision && x.scale == scale => Some(&x.digits),
                _ => None,
            })?
            .map(|digits| ColumnData::Decimal(PackedDecimal { precision, scale, digits }))
        }
        _ => None,
    };
    Ok(typed.unwrap_or_else(|| ColumnData::Values(cells.iter().map(|v| convert::value_to_wit(v)).collect())))
}

/// Text cells packed into one string; `None` when some non-null cell is not `text` of the case.
fn packed<'v>(cells: &[&'v Value], text: impl Fn(&'v Value) -> Option<&'v String>) -> Result<Option<PackedText>, Error> {
    let mut p = PackedText { data: String::new(), ends: Vec::with_capacity(cells.len()), nulls: Vec::with_capacity(cells.len()) };
    for v in cells {
        if v.is_null() {
            p.nulls.push(true);
        } else {
            let Some(s) = text(v) else { return Ok(None) };
            p.data.push_str(s);
            p.nulls.push(false);
        }
        let end = u32::try_from(p.data.len()).map_err(|_| Error::invalid_input("a column's text passes 4 GiB in one call"))?;
        p.ends.push(end);
    }
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::value::Decimal;

    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::parse(s).and_then(|d| d.with_type(6, 2)).unwrap())
    }

    #[test]
    fn one_case_per_column_becomes_a_typed_list_and_mixed_cases_travel_as_values() {
        let records = vec![
            Row::new().with("id", 1i64).with("name", "Ada").with("score", dec("1.5")).with("any", 1i64),
            Row::new().with("ID", 2i64).with("Name", Value::Null).with("score", dec("2")).with("any", "x"),
        ];
        let c = RecordColumns::from_records(&records).unwrap();
        assert_eq!(c.names(), ["id", "name", "score", "any"]);
        assert_eq!(c.len(), 2);
        let cols = &c.batch.columns;
        assert!(matches!(&cols[0], ColumnData::Bigint(v) if v == &[Some(1), Some(2)]));
        assert!(matches!(&cols[1], ColumnData::Text(p) if p.data == "Ada" && p.ends == [3, 3] && p.nulls == [false, true]));
        assert!(
            matches!(&cols[2], ColumnData::Decimal(d) if d.precision == 6 && d.scale == 2 && d.digits.data == "1.502.00")
        );
        assert!(matches!(&cols[3], ColumnData::Values(v) if v.len() == 2));
    }

    #[test]
    fn a_record_missing_a_field_is_refused() {
        let records = vec![Row::new().with("id", 1i64).with("name", "Ada"), Row::new().with("id", 2i64)];
        let e = RecordColumns::from_records(&records).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.text().contains("record 2") && e.text().contains("`name`"), "{e}");
    }
}
