//! Generated bindings of the `connector-component` world, and its export.
#![allow(missing_docs)]

use crate::component::Component;

wit_bindgen::generate!({
    world: "connector-component",
    path: "wit",
    with: { "wasi:logging/logging": generate },
});

export!(Component);
