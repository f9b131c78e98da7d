//! The typed connection API: every WIT function of `connector` and `delta` as an async method
//! returning Rust types.

use std::fmt;

use wasmtime::component::ResourceAny;

use crate::columns::ColumnBatch;
use crate::convert;
use crate::error::Error;
use crate::host::Tenant;
use crate::param::Param;
use crate::record_columns::RecordColumns;
use crate::value::{Column, Row, Value};

pub use openmatch_types::config::{ConnectConfig, Credential, ResultFormat};
pub use openmatch_types::execution::{Execution, HistoryEntry};
pub use openmatch_types::secret::Secret;

/// An open connection in a tenant. Dropping it releases it in the guest before the tenant's next
/// call; [`Connection::close`] closes it now (later calls fail with `invalid-input`).
pub struct Connection<'t> {
    tenant: &'t mut Tenant,
    handle: ResourceAny,
    owned: bool,
}

impl fmt::Debug for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

/// Run one guest call with the tenant's budget and timeout.
macro_rules! guest_call {
    ($tenant:expr, |$store:ident, $b:ident| $call:expr) => {{
        let tenant: &mut Tenant = $tenant;
        tenant.prepare().await?;
        let timeout = tenant.limits.call_timeout;
        let r = {
            let $store = &mut tenant.store;
            let $b = &tenant.bindings;
            tokio::time::timeout(timeout, $call).await
        };
        tenant.finish(r)
    }};
}

impl<'t> Connection<'t> {
    pub(crate) fn new(tenant: &'t mut Tenant, handle: ResourceAny) -> Connection<'t> {
        Connection { tenant, handle, owned: true }
    }

    pub(crate) fn borrowed(tenant: &'t mut Tenant, handle: ResourceAny) -> Connection<'t> {
        Connection { tenant, handle, owned: false }
    }

    /// The tenant this connection lives in.
    pub fn tenant(&self) -> &Tenant {
        self.tenant
    }

    /// Run a query; every row keyed by column name. `%(name)s` markers take `params`.
    pub async fn read_records(&mut self, query: &str, params: &[Param]) -> Result<Vec<Row>, Error> {
        let p = convert::params_to_wit(params);
        let h = self.handle;
        let rows = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_read_records(s, h, query, &p))?
        .map_err(convert::error_from_wit)?;
        Ok(rows.into_iter().map(convert::row_from_wit).collect())
    }

    /// Run a query and stream its rows.
    pub async fn query(&mut self, query: &str, params: &[Param]) -> Result<RowStream<'_>, Error> {
        let p = convert::params_to_wit(params);
        let h = self.handle;
        let rows = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_query(s, h, query, &p))?
        .map_err(convert::error_from_wit)?;
        let mut stream = RowStream { tenant: &mut *self.tenant, handle: Some(rows), columns: Vec::new(), statement_id: String::new(), done: false };
        let columns = guest_call!(&mut *stream.tenant, |s, b| b.openmatch_databricks_connector().rows().call_columns(s, rows))?;
        stream.columns = columns.into_iter().map(convert::column_from_wit).collect();
        stream.statement_id =
            guest_call!(&mut *stream.tenant, |s, b| b.openmatch_databricks_connector().rows().call_statement_id(s, rows))?;
        Ok(stream)
    }

    /// Insert `records` into `target`; the number of rows inserted, as counted by the server.
    pub async fn write_records(&mut self, records: &[Row], target: &str) -> Result<u64, Error> {
        let r: Vec<_> = records.iter().map(convert::row_to_wit).collect();
        let h = self.handle;
        guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_write_records(s, h, &r, target))?
        .map_err(convert::error_from_wit)
    }

    /// [`Connection::write_records`] with the records column by column ([`RecordColumns`]): the
    /// same rows written and counted, a few typed lists lowered into the guest instead of a
    /// name and a value per cell.
    pub async fn write_columns(&mut self, records: &RecordColumns, target: &str) -> Result<u64, Error> {
        let h = self.handle;
        guest_call!(&mut *self.tenant, |s, b| b.openmatch_databricks_connector().connection().call_write_columns(
            s,
            h,
            &records.names,
            &records.batch,
            target
        ))?
        .map_err(convert::error_from_wit)
    }

    /// Start a staged bulk insert into `target` (needs `staging_volume`): append records in
    /// slices, then commit them with one `COPY INTO`. Dropping it uncommitted deletes what was
    /// uploaded.
    pub async fn begin_bulk_insert(&mut self, target: &str) -> Result<BulkInsert<'_>, Error> {
        let h = self.handle;
        let bulk = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_begin_bulk_insert(s, h, target))?
        .map_err(convert::error_from_wit)?;
        Ok(BulkInsert { tenant: &mut *self.tenant, handle: Some(bulk) })
    }

    /// Update rows of `target` matched on `key_columns` (`["id"]` when empty); rows updated.
    pub async fn update_records(&mut self, records: &[Row], target: &str, key_columns: &[String]) -> Result<u64, Error> {
        let r: Vec<_> = records.iter().map(convert::row_to_wit).collect();
        let h = self.handle;
        guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_update_records(s, h, &r, target, key_columns))?
        .map_err(convert::error_from_wit)
    }

    /// [`Connection::update_records`] with the records column by column ([`RecordColumns`]).
    pub async fn update_columns(&mut self, records: &RecordColumns, target: &str, key_columns: &[String]) -> Result<u64, Error> {
        let h = self.handle;
        guest_call!(&mut *self.tenant, |s, b| b.openmatch_databricks_connector().connection().call_update_columns(
            s,
            h,
            &records.names,
            &records.batch,
            target,
            key_columns
        ))?
        .map_err(convert::error_from_wit)
    }

    /// Delete rows of `target` whose `key_column` (`id` when `None`) is in `ids`; rows deleted.
    pub async fn delete_records(&mut self, ids: &[Value], target: &str, key_column: Option<&str>) -> Result<u64, Error> {
        let ids: Vec<_> = ids.iter().map(convert::value_to_wit).collect();
        let h = self.handle;
        let key = key_column.map(str::to_string);
        guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_delete_records(s, h, &ids, target, key.as_deref()))?
        .map_err(convert::error_from_wit)
    }

    /// Run any statement; its timing and counts.
    pub async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<Execution, Error> {
        let p = convert::params_to_wit(params);
        let h = self.handle;
        let e = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_execute(s, h, sql, &p))?
        .map_err(convert::error_from_wit)?;
        Ok(convert::execution_from_wit(e))
    }

    /// Cancel a running statement by id.
    pub async fn cancel(&mut self, statement_id: &str) -> Result<(), Error> {
        let h = self.handle;
        guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_cancel(s, h, statement_id))?
        .map_err(convert::error_from_wit)
    }

    /// Timing of the last statement, if any.
    pub async fn last_execution(&mut self) -> Result<Option<Execution>, Error> {
        let h = self.handle;
        let e = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_connector()
            .connection()
            .call_last_execution(s, h))?;
        Ok(e.map(convert::execution_from_wit))
    }

    /// `OPTIMIZE` (with `ZORDER BY` when `zorder_by` is not empty); the server's result rows.
    pub async fn optimize(&mut self, table: &str, zorder_by: &[String]) -> Result<Vec<Row>, Error> {
        let h = self.handle;
        let rows = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_delta()
            .call_optimize(s, h, table, zorder_by))?
        .map_err(convert::error_from_wit)?;
        Ok(rows.into_iter().map(convert::row_from_wit).collect())
    }

    /// `VACUUM … RETAIN n HOURS` (168 when `None`); the server's result rows.
    pub async fn vacuum(&mut self, table: &str, retain_hours: Option<u32>) -> Result<Vec<Row>, Error> {
        let h = self.handle;
        let rows = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_delta()
            .call_vacuum(s, h, table, retain_hours))?
        .map_err(convert::error_from_wit)?;
        Ok(rows.into_iter().map(convert::row_from_wit).collect())
    }

    /// `DESCRIBE HISTORY`, newest first, at most `limit` entries.
    pub async fn history(&mut self, table: &str, limit: Option<u32>) -> Result<Vec<HistoryEntry>, Error> {
        let h = self.handle;
        let entries = guest_call!(&mut *self.tenant, |s, b| b
            .openmatch_databricks_delta()
            .call_history(s, h, table, limit))?
        .map_err(convert::error_from_wit)?;
        Ok(entries.into_iter().map(convert::history_from_wit).collect())
    }

    /// Close the connection (later calls fail with `invalid-input`).
    pub async fn close(&mut self) -> Result<(), Error> {
        let h = self.handle;
        guest_call!(&mut *self.tenant, |s, b| b.openmatch_databricks_connector().connection().call_close(s, h))
    }

    /// The columns of a table or view (from an empty `SELECT * … LIMIT 0`); used to type
    /// records read from JSON before writing them.
    pub async fn table_columns(&mut self, table: &str) -> Result<Vec<Column>, Error> {
        let sql = format!("SELECT * FROM {} LIMIT 0", quote_name(table)?);
        let stream = self.query(&sql, &[]).await?;
        let columns = stream.columns().to_vec();
        stream.close().await?;
        Ok(columns)
    }
}

impl Drop for Connection<'_> {
    fn drop(&mut self) {
        if self.owned {
            self.tenant.defer_drop(self.handle);
        }
    }
}

/// Backtick-quote a possibly qualified name (`a.b.c` → `` `a`.`b`.`c` ``). Parts already in
/// backticks are kept; a backtick inside a part is doubled.
pub fn quote_name(name: &str) -> Result<String, Error> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = name.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                chars.next();
                cur.push('`');
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    // As the guest's `quote_table`: 1–3 parts of 1–255 characters, no control characters.
    let bad_part = |p: &String| p.is_empty() || p.chars().count() > 255 || p.chars().any(char::is_control);
    if quoted || parts.iter().any(bad_part) || parts.len() > 3 {
        let shown: String = name.chars().take(64).collect();
        return Err(Error::invalid_input(format!(
            "{shown:?} is not a valid table name (1 to 3 dot-separated parts of 1 to 255 characters, no control characters)"
        )));
    }
    Ok(parts.iter().map(|p| format!("`{}`", p.replace('`', "``"))).collect::<Vec<_>>().join("."))
}

/// A streaming result. Rows arrive chunk by chunk; dropping it closes the statement on the
/// server (before the tenant's next call), [`RowStream::close`] does so now.
pub struct RowStream<'c> {
    tenant: &'c mut Tenant,
    handle: Option<ResourceAny>,
    columns: Vec<Column>,
    statement_id: String,
    done: bool,
}

impl fmt::Debug for RowStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowStream")
            .field("columns", &self.columns)
            .field("statement_id", &self.statement_id)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl RowStream<'_> {
    /// The result's columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The statement id.
    pub fn statement_id(&self) -> &str {
        &self.statement_id
    }

    /// The tenant (for memory figures while streaming).
    pub fn tenant(&self) -> &Tenant {
        self.tenant
    }

    /// Up to `max` more rows as value lists in column order; empty when exhausted.
    pub async fn next_batch(&mut self, max: u32) -> Result<Vec<Vec<Value>>, Error> {
        Ok(self.next_columns(max).await?.into_rows())
    }

    /// Up to `max` more rows in column-major form (what crosses the component boundary; the
    /// fastest way to read a large result); 0 rows when exhausted.
    pub async fn next_columns(&mut self, max: u32) -> Result<ColumnBatch, Error> {
        let Some(h) = self.handle.filter(|_| !self.done) else { return ColumnBatch::from_wit(0, Vec::new()) };
        let batch = guest_call!(&mut *self.tenant, |s, b| b.openmatch_databricks_connector().rows().call_next_columns(s, h, max))?
            .map_err(convert::error_from_wit)?;
        if batch.rows == 0 {
            self.done = true;
        }
        ColumnBatch::from_wit(batch.rows, batch.columns)
    }

    /// Up to `max` more rows keyed by column name; empty when exhausted.
    pub async fn next_rows(&mut self, max: u32) -> Result<Vec<Row>, Error> {
        let batch = self.next_batch(max).await?;
        let names: Vec<String> = self.columns.iter().map(|c| c.name.clone()).collect();
        Ok(batch.into_iter().map(|values| names.iter().cloned().zip(values).collect()).collect())
    }

    /// Close the stream now (the statement is closed on the server if not exhausted).
    pub async fn close(mut self) -> Result<(), Error> {
        match self.handle.take() {
            Some(h) => self.tenant.drop_now(h).await,
            None => Ok(()),
        }
    }
}

/// A staged bulk insert (the WIT `bulk-insert`), borrowed from its connection.
pub struct BulkInsert<'c> {
    tenant: &'c mut Tenant,
    handle: Option<ResourceAny>,
}

impl fmt::Debug for BulkInsert<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkInsert").finish_non_exhaustive()
    }
}

impl BulkInsert<'_> {
    /// Check and stage `records` (uploaded to the staging volume as they fill a file).
    pub async fn append(&mut self, records: &[Row]) -> Result<(), Error> {
        let Some(h) = self.handle else { return Err(Error::invalid_input("this bulk insert has ended")) };
        let r: Vec<_> = records.iter().map(convert::row_to_wit).collect();
        guest_call!(&mut *self.tenant, |s, b| b.openmatch_databricks_connector().bulk_insert().call_append(s, h, &r))?
            .map_err(convert::error_from_wit)
    }

    /// [`BulkInsert::append`] with the records column by column ([`RecordColumns`]).
    pub async fn append_columns(&mut self, records: &RecordColumns) -> Result<(), Error> {
        let Some(h) = self.handle else { return Err(Error::invalid_input("this bulk insert has ended")) };
        guest_call!(&mut *self.tenant, |s, b| b.openmatch_databricks_connector().bulk_insert().call_append_columns(
            s,
            h,
            &records.names,
            &records.batch
        ))?
        .map_err(convert::error_from_wit)
    }

    /// Load everything appended with one `COPY INTO`; the rows inserted, counted by the server.
    pub async fn commit(mut self) -> Result<u64, Error> {
        let Some(h) = self.handle else { return Err(Error::invalid_input("this bulk insert has ended")) };
        let r = guest_call!(&mut *self.tenant, |s, b| b.openmatch_databricks_connector().bulk_insert().call_commit(s, h))?
            .map_err(convert::error_from_wit);
        if let Some(h) = self.handle.take() {
            self.tenant.drop_now(h).await?;
        }
        r
    }
}

impl Drop for BulkInsert<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.tenant.defer_drop(h);
        }
    }
}

impl Drop for RowStream<'_> {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.tenant.defer_drop(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_name("main.default.t").unwrap(), "`main`.`default`.`t`");
        assert_eq!(quote_name("`we.ird`.t").unwrap(), "`we.ird`.`t`");
        assert_eq!(quote_name("a`b").unwrap_err().kind(), crate::ErrorKind::InvalidInput);
        assert!(quote_name("a..b").is_err());
        // Issue 11: these were sent and came back as not-found.
        assert_eq!(quote_name(&"x".repeat(1000)).unwrap_err().kind(), crate::ErrorKind::InvalidInput);
        assert_eq!(quote_name("t\u{1b}[2J").unwrap_err().kind(), crate::ErrorKind::InvalidInput);
        assert!(!quote_name("t\u{1b}[2J").unwrap_err().to_string().contains('\u{1b}'));
    }
}
