//! The sans-IO core: everything but the wasi-http transport, compiled and tested natively.

pub mod base64;
pub mod batch;
pub mod config;
pub mod driver;
pub mod error;
pub mod http;
pub mod ops;
pub mod request;
pub mod response;
pub mod retry;
pub mod secret;
pub mod session;
pub mod sql;
pub mod time;
pub mod url;
pub mod value;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod driver_tests;
#[cfg(test)]
mod fuzz_tests;
