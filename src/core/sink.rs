//! Where a [`Cursor`](super::driver::Cursor) puts decoded rows: rows of values, or column
//! batches; from JSON_ARRAY cells one at a time, or from Arrow record batches a slice at a time.

use arrow_array::RecordBatch;

use super::arrow;
use super::columns::ColumnBatch;
use super::error::Result;
use super::value::{Column, Kind, Value, decode_as};

/// Where a cursor puts decoded rows. A row whose cell fails is abandoned with its error (the
/// batch is not returned).
pub(crate) trait Sink {
    /// Complete rows taken so far.
    fn rows(&self) -> usize;
    /// Decode and take cell `i` (of `kind`, in `col`) of the current row.
    fn cell(&mut self, i: usize, kind: Kind, col: &Column, cell: Option<&str>) -> Result<()>;
    /// Every cell of the current row has been taken.
    fn end_row(&mut self);
    /// Decode and take rows `start..start + n` of an Arrow record batch (whose columns match
    /// `cols`).
    fn arrow(
        &mut self,
        batch: &RecordBatch,
        start: usize,
        n: usize,
        cols: &[Column],
        kinds: &[Kind],
    ) -> Result<()>;
}

/// Rows of values.
pub(crate) struct RowSink {
    /// Complete rows.
    pub rows: Vec<Vec<Value>>,
    /// The row being decoded.
    pub row: Vec<Value>,
}

impl Sink for RowSink {
    fn rows(&self) -> usize {
        self.rows.len()
    }

    fn cell(&mut self, _: usize, kind: Kind, col: &Column, cell: Option<&str>) -> Result<()> {
        self.row.push(decode_as(kind, col, cell)?);
        Ok(())
    }

    fn end_row(&mut self) {
        let width = self.row.len();
        self.rows
            .push(std::mem::replace(&mut self.row, Vec::with_capacity(width)));
    }

    fn arrow(
        &mut self,
        batch: &RecordBatch,
        start: usize,
        n: usize,
        cols: &[Column],
        kinds: &[Kind],
    ) -> Result<()> {
        // Column by column (one typed loop each), then moved into rows.
        let mut columns = batch
            .columns()
            .iter()
            .zip(cols.iter().zip(kinds))
            .map(
                |(a, (col, kind))| Ok(arrow::values(a.as_ref(), start, n, *kind, col)?.into_iter()),
            )
            .collect::<Result<Vec<_>>>()?;
        self.rows.reserve(n);
        for _ in 0..n {
            let row = columns
                .iter_mut()
                .map(|c| c.next().unwrap_or(Value::Null))
                .collect();
            self.rows.push(row);
        }
        Ok(())
    }
}

impl Sink for ColumnBatch {
    fn rows(&self) -> usize {
        self.rows
    }

    fn cell(&mut self, i: usize, kind: Kind, col: &Column, cell: Option<&str>) -> Result<()> {
        match self.columns.get_mut(i) {
            Some(c) => c.push(kind, col, cell),
            None => Ok(()),
        }
    }

    fn end_row(&mut self) {
        self.rows += 1;
    }

    fn arrow(
        &mut self,
        batch: &RecordBatch,
        start: usize,
        n: usize,
        cols: &[Column],
        kinds: &[Kind],
    ) -> Result<()> {
        for (data, (a, (col, kind))) in self
            .columns
            .iter_mut()
            .zip(batch.columns().iter().zip(cols.iter().zip(kinds)))
        {
            arrow::append(data, a.as_ref(), start, n, *kind, col)?;
        }
        self.rows += n;
        Ok(())
    }
}
