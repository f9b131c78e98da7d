//! What the CLI prints: rows streamed as a table, JSON, JSON Lines or CSV, counts, executions,
//! history — to stdout or `--output FILE`, with control characters made harmless.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

use clap::ValueEnum;
use connector_host::{Execution, HistoryEntry, Row, Value, format_timestamp};
use unicode_width::UnicodeWidthChar;

use crate::exit::Failure;

/// Widest a table cell is printed, in terminal columns.
const MAX_CELL: usize = 48;

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text table, streamed (column widths from the first batch).
    Table,
    /// One JSON array of row objects (`{"count": n}` for writes).
    Json,
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header line (RFC 4180 quoting; NULL is an empty field).
    Csv,
}

/// Replace control characters (terminal escapes and the like) by `�`. In `Keep::Lines` mode
/// newlines and tabs stay (CSV quotes them, messages may have lines); in `Keep::Nothing` mode
/// they become spaces (one table row per line).
pub fn sanitize(text: &str, keep: Keep) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\n' | '\t' | '\r' if keep == Keep::Lines => c,
                '\n' | '\t' | '\r' => ' ',
                c if c.is_control() => '\u{FFFD}',
                c => c,
            })
            .collect(),
    )
}

/// What [`sanitize`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Newlines, carriage returns and tabs stay.
    Lines,
    /// Every control character goes.
    Nothing,
}

/// Where output goes: stdout, or the `--output` file.
pub struct Out {
    w: Box<dyn Write>,
}

impl Out {
    /// Stdout (buffered), or a new file at `path`.
    pub fn open(path: Option<&Path>) -> Result<Out, Failure> {
        let w: Box<dyn Write> = match path {
            Some(p) => Box::new(io::BufWriter::new(std::fs::File::create(p).map_err(|e| {
                Failure::from(connector_host::Error::invalid_input(format!("cannot create {}: {e}", p.display())))
            })?)),
            None => Box::new(io::BufWriter::with_capacity(64 * 1024, io::stdout())),
        };
        Ok(Out { w })
    }

    /// An `Out` writing into any writer (tests).
    #[cfg(test)]
    pub fn to(w: impl Write + 'static) -> Out {
        Out { w: Box::new(w) }
    }

    /// Write one line.
    pub fn line(&mut self, text: &str) -> Result<(), Failure> {
        self.w.write_all(text.as_bytes()).and_then(|()| self.w.write_all(b"\n")).map_err(Failure::output)
    }

    /// Write bytes as they are.
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), Failure> {
        self.w.write_all(b).map_err(Failure::output)
    }

    /// Flush (a closed pipe surfaces here at the latest).
    pub fn flush(&mut self) -> Result<(), Failure> {
        self.w.flush().map_err(Failure::output)
    }
}

/// Streams rows in one format: [`RowWriter::batch`] as they arrive, then [`RowWriter::finish`].
/// Memory is one batch (plus, for the table, the widths).
pub struct RowWriter {
    format: Format,
    names: Vec<String>,
    widths: Option<Vec<usize>>,
    rows: u64,
}

impl RowWriter {
    /// A writer for rows with these column names.
    pub fn new(format: Format, names: Vec<String>) -> RowWriter {
        RowWriter { format, names, widths: None, rows: 0 }
    }

    /// Write one batch of rows (values in column order).
    pub fn batch(&mut self, out: &mut Out, batch: &[Vec<Value>]) -> Result<(), Failure> {
        match self.format {
            Format::Table => {
                if self.widths.is_none() {
                    self.start_table(out, batch)?;
                }
                let widths = self.widths.as_deref().unwrap_or_default();
                for row in batch {
                    let cells: Vec<String> = row.iter().map(table_cell).collect();
                    out.line(&table_line(&cells, widths))?;
                }
            }
            Format::Json => {
                for values in batch {
                    out.bytes(if self.rows == 0 { b"[\n  " } else { b",\n  " })?;
                    self.object(out, values)?;
                    self.rows += 1;
                }
                return Ok(());
            }
            Format::Jsonl => {
                for values in batch {
                    self.object(out, values)?;
                    out.bytes(b"\n")?;
                }
            }
            Format::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(batch.len() * 32));
                let io = |e: csv::Error| Failure::from(connector_host::Error::message(connector_host::ErrorKind::Host, format!("CSV: {e}")));
                if self.widths.is_none() {
                    w.write_record(self.names.iter().map(|n| sanitize(n, Keep::Lines).into_owned())).map_err(io)?;
                    self.widths = Some(Vec::new());
                }
                for row in batch {
                    w.write_record(row.iter().map(csv_cell)).map_err(io)?;
                }
                let bytes = w.into_inner().map_err(|e| io(e.into_error().into()))?;
                out.bytes(&bytes)?;
            }
        }
        self.rows += batch.len() as u64;
        Ok(())
    }

    fn object(&self, out: &mut Out, values: &[Value]) -> Result<(), Failure> {
        let row: Row = self.names.iter().cloned().zip(values.iter().cloned()).collect();
        let text = serde_json::to_string(&row)
            .map_err(|e| connector_host::Error::message(connector_host::ErrorKind::Host, format!("cannot write JSON: {e}")))?;
        out.bytes(text.as_bytes())
    }

    fn start_table(&mut self, out: &mut Out, first: &[Vec<Value>]) -> Result<(), Failure> {
        let header: Vec<String> = self.names.iter().map(|n| clip(&sanitize(n, Keep::Nothing))).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
        for row in first {
            for (w, v) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&table_cell(v)));
            }
        }
        out.line(&table_line(&header, &widths))?;
        out.line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-"))?;
        self.widths = Some(widths);
        Ok(())
    }

    /// End the output: the table's row count, the JSON array's bracket, or a CSV header when no
    /// row came.
    pub fn finish(mut self, out: &mut Out) -> Result<(), Failure> {
        match self.format {
            Format::Table => {
                if self.widths.is_none() {
                    self.start_table(out, &[])?;
                }
                out.line(&format!("({} row{})", self.rows, if self.rows == 1 { "" } else { "s" }))?;
            }
            Format::Json => out.bytes(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })?,
            Format::Jsonl => {}
            Format::Csv if self.widths.is_none() => self.batch(out, &[])?,
            Format::Csv => {}
        }
        out.flush()
    }

    /// Write keyed rows whole (results of OPTIMIZE, VACUUM, the demo's reads): columns from
    /// the first row.
    pub fn rows(format: Format, out: &mut Out, rows: &[Row]) -> Result<(), Failure> {
        let names: Vec<String> = rows.first().map(|r| r.iter().map(|(n, _)| n.to_string()).collect()).unwrap_or_default();
        let values: Vec<Vec<Value>> =
            rows.iter().map(|r| names.iter().map(|n| r.get(n).cloned().unwrap_or(Value::Null)).collect()).collect();
        let mut w = RowWriter::new(format, names);
        w.batch(out, &values)?;
        w.finish(out)
    }
}

fn table_cell(v: &Value) -> String {
    clip(&sanitize(&v.to_string(), Keep::Nothing))
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        v => sanitize(&v.to_string(), Keep::Lines).into_owned(),
    }
}

fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// At most [`MAX_CELL`] columns wide, with `…` when cut.
fn clip(s: &str) -> String {
    fit(s, MAX_CELL)
}

fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

fn table_line(cells: &[String], widths: &[usize]) -> String {
    let parts: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(c, w)| {
            let c = fit(c, *w);
            let pad = w.saturating_sub(width(&c));
            format!("{c}{}", " ".repeat(pad))
        })
        .collect();
    parts.join(" | ").trim_end().to_string()
}

/// A count of rows written, updated or deleted.
pub fn count(format: Format, out: &mut Out, n: u64, verb: &str) -> Result<(), Failure> {
    match format {
        Format::Table => out.line(&format!("{verb} {n} row{}", if n == 1 { "" } else { "s" }))?,
        Format::Json | Format::Jsonl => out.line(&serde_json::json!({ "count": n }).to_string())?,
        Format::Csv => out.line(&format!("count\n{n}"))?,
    }
    out.flush()
}

/// An executed statement's timing and counts.
pub fn execution(format: Format, out: &mut Out, e: &Execution) -> Result<(), Failure> {
    match format {
        Format::Table => out.line(&format!(
            "ok: {} rows affected, {} rows in result, {} ms (statement {}{})",
            e.rows_affected,
            e.row_count,
            e.elapsed_ms,
            sanitize(&e.statement_id, Keep::Nothing),
            if e.retries > 0 { format!(", {} retries", e.retries) } else { String::new() }
        ))?,
        Format::Json => out.line(&serde_json::to_string_pretty(e).unwrap_or_default())?,
        Format::Jsonl => out.line(&serde_json::to_string(e).unwrap_or_default())?,
        Format::Csv => {
            let cells = [
                sanitize(&e.statement_id, Keep::Lines).into_owned(),
                e.elapsed_ms.to_string(),
                e.rows_affected.to_string(),
                e.row_count.to_string(),
                e.retries.to_string(),
            ];
            out.line("statement_id,elapsed_ms,rows_affected,row_count,retries")?;
            out.line(&cells.join(","))?;
        }
    }
    out.flush()
}

/// A Delta table's history.
pub fn history(format: Format, out: &mut Out, entries: &[HistoryEntry]) -> Result<(), Failure> {
    if format == Format::Json {
        out.line(&serde_json::to_string_pretty(&history_json(entries)).unwrap_or_default())?;
        return out.flush();
    }
    if format == Format::Jsonl {
        for j in history_json(entries).as_array().into_iter().flatten() {
            out.line(&j.to_string())?;
        }
        return out.flush();
    }
    let names = ["version", "timestamp", "operation", "user", "parameters", "metrics"].map(String::from).to_vec();
    let rows: Vec<Vec<Value>> = entries
        .iter()
        .map(|e| {
            vec![
                Value::BigInt(e.version),
                Value::Text(format_timestamp(e.timestamp)),
                Value::Text(e.operation.clone()),
                e.user_name.clone().map_or(Value::Null, Value::Text),
                Value::Text(e.operation_parameters.clone()),
                Value::Text(e.operation_metrics.clone()),
            ]
        })
        .collect();
    let mut w = RowWriter::new(format, names);
    w.batch(out, &rows)?;
    w.finish(out)
}

/// History entries as JSON objects (timestamps RFC 3339, parameters and metrics as objects).
pub fn history_json(entries: &[HistoryEntry]) -> serde_json::Value {
    serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "version": e.version,
                    "timestamp": format_timestamp(e.timestamp),
                    "operation": e.operation,
                    "userName": e.user_name,
                    "operationParameters": e.parameters(),
                    "operationMetrics": e.metrics(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
