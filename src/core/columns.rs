//! Column-major batches: rows decoded into one vector per column, so a batch crosses the
//! component boundary as a few lists instead of one value (and one allocation) per cell.

use super::error::{Error, Result};
use super::value::{Column, Date, Kind, Value, bad, decimal_cell, decode_as, parse_int};

/// Text cells of one column packed into one string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackedText {
    /// Every non-null cell's text, back to back.
    pub data: String,
    /// Byte offset in `data` where each cell ends, one per row.
    pub ends: Vec<u32>,
    /// Which cells are SQL NULL, one per row.
    pub nulls: Vec<bool>,
}

impl PackedText {
    /// Append one cell (`None` for NULL).
    pub(crate) fn push(&mut self, cell: Option<&str>) -> Result<()> {
        if let Some(s) = cell {
            self.data.push_str(s);
        }
        self.end_cell(cell.is_none())
    }

    /// Append one non-null cell that `write` appends to `data` (no copy of the cell).
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut String)) -> Result<()> {
        write(&mut self.data);
        self.end_cell(false)
    }

    /// End the cell whose text (if any) was just appended to `data`.
    fn end_cell(&mut self, null: bool) -> Result<()> {
        let end = u32::try_from(self.data.len()).map_err(|_| {
            Error::server("a batch's text column exceeds 4 GiB; use a smaller batch")
        })?;
        self.ends.push(end);
        self.nulls.push(null);
        Ok(())
    }

    /// Cell `i`: `None` for NULL or past the end.
    pub fn get(&self, i: usize) -> Option<&str> {
        if *self.nulls.get(i)? {
            return None;
        }
        let start = if i == 0 {
            0
        } else {
            *self.ends.get(i - 1)? as usize
        };
        self.data.get(start..*self.ends.get(i)? as usize)
    }
}

/// One column of a [`ColumnBatch`].
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// BOOLEAN.
    Boolean(Vec<Option<bool>>),
    /// BYTE/TINYINT.
    TinyInt(Vec<Option<i8>>),
    /// SHORT/SMALLINT.
    SmallInt(Vec<Option<i16>>),
    /// INT.
    Int(Vec<Option<i32>>),
    /// LONG/BIGINT.
    BigInt(Vec<Option<i64>>),
    /// FLOAT.
    Float(Vec<Option<f32>>),
    /// DOUBLE.
    Double(Vec<Option<f64>>),
    /// DECIMAL(p,s): exact decimal text per cell.
    Decimal {
        /// Precision of the column.
        precision: u8,
        /// Scale of the column.
        scale: u8,
        /// The cells' decimal text.
        digits: PackedText,
    },
    /// STRING and unknown types.
    Text(PackedText),
    /// ARRAY/MAP/STRUCT/VARIANT as JSON text.
    Json(PackedText),
    /// DATE.
    Date(Vec<Option<Date>>),
    /// TIMESTAMP, µs since the epoch (UTC).
    Timestamp(Vec<Option<i64>>),
    /// TIMESTAMP_NTZ, µs since the epoch of the wall-clock time.
    TimestampNtz(Vec<Option<i64>>),
    /// BINARY, INTERVAL and NULL-typed columns: one value per cell.
    Values(Vec<Value>),
}

impl ColumnData {
    /// An empty column for cells of `kind`, with room for `rows` cells.
    pub fn for_kind(kind: Kind, rows: usize) -> ColumnData {
        let packed = || PackedText {
            data: String::new(),
            ends: Vec::with_capacity(rows),
            nulls: Vec::with_capacity(rows),
        };
        match kind {
            Kind::Boolean => ColumnData::Boolean(Vec::with_capacity(rows)),
            Kind::TinyInt => ColumnData::TinyInt(Vec::with_capacity(rows)),
            Kind::SmallInt => ColumnData::SmallInt(Vec::with_capacity(rows)),
            Kind::Int => ColumnData::Int(Vec::with_capacity(rows)),
            Kind::BigInt => ColumnData::BigInt(Vec::with_capacity(rows)),
            Kind::Float => ColumnData::Float(Vec::with_capacity(rows)),
            Kind::Double => ColumnData::Double(Vec::with_capacity(rows)),
            Kind::Decimal(precision, scale) => ColumnData::Decimal {
                precision,
                scale,
                digits: packed(),
            },
            Kind::Text => ColumnData::Text(packed()),
            Kind::Json => ColumnData::Json(packed()),
            Kind::Date => ColumnData::Date(Vec::with_capacity(rows)),
            Kind::Timestamp => ColumnData::Timestamp(Vec::with_capacity(rows)),
            Kind::TimestampNtz => ColumnData::TimestampNtz(Vec::with_capacity(rows)),
            Kind::Null | Kind::Binary | Kind::Interval => {
                ColumnData::Values(Vec::with_capacity(rows))
            }
        }
    }

    /// Decode `cell` of `col` (whose kind made this column) and append it.
    pub fn push(&mut self, kind: Kind, col: &Column, cell: Option<&str>) -> Result<()> {
        // Text-like cells are appended as they are, without an owned copy per cell; integer
        // cells are parsed straight into their vector (the commonest key columns).
        match self {
            ColumnData::BigInt(v) => return push_int(v, col, cell),
            ColumnData::Int(v) => return push_int(v, col, cell),
            ColumnData::Text(p) | ColumnData::Json(p) => return p.push(cell),
            ColumnData::Decimal { digits, scale, .. } => {
                return match cell {
                    Some(s) => digits.push(Some(&decimal_cell(col, s, *scale)?)),
                    None => digits.push(None),
                };
            }
            _ => {}
        }
        self.push_value(col, decode_as(kind, col, cell)?)
    }

    /// Append `value`, a cell of `col` decoded to this column's case (or `Null`).
    pub fn push_value(&mut self, col: &Column, value: Value) -> Result<()> {
        let null = matches!(value, Value::Null);
        /// Append `Some(x)` for the expected case, `None` for NULL.
        macro_rules! put {
            ($v:expr, $case:ident) => {
                match value {
                    Value::$case(x) => $v.push(Some(x)),
                    _ if null => $v.push(None),
                    _ => return Err(mismatch(col)),
                }
            };
        }
        match self {
            ColumnData::Boolean(v) => put!(v, Boolean),
            ColumnData::TinyInt(v) => put!(v, TinyInt),
            ColumnData::SmallInt(v) => put!(v, SmallInt),
            ColumnData::Int(v) => put!(v, Int),
            ColumnData::BigInt(v) => put!(v, BigInt),
            ColumnData::Float(v) => put!(v, Float),
            ColumnData::Double(v) => put!(v, Double),
            ColumnData::Date(v) => put!(v, Date),
            ColumnData::Timestamp(v) => put!(v, Timestamp),
            ColumnData::TimestampNtz(v) => put!(v, TimestampNtz),
            ColumnData::Values(v) => v.push(value),
            ColumnData::Text(p) => match value {
                Value::Text(s) => p.push(Some(&s))?,
                _ if null => p.push(None)?,
                _ => return Err(mismatch(col)),
            },
            ColumnData::Json(p) => match value {
                Value::Json(s) => p.push(Some(&s))?,
                _ if null => p.push(None)?,
                _ => return Err(mismatch(col)),
            },
            ColumnData::Decimal { digits, .. } => match value {
                Value::Decimal(d) => digits.push(Some(&d.digits))?,
                _ if null => digits.push(None)?,
                _ => return Err(mismatch(col)),
            },
        }
        Ok(())
    }

    /// Cell `i` as a [`Value`] (`Null` past the end).
    pub fn value(&self, i: usize) -> Value {
        fn at<T: Copy>(v: &[Option<T>], i: usize, f: impl Fn(T) -> Value) -> Value {
            v.get(i).copied().flatten().map_or(Value::Null, f)
        }
        let text = |p: &PackedText, f: fn(String) -> Value| {
            p.get(i).map_or(Value::Null, |s| f(s.to_owned()))
        };
        match self {
            ColumnData::Boolean(v) => at(v, i, Value::Boolean),
            ColumnData::TinyInt(v) => at(v, i, Value::TinyInt),
            ColumnData::SmallInt(v) => at(v, i, Value::SmallInt),
            ColumnData::Int(v) => at(v, i, Value::Int),
            ColumnData::BigInt(v) => at(v, i, Value::BigInt),
            ColumnData::Float(v) => at(v, i, Value::Float),
            ColumnData::Double(v) => at(v, i, Value::Double),
            ColumnData::Date(v) => at(v, i, Value::Date),
            ColumnData::Timestamp(v) => at(v, i, Value::Timestamp),
            ColumnData::TimestampNtz(v) => at(v, i, Value::TimestampNtz),
            ColumnData::Values(v) => v.get(i).cloned().unwrap_or(Value::Null),
            ColumnData::Text(p) => text(p, Value::Text),
            ColumnData::Json(p) => text(p, Value::Json),
            ColumnData::Decimal {
                precision,
                scale,
                digits,
            } => digits.get(i).map_or(Value::Null, |d| {
                Value::Decimal(super::value::Decimal {
                    digits: d.to_owned(),
                    precision: *precision,
                    scale: *scale,
                })
            }),
        }
    }
}

/// Append an integer cell, parsed as [`decode_as`] parses it.
fn push_int<I: TryFrom<i64> + std::str::FromStr>(
    v: &mut Vec<Option<I>>,
    col: &Column,
    cell: Option<&str>,
) -> Result<()> {
    let x = match cell {
        None => None,
        Some(s) => Some(parse_int(s).ok_or_else(|| bad(col, s))?),
    };
    v.push(x);
    Ok(())
}

fn mismatch(col: &Column) -> Error {
    Error::server(format!(
        "column {:?} decoded to a value of another type",
        col.name
    ))
}

/// Rows in column-major form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnBatch {
    /// Rows in the batch.
    pub rows: usize,
    /// One entry per result column.
    pub columns: Vec<ColumnData>,
}

impl ColumnBatch {
    /// An empty batch for columns of `kinds`, with room for `rows` rows.
    pub fn new(kinds: &[Kind], rows: usize) -> ColumnBatch {
        ColumnBatch {
            rows: 0,
            columns: kinds
                .iter()
                .map(|k| ColumnData::for_kind(*k, rows))
                .collect(),
        }
    }

    /// The batch as rows of values (what `next-batch` returns).
    pub fn to_rows(&self) -> Vec<Vec<Value>> {
        (0..self.rows)
            .map(|i| self.columns.iter().map(|c| c.value(i)).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::decode_cell;

    fn col(type_name: &str, type_text: &str) -> Column {
        Column {
            name: "c".into(),
            type_name: type_name.into(),
            type_text: type_text.into(),
            position: 0,
            precision: None,
            scale: None,
        }
    }

    #[test]
    fn columns_hold_exactly_what_row_decoding_gives() {
        let cases: &[(&str, &str, &[Option<&str>])] = &[
            (
                "LONG",
                "BIGINT",
                &[Some("1"), None, Some("-9223372036854775808")],
            ),
            ("INT", "INT", &[Some("7"), None]),
            ("BOOLEAN", "BOOLEAN", &[Some("true"), None, Some("false")]),
            ("DOUBLE", "DOUBLE", &[Some("Infinity"), Some("1.5"), None]),
            ("FLOAT", "FLOAT", &[Some("-Infinity"), None]),
            (
                "DECIMAL",
                "DECIMAL(10,2)",
                &[Some("-12.50"), None, Some("0.00")],
            ),
            ("STRING", "STRING", &[Some(""), None, Some("é名"), Some("")]),
            ("ARRAY", "ARRAY<INT>", &[Some("[1,2]"), None]),
            ("DATE", "DATE", &[Some("2024-02-29"), None]),
            (
                "TIMESTAMP",
                "TIMESTAMP",
                &[Some("2021-01-01T10:00:00.000-08:00"), None],
            ),
            (
                "TIMESTAMP_NTZ",
                "TIMESTAMP_NTZ",
                &[Some("2021-01-01T10:00:00"), None],
            ),
            ("BINARY", "BINARY", &[Some("AQI="), None]),
            (
                "INTERVAL",
                "INTERVAL DAY TO SECOND",
                &[Some("1 02:03:04.5"), None],
            ),
            ("VOID", "VOID", &[None]),
            ("GEOGRAPHY", "GEOGRAPHY", &[Some("POINT(1 2)")]),
        ];
        for (tn, tt, cells) in cases {
            let c = col(tn, tt);
            let kind = c.kind();
            let mut data = ColumnData::for_kind(kind, 0);
            for cell in *cells {
                data.push(kind, &c, *cell).unwrap();
            }
            for (i, cell) in cells.iter().enumerate() {
                assert_eq!(
                    data.value(i),
                    decode_cell(&c, *cell).unwrap(),
                    "{tn} cell {i}"
                );
            }
            if *tn == "DOUBLE" {
                data.push(kind, &c, Some("NaN")).unwrap();
                assert!(matches!(data.value(cells.len()), Value::Double(x) if x.is_nan()));
                continue;
            }
            assert_eq!(data.value(cells.len()), Value::Null);
        }
    }

    #[test]
    fn malformed_cells_are_refused_like_row_decoding() {
        for (tn, tt, cell) in [
            ("LONG", "BIGINT", "x"),
            ("DECIMAL", "DECIMAL(4,1)", "1e5"),
            ("DATE", "DATE", "2024-13-01"),
        ] {
            let c = col(tn, tt);
            let mut data = ColumnData::for_kind(c.kind(), 0);
            let e = data.push(c.kind(), &c, Some(cell)).unwrap_err();
            assert_eq!(e, decode_cell(&c, Some(cell)).unwrap_err());
        }
    }

    #[test]
    fn packed_text_offsets() {
        let mut p = PackedText::default();
        for cell in [Some("ab"), None, Some(""), Some("名")] {
            p.push(cell).unwrap();
        }
        assert_eq!(p.data, "ab名");
        assert_eq!(p.ends, vec![2, 2, 2, 5]);
        assert_eq!(p.nulls, vec![false, true, false, false]);
        assert_eq!(
            (p.get(0), p.get(1), p.get(2), p.get(3), p.get(4)),
            (Some("ab"), None, Some(""), Some("名"), None)
        );
    }
}
