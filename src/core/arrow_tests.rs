//! Arrow decoding: every type a Databricks result carries, LZ4 framing, column batches equal to
//! rows, and malformed or hostile streams as typed errors (never a panic).

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, MapBuilder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_buffer::{IntervalDayTime, IntervalMonthDayNano, NullBuffer};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field};

use super::*;
use crate::core::columns::ColumnBatch;
use crate::core::error::ErrorKind;
use crate::core::ipc::{self, ArrowRows};
use crate::core::value::decode_cell;

/// An Arrow IPC stream of `batches`.
pub(crate) fn stream(batches: &[RecordBatch]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, &batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    drop(w);
    out
}

/// `bytes` as one LZ4 frame.
pub(crate) fn lz4(bytes: &[u8]) -> Vec<u8> {
    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub(crate) fn col(name: &str, type_name: &str, type_text: &str) -> Column {
    let mut c = Column {
        name: name.into(),
        type_name: type_name.into(),
        type_text: type_text.into(),
        position: 0,
        precision: None,
        scale: None,
    };
    (c.precision, c.scale) = match c.kind() {
        Kind::Decimal(p, s) => (Some(p), Some(s)),
        _ => (None, None),
    };
    c
}

/// Every row of `body` through [`value`].
fn rows(body: Vec<u8>, lz4: bool, cols: &[Column]) -> Result<Vec<Vec<Value>>> {
    let mut r = ArrowRows::from_body(body, lz4)?;
    let mut out = Vec::new();
    while let Some((batch, row)) = r.current()? {
        let n = batch.num_rows() - row;
        for i in row..row + n {
            let mut cells = Vec::new();
            for (a, c) in batch.columns().iter().zip(cols) {
                cells.push(value(a.as_ref(), i, c.kind(), c)?);
            }
            out.push(cells);
        }
        r.advance(n);
    }
    Ok(out)
}

/// Every row of `body` through [`append`], `step` rows at a time.
fn columns(body: Vec<u8>, cols: &[Column], step: usize) -> Result<ColumnBatch> {
    let kinds: Vec<Kind> = cols.iter().map(Column::kind).collect();
    let mut out = ColumnBatch::new(&kinds, 0);
    let mut r = ArrowRows::from_body(body, false)?;
    while let Some((batch, row)) = r.current()? {
        let n = (batch.num_rows() - row).min(step);
        for (((data, a), c), k) in out
            .columns
            .iter_mut()
            .zip(batch.columns())
            .zip(cols)
            .zip(&kinds)
        {
            append(data, a.as_ref(), row, n, *k, c)?;
        }
        out.rows += n;
        r.advance(n);
    }
    Ok(out)
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

const DAY: i64 = 86_400_000_000;

/// One column per type, three rows each (the last cell of most is NULL), with the
/// manifest column and the values expected.
#[rustfmt::skip]
fn every_type() -> (RecordBatch, Vec<Column>, Vec<Vec<Value>>) {
    use Value as V;
    let dec = |d: &str, p, s| {
        V::Decimal(crate::core::value::Decimal { digits: d.into(), precision: p, scale: s })
    };
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), None, Some(3)]),
        Some(vec![]),
        None,
    ]);
    let strukt = StructArray::try_new(
        vec![Field::new("a", DataType::Int32, true), Field::new("b", DataType::Utf8, true)].into(),
        vec![
            Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])),
            Arc::new(StringArray::from(vec![Some("x\"y"), Some("z"), None])),
        ],
        Some(NullBuffer::from(vec![true, true, false])),
    )
    .unwrap();
    let mut map = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    map.keys().append_value("k");
    map.values().append_value(1);
    map.keys().append_value("n");
    map.values().append_null();
    map.append(true).unwrap();
    map.append(true).unwrap();
    map.append(false).unwrap();
    let ts = TimestampMicrosecondArray::from(vec![Some(1_500_000), Some(-1), None]);
    let cases: Vec<(&str, &str, &str, ArrayRef, Vec<Value>)> = vec![
        ("i8", "BYTE", "TINYINT", Arc::new(Int8Array::from(vec![Some(1), Some(-128), None])), vec![V::TinyInt(1), V::TinyInt(-128), V::Null]),
        ("i16", "SHORT", "SMALLINT", Arc::new(Int16Array::from(vec![Some(-2), Some(300), None])), vec![V::SmallInt(-2), V::SmallInt(300), V::Null]),
        ("i32", "INT", "INT", Arc::new(Int32Array::from(vec![Some(i32::MAX), Some(0), None])), vec![V::Int(i32::MAX), V::Int(0), V::Null]),
        ("i64", "LONG", "BIGINT", Arc::new(Int64Array::from(vec![Some(i64::MIN), Some(7), None])), vec![V::BigInt(i64::MIN), V::BigInt(7), V::Null]),
        ("f32", "FLOAT", "FLOAT", Arc::new(Float32Array::from(vec![Some(1.5), Some(f32::NEG_INFINITY), None])), vec![V::Float(1.5), V::Float(f32::NEG_INFINITY), V::Null]),
        ("f64", "DOUBLE", "DOUBLE", Arc::new(Float64Array::from(vec![Some(0.1), Some(-0.0), None])), vec![V::Double(0.1), V::Double(-0.0), V::Null]),
        ("d18", "DECIMAL", "DECIMAL(38,18)",
            Arc::new(Decimal128Array::from(vec![Some(0), Some(-1), Some(i128::from(i64::MAX) * 1_000_000)]).with_precision_and_scale(38, 18).unwrap()),
            vec![dec("0.000000000000000000", 38, 18), dec("-0.000000000000000001", 38, 18), dec("9223372.036854775807000000", 38, 18)]),
        ("d2", "DECIMAL", "DECIMAL(10,2)",
            Arc::new(Decimal128Array::from(vec![Some(1250), Some(-5), None]).with_precision_and_scale(10, 2).unwrap()),
            vec![dec("12.50", 10, 2), dec("-0.05", 10, 2), V::Null]),
        ("d0", "DECIMAL", "DECIMAL(38,0)",
            Arc::new(Decimal128Array::from(vec![Some(i128::MAX / 10), Some(-1), None]).with_precision_and_scale(38, 0).unwrap()),
            vec![dec("17014118346046923173168730371588410572", 38, 0), dec("-1", 38, 0), V::Null]),
        ("s", "STRING", "STRING", Arc::new(StringArray::from(vec![Some(""), Some("é名\n"), None])), vec![V::Text("".into()), V::Text("é名\n".into()), V::Null]),
        ("ls", "STRING", "STRING", Arc::new(LargeStringArray::from(vec![Some("a"), None, Some("b")])), vec![V::Text("a".into()), V::Null, V::Text("b".into())]),
        ("sv", "STRING", "STRING", Arc::new(StringViewArray::from(vec![Some("a string longer than twelve bytes"), Some("s"), None])), vec![V::Text("a string longer than twelve bytes".into()), V::Text("s".into()), V::Null]),
        ("bin", "BINARY", "BINARY", Arc::new(BinaryArray::from_opt_vec(vec![Some(&[0, 255][..]), Some(&[][..]), None])), vec![V::Binary(vec![0, 255]), V::Binary(vec![]), V::Null]),
        ("lbin", "BINARY", "BINARY", Arc::new(LargeBinaryArray::from_opt_vec(vec![Some(&b"00FF"[..]), None, None])), vec![V::Binary(b"00FF".to_vec()), V::Null, V::Null]),
        ("b", "BOOLEAN", "BOOLEAN", Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])), vec![V::Boolean(true), V::Boolean(false), V::Null]),
        ("date", "DATE", "DATE", Arc::new(Date32Array::from(vec![Some(0), Some(-719_162), None])),
            vec![V::Date(Date { year: 1970, month: 1, day: 1 }), V::Date(Date { year: 1, month: 1, day: 1 }), V::Null]),
        ("ts", "TIMESTAMP", "TIMESTAMP", Arc::new(ts.clone().with_timezone("Etc/UTC")), vec![V::Timestamp(1_500_000), V::Timestamp(-1), V::Null]),
        ("ntz", "TIMESTAMP_NTZ", "TIMESTAMP_NTZ", Arc::new(ts), vec![V::TimestampNtz(1_500_000), V::TimestampNtz(-1), V::Null]),
        ("tsns", "TIMESTAMP", "TIMESTAMP", Arc::new(TimestampNanosecondArray::from(vec![Some(1_999), Some(-1), None]).with_timezone("+05:30")),
            vec![V::Timestamp(1), V::Timestamp(-1), V::Null]),
        ("ym", "INTERVAL", "INTERVAL YEAR TO MONTH", Arc::new(IntervalYearMonthArray::from(vec![Some(14), Some(-18), None])),
            vec![V::Interval(Interval { months: 14, micros: 0 }), V::Interval(Interval { months: -18, micros: 0 }), V::Null]),
        ("dt", "INTERVAL", "INTERVAL DAY TO SECOND", Arc::new(IntervalDayTimeArray::from(vec![Some(IntervalDayTime::new(1, 500)), Some(IntervalDayTime::new(0, -1)), None])),
            vec![V::Interval(Interval { months: 0, micros: DAY + 500_000 }), V::Interval(Interval { months: 0, micros: -1_000 }), V::Null]),
        ("mdn", "INTERVAL", "INTERVAL DAY TO SECOND", Arc::new(IntervalMonthDayNanoArray::from(vec![Some(IntervalMonthDayNano::new(0, 2, 3_000)), None, None])),
            vec![V::Interval(Interval { months: 0, micros: 2 * DAY + 3 }), V::Null, V::Null]),
        ("dur", "INTERVAL", "INTERVAL DAY TO SECOND", Arc::new(DurationMicrosecondArray::from(vec![Some(-DAY - 1), Some(0), None])),
            vec![V::Interval(Interval { months: 0, micros: -DAY - 1 }), V::Interval(Interval { months: 0, micros: 0 }), V::Null]),
        ("ival", "INTERVAL", "INTERVAL YEAR TO MONTH", Arc::new(StringArray::from(vec![Some("1-2"), Some("INTERVAL '-0-3' YEAR TO MONTH"), None])),
            vec![V::Interval(Interval { months: 14, micros: 0 }), V::Interval(Interval { months: -3, micros: 0 }), V::Null]),
        ("arr", "ARRAY", "ARRAY<INT>", Arc::new(list), vec![V::Json("[1,null,3]".into()), V::Json("[]".into()), V::Null]),
        ("st", "STRUCT", "STRUCT<a: INT, b: STRING>", Arc::new(strukt), vec![V::Json(r#"{"a":1,"b":"x\"y"}"#.into()), V::Json(r#"{"a":null,"b":"z"}"#.into()), V::Null]),
        ("m", "MAP", "MAP<STRING, INT>", Arc::new(map.finish()), vec![V::Json(r#"{"k":1,"n":null}"#.into()), V::Json("{}".into()), V::Null]),
        ("js", "VARIANT", "VARIANT", Arc::new(StringArray::from(vec![Some(r#"{"v":1}"#), None, Some("2")])), vec![V::Json(r#"{"v":1}"#.into()), V::Null, V::Json("2".into())]),
        ("void", "VOID", "VOID", Arc::new(NullArray::new(3)), vec![V::Null, V::Null, V::Null]),
        ("geo", "GEOGRAPHY", "GEOGRAPHY", Arc::new(Int64Array::from(vec![Some(5), None, Some(6)])), vec![V::Text("5".into()), V::Null, V::Text("6".into())]),
    ];
    let cols = cases.iter().map(|(n, tn, tt, _, _)| col(n, tn, tt)).collect();
    let mut expected = vec![Vec::new(); 3];
    for (_, _, _, _, vals) in &cases {
        for (row, v) in expected.iter_mut().zip(vals) {
            row.push(v.clone());
        }
    }
    let batch = batch(cases.into_iter().map(|(n, _, _, a, _)| (n, a)).collect());
    (batch, cols, expected)
}

#[test]
fn every_type_decodes_exactly() {
    let (b, cols, expected) = every_type();
    let got = rows(stream(&[b]), false, &cols).unwrap();
    assert_eq!(got.len(), 3);
    for (r, (g, e)) in got.iter().zip(&expected).enumerate() {
        for (c, (g, e)) in g.iter().zip(e).enumerate() {
            assert_eq!(g, e, "row {r} column {}", cols[c].name);
        }
    }
}

#[test]
fn column_batches_hold_what_rows_hold_at_any_step() {
    let (b, cols, expected) = every_type();
    let body = stream(&[b.clone(), b.slice(1, 2), b]);
    let expected: Vec<Vec<Value>> = expected
        .iter()
        .chain(&expected[1..])
        .chain(&expected)
        .cloned()
        .collect();
    for step in [1, 2, 3, 100] {
        let got = columns(body.clone(), &cols, step).unwrap();
        assert_eq!(got.rows, 8, "step {step}");
        assert_eq!(
            format!("{:?}", got.to_rows()),
            format!("{expected:?}"),
            "step {step}"
        );
    }
    assert_eq!(
        format!("{:?}", rows(body, false, &cols).unwrap()),
        format!("{expected:?}")
    );
}

#[test]
fn arrow_and_json_give_the_same_values() {
    // What the JSON path gives for the same cells (the local warehouse's rendering).
    let (b, cols, _) = every_type();
    let got = rows(stream(&[b]), false, &cols).unwrap();
    let json: &[(&str, &str)] = &[
        ("d2", "12.50"),
        ("d18", "0E-18"),
        ("ts", "1970-01-01T00:00:01.500Z"),
        ("ntz", "1970-01-01T00:00:01.500"),
        ("bin", "AP8="),
        ("date", "1970-01-01"),
        ("ym", "1-2"),
        ("dt", "1 00:00:00.500000000"),
    ];
    for (name, text) in json {
        let i = cols.iter().position(|c| c.name == *name).unwrap();
        assert_eq!(
            got[0][i],
            decode_cell(&cols[i], Some(text)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn nested_values_render_as_json() {
    let inner = StructArray::from(vec![
        (
            Arc::new(Field::new(
                "ts",
                DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into())),
                true,
            )),
            Arc::new(TimestampMicrosecondArray::from(vec![Some(1_000_001)]).with_timezone("UTC"))
                as ArrayRef,
        ),
        (
            Arc::new(Field::new("d", DataType::Decimal128(5, 2), true)),
            Arc::new(
                Decimal128Array::from(vec![Some(-105)])
                    .with_precision_and_scale(5, 2)
                    .unwrap(),
            ) as ArrayRef,
        ),
        (
            Arc::new(Field::new("bin", DataType::Binary, true)),
            Arc::new(BinaryArray::from_vec(vec![&b"hi"[..]])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("f", DataType::Float64, true)),
            Arc::new(Float64Array::from(vec![f64::NAN])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("date", DataType::Date32, true)),
            Arc::new(Date32Array::from(vec![19_782])) as ArrayRef,
        ),
        (
            Arc::new(Field::new(
                "i",
                DataType::Interval(arrow_schema::IntervalUnit::YearMonth),
                true,
            )),
            Arc::new(IntervalYearMonthArray::from(vec![-14])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("t", DataType::Boolean, true)),
            Arc::new(BooleanArray::from(vec![true])) as ArrayRef,
        ),
    ]);
    let offsets = arrow_buffer::OffsetBuffer::from_lengths([1]);
    let list = ListArray::new(
        Arc::new(Field::new("item", inner.data_type().clone(), true)),
        offsets,
        Arc::new(inner),
        None,
    );
    let c = col("l", "ARRAY", "ARRAY<STRUCT<...>>");
    let got = rows(
        stream(&[batch(vec![("l", Arc::new(list) as ArrayRef)])]),
        false,
        &[c],
    )
    .unwrap();
    assert_eq!(
        got[0][0],
        Value::Json(
            r#"[{"ts":"1970-01-01T00:00:01.000001Z","d":-1.05,"bin":"aGk=","f":"NaN","date":"2024-02-29","i":"-1-2","t":true}]"#.into()
        )
    );
}

#[test]
fn lz4_frames_decode_like_plain_streams() {
    let (b, cols, expected) = every_type();
    let plain = stream(&[b]);
    let framed = lz4(&plain);
    assert!(framed.len() < plain.len());
    let as_text = |v: Vec<Vec<Value>>| format!("{v:?}");
    let want = as_text(expected);
    // Told by the manifest, or recognised by the frame's magic number.
    assert_eq!(as_text(rows(framed.clone(), true, &cols).unwrap()), want);
    assert_eq!(as_text(rows(framed.clone(), false, &cols).unwrap()), want);
    // Two frames back to back are one stream.
    let half = plain.len() / 2;
    let mut two = lz4(&plain[..half]);
    two.extend(lz4(&plain[half..]));
    assert_eq!(as_text(rows(two, true, &cols).unwrap()), want);
    // Said to be LZ4 but not: a typed error.
    let e = rows(plain, true, &cols).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.message.contains("LZ4_FRAME"), "{}", e.message);
    let mut broken = framed;
    let n = broken.len();
    broken[n / 2] ^= 0x55;
    broken.truncate(n - 3);
    assert_eq!(
        rows(broken, true, &cols).unwrap_err().kind,
        ErrorKind::Server
    );
}

#[test]
fn a_decompression_bomb_is_refused() {
    let zeros = vec![0u8; 100_000];
    let framed = lz4(&zeros);
    assert!(framed.len() < 1_000);
    assert_eq!(
        ipc::lz4_frame_limited(&framed, 200_000).unwrap().len(),
        100_000
    );
    let e = ipc::lz4_frame_limited(&framed, 50_000).unwrap_err();
    assert!(e.message.contains("decompresses to over"), "{}", e.message);
}

#[test]
fn types_that_cannot_carry_the_column_are_refused() {
    let ints = || {
        stream(&[batch(vec![(
            "x",
            Arc::new(Int64Array::from(vec![300, 1])) as ArrayRef,
        )])])
    };
    for (tn, tt) in [
        ("BOOLEAN", "BOOLEAN"),
        ("DATE", "DATE"),
        ("BINARY", "BINARY"),
        ("DECIMAL", "DECIMAL(4,1)"),
    ] {
        let e = rows(ints(), false, &[col("x", tn, tt)]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server);
        assert!(
            e.message.contains("column \"x\"") && e.message.contains("Int64"),
            "{}",
            e.message
        );
    }
    // Out of range for the column: refused, not wrapped.
    let e = rows(ints(), false, &[col("x", "BYTE", "TINYINT")]).unwrap_err();
    assert!(e.message.contains("300 does not fit"), "{}", e.message);
    // Column batches refuse the same way.
    let e = columns(ints(), &[col("x", "BOOLEAN", "BOOLEAN")], 10).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    // Text in a typed column is decoded as a JSON_ARRAY cell would be, errors included.
    let text = stream(&[batch(vec![(
        "x",
        Arc::new(StringArray::from(vec!["1.5E+1", "x"])) as ArrayRef,
    )])]);
    let e = rows(text.clone(), false, &[col("x", "DECIMAL", "DECIMAL(4,1)")]).unwrap_err();
    assert!(
        e.message.contains("malformed DECIMAL value \"x\""),
        "{}",
        e.message
    );
    let one = stream(&[batch(vec![(
        "x",
        Arc::new(StringArray::from(vec!["1.5E+1"])) as ArrayRef,
    )])]);
    assert_eq!(
        rows(one, false, &[col("x", "DECIMAL", "DECIMAL(4,1)")]).unwrap()[0][0],
        Value::Decimal(crate::core::value::Decimal {
            digits: "15.0".into(),
            precision: 4,
            scale: 1
        })
    );
}

#[test]
fn decimals_at_another_scale_are_rescaled_exactly() {
    let d = Decimal128Array::from(vec![Some(150), Some(155)])
        .with_precision_and_scale(10, 2)
        .unwrap();
    let body = stream(&[batch(vec![("d", Arc::new(d) as ArrayRef)])]);
    let wider = rows(body.clone(), false, &[col("d", "DECIMAL", "DECIMAL(12,4)")]).unwrap();
    assert_eq!(
        wider[1][0],
        Value::Decimal(crate::core::value::Decimal {
            digits: "1.5500".into(),
            precision: 12,
            scale: 4
        })
    );
    // Narrower would need rounding 1.55: refused.
    let e = rows(body, false, &[col("d", "DECIMAL", "DECIMAL(10,1)")]).unwrap_err();
    assert!(e.message.contains("1.55"), "{}", e.message);
    assert_eq!(decimal_text(0, 18), "0.000000000000000000");
    assert_eq!(decimal_text(-12345, 2), "-123.45");
    assert_eq!(decimal_text(5, -3), "5000");
    assert_eq!(decimal_text(0, -3), "0");
    assert_eq!(
        decimal_text(i128::MIN, 38),
        "-1.70141183460469231731687303715884105728"
    );
    assert_eq!(decimal_text(123, 5), "0.00123");
    assert_eq!(decimal_text(-123, 3), "-0.123");
    assert_eq!(decimal_text(1230, 1), "123.0");
    assert_eq!(
        decimal_text(10_000_000_000_000_000_000, 0),
        "10000000000000000000"
    );
    assert_eq!(decimal_text(i128::MAX, 0), i128::MAX.to_string());
    // Against the obvious slow form, across the 19-digit steps.
    let slow = |v: i128, s: usize| {
        let digits = format!("{:0>width$}", v.unsigned_abs(), width = s + 1);
        let (int, frac) = digits.split_at(digits.len() - s);
        let sign = if v < 0 { "-" } else { "" };
        if s == 0 {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    };
    let mut next = rng(7);
    for _ in 0..10_000 {
        let v = (i128::from(next()) << 64 | i128::from(next())) >> (next() % 127);
        let s = (next() % 39) as usize;
        assert_eq!(decimal_text(v, s as i8), slow(v, s), "{v} {s}");
    }
}

#[test]
fn empty_and_schema_only_streams_have_no_rows() {
    let c = [col("x", "INT", "INT")];
    assert!(rows(Vec::new(), false, &c).unwrap().is_empty());
    let empty = batch(vec![(
        "x",
        Arc::new(Int32Array::from(Vec::<i32>::new())) as ArrayRef,
    )]);
    assert!(rows(stream(&[empty]), false, &c).unwrap().is_empty());
    // A stream without its end-of-stream marker is read too (the manifest's row count guards
    // against a short result).
    let full = stream(&[batch(vec![(
        "x",
        Arc::new(Int32Array::from(vec![4])) as ArrayRef,
    )])]);
    assert_eq!(
        rows(full[..full.len() - 8].to_vec(), false, &c).unwrap(),
        vec![vec![Value::Int(4)]]
    );
}

/// A deterministic pseudo-random sequence (xorshift).
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn malformed_streams_are_typed_errors_never_panics() {
    let (b, cols, _) = every_type();
    let good = stream(&[b]);
    let mut next = rng(0x5eed);
    let mut errors = 0;
    for round in 0..3_000 {
        let mut body = good.clone();
        match next() % 4 {
            0 => body.truncate((next() as usize) % body.len()),
            1 => {
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % body.len();
                    body[i] = next() as u8;
                }
            }
            2 => {
                // Stomp a little-endian word (lengths, offsets, counts).
                let i = (next() as usize) % (body.len() - 8);
                body[i..i + 8].copy_from_slice(&(next() as i64 >> (next() % 64)).to_le_bytes());
            }
            _ => {
                let i = (next() as usize) % body.len();
                let j = (next() as usize) % body.len();
                body.splice(i..i, good[j..(j + 64).min(good.len())].iter().copied());
            }
        }
        let compressed = round % 5 == 0;
        let input = if compressed { lz4(&body) } else { body };
        let cols = cols.clone();
        let outcome = std::panic::catch_unwind(move || {
            let r = rows(input.clone(), compressed, &cols);
            let c = columns(
                if compressed {
                    lz4_decoded(&input)
                } else {
                    input
                },
                &cols,
                2,
            );
            (r.err(), c.err())
        });
        let (r, c) = outcome.unwrap_or_else(|_| panic!("round {round} panicked"));
        for e in [r, c].into_iter().flatten() {
            assert_eq!(e.kind, ErrorKind::Server, "round {round}: {}", e.message);
            errors += 1;
        }
    }
    assert!(
        errors > 1_000,
        "only {errors} of the mutations were refused"
    );
}

fn lz4_decoded(framed: &[u8]) -> Vec<u8> {
    ipc::lz4_frame(framed).unwrap()
}

#[test]
fn dictionaries_and_unknown_types_are_refused() {
    let dict: DictionaryArray<Int32Type> = vec!["a", "b", "a"].into_iter().collect();
    let body = stream(&[batch(vec![("x", Arc::new(dict) as ArrayRef)])]);
    let e = rows(body, false, &[col("x", "STRING", "STRING")]).unwrap_err();
    assert!(e.message.contains("dictionary-encoded"), "{}", e.message);
    let t = Time64MicrosecondArray::from(vec![1]);
    let body = stream(&[batch(vec![("t", Arc::new(t) as ArrayRef)])]);
    let e = rows(body, false, &[col("t", "STRING", "STRING")]).unwrap_err();
    assert!(
        e.message.contains("\"t\" has Arrow type Time"),
        "{}",
        e.message
    );
}
