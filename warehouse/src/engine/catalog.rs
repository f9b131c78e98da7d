//! Directory-backed catalogs for DataFusion: `<data>/<catalog>/<schema>/<table>` with Delta
//! tables opened on lookup, SELECT checked against the principal's grants on lookup, and
//! statement-local tables (`__inline_N`) overlaid on every schema.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deltalake::DeltaTable;
use deltalake::datafusion::catalog::{
    CatalogProvider, CatalogProviderList, SchemaProvider, TableProvider,
};
use deltalake::datafusion::error::{DataFusionError, Result as DfResult};

use super::error::{SqlError, quote_name};
use crate::config::{Principal, Privilege};
use crate::names::{self, Kind, NameError};

/// The directory of a table (every part checked by [`crate::names`]).
pub fn table_dir(
    root: &Path,
    catalog: &str,
    schema: &str,
    table: &str,
) -> Result<PathBuf, NameError> {
    names::join(
        root,
        &[
            (Kind::Catalog, &catalog.to_ascii_lowercase()),
            (Kind::Schema, &schema.to_ascii_lowercase()),
            (Kind::Table, &table.to_ascii_lowercase()),
        ],
    )
}

/// Whether `dir` holds a Delta table.
pub fn is_table(dir: &Path) -> bool {
    dir.join("_delta_log").is_dir()
}

/// Lists sub-directory names of `dir` (sorted), skipping hidden ones and names that are not
/// valid securable names (they could not be addressed).
pub fn list_dirs(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n != "_delta_log" && names::check(Kind::Table, n).is_ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Opens the Delta table in `dir` at its latest version.
pub async fn open_table(dir: &Path) -> Result<DeltaTable, SqlError> {
    let url = url::Url::from_directory_path(dir)
        .map_err(|_| SqlError::Internal(format!("bad table path {}", dir.display())))?;
    DeltaTable::try_from_url(url).await.map_err(SqlError::from)
}

/// Shared per-statement state of the catalog tree.
#[derive(Debug)]
pub struct Tree {
    root: PathBuf,
    principal: Arc<Principal>,
    temp: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
}

impl Tree {
    /// A tree over `root` seen by `principal`.
    pub fn new(root: PathBuf, principal: Arc<Principal>) -> Arc<Tree> {
        Arc::new(Tree {
            root,
            principal,
            temp: Mutex::new(HashMap::new()),
        })
    }

    /// The name of the principal the statement runs as.
    pub fn principal_name(&self) -> String {
        self.principal.name.clone()
    }

    /// Registers a statement-local table visible under any schema.
    pub fn add_temp(&self, name: &str, table: Arc<dyn TableProvider>) {
        if let Ok(mut t) = self.temp.lock() {
            t.insert(name.to_string(), table);
        }
    }
}

/// The catalog list.
#[derive(Debug)]
pub struct DirCatalogList(pub Arc<Tree>);

impl CatalogProviderList for DirCatalogList {
    fn register_catalog(
        &self,
        _name: String,
        _catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        None
    }

    fn catalog_names(&self) -> Vec<String> {
        list_dirs(&self.0.root)
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        let name = name.to_ascii_lowercase();
        let dir = names::join(&self.0.root, &[(Kind::Catalog, &name)]).ok()?;
        dir.is_dir().then(|| {
            Arc::new(DirCatalog {
                tree: self.0.clone(),
                name,
            }) as _
        })
    }
}

/// One catalog directory.
#[derive(Debug)]
pub struct DirCatalog {
    tree: Arc<Tree>,
    name: String,
}

impl CatalogProvider for DirCatalog {
    fn schema_names(&self) -> Vec<String> {
        list_dirs(&self.tree.root.join(&self.name))
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let name = name.to_ascii_lowercase();
        let dir = names::join(
            &self.tree.root,
            &[(Kind::Catalog, &self.name), (Kind::Schema, &name)],
        )
        .ok()?;
        dir.is_dir().then(|| {
            Arc::new(DirSchema {
                tree: self.tree.clone(),
                catalog: self.name.clone(),
                name,
            }) as _
        })
    }
}

/// One schema directory.
#[derive(Debug)]
pub struct DirSchema {
    tree: Arc<Tree>,
    catalog: String,
    name: String,
}

#[async_trait]
impl SchemaProvider for DirSchema {
    fn table_names(&self) -> Vec<String> {
        list_dirs(&self.tree.root.join(&self.catalog).join(&self.name))
            .into_iter()
            .filter(|t| is_table(&self.tree.root.join(&self.catalog).join(&self.name).join(t)))
            .collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if let Some(t) = self
            .tree
            .temp
            .lock()
            .ok()
            .and_then(|m| m.get(name).cloned())
        {
            return Ok(Some(t));
        }
        let dir = table_dir(&self.tree.root, &self.catalog, &self.name, name)
            .map_err(|e| DataFusionError::External(Box::new(SqlError::from(e))))?;
        if !is_table(&dir) {
            return Ok(None);
        }
        if !self
            .tree
            .principal
            .allows(Privilege::Select, &self.catalog, &self.name, Some(name))
        {
            return Err(DataFusionError::External(Box::new(SqlError::Permission {
                privilege: "SELECT".into(),
                kind: "Table".into(),
                securable: format!(
                    "{}.{}.{}",
                    self.catalog,
                    self.name,
                    name.to_ascii_lowercase()
                ),
            })));
        }
        let table = open_table(&dir)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let provider = table.table_provider().await?;
        Ok(Some(provider))
    }

    fn table_exist(&self, name: &str) -> bool {
        table_dir(&self.tree.root, &self.catalog, &self.name, name).is_ok_and(|d| is_table(&d))
    }
}

/// `` `a`.`b`.`c` `` for messages.
pub fn display_name(catalog: &str, schema: &str, table: &str) -> String {
    quote_name(&[catalog, schema, table])
}
