"""Databricks' own clients, unmodified, against the local warehouse (run by tests/clients/python.rs).

usage: sea_clients.py kernel|connector|kernel-expired-link
env:   WH_HOST (http://127.0.0.1:PORT), WH_TOKEN, WH_ID, WH_SCHEMA (the session's schema)

Prints one line per checked fact; the Rust test compares them exactly.
"""
import datetime
import decimal
import os
import sys
import time

MODE = sys.argv[1]
HOST = os.environ["WH_HOST"]
TOKEN = os.environ["WH_TOKEN"]
WID = os.environ["WH_ID"]
SCHEMA = os.environ.get("WH_SCHEMA", "default")
HTTP_PATH = f"/sql/1.0/warehouses/{WID}"

TS = "2024-02-29T23:59:59.123456Z"
NTZ = "2024-02-29 23:59:59.123456"
BIG_DEC = "12345678901234567890.123456789012345678"
COMPLEX_ROWS = '[{"c0": 4, "c1": [1, null, 3], "c2": {"a": 1}, "c3": {"x": 5, "y": "z"}, "c4": -0.000000000000000001}]'
COMPLEX_SCHEMA = "ARRAY<STRUCT<c0: BIGINT, c1: ARRAY<INT>, c2: MAP<STRING, INT>, c3: STRUCT<x: INT, y: STRING>, c4: DECIMAL(38,18)>>"

CREATE = (
    "CREATE TABLE t (id BIGINT, amount DECIMAL(38,18), ts TIMESTAMP, ntz TIMESTAMP_NTZ, b BINARY, "
    "d DATE, s STRING, ok BOOLEAN, f DOUBLE, arr ARRAY<INT>, m MAP<STRING, INT>, st STRUCT<x: INT, y: STRING>)"
)
INSERT_LITERALS = (
    "INSERT INTO t (id, amount, ts, ntz, b, d, s, ok, f) VALUES (1, 0, TIMESTAMP '2024-02-29 23:59:59.123456', "
    "CAST('2024-02-29 23:59:59.123456' AS TIMESTAMP_NTZ), X'00FF10', DATE '2024-02-29', 'h\u00e9llo', true, 1.5)"
)
INSERT_PARAMS = (
    "INSERT INTO t (id, amount, ts, ntz, b, d, s, ok, f) "
    "VALUES (:id, :amount, :ts, :ntz, unhex(:b), :d, :s, :ok, :f)"
)
INSERT_NULLS = "INSERT INTO t (id) VALUES (3)"
INSERT_COMPLEX = (
    "INSERT INTO t (id, arr, m, st, amount) SELECT c0, c1, c2, c3, c4 FROM "
    f"(SELECT inline(from_json(:rows, '{COMPLEX_SCHEMA}', map('mode', 'FAILFAST')))) AS s"
)
READ = "SELECT id, amount, ts, ntz, b, d, s, ok, f, arr, m, st FROM t ORDER BY id"
BIG = "SELECT id, amount FROM main.default.big ORDER BY id"


def show(v):
    """One canonical text per value, whatever Python type a client hands back."""
    if v is None:
        return "NULL"
    if isinstance(v, decimal.Decimal):
        return "D" + format(v, "f")
    if isinstance(v, datetime.datetime):
        return ("TS" if v.tzinfo else "NTZ") + v.isoformat()
    if isinstance(v, datetime.date):
        return "DATE" + v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)) and not isinstance(v, str):
        # a MAP reaches pyarrow's to_pylist as a list of (key, value) tuples
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
            return "{" + ",".join(f"{k}:{show(x)}" for k, x in v) + "}"
        return "[" + ",".join(show(x) for x in v) + "]"
    if hasattr(v, "tolist"):  # numpy arrays from pandas conversions
        return show(v.tolist())
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    return repr(v)


def report_table(schema_types, rows):
    print("schema " + " ".join(schema_types))
    for r in rows:
        print("row " + " ".join(f"{k}={show(v)}" for k, v in r.items()))


def report_big(n, ids, amounts, secs):
    print(f"big rows={n} sum_id={ids} sum_amount={format(amounts, 'f')}")
    print(f"TIMING {MODE} 300k-row read {secs:.3f}s", file=sys.stderr)


def run_kernel():
    import databricks_sql_kernel as k

    s = k.Session(host=HOST, http_path=HTTP_PATH, access_token=TOKEN, catalog="main", schema=SCHEMA)

    def q(sql, params=()):
        st = s.statement()
        st.set_sql(sql)
        for name, value, ty in params:
            st.bind_named_param(name, value, ty)
        ex = st.execute()
        t = ex.fetch_all_arrow()
        ex.close()
        st.close()
        return t

    q(CREATE)
    q(INSERT_LITERALS)
    n = q(INSERT_PARAMS, [
        ("id", "2", "BIGINT"), ("amount", BIG_DEC, "DECIMAL(38,18)"), ("ts", TS, "TIMESTAMP"),
        ("ntz", NTZ, "TIMESTAMP_NTZ"), ("b", "00FF10", "STRING"), ("d", "2024-02-29", "DATE"),
        ("s", "x'y", "STRING"), ("ok", "false", "BOOLEAN"), ("f", "-2.25", "DOUBLE"),
    ])
    print("inserted " + show(n.to_pylist()[0]["num_inserted_rows"]))
    q(INSERT_NULLS)
    q(INSERT_COMPLEX, [("rows", COMPLEX_ROWS, "STRING")])
    t = q(READ)
    report_table([f"{f.name}:{f.type}" for f in t.schema], t.to_pylist())
    t0 = time.time()
    st = s.statement()
    st.set_sql(BIG)
    ex = st.execute()
    n = ids = 0
    amounts = decimal.Decimal(0)
    batches = 0
    while (b := ex.fetch_next_batch()) is not None:
        batches += 1
        n += b.num_rows
        ids += sum(b.column(0).to_pylist())
        amounts += sum(b.column(1).to_pylist(), decimal.Decimal(0))
    ex.close()
    report_big(n, ids, amounts, time.time() - t0)
    s.close()


def run_kernel_expired_link():
    """The first link the server issues is already expired: the kernel must refresh it
    through the chunk endpoint and still read every row."""
    import databricks_sql_kernel as k

    s = k.Session(host=HOST, http_path=HTTP_PATH, access_token=TOKEN, catalog="main", schema="default")
    st = s.statement()
    st.set_sql("SELECT id FROM range(1000) ORDER BY id")
    ex = st.execute()
    t = ex.fetch_all_arrow()
    ex.close()
    print(f"expired-link rows={t.num_rows} sum={sum(t.column(0).to_pylist())}")
    s.close()


def run_connector():
    from databricks import sql

    def connect(**extra):
        return sql.connect(
            server_hostname=HOST.rsplit(":", 1)[0], _port=int(HOST.rsplit(":", 1)[1]),
            http_path=HTTP_PATH, access_token=TOKEN, use_sea=True, enable_telemetry=False,
            catalog="main", schema=SCHEMA, **extra,
        )

    conn = connect()
    cur = conn.cursor()
    cur.execute(CREATE)
    cur.execute(INSERT_LITERALS)
    cur.execute(INSERT_PARAMS, {
        "id": 2, "amount": decimal.Decimal(BIG_DEC),
        "ts": datetime.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=datetime.timezone.utc),
        "ntz": datetime.datetime(2024, 2, 29, 23, 59, 59, 123456), "b": "00FF10",
        "d": datetime.date(2024, 2, 29), "s": "x'y", "ok": False, "f": -2.25,
    })
    print("inserted " + show(cur.fetchall()[0][1]))
    cur.execute(INSERT_NULLS)
    cur.execute(INSERT_COMPLEX, {"rows": COMPLEX_ROWS})
    cur.execute(READ)
    t = cur.fetchall_arrow()
    report_table([f"{f.name}:{f.type}" for f in t.schema], t.to_pylist())
    # rows as the DB-API hands them back (the connector's own conversions)
    cur.execute(READ)
    rows = cur.fetchall()
    print("dbapi " + " | ".join(" ".join(show(v) for v in r) for r in (rows[0], rows[1], rows[3])))
    t0 = time.time()
    cur.execute(BIG)
    rs = cur.active_result_set  # read-only look at how the result arrived
    print(f"big-path {type(rs.results).__name__} lz4={rs.lz4_compressed}")
    n = ids = 0
    amounts = decimal.Decimal(0)
    while True:
        part = cur.fetchmany_arrow(50_000)
        if part.num_rows == 0:
            break
        n += part.num_rows
        ids += sum(part.column(0).to_pylist())
        amounts += sum(part.column(1).to_pylist(), decimal.Decimal(0))
    report_big(n, ids, amounts, time.time() - t0)
    cur.close()
    conn.close()
    # INLINE_OR_EXTERNAL_LINKS: a small result comes back as an attachment
    conn = connect(use_hybrid_disposition=True)
    cur = conn.cursor()
    cur.execute("SELECT id, amount FROM t WHERE id <= 2 ORDER BY id")
    rs = cur.active_result_set
    print(f"hybrid-path {type(rs.results).__name__} lz4={rs.lz4_compressed}")
    print("hybrid " + " ".join(show(v) for r in cur.fetchall() for v in r))
    cur.close()
    conn.close()


{"kernel": run_kernel, "connector": run_connector, "kernel-expired-link": run_kernel_expired_link}[MODE]()
print("DONE")
