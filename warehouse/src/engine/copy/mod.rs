//! COPY INTO from a volume: one Delta commit per statement, idempotent as on Databricks.
//!
//! The files of the source (a file, or a directory walked recursively, hidden `.`/`_` names
//! skipped) that a committed `COPY INTO` already loaded into the table are skipped; the
//! loaded files (volume path and size) are remembered in the same commit as the rows, as
//! custom commit metadata ([`LOADED_KEY`]), and read back from the table's history, so a
//! `COPY INTO` re-sent after its answer was lost inserts nothing. `COPY_OPTIONS ('force' =
//! 'true')` loads every file again. When nothing is left to load, no commit is made.

mod jsonl;
mod read_files;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use deltalake::DeltaTable;
use deltalake::arrow::datatypes::Schema;
use deltalake::datafusion::common::Column;
use deltalake::datafusion::logical_expr::Expr;
use deltalake::datafusion::prelude::{
    CsvReadOptions, DataFrame, JsonReadOptions, ParquetReadOptions,
};
use deltalake::protocol::SaveMode;
use futures::StreamExt;
use serde_json::{Value, json};

use super::catalog::open_table;
use super::dml::{arrow_schema, check_not_null, conform};
use super::error::{SqlError, quote_name};
use super::sql::CopyInto;
use super::{Engine, Outcome, Stmtx, commit_props_with, counts};
use crate::config::Privilege;
use crate::volumes::{VolumeRef, loadable};

/// Commit metadata key listing the files a `COPY INTO` commit loaded:
/// `[{"path": "/Volumes/c/s/v/dir/file", "size": n}, ...]`.
pub const LOADED_KEY: &str = "copyIntoLoadedFiles";

/// One source file.
#[derive(Clone, Debug)]
pub(crate) struct SourceFile {
    /// Local path.
    pub local: PathBuf,
    /// `/Volumes/c/s/v/...`.
    pub path: String,
    /// Bytes.
    pub size: u64,
}

fn option<'a>(options: &'a [(String, String)], key: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The loadable files of `local` (a file or a directory, walked in name order).
pub(crate) fn source_files(
    vol: &VolumeRef,
    vol_dir: &Path,
    local: &Path,
) -> Result<Vec<SourceFile>, SqlError> {
    let mut out = Vec::new();
    let mut stack = vec![local.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).map_err(|e| SqlError::Internal(e.to_string()))?;
        if meta.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(&p)
                .map_err(|e| SqlError::Internal(e.to_string()))?
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| loadable(n))
                .collect();
            // reversed onto the stack, so that files come out in name order
            names.sort_by(|a, b| b.cmp(a));
            stack.extend(names.into_iter().map(|n| p.join(n)));
        } else if meta.is_file() {
            let rel = p
                .strip_prefix(vol_dir)
                .map_err(|_| SqlError::OutsideDataDir)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push(SourceFile {
                path: format!("{}/{rel}", vol.path()),
                local: p,
                size: meta.len(),
            });
        }
    }
    Ok(out)
}

/// The (path, size) of every file a committed `COPY INTO` loaded into `table`.
async fn loaded_files(table: &DeltaTable) -> Result<HashSet<(String, u64)>, SqlError> {
    let mut out = HashSet::new();
    let commits: Vec<_> = table.history(None).collect().await;
    for c in commits {
        let c = c?;
        if let Some(Value::Array(files)) = c.info.get(LOADED_KEY) {
            for f in files {
                if let (Some(p), Some(s)) = (f["path"].as_str(), f["size"].as_u64()) {
                    out.insert((p.to_string(), s));
                }
            }
        }
    }
    Ok(out)
}

impl Engine {
    /// The volume and local path of source `path` (`/Volumes/c/s/v/...`), which must exist and
    /// be readable by the statement's principal (READ VOLUME).
    pub(crate) fn readable_source(
        &self,
        x: &Stmtx,
        path: &str,
    ) -> Result<(VolumeRef, PathBuf), SqlError> {
        let (vol, local) = crate::volumes::resolve(self.root(), path)
            .map_err(|e| SqlError::analysis("INVALID_PATH", e.to_string(), "22KD1"))?;
        self.contained(&local)?;
        if !self.schema_dir(&vol.catalog, &vol.schema)?.is_dir() || !vol.exists(self.root()) {
            return Err(SqlError::VolumeNotFound {
                name: quote_name(&[&vol.catalog, &vol.schema, &vol.volume]),
            });
        }
        if !x.principal.allows(
            Privilege::Select,
            &vol.catalog,
            &vol.schema,
            Some(&vol.volume),
        ) {
            return Err(SqlError::Permission {
                privilege: "READ VOLUME".into(),
                kind: "Volume".into(),
                securable: vol.full(),
            });
        }
        if !local.exists() {
            return Err(SqlError::analysis(
                "PATH_NOT_FOUND",
                format!("Path does not exist: {path}."),
                "42K03",
            ));
        }
        Ok((vol, local))
    }

    /// `COPY INTO` (see the module documentation).
    pub(crate) async fn copy_into(&self, x: &mut Stmtx, c: CopyInto) -> Result<Outcome, SqlError> {
        let t = self.resolve(x, &c.table)?;
        let dir = self.existing(&t)?;
        self.check(x, &t, Privilege::Modify)?;
        let (vol, local) = self.readable_source(x, &c.path)?;
        if c.select.is_some() && c.format != "JSON" {
            return Err(SqlError::Unsupported(format!(
                "COPY INTO ... FROM (SELECT ...) with FILEFORMAT = {} (only JSON)",
                c.format
            )));
        }
        let force = is_true(option(&c.copy_options, "force"));
        // the table's commit lock is held from reading its history to the commit, so two
        // concurrent loads of the same files cannot both load them
        let _guard = self.lock(&dir).await;
        let table = open_table(&dir).await?;
        let loaded = if force {
            HashSet::new()
        } else {
            loaded_files(&table).await?
        };
        let vol_dir = vol.dir(self.root())?;
        let files: Vec<SourceFile> = source_files(&vol, &vol_dir, &local)?
            .into_iter()
            .filter(|f| !loaded.contains(&(f.path.clone(), f.size)))
            .collect();
        let none = || {
            counts(&[
                ("num_affected_rows", 0),
                ("num_inserted_rows", 0),
                ("num_skipped_corrupt_files", 0),
            ])
        };
        if files.is_empty() {
            return Ok(none());
        }
        let target = arrow_schema(&table)?;
        let df = match &c.select {
            Some(items) => match self.load_jsonl(x, &files, items).await? {
                Some((df, names)) => conform(df, &target, Some(&names), &t.quoted())?,
                None => return Ok(none()),
            },
            None => {
                self.read_files(
                    x,
                    &files,
                    &c.format,
                    &c.format_options,
                    &target,
                    &t.quoted(),
                )
                .await?
            }
        };
        let batches = self.collect(df).await?.batches;
        check_not_null(&target, &batches)?;
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        if n == 0 {
            return Ok(none());
        }
        let record: Vec<Value> = files
            .iter()
            .map(|f| json!({"path": f.path, "size": f.size}))
            .collect();
        table
            .write(batches)
            .with_save_mode(SaveMode::Append)
            .with_commit_properties(commit_props_with(
                x,
                vec![(LOADED_KEY.to_string(), Value::Array(record))],
            ))
            .await?;
        Ok(counts(&[
            ("num_affected_rows", n as i64),
            ("num_inserted_rows", n as i64),
            ("num_skipped_corrupt_files", 0),
        ]))
    }

    /// `FROM 'path'`: the files read by DataFusion (JSON and PARQUET by column name, CSV by
    /// position unless `header`), conformed to the table.
    async fn read_files(
        &self,
        x: &Stmtx,
        files: &[SourceFile],
        format: &str,
        options: &[(String, String)],
        target: &Schema,
        table: &str,
    ) -> Result<DataFrame, SqlError> {
        let paths: Vec<String> = files
            .iter()
            .map(|f| f.local.to_string_lossy().into_owned())
            .collect();
        let by_name;
        let df = match format {
            "JSON" => {
                by_name = true;
                x.ctx
                    .read_json(
                        paths,
                        JsonReadOptions {
                            file_extension: "",
                            ..Default::default()
                        },
                    )
                    .await?
            }
            "CSV" => {
                let header = is_true(option(options, "header"));
                by_name = header;
                let mut o = CsvReadOptions::new().has_header(header).file_extension("");
                if let Some(d) = option(options, "sep")
                    .or(option(options, "delimiter"))
                    .and_then(|d| d.bytes().next())
                {
                    o = o.delimiter(d);
                }
                x.ctx.read_csv(paths, o).await?
            }
            "PARQUET" => {
                by_name = true;
                x.ctx
                    .read_parquet(
                        paths,
                        ParquetReadOptions {
                            file_extension: "",
                            ..Default::default()
                        },
                    )
                    .await?
            }
            other => {
                return Err(SqlError::Unsupported(format!(
                    "COPY INTO with FILEFORMAT = {other}"
                )));
            }
        };
        if !by_name {
            return conform(df, target, None, table);
        }
        let present: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let cols: Vec<String> = target
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| present.iter().any(|p| p.eq_ignore_ascii_case(n)))
            .collect();
        let df = df.select(
            cols.iter()
                .map(|c| {
                    let src = present
                        .iter()
                        .find(|p| p.eq_ignore_ascii_case(c))
                        .cloned()
                        .unwrap_or_default();
                    Expr::Column(Column::new_unqualified(src))
                })
                .collect::<Vec<_>>(),
        )?;
        conform(df, target, Some(&cols), table)
    }
}
