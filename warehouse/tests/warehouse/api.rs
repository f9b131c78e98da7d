//! The HTTP API end to end: errors and auth, permissions, chunks and links, the async lifecycle,
//! warehouses, external links, the Files API with COPY INTO, OAuth and injected faults.

use std::time::Duration;

use crate::common::*;
use crate::{T, make_t};
use serde_json::{Value, json};
use warehouse::{
    DEFAULT_TOKEN, DEFAULT_WAREHOUSE_ID, Endpoint, FaultKind, FaultRule, Principal, Privilege,
};

#[test]
fn errors_and_auth() {
    let w = start();
    let (st, msg) = w.fails("INSER INTO x VALUES (1)");
    assert_eq!(st, "42601");
    assert!(
        msg.starts_with("[PARSE_SYNTAX_ERROR] Syntax error at or near 'INSER'"),
        "{msg}"
    );
    assert!(msg.ends_with("SQLSTATE: 42601"));
    let (st, msg) = w.fails("SELECT nope FROM range(1)");
    assert_eq!(st, "42703", "{msg}");
    assert!(msg.starts_with("[UNRESOLVED_COLUMN"), "{msg}");
    let r = w.run("SELECT * FROM missing_table");
    assert_eq!(r["status"]["error"]["error_code"], "BAD_REQUEST");
    assert_eq!(r["status"]["sql_state"], "42P01");
    // 401 exactly as the service
    let expected = json!({"error_code": 401, "message": "Credential was not sent or was of an unsupported type for this API."});
    let resp = w.http.get(w.url("/api/2.0/sql/warehouses")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.json::<Value>().unwrap(), expected);
    let (s401, body) = w.get_as("wrong-token", "/api/2.0/sql/warehouses");
    assert_eq!((s401, body), (401, expected));
    // request validation
    let (code, body) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": "SELECT 1", "warehouse_id": ""}),
    );
    assert_eq!(code, 400, "{body}");
    let (code, body) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": "SELECT 1", "warehouse_id": "0123456789abcdef"}),
    );
    assert_eq!(code, 404, "{body}");
    let (code, body) = w.post("/api/2.0/sql/statements", &json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "3s"}));
    assert_eq!(
        (code, body["error_code"].clone()),
        (400, json!("INVALID_PARAMETER_VALUE"))
    );
    let (code, _) = w.post("/api/2.0/sql/statements", &json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID, "format": "ARROW_STREAM"}));
    assert_eq!(code, 400);
    let (code, body) = w.get("/api/2.0/sql/statements/nope");
    assert_eq!(code, 404, "{body}");
    let (code, body) = w.get("/api/2.0/sql/nothing-here");
    assert_eq!(
        (code, body["error_code"].clone()),
        (404, json!("ENDPOINT_NOT_FOUND"))
    );
}

#[test]
fn permissions() {
    let w = start_with(|c| {
        c.principal(user("reader").grant(Privilege::Select, "main.default"))
            .principal(
                user("writer")
                    .grant(Privilege::Select, "main.default.t")
                    .grant(Privilege::Modify, "main.default.t"),
            )
    });
    make_t(&w);
    w.run("CREATE TABLE other (x INT)");
    w.run(&format!("INSERT INTO {T} (id) VALUES (1)"));
    let r = w.run_as(
        "reader-token",
        &format!("SELECT id FROM {T}"),
        json!([]),
        json!({}),
    );
    assert_eq!(w.all_rows(&r), vec![vec![s("1")]]);
    let (st, msg) = w.fails_as(
        "reader-token",
        &format!("INSERT INTO {T} (id) VALUES (2)"),
        json!([]),
    );
    assert_eq!(st, "42501");
    assert!(
        msg.starts_with("[INSUFFICIENT_PERMISSIONS]") && msg.contains("MODIFY"),
        "{msg}"
    );
    let r = w.run_as(
        "writer-token",
        &format!("INSERT INTO {T} (id) VALUES (2)"),
        json!([]),
        json!({}),
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let (st, msg) = w.fails_as("writer-token", "SELECT * FROM other", json!([]));
    assert_eq!(st, "42501", "{msg}");
    let (st, _) = w.fails_as("reader-token", "CREATE CATALOG c2", json!([]));
    assert_eq!(st, "42501");
    // statements of one principal are not visible to another
    let r = w.run_as("writer-token", "SELECT 1", json!([]), json!({}));
    let id = r["statement_id"].as_str().unwrap();
    let (code, _) = w.get_as("reader-token", &format!("/api/2.0/sql/statements/{id}"));
    assert_eq!(code, 404);
}

#[test]
fn chunks_links_and_limits() {
    let w = start_with(|c| c.chunk_rows(3));
    let r = w.run("SELECT id FROM range(10) ORDER BY id");
    assert_eq!(r["manifest"]["total_chunk_count"], 4);
    assert_eq!(
        r["manifest"]["chunks"][1],
        json!({"chunk_index": 1, "row_offset": 3, "row_count": 3})
    );
    assert_eq!(r["result"]["next_chunk_index"], 1);
    let id = r["statement_id"].as_str().unwrap().to_string();
    assert_eq!(
        r["result"]["next_chunk_internal_link"],
        json!(format!(
            "/api/2.0/sql/statements/{id}/result/chunks/1?row_offset=3"
        ))
    );
    let all = w.all_rows(&r);
    assert_eq!(all.len(), 10);
    assert_eq!(all[9], vec![s("9")]);
    // by index, trailing slash
    let (code, c3) = w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/3/"));
    assert_eq!(code, 200);
    assert_eq!(c3["data_array"], json!([["9"]]));
    assert!(c3.get("next_chunk_index").is_none());
    let (code, _) = w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/4"));
    assert_eq!(code, 400);
    // row_limit
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(10)",
        json!([]),
        json!({"row_limit": 4}),
    );
    assert_eq!(r["manifest"]["total_row_count"], 4);
    assert_eq!(r["manifest"]["truncated"], true);
    // byte_limit
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(100)",
        json!([]),
        json!({"byte_limit": 30}),
    );
    assert_eq!(r["manifest"]["truncated"], true, "{r}");
    assert!(r["manifest"]["total_row_count"].as_u64().unwrap() < 100);
}

#[test]
fn async_lifecycle_cancel_close() {
    let w = start();
    // wait_timeout 0s: answered before the result
    let (code, r) = w.post("/api/2.0/sql/statements/", &json!({"statement": "SELECT count(*) FROM range(3000000) a", "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "0s"}));
    assert_eq!(code, 200);
    let st = r["status"]["state"].as_str().unwrap();
    assert!(st == "PENDING" || st == "RUNNING", "{r}");
    assert!(r.get("manifest").is_none());
    let id = r["statement_id"].as_str().unwrap().to_string();
    let mut r = r;
    for _ in 0..2000 {
        if r["status"]["state"] == "SUCCEEDED" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        r = w.get(&format!("/api/2.0/sql/statements/{id}")).1;
    }
    assert_eq!(r["result"]["data_array"], json!([["3000000"]]));
    // DELETE -> CLOSED
    let (code, body) = w
        .http
        .delete(w.url(&format!("/api/2.0/sql/statements/{id}")))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .map(|r| (r.status().as_u16(), r.text().unwrap()))
        .unwrap();
    assert_eq!((code, body.as_str()), (200, "{}"));
    assert_eq!(
        w.get(&format!("/api/2.0/sql/statements/{id}")).1["status"]["state"],
        "CLOSED"
    );
    // cancel a long statement
    let slow = "SELECT sum(a.id * b.id) FROM range(30000) a CROSS JOIN range(30000) b";
    let (_, r) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": slow, "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "0s"}),
    );
    let id = r["statement_id"].as_str().unwrap().to_string();
    let (code, body) = w.post(&format!("/api/2.0/sql/statements/{id}/cancel"), &json!({}));
    assert_eq!((code, body), (200, json!({})));
    assert_eq!(
        w.get(&format!("/api/2.0/sql/statements/{id}")).1["status"]["state"],
        "CANCELED"
    );
    // on_wait_timeout CANCEL
    let (_, r) = w.post("/api/2.0/sql/statements", &json!({"statement": slow, "warehouse_id": DEFAULT_WAREHOUSE_ID, "wait_timeout": "5s", "on_wait_timeout": "CANCEL"}));
    assert_eq!(r["status"]["state"], "CANCELED", "{r}");
}

#[test]
fn warehouses_and_metadata() {
    let w = start();
    let (code, r) = w.get("/api/2.0/sql/warehouses");
    assert_eq!(code, 200);
    assert_eq!(r["warehouses"][0]["id"], DEFAULT_WAREHOUSE_ID);
    assert_eq!(r["warehouses"][0]["state"], "RUNNING");
    let (code, r) = w.get(&format!("/api/2.0/sql/warehouses/{DEFAULT_WAREHOUSE_ID}/"));
    assert_eq!(code, 200);
    assert_eq!(
        r["odbc_params"]["path"],
        format!("/sql/1.0/warehouses/{DEFAULT_WAREHOUSE_ID}")
    );
    let (code, r) = w.post(
        &format!("/api/2.0/sql/warehouses/{DEFAULT_WAREHOUSE_ID}/start"),
        &json!({}),
    );
    assert_eq!((code, r), (200, json!({})));
    assert_eq!(w.get("/api/2.0/sql/warehouses/ffffffffffffffff").0, 404);
    let r: Value = w
        .http
        .get(w.url("/.well-known/databricks-config"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(r["oidc_endpoint"].as_str().unwrap().ends_with("/oidc"));
}

#[test]
fn external_links_json_and_arrow() {
    let w = start_with(|c| c.chunk_rows(4));
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(10) ORDER BY id",
        json!([]),
        json!({"disposition": "EXTERNAL_LINKS", "format": "JSON_ARRAY"}),
    );
    assert_eq!(r["manifest"]["total_chunk_count"], 3, "{r}");
    assert!(r["manifest"]["total_byte_count"].as_u64().unwrap() > 0);
    let link = &r["result"]["external_links"][0];
    assert_eq!(
        link["next_chunk_internal_link"],
        json!(format!(
            "/api/2.0/sql/statements/{}/result/chunks/1",
            r["statement_id"].as_str().unwrap()
        ))
    );
    assert!(link["expiration"].as_str().unwrap().ends_with('Z'));
    let body: Value = reqwest::blocking::get(link["external_link"].as_str().unwrap())
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body, json!([["0"], ["1"], ["2"], ["3"]]));
    let (_, c2) = w.get(link["next_chunk_internal_link"].as_str().unwrap());
    let body: Value =
        reqwest::blocking::get(c2["external_links"][0]["external_link"].as_str().unwrap())
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(body, json!([["4"], ["5"], ["6"], ["7"]]));
    // arrow stream
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT id FROM range(10) ORDER BY id",
        json!([]),
        json!({"disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM"}),
    );
    let bytes = reqwest::blocking::get(
        r["result"]["external_links"][0]["external_link"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
    .bytes()
    .unwrap();
    let reader = deltalake::arrow::ipc::reader::StreamReader::try_new(
        std::io::Cursor::new(bytes.to_vec()),
        None,
    )
    .unwrap();
    let n: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(n, 4);
    // expired links
    let w = start_with(|c| {
        c.fault(FaultRule::new(Endpoint::ExternalLink, FaultKind::ExpiredLinks).times(1))
    });
    let r = w.run_as(
        DEFAULT_TOKEN,
        "SELECT 1",
        json!([]),
        json!({"disposition": "EXTERNAL_LINKS"}),
    );
    let resp = reqwest::blocking::get(
        r["result"]["external_links"][0]["external_link"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // re-reading the chunk refreshes the link
    let (_, c0) = w.get(&format!(
        "/api/2.0/sql/statements/{}/result/chunks/0",
        r["statement_id"].as_str().unwrap()
    ));
    let body: Value =
        reqwest::blocking::get(c0["external_links"][0]["external_link"].as_str().unwrap())
            .unwrap()
            .json()
            .unwrap();
    assert_eq!(body, json!([["1"]]));
}

#[test]
fn files_api_and_copy_into() {
    let w = start();
    // a volume must exist before files go into it
    let r = w.run("CREATE VOLUME main.default.landing");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let put = |path: &str, body: Vec<u8>| {
        w.http
            .put(w.url(&format!("/api/2.0/fs/files{path}?overwrite=true")))
            .bearer_auth(DEFAULT_TOKEN)
            .body(body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        put(
            "/Volumes/main/default/landing/a.json",
            b"{\"id\": 1, \"name\": \"x\"}\n{\"id\": 2, \"name\": \"y\"}\n".to_vec()
        ),
        204
    );
    assert_eq!(
        put(
            "/Volumes/main/default/landing/b.csv",
            b"id,name\n3,z\n".to_vec()
        ),
        204
    );
    let got = w
        .http
        .get(w.url("/api/2.0/fs/files/Volumes/main/default/landing/b.csv"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.text().unwrap(), "id,name\n3,z\n");
    let no = w
        .http
        .put(w.url("/api/2.0/fs/files/Volumes/main/default/landing/b.csv?overwrite=false"))
        .bearer_auth(DEFAULT_TOKEN)
        .body("x")
        .send()
        .unwrap();
    assert_eq!(no.status().as_u16(), 409);
    // parquet
    {
        use deltalake::arrow::array::{Int64Array, RecordBatch, StringArray};
        use deltalake::arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![4])),
                Arc::new(StringArray::from(vec!["p"])),
            ],
        )
        .unwrap();
        let mut buf = Vec::new();
        let mut wr =
            deltalake::parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).unwrap();
        wr.write(&b).unwrap();
        wr.close().unwrap();
        assert_eq!(put("/Volumes/main/default/landing/c.parquet", buf), 204);
    }
    w.run("CREATE TABLE loaded (id BIGINT, name STRING)");
    let r = w.run("COPY INTO loaded FROM '/Volumes/main/default/landing/a.json' FILEFORMAT = JSON");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(r["result"]["data_array"][0][0], "2");
    let r = w.run("COPY INTO loaded FROM '/Volumes/main/default/landing/b.csv' FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')");
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    let r = w.run(
        "COPY INTO loaded FROM '/Volumes/main/default/landing/c.parquet' FILEFORMAT = PARQUET",
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    assert_eq!(
        w.rows("SELECT id, name FROM loaded ORDER BY id"),
        vec![
            vec![s("1"), s("x")],
            vec![s("2"), s("y")],
            vec![s("3"), s("z")],
            vec![s("4"), s("p")]
        ]
    );
    let del = w
        .http
        .delete(w.url("/api/2.0/fs/files/Volumes/main/default/landing/b.csv"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(del.status().as_u16(), 204);
    let gone = w
        .http
        .get(w.url("/api/2.0/fs/files/Volumes/main/default/landing/b.csv"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert_eq!(gone.status().as_u16(), 404);
    assert_eq!(put("/Volumes/nocat/default/v/x", b"1".to_vec()), 404);
    assert_eq!(
        put("/Volumes/main/default/nosuchvolume/x", b"1".to_vec()),
        404
    );
}

#[test]
fn oauth_client_credentials() {
    let w = start_with(|c| {
        c.principal(Principal::new("sp").grant(Privilege::All, "main.default"))
            .oauth_client("client-1", "s3cret", "sp")
            .oauth_token_ttl(Duration::from_secs(2))
    });
    let meta: Value = w
        .http
        .get(w.url("/oidc/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        meta["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/oidc/v1/token")
    );
    let bad = w
        .http
        .post(w.url("/oidc/v1/token"))
        .basic_auth("client-1", Some("wrong"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=all-apis")
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    let tok: Value = w
        .http
        .post(w.url("/oidc/v1/token"))
        .basic_auth("client-1", Some("s3cret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=all-apis")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 2);
    let access = tok["access_token"].as_str().unwrap();
    let r = w.run_as(access, "SELECT 1", json!([]), json!({}));
    assert_eq!(r["status"]["state"], "SUCCEEDED");
    std::thread::sleep(Duration::from_millis(2200));
    let (code, body) = w.get_as(access, "/api/2.0/sql/warehouses");
    assert_eq!(
        (code, body),
        (
            403,
            json!({"error_code": 403, "message": "Invalid access token."})
        )
    );
}

#[test]
fn fault_injection() {
    let w = start_with(|c| {
        c.fault(
            FaultRule::new(
                Endpoint::ExecuteStatement,
                FaultKind::TooManyRequests {
                    retry_after_secs: 3,
                },
            )
            .times(1),
        )
        .fault(FaultRule::new(Endpoint::Warehouses, FaultKind::Unavailable).times(1))
        .fault(FaultRule::new(Endpoint::GetStatement, FaultKind::DropConnection).times(1))
        .fault(FaultRule::new(Endpoint::Files, FaultKind::Delay { millis: 300 }).times(1))
    });
    let resp = w
        .http
        .post(w.url("/api/2.0/sql/statements"))
        .bearer_auth(DEFAULT_TOKEN)
        .json(&json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID}))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert_eq!(
        resp.json::<Value>().unwrap()["error_code"],
        "REQUEST_LIMIT_EXCEEDED"
    );
    let (code, r) = w.post(
        "/api/2.0/sql/statements",
        &json!({"statement": "SELECT 1", "warehouse_id": DEFAULT_WAREHOUSE_ID}),
    );
    assert_eq!(code, 200, "{r}");
    let (code, body) = w.get("/api/2.0/sql/warehouses");
    assert_eq!(
        (code, body["error_code"].clone()),
        (503, json!("TEMPORARILY_UNAVAILABLE"))
    );
    assert_eq!(w.get("/api/2.0/sql/warehouses").0, 200);
    let id = r["statement_id"].as_str().unwrap();
    let dropped = w
        .http
        .get(w.url(&format!("/api/2.0/sql/statements/{id}")))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .and_then(|r| r.text());
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(w.get(&format!("/api/2.0/sql/statements/{id}")).0, 200);
    let t0 = std::time::Instant::now();
    let _ = w
        .http
        .get(w.url("/api/2.0/fs/files/Volumes/main/default/v/x"))
        .bearer_auth(DEFAULT_TOKEN)
        .send()
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300));
}
