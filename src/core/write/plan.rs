//! Batched writes: records → JSON batches under row and byte limits, and the INSERT / MERGE
//! statements that read a batch from the single parameter `:rows` (docs/wire.md).

use std::collections::HashSet;

use crate::core::error::{Error, Result};
use crate::core::sql::{quote_ident, quote_table};
use crate::core::value::{Column, Value, batch_type, push_json_value};

use super::fit::{Target, fit, misfit};

/// One record: field names and values.
pub type Record = Vec<(String, Value)>;

/// What a batch statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// INSERT the records.
    Insert,
    /// MERGE … UPDATE SET the non-key columns, matched on these key columns.
    Update(Vec<String>),
    /// MERGE … DELETE rows whose key (the one column) matches.
    Delete,
}

/// The columns of a write and their struct-field types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Column names, in the first record's order.
    pub names: Vec<String>,
    /// SQL type per batch field: the column's own type for checked columns ([`Target`]), else
    /// the values' type (`STRING` when every value is null).
    pub types: Vec<String>,
    /// The checked target of each column, `None` where values go as they are.
    pub targets: Vec<Option<Target>>,
    /// The statement text, with `:rows` as the only marker.
    pub sql: String,
    /// The idempotent form of the statement, re-sent (same `:rows`) when a batch's outcome is
    /// unknown: for inserts a `MERGE … WHEN NOT MATCHED THEN INSERT` on the key column `id`
    /// (only when every record has a non-null `id` and no two share one), for deletes the
    /// statement itself; `None` when the batch cannot be re-sent safely. Updates are idempotent
    /// as they are and are re-sent by the retry policy directly.
    pub resend_sql: Option<String>,
    /// Deletes: `SELECT count(*) AS num_matched_rows` of the target rows the batch would delete,
    /// run before the batch so that a batch committed by an attempt whose answer was lost still
    /// reports its exact count.
    pub probe_sql: Option<String>,
}

/// The key column of an idempotent insert re-send: a column named `id` (ASCII case-insensitive,
/// as Databricks resolves names), holding a non-null value unique within the records.
pub const INSERT_KEY: &str = "id";

/// The field names shared by every record of a write, in the first record's order: each a valid
/// identifier, none twice, and every record with exactly these fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields(Vec<String>);

impl Fields {
    /// The names, in the first record's order.
    pub fn into_names(self) -> Vec<String> {
        self.0
    }

    /// Check that `records` all have the same fields; nothing is sent before this passes.
    pub fn of(records: &[Record]) -> Result<Fields> {
        let first = records
            .first()
            .ok_or_else(|| Error::invalid("no records to write"))?;
        let names: Vec<String> = first.iter().map(|(n, _)| n.clone()).collect();
        if names.is_empty() {
            return Err(Error::invalid("records have no fields"));
        }
        for (i, n) in names.iter().enumerate() {
            quote_ident(n)?;
            if names[..i].contains(n) {
                return Err(Error::invalid(format!(
                    "field {n:?} appears twice in a record"
                )));
            }
        }
        for (ri, rec) in records.iter().enumerate() {
            if rec.len() != names.len() {
                return Err(Error::invalid(format!(
                    "record {ri} has {} fields, the first record {}",
                    rec.len(),
                    names.len()
                )));
            }
            let mut seen = vec![false; names.len()];
            for (name, _) in rec {
                let ci = names.iter().position(|n| n == name).ok_or_else(|| {
                    Error::invalid(format!(
                        "record {ri} has field {name:?} the first record lacks"
                    ))
                })?;
                if std::mem::replace(&mut seen[ci], true) {
                    return Err(Error::invalid(format!(
                        "record {ri} has field {name:?} twice"
                    )));
                }
            }
        }
        Ok(Fields(names))
    }
}

/// Build the plan of a write into table `target` whose columns are `table`: match each field to
/// its column, check every value against it ([`fit`]), agree on one batch type per column, and
/// build the SQL.
pub fn plan(
    records: &[Record],
    fields: Fields,
    target: &str,
    mode: &Mode,
    table: &[Column],
) -> Result<Plan> {
    let quoted_table = quote_table(target)?;
    let names = fields.0;
    let targets: Vec<Option<Target>> = names
        .iter()
        .map(|n| {
            table
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(n))
                .map(Target::of)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "column {n:?} is not in table {target}; nothing was written"
                    ))
                })
        })
        .collect::<Result<_>>()?;
    let mut types: Vec<Option<String>> = targets.iter().map(|t| t.map(Target::sql)).collect();
    for (ri, rec) in records.iter().enumerate() {
        for (name, value) in rec {
            // `Fields::of` checked that every record has exactly these fields.
            let Some(ci) = names.iter().position(|n| n == name) else {
                continue;
            };
            if let Some(t) = targets[ci] {
                fit(value, t).map_err(|why| misfit(ri, name, &why))?;
                continue;
            }
            let Some(t) = batch_type(value)? else {
                continue;
            };
            match &types[ci] {
                None => types[ci] = Some(t),
                Some(prev) if *prev == t => {}
                Some(prev) => {
                    return Err(Error::invalid(format!(
                        "column {name:?} mixes types {prev} and {t} (record {ri})"
                    )));
                }
            }
        }
    }
    let types: Vec<String> = types
        .into_iter()
        .map(|t| t.unwrap_or_else(|| "STRING".into()))
        .collect();
    let table = quoted_table;
    let sql = statement(&table, &names, &types, mode)?;
    let mut plan = Plan {
        names,
        types,
        targets,
        sql,
        resend_sql: None,
        probe_sql: None,
    };
    match mode {
        Mode::Insert => {
            let key = plan
                .names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(INSERT_KEY))
                .cloned();
            if let Some(key) = key
                && check_unique_keys(records, &plan, std::slice::from_ref(&key)).is_ok()
            {
                plan.resend_sql = Some(insert_if_absent(&table, &plan, &key)?);
            }
        }
        Mode::Delete => {
            plan.resend_sql = Some(plan.sql.clone());
            plan.probe_sql = Some(delete_probe(&table, &plan.names[0], &source(&plan.types))?);
        }
        Mode::Update(_) => {}
    }
    Ok(plan)
}

/// `SELECT count(*) AS num_matched_rows` of the rows of `table` (quoted) whose `key` is one of
/// column `c0` of relation `source`: the rows a delete of those keys would delete.
pub(super) fn delete_probe(table: &str, key: &str, source: &str) -> Result<String> {
    Ok(format!(
        "SELECT count(*) AS num_matched_rows FROM {table} AS t WHERE t.{} IN (SELECT s.c0 FROM {source} AS s)",
        quote_ident(key)?
    ))
}

/// `(SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: T0, …>>', map('mode', 'FAILFAST'))))`: the batch as a relation.
fn source(types: &[String]) -> String {
    let fields: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| format!("c{i}: {t}"))
        .collect();
    format!(
        "(SELECT inline(from_json(:rows, 'ARRAY<STRUCT<{}>>', map('mode', 'FAILFAST'))))",
        fields.join(", ")
    )
}

/// The insert as `MERGE INTO t USING <batch> ON t.key = s.key WHEN NOT MATCHED THEN INSERT`:
/// running it again after it (or the plain INSERT) committed inserts nothing.
fn insert_if_absent(table: &str, plan: &Plan, key: &str) -> Result<String> {
    let k = plan
        .names
        .iter()
        .position(|n| n == key)
        .ok_or_else(|| Error::invalid("key column is not in the records"))?;
    let quoted: Vec<String> = plan
        .names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Result<_>>()?;
    let values: Vec<String> = (0..plan.names.len()).map(|i| format!("s.c{i}")).collect();
    Ok(format!(
        "MERGE INTO {table} AS t USING {} AS s ON t.{} = s.c{k} WHEN NOT MATCHED THEN INSERT ({}) VALUES ({})",
        source(&plan.types),
        quoted[k],
        quoted.join(", "),
        values.join(", ")
    ))
}

fn statement(table: &str, names: &[String], types: &[String], mode: &Mode) -> Result<String> {
    statement_over(table, names, &source(types), mode)
}

/// The statement of `mode` into `table` (quoted) reading relation `source`, whose columns
/// `c0, c1, …` are the fields `names`: an INSERT, or a MERGE matched on the key columns.
pub(super) fn statement_over(
    table: &str,
    names: &[String],
    source: &str,
    mode: &Mode,
) -> Result<String> {
    let quoted: Vec<String> = names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Result<_>>()?;
    Ok(match mode {
        Mode::Insert => {
            let aliases: Vec<String> = (0..names.len()).map(|i| format!("c{i}")).collect();
            format!(
                "INSERT INTO {table} ({}) SELECT {} FROM {source} AS s",
                quoted.join(", "),
                aliases.join(", ")
            )
        }
        Mode::Update(keys) => {
            let key_idx = key_indices(names, keys)?;
            let on: Vec<String> = key_idx
                .iter()
                .map(|&i| format!("t.{} = s.c{i}", quoted[i]))
                .collect();
            let set: Vec<String> = (0..names.len())
                .filter(|i| !key_idx.contains(i))
                .map(|i| format!("t.{} = s.c{i}", quoted[i]))
                .collect();
            if set.is_empty() {
                return Err(Error::invalid(
                    "update-records: records have no columns besides the key columns",
                ));
            }
            format!(
                "MERGE INTO {table} AS t USING {source} AS s ON {} WHEN MATCHED THEN UPDATE SET {}",
                on.join(" AND "),
                set.join(", ")
            )
        }
        Mode::Delete => {
            format!(
                "MERGE INTO {table} AS t USING {source} AS s ON t.{} = s.c0 WHEN MATCHED THEN DELETE",
                quoted[0]
            )
        }
    })
}

fn key_indices(names: &[String], keys: &[String]) -> Result<Vec<usize>> {
    let mut idx = Vec::new();
    for k in keys {
        let i = names
            .iter()
            .position(|n| n == k)
            .ok_or_else(|| Error::invalid(format!("key column {k:?} is not in the records")))?;
        if !idx.contains(&i) {
            idx.push(i);
        }
    }
    if idx.is_empty() {
        return Err(Error::invalid("no key columns"));
    }
    Ok(idx)
}

/// Reject records whose key values repeat (one MERGE may not update a row twice) or are null.
pub fn check_unique_keys(records: &[Record], plan: &Plan, keys: &[String]) -> Result<()> {
    let idx = key_indices(&plan.names, keys)?;
    let repeated =
        |ri: usize| Error::invalid(format!("record {ri} repeats a key of an earlier record"));
    // The common case, one integer key: compared as numbers, with no text per key.
    if let [only] = idx[..] {
        let name = &plan.names[only];
        let mut seen = HashSet::with_capacity(records.len());
        let mut all_integers = true;
        for (ri, rec) in records.iter().enumerate() {
            let Some(i) = integer(key_value(ri, rec, name)?) else {
                all_integers = false;
                break;
            };
            if !seen.insert(i) {
                return Err(repeated(ri));
            }
        }
        if all_integers {
            return Ok(());
        }
    }
    let mut seen: HashSet<Box<str>> = HashSet::with_capacity(records.len());
    let mut key = String::new();
    for (ri, rec) in records.iter().enumerate() {
        key.clear();
        for &i in &idx {
            push_json_value(&mut key, key_value(ri, rec, &plan.names[i])?)?;
            key.push('\u{0}');
        }
        if !seen.insert(key.as_str().into()) {
            return Err(repeated(ri));
        }
    }
    Ok(())
}

/// The value of key field `name` of record `ri`; a missing or null key is `invalid-input`.
fn key_value<'r>(ri: usize, rec: &'r Record, name: &str) -> Result<&'r Value> {
    match rec.iter().find(|(n, _)| n == name).map(|(_, v)| v) {
        None | Some(Value::Null) => Err(Error::invalid(format!(
            "record {ri} has a null key {name:?}"
        ))),
        Some(v) => Ok(v),
    }
}

/// An integer value as `i64`; `None` for any other value.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::TinyInt(i) => Some(i64::from(*i)),
        Value::SmallInt(i) => Some(i64::from(*i)),
        Value::Int(i) => Some(i64::from(*i)),
        Value::BigInt(i) => Some(*i),
        _ => None,
    }
}

/// Delete ids as one-column records, null ids rejected and duplicates dropped.
pub fn id_records(ids: &[Value], key: &str) -> Result<Vec<Record>> {
    let mut seen = HashSet::with_capacity(ids.len());
    let mut out = Vec::with_capacity(ids.len());
    for (i, v) in ids.iter().enumerate() {
        if *v == Value::Null {
            return Err(Error::invalid(format!("id {i} is null")));
        }
        let mut text = String::new();
        push_json_value(&mut text, v)?;
        if seen.insert(text) {
            out.push(vec![(key.to_owned(), v.clone())]);
        }
    }
    Ok(out)
}

/// Yields consecutive batches of the `:rows` JSON, each within the row and byte limits.
pub struct Batcher<'a> {
    records: &'a [Record],
    names: &'a [String],
    targets: &'a [Option<Target>],
    /// `"c0":`, `"c1":`, …: each field's key, written once here rather than per cell.
    keys: Vec<String>,
    /// The record being written (kept between records, so its capacity is reused).
    scratch: String,
    pos: usize,
    max_rows: usize,
    max_bytes: usize,
}

/// One batch: the JSON text of `:rows` and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// JSON array of `{"c0": …}` objects.
    pub json: String,
    /// Records in the batch.
    pub rows: usize,
}

impl<'a> Batcher<'a> {
    /// Batches of `records` (columns `plan.names`) under `max_rows` rows and `max_bytes` bytes.
    pub fn new(records: &'a [Record], plan: &'a Plan, max_rows: u32, max_bytes: u32) -> Self {
        Batcher {
            records,
            names: &plan.names,
            targets: &plan.targets,
            keys: (0..plan.names.len())
                .map(|i| format!("\"c{i}\":"))
                .collect(),
            scratch: String::new(),
            pos: 0,
            max_rows: max_rows.max(1) as usize,
            max_bytes: max_bytes as usize,
        }
    }

    /// Records already handed out in batches.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Record `index` as a batch object `{"c0": …}`, written into `o` (cleared first).
    fn object(&self, index: usize, rec: &Record, o: &mut String) -> Result<()> {
        o.clear();
        o.push('{');
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str(&self.keys[i]);
            let v = rec
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .unwrap_or(&Value::Null);
            match self.targets.get(i).copied().flatten() {
                Some(t) => {
                    let v = fit(v, t).map_err(|why| misfit(index, name, &why))?;
                    push_json_value(o, &v)?;
                }
                None => push_json_value(o, v)?,
            }
        }
        o.push('}');
        Ok(())
    }

    /// The next batch, or `None` when every record has been batched.
    fn next_write_batch(&mut self) -> Result<Option<Batch>> {
        if self.pos >= self.records.len() {
            return Ok(None);
        }
        let mut json = String::with_capacity(self.max_bytes.min(1 << 20));
        json.push('[');
        let mut rows = 0;
        let mut obj = std::mem::take(&mut self.scratch);
        while self.pos < self.records.len() && rows < self.max_rows {
            // An error ends the sequence: the scratch buffer need not survive it.
            self.object(self.pos, &self.records[self.pos], &mut obj)?;
            // +1 for the separator or the closing bracket.
            if json.len() + obj.len() + 1 > self.max_bytes {
                if rows == 0 {
                    return Err(Error::invalid(format!(
                        "record {} is {} bytes as JSON, over batch-bytes {}",
                        self.pos,
                        obj.len(),
                        self.max_bytes
                    )));
                }
                break;
            }
            if rows > 0 {
                json.push(',');
            }
            json.push_str(&obj);
            rows += 1;
            self.pos += 1;
        }
        self.scratch = obj;
        json.push(']');
        Ok(Some(Batch { json, rows }))
    }
}

/// Write batches in order; an error (a record too large for a batch) ends the sequence.
impl Iterator for Batcher<'_> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        self.next_write_batch().transpose()
    }
}

/// Test support: the columns a table made for `records` would have (each column typed by its
/// first non-null value, `STRING` when all are null).
#[cfg(test)]
pub fn table_of(records: &[Record]) -> Vec<Column> {
    let Some(first) = records.first() else {
        return Vec::new();
    };
    first
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let value = records
                .iter()
                .filter_map(|r| r.iter().find(|(n, _)| n == name).map(|(_, v)| v))
                .find(|v| **v != Value::Null);
            let (type_name, precision, scale) = match value {
                Some(Value::Boolean(_)) => ("BOOLEAN", None, None),
                Some(Value::TinyInt(_)) => ("BYTE", None, None),
                Some(Value::SmallInt(_)) => ("SHORT", None, None),
                Some(Value::Int(_)) => ("INT", None, None),
                Some(Value::BigInt(_)) => ("LONG", None, None),
                Some(Value::Float(_)) => ("FLOAT", None, None),
                Some(Value::Double(_)) => ("DOUBLE", None, None),
                Some(Value::Decimal(d)) => ("DECIMAL", Some(d.precision), Some(d.scale)),
                Some(Value::Binary(_)) => ("BINARY", None, None),
                Some(Value::Date(_)) => ("DATE", None, None),
                Some(Value::Timestamp(_)) => ("TIMESTAMP", None, None),
                Some(Value::TimestampNtz(_)) => ("TIMESTAMP_NTZ", None, None),
                Some(Value::Interval(_)) => ("INTERVAL", None, None),
                _ => ("STRING", None, None),
            };
            Column {
                name: name.clone(),
                type_name: type_name.into(),
                type_text: type_name.into(),
                position: i as u32,
                precision,
                scale,
            }
        })
        .collect()
}

/// Test support: [`plan`] against [`table_of`] the records.
#[cfg(test)]
pub fn plan_for(records: &[Record], target: &str, mode: &Mode) -> Result<Plan> {
    plan(
        records,
        Fields::of(records)?,
        target,
        mode,
        &table_of(records),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::Decimal;

    fn rec(id: i64, name: &str) -> Record {
        vec![
            ("id".into(), Value::BigInt(id)),
            ("name".into(), Value::Text(name.into())),
        ]
    }

    #[test]
    fn builds_the_wire_statements() {
        let recs = vec![rec(1, "a")];
        let p = plan_for(&recs, "cat.sch.t", &Mode::Insert).unwrap();
        assert_eq!(
            p.sql,
            "INSERT INTO `cat`.`sch`.`t` (`id`, `name`) SELECT c0, c1 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>', map('mode', 'FAILFAST')))) AS s"
        );
        let p = plan_for(&recs, "cat.sch.t", &Mode::Update(vec!["id".into()])).unwrap();
        assert_eq!(
            p.sql,
            "MERGE INTO `cat`.`sch`.`t` AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: STRING>>', map('mode', 'FAILFAST')))) AS s ON t.`id` = s.c0 WHEN MATCHED THEN UPDATE SET t.`name` = s.c1"
        );
        let ids = id_records(
            &[Value::BigInt(1), Value::BigInt(1), Value::BigInt(2)],
            "id",
        )
        .unwrap();
        assert_eq!(ids.len(), 2);
        let p = plan_for(&ids, "cat.sch.t", &Mode::Delete).unwrap();
        assert_eq!(
            p.sql,
            "MERGE INTO `cat`.`sch`.`t` AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT>>', map('mode', 'FAILFAST')))) AS s ON t.`id` = s.c0 WHEN MATCHED THEN DELETE"
        );
    }

    #[test]
    fn repeated_keys_are_found_as_numbers_and_as_text() {
        let upd = Mode::Update(vec!["id".into()]);
        let check = |recs: Vec<Record>| {
            let p = Plan {
                names: vec!["id".into(), "name".into()],
                ..plan_for(&recs[..1], "t", &upd).unwrap()
            };
            check_unique_keys(&recs, &p, &["id".to_string()])
        };
        assert!(check(vec![rec(1, "a"), rec(2, "b")]).is_ok());
        let e = check(vec![rec(1, "a"), rec(2, "b"), rec(1, "c")]).unwrap_err();
        assert_eq!(e.message, "record 2 repeats a key of an earlier record");
        // INT 7 and BIGINT 7 are one key; the text "7" is another.
        let int7 = vec![("id".into(), Value::Int(7)), ("name".into(), Value::Null)];
        assert!(check(vec![rec(7, "a"), int7]).is_err());
        let text7 = vec![("id".into(), Value::Text("7".into())), ("name".into(), Value::Null)];
        assert!(check(vec![rec(7, "a"), text7.clone()]).is_ok());
        assert!(check(vec![rec(7, "a"), text7.clone(), text7]).is_err());
        let null = vec![("id".into(), Value::Null), ("name".into(), Value::Null)];
        assert!(check(vec![rec(7, "a"), null]).unwrap_err().message.contains("null key"));
    }

    #[test]
    fn hostile_names_are_quoted_and_values_stay_in_json() {
        let recs = vec![vec![
            (
                "a`); DROP TABLE x; --".to_string(),
                Value::Text("'); DROP TABLE y; --".into()),
            ),
            ("名前".to_string(), Value::Null),
        ]];
        let p = plan_for(&recs, "`t``; --`", &Mode::Insert).unwrap();
        assert!(
            p.sql.starts_with(
                "INSERT INTO `t``; --` (`a``); DROP TABLE x; --`, `名前`) SELECT c0, c1"
            )
        );
        assert!(!p.sql.contains("DROP TABLE y"));
        assert_eq!(p.types, vec!["STRING", "STRING"]);
        let b = Batcher::new(&recs, &p, 10, 1000)
            .next_write_batch()
            .unwrap()
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&b.json).unwrap();
        assert_eq!(parsed[0]["c0"], "'); DROP TABLE y; --");
    }

    #[test]
    fn rejects_inconsistent_records() {
        // An unchecked (STRING) column takes one type of value.
        let mixed = vec![
            rec(1, "a"),
            vec![
                ("id".into(), Value::BigInt(2)),
                ("name".into(), Value::BigInt(3)),
            ],
        ];
        assert!(
            plan_for(&mixed, "t", &Mode::Insert)
                .unwrap_err()
                .message
                .contains("mixes types")
        );
        // A checked (BIGINT) column takes text only when it is a whole number.
        let text_id = vec![
            rec(1, "a"),
            vec![
                ("id".into(), Value::Text("x2".into())),
                ("name".into(), Value::Null),
            ],
        ];
        assert!(
            plan_for(&text_id, "t", &Mode::Insert)
                .unwrap_err()
                .message
                .contains("record 1, column \"id\"")
        );
        let missing = vec![rec(1, "a"), vec![("id".into(), Value::BigInt(2))]];
        assert!(plan_for(&missing, "t", &Mode::Insert).is_err());
        let other = vec![
            rec(1, "a"),
            vec![("id".into(), Value::BigInt(2)), ("x".into(), Value::Null)],
        ];
        assert!(plan_for(&other, "t", &Mode::Insert).is_err());
        let dup = vec![vec![
            ("id".into(), Value::BigInt(2)),
            ("id".into(), Value::Null),
        ]];
        assert!(plan_for(&dup, "t", &Mode::Insert).is_err());
        assert!(plan_for(&[], "t", &Mode::Insert).is_err());
        assert!(plan_for(&[rec(1, "a")], "a.b.c.d", &Mode::Insert).is_err());
        let dec = |d: &str, p, s| {
            Value::Decimal(Decimal {
                digits: d.into(),
                precision: p,
                scale: s,
            })
        };
        let decs = vec![
            vec![("d".into(), dec("1.5", 10, 1))],
            vec![("d".into(), dec("1.25", 10, 2))],
        ];
        assert!(plan_for(&decs, "t", &Mode::Insert).is_err());
        let ivl = vec![vec![(
            "d".into(),
            Value::Interval(crate::core::value::Interval {
                months: 1,
                micros: 0,
            }),
        )]];
        assert!(plan_for(&ivl, "t", &Mode::Insert).is_err());
    }

    #[test]
    fn all_null_columns_are_strings_and_order_follows_first_record() {
        let recs = vec![
            vec![("b".into(), Value::Null), ("a".into(), Value::Int(1))],
            vec![("a".into(), Value::Int(2)), ("b".into(), Value::Null)],
        ];
        let p = plan_for(&recs, "t", &Mode::Insert).unwrap();
        assert_eq!(p.names, vec!["b", "a"]);
        assert_eq!(p.types, vec!["STRING", "INT"]);
        let b = Batcher::new(&recs, &p, 10, 1000)
            .next_write_batch()
            .unwrap()
            .unwrap();
        assert_eq!(b.json, r#"[{"c0":null,"c1":1},{"c0":null,"c1":2}]"#);
    }

    #[test]
    fn update_checks_keys() {
        let recs = vec![rec(1, "a"), rec(1, "b")];
        let keys = vec!["id".to_string()];
        let p = plan_for(&recs, "t", &Mode::Update(keys.clone())).unwrap();
        assert!(check_unique_keys(&recs, &p, &keys).is_err());
        let ok = vec![rec(1, "a"), rec(2, "a")];
        assert!(check_unique_keys(&ok, &p, &keys).is_ok());
        assert!(plan_for(&recs, "t", &Mode::Update(vec!["nope".into()])).is_err());
        let only_key = vec![vec![("id".into(), Value::BigInt(1))]];
        assert!(plan_for(&only_key, "t", &Mode::Update(keys.clone())).is_err());
        let null_key = vec![vec![
            ("id".into(), Value::Null),
            ("name".into(), Value::Null),
        ]];
        let p = plan_for(&null_key, "t", &Mode::Update(keys.clone())).unwrap();
        assert!(check_unique_keys(&null_key, &p, &keys).is_err());
        assert!(id_records(&[Value::Null], "id").is_err());
    }

    #[test]
    fn hundred_thousand_small_records_take_at_most_ten_statements() {
        let recs: Vec<Record> = (0..100_000)
            .map(|i| rec(i, &format!("customer-{i}")))
            .collect();
        let p = plan_for(&recs, "t", &Mode::Insert).unwrap();
        let mut b = Batcher::new(&recs, &p, 50_000, 900_000);
        let (mut n, mut total) = (0, 0);
        while let Some(batch) = b.next_write_batch().unwrap() {
            assert!(batch.json.len() <= 900_000, "{}", batch.json.len());
            assert!(batch.rows <= 50_000);
            let parsed: Vec<serde_json::Value> = serde_json::from_str(&batch.json).unwrap();
            assert_eq!(parsed.len(), batch.rows);
            total += batch.rows;
            n += 1;
        }
        assert_eq!(total, 100_000);
        assert!(n <= 10, "{n} statements");
    }

    #[test]
    fn batches_respect_rows_and_bytes() {
        let recs: Vec<Record> = (0..10).map(|i| rec(i, "x")).collect();
        let p = plan_for(&recs, "t", &Mode::Insert).unwrap();
        let mut b = Batcher::new(&recs, &p, 3, 100_000);
        let sizes: Vec<usize> = std::iter::from_fn(|| b.next_write_batch().unwrap())
            .map(|b| b.rows)
            .collect();
        assert_eq!(sizes, vec![3, 3, 3, 1]);
        let mut b = Batcher::new(&recs, &p, 100, 40);
        let batches: Vec<Batch> = std::iter::from_fn(|| b.next_write_batch().unwrap()).collect();
        assert!(batches.iter().all(|b| b.json.len() <= 40));
        assert_eq!(batches.iter().map(|b| b.rows).sum::<usize>(), 10);
        let big = vec![rec(1, &"x".repeat(100))];
        let p = plan_for(&big, "t", &Mode::Insert).unwrap();
        assert!(Batcher::new(&big, &p, 10, 50).next_write_batch().is_err());
    }
}
