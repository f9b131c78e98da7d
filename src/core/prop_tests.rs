//! Property tests (proptest): the response decoder, the value decoder, the `%(name)s` translator
//! and identifier quoting never panic on arbitrary input, and their round trips hold. A normal
//! `cargo test` runs each property for proptest's default 256 cases (set `PROPTEST_CASES` for a
//! longer run) and replays the regression corpus in `src/core/fuzz-corpus/` (inputs that once
//! mattered: truncated JSON, wrong types, huge values, hostile names, deep nesting). Failing cases
//! proptest finds are persisted under `proptest-regressions/` and replayed by every later run.

use proptest::prelude::*;

use super::base64;
use super::driver;
use super::fake::session;
use super::http::{HttpResponse, Method};
use super::response;
use super::retry::Retry;
use super::sql::{quote_ident, quote_table, translate};
use super::time;
use super::value::{Column, Value, decode_cell, format_double, format_float, push_json_value};

use super::fuzz_tests::TYPES;

fn col(type_name: &str) -> Column {
    Column {
        name: "c".into(),
        type_name: type_name.into(),
        type_text: type_name.into(),
        ..Default::default()
    }
}

/// The name inside a backtick-quoted identifier, or `None` if `q` is not exactly one.
fn unquote(q: &str) -> Option<String> {
    let inner = q.strip_prefix('`')?.strip_suffix('`')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '`' {
            // Inside, a backtick only ever appears doubled.
            if chars.next() != Some('`') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// Text that is an identifier: 1..=255 chars, no control characters, any other unicode.
fn ident() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('`'),
            Just('.'),
            Just(';'),
            Just('\''),
            Just('"'),
            Just('-'),
            Just('*'),
            Just('/'),
            Just(' '),
            Just('%'),
            any::<char>(),
        ]
        .prop_filter("no control characters", |c| !c.is_control()),
        1..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn marker_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,8}"
}

/// Plain SQL text: no `%`, quote or comment characters.
fn plain() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,=()<>+*.:;\n\u{e9}\u{540d}]{0,12}"
}

/// Read a chunk body the way the driver does: rows, then the members after them.
fn read_chunk_body(body: Vec<u8>) {
    if let Ok(response::ChunkBody::Rows(mut rows)) = response::parse_chunk_body(body) {
        let mut scratch = String::new();
        while let Ok(Some(_)) = rows.next_row(&mut scratch, |_, _| {}) {}
        if let Some(rest) = rows.rest_of_object() {
            let _ = response::parse_chunk(rest);
        }
    }
}

proptest! {
    #[test]
    fn response_decoder_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = response::parse_statement(body.as_slice()).map(|r| (r.state(), r.columns()));
        let _ = response::parse_chunk(body.as_slice()).map(|c| c.data_array.map(|r| r.to_owned_rows()));
        read_chunk_body(body.clone());
        let _ = response::parse_statement_body(body.clone());
        let _ = response::parse_external_rows(body.clone()).and_then(|r| r.to_owned_rows());
        let _ = response::http_error(&HttpResponse { status: 400, headers: vec![], body });
    }

    #[test]
    fn response_decoder_never_panics_on_json_shaped_text(body in r#"\{("[a-z_]{1,16}":("[A-Z0-9_ ]{0,8}"|[0-9]{1,25}|null|true|\[\]|\{\}|\[\["[0-9a-z]{0,4}"\]\]),?){0,6}\}"#) {
        let _ = response::parse_statement(body.as_bytes()).map(|r| (r.state(), r.columns()));
        let _ = response::parse_chunk(body.as_bytes()).map(|c| c.data_array.map(|r| r.to_owned_rows()));
        read_chunk_body(body.clone().into_bytes());
        let _ = response::parse_statement_body(body.clone().into_bytes());
        read_chunk_body(body.replacen("{\"", "{\"data_array\":[[\"1\"]],\"", 1).into_bytes());
    }

    /// The row reader agrees with serde_json on any rows serde_json prints (every escape, any
    /// Unicode, pretty-printed or compact), and refuses nothing serde_json accepts.
    #[test]
    fn json_rows_agree_with_serde_json(
        rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(any::<String>()), 0..4), 0..6),
        pretty in any::<bool>(),
    ) {
        let text = if pretty { serde_json::to_string_pretty(&rows) } else { serde_json::to_string(&rows) }.unwrap();
        let read = super::json_rows::JsonRows::new(text).to_owned_rows().unwrap();
        prop_assert_eq!(read, rows);
    }

    /// A well-formed response with arbitrary cells decodes to exactly those cells.
    #[test]
    fn response_rows_round_trip(
        types in proptest::collection::vec(0..TYPES.len(), 1..5),
        rows in proptest::collection::vec(proptest::collection::vec(proptest::option::of(".{0,12}"), 5), 0..6),
    ) {
        let columns: Vec<serde_json::Value> = types
            .iter()
            .enumerate()
            .map(|(i, &t)| serde_json::json!({"name": format!("c{i}"), "type_name": TYPES[t], "type_text": TYPES[t], "position": i}))
            .collect();
        let data: Vec<Vec<Option<String>>> = rows.iter().map(|r| r[..types.len()].to_vec()).collect();
        let body = serde_json::json!({
            "statement_id": "s-1",
            "status": {"state": "SUCCEEDED"},
            "manifest": {"format": "JSON_ARRAY", "schema": {"column_count": types.len(), "columns": columns}, "total_row_count": data.len()},
            "result": {"chunk_index": 0, "row_count": data.len(), "data_array": data},
        });
        let parsed = response::parse_statement(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(parsed.columns().len(), types.len());
        let read = parsed.result.unwrap().data_array.map(|r| r.to_owned_rows().unwrap()).unwrap_or_default();
        prop_assert_eq!(read, data.clone());
        // Every cell decodes to a value or a typed error; text columns keep the bytes.
        for row in &data {
            for (cell, &t) in row.iter().zip(&types) {
                match decode_cell(&col(TYPES[t]), cell.as_deref()) {
                    Ok(Value::Text(s)) => prop_assert_eq!(Some(s), cell.clone()),
                    Ok(_) => {}
                    Err(e) => prop_assert_eq!(e.kind, super::error::ErrorKind::Server),
                }
            }
        }
    }

    /// Through the driver: a result whose rows disagree with the manifest's count is a typed
    /// error, one that agrees is read in full.
    #[test]
    fn manifest_row_count_is_checked(actual in 0usize..5, announced in 0u64..6) {
        let data: Vec<Vec<String>> = (0..actual).map(|i| vec![i.to_string()]).collect();
        let body = serde_json::json!({
            "statement_id": "s-2",
            "status": {"state": "SUCCEEDED"},
            "manifest": {"schema": {"column_count": 1, "columns": [{"name": "a", "type_name": "LONG", "position": 0}]}, "total_row_count": announced},
            "result": {"chunk_index": 0, "data_array": data},
        });
        let mut s = session();
        s.transport.on(Method::Post, "/api/2.0/sql/statements", 200, &body.to_string());
        if actual == 0 && announced > 0 {
            // Rows announced but none inline: chunk 0 is read and is empty.
            s.transport.on(Method::Get, "/result/chunks/0", 200, r#"{"chunk_index":0,"data_array":[]}"#);
        }
        let deadline = s.deadline();
        let got = driver::run(&mut s, "SELECT a", &[], Retry::Submit, deadline)
            .and_then(|mut c| c.all_rows(&mut s, deadline));
        match got {
            Ok(rows) => prop_assert_eq!((rows.len(), announced), (actual, actual as u64)),
            Err(e) => {
                prop_assert_ne!(announced, actual as u64);
                prop_assert_eq!(e.kind, super::error::ErrorKind::Server);
            }
        }
    }

    #[test]
    fn value_decoder_never_panics(t in 0..TYPES.len(), text in ".{0,40}", type_text in ".{0,20}") {
        let c = Column { type_text, ..col(TYPES[t]) };
        let _ = decode_cell(&c, Some(&text));
        let _ = decode_cell(&c, None);
    }

    #[test]
    fn integers_and_floats_round_trip(i in any::<i64>(), j in any::<i32>(), k in any::<i16>(), b in any::<i8>(), d in any::<f64>(), f in any::<f32>()) {
        prop_assert_eq!(decode_cell(&col("LONG"), Some(&i.to_string())).unwrap(), Value::BigInt(i));
        prop_assert_eq!(decode_cell(&col("INT"), Some(&j.to_string())).unwrap(), Value::Int(j));
        prop_assert_eq!(decode_cell(&col("SHORT"), Some(&k.to_string())).unwrap(), Value::SmallInt(k));
        prop_assert_eq!(decode_cell(&col("BYTE"), Some(&b.to_string())).unwrap(), Value::TinyInt(b));
        match decode_cell(&col("DOUBLE"), Some(&format_double(d))).unwrap() {
            Value::Double(x) => prop_assert!(x.to_bits() == d.to_bits() || (x.is_nan() && d.is_nan())),
            other => prop_assert!(false, "{:?}", other),
        }
        match decode_cell(&col("FLOAT"), Some(&format_float(f))).unwrap() {
            Value::Float(x) => prop_assert!(x.to_bits() == f.to_bits() || (x.is_nan() && f.is_nan())),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn text_binary_dates_timestamps_decimals_round_trip(
        s in ".{0,40}",
        bytes in proptest::collection::vec(any::<u8>(), 0..40),
        micros in -62_000_000_000_000_000i64..250_000_000_000_000_000,
        int_part in "-?[1-9][0-9]{0,18}|0",
        frac in "[0-9]{0,6}",
    ) {
        prop_assert_eq!(decode_cell(&col("STRING"), Some(&s)).unwrap(), Value::Text(s.clone()));
        prop_assert_eq!(decode_cell(&col("VARIANT"), Some(&s)).unwrap(), Value::Json(s.clone()));
        // Base64 text that is also even-length hex is refused as ambiguous, never guessed.
        let b64 = base64::encode(&bytes);
        let hex_too = !b64.is_empty() && b64.len().is_multiple_of(2) && b64.bytes().all(|c| c.is_ascii_hexdigit());
        match decode_cell(&col("BINARY"), Some(&b64)) {
            Ok(v) => prop_assert_eq!(v, Value::Binary(bytes.clone())),
            Err(e) => prop_assert!(hex_too && e.error_code.as_deref() == Some("AMBIGUOUS_BINARY_TEXT"), "{:?}", e),
        }
        let ts = format!("{}Z", time::format_timestamp(micros, 'T'));
        prop_assert_eq!(decode_cell(&col("TIMESTAMP"), Some(&ts)).unwrap(), Value::Timestamp(micros));
        let ntz = time::format_timestamp(micros, ' ');
        prop_assert_eq!(decode_cell(&col("TIMESTAMP_NTZ"), Some(&ntz)).unwrap(), Value::TimestampNtz(micros));
        let digits = if frac.is_empty() { int_part.clone() } else { format!("{int_part}.{frac}") };
        let dc = Column { type_text: "DECIMAL(38,6)".into(), ..col("DECIMAL") };
        match decode_cell(&dc, Some(&digits)).unwrap() {
            Value::Decimal(d) => prop_assert_eq!(d.digits, digits),
            other => prop_assert!(false, "{:?}", other),
        }
        // Batch JSON carries any text byte-exact.
        let mut json = String::new();
        push_json_value(&mut json, &Value::Text(s.clone())).unwrap();
        prop_assert_eq!(serde_json::from_str::<String>(&json).unwrap(), s);
    }

    #[test]
    fn translator_never_panics(sql in ".{0,60}", n in 0usize..3, v in ".{0,10}") {
        let params = [
            ("a".to_string(), Value::Text(v.clone())),
            ("x_1".to_string(), Value::Binary(v.into_bytes())),
            ("b".to_string(), Value::Null),
        ];
        let _ = translate(&sql, &params[..n]);
    }

    /// `%(name)s` markers become `:name` in place, `%%` becomes `%`, and values never enter the text.
    #[test]
    fn translator_round_trips(
        pieces in proptest::collection::vec((plain(), proptest::option::of(marker_name()), any::<bool>()), 0..6),
        values in proptest::collection::vec(".{0,16}", 6),
    ) {
        let mut sql = String::new();
        let mut expected = String::new();
        let mut params = Vec::new();
        for (i, (text, marker, percent)) in pieces.iter().enumerate() {
            sql.push_str(text);
            expected.push_str(text);
            if *percent {
                sql.push_str("%%");
                expected.push('%');
            }
            if let Some(m) = marker {
                let name = format!("{m}_{i}");
                sql.push_str(&format!("%({name})s"));
                expected.push_str(&format!(":{name}"));
                params.push((name, Value::Text(values[i].clone())));
            }
        }
        let t = translate(&sql, &params).unwrap();
        prop_assert_eq!(&t.sql, &expected);
        prop_assert_eq!(t.params.len(), params.len());
        for (spec, (name, v)) in t.params.iter().zip(&params) {
            prop_assert_eq!(&spec.name, name);
            let Value::Text(text) = v else { unreachable!() };
            prop_assert_eq!(spec.value.as_deref(), Some(text.as_str()));
        }
    }

    /// Markers inside quotes and comments are left alone (no parameter is needed for them).
    #[test]
    fn markers_inside_quotes_and_comments_stay(inner in "[a-z %()_]{0,16}", quote in 0usize..5) {
        let sql = match quote {
            0 => format!("SELECT '{inner}'"),
            1 => format!("SELECT \"{inner}\""),
            2 => format!("SELECT `{inner}`"),
            3 => format!("SELECT 1 -- {inner}"),
            _ => format!("SELECT /* {inner} */ 1"),
        };
        prop_assert_eq!(translate(&sql, &[]).unwrap().sql, sql);
    }

    #[test]
    fn quoting_never_panics(name in ".{0,60}") {
        let _ = quote_ident(&name);
        let _ = quote_table(&name);
    }

    /// A quoted identifier is one backtick token naming exactly the input, and quoting is
    /// stable through `quote_table` (a quoted part is taken as is).
    #[test]
    fn identifier_quoting_round_trips(a in ident(), b in ident(), c in ident()) {
        for n in [&a, &b, &c] {
            let q = quote_ident(n).unwrap();
            let back = unquote(&q);
            prop_assert_eq!(back.as_deref(), Some(n.as_str()));
            prop_assert_eq!(quote_table(&q).unwrap(), q);
        }
        let three = format!("{}.{}.{}", quote_ident(&a).unwrap(), quote_ident(&b).unwrap(), quote_ident(&c).unwrap());
        prop_assert_eq!(quote_table(&three).unwrap(), three);
        // An unquoted name of safe parts splits on dots.
        let safe: String = a.chars().filter(|c| !matches!(c, '`' | '.')).collect();
        if !safe.is_empty() && safe.trim() == safe {
            prop_assert_eq!(quote_table(&safe).unwrap(), quote_ident(&safe).unwrap());
        }
    }

    #[test]
    fn control_characters_and_empty_names_are_rejected(pre in "[a-z]{0,4}", ctl in "[\u{0}-\u{1f}\u{7f}]", post in "[a-z]{0,4}") {
        let name = format!("{pre}{ctl}{post}");
        prop_assert_eq!(quote_ident(&name).unwrap_err().kind, super::error::ErrorKind::InvalidInput);
        prop_assert!(quote_ident("").is_err());
    }
}

/// Replays every file of `src/core/fuzz-corpus/` through the decoders, the translator and the
/// quoting: never a panic, and the expected verdict for the named cases.
#[test]
fn regression_corpus_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core/fuzz-corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        n += 1;
        let _ = response::parse_statement(bytes.as_slice()).map(|r| (r.state(), r.columns()));
        let _ = response::parse_chunk(bytes.as_slice())
            .map(|c| c.data_array.map(|r| r.to_owned_rows()));
        let _ = response::parse_external_rows(bytes.clone()).and_then(|r| r.to_owned_rows());
        let _ = response::http_error(&HttpResponse {
            status: 500,
            headers: vec![],
            body: bytes.clone(),
        });
        let _ = translate(&text, &[]);
        let _ = quote_table(&text);
        for t in TYPES {
            let _ = decode_cell(&col(t), Some(&text));
        }
    }
    assert!(n >= 10, "corpus has {n} files");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    for bad in [
        "truncated.json",
        "deep-nesting.json",
        "wrong-field-types.json",
    ] {
        assert!(response::parse_statement(read(bad)).is_err(), "{bad}");
    }
    // Wrong cell types and missing fields: typed errors once the statement is looked at.
    let missing = response::parse_statement(read("missing-fields.json"));
    assert!(missing.is_err() || missing.unwrap().state().is_err());
    // Non-string cells are refused when the rows are read.
    let wrong = response::parse_statement(read("wrong-types.json")).unwrap();
    assert!(
        wrong
            .result
            .unwrap()
            .data_array
            .unwrap()
            .to_owned_rows()
            .is_err()
    );
    assert!(response::parse_statement(read("invalid-utf8-error.json")).is_err());
    let sql = String::from_utf8(read("markers-in-quotes.sql")).unwrap();
    assert!(
        translate(&sql, &[]).is_err(),
        "the trailing `%(` is malformed"
    );
    assert_eq!(
        quote_table(&String::from_utf8(read("quoted-table.name")).unwrap()).unwrap(),
        "`a``b`.`c`.`d.e`"
    );
    assert!(quote_table(&String::from_utf8(read("unterminated-table.name")).unwrap()).is_err());
    assert!(quote_table(&String::from_utf8(read("hostile-table.name")).unwrap()).is_err());
    assert_eq!(
        quote_table(&String::from_utf8(read("unicode-table.name")).unwrap()).unwrap(),
        "`名前`.`😀`.`t\u{301}`"
    );
    // Hostile ids never reach a URL path; the row-count mismatch is caught by the driver.
    assert!(!driver::valid_statement_id("../../x?y#z"));
    let mut s = session();
    s.transport.on(
        Method::Post,
        "/api/2.0/sql/statements",
        200,
        &String::from_utf8(read("row-count-mismatch.json")).unwrap(),
    );
    let deadline = s.deadline();
    let e = driver::run(&mut s, "SELECT a", &[], Retry::Submit, deadline)
        .and_then(|mut c| c.all_rows(&mut s, deadline))
        .unwrap_err();
    assert!(e.message.contains("manifest announced 3"), "{}", e.message);
    let mut s = session();
    s.transport.on(
        Method::Post,
        "/api/2.0/sql/statements",
        200,
        &String::from_utf8(read("huge-values.json")).unwrap(),
    );
    let deadline = s.deadline();
    // Out-of-range precision, a row count of u64::MAX and a 62-digit decimal: typed, no panic.
    let got = driver::run(&mut s, "SELECT a", &[], Retry::Submit, deadline)
        .and_then(|mut c| c.all_rows(&mut s, deadline));
    assert_eq!(got.unwrap_err().kind, super::error::ErrorKind::Server);
}
