use crate::core::error::ErrorKind;
use crate::core::fake::{count_answer, input, session_with, staged_session, statement};
use crate::core::http::Method;
use crate::core::value::{Decimal, Value};
use crate::core::write::{self, Mode};

const STMTS: &str = "/api/2.0/sql/statements";

/// A `COPY INTO`'s answer.
fn copy_answer(id: &str, inserted: u64) -> String {
    count_answer(
        id,
        &[
            "num_affected_rows",
            "num_inserted_rows",
            "num_skipped_corrupt_files",
        ],
        &[inserted, inserted, 0],
    )
}

fn records(n: i64) -> Vec<Vec<(String, Value)>> {
    (0..n)
        .map(|i| {
            vec![
                ("id".into(), Value::BigInt(i)),
                ("name".into(), Value::Text(format!("n\"{i}"))),
                (
                    "amount".into(),
                    Value::Decimal(Decimal {
                        digits: format!("{i}.5"),
                        precision: 10,
                        scale: 1,
                    }),
                ),
            ]
        })
        .collect()
}

#[test]
fn a_large_insert_is_one_copy_into_of_staged_files_which_are_then_deleted() {
    let mut s = staged_session();
    s.transport
        .on(
            Method::Put,
            "/api/2.0/fs/files/Volumes/main/default/stage/openmatch-staging/",
            204,
            "",
        )
        .on(Method::Post, STMTS, 200, &copy_answer("c1", 3))
        .on(
            Method::Delete,
            "/api/2.0/fs/files/Volumes/main/default/stage/openmatch-staging/",
            204,
            "",
        )
        .on(
            Method::Delete,
            "/api/2.0/fs/directories/Volumes/main/default/stage/openmatch-staging/",
            204,
            "",
        );
    let (n, execs) = write::write(&mut s, &records(3), "main.default.t", Mode::Insert).unwrap();
    assert_eq!((n, execs.len()), (3, 1));
    assert_eq!(execs[0].statement_id, "c1");
    let sent = &s.transport.sent;
    assert_eq!(
        sent.len(),
        5,
        "probe, PUT, COPY INTO, DELETE file, DELETE dir"
    );
    let put = &sent[1];
    assert!(
        put.url.ends_with("/part-00000.json?overwrite=true"),
        "{}",
        put.url
    );
    assert!(
        put.headers
            .contains(&("content-type".into(), "application/octet-stream".into()))
    );
    // Every value a JSON string, checked against its column.
    let lines: Vec<serde_json::Value> = std::str::from_utf8(&put.body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[1],
        serde_json::json!({"c0": "1", "c1": "n\"1", "c2": "1.5"})
    );
    let dir = put
        .url
        .split("/part-")
        .next()
        .unwrap()
        .split("/fs/files")
        .nth(1)
        .unwrap()
        .to_owned();
    assert_eq!(
        statement(&sent[2]),
        format!(
            "COPY INTO `main`.`default`.`t` FROM (SELECT CAST(c0 AS BIGINT) AS `id`, c1 AS `name`, CAST(c2 AS DECIMAL(12,2)) AS `amount` FROM '{dir}/') FILEFORMAT = JSON FORMAT_OPTIONS ('primitivesAsString' = 'true') COPY_OPTIONS ('mergeSchema' = 'false')"
        )
    );
    assert_eq!(sent[3].method, Method::Delete);
    assert!(sent[4].url.ends_with(&format!("/fs/directories{dir}")));
}

#[test]
fn a_copy_into_whose_answer_was_lost_is_resent_and_counted_once() {
    let mut s = staged_session();
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .fail(Method::Post, STMTS, true)
        // The re-sent COPY INTO finds its files loaded: the lost attempt committed them.
        .on(Method::Post, STMTS, 200, &copy_answer("c2", 0))
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    let (n, _) = write::write(&mut s, &records(3), "t", Mode::Insert).unwrap();
    assert_eq!(n, 3);
    assert_eq!(
        statement(&s.transport.sent[2]),
        statement(&s.transport.sent[3])
    );
}

#[test]
fn a_failed_load_still_deletes_the_staged_files_and_commits_nothing() {
    let mut s = staged_session();
    let failed = r#"{"statement_id":"c3","status":{"state":"FAILED","error":{"error_code":"BAD_REQUEST","message":"[CAST_INVALID_INPUT] bad","sql_state":"22018"}}}"#;
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .on(Method::Post, STMTS, 200, failed)
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    let e = write::write(&mut s, &records(3), "t", Mode::Insert).unwrap_err();
    assert_eq!(e.error_code.as_deref(), Some("CAST_INVALID_INPUT"), "{e:?}");
    assert!(!e.message.contains("staged files left"), "{}", e.message);
    assert_eq!(s.transport.sent.len(), 5);

    // A file that cannot be deleted is named in the error.
    let mut s = staged_session();
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .on(Method::Post, STMTS, 200, failed)
        .on(
            Method::Delete,
            "/fs/files/",
            403,
            r#"{"error_code":"PERMISSION_DENIED","message":"no"}"#,
        );
    let e = write::write(&mut s, &records(3), "t", Mode::Insert).unwrap_err();
    assert!(
        e.message
            .contains("staged files left in /Volumes/main/default/stage/openmatch-staging/"),
        "{}",
        e.message
    );
}

#[test]
fn small_writes_and_misfits_never_touch_the_volume() {
    // At most batch-rows records: the parameter path.
    let mut s = staged_session();
    s.transport.on(
        Method::Post,
        STMTS,
        200,
        r#"{"statement_id":"b1","status":{"state":"SUCCEEDED"},"manifest":{"schema":{"column_count":2,"columns":[{"name":"num_affected_rows","type_name":"LONG","position":0},{"name":"num_inserted_rows","type_name":"LONG","position":1}]},"total_row_count":1},"result":{"data_array":[["2","2"]]}}"#,
    );
    assert_eq!(
        write::write(&mut s, &records(2), "t", Mode::Insert)
            .unwrap()
            .0,
        2
    );
    assert!(statement(&s.transport.sent[1]).starts_with("INSERT INTO"));

    // A value that does not fit: refused before any upload.
    let mut s = staged_session();
    let mut recs = records(3);
    recs[2][2].1 = Value::Text("1.234".into());
    let e = write::write(&mut s, &recs, "t", Mode::Insert).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        e.message.contains("record 2, column \"amount\""),
        "{}",
        e.message
    );
    assert_eq!(s.transport.sent.len(), 1, "only the probe");
}

#[test]
fn a_bulk_insert_spans_calls_and_commits_once() {
    use crate::core::write::stage::Bulk;
    let flag = |id: i64, b: bool, bytes: &[u8]| {
        vec![
            ("id".into(), Value::BigInt(id)),
            ("name".into(), Value::Binary(bytes.to_vec())),
            ("amount".into(), Value::Boolean(b)),
        ]
    };
    // Columns typed by the table: BINARY takes bytes (base64 in the file), BOOLEAN booleans.
    let mut s = staged_session();
    s.transport.script.clear();
    s.transport
        .table(&[("id", "BIGINT"), ("name", "BINARY"), ("amount", "BOOLEAN")]);
    let mut bulk2 = Bulk::begin(&mut s, "t").unwrap();
    let deadline = s.deadline();
    bulk2
        .append(&mut s, &[flag(1, true, b"\x00\xff")], deadline)
        .unwrap();
    bulk2
        .append(&mut s, &[flag(2, false, b"ok")], deadline)
        .unwrap();
    // Different fields in a later append are refused.
    let e = bulk2
        .append(&mut s, &[vec![("id".into(), Value::BigInt(3))]], deadline)
        .unwrap_err();
    assert!(e.message.contains("this bulk insert has"), "{}", e.message);
    s.transport
        .on(Method::Put, "/part-00000.json", 204, "")
        .on(Method::Post, STMTS, 200, &copy_answer("c4", 2))
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    assert_eq!(bulk2.commit(&mut s, deadline).unwrap().0, 2);
    let put = &s.transport.sent[1];
    assert_eq!(
        std::str::from_utf8(&put.body).unwrap(),
        "{\"c0\":\"1\",\"c1\":\"AP8=\",\"c2\":\"true\"}\n{\"c0\":\"2\",\"c1\":\"b2s=\",\"c2\":\"false\"}\n"
    );
    assert!(statement(&s.transport.sent[2]).contains(
        "SELECT CAST(c0 AS BIGINT) AS `id`, unbase64(c1) AS `name`, CAST(c2 AS BOOLEAN) AS `amount`"
    ));
    assert!(
        bulk2.commit(&mut s, deadline).is_err(),
        "a bulk insert commits once"
    );
}

#[test]
fn a_column_a_staged_file_cannot_carry_is_refused_up_front() {
    use crate::core::write::stage::Bulk;
    let mut cfg = input();
    cfg.staging_volume = Some("/Volumes/main/default/stage".into());
    let mut s = session_with(cfg);
    s.transport.auto_table = None;
    s.transport
        .table(&[("id", "BIGINT"), ("tags", "ARRAY<STRING>")]);
    let mut bulk = Bulk::begin(&mut s, "t").unwrap();
    let deadline = s.deadline();
    let e = bulk
        .append(
            &mut s,
            &[vec![
                ("id".into(), Value::BigInt(1)),
                ("tags".into(), Value::Json("[\"a\"]".into())),
            ]],
            deadline,
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(
        e.message.contains("without a staging volume"),
        "{}",
        e.message
    );
    // An aborted insert that uploaded nothing deletes nothing.
    let before = s.transport.sent.len();
    bulk.abort(&mut s, deadline);
    assert_eq!(s.transport.sent.len(), before);
}
