//! The wire shapes, checked with the Arrow and LZ4 readers the warehouse itself links.

use std::io::Read as _;
use std::time::Instant;

use base64::Engine as _;
use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::datatypes::{Decimal128Type, Int64Type, TimestampMicrosecondType};
use deltalake::arrow::ipc::reader::StreamReader;
use serde_json::{Value, json};
use warehouse::{DEFAULT_WAREHOUSE_ID, Endpoint, FaultKind, FaultRule, Privilege};

use super::{exec, make_big};
use crate::common::{W, start, start_with, user};

const ARROW_LINKS: &str = r#"{"disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM"}"#;

fn extra(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn download(url: &str) -> (u16, Vec<u8>) {
    let r = reqwest::blocking::get(url).unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

fn unlz4(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lz4_flex::frame::FrameDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The batches of one Arrow IPC stream (exactly one stream: nothing may follow it).
fn batches(stream: &[u8]) -> Vec<RecordBatch> {
    let mut cur = std::io::Cursor::new(stream);
    let out: Vec<RecordBatch> = StreamReader::try_new(&mut cur, None)
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    assert_eq!(
        cur.position() as usize,
        stream.len(),
        "bytes after the stream"
    );
    out
}

fn rows(b: &[RecordBatch]) -> usize {
    b.iter().map(|b| b.num_rows()).sum()
}

fn delete(w: &W, token: &str, path: &str) -> (u16, Value) {
    let r = w
        .http
        .delete(w.url(path))
        .bearer_auth(token)
        .send()
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().unwrap_or(Value::Null))
}

#[test]
fn sessions_give_statements_their_defaults_and_belong_to_their_principal() {
    let w = start_with(|c| c.principal(user("bob").grant(Privilege::All, "main")));
    assert_eq!(
        w.run("CREATE SCHEMA main.s1")["status"]["state"],
        "SUCCEEDED"
    );
    let open = |token: &str, body: Value| w.post_as(token, "/api/2.0/sql/sessions", &body);
    let (s, r) = open(
        &w.token,
        json!({"warehouse_id": DEFAULT_WAREHOUSE_ID, "catalog": "main", "schema": "s1",
               "session_confs": {"timezone": "UTC", "ANSI_MODE": true}}),
    );
    assert_eq!(s, 200, "{r}");
    let sid = r["session_id"].as_str().unwrap().to_string();
    assert_eq!(r.as_object().unwrap().len(), 1, "{r}");
    // the trailing-slash form (JDBC) and the kernel's extra field
    let (s, r2) = w.post(
        "/api/2.0/sql/sessions/",
        &json!({"warehouse_id": DEFAULT_WAREHOUSE_ID, "execution_mode": "FAST"}),
    );
    assert_eq!(s, 200, "{r2}");
    // unqualified names resolve in the session's catalog and schema
    for sql in ["CREATE TABLE t (id BIGINT)", "INSERT INTO t VALUES (7)"] {
        let r = exec(&w, sql, json!({"session_id": sid}));
        assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
    }
    assert_eq!(w.rows("SELECT id FROM main.s1.t"), vec![vec![json!("7")]]);
    // an explicit schema wins over the session's
    let r = exec(
        &w,
        "SELECT count(*) AS n FROM big_missing",
        json!({"session_id": sid, "schema": "default"}),
    );
    assert!(
        r["status"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`main`.`default`.`big_missing`"),
        "{r}"
    );
    // another principal cannot use or close it
    let body =
        json!({"warehouse_id": DEFAULT_WAREHOUSE_ID, "statement": "SELECT 1", "session_id": sid});
    let (s, r) = w.post_as("bob-token", "/api/2.0/sql/statements", &body);
    assert_eq!(
        (s, r["error_code"].as_str()),
        (404, Some("RESOURCE_DOES_NOT_EXIST")),
        "{r}"
    );
    assert_eq!(
        delete(&w, "bob-token", &format!("/api/2.0/sql/sessions/{sid}")).0,
        404
    );
    // refusals
    assert_eq!(
        open("", json!({"warehouse_id": DEFAULT_WAREHOUSE_ID})).0,
        401
    );
    for (body, status) in [
        (json!({}), 400),
        (json!({"warehouse_id": "nope"}), 404),
        (
            json!({"warehouse_id": DEFAULT_WAREHOUSE_ID, "session_confs": {"spark.x": "1"}}),
            400,
        ),
        (
            json!({"warehouse_id": DEFAULT_WAREHOUSE_ID, "session_confs": {"TIMEZONE": "Europe/Paris"}}),
            400,
        ),
    ] {
        assert_eq!(open(&w.token, body.clone()).0, status, "{body}");
    }
    let path = format!("/api/2.0/sql/sessions/{sid}?warehouse_id=nope");
    assert_eq!(delete(&w, &w.token.clone(), &path).0, 404);
    // close (query warehouse_id accepted); then the session is gone
    let path = format!("/api/2.0/sql/sessions/{sid}?warehouse_id={DEFAULT_WAREHOUSE_ID}");
    assert_eq!(delete(&w, &w.token.clone(), &path), (200, json!({})));
    assert_eq!(delete(&w, &w.token.clone(), &path).0, 404);
    let (s, _) = w.post("/api/2.0/sql/statements", &body);
    assert_eq!(s, 404);
    // DELETE /statements/{id} closes a statement
    let r = exec(&w, "SELECT 1 AS x", json!({}));
    let id = r["statement_id"].as_str().unwrap();
    assert_eq!(
        delete(
            &w,
            &w.token.clone(),
            &format!("/api/2.0/sql/statements/{id}")
        ),
        (200, json!({}))
    );
    assert_eq!(
        w.get(&format!("/api/2.0/sql/statements/{id}")).1["status"]["state"],
        "CLOSED"
    );
    assert_eq!(
        w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/0"))
            .0,
        404
    );
}

const TYPED: &str = "CREATE TABLE main.default.ty (id BIGINT, amount DECIMAL(38,18), ts TIMESTAMP, ntz TIMESTAMP_NTZ, b BINARY, d DATE, s STRING, ok BOOLEAN, f DOUBLE, i INT, sm SMALLINT, ti TINYINT, fl FLOAT, arr ARRAY<INT>, m MAP<STRING, INT>, st STRUCT<x: INT, y: STRING>)";

fn make_typed(w: &W) {
    for sql in [
        TYPED,
        "INSERT INTO main.default.ty (id, amount, ts, ntz, b, d, s, ok, f, i, sm, ti, fl) VALUES (1, 0, TIMESTAMP '2024-02-29 23:59:59.123456', CAST('2024-02-29 23:59:59.123456' AS TIMESTAMP_NTZ), X'00FF10', DATE '2024-02-29', 'h\u{e9}llo', true, 1.5, 7, 8, 9, 2.5)",
        "INSERT INTO main.default.ty (id) VALUES (2)",
    ] {
        assert_eq!(w.run(sql)["status"]["state"], "SUCCEEDED", "{sql}");
    }
    let r = w.run_p(
        "INSERT INTO main.default.ty (id, amount, arr, m, st) SELECT c0, c1, c2, c3, c4 FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<c0: BIGINT, c1: DECIMAL(38,18), c2: ARRAY<INT>, c3: MAP<STRING, INT>, c4: STRUCT<x: INT, y: STRING>>>', map('mode', 'FAILFAST')))) AS s",
        json!([{"name": "rows", "type": "STRING", "value": r#"[{"c0": 3, "c1": 12345678901234567890.123456789012345678, "c2": [1, null, 3], "c3": {"a": 1}, "c4": {"x": 5, "y": "z"}}]"#}]),
    );
    assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
}

#[test]
fn arrow_stream_carries_the_service_types_exactly() {
    let w = start();
    make_typed(&w);
    let r = exec(
        &w,
        "SELECT * FROM main.default.ty ORDER BY id",
        extra(ARROW_LINKS),
    );
    assert_eq!(r["manifest"]["format"], "ARROW_STREAM", "{r}");
    assert!(r["manifest"].get("result_compression").is_none(), "{r}");
    let link = &r["result"]["external_links"][0];
    let (status, body) = download(link["external_link"].as_str().unwrap());
    assert_eq!(status, 200);
    assert_eq!(link["byte_count"].as_u64(), Some(body.len() as u64));
    assert_eq!(r["manifest"]["chunks"][0]["byte_count"], link["byte_count"]);
    let b = batches(&body);
    assert_eq!(b.len(), 1, "one record batch per chunk");
    let b = &b[0];
    let types: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| format!("{}:{}", f.name(), f.data_type()))
        .collect();
    assert_eq!(
        types.join(" "),
        "id:Int64 amount:Decimal128(38, 18) ts:Timestamp(µs, \"UTC\") ntz:Timestamp(µs) b:Binary d:Date32 s:Utf8 ok:Boolean f:Float64 i:Int32 sm:Int16 ti:Int8 fl:Float32 arr:List(Int32, field: 'element') m:Map(\"key_value\": non-null Struct(\"key\": non-null Utf8, \"value\": Int32), unsorted) st:Struct(\"x\": Int32, \"y\": Utf8)"
    );
    let dec = b.column(1).as_primitive::<Decimal128Type>();
    assert_eq!(dec.value_as_string(0), "0.000000000000000000");
    assert!(dec.is_null(1));
    assert_eq!(
        dec.value_as_string(2),
        "12345678901234567890.123456789012345678"
    );
    let ts = b.column(2).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), 1_709_251_199_123_456);
    assert_eq!(
        b.column(3)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_709_251_199_123_456
    );
    assert_eq!(b.column(4).as_binary::<i32>().value(0), [0x00, 0xff, 0x10]);
    assert_eq!(b.column(6).as_string::<i32>().value(0), "h\u{e9}llo");
    let arr = b.column(13).as_list::<i32>().value(2);
    assert_eq!(
        format!(
            "{:?}",
            arr.as_primitive::<deltalake::arrow::datatypes::Int32Type>()
                .iter()
                .collect::<Vec<_>>()
        ),
        "[Some(1), None, Some(3)]"
    );
    assert!(
        (4..16).all(|c| b.column(c).is_null(1)),
        "row 2 is NULL but its id"
    );
    // the manifest names the same types as for JSON_ARRAY
    let j = w.run("SELECT * FROM main.default.ty ORDER BY id");
    assert_eq!(j["manifest"]["schema"], r["manifest"]["schema"]);
}

#[test]
fn attachments_links_and_lz4_frames() {
    let w = start_with(|c| c.chunk_rows(4).attachment_limit(4096));
    let hybrid = extra(
        r#"{"disposition": "INLINE_OR_EXTERNAL_LINKS", "format": "ARROW_STREAM", "result_compression": "LZ4_FRAME"}"#,
    );
    // small: inline attachment, one LZ4 frame around one Arrow stream
    let r = exec(&w, "SELECT id FROM range(3) ORDER BY id", hybrid.clone());
    let m = &r["manifest"];
    assert_eq!(
        (
            m["result_compression"].as_str(),
            m["total_chunk_count"].as_u64(),
            m["total_row_count"].as_u64()
        ),
        (Some("LZ4_FRAME"), Some(1), Some(3)),
        "{r}"
    );
    let res = &r["result"];
    assert!(
        res.get("external_links").is_none() && res.get("data_array").is_none(),
        "{r}"
    );
    assert_eq!(
        (
            res["chunk_index"].as_u64(),
            res["row_offset"].as_u64(),
            res["row_count"].as_u64()
        ),
        (Some(0), Some(0), Some(3))
    );
    let raw = base64::engine::general_purpose::STANDARD
        .decode(res["attachment"].as_str().unwrap())
        .unwrap();
    let stream = unlz4(&raw);
    assert_eq!(
        res["byte_count"].as_u64(),
        Some(stream.len() as u64),
        "byte_count is the uncompressed size"
    );
    assert_eq!(m["total_byte_count"], res["byte_count"]);
    let b = batches(&stream);
    assert_eq!(
        b[0].column(0).as_primitive::<Int64Type>().values().to_vec(),
        vec![0, 1, 2]
    );
    // no rows: still an attachment, whose stream carries the schema
    let r = exec(&w, "SELECT id FROM range(3) WHERE id > 5", hybrid.clone());
    let raw = base64::engine::general_purpose::STANDARD
        .decode(r["result"]["attachment"].as_str().unwrap())
        .unwrap();
    let stream = unlz4(&raw);
    let reader = StreamReader::try_new(std::io::Cursor::new(&stream), None).unwrap();
    assert_eq!(reader.schema().field(0).name(), "id");
    assert_eq!(
        (
            r["result"]["row_count"].as_u64(),
            r["manifest"]["total_row_count"].as_u64()
        ),
        (Some(0), Some(0))
    );
    // more than one chunk (or over attachment_limit): links; the first answer has one link, a
    // chunk request a batch from there, each link one LZ4 frame of that chunk's stream
    let r = exec(&w, "SELECT id FROM range(10) ORDER BY id", hybrid.clone());
    assert_eq!(r["manifest"]["total_chunk_count"], 3, "{r}");
    let first = r["result"]["external_links"].as_array().unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["next_chunk_index"], 1);
    let id = r["statement_id"].as_str().unwrap();
    let (_, more) = w.get(&format!(
        "/api/2.0/sql/statements/{id}/result/chunks/1?row_offset=4"
    ));
    let more = more["external_links"].as_array().unwrap().clone();
    assert_eq!(
        more.iter()
            .map(|l| l["chunk_index"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(more[1].get("next_chunk_index").is_none());
    let mut ids = Vec::new();
    for (k, l) in first.iter().chain(more.iter()).enumerate() {
        let (s, body) = download(l["external_link"].as_str().unwrap());
        assert_eq!(s, 200);
        let stream = unlz4(&body);
        assert_eq!(l["byte_count"].as_u64(), Some(stream.len() as u64));
        assert_eq!(r["manifest"]["chunks"][k]["byte_count"], l["byte_count"]);
        let b = batches(&stream);
        assert_eq!(rows(&b) as u64, l["row_count"].as_u64().unwrap());
        assert_eq!(ids.len() as u64, l["row_offset"].as_u64().unwrap());
        ids.extend(
            b.iter()
                .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()),
        );
    }
    assert_eq!(ids, (0..10).collect::<Vec<i64>>());
    let w2 = start_with(|c| c.attachment_limit(16));
    let r = exec(&w2, "SELECT id FROM range(3)", hybrid);
    assert!(
        r["result"]["external_links"].is_array() && r["result"].get("attachment").is_none(),
        "{r}"
    );
    // JSON_ARRAY external links are unchanged: one link per answer, JSON body, no compression
    let r = exec(
        &w,
        "SELECT id FROM range(10) ORDER BY id",
        extra(r#"{"disposition": "EXTERNAL_LINKS", "result_compression": "LZ4_FRAME"}"#),
    );
    assert!(r["manifest"].get("result_compression").is_none(), "{r}");
    let id = r["statement_id"].as_str().unwrap();
    let (_, c1) = w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/1"));
    assert_eq!(c1["external_links"].as_array().unwrap().len(), 1);
    let (_, body) = download(c1["external_links"][0]["external_link"].as_str().unwrap());
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!([["4"], ["5"], ["6"], ["7"]])
    );
    // refusals
    for bad in [
        r#"{"disposition": "INLINE", "format": "ARROW_STREAM"}"#,
        r#"{"disposition": "INLINE_OR_EXTERNAL_LINKS", "format": "JSON_ARRAY"}"#,
        r#"{"disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM", "result_compression": "GZIP"}"#,
    ] {
        let mut body = extra(bad);
        body["warehouse_id"] = json!(DEFAULT_WAREHOUSE_ID);
        body["statement"] = json!("SELECT 1");
        let (s, r) = w.post("/api/2.0/sql/statements", &body);
        assert_eq!(
            (s, r["error_code"].as_str()),
            (400, Some("INVALID_PARAMETER_VALUE")),
            "{bad}"
        );
    }
}

#[test]
fn an_expired_link_is_refused_like_storage_and_the_chunk_endpoint_refreshes_it() {
    let w = start_with(|c| {
        c.chunk_rows(4)
            .fault(FaultRule::new(Endpoint::ExternalLink, FaultKind::ExpiredLinks).times(1))
    });
    let r = exec(
        &w,
        "SELECT id FROM range(10) ORDER BY id",
        extra(
            r#"{"disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM", "result_compression": "LZ4_FRAME"}"#,
        ),
    );
    let link = &r["result"]["external_links"][0];
    let expiration =
        chrono::DateTime::parse_from_rfc3339(link["expiration"].as_str().unwrap()).unwrap();
    assert!(expiration < chrono::Utc::now());
    let (s, body) = download(link["external_link"].as_str().unwrap());
    let body = String::from_utf8(body).unwrap();
    assert_eq!(s, 403);
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("expired"),
        "{body}"
    );
    let id = r["statement_id"].as_str().unwrap();
    let (_, c0) = w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/0"));
    let (s, body) = download(c0["external_links"][0]["external_link"].as_str().unwrap());
    assert_eq!(s, 200);
    assert_eq!(rows(&batches(&unlz4(&body))), 4);
}

/// Bytes and time of one 300 000-row result, JSON_ARRAY vs ARROW_STREAM (+LZ4_FRAME), both
/// through external links; prints the numbers (`cargo test ... -- --nocapture`).
#[test]
fn arrow_lz4_is_smaller_than_json_for_the_same_result() {
    let w = start();
    make_big(&w);
    let sql = "SELECT id, amount FROM main.default.big ORDER BY id";
    let fetch_all = |r: &Value| -> (usize, usize) {
        let id = r["statement_id"].as_str().unwrap();
        let n = r["manifest"]["total_chunk_count"].as_u64().unwrap() as usize;
        let mut served = 0;
        for k in 0..n {
            let (_, c) = w.get(&format!("/api/2.0/sql/statements/{id}/result/chunks/{k}"));
            let (s, body) = download(c["external_links"][0]["external_link"].as_str().unwrap());
            assert_eq!(s, 200);
            served += body.len();
        }
        (n, served)
    };
    let t = Instant::now();
    let json = exec(
        &w,
        sql,
        extra(r#"{"disposition": "EXTERNAL_LINKS", "format": "JSON_ARRAY"}"#),
    );
    let (jn, json_bytes) = fetch_all(&json);
    let json_time = t.elapsed();
    let t = Instant::now();
    let arrow = exec(
        &w,
        sql,
        extra(
            r#"{"disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM", "result_compression": "LZ4_FRAME"}"#,
        ),
    );
    let (an, lz4_bytes) = fetch_all(&arrow);
    let arrow_time = t.elapsed();
    let arrow_bytes = arrow["manifest"]["total_byte_count"].as_u64().unwrap() as usize;
    assert_eq!((jn, an), (3, 3));
    assert_eq!(
        json["manifest"]["total_byte_count"].as_u64(),
        Some(json_bytes as u64)
    );
    println!(
        "MEASURE 300k rows (id BIGINT, amount DECIMAL(18,2)): JSON_ARRAY {json_bytes} bytes in {json_time:?}; ARROW_STREAM {arrow_bytes} bytes, LZ4_FRAME {lz4_bytes} bytes served in {arrow_time:?}"
    );
    // Uncompressed Arrow is not smaller here (a DECIMAL is 16 bytes, its JSON text ~9).
    assert!(lz4_bytes < json_bytes && lz4_bytes < arrow_bytes);
}
