#!/usr/bin/env bash
# Creates the Python venv with Databricks' own SQL clients, pinned, used by the client test
# (warehouse/tests/clients/python.rs), and prints the interpreter path to export as
# OPENMATCH_CLIENTS_PYTHON. Re-running installs nothing when the pins are already met.
set -euo pipefail
VENV="${OPENMATCH_CLIENTS_VENV:-$HOME/.cache/openmatch/clients-venv}"
PYTHON="${PYTHON:-python3}"
# databricks-sql-kernel: the Rust SQL client (PyO3); databricks-sql-connector with use_sea=True:
# the pure-Python Statement Execution backend. pyarrow/lz4 at the versions both accept.
PINS=(
  "databricks-sql-kernel==1.3.0"
  "databricks-sql-connector==4.9.0"
  "pyarrow==23.0.1"
  "lz4==4.4.5"
)
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -m pip show --quiet databricks-sql-kernel databricks-sql-connector pyarrow lz4 >/dev/null 2>&1 \
   || ! "$VENV/bin/python" - "${PINS[@]}" <<'PY'
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name) != want:
        sys.exit(1)
PY
then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
fi
"$VENV/bin/python" -c "
import sys
from importlib.metadata import version
import databricks_sql_kernel, databricks.sql, pyarrow, lz4
print(*(f'{p} {version(p)}' for p in ('databricks-sql-kernel', 'databricks-sql-connector', 'pyarrow', 'lz4')), sep=', ', file=sys.stderr)
"
echo "$VENV/bin/python"
