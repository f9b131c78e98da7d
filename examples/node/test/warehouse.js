// Start the local warehouse binary in its own process (the component's HTTP calls are
// synchronous and block Node's event loop, so the server cannot live in this process).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const TOKEN = 'dapi0000000000000000000000000000local';
export const WAREHOUSE_ID = '8a1c2e3f4b5d6a7e';

export function warehouseBinary() {
  if (process.env.WAREHOUSE_BIN) return process.env.WAREHOUSE_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? resolve(import.meta.dirname, '../../../target');
  return join(target, 'debug', 'warehouse');
}

/** Resolves to `{ url, httpPath, stop() }` once the server printed `listening on <url>`. */
export function startWarehouse(extraArgs = []) {
  const bin = warehouseBinary();
  if (!existsSync(bin)) {
    throw new Error(`warehouse binary not found at ${bin}: run \`cargo build -p warehouse\` or set WAREHOUSE_BIN`);
  }
  const data = mkdtempSync(join(tmpdir(), 'openmatch-node-'));
  // HTTPS pass (run-tests.sh): serve the given certificate; Node trusts it through
  // NODE_EXTRA_CA_CERTS, which it reads at start-up.
  const tls = process.env.OPENMATCH_TLS_CERT && process.env.OPENMATCH_TLS_KEY
    ? ['--tls-cert', process.env.OPENMATCH_TLS_CERT, '--tls-key', process.env.OPENMATCH_TLS_KEY]
    : [];
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', data, ...tls, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => {
    child.kill('SIGINT');
    rmSync(data, { recursive: true, force: true });
  };
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => { stop(); reject(new Error(`warehouse did not start within 60 s: ${out}`)); }, 60000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ url: m[1], httpPath: `/sql/1.0/warehouses/${WAREHOUSE_ID}`, stop });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`warehouse exited with ${code}: ${out}`)); });
  });
}
