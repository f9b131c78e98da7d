// wasi:logging/logging for the transpiled component (jco maps the import here with
// `--map wasi:logging/logging=../logging.js`).
//
// The connector only logs when its config has `debugLog: true`; events carry the statement id,
// duration, row counts and retries, never a credential. They go to stderr as one JSON line each,
// or to a function installed with `setLogSink`.

const toStderr = (event) => process.stderr.write(JSON.stringify(event) + '\n');
let sink = toStderr;

/**
 * Choose where log events go: `fn({ level, context, message })`; `null` drops them;
 * `undefined` restores the default (one JSON line per event on stderr).
 */
export function setLogSink(fn) {
  sink = fn === undefined ? toStderr : fn ?? (() => {});
}

/** The WIT function `log(level, context, message)`. */
export function log(level, context, message) {
  sink({ level, context, message });
}
