#!/bin/sh
# The Node example's test, for CI: npm ci, transpile the component with jco, node --test.
#
# Needs: node >= 20 and npm (skips with a message otherwise), the built component (see
# transpile.sh) and the warehouse binary ($WAREHOUSE_BIN, else $CARGO_TARGET_DIR/debug/warehouse;
# built here with `cargo build -p warehouse` when missing).
set -eu
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "examples/node: SKIPPED — node/npm not found (Node 20+ runs the jco example)"
  exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "examples/node: SKIPPED — node $(node --version) is older than 20"
  exit 0
fi

target="${CARGO_TARGET_DIR:-$(cd ../.. && pwd)/target}"
export CARGO_TARGET_DIR="$target"
if [ -z "${WAREHOUSE_BIN:-}" ]; then
  WAREHOUSE_BIN="$target/debug/warehouse"
  if [ ! -x "$WAREHOUSE_BIN" ]; then
    (cd ../.. && cargo build -p warehouse)
  fi
  export WAREHOUSE_BIN
fi
if [ -z "${OPENMATCH_CONNECTOR_WASM:-}" ] && [ ! -f "$target/guest-wasm/wasm32-wasip2/guest/openmatch_databricks.wasm" ]; then
  guest="$target/guest-wasm"
  (cd ../.. && CARGO_TARGET_DIR="$guest" cargo build -p openmatch-databricks --target wasm32-wasip2 --profile guest)
  export OPENMATCH_CONNECTOR_WASM="$guest/wasm32-wasip2/guest/openmatch_databricks.wasm"
fi

npm ci --no-audit --no-fund --loglevel=error
./transpile.sh
echo "examples/node: over http"
node --test test/*.test.js

# The same tests over https: the warehouse serves a certificate made here, which Node trusts.
if command -v openssl >/dev/null 2>&1; then
  tls=$(mktemp -d)
  trap 'rm -rf "$tls"' EXIT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
  echo "examples/node: over https"
  OPENMATCH_TLS_CERT="$tls/cert.pem" OPENMATCH_TLS_KEY="$tls/key.pem" NODE_EXTRA_CA_CERTS="$tls/cert.pem" \
    node --test test/*.test.js
else
  echo "examples/node: https pass SKIPPED — openssl not found"
fi
