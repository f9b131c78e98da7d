use crate::core::error::ErrorKind;
use crate::core::fake::{count_answer, staged_session, statement};
use crate::core::http::{HttpRequest, Method};
use crate::core::value::{Decimal, Value};
use crate::core::write::{self, Mode, Record, id_records};

const STMTS: &str = "/api/2.0/sql/statements";

/// A MERGE's answer: its four counts.
fn merge_answer(id: &str, updated: u64, deleted: u64) -> String {
    count_answer(
        id,
        &[
            "num_affected_rows",
            "num_updated_rows",
            "num_deleted_rows",
            "num_inserted_rows",
        ],
        &[updated + deleted, updated, deleted, 0],
    )
}

/// A delete probe's answer.
fn matched_answer(n: u64) -> String {
    count_answer("p1", &["num_matched_rows"], &[n])
}

fn records(n: i64) -> Vec<Record> {
    (0..n)
        .map(|i| {
            vec![
                ("id".into(), Value::BigInt(i)),
                ("name".into(), Value::Text(format!("n'{i}"))),
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

/// The staging directory of the write, from its first PUT (`/Volumes/…/<id>`).
fn staged_dir(put: &HttpRequest) -> String {
    let path = put.url.split("/fs/files").nth(1).unwrap();
    path.split("/part-").next().unwrap().to_owned()
}

fn update() -> Mode {
    Mode::Update(vec!["id".into()])
}

#[test]
fn a_large_update_is_one_merge_over_the_staged_files_which_are_then_deleted() {
    let mut s = staged_session();
    s.transport
        .on(
            Method::Put,
            "/fs/files/Volumes/main/default/stage/openmatch-staging/",
            204,
            "",
        )
        .on(Method::Post, STMTS, 200, &merge_answer("m1", 3, 0))
        .on(
            Method::Delete,
            "/fs/files/Volumes/main/default/stage/openmatch-staging/",
            204,
            "",
        )
        .on(
            Method::Delete,
            "/fs/directories/Volumes/main/default/stage/openmatch-staging/",
            204,
            "",
        );
    let (n, execs) = write::write(&mut s, &records(3), "main.default.t", update()).unwrap();
    assert_eq!((n, execs.len()), (3, 1));
    assert_eq!(
        (execs[0].statement_id.as_str(), execs[0].rows_affected),
        ("m1", 3)
    );
    let sent = &s.transport.sent;
    assert_eq!(sent.len(), 5, "probe, PUT, MERGE, DELETE file, DELETE dir");
    // The same part format as an insert: every value a JSON string, checked against its column.
    let lines: Vec<serde_json::Value> = std::str::from_utf8(&sent[1].body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[2],
        serde_json::json!({"c0": "2", "c1": "n'2", "c2": "2.5"})
    );
    let dir = staged_dir(&sent[1]);
    assert_eq!(
        statement(&sent[2]),
        format!(
            "MERGE INTO `main`.`default`.`t` AS t USING (SELECT CAST(c0 AS BIGINT) AS c0, c1 AS c1, CAST(c2 AS DECIMAL(12,2)) AS c2 FROM read_files('{dir}/', format => 'json', schema => 'c0 STRING, c1 STRING, c2 STRING', mode => 'FAILFAST')) AS s ON t.`id` = s.c0 WHEN MATCHED THEN UPDATE SET t.`name` = s.c1, t.`amount` = s.c2"
        )
    );
    let body: serde_json::Value = serde_json::from_slice(&sent[2].body).unwrap();
    assert!(
        body.get("parameters")
            .is_none_or(|p| p.as_array().is_some_and(Vec::is_empty))
    );
    assert_eq!(sent[3].method, Method::Delete);
    assert!(
        sent[3].url.ends_with(&format!("{dir}/part-00000.json")),
        "{}",
        sent[3].url
    );
    assert!(sent[4].url.ends_with(&format!("/fs/directories{dir}")));
}

#[test]
fn an_update_whose_answer_was_lost_is_resent_and_counts_the_rows_it_matched() {
    let mut s = staged_session();
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .fail(Method::Post, STMTS, true)
        // Re-sent as it is (it sets the same values): it counts the rows it matched, which
        // are the rows the lost attempt updated.
        .on(Method::Post, STMTS, 200, &merge_answer("m2", 2, 0))
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    let (n, _) = write::write(&mut s, &records(3), "t", update()).unwrap();
    assert_eq!(n, 2);
    let sent = &s.transport.sent;
    assert_eq!(statement(&sent[2]), statement(&sent[3]));
    assert!(statement(&sent[2]).starts_with("MERGE INTO"));
    assert_eq!(sent.len(), 6);
}

#[test]
fn a_large_delete_counts_its_matches_first_and_is_one_merge() {
    let mut s = staged_session();
    s.transport.script.clear();
    s.transport.table(&[("id", "BIGINT"), ("name", "STRING")]);
    let ids: Vec<Value> = [5, 6, 6, 7].into_iter().map(Value::BigInt).collect();
    let recs = id_records(&ids, "id").unwrap();
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .on(Method::Post, STMTS, 200, &matched_answer(2))
        .on(Method::Post, STMTS, 200, &merge_answer("d1", 0, 2))
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    let (n, execs) = write::write(&mut s, &recs, "t", Mode::Delete).unwrap();
    assert_eq!((n, execs[0].rows_affected), (2, 2));
    let sent = &s.transport.sent;
    assert_eq!(
        std::str::from_utf8(&sent[1].body).unwrap(),
        "{\"c0\":\"5\"}\n{\"c0\":\"6\"}\n{\"c0\":\"7\"}\n"
    );
    let dir = staged_dir(&sent[1]);
    let source = format!(
        "(SELECT CAST(c0 AS BIGINT) AS c0 FROM read_files('{dir}/', format => 'json', schema => 'c0 STRING', mode => 'FAILFAST'))"
    );
    assert_eq!(
        statement(&sent[2]),
        format!(
            "SELECT count(*) AS num_matched_rows FROM `t` AS t WHERE t.`id` IN (SELECT s.c0 FROM {source} AS s)"
        )
    );
    assert_eq!(
        statement(&sent[3]),
        format!(
            "MERGE INTO `t` AS t USING {source} AS s ON t.`id` = s.c0 WHEN MATCHED THEN DELETE"
        )
    );
    assert_eq!(sent.len(), 6);
}

#[test]
fn a_delete_whose_answer_was_lost_is_counted_once() {
    // The lost attempt committed: the re-send deletes nothing, and the matches counted before
    // are the rows deleted.
    let mut s = staged_session();
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .on(Method::Post, STMTS, 200, &matched_answer(3))
        .fail(Method::Post, STMTS, true)
        .on(Method::Post, STMTS, 200, &merge_answer("d2", 0, 0))
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    let recs = id_records(
        &[Value::BigInt(1), Value::BigInt(2), Value::BigInt(3)],
        "id",
    )
    .unwrap();
    assert_eq!(write::write(&mut s, &recs, "t", Mode::Delete).unwrap().0, 3);
    assert_eq!(
        statement(&s.transport.sent[3]),
        statement(&s.transport.sent[4])
    );

    // The lost attempt did not commit: the re-send's own count stands.
    let mut s = staged_session();
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .on(Method::Post, STMTS, 200, &matched_answer(3))
        .fail(Method::Post, STMTS, false)
        .on(Method::Post, STMTS, 200, &merge_answer("d3", 0, 3))
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    assert_eq!(write::write(&mut s, &recs, "t", Mode::Delete).unwrap().0, 3);
}

#[test]
fn a_failed_merge_still_deletes_the_staged_files() {
    let mut s = staged_session();
    let failed = r#"{"statement_id":"m3","status":{"state":"FAILED","error":{"error_code":"BAD_REQUEST","message":"[DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE] no","sql_state":"21506"}}}"#;
    s.transport
        .on(Method::Put, "/fs/files/", 204, "")
        .on(Method::Post, STMTS, 200, failed)
        .on(Method::Delete, "/fs/files/", 204, "")
        .on(Method::Delete, "/fs/directories/", 204, "");
    let e = write::write(&mut s, &records(3), "t", update()).unwrap_err();
    assert_eq!(
        e.error_code.as_deref(),
        Some("DELTA_MULTIPLE_SOURCE_ROW_MATCHING_TARGET_ROW_IN_MERGE"),
        "{e:?}"
    );
    assert_eq!(e.committed_rows, Some(0));
    assert!(!e.outcome_unknown);
    assert_eq!(s.transport.sent.len(), 5, "the files were deleted");
    assert_eq!(s.transport.sent[3].method, Method::Delete);
}

#[test]
fn repeated_keys_and_small_updates_never_touch_the_volume() {
    // Two records with one key: refused before anything is uploaded, as on the parameter path
    // (one MERGE may not update a row twice).
    let mut s = staged_session();
    let mut recs = records(3);
    recs[2][0].1 = Value::BigInt(0);
    let e = write::write(&mut s, &recs, "t", update()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.message.contains("repeats a key"), "{}", e.message);
    assert_eq!(s.transport.sent.len(), 1, "only the table probe");

    // At most batch-rows records: the parameter path.
    let mut s = staged_session();
    s.transport
        .on(Method::Post, STMTS, 200, &merge_answer("b1", 2, 0));
    assert_eq!(
        write::write(&mut s, &records(2), "t", update()).unwrap().0,
        2
    );
    assert!(statement(&s.transport.sent[1]).contains("inline(from_json(:rows"));
}
