//! SQL text: identifier validation and backtick quoting, and `%(name)s` → `:name` translation.

use super::error::{Error, Result};
use super::value::{ParamSpec, Value, param_spec};

/// Most parameter markers the service accepts in one statement.
pub const MAX_PARAMS: usize = 255;
/// Longest identifier accepted.
const MAX_IDENT_CHARS: usize = 255;

/// Validate one identifier (non-empty, ≤255 chars, no control characters) and quote it
/// with backticks, doubling any backtick inside.
pub fn quote_ident(name: &str) -> Result<String> {
    if name.is_empty() || name.chars().count() > MAX_IDENT_CHARS {
        return Err(Error::invalid(format!(
            "identifier {:?} is empty or longer than 255 characters",
            shorten(name)
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "identifier {:?} contains control characters",
            shorten(name)
        )));
    }
    Ok(format!("`{}`", name.replace('`', "``")))
}

fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Quote a table name of one to three dot-separated parts (`catalog.schema.table`); a part may
/// already be backtick-quoted (`` `my.cat`.s.`t` ``, with `` `` `` for a backtick).
pub fn quote_table(target: &str) -> Result<String> {
    let parts = split_name(target.trim())?;
    if parts.is_empty() || parts.len() > 3 {
        return Err(Error::invalid(format!(
            "table name {:?} must have 1 to 3 parts",
            shorten(target)
        )));
    }
    let quoted: Result<Vec<String>> = parts.iter().map(|p| quote_ident(p)).collect();
    Ok(quoted?.join("."))
}

/// Split a dotted name into its unquoted parts.
fn split_name(name: &str) -> Result<Vec<String>> {
    let bad = || Error::invalid(format!("malformed table name {:?}", shorten(name)));
    let mut parts = Vec::new();
    let mut chars = name.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'`') {
            chars.next();
            loop {
                match chars.next() {
                    Some('`') if chars.peek() == Some(&'`') => {
                        chars.next();
                        part.push('`');
                    }
                    Some('`') => break,
                    Some(c) => part.push(c),
                    None => return Err(bad()),
                }
            }
            if !matches!(chars.peek(), None | Some('.')) {
                return Err(bad());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '`' {
                    return Err(bad());
                }
                part.push(c);
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(bad());
        }
        parts.push(part);
        match chars.next() {
            Some('.') => continue,
            None => return Ok(parts),
            Some(_) => return Err(bad()),
        }
    }
}

/// A statement translated for the API: SQL with `:name` markers and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// SQL text with native markers.
    pub sql: String,
    /// Native parameters, in the caller's order.
    pub params: Vec<ParamSpec>,
}

/// Lexical state of the scanner.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Code,
    Quoted(char),
    LineComment,
    BlockComment(u32),
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Translate `%(name)s` markers to `:name` (`unhex(:name)` for binary values) and `%%` to `%`,
/// leaving quotes (`'…'`, `"…"`, `` `…` ``) and comments (`--`, nested `/* */`) untouched.
/// Every marker needs a parameter and every parameter a marker; duplicates are rejected.
pub fn translate(sql: &str, params: &[(String, Value)]) -> Result<Translated> {
    if params.len() > MAX_PARAMS {
        return Err(Error::invalid(format!(
            "at most {MAX_PARAMS} parameters per statement"
        )));
    }
    let mut specs = Vec::with_capacity(params.len());
    for (i, (name, value)) in params.iter().enumerate() {
        if params[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::invalid(format!(
                "parameter {:?} given twice",
                shorten(name)
            )));
        }
        specs.push(param_spec(name, value)?);
    }
    let mut used = vec![false; specs.len()];
    let mut out = String::with_capacity(sql.len());
    let chars: Vec<char> = sql.chars().collect();
    let mut state = State::Code;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match state {
            State::Code => match (c, next) {
                ('%', Some('%')) => {
                    out.push('%');
                    i += 2;
                    continue;
                }
                ('%', Some('(')) => {
                    let (name, end) = marker_at(&chars, i)?;
                    let idx = specs.iter().position(|p| p.name == name).ok_or_else(|| {
                        Error::invalid(format!("no parameter given for marker %({name})s"))
                    })?;
                    used[idx] = true;
                    if specs[idx].unhex {
                        out.push_str(&format!("unhex(:{name})"));
                    } else {
                        out.push(':');
                        out.push_str(&name);
                    }
                    i = end;
                    continue;
                }
                ('\'' | '"' | '`', _) => state = State::Quoted(c),
                ('-', Some('-')) => state = State::LineComment,
                ('/', Some('*')) => {
                    out.push_str("/*");
                    state = State::BlockComment(1);
                    i += 2;
                    continue;
                }
                _ => {}
            },
            State::Quoted(q) => {
                if c == '\\' && q != '`' {
                    out.push(c);
                    if let Some(n) = next {
                        out.push(n);
                    }
                    i += 2;
                    continue;
                }
                if c == q {
                    state = State::Code;
                }
            }
            State::LineComment => {
                if c == '\n' {
                    state = State::Code;
                }
            }
            State::BlockComment(depth) => {
                let step = match (c, next) {
                    ('*', Some('/')) => Some(depth - 1),
                    ('/', Some('*')) => Some(depth + 1),
                    _ => None,
                };
                if let Some(d) = step {
                    out.push(c);
                    out.push(if c == '*' { '/' } else { '*' });
                    state = if d == 0 {
                        State::Code
                    } else {
                        State::BlockComment(d)
                    };
                    i += 2;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    if let Some(p) = specs.iter().zip(&used).find(|(_, u)| !**u) {
        return Err(Error::invalid(format!(
            "parameter {:?} is not used by any %(name)s marker",
            shorten(&p.0.name)
        )));
    }
    Ok(Translated {
        sql: out,
        params: specs,
    })
}

/// Parse the marker `%(name)s` starting at `start`; returns the name and the index after it.
fn marker_at(chars: &[char], start: usize) -> Result<(String, usize)> {
    let mut j = start + 2;
    let mut name = String::new();
    while let Some(&c) = chars.get(j) {
        if c == ')' {
            break;
        }
        name.push(c);
        j += 1;
    }
    let ok = chars.get(j) == Some(&')')
        && chars.get(j + 1) == Some(&'s')
        && name.chars().next().is_some_and(is_name_start)
        && name.chars().all(is_name_char);
    if !ok {
        let shown: String = chars[start..chars.len().min(start + 40)].iter().collect();
        return Err(Error::invalid(format!(
            "malformed parameter marker near {shown:?}; use %(name)s or %% for %"
        )));
    }
    Ok((name, j + 2))
}

/// Whether `sql` is certainly read-only, so that re-sending it after its answer was lost
/// changes nothing: its first keyword (after whitespace, comments and opening parentheses) is
/// `SELECT`, `VALUES`, `SHOW`, `DESCRIBE`/`DESC` or `EXPLAIN`. Databricks SQL has no DML that
/// starts with one of these (a CTE may precede DML, so `WITH` is not counted as read-only).
pub fn is_read_only(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(r) = trimmed.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = trimmed.strip_prefix("/*") {
            // Nested block comments, as the translator reads them.
            let mut depth = 1;
            let mut chars = r.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match (c, chars.peek().map(|&(_, n)| n)) {
                    ('/', Some('*')) => {
                        chars.next();
                        depth += 1;
                    }
                    ('*', Some('/')) => {
                        chars.next();
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 2);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { return false };
            rest = &r[end..];
        } else {
            rest = trimmed;
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    matches!(
        word.as_str(),
        "SELECT" | "VALUES" | "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_statements_are_recognised() {
        for ro in [
            "SELECT 1",
            "  select * from t",
            "(SELECT 1) UNION (SELECT 2)",
            "-- c\n/* a /* nested */ b */ SELECT 1",
            "SHOW TABLES",
            "DESCRIBE HISTORY t",
            "desc t",
            "EXPLAIN SELECT 1",
            "VALUES (1)",
        ] {
            assert!(is_read_only(ro), "{ro}");
        }
        for rw in [
            "INSERT INTO t SELECT 1",
            "WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c",
            "MERGE INTO t USING s ON 1=1 WHEN MATCHED THEN DELETE",
            "/* unterminated SELECT 1",
            "-- SELECT 1",
            "SELECTED",
            "DELETE FROM t",
            "",
        ] {
            assert!(!is_read_only(rw), "{rw}");
        }
    }

    fn tr(sql: &str, names: &[&str]) -> Result<String> {
        let params: Vec<(String, Value)> = names
            .iter()
            .map(|n| (n.to_string(), Value::Int(1)))
            .collect();
        translate(sql, &params).map(|t| t.sql)
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("id").unwrap(), "`id`");
        assert_eq!(quote_ident("a`b").unwrap(), "`a``b`");
        assert_eq!(
            quote_ident("x`; DROP TABLE t; --").unwrap(),
            "`x``; DROP TABLE t; --`"
        );
        assert_eq!(quote_ident("名前 é").unwrap(), "`名前 é`");
        assert_eq!(
            quote_ident("it's \"q\" /* c */").unwrap(),
            "`it's \"q\" /* c */`"
        );
        assert!(quote_ident("").is_err());
        assert!(quote_ident("a\nb").is_err());
        assert!(quote_ident("a\0b").is_err());
        assert!(quote_ident(&"x".repeat(256)).is_err());
    }

    #[test]
    fn quotes_table_names() {
        assert_eq!(quote_table("t").unwrap(), "`t`");
        assert_eq!(quote_table("cat.sch.t").unwrap(), "`cat`.`sch`.`t`");
        assert_eq!(
            quote_table("`my.cat`.sch.`t``x`").unwrap(),
            "`my.cat`.`sch`.`t``x`"
        );
        assert_eq!(quote_table("t; DROP TABLE x").unwrap(), "`t; DROP TABLE x`");
        for bad in [
            "", "a..b", "a.b.c.d", ".t", "t.", "`t", "t`x", "`a`b", "a.`b",
        ] {
            assert!(quote_table(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn translates_markers() {
        assert_eq!(
            tr("SELECT %(a)s, %(b_2)s", &["a", "b_2"]).unwrap(),
            "SELECT :a, :b_2"
        );
        assert_eq!(
            tr("SELECT %(a)s + %(a)s", &["a"]).unwrap(),
            "SELECT :a + :a"
        );
        assert_eq!(
            tr("SELECT 5 %% 2, x % 3", &[]).unwrap(),
            "SELECT 5 % 2, x % 3"
        );
        assert_eq!(tr("SELECT '100%%'", &[]).unwrap(), "SELECT '100%%'");
    }

    #[test]
    fn leaves_quotes_and_comments_alone() {
        let sql = "SELECT '%(a)s', \"%(a)s\", `%(a)s`, 'it\\'s %(a)s' -- %(a)s\n, %(a)s /* %(a)s /* %(a)s */ %(a)s */ %(a)s";
        assert_eq!(
            tr(sql, &["a"]).unwrap(),
            "SELECT '%(a)s', \"%(a)s\", `%(a)s`, 'it\\'s %(a)s' -- %(a)s\n, :a /* %(a)s /* %(a)s */ %(a)s */ :a"
        );
        assert_eq!(
            tr("SELECT /*+ REPARTITION(10) */ %(a)s", &["a"]).unwrap(),
            "SELECT /*+ REPARTITION(10) */ :a"
        );
        assert_eq!(tr("SELECT 'a''%(a)s'", &[]).unwrap(), "SELECT 'a''%(a)s'");
        assert_eq!(tr("SELECT `a``%(a)s`", &[]).unwrap(), "SELECT `a``%(a)s`");
        assert_eq!(tr("SELECT 1 -- %(a)s", &[]).unwrap(), "SELECT 1 -- %(a)s");
        assert_eq!(tr("SELECT '%(a)s", &[]).unwrap(), "SELECT '%(a)s");
    }

    #[test]
    fn marker_errors() {
        assert!(
            tr("SELECT %(a)s", &[])
                .unwrap_err()
                .message
                .contains("no parameter")
        );
        assert!(
            tr("SELECT 1", &["a"])
                .unwrap_err()
                .message
                .contains("not used")
        );
        assert!(tr("SELECT '%(a)s'", &["a"]).is_err());
        for bad in [
            "%(a)d", "%(a", "%()s", "%(1a)s", "%(a-b)s", "%(a b)s", "%(", "%(a)",
        ] {
            assert!(
                tr(bad, &["a"]).unwrap_err().message.contains("malformed"),
                "{bad}"
            );
        }
        let dup = vec![
            ("a".to_string(), Value::Null),
            ("a".to_string(), Value::Null),
        ];
        assert!(translate("%(a)s", &dup).is_err());
        let many: Vec<(String, Value)> = (0..256).map(|i| (format!("p{i}"), Value::Null)).collect();
        assert!(translate("", &many).is_err());
    }

    #[test]
    fn hostile_values_stay_parameters() {
        let v = Value::Text("'; DROP TABLE t; -- `x` /*".into());
        let t = translate("SELECT * FROM t WHERE name = %(n)s", &[("n".into(), v)]).unwrap();
        assert_eq!(t.sql, "SELECT * FROM t WHERE name = :n");
        assert_eq!(
            t.params[0].value.as_deref(),
            Some("'; DROP TABLE t; -- `x` /*")
        );
    }

    #[test]
    fn binary_markers_use_unhex() {
        let t = translate("SELECT %(b)s", &[("b".into(), Value::Binary(vec![0xAB]))]).unwrap();
        assert_eq!(t.sql, "SELECT unhex(:b)");
        assert_eq!(t.params[0].value.as_deref(), Some("AB"));
    }

    #[test]
    fn unicode_sql_survives() {
        assert_eq!(
            tr("SELECT 'é' || %(a)s -- ü", &["a"]).unwrap(),
            "SELECT 'é' || :a -- ü"
        );
    }
}
