//! Delta time travel in queries: `t VERSION AS OF 3`, `t TIMESTAMP AS OF '2024-01-01'`,
//! `t@v3` and `t@20240101000000000`.
//!
//! The query rewrite replaces such a table reference with a statement-local table
//! (`__tt_N AS t`); [`open_at`] loads the Delta table at that version (or at the latest version
//! committed at or before the timestamp) and the engine registers it under that name.

use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use deltalake::DeltaTable;
use deltalake::datafusion::sql::sqlparser::keywords::Keyword;
use deltalake::datafusion::sql::sqlparser::tokenizer::{Token, Whitespace};

use super::error::SqlError;

/// Which snapshot of a table a query reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// A table version.
    Version(i64),
    /// A timestamp text as written.
    Timestamp(String),
}

/// A time-travel table reference found in a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeTravel {
    /// Name parts as written.
    pub name: Vec<String>,
    /// Which snapshot.
    pub as_of: AsOf,
    /// Statement-local table name that replaced the reference.
    pub table: String,
}

fn word<'a>(t: Option<&'a Token>) -> Option<&'a str> {
    match t {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.as_str()),
        _ => None,
    }
}

fn is(t: Option<&Token>, k: &str) -> bool {
    word(t).is_some_and(|w| w.eq_ignore_ascii_case(k))
}

/// Matches a time-travel reference starting at significant token `si`: returns it, the
/// tokens replacing it, and the index in `sig` of its last token.
pub fn at(
    toks: &[Token],
    sig: &[usize],
    si: usize,
    counter: &mut usize,
) -> Option<(TimeTravel, Vec<Token>, usize)> {
    let s = |k: usize| sig.get(k).map(|&x| &toks[x]);
    if si > 0 && matches!(s(si - 1), Some(Token::Period) | Some(Token::AtSign)) {
        return None;
    }
    let mut name = Vec::new();
    let mut k = si;
    loop {
        match s(k) {
            Some(Token::Word(w)) => name.push(w.value.clone()),
            _ => return None,
        }
        if s(k + 1) == Some(&Token::Period) {
            k += 2;
        } else {
            break;
        }
    }
    let (as_of, last) = if is(s(k + 1), "VERSION") && is(s(k + 2), "AS") && is(s(k + 3), "OF") {
        match s(k + 4) {
            Some(Token::Number(n, _)) => (AsOf::Version(n.parse().ok()?), k + 4),
            _ => return None,
        }
    } else if is(s(k + 1), "TIMESTAMP") && is(s(k + 2), "AS") && is(s(k + 3), "OF") {
        match s(k + 4) {
            Some(Token::SingleQuotedString(t)) => (AsOf::Timestamp(t.clone()), k + 4),
            _ => return None,
        }
    } else if s(k + 1) == Some(&Token::AtSign) {
        match s(k + 2) {
            Some(Token::Word(w)) if w.value.len() > 1 && w.value[..1].eq_ignore_ascii_case("v") => {
                (AsOf::Version(w.value[1..].parse().ok()?), k + 2)
            }
            Some(Token::Number(n, _)) if n.len() == 17 => (AsOf::Timestamp(n.clone()), k + 2),
            _ => return None,
        }
    } else {
        return None;
    };
    let table = format!("__tt_{}", *counter);
    *counter += 1;
    let mut out = vec![Token::make_word(&table, None)];
    // keep `t.col` working: alias the replacement as the table unless an alias follows
    let aliased = is(s(last + 1), "AS")
        || matches!(s(last + 1), Some(Token::Word(w)) if w.keyword == Keyword::NoKeyword);
    if !aliased {
        let alias = name.last().cloned().unwrap_or_default();
        out.push(Token::Whitespace(Whitespace::Space));
        out.push(Token::make_keyword("AS"));
        out.push(Token::Whitespace(Whitespace::Space));
        out.push(Token::make_word(&alias, Some('`')));
    }
    Some((TimeTravel { name, as_of, table }, out, last))
}

/// Parses `'2024-01-02'`, `'2024-01-02 03:04:05[.fff]'`, RFC 3339, or `yyyyMMddHHmmssSSS`
/// (UTC unless an offset is given).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y%m%d%H%M%S%3f",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

/// Loads the Delta table in `dir` as of `as_of`.
pub async fn open_at(dir: &Path, display: &str, as_of: &AsOf) -> Result<DeltaTable, SqlError> {
    let url = url::Url::from_directory_path(dir)
        .map_err(|_| SqlError::Internal(format!("bad table path {}", dir.display())))?;
    let mut table = deltalake::DeltaTableBuilder::from_url(url)?.build()?;
    match as_of {
        AsOf::Version(v) => {
            let Ok(version) = u64::try_from(*v) else {
                return Err(version_not_found(display, *v, None));
            };
            if table.load_version(version).await.is_err() {
                let latest = super::catalog::open_table(dir).await?.version();
                return Err(version_not_found(display, *v, latest));
            }
        }
        AsOf::Timestamp(text) => {
            let ts = parse_timestamp(text).ok_or_else(|| SqlError::CastInvalidInput {
                value: text.clone(),
                target: "TIMESTAMP".into(),
            })?;
            let too_early = || {
                SqlError::analysis(
                    "DELTA_TIMESTAMP_EARLIER_THAN_COMMIT_RETENTION",
                    format!(
                        "Cannot time travel {display} to timestamp {text}: no version was committed at or before it."
                    ),
                    "42816",
                )
            };
            table
                .load_with_datetime(ts)
                .await
                .map_err(|_| too_early())?;
            // delta-rs falls back to the first version for a time before it
            let committed = table
                .version()
                .and_then(|v| table.snapshot().ok()?.version_timestamp(v));
            if committed.is_some_and(|ms| ms > ts.timestamp_millis()) {
                return Err(too_early());
            }
        }
    }
    Ok(table)
}

fn version_not_found(display: &str, v: i64, latest: Option<u64>) -> SqlError {
    let available = latest.map_or_else(String::new, |l| format!(" Available versions: [0, {l}]."));
    SqlError::analysis(
        "DELTA_VERSION_NOT_FOUND",
        format!("Cannot time travel Delta table {display} to version {v}.{available}"),
        "22003",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sql::{is_ws, tokenize};

    fn first(sql: &str) -> Option<TimeTravel> {
        let toks = tokenize(sql).unwrap();
        let sig: Vec<usize> = (0..toks.len()).filter(|&i| !is_ws(&toks[i])).collect();
        let mut n = 0;
        (0..sig.len()).find_map(|si| at(&toks, &sig, si, &mut n).map(|(t, _, _)| t))
    }

    #[test]
    fn finds_the_three_forms() {
        let t = first("SELECT * FROM main.default.t VERSION AS OF 3 WHERE x = 1").unwrap();
        assert_eq!(t.name, vec!["main", "default", "t"]);
        assert_eq!(t.as_of, AsOf::Version(3));
        let t = first("SELECT * FROM t TIMESTAMP AS OF '2024-01-02 03:04:05' AS x").unwrap();
        assert_eq!(t.as_of, AsOf::Timestamp("2024-01-02 03:04:05".into()));
        let t = first("SELECT * FROM `t`@v12").unwrap();
        assert_eq!(t.as_of, AsOf::Version(12));
        let t = first("SELECT * FROM t@20240102030405000").unwrap();
        assert_eq!(t.as_of, AsOf::Timestamp("20240102030405000".into()));
        assert_eq!(first("SELECT CAST(x AS TIMESTAMP) FROM t"), None);
        assert_eq!(first("SELECT version FROM t"), None);
    }

    #[test]
    fn timestamps_parse() {
        for t in [
            "2024-01-02",
            "2024-01-02 03:04:05",
            "2024-01-02T03:04:05.123Z",
            "2024-01-02 03:04:05.5",
            "20240102030405000",
        ] {
            assert!(parse_timestamp(t).is_some(), "{t}");
        }
        assert!(parse_timestamp("yesterday").is_none());
    }
}
