// node example.js — OpenMatch's basic flow through the WebAssembly connector from Node.
//
// Configuration from the environment (the same names as the connector-host CLI):
//   DATABRICKS_HOST       e.g. adb-123.4.azuredatabricks.net, or http://127.0.0.1:PORT locally
//   DATABRICKS_HTTP_PATH  /sql/1.0/warehouses/<id>
//   DATABRICKS_TOKEN      a personal access token
//   DATABRICKS_CATALOG, DATABRICKS_SCHEMA (default main / default)
import { open, errorOf } from './connector.js';

const env = (name, fallback) => process.env[name] ?? fallback ?? (() => { throw new Error(`set ${name}`); })();

const conn = open({
  serverHostname: env('DATABRICKS_HOST'),
  httpPath: env('DATABRICKS_HTTP_PATH'),
  token: env('DATABRICKS_TOKEN'),
  catalog: env('DATABRICKS_CATALOG', 'main'),
  schema: env('DATABRICKS_SCHEMA', 'default'),
});

conn.execute('DROP TABLE IF EXISTS node_customers');
conn.execute('CREATE TABLE node_customers (id BIGINT, name STRING, region STRING, balance DOUBLE)');
const inserted = conn.writeRecords([
  { id: 1, name: 'Ada Lovelace', region: 'WEST', balance: 1200.5 },
  { id: 2, name: 'Alan Turing', region: 'WEST', balance: 310.25 },
  { id: 3, name: 'Grace Hopper', region: 'EAST', balance: 5400.75 },
], 'node_customers');
console.log(`inserted ${inserted} rows`);

const west = conn.readRecords(
  'SELECT id, name, balance FROM node_customers WHERE region = %(region)s ORDER BY id',
  { region: 'WEST' },
);
console.table(west);

try {
  conn.readRecords('SELECT * FROM no_such_table');
} catch (e) {
  const err = errorOf(e);
  if (!err) throw e;
  console.log(`typed error: ${err.kind} (sql-state ${err.sqlState ?? '-'}): ${err.message}`);
}
conn.close();
