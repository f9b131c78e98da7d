//! Statement classification and small hand parsers for the Databricks statements DataFusion does
//! not plan: DDL, INSERT/MERGE/UPDATE/DELETE (executed with delta-rs), maintenance, COPY INTO.
//! Queries are handed to DataFusion as text after two token-level rewrites (see [`rewrite_query`]).
//!
//! Everything works on sqlparser tokens (Databricks dialect), so quoting, backticks and comments
//! are handled once; expression texts are re-rendered from tokens for delta-rs / DataFusion.

use deltalake::datafusion::sql::sqlparser::tokenizer::Token;

use super::error::SqlError;

mod ast;
mod copy;
mod tokens;

pub use ast::*;
pub use tokens::{render, tokenize};

/// What nests inside a span of tokens.
#[derive(Clone, Copy)]
enum Nesting {
    /// An expression: `(...)` and `[...]` nest; `<` and `>` compare.
    Expr,
    /// A column type: `(...)` and `<...>` nest.
    Type,
}

struct Cursor {
    toks: Vec<Token>,
    pos: usize,
}

pub(crate) fn is_ws(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn near(t: Option<&Token>) -> SqlError {
    match t {
        None | Some(Token::EOF) => SqlError::syntax(""),
        Some(t) => SqlError::syntax(t.to_string()),
    }
}

impl Cursor {
    fn new(mut toks: Vec<Token>) -> Cursor {
        // drop a trailing semicolon
        while matches!(toks.last(), Some(t) if is_ws(t) || *t == Token::SemiColon || *t == Token::EOF)
        {
            toks.pop();
        }
        Cursor { toks, pos: 0 }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.toks.len() && is_ws(&self.toks[self.pos]) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<&Token> {
        self.skip_ws();
        self.toks.get(self.pos)
    }

    fn peek_nth(&self, n: usize) -> Option<&Token> {
        self.toks[self.pos..].iter().filter(|t| !is_ws(t)).nth(n)
    }

    fn next(&mut self) -> Option<Token> {
        self.skip_ws();
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    fn is_kw(t: Option<&Token>, kw: &str) -> bool {
        matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
    }

    fn peek_kw(&mut self, kw: &str) -> bool {
        let t = self.peek().cloned();
        Self::is_kw(t.as_ref(), kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let save = self.pos;
        for k in kws {
            if !self.eat_kw(k) {
                self.pos = save;
                return false;
            }
        }
        true
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(near(self.peek()))
        }
    }

    fn eat(&mut self, tok: &Token) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Token) -> Result<(), SqlError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(near(self.peek()))
        }
    }

    fn ident(&mut self) -> Result<String, SqlError> {
        match self.peek().cloned() {
            Some(Token::Word(w)) => {
                self.pos += 1;
                Ok(w.value)
            }
            t => Err(near(t.as_ref())),
        }
    }

    fn name(&mut self) -> Result<Name, SqlError> {
        let mut parts = vec![self.ident()?];
        while self.peek() == Some(&Token::Period) {
            self.pos += 1;
            parts.push(self.ident()?);
        }
        if parts.len() > 3 {
            return Err(SqlError::syntax("."));
        }
        Ok(Name(parts))
    }

    fn string(&mut self) -> Result<String, SqlError> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => {
                self.pos += 1;
                Ok(s)
            }
            t => Err(near(t.as_ref())),
        }
    }

    fn number(&mut self) -> Result<f64, SqlError> {
        match self.peek().cloned() {
            Some(Token::Number(n, _)) => {
                self.pos += 1;
                n.parse().map_err(|_| SqlError::syntax(n))
            }
            t => Err(near(t.as_ref())),
        }
    }

    /// An optional alias: `[AS] ident` unless the next word is one of `stop`.
    fn alias(&mut self, stop: &[&str]) -> Result<Option<String>, SqlError> {
        if self.eat_kw("AS") {
            return Ok(Some(self.ident()?));
        }
        match self.peek().cloned() {
            Some(Token::Word(w))
                if w.quote_style.is_some()
                    || !stop.iter().any(|s| w.value.eq_ignore_ascii_case(s)) =>
            {
                self.pos += 1;
                Ok(Some(w.value))
            }
            _ => Ok(None),
        }
    }

    /// Tokens from here up to (not including) a top-level stop keyword or token; returns the text.
    fn span_until(&mut self, stop_kws: &[&str], stop_comma: bool) -> Result<String, SqlError> {
        self.span(Nesting::Expr, stop_kws, stop_comma)
    }

    /// A column type text: up to a top-level `,` / `)` or one of `stop_kws`, with `<...>` nesting.
    fn type_span(&mut self, stop_kws: &[&str]) -> Result<String, SqlError> {
        self.span(Nesting::Type, stop_kws, true)
    }

    /// The text from here up to a top-level `)` (or `]` in an expression), a top-level `,` when
    /// `stop_comma`, or a top-level unquoted keyword of `stop_kws`; an empty span is an error.
    fn span(
        &mut self,
        nesting: Nesting,
        stop_kws: &[&str],
        stop_comma: bool,
    ) -> Result<String, SqlError> {
        let start = self.pos;
        // Open `(` (and `[` in an expression) and open `<` (in a type).
        let (mut depth, mut angle) = (0i32, 0i32);
        while self.pos < self.toks.len() {
            let top = depth == 0 && angle == 0;
            match (&self.toks[self.pos], nesting) {
                (Token::LParen, _) | (Token::LBracket, Nesting::Expr) => depth += 1,
                (Token::RParen, _) | (Token::RBracket, Nesting::Expr) => {
                    if top {
                        break;
                    }
                    depth -= 1
                }
                (Token::Lt, Nesting::Type) => angle += 1,
                (Token::Gt, Nesting::Type) => angle -= 1,
                (Token::ShiftRight, Nesting::Type) => angle -= 2,
                (Token::Comma, _) if top && stop_comma => break,
                (Token::Word(w), _)
                    if top
                        && w.quote_style.is_none()
                        && stop_kws.iter().any(|k| w.value.eq_ignore_ascii_case(k)) =>
                {
                    break;
                }
                _ => {}
            }
            self.pos += 1;
        }
        let text = render(&self.toks[start..self.pos]);
        if text.is_empty() {
            return Err(near(self.peek()));
        }
        Ok(text)
    }

    /// A parenthesised, comma-separated list of identifiers.
    fn ident_list(&mut self) -> Result<Vec<String>, SqlError> {
        self.expect(&Token::LParen)?;
        let mut out = vec![self.column_ref()?];
        while self.eat(&Token::Comma) {
            out.push(self.column_ref()?);
        }
        self.expect(&Token::RParen)?;
        Ok(out)
    }

    /// `a`, `t.a` -> `a` (last part).
    fn column_ref(&mut self) -> Result<String, SqlError> {
        let n = self.name()?;
        Ok(n.0.last().cloned().unwrap_or_default())
    }

    fn rest(&mut self) -> String {
        let text = render(&self.toks[self.pos..]);
        self.pos = self.toks.len();
        text
    }

    fn done(&mut self) -> Result<(), SqlError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(near(self.peek()))
        }
    }
}

/// Classifies and parses one statement.
pub fn parse(sql: &str) -> Result<Stmt, SqlError> {
    let toks = tokenize(sql)?;
    let mut c = Cursor::new(toks);
    let first = match c.peek().cloned() {
        Some(Token::Word(w)) => w.value.to_ascii_uppercase(),
        Some(Token::LParen) => "(".into(),
        t => return Err(near(t.as_ref())),
    };
    match first.as_str() {
        "SELECT" | "WITH" | "VALUES" | "(" | "FROM" | "TABLE" => Ok(Stmt::Query(c.rest())),
        "EXPLAIN" => {
            c.next();
            for modifier in ["EXTENDED", "FORMATTED", "COST", "CODEGEN"] {
                if c.eat_kw(modifier) {
                    break;
                }
            }
            match c.peek() {
                Some(Token::Word(w))
                    if ["SELECT", "WITH", "VALUES", "FROM", "TABLE"]
                        .iter()
                        .any(|k| w.value.eq_ignore_ascii_case(k)) =>
                {
                    Ok(Stmt::Explain(c.rest()))
                }
                Some(Token::LParen) => Ok(Stmt::Explain(c.rest())),
                t => Err(SqlError::Unsupported(format!(
                    "EXPLAIN of anything but a query (near {})",
                    t.map(|t| t.to_string())
                        .unwrap_or_else(|| "end of input".into())
                ))),
            }
        }
        "INSERT" => parse_insert(&mut c),
        "MERGE" => parse_merge(&mut c),
        "UPDATE" => parse_update(&mut c),
        "DELETE" => parse_delete(&mut c),
        "CREATE" => parse_create(&mut c),
        "DROP" => parse_drop(&mut c),
        "USE" => {
            c.next();
            let kind = if c.eat_kw("CATALOG") {
                Some("CATALOG".to_string())
            } else if c.eat_kw("SCHEMA") || c.eat_kw("DATABASE") {
                Some("SCHEMA".to_string())
            } else {
                None
            };
            let name = c.name()?;
            c.done()?;
            Ok(Stmt::Use { kind, name })
        }
        "OPTIMIZE" => {
            c.next();
            let table = c.name()?;
            let predicate = if c.eat_kw("WHERE") {
                Some(c.span_until(&["ZORDER"], false)?)
            } else {
                None
            };
            let zorder = if c.eat_kws(&["ZORDER", "BY"]) {
                if c.peek() == Some(&Token::LParen) {
                    c.ident_list()?
                } else {
                    vec![c.column_ref()?]
                }
            } else {
                vec![]
            };
            c.done()?;
            Ok(Stmt::Optimize {
                table,
                predicate,
                zorder,
            })
        }
        "VACUUM" => {
            c.next();
            let table = c.name()?;
            let mut retain_hours = None;
            let mut dry_run = false;
            if c.eat_kw("RETAIN") {
                retain_hours = Some(c.number()?);
                c.expect_kw("HOURS")?;
            }
            if c.eat_kws(&["DRY", "RUN"]) {
                dry_run = true;
            }
            c.done()?;
            Ok(Stmt::Vacuum {
                table,
                retain_hours,
                dry_run,
            })
        }
        "DESCRIBE" | "DESC" => {
            c.next();
            if c.eat_kw("HISTORY") {
                let table = c.name()?;
                let limit = if c.eat_kw("LIMIT") {
                    Some(c.number()? as usize)
                } else {
                    None
                };
                c.done()?;
                return Ok(Stmt::DescribeHistory { table, limit });
            }
            c.eat_kw("TABLE");
            c.eat_kw("EXTENDED");
            let table = c.name()?;
            c.done()?;
            Ok(Stmt::DescribeTable { table })
        }
        "SHOW" => {
            c.next();
            if c.eat_kw("TABLES") {
                let schema = if c.eat_kw("IN") || c.eat_kw("FROM") {
                    Some(c.name()?)
                } else {
                    None
                };
                let like = if c.eat_kw("LIKE") {
                    Some(c.string()?)
                } else if matches!(c.peek(), Some(Token::SingleQuotedString(_))) {
                    Some(c.string()?)
                } else {
                    None
                };
                c.done()?;
                Ok(Stmt::ShowTables { schema, like })
            } else if c.eat_kw("SCHEMAS") || c.eat_kw("DATABASES") {
                let catalog = if c.eat_kw("IN") || c.eat_kw("FROM") {
                    Some(c.ident()?)
                } else {
                    None
                };
                Ok(Stmt::ShowSchemas { catalog })
            } else if c.eat_kw("CATALOGS") {
                Ok(Stmt::ShowCatalogs)
            } else {
                Err(near(c.peek()))
            }
        }
        "COPY" => copy::parse_copy(&mut c),
        _ => Err(near(c.peek())),
    }
}

fn parse_insert(c: &mut Cursor) -> Result<Stmt, SqlError> {
    c.next();
    let overwrite = if c.eat_kw("OVERWRITE") {
        true
    } else {
        c.expect_kw("INTO")?;
        false
    };
    c.eat_kw("TABLE");
    let table = c.name()?;
    // `(cols)` vs `(SELECT ...)`
    let columns = if c.peek() == Some(&Token::LParen)
        && !Cursor::is_kw(c.peek_nth(1), "SELECT")
        && !Cursor::is_kw(c.peek_nth(1), "WITH")
        && !Cursor::is_kw(c.peek_nth(1), "VALUES")
    {
        Some(c.ident_list()?)
    } else {
        None
    };
    let source = c.rest();
    if source.is_empty() {
        return Err(SqlError::syntax(""));
    }
    Ok(Stmt::Insert {
        table,
        overwrite,
        columns,
        source,
    })
}

const CLAUSE_STOP: &[&str] = &["WHEN", "WHERE"];

fn assignments(c: &mut Cursor, stop: &[&str]) -> Result<Vec<(String, String)>, SqlError> {
    let mut out = Vec::new();
    loop {
        let col = c.column_ref()?;
        c.expect(&Token::Eq)?;
        let expr = c.span_until(stop, true)?;
        out.push((col, expr));
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    Ok(out)
}

fn parse_merge(c: &mut Cursor) -> Result<Stmt, SqlError> {
    c.next();
    c.expect_kw("INTO")?;
    let target = c.name()?;
    let target_alias = c.alias(&["USING"])?;
    c.expect_kw("USING")?;
    let source = if c.peek() == Some(&Token::LParen) {
        c.next();
        let q = c.span_until(&[], false)?;
        c.expect(&Token::RParen)?;
        MergeSource::Query(q)
    } else {
        MergeSource::Table(c.name()?)
    };
    let source_alias = c.alias(&["ON"])?;
    c.expect_kw("ON")?;
    let on = c.span_until(&["WHEN"], false)?;
    let mut clauses = Vec::new();
    while c.eat_kw("WHEN") {
        let kind = if c.eat_kw("MATCHED") {
            MatchKind::Matched
        } else {
            c.expect_kw("NOT")?;
            c.expect_kw("MATCHED")?;
            if c.eat_kws(&["BY", "SOURCE"]) {
                MatchKind::NotMatchedBySource
            } else {
                c.eat_kws(&["BY", "TARGET"]);
                MatchKind::NotMatched
            }
        };
        let predicate = if c.eat_kw("AND") {
            Some(c.span_until(&["THEN"], false)?)
        } else {
            None
        };
        c.expect_kw("THEN")?;
        let action = if c.eat_kw("UPDATE") {
            c.expect_kw("SET")?;
            if c.eat(&Token::Mul) {
                MergeAction::UpdateStar
            } else {
                MergeAction::Update(assignments(c, CLAUSE_STOP)?)
            }
        } else if c.eat_kw("DELETE") {
            MergeAction::Delete
        } else if c.eat_kw("INSERT") {
            if c.eat(&Token::Mul) {
                MergeAction::InsertStar
            } else {
                let cols = c.ident_list()?;
                c.expect_kw("VALUES")?;
                c.expect(&Token::LParen)?;
                let mut vals = vec![c.span_until(&[], true)?];
                while c.eat(&Token::Comma) {
                    vals.push(c.span_until(&[], true)?);
                }
                c.expect(&Token::RParen)?;
                if cols.len() != vals.len() {
                    return Err(SqlError::analysis(
                        "DELTA_MERGE_INSERT_COLUMN_COUNT_MISMATCH",
                        "The number of columns and values in the INSERT clause of MERGE do not match.",
                        "42802",
                    ));
                }
                MergeAction::Insert(cols, vals)
            }
        } else {
            return Err(near(c.peek()));
        };
        clauses.push(MergeClause {
            kind,
            predicate,
            action,
        });
    }
    c.done()?;
    if clauses.is_empty() {
        return Err(SqlError::syntax(""));
    }
    Ok(Stmt::Merge(Merge {
        target,
        target_alias,
        source,
        source_alias,
        on,
        clauses,
    }))
}

fn parse_update(c: &mut Cursor) -> Result<Stmt, SqlError> {
    c.next();
    let table = c.name()?;
    let alias = c.alias(&["SET"])?;
    c.expect_kw("SET")?;
    let assignments = assignments(c, &["WHERE"])?;
    let predicate = if c.eat_kw("WHERE") {
        Some(c.span_until(&[], false)?)
    } else {
        None
    };
    c.done()?;
    Ok(Stmt::Update {
        table,
        alias,
        assignments,
        predicate,
    })
}

fn parse_delete(c: &mut Cursor) -> Result<Stmt, SqlError> {
    c.next();
    c.expect_kw("FROM")?;
    let table = c.name()?;
    let alias = c.alias(&["WHERE"])?;
    let predicate = if c.eat_kw("WHERE") {
        Some(c.span_until(&[], false)?)
    } else {
        None
    };
    c.done()?;
    Ok(Stmt::Delete {
        table,
        alias,
        predicate,
    })
}

fn parse_create(c: &mut Cursor) -> Result<Stmt, SqlError> {
    c.next();
    let or_replace = c.eat_kws(&["OR", "REPLACE"]);
    if c.eat_kw("CATALOG") {
        let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = c.ident()?;
        skip_comment(c)?;
        c.done()?;
        return Ok(Stmt::CreateCatalog {
            name,
            if_not_exists,
        });
    }
    if c.eat_kw("SCHEMA") || c.eat_kw("DATABASE") {
        let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = c.name()?;
        skip_comment(c)?;
        c.done()?;
        return Ok(Stmt::CreateSchema {
            name,
            if_not_exists,
        });
    }
    if c.eat_kw("VOLUME") {
        let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = c.name()?;
        if c.peek_kw("LOCATION") {
            return Err(SqlError::Unsupported(
                "CREATE VOLUME ... LOCATION (external volumes)".into(),
            ));
        }
        skip_comment(c)?;
        c.done()?;
        return Ok(Stmt::CreateVolume {
            name,
            if_not_exists,
        });
    }
    if c.eat_kws(&["EXTERNAL", "VOLUME"]) {
        return Err(SqlError::Unsupported(
            "CREATE EXTERNAL VOLUME (external volumes)".into(),
        ));
    }
    c.eat_kw("EXTERNAL");
    c.expect_kw("TABLE")?;
    let if_not_exists = c.eat_kws(&["IF", "NOT", "EXISTS"]);
    let name = c.name()?;
    let mut columns = Vec::new();
    if c.eat(&Token::LParen) {
        loop {
            let col = c.ident()?;
            // type text up to a top-level comma / NOT / COMMENT / ')'
            let type_text = c.type_span(&["NOT", "COMMENT", "GENERATED", "DEFAULT"])?;
            let mut not_null = false;
            let mut comment = None;
            loop {
                if c.eat_kws(&["NOT", "NULL"]) {
                    not_null = true;
                } else if c.eat_kw("COMMENT") {
                    comment = Some(c.string()?);
                } else {
                    break;
                }
            }
            columns.push(ColumnDef {
                name: col,
                type_text,
                not_null,
                comment,
            });
            if c.eat(&Token::Comma) {
                continue;
            }
            c.expect(&Token::RParen)?;
            break;
        }
    }
    let mut partitioned_by = Vec::new();
    let mut as_query = None;
    loop {
        if c.eat_kw("USING") {
            let fmt = c.ident()?;
            if !fmt.eq_ignore_ascii_case("DELTA") {
                return Err(SqlError::Unsupported(format!(
                    "table format {fmt} (only DELTA)"
                )));
            }
        } else if c.eat_kws(&["PARTITIONED", "BY"]) || c.eat_kws(&["CLUSTER", "BY"]) {
            partitioned_by = c.ident_list()?;
        } else if c.eat_kw("COMMENT") {
            c.string()?;
        } else if c.eat_kw("TBLPROPERTIES") || c.eat_kw("OPTIONS") {
            c.expect(&Token::LParen)?;
            c.span_until(&[], false)?;
            c.expect(&Token::RParen)?;
        } else if c.eat_kw("LOCATION") {
            return Err(SqlError::Unsupported(
                "CREATE TABLE ... LOCATION (external tables)".into(),
            ));
        } else if c.eat_kw("AS") {
            as_query = Some(c.rest());
        } else {
            break;
        }
    }
    c.done()?;
    if columns.is_empty() && as_query.is_none() {
        return Err(SqlError::syntax(""));
    }
    Ok(Stmt::CreateTable(CreateTable {
        name,
        if_not_exists,
        or_replace,
        columns,
        partitioned_by,
        as_query,
    }))
}

fn skip_comment(c: &mut Cursor) -> Result<(), SqlError> {
    if c.eat_kw("COMMENT") {
        c.string()?;
    }
    Ok(())
}

fn parse_drop(c: &mut Cursor) -> Result<Stmt, SqlError> {
    c.next();
    if c.eat_kw("TABLE") {
        let if_exists = c.eat_kws(&["IF", "EXISTS"]);
        let name = c.name()?;
        c.done()?;
        return Ok(Stmt::DropTable { name, if_exists });
    }
    if c.eat_kw("VOLUME") {
        let if_exists = c.eat_kws(&["IF", "EXISTS"]);
        let name = c.name()?;
        c.done()?;
        return Ok(Stmt::DropVolume { name, if_exists });
    }
    if c.eat_kw("SCHEMA") || c.eat_kw("DATABASE") {
        let if_exists = c.eat_kws(&["IF", "EXISTS"]);
        let name = c.name()?;
        let cascade = c.eat_kw("CASCADE");
        c.eat_kw("RESTRICT");
        c.done()?;
        return Ok(Stmt::DropSchema {
            name,
            if_exists,
            cascade,
        });
    }
    Err(near(c.peek()))
}

#[cfg(test)]
mod tests;
