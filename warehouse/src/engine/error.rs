//! Statement failures with Databricks error classes and SQLSTATEs.

use deltalake::DeltaTableError;
use deltalake::datafusion::error::DataFusionError;

/// Why a statement failed. `Display` is the Databricks message, `[CLASS] ... SQLSTATE: nnnnn`.
#[derive(Debug, thiserror::Error, Clone)]
pub enum SqlError {
    /// `PARSE_SYNTAX_ERROR` (42601).
    #[error("[PARSE_SYNTAX_ERROR] Syntax error at or near {near}. SQLSTATE: 42601")]
    Syntax {
        /// The offending token, quoted, or `end of input`.
        near: String,
    },
    /// `TABLE_OR_VIEW_NOT_FOUND` (42P01).
    #[error(
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view {name} cannot be found. Verify the spelling and correctness of the schema and catalog.\nIf you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS. SQLSTATE: 42P01"
    )]
    TableNotFound {
        /// Backquoted name as written.
        name: String,
    },
    /// `SCHEMA_NOT_FOUND` (42704).
    #[error(
        "[SCHEMA_NOT_FOUND] The schema {name} cannot be found. Verify the spelling and correctness of the schema and catalog.\nIf you did not qualify the name with a catalog, verify the current_schema() output, or qualify the name with the correct catalog.\nTo tolerate the error on drop use DROP SCHEMA IF EXISTS. SQLSTATE: 42704"
    )]
    SchemaNotFound {
        /// Backquoted `catalog`.`schema`.
        name: String,
    },
    /// `NO_SUCH_CATALOG_EXCEPTION` (42704).
    #[error(
        "[NO_SUCH_CATALOG_EXCEPTION] Catalog '{name}' was not found. Please verify the catalog name and then retry the query or command again. SQLSTATE: 42704"
    )]
    CatalogNotFound {
        /// Catalog name.
        name: String,
    },
    /// `UNRESOLVED_COLUMN.WITH_SUGGESTION` (42703).
    #[error(
        "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name {name} cannot be resolved. Did you mean one of the following? [{suggestions}]. SQLSTATE: 42703"
    )]
    UnresolvedColumn {
        /// Backquoted column name.
        name: String,
        /// Backquoted candidates.
        suggestions: String,
    },
    /// `INSUFFICIENT_PERMISSIONS` (42501).
    #[error(
        "[INSUFFICIENT_PERMISSIONS] Insufficient privileges:\nUser does not have {privilege} on {kind} '{securable}'. SQLSTATE: 42501"
    )]
    Permission {
        /// `SELECT`, `MODIFY`, `CREATE CATALOG`...
        privilege: String,
        /// `Table`, `Schema`, `Catalog`, `Volume`.
        kind: String,
        /// Full name.
        securable: String,
    },
    /// `TABLE_OR_VIEW_ALREADY_EXISTS` (42P07).
    #[error(
        "[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table or view {name} because it already exists.\nChoose a different name, drop the existing object, add the IF NOT EXISTS clause to tolerate pre-existing objects, add the OR REPLACE clause to replace the existing materialized view, or add the OR REFRESH clause to refresh the existing streaming table. SQLSTATE: 42P07"
    )]
    TableExists {
        /// Backquoted name.
        name: String,
    },
    /// `SCHEMA_ALREADY_EXISTS` (42P06).
    #[error(
        "[SCHEMA_ALREADY_EXISTS] Cannot create schema {name} because it already exists.\nChoose a different name, drop the existing schema, or add the IF NOT EXISTS clause to tolerate pre-existing schema. SQLSTATE: 42P06"
    )]
    SchemaExists {
        /// Backquoted name.
        name: String,
    },
    /// `CATALOG_ALREADY_EXISTS` (42P04).
    #[error(
        "[CATALOG_ALREADY_EXISTS] Cannot create catalog {name} because it already exists. Choose a different name, drop the existing catalog, or add the IF NOT EXISTS clause to tolerate pre-existing catalog. SQLSTATE: 42P04"
    )]
    CatalogExists {
        /// Backquoted name.
        name: String,
    },
    /// `VOLUME_ALREADY_EXISTS` (42000).
    #[error(
        "[VOLUME_ALREADY_EXISTS] Cannot create volume {name} because it already exists.\nChoose a different name, drop the existing volume, or add the IF NOT EXISTS clause to tolerate a pre-existing volume. SQLSTATE: 42000"
    )]
    VolumeExists {
        /// Backquoted name.
        name: String,
    },
    /// `VOLUME_NOT_FOUND` (42704): the volume of a statement or path does not exist.
    #[error(
        "[VOLUME_NOT_FOUND] The volume {name} cannot be found. Verify the spelling and correctness of the schema and catalog, or create it with CREATE VOLUME.\nTo tolerate the error on drop use DROP VOLUME IF EXISTS. SQLSTATE: 42704"
    )]
    VolumeNotFound {
        /// Backquoted name.
        name: String,
    },
    /// `UNBOUND_SQL_PARAMETER` (42P02).
    #[error(
        "[UNBOUND_SQL_PARAMETER] Found the unbound parameter: {name}. Please, fix `args` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as `map()`, `array()`, `struct()`. SQLSTATE: 42P02"
    )]
    UnboundParameter {
        /// Parameter name.
        name: String,
    },
    /// `INVALID_PARAMETER_VALUE` / bad typed parameter (22018 cast failure).
    #[error(
        "[CAST_INVALID_INPUT] The value '{value}' of the type \"STRING\" cannot be cast to \"{target}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
    )]
    CastInvalidInput {
        /// The value text.
        value: String,
        /// The target type.
        target: String,
    },
    /// `DELTA_VACUUM_RETENTION_PERIOD_TOO_SHORT`-style refusal (22023... Databricks prints it as
    /// `DELTA_ILLEGAL_USAGE`-like text; see README).
    #[error(
        "[DELTA_VACUUM_RETENTION_PERIOD_TOO_SHORT] Are you sure you would like to vacuum files with such a low retention period? If you have writers that are currently writing to this table, there is a risk that you may corrupt the state of your Delta table.\nIf you are certain that there are no operations being performed on this table, such as insert/upsert/delete/optimize, then you may turn off this check by setting:\nspark.databricks.delta.retentionDurationCheck.enabled = false\nIf you are not sure, please use a value not less than \"168 hours\". SQLSTATE: 22023"
    )]
    RetentionTooShort,
    /// A concurrent commit won (retryable).
    #[error("[{class}] {detail} SQLSTATE: 2D521")]
    Concurrent {
        /// `DELTA_CONCURRENT_APPEND`, `DELTA_CONCURRENT_DELETE_READ`...
        class: String,
        /// Detail text.
        detail: String,
    },
    /// The statement was canceled.
    #[error("[OPERATION_CANCELED] The statement was canceled. SQLSTATE: HY008")]
    Canceled,
    /// Result larger than the INLINE limit.
    #[error(
        "[INLINE_RESULT_TOO_LARGE] The result of this statement is larger than 25 MiB, the limit of the INLINE disposition. Use disposition EXTERNAL_LINKS or set row_limit/byte_limit. SQLSTATE: 54000"
    )]
    InlineTooLarge,
    /// Feature not supported by this warehouse.
    #[error("[UNSUPPORTED_FEATURE] The feature is not supported: {0}. SQLSTATE: 0A000")]
    Unsupported(String),
    /// Any other analysis error (class 42).
    #[error("[{class}] {detail} SQLSTATE: {state}")]
    Analysis {
        /// Error class.
        class: String,
        /// Detail text.
        detail: String,
        /// SQLSTATE.
        state: String,
    },
    /// Execution error (data, I/O).
    #[error("[INTERNAL_ERROR] {0} SQLSTATE: XX000")]
    Internal(String),
    /// `INVALID_SCHEMA_OR_RELATION_NAME` (42602): a catalog, schema, table or volume name
    /// breaks the naming rules (see [`crate::names`]).
    #[error(
        "[INVALID_SCHEMA_OR_RELATION_NAME] `{name}` is not a valid {kind} name. Names have 1 to 255 characters and contain no period, space, slash, backslash, control character or look-alike of these. SQLSTATE: 42602"
    )]
    InvalidName {
        /// `catalog`, `schema`, `table` or `volume`.
        kind: &'static str,
        /// The name, control characters escaped.
        name: String,
    },
    /// `FAILED_TO_PARSE_TOO_COMPLEX` (54001): nested or chained too deeply to be parsed and
    /// planned safely (see [`super::limits`]).
    #[error(
        "[FAILED_TO_PARSE_TOO_COMPLEX] The statement, including potential SQL functions and referenced views, was too complex to parse. To mitigate this error divide the statement into multiple, less complex chunks. SQLSTATE: 54001"
    )]
    TooComplex,
    /// The statement needed more memory than its limit (`Config::statement_memory_bytes`).
    #[error(
        "[RESOURCE_EXHAUSTED] The statement exceeded the per-statement memory limit of this warehouse: {detail} SQLSTATE: 53200"
    )]
    ResourceExhausted {
        /// What ran out.
        detail: String,
    },
    /// The rendered result is larger than the warehouse keeps (`Config::max_result_bytes`).
    #[error(
        "[RESULT_SIZE_LIMIT_EXCEEDED] The result of this statement is larger than {limit} bytes, the result size limit of this warehouse. Set row_limit or byte_limit, or select less. SQLSTATE: 54000"
    )]
    ResultTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A location resolved outside the data directory (a symlink...).
    #[error(
        "[INVALID_PARAMETER_VALUE.LOCATION] The location of this object is outside the data directory of the warehouse. SQLSTATE: 22023"
    )]
    OutsideDataDir,
}

impl From<crate::names::NameError> for SqlError {
    fn from(e: crate::names::NameError) -> SqlError {
        match e {
            crate::names::NameError::Invalid { kind, name } => SqlError::InvalidName {
                kind: kind.as_str(),
                name,
            },
            crate::names::NameError::Outside(_) => SqlError::OutsideDataDir,
        }
    }
}

impl SqlError {
    /// The SQLSTATE of this error.
    pub fn sql_state(&self) -> &str {
        match self {
            SqlError::Syntax { .. } => "42601",
            SqlError::TableNotFound { .. } => "42P01",
            SqlError::SchemaNotFound { .. } | SqlError::CatalogNotFound { .. } => "42704",
            SqlError::UnresolvedColumn { .. } => "42703",
            SqlError::Permission { .. } => "42501",
            SqlError::TableExists { .. } => "42P07",
            SqlError::SchemaExists { .. } => "42P06",
            SqlError::CatalogExists { .. } => "42P04",
            SqlError::VolumeExists { .. } => "42000",
            SqlError::VolumeNotFound { .. } => "42704",
            SqlError::UnboundParameter { .. } => "42P02",
            SqlError::CastInvalidInput { .. } => "22018",
            SqlError::RetentionTooShort => "22023",
            SqlError::Concurrent { .. } => "2D521",
            SqlError::Canceled => "HY008",
            SqlError::InlineTooLarge => "54000",
            SqlError::Unsupported(_) => "0A000",
            SqlError::Analysis { state, .. } => state,
            SqlError::Internal(_) => "XX000",
            SqlError::InvalidName { .. } => "42602",
            SqlError::TooComplex => "54001",
            SqlError::ResourceExhausted { .. } => "53200",
            SqlError::ResultTooLarge { .. } => "54000",
            SqlError::OutsideDataDir => "22023",
        }
    }

    /// `status.error.error_code` of a FAILED statement.
    pub fn error_code(&self) -> &'static str {
        match self {
            SqlError::Canceled => "CANCELLED",
            SqlError::Internal(_) => "INTERNAL_ERROR",
            SqlError::ResourceExhausted { .. } => "RESOURCE_EXHAUSTED",
            SqlError::Concurrent { .. } => "ABORTED",
            _ => "BAD_REQUEST",
        }
    }

    /// `UNRESOLVED_COLUMN` for the column `name`, suggesting the columns `candidates`.
    pub(crate) fn unresolved_column<'a>(
        name: &str,
        candidates: impl Iterator<Item = &'a String>,
    ) -> SqlError {
        SqlError::UnresolvedColumn {
            name: format!("`{name}`"),
            suggestions: candidates
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Shorthand for a syntax error near `near` (quoted).
    pub fn syntax(near: impl AsRef<str>) -> SqlError {
        let near = near.as_ref();
        if near.is_empty() {
            SqlError::Syntax {
                near: "end of input".into(),
            }
        } else {
            SqlError::Syntax {
                near: format!("'{near}'"),
            }
        }
    }

    /// Shorthand for an analysis error.
    pub fn analysis(class: &str, detail: impl Into<String>, state: &str) -> SqlError {
        SqlError::Analysis {
            class: class.into(),
            detail: detail.into(),
            state: state.into(),
        }
    }
}

/// Backquotes each part: `a`.`b`.
pub fn quote_name(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(".")
}

impl From<DataFusionError> for SqlError {
    fn from(e: DataFusionError) -> Self {
        from_datafusion(e)
    }
}

impl From<DeltaTableError> for SqlError {
    fn from(e: DeltaTableError) -> Self {
        match e {
            DeltaTableError::Transaction { source } => {
                let text = source.to_string();
                let class = if text.contains("delete") {
                    "DELTA_CONCURRENT_DELETE_READ"
                } else if text.contains("append") || text.contains("Append") {
                    "DELTA_CONCURRENT_APPEND"
                } else {
                    "DELTA_CONCURRENT_TRANSACTION"
                };
                SqlError::Concurrent {
                    class: class.into(),
                    detail: format!(
                        "Transaction conflict: {text}. Please try the operation again."
                    ),
                }
            }
            DeltaTableError::VersionAlreadyExists(v) => SqlError::Concurrent {
                class: "DELTA_CONCURRENT_WRITE".into(),
                detail: format!(
                    "ConcurrentWriteException: A concurrent transaction has written new data since the current transaction read the table (version {v}). Please try the operation again."
                ),
            },
            DeltaTableError::Arrow { source } => classify_text(&source.to_string())
                .unwrap_or_else(|| SqlError::Internal(source.to_string())),
            other => {
                // delta-rs wraps DataFusion errors (bad expressions in predicates...).
                let text = other.to_string();
                if let Some(e) = classify_text(&text) {
                    e
                } else {
                    SqlError::Internal(text)
                }
            }
        }
    }
}

fn from_datafusion(e: DataFusionError) -> SqlError {
    // Our own errors travel through DataFusion as External.
    let root = e.find_root();
    if let DataFusionError::External(inner) = root {
        if let Some(s) = inner.downcast_ref::<SqlError>() {
            return s.clone();
        }
    }
    if let DataFusionError::SQL(pe, _) = root {
        if matches!(
            pe.as_ref(),
            deltalake::datafusion::sql::sqlparser::parser::ParserError::RecursionLimitExceeded
        ) {
            return SqlError::TooComplex;
        }
        return parser_error(&pe.to_string());
    }
    if let DataFusionError::ResourcesExhausted(m) = root {
        return SqlError::ResourceExhausted { detail: m.clone() };
    }
    if let DataFusionError::SchemaError(se, _) = root {
        if let deltalake::datafusion::common::SchemaError::FieldNotFound {
            field,
            valid_fields,
        } = se.as_ref()
        {
            let suggestions = valid_fields
                .iter()
                .take(5)
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", ");
            return SqlError::UnresolvedColumn {
                name: format!("`{}`", field.name),
                suggestions,
            };
        }
    }
    let text = root.to_string();
    classify_text(&text).unwrap_or_else(|| match root {
        DataFusionError::Plan(m) => {
            SqlError::analysis("UNRESOLVED_ROUTINE", m.clone(), "42883").relabel(m)
        }
        DataFusionError::NotImplemented(m) => SqlError::Unsupported(m.clone()),
        DataFusionError::ArrowError(ae, _) => arrow_error(&ae.to_string()),
        _ => SqlError::Internal(text.clone()),
    })
}

impl SqlError {
    fn relabel(self, msg: &str) -> SqlError {
        // Plan errors other than missing functions are generic analysis errors.
        if msg.contains("Invalid function") || msg.contains("function") && msg.contains("not found")
        {
            self
        } else {
            SqlError::analysis("DATATYPE_MISMATCH", msg.to_string(), "42K09")
        }
    }
}

fn arrow_error(text: &str) -> SqlError {
    if let Some(e) = out_of_range(text) {
        return e;
    }
    if text.contains("Divide by zero") {
        SqlError::analysis(
            "DIVIDE_BY_ZERO",
            "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead.",
            "22012",
        )
    } else if text.contains("Cast error") || text.contains("Parser error") {
        SqlError::analysis("CAST_INVALID_INPUT", text.to_string(), "22018")
    } else {
        SqlError::Internal(text.to_string())
    }
}

fn parser_error(text: &str) -> SqlError {
    // sqlparser: "sql parser error: Expected: ..., found: INSER at Line: 1, Column: 1"
    if let Some(i) = text.find("found: ") {
        let rest = &text[i + 7..];
        let tok = rest.split(" at Line").next().unwrap_or(rest).trim();
        if tok == "EOF" {
            return SqlError::syntax("");
        }
        return SqlError::syntax(tok);
    }
    SqlError::syntax("")
}

/// Arrow's refusals of a value too large for its type (decimal precision, integer overflow
/// in a cast) as Databricks' `NUMERIC_VALUE_OUT_OF_RANGE` (22003).
fn out_of_range(text: &str) -> Option<SqlError> {
    let decimal = text.contains("too large to store in a Decimal")
        || text.contains("is out of range") && text.contains("Decimal");
    let integer = text.contains("Cast error") && text.contains("overflow");
    (decimal || integer).then(|| {
        let detail = text
            .split(" error: ")
            .last()
            .unwrap_or(text)
            .trim()
            .to_string();
        SqlError::analysis(
            "NUMERIC_VALUE_OUT_OF_RANGE",
            format!("{detail}. If necessary set spark.sql.ansi.enabled to \"false\" to bypass this error."),
            "22003",
        )
    })
}

/// Recognises DataFusion / delta-rs messages for missing tables, schemas and columns.
fn classify_text(text: &str) -> Option<SqlError> {
    if let Some(e) = out_of_range(text) {
        return Some(e);
    }
    if text.contains("non-nullable")
        || text.contains("Invariant violations")
        || text.contains("NOT NULL constraint")
        || text.contains("failed validation check")
    {
        let col = text
            .split("Column '")
            .nth(1)
            .or_else(|| text.split("column '").nth(1))
            .and_then(|r| r.split('\'').next())
            .unwrap_or("");
        return Some(SqlError::analysis(
            "DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
            format!("NOT NULL constraint violated for column: {col}."),
            "23502",
        ));
    }
    if let Some(rest) = text
        .split("Placeholder '")
        .nth(1)
        .filter(|_| text.contains("was not provided a value"))
    {
        let name = rest
            .split('\'')
            .next()
            .unwrap_or("")
            .trim_start_matches([':', '$'])
            .to_string();
        return Some(SqlError::UnboundParameter { name });
    }
    if let Some(rest) = text
        .split("table '")
        .nth(1)
        .filter(|_| text.contains("not found"))
    {
        let name = rest.split('\'').next().unwrap_or(rest);
        let parts: Vec<&str> = name.split('.').collect();
        return Some(SqlError::TableNotFound {
            name: quote_name(&parts),
        });
    }
    if let Some(rest) = text
        .strip_prefix("Error during planning: failed to resolve schema: ")
        .or_else(|| text.split("failed to resolve schema: ").nth(1))
    {
        return Some(SqlError::SchemaNotFound {
            name: format!("`{}`", rest.trim()),
        });
    }
    if let Some(rest) = text.split("failed to resolve catalog: ").nth(1) {
        return Some(SqlError::CatalogNotFound {
            name: rest.trim().to_string(),
        });
    }
    if text.contains("No field named") {
        let raw = text
            .split("No field named ")
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches('.')
            .replace('"', "");
        let name = raw.rsplit('.').next().unwrap_or("").to_string();
        let suggestions = text
            .split("Valid fields are ")
            .nth(1)
            .map(|v| {
                v.trim_end_matches('.')
                    .split(", ")
                    .map(|f| format!("`{}`", f.rsplit('.').next().unwrap_or(f).replace('"', "")))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        return Some(SqlError::UnresolvedColumn {
            name: format!("`{name}`"),
            suggestions,
        });
    }
    if text.contains("Divide by zero") {
        return Some(arrow_error(text));
    }
    if text.contains("Cast error") {
        return Some(arrow_error(text));
    }
    if text.contains("sql parser error") {
        return Some(parser_error(text));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_class_and_state() {
        let e = SqlError::TableNotFound {
            name: "`main`.`default`.`x`".into(),
        };
        let m = e.to_string();
        assert!(m.starts_with("[TABLE_OR_VIEW_NOT_FOUND]"));
        assert!(m.ends_with("SQLSTATE: 42P01"));
        assert_eq!(
            SqlError::syntax("INSER").to_string(),
            "[PARSE_SYNTAX_ERROR] Syntax error at or near 'INSER'. SQLSTATE: 42601"
        );
    }

    #[test]
    fn classify_datafusion_texts() {
        let e =
            classify_text("Error during planning: table 'main.default.nope' not found").unwrap();
        assert_eq!(e.sql_state(), "42P01");
        let e =
            classify_text("Schema error: No field named zz. Valid fields are t.a, t.b.").unwrap();
        assert_eq!(e.sql_state(), "42703");
        assert!(e.to_string().contains("`zz`"), "{e}");
    }
}
