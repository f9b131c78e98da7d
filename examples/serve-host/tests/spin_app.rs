//! The Spin example, composed with the connector, served by `serve-host`, driven over real HTTP
//! against the local warehouse. Needs the connector component (`OPENMATCH_CONNECTOR_WASM`, or
//! the bundle `connector-host` builds) and the app (`build.rs` builds it).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use serve_host::{Host, ServeOptions, compose};

fn connector_wasm() -> PathBuf {
    if let Some(p) = std::env::var_os("OPENMATCH_CONNECTOR_WASM").filter(|p| !p.is_empty()) {
        return p.into();
    }
    let bundled = PathBuf::from(connector_host::BUNDLED_WASM);
    if bundled.exists() {
        return bundled;
    }
    let file = Path::new("wasm32-wasip2/guest/openmatch_databricks.wasm");
    let mut candidates = Vec::new();
    if let Some(target) = std::env::current_exe().ok().and_then(|e| {
        e.ancestors()
            .find(|p| p.join("CACHEDIR.TAG").exists())
            .map(Path::to_path_buf)
    }) {
        candidates.push(target.join("guest-wasm").join(file));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(
            PathBuf::from(home)
                .join(".cache/openmatch/guest-target")
                .join(file),
        );
    }
    candidates
        .into_iter()
        .filter(|p| p.exists())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .expect("no connector component: build it (`cargo build -p connector-host` bundles one) or set OPENMATCH_CONNECTOR_WASM")
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("serve-host-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs one statement straight against the warehouse (setup only; the app has no DDL route).
async fn sql(client: &reqwest::Client, base: &str, statement: &str) {
    let resp = client
        .post(format!("{base}/api/2.0/sql/statements"))
        .bearer_auth(warehouse::DEFAULT_TOKEN)
        .json(
            &json!({"warehouse_id": warehouse::DEFAULT_WAREHOUSE_ID, "statement": statement,
                      "catalog": "main", "schema": "default", "wait_timeout": "30s"}),
        )
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"]["state"], "SUCCEEDED", "{statement}: {body}");
}

fn env(base: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = vec![
        ("DATABRICKS_HOST".to_string(), base.to_string()),
        (
            "DATABRICKS_HTTP_PATH".to_string(),
            format!("/sql/1.0/warehouses/{}", warehouse::DEFAULT_WAREHOUSE_ID),
        ),
        (
            "DATABRICKS_TOKEN".to_string(),
            warehouse::DEFAULT_TOKEN.to_string(),
        ),
        ("DATABRICKS_CATALOG".to_string(), "main".to_string()),
        ("DATABRICKS_SCHEMA".to_string(), "default".to_string()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_app_serves_customers_through_the_connector() {
    let app = PathBuf::from(env!("SPIN_APP_WASM"));
    assert!(
        app.exists(),
        "{} is missing: examples/spin-app did not build (see the build warnings)",
        app.display()
    );
    let composed = compose(&app, &connector_wasm()).expect("composition succeeds");
    let host = Host::new(&composed).expect("the composed component compiles and links");

    let data = temp_dir("data");
    let wh = warehouse::spawn(warehouse::Config::new(&data))
        .await
        .unwrap();
    let authority = wh.url.trim_start_matches("http://").to_string();
    let client = reqwest::Client::new();
    sql(
        &client,
        &wh.url,
        "CREATE TABLE customers (id BIGINT, name STRING, region STRING, balance DOUBLE)",
    )
    .await;

    let options = ServeOptions {
        env: env(&wh.url, &[]),
        allow: vec![authority.clone()],
        log: false,
    };
    let server = host
        .serve("127.0.0.1:0".parse().unwrap(), options.clone())
        .await
        .unwrap();
    let url = format!("{}/customers", server.url);

    // POST one object and an array: 201 with the server's count.
    let resp = client
        .post(&url)
        .json(&json!({"id": 1, "name": "Ada Lovelace", "region": "WEST", "balance": 1200.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"count": 1}));
    let resp = client
        .post(&url)
        .json(&json!([
            {"id": 2, "name": "Alan Turing", "region": "WEST", "balance": 310.25},
            {"id": 3, "name": "Grace Hopper", "region": "EAST", "balance": null},
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"count": 2}));

    // GET with a region: the %(region)s parameter filters server-side.
    let resp = client
        .get(format!("{url}?region=WEST"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!([
            {"id": 1, "name": "Ada Lovelace", "region": "WEST", "balance": 1200.5},
            {"id": 2, "name": "Alan Turing", "region": "WEST", "balance": 310.25},
        ])
    );
    let all: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(
        all[2],
        json!({"id": 3, "name": "Grace Hopper", "region": "EAST", "balance": null})
    );
    let none: Value = client
        .get(format!("{url}?region=NOWHERE"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]));

    // Bad input is the caller's fault: 400 before anything reaches the warehouse.
    let resp = client.post(&url).body("not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // A column the table lacks: the connector refuses the write (invalid-input, before any batch
    // is sent); the app maps the typed error.
    let resp = client
        .post(&url)
        .json(&json!({"id": 9, "nickname": "x"}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert!(
        matches!(status, 400 | 404),
        "unknown column → syntax/not-found, got {status} {body}"
    );
    let resp = client.put(&url).send().await.unwrap();
    assert_eq!(resp.status(), 405);

    // The same reads through ARROW_STREAM (INLINE_OR_EXTERNAL_LINKS, LZ4_FRAME): the same JSON.
    let arrow = ServeOptions {
        env: env(&wh.url, &[("DATABRICKS_RESULT_FORMAT", "arrow")]),
        ..options.clone()
    };
    let server_arrow = host
        .serve("127.0.0.1:0".parse().unwrap(), arrow)
        .await
        .unwrap();
    let via_arrow: Value = client
        .get(format!("{}/customers", server_arrow.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_arrow, all, "Arrow and JSON reads agree");
    drop(server_arrow);

    // A missing table → the connector's not-found → 404 with the SQLSTATE.
    let missing = ServeOptions {
        env: env(&wh.url, &[("CUSTOMERS_TABLE", "no_such_table")]),
        ..options.clone()
    };
    let server2 = host
        .serve("127.0.0.1:0".parse().unwrap(), missing)
        .await
        .unwrap();
    let resp = client
        .get(format!("{}/customers", server2.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "not-found");
    assert_eq!(body["sql_state"], "42P01");

    // The warehouse is not on the allow-list → the host denies the request → 503 connection.
    let denied = ServeOptions {
        allow: vec![],
        ..options.clone()
    };
    let server3 = host
        .serve("127.0.0.1:0".parse().unwrap(), denied)
        .await
        .unwrap();
    let resp = client
        .get(format!("{}/customers", server3.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "connection");
    assert!(
        !body.to_string().contains(warehouse::DEFAULT_TOKEN),
        "no token in errors"
    );

    drop((server, server2, server3));
    wh.shutdown();
    let _ = std::fs::remove_dir_all(&data);
}
