//! Test helpers: a warehouse on a background runtime plus a blocking HTTP client.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use warehouse::{Background, Config, DEFAULT_TOKEN, Principal};

pub struct W {
    pub bg: Background,
    pub http: reqwest::blocking::Client,
    pub dir: PathBuf,
    pub token: String,
}

pub fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("wh-test-{}", uuid_like()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}-{}-{}",
        std::process::id(),
        t,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A principal whose token is `<name>-token`.
pub fn user(name: &str) -> Principal {
    Principal::new(name).token(format!("{name}-token"))
}

pub fn start() -> W {
    start_with(|c| c)
}

pub fn start_with(f: impl FnOnce(Config) -> Config) -> W {
    start_in(temp_dir(), f)
}

pub fn start_in(dir: PathBuf, f: impl FnOnce(Config) -> Config) -> W {
    let cfg = f(Config::new(&dir));
    let bg = warehouse::spawn_background(cfg).unwrap();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    W {
        bg,
        http,
        dir,
        token: DEFAULT_TOKEN.to_string(),
    }
}

impl W {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.bg.url(), path)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_as(&self.token, path, body)
    }

    pub fn post_as(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap();
        let s = r.status().as_u16();
        let text = r.text().unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(&self.token, path)
    }

    pub fn get_as(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .unwrap();
        let s = r.status().as_u16();
        let text = r.text().unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Submits with wait_timeout 0s and polls to a terminal state.
    pub fn run_as(&self, token: &str, sql: &str, params: Value, extra: Value) -> Value {
        let mut body = json!({"statement": sql, "warehouse_id": warehouse::DEFAULT_WAREHOUSE_ID, "parameters": params, "wait_timeout": "10s"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (s, mut r) = self.post_as(token, "/api/2.0/sql/statements", &body);
        assert_eq!(s, 200, "{r}");
        let id = r["statement_id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(120);
        while matches!(
            r["status"]["state"].as_str(),
            Some("PENDING") | Some("RUNNING")
        ) {
            assert!(Instant::now() < deadline, "statement did not finish: {r}");
            std::thread::sleep(Duration::from_millis(20));
            let (s, r2) = self.get_as(token, &format!("/api/2.0/sql/statements/{id}"));
            assert_eq!(s, 200, "{r2}");
            r = r2;
        }
        r
    }

    pub fn run(&self, sql: &str) -> Value {
        self.run_as(&self.token.clone(), sql, json!([]), json!({}))
    }

    pub fn run_p(&self, sql: &str, params: Value) -> Value {
        self.run_as(&self.token.clone(), sql, params, json!({}))
    }

    /// Runs and asserts SUCCEEDED; returns all rows across chunks.
    pub fn rows_p(&self, sql: &str, params: Value) -> Vec<Vec<Value>> {
        let r = self.run_p(sql, params);
        self.all_rows(&r)
    }

    pub fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        self.rows_p(sql, json!([]))
    }

    pub fn all_rows(&self, r: &Value) -> Vec<Vec<Value>> {
        assert_eq!(r["status"]["state"], "SUCCEEDED", "{r}");
        let mut out: Vec<Vec<Value>> = Vec::new();
        let mut res = r["result"].clone();
        loop {
            if let Some(a) = res["data_array"].as_array() {
                for row in a {
                    out.push(row.as_array().unwrap().clone());
                }
            }
            match res["next_chunk_internal_link"].as_str() {
                Some(link) => {
                    let (s, next) = self.get(link);
                    assert_eq!(s, 200, "{next}");
                    res = next;
                }
                None => break,
            }
        }
        out
    }

    /// Runs and asserts FAILED; returns (sql_state, message).
    pub fn fails(&self, sql: &str) -> (String, String) {
        self.fails_as(&self.token.clone(), sql, json!([]))
    }

    pub fn fails_as(&self, token: &str, sql: &str, params: Value) -> (String, String) {
        let r = self.run_as(token, sql, params, json!({}));
        assert_eq!(r["status"]["state"], "FAILED", "{r}");
        assert!(r["status"]["error"]["error_code"].as_str().is_some(), "{r}");
        (
            r["status"]["sql_state"].as_str().unwrap_or("").to_string(),
            r["status"]["error"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    }
}

/// One property (`name`, `type_name`, ...) of every column of a response's manifest.
pub fn manifest_columns<'a>(r: &'a Value, property: &str) -> Vec<&'a str> {
    r["manifest"]["schema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[property].as_str().unwrap())
        .collect()
}

pub fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// Start the `warehouse` binary with `serve --listen 127.0.0.1:0 --data <data> <args…>` and
/// return the child with the URL from its `listening on <url>` line.
pub fn serve_bin<I, S>(data: &std::path::Path, args: I) -> (std::process::Child, String, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warehouse"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    (child, url, line)
}
