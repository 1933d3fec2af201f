//! Test harness: the real server on a random port, a fresh database per test, HTTP only.
//!
//! Every test runs on SQLite; with `TALER_OPENAPI_TEST_POSTGRES=postgres://...` it runs
//! again on PostgreSQL, in a schema of its own so tests can run in parallel.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use taler_openapi::{Config, RunningServer, config::Ini};

pub const ADMIN_TOKEN: &str = "secret-token:TESTADMINTOKEN0123456789";

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// The backends this run covers.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("TALER_OPENAPI_TEST_POSTGRES")
        && !url.is_empty()
    {
        v.push(Backend::Postgres(url));
    }
    v
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique name for this test's database or schema.
fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        nanos
    )
}

/// Where one test keeps its data; survives restarts of the server.
#[derive(Debug, Clone)]
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub schema: Option<String>,
}

impl TestDb {
    pub async fn new(backend: &Backend) -> TestDb {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join("taler-openapi-tests");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(format!("{name}.sqlite"));
                TestDb {
                    backend: backend.clone(),
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    schema: None,
                }
            }
            Backend::Postgres(url) => {
                use sea_orm::ConnectionTrait;
                let admin = sea_orm::Database::connect(url.as_str())
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA {name}"))
                    .await
                    .expect("create test schema");
                TestDb {
                    backend: backend.clone(),
                    url: url.clone(),
                    schema: Some(name),
                }
            }
        }
    }

    /// Removes what the test created.
    pub async fn drop(self) {
        match (&self.backend, &self.schema) {
            (Backend::Postgres(url), Some(schema)) => {
                use sea_orm::ConnectionTrait;
                if let Ok(admin) = sea_orm::Database::connect(url.as_str()).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                        .await;
                }
            }
            _ => {
                if let Some(path) = self
                    .url
                    .strip_prefix("sqlite://")
                    .and_then(|p| p.split('?').next())
                {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{path}{suffix}"));
                    }
                }
            }
        }
    }
}

/// The configuration tests use; `extra` is appended INI text.
pub fn test_config(db: &TestDb, extra: &str) -> Config {
    let text = format!(
        // Accounts may go KUDOS:1000 into debt, so transfers need no funding first.
        // The Donau makes no RSA keys unless a test asks for them (each takes CPU).
        // `extra` may start without a section header: it continues `[taler-openapi]`.
        "[taler]\nCURRENCY = KUDOS\n[bank]\nDEFAULT_DEBIT_THRESHOLD = KUDOS:1000\n\
         [donau]\nDONATION_UNIT_VALUES = NONE\n\
         [taler-openapi]\nLISTEN = 127.0.0.1:0\nDATABASE_URL = {}\n\
         ADMIN_TOKEN = {ADMIN_TOKEN}\nMAX_UPLOAD_BYTES = 65536\n{extra}",
        db.url
    );
    let config = Config::from_ini(Ini::parse_str(&text).unwrap()).unwrap();
    // A test's option nothing reads is a typo that tests nothing.
    assert_eq!(config.unknown_options(), Vec::<String>::new(), "{extra}");
    config
}

/// A running server and an HTTP client for it.
pub struct TestServer {
    pub server: RunningServer,
    pub db: TestDb,
    pub client: reqwest::Client,
    /// The extra configuration it was started with (kept across restarts).
    pub extra: String,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> TestServer {
        Self::start_with(TestDb::new(backend).await, "").await
    }

    pub async fn start_with(db: TestDb, extra: &str) -> TestServer {
        let config = test_config(&db, extra);
        let state = taler_openapi::open_state(config, db.schema.as_deref())
            .await
            .expect("open state");
        let server = taler_openapi::start(state).await.expect("start server");
        TestServer {
            server,
            db,
            client: reqwest::Client::new(),
            extra: extra.to_owned(),
        }
    }

    /// Stops the server and starts a new one on the same database.
    pub async fn restart(self) -> TestServer {
        let db = self.db.clone();
        self.server.shutdown().await;
        Self::start_with(db, &self.extra).await
    }

    pub async fn finish(self) {
        self.server.stop();
        self.db.drop().await;
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends a request with an optional bearer token and JSON body; returns status and JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call_with(self.req(method, path), token, body).await
    }

    /// Creates an instance with the password `pw-secret` (as the administrator).
    pub async fn create_instance(&self, id: &str) {
        let (status, body) = self
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(instance_request(id, "pw-secret")),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    /// Creates an instance that leaves authentication to a proxy (`external`).
    pub async fn create_external_instance(&self, id: &str) {
        let mut request = instance_request(id, "unused-password");
        request["auth"] = json!({ "method": "external" });
        let (status, body) = self
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(request),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    /// Creates an instance with a password (as the administrator) and returns a token of
    /// the given scope for it.
    pub async fn instance_with_token(&self, id: &str, scope: &str) -> String {
        self.create_instance(id).await;
        self.login(id, "pw-secret", scope).await
    }

    /// `POST /instances/{instance}/private/token` with HTTP Basic credentials.
    pub async fn token_by_password(
        &self,
        instance: &str,
        user: &str,
        password: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let req = self
            .req(
                Method::POST,
                &format!("/merchant/instances/{instance}/private/token"),
            )
            .basic_auth(user, Some(password))
            .json(&body);
        send(req).await
    }

    pub async fn login(&self, id: &str, password: &str, scope: &str) -> String {
        let (status, body) = self
            .token_by_password(id, id, password, json!({ "scope": scope }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// Sends `req` with an optional bearer token and JSON body; returns status and JSON.
pub async fn call_with(
    mut req: RequestBuilder,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await
}

pub async fn send(req: RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Asserts a Taler error: status, numeric code, and an `ErrorDetail` body.
pub fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: u64) {
    assert_eq!(
        status.as_u16(),
        expected_status,
        "unexpected status, body: {body}"
    );
    assert_eq!(
        body["code"].as_u64(),
        Some(code),
        "unexpected error code, body: {body}"
    );
    assert!(body["hint"].is_string(), "ErrorDetail without hint: {body}");
}

pub fn instance_request(id: &str, password: &str) -> Value {
    json!({
        "id": id,
        "name": format!("Shop {id}"),
        "auth": { "method": "token", "password": password },
        "address": { "country": "CH", "town": "Biel" },
        "jurisdiction": {},
        "use_stefan": true
    })
}

/// One HTTP/1.1 response read off a raw socket: status, headers (lower-case names),
/// body. `None` when the server closed the connection first.
pub async fn read_response(
    socket: &mut tokio::net::TcpStream,
    buffered: &mut Vec<u8>,
) -> Option<(u16, Vec<(String, String)>, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = socket.read(&mut chunk).await.unwrap();
        if n == 0 {
            return None;
        }
        buffered.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffered[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (name, value) = l.split_once(": ").unwrap();
            (name.to_ascii_lowercase(), value.to_owned())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    buffered.drain(..head_end + 4);
    while buffered.len() < length {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed inside a body");
        buffered.extend_from_slice(&chunk[..n]);
    }
    let body = buffered.drain(..length).collect();
    Some((status, headers, body))
}

/// A header of [`read_response`]'s answer, by its lower-case name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The Rust files below `dir` (a file stands for itself).
pub fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        if dir.is_file() {
            found.push(dir);
            continue;
        }
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}
