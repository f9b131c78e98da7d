//! Tokenizing with the Databricks dialect and rendering tokens back to text.

use deltalake::datafusion::sql::sqlparser::dialect::DatabricksDialect;
use deltalake::datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use crate::engine::error::SqlError;

/// Tokenizes with the Databricks dialect.
pub fn tokenize(sql: &str) -> Result<Vec<Token>, SqlError> {
    Tokenizer::new(&DatabricksDialect {}, sql)
        .tokenize()
        .map_err(|e| {
            let m = e.to_string();
            SqlError::syntax(
                m.split(" at Line")
                    .next()
                    .unwrap_or(&m)
                    .chars()
                    .take(40)
                    .collect::<String>(),
            )
        })
}

/// Renders tokens back to SQL text (comments become a space).
pub fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        match t {
            Token::Whitespace(Whitespace::SingleLineComment { .. })
            | Token::Whitespace(Whitespace::MultiLineComment(_)) => out.push(' '),
            Token::EOF => {}
            // quoted identifiers re-escaped (Token's Display does not double an inner quote)
            Token::Word(w) if w.quote_style.is_some() => {
                let q = w.quote_style.unwrap_or('`');
                let close = if q == '[' { ']' } else { q };
                out.push(q);
                out.push_str(&w.value.replace(close, &format!("{close}{close}")));
                out.push(close);
            }
            // string literals re-escaped (an inner quote doubled; backslashes are kept as written)
            Token::SingleQuotedString(v) | Token::DoubleQuotedString(v) => {
                let q = if matches!(t, Token::SingleQuotedString(_)) {
                    '\''
                } else {
                    '"'
                };
                out.push(q);
                for c in v.chars() {
                    match c {
                        c if c == q => {
                            out.push(q);
                            out.push(q);
                        }
                        c => out.push(c),
                    }
                }
                out.push(q);
            }
            t => out.push_str(&t.to_string()),
        }
    }
    out.trim().to_string()
}
