//! End-to-end tests of the warehouse over loopback HTTP: every endpoint, every statement kind,
//! error cases, permissions, faults, concurrency, restart persistence, the CLI and
//! databricks-sdk-py (when `OPENMATCH_SDK_PYTHON` is set).

#[path = "../common/mod.rs"]
mod common;

mod api;
mod processes;
mod statements;

use common::W;
use serde_json::json;

const T: &str = "`main`.`default`.`t`";

fn make_t(w: &W) {
    let r = w.run("CREATE TABLE IF NOT EXISTS `main`.`default`.`t` (id BIGINT NOT NULL, name STRING, amount DECIMAL(10,2), ts TIMESTAMP, d DATE) USING DELTA");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(r["manifest"]["schema"], json!({"column_count": 0}));
    assert_eq!(r["result"], json!({}));
}
