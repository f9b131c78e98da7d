//! Listings show a principal only what its grants reach.

use serde_json::{Value, json};
use warehouse::Privilege;

use crate::common::{W, start_with, user};

fn list(w: &W, token: &str, sql: &str) -> Vec<String> {
    let r = w.run_as(token, sql, json!([]), json!({}));
    w.all_rows(&r)
        .into_iter()
        .map(|row| match &row[0] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        })
        .collect()
}

#[test]
fn show_schemas_and_catalogs_follow_grants() {
    let w = start_with(|c| {
        c.principal(user("reader").grant(Privilege::Select, "main.default"))
            .principal(user("tabler").grant(Privilege::Select, "main.sales.orders"))
            .principal(user("cataloger").grant(Privilege::All, "other"))
    });
    for sql in [
        "CREATE SCHEMA main.secret",
        "CREATE SCHEMA main.sales",
        "CREATE TABLE main.sales.orders (i INT)",
        "CREATE CATALOG other",
        "CREATE SCHEMA other.hidden",
    ] {
        let r = w.run(sql);
        assert_eq!(r["status"]["state"], "SUCCEEDED", "{sql}: {r}");
    }
    let admin = w.token.clone();
    assert_eq!(
        list(&w, &admin, "SHOW SCHEMAS"),
        vec!["default", "sales", "secret"]
    );
    assert_eq!(list(&w, &admin, "SHOW CATALOGS"), vec!["main", "other"]);

    assert_eq!(list(&w, "reader-token", "SHOW SCHEMAS"), vec!["default"]);
    assert_eq!(
        list(&w, "reader-token", "SHOW SCHEMAS IN main"),
        vec!["default"]
    );
    assert!(list(&w, "reader-token", "SHOW SCHEMAS IN other").is_empty());
    assert_eq!(list(&w, "reader-token", "SHOW CATALOGS"), vec!["main"]);

    // a grant on one table shows its schema and catalog
    assert_eq!(list(&w, "tabler-token", "SHOW SCHEMAS"), vec!["sales"]);
    assert_eq!(list(&w, "tabler-token", "SHOW CATALOGS"), vec!["main"]);

    // a grant on a catalog shows all of it
    assert_eq!(
        list(&w, "cataloger-token", "SHOW SCHEMAS IN other"),
        vec!["default", "hidden"]
    );
    assert!(list(&w, "cataloger-token", "SHOW SCHEMAS IN main").is_empty());
    assert_eq!(list(&w, "cataloger-token", "SHOW CATALOGS"), vec!["other"]);
}
