//! The SQL engine: DataFusion for queries, delta-rs for every write, one Delta commit per
//! statement. No HTTP types here: a statement goes in as [`ExecRequest`], a [`ResultSet`] or a
//! [`SqlError`] comes out.

pub mod catalog;
mod copy;
mod ddl;
mod dml;
pub mod error;
mod functions;
mod inline;
pub mod limits;
mod maintenance;
pub mod params;
mod range;
pub mod rewrite;
pub mod sql;
pub mod timetravel;
pub mod types;
pub mod values;
mod volumes;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use deltalake::DeltaTable;
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::datafusion::execution::context::SQLOptions;
use deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
use deltalake::datafusion::prelude::{DataFrame, SessionConfig, SessionContext};

use crate::config::{Principal, Privilege};
use crate::names::{self, Kind};
use catalog::{DirCatalogList, Tree, is_table, table_dir};
pub use error::SqlError;
use params::Bound;
pub use params::Param;
use sql::{Name, Stmt};

/// One statement to run.
#[derive(Clone, Debug)]
pub struct ExecRequest {
    /// SQL text.
    pub sql: String,
    /// Named parameters.
    pub params: Vec<Param>,
    /// Default catalog (`main` when absent).
    pub catalog: Option<String>,
    /// Default schema (`default` when absent).
    pub schema: Option<String>,
    /// Who runs it.
    pub principal: Arc<Principal>,
}

/// Rows produced by a statement.
#[derive(Clone, Debug)]
pub struct ResultSet {
    /// Columns.
    pub schema: SchemaRef,
    /// Rows.
    pub batches: Vec<RecordBatch>,
}

impl ResultSet {
    /// Total number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// What a statement produced.
pub enum Outcome {
    /// A small result table computed whole (DML counts, DESCRIBE, SHOW...).
    Rows(ResultSet),
    /// A query's rows, produced as they are pulled (dropping the stream stops the query).
    Stream {
        /// Columns.
        schema: SchemaRef,
        /// Batches.
        stream: SendableRecordBatchStream,
    },
    /// No result (DDL): `column_count: 0`.
    Empty,
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Rows(rs) => f.debug_tuple("Rows").field(rs).finish(),
            Outcome::Stream { schema, .. } => {
                f.debug_struct("Stream").field("schema", schema).finish()
            }
            Outcome::Empty => f.write_str("Empty"),
        }
    }
}

/// Resolved three-level table name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRef {
    /// Catalog.
    pub catalog: String,
    /// Schema.
    pub schema: String,
    /// Table.
    pub table: String,
}

impl TableRef {
    /// `catalog.schema.table`.
    pub fn full(&self) -> String {
        format!("{}.{}.{}", self.catalog, self.schema, self.table)
    }

    /// `` `catalog`.`schema`.`table` ``.
    pub fn quoted(&self) -> String {
        error::quote_name(&[&self.catalog, &self.schema, &self.table])
    }

    /// Ok when `allowed`, else the service's refusal of `privilege` on this table.
    pub(crate) fn deny_unless(&self, allowed: bool, privilege: &str) -> Result<(), SqlError> {
        if allowed {
            Ok(())
        } else {
            Err(SqlError::Permission {
                privilege: privilege.into(),
                kind: "Table".into(),
                securable: self.full(),
            })
        }
    }
}

/// The engine: a data directory, per-table commit locks and the runtime statements run on.
#[derive(Debug)]
pub struct Engine {
    root: PathBuf,
    locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    retention_check: bool,
    statement_memory: usize,
    exec: ExecRuntime,
    active: Arc<AtomicUsize>,
}

/// Default memory DataFusion may use for one statement.
pub const DEFAULT_STATEMENT_MEMORY: usize = 2 * 1024 * 1024 * 1024;

/// The runtime statements run on: worker and blocking threads with
/// [`limits::EXEC_STACK_BYTES`] of stack. Shut down without blocking when dropped (the engine
/// may be dropped inside another runtime).
#[derive(Debug)]
struct ExecRuntime(Option<tokio::runtime::Runtime>);

impl Drop for ExecRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Counts a running statement while alive (see [`Engine::active_statements`]).
#[derive(Debug)]
pub struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Per-statement state: principal, defaults, session context.
pub(crate) struct Stmtx {
    pub principal: Arc<Principal>,
    pub catalog: String,
    pub schema: String,
    pub bound: Bound,
    pub ctx: SessionContext,
    pub tree: Arc<Tree>,
    pub inline_counter: usize,
}

impl Engine {
    /// Opens (and initialises) the data directory: a fresh warehouse has `main.default`.
    pub fn new(root: impl Into<PathBuf>, retention_check: bool) -> std::io::Result<Engine> {
        let root: PathBuf = root.into();
        std::fs::create_dir_all(root.join("main").join("default"))?;
        // Canonical, so that `names::contained` can compare resolved paths with it.
        let root = root.canonicalize()?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let exec = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_stack_size(limits::EXEC_STACK_BYTES)
            .thread_name("warehouse-exec")
            .enable_all()
            .build()?;
        Ok(Engine {
            root,
            locks: Mutex::new(HashMap::new()),
            retention_check,
            statement_memory: DEFAULT_STATEMENT_MEMORY,
            exec: ExecRuntime(Some(exec)),
            active: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Sets the memory DataFusion may use for one statement (sorts, joins, aggregations,
    /// buffered rows); past it the statement fails with `RESOURCE_EXHAUSTED`.
    pub fn with_statement_memory(mut self, bytes: usize) -> Engine {
        self.statement_memory = bytes.max(1024 * 1024);
        self
    }

    /// A handle of the runtime statements should run on (large stacks).
    pub fn exec_handle(&self) -> tokio::runtime::Handle {
        match &self.exec.0 {
            Some(rt) => rt.handle().clone(),
            None => tokio::runtime::Handle::current(),
        }
    }

    /// Marks a statement as running until the guard is dropped.
    pub fn track(&self) -> ActiveGuard {
        self.active.fetch_add(1, Ordering::SeqCst);
        ActiveGuard(self.active.clone())
    }

    /// Statements whose execution is in progress (a canceled one stops counting once its
    /// work has really been dropped).
    pub fn active_statements(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Runs one statement; a query's rows come back as a stream to pull. Run it on
    /// [`Engine::exec_handle`]: planning recursion needs the large stacks.
    pub async fn execute(&self, req: &ExecRequest) -> Result<Outcome, SqlError> {
        limits::check_sql(&req.sql)?;
        let stmt = sql::parse(&req.sql)?;
        let bound = params::bind(&req.params)?;
        let catalog = req
            .catalog
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "main".into())
            .to_ascii_lowercase();
        let schema = req
            .schema
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into())
            .to_ascii_lowercase();
        if !self.catalog_dir(&catalog)?.is_dir() {
            return Err(SqlError::CatalogNotFound { name: catalog });
        }
        if !self.schema_dir(&catalog, &schema)?.is_dir() {
            return Err(SqlError::SchemaNotFound {
                name: error::quote_name(&[&catalog, &schema]),
            });
        }
        let tree = Tree::new(self.root.clone(), req.principal.clone());
        let ctx = self.context(tree.clone(), &catalog, &schema);
        let mut x = Stmtx {
            principal: req.principal.clone(),
            catalog,
            schema,
            bound,
            ctx,
            tree,
            inline_counter: 0,
        };
        match stmt {
            Stmt::Query(text) => {
                let df = self.query(&mut x, &text).await?;
                let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
                let stream = df.execute_stream().await?;
                Ok(Outcome::Stream { schema, stream })
            }
            Stmt::Explain(text) => self.explain(&mut x, &text).await,
            Stmt::Insert {
                table,
                overwrite,
                columns,
                source,
            } => {
                self.insert(&mut x, &table, overwrite, columns, &source)
                    .await
            }
            Stmt::Merge(m) => self.merge(&mut x, m).await,
            Stmt::Update {
                table,
                alias,
                assignments,
                predicate,
            } => {
                self.update(&mut x, &table, alias, assignments, predicate)
                    .await
            }
            Stmt::Delete {
                table,
                alias,
                predicate,
            } => self.delete(&mut x, &table, alias, predicate).await,
            Stmt::CopyInto(c) => self.copy_into(&mut x, c).await,
            Stmt::CreateVolume {
                name,
                if_not_exists,
            } => self.create_volume(&x, &name, if_not_exists),
            Stmt::DropVolume { name, if_exists } => self.drop_volume(&x, &name, if_exists),
            Stmt::CreateTable(c) => self.create_table(&mut x, c).await,
            Stmt::DropTable { name, if_exists } => self.drop_table(&x, &name, if_exists).await,
            Stmt::CreateCatalog {
                name,
                if_not_exists,
            } => self.create_catalog(&x, &name, if_not_exists),
            Stmt::CreateSchema {
                name,
                if_not_exists,
            } => self.create_schema(&x, &name, if_not_exists),
            Stmt::DropSchema {
                name,
                if_exists,
                cascade,
            } => self.drop_schema(&x, &name, if_exists, cascade),
            Stmt::Use { kind, name } => self.use_(&x, kind.as_deref(), &name),
            Stmt::ShowTables { schema, like } => self.show_tables(&x, schema, like),
            Stmt::ShowSchemas { catalog } => self.show_schemas(&x, catalog),
            Stmt::ShowCatalogs => self.show_catalogs(&x),
            Stmt::DescribeTable { table } => self.describe_table(&x, &table).await,
            Stmt::DescribeHistory { table, limit } => {
                self.describe_history(&x, &table, limit).await
            }
            Stmt::Optimize {
                table,
                predicate,
                zorder,
            } => self.optimize(&x, &table, predicate, zorder).await,
            Stmt::Vacuum {
                table,
                retain_hours,
                dry_run,
            } => self.vacuum(&x, &table, retain_hours, dry_run).await,
        }
    }

    fn context(&self, tree: Arc<Tree>, catalog: &str, schema: &str) -> SessionContext {
        let user = tree.principal_name();
        let cfg = SessionConfig::new()
            .with_default_catalog_and_schema(catalog, schema)
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(false)
            .set_str("datafusion.sql_parser.dialect", "databricks")
            .set_str("datafusion.execution.time_zone", "+00:00");
        // sorts and aggregations past the pool spill to the OS temp directory, bounded too
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(self.statement_memory, 1.0)
            .with_max_temp_directory_size((self.statement_memory as u64).saturating_mul(4))
            .build_arc();
        let ctx = match runtime {
            Ok(rt) => SessionContext::new_with_config_rt(cfg, rt),
            Err(e) => {
                tracing::warn!(error = %e, "no memory-limited runtime; using the default");
                SessionContext::new_with_config(cfg)
            }
        };
        ctx.register_catalog_list(Arc::new(DirCatalogList(tree)));
        ctx.register_udtf("range", Arc::new(range::RangeFunc));
        ctx.register_udf(functions::unhex());
        ctx.register_udf(functions::unbase64());
        ctx.register_udf(functions::constant("current_catalog", catalog));
        ctx.register_udf(functions::constant("current_schema", schema));
        ctx.register_udf(functions::constant("current_database", schema));
        ctx.register_udf(functions::constant("current_user", &user));
        ctx
    }

    /// `EXPLAIN [EXTENDED|FORMATTED|COST|CODEGEN] <query>`: one row, one `plan` column with the
    /// optimized logical and the physical plan (the query is planned, not run).
    async fn explain(&self, x: &mut Stmtx, text: &str) -> Result<Outcome, SqlError> {
        use deltalake::arrow::array::{ArrayRef, StringArray};
        use deltalake::arrow::datatypes::{DataType, Field, Schema};
        use deltalake::datafusion::physical_plan::displayable;
        let df = self.query(x, text).await?;
        let (state, plan) = df.into_parts();
        let logical = state.optimize(&plan)?;
        let physical = state.create_physical_plan(&logical).await?;
        let out = format!(
            "== Optimized Logical Plan ==\n{}\n\n== Physical Plan ==\n{}",
            logical.display_indent(),
            displayable(physical.as_ref()).indent(true)
        );
        let schema = Arc::new(Schema::new(vec![Field::new("plan", DataType::Utf8, false)]));
        let col: ArrayRef = Arc::new(StringArray::from(vec![out]));
        let batch = RecordBatch::try_new(schema.clone(), vec![col])
            .map_err(|e| SqlError::Internal(e.to_string()))?;
        Ok(Outcome::Rows(ResultSet {
            schema,
            batches: vec![batch],
        }))
    }

    /// Plans a query (with inline and `read_files` sources registered and parameters bound).
    pub(crate) async fn query(&self, x: &mut Stmtx, text: &str) -> Result<DataFrame, SqlError> {
        let text = self.read_files_sources(x, text)?;
        let (text, inlines, travels) = rewrite::rewrite_query(&text, &mut x.inline_counter)?;
        for tt in travels {
            let t = self.resolve(x, &Name(tt.name.clone()))?;
            let dir = self.existing(&t)?;
            self.check(x, &t, Privilege::Select)?;
            let table = timetravel::open_at(&dir, &t.quoted(), &tt.as_of).await?;
            let provider = table.table_provider().await?;
            x.tree.add_temp(&tt.table, provider);
        }
        for inl in inlines {
            let json = match (&inl.param, &inl.literal) {
                (Some(p), _) => match x.bound.raw.get(p) {
                    Some(v) => v.clone(),
                    None => return Err(SqlError::UnboundParameter { name: p.clone() }),
                },
                (None, Some(l)) => Some(l.clone()),
                (None, None) => None,
            };
            let batch = inline::decode(json.as_deref(), &inl.schema, inl.mode)?;
            let mem = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
            x.tree.add_temp(&inl.table, Arc::new(mem));
        }
        let opts = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = x.ctx.sql_with_options(&text, opts).await?;
        let df = if x.bound.values.is_empty() && x.bound.positional.is_empty() {
            df
        } else {
            df.with_param_values(x.bound.param_values())?
        };
        Ok(df)
    }

    /// Resolves a name against the statement defaults (`delta.`/path`` is not supported).
    pub(crate) fn resolve(&self, x: &Stmtx, name: &Name) -> Result<TableRef, SqlError> {
        let p: Vec<String> = name.0.iter().map(|s| s.to_ascii_lowercase()).collect();
        let (catalog, schema, table) = match p.len() {
            1 => (x.catalog.clone(), x.schema.clone(), p[0].clone()),
            2 => (x.catalog.clone(), p[0].clone(), p[1].clone()),
            3 => (p[0].clone(), p[1].clone(), p[2].clone()),
            _ => return Err(SqlError::syntax(".")),
        };
        names::check(Kind::Catalog, &catalog)?;
        names::check(Kind::Schema, &schema)?;
        names::check(Kind::Table, &table)?;
        Ok(TableRef {
            catalog,
            schema,
            table,
        })
    }

    /// Checks a privilege on a table.
    pub(crate) fn check(
        &self,
        x: &Stmtx,
        t: &TableRef,
        privilege: Privilege,
    ) -> Result<(), SqlError> {
        t.deny_unless(
            x.principal
                .allows(privilege, &t.catalog, &t.schema, Some(&t.table)),
            match privilege {
                Privilege::Select => "SELECT",
                Privilege::Modify => "MODIFY",
                Privilege::All => "ALL PRIVILEGES",
            },
        )
    }

    /// The directory of a catalog (the name checked, not its existence).
    pub(crate) fn catalog_dir(&self, catalog: &str) -> Result<PathBuf, SqlError> {
        Ok(names::join(&self.root, &[(Kind::Catalog, catalog)])?)
    }

    /// The directory of a schema (the names checked, not their existence).
    pub(crate) fn schema_dir(&self, catalog: &str, schema: &str) -> Result<PathBuf, SqlError> {
        Ok(names::join(
            &self.root,
            &[(Kind::Catalog, catalog), (Kind::Schema, schema)],
        )?)
    }

    /// Refuses a path that resolves outside the data directory; called before anything is
    /// created or removed.
    pub(crate) fn contained(&self, path: &Path) -> Result<(), SqlError> {
        Ok(names::contained(&self.root, path)?)
    }

    /// The directory of an existing table (errors if the schema or table is missing).
    pub(crate) fn existing(&self, t: &TableRef) -> Result<PathBuf, SqlError> {
        if !self.catalog_dir(&t.catalog)?.is_dir() {
            return Err(SqlError::CatalogNotFound {
                name: t.catalog.clone(),
            });
        }
        if !self.schema_dir(&t.catalog, &t.schema)?.is_dir() {
            return Err(SqlError::SchemaNotFound {
                name: error::quote_name(&[&t.catalog, &t.schema]),
            });
        }
        let dir = table_dir(&self.root, &t.catalog, &t.schema, &t.table)?;
        if !is_table(&dir) {
            return Err(SqlError::TableNotFound { name: t.quoted() });
        }
        Ok(dir)
    }

    /// The commit lock of a table directory: writes to one table are serialised, so concurrent
    /// writers both commit, each on top of the other (no lost update).
    pub(crate) async fn lock(&self, dir: &Path) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(dir.to_path_buf()).or_default().clone()
        };
        m.lock_owned().await
    }

    /// Opens a table and checks a privilege.
    pub(crate) async fn open(
        &self,
        x: &Stmtx,
        t: &TableRef,
        privilege: Privilege,
    ) -> Result<(PathBuf, DeltaTable), SqlError> {
        let dir = self.existing(t)?;
        self.check(x, t, privilege)?;
        let table = catalog::open_table(&dir).await?;
        Ok((dir, table))
    }
}

impl Engine {
    /// Collects a DataFrame whole (sources of writes), failing with `RESOURCE_EXHAUSTED` once
    /// the collected batches pass the statement's memory limit.
    pub(crate) async fn collect(&self, df: DataFrame) -> Result<ResultSet, SqlError> {
        use futures::StreamExt;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let mut stream = df.execute_stream().await?;
        let mut batches = Vec::new();
        let mut bytes = 0usize;
        while let Some(b) = stream.next().await {
            let b = b?;
            bytes += b.get_array_memory_size();
            if bytes > self.statement_memory {
                return Err(SqlError::ResourceExhausted {
                    detail: format!(
                        "the rows to write need more than {} bytes.",
                        self.statement_memory
                    ),
                });
            }
            batches.push(b);
        }
        Ok(ResultSet { schema, batches })
    }
}

/// A one-row result of BIGINT counters (`num_affected_rows`...).
pub(crate) fn counts(cols: &[(&str, i64)]) -> Outcome {
    use deltalake::arrow::array::{ArrayRef, Int64Array};
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, _)| Field::new(*n, DataType::Int64, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = cols
        .iter()
        .map(|(_, v)| Arc::new(Int64Array::from(vec![*v])) as ArrayRef)
        .collect();
    match RecordBatch::try_new(schema.clone(), arrays) {
        Ok(b) => Outcome::Rows(ResultSet {
            schema,
            batches: vec![b],
        }),
        Err(_) => Outcome::Empty,
    }
}

/// Commit properties naming the principal (shows as `userName` in DESCRIBE HISTORY).
pub(crate) fn commit_props(x: &Stmtx) -> deltalake::kernel::transaction::CommitProperties {
    commit_props_with(x, Vec::new())
}

/// [`commit_props`] plus `extra` commit metadata (kept in the commit's `commitInfo`).
pub(crate) fn commit_props_with(
    x: &Stmtx,
    extra: Vec<(String, serde_json::Value)>,
) -> deltalake::kernel::transaction::CommitProperties {
    let mut meta = vec![
        (
            "userName".to_string(),
            serde_json::Value::String(x.principal.name.clone()),
        ),
        (
            "engineInfo".to_string(),
            serde_json::Value::String(format!("openmatch-warehouse/{}", env!("CARGO_PKG_VERSION"))),
        ),
    ];
    meta.extend(extra);
    deltalake::kernel::transaction::CommitProperties::default().with_metadata(meta)
}
