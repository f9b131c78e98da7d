//! databricks-sql-kernel and databricks-sql-connector (`use_sea=True`), unmodified, against a
//! spawned warehouse: `sea_clients.py` prints one line per fact, compared here exactly.
//! Skipped (with a printed SKIP) unless `OPENMATCH_CLIENTS_PYTHON` names a python with both
//! installed; `OPENMATCH_REQUIRE_CLIENTS=1` (set by .ci/run) turns the skip into a failure.

use std::process::Command;

use warehouse::{DEFAULT_TOKEN, DEFAULT_WAREHOUSE_ID, Endpoint, FaultKind, FaultRule};

use super::make_big;
use crate::common::{W, start_with};

fn python() -> Option<String> {
    match std::env::var("OPENMATCH_CLIENTS_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var("OPENMATCH_REQUIRE_CLIENTS").as_deref() == Ok("1") => panic!(
            "OPENMATCH_REQUIRE_CLIENTS=1 but OPENMATCH_CLIENTS_PYTHON is not set (run warehouse/scripts/clients-venv.sh)"
        ),
        _ => None,
    }
}

/// Runs `sea_clients.py <mode>`; returns its stdout lines (stderr goes to the test output).
fn run(python: &str, w: &W, mode: &str, schema: &str) -> Vec<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/sea_clients.py");
    let out = Command::new(python)
        .arg(script)
        .arg(mode)
        .env("WH_HOST", w.bg.url())
        .env("WH_TOKEN", DEFAULT_TOKEN)
        .env("WH_ID", DEFAULT_WAREHOUSE_ID)
        .env("WH_SCHEMA", schema)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines().filter(|l| l.starts_with("TIMING")) {
        println!("{line}");
    }
    assert!(out.status.success(), "{mode} failed:\n{stdout}\n{stderr}");
    stdout.lines().map(str::to_string).collect()
}

const SCHEMA_LINE: &str = "schema id:int64 amount:decimal128(38, 18) ts:timestamp[us, tz=UTC] ntz:timestamp[us] b:binary d:date32[day] s:string ok:bool f:double arr:list<element: int32> m:map<string, int32> st:struct<x: int32, y: string>";
const ROW1: &str = "row id=1 amount=D0.000000000000000000 ts=TS2024-02-29T23:59:59.123456+00:00 ntz=NTZ2024-02-29T23:59:59.123456 b=0x00ff10 d=DATE2024-02-29 s='h\u{e9}llo' ok=true f=1.5 arr=NULL m=NULL st=NULL";
const ROW2: &str = "row id=2 amount=D12345678901234567890.123456789012345678 ts=TS2024-02-29T23:59:59.123456+00:00 ntz=NTZ2024-02-29T23:59:59.123456 b=0x00ff10 d=DATE2024-02-29 s=\"x'y\" ok=false f=-2.25 arr=NULL m=NULL st=NULL";
const ROW3: &str = "row id=3 amount=NULL ts=NULL ntz=NULL b=NULL d=NULL s=NULL ok=NULL f=NULL arr=NULL m=NULL st=NULL";
const ROW4: &str = "row id=4 amount=D-0.000000000000000001 ts=NULL ntz=NULL b=NULL d=NULL s=NULL ok=NULL f=NULL arr=[1,NULL,3] m={a:1} st={x:5,y:'z'}";
const BIG: &str = "big rows=300000 sum_id=44999850000 sum_amount=449998500.00";

#[test]
fn databricks_sql_kernel_and_connector_unmodified() {
    let Some(python) = python() else {
        println!(
            "SKIP databricks_sql_kernel_and_connector_unmodified: OPENMATCH_CLIENTS_PYTHON is not set (run warehouse/scripts/clients-venv.sh)"
        );
        return;
    };
    let w = start_with(|c| c.chunk_rows(100_000));
    make_big(&w);
    let common = [SCHEMA_LINE, ROW1, ROW2, ROW3, ROW4, BIG];
    for (mode, schema) in [("kernel", "sea_kernel"), ("connector", "sea_connector")] {
        let r = w.run(&format!("CREATE SCHEMA main.{schema}"));
        assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
        let lines = run(&python, &w, mode, schema);
        let mut expected: Vec<String> = vec!["inserted 1".into()];
        expected.extend(common.iter().map(|s| s.to_string()));
        if mode == "connector" {
            // DB-API rows pass through the connector's pandas conversion, which turns an
            // int32 list with a NULL into floats and NaN (its behaviour, on correct Arrow).
            expected.insert(6, "dbapi 1 D0.000000000000000000 TS2024-02-29T23:59:59.123456+00:00 NTZ2024-02-29T23:59:59.123456 0x00ff10 DATE2024-02-29 'h\u{e9}llo' true 1.5 NULL NULL NULL | 2 D12345678901234567890.123456789012345678 TS2024-02-29T23:59:59.123456+00:00 NTZ2024-02-29T23:59:59.123456 0x00ff10 DATE2024-02-29 \"x'y\" false -2.25 NULL NULL NULL | 4 D-0.000000000000000001 NULL NULL NULL NULL NULL NULL NULL [1.0,nan,3.0] {a:1} {x:5.0,y:'z'}".into());
            expected.insert(7, "big-path SeaCloudFetchQueue lz4=True".into());
            expected.push("hybrid-path ArrowQueue lz4=True".into());
            expected.push(
                "hybrid 1 D0.000000000000000000 2 D12345678901234567890.123456789012345678".into(),
            );
        }
        expected.push("DONE".into());
        assert_eq!(lines, expected, "{mode}");
        // the session's schema was used for the unqualified `t`
        assert_eq!(
            w.rows(&format!("SELECT count(*) FROM main.{schema}.t")),
            vec![vec![serde_json::json!("4")]]
        );
    }
    // The first link issued is already expired: the kernel refreshes it through the chunk
    // endpoint.
    let w = start_with(|c| {
        c.chunk_rows(300)
            .fault(FaultRule::new(Endpoint::ExternalLink, FaultKind::ExpiredLinks).times(1))
    });
    let lines = run(&python, &w, "kernel-expired-link", "default");
    assert_eq!(lines, ["expired-link rows=1000 sum=499500", "DONE"]);
}
