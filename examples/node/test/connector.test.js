// node --test: the transpiled component against the local warehouse (run ../run-tests.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { open, errorOf, connector, setLogSink } from '../connector.js';
import { delta } from '../out/openmatch_databricks.js';
import { startWarehouse, TOKEN } from './warehouse.js';

let wh;
let conn;
before(async () => {
  wh = await startWarehouse();
  conn = open({ serverHostname: wh.url, httpPath: wh.httpPath, token: TOKEN, catalog: 'main', schema: 'default' });
  conn.execute('CREATE TABLE customers (id BIGINT, name STRING, region STRING, status STRING, balance DECIMAL(12,2), signup_date DATE)');
});
after(() => {
  conn?.close();
  wh?.stop();
});

const dec = (digits) => ({ tag: 'decimal', val: { digits, precision: 12, scale: 2 } });
const date = (year, month, day) => ({ tag: 'date', val: { year, month, day } });

test('write-records then read-records with %(name)s parameters', () => {
  const n = conn.writeRecords([
    { id: 1, name: 'Ada Lovelace', region: 'WEST', status: 'active', balance: dec('1200.50'), signup_date: date(2023, 1, 15) },
    { id: 2, name: 'Alan Turing', region: 'WEST', status: 'active', balance: dec('310.00'), signup_date: date(2023, 3, 2) },
    { id: 3, name: 'Grace Hopper', region: 'EAST', status: 'active', balance: dec('5400.25'), signup_date: null },
    { id: 4, name: 'Edsger Dijkstra', region: 'WEST', status: 'inactive', balance: dec('0.00'), signup_date: date(2021, 6, 30) },
  ], 'customers');
  assert.equal(n, 4);
  const rows = conn.readRecords(
    'SELECT id, name, balance, signup_date FROM customers WHERE region = %(region)s AND status = %(status)s ORDER BY id',
    { region: 'WEST', status: 'active' },
  );
  assert.deepEqual(rows, [
    { id: 1, name: 'Ada Lovelace', balance: '1200.50', signup_date: '2023-01-15' },
    { id: 2, name: 'Alan Turing', balance: '310.00', signup_date: '2023-03-02' },
  ]);
  const exec = conn.lastExecution();
  assert.ok(exec.statementId.length > 0);
  assert.equal(exec.rowCount, 2n);
});

test('raw WIT values come back typed', () => {
  const raw = conn.raw.readRecords('SELECT balance, signup_date FROM customers WHERE id = %(id)s', [
    { name: 'id', value: { tag: 'bigint', val: 3n } },
  ]);
  assert.deepEqual(raw, [[
    { name: 'balance', value: { tag: 'decimal', val: { digits: '5400.25', precision: 12, scale: 2 } } },
    { name: 'signup_date', value: { tag: 'null' } },
  ]]);
});

test('update-records (MERGE on id) and delete-records count what the server changed', () => {
  const updated = conn.updateRecords([
    { id: 2, status: 'inactive' },
    { id: 99, status: 'active' }, // no match: ignored
  ], 'customers');
  assert.equal(updated, 1);
  const deleted = conn.deleteRecords([4, 98], 'customers');
  assert.equal(deleted, 1);
  const left = conn.readRecords('SELECT id, status FROM customers ORDER BY id');
  assert.deepEqual(left, [
    { id: 1, status: 'active' },
    { id: 2, status: 'inactive' },
    { id: 3, status: 'active' },
  ]);
});

test('delta maintenance through the same connection', () => {
  const optimized = delta.optimize(conn.raw, 'customers', ['region']);
  assert.ok(Array.isArray(optimized));
  const vacuumed = delta.vacuum(conn.raw, 'customers', 168);
  assert.ok(Array.isArray(vacuumed));
  const history = delta.history(conn.raw, 'customers', 10);
  const ops = history.map((h) => h.operation);
  assert.ok(ops.includes('WRITE') && ops.includes('MERGE') && ops.includes('OPTIMIZE'), ops.join(','));
  assert.equal(typeof history[0].version, 'bigint');
  assert.ok(history[0].version > history.at(-1).version, 'newest first');
});

test('query streams a result in batches', () => {
  let count = 0;
  let sum = 0;
  for (const row of conn.query('SELECT id FROM range(25000)', {}, 4096)) {
    count += 1;
    sum += row.id;
  }
  assert.equal(count, 25000);
  assert.equal(sum, (25000 * 24999) / 2);
});

test('ARROW_STREAM results (LZ4, several downloads at once) read the same exact values', () => {
  const arrow = open({
    serverHostname: wh.url, httpPath: wh.httpPath, token: TOKEN, catalog: 'main', schema: 'default',
    resultFormat: 'arrow', downloadWindow: 3,
  });
  try {
    const sql = 'SELECT id, name, balance, signup_date FROM customers ORDER BY id';
    assert.deepEqual(arrow.readRecords(sql, {}), conn.readRecords(sql, {}));
    const exact = arrow.raw.readRecords("SELECT CAST('0.000000000000000001' AS DECIMAL(38,18)) AS d", []);
    assert.deepEqual(exact[0][0].value, { tag: 'decimal', val: { digits: '0.000000000000000001', precision: 38, scale: 18 } });
    // Many chunks, fetched through links a window at a time, delivered in order.
    let count = 0;
    let last = -1;
    let ordered = true;
    for (const row of arrow.query('SELECT id FROM range(300000)', {}, 50000)) {
      ordered &&= row.id === last + 1;
      last = row.id;
      count += 1;
    }
    assert.equal(count, 300000);
    assert.ok(ordered, 'rows arrive in order');
  } finally {
    arrow.close();
  }
});

test('next-columns returns column-major batches of the same rows', () => {
  const rows = conn.raw.query("SELECT id, CAST(id AS STRING) AS s FROM range(5)", []);
  const first = rows.nextColumns(3);
  assert.equal(first.rows, 3);
  assert.deepEqual(first.columns[0], { tag: 'bigint', val: [0n, 1n, 2n] });
  const text = first.columns[1].val;
  assert.equal(first.columns[1].tag, 'text');
  assert.deepEqual([text.data, [...text.ends], [...text.nulls]], ['012', [1, 2, 3], [false, false, false]]);
  assert.equal(rows.nextColumns(3).rows, 2);
  assert.equal(rows.nextColumns(3).rows, 0);
  rows[Symbol.dispose]?.();
});

test('errors arrive as the WIT error record', () => {
  const missing = catchError(() => conn.readRecords('SELECT * FROM no_such_table'));
  assert.equal(missing.kind, 'not-found');
  assert.equal(missing.sqlState, '42P01');
  assert.ok(missing.statementId === undefined || typeof missing.statementId === 'string');

  const syntax = catchError(() => conn.readRecords('SELEC id FROM customers'));
  assert.equal(syntax.kind, 'syntax');
  assert.equal(syntax.sqlState, '42601');

  const badToken = 'dapi-wrong-token-0123456789';
  const auth = catchError(() => open({ serverHostname: wh.url, httpPath: wh.httpPath, token: badToken }));
  assert.equal(auth.kind, 'authentication');
  assert.equal(auth.httpStatus, 401);
  assert.ok(!auth.message.includes(badToken), 'the token never appears in an error');

  // Rejected before anything is sent: a marker without a parameter, an empty column name.
  const marker = catchError(() => conn.readRecords('SELECT %(missing)s AS x'));
  assert.equal(marker.kind, 'invalid-input');
  const column = catchError(() => conn.writeRecords([{ '': 1 }], 'customers'));
  assert.equal(column.kind, 'invalid-input');
});

test('debug log events reach the host through wasi:logging, without the token', () => {
  const events = [];
  setLogSink((e) => events.push(e));
  try {
    const logged = open({ serverHostname: wh.url, httpPath: wh.httpPath, token: TOKEN, debugLog: true });
    logged.readRecords('SELECT 1 AS one');
    logged.close();
  } finally {
    setLogSink(undefined);
  }
  assert.ok(events.length > 0, 'debugLog: true emits events');
  for (const e of events) assert.ok(!JSON.stringify(e).includes(TOKEN));
});

test('a closed connection rejects calls with invalid-input', () => {
  const c = connector.Connection.open({
    serverHostname: wh.url, httpPath: wh.httpPath, credential: { tag: 'access-token', val: TOKEN },
    externalLinks: false, debugLog: false,
  });
  c.close();
  let err;
  try { c.readRecords('SELECT 1', []); } catch (e) { err = errorOf(e); }
  assert.equal(err?.kind, 'invalid-input');
});

function catchError(fn) {
  try {
    fn();
  } catch (e) {
    const err = errorOf(e);
    if (err) return err;
    throw e;
  }
  assert.fail('expected the call to fail');
}
