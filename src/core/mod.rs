//! The sans-IO core: everything but the wasi-http transport, compiled and tested natively.

// Errors carry all of the server's details and are returned only on cold paths; their size
// (about 136 bytes) does not matter next to an HTTP round trip.
#![allow(clippy::result_large_err)]

pub mod arrow;
pub mod columns;
pub mod config;
pub mod driver;
pub mod error;
pub mod http;
pub mod ipc;
pub mod json_rows;
pub mod ops;
pub mod request;
pub mod response;
pub mod retry;
pub mod session;
pub mod sink;
pub mod sql;
pub mod url;
pub mod value;
pub mod write;

// The shared vocabulary's text codecs and secret, under the names the core has always used.
pub use openmatch_types::{base64, secret, time};

#[cfg(all(test, not(target_arch = "wasm32")))]
mod arrow_driver_tests;
#[cfg(test)]
mod deadline_tests;
#[cfg(test)]
mod driver_tests;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod fuzz_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod hostile_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod prop_tests;
#[cfg(test)]
mod redaction_tests;
#[cfg(test)]
mod window_tests;
