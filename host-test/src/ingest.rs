//! Ingestion: records typed against a table's columns, grouped by column set, sent in slices
//! with a progress callback, and the rows committed summed across calls — what a command-line
//! `write`/`update`/`delete` needs on top of the single WIT calls. Records come from any
//! [`RecordSource`]; a JSON Lines file is read in constant memory.

use crate::connection::Connection;
use crate::error::{Error, ErrorInfo};
use crate::record_columns::RecordColumns;
use crate::records::{RecordSource, Records};
use crate::value::{Coerce, Column, Row, Value};

/// Rows per connector call when [`IngestOptions::slice_rows`] is not set.
pub const DEFAULT_SLICE_ROWS: usize = 50_000;

/// What an ingestion does with its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation<'a> {
    /// `write-records`: insert.
    Insert,
    /// `update-records`: MERGE matched on these key columns (`id` when empty).
    Update {
        /// Key columns.
        key_columns: &'a [String],
    },
    /// `delete-records`: delete rows whose key column (`id` when `None`) holds one of the ids.
    Delete {
        /// Key column.
        key_column: Option<&'a str>,
    },
}

/// How an ingestion is sliced into connector calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestOptions {
    /// Most rows (or ids) per connector call; [`DEFAULT_SLICE_ROWS`] when `None`. The connector
    /// splits each call further into statements of at most `batch-rows` rows.
    pub slice_rows: Option<usize>,
    /// Inserts go through one staged bulk insert (`COPY INTO`, one commit) instead of a
    /// `write-records` call per slice; needs the connection's `staging_volume`.
    pub staged: bool,
}

impl IngestOptions {
    fn slice(&self) -> usize {
        self.slice_rows.unwrap_or(DEFAULT_SLICE_ROWS).max(1)
    }
}

/// Progress of an ingestion, reported after every connector call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows (or ids) sent so far.
    pub sent: u64,
    /// Rows (or ids) to send in all.
    pub total: u64,
    /// Rows the server counted so far (inserted, updated or deleted).
    pub affected: u64,
}

/// Rows sent and counted so far in one ingestion.
struct Count {
    sent: u64,
    total: u64,
    affected: u64,
}

impl Count {
    fn progress(&self) -> Progress {
        Progress { sent: self.sent, total: self.total, affected: self.affected }
    }

    /// `e` with the rows committed before it added.
    fn failed(&self, e: Error) -> Error {
        add_committed(e, self.affected)
    }
}

/// Type every field of `records` by the column of the same name (case-insensitive), e.g.
/// `"12.50"` into `DECIMAL(12,2)`, `"2024-01-01"` into `DATE`. An error names the record
/// (1-based) and the column.
pub fn typed_records(records: &[Row], columns: &[Column]) -> Result<Vec<Row>, Error> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| r.coerce_to(columns).map_err(|e| numbered(e, i)))
        .collect()
}

/// Add rows committed by earlier calls to an error's `committed_rows` (which counts only the
/// failing call's own batches).
pub fn add_committed(e: Error, earlier: u64) -> Error {
    if earlier == 0 {
        return e;
    }
    let mut info = e.info().clone();
    info.committed_rows = Some(earlier + info.committed_rows.unwrap_or(0));
    Error::new(e.kind(), info)
}

fn with_message(e: Error, message: String) -> Error {
    Error::new(e.kind(), ErrorInfo { message, ..e.info().clone() })
}

/// Texts (e.g. from the command line) as values of `column`'s type; without a column, each is
/// inferred ([`Value::infer`]).
pub fn typed_keys(ids: &[String], column: Option<&Column>) -> Result<Vec<Value>, Error> {
    ids.iter()
        .map(|id| match column {
            // A text keeps leading zeros for a STRING key; a number column parses it.
            Some(col) => Value::Text(id.clone()).coerce_to(col).or_else(|_| Value::infer(id).coerce_to(col)),
            None => Ok(Value::infer(id)),
        })
        .collect()
}

/// What a first pass over a source found: how many records, and their column sets (lower-case,
/// sorted) in order of first appearance.
struct Survey {
    total: u64,
    groups: Vec<Vec<String>>,
}

/// The column set of a record: its field names, lower-case and sorted (one connector call
/// sends one column list).
fn column_set(row: &Row) -> Vec<String> {
    let mut key: Vec<String> = row.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    key.sort();
    key
}

/// Type every record of `source` by `columns` (nothing kept): the count and the column sets, or
/// the first record that does not fit, named by its 1-based number.
fn survey(source: &(impl RecordSource + ?Sized), columns: &[Column]) -> Result<Survey, Error> {
    let mut survey = Survey { total: 0, groups: Vec::new() };
    for (i, record) in source.records()?.enumerate() {
        let record = record?;
        record.coerce_to(columns).map_err(|e| numbered(e, i))?;
        let key = column_set(&record);
        if !survey.groups.contains(&key) {
            survey.groups.push(key);
        }
        survey.total += 1;
    }
    if survey.total == 0 {
        return Err(Error::invalid_input("no records to write"));
    }
    Ok(survey)
}

/// The next at most `max` records of column set `group` from `pass`, typed by `columns`.
fn next_slice(pass: &mut Records<'_>, group: &[String], columns: &[Column], max: usize) -> Result<Vec<Row>, Error> {
    let mut slice = Vec::new();
    while slice.len() < max {
        let Some(record) = pass.next() else { break };
        let record = record?;
        if column_set(&record) == group {
            slice.push(record.coerce_to(columns)?);
        }
    }
    Ok(slice)
}

fn numbered(e: Error, index: usize) -> Error {
    let message = format!("record {}: {}", index + 1, e.text());
    with_message(e, message)
}

impl Connection<'_> {
    /// Insert or update `records` (JSON-inferred values are fine: they are typed by the table's
    /// columns first); see [`Connection::write_source`].
    pub async fn write_rows(
        &mut self,
        op: Operation<'_>,
        target: &str,
        records: &[Row],
        options: IngestOptions,
        progress: impl FnMut(Progress),
    ) -> Result<u64, Error> {
        self.write_source(op, target, records, options, progress).await
    }

    /// Insert or update the records of `source`, typed by the table's columns, in constant
    /// memory: a first pass types and counts every record, so a record that does not fit is
    /// refused (named by number) before anything is sent; then one pass per column set sends its
    /// records in slices of [`IngestOptions::slice_rows`] (or, for a staged insert, appends them
    /// to one bulk insert, loaded with one `COPY INTO`). `progress` is called after every slice.
    /// Returns the rows the server counted; a failure's `committed_rows` counts every earlier
    /// slice too.
    ///
    /// `op` must be [`Operation::Insert`] or [`Operation::Update`]; deletes take ids
    /// ([`Connection::delete_keys`]).
    pub async fn write_source(
        &mut self,
        op: Operation<'_>,
        target: &str,
        source: &(impl RecordSource + ?Sized),
        options: IngestOptions,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, Error> {
        if matches!(op, Operation::Delete { .. }) {
            return Err(Error::invalid_input("write_rows inserts or updates; use delete_keys to delete"));
        }
        let columns = self.table_columns(target).await?;
        let survey = survey(source, &columns)?;
        let staged = options.staged && matches!(op, Operation::Insert);
        let mut count = Count { sent: 0, total: survey.total, affected: 0 };
        for group in &survey.groups {
            let mut pass = source.records()?;
            if staged {
                self.insert_group_staged(target, &mut pass, group, &columns, options, &mut count, &mut progress).await?;
                continue;
            }
            loop {
                let slice = next_slice(&mut pass, group, &columns, options.slice()).map_err(|e| count.failed(e))?;
                if slice.is_empty() {
                    break;
                }
                let columns = RecordColumns::from_records(&slice).map_err(|e| count.failed(e))?;
                let r = match op {
                    Operation::Update { key_columns } => self.update_columns(&columns, target, key_columns).await,
                    _ => self.write_columns(&columns, target).await,
                };
                count.affected += r.map_err(|e| count.failed(e))?;
                count.sent += slice.len() as u64;
                progress(count.progress());
            }
        }
        Ok(count.affected)
    }

    /// Insert the records of one column set through one bulk insert: slices appended with
    /// progress (`affected` grows only at the load), then one `COPY INTO`.
    #[allow(clippy::too_many_arguments)]
    async fn insert_group_staged(
        &mut self,
        target: &str,
        pass: &mut Records<'_>,
        group: &[String],
        columns: &[Column],
        options: IngestOptions,
        count: &mut Count,
        progress: &mut impl FnMut(Progress),
    ) -> Result<(), Error> {
        let mut bulk = self.begin_bulk_insert(target).await.map_err(|e| count.failed(e))?;
        loop {
            let slice = next_slice(pass, group, columns, options.slice()).map_err(|e| count.failed(e))?;
            if slice.is_empty() {
                break;
            }
            let columns = RecordColumns::from_records(&slice).map_err(|e| count.failed(e))?;
            bulk.append_columns(&columns).await.map_err(|e| count.failed(e))?;
            count.sent += slice.len() as u64;
            progress(count.progress());
        }
        count.affected += bulk.commit().await.map_err(|e| count.failed(e))?;
        progress(count.progress());
        Ok(())
    }

    /// Delete the rows of `target` whose key column (`id` when `None`) holds one of `ids`, typed
    /// by that column ([`typed_keys`]), in slices with progress. Returns the rows deleted.
    pub async fn delete_keys(
        &mut self,
        target: &str,
        key_column: Option<&str>,
        ids: &[String],
        options: IngestOptions,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, Error> {
        if ids.is_empty() {
            return Err(Error::invalid_input("no ids to delete"));
        }
        let key = key_column.unwrap_or("id");
        let columns = self.table_columns(target).await?;
        let column = columns.iter().find(|c| c.name == key).or_else(|| columns.iter().find(|c| c.name.eq_ignore_ascii_case(key)));
        let Some(column) = column else {
            return Err(Error::invalid_input(format!("the target has no column `{key}` to delete by")));
        };
        let values = typed_keys(ids, Some(column))?;
        let total = values.len() as u64;
        let (mut sent, mut affected) = (0u64, 0u64);
        for slice in values.chunks(options.slice()) {
            let r = self.delete_records(slice, target, key_column).await;
            affected += r.map_err(|e| add_committed(e, affected))?;
            sent += slice.len() as u64;
            progress(Progress { sent, total, affected });
        }
        Ok(affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn col(name: &str, type_name: &str, type_text: &str) -> Column {
        Column { name: name.into(), type_name: type_name.into(), type_text: type_text.into(), position: 0 }
    }

    #[test]
    fn records_are_typed_by_the_columns_and_errors_name_the_record() {
        let columns = [col("id", "LONG", "BIGINT"), col("score", "DECIMAL", "DECIMAL(6,2)"), col("born", "DATE", "DATE")];
        let records = Row::parse_records("{\"ID\": 1, \"score\": \"12.5\", \"born\": \"1815-12-10\"}\n{\"id\": 2, \"score\": 7}").unwrap();
        let typed = typed_records(&records, &columns).unwrap();
        assert_eq!(typed[0].get("id"), Some(&Value::BigInt(1)));
        assert_eq!(typed[0].get("score").map(|v| v.to_string()), Some("12.50".to_string()));
        assert_eq!(typed[0].get("born").map(|v| v.sql_type()), Some("DATE".to_string()));
        assert_eq!(typed[1].get("score").map(|v| v.to_string()), Some("7.00".to_string()));

        let bad = Row::parse_records("{\"id\": 1}\n{\"id\": \"x\"}").unwrap();
        let e = typed_records(&bad, &columns).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.text().starts_with("record 2: column `id`"), "{e}");
        let e = typed_records(&Row::parse_records("{\"nope\": 1}").unwrap(), &columns).unwrap_err();
        assert!(e.text().contains("no column `nope`"), "{e}");
    }

    #[test]
    fn groups_keep_first_appearance_order_and_ignore_case() {
        let rows = Row::parse_records("{\"a\":1,\"b\":2}\n{\"a\":3}\n{\"B\":4,\"A\":5}\n{\"a\":6}").unwrap();
        let columns = [col("a", "LONG", "BIGINT"), col("b", "LONG", "BIGINT")];
        let found = survey(rows.as_slice(), &columns).unwrap();
        assert_eq!(found.total, 4);
        let ids: Vec<Vec<String>> = found
            .groups
            .iter()
            .map(|g| {
                let mut pass = rows.records().unwrap();
                let slice = next_slice(&mut pass, g, &columns, 10).unwrap();
                slice.iter().map(|r| r.iter().next().map(|(_, v)| v.to_string()).unwrap_or_default()).collect()
            })
            .collect();
        assert_eq!(ids, vec![vec!["1".to_string(), "4".to_string()], vec!["3".to_string(), "6".to_string()]]);
    }

    #[test]
    fn committed_rows_add_up_across_calls() {
        let e = Error::new(ErrorKind::Server, ErrorInfo { message: "boom".into(), committed_rows: Some(3), ..Default::default() });
        assert_eq!(add_committed(e.clone(), 0), e);
        assert_eq!(add_committed(e, 10).info().committed_rows, Some(13));
        let e = add_committed(Error::message(ErrorKind::Connection, "down"), 5);
        assert_eq!(e.info().committed_rows, Some(5));
        assert_eq!(e.kind(), ErrorKind::Connection);
    }

    #[test]
    fn keys_are_typed_by_the_key_column() {
        let ids = vec!["007".to_string(), "8".to_string()];
        assert_eq!(typed_keys(&ids, Some(&col("id", "LONG", "BIGINT"))).unwrap(), vec![Value::BigInt(7), Value::BigInt(8)]);
        assert_eq!(
            typed_keys(&ids, Some(&col("code", "STRING", "STRING"))).unwrap(),
            vec![Value::Text("007".into()), Value::Text("8".into())]
        );
        assert_eq!(typed_keys(&ids, None).unwrap(), vec![Value::BigInt(7), Value::BigInt(8)]);
        let e = typed_keys(&["x".to_string()], Some(&col("id", "LONG", "BIGINT"))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(IngestOptions::default().slice(), DEFAULT_SLICE_ROWS);
        assert_eq!(IngestOptions { slice_rows: Some(0), staged: false }.slice(), 1);
    }
}
