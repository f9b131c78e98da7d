//! Databricks `range(end)`, `range(start, end[, step])`: one BIGINT column named `id`.

use std::sync::Arc;

use deltalake::arrow::array::{Int64Array, RecordBatch};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::datafusion::catalog::{TableFunctionImpl, TableProvider};
use deltalake::datafusion::common::{ScalarValue, plan_err};
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::error::Result;
use deltalake::datafusion::logical_expr::Expr;

/// The `range` table function.
#[derive(Debug)]
pub struct RangeFunc;

const BATCH: i64 = 65_536;

impl TableFunctionImpl for RangeFunc {
    fn call(&self, exprs: &[Expr]) -> Result<Arc<dyn TableProvider>> {
        let mut nums = Vec::new();
        for e in exprs {
            let v = match e {
                Expr::Literal(ScalarValue::Int64(Some(v)), _) => *v,
                Expr::Literal(ScalarValue::Int32(Some(v)), _) => *v as i64,
                Expr::Literal(s, _) => match s.cast_to(&DataType::Int64) {
                    Ok(ScalarValue::Int64(Some(v))) => v,
                    _ => return plan_err!("range() expects integer literals"),
                },
                _ => return plan_err!("range() expects integer literals"),
            };
            nums.push(v);
        }
        let (start, end, step) = match nums.as_slice() {
            [e] => (0, *e, 1),
            [s, e] => (*s, *e, 1),
            [s, e, st] | [s, e, st, _] => (*s, *e, *st),
            _ => return plan_err!("range() expects 1 to 4 arguments"),
        };
        if step == 0 {
            return plan_err!("range() step must not be 0");
        }
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let mut batches = Vec::new();
        let mut cur = start;
        while (step > 0 && cur < end) || (step < 0 && cur > end) {
            let mut vals = Vec::with_capacity(BATCH as usize);
            while vals.len() < BATCH as usize
                && ((step > 0 && cur < end) || (step < 0 && cur > end))
            {
                vals.push(cur);
                cur = cur.saturating_add(step);
            }
            batches.push(RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from(vals))],
            )?);
        }
        Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
    }
}
