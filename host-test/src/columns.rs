//! [`ColumnBatch`]: rows in column-major form, as the guest's `next-columns` returns them.
//! Checked once on arrival, so reading cells never panics whatever the guest sent.

use crate::bindings::wit_connector::{ColumnData, PackedText};
use crate::error::{Error, ErrorKind};
use crate::value::{Date, Decimal, Value};

/// Rows in column-major form: one typed vector per column. Cheaper to pass out of the guest
/// than rows of values; [`ColumnBatch::into_rows`] gives the rows.
#[derive(Debug, Clone)]
pub struct ColumnBatch {
    rows: usize,
    columns: Vec<ColumnData>,
}

impl ColumnBatch {
    /// Check the shape the guest sent: every column has `rows` cells, text offsets ascend within
    /// their string and fall on character boundaries.
    pub(crate) fn from_wit(rows: u32, columns: Vec<ColumnData>) -> Result<ColumnBatch, Error> {
        let rows = rows as usize;
        for (i, c) in columns.iter().enumerate() {
            let ok = match c {
                ColumnData::Boolean(v) => v.len() == rows,
                ColumnData::Tinyint(v) => v.len() == rows,
                ColumnData::Smallint(v) => v.len() == rows,
                ColumnData::Int(v) => v.len() == rows,
                ColumnData::Bigint(v) | ColumnData::Timestamp(v) | ColumnData::TimestampNtz(v) => v.len() == rows,
                ColumnData::Float(v) => v.len() == rows,
                ColumnData::Double(v) => v.len() == rows,
                ColumnData::Date(v) => v.len() == rows,
                ColumnData::Values(v) => v.len() == rows,
                ColumnData::Text(p) | ColumnData::Json(p) => packed_ok(p, rows),
                ColumnData::Decimal(d) => packed_ok(&d.digits, rows),
            };
            if !ok {
                return Err(Error::message(
                    ErrorKind::Trap,
                    format!("the connector component returned a malformed column batch (column {i})"),
                ));
            }
        }
        Ok(ColumnBatch { rows, columns })
    }

    /// Rows in the batch (0 at the end of the result).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns in the batch.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// The cells of column `col` if it is a BIGINT column (`None` cells are SQL NULL).
    pub fn bigint(&self, col: usize) -> Option<&[Option<i64>]> {
        match self.columns.get(col)? {
            ColumnData::Bigint(v) => Some(v),
            _ => None,
        }
    }

    /// The text of cell (`row`, `col`) of a STRING, JSON or DECIMAL column, without copying;
    /// `None` for SQL NULL, other column types or outside the batch.
    pub fn text(&self, row: usize, col: usize) -> Option<&str> {
        match self.columns.get(col)? {
            ColumnData::Text(p) | ColumnData::Json(p) => cell(p, row),
            ColumnData::Decimal(d) => cell(&d.digits, row),
            _ => None,
        }
    }

    /// Cell (`row`, `col`) as a [`Value`]; `Null` outside the batch.
    pub fn value(&self, row: usize, col: usize) -> Value {
        fn at<T: Copy>(v: &[Option<T>], row: usize, f: impl Fn(T) -> Value) -> Value {
            v.get(row).copied().flatten().map_or(Value::Null, f)
        }
        let Some(c) = self.columns.get(col) else { return Value::Null };
        match c {
            ColumnData::Boolean(v) => at(v, row, Value::Boolean),
            ColumnData::Tinyint(v) => at(v, row, Value::TinyInt),
            ColumnData::Smallint(v) => at(v, row, Value::SmallInt),
            ColumnData::Int(v) => at(v, row, Value::Int),
            ColumnData::Bigint(v) => at(v, row, Value::BigInt),
            ColumnData::Float(v) => at(v, row, Value::Float),
            ColumnData::Double(v) => at(v, row, Value::Double),
            ColumnData::Timestamp(v) => at(v, row, Value::Timestamp),
            ColumnData::TimestampNtz(v) => at(v, row, Value::TimestampNtz),
            ColumnData::Date(v) => v
                .get(row)
                .and_then(|d| d.as_ref())
                .map_or(Value::Null, |d| Value::Date(Date { year: d.year, month: d.month, day: d.day })),
            ColumnData::Values(v) => v.get(row).cloned().map_or(Value::Null, crate::convert::value_from_wit),
            ColumnData::Text(p) => cell(p, row).map_or(Value::Null, |s| Value::Text(s.to_owned())),
            ColumnData::Json(p) => cell(p, row).map_or(Value::Null, |s| Value::Json(s.to_owned())),
            ColumnData::Decimal(d) => cell(&d.digits, row).map_or(Value::Null, |s| {
                Value::Decimal(Decimal { digits: s.to_owned(), precision: d.precision, scale: d.scale })
            }),
        }
    }

    /// The batch as rows of values in column order (filled column by column: one dispatch per
    /// column, not per cell).
    pub fn into_rows(self) -> Vec<Vec<Value>> {
        let width = self.columns.len();
        let mut rows: Vec<Vec<Value>> = (0..self.rows).map(|_| Vec::with_capacity(width)).collect();
        fn fill<T>(rows: &mut [Vec<Value>], cells: Vec<Option<T>>, f: impl Fn(T) -> Value) {
            for (row, cell) in rows.iter_mut().zip(cells) {
                row.push(cell.map_or(Value::Null, &f));
            }
        }
        fn fill_text(rows: &mut [Vec<Value>], p: &PackedText, f: impl Fn(&str) -> Value) {
            let mut start = 0usize;
            for (i, row) in rows.iter_mut().enumerate() {
                let end = p.ends.get(i).map_or(start, |&e| e as usize);
                let null = p.nulls.get(i).copied().unwrap_or(true);
                row.push(match p.data.get(start..end) {
                    Some(s) if !null => f(s),
                    _ => Value::Null,
                });
                start = end;
            }
        }
        for column in self.columns {
            match column {
                ColumnData::Boolean(v) => fill(&mut rows, v, Value::Boolean),
                ColumnData::Tinyint(v) => fill(&mut rows, v, Value::TinyInt),
                ColumnData::Smallint(v) => fill(&mut rows, v, Value::SmallInt),
                ColumnData::Int(v) => fill(&mut rows, v, Value::Int),
                ColumnData::Bigint(v) => fill(&mut rows, v, Value::BigInt),
                ColumnData::Float(v) => fill(&mut rows, v, Value::Float),
                ColumnData::Double(v) => fill(&mut rows, v, Value::Double),
                ColumnData::Timestamp(v) => fill(&mut rows, v, Value::Timestamp),
                ColumnData::TimestampNtz(v) => fill(&mut rows, v, Value::TimestampNtz),
                ColumnData::Date(v) => {
                    fill(&mut rows, v, |d| Value::Date(Date { year: d.year, month: d.month, day: d.day }))
                }
                ColumnData::Values(v) => {
                    for (row, cell) in rows.iter_mut().zip(v) {
                        row.push(crate::convert::value_from_wit(cell));
                    }
                }
                ColumnData::Text(p) => fill_text(&mut rows, &p, |s| Value::Text(s.to_owned())),
                ColumnData::Json(p) => fill_text(&mut rows, &p, |s| Value::Json(s.to_owned())),
                ColumnData::Decimal(d) => fill_text(&mut rows, &d.digits, |s| {
                    Value::Decimal(Decimal { digits: s.to_owned(), precision: d.precision, scale: d.scale })
                }),
            }
        }
        rows
    }
}

/// Whether a packed text column has `rows` cells with ascending offsets on char boundaries.
fn packed_ok(p: &PackedText, rows: usize) -> bool {
    let mut start = 0usize;
    p.ends.len() == rows
        && p.nulls.len() == rows
        && p.ends.iter().all(|&end| {
            let end = end as usize;
            let ok = start <= end && p.data.is_char_boundary(end);
            start = end;
            ok
        })
}

/// Cell `i` of a checked packed column.
fn cell(p: &PackedText, i: usize) -> Option<&str> {
    if *p.nulls.get(i)? {
        return None;
    }
    let start = if i == 0 { 0 } else { *p.ends.get(i - 1)? as usize };
    p.data.get(start..*p.ends.get(i)? as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(cells: &[Option<&str>]) -> PackedText {
        let mut p = PackedText { data: String::new(), ends: Vec::new(), nulls: Vec::new() };
        for c in cells {
            p.data.push_str(c.unwrap_or(""));
            p.ends.push(p.data.len() as u32);
            p.nulls.push(c.is_none());
        }
        p
    }

    #[test]
    fn cells_read_back_and_malformed_batches_are_refused() {
        let b = ColumnBatch::from_wit(
            2,
            vec![ColumnData::Bigint(vec![Some(1), None]), ColumnData::Text(packed(&[Some("名"), None]))],
        )
        .unwrap();
        assert_eq!(b.bigint(0), Some(&[Some(1), None][..]));
        assert_eq!((b.text(0, 1), b.text(1, 1), b.text(0, 0)), (Some("名"), None, None));
        assert_eq!(b.clone().into_rows(), vec![vec![Value::BigInt(1), Value::Text("名".into())], vec![Value::Null, Value::Null]]);
        let every_row: Vec<Vec<Value>> = (0..b.rows()).map(|r| (0..b.width()).map(|c| b.value(r, c)).collect()).collect();
        assert_eq!(b.clone().into_rows(), every_row);
        assert_eq!(b.value(5, 0), Value::Null);

        let short = ColumnBatch::from_wit(3, vec![ColumnData::Bigint(vec![Some(1)])]);
        assert_eq!(short.unwrap_err().kind(), ErrorKind::Trap);
        let mut mid_char = packed(&[Some("名")]);
        mid_char.ends[0] = 1;
        assert!(ColumnBatch::from_wit(1, vec![ColumnData::Text(mid_char)]).is_err());
        let mut past_end = packed(&[Some("a")]);
        past_end.ends[0] = 9;
        assert!(ColumnBatch::from_wit(1, vec![ColumnData::Json(past_end)]).is_err());
        let mut descending = packed(&[Some("ab"), Some("c")]);
        descending.ends = vec![2, 1];
        assert!(ColumnBatch::from_wit(2, vec![ColumnData::Text(descending)]).is_err());
    }
}
