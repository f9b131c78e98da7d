//! Guest `wasi:logging` events reach `tracing` under `openmatch::guest` when `debug-log` is on,
//! with statement ids and timings, and never with the token; off by default.

use std::io::Write;
use std::sync::{Arc, Mutex};

use connector_host::{ConnectConfig, ConnectorHost, Credential, Origin, Secret, TenantPolicy};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// current_thread: every event is emitted on this thread, where the capturing subscriber is set.
#[tokio::test(flavor = "current_thread")]
async fn debug_log_goes_to_tracing_without_secrets() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("openmatch=trace"))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = std::env::temp_dir().join(format!("openmatch-host-logging-{}", std::process::id()));
    let server = warehouse::spawn(warehouse::Config::new(&dir)).await.expect("warehouse");
    let host = ConnectorHost::load_default().unwrap_or_else(|e| panic!("{e}"));
    let token = warehouse::DEFAULT_TOKEN;
    let mut config = ConnectConfig::new(
        server.url.clone(),
        format!("/sql/1.0/warehouses/{}", server.warehouse_id),
        Credential::AccessToken(Secret::new(token)),
    );

    // Off by default: no guest events.
    let mut quiet = host.tenant(TenantPolicy::for_origin(Origin::of(&config).unwrap())).await.expect("tenant");
    let mut conn = quiet.connect(&config).await.expect("connect");
    conn.read_records("SELECT 1 AS one", &[]).await.expect("read");
    drop(conn);
    assert!(!capture.text().contains("openmatch::guest"), "guest events while debug-log is off:\n{}", capture.text());

    config.debug_log = true;
    let mut t = host.tenant(TenantPolicy::for_origin(Origin::of(&config).unwrap()).label("tenant-a")).await.expect("tenant");
    let mut conn = t.connect(&config).await.expect("connect");
    conn.read_records("SELECT 1 AS one", &[]).await.expect("read");
    let statement = conn.last_execution().await.expect("last").expect("some").statement_id;
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);

    let text = capture.text();
    assert!(text.contains("openmatch::guest"), "no guest events:\n{text}");
    assert!(text.contains("tenant-a"), "events carry the tenant label:\n{text}");
    assert!(text.contains(&statement), "events carry the statement id {statement}:\n{text}");
    assert!(!text.contains(token), "the token leaked into the log:\n{text}");
}
