// A thin JavaScript face for the transpiled connector: plain JS values in and out, the WIT
// calls underneath unchanged. Everything here is optional — `out/openmatch_databricks.js`
// can be used directly with WIT-shaped values (`{ tag: 'text', val: 'WEST' }`).
//
// JS → WIT value:  null/undefined → null · boolean → boolean · bigint → bigint ·
//   integer number → bigint · other number → double · string → text · Uint8Array → binary ·
//   Date → timestamp (ms precision) · { tag, val } passes through unchanged (use it for
//   decimal, date, int, timestamp-ntz, …).
// WIT → JS value:  null → null · boolean/tinyint/smallint/int/float/double/text → as is ·
//   bigint → number when it is a safe integer, else BigInt · decimal → its digit string ·
//   date → 'YYYY-MM-DD' · timestamp → Date (ms precision; the exact micros stay in the raw
//   value) · timestamp-ntz → microseconds as BigInt · binary → Uint8Array ·
//   interval → { months, micros } · json → the JSON text.
import { connector } from './out/openmatch_databricks.js';

export { connector };
export { setLogSink } from './logging.js';

/** A JS value as a WIT `value`. */
export function toValue(v) {
  if (v === null || v === undefined) return { tag: 'null' };
  if (typeof v === 'object' && typeof v.tag === 'string') return v;
  switch (typeof v) {
    case 'boolean': return { tag: 'boolean', val: v };
    case 'bigint': return { tag: 'bigint', val: v };
    case 'number': return Number.isInteger(v) ? { tag: 'bigint', val: BigInt(v) } : { tag: 'double', val: v };
    case 'string': return { tag: 'text', val: v };
  }
  if (v instanceof Uint8Array) return { tag: 'binary', val: v };
  if (v instanceof Date) return { tag: 'timestamp', val: BigInt(v.getTime()) * 1000n };
  throw new TypeError(`no WIT value for ${Object.prototype.toString.call(v)}`);
}

/** A WIT `value` as a JS value. */
export function fromValue(v) {
  switch (v.tag) {
    case 'null': return null;
    case 'bigint': return Number.isSafeInteger(Number(v.val)) ? Number(v.val) : v.val;
    case 'decimal': return v.val.digits;
    case 'date': {
      const { year, month, day } = v.val;
      return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    }
    case 'timestamp': return new Date(Number(v.val / 1000n));
    default: return v.val;
  }
}

/** A JS object `{ column: value }` as a WIT `row` (a list of fields). */
export function toRow(obj) {
  return Object.entries(obj).map(([name, value]) => ({ name, value: toValue(value) }));
}

/** A WIT `row` as a JS object. */
export function fromRow(row) {
  return Object.fromEntries(row.map(({ name, value }) => [name, fromValue(value)]));
}

/** `{ name: value }` as the WIT `param` list for `%(name)s` markers. */
export function toParams(obj = {}) {
  return Object.entries(obj).map(([name, value]) => ({ name, value: toValue(value) }));
}

/**
 * Open a connection. `options`: `{ serverHostname, httpPath, token | oauth: { clientId,
 * clientSecret, scope? }, catalog?, schema?, timeoutMs?, batchRows?, batchBytes?, maxAttempts?,
 * externalLinks?, resultFormat? ('auto' | 'arrow' | 'json'), downloadWindow?, stagingVolume?, debugLog? }`. Throws the WIT error
 * as `err.payload` (see `errorOf`).
 */
export function open(options) {
  const credential = options.oauth
    ? { tag: 'oauth-m2m', val: options.oauth }
    : { tag: 'access-token', val: options.token };
  const config = {
    serverHostname: options.serverHostname,
    httpPath: options.httpPath,
    credential,
    catalog: options.catalog,
    schema: options.schema,
    timeoutMs: options.timeoutMs === undefined ? undefined : BigInt(options.timeoutMs),
    batchRows: options.batchRows,
    batchBytes: options.batchBytes,
    maxAttempts: options.maxAttempts,
    externalLinks: options.externalLinks ?? false,
    resultFormat: options.resultFormat,
    downloadWindow: options.downloadWindow,
    stagingVolume: options.stagingVolume,
    debugLog: options.debugLog ?? false,
  };
  return new Connection(connector.Connection.open(config));
}

/** The WIT `error` of a thrown `ComponentError` (`{ kind: 'not-found', message, … }`), else undefined. */
export function errorOf(e) {
  return e && typeof e === 'object' && e.payload && typeof e.payload.kind === 'string' ? e.payload : undefined;
}

/** The WIT `connection` with JS values. Every method is synchronous, like the component. */
export class Connection {
  constructor(raw) { this.raw = raw; }
  /** Rows as objects; `params` is `{ name: value }` for `%(name)s` markers. */
  readRecords(query, params) { return this.raw.readRecords(query, toParams(params)).map(fromRow); }
  /** Insert objects into `target`; returns the server's row count as a number. */
  writeRecords(records, target) { return Number(this.raw.writeRecords(records.map(toRow), target)); }
  /** MERGE objects into `target` matched on `keyColumns` (default `['id']`); returns rows updated. */
  updateRecords(records, target, keyColumns = []) { return Number(this.raw.updateRecords(records.map(toRow), target, keyColumns)); }
  /** Delete rows of `target` whose `keyColumn` (default `id`) is in `ids`; returns rows deleted. */
  deleteRecords(ids, target, keyColumn) { return Number(this.raw.deleteRecords(ids.map(toValue), target, keyColumn)); }
  /** Any statement; returns `{ statementId, elapsedMs, rowsAffected, rowCount, retries }` (bigints). */
  execute(sql, params) { return this.raw.execute(sql, toParams(params)); }
  /** Stream a large result: yields row objects, `batch` rows per call into the component. */
  *query(sql, params, batch = 10000) {
    const rows = this.raw.query(sql, toParams(params));
    try {
      const names = rows.columns().map((c) => c.name);
      for (;;) {
        const chunk = rows.nextBatch(batch);
        if (chunk.length === 0) return;
        for (const cells of chunk) yield Object.fromEntries(cells.map((v, i) => [names[i], fromValue(v)]));
      }
    } finally {
      rows[Symbol.dispose]();
    }
  }
  lastExecution() { return this.raw.lastExecution(); }
  close() { this.raw.close(); }
}
