//! Unit tests of `value.rs`.
use super::*;

#[test]
fn decimal_rescale() {
    let d = Decimal::parse("12.5").unwrap();
    assert_eq!(d.with_type(12, 2).unwrap().digits, "12.50");
    assert_eq!(Decimal::parse("-0.50").unwrap().with_type(12, 2).unwrap().digits, "-0.50");
    assert!(Decimal::parse("1.234").unwrap().with_type(12, 2).is_none());
    assert!(Decimal::parse("abc").is_none());
    assert_eq!(Decimal::parse(".5").unwrap().digits, "0.5");
    assert_eq!(Decimal::parse("+007.").unwrap().digits, "7");
    assert_eq!(Decimal::parse("-0.50").unwrap(), Decimal { digits: "-0.50".into(), precision: 2, scale: 2 });
}

#[test]
fn timestamps_are_exact() {
    let us = parse_timestamp("2024-01-02T03:04:05.123456Z").unwrap();
    assert_eq!(format_timestamp(us), "2024-01-02T03:04:05.123456Z");
    assert_eq!(format_timestamp(parse_timestamp("2024-01-02T03:04:05Z").unwrap()), "2024-01-02T03:04:05Z");
    assert_eq!(format_timestamp_ntz(us), "2024-01-02T03:04:05.123456");
}

#[test]
fn infer_reads_numbers_and_booleans() {
    assert_eq!(Value::infer("1"), Value::BigInt(1));
    assert_eq!(Value::infer("1.5"), Value::Decimal(Decimal::parse("1.5").unwrap()));
    assert_eq!(Value::infer("true"), Value::Boolean(true));
    assert_eq!(Value::infer("WEST"), Value::Text("WEST".into()));
    assert_eq!(Value::infer("1e3x"), Value::Text("1e3x".into()));
}

#[test]
fn row_json_keeps_order() {
    let rows = Row::parse_records("{\"z\":1,\"a\":\"x\"}\n{\"z\":null,\"a\":2.5}\n").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0[0].0, "z");
    assert_eq!(serde_json::to_string(&rows[0]).unwrap(), "{\"z\":1,\"a\":\"x\"}");
    let arr = Row::parse_records("[{\"b\":true}]").unwrap();
    assert_eq!(arr[0].get("b"), Some(&Value::Boolean(true)));
}

#[test]
fn binary_and_floats_to_json() {
    assert_eq!(Value::Binary(vec![0, 255]).to_json(), serde_json::json!("AP8="));
    assert_eq!(Value::Double(f64::NAN).to_json(), serde_json::json!("NaN"));
    assert_eq!(Value::Float(0.1).to_json(), serde_json::json!(0.1));
}

fn decimal_column(p: u8, s: u8) -> Column {
    Column { name: "m".into(), type_name: "DECIMAL".into(), type_text: format!("DECIMAL({p},{s})"), position: 0 }
}

#[test]
fn json_numbers_keep_every_digit_into_a_decimal_column() {
    // Issue 11: these went through f64 and were stored as ...123456700 and ...566000000000.
    let col = decimal_column(38, 9);
    for (json, want) in [
        ("1234567890.123456789", "1234567890.123456789"),
        ("12345678901234567890123456.789", "12345678901234567890123456.789000000"),
        ("-0.000000001", "-0.000000001"),
        ("1.5e3", "1500.000000000"),
        ("12345678901234567890", "12345678901234567890.000000000"),
    ] {
        let row: Row = serde_json::from_str(&format!(r#"{{"m": {json}}}"#)).unwrap();
        let got = row.get("m").unwrap().coerce_to(&col).unwrap();
        assert_eq!(got, Value::Decimal(Decimal { digits: want.into(), precision: 38, scale: 9 }), "{json}");
    }
    // Digits that do not fit the scale are refused, not rounded.
    let row: Row = serde_json::from_str(r#"{"m": 1.0000000001}"#).unwrap();
    assert!(row.get("m").unwrap().coerce_to(&col).is_err());
}

#[test]
fn exact_json_numbers_still_fill_float_and_integer_columns() {
    let row: Row = serde_json::from_str(r#"{"f": 0.1, "i": 2.0, "j": 2.5, "big": 1e300}"#).unwrap();
    let double = Column { name: "f".into(), type_name: "DOUBLE".into(), type_text: "DOUBLE".into(), position: 0 };
    let int = Column { name: "i".into(), type_name: "INT".into(), type_text: "INT".into(), position: 1 };
    assert_eq!(row.get("f").unwrap().coerce_to(&double).unwrap(), Value::Double(0.1));
    assert_eq!(row.get("i").unwrap().coerce_to(&int).unwrap(), Value::Int(2));
    assert!(row.get("j").unwrap().coerce_to(&int).is_err(), "2.5 is not truncated into an INT");
    assert_eq!(row.get("big"), Some(&Value::Double(1e300)));
}

#[test]
fn nested_json_keeps_its_number_text() {
    let row: Row = serde_json::from_str(r#"{"a": [1.00000000000000000001, {"x": 2}]}"#).unwrap();
    assert_eq!(row.get("a"), Some(&Value::Json(r#"[1.00000000000000000001, {"x": 2}]"#.into())));
}

#[test]
fn case_variant_duplicate_keys_are_refused() {
    let err = serde_json::from_str::<Row>(r#"{"id": 1, "ID": 2}"#).unwrap_err().to_string();
    assert!(err.contains("twice"), "{err}");
    assert!(Row::parse_records("{\"a\": 1, \"a\": 2}\n").is_err());
}
