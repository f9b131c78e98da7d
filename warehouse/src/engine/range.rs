//! Databricks `range(end)`, `range(start, end[, step])`: one BIGINT column named `id`.

use std::sync::Arc;

use deltalake::arrow::array::{Int64Array, RecordBatch};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::catalog::{TableFunctionImpl, TableProvider};
use deltalake::datafusion::common::{ScalarValue, plan_err};
use deltalake::datafusion::error::{DataFusionError, Result};
use deltalake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use deltalake::datafusion::logical_expr::Expr;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;

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
        let part = RangePartition {
            schema: schema.clone(),
            start,
            end,
            step,
        };
        Ok(Arc::new(StreamingTable::try_new(
            schema,
            vec![Arc::new(part)],
        )?))
    }
}

/// The rows of one `range(...)` call, generated batch by batch as they are pulled: nothing is
/// materialised up front, so `range(1e12)` costs one batch of memory and a LIMIT or a
/// cancellation stops it.
#[derive(Debug)]
struct RangePartition {
    schema: SchemaRef,
    start: i64,
    end: i64,
    step: i64,
}

impl PartitionStream for RangePartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (schema, end, step) = (self.schema.clone(), self.end, self.step);
        let more = move |cur: i64| (step > 0 && cur < end) || (step < 0 && cur > end);
        let batches = futures::stream::unfold(Some(self.start), move |state| {
            let schema = schema.clone();
            async move {
                let mut cur = state?;
                if !more(cur) {
                    return None;
                }
                // yield to the scheduler now and then, so the statement can be canceled
                tokio::task::consume_budget().await;
                let mut vals = Vec::with_capacity(BATCH as usize);
                let mut next = Some(cur);
                while vals.len() < BATCH as usize && more(cur) {
                    vals.push(cur);
                    match cur.checked_add(step) {
                        Some(n) => cur = n,
                        None => {
                            next = None;
                            break;
                        }
                    }
                    next = Some(cur);
                }
                let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vals))])
                    .map_err(DataFusionError::from);
                Some((batch, next))
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches))
    }
}
