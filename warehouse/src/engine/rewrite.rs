//! Token-level rewrites of query text before DataFusion plans it, and helpers on expression
//! texts handed to delta-rs.

use deltalake::datafusion::sql::sqlparser::tokenizer::{Token, Whitespace};

use super::error::SqlError;
use super::inline::ParseMode;
use super::sql::{is_ws, render, tokenize};
use super::timetravel::TimeTravel;

/// An `inline(from_json(:param, 'ARRAY<STRUCT<...>>'[, map('mode', 'FAILFAST')]))` found in a
/// query.
#[derive(Clone, Debug, PartialEq)]
pub struct InlineSource {
    /// Table name that replaced it (`__inline_N`).
    pub table: String,
    /// Parameter name (without `:`), or None when the JSON is a literal.
    pub param: Option<String>,
    /// Literal JSON when not a parameter.
    pub literal: Option<String>,
    /// The schema text.
    pub schema: String,
    /// `map('mode', ...)`, else PERMISSIVE (the service's default).
    pub mode: ParseMode,
}

/// Reads `map('k', 'v', ...)` at the start of `toks` (significant tokens) through its `)`;
/// returns the parse mode and the number of tokens used. Only the `mode` option is known.
fn parse_options(toks: &[&Token]) -> Result<(ParseMode, usize), SqlError> {
    let unsupported =
        || SqlError::Unsupported("from_json options other than map('mode', '<mode>')".into());
    let is_map = matches!(toks.first(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("map"));
    if !is_map || toks.get(1) != Some(&&Token::LParen) {
        return Err(unsupported());
    }
    let mut k = 2;
    loop {
        match (
            toks.get(k),
            toks.get(k + 1),
            toks.get(k + 2),
            toks.get(k + 3),
        ) {
            (
                Some(Token::SingleQuotedString(key)),
                Some(Token::Comma),
                Some(Token::SingleQuotedString(value)),
                Some(sep),
            ) if key.eq_ignore_ascii_case("mode") => {
                let mode = ParseMode::parse(value)?;
                k += 4;
                match sep {
                    Token::RParen => return Ok((mode, k)),
                    Token::Comma => continue,
                    _ => return Err(unsupported()),
                }
            }
            _ => return Err(unsupported()),
        }
    }
}

/// Rewrites a query for DataFusion:
/// - `inline(from_json(:p, 'ARRAY<STRUCT<...>>'))` -> `* FROM __inline_N` (the caller registers
///   the decoded rows under that name);
/// - `INTERVAL 30 DAYS` -> `INTERVAL '30 DAYS'`.
/// - `t VERSION AS OF n`, `t TIMESTAMP AS OF '...'`, `t@vN` -> `__tt_N AS t` (the caller
///   registers the table at that version, see [`super::timetravel`]).
pub fn rewrite_query(
    sql: &str,
    counter: &mut usize,
) -> Result<(String, Vec<InlineSource>, Vec<TimeTravel>), SqlError> {
    let toks = tokenize(sql)?;
    let sig: Vec<usize> = (0..toks.len()).filter(|&i| !is_ws(&toks[i])).collect();
    // sig_at[i]: index in `sig` of token i (a lookup, not a scan: statements can have
    // millions of tokens)
    let mut sig_at = vec![0usize; toks.len()];
    for (k, &x) in sig.iter().enumerate() {
        sig_at[x] = k;
    }
    let mut out: Vec<Token> = Vec::with_capacity(toks.len());
    let mut inlines = Vec::new();
    let mut travels = Vec::new();
    let mut positional = 0usize;
    let mut i = 0; // index into toks
    let word = |t: &Token, k: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    while i < toks.len() {
        if is_ws(&toks[i]) {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        let si = sig_at[i];
        let s = |k: usize| sig.get(si + k).map(|&x| &toks[x]);
        if let Some((tt, replacement, last)) = super::timetravel::at(&toks, &sig, si, counter) {
            out.extend(replacement);
            travels.push(tt);
            i = sig[last] + 1;
            continue;
        }
        // inline ( from_json ( :p , 'schema' ) )
        if word(&toks[i], "inline")
            && s(1) == Some(&Token::LParen)
            && s(2).is_some_and(|t| word(t, "from_json"))
            && s(3) == Some(&Token::LParen)
        {
            let (param, literal, next) = match (s(4), s(5)) {
                (Some(Token::Colon), Some(Token::Word(w))) => (Some(w.value.clone()), None, 6),
                (Some(Token::Placeholder(p)), _) => {
                    (Some(p.trim_start_matches([':', '$']).to_string()), None, 5)
                }
                (Some(Token::SingleQuotedString(j)), _) => (None, Some(j.clone()), 5),
                _ => {
                    return Err(SqlError::Unsupported(
                        "inline(from_json(...)) needs a parameter or a string literal".into(),
                    ));
                }
            };
            let schema = match (s(next), s(next + 1)) {
                (Some(Token::Comma), Some(Token::SingleQuotedString(sch))) => sch.clone(),
                _ => {
                    return Err(SqlError::Unsupported(
                        "inline(from_json(<json>, '<schema>')) with a literal schema".into(),
                    ));
                }
            };
            let mut next = next + 2;
            let mut mode = ParseMode::default();
            if s(next) == Some(&Token::Comma) {
                let rest: Vec<&Token> = sig[si + next + 1..].iter().map(|&x| &toks[x]).collect();
                let (m, used) = parse_options(&rest)?;
                mode = m;
                next += 1 + used;
            }
            if (s(next), s(next + 1)) != (Some(&Token::RParen), Some(&Token::RParen)) {
                return Err(SqlError::Unsupported(
                    "inline(from_json(<json>, '<schema>')) with a literal schema".into(),
                ));
            }
            let table = format!("__inline_{}", *counter);
            *counter += 1;
            out.push(Token::Mul);
            out.push(Token::Whitespace(Whitespace::Space));
            out.push(Token::make_keyword("FROM"));
            out.push(Token::Whitespace(Whitespace::Space));
            out.push(Token::make_word(&table, None));
            inlines.push(InlineSource {
                table,
                param,
                literal,
                schema,
                mode,
            });
            i = sig[si + next + 1] + 1;
            continue;
        }
        // CAST(x AS TIMESTAMP): Databricks TIMESTAMP is zoned (TIMESTAMP_LTZ); TIMESTAMP_NTZ is not
        if matches!(sig.get(si.wrapping_sub(1)).map(|&x| &toks[x]), Some(t) if si > 0 && word(t, "AS"))
        {
            if word(&toks[i], "TIMESTAMP") || word(&toks[i], "TIMESTAMP_LTZ") {
                out.push(Token::make_keyword("TIMESTAMP WITH TIME ZONE"));
                i += 1;
                continue;
            }
            if word(&toks[i], "TIMESTAMP_NTZ") {
                out.push(Token::make_keyword("TIMESTAMP"));
                i += 1;
                continue;
            }
        }
        // `?` markers -> `$1`, `$2`, ... (bound from `ordinal`)
        if toks[i] == Token::Placeholder("?".into()) {
            positional += 1;
            out.push(Token::Placeholder(format!("${positional}")));
            i += 1;
            continue;
        }
        // INTERVAL <number> <unit>
        if word(&toks[i], "INTERVAL") {
            if let (Some(Token::Number(n, _)), Some(Token::Word(u))) = (s(1), s(2)) {
                let unit = u.value.to_ascii_uppercase();
                if [
                    "YEAR", "YEARS", "MONTH", "MONTHS", "WEEK", "WEEKS", "DAY", "DAYS", "HOUR",
                    "HOURS", "MINUTE", "MINUTES", "SECOND", "SECONDS",
                ]
                .contains(&unit.as_str())
                {
                    out.push(toks[i].clone());
                    out.push(Token::Whitespace(Whitespace::Space));
                    let singular = unit.trim_end_matches('S');
                    let (n, singular) = match (singular, n.parse::<i64>()) {
                        ("WEEK", Ok(w)) => ((w * 7).to_string(), "DAY"),
                        (u, _) => (n.clone(), u),
                    };
                    out.push(Token::SingleQuotedString(n));
                    out.push(Token::Whitespace(Whitespace::Space));
                    out.push(Token::make_keyword(singular));
                    i = sig[si + 2] + 1;
                    continue;
                }
            }
        }
        out.push(toks[i].clone());
        i += 1;
    }
    Ok((render(&out), inlines, travels))
}

/// Whether an expression text uses a `:name` parameter marker.
pub fn has_placeholder(text: &str) -> bool {
    tokenize(text)
        .map(|t| {
            t.windows(2)
                .any(|w| matches!((&w[0], &w[1]), (Token::Colon, Token::Word(_))))
                || t.iter().any(|x| matches!(x, Token::Placeholder(_)))
        })
        .unwrap_or(false)
}

/// Removes `alias.` qualifiers from an expression text (`t.a = 1` -> `a = 1`).
pub fn strip_qualifier(text: &str, alias: &str) -> String {
    let Ok(toks) = tokenize(text) else {
        return text.to_string();
    };
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        if let Token::Word(w) = &toks[i] {
            if w.value.eq_ignore_ascii_case(alias)
                && toks.get(i + 1) == Some(&Token::Period)
                && (i == 0 || toks[i - 1] != Token::Period)
            {
                i += 2;
                continue;
            }
        }
        out.push(toks[i].clone());
        i += 1;
    }
    render(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_inline_and_intervals() {
        let mut n = 0;
        let (q, inl, _) = rewrite_query("SELECT c0 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT>>'))) AS s WHERE d > current_date() - INTERVAL 30 DAYS", &mut n).unwrap();
        assert_eq!(
            q,
            "SELECT c0 FROM (SELECT * FROM __inline_0) AS s WHERE d > current_date() - INTERVAL '30' DAY"
        );
        assert_eq!(inl[0].param.as_deref(), Some("rows"));
        assert_eq!(
            strip_qualifier("t.`id` = 1 AND t.x > s.y", "t"),
            "`id` = 1 AND x > s.y"
        );
        assert!(has_placeholder("id = :x"));
        assert!(!has_placeholder("id = ':x'"));
        assert_eq!(inl[0].mode, ParseMode::Permissive);
    }

    #[test]
    fn inline_mode_option() {
        let rewrite = |sql: &str| rewrite_query(sql, &mut 0);
        let (q, inl, _) = rewrite(
            "SELECT * FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: INT>>', map('mode', 'FAILFAST')))) AS s",
        )
        .unwrap();
        assert_eq!(q, "SELECT * FROM (SELECT * FROM __inline_0) AS s");
        assert_eq!(inl[0].mode, ParseMode::FailFast);
        assert_eq!(inl[0].schema, "ARRAY<STRUCT<c0: INT>>");
        let (_, inl, _) = rewrite(
            "SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: INT>>', MAP('Mode','permissive')))",
        )
        .unwrap();
        assert_eq!(inl[0].mode, ParseMode::Permissive);
        let (_, inl, _) = rewrite(
            "SELECT inline(from_json('[]', 'ARRAY<STRUCT<c0: INT>>', map('mode','failFast')))",
        )
        .unwrap();
        assert_eq!(inl[0].mode, ParseMode::FailFast);
        let err = rewrite("SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: INT>>', map('mode', 'DROPMALFORMED')))").unwrap_err();
        assert!(
            err.to_string().starts_with("[PARSE_MODE_UNSUPPORTED]"),
            "{err}"
        );
        for bad in [
            "SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: INT>>', map('dateFormat', 'x')))",
            "SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: INT>>', map('mode')))",
            "SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: INT>>', 'FAILFAST'))",
            "SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: INT>>', map('mode', 'FAILFAST'))",
        ] {
            assert!(
                matches!(rewrite(bad), Err(SqlError::Unsupported(_))),
                "{bad}"
            );
        }
    }
}
