//! Staged updates and deletes: the records are uploaded as the staged files of an insert
//! ([`Bulk`]), then ONE `MERGE` reads them all through `read_files` — one statement, one Delta
//! commit — and the files are deleted afterwards, also when the `MERGE` fails.
//!
//! The `MERGE` is the parameter path's statement with the batch relation replaced by
//! ```sql
//! (SELECT CAST(c0 AS BIGINT) AS c0, c1 AS c1 FROM read_files('/Volumes/c/s/v/openmatch-staging/<id>/',
//!   format => 'json', schema => 'c0 STRING, c1 STRING', mode => 'FAILFAST'))
//! ```
//! every field read as text (the files hold JSON strings) and cast to its column's type, as the
//! insert's `COPY INTO` does; a malformed line fails the statement instead of reading as NULL.
//! It runs through the parameter path's [`Writer`] as its only batch, so a lost answer is
//! resolved the same way: an update is re-sent as it is (it sets the same values; its count is
//! the rows it matched), a delete counts its matches before it runs and, when the re-send finds
//! nothing left to delete, reports those.

use super::exec::Writer;
use super::plan::{Mode, Plan, delete_probe, statement_over};
use super::stage::{Bulk, Staged, dir_literal};
use crate::core::error::Result;
use crate::core::http::Transport;
use crate::core::ops::Execution;
use crate::core::session::Session;
use crate::core::sql::quote_table;

/// The staged files as the relation of fields `c0, c1, …`, each cast to its column's type.
fn read_files_source(staged: &Staged<'_>) -> Result<String> {
    let select: Vec<String> = staged
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} AS c{i}", f.select(i)))
        .collect();
    let schema: Vec<String> = (0..staged.fields.len())
        .map(|i| format!("c{i} STRING"))
        .collect();
    Ok(format!(
        "(SELECT {} FROM read_files('{}', format => 'json', schema => '{}', mode => 'FAILFAST'))",
        select.join(", "),
        dir_literal(staged.dir)?,
        schema.join(", ")
    ))
}

/// The plan of the one statement of a staged update or delete into `target`.
fn staged_plan(target: &str, mode: &Mode, staged: &Staged<'_>) -> Result<Plan> {
    let table = quote_table(target)?;
    let source = read_files_source(staged)?;
    let sql = statement_over(&table, staged.names, &source, mode)?;
    let (resend_sql, probe_sql) = match mode {
        // Deleting again deletes nothing more; the probe counts what the first attempt deletes.
        Mode::Delete => (
            Some(sql.clone()),
            Some(delete_probe(&table, &staged.names[0], &source)?),
        ),
        // An update is idempotent as it is and re-sent by the retry policy.
        _ => (None, None),
    };
    Ok(Plan {
        names: staged.names.to_vec(),
        types: Vec::new(),
        targets: Vec::new(),
        sql,
        resend_sql,
        probe_sql,
    })
}

/// Finish `bulk` (records staged for an update or delete of `target`) with one `MERGE` of
/// every staged file; returns the rows updated or deleted and the statement's execution.
pub fn commit<T: Transport>(
    s: &mut Session<T>,
    bulk: &mut Bulk,
    target: &str,
    mode: Mode,
    deadline: u64,
) -> Result<(u64, Vec<Execution>)> {
    bulk.finish(s, deadline, |s, staged| {
        let plan = staged_plan(target, &mode, staged)?;
        let mut writer = Writer::new(&plan, mode.clone(), deadline);
        // The answer is one count row: read it INLINE (no presigned link between the commit
        // and its count), as batches are.
        let links = std::mem::replace(&mut s.config.external_links, false);
        let out = writer.run_once(s, staged.rows);
        s.config.external_links = links;
        Ok((out?, writer.executions))
    })
}

#[cfg(test)]
#[path = "staged_merge_tests.rs"]
mod tests;
