use super::*;
use crate::core::error::ErrorKind;
use crate::core::value::Interval;
use crate::core::write::plan::{Fields, Mode, Record, plan};

fn dec(digits: &str, precision: u8, scale: u8) -> Value {
    Value::Decimal(Decimal {
        digits: digits.into(),
        precision,
        scale,
    })
}

fn digits(v: &Value, t: Target) -> String {
    match fit(v, t).unwrap().into_owned() {
        Value::Decimal(d) => d.digits,
        other => panic!("not a decimal: {other:?}"),
    }
}

fn refused(v: &Value, t: Target) -> String {
    fit(v, t).unwrap_err()
}

#[test]
fn decimals_fit_exactly_or_are_refused() {
    let d10_2 = Target::Decimal(10, 2);
    // Rounding on the real service (PERMISSIVE from_json or the INSERT cast) is refused here.
    assert!(refused(&dec("1.234", 10, 3), d10_2).contains("more than 2 digits after the point"));
    assert!(refused(&dec("12345.678", 8, 3), Target::Decimal(5, 2)).contains("after the point"));
    assert!(
        refused(&dec("12345.67", 7, 2), Target::Decimal(5, 2))
            .contains("does not fit DECIMAL(5,2)")
    );
    assert!(refused(&Value::BigInt(100_000_000), d10_2).contains("does not fit"));
    // Trailing zeros are not lost digits.
    assert_eq!(digits(&dec("1.230", 10, 3), d10_2), "1.23");
    assert_eq!(digits(&dec("99999999.99", 10, 2), d10_2), "99999999.99");
    assert_eq!(digits(&dec("-0.5", 2, 1), d10_2), "-0.5");
    assert_eq!(digits(&Value::Int(5), d10_2), "5.00");
    assert_eq!(digits(&Value::Text("12.5".into()), d10_2), "12.50");
    assert_eq!(digits(&Value::Text("1.5E+3".into()), d10_2), "1500.00");
    // A float's shortest text is what the caller wrote.
    assert_eq!(digits(&Value::Double(0.1), d10_2), "0.10");
    assert!(refused(&Value::Double(f64::NAN), d10_2).contains("floating-point"));
    assert!(refused(&Value::Text("abc".into()), d10_2).contains("is not a number"));
    assert!(refused(&Value::Boolean(true), d10_2).contains("a BOOLEAN value"));
    // DECIMAL(38,18): 20 integer digits at most.
    let wide = Target::Decimal(38, 18);
    assert_eq!(
        digits(&Value::Text("0E-18".into()), wide),
        "0.000000000000000000"
    );
    assert!(fit(&dec("12345678901234567890.5", 38, 1), wide).is_ok());
    assert!(fit(&dec("123456789012345678901", 38, 0), wide).is_err());
}

#[test]
fn integers_fit_their_width() {
    let tiny = Target::Integer(8);
    assert_eq!(*fit(&Value::BigInt(127), tiny).unwrap(), Value::BigInt(127));
    assert_eq!(
        *fit(&Value::BigInt(-128), tiny).unwrap(),
        Value::BigInt(-128)
    );
    assert!(refused(&Value::BigInt(300), tiny).contains("300 is out of TINYINT range"));
    let int = Target::Integer(32);
    assert!(refused(&Value::BigInt(i64::from(i32::MAX) + 1), int).contains("out of INT range"));
    assert_eq!(*fit(&dec("5.0", 2, 1), int).unwrap(), Value::BigInt(5));
    assert!(refused(&dec("5.5", 2, 1), int).contains("not a whole number"));
    assert_eq!(
        *fit(&Value::Text("42".into()), int).unwrap(),
        Value::BigInt(42)
    );
    assert!(refused(&Value::Text("4x".into()), int).contains("not a whole number"));
    assert_eq!(*fit(&Value::Double(3.0), int).unwrap(), Value::BigInt(3));
    assert!(refused(&Value::Double(3.5), int).contains("not a whole number"));
    assert!(fit(&Value::Double(1e20), Target::Integer(64)).is_err());
    assert!(refused(&Value::Boolean(false), int).contains("a BOOLEAN value"));
    assert_eq!(
        *fit(&Value::BigInt(i64::MIN), Target::Integer(64)).unwrap(),
        Value::BigInt(i64::MIN)
    );
}

#[test]
fn floats_take_numbers_that_have_one() {
    assert!(refused(&Value::BigInt((1 << 53) + 1), Target::Double).contains("no exact DOUBLE"));
    assert_eq!(
        *fit(&Value::BigInt(1 << 53), Target::Double).unwrap(),
        Value::Double(9007199254740992.0)
    );
    assert!(refused(&Value::Double(1e300), Target::Float).contains("out of FLOAT range"));
    assert_eq!(
        *fit(&Value::Text("1.5".into()), Target::Float).unwrap(),
        Value::Float(1.5)
    );
    assert!(matches!(
        fit(&Value::Double(2.5), Target::Double).unwrap(),
        Cow::Borrowed(_)
    ));
}

#[test]
fn dates_and_timestamps_keep_their_meaning() {
    let day = 86_400_000_000i64;
    let d = |year, month, day| Value::Date(Date { year, month, day });
    assert_eq!(
        *fit(&Value::Timestamp(day), Target::Date).unwrap(),
        d(1970, 1, 2)
    );
    assert!(refused(&Value::Timestamp(day + 1), Target::Date).contains("time of day"));
    assert!(refused(&d(10_000, 1, 1), Target::Date).contains("outside 0001..9999"));
    assert!(refused(&Value::Text("2024-02-30".into()), Target::Date).contains("not a DATE"));
    assert_eq!(
        *fit(&Value::Text("2024-02-29".into()), Target::Date).unwrap(),
        d(2024, 2, 29)
    );
    assert!(refused(&Value::TimestampNtz(0), Target::Timestamp).contains("session time zone"));
    assert!(refused(&Value::Timestamp(0), Target::TimestampNtz).contains("session time zone"));
    assert!(
        fit(
            &Value::Text("2024-01-01T00:00:00Z".into()),
            Target::TimestampNtz
        )
        .is_err()
    );
    assert_eq!(
        *fit(
            &Value::Text("1970-01-02 00:00:00+00:00".into()),
            Target::Timestamp
        )
        .unwrap(),
        Value::Timestamp(day)
    );
    assert_eq!(
        *fit(&d(1970, 1, 2), Target::TimestampNtz).unwrap(),
        Value::TimestampNtz(day)
    );
    // Year 10000 does not print as a four-digit year.
    assert!(
        refused(
            &Value::Timestamp(253_402_300_800_000_000),
            Target::Timestamp
        )
        .contains("10000")
    );
    assert!(
        refused(
            &Value::Interval(Interval {
                months: 1,
                micros: 0
            }),
            Target::Date
        )
        .contains("INTERVAL")
    );
}

fn col(name: &str, type_name: &str, ps: Option<(u8, u8)>) -> Column {
    Column {
        name: name.into(),
        type_name: type_name.into(),
        type_text: type_name.into(),
        position: 0,
        precision: ps.map(|p| p.0),
        scale: ps.map(|p| p.1),
    }
}

#[test]
fn a_misfit_names_record_and_column_and_plans_nothing() {
    let table = vec![
        col("id", "LONG", None),
        col("Amount", "DECIMAL", Some((12, 2))),
    ];
    let recs: Vec<Record> = vec![
        vec![
            ("id".into(), Value::BigInt(1)),
            ("amount".into(), dec("1.5", 2, 1)),
        ],
        vec![
            ("id".into(), Value::BigInt(2)),
            ("amount".into(), dec("12345678901.25", 13, 2)),
        ],
    ];
    let e = plan(
        &recs,
        Fields::of(&recs).unwrap(),
        "t",
        &Mode::Insert,
        &table,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        e.message.contains("record 1, column \"amount\""),
        "{}",
        e.message
    );
    assert!(e.message.contains("DECIMAL(12,2)"), "{}", e.message);

    // Fitting values: the batch field is the column's own type, the JSON carries it exactly.
    let ok = &recs[..1];
    let p = plan(ok, Fields::of(ok).unwrap(), "t", &Mode::Insert, &table).unwrap();
    assert_eq!(p.types, vec!["BIGINT", "DECIMAL(12,2)"]);
    let b = crate::core::write::Batcher::new(ok, &p, 10, 1000)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(b.json, r#"[{"c0":1,"c1":1.5}]"#);

    let unknown: Vec<Record> = vec![vec![("nope".into(), Value::BigInt(1))]];
    let e = plan(
        &unknown,
        Fields::of(&unknown).unwrap(),
        "t",
        &Mode::Insert,
        &table,
    )
    .unwrap_err();
    assert!(
        e.message.contains("column \"nope\" is not in table t"),
        "{}",
        e.message
    );

    // Unchecked columns keep the values' type (the server's cast rules apply).
    let strings = vec![col("name", "STRING", None)];
    let recs: Vec<Record> = vec![vec![("name".into(), Value::BigInt(7))]];
    let p = plan(
        &recs,
        Fields::of(&recs).unwrap(),
        "t",
        &Mode::Insert,
        &strings,
    )
    .unwrap();
    assert_eq!(p.types, vec!["BIGINT"]);
}
