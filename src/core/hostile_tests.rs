//! A hostile server, generated: every answer the guest core gets is drawn from shapes an
//! attacker or a broken proxy could send (endless chains, statements that never finish, echoed
//! credentials, terminal escapes, deep nesting, huge numbers, garbage). Whatever it sends, a
//! call ends before its deadline with rows or a typed error, never a panic, and the error that
//! would leave the component carries no credential and no control character.

use proptest::prelude::*;

use super::config::Config;
use super::fake::input;
use super::http::{HttpRequest, HttpResponse, Transport, TransportError};
use super::ops;
use super::session::Session;

const TOKEN: &str = "dapi-secret";

/// A scripted answer: status, headers, body.
type Answer = (u16, Vec<(String, String)>, String);

/// Answers every request with the next scripted response, round and round.
struct Hostile {
    answers: Vec<Answer>,
    next: usize,
    now: u64,
    requests: usize,
}

impl Transport for Hostile {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests += 1;
        self.now += 100;
        if self.answers.is_empty() {
            return Err(TransportError {
                message: "reset".into(),
                maybe_sent: true,
                retryable: true,
                timed_out: false,
            });
        }
        let (status, headers, body) = self.answers[self.next % self.answers.len()].clone();
        self.next += 1;
        // A stalled answer uses all the time the request was given.
        if body == "<stall>" {
            self.now += req.timeout_ms.unwrap_or(0);
            return Err(TransportError {
                message: "stalled".into(),
                maybe_sent: true,
                retryable: true,
                timed_out: true,
            });
        }
        Ok(HttpResponse {
            status,
            headers,
            body: body.into_bytes(),
        })
    }
    fn now_ms(&self) -> u64 {
        self.now
    }
    fn sleep_ms(&mut self, ms: u64) {
        self.now += ms;
    }
    fn random(&mut self) -> u64 {
        7
    }
}

const COLUMNS: &str = r#"{"column_count":2,"columns":[{"name":"id","type_name":"LONG","type_text":"BIGINT","position":0},{"name":"d","type_name":"DECIMAL","type_text":"DECIMAL(38,9)","position":1}]}"#;

/// One hostile answer.
fn answer() -> impl Strategy<Value = (u16, Vec<(String, String)>, String)> {
    let cell = prop_oneof![
        Just("\"1\"".to_string()),
        Just("null".to_string()),
        Just("\"\\u001b[2J\\u001b]0;pwned\\u0007\"".to_string()),
        Just(format!("\"{}\"", "9".repeat(400))),
        Just("1e99999".to_string()),
        Just("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]".to_string()),
        "\"[0-9a-zA-Z.\\-]{0,12}\"".prop_map(|s| s),
    ];
    let row = proptest::collection::vec(cell, 0..4).prop_map(|c| format!("[{}]", c.join(",")));
    let rows = proptest::collection::vec(row, 0..4).prop_map(|r| format!("[{}]", r.join(",")));
    let index = 0u64..5;
    let body = prop_oneof![
        // Succeeded, with a chain that may repeat, go backwards or outrun the manifest.
        (rows.clone(), index.clone(), index.clone(), 0u64..20).prop_map(|(rows, ci, next, total)| format!(
            r#"{{"statement_id":"s-1","status":{{"state":"SUCCEEDED"}},"manifest":{{"schema":{COLUMNS},"total_row_count":{total},"total_chunk_count":3}},"result":{{"chunk_index":{ci},"data_array":{rows},"next_chunk_index":{next}}}}}"#
        )),
        (rows.clone(), index.clone()).prop_map(|(rows, next)| format!(
            r#"{{"chunk_index":1,"data_array":{rows},"next_chunk_index":{next},"next_chunk_internal_link":"/api/2.0/sql/statements/s-1/result/chunks/{next}"}}"#
        )),
        Just(r#"{"statement_id":"s-1","status":{"state":"RUNNING"}}"#.to_string()),
        Just(format!(r#"{{"statement_id":"s-1","status":{{"state":"FAILED","error":{{"error_code":"{TOKEN}\u001b[31m","sql_state":"Bearer {TOKEN}","message":"echo {TOKEN} \u001b]0;t\u0007"}}}}}}"#)),
        Just(format!(r#"{{"statement_id":"{TOKEN}","status":{{"state":"SUCCEEDED"}}}}"#)),
        Just(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
        Just("<stall>".to_string()),
        "[ -~]{0,40}".prop_map(|s| s),
    ];
    let status = prop_oneof![
        Just(200u16),
        Just(200),
        Just(200),
        Just(429),
        Just(500),
        Just(503),
        Just(401),
        Just(404)
    ];
    let headers = prop_oneof![
        Just(vec![]),
        Just(vec![("retry-after".to_string(), "999999".to_string())]),
        Just(vec![("retry-after".to_string(), "1".to_string())]),
    ];
    (status, headers, body)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_hostile_server_never_panics_and_never_outlives_the_deadline(
        answers in proptest::collection::vec(answer(), 0..6)
    ) {
        let mut cfg = input();
        cfg.timeout_ms = Some(5_000);
        let config = Config::validate(cfg).unwrap();
        let mut s = Session::new(config, Hostile { answers, next: 0, now: 0, requests: 0 });
        let result = ops::read_all(&mut s, "SELECT id, d FROM t", &[]);
        // The deadline (5 s) plus the bounded clean-up after it (cancel, last look, close).
        prop_assert!(s.transport.now <= 5_000 + 3 * 2_000 + 500, "ran until {} ms", s.transport.now);
        prop_assert!(s.transport.requests < 200, "{} requests", s.transport.requests);
        if let Err(e) = result {
            let e = e.sanitized(&s.secrets());
            let all = format!("{} {:?} {:?} {:?}", e.message, e.sql_state, e.error_code, e.statement_id);
            prop_assert!(!all.contains(TOKEN), "{all}");
            prop_assert!(!all.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{all:?}");
        }
    }
}
