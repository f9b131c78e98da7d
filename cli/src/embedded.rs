//! The local warehouse, started in-process when no `DATABRICKS_HOST` is given.

use std::path::PathBuf;

use connector_host::{Error, ErrorKind};

/// A running in-process warehouse; stops when dropped.
pub struct Embedded {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// `/sql/1.0/warehouses/<id>`.
    pub http_path: String,
    /// The admin token it accepts.
    pub token: String,
    _server: warehouse::Running,
}

/// Start the warehouse on an ephemeral loopback port with its data in `data_dir`.
pub async fn start(data_dir: PathBuf) -> Result<Embedded, Error> {
    std::fs::create_dir_all(&data_dir).map_err(|e| {
        Error::message(ErrorKind::Host, format!("cannot create the warehouse data dir {}: {e}", data_dir.display()))
    })?;
    let config = warehouse::Config::new(data_dir);
    let server = warehouse::spawn(config)
        .await
        .map_err(|e| Error::message(ErrorKind::Host, format!("cannot start the local warehouse: {e:#}")))?;
    Ok(Embedded {
        url: server.url.clone(),
        http_path: format!("/sql/1.0/warehouses/{}", server.warehouse_id),
        token: warehouse::DEFAULT_TOKEN.to_string(),
        _server: server,
    })
}
