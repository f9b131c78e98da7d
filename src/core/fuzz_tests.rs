//! Fuzz-style tests: decoders, parsers and the translator never panic on arbitrary input, and
//! encoders round-trip. A fixed-seed generator keeps runs reproducible.

use super::base64;
use super::config::{Config, Credential};
use super::fake::input;
use super::http::HttpResponse;
use super::response;
use super::secret::Secret;
use super::sql::{quote_table, translate};
use super::time;
use super::url::Url;
use super::value::{Column, Date, Decimal, Value, decode_cell, push_json_value};
use super::write::{self, Batcher, Mode};

/// xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A string biased towards the characters that matter to our parsers.
    fn text(&mut self, max: usize) -> String {
        const PIECES: &[&str] = &[
            "%",
            "%(",
            ")s",
            "%%",
            "'",
            "\"",
            "`",
            "--",
            "/*",
            "*/",
            "\n",
            "\\",
            ":",
            ".",
            "-",
            "+",
            "T",
            "Z",
            " ",
            "0",
            "1",
            "9",
            "12",
            "2021-01-01",
            "10:00:00",
            ".123",
            "e",
            "NaN",
            "Infinity",
            "[",
            "]",
            "{",
            "}",
            ",",
            "null",
            "a",
            "x_1",
            "é",
            "名",
            "\u{0}",
            "\u{7f}",
            "=",
            "==",
            "/",
            "?",
            "@",
            "SQLSTATE: ",
            "42P01",
            "\"state\":",
            "\"SUCCEEDED\"",
            "\"data_array\":",
            "\"statement_id\":\"s\"",
            "\"error_code\":",
            "99999999999999999999",
        ];
        let n = self.below(max + 1);
        let mut s = String::new();
        for _ in 0..n {
            if self.below(4) == 0 {
                s.push(char::from_u32(self.below(0x3000) as u32).unwrap_or('?'));
            } else {
                s.push_str(PIECES[self.below(PIECES.len())]);
            }
        }
        s
    }
}

/// Every `type_name` the decoders know, plus one they do not (shared with `prop_tests`).
pub(super) const TYPES: &[&str] = &[
    "BOOLEAN",
    "BYTE",
    "SHORT",
    "INT",
    "LONG",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "STRING",
    "BINARY",
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "INTERVAL",
    "ARRAY",
    "MAP",
    "STRUCT",
    "VARIANT",
    "NULL",
    "WEIRD",
];

#[test]
fn decoders_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let t = rng.text(12);
        let ty = TYPES[rng.below(TYPES.len())];
        let col = Column {
            name: "c".into(),
            type_name: ty.into(),
            type_text: rng.text(3),
            ..Default::default()
        };
        let _ = decode_cell(&col, Some(&t));
        let _ = time::parse_timestamp(&t, rng.below(2) == 0);
        let _ = time::parse_interval(&t);
        let _ = time::parse_date(&t);
        let _ = base64::decode(&t);
        let _ = base64::hex_decode(&t);
        let _ = Url::parse(&t);
        let body = format!("{{{}}}", rng.text(10));
        let _ = response::parse_statement(body.as_bytes()).map(|r| (r.state(), r.columns()));
        let _ =
            response::parse_chunk(t.as_bytes()).map(|c| c.data_array.map(|r| r.to_owned_rows()));
        let _ =
            response::parse_external_rows(t.as_bytes().to_vec()).and_then(|r| r.to_owned_rows());
        let status = [200, 400, 401, 403, 404, 429, 500, 503][rng.below(8)];
        let _ = response::http_error(&HttpResponse {
            status,
            headers: vec![("retry-after".into(), t.clone())],
            body: body.into_bytes(),
        });
        let _ = response::error_class(&t);
        let _ = response::message_sql_state(&t);
    }
}

#[test]
fn translator_and_quoting_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let sql = rng.text(20);
        let params = [
            ("a".to_string(), Value::Int(1)),
            ("x_1".to_string(), Value::Binary(vec![1])),
        ];
        if let Ok(t) = translate(&sql, &params[..rng.below(3)]) {
            assert!(t.sql.len() <= sql.len() + 16);
        }
        let _ = quote_table(&rng.text(6));
        let mut cfg = input();
        cfg.server_hostname = rng.text(5);
        cfg.http_path = format!("/sql/1.0/warehouses/{}", rng.text(2));
        let _ = Config::validate(cfg);
    }
}

#[test]
fn text_without_markers_translates_to_itself() {
    let mut rng = Rng(7);
    for _ in 0..5_000 {
        let sql: String = rng.text(20).replace('%', "");
        assert_eq!(translate(&sql, &[]).unwrap().sql, sql);
    }
}

#[test]
fn timestamps_dates_and_binary_round_trip() {
    let mut rng = Rng(3);
    for _ in 0..20_000 {
        let micros = (rng.next() as i64) % (200_000 * 365 * 86_400_000_000);
        let text = format!("{}Z", time::format_timestamp(micros, 'T'));
        assert_eq!(time::parse_timestamp(&text, true), Some(micros), "{text}");
        assert_eq!(
            time::parse_timestamp(&time::format_timestamp(micros, ' '), false),
            Some(micros)
        );
        let days = micros / 86_400_000_000;
        let (y, m, d) = time::civil_from_days(days);
        assert_eq!(
            time::parse_date(&time::format_date(y, m, d)),
            Some((y as i32, m, d))
        );
        let bytes: Vec<u8> = (0..rng.below(20)).map(|_| rng.next() as u8).collect();
        assert_eq!(
            base64::decode(&base64::encode(&bytes)).as_deref(),
            Some(&bytes[..])
        );
        let x = f64::from_bits(rng.next());
        let col = Column {
            type_name: "DOUBLE".into(),
            ..Default::default()
        };
        match decode_cell(&col, Some(&super::value::format_double(x))).unwrap() {
            Value::Double(y) => assert!(y == x || (x.is_nan() && y.is_nan())),
            other => panic!("{other:?}"),
        }
    }
}

fn random_value(rng: &mut Rng, kind: usize) -> Value {
    match kind {
        0 => Value::Null,
        1 => Value::BigInt(rng.next() as i64),
        2 => Value::Double(f64::from_bits(rng.next())),
        3 => Value::Text(rng.text(8)),
        4 => Value::Binary((0..rng.below(8)).map(|_| rng.next() as u8).collect()),
        5 => Value::Decimal(Decimal {
            digits: format!("-{}.{:02}", rng.below(1000), rng.below(100)),
            precision: 10,
            scale: 2,
        }),
        6 => Value::Date(Date {
            year: 1 + rng.below(9000) as i32,
            month: 1 + rng.below(12) as u8,
            day: 1 + rng.below(28) as u8,
        }),
        7 => Value::Json(rng.text(6)),
        _ => Value::Timestamp(rng.next() as i64 / 4096),
    }
}

#[test]
fn batch_json_is_always_valid_json_under_the_byte_limit() {
    let mut rng = Rng(11);
    for _ in 0..300 {
        let kinds: Vec<usize> = (0..1 + rng.below(4)).map(|_| 1 + rng.below(8)).collect();
        let records: Vec<Vec<(String, Value)>> = (0..1 + rng.below(40))
            .map(|_| {
                kinds
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| {
                        (
                            format!("c`{i}"),
                            if rng.below(5) == 0 {
                                Value::Null
                            } else {
                                random_value(&mut rng, k)
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        let plan = write::plan::plan_for(&records, "cat.s.t", &Mode::Insert).unwrap();
        let b = Batcher::new(&records, &plan, 1 + rng.below(10) as u32, 2048);
        let mut total = 0;
        for batch in b {
            let batch = batch.unwrap();
            assert!(batch.json.len() <= 2048);
            let parsed: Vec<serde_json::Value> = serde_json::from_str(&batch.json).unwrap();
            assert_eq!(parsed.len(), batch.rows);
            total += batch.rows;
        }
        assert_eq!(total, records.len());
        for r in &records {
            for (_, v) in r {
                let mut s = String::new();
                push_json_value(&mut s, v).unwrap();
                serde_json::from_str::<serde_json::Value>(&s).unwrap();
            }
        }
    }
}

#[test]
fn secrets_never_leak_through_debug() {
    let mut cfg = input();
    cfg.credential = Credential::OAuthM2m {
        client_id: "id".into(),
        client_secret: Secret::new("oauth-secret-xyz"),
        scope: Some("all-apis".into()),
    };
    let c = Config::validate(cfg).unwrap();
    assert!(!format!("{c:?}").contains("oauth-secret-xyz"));
    let s = super::fake::session_with(input());
    assert!(!format!("{:?}", s.config).contains("dapi-secret"));
}
