#!/bin/sh
# Transpile the connector component into out/ (ES module + core wasm) with jco.
# The component: $OPENMATCH_CONNECTOR_WASM, else the newest of the usual build locations.
set -eu
cd "$(dirname "$0")"
wasm="${OPENMATCH_CONNECTOR_WASM:-}"
if [ -z "$wasm" ]; then
  target="${CARGO_TARGET_DIR:-../../target}"
  wasm=$(ls -t \
    "$target/guest-wasm/wasm32-wasip2/guest/openmatch_databricks.wasm" \
    "${HOME:-/nonexistent}/.cache/openmatch/guest-target/wasm32-wasip2/guest/openmatch_databricks.wasm" \
    ../../target/wasm32-wasip2/guest/openmatch_databricks.wasm 2>/dev/null | head -n 1 || true)
fi
if [ -z "$wasm" ] || [ ! -f "$wasm" ]; then
  echo "transpile.sh: no component found; build it with" >&2
  echo "  cargo build -p openmatch-databricks --target wasm32-wasip2 --profile guest" >&2
  echo "or set OPENMATCH_CONNECTOR_WASM=<path to openmatch_databricks.wasm>" >&2
  exit 1
fi
rm -rf out
npx --no-install jco transpile "$wasm" -o out --name openmatch_databricks \
  --map 'wasi:logging/logging=../logging.js' --quiet
# out/ is an ES module package of its own, so it can be copied anywhere.
printf '{ "type": "module" }\n' > out/package.json
echo "transpiled $wasm -> out/openmatch_databricks.js"
