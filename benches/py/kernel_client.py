"""databricks-sql-kernel client for the benchmarks (issue 15): Databricks' own Rust SQL client
through its Python bindings, unmodified, in the venv made by warehouse/scripts/clients-venv.sh.

Does what a Python user of the kernel does: one Session (POST /api/2.0/sql/sessions), then per
run statement() / set_sql / execute (ARROW_STREAM, INLINE_OR_EXTERNAL_LINKS, LZ4_FRAME: the
kernel's own choice) and fetch_next_batch until None, then close. Client time runs from
statement() to the last batch read and checked, close included; the session is opened once,
untimed (as the other clients' connections). The checksum is taken over the typed Arrow values
with pyarrow.compute (vectorised, exact: the DECIMAL sum is a decimal128), so the client time
includes reading every value but no per-cell Python objects.

--emit-json prints every row as one JSON object line on stdout (to_pylist + json.dumps, Decimal
as text): the whole-process comparison. Writes a one-line JSON report to --report.
"""

import argparse
import json
import resource
import sys
import time

t_process = time.perf_counter()

import databricks_sql_kernel as k  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

t_imported = time.perf_counter()


def vmhwm_kb():
    """Peak RSS of this process's own address space (see sdk_client.py)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def checksum_batch(b):
    """Σ id + Σ len(name) + Σ amount in cents over one batch (nulls count 0), as the Rust
    clients compute it row by row."""
    ids = pc.sum(b.column(0)).as_py() or 0
    lens = pc.sum(pc.utf8_length(b.column(1))).as_py() or 0
    amount = pc.sum(b.column(2)).as_py()  # decimal.Decimal, exact
    cents = int(amount.scaleb(2)) if amount is not None else 0
    return ids + lens + cents


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--token", required=True)
    p.add_argument("--warehouse-id", required=True)
    p.add_argument("--sql", required=True)
    p.add_argument("--runs", type=int, default=1, help="timed runs, after one untimed warm-up (none with --emit-json)")
    p.add_argument("--emit-json", action="store_true", help="print every row as a JSON object line on stdout")
    p.add_argument("--report", required=True)
    args = p.parse_args()

    session = k.Session(
        host=args.host,
        http_path=f"/sql/1.0/warehouses/{args.warehouse_id}",
        access_token=args.token,
        catalog="main",
        schema="default",
    )
    out = sys.stdout
    times, rows, checksum, first_row_ms = [], 0, None, None
    total_runs = 1 if args.emit_json else args.runs + 1
    for run in range(total_runs):
        t0 = time.perf_counter()
        st = session.statement()
        st.set_sql(args.sql)
        ex = st.execute()
        n = s = 0
        while (b := ex.fetch_next_batch()) is not None:
            n += b.num_rows
            if args.emit_json:
                if first_row_ms is None and b.num_rows:
                    first_row_ms = (time.perf_counter() - t_process) * 1000
                out.write("".join(json.dumps(r, default=str) + "\n" for r in b.to_pylist()))
            else:
                s += checksum_batch(b)
        ex.close()
        st.close()
        elapsed = (time.perf_counter() - t0) * 1000
        if args.emit_json or run > 0:
            times.append(elapsed)
        rows = n
        checksum = None if args.emit_json else s % (1 << 64)
    session.close()
    out.flush()
    report = {
        "client": "databricks-sql-kernel",
        "kernel_version": getattr(k, "__version__", None),
        "times_ms": times,
        "rows": rows,
        "checksum": checksum,
        "statements": 1,
        "vmhwm_kb": vmhwm_kb(),
        "import_ms": (t_imported - t_process) * 1000,
        "first_row_ms": first_row_ms,
    }
    with open(args.report, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
