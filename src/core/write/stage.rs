//! Staged bulk inserts: records are uploaded to a Unity Catalog volume as JSON-lines files
//! (Files API `PUT`) and loaded with one `COPY INTO`: one statement, one Delta commit, whatever
//! the size. [`Bulk`] holds one insert across calls (the WIT `bulk-insert` resource): each
//! `append` checks its records and uploads full parts, so guest memory holds one part at most;
//! `commit` uploads the rest and loads everything. `write-records` of more than `batch-rows`
//! records with a staging volume configured is one `Bulk` in one call; so are the files of a
//! staged update or delete, which [`Bulk::finish`] hands to one `MERGE` ([`super::staged_merge`]).
//!
//! - Every value is checked against its column first ([`fit`]), as on the parameter path, and
//!   goes into the file as a JSON string (or `null`); the `COPY INTO`'s `SELECT` casts each
//!   field to the column's type, which is exact because the value already fits.
//! - Exactly once: `COPY INTO` skips files it has loaded, so a `COPY INTO` whose answer was lost
//!   is re-sent as it is, and when the re-send loads nothing the lost attempt loaded everything.
//! - The staged files are deleted afterwards, also when the load fails or the insert is dropped;
//!   what cannot be deleted within the deadline is named in the debug log (and in the error).

use super::fit::{Target, fit, misfit};
use super::plan::{Fields, Record};
use crate::core::base64;
use crate::core::driver;
use crate::core::error::{Error, Result};
use crate::core::http::{Method, Transport};
use crate::core::ops::{Execution, ResultSet, execution_of};
use crate::core::retry::Retry;
use crate::core::session::{Session, Stats};
use crate::core::sql::{quote_ident, quote_table};
use crate::core::value::{Column, Value, push_json_string, push_json_value};

/// Largest staged file, bytes (one file is held in guest memory while it uploads).
const PART_BYTES: usize = 16 << 20;

/// The directory of one write's files under the staging volume.
pub fn staging_dir(volume: &str, write_id: &str) -> String {
    format!("{volume}/openmatch-staging/{write_id}/")
}

/// What a staged write uploaded, for the statement that reads it ([`Bulk::finish`]).
pub(super) struct Staged<'a> {
    /// The records' field names; field `i` is `c<i>` in the files.
    pub names: &'a [String],
    /// How each field is staged.
    pub fields: &'a [Field],
    /// The directory holding every staged file (ends in `/`).
    pub dir: &'a str,
    /// Records staged.
    pub rows: u64,
}

/// How a column's field is written to a staged file and read back by the `COPY INTO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    /// A checked column ([`fit`]): the value's text, `CAST` to the column's type.
    Checked(Target),
    /// STRING (also CHAR/VARCHAR): the value's text as it is.
    Text,
    /// BOOLEAN: `true`/`false`, `CAST` to BOOLEAN.
    Boolean,
    /// BINARY: base64 (a string's UTF-8 bytes for text), `unbase64`.
    Binary,
}

impl Field {
    /// The field of a table column; `None` for types a staged file cannot carry exactly
    /// (complex types, intervals, VARIANT).
    fn of(col: &Column) -> Option<Field> {
        if let Some(t) = Target::of(col) {
            return Some(Field::Checked(t));
        }
        match col.type_name.to_ascii_uppercase().as_str() {
            "STRING" | "VARCHAR" | "CHAR" => Some(Field::Text),
            "BOOLEAN" => Some(Field::Boolean),
            "BINARY" => Some(Field::Binary),
            _ => None,
        }
    }

    /// The `SELECT` expression of field `c<i>`.
    pub(super) fn select(self, i: usize) -> String {
        match self {
            Field::Checked(t) => format!("CAST(c{i} AS {})", t.sql()),
            Field::Text => format!("c{i}"),
            Field::Boolean => format!("CAST(c{i} AS BOOLEAN)"),
            Field::Binary => format!("unbase64(c{i})"),
        }
    }

    /// Why `value` does not fit this field, if it does not (what [`Field::push`] would refuse).
    fn check(self, value: &Value) -> std::result::Result<(), String> {
        match (self, value) {
            (_, Value::Null) => Ok(()),
            (Field::Checked(t), v) => fit(v, t).map(|_| ()),
            (Field::Text, Value::Interval(_)) => {
                Err("an INTERVAL value for a STRING column".into())
            }
            (Field::Text, _) | (Field::Boolean, Value::Boolean(_)) => Ok(()),
            (Field::Binary, Value::Binary(_) | Value::Text(_)) => Ok(()),
            (Field::Boolean, _) => Err("not a BOOLEAN value for a BOOLEAN column".into()),
            (Field::Binary, _) => Err("not a BINARY value for a BINARY column".into()),
        }
    }

    /// Append `value` as this field's JSON string (or `null`), or say why it does not fit.
    fn push(self, out: &mut String, value: &Value) -> std::result::Result<(), String> {
        let done = |r: Result<()>| r.map_err(|e| e.info.message);
        match (self, value) {
            (_, Value::Null) => out.push_str("null"),
            (Field::Checked(t), v) => {
                let v = fit(v, t)?;
                done(push_string_value(out, &v))?;
            }
            (Field::Text, Value::Interval(_)) => {
                return Err("an INTERVAL value for a STRING column".into());
            }
            (Field::Text, v) => done(push_string_value(out, v))?,
            (Field::Boolean, Value::Boolean(b)) => {
                out.push_str(if *b { "\"true\"" } else { "\"false\"" })
            }
            (Field::Binary, Value::Binary(b)) => push_json_string(out, &base64::encode(b)),
            (Field::Binary, Value::Text(t)) => push_json_string(out, &base64::encode(t.as_bytes())),
            (Field::Boolean, _) => return Err("not a BOOLEAN value for a BOOLEAN column".into()),
            (Field::Binary, _) => return Err("not a BINARY value for a BINARY column".into()),
        }
        Ok(())
    }
}

/// The value of field `name` in `rec` (null when absent).
fn field_value<'r>(rec: &'r Record, name: &str) -> &'r Value {
    rec.iter()
        .find(|(n, _)| n == name)
        .map_or(&Value::Null, |(_, v)| v)
}

/// Append `rec` to `out` as one JSON line; on a misfit, the field's name and why.
fn line_of(
    out: &mut String,
    rec: &Record,
    names: &[String],
    fields: &[Field],
    keys: &[String],
) -> std::result::Result<(), (String, String)> {
    out.push('{');
    for (i, ((name, field), key)) in names.iter().zip(fields).zip(keys).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        field
            .push(out, field_value(rec, name))
            .map_err(|why| (name.clone(), why))?;
    }
    out.push_str("}\n");
    Ok(())
}

/// `value` as a JSON string of its text (the batch JSON form, quoted where it is not already).
fn push_string_value(out: &mut String, value: &Value) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Text(s) | Value::Json(s) => push_json_string(out, s),
        Value::Float(f) if !f.is_finite() => push_json_value(out, value)?,
        Value::Double(f) if !f.is_finite() => push_json_value(out, value)?,
        // Digits, sign, point, exponent and `true`/`false`: nothing to escape.
        Value::Boolean(_)
        | Value::TinyInt(_)
        | Value::SmallInt(_)
        | Value::Int(_)
        | Value::BigInt(_)
        | Value::Decimal(_)
        | Value::Float(_)
        | Value::Double(_) => {
            out.push('"');
            push_json_value(out, value)?;
            out.push('"');
        }
        // Binary (base64), dates and timestamps are JSON strings already.
        _ => push_json_value(out, value)?,
    }
    Ok(())
}

/// A random id for one write's directory (128 bits, hex).
fn write_id<T: Transport>(s: &mut Session<T>) -> String {
    format!("{:016x}{:016x}", s.transport.random(), s.transport.random())
}

/// One staged insert into one table, across calls.
#[derive(Debug)]
pub struct Bulk {
    target: String,
    table: Vec<Column>,
    /// The field names (fixed by the first append) and how each is staged.
    fields: Option<(Vec<String>, Vec<Field>)>,
    dir: String,
    /// JSON lines not uploaded yet.
    part: String,
    parts: usize,
    /// Records appended (buffered or uploaded).
    rows: u64,
    uploaded: Vec<String>,
    /// Committed or aborted: nothing more may happen.
    ended: bool,
    /// An upload failed part-way through an append: only dropping (abort) is left.
    broken: bool,
}

impl Bulk {
    /// Start a staged insert into `target` (whose columns are `table`) through `volume`.
    pub fn new<T: Transport>(
        s: &mut Session<T>,
        target: &str,
        table: Vec<Column>,
        volume: &str,
    ) -> Result<Bulk> {
        quote_table(target)?;
        Ok(Bulk {
            target: target.to_owned(),
            table,
            fields: None,
            dir: staging_dir(volume, &write_id(s)),
            part: String::new(),
            parts: 0,
            rows: 0,
            uploaded: Vec::new(),
            ended: false,
            broken: false,
        })
    }

    /// Start a staged insert into `target`, reading its columns; needs a staging volume.
    pub fn begin<T: Transport>(s: &mut Session<T>, target: &str) -> Result<Bulk> {
        let volume = s.config.staging_volume.clone().ok_or_else(|| {
            Error::invalid("a bulk insert needs a staging volume (config staging-volume)")
        })?;
        let deadline = s.deadline();
        let table = super::table_columns(s, target, deadline)?;
        Bulk::new(s, target, table, &volume)
    }

    /// The staged fields of `records`' names: the first append fixes them, later ones must match.
    fn fields_for(&mut self, records: &[Record]) -> Result<(Vec<String>, Vec<Field>)> {
        let names = Fields::of(records)?.into_names();
        if let Some((known, fields)) = &self.fields {
            if *known != names {
                return Err(Error::invalid(format!(
                    "records have fields {names:?}; this bulk insert has {known:?}"
                )));
            }
            return Ok((known.clone(), fields.clone()));
        }
        let fields = names
            .iter()
            .map(|n| {
                let col = self
                    .table
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(n))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "column {n:?} is not in table {}; nothing was written",
                            self.target
                        ))
                    })?;
                Field::of(col).ok_or_else(|| {
                    Error::invalid(format!(
                        "column {n:?} is {}, which a staged file cannot carry exactly; \
                         write it without a staging volume",
                        col.type_text
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.fields = Some((names.clone(), fields.clone()));
        Ok((names, fields))
    }

    /// Check `records` (all of them, before anything of theirs is uploaded), stage them, and
    /// upload every part that fills up.
    pub fn append<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        records: &[Record],
        deadline: u64,
    ) -> Result<()> {
        self.usable()?;
        if records.is_empty() {
            return Ok(());
        }
        let (names, fields) = self.fields_for(records)?;
        for (ri, rec) in records.iter().enumerate() {
            for (name, field) in names.iter().zip(&fields) {
                field
                    .check(field_value(rec, name))
                    .map_err(|why| misfit(self.rows as usize + ri, name, &why))?;
            }
        }
        self.stage(s, records, &names, &fields, deadline)
    }

    /// Like [`Bulk::append`] for records a write's plan has checked already.
    pub fn append_checked<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        records: &[Record],
        deadline: u64,
    ) -> Result<()> {
        self.usable()?;
        let (names, fields) = self.fields_for(records)?;
        self.stage(s, records, &names, &fields, deadline)
    }

    /// Stage `records`, already checked ([`Bulk::append`], or a write's plan), uploading every
    /// part that fills up.
    fn stage<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        records: &[Record],
        names: &[String],
        fields: &[Field],
        deadline: u64,
    ) -> Result<()> {
        let keys: Vec<String> = (0..names.len()).map(|i| format!("\"c{i}\":")).collect();
        for (ri, rec) in records.iter().enumerate() {
            let mut line = std::mem::take(&mut self.part);
            let pushed = line_of(&mut line, rec, names, fields, &keys);
            self.part = line;
            if let Err((name, why)) = pushed {
                // Checked before, so never expected; the part now ends in a cut line.
                self.broken = true;
                return Err(misfit(self.rows as usize + ri, &name, &why));
            }
            if self.part.len() >= PART_BYTES
                && let Err(e) = self.flush(s, deadline)
            {
                self.broken = true;
                return Err(e);
            }
        }
        self.rows += records.len() as u64;
        Ok(())
    }

    /// Refuse a call on an insert that ended or broke.
    fn usable(&self) -> Result<()> {
        if self.ended {
            return Err(Error::invalid("this bulk insert has ended"));
        }
        if self.broken {
            return Err(Error::invalid(
                "an upload of this bulk insert failed; drop it (its files are deleted) and start again",
            ));
        }
        Ok(())
    }

    /// Upload the buffered lines as the next part file.
    fn flush<T: Transport>(&mut self, s: &mut Session<T>, deadline: u64) -> Result<()> {
        if self.part.is_empty() {
            return Ok(());
        }
        let path = format!("{}part-{:05}.json", self.dir, self.parts);
        // The file is there (or may be) once the PUT is sent: clean it up in any case.
        self.uploaded.push(path.clone());
        self.parts += 1;
        let body = std::mem::take(&mut self.part).into_bytes();
        let bytes = body.len();
        s.api_with(
            Method::Put,
            &format!("/api/2.0/fs/files{path}?overwrite=true"),
            Some((body, "application/octet-stream")),
            Retry::Idempotent,
            deadline,
            &mut Stats::default(),
        )?;
        s.debug(|| format!("staged {bytes} bytes as {path}"));
        Ok(())
    }

    /// Upload what is buffered, load every staged file with one `COPY INTO`, and delete them.
    /// Returns the server's count and the `COPY INTO`'s execution.
    pub fn commit<T: Transport>(
        &mut self,
        s: &mut Session<T>,
        deadline: u64,
    ) -> Result<(u64, Vec<Execution>)> {
        let target = self.target.clone();
        self.finish(s, deadline, |s, staged| {
            let sql = copy_sql(&target, staged.names, staged.fields, staged.dir)?;
            load(s, &sql, staged.rows, deadline)
        })
    }

    /// Upload what is buffered, run `apply` (the one statement that reads every staged file),
    /// and delete the files whatever it returned; a file left behind is named in the error, or
    /// in the debug log on success. Nothing is uploaded or run when nothing was appended.
    pub(super) fn finish<T: Transport, F>(
        &mut self,
        s: &mut Session<T>,
        deadline: u64,
        apply: F,
    ) -> Result<(u64, Vec<Execution>)>
    where
        F: FnOnce(&mut Session<T>, &Staged<'_>) -> Result<(u64, Vec<Execution>)>,
    {
        self.usable()?;
        self.ended = true;
        let applied = match self.fields.clone() {
            None => Ok((0, Vec::new())),
            Some((names, fields)) => self.flush(s, deadline).and_then(|()| {
                let staged = Staged {
                    names: &names,
                    fields: &fields,
                    dir: &self.dir,
                    rows: self.rows,
                };
                apply(s, &staged)
            }),
        };
        let left = clean_up(s, &self.dir, &self.uploaded, deadline);
        match applied {
            Ok(done) => {
                if !left.is_empty() {
                    let dir = &self.dir;
                    s.debug(|| format!("staged files left in {dir}: {}", left.join(", ")));
                }
                Ok(done)
            }
            Err(mut e) => {
                if !left.is_empty() {
                    e.message = format!("{}; staged files left in {}", e.message, self.dir);
                }
                Err(e)
            }
        }
    }

    /// End without loading: delete what was uploaded (best effort, until `deadline`).
    pub fn abort<T: Transport>(&mut self, s: &mut Session<T>, deadline: u64) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        let left = clean_up(s, &self.dir, &self.uploaded, deadline);
        if !left.is_empty() {
            let dir = &self.dir;
            s.debug(|| format!("staged files left in {dir}: {}", left.join(", ")));
        }
    }
}

/// `dir` as the text of a SQL string literal. It is made of validated volume names and a hex
/// id, so no quote can occur in it; refused if one does.
pub(super) fn dir_literal(dir: &str) -> Result<&str> {
    if dir.contains(['\'', '\\']) {
        return Err(Error::invalid("staging path holds a quote"));
    }
    Ok(dir)
}

/// `COPY INTO` of the files under `dir` into `target`, each field cast to its column's type.
fn copy_sql(target: &str, names: &[String], fields: &[Field], dir: &str) -> Result<String> {
    let table = quote_table(target)?;
    let select: Vec<String> = names
        .iter()
        .zip(fields)
        .enumerate()
        .map(|(i, (name, field))| Ok(format!("{} AS {}", field.select(i), quote_ident(name)?)))
        .collect::<Result<_>>()?;
    let dir = dir_literal(dir)?;
    Ok(format!(
        "COPY INTO {table} FROM (SELECT {} FROM '{dir}') FILEFORMAT = JSON \
         FORMAT_OPTIONS ('primitivesAsString' = 'true') COPY_OPTIONS ('mergeSchema' = 'false')",
        select.join(", ")
    ))
}

/// Run the `COPY INTO` and count what it loaded; `staged` rows were uploaded.
fn load<T: Transport>(
    s: &mut Session<T>,
    sql: &str,
    staged: u64,
    deadline: u64,
) -> Result<(u64, Vec<Execution>)> {
    // Re-sending is safe: COPY INTO skips the files a committed attempt loaded.
    let mut c = driver::run(s, sql, &[], Retry::Idempotent, deadline)?;
    let rows = c.all_rows(s, deadline)?;
    let r = ResultSet {
        columns: std::mem::take(&mut c.columns),
        rows,
        execution: Execution::default(),
    };
    let inserted = r
        .count("num_inserted_rows")
        .or_else(|| r.count("num_affected_rows"))
        .ok_or_else(|| {
            Error::server("the server reported no num_inserted_rows for COPY INTO")
                .with_statement(Some(&c.statement_id))
        })?;
    let count = match inserted {
        // A retried submission that loads nothing: the attempt whose answer was lost loaded
        // every staged file (they are this insert's own).
        0 if staged > 0 && c.stats.retries > 0 => staged,
        n if n == staged => n,
        n => {
            return Err(
                Error::server(format!("COPY INTO loaded {n} of the {staged} staged rows"))
                    .with_statement(Some(&c.statement_id)),
            );
        }
    };
    let execution = execution_of(s, &c, count);
    Ok((count, vec![execution]))
}

/// Delete the uploaded files and the write's directory; returns the files that remain.
fn clean_up<T: Transport>(
    s: &mut Session<T>,
    dir: &str,
    uploaded: &[String],
    deadline: u64,
) -> Vec<String> {
    let mut left = Vec::new();
    if uploaded.is_empty() {
        return left;
    }
    for path in uploaded {
        let gone = s.api(
            Method::Delete,
            &format!("/api/2.0/fs/files{path}"),
            None,
            Retry::Idempotent,
            deadline,
            &mut Stats::default(),
        );
        // Already gone (e.g. a PUT that never arrived) is as good as deleted.
        if gone.is_err_and(|e| e.http_status != Some(404)) {
            left.push(path.clone());
        }
    }
    if left.is_empty() {
        let _ = s.api(
            Method::Delete,
            &format!("/api/2.0/fs/directories{}", dir.trim_end_matches('/')),
            None,
            Retry::Idempotent,
            deadline,
            &mut Stats::default(),
        );
    }
    left
}

#[cfg(test)]
#[path = "stage_tests.rs"]
mod tests;
