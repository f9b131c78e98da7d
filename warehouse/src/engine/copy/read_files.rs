//! The `read_files` table-valued function over volume files, in the form the connector's staged
//! updates and deletes read their files with:
//!
//! ```sql
//! SELECT CAST(c0 AS BIGINT) AS c0, c1 AS c1 FROM read_files('/Volumes/c/s/v/dir/',
//!   format => 'json', schema => 'c0 STRING, c1 STRING', mode => 'FAILFAST')
//! ```
//!
//! Every `read_files(...)` of a query is replaced, before DataFusion plans the query, by a
//! statement-local table of the files' rows. Implemented: JSON-lines files (`format => 'json'`)
//! with a `schema` of STRING fields (a field absent from a line is NULL, keys not in the schema
//! are ignored) and `mode => 'FAILFAST'` (a line that is not a JSON object fails the statement
//! with `MALFORMED_RECORD_IN_PARSING`); `primitivesAsString` is accepted (every field is read as
//! text anyway). When the `SELECT` around the call lists only the forms `COPY INTO` converts
//! exactly (a field, `CAST(field AS type)`, `unbase64(field)`) and nothing follows the call, the
//! whole `SELECT` is converted exactly, as `COPY INTO` does ([`super::jsonl`]); otherwise
//! DataFusion plans it over the text fields. Other options, formats and modes are refused
//! (`UNSUPPORTED_FEATURE`).

use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, RecordBatch, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::sql::sqlparser::tokenizer::Token;

use super::jsonl::{convert, read_fields, text_chunks};
use super::source_files;
use crate::engine::error::SqlError;
use crate::engine::sql::{CopyExpr, CopyItem, Stmt, is_ws, parse, render, tokenize};
use crate::engine::{Engine, Stmtx};

/// One `read_files(path, key => value, ...)` call.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    /// The path argument.
    path: String,
    /// The schema's field names (all STRING).
    fields: Vec<String>,
}

fn unsupported(what: impl Into<String>) -> SqlError {
    SqlError::Unsupported(what.into())
}

fn is_word(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
}

/// The field names of a `schema` option: `name STRING, ...` (STRING fields only).
fn schema_fields(schema: &str) -> Result<Vec<String>, SqlError> {
    let toks: Vec<Token> = tokenize(schema)?
        .into_iter()
        .filter(|t| !is_ws(t))
        .collect();
    let mut out = Vec::new();
    for part in toks.split(|t| *t == Token::Comma) {
        match part {
            [Token::Word(name), Token::Word(ty)]
                if ty.quote_style.is_none() && ty.value.eq_ignore_ascii_case("STRING") =>
            {
                out.push(name.value.clone());
            }
            _ => {
                return Err(unsupported(format!(
                    "read_files schema '{schema}' (only fields of type STRING)"
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(unsupported("read_files with an empty schema"));
    }
    Ok(out)
}

/// The call whose `(` is significant token `open` of `sig`; returns it and the index in `sig`
/// of its closing `)`.
fn call_at(toks: &[Token], sig: &[usize], open: usize) -> Result<(Call, usize), SqlError> {
    let at = |k: usize| sig.get(k).map(|&i| &toks[i]);
    let Some(Token::SingleQuotedString(path)) = at(open + 1) else {
        return Err(unsupported("read_files without a path string first"));
    };
    let mut k = open + 2;
    let (mut format, mut schema, mut mode) = (None, None, None);
    loop {
        match at(k) {
            Some(Token::RParen) => break,
            Some(Token::Comma) => {}
            _ => return Err(SqlError::syntax("read_files")),
        }
        let key = match (at(k + 1), at(k + 2)) {
            (Some(Token::Word(w)), Some(Token::RArrow)) => w.value.clone(),
            _ => return Err(SqlError::syntax("read_files")),
        };
        let value = match at(k + 3) {
            Some(Token::SingleQuotedString(v)) => v.clone(),
            Some(Token::Number(n, _)) => n.clone(),
            Some(Token::Word(w)) if w.quote_style.is_none() => w.value.clone(),
            _ => return Err(SqlError::syntax("read_files")),
        };
        match key.to_ascii_lowercase().as_str() {
            "format" => format = Some(value),
            "schema" => schema = Some(value),
            "mode" => mode = Some(value),
            "primitivesasstring" if value.eq_ignore_ascii_case("true") => {}
            _ => return Err(unsupported(format!("read_files option {key} => {value}"))),
        }
        k += 4;
    }
    if !format.is_some_and(|f| f.eq_ignore_ascii_case("json")) {
        return Err(unsupported("read_files other than format => 'json'"));
    }
    if !mode.is_some_and(|m| m.eq_ignore_ascii_case("FAILFAST")) {
        return Err(unsupported("read_files other than mode => 'FAILFAST'"));
    }
    let schema = schema.ok_or_else(|| unsupported("read_files without a schema"))?;
    let call = Call {
        path: path.clone(),
        fields: schema_fields(&schema)?,
    };
    Ok((call, k))
}

/// The select list between significant tokens `select` and `from` when every item is a form
/// converted exactly; parsed by the `COPY INTO` parser, which reads the same list.
fn exact_items(toks: &[Token], sig: &[usize], select: usize, from: usize) -> Option<Vec<CopyItem>> {
    let list = render(&toks[sig[select] + 1..sig[from]]);
    let copy = format!("COPY INTO t FROM (SELECT {list} FROM '/') FILEFORMAT = JSON");
    let Ok(Stmt::CopyInto(c)) = parse(&copy) else {
        return None;
    };
    let items = c.select?;
    let exact = items.iter().all(|it| {
        !matches!(it.expr, CopyExpr::Other(_)) && !(it.alias.is_none() && it.text.trim() == "*")
    });
    exact.then_some(items)
}

/// The significant-token index of the `SELECT` whose `FROM` is at `from`, when the `SELECT` is
/// at the same parenthesis depth.
fn select_of(toks: &[Token], sig: &[usize], from: usize) -> Option<usize> {
    let mut depth = 0i64;
    for k in (0..from).rev() {
        match &toks[sig[k]] {
            Token::RParen => depth += 1,
            Token::LParen if depth == 0 => return None,
            Token::LParen => depth -= 1,
            t if depth == 0 && is_word(Some(t), "SELECT") => return Some(k),
            _ => {}
        }
    }
    None
}

impl Engine {
    /// Replaces every `read_files(...)` of query `text` by a statement-local table of the files'
    /// rows (see the module documentation); returns the rewritten text.
    pub(crate) fn read_files_sources(&self, x: &mut Stmtx, text: &str) -> Result<String, SqlError> {
        if !text.to_ascii_lowercase().contains("read_files") {
            return Ok(text.to_string());
        }
        let toks = tokenize(text)?;
        let sig: Vec<usize> = (0..toks.len()).filter(|&i| !is_ws(&toks[i])).collect();
        let at = |k: usize| sig.get(k).map(|&i| &toks[i]);
        // (first token, last token, replacement) of each call, in order
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut k = 0;
        while k < sig.len() {
            if !(is_word(at(k), "read_files") && at(k + 1) == Some(&Token::LParen)) {
                k += 1;
                continue;
            }
            let (call, close) = call_at(&toks, &sig, k + 1)?;
            let table = format!("__read_files_{}", x.inline_counter);
            x.inline_counter += 1;
            let ends_query = matches!(at(close + 1), None | Some(Token::RParen | Token::SemiColon));
            let select = (k > 0 && is_word(at(k - 1), "FROM") && ends_query)
                .then(|| select_of(&toks, &sig, k - 1))
                .flatten();
            let exact = select.and_then(|s| Some((s, exact_items(&toks, &sig, s, k - 1)?)));
            match exact {
                Some((s, items)) => {
                    let batches = self.exact_rows(x, &call, &items)?;
                    let schema = batches
                        .first()
                        .map(|b| b.schema())
                        .ok_or_else(|| SqlError::Internal("read_files: no batch".into()))?;
                    let mem = MemTable::try_new(schema, vec![batches])?;
                    x.tree.add_temp(&table, Arc::new(mem));
                    edits.push((sig[s], sig[close], format!("SELECT * FROM {table}")));
                }
                None => {
                    let batches = self.text_rows(x, &call)?;
                    let mem = MemTable::try_new(batches[0].schema(), vec![batches])?;
                    x.tree.add_temp(&table, Arc::new(mem));
                    edits.push((sig[k], sig[close], table));
                }
            }
            k = close + 1;
        }
        let mut out = String::new();
        let mut next = 0;
        for (first, last, replacement) in edits {
            out.push_str(&render(&toks[next..first]));
            out.push(' ');
            out.push_str(&replacement);
            out.push(' ');
            next = last + 1;
        }
        out.push_str(&render(&toks[next..]));
        Ok(out)
    }

    /// The schema's fields of every line of the call's files, as text, in chunks (at least one,
    /// empty when the files hold no rows).
    fn text_chunks_of(&self, x: &Stmtx, call: &Call) -> Result<Vec<Vec<StringArray>>, SqlError> {
        let (vol, local) = self.readable_source(x, &call.path)?;
        let vol_dir = vol
            .dir(self.root())
            .map_err(|e| SqlError::analysis("INVALID_PATH", e.to_string(), "22KD1"))?;
        let files = source_files(&vol, &vol_dir, &local)?;
        let (keys, mut cols, rows) = read_fields(&files)?;
        let picked: Vec<Vec<Option<String>>> = call
            .fields
            .iter()
            .map(|f| match keys.iter().position(|k| k == f) {
                Some(i) => std::mem::take(&mut cols[i]),
                None => vec![None; rows],
            })
            .collect();
        let mut chunks = text_chunks(&picked, rows);
        if chunks.is_empty() {
            chunks.push(vec![
                StringArray::from(Vec::<Option<&str>>::new());
                call.fields.len()
            ]);
        }
        Ok(chunks)
    }

    /// The call's rows through the select list `items`, converted exactly.
    fn exact_rows(
        &self,
        x: &Stmtx,
        call: &Call,
        items: &[CopyItem],
    ) -> Result<Vec<RecordBatch>, SqlError> {
        let chunks = self.text_chunks_of(x, call)?;
        let names: Vec<String> = items.iter().map(CopyItem::output_name).collect();
        convert(&call.fields, &chunks, items, &names)
    }

    /// The call's rows as text columns named by the schema.
    fn text_rows(&self, x: &Stmtx, call: &Call) -> Result<Vec<RecordBatch>, SqlError> {
        let schema = Arc::new(Schema::new(
            call.fields
                .iter()
                .map(|f| Field::new(f, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        self.text_chunks_of(x, call)?
            .into_iter()
            .map(|chunk| {
                let arrays: Vec<ArrayRef> =
                    chunk.into_iter().map(|a| Arc::new(a) as ArrayRef).collect();
                RecordBatch::try_new(schema.clone(), arrays)
                    .map_err(|e| SqlError::Internal(e.to_string()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_connectors_call() {
        let q = "SELECT CAST(c0 AS BIGINT) AS c0 FROM read_files('/Volumes/a/b/c/d/', format => 'json', schema => 'c0 STRING, `c 1` STRING', mode => 'FAILFAST')";
        let toks = tokenize(q).unwrap();
        let sig: Vec<usize> = (0..toks.len()).filter(|&i| !is_ws(&toks[i])).collect();
        let open = sig
            .iter()
            .position(|&i| is_word(Some(&toks[i]), "read_files"))
            .unwrap()
            + 1;
        let (call, close) = call_at(&toks, &sig, open).unwrap();
        assert_eq!(call.path, "/Volumes/a/b/c/d/");
        assert_eq!(call.fields, vec!["c0", "c 1"]);
        assert_eq!(close, sig.len() - 1);
        let items = exact_items(&toks, &sig, 0, open - 2).unwrap();
        assert_eq!(items[0].expr, CopyExpr::Cast("c0".into(), "BIGINT".into()));
        assert_eq!(select_of(&toks, &sig, open - 2), Some(0));
    }

    #[test]
    fn refuses_what_is_not_implemented() {
        let refused = |q: &str| {
            let toks = tokenize(q).unwrap();
            let sig: Vec<usize> = (0..toks.len()).filter(|&i| !is_ws(&toks[i])).collect();
            call_at(&toks, &sig, 1).unwrap_err()
        };
        for q in [
            "read_files('/p', format => 'csv', schema => 'a STRING', mode => 'FAILFAST')",
            "read_files('/p', format => 'json', schema => 'a STRING')",
            "read_files('/p', format => 'json', schema => 'a INT', mode => 'FAILFAST')",
            "read_files('/p', format => 'json', mode => 'FAILFAST')",
            "read_files('/p', format => 'json', schema => 'a STRING', mode => 'FAILFAST', x => 1)",
        ] {
            assert_eq!(refused(q).sql_state(), "0A000", "{q}");
        }
        assert!(matches!(
            refused("read_files('/p', format 'json')"),
            SqlError::Syntax { .. }
        ));
    }
}
