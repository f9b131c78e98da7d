//! The statements the hand parsers produce (see [`super`]).

/// A possibly qualified object name, parts unquoted as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name(pub Vec<String>);

/// A column of `CREATE TABLE`.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Type text.
    pub type_text: String,
    /// `NOT NULL` given.
    pub not_null: bool,
    /// `COMMENT '...'`.
    pub comment: Option<String>,
}

/// A MERGE source.
#[derive(Clone, Debug, PartialEq)]
pub enum MergeSource {
    /// `(SELECT ...)`: the query text.
    Query(String),
    /// A table name.
    Table(Name),
}

/// When a MERGE clause fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// `WHEN MATCHED`.
    Matched,
    /// `WHEN NOT MATCHED [BY TARGET]`.
    NotMatched,
    /// `WHEN NOT MATCHED BY SOURCE`.
    NotMatchedBySource,
}

/// What a MERGE clause does.
#[derive(Clone, Debug, PartialEq)]
pub enum MergeAction {
    /// `UPDATE SET a = e, ...` (target column, expression text).
    Update(Vec<(String, String)>),
    /// `UPDATE SET *`.
    UpdateStar,
    /// `DELETE`.
    Delete,
    /// `INSERT (cols) VALUES (exprs)`.
    Insert(Vec<String>, Vec<String>),
    /// `INSERT *`.
    InsertStar,
}

/// One `WHEN ...` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeClause {
    /// When it fires.
    pub kind: MatchKind,
    /// `AND <cond>` text.
    pub predicate: Option<String>,
    /// What it does.
    pub action: MergeAction,
}

/// A parsed MERGE.
#[derive(Clone, Debug, PartialEq)]
pub struct Merge {
    /// Target table.
    pub target: Name,
    /// Target alias.
    pub target_alias: Option<String>,
    /// Source.
    pub source: MergeSource,
    /// Source alias.
    pub source_alias: Option<String>,
    /// `ON` condition text.
    pub on: String,
    /// Clauses in order.
    pub clauses: Vec<MergeClause>,
}

/// `CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name (columns) [PARTITIONED BY (...)] [AS query]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CreateTable {
    /// Name.
    pub name: Name,
    /// IF NOT EXISTS.
    pub if_not_exists: bool,
    /// OR REPLACE.
    pub or_replace: bool,
    /// Columns (empty with AS SELECT).
    pub columns: Vec<ColumnDef>,
    /// PARTITIONED BY.
    pub partitioned_by: Vec<String>,
    /// AS <query>.
    pub as_query: Option<String>,
}

/// A classified statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// A query for DataFusion (already rewritten text).
    Query(String),
    /// `EXPLAIN [EXTENDED|FORMATTED|COST|CODEGEN] <query>`: the query text.
    Explain(String),
    /// `INSERT INTO|OVERWRITE [TABLE] t [(cols)] <query>`.
    Insert {
        /// Target.
        table: Name,
        /// OVERWRITE.
        overwrite: bool,
        /// Column list.
        columns: Option<Vec<String>>,
        /// Source query text (VALUES or SELECT).
        source: String,
    },
    /// MERGE INTO.
    Merge(Merge),
    /// UPDATE.
    Update {
        /// Target.
        table: Name,
        /// Alias.
        alias: Option<String>,
        /// (column, expression text).
        assignments: Vec<(String, String)>,
        /// WHERE text.
        predicate: Option<String>,
    },
    /// DELETE FROM.
    Delete {
        /// Target.
        table: Name,
        /// Alias.
        alias: Option<String>,
        /// WHERE text.
        predicate: Option<String>,
    },
    /// CREATE TABLE (see [`CreateTable`]).
    CreateTable(CreateTable),
    /// DROP TABLE.
    DropTable {
        /// Name.
        name: Name,
        /// IF EXISTS.
        if_exists: bool,
    },
    /// CREATE CATALOG.
    CreateCatalog {
        /// Name.
        name: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// CREATE SCHEMA / DATABASE.
    CreateSchema {
        /// Name (1 or 2 parts).
        name: Name,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// DROP SCHEMA.
    DropSchema {
        /// Name.
        name: Name,
        /// IF EXISTS.
        if_exists: bool,
        /// CASCADE.
        cascade: bool,
    },
    /// USE [CATALOG|SCHEMA|DATABASE] name.
    Use {
        /// `CATALOG`, `SCHEMA` or None.
        kind: Option<String>,
        /// Name.
        name: Name,
    },
    /// OPTIMIZE.
    Optimize {
        /// Table.
        table: Name,
        /// WHERE text (partition predicate).
        predicate: Option<String>,
        /// ZORDER BY columns.
        zorder: Vec<String>,
    },
    /// VACUUM.
    Vacuum {
        /// Table.
        table: Name,
        /// RETAIN n HOURS.
        retain_hours: Option<f64>,
        /// DRY RUN.
        dry_run: bool,
    },
    /// DESCRIBE HISTORY.
    DescribeHistory {
        /// Table.
        table: Name,
        /// LIMIT n.
        limit: Option<usize>,
    },
    /// DESCRIBE [TABLE] [EXTENDED] t.
    DescribeTable {
        /// Table.
        table: Name,
    },
    /// SHOW TABLES [IN|FROM schema] [LIKE 'p'].
    ShowTables {
        /// Schema.
        schema: Option<Name>,
        /// Pattern.
        like: Option<String>,
    },
    /// SHOW SCHEMAS|DATABASES [IN catalog].
    ShowSchemas {
        /// Catalog.
        catalog: Option<String>,
    },
    /// SHOW CATALOGS.
    ShowCatalogs,
    /// COPY INTO (see [`CopyInto`]).
    CopyInto(CopyInto),
    /// CREATE VOLUME.
    CreateVolume {
        /// Name (1 to 3 parts).
        name: Name,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
    /// DROP VOLUME.
    DropVolume {
        /// Name (1 to 3 parts).
        name: Name,
        /// IF EXISTS.
        if_exists: bool,
    },
}

/// One expression of `COPY INTO ... FROM (SELECT <expr> [AS alias], ... FROM 'path')`.
#[derive(Clone, Debug, PartialEq)]
pub enum CopyExpr {
    /// A field of the file as it is: `c0`.
    Field(String),
    /// `CAST(c0 AS <type>)`: the field (text) converted to the type, exactly.
    Cast(String, String),
    /// `unbase64(c0)`: the field's base64 text decoded.
    Unbase64(String),
    /// Any other expression (text), evaluated by DataFusion over the fields.
    Other(String),
}

/// One select-list item of a `COPY INTO` source query.
#[derive(Clone, Debug, PartialEq)]
pub struct CopyItem {
    /// The expression.
    pub expr: CopyExpr,
    /// Its text as written.
    pub text: String,
    /// `AS alias`.
    pub alias: Option<String>,
}

impl CopyItem {
    /// The name of the column this item produces: its alias, else the field it reads, else its
    /// text as written.
    pub fn output_name(&self) -> String {
        match (&self.alias, &self.expr) {
            (Some(a), _) => a.clone(),
            (None, CopyExpr::Field(f)) => f.clone(),
            (None, _) => self.text.clone(),
        }
    }
}

/// `COPY INTO t FROM { 'path' | (SELECT items FROM 'path') } FILEFORMAT = X
/// [FORMAT_OPTIONS (...)] [COPY_OPTIONS (...)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct CopyInto {
    /// Target.
    pub table: Name,
    /// Source path (`/Volumes/...`, a file or a directory).
    pub path: String,
    /// The select list of `FROM (SELECT ... FROM 'path')`.
    pub select: Option<Vec<CopyItem>>,
    /// JSON, CSV, PARQUET.
    pub format: String,
    /// FORMAT_OPTIONS, keys lowercase.
    pub format_options: Vec<(String, String)>,
    /// COPY_OPTIONS, keys lowercase.
    pub copy_options: Vec<(String, String)>,
}
