//! CREATE/DROP TABLE, CREATE CATALOG/SCHEMA, USE, SHOW, DESCRIBE TABLE.

use deltalake::DeltaTable;
use deltalake::arrow::datatypes::Field;
use deltalake::kernel::StructField;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::protocol::SaveMode;
use serde_json::json;

use super::catalog::{is_table, list_dirs, open_table, table_dir};
use super::error::{SqlError, quote_name};
use super::maintenance::rows;
use super::sql::{CreateTable, Name};
use super::types::{TypeError, parse_type, type_names};
use super::{Engine, Outcome, Stmtx, commit_props};
use crate::config::Privilege;

/// `(catalog, schema)` of a schema name of one or two parts (lower case; one part is in the
/// statement's catalog).
fn schema_of(x: &Stmtx, parts: &[String]) -> Result<(String, String), SqlError> {
    match parts {
        [s] => Ok((x.catalog.clone(), s.to_ascii_lowercase())),
        [c, s] => Ok((c.to_ascii_lowercase(), s.to_ascii_lowercase())),
        _ => Err(SqlError::syntax(".")),
    }
}

impl Engine {
    fn require_admin(
        &self,
        x: &Stmtx,
        privilege: &str,
        kind: &str,
        name: &str,
    ) -> Result<(), SqlError> {
        if x.principal.admin {
            Ok(())
        } else {
            Err(SqlError::Permission {
                privilege: privilege.into(),
                kind: kind.into(),
                securable: name.into(),
            })
        }
    }

    pub(crate) async fn create_table(
        &self,
        x: &mut Stmtx,
        c: CreateTable,
    ) -> Result<Outcome, SqlError> {
        let t = self.resolve(x, &c.name)?;
        if !self.catalog_dir(&t.catalog)?.is_dir() {
            return Err(SqlError::CatalogNotFound {
                name: t.catalog.clone(),
            });
        }
        let sdir = self.schema_dir(&t.catalog, &t.schema)?;
        if !sdir.is_dir() {
            return Err(SqlError::SchemaNotFound {
                name: quote_name(&[&t.catalog, &t.schema]),
            });
        }
        if !x
            .principal
            .allows(Privilege::Modify, &t.catalog, &t.schema, None)
        {
            return Err(SqlError::Permission {
                privilege: "CREATE TABLE".into(),
                kind: "Schema".into(),
                securable: format!("{}.{}", t.catalog, t.schema),
            });
        }
        let dir = table_dir(self.root(), &t.catalog, &t.schema, &t.table)?;
        self.contained(&dir)?;
        let _guard = self.lock(&dir).await;
        if is_table(&dir) && !c.or_replace {
            if c.if_not_exists {
                return Ok(Outcome::Empty);
            }
            return Err(SqlError::TableExists { name: t.quoted() });
        }
        // column definitions, or the schema of AS SELECT
        let (fields, data) = match c.as_query {
            Some(q) => {
                let df = self.query(x, &q).await?;
                let rs = self.collect(df).await?;
                let fields: Vec<Field> = rs
                    .schema
                    .fields()
                    .iter()
                    .map(|f| {
                        let dt = match f.data_type() {
                            deltalake::arrow::datatypes::DataType::Utf8View
                            | deltalake::arrow::datatypes::DataType::LargeUtf8 => {
                                deltalake::arrow::datatypes::DataType::Utf8
                            }
                            deltalake::arrow::datatypes::DataType::BinaryView
                            | deltalake::arrow::datatypes::DataType::LargeBinary => {
                                deltalake::arrow::datatypes::DataType::Binary
                            }
                            deltalake::arrow::datatypes::DataType::Timestamp(_, tz) => {
                                deltalake::arrow::datatypes::DataType::Timestamp(
                                    deltalake::arrow::datatypes::TimeUnit::Microsecond,
                                    tz.clone(),
                                )
                            }
                            other => other.clone(),
                        };
                        Field::new(f.name(), dt, true)
                    })
                    .collect();
                (fields, Some(rs))
            }
            None => {
                let mut fields = Vec::new();
                for col in &c.columns {
                    let dt = parse_type(&col.type_text).map_err(|e| match e {
                        TypeError::TooDeep => SqlError::TooComplex,
                        TypeError::Syntax(e) => SqlError::analysis(
                            "UNSUPPORTED_DATATYPE",
                            format!("Unsupported data type \"{}\": {e}.", col.type_text),
                            "0A000",
                        ),
                    })?;
                    let mut f = Field::new(&col.name, dt, !col.not_null);
                    if let Some(cm) = &col.comment {
                        f = f.with_metadata(
                            [("comment".to_string(), cm.clone())].into_iter().collect(),
                        );
                    }
                    fields.push(f);
                }
                (fields, None)
            }
        };
        for p in &c.partitioned_by {
            if !fields.iter().any(|f| f.name() == p) {
                return Err(SqlError::unresolved_column(
                    p,
                    fields.iter().map(|f| f.name()),
                ));
            }
        }
        let mut struct_fields = Vec::new();
        for f in &fields {
            let sf: StructField = (&*f).try_into_kernel().map_err(|e| {
                SqlError::Unsupported(format!("column type of `{}`: {e}", f.name()))
            })?;
            let sf = match f.metadata().get("comment") {
                Some(c) => sf.with_metadata([("comment".to_string(), c.clone())]),
                None => sf,
            };
            struct_fields.push(sf);
        }
        std::fs::create_dir_all(&dir).map_err(|e| SqlError::Internal(e.to_string()))?;
        let url = url::Url::from_directory_path(&dir)
            .map_err(|_| SqlError::Internal("bad path".into()))?;
        let table = deltalake::DeltaTableBuilder::from_url(url)?.build()?;
        let mut b = table
            .create()
            .with_table_name(t.table.clone())
            .with_columns(struct_fields)
            .with_save_mode(if c.or_replace {
                SaveMode::Overwrite
            } else {
                SaveMode::ErrorIfExists
            })
            .with_commit_properties(commit_props(x));
        if !c.partitioned_by.is_empty() {
            b = b.with_partition_columns(c.partitioned_by);
        }
        let table: DeltaTable = match b.await {
            Ok(t) => t,
            Err(e) => {
                if !is_table(&dir) {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                return Err(e.into());
            }
        };
        if let Some(rs) = data {
            if rs.num_rows() > 0 {
                let schema = table.snapshot()?.snapshot().arrow_schema();
                let ctx = deltalake::datafusion::prelude::SessionContext::new();
                let df = ctx.read_batches(rs.batches)?;
                let df = super::dml::conform(df, &schema, None, &t.quoted())?;
                let batches = df.collect().await?;
                table
                    .write(batches)
                    .with_save_mode(SaveMode::Append)
                    .with_commit_properties(commit_props(x))
                    .await?;
            }
        }
        Ok(Outcome::Empty)
    }

    pub(crate) async fn drop_table(
        &self,
        x: &Stmtx,
        name: &Name,
        if_exists: bool,
    ) -> Result<Outcome, SqlError> {
        let t = self.resolve(x, name)?;
        let dir = match self.existing(&t) {
            Ok(d) => d,
            Err(SqlError::TableNotFound { .. }) if if_exists => return Ok(Outcome::Empty),
            Err(e) => return Err(e),
        };
        let p = &x.principal;
        t.deny_unless(
            p.allows(Privilege::Modify, &t.catalog, &t.schema, None)
                || p.allows(Privilege::All, &t.catalog, &t.schema, Some(&t.table)),
            "MANAGE",
        )?;
        let _guard = self.lock(&dir).await;
        self.contained(&dir)?;
        std::fs::remove_dir_all(&dir).map_err(|e| SqlError::Internal(e.to_string()))?;
        Ok(Outcome::Empty)
    }

    pub(crate) fn create_catalog(
        &self,
        x: &Stmtx,
        name: &str,
        if_not_exists: bool,
    ) -> Result<Outcome, SqlError> {
        let name = name.to_ascii_lowercase();
        self.require_admin(x, "CREATE CATALOG", "Metastore", "metastore")?;
        let dir = self.catalog_dir(&name)?;
        if dir.is_dir() {
            return if if_not_exists {
                Ok(Outcome::Empty)
            } else {
                Err(SqlError::CatalogExists {
                    name: format!("`{name}`"),
                })
            };
        }
        self.contained(&dir)?;
        std::fs::create_dir_all(dir.join("default"))
            .map_err(|e| SqlError::Internal(e.to_string()))?;
        Ok(Outcome::Empty)
    }

    pub(crate) fn create_schema(
        &self,
        x: &Stmtx,
        name: &Name,
        if_not_exists: bool,
    ) -> Result<Outcome, SqlError> {
        let (cat, sch) = schema_of(x, name.0.as_slice())?;
        let dir = self.schema_dir(&cat, &sch)?;
        if !self.catalog_dir(&cat)?.is_dir() {
            return Err(SqlError::CatalogNotFound { name: cat });
        }
        if !x.principal.admin && !x.principal.allows(Privilege::All, &cat, "", None) {
            return Err(SqlError::Permission {
                privilege: "CREATE SCHEMA".into(),
                kind: "Catalog".into(),
                securable: cat,
            });
        }
        if dir.is_dir() {
            return if if_not_exists {
                Ok(Outcome::Empty)
            } else {
                Err(SqlError::SchemaExists {
                    name: quote_name(&[&cat, &sch]),
                })
            };
        }
        self.contained(&dir)?;
        std::fs::create_dir_all(dir).map_err(|e| SqlError::Internal(e.to_string()))?;
        Ok(Outcome::Empty)
    }

    pub(crate) fn drop_schema(
        &self,
        x: &Stmtx,
        name: &Name,
        if_exists: bool,
        cascade: bool,
    ) -> Result<Outcome, SqlError> {
        let (cat, sch) = schema_of(x, name.0.as_slice())?;
        let dir = self.schema_dir(&cat, &sch)?;
        if !dir.is_dir() {
            return if if_exists {
                Ok(Outcome::Empty)
            } else {
                Err(SqlError::SchemaNotFound {
                    name: quote_name(&[&cat, &sch]),
                })
            };
        }
        self.require_admin(x, "MANAGE", "Schema", &format!("{cat}.{sch}"))?;
        let volumes = crate::volumes::schema_dir(self.root(), &cat, &sch)?;
        if !cascade && (!list_dirs(&dir).is_empty() || !list_dirs(&volumes).is_empty()) {
            return Err(SqlError::analysis(
                "SCHEMA_NOT_EMPTY",
                format!(
                    "Cannot drop a schema {} because it contains objects.\nUse DROP SCHEMA ... CASCADE to drop the schema and all its objects.",
                    quote_name(&[&cat, &sch])
                ),
                "2BP01",
            ));
        }
        self.contained(&dir)?;
        std::fs::remove_dir_all(dir).map_err(|e| SqlError::Internal(e.to_string()))?;
        // CASCADE drops the schema's volumes too
        if volumes.is_dir() {
            self.contained(&volumes)?;
            std::fs::remove_dir_all(volumes).map_err(|e| SqlError::Internal(e.to_string()))?;
        }
        Ok(Outcome::Empty)
    }

    /// `USE`: validates the name. The Statement Execution API has no session here, so the
    /// effect ends with the statement (use the request's `catalog`/`schema` fields instead).
    pub(crate) fn use_(
        &self,
        x: &Stmtx,
        kind: Option<&str>,
        name: &Name,
    ) -> Result<Outcome, SqlError> {
        let parts: Vec<String> = name.0.iter().map(|p| p.to_ascii_lowercase()).collect();
        match (kind, parts.as_slice()) {
            (Some("CATALOG"), [c]) => {
                if !self.catalog_dir(c)?.is_dir() {
                    return Err(SqlError::CatalogNotFound { name: c.clone() });
                }
            }
            (_, [s]) => {
                if !self.schema_dir(&x.catalog, s)?.is_dir() {
                    // `USE x` may also name a catalog
                    if kind.is_none() && self.catalog_dir(s)?.is_dir() {
                        return Ok(Outcome::Empty);
                    }
                    return Err(SqlError::SchemaNotFound {
                        name: quote_name(&[&x.catalog, s]),
                    });
                }
            }
            (_, [c, s]) => {
                if !self.schema_dir(c, s)?.is_dir() {
                    return Err(SqlError::SchemaNotFound {
                        name: quote_name(&[c, s]),
                    });
                }
            }
            _ => return Err(SqlError::syntax(".")),
        }
        Ok(Outcome::Empty)
    }

    pub(crate) fn show_tables(
        &self,
        x: &Stmtx,
        schema: Option<Name>,
        like: Option<String>,
    ) -> Result<Outcome, SqlError> {
        let (cat, sch) = match &schema {
            None => (x.catalog.clone(), x.schema.clone()),
            Some(n) => schema_of(x, n.0.as_slice())?,
        };
        let dir = self.schema_dir(&cat, &sch)?;
        if !dir.is_dir() {
            return Err(SqlError::SchemaNotFound {
                name: quote_name(&[&cat, &sch]),
            });
        }
        let pat = like.map(|p| p.to_ascii_lowercase());
        let out: Vec<serde_json::Value> = list_dirs(&dir)
            .into_iter()
            .filter(|t| is_table(&dir.join(t)))
            .filter(|t| pat.as_deref().is_none_or(|p| like_match(p, t)))
            .filter(|t| {
                x.principal.allows(Privilege::Select, &cat, &sch, Some(t))
                    || x.principal.allows(Privilege::Modify, &cat, &sch, Some(t))
            })
            .map(|t| json!({"database": sch, "tableName": t, "isTemporary": false}))
            .collect();
        rows(
            &[
                ("database", "STRING"),
                ("tableName", "STRING"),
                ("isTemporary", "BOOLEAN"),
            ],
            out,
        )
    }

    pub(crate) fn show_schemas(
        &self,
        x: &Stmtx,
        catalog: Option<String>,
    ) -> Result<Outcome, SqlError> {
        let cat = catalog
            .map(|c| c.to_ascii_lowercase())
            .unwrap_or_else(|| x.catalog.clone());
        let cdir = self.catalog_dir(&cat)?;
        if !cdir.is_dir() {
            return Err(SqlError::CatalogNotFound { name: cat });
        }
        let out = list_dirs(&cdir)
            .into_iter()
            .filter(|s| x.principal.sees(&cat, Some(s)))
            .map(|s| json!({"databaseName": s}))
            .collect();
        rows(&[("databaseName", "STRING")], out)
    }

    pub(crate) fn show_catalogs(&self, x: &Stmtx) -> Result<Outcome, SqlError> {
        let out = list_dirs(self.root())
            .into_iter()
            .filter(|c| x.principal.sees(c, None))
            .map(|c| json!({"catalog": c}))
            .collect();
        rows(&[("catalog", "STRING")], out)
    }

    pub(crate) async fn describe_table(&self, x: &Stmtx, name: &Name) -> Result<Outcome, SqlError> {
        let t = self.resolve(x, name)?;
        let dir = self.existing(&t)?;
        let p = &x.principal;
        t.deny_unless(
            p.allows(Privilege::Select, &t.catalog, &t.schema, Some(&t.table))
                || p.allows(Privilege::Modify, &t.catalog, &t.schema, Some(&t.table)),
            "SELECT",
        )?;
        let table = open_table(&dir).await?;
        let snap = table.snapshot()?.snapshot();
        let schema = snap.arrow_schema();
        let parts: Vec<String> = snap.metadata().partition_columns().to_vec();
        let mut out: Vec<serde_json::Value> = Vec::new();
        for f in schema.fields() {
            let comment = f.metadata().get("comment").cloned();
            out.push(json!({"col_name": f.name(), "data_type": type_names(f.data_type()).1.to_ascii_lowercase(), "comment": comment}));
        }
        if !parts.is_empty() {
            out.push(
                json!({"col_name": "# Partition Information", "data_type": "", "comment": ""}),
            );
            out.push(
                json!({"col_name": "# col_name", "data_type": "data_type", "comment": "comment"}),
            );
            for p in parts {
                if let Some(f) = schema.fields().iter().find(|f| f.name() == &p) {
                    out.push(json!({"col_name": p, "data_type": type_names(f.data_type()).1.to_ascii_lowercase(), "comment": null}));
                }
            }
        }
        rows(
            &[
                ("col_name", "STRING"),
                ("data_type", "STRING"),
                ("comment", "STRING"),
            ],
            out,
        )
    }
}

/// SQL LIKE / Databricks SHOW pattern (`*` and `%` any, `_` one, `|` alternatives).
fn like_match(pat: &str, s: &str) -> bool {
    pat.split('|')
        .any(|p| glob(p.trim().as_bytes(), s.as_bytes()))
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*') | Some(b'%'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'_') | Some(b'.'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}
