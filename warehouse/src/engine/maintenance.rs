//! OPTIMIZE, VACUUM and DESCRIBE HISTORY, plus [`rows`] (JSON rows -> typed result).

use std::sync::Arc;
use std::time::Duration;

use deltalake::arrow::datatypes::{Field, Schema};
use deltalake::arrow::json::ReaderBuilder;
use deltalake::operations::optimize::{MetricDetails, OptimizeType};
use futures::StreamExt;
use serde_json::{Value, json};

use super::error::SqlError;
use super::sql::Name;
use super::types::parse_type;
use super::{Engine, Outcome, ResultSet, Stmtx, commit_props};
use crate::config::Privilege;

/// Builds a result from JSON objects and `(column, type text)` pairs.
pub(crate) fn rows(cols: &[(&str, &str)], data: Vec<Value>) -> Result<Outcome, SqlError> {
    let mut fields = Vec::new();
    for (n, t) in cols {
        fields.push(Field::new(*n, parse_type(t)?, true));
    }
    let schema = Arc::new(Schema::new(fields));
    let err = |e: deltalake::arrow::error::ArrowError| SqlError::Internal(e.to_string());
    let mut dec = ReaderBuilder::new(schema.clone())
        .with_batch_size(data.len().max(1))
        .build_decoder()
        .map_err(err)?;
    dec.serialize(&data).map_err(err)?;
    let batches = dec.flush().map_err(err)?.into_iter().collect();
    Ok(Outcome::Rows(ResultSet { schema, batches }))
}

const HISTORY_COLUMNS: &[(&str, &str)] = &[
    ("version", "BIGINT"),
    ("timestamp", "TIMESTAMP"),
    ("userId", "STRING"),
    ("userName", "STRING"),
    ("operation", "STRING"),
    ("operationParameters", "MAP<STRING, STRING>"),
    (
        "job",
        "STRUCT<jobId: STRING, jobName: STRING, jobRunId: STRING, runId: STRING, jobOwnerId: STRING, triggerType: STRING>",
    ),
    ("notebook", "STRUCT<notebookId: STRING>"),
    ("clusterId", "STRING"),
    ("readVersion", "BIGINT"),
    ("isolationLevel", "STRING"),
    ("isBlindAppend", "BOOLEAN"),
    ("operationMetrics", "MAP<STRING, STRING>"),
    ("userMetadata", "STRING"),
    ("engineInfo", "STRING"),
];

fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn details(d: &MetricDetails) -> Value {
    json!({"min": d.min, "max": d.max, "avg": d.avg, "totalFiles": d.total_files, "totalSize": d.total_size})
}

impl Engine {
    pub(crate) async fn describe_history(
        &self,
        x: &Stmtx,
        name: &Name,
        limit: Option<usize>,
    ) -> Result<Outcome, SqlError> {
        // DESCRIBE HISTORY delta.`/path/to/table` (admins only: a path bypasses grants)
        let table = match name.0.as_slice() {
            [d, path] if d.eq_ignore_ascii_case("delta") && path.starts_with('/') => {
                if !x.principal.admin {
                    return Err(SqlError::Permission {
                        privilege: "SELECT".into(),
                        kind: "ANY FILE".into(),
                        securable: path.clone(),
                    });
                }
                let dir = std::path::PathBuf::from(path);
                if !super::catalog::is_table(&dir) {
                    return Err(SqlError::analysis(
                        "DELTA_MISSING_DELTA_TABLE",
                        format!("`{path}` is not a Delta table."),
                        "42P01",
                    ));
                }
                super::catalog::open_table(&dir).await?
            }
            _ => {
                let t = self.resolve(x, name)?;
                self.open(x, &t, Privilege::Select).await?.1
            }
        };
        let latest = table.version().unwrap_or(0) as i64;
        let commits: Vec<_> = table.history(limit).collect().await;
        let mut out = Vec::new();
        for (i, c) in commits.into_iter().enumerate() {
            let c = c?;
            let params: serde_json::Map<String, Value> = c
                .operation_parameters
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(text(v))))
                .collect();
            let mut metrics: serde_json::Map<String, Value> = match c.info.get("operationMetrics") {
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| (camel(k), Value::String(text(v))))
                    .collect(),
                _ => Default::default(),
            };
            // Databricks names of the WRITE metrics
            if c.operation.as_deref() == Some("WRITE") {
                for (from, to) in [
                    ("numAddedRows", "numOutputRows"),
                    ("numAddedFiles", "numFiles"),
                ] {
                    if let Some(v) = metrics.get(from).cloned() {
                        metrics.entry(to.to_string()).or_insert(v);
                    }
                }
            }
            let ts = c.timestamp.map(|ms| {
                let mut s = String::new();
                super::values::push_timestamp(&mut s, ms as i128 * 1_000_000, true);
                s
            });
            let user_name = c
                .user_name
                .clone()
                .or_else(|| c.info.get("userName").map(text));
            let engine_info = c
                .engine_info
                .clone()
                .or_else(|| c.info.get("engineInfo").map(text));
            out.push(json!({
                "version": latest - i as i64,
                "timestamp": ts,
                "userId": c.user_id,
                "userName": user_name,
                "operation": c.operation,
                "operationParameters": params,
                "job": null,
                "notebook": null,
                "clusterId": null,
                "readVersion": c.read_version,
                "isolationLevel": c.isolation_level.map(|l| format!("{l:?}")),
                "isBlindAppend": c.is_blind_append,
                "operationMetrics": metrics,
                "userMetadata": c.user_metadata,
                "engineInfo": engine_info,
            }));
        }
        rows(HISTORY_COLUMNS, out)
    }

    pub(crate) async fn optimize(
        &self,
        x: &Stmtx,
        name: &Name,
        predicate: Option<String>,
        zorder: Vec<String>,
    ) -> Result<Outcome, SqlError> {
        if predicate.is_some() {
            return Err(SqlError::Unsupported("OPTIMIZE ... WHERE".into()));
        }
        let t = self.resolve(x, name)?;
        let dir = self.existing(&t)?;
        self.check(x, &t, Privilege::Modify)?;
        let _guard = self.lock(&dir).await;
        let (_d, table) = self.open(x, &t, Privilege::Modify).await?;
        let schema = table.snapshot()?.snapshot().arrow_schema();
        for c in &zorder {
            if !schema.fields().iter().any(|f| f.name() == c) {
                return Err(SqlError::unresolved_column(
                    c,
                    schema.fields().iter().map(|f| f.name()),
                ));
            }
        }
        let path = table.table_url().to_string();
        let ty = if zorder.is_empty() {
            OptimizeType::Compact
        } else {
            OptimizeType::ZOrder(zorder)
        };
        let (_table, m) = table
            .optimize()
            .with_type(ty)
            .with_commit_properties(commit_props(x))
            .await?;
        let metrics = json!({
            "numFilesAdded": m.num_files_added,
            "numFilesRemoved": m.num_files_removed,
            "filesAdded": details(&m.files_added),
            "filesRemoved": details(&m.files_removed),
            "partitionsOptimized": m.partitions_optimized,
            "numBatches": m.num_batches,
            "totalConsideredFiles": m.total_considered_files,
            "totalFilesSkipped": m.total_files_skipped,
            "preserveInsertionOrder": m.preserve_insertion_order,
        });
        let detail =
            "STRUCT<min: BIGINT, max: BIGINT, avg: DOUBLE, totalFiles: BIGINT, totalSize: BIGINT>";
        let metrics_type = format!(
            "STRUCT<numFilesAdded: BIGINT, numFilesRemoved: BIGINT, filesAdded: {detail}, filesRemoved: {detail}, partitionsOptimized: BIGINT, numBatches: BIGINT, totalConsideredFiles: BIGINT, totalFilesSkipped: BIGINT, preserveInsertionOrder: BOOLEAN>"
        );
        rows(
            &[("path", "STRING"), ("metrics", &metrics_type)],
            vec![json!({"path": path, "metrics": metrics})],
        )
    }

    pub(crate) async fn vacuum(
        &self,
        x: &Stmtx,
        name: &Name,
        retain_hours: Option<f64>,
        dry_run: bool,
    ) -> Result<Outcome, SqlError> {
        let t = self.resolve(x, name)?;
        let dir = self.existing(&t)?;
        self.check(x, &t, Privilege::Modify)?;
        let hours = retain_hours.unwrap_or(168.0);
        if hours < 0.0 {
            return Err(SqlError::analysis(
                "DELTA_VACUUM_RETENTION_PERIOD_NEGATIVE",
                "Retention period can not be negative.",
                "22023",
            ));
        }
        if self.retention_check && hours < 168.0 {
            return Err(SqlError::RetentionTooShort);
        }
        let _guard = self.lock(&dir).await;
        let (_d, table) = self.open(x, &t, Privilege::Modify).await?;
        let path = table.table_url().to_string();
        let (_table, m) = table
            .vacuum()
            .with_retention_period(
                chrono::Duration::from_std(Duration::from_secs_f64(hours * 3600.0))
                    .unwrap_or(chrono::Duration::zero()),
            )
            .with_enforce_retention_duration(false)
            .with_dry_run(dry_run)
            .with_commit_properties(commit_props(x))
            .await?;
        let data = if dry_run {
            m.files_deleted
                .iter()
                .map(|f| json!({"path": format!("{path}{f}")}))
                .collect()
        } else {
            vec![json!({"path": path})]
        };
        rows(&[("path", "STRING")], data)
    }
}
