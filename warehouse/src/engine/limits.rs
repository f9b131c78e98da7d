//! Limits that keep one statement from taking the server down, checked before anything
//! recursive sees the statement.
//!
//! Parsers, planners and optimizers walk expression and type trees recursively, so a deep
//! enough tree overflows a thread's stack, which aborts the whole process (it is not a
//! panic). [`check_sql`] is a single non-recursive pass over the text that bounds the depth
//! of the expression tree the statement can produce: the nesting of `(`, `[`, `{` and type
//! brackets (`ARRAY<`, `MAP<`, `STRUCT<`), plus the operator chains at every level (`1+1+1`
//! is a tree as deep as it is long). Type texts given outside SQL (parameter types,
//! `from_json` schemas) are bounded by the type parser itself ([`MAX_TYPE_DEPTH`]). Statements
//! also run on threads with [`EXEC_STACK_BYTES`] of stack, so what these limits allow has
//! ample room.

use super::error::SqlError;

/// Deepest expression tree a statement may produce, estimated as the sum along any path of
/// the bracket nesting and of the operators chained at each level.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// Deepest bracket nesting: `(`, `[`, `{` and type brackets together.
pub const MAX_NESTING: usize = 200;

/// Deepest nested type (`ARRAY<ARRAY<...>>`, `STRUCT<a: STRUCT<...>>`).
pub const MAX_TYPE_DEPTH: usize = 32;

/// Stack of the threads that run statements.
pub const EXEC_STACK_BYTES: usize = 256 * 1024 * 1024;

/// `FAILED_TO_PARSE_TOO_COMPLEX` (54001).
pub fn too_complex() -> SqlError {
    SqlError::TooComplex
}

/// Keywords after which a new expression starts (the operator chain restarts).
const RESTART: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "ON",
    "USING",
    "JOIN",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "MINUS",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "VALUES",
    "SET",
    "AS",
    "INTO",
    "QUALIFY",
    "WINDOW",
    "PARTITION",
    "OVER",
    "MATCHED",
];

/// Keywords that combine two expressions.
const BINARY: &[&str] = &[
    "AND", "OR", "NOT", "IS", "LIKE", "ILIKE", "RLIKE", "REGEXP", "IN", "BETWEEN", "DIV", "XOR",
];

/// Frame of one open bracket.
struct Frame {
    /// Depth of the enclosing expression when the bracket opened.
    base: usize,
    /// Operators chained so far in the current item at this level.
    chain: usize,
    /// A type bracket (`<`), closed by `>`.
    angle: bool,
}

/// Checks the shape of a statement without recursion; `Err(TooComplex)` when it is too deep.
pub fn check_sql(sql: &str) -> Result<(), SqlError> {
    let b = sql.as_bytes();
    let mut stack: Vec<Frame> = vec![Frame {
        base: 0,
        chain: 0,
        angle: false,
    }];
    let mut angles = 0usize;
    // the last word, uppercased, when it could open a type bracket
    let mut last_word_is_type = false;
    let mut i = 0;
    let bump = |stack: &mut Vec<Frame>| -> Result<(), SqlError> {
        if let Some(top) = stack.last_mut() {
            top.chain += 1;
            if top.base + top.chain > MAX_EXPR_DEPTH {
                return Err(too_complex());
            }
        }
        Ok(())
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                // quoted text: skip to the closing quote (doubled quotes and backslash escapes)
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && c != b'`' {
                        i += 2;
                        continue;
                    }
                    if b[i] == c {
                        if i + 1 < b.len() && b[i + 1] == c {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                last_word_is_type = false;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'(' | b'[' | b'{' => {
                open(&mut stack, false)?;
            }
            b')' | b']' | b'}' => {
                close(&mut stack, false);
            }
            b'<' if last_word_is_type => {
                open(&mut stack, true)?;
                angles += 1;
            }
            b'>' if angles > 0 && stack.last().is_some_and(|f| f.angle) => {
                close(&mut stack, true);
                angles -= 1;
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.chain = 0;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'|' | b'&' | b'^' | b'=' | b'<' | b'>' | b'!' => {
                // a run like `<=`, `||`, `<>` is one operator
                while i + 1 < b.len() && matches!(b[i + 1], b'=' | b'|' | b'&' | b'>' | b'<') {
                    i += 1;
                }
                bump(&mut stack)?;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = &sql[start..i];
                if BINARY.iter().any(|k| word.eq_ignore_ascii_case(k)) {
                    bump(&mut stack)?;
                } else if RESTART.iter().any(|k| word.eq_ignore_ascii_case(k)) {
                    if let Some(top) = stack.last_mut() {
                        top.chain = 0;
                    }
                }
                last_word_is_type = ["ARRAY", "MAP", "STRUCT"]
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k));
                skip_ws(b, &mut i);
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            last_word_is_type = false;
        }
        i += 1;
    }
    Ok(())
}

fn skip_ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && b[*i].is_ascii_whitespace() {
        *i += 1;
    }
}

fn open(stack: &mut Vec<Frame>, angle: bool) -> Result<(), SqlError> {
    let base = stack.last().map(|f| f.base + f.chain + 1).unwrap_or(1);
    if stack.len() > MAX_NESTING || base > MAX_EXPR_DEPTH {
        return Err(too_complex());
    }
    stack.push(Frame {
        base,
        chain: 0,
        angle,
    });
    Ok(())
}

fn close(stack: &mut Vec<Frame>, angle: bool) {
    // an unbalanced closer is the parser's business, never ours to crash on
    if stack.len() > 1 && stack.last().is_some_and(|f| f.angle == angle) {
        stack.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> String {
        format!("SELECT {}", vec!["1"; n].join(" + "))
    }

    #[test]
    fn shallow_statements_pass() {
        for ok in [
            "SELECT 1".to_string(),
            chain(500),
            "SELECT CAST(NULL AS ARRAY<MAP<STRING, STRUCT<a: INT>>>) WHERE 1 < 2 AND 3 > 2".into(),
            format!("SELECT {}1{}", "(".repeat(100), ")".repeat(100)),
            format!(
                "SELECT * FROM t WHERE a IN ({})",
                vec!["1"; 100_000].join(", ")
            ),
            "SELECT '((((((((((((' AS s -- ((((((((\n".into(),
            format!("SELECT '{}' AS s", "(".repeat(100_000)),
        ] {
            assert!(check_sql(&ok).is_ok(), "{}", &ok[..ok.len().min(80)]);
        }
    }

    #[test]
    fn deep_statements_are_refused() {
        for bad in [
            chain(3000),
            format!("SELECT {}1{}", "(".repeat(300), ")".repeat(300)),
            format!(
                "SELECT CAST(NULL AS {}INT{})",
                "ARRAY<".repeat(2000),
                ">".repeat(2000)
            ),
            format!("SELECT {}", vec!["a = 1"; 600].join(" OR ")),
            // chains at every level add up
            format!(
                "SELECT {}1{}",
                "(1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + ".repeat(150),
                ")".repeat(150)
            ),
        ] {
            assert!(
                matches!(check_sql(&bad), Err(SqlError::TooComplex)),
                "{}",
                &bad[..80]
            );
        }
    }
}
