//! INSERT, MERGE, UPDATE and DELETE, each one Delta commit through delta-rs (COPY INTO:
//! [`super::copy`]).

use std::sync::Arc;

use deltalake::arrow::datatypes::{Schema, SchemaRef};
use deltalake::datafusion::common::tree_node::{Transformed, TreeNode};
use deltalake::datafusion::common::{Column, DFSchema, ScalarValue};
use deltalake::datafusion::logical_expr::{Expr, ExprSchemable, cast, lit};
use deltalake::datafusion::prelude::DataFrame;
use deltalake::kernel::EagerSnapshot;
use deltalake::operations::merge::{DeleteBuilder, UpdateBuilder};
use deltalake::protocol::SaveMode;

use super::catalog::open_table;
use super::error::SqlError;
use super::sql::{MatchKind, Merge, MergeAction, MergeSource, Name};
use super::{Engine, Outcome, Stmtx, TableRef, commit_props, counts};
use crate::config::Privilege;

pub(crate) fn arrow_schema(table: &deltalake::DeltaTable) -> Result<SchemaRef, SqlError> {
    let snap: &EagerSnapshot = table.snapshot()?.snapshot();
    Ok(snap.arrow_schema())
}

/// Projects `df` onto the table schema: by position (or through `columns`), cast to the column
/// types; columns not listed become NULL.
pub(crate) fn conform(
    df: DataFrame,
    target: &Schema,
    columns: Option<&[String]>,
    table: &str,
) -> Result<DataFrame, SqlError> {
    let src: Vec<Expr> = df
        .schema()
        .iter()
        .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
        .collect();
    let names: Vec<String> = match columns {
        Some(c) => c.to_vec(),
        None => target.fields().iter().map(|f| f.name().clone()).collect(),
    };
    if names.len() != src.len() {
        let (class, what) = if src.len() < names.len() {
            ("NOT_ENOUGH_DATA_COLUMNS", "not enough")
        } else {
            ("TOO_MANY_DATA_COLUMNS", "too many")
        };
        return Err(SqlError::analysis(
            &format!("INSERT_COLUMN_ARITY_MISMATCH.{class}"),
            format!(
                "Cannot write to {table}, the reason is {what} data columns:\nTable columns: {}.\nData columns: {}.",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                df.schema()
                    .fields()
                    .iter()
                    .map(|f| format!("`{}`", f.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "21S01",
        ));
    }
    let mut exprs = Vec::with_capacity(target.fields().len());
    for f in target.fields() {
        let pos = names.iter().position(|n| n.eq_ignore_ascii_case(f.name()));
        let e = match pos {
            Some(i) => cast(src[i].clone(), f.data_type().clone()),
            None => lit(ScalarValue::try_from(f.data_type())
                .map_err(|e| SqlError::Internal(e.to_string()))?),
        };
        exprs.push(e.alias(f.name()));
    }
    for n in &names {
        if !target
            .fields()
            .iter()
            .any(|f| f.name().eq_ignore_ascii_case(n))
        {
            return Err(SqlError::unresolved_column(
                n,
                target.fields().iter().map(|f| f.name()),
            ));
        }
    }
    Ok(df.select(exprs)?)
}

/// The table's spelling of a column named case-insensitively.
fn target_column(target: &Schema, name: &str) -> Result<String, SqlError> {
    target
        .fields()
        .iter()
        .find(|f| f.name() == name)
        .or_else(|| {
            target
                .fields()
                .iter()
                .find(|f| f.name().eq_ignore_ascii_case(name))
        })
        .map(|f| f.name().clone())
        .ok_or_else(|| SqlError::unresolved_column(name, target.fields().iter().map(|f| f.name())))
}

/// A MERGE `UPDATE SET` action: the clause's optional condition and its assignments.
fn update_action(
    pred: Option<Expr>,
    sets: Vec<(String, Expr)>,
) -> impl FnOnce(UpdateBuilder) -> UpdateBuilder {
    move |mut u| {
        if let Some(p) = pred {
            u = u.predicate(p)
        }
        for (c, e) in sets {
            u = u.update(Column::new_unqualified(c), e)
        }
        u
    }
}

/// A MERGE `DELETE` action under the clause's optional condition.
fn delete_action(pred: Option<Expr>) -> impl FnOnce(DeleteBuilder) -> DeleteBuilder {
    move |mut d| {
        if let Some(p) = pred {
            d = d.predicate(p)
        }
        d
    }
}

/// Refuses NULLs in NOT NULL columns before anything is written.
pub(crate) fn check_not_null(
    target: &Schema,
    batches: &[deltalake::arrow::array::RecordBatch],
) -> Result<(), SqlError> {
    for (i, f) in target.fields().iter().enumerate() {
        if !f.is_nullable()
            && batches
                .iter()
                .any(|b| b.num_columns() > i && b.column(i).null_count() > 0)
        {
            return Err(SqlError::analysis(
                "DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
                format!("NOT NULL constraint violated for column: {}.", f.name()),
                "23502",
            ));
        }
    }
    Ok(())
}

impl Engine {
    /// Turns an expression text into a delta-rs expression; `:name` markers are bound as typed
    /// literals (planned by DataFusion against `schema`), never spliced into the text.
    fn expression(&self, x: &Stmtx, text: &str, schema: &DFSchema) -> Result<Expr, SqlError> {
        let e = x.ctx.state().create_logical_expr(text, schema)?;
        let bound = e
            .transform(|e| {
                if let Expr::Placeholder(p) = &e {
                    let name = p.id.trim_start_matches([':', '$']);
                    match x.bound.values.get(name) {
                        Some(v) => Ok(Transformed::yes(Expr::Literal(v.clone(), None))),
                        None => Err(deltalake::datafusion::error::DataFusionError::External(
                            Box::new(SqlError::UnboundParameter {
                                name: name.to_string(),
                            }),
                        )),
                    }
                } else {
                    Ok(Transformed::no(e))
                }
            })?
            .data;
        // surface type errors now rather than inside delta-rs
        let _ = bound.get_type(schema);
        Ok(bound)
    }

    pub(crate) async fn insert(
        &self,
        x: &mut Stmtx,
        name: &Name,
        overwrite: bool,
        columns: Option<Vec<String>>,
        source: &str,
    ) -> Result<Outcome, SqlError> {
        let t = self.resolve(x, name)?;
        let dir = self.existing(&t)?;
        self.check(x, &t, Privilege::Modify)?;
        let df = self.query(x, source).await?;
        let _guard = self.lock(&dir).await;
        let table = open_table(&dir).await?;
        let target = arrow_schema(&table)?;
        let df = conform(df, &target, columns.as_deref(), &t.quoted())?;
        let batches = self.collect(df).await?.batches;
        check_not_null(&target, &batches)?;
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        let mode = if overwrite {
            SaveMode::Overwrite
        } else {
            SaveMode::Append
        };
        table
            .write(batches)
            .with_save_mode(mode)
            .with_commit_properties(commit_props(x))
            .await?;
        Ok(counts(&[
            ("num_affected_rows", n as i64),
            ("num_inserted_rows", n as i64),
        ]))
    }

    pub(crate) async fn merge(&self, x: &mut Stmtx, m: Merge) -> Result<Outcome, SqlError> {
        let t = self.resolve(x, &m.target)?;
        let dir = self.existing(&t)?;
        self.check(x, &t, Privilege::Modify)?;
        let (source_df, default_alias) = match &m.source {
            MergeSource::Query(q) => (self.query(x, q).await?, "__source".to_string()),
            MergeSource::Table(n) => {
                let st = self.resolve(x, n)?;
                (
                    self.query(x, &format!("SELECT * FROM {}", st.quoted()))
                        .await?,
                    st.table.clone(),
                )
            }
        };
        let sa = m.source_alias.clone().unwrap_or(default_alias);
        let ta = m.target_alias.clone().unwrap_or_else(|| t.table.clone());
        let source_schema: Schema = source_df.schema().as_arrow().clone();
        let _guard = self.lock(&dir).await;
        let table = open_table(&dir).await?;
        let target = arrow_schema(&table)?;
        let both = DFSchema::try_from_qualified_schema(ta.as_str(), &target)?.join(
            &DFSchema::try_from_qualified_schema(sa.as_str(), &source_schema)?,
        )?;
        let on = self.expression(x, &m.on, &both)?;
        let mut b = table
            .merge(source_df, on)
            .with_source_alias(sa.clone())
            .with_target_alias(ta.clone())
            .with_commit_properties(commit_props(x));
        let tcols: Vec<String> = target.fields().iter().map(|f| f.name().clone()).collect();
        let star = || -> Result<Vec<(String, String)>, SqlError> {
            tcols
                .iter()
                .map(|c| {
                    if source_schema.fields().iter().any(|f| f.name() == c) {
                        Ok((
                            c.clone(),
                            format!("`{}`.`{}`", sa.replace('`', "``"), c.replace('`', "``")),
                        ))
                    } else {
                        Err(SqlError::UnresolvedColumn {
                            name: format!("`{sa}`.`{c}`"),
                            suggestions: source_schema
                                .fields()
                                .iter()
                                .map(|f| format!("`{sa}`.`{}`", f.name()))
                                .collect::<Vec<_>>()
                                .join(", "),
                        })
                    }
                })
                .collect::<Result<_, _>>()
        };
        for clause in m.clauses {
            let pred = clause
                .predicate
                .as_deref()
                .map(|p| self.expression(x, p, &both))
                .transpose()?;
            let pairs = |sets: &[(String, String)]| -> Result<Vec<(String, Expr)>, SqlError> {
                sets.iter()
                    .map(|(c, e)| Ok((target_column(&target, c)?, self.expression(x, e, &both)?)))
                    .collect()
            };
            // `UPDATE SET *` / `INSERT *` are the explicit forms over every source column.
            let action = match (clause.kind, clause.action) {
                (MatchKind::Matched, MergeAction::UpdateStar) => MergeAction::Update(star()?),
                (MatchKind::NotMatched, MergeAction::InsertStar) => {
                    let (cols, vals) = star()?.into_iter().unzip();
                    MergeAction::Insert(cols, vals)
                }
                (_, action) => action,
            };
            b = match (clause.kind, action) {
                (MatchKind::Matched, MergeAction::Update(sets)) => {
                    b.when_matched_update(update_action(pred, pairs(&sets)?))?
                }
                (MatchKind::Matched, MergeAction::Delete) => {
                    b.when_matched_delete(delete_action(pred))?
                }
                (MatchKind::NotMatched, MergeAction::Insert(cols, vals)) => {
                    let sets = pairs(&cols.into_iter().zip(vals).collect::<Vec<_>>())?;
                    b.when_not_matched_insert(|mut i| {
                        if let Some(p) = pred {
                            i = i.predicate(p)
                        }
                        for (c, e) in sets {
                            i = i.set(Column::new_unqualified(c), e)
                        }
                        i
                    })?
                }
                (MatchKind::NotMatchedBySource, MergeAction::Update(sets)) => {
                    b.when_not_matched_by_source_update(update_action(pred, pairs(&sets)?))?
                }
                (MatchKind::NotMatchedBySource, MergeAction::Delete) => {
                    b.when_not_matched_by_source_delete(delete_action(pred))?
                }
                (kind, action) => {
                    return Err(SqlError::syntax(match (kind, action) {
                        (MatchKind::Matched, _) => "INSERT",
                        _ => "UPDATE",
                    }));
                }
            };
        }
        let (_table, mm) = b.await?;
        let (u, d, i) = (
            mm.num_target_rows_updated as i64,
            mm.num_target_rows_deleted as i64,
            mm.num_target_rows_inserted as i64,
        );
        Ok(counts(&[
            ("num_affected_rows", u + d + i),
            ("num_updated_rows", u),
            ("num_deleted_rows", d),
            ("num_inserted_rows", i),
        ]))
    }

    /// Resolves `name` for an UPDATE or DELETE: MODIFY checked, the commit lock taken, the table
    /// opened.
    async fn hold_to_modify(&self, x: &Stmtx, name: &Name) -> Result<Held, SqlError> {
        let t = self.resolve(x, name)?;
        let dir = self.existing(&t)?;
        self.check(x, &t, Privilege::Modify)?;
        let _lock = self.lock(&dir).await;
        let table = open_table(&dir).await?;
        let target = arrow_schema(&table)?;
        let schema = DFSchema::try_from(target.as_ref().clone())?;
        Ok(Held {
            t,
            table,
            target,
            schema,
            _lock,
        })
    }

    pub(crate) async fn update(
        &self,
        x: &mut Stmtx,
        name: &Name,
        alias: Option<String>,
        assignments: Vec<(String, String)>,
        predicate: Option<String>,
    ) -> Result<Outcome, SqlError> {
        let Held {
            t,
            table,
            target,
            schema,
            _lock,
        } = self.hold_to_modify(x, name).await?;
        let unq = |s: &str| unqualified(s, alias.as_deref(), &t.table);
        let mut b = table.update().with_commit_properties(commit_props(x));
        if let Some(p) = predicate {
            b = b.with_predicate(self.expression(x, &unq(&p), &schema)?);
        }
        for (c, e) in assignments {
            let c = target_column(&target, &c)?;
            b = b.with_update(
                Column::new_unqualified(c),
                self.expression(x, &unq(&e), &schema)?,
            );
        }
        let (_table, m) = b.await?;
        Ok(counts(&[("num_affected_rows", m.num_updated_rows as i64)]))
    }

    pub(crate) async fn delete(
        &self,
        x: &mut Stmtx,
        name: &Name,
        alias: Option<String>,
        predicate: Option<String>,
    ) -> Result<Outcome, SqlError> {
        let Held {
            t,
            table,
            schema,
            _lock,
            ..
        } = self.hold_to_modify(x, name).await?;
        let mut b = table.delete().with_commit_properties(commit_props(x));
        if let Some(p) = predicate {
            let p = unqualified(&p, alias.as_deref(), &t.table);
            b = b.with_predicate(self.expression(x, &p, &schema)?);
        }
        let (_table, m) = b.await?;
        Ok(counts(&[(
            "num_affected_rows",
            m.num_deleted_rows.unwrap_or(0) as i64,
        )]))
    }
}

/// A table held for an UPDATE or DELETE ([`Engine::hold_to_modify`]).
struct Held {
    t: TableRef,
    table: deltalake::DeltaTable,
    /// Its Arrow schema.
    target: SchemaRef,
    /// The same as a DataFusion schema, to plan expressions against.
    schema: DFSchema,
    /// The table's commit lock, held while this lives.
    _lock: tokio::sync::OwnedMutexGuard<()>,
}

/// `text` (an expression) with the qualifiers `alias.` and `table.` dropped.
fn unqualified(text: &str, alias: Option<&str>, table: &str) -> String {
    let text = alias
        .map(|a| super::rewrite::strip_qualifier(text, a))
        .unwrap_or_else(|| text.to_string());
    super::rewrite::strip_qualifier(&text, table)
}

#[allow(dead_code)]
fn _assert_send(s: Arc<Schema>) -> Arc<Schema> {
    s
}
