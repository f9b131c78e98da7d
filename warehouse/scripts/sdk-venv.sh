#!/usr/bin/env bash
# Creates the Python venv used by the databricks-sdk-py compatibility test
# (warehouse/tests/sdk_py.rs) and prints the interpreter path to export as
# OPENMATCH_SDK_PYTHON.
set -euo pipefail
VENV="${OPENMATCH_SDK_VENV:-$HOME/.cache/openmatch/sdk-venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade "databricks-sdk>=0.50"
"$VENV/bin/python" -c "import databricks.sdk, sys; print('databricks-sdk', databricks.sdk.version.__version__, file=sys.stderr)"
echo "$VENV/bin/python"
