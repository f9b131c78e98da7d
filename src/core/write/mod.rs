//! Writes: [`fit`] checks every value against the table's columns, [`plan`] turns records into
//! typed batches and the INSERT / MERGE statements that read them, and [`exec`] runs the batches,
//! counted and exactly once. With a staging volume, a large write goes through [`stage`] instead:
//! files in the volume and one statement that reads them all — `COPY INTO` for an insert, a
//! `MERGE` over `read_files` for an update or delete ([`staged_merge`]).

pub mod exec;
pub mod fit;
pub mod plan;
pub mod stage;
pub mod staged_merge;

pub use plan::{
    Batch, Batcher, Fields, INSERT_KEY, Mode, Plan, Record, check_unique_keys, id_records,
};

use super::driver;
use super::error::Result;
use super::http::Transport;
use super::ops::Execution;
use super::retry::Retry;
use super::session::Session;
use super::sql::quote_table;
use super::value::Column;
use exec::Writer;

/// Write `records` to `target` in batches (one statement, one Delta commit each); returns the
/// server's count. First the table's columns are read and every value is checked against its
/// column ([`fit`]): a value that does not fit is refused before anything is written. `timeout-ms` bounds the whole write, every batch included. Exactly once: a
/// batch whose submission's answer was lost (outcome unknown) is re-sent in its idempotent form
/// ([`Plan::resend_sql`]) and counted once whichever attempt committed; when it has none, the
/// write stops with the outcome unknown. On failure the error's `committed_rows` holds the rows
/// committed by the batches before the failing one, and its message says which batch failed and
/// whether its outcome is unknown. More than `batch-rows` records with a staging volume
/// configured are staged instead: one statement over uploaded files, whatever the mode.
pub fn write<T: Transport>(
    s: &mut Session<T>,
    records: &[Record],
    target: &str,
    mode: Mode,
) -> Result<(u64, Vec<Execution>)> {
    if records.is_empty() {
        quote_table(target)?;
        return Ok((0, Vec::new()));
    }
    // Records and names are checked before anything is sent.
    let fields = Fields::of(records)?;
    let deadline = s.deadline();
    let columns = table_columns(s, target, deadline)?;
    let plan = plan::plan(records, fields, target, &mode, &columns)?;
    if let Mode::Update(keys) = &mode {
        check_unique_keys(records, &plan, keys)?;
    }
    // More than one batch's worth of rows, and a volume to stage them in: one statement over
    // the staged files (COPY INTO for an insert, MERGE for an update or delete).
    if records.len() > s.config.batch_rows as usize
        && let Some(volume) = s.config.staging_volume.clone()
    {
        let mut bulk = stage::Bulk::new(s, target, columns, &volume)?;
        if let Err(e) = bulk.append_checked(s, records, deadline) {
            bulk.abort(s, deadline);
            return Err(e);
        }
        return match mode {
            Mode::Insert => bulk.commit(s, deadline),
            _ => staged_merge::commit(s, &mut bulk, target, mode, deadline),
        };
    }
    let batcher = Batcher::new(records, &plan, s.config.batch_rows, s.config.batch_bytes);
    let mut writer = Writer::new(&plan, mode, deadline);
    // A batch's answer is one count row: read it INLINE whatever the connection's disposition,
    // so no presigned link (which may expire) stands between a commit and its count.
    let links = std::mem::replace(&mut s.config.external_links, false);
    let out = writer.run(s, batcher);
    s.config.external_links = links;
    Ok((out?, writer.executions))
}

/// The columns of table `target` (`SELECT * FROM t LIMIT 0`: no row is read).
pub fn table_columns<T: Transport>(
    s: &mut Session<T>,
    target: &str,
    deadline: u64,
) -> Result<Vec<Column>> {
    let sql = fit::schema_sql(&quote_table(target)?);
    let mut c = driver::run(s, &sql, &[], Retry::Idempotent, deadline)?;
    c.all_rows(s, deadline)?;
    Ok(std::mem::take(&mut c.columns))
}
