"""databricks-sdk-py client for the benchmarks (issue 6).

Does what a Python user does: WorkspaceClient(host, token).statement_execution.execute_statement,
then get_statement_result_chunk_n over every chunk (or, with EXTERNAL_LINKS, a plain
`requests.get` of each presigned link without the Authorization header, as the SDK docs tell).
Client time runs from execute_statement to the last row; the SDK returns strings only, so the
checksum step converts the cells the way a user would (int, Decimal) — that cost is reported
separately (`typed_ms`) and is NOT part of the client time the targets are judged on.

Writes a one-line JSON report to --report.
"""

import argparse
import json
import resource
import sys
import time
from decimal import Decimal

t_process = time.perf_counter()

from databricks.sdk import WorkspaceClient  # noqa: E402
from databricks.sdk.service.sql import (  # noqa: E402
    Disposition,
    ExecuteStatementRequestOnWaitTimeout,
    Format,
    StatementParameterListItem,
    StatementState,
)
import requests  # noqa: E402

t_imported = time.perf_counter()


def vmhwm_kb():
    """Peak RSS of this process's own address space (ru_maxrss would include the spawning
    parent's RSS: a vfork'd child shares it until exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def wait(w, resp):
    delay = 0.05
    while resp.status.state in (StatementState.PENDING, StatementState.RUNNING):
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
        resp = w.statement_execution.get_statement(resp.statement_id)
    if resp.status.state != StatementState.SUCCEEDED:
        raise RuntimeError(f"statement {resp.statement_id}: {resp.status.state} {resp.status.error}")
    return resp


def execute(w, args, sql, params=None, external=False):
    resp = w.statement_execution.execute_statement(
        statement=sql,
        warehouse_id=args.warehouse_id,
        disposition=Disposition.EXTERNAL_LINKS if external else Disposition.INLINE,
        format=Format.JSON_ARRAY,
        wait_timeout="10s",
        on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
        parameters=params,
    )
    return wait(w, resp)


def read(w, args, emit):
    """Reads every row; returns the list of chunks' row lists' total count and the rows themselves
    chunk by chunk through `emit`."""
    external = args.disposition == "EXTERNAL_LINKS"
    resp = execute(w, args, args.sql, external=external)
    sid = resp.statement_id
    result = resp.result
    session = requests.Session() if external else None
    rows = 0
    while result is not None:
        if external:
            for link in result.external_links or []:
                r = session.get(link.external_link, headers=link.http_headers or {})
                r.raise_for_status()
                data = r.json()
                rows += len(data)
                emit(data)
            nxt = (result.external_links or [None])[-1]
            nxt = nxt.next_chunk_index if nxt is not None else None
        else:
            data = result.data_array or []
            rows += len(data)
            emit(data)
            nxt = result.next_chunk_index
        if nxt is None:
            break
        result = w.statement_execution.get_statement_result_chunk_n(sid, nxt)
    return rows


def checksum_typed(chunks, types):
    s = 0
    for data in chunks:
        for row in data:
            for t, cell in zip(types, row):
                if cell is None:
                    continue
                if t == "LONG":
                    s += int(cell)
                elif t == "DECIMAL":
                    s += int(Decimal(cell) * 100)
                else:
                    s += len(cell)
    return s % (1 << 64)


def dml_batches(op, ids, batch_bytes):
    items = []
    size = 1
    for i in ids:
        if op == "delete":
            item = '{"c0":%d}' % i
        else:
            name = "null" if i % 1000 == 999 else '"user_%07d-v2"' % i
            whole = (i * 7919) % 1_000_000
            sign = "-" if i % 7 == 3 else ""
            item = '{"c0":%d,"c1":%s,"c2":%s%d.%02d}' % (i, name, sign, whole, i % 100)
        if items and size + len(item) + 2 > batch_bytes:
            yield "[" + ",".join(items) + "]"
            items, size = [], 1
        items.append(item)
        size += len(item) + 1
    if items:
        yield "[" + ",".join(items) + "]"


def dml(w, args, run):
    t = args.target
    struct = "ARRAY<STRUCT<c0: BIGINT, c1: STRING, c2: DECIMAL(10,2)>>"
    if args.op == "write":
        sql = f"INSERT INTO {t} (`id`, `name`, `amount`) SELECT c0, c1, c2 FROM (SELECT inline(from_json(:rows, '{struct}'))) AS s"
        col = 1
    elif args.op == "update":
        sql = (f"MERGE INTO {t} AS t USING (SELECT inline(from_json(:rows, '{struct}'))) AS s ON t.`id` = s.c0 "
               "WHEN MATCHED THEN UPDATE SET t.`name` = s.c1, t.`amount` = s.c2")
        col = 1  # num_updated_rows
    else:
        sql = (f"MERGE INTO {t} AS t USING (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT>>'))) AS s "
               "ON t.`id` = s.c0 WHEN MATCHED THEN DELETE")
        col = 2  # num_deleted_rows
    start = args.start_id + run * args.stride
    total = statements = 0
    for batch in dml_batches(args.op, range(start, start + args.count), args.batch_bytes):
        resp = execute(w, args, sql, params=[StatementParameterListItem(name="rows", value=batch, type="STRING")])
        row = resp.result.data_array[0]
        total += int(row[col] if col < len(row) else row[0])
        statements += 1
    return total, statements


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--warehouse-id", required=True)
    p.add_argument("--op", default="read", choices=["read", "write", "update", "delete"])
    p.add_argument("--sql", default="")
    p.add_argument("--disposition", default="INLINE")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--emit-json", action="store_true", help="print every row as a JSON array line on stdout")
    p.add_argument("--target", default="")
    p.add_argument("--start-id", type=int, default=0)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--stride", type=int, default=0)
    p.add_argument("--batch-bytes", type=int, default=900000)
    p.add_argument("--report", required=True)
    args = p.parse_args()

    w = WorkspaceClient(host=args.host, token=args.token)
    times, typed_ms, rows, checksum, statements, first_row_ms = [], [], 0, None, 0, None
    out = sys.stdout
    for run in range(args.runs):
        if args.op == "read":
            conv = [0.0, 0]
            if args.emit_json:
                def emit(data):
                    nonlocal first_row_ms
                    if first_row_ms is None and data:
                        first_row_ms = (time.perf_counter() - t_process) * 1000
                    out.write("\n".join(json.dumps(r) for r in data))
                    out.write("\n")
            else:
                def emit(data):
                    # typed conversion, as a user would do it; timed apart from the client time
                    t1 = time.perf_counter()
                    conv[1] = (conv[1] + checksum_typed([data], ["LONG", "STRING", "DECIMAL"])) % (1 << 64)
                    conv[0] += time.perf_counter() - t1
            t0 = time.perf_counter()
            rows = read(w, args, emit)
            times.append((time.perf_counter() - t0 - conv[0]) * 1000)
            if not args.emit_json:
                typed_ms.append(conv[0] * 1000)
                checksum = conv[1]
        else:
            t0 = time.perf_counter()
            rows, statements = dml(w, args, run)
            times.append((time.perf_counter() - t0) * 1000)
    out.flush()
    report = {
        "client": "python",
        "times_ms": times,
        "typed_ms": typed_ms,
        "rows": rows,
        "checksum": checksum,
        "statements": statements,
        "vmhwm_kb": vmhwm_kb(),
        "import_ms": (t_imported - t_process) * 1000,
        "first_row_ms": first_row_ms,
    }
    with open(args.report, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
