//! Generated bindings of the `connector-component` world (private; the crate re-exports
//! only what embedders need, in Rust-native form).

#![allow(missing_docs, clippy::all)]

wasmtime::component::bindgen!({
    world: "connector-component",
    path: "../wit",
    exports: { default: async },
});

pub(crate) use exports::openmatch::databricks::{connector as wit_connector, delta as wit_delta, types as wit};
pub(crate) use wasi::logging::logging as wit_logging;
