//! The shared vocabulary of the OpenMatch Databricks connector, in the manner of
//! `postgres-types`: the guest's sans-IO core and the host library speak the same types, and
//! only the two WIT conversion files (`src/convert.rs`, `host-test/src/convert.rs`) translate
//! them to and from the component's bindings. No I/O, no WASI.
//!
//! - [`value`]: [`Value`] and its parts ([`Decimal`], [`Date`], [`Interval`]).
//! - [`json`]: the JSON forms of values and the string escaper.
//! - [`time`]: date, timestamp and interval text (the one timestamp printer).
//! - [`base64`]: BINARY text.
//! - [`error`]: [`ErrorKind`] and [`ErrorInfo`].
//! - [`config`]: [`ConnectConfig`], [`Credential`], [`ResultFormat`]; [`secret`]: [`Secret`].
//! - [`execution`]: [`Execution`] and [`HistoryEntry`].

pub mod base64;
pub mod config;
pub mod error;
pub mod execution;
pub mod json;
pub mod secret;
pub mod time;
pub mod value;

pub use config::{ConnectConfig, Credential, ResultFormat};
pub use error::{ErrorInfo, ErrorKind};
pub use execution::{Execution, HistoryEntry};
pub use secret::Secret;
pub use value::{Date, Decimal, Interval, Value};
