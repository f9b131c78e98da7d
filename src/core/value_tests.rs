//! Unit tests of `value.rs`.

use super::*;

fn col(type_name: &str, type_text: &str) -> Column {
    Column {
        name: "c".into(),
        type_name: type_name.into(),
        type_text: type_text.into(),
        ..Default::default()
    }
}

fn dec(tn: &str, s: &str) -> Value {
    decode_cell(&col(tn, tn), Some(s)).unwrap()
}

#[test]
fn integer_fast_path_agrees_with_str_parse() {
    let samples = [
        "0",
        "-0",
        "7",
        "-7",
        "+7",
        " 12 ",
        "127",
        "128",
        "-128",
        "-129",
        "32767",
        "2147483648",
        "999999999999999999",
        "-999999999999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "",
        "-",
        "1.0",
        "1e3",
        "0x10",
        "١٢",
    ];
    for s in samples {
        assert_eq!(parse_int::<i8>(s), s.trim().parse().ok(), "{s:?} as i8");
        assert_eq!(parse_int::<i16>(s), s.trim().parse().ok(), "{s:?} as i16");
        assert_eq!(parse_int::<i32>(s), s.trim().parse().ok(), "{s:?} as i32");
        assert_eq!(parse_int::<i64>(s), s.trim().parse().ok(), "{s:?} as i64");
    }
}

#[test]
fn decodes_scalars() {
    assert_eq!(dec("BOOLEAN", "true"), Value::Boolean(true));
    assert_eq!(dec("BOOLEAN", "false"), Value::Boolean(false));
    assert_eq!(dec("BYTE", "-128"), Value::TinyInt(-128));
    assert_eq!(dec("SHORT", "32767"), Value::SmallInt(32767));
    assert_eq!(dec("INT", "-7"), Value::Int(-7));
    assert_eq!(dec("LONG", "9223372036854775807"), Value::BigInt(i64::MAX));
    assert_eq!(dec("FLOAT", "1.5"), Value::Float(1.5));
    assert_eq!(dec("DOUBLE", "1.0E300"), Value::Double(1e300));
    assert_eq!(dec("STRING", " a\"b "), Value::Text(" a\"b ".into()));
    assert_eq!(dec("CHAR", "x"), Value::Text("x".into()));
    assert_eq!(decode_cell(&col("INT", "INT"), None).unwrap(), Value::Null);
    assert_eq!(
        decode_cell(&col("NULL", "VOID"), Some("x")).unwrap(),
        Value::Null
    );
}

#[test]
fn decodes_float_specials() {
    assert!(matches!(dec("DOUBLE", "NaN"), Value::Double(x) if x.is_nan()));
    assert_eq!(dec("DOUBLE", "Infinity"), Value::Double(f64::INFINITY));
    assert_eq!(dec("DOUBLE", "-Infinity"), Value::Double(f64::NEG_INFINITY));
    assert!(matches!(dec("FLOAT", "NaN"), Value::Float(x) if x.is_nan()));
    assert_eq!(dec("FLOAT", "-Infinity"), Value::Float(f32::NEG_INFINITY));
    assert_eq!(dec("FLOAT", "16777217"), Value::Float(16_777_216.0));
    assert_eq!(dec("FLOAT", "1.0000000596046448"), Value::Float(1.0000001));
}

#[test]
fn decodes_decimals_exactly_with_scale_zeros() {
    let mut c = col("DECIMAL", "DECIMAL(10,2)");
    assert_eq!(
        decode_cell(&c, Some("-12.50")).unwrap(),
        Value::Decimal(Decimal {
            digits: "-12.50".into(),
            precision: 10,
            scale: 2
        })
    );
    c.precision = Some(38);
    c.scale = Some(4);
    assert_eq!(
        decode_cell(&c, Some("0.0100")).unwrap(),
        Value::Decimal(Decimal {
            digits: "0.0100".into(),
            precision: 38,
            scale: 4
        })
    );
    let big = "12345678901234567890123456789012345678";
    assert!(
        matches!(decode_cell(&col("DECIMAL", "DECIMAL(38,0)"), Some(big)).unwrap(),
        Value::Decimal(d) if d.digits == big && d.precision == 38)
    );
    assert!(decode_cell(&c, Some("1e")).is_err());
    assert!(decode_cell(&c, Some("1.")).is_err());
}

#[test]
fn decimals_in_exponent_form_are_normalised_to_the_column_scale() {
    // Java's BigDecimal.toString, which a server may print: exact, at the column's scale.
    let dec = |t: &str, cell: &str| match decode_cell(&col("DECIMAL", t), Some(cell)) {
        Ok(Value::Decimal(d)) => Ok(d.digits),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.info.message),
    };
    assert_eq!(
        dec("DECIMAL(38,18)", "0E-18"),
        Ok("0.000000000000000000".into())
    );
    assert_eq!(
        dec("DECIMAL(38,18)", "-0E-18"),
        Ok("0.000000000000000000".into())
    );
    assert_eq!(dec("DECIMAL(10,2)", "1.5E+3"), Ok("1500.00".into()));
    assert_eq!(dec("DECIMAL(10,2)", "1.5e3"), Ok("1500.00".into()));
    assert_eq!(dec("DECIMAL(10,0)", "-12E+2"), Ok("-1200".into()));
    assert_eq!(dec("DECIMAL(10,4)", "1.23E-2"), Ok("0.0123".into()));
    assert_eq!(dec("DECIMAL(10,4)", "12300E-6"), Ok("0.0123".into()));
    assert_eq!(dec("DECIMAL(10,2)", "1.2000E-1"), Ok("0.12".into()));
    assert_eq!(dec("DECIMAL(5,0)", "0E+7"), Ok("0".into()));
    // Plain text stays exactly as sent.
    assert_eq!(dec("DECIMAL(10,2)", "-012.5"), Ok("-012.5".into()));
    // Rounding, overflowing the precision, or not decimal at all: refused.
    for (t, cell) in [
        ("DECIMAL(10,2)", "1.234E+0"),
        ("DECIMAL(10,2)", "1E-3"),
        ("DECIMAL(4,1)", "1E+5"),
        ("DECIMAL(38,0)", "1E+99999"),
        ("DECIMAL(10,2)", "1E+9999999"),
        ("DECIMAL(10,2)", "E5"),
        ("DECIMAL(10,2)", "1E5.0"),
        ("DECIMAL(10,2)", "1EE5"),
        ("DECIMAL(10,2)", "0x10"),
    ] {
        assert!(dec(t, cell).is_err(), "{t} {cell}");
    }
    assert_eq!(normalize_decimal("1.5E+3", 0), Some("1500".into()));
    assert_eq!(normalize_decimal(".5", 2), Some("0.50".into()));
    assert_eq!(normalize_decimal("-0.50", 1), Some("-0.5".into()));
    assert_eq!(decimal_digits("-0.0100"), 3);
}

#[test]
fn binary_text_is_base64_or_hex_but_never_a_guess() {
    let c = col("BINARY", "BINARY");
    // Only base64 (what the local warehouse sends) or only hex: decoded.
    assert_eq!(
        decode_cell(&c, Some("AP8=")).unwrap(),
        Value::Binary(vec![0, 255])
    );
    assert_eq!(
        decode_cell(&c, Some("SGVsbG8=")).unwrap(),
        Value::Binary(b"Hello".to_vec())
    );
    assert!(decode_cell(&c, Some("00ff1")).is_err());
    assert_eq!(
        decode_cell(&c, Some("00ff10")).unwrap(),
        Value::Binary(vec![0, 255, 16])
    );
    assert_eq!(decode_cell(&c, Some("")).unwrap(), Value::Binary(vec![]));
    // Valid as both (e.g. base64 of [0xD3, 0x4D, 0x34] is also hex of two bytes): refused,
    // typed, in rows and in column batches alike.
    for ambiguous in ["00FF", "0000", "deadbeef", "ABCD1234"] {
        let e = decode_cell(&c, Some(ambiguous)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server);
        assert_eq!(
            e.error_code.as_deref(),
            Some(AMBIGUOUS_BINARY),
            "{ambiguous}"
        );
        assert!(
            e.message.contains("reads as both hex and base64"),
            "{}",
            e.message
        );
        let mut data = crate::core::columns::ColumnData::for_kind(c.kind(), 1);
        assert_eq!(data.push(c.kind(), &c, Some(ambiguous)).unwrap_err(), e);
    }
}

#[test]
fn decodes_dates_and_timestamps() {
    assert_eq!(
        dec("DATE", "2024-02-29"),
        Value::Date(Date {
            year: 2024,
            month: 2,
            day: 29
        })
    );
    let utc_18h = (18_628 * 86_400 + 18 * 3600) * 1_000_000;
    assert_eq!(
        dec("TIMESTAMP", "2021-01-01T10:00:00.000-08:00"),
        Value::Timestamp(utc_18h)
    );
    assert_eq!(
        dec("TIMESTAMP", "2021-01-01T18:00:00Z"),
        Value::Timestamp(utc_18h)
    );
    assert_eq!(
        dec("TIMESTAMP", "2021-01-01T18:00:00.000001Z"),
        Value::Timestamp(utc_18h + 1)
    );
    assert_eq!(
        dec("TIMESTAMP_NTZ", "2021-01-01 18:00:00"),
        Value::TimestampNtz(utc_18h)
    );
    assert_eq!(
        dec("TIMESTAMP_NTZ", "2021-01-01T18:00:00.000000"),
        Value::TimestampNtz(utc_18h)
    );
    assert!(decode_cell(&col("TIMESTAMP_NTZ", ""), Some("2021-01-01T18:00:00Z")).is_err());
    assert!(decode_cell(&col("DATE", ""), Some("2021-1-1")).is_err());
}

#[test]
fn decodes_binary_base64_then_hex() {
    assert_eq!(dec("BINARY", "SGVsbG8="), Value::Binary(b"Hello".to_vec()));
    assert_eq!(
        dec("BINARY", "48656C6C6F"),
        Value::Binary(b"Hello".to_vec())
    );
    assert_eq!(dec("BINARY", ""), Value::Binary(vec![]));
    assert!(decode_cell(&col("BINARY", ""), Some("not binary!")).is_err());
}

#[test]
fn decodes_intervals() {
    assert_eq!(
        dec("INTERVAL", "100-0"),
        Value::Interval(Interval {
            months: 1200,
            micros: 0
        })
    );
    let m = ((3 * 24 + 4) * 3600 + 30 * 60 + 20) * 1_000_000 + 123_000;
    assert_eq!(
        dec("INTERVAL", "-3 04:30:20.123000000"),
        Value::Interval(Interval {
            months: 0,
            micros: -m
        })
    );
}

#[test]
fn complex_and_unknown_types() {
    assert_eq!(dec("ARRAY", "[1,2]"), Value::Json("[1,2]".into()));
    assert_eq!(
        dec("MAP", "{\"a\":\"b\"}"),
        Value::Json("{\"a\":\"b\"}".into())
    );
    assert_eq!(dec("STRUCT", "{\"x\":1}"), Value::Json("{\"x\":1}".into()));
    assert_eq!(
        dec("VARIANT", "{\"v\":true}"),
        Value::Json("{\"v\":true}".into())
    );
    assert_eq!(
        dec("GEOGRAPHY", "POINT(1 2)"),
        Value::Text("POINT(1 2)".into())
    );
}

#[test]
fn malformed_cells_are_server_errors() {
    for (t, s) in [
        ("INT", "1.5"),
        ("INT", "99999999999"),
        ("BOOLEAN", "yes"),
        ("DOUBLE", "abc"),
        ("INTERVAL", "x"),
    ] {
        let e = decode_cell(&col(t, t), Some(s)).unwrap_err();
        assert_eq!(e.kind, super::super::error::ErrorKind::Server, "{t} {s}");
    }
}

#[test]
fn encodes_params() {
    let spec = |v: Value| param_spec("p", &v).unwrap();
    assert_eq!(spec(Value::Null).value, None);
    assert_eq!(spec(Value::Null).sql_type, "STRING");
    assert_eq!(spec(Value::Boolean(true)).value.as_deref(), Some("true"));
    assert_eq!(spec(Value::BigInt(-5)).sql_type, "BIGINT");
    assert_eq!(spec(Value::Double(0.1)).value.as_deref(), Some("0.1"));
    assert_eq!(spec(Value::Double(f64::NAN)).value.as_deref(), Some("NaN"));
    assert_eq!(
        spec(Value::Float(f32::INFINITY)).value.as_deref(),
        Some("Infinity")
    );
    assert_eq!(
        spec(Value::Double(f64::NEG_INFINITY)).value.as_deref(),
        Some("-Infinity")
    );
    let d = spec(Value::Decimal(Decimal {
        digits: "12.50".into(),
        precision: 10,
        scale: 2,
    }));
    assert_eq!(
        (d.value.as_deref(), d.sql_type.as_str()),
        (Some("12.50"), "DECIMAL(10,2)")
    );
    let b = spec(Value::Binary(b"Hi".to_vec()));
    assert_eq!((b.value.as_deref(), b.unhex), (Some("4869"), true));
    assert_eq!(
        spec(Value::Date(Date {
            year: 2024,
            month: 1,
            day: 9
        }))
        .value
        .as_deref(),
        Some("2024-01-09")
    );
    assert_eq!(
        spec(Value::Timestamp(1)).value.as_deref(),
        Some("1970-01-01T00:00:00.000001Z")
    );
    assert_eq!(
        spec(Value::TimestampNtz(-1)).value.as_deref(),
        Some("1969-12-31 23:59:59.999999")
    );
    assert!(param_spec("p", &Value::Json("[]".into())).is_err());
    assert!(
        param_spec(
            "p",
            &Value::Interval(Interval {
                months: 1,
                micros: 0
            })
        )
        .is_err()
    );
    assert!(
        param_spec(
            "p",
            &Value::Decimal(Decimal {
                digits: "1;drop".into(),
                precision: 10,
                scale: 0
            })
        )
        .is_err()
    );
    assert!(
        param_spec(
            "p",
            &Value::Date(Date {
                year: 2023,
                month: 2,
                day: 29
            })
        )
        .is_err()
    );
}

#[test]
fn encodes_batch_json() {
    let j = |v: Value| {
        let mut s = String::new();
        push_json_value(&mut s, &v).unwrap();
        s
    };
    assert_eq!(j(Value::Null), "null");
    assert_eq!(j(Value::Double(f64::NAN)), "\"NaN\"");
    assert_eq!(j(Value::Double(1.5)), "1.5");
    assert_eq!(
        j(Value::Decimal(Decimal {
            digits: "-.50".into(),
            precision: 3,
            scale: 2
        })),
        "-0.50"
    );
    assert_eq!(
        j(Value::Decimal(Decimal {
            digits: "+7".into(),
            precision: 3,
            scale: 0
        })),
        "7"
    );
    assert_eq!(j(Value::Binary(b"Hello".to_vec())), "\"SGVsbG8=\"");
    assert_eq!(
        j(Value::Text("a\"\\\n\u{1}é".into())),
        "\"a\\\"\\\\\\n\\u0001é\""
    );
    assert_eq!(j(Value::Json("{\"a\":1}".into())), "\"{\\\"a\\\":1}\"");
    assert_eq!(j(Value::TimestampNtz(0)), "\"1970-01-01T00:00:00.000000\"");
    assert_eq!(j(Value::Timestamp(0)), "\"1970-01-01T00:00:00.000000Z\"");
    let text = j(Value::Text("x\u{7}\"y".into()));
    assert_eq!(serde_json::from_str::<String>(&text).unwrap(), "x\u{7}\"y");
}
