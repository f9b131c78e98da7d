//! What Databricks' current clients need from the warehouse: sessions, ARROW_STREAM with the
//! service's exact Arrow types, `INLINE_OR_EXTERNAL_LINKS` attachments, `LZ4_FRAME`, link
//! batches and expiry (`wire`), and databricks-sql-kernel and databricks-sql-connector
//! (`use_sea=True`) themselves, unmodified, when `OPENMATCH_CLIENTS_PYTHON` is set
//! (`python`; warehouse/scripts/clients-venv.sh installs them).

#[path = "../common/mod.rs"]
mod common;

mod python;
mod wire;

use common::W;
use serde_json::{Value, json};

/// Runs `sql` with extra request fields; returns the first answer (polled to a final state).
pub fn exec(w: &W, sql: &str, extra: Value) -> Value {
    w.run_as(&w.token.clone(), sql, json!([]), extra)
}

/// Creates `main.default.big` (id BIGINT, amount DECIMAL(18,2)) with 300 000 rows.
pub fn make_big(w: &W) {
    let r = w.run("CREATE TABLE main.default.big (id BIGINT, amount DECIMAL(18,2))");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let r = w.run(
        "INSERT INTO main.default.big SELECT id, CAST(id AS DECIMAL(18,2)) / 100 FROM range(300000)",
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
}
