//! # connector_host — run the openmatch-databricks component in wasmtime
//!
//! Loads the connector component once ([`ConnectorHost`]: engine, compiled artifact cached on
//! disk, `InstancePre`), and runs each tenant in its own store ([`Tenant`]) with a sandbox
//! ([`TenantPolicy`]): an outbound allow-list of (scheme, host, port), a memory limit, a CPU
//! limit (guest CPU time per call, metered by epoch interruption) and a wall-clock timeout per call. Calls go through a typed wrapper
//! ([`Connection`]) that speaks Rust: [`Value`], [`Row`], [`Error`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), connector_host::Error> {
//! use connector_host::{ConnectConfig, ConnectorHost, Credential, Origin, Param, TenantPolicy};
//!
//! let host = ConnectorHost::load_default()?;
//! let config = ConnectConfig::new("adb-123.4.azuredatabricks.net", "/sql/1.0/warehouses/abc",
//!     Credential::AccessToken("dapi…".into())).with_namespace("main", "default");
//! let mut tenant = host.tenant(TenantPolicy::for_origin(Origin::of(&config)?)).await?;
//! let mut conn = tenant.connect(&config).await?;
//! let rows = conn.read_records("SELECT * FROM customers WHERE region = %(region)s",
//!     &[Param::new("region", "WEST")]).await?;
//! println!("{}", serde_json::to_string(&rows).unwrap());
//! # Ok(()) }
//! ```
//!
//! Writing many records: [`Connection::write_rows`] and [`Connection::delete_keys`] type
//! JSON-inferred records by the table's columns, group them by column set and send them in
//! slices with a progress callback ([`Operation`], [`Progress`]).
//!
//! The component itself: [`ConnectorHost::load_default`] reads the `.wasm` this crate's build
//! script built (or `OPENMATCH_CONNECTOR_WASM`); with the feature `embed-component` the bytes
//! are carried inside the program ([`ConnectorHost::load_embedded`]), and any embedder can hand
//! over its own with [`ConnectorHost::load_bytes`].
//!
//! Guest log events (`wasi:logging`) are forwarded to `tracing` under the target
//! `openmatch::guest`; the host's own events use `openmatch::host`.

#![deny(missing_docs)]

mod bindings;
mod columns;
mod connection;
mod convert;
mod error;
mod host;
mod ingest;
mod outbound;
mod param;
mod policy;
mod record_columns;
mod records;
mod row;
mod state;
mod value;

pub use columns::ColumnBatch;
pub use connection::{
    BulkInsert, ConnectConfig, Connection, Credential, Execution, HistoryEntry, ResultFormat, RowStream,
    Secret, quote_name,
};
pub use error::{Error, ErrorInfo, ErrorKind};
#[cfg(feature = "embed-component")]
pub use host::EMBEDDED_WASM;
pub use host::{
    BUNDLED_WASM, ConnectorHost, LoadOptions, LoadReport, MemoryUsage, OwnedConnection, Tenant, WASMTIME_VERSION,
};
pub use ingest::{
    DEFAULT_SLICE_ROWS, IngestOptions, Operation, Progress, add_committed, typed_keys, typed_records,
};
pub use param::Param;
pub use record_columns::RecordColumns;
pub use records::{JsonRecordsFile, RecordSource, Records};
pub use outbound::TlsTrust;
pub use policy::{AllowList, Limits, Origin, Scheme, TenantPolicy};
pub use value::{
    Coerce, Column, Date, Decimal, Interval, Row, Value, format_timestamp, format_timestamp_ntz, parse_timestamp,
    parse_timestamp_ntz,
};
