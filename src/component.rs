//! The exported `connection`, `rows` and `bulk-insert` resources and the `delta` interface.

use std::cell::RefCell;
use std::rc::Rc;

use crate::bindings::exports::openmatch::databricks::connector::{
    self as wit, Guest, GuestBulkInsert, GuestConnection, GuestRows,
};
use crate::bindings::exports::openmatch::databricks::delta::{self, HistoryEntry};
use crate::bindings::exports::openmatch::databricks::types as wt;
use crate::convert;
use crate::core::columns::ColumnBatch;
use crate::core::config::Config;
use crate::core::driver::{self, Cursor};
use crate::core::error::{Error, Result};
use crate::core::http::Transport;
use crate::core::ops::{self, Execution};
use crate::core::session::Session;
use crate::core::write::plan::Record;
use crate::core::write::stage::Bulk;
use crate::core::write::{self, Mode};
use crate::transport::WasiTransport;

/// The component (implements the exported interfaces).
pub struct Component;

/// State shared by a connection and the results it streams.
struct Shared {
    /// `None` once closed.
    session: Option<Session<WasiTransport>>,
    /// The last statement's timing.
    last: Option<Execution>,
}

type SharedRef = Rc<RefCell<Shared>>;

/// Run `f` with the open session, converting its error (secrets redacted) for WIT.
fn with_session<R>(
    shared: &SharedRef,
    f: impl FnOnce(&mut Session<WasiTransport>, &mut Option<Execution>) -> Result<R>,
) -> std::result::Result<R, wt::Error> {
    let mut guard = shared
        .try_borrow_mut()
        .map_err(|_| convert::error(Error::invalid("connection is busy"), &[]))?;
    let Shared { session, last } = &mut *guard;
    let Some(s) = session.as_mut() else {
        return Err(convert::error(Error::invalid("connection is closed"), &[]));
    };
    f(s, last).map_err(|e| convert::error(e, &s.secrets()))
}

/// An open connection.
pub struct Connection {
    shared: SharedRef,
}

/// A streaming result.
pub struct Rows {
    shared: SharedRef,
    cursor: RefCell<Cursor>,
    /// The `query` call's deadline: `timeout-ms` bounds the whole stream, every batch included.
    deadline: u64,
    columns: Vec<wt::Column>,
    statement_id: String,
}

/// A staged bulk insert.
pub struct BulkInsert {
    shared: SharedRef,
    bulk: RefCell<Bulk>,
}

impl Guest for Component {
    type Connection = Connection;
    type Rows = Rows;
    type BulkInsert = BulkInsert;
}

impl Connection {
    fn write(
        &self,
        records: Vec<Record>,
        target: &str,
        mode: Mode,
    ) -> std::result::Result<u64, wt::Error> {
        with_session(&self.shared, |s, last| {
            let (count, batches) = write::write(s, &records, target, mode)?;
            if let Some(e) = ops::total_execution(&batches, count) {
                *last = Some(e);
            }
            Ok(count)
        })
    }

    fn read(
        &self,
        sql: &str,
        params: Vec<wt::Param>,
    ) -> std::result::Result<ops::ResultSet, wt::Error> {
        let params = convert::params(params);
        with_session(&self.shared, |s, last| {
            let r = ops::read_all(s, sql, &params)?;
            *last = Some(r.execution.clone());
            Ok(r)
        })
    }
}

impl GuestConnection for Connection {
    fn open(config: wit::Config) -> std::result::Result<wit::Connection, wt::Error> {
        let config =
            Config::validate(convert::config(config)).map_err(|e| convert::error(e, &[]))?;
        let mut session = Session::new(config, WasiTransport);
        session
            .check_warehouse()
            .map_err(|e| convert::error(e, &session.secrets()))?;
        let id = session.config.warehouse_id.clone();
        session.debug(|| format!("connected to warehouse {id}"));
        let shared = Rc::new(RefCell::new(Shared {
            session: Some(session),
            last: None,
        }));
        Ok(wit::Connection::new(Connection { shared }))
    }

    fn read_records(
        &self,
        query: String,
        params: Vec<wt::Param>,
    ) -> std::result::Result<Vec<wt::Row>, wt::Error> {
        self.read(&query, params).map(convert::keyed_rows)
    }

    fn query(
        &self,
        query: String,
        params: Vec<wt::Param>,
    ) -> std::result::Result<wit::Rows, wt::Error> {
        let params = convert::params(params);
        let (cursor, deadline) = with_session(&self.shared, |s, last| {
            let deadline = s.deadline();
            let cursor = ops::query(s, &query, &params, deadline)?;
            // Updated again when the stream is read to its end.
            *last = Some(ops::execution_of(s, &cursor, 0));
            Ok((cursor, deadline))
        })?;
        let columns = cursor.columns.iter().map(convert::column).collect();
        let statement_id = cursor.statement_id.clone();
        Ok(wit::Rows::new(Rows {
            shared: self.shared.clone(),
            cursor: RefCell::new(cursor),
            deadline,
            columns,
            statement_id,
        }))
    }

    fn write_records(
        &self,
        records: Vec<wt::Row>,
        target: String,
    ) -> std::result::Result<u64, wt::Error> {
        self.write(convert::records(records), &target, Mode::Insert)
    }

    fn write_columns(
        &self,
        names: Vec<String>,
        records: wit::ColumnBatch,
        target: String,
    ) -> std::result::Result<u64, wt::Error> {
        let records =
            convert::column_records(names, records).map_err(|e| convert::error(e, &[]))?;
        self.write(records, &target, Mode::Insert)
    }

    fn begin_bulk_insert(&self, target: String) -> std::result::Result<wit::BulkInsert, wt::Error> {
        let bulk = with_session(&self.shared, |s, _| Bulk::begin(s, &target))?;
        Ok(wit::BulkInsert::new(BulkInsert {
            shared: self.shared.clone(),
            bulk: RefCell::new(bulk),
        }))
    }

    fn update_records(
        &self,
        records: Vec<wt::Row>,
        target: String,
        key_columns: Vec<String>,
    ) -> std::result::Result<u64, wt::Error> {
        self.write(
            convert::records(records),
            &target,
            Mode::Update(key_columns_or_id(key_columns)),
        )
    }

    fn update_columns(
        &self,
        names: Vec<String>,
        records: wit::ColumnBatch,
        target: String,
        key_columns: Vec<String>,
    ) -> std::result::Result<u64, wt::Error> {
        let records =
            convert::column_records(names, records).map_err(|e| convert::error(e, &[]))?;
        self.write(
            records,
            &target,
            Mode::Update(key_columns_or_id(key_columns)),
        )
    }

    fn delete_records(
        &self,
        ids: Vec<wt::Value>,
        target: String,
        key_column: Option<String>,
    ) -> std::result::Result<u64, wt::Error> {
        let key = key_column.unwrap_or_else(|| "id".to_owned());
        let ids: Vec<_> = ids.into_iter().map(convert::value).collect();
        let records = write::id_records(&ids, &key).map_err(|e| convert::error(e, &[]))?;
        self.write(records, &target, Mode::Delete)
    }

    fn execute(
        &self,
        sql: String,
        params: Vec<wt::Param>,
    ) -> std::result::Result<wit::Execution, wt::Error> {
        self.read(&sql, params)
            .map(|r| convert::execution(&r.execution))
    }

    fn cancel(&self, statement_id: String) -> std::result::Result<(), wt::Error> {
        with_session(&self.shared, |s, _| ops::cancel(s, &statement_id))
    }

    fn last_execution(&self) -> Option<wit::Execution> {
        self.shared
            .try_borrow()
            .ok()?
            .last
            .as_ref()
            .map(convert::execution)
    }

    fn close(&self) {
        if let Ok(mut g) = self.shared.try_borrow_mut() {
            g.session = None;
        }
    }
}

impl Rows {
    /// Read the next batch with `read`; at the end, record the statement's execution.
    fn next<B: IsEmpty>(
        &self,
        read: impl FnOnce(&mut Cursor, &mut Session<WasiTransport>, u64) -> Result<B>,
    ) -> std::result::Result<B, wt::Error> {
        let mut cursor = self
            .cursor
            .try_borrow_mut()
            .map_err(|_| convert::error(Error::invalid("rows are busy"), &[]))?;
        let deadline = self.deadline;
        with_session(&self.shared, |s, last| {
            let batch = read(&mut cursor, s, deadline)?;
            if batch.is_empty() {
                *last = Some(ops::execution_of(s, &cursor, 0));
            }
            Ok(batch)
        })
    }
}

/// Whether a batch has no rows (the end of a result).
trait IsEmpty {
    fn is_empty(&self) -> bool;
}

impl<T> IsEmpty for Vec<T> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl IsEmpty for ColumnBatch {
    fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

impl GuestRows for Rows {
    fn columns(&self) -> Vec<wt::Column> {
        self.columns.clone()
    }

    fn next_batch(&self, max: u32) -> std::result::Result<Vec<Vec<wt::Value>>, wt::Error> {
        let rows =
            self.next(|cursor, s, deadline| cursor.next_rows(s, max.max(1) as usize, deadline))?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_iter().map(convert::to_wit_value).collect())
            .collect())
    }

    fn next_columns(&self, max: u32) -> std::result::Result<wit::ColumnBatch, wt::Error> {
        let batch =
            self.next(|cursor, s, deadline| cursor.next_columns(s, max.max(1) as usize, deadline))?;
        Ok(convert::column_batch(batch))
    }

    fn statement_id(&self) -> String {
        self.statement_id.clone()
    }
}

impl BulkInsert {
    /// Run `f` on the insert and the open session, under one `timeout-ms` deadline.
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Bulk, &mut Session<WasiTransport>, u64, &mut Option<Execution>) -> Result<R>,
    ) -> std::result::Result<R, wt::Error> {
        let mut bulk = self
            .bulk
            .try_borrow_mut()
            .map_err(|_| convert::error(Error::invalid("bulk insert is busy"), &[]))?;
        with_session(&self.shared, |s, last| {
            let deadline = s.deadline();
            f(&mut bulk, s, deadline, last)
        })
    }
}

impl GuestBulkInsert for BulkInsert {
    fn append(&self, records: Vec<wt::Row>) -> std::result::Result<(), wt::Error> {
        let records = convert::records(records);
        self.with(|b, s, deadline, _| b.append(s, &records, deadline))
    }

    fn append_columns(
        &self,
        names: Vec<String>,
        records: wit::ColumnBatch,
    ) -> std::result::Result<(), wt::Error> {
        let records =
            convert::column_records(names, records).map_err(|e| convert::error(e, &[]))?;
        self.with(|b, s, deadline, _| b.append(s, &records, deadline))
    }

    fn commit(&self) -> std::result::Result<u64, wt::Error> {
        self.with(|b, s, deadline, last| {
            let (count, execs) = b.commit(s, deadline)?;
            if let Some(e) = ops::total_execution(&execs, count) {
                *last = Some(e);
            }
            Ok(count)
        })
    }
}

impl Drop for BulkInsert {
    /// Delete what an uncommitted insert uploaded (bounded by `timeout-ms`, at most 30 s).
    fn drop(&mut self) {
        if let Ok(mut bulk) = self.bulk.try_borrow_mut()
            && let Ok(mut g) = self.shared.try_borrow_mut()
            && let Some(s) = g.session.as_mut()
        {
            let deadline = s.transport.now_ms() + s.config.timeout_ms.min(30_000);
            bulk.abort(s, deadline);
        }
    }
}

impl Drop for Rows {
    /// Close the statement on the server when the result was not read to its end.
    fn drop(&mut self) {
        let exhausted = self
            .cursor
            .try_borrow()
            .map(|c| c.exhausted())
            .unwrap_or(true);
        if !exhausted
            && let Ok(mut g) = self.shared.try_borrow_mut()
            && let Some(s) = g.session.as_mut()
        {
            driver::close(s, &self.statement_id);
        }
    }
}

impl delta::Guest for Component {
    fn optimize(
        conn: delta::ConnectionBorrow<'_>,
        table: String,
        zorder_by: Vec<String>,
    ) -> std::result::Result<Vec<wt::Row>, wt::Error> {
        let c = conn.get::<Connection>();
        let sql = ops::optimize_sql(&table, &zorder_by).map_err(|e| convert::error(e, &[]))?;
        c.read(&sql, Vec::new()).map(convert::keyed_rows)
    }

    fn vacuum(
        conn: delta::ConnectionBorrow<'_>,
        table: String,
        retain_hours: Option<u32>,
    ) -> std::result::Result<Vec<wt::Row>, wt::Error> {
        let c = conn.get::<Connection>();
        let sql = ops::vacuum_sql(&table, retain_hours).map_err(|e| convert::error(e, &[]))?;
        c.read(&sql, Vec::new()).map(convert::keyed_rows)
    }

    fn history(
        conn: delta::ConnectionBorrow<'_>,
        table: String,
        limit: Option<u32>,
    ) -> std::result::Result<Vec<HistoryEntry>, wt::Error> {
        let c = conn.get::<Connection>();
        let sql = ops::history_sql(&table, limit).map_err(|e| convert::error(e, &[]))?;
        let rows = c.read(&sql, Vec::new())?;
        let entries = ops::history_entries(&rows).map_err(|e| convert::error(e, &[]))?;
        Ok(entries.into_iter().map(convert::history).collect())
    }
}

/// The key columns of an update: `["id"]` when none are given.
fn key_columns_or_id(key_columns: Vec<String>) -> Vec<String> {
    if key_columns.is_empty() {
        vec!["id".to_owned()]
    } else {
        key_columns
    }
}
