//! openmatch-databricks: the Databricks SQL connector of OpenMatch as a WebAssembly component.
//!
//! `core` is plain Rust (protocol, SQL, values, retries) driven through the
//! [`core::http::Transport`] trait; the wasm32-only modules bind it to `wasi:http` and export
//! the WIT world `connector-component`.
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
