//! `COPY INTO t FROM (SELECT ... FROM 'path') FILEFORMAT = JSON`: JSON-lines files read with
//! every primitive as text (`primitivesAsString`: a number keeps its digits as written, `null`
//! stays NULL), then the select list evaluated over those text fields.
//!
//! The forms the connector sends are converted exactly here: a field as it is,
//! `CAST(field AS type)` (decimals rounded HALF_UP to their scale, a value that does not parse
//! fails with `CAST_INVALID_INPUT`, one that does not fit with `NUMERIC_VALUE_OUT_OF_RANGE`)
//! and `unbase64(field)`. A select list with any other expression is planned by DataFusion
//! over the text fields instead.

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, BinaryArray, RecordBatch, StringArray};
use deltalake::arrow::compute::{CastOptions, cast_with_options};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::prelude::DataFrame;
use serde_json::value::RawValue;

use super::SourceFile;
use crate::engine::error::SqlError;
use crate::engine::functions::unbase64_array;
use crate::engine::inline::{float_array, round_half_up};
use crate::engine::sql::{CopyExpr, CopyItem};
use crate::engine::types::{TypeError, parse_type, type_names};
use crate::engine::{Engine, Stmtx};

/// The name the source rows are registered under when DataFusion evaluates the select list.
const SOURCE_TABLE: &str = "__copy_source";

/// Rows per batch of the files' text.
const BATCH_ROWS: usize = 65_536;

fn malformed(file: &str, detail: impl std::fmt::Display) -> SqlError {
    SqlError::analysis(
        "MALFORMED_RECORD_IN_PARSING",
        format!("Malformed records are detected in record parsing of {file}: {detail}."),
        "22023",
    )
}

/// The keys of the records in first-seen order, one text column per key, and the row count.
pub(super) type Fields = (Vec<String>, Vec<Vec<Option<String>>>, usize);

/// The fields of every line of `files` as text (see [`Fields`]).
pub(super) fn read_fields(files: &[SourceFile]) -> Result<Fields, SqlError> {
    let mut keys: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut cols: Vec<Vec<Option<String>>> = Vec::new();
    let mut rows = 0usize;
    for f in files {
        let text = std::fs::read_to_string(&f.local).map_err(|e| malformed(&f.path, e))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let obj: HashMap<String, &RawValue> =
                serde_json::from_str(line).map_err(|e| malformed(&f.path, e))?;
            for (k, v) in obj {
                let i = *index.entry(k.clone()).or_insert_with(|| {
                    keys.push(k);
                    cols.push(vec![None; rows]);
                    cols.len() - 1
                });
                let raw = v.get();
                let value = if raw == "null" {
                    None
                } else if raw.starts_with('"') {
                    Some(serde_json::from_str::<String>(raw).map_err(|e| malformed(&f.path, e))?)
                } else {
                    // numbers and booleans keep their text; objects and arrays their JSON
                    Some(raw.to_string())
                };
                cols[i].push(value);
            }
            rows += 1;
            for c in cols.iter_mut() {
                c.resize(rows, None);
            }
        }
    }
    Ok((keys, cols, rows))
}

fn cast_invalid(value: &str, target: &DataType) -> SqlError {
    SqlError::CastInvalidInput {
        value: value.to_string(),
        target: type_names(target).1,
    }
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (m, e) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (i, f) = m.split_once('.').unwrap_or((m, ""));
    !(i.is_empty() && f.is_empty())
        && i.bytes().chain(f.bytes()).all(|b| b.is_ascii_digit())
        && e.is_none_or(|e| {
            e.strip_prefix(['-', '+'])
                .unwrap_or(e)
                .parse::<u32>()
                .is_ok()
        })
}

/// `CAST(text AS dt)` with Databricks' ANSI semantics (text trimmed for non-string types).
fn cast_text(col: &StringArray, dt: &DataType) -> Result<ArrayRef, SqlError> {
    let trimmed = || -> StringArray { col.iter().map(|v| v.map(str::trim)).collect() };
    Ok(match dt {
        DataType::Utf8 => Arc::new(col.clone()) as ArrayRef,
        DataType::Decimal128(p, s) => {
            let mut rounded: Vec<Option<String>> = Vec::with_capacity(col.len());
            for v in col.iter() {
                rounded.push(match v.map(str::trim) {
                    None => None,
                    Some(t) => match round_half_up(t, *p, *s) {
                        Some(r) => Some(r),
                        None if is_number(t) => {
                            return Err(SqlError::analysis(
                                "NUMERIC_VALUE_OUT_OF_RANGE",
                                format!(
                                    "The value {t} cannot be represented as {}: it needs more than {p} digits. If necessary set spark.sql.ansi.enabled to \"false\" to bypass this error.",
                                    type_names(dt).1
                                ),
                                "22003",
                            ));
                        }
                        None => return Err(cast_invalid(t, dt)),
                    },
                });
            }
            let text: StringArray = rounded.iter().map(|v| v.as_deref()).collect();
            strict(&text, dt)?
        }
        DataType::Float64 | DataType::Float32 => {
            let mut vals: Vec<Option<f64>> = Vec::with_capacity(col.len());
            for v in col.iter() {
                vals.push(match v.map(str::trim) {
                    None => None,
                    Some(t) => Some(t.parse::<f64>().map_err(|_| cast_invalid(t, dt))?),
                });
            }
            float_array(vals, dt)
        }
        DataType::Binary => Arc::new(
            col.iter()
                .map(|v| v.map(str::as_bytes))
                .collect::<BinaryArray>(),
        ),
        _ => strict(&trimmed(), dt)?,
    })
}

/// Arrow's cast without NULL on failure; the first value that fails is named in the error.
fn strict(col: &StringArray, dt: &DataType) -> Result<ArrayRef, SqlError> {
    let opts = CastOptions {
        safe: false,
        ..Default::default()
    };
    match cast_with_options(col, dt, &opts) {
        Ok(a) => Ok(a),
        Err(e) => {
            for v in col.iter().flatten() {
                if cast_with_options(&StringArray::from(vec![v]), dt, &opts).is_err() {
                    return Err(cast_invalid(v, dt));
                }
            }
            Err(SqlError::Internal(e.to_string()))
        }
    }
}

fn parse_cast_type(text: &str) -> Result<DataType, SqlError> {
    parse_type(text).map_err(|e| match e {
        TypeError::TooDeep => SqlError::TooComplex,
        TypeError::Syntax(e) => SqlError::analysis(
            "UNSUPPORTED_DATATYPE",
            format!("Unsupported data type \"{text}\": {e}."),
            "0A000",
        ),
    })
}

fn backquote(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

impl Engine {
    /// The rows of `files` through the select list, with the output column names; None when
    /// the files hold no rows.
    pub(super) async fn load_jsonl(
        &self,
        x: &mut Stmtx,
        files: &[SourceFile],
        items: &[CopyItem],
    ) -> Result<Option<(DataFrame, Vec<String>)>, SqlError> {
        let (keys, cols, rows) = read_fields(files)?;
        if rows == 0 {
            return Ok(None);
        }
        let chunks = text_chunks(&cols, rows);
        drop(cols);
        // `SELECT *`: every field of the files, as text
        let star = |it: &CopyItem| it.alias.is_none() && it.text.trim() == "*";
        let expanded: Vec<CopyItem>;
        let items = if items.iter().any(star) {
            expanded = items
                .iter()
                .flat_map(|it| {
                    if star(it) {
                        keys.iter()
                            .map(|k| CopyItem {
                                expr: CopyExpr::Field(k.clone()),
                                text: backquote(k),
                                alias: None,
                            })
                            .collect::<Vec<_>>()
                    } else {
                        vec![it.clone()]
                    }
                })
                .collect();
            &expanded[..]
        } else {
            items
        };
        let names: Vec<String> = items.iter().map(CopyItem::output_name).collect();
        if items.iter().any(|it| matches!(it.expr, CopyExpr::Other(_))) {
            // DataFusion plans the whole list over the text fields
            let schema = Arc::new(Schema::new(
                keys.iter()
                    .map(|k| Field::new(k, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            ));
            let batches = chunks
                .into_iter()
                .map(|text| {
                    let arrays: Vec<ArrayRef> =
                        text.into_iter().map(|a| Arc::new(a) as ArrayRef).collect();
                    RecordBatch::try_new(schema.clone(), arrays)
                        .map_err(|e| SqlError::Internal(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mem = MemTable::try_new(schema, vec![batches])?;
            x.tree.add_temp(SOURCE_TABLE, Arc::new(mem));
            let list = items
                .iter()
                .zip(&names)
                .map(|(it, n)| format!("{} AS {}", it.text, backquote(n)))
                .collect::<Vec<_>>()
                .join(", ");
            let df = self
                .query(x, &format!("SELECT {list} FROM {SOURCE_TABLE}"))
                .await?;
            return Ok(Some((df, names)));
        }
        let batches = convert(&keys, &chunks, items, &names)?;
        Ok(Some((x.ctx.read_batches(batches)?, names)))
    }
}

/// The text columns `cols` of `rows` rows as batches of their own buffers (not slices of one
/// array, whose every slice would count the whole buffer against the statement's memory
/// limit).
pub(super) fn text_chunks(cols: &[Vec<Option<String>>], rows: usize) -> Vec<Vec<StringArray>> {
    (0..rows)
        .step_by(BATCH_ROWS)
        .map(|start| {
            let end = (start + BATCH_ROWS).min(rows);
            cols.iter()
                .map(|c| c[start..end].iter().map(|v| v.as_deref()).collect())
                .collect()
        })
        .collect()
}

/// The select list `items` (fields, `CAST(field AS type)`, `unbase64(field)`: no
/// [`CopyExpr::Other`]) over the text fields `keys`, chunk by chunk, converted exactly; output
/// columns are named `names`.
pub(super) fn convert(
    keys: &[String],
    chunks: &[Vec<StringArray>],
    items: &[CopyItem],
    names: &[String],
) -> Result<Vec<RecordBatch>, SqlError> {
    let position = |name: &str| -> Result<usize, SqlError> {
        keys.iter()
            .position(|k| k == name)
            .or_else(|| keys.iter().position(|k| k.eq_ignore_ascii_case(name)))
            .ok_or_else(|| SqlError::UnresolvedColumn {
                name: backquote(name),
                suggestions: keys
                    .iter()
                    .map(|k| backquote(k))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    let mut batches = Vec::with_capacity(chunks.len());
    for text in chunks {
        let mut fields = Vec::with_capacity(items.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(items.len());
        for (it, name) in items.iter().zip(names) {
            let a: ArrayRef = match &it.expr {
                CopyExpr::Field(f) => Arc::new(text[position(f)?].clone()),
                CopyExpr::Cast(f, ty) => cast_text(&text[position(f)?], &parse_cast_type(ty)?)?,
                CopyExpr::Unbase64(f) => Arc::new(unbase64_array(&text[position(f)?])?),
                CopyExpr::Other(_) => return Err(SqlError::Internal("copy expression".into())),
            };
            fields.push(Field::new(name, a.data_type().clone(), true));
            arrays.push(a);
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| SqlError::Internal(e.to_string()))?;
        batches.push(batch);
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_are_exact_or_refused() {
        let col = StringArray::from(vec![Some("1.50"), Some(" 2.005 "), None]);
        let a = cast_text(&col, &DataType::Decimal128(12, 2)).unwrap();
        let text: Vec<String> = (0..a.len())
            .map(|i| {
                deltalake::arrow::util::display::array_value_to_string(&a, i).unwrap_or_default()
            })
            .collect();
        assert_eq!(text, vec!["1.50", "2.01", ""]);
        let e = cast_text(
            &StringArray::from(vec!["12345678901.5"]),
            &DataType::Decimal128(12, 2),
        )
        .unwrap_err();
        assert_eq!(e.sql_state(), "22003", "{e}");
        let e = cast_text(
            &StringArray::from(vec!["1.2.3"]),
            &DataType::Decimal128(12, 2),
        )
        .unwrap_err();
        assert_eq!(e.sql_state(), "22018", "{e}");
        let e = cast_text(&StringArray::from(vec!["x"]), &DataType::Int64).unwrap_err();
        assert_eq!(e.sql_state(), "22018", "{e}");
        assert!(is_number("-1.5e3") && !is_number("1e") && !is_number("."));
    }
}
