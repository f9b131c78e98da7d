//! Injection test: hostile table names, column names (record keys) and values — quotes,
//! backticks, `;`, `--`, `/* */`, unicode, `%(x)s` inside values — go through write, update,
//! delete and read of the real component against the local warehouse. Values come back
//! byte-exact, identifiers are either rejected with `invalid-input` or quoted and inert, and a
//! bystander table is never touched.

use connector_host::{ErrorKind, Param, Row, Value};
use openmatch_e2e::{ADMIN_TOKEN, Env};

/// Backtick-quote one identifier (for the test's own DDL).
fn q(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

const VALUES: &[&str] = &[
    "plain",
    "it's",
    "'); DROP TABLE victim; --",
    "\"double\" and `back`ticks``",
    "a; b; c;",
    "-- comment",
    "/* block */ */ /*",
    "%(x)s and %(v)s and %% and %",
    ":rows :name ?",
    "名前 😀 é\u{301} \u{202e}rtl",
    "line\nbreak\ttab\r\n",
    "nul\u{0}inside",
    "\\ backslash \\' \\\"",
    "",
    "   ",
    "unhex(:x)",
    "${jndi:ldap://x}",
];

/// Hostile but valid table names (created by the test with proper quoting) and how the caller
/// names them to the connector. Unity Catalog names may not contain spaces, periods, slashes or
/// control characters (the warehouse refuses them like the service), so the statements hidden
/// in these names use `_` where SQL would need a space: what matters is that `;`, `--`, quotes,
/// backticks, parentheses and `%(x)s` stay inert.
fn tables() -> Vec<(&'static str, String)> {
    vec![
        ("inj;DROP_TABLE_victim;--", "inj;DROP_TABLE_victim;--".to_string()),
        ("we'ird\"n\"ame名前%(x)s", format!("main.default.{}", q("we'ird\"n\"ame名前%(x)s"))),
        // A backtick inside the name: the connector doubles it, so the `;` stays inside.
        ("tick`name;DROP_TABLE_victim;--", q("tick`name;DROP_TABLE_victim;--")),
        ("x)AS_s;DELETE_FROM_victim;--", format!("{}.{}", q("default"), "x)AS_s;DELETE_FROM_victim;--")),
    ]
}

/// Hostile column names.
const COLUMNS: &[&str] = &["na`me", "b``q`", "x; DROP TABLE victim; --", "a) VALUES (1); --", "名前 %(x)s", "c'q\"d", "-- c"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_values_are_inert() {
    let env = Env::start().await;
    let mut tenant = env.tenant().await;
    let mut c = tenant.connect(&env.config(ADMIN_TOKEN)).await.expect("connect");

    c.execute("CREATE TABLE victim (id BIGINT, v STRING)", &[]).await.expect("victim");
    let victim: Vec<Row> = (1..=3i64).map(|i| Row::new().with("id", i).with("v", format!("keep {i}"))).collect();
    assert_eq!(c.write_records(&victim, "victim").await.expect("victim rows"), 3);

    // A name Unity Catalog forbids (a period inside) is refused with a typed error, not created.
    let e = c.execute(&format!("CREATE TABLE {} (id BIGINT)", q("dot.in.name")), &[]).await.expect_err("dot in name");
    assert!(e.to_string().contains("42602") || e.info().sql_state.as_deref() == Some("42602"), "{e}");

    // Values: every hostile text round-trips byte-exact through write, read and parameters.
    let mut report = Vec::new();
    for (name, target) in tables() {
        c.execute(&format!("CREATE TABLE {} (id BIGINT, v STRING)", q(name)), &[])
            .await
            .unwrap_or_else(|e| panic!("create {name:?}: {e}"));
        let recs: Vec<Row> =
            VALUES.iter().enumerate().map(|(i, v)| Row::new().with("id", i as i64).with("v", *v)).collect();
        let n = c.write_records(&recs, &target).await.unwrap_or_else(|e| panic!("write {target:?}: {e}"));
        assert_eq!(n, VALUES.len() as u64, "{target}");
        let rows = c
            .read_records(&format!("SELECT id, v FROM {} ORDER BY id", q(name)), &[])
            .await
            .unwrap_or_else(|e| panic!("read {name:?}: {e}"));
        assert_eq!(rows.len(), VALUES.len());
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.get("v"), Some(&Value::Text(VALUES[i].to_string())), "{name:?} row {i}");
        }
        // Each value as a parameter finds exactly its row.
        for (i, v) in VALUES.iter().enumerate() {
            let rows = c
                .read_records(&format!("SELECT id FROM {} WHERE v = %(v)s", q(name)), &[Param::new("v", *v)])
                .await
                .unwrap_or_else(|e| panic!("param {v:?}: {e}"));
            assert_eq!(rows.len(), 1, "{v:?}");
            assert_eq!(rows[0].get("id"), Some(&Value::BigInt(i as i64)), "{v:?}");
        }
        // Update the hostile values to other hostile values, keyed on id.
        let upd: Vec<Row> = VALUES
            .iter()
            .enumerate()
            .map(|(i, _)| Row::new().with("id", i as i64).with("v", VALUES[(i + 1) % VALUES.len()]))
            .collect();
        assert_eq!(c.update_records(&upd, &target, &["id".to_string()]).await.expect("update"), VALUES.len() as u64);
        // Delete by the (hostile) value column as key: half the rows.
        let gone: Vec<Value> = (0..VALUES.len()).step_by(2).map(|i| Value::Text(VALUES[(i + 1) % VALUES.len()].into())).collect();
        let n = c.delete_records(&gone, &target, Some("v")).await.expect("delete by value");
        assert_eq!(n, gone.len() as u64, "{target}");
        let rows = c.read_records(&format!("SELECT id, v FROM {} ORDER BY id", q(name)), &[]).await.expect("read");
        let want: Vec<(i64, String)> =
            (1..VALUES.len()).step_by(2).map(|i| (i as i64, VALUES[(i + 1) % VALUES.len()].to_string())).collect();
        let got: Vec<(i64, String)> = rows
            .iter()
            .map(|r| match (r.get("id"), r.get("v")) {
                (Some(Value::BigInt(i)), Some(Value::Text(v))) => (*i, v.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, want, "{name:?}");
        report.push(format!("{target:?}: ok"));
    }

    // Columns: hostile record keys, quoted by the connector, name real (hostile) columns.
    let cols: Vec<String> = COLUMNS.iter().map(|c| format!("{} STRING", q(c))).collect();
    c.execute(&format!("CREATE TABLE cols (id BIGINT, {})", cols.join(", ")), &[]).await.expect("cols table");
    let recs: Vec<Row> = (0..4i64)
        .map(|i| {
            let mut r = Row::new().with("id", i);
            for (j, col) in COLUMNS.iter().enumerate() {
                r.push(*col, VALUES[(i as usize + j) % VALUES.len()]);
            }
            r
        })
        .collect();
    assert_eq!(c.write_records(&recs, "cols").await.expect("write hostile columns"), 4);
    // Update keyed on a hostile column.
    let key = COLUMNS[1].to_string();
    let upd: Vec<Row> = (0..4i64)
        .map(|i| Row::new().with(key.as_str(), VALUES[(i as usize + 1) % VALUES.len()]).with(COLUMNS[0], format!("updated {i}")))
        .collect();
    assert_eq!(c.update_records(&upd, "cols", std::slice::from_ref(&key)).await.expect("update on hostile key"), 4);
    let rows = c.read_records("SELECT * FROM cols ORDER BY id", &[]).await.expect("read cols");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.get(COLUMNS[0]), Some(&Value::Text(format!("updated {i}"))));
        for (j, col) in COLUMNS.iter().enumerate().skip(1) {
            assert_eq!(r.get(col), Some(&Value::Text(VALUES[(i + j) % VALUES.len()].to_string())), "column {col:?}");
        }
    }
    // Delete keyed on a hostile column.
    let n = c
        .delete_records(&[Value::Text(VALUES[2].into()), Value::Text(VALUES[4].into())], "cols", Some(COLUMNS[1]))
        .await
        .expect("delete on hostile key");
    assert_eq!(n, 2);
    // A record key naming no column is a typed error, not SQL: the write's table probe finds no
    // such column and refuses it before any batch is sent.
    let e = c
        .write_records(&[Row::new().with("id", 9i64).with("nope`); DROP TABLE victim; --", "x")], "cols")
        .await
        .expect_err("unknown column");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
    assert!(e.text().contains("is not in table cols; nothing was written"), "{e:?}");

    // Identifiers the connector rejects before sending anything.
    let row = [Row::new().with("id", 1i64).with("v", "x")];
    for bad in ["a.b.c.d", "`unterminated", "bad`tick", "t\u{0}", "", "a..b", "x\ny", "`a`b`"] {
        let e = c.write_records(&row, bad).await.expect_err(bad);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "table {bad:?}: {e:?}");
        let e = c.delete_records(&[Value::BigInt(1)], bad, None).await.expect_err(bad);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "table {bad:?}: {e:?}");
    }
    for bad in ["", "a\u{0}b", "line\nbreak", &"x".repeat(256)] {
        let e = c.write_records(&[Row::new().with(bad, 1i64)], "victim").await.expect_err("bad column");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "column {bad:?}: {e:?}");
        let e = c.update_records(&row, "victim", &[bad.to_string()]).await.expect_err("bad key");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "key {bad:?}: {e:?}");
        let e = c.delete_records(&[Value::BigInt(1)], "victim", Some(bad)).await.expect_err("bad key");
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "key {bad:?}: {e:?}");
    }
    // A hostile name of a table that does not exist is inert: not found.
    let e = c.write_records(&row, "victim;DROP_TABLE_victim").await.expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
    // With spaces it is not even a valid Unity Catalog name: refused as such (42602).
    let e = c.write_records(&row, "victim; DROP TABLE victim").await.expect_err("invalid name");
    assert_eq!((e.kind(), e.sql_state()), (ErrorKind::Syntax, Some("42602")), "{e:?}");
    let e = c.delete_records(&[Value::BigInt(1)], "victim`` --", None).await.expect_err("missing");
    assert!(matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidInput), "{e:?}");

    // The bystander is untouched, and no table appeared or vanished.
    let rows = c.read_records("SELECT id, v FROM victim ORDER BY id", &[]).await.expect("victim");
    let got: Vec<(Option<&Value>, Option<&Value>)> = rows.iter().map(|r| (r.get("id"), r.get("v"))).collect();
    assert_eq!(got.len(), 3);
    for (i, (id, v)) in got.iter().enumerate() {
        assert_eq!(*id, Some(&Value::BigInt(i as i64 + 1)));
        assert_eq!(*v, Some(&Value::Text(format!("keep {}", i + 1))));
    }
    let tables = c.read_records("SHOW TABLES IN main.default", &[]).await.expect("show tables");
    let mut names: Vec<String> = tables
        .iter()
        .filter_map(|r| match r.get("tableName") {
            Some(Value::Text(t)) => Some(t.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    // Unity Catalog (and the local warehouse) store table names in lower case.
    let mut want: Vec<String> = tables_names().iter().map(|n| n.to_lowercase()).collect();
    want.sort();
    assert_eq!(names, want);
    for line in report {
        eprintln!("[injection] {line}");
    }
}

fn tables_names() -> Vec<String> {
    let mut v: Vec<String> = tables().into_iter().map(|(n, _)| n.to_string()).collect();
    v.push("victim".into());
    v.push("cols".into());
    v
}
