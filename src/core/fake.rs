//! A scripted [`Transport`] for tests: replays responses in order, records requests, and
//! runs a virtual clock that sleeps advance.

use std::collections::VecDeque;

use super::config::{Config, ConnectConfig, Credential};
use super::http::{HttpRequest, HttpResponse, Method, Transport, TransportError};
use super::secret::Secret;
use super::session::Session;

/// One scripted exchange: the expected method and URL fragment, and the outcome.
pub struct Step {
    pub method: Method,
    pub url_contains: String,
    pub outcome: Result<HttpResponse, TransportError>,
}

/// The fake transport.
#[derive(Default)]
pub struct Fake {
    pub script: VecDeque<Step>,
    pub sent: Vec<HttpRequest>,
    pub now: u64,
    pub sleeps: Vec<u64>,
    pub logs: Vec<String>,
    pub rng: u64,
    /// Virtual time each request takes, ms.
    pub latency_ms: u64,
    /// The answer to table probes outside the script ([`Fake::columns`]).
    pub auto_table: Option<String>,
    /// Table probes answered outside the script.
    pub probes: Vec<HttpRequest>,
    /// The size of each group of requests sent together ([`Transport::send_all`]).
    pub windows: Vec<usize>,
}

/// The answer to `SELECT * FROM t LIMIT 0` for a table of `columns` `(name, type text)`.
pub fn table_answer(columns: &[(&str, &str)]) -> String {
    let cols: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (name, text))| {
            let (base, ps) = match text.split_once('(') {
                Some((base, rest)) => {
                    let (p, sc) = rest.trim_end_matches(')').split_once(',').unwrap_or((rest, "0"));
                    (base, format!(r#","type_precision":{p},"type_scale":{sc}"#))
                }
                None => (*text, String::new()),
            };
            let type_name = match base {
                "BIGINT" => "LONG",
                "SMALLINT" => "SHORT",
                "TINYINT" => "BYTE",
                t => t,
            };
            format!(
                r#"{{"name":"{name}","type_text":"{text}","type_name":"{type_name}","position":{i}{ps}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"statement_id":"schema-probe","status":{{"state":"SUCCEEDED"}},"manifest":{{"format":"JSON_ARRAY","schema":{{"column_count":{},"columns":[{}]}},"total_chunk_count":0,"total_row_count":0}},"result":{{}}}}"#,
        cols.len(),
        cols.join(",")
    )
}

/// Whether `req` is a write's table probe.
fn is_table_probe(req: &HttpRequest) -> bool {
    let body = String::from_utf8_lossy(&req.body);
    req.method == Method::Post
        && body.contains(r#""statement":"SELECT * FROM "#)
        && body.contains(" LIMIT 0\"")
}

impl Fake {
    /// Expect `method` on a URL containing `url`, answering `status` with `body`.
    pub fn on(&mut self, method: Method, url: &str, status: u16, body: &str) -> &mut Self {
        self.reply(
            method,
            url,
            HttpResponse {
                status,
                headers: vec![],
                body: body.as_bytes().to_vec(),
            },
        )
    }

    /// Expect `method` on a URL containing `url`, answering 200 with a binary `body`.
    pub fn on_bytes(&mut self, method: Method, url: &str, body: Vec<u8>) -> &mut Self {
        self.reply(
            method,
            url,
            HttpResponse {
                status: 200,
                headers: vec![],
                body,
            },
        )
    }

    /// Expect a request and answer with a full response.
    pub fn reply(&mut self, method: Method, url: &str, resp: HttpResponse) -> &mut Self {
        self.script.push_back(Step {
            method,
            url_contains: url.into(),
            outcome: Ok(resp),
        });
        self
    }

    /// Expect a request and fail it at the connection level.
    pub fn fail(&mut self, method: Method, url: &str, maybe_sent: bool) -> &mut Self {
        let outcome = Err(TransportError {
            message: "connection reset".into(),
            maybe_sent,
            retryable: true,
            timed_out: false,
        });
        self.script.push_back(Step {
            method,
            url_contains: url.into(),
            outcome,
        });
        self
    }

    /// Expect a request whose connection stalls: the clock runs to the request's timeout and
    /// the request fails as timed out.
    pub fn stall(&mut self, method: Method, url: &str) -> &mut Self {
        let outcome = Err(TransportError {
            message: "stalled".into(),
            maybe_sent: true,
            retryable: true,
            timed_out: true,
        });
        self.script.push_back(Step {
            method,
            url_contains: url.into(),
            outcome,
        });
        self
    }

    /// Expect a request and have the host deny it (not retryable).
    pub fn deny(&mut self, method: Method, url: &str) -> &mut Self {
        let outcome = Err(TransportError {
            message: "denied".into(),
            maybe_sent: false,
            retryable: false,
            timed_out: false,
        });
        self.script.push_back(Step {
            method,
            url_contains: url.into(),
            outcome,
        });
        self
    }

    /// Expect the write's probe of its target table, answering with columns `(name, type text)`
    /// and no row (what `SELECT * FROM t LIMIT 0` returns).
    pub fn table(&mut self, columns: &[(&str, &str)]) -> &mut Self {
        self.on(
            Method::Post,
            "/api/2.0/sql/statements",
            200,
            &table_answer(columns),
        )
    }

    /// Answer every write's table probe with these columns, outside the script: the probe goes
    /// to [`Fake::probes`], not to `sent`, and takes no virtual time. For tests about batches;
    /// [`Fake::table`] scripts the probe in line.
    pub fn columns(&mut self, columns: &[(&str, &str)]) -> &mut Self {
        self.auto_table = Some(table_answer(columns));
        self
    }

    /// URLs sent, with their methods.
    pub fn calls(&self) -> Vec<(Method, String)> {
        self.sent
            .iter()
            .map(|r| (r.method, r.url.clone()))
            .collect()
    }
}

impl Transport for Fake {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Some(answer) = self.auto_table.as_ref().filter(|_| is_table_probe(req)) {
            self.probes.push(req.clone());
            return Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: answer.as_bytes().to_vec(),
            });
        }
        self.sent.push(req.clone());
        // An answer slower than the request's timeout never arrives: the request times out.
        if let Some(t) = req.timeout_ms.filter(|&t| self.latency_ms > t) {
            self.now += t;
            self.script.pop_front();
            return Err(TransportError {
                message: "too slow".into(),
                maybe_sent: true,
                retryable: true,
                timed_out: true,
            });
        }
        self.now += self.latency_ms;
        let step = self
            .script
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {:?} {}", req.method, req.url));
        assert_eq!(step.method, req.method, "method of {}", req.url);
        assert!(
            req.url.contains(&step.url_contains),
            "expected {} in {}",
            step.url_contains,
            req.url
        );
        if step.outcome.as_ref().is_err_and(|e| e.timed_out) {
            self.now += req.timeout_ms.unwrap_or(0);
        }
        step.outcome
    }

    fn send_all(&mut self, reqs: &[HttpRequest]) -> Vec<Result<HttpResponse, TransportError>> {
        self.windows.push(reqs.len());
        reqs.iter().map(|r| self.send(r)).collect()
    }

    fn now_ms(&self) -> u64 {
        self.now
    }

    fn sleep_ms(&mut self, ms: u64) {
        self.sleeps.push(ms);
        self.now += ms;
    }

    fn random(&mut self) -> u64 {
        self.rng
    }

    fn log(&mut self, message: &str) {
        self.logs.push(message.to_owned());
    }
}

/// The config used by the driver tests (loopback http, token `dapi-secret`).
pub fn input() -> ConnectConfig {
    ConnectConfig {
        server_hostname: "http://127.0.0.1:9".into(),
        http_path: "/sql/1.0/warehouses/wh1".into(),
        credential: Credential::AccessToken(Secret::new("dapi-secret")),
        catalog: Some("main".into()),
        schema: Some("default".into()),
        timeout_ms: Some(60_000),
        batch_rows: None,
        batch_bytes: None,
        max_attempts: None,
        external_links: false,
        result_format: None,
        // Scripted exchanges step one download at a time; window tests raise it.
        download_window: Some(1),
        staging_volume: None,
        debug_log: true,
    }
}

/// The table test sessions write to unless a test scripts its own probe: the columns the
/// driver tests' records use.
pub const TEST_TABLE: [(&str, &str); 5] = [
    ("id", "BIGINT"),
    ("name", "STRING"),
    ("status", "STRING"),
    ("v", "BIGINT"),
    ("x", "STRING"),
];

/// A session over a fresh fake with `input`, whose table probes are answered with
/// [`TEST_TABLE`] ([`Fake::columns`]).
pub fn session_with(input: ConnectConfig) -> Session<Fake> {
    let config = Config::validate(input).unwrap_or_else(|e| panic!("bad test config: {e}"));
    let mut fake = Fake {
        latency_ms: 1,
        ..Fake::default()
    };
    fake.columns(&TEST_TABLE);
    Session::new(config, fake)
}

/// A session over a fresh fake with the default test config.
pub fn session() -> Session<Fake> {
    session_with(input())
}

/// A statement's one-row answer of BIGINT counts: `cols[i]` holds `vals[i]` (the shape of a
/// DML, `COPY INTO` or probe result).
pub fn count_answer(id: &str, cols: &[&str], vals: &[u64]) -> String {
    let columns: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(r#"{{"name":"{c}","type_text":"BIGINT","type_name":"LONG","position":{i}}}"#)
        })
        .collect();
    let cells: Vec<String> = vals.iter().map(|v| format!("\"{v}\"")).collect();
    format!(
        r#"{{"statement_id":"{id}","status":{{"state":"SUCCEEDED"}},"manifest":{{"format":"JSON_ARRAY","schema":{{"column_count":{},"columns":[{}]}},"total_row_count":1}},"result":{{"chunk_index":0,"row_count":1,"data_array":[[{}]]}}}}"#,
        cols.len(),
        columns.join(","),
        cells.join(",")
    )
}

/// The SQL text of a statement request.
pub fn statement(r: &HttpRequest) -> String {
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    body["statement"].as_str().unwrap().to_owned()
}

/// A session with a staging volume, `batch-rows` 2, writing into a table
/// `(id BIGINT, name STRING, amount DECIMAL(12,2))` whose probe is scripted once.
pub fn staged_session() -> Session<Fake> {
    let mut cfg = input();
    cfg.batch_rows = Some(2);
    cfg.staging_volume = Some("/Volumes/main/default/stage".into());
    let mut s = session_with(cfg);
    s.transport.auto_table = None;
    s.transport.table(&[
        ("id", "BIGINT"),
        ("name", "STRING"),
        ("amount", "DECIMAL(12,2)"),
    ]);
    s
}
