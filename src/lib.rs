//! openmatch-databricks: the Databricks SQL connector of OpenMatch as a WebAssembly component
//! (WASI 0.2, `wasi:http`), speaking the SQL Statement Execution API 2.0 as `docs/wire.md` fixes it.
//!
//! # Layout
//! - [`core`]: plain Rust, no I/O, unit-tested natively. SQL text ([`core::sql`]), values
//!   ([`core::value`]), request bodies and response parsing ([`core::request`],
//!   [`core::response`]), batching ([`core::batch`]), retry policy ([`core::retry`]), the
//!   statement state machine ([`core::driver`]) and the operations ([`core::ops`]), all over
//!   the [`core::http::Transport`] trait.
//! - wasm32 only: `transport` (the one module touching `wasi:http`, clocks and random),
//!   `bindings` (generated from `wit/`), `convert` (every WIT ↔ core conversion) and
//!   `component` (the exported `connection` and `rows` resources and `delta` interface).
//!
//! # Writes
//! A batch travels as one STRING parameter `:rows` holding a JSON array, unpacked server-side
//! with `inline(from_json(:rows, 'ARRAY<STRUCT<…>>'))`: values never enter the SQL text, a
//! statement uses one parameter marker (the limit is 255) and at most `batch-bytes` (default
//! 900 000) of the 1 MB the service allows, so 100 000 records of ~35 bytes of JSON take four
//! statements, each one Delta commit. No staging volume or extra privilege is needed (unlike
//! Files API + `COPY INTO`). Counts come from the server's `num_*_rows`; a failed write reports in
//! `committed-rows` what earlier batches committed.
//!
//! # Retries
//! 429 and 503 honour `Retry-After`, else exponential backoff with jitter; connection failures
//! are retried only when the request cannot have reached the server, except for idempotent
//! requests (polling, chunks, cancel, token, update MERGE). Once a statement exists, polling
//! continues through transient failures until the call's deadline, then cancels. A write batch
//! whose submission's answer was lost is re-sent in an idempotent form (inserts as `MERGE … WHEN
//! NOT MATCHED THEN INSERT` on the `id` key, deletes and updates as they are) and counted once;
//! without such a form the write stops with `committed-rows` of the earlier batches
//! (`docs/wire.md`, "Exactly-once batches").
//!
//! # Security
//! Only `https`, except loopback hosts. Credentials live in [`core::secret::Secret`] (redacted
//! in `Debug`/`Display`) and are scrubbed from every error message; presigned result links get
//! no `Authorization` header.
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
mod transport;
