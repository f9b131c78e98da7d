//! `COPY INTO` parsing: `FROM 'path'` or `FROM (SELECT <expr> [AS alias], ... FROM 'path')`,
//! `FILEFORMAT`, `FORMAT_OPTIONS`, `COPY_OPTIONS`.

use deltalake::datafusion::sql::sqlparser::tokenizer::Token;

use super::{CopyExpr, CopyInto, CopyItem, Cursor, Stmt, is_ws, render};
use crate::engine::error::SqlError;

/// `COPY INTO ...` (the cursor at `COPY`).
pub(super) fn parse_copy(c: &mut Cursor) -> Result<Stmt, SqlError> {
    c.next();
    c.expect_kw("INTO")?;
    let table = c.name()?;
    c.expect_kw("FROM")?;
    let (path, select) = if c.eat(&Token::LParen) {
        c.expect_kw("SELECT")?;
        let mut items = vec![item(c)?];
        while c.eat(&Token::Comma) {
            items.push(item(c)?);
        }
        c.expect_kw("FROM")?;
        let path = c.string()?;
        c.expect(&Token::RParen)?;
        (path, Some(items))
    } else {
        (c.string()?, None)
    };
    c.expect_kw("FILEFORMAT")?;
    c.expect(&Token::Eq)?;
    let format = c.ident()?.to_ascii_uppercase();
    let mut format_options = Vec::new();
    let mut copy_options = Vec::new();
    loop {
        let into = if c.eat_kw("FORMAT_OPTIONS") {
            &mut format_options
        } else if c.eat_kw("COPY_OPTIONS") {
            &mut copy_options
        } else {
            break;
        };
        options(c, into)?;
    }
    c.done()?;
    Ok(Stmt::CopyInto(CopyInto {
        table,
        path,
        select,
        format,
        format_options,
        copy_options,
    }))
}

/// `( 'key' = value, ... )`: keys lowercase, values strings, words or numbers.
fn options(c: &mut Cursor, into: &mut Vec<(String, String)>) -> Result<(), SqlError> {
    c.expect(&Token::LParen)?;
    while !c.eat(&Token::RParen) {
        let k = c.string()?;
        c.expect(&Token::Eq)?;
        let v = match c.peek().cloned() {
            Some(Token::Word(w)) => {
                c.next();
                w.value
            }
            Some(Token::Number(n, _)) => {
                c.next();
                n
            }
            _ => c.string()?,
        };
        into.push((k.to_ascii_lowercase(), v));
        c.eat(&Token::Comma);
        if c.at_end() {
            return Err(SqlError::syntax(""));
        }
    }
    Ok(())
}

/// One select-list item: an expression up to a top-level `,`, `AS` or `FROM`, then its alias.
fn item(c: &mut Cursor) -> Result<CopyItem, SqlError> {
    c.skip_ws();
    let start = c.pos;
    let text = c.span_until(&["AS", "FROM"], true)?;
    let toks: Vec<Token> = c.toks[start..c.pos]
        .iter()
        .filter(|t| !is_ws(t))
        .cloned()
        .collect();
    let alias = if c.eat_kw("AS") {
        Some(c.ident()?)
    } else {
        None
    };
    Ok(CopyItem {
        expr: classify(&toks, &text),
        text,
        alias,
    })
}

/// Recognises the forms loaded exactly (a field, `CAST(field AS type)`, `unbase64(field)`).
fn classify(toks: &[Token], text: &str) -> CopyExpr {
    let word = |t: &Token| match t {
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    };
    let is = |t: &Token, kw: &str| Cursor::is_kw(Some(t), kw);
    match toks {
        [t] => match word(t) {
            Some(f) => CopyExpr::Field(f),
            None => CopyExpr::Other(text.to_string()),
        },
        [f, Token::LParen, field, Token::RParen] if is(f, "unbase64") => match word(field) {
            Some(name) => CopyExpr::Unbase64(name),
            None => CopyExpr::Other(text.to_string()),
        },
        [f, Token::LParen, field, a, ty @ .., Token::RParen]
            if is(f, "CAST") && is(a, "AS") && !ty.is_empty() =>
        {
            match word(field) {
                Some(name) => CopyExpr::Cast(name, render(ty)),
                None => CopyExpr::Other(text.to_string()),
            }
        }
        _ => CopyExpr::Other(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn parses_the_connectors_copy_into() {
        let s = parse("COPY INTO `main`.`default`.`t` FROM (SELECT CAST(c0 AS BIGINT) AS `id`, CAST(c1 AS DECIMAL(12,2)) AS `amount`, c2 AS `name`, unbase64(c3) AS `blob`, upper(c2) FROM '/Volumes/main/default/stage/openmatch-staging/0123abcd/') FILEFORMAT = JSON FORMAT_OPTIONS ('primitivesAsString' = 'true') COPY_OPTIONS ('mergeSchema' = 'false', 'force' = true)").unwrap();
        let Stmt::CopyInto(c) = s else { panic!() };
        assert_eq!(
            c.path,
            "/Volumes/main/default/stage/openmatch-staging/0123abcd/"
        );
        let items = c.select.unwrap();
        assert_eq!(items[0].expr, CopyExpr::Cast("c0".into(), "BIGINT".into()));
        assert_eq!(items[0].alias.as_deref(), Some("id"));
        assert_eq!(
            items[1].expr,
            CopyExpr::Cast("c1".into(), "DECIMAL(12,2)".into())
        );
        assert_eq!(items[2].expr, CopyExpr::Field("c2".into()));
        assert_eq!(items[3].expr, CopyExpr::Unbase64("c3".into()));
        assert_eq!(items[4].expr, CopyExpr::Other("upper(c2)".into()));
        assert_eq!(items[4].alias, None);
        assert_eq!(
            c.format_options,
            vec![("primitivesasstring".to_string(), "true".to_string())]
        );
        assert_eq!(
            c.copy_options,
            vec![
                ("mergeschema".to_string(), "false".to_string()),
                ("force".to_string(), "true".to_string())
            ]
        );
        let s = parse("COPY INTO t FROM '/Volumes/a/b/c/x.csv' FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')").unwrap();
        let Stmt::CopyInto(c) = s else { panic!() };
        assert!(c.select.is_none());
        assert!(parse("COPY INTO t FROM (SELECT c0 FROM '/x') FILEFORMAT").is_err());
    }
}
