//! Hardening tests of the warehouse: TLS and connection limits, the data directory as a
//! boundary, statements that must fail alone instead of taking the server down, and a
//! hostile-SQL property test.

#[path = "../common/mod.rs"]
mod common;

mod grants;
mod hostile;
mod limits;
mod net;
mod paths;
