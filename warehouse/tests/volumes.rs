//! Volumes (CREATE/DROP VOLUME), the Files API (files and directories) and COPY INTO as the
//! connector's staged writes use them, through the HTTP API.

mod common;

use common::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};
use warehouse::{DEFAULT_TOKEN, Privilege};

fn send(w: &W, token: &str, method: &str, path: &str, body: &[u8]) -> Response {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    w.http
        .request(m, w.url(path))
        .bearer_auth(token)
        .body(body.to_vec())
        .send()
        .unwrap()
}

fn req(w: &W, method: &str, path: &str, body: &[u8]) -> Response {
    send(w, DEFAULT_TOKEN, method, path, body)
}

fn ok(w: &W, sql: &str) -> Value {
    let r = w.run(sql);
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{sql}: {r}");
    r
}

fn count(w: &W, table: &str) -> String {
    w.rows(&format!("SELECT count(*) FROM {table}"))[0][0]
        .as_str()
        .unwrap()
        .to_string()
}

fn commits(w: &W, table: &str) -> usize {
    w.rows(&format!("DESCRIBE HISTORY {table}")).len()
}

#[test]
fn volumes_are_explicit() {
    let w = start_with(|c| c.principal(user("reader").grant(Privilege::Select, "main.default")));
    let file = "/api/2.0/fs/files/Volumes/main/default/v1/a.txt";
    // no volume yet: the Files API answers 404, COPY INTO a typed error
    assert_eq!(req(&w, "PUT", file, b"x").status().as_u16(), 404);
    ok(&w, "CREATE TABLE t (id BIGINT)");
    let (state, msg) = w.fails("COPY INTO t FROM '/Volumes/main/default/v1/' FILEFORMAT = JSON");
    assert_eq!(state, "42704", "{msg}");
    assert!(msg.starts_with("[VOLUME_NOT_FOUND]"), "{msg}");

    ok(&w, "CREATE VOLUME v1 COMMENT 'landing zone'");
    let (state, msg) = w.fails("CREATE VOLUME main.default.v1");
    assert_eq!(state, "42000", "{msg}");
    assert!(msg.starts_with("[VOLUME_ALREADY_EXISTS]"), "{msg}");
    ok(&w, "CREATE VOLUME IF NOT EXISTS default.v1");
    assert_eq!(req(&w, "PUT", file, b"x").status().as_u16(), 204);
    assert_eq!(req(&w, "GET", file, b"").text().unwrap(), "x");

    // privileges: a reader reads a volume, does not write it or create one
    let r = send(&w, "reader-token", "GET", file, b"");
    assert_eq!(r.status().as_u16(), 200);
    let r = send(&w, "reader-token", "PUT", file, b"y");
    assert_eq!(r.status().as_u16(), 403);
    let (state, msg) = w.fails_as("reader-token", "CREATE VOLUME main.default.v2", json!([]));
    assert_eq!(state, "42501", "{msg}");
    let (state, _) = w.fails_as("reader-token", "DROP VOLUME main.default.v1", json!([]));
    assert_eq!(state, "42501");

    let (state, _) = w.fails("CREATE VOLUME nosuch.v");
    assert_eq!(state, "42704");
    let (state, _) = w.fails("CREATE EXTERNAL VOLUME v3 LOCATION 's3://b/p'");
    assert_eq!(state, "0A000");

    // a schema holding a volume is not empty; CASCADE drops the volume with it
    ok(&w, "CREATE SCHEMA s2");
    ok(&w, "CREATE VOLUME s2.v");
    let (state, _) = w.fails("DROP SCHEMA s2");
    assert_eq!(state, "2BP01");
    ok(&w, "DROP SCHEMA s2 CASCADE");
    ok(&w, "CREATE SCHEMA s2");
    assert_eq!(
        req(&w, "PUT", "/api/2.0/fs/files/Volumes/main/s2/v/x", b"1")
            .status()
            .as_u16(),
        404
    );

    // DROP VOLUME removes the volume and its files
    ok(&w, "DROP VOLUME main.default.v1");
    assert_eq!(req(&w, "GET", file, b"").status().as_u16(), 404);
    let (state, msg) = w.fails("DROP VOLUME v1");
    assert_eq!(state, "42704", "{msg}");
    assert!(msg.starts_with("[VOLUME_NOT_FOUND]"), "{msg}");
    ok(&w, "DROP VOLUME IF EXISTS v1");
    ok(&w, "CREATE VOLUME v1");
    assert_eq!(req(&w, "GET", file, b"").status().as_u16(), 404);
}

#[test]
fn files_api_files_and_directories() {
    let w = start();
    ok(&w, "CREATE VOLUME main.default.files");
    let f = "/api/2.0/fs/files/Volumes/main/default/files/a/b/one.txt";
    // parents are created; overwrite absent or true replaces, false refuses
    assert_eq!(req(&w, "PUT", f, b"first").status().as_u16(), 204);
    let r = req(&w, "PUT", &format!("{f}?overwrite=false"), b"second");
    assert_eq!(r.status().as_u16(), 409);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error_code"], "ALREADY_EXISTS", "{body}");
    assert_eq!(req(&w, "GET", f, b"").text().unwrap(), "first");
    assert_eq!(req(&w, "PUT", f, b"second!").status().as_u16(), 204);
    let r = req(&w, "PUT", &format!("{f}?overwrite=true"), b"third!!");
    assert_eq!(r.status().as_u16(), 204);
    let r = req(&w, "GET", f, b"");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("last-modified").is_some());
    assert_eq!(r.text().unwrap(), "third!!");
    // HEAD: length and modification time, no body; 404 for a directory or nothing
    let r = req(&w, "HEAD", f, b"");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-length"], "7");
    let lm = r.headers()["last-modified"].to_str().unwrap().to_string();
    assert!(lm.ends_with(" GMT"), "{lm}");
    assert_eq!(r.bytes().unwrap().len(), 0);
    let dir_as_file = "/api/2.0/fs/files/Volumes/main/default/files/a";
    assert_eq!(req(&w, "HEAD", dir_as_file, b"").status().as_u16(), 404);
    assert_eq!(req(&w, "PUT", dir_as_file, b"x").status().as_u16(), 409);

    // directories
    let d = "/api/2.0/fs/directories/Volumes/main/default/files";
    assert_eq!(
        req(&w, "PUT", &format!("{d}/a/c"), b"").status().as_u16(),
        204
    );
    assert_eq!(
        req(&w, "PUT", &format!("{d}/a/c/"), b"").status().as_u16(),
        204
    );
    assert_eq!(
        req(&w, "PUT", &format!("{d}/a/b/one.txt"), b"")
            .status()
            .as_u16(),
        409
    );
    assert_eq!(
        req(&w, "HEAD", &format!("{d}/a"), b"").status().as_u16(),
        200
    );
    assert_eq!(
        req(&w, "HEAD", &format!("{d}/zz"), b"").status().as_u16(),
        404
    );
    assert_eq!(
        req(&w, "HEAD", &format!("{d}/a/b/one.txt"), b"")
            .status()
            .as_u16(),
        404
    );
    // an upload in progress is not listed
    let vol_dir = w.dir.join(".volumes/main/default/files");
    std::fs::write(vol_dir.join("a/.upload-123-two.txt"), "partial").unwrap();
    assert_eq!(
        req(
            &w,
            "PUT",
            "/api/2.0/fs/files/Volumes/main/default/files/a/two.txt",
            b"22"
        )
        .status()
        .as_u16(),
        204
    );
    let r = req(&w, "GET", &format!("{d}/a"), b"");
    assert_eq!(r.status().as_u16(), 200);
    let list: Value = r.json().unwrap();
    let contents = list["contents"].as_array().unwrap();
    let names: Vec<&str> = contents
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["b", "c", "two.txt"], "{list}");
    assert_eq!(contents[0]["is_directory"], true);
    assert_eq!(contents[0]["path"], "/Volumes/main/default/files/a/b/");
    assert_eq!(contents[2]["is_directory"], false);
    assert_eq!(contents[2]["file_size"], 2);
    assert_eq!(contents[2]["path"], "/Volumes/main/default/files/a/two.txt");
    assert!(contents[2]["last_modified"].as_i64().unwrap() > 1_600_000_000_000);
    assert!(list.get("next_page_token").is_none(), "{list}");
    // pages
    let page: Value = req(&w, "GET", &format!("{d}/a?page_size=2"), b"")
        .json()
        .unwrap();
    assert_eq!(page["contents"].as_array().unwrap().len(), 2);
    let token = page["next_page_token"].as_str().unwrap().to_string();
    let page: Value = req(
        &w,
        "GET",
        &format!("{d}/a?page_size=2&page_token={token}"),
        b"",
    )
    .json()
    .unwrap();
    assert_eq!(page["contents"][0]["name"], "two.txt", "{page}");
    assert!(page.get("next_page_token").is_none(), "{page}");
    assert_eq!(
        req(&w, "GET", &format!("{d}/zz"), b"").status().as_u16(),
        404
    );
    // only an empty directory is deleted (400 with the reason, as the service answers)
    let r = req(&w, "DELETE", &format!("{d}/a"), b"");
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE", "{body}");
    assert_eq!(
        body["details"][0]["reason"], "FILES_API_DIRECTORY_IS_NOT_EMPTY",
        "{body}"
    );
    assert_eq!(
        req(&w, "DELETE", &format!("{d}/a/c"), b"")
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        req(&w, "DELETE", &format!("{d}/a/c"), b"")
            .status()
            .as_u16(),
        404
    );
    // files: DELETE, then 404
    assert_eq!(req(&w, "DELETE", f, b"").status().as_u16(), 204);
    assert_eq!(req(&w, "DELETE", f, b"").status().as_u16(), 404);
    assert_eq!(req(&w, "GET", f, b"").status().as_u16(), 404);
    assert_eq!(
        req(&w, "DELETE", &format!("{d}/a/b"), b"")
            .status()
            .as_u16(),
        204
    );
    // the volume's root is dropped with DROP VOLUME, not deleted as a directory
    assert_eq!(req(&w, "DELETE", d, b"").status().as_u16(), 400);
}

const TABLE: &str = "CREATE TABLE main.default.t (id BIGINT NOT NULL, amount DECIMAL(12,2), name STRING, blob BINARY, ts TIMESTAMP, ntz TIMESTAMP_NTZ, d DATE, ok BOOLEAN, x DOUBLE, extra STRING)";

/// The statement the connector sends for a staged write into `t` of the files under `dir`.
fn copy_sql(dir: &str, options: &str) -> String {
    format!(
        "COPY INTO `main`.`default`.`t` FROM (SELECT CAST(c0 AS BIGINT) AS `id`, CAST(c1 AS DECIMAL(12,2)) AS `amount`, c2 AS `name`, unbase64(c3) AS `blob`, CAST(c4 AS TIMESTAMP) AS `ts`, CAST(c5 AS TIMESTAMP_NTZ) AS `ntz`, CAST(c6 AS DATE) AS `d`, CAST(c7 AS BOOLEAN) AS `ok`, CAST(c8 AS DOUBLE) AS `x` FROM '/Volumes/main/default/stage/openmatch-staging/{dir}/') FILEFORMAT = JSON FORMAT_OPTIONS ('primitivesAsString' = 'true') COPY_OPTIONS ('mergeSchema' = 'false'{options})"
    )
}

/// A record as the connector writes it: every field `c0`..`c8`, text or null.
fn rec(fields: &[(&str, &str)]) -> String {
    let mut m = serde_json::Map::new();
    for i in 0..9 {
        let k = format!("c{i}");
        let v = fields
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| Value::String(v.to_string()))
            .unwrap_or(Value::Null);
        m.insert(k, v);
    }
    Value::Object(m).to_string()
}

fn stage(w: &W, dir: &str, name: &str, body: &str) {
    let path = format!(
        "/api/2.0/fs/files/Volumes/main/default/stage/openmatch-staging/{dir}/{name}?overwrite=true"
    );
    assert_eq!(req(w, "PUT", &path, body.as_bytes()).status().as_u16(), 204);
}

fn loaded(r: &Value) -> (String, String, String) {
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let cols = manifest_columns(&r, "name");
    assert_eq!(
        cols,
        vec![
            "num_affected_rows",
            "num_inserted_rows",
            "num_skipped_corrupt_files"
        ]
    );
    let row = &r["result"]["data_array"][0];
    (
        row[0].as_str().unwrap().to_string(),
        row[1].as_str().unwrap().to_string(),
        row[2].as_str().unwrap().to_string(),
    )
}

#[test]
fn staged_copy_into_is_exact_and_idempotent() {
    let w = start();
    ok(&w, "CREATE VOLUME main.default.stage");
    ok(&w, TABLE);
    stage(
        &w,
        "0123abcd",
        "part-00000.json",
        concat!(
            r#"{"c0":"1","c1":"1.50","c2":"a","c3":"AAEC/w==","c4":"2024-01-02T03:04:05.123456Z","c5":"0001-01-01T00:00:00.000000","c6":"2024-02-29","c7":"true","c8":"NaN"}"#,
            "\n",
            r#"{"c0":"2","c1":"-9999999999.99","c2":null,"c3":null,"c4":null,"c5":"9999-12-31T23:59:59.999999","c6":"0001-01-01","c7":"false","c8":"2.5"}"#,
            "\n"
        ),
    );
    // numbers as JSON numbers are read as their text too (primitivesAsString)
    stage(
        &w,
        "0123abcd",
        "part-00001.json",
        r#"{"c0":3,"c1":"0.005","c2":"é \"q\" ","c3":"","c4":"1970-01-01T00:00:00.000001Z","c5":null,"c6":null,"c7":null,"c8":"-Infinity"}"#,
    );
    // an upload in progress is not loaded
    let part = w
        .dir
        .join(".volumes/main/default/stage/openmatch-staging/0123abcd/.upload-1-part-00002.json");
    std::fs::write(part, r#"{"c0":"99"}"#).unwrap();
    let v0 = commits(&w, "t");
    let r = w.run(&copy_sql("0123abcd", ""));
    assert_eq!(loaded(&r), ("3".into(), "3".into(), "0".into()));
    assert_eq!(commits(&w, "t"), v0 + 1);
    let rows = w.rows("SELECT id, amount, name, blob, ts, ntz, d, ok, x, extra FROM t ORDER BY id");
    let n = Value::Null;
    assert_eq!(
        rows,
        vec![
            vec![
                s("1"),
                s("1.50"),
                s("a"),
                s("AAEC/w=="),
                s("2024-01-02T03:04:05.123456Z"),
                s("0001-01-01T00:00:00.000"),
                s("2024-02-29"),
                s("true"),
                s("NaN"),
                n.clone()
            ],
            vec![
                s("2"),
                s("-9999999999.99"),
                n.clone(),
                n.clone(),
                n.clone(),
                s("9999-12-31T23:59:59.999999"),
                s("0001-01-01"),
                s("false"),
                s("2.5"),
                n.clone()
            ],
            vec![
                s("3"),
                s("0.01"),
                s("é \"q\" "),
                s(""),
                s("1970-01-01T00:00:00.000001Z"),
                n.clone(),
                n.clone(),
                n.clone(),
                s("-Infinity"),
                n.clone()
            ],
        ]
    );

    // the same COPY INTO again (an answer lost and re-sent): nothing loaded, no commit
    let r = w.run(&copy_sql("0123abcd", ""));
    assert_eq!(loaded(&r), ("0".into(), "0".into(), "0".into()));
    assert_eq!(count(&w, "t"), "3");
    assert_eq!(commits(&w, "t"), v0 + 1);
    // a new file in the directory: only it is loaded
    stage(
        &w,
        "0123abcd",
        "part-00003.json",
        &rec(&[("c0", "4"), ("c1", "7")]),
    );
    let r = w.run(&copy_sql("0123abcd", ""));
    assert_eq!(loaded(&r), ("1".into(), "1".into(), "0".into()));
    assert_eq!(
        w.rows("SELECT amount FROM t WHERE id = 4"),
        vec![vec![s("7.00")]]
    );
    // force loads every file again
    let r = w.run(&copy_sql("0123abcd", ", 'force' = 'true'"));
    assert_eq!(loaded(&r), ("4".into(), "4".into(), "0".into()));
    assert_eq!(count(&w, "t"), "8");
    // another table does not share what was loaded
    ok(&w, "CREATE TABLE t2 (id BIGINT)");
    let r = w.run("COPY INTO t2 FROM (SELECT CAST(c0 AS BIGINT) AS id FROM '/Volumes/main/default/stage/openmatch-staging/0123abcd/') FILEFORMAT = JSON");
    assert_eq!(loaded(&r), ("4".into(), "4".into(), "0".into()));
    // any other expression is planned by DataFusion
    ok(&w, "CREATE TABLE t3 (id BIGINT, up STRING)");
    let r = w.run("COPY INTO t3 FROM (SELECT CAST(c0 AS BIGINT) + 100 AS id, upper(c2) AS up FROM '/Volumes/main/default/stage/openmatch-staging/0123abcd/part-00000.json') FILEFORMAT = JSON");
    assert_eq!(loaded(&r), ("2".into(), "2".into(), "0".into()));
    assert_eq!(
        w.rows("SELECT id, up FROM t3 ORDER BY id"),
        vec![vec![s("101"), s("A")], vec![s("102"), Value::Null]]
    );
}

#[test]
fn staged_copy_into_refuses_a_bad_value_and_commits_nothing() {
    let w = start();
    ok(&w, "CREATE VOLUME main.default.stage");
    ok(&w, TABLE);
    ok(&w, "INSERT INTO t (id) VALUES (0)");
    let v0 = commits(&w, "t");
    for (dir, line, state) in [
        ("bad-int", rec(&[("c0", "1.5x")]), "22018"),
        ("bad-decimal", rec(&[("c0", "1"), ("c1", "abc")]), "22018"),
        (
            "too-big",
            rec(&[("c0", "1"), ("c1", "12345678901.00")]),
            "22003",
        ),
        ("bad-ts", rec(&[("c0", "1"), ("c4", "yesterday")]), "22018"),
        (
            "bad-date",
            rec(&[("c0", "1"), ("c6", "2024-02-30")]),
            "22018",
        ),
        ("bad-base64", rec(&[("c0", "1"), ("c3", "%%%")]), "22018"),
    ] {
        // a good file next to the bad one: nothing of either is committed
        stage(
            &w,
            dir,
            "part-00000.json",
            &rec(&[("c0", "5"), ("c1", "1.00")]),
        );
        stage(&w, dir, "part-00001.json", &line);
        let (got, msg) = w.fails(&copy_sql(dir, ""));
        assert_eq!(got, state, "{dir}: {msg}");
        assert_eq!(count(&w, "t"), "1", "{dir}");
        assert_eq!(commits(&w, "t"), v0, "{dir}");
    }
    // a record that is not JSON
    stage(&w, "not-json", "part-00000.json", "{\"c0\": \n");
    let (state, msg) = w.fails(&copy_sql("not-json", ""));
    assert_eq!(state, "22023", "{msg}");
    // a failed load remembers nothing: once fixed, the files load
    stage(
        &w,
        "too-big",
        "part-00001.json",
        r#"{"c0":"6","c1":"1234567890.12"}"#,
    );
    let r = w.run(&copy_sql("too-big", ""));
    assert_eq!(loaded(&r), ("2".into(), "2".into(), "0".into()));
    assert_eq!(
        w.rows("SELECT amount FROM t WHERE id = 6"),
        vec![vec![s("1234567890.12")]]
    );
    // NOT NULL columns still hold
    stage(&w, "null-id", "part-00000.json", &rec(&[("c1", "1")]));
    let (state, _) = w.fails(&copy_sql("null-id", ""));
    assert_eq!(state, "23502");
}

/// The staged files under `dir` as the connector's MERGE source: `c0` the key, then `fields`
/// (`(field, select expression)`), every field read as text.
fn read_files_source(dir: &str, selects: &[&str]) -> String {
    let schema: Vec<String> = (0..selects.len()).map(|i| format!("c{i} STRING")).collect();
    format!(
        "(SELECT {} FROM read_files('/Volumes/main/default/stage/openmatch-staging/{dir}/', format => 'json', schema => '{}', mode => 'FAILFAST'))",
        selects.join(", "),
        schema.join(", ")
    )
}

/// The four counts of a MERGE answer: affected, updated, deleted, inserted.
fn merged(r: &Value) -> [String; 4] {
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let row = &r["result"]["data_array"][0];
    let col = |name: &str| {
        let cols = r["manifest"]["schema"]["columns"].as_array().unwrap();
        let i = cols.iter().position(|c| c["name"] == name).unwrap();
        row[i].as_str().unwrap().to_string()
    };
    [
        "num_affected_rows",
        "num_updated_rows",
        "num_deleted_rows",
        "num_inserted_rows",
    ]
    .map(col)
}

#[test]
fn staged_merge_reads_files_through_read_files_exactly() {
    let w = start();
    ok(&w, "CREATE VOLUME main.default.stage");
    ok(
        &w,
        "CREATE TABLE t (id BIGINT NOT NULL, amount DECIMAL(12,2), name STRING, blob BINARY, ts TIMESTAMP)",
    );
    ok(
        &w,
        "INSERT INTO t VALUES (1, 1.00, 'a', NULL, NULL), (2, 2.00, 'b', NULL, NULL), (3, 3.00, 'c', NULL, NULL), (4, 4.00, 'd', NULL, NULL)",
    );
    let selects = [
        "CAST(c0 AS BIGINT) AS c0",
        "CAST(c1 AS DECIMAL(12,2)) AS c1",
        "c2 AS c2",
        "unbase64(c3) AS c3",
        "CAST(c4 AS TIMESTAMP) AS c4",
    ];
    let rec = |id: &str, amount: &str, name: Option<&str>, blob: &str, ts: &str| {
        json!({"c0": id, "c1": amount, "c2": name, "c3": blob, "c4": ts}).to_string()
    };
    stage(
        &w,
        "upd",
        "part-00000.json",
        &format!(
            "{}\n{}\n",
            rec(
                "1",
                "0.005",
                Some("é \"q\" "),
                "AAEC/w==",
                "2024-01-02T03:04:05.123456Z"
            ),
            rec(
                "2",
                "-9999999999.99",
                None,
                "",
                "1970-01-01T00:00:00.000001Z"
            )
        ),
    );
    // id 9 matches nothing; a JSON number is read as its text
    stage(
        &w,
        "upd",
        "part-00001.json",
        r#"{"c0":9,"c1":"1","c2":"z","c3":null,"c4":null}"#,
    );
    let update = format!(
        "MERGE INTO `main`.`default`.`t` AS t USING {} AS s ON t.`id` = s.c0 WHEN MATCHED THEN UPDATE SET t.`amount` = s.c1, t.`name` = s.c2, t.`blob` = s.c3, t.`ts` = s.c4",
        read_files_source("upd", &selects)
    );
    let v0 = commits(&w, "t");
    assert_eq!(
        merged(&w.run(&update)),
        ["2", "2", "0", "0"].map(String::from)
    );
    assert_eq!(commits(&w, "t"), v0 + 1, "one commit");
    let n = Value::Null;
    assert_eq!(
        w.rows("SELECT id, amount, name, blob, ts FROM t ORDER BY id"),
        vec![
            vec![
                s("1"),
                s("0.01"),
                s("é \"q\" "),
                s("AAEC/w=="),
                s("2024-01-02T03:04:05.123456Z")
            ],
            vec![
                s("2"),
                s("-9999999999.99"),
                n.clone(),
                s(""),
                s("1970-01-01T00:00:00.000001Z")
            ],
            vec![s("3"), s("3.00"), s("c"), n.clone(), n.clone()],
            vec![s("4"), s("4.00"), s("d"), n.clone(), n.clone()],
        ]
    );
    // the same MERGE again (an answer lost and re-sent): the same rows matched, the same values
    assert_eq!(
        merged(&w.run(&update)),
        ["2", "2", "0", "0"].map(String::from)
    );
    assert_eq!(
        w.rows("SELECT amount FROM t WHERE id = 1"),
        vec![vec![s("0.01")]]
    );

    // a staged delete: the probe counts the matches, the MERGE deletes them, once
    stage(
        &w,
        "del",
        "part-00000.json",
        "{\"c0\":\"2\"}\n{\"c0\":\"3\"}\n{\"c0\":\"7\"}\n",
    );
    let keys = read_files_source("del", &["CAST(c0 AS BIGINT) AS c0"]);
    let probe = format!(
        "SELECT count(*) AS num_matched_rows FROM `main`.`default`.`t` AS t WHERE t.`id` IN (SELECT s.c0 FROM {keys} AS s)"
    );
    assert_eq!(w.rows(&probe), vec![vec![s("2")]]);
    let delete = format!(
        "MERGE INTO `main`.`default`.`t` AS t USING {keys} AS s ON t.`id` = s.c0 WHEN MATCHED THEN DELETE"
    );
    assert_eq!(
        merged(&w.run(&delete)),
        ["2", "0", "2", "0"].map(String::from)
    );
    assert_eq!(
        merged(&w.run(&delete)),
        ["0", "0", "0", "0"].map(String::from)
    );
    assert_eq!(
        w.rows("SELECT id FROM t ORDER BY id"),
        vec![vec![s("1")], vec![s("4")]]
    );

    // a value that does not parse, a decimal that does not fit, a line that is not JSON: the
    // statement fails and nothing is committed
    let v1 = commits(&w, "t");
    for (dir, body, state) in [
        (
            "bad-decimal",
            rec("1", "abc", None, "", "2024-01-01T00:00:00Z"),
            "22018",
        ),
        (
            "too-big",
            rec("1", "12345678901.00", None, "", "2024-01-01T00:00:00Z"),
            "22003",
        ),
        ("bad-ts", rec("1", "1", None, "", "yesterday"), "22018"),
        (
            "bad-base64",
            rec("1", "1", None, "%%%", "2024-01-01T00:00:00Z"),
            "22018",
        ),
        ("not-json", "{\"c0\": \n".to_string(), "22023"),
    ] {
        stage(&w, dir, "part-00000.json", &body);
        let sql = update.replace(
            "openmatch-staging/upd/",
            &format!("openmatch-staging/{dir}/"),
        );
        let (got, msg) = w.fails(&sql);
        assert_eq!(got, state, "{dir}: {msg}");
    }
    assert_eq!(commits(&w, "t"), v1);
    assert_eq!(
        w.rows("SELECT amount FROM t WHERE id = 1"),
        vec![vec![s("0.01")]]
    );

    // any other select list is planned by DataFusion over the text fields
    assert_eq!(
        w.rows("SELECT upper(c2) AS u FROM read_files('/Volumes/main/default/stage/openmatch-staging/upd/', format => 'json', schema => 'c2 STRING', mode => 'FAILFAST') WHERE c2 IS NOT NULL ORDER BY u"),
        vec![vec![s("Z")], vec![s("É \"Q\" ")]]
    );
    // what is not implemented is refused; a missing path or volume is named
    let (state, msg) = w.fails("SELECT * FROM read_files('/Volumes/main/default/stage/openmatch-staging/upd/', format => 'json', schema => 'c0 STRING')");
    assert_eq!(state, "0A000", "{msg}");
    let (state, msg) = w.fails("SELECT * FROM read_files('/Volumes/main/default/stage/nothing/', format => 'json', schema => 'c0 STRING', mode => 'FAILFAST')");
    assert_eq!(state, "42K03", "{msg}");
    let (state, msg) = w.fails("SELECT * FROM read_files('/Volumes/main/default/nosuch/x/', format => 'json', schema => 'c0 STRING', mode => 'FAILFAST')");
    assert!(msg.starts_with("[VOLUME_NOT_FOUND]"), "{state}: {msg}");
}
