"""databricks-sdk-py, unmodified, against the local warehouse (run by tests/warehouse.rs)."""
import os
import time
from decimal import Decimal

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import (
    Disposition,
    ExecuteStatementRequestOnWaitTimeout,
    Format,
    StatementParameterListItem,
    StatementState,
)

w = WorkspaceClient(host=os.environ["WH_HOST"], token=os.environ["WH_TOKEN"])
wid = os.environ["WH_ID"]

# warehouse lookup
wh = w.warehouses.get(wid)
assert wh.id == wid, wh

# async execution with polling
resp = w.statement_execution.execute_statement(
    statement="SELECT id, amount FROM main.default.sdk WHERE id >= :lo ORDER BY id",
    warehouse_id=wid,
    parameters=[StatementParameterListItem(name="lo", value="0", type="BIGINT")],
    disposition=Disposition.INLINE,
    format=Format.JSON_ARRAY,
    wait_timeout="0s",
    on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
)
sid = resp.statement_id
while resp.status.state in (StatementState.PENDING, StatementState.RUNNING):
    time.sleep(0.05)
    resp = w.statement_execution.get_statement(sid)
assert resp.status.state == StatementState.SUCCEEDED, resp.status
cols = [c.name for c in resp.manifest.schema.columns]
assert cols == ["id", "amount"], cols
assert resp.manifest.schema.columns[1].type_precision == 10
rows = list(resp.result.data_array)
chunk = resp.result
while chunk.next_chunk_index is not None:
    chunk = w.statement_execution.get_statement_result_chunk_n(sid, chunk.next_chunk_index)
    rows.extend(chunk.data_array)
assert len(rows) == resp.manifest.total_row_count, (len(rows), resp.manifest.total_row_count)
total = sum(Decimal(r[1]) for r in rows)

# synchronous path, and a statement failure surfaced as FAILED
bad = w.statement_execution.execute_statement(statement="SELECT * FROM main.default.nope", warehouse_id=wid, wait_timeout="10s")
assert bad.status.state == StatementState.FAILED, bad.status
assert "TABLE_OR_VIEW_NOT_FOUND" in bad.status.error.message, bad.status.error

# cancel
slow = w.statement_execution.execute_statement(
    statement="SELECT sum(a.id * b.id) FROM range(30000) a CROSS JOIN range(30000) b", warehouse_id=wid, wait_timeout="0s"
)
w.statement_execution.cancel_execution(slow.statement_id)
assert w.statement_execution.get_statement(slow.statement_id).status.state == StatementState.CANCELED

print(f"SDK OK rows={len(rows)} sum={total}")
