//! What a hostile client meets: throttled and bounded password checks, limits on every
//! input, JSON only, slow connections closed, report delivery confined, and a battery of
//! bad bodies against every POST/PATCH operation of the three specs. SQLite and
//! PostgreSQL alike.

mod common;

use std::time::Duration;

use common::{
    ADMIN_TOKEN, Backend, TestDb, TestServer, assert_error, backends, instance_request, send,
};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BANK_PASSWORD: &str = "password-alice";

async fn bank_account(s: &TestServer, username: &str, password: &str) {
    let (status, body) = s
        .call(
            Method::POST,
            "/bank/accounts",
            Some(ADMIN_TOKEN),
            Some(json!({ "username": username, "password": password, "name": username })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_with_429_and_retry_after() {
    for b in backends() {
        let s = TestServer::start_with(
            TestDb::new(&b).await,
            "LOGIN_FAILURES_PER_ACCOUNT = 3\nLOGIN_FAILURES_PER_ADDRESS = 100\n",
        )
        .await;
        // `shop`'s password has never been verified; `other` logged in just now.
        let (status, _) = s
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(instance_request("shop", "pw-secret")),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        s.instance_with_token("other", "readonly").await;
        for _ in 0..3 {
            let (status, body) = s
                .token_by_password(
                    "shop",
                    "shop",
                    "wrong-password",
                    json!({"scope": "readonly"}),
                )
                .await;
            assert_error(status, &body, 401, 40);
        }
        // Throttled now, even with the right password (not verified in the last
        // minute), and before any hashing.
        let resp = s
            .req(Method::POST, "/merchant/instances/shop/private/token")
            .basic_auth("shop", Some("pw-secret"))
            .json(&json!({"scope": "readonly"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after(&resp).expect("Retry-After");
        assert!((1..=60).contains(&wait), "{wait}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], 40);
        // Another account is not affected.
        s.login("other", "pw-secret", "readonly").await;
        // A credential verified within the last minute still passes while its account
        // is throttled: its owner is not locked out by someone else's guesses.
        for _ in 0..3 {
            let (status, _) = s
                .token_by_password(
                    "other",
                    "other",
                    "wrong-password",
                    json!({"scope": "readonly"}),
                )
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, _) = s
            .token_by_password(
                "other",
                "other",
                "wrong-password",
                json!({"scope": "readonly"}),
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        s.login("other", "pw-secret", "readonly").await;

        // The bank's HTTP Basic paths are throttled the same way.
        bank_account(&s, "alice", BANK_PASSWORD).await;
        let history = "/bank/accounts/alice/taler-revenue/history";
        for _ in 0..3 {
            let req = s
                .req(Method::GET, history)
                .basic_auth("alice", Some("nope-nope"));
            assert_eq!(send(req).await.0, StatusCode::UNAUTHORIZED);
        }
        let req = s
            .req(Method::GET, history)
            .basic_auth("alice", Some(BANK_PASSWORD));
        let (status, body) = send(req).await;
        assert_error(status, &body, 429, 40);
        s.finish().await;
    }
}

/// Issue 36: the throttle counts in the database, exactly. Two servers on one
/// database; guesses alternating between them, one after another and then 24 at
/// once: exactly `LOGIN_FAILURES_PER_ACCOUNT` wrong passwords are told they were
/// wrong (401), every other attempt is 429, on both servers, the right password too.
#[tokio::test]
async fn wrong_passwords_are_counted_exactly_and_across_servers() {
    for b in backends() {
        let db = TestDb::new(&b).await;
        let extra = "LOGIN_FAILURES_PER_ACCOUNT = 10\nLOGIN_FAILURES_PER_ADDRESS = 1000\n\
                     PASSWORD_WORKERS = 4\nPASSWORD_QUEUE = 64\n";
        let first = TestServer::start_with(db.clone(), extra).await;
        let second = TestServer::start_with(db, extra).await;
        let servers = [&first, &second];
        for id in ["serial", "burst"] {
            first.create_instance(id).await;
        }
        let guess = |server: &TestServer, id: &str, password: String| {
            server
                .req(
                    Method::POST,
                    &format!("/merchant/instances/{id}/private/token"),
                )
                .basic_auth(id, Some(password))
                .json(&json!({"scope": "readonly"}))
                .send()
        };

        // One after another, alternating servers: 10 plain 401s, then 429.
        for n in 0..12 {
            let resp = guess(servers[n % 2], "serial", format!("wrong-{n}"))
                .await
                .unwrap();
            let expected = if n < 10 { 401 } else { 429 };
            assert_eq!(resp.status().as_u16(), expected, "guess {n}");
        }

        // 24 at once, alternating servers: 10 are told they were wrong, 14 get 429.
        let attempts = (0..24).map(|n| guess(servers[n % 2], "burst", format!("wrong-{n}")));
        let mut statuses: Vec<u16> = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
        statuses.sort_unstable();
        assert_eq!(
            statuses.iter().filter(|s| **s == 401).count(),
            10,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 429).count(),
            14,
            "{statuses:?}"
        );

        // The right password is refused too, on either server, until the window ends.
        for server in servers {
            for id in ["serial", "burst"] {
                let resp = guess(server, id, "pw-secret".into()).await.unwrap();
                assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
                assert!(retry_after(&resp).is_some_and(|s| (1..=60).contains(&s)));
            }
        }
        second.server.stop();
        first.finish().await;
    }
}

#[tokio::test]
async fn a_full_password_queue_answers_503_with_retry_after() {
    let b = Backend::Sqlite;
    let s = TestServer::start_with(
        TestDb::new(&b).await,
        "PASSWORD_WORKERS = 1\nPASSWORD_QUEUE = 1\nLOGIN_FAILURES_PER_ACCOUNT = 1000\n\
         LOGIN_FAILURES_PER_ADDRESS = 1000\n",
    )
    .await;
    s.instance_with_token("shop", "readonly").await;
    // Twelve different passwords: checks of the same one at the same time share one
    // hash (a crowd polling with one password costs one), so only distinct ones queue.
    let attempts = (0..12).map(|i| {
        s.req(Method::POST, "/merchant/instances/shop/private/token")
            .basic_auth("shop", Some(format!("wrong-password-{i}")))
            .json(&json!({"scope": "readonly"}))
            .send()
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut busy = 0;
    for resp in answers {
        let resp = resp.unwrap();
        match resp.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(retry_after(&resp), Some(1));
                let body: Value = resp.json().await.unwrap();
                assert_eq!(body["code"], 40);
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        busy > 0,
        "twelve logins at once on one worker and a queue of one"
    );
    s.finish().await;
}

#[tokio::test]
async fn instance_passwords_need_eight_characters() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(instance_request("shop", "1234567")),
            )
            .await;
        assert_error(status, &body, 400, 26);
        assert_eq!(body["parameter"], "auth.password");
        let (status, _) = s
            .call(
                Method::GET,
                "/merchant/management/instances/shop",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        s.finish().await;
    }
}

#[tokio::test]
async fn nul_characters_and_overlong_text_are_400_on_both_engines_and_store_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let long = "x".repeat(3000);
        let cases = [
            (
                "/merchant/private/pots",
                json!({"pot_name": "a\u{0}b", "description": "d"}),
                None,
            ),
            (
                "/merchant/private/pots",
                json!({"pot_name": "p", "description": "d\u{0}"}),
                None,
            ),
            (
                "/merchant/private/pots",
                json!({"pot_name": long, "description": "d"}),
                Some("pot_name"),
            ),
            (
                "/merchant/private/otp-devices",
                json!({"otp_device_id": long, "otp_device_description": "d", "otp_key": "JBSWY3DPEHPK3PXP", "otp_algorithm": 1}),
                Some("otp_device_id"),
            ),
            (
                "/merchant/private/templates",
                json!({"template_id": long, "template_description": "d", "template_contract": {}}),
                Some("template_id"),
            ),
            (
                "/merchant/private/categories",
                json!({"name": long}),
                Some("name"),
            ),
            (
                "/merchant/private/categories",
                json!({"name": "n", "name_i18n": {"de\u{0}": "x"}}),
                None,
            ),
        ];
        for (path, body, field) in cases {
            let (status, resp) = s
                .call(Method::POST, path, Some(ADMIN_TOKEN), Some(body))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {resp}");
            assert!(resp["code"].is_u64(), "{resp}");
            if let Some(field) = field {
                assert_eq!(resp["parameter"], field, "{resp}");
            }
        }
        // Path identifiers and declared query values: long ones and NUL are 400 too,
        // named as the spec names them.
        for (method, path, parameter) in [
            (
                Method::GET,
                format!("/merchant/private/templates/{long}"),
                "template_id",
            ),
            (
                Method::GET,
                "/merchant/private/templates/a%00b".to_owned(),
                "template_id",
            ),
            (
                Method::GET,
                format!("/merchant/instances/{long}/private/pots"),
                "instance",
            ),
            (
                Method::GET,
                format!("/merchant/private/otp-devices/d?price={long}"),
                "price",
            ),
            (
                Method::GET,
                format!("/bank/accounts/{long}/taler-revenue/history"),
                "USERNAME",
            ),
            (
                Method::DELETE,
                "/merchant/management/instances/x?purge=%00".to_owned(),
                "purge",
            ),
        ] {
            let (status, resp) = s.call(method, &path, Some(ADMIN_TOKEN), None).await;
            assert_error(status, &resp, 400, 26);
            assert_eq!(resp["parameter"], parameter, "{path}: {resp}");
        }
        // A query parameter no operation declares is ignored, as the operations ignore it.
        let (status, _) = s
            .call(Method::GET, "/merchant/config?x=%00", None, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(row_counts(&s).await, row_counts_of_fresh(&b).await);
        s.finish().await;
    }
}

/// Row counts of every table: what a refused request must leave unchanged.
async fn row_counts(s: &TestServer) -> Vec<(String, i64)> {
    let db = &s.server.state.db;
    let backend = db.get_database_backend();
    let tables_sql = match s.db.backend {
        Backend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres(_) => {
            "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
    };
    let tables = db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .unwrap();
    let mut counts = Vec::new();
    for row in tables {
        let table: String = row.try_get("", "t").unwrap();
        if table == "seaql_migrations" {
            continue;
        }
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM \"{table}\""),
            ))
            .await
            .unwrap()
            .unwrap();
        counts.push((table, n.try_get::<i64>("", "n").unwrap()));
    }
    counts
}

async fn row_counts_of_fresh(b: &Backend) -> Vec<(String, i64)> {
    let s = TestServer::start(b).await;
    let counts = row_counts(&s).await;
    s.finish().await;
    counts
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_and_its_journal_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start(&Backend::Sqlite).await;
    // A write makes sure the WAL exists.
    s.call(
        Method::POST,
        "/merchant/private/pots",
        Some(ADMIN_TOKEN),
        Some(json!({"pot_name": "p", "description": "d"})),
    )
    .await;
    let file =
        s.db.url
            .strip_prefix("sqlite://")
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{file}{suffix}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}");
    }
    s.finish().await;
}

fn report_config(dir: &std::path::Path) -> String {
    let program =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/taler-openapi-report-file");
    format!(
        "[report-generator-file]\nBINARY = {}\nTARGET_DIRECTORY = {}\n",
        program.display(),
        dir.display()
    )
}

fn report_body() -> Value {
    json!({
        "description": "Pots", "program_section": "report-generator-file",
        "mime_type": "application/json", "data_source": "/private/pots",
        "target_address": "drop", "report_frequency": {"d_us": 3_600_000_000u64},
    })
}

#[tokio::test]
async fn reports_are_capped_per_instance_and_stop_with_their_instance() {
    for b in backends() {
        let dir = std::env::temp_dir().join(format!("taler-hardening-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("drop")).unwrap();
        let s = TestServer::start_with(TestDb::new(&b).await, &report_config(&dir)).await;
        let token = s.instance_with_token("shop", "all").await;
        let path = "/merchant/instances/shop/private/reports";
        // Shorter than the default minimum frequency (60 s).
        let mut fast = report_body();
        fast["report_frequency"] = json!({"d_us": 59_000_000});
        let (status, body) = s.call(Method::POST, path, Some(&token), Some(fast)).await;
        assert_error(status, &body, 400, 26);
        for n in 0..64 {
            let (status, body) = s
                .call(Method::POST, path, Some(&token), Some(report_body()))
                .await;
            assert_eq!(status, StatusCode::OK, "report {n}: {body}");
        }
        let (status, body) = s
            .call(Method::POST, path, Some(&token), Some(report_body()))
            .await;
        assert_error(status, &body, 403, 44);
        // Deleting the instance deletes its reports: nothing is left to schedule.
        let (status, _) = s
            .call(
                Method::DELETE,
                "/merchant/management/instances/shop",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let reports: i64 = row_counts(&s)
            .await
            .into_iter()
            .find(|(t, _)| t == "merchant_reports")
            .unwrap()
            .1;
        assert_eq!(reports, 0);
        s.finish().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn half_sent_headers_are_closed_and_others_are_served() {
    let s = TestServer::start_with(
        TestDb::new(&Backend::Sqlite).await,
        "HEADER_TIMEOUT_SECONDS = 1\n",
    )
    .await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut c = tokio::net::TcpStream::connect(s.server.addr).await.unwrap();
        c.write_all(b"GET /merchant/config HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(c);
    }
    let started = std::time::Instant::now();
    let (status, _) = s.call(Method::GET, "/merchant/config", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for mut c in slow {
        let mut buf = Vec::new();
        // Closed by the server: the read ends (possibly after a 408 answer).
        let read = tokio::time::timeout(Duration::from_secs(2), c.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "a half-sent request was not closed");
    }
    s.finish().await;
}

/// Bodies no operation may accept, each with what it is.
fn hostile_bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let json = "application/json";
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40));
    vec![
        ("malformed JSON", json, b"{\"a\":".to_vec()),
        ("wrong type", json, b"42".to_vec()),
        (
            "NUL character",
            json,
            b"{\"description\":\"a\\u0000b\"}".to_vec(),
        ),
        ("deep nesting", json, deep.into_bytes()),
        (
            "duplicate keys",
            json,
            b"{\"description\":\"a\",\"description\":\"b\"}".to_vec(),
        ),
        ("plain text", "text/plain", b"{}".to_vec()),
        ("form", "application/x-www-form-urlencoded", b"a=b".to_vec()),
        (
            "oversize",
            json,
            format!("{{\"description\":\"{}\"}}", "x".repeat(70_000)).into_bytes(),
        ),
    ]
}

/// A body whose every top-level string field (as the spec names them) is one character
/// over the default limit.
fn overlong_body(spec: &Value, operation: &Value) -> Option<Vec<u8>> {
    let schema = &operation["requestBody"]["content"]["application/json; charset=utf-8"]["schema"];
    let schema = match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    };
    let mut body = serde_json::Map::new();
    for (name, field) in schema["properties"].as_object()? {
        if field["type"] == "string" && field.get("enum").is_none() {
            let max = field["maxLength"].as_u64()? as usize;
            body.insert(name.clone(), Value::String("x".repeat(max + 1)));
        }
    }
    (!body.is_empty()).then(|| serde_json::to_vec(&body).unwrap())
}

#[tokio::test]
async fn every_post_and_patch_refuses_hostile_bodies_and_stores_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        s.instance_with_token("shop", "all").await;
        bank_account(&s, "alice", BANK_PASSWORD).await;
        let before = row_counts(&s).await;
        let mut checked = 0;
        for service in ["merchant", "bank", "donau"] {
            let (_, spec) = s
                .call(Method::GET, &format!("/{service}/openapi.json"), None, None)
                .await;
            for (path, item) in spec["paths"].as_object().unwrap() {
                for (method, operation) in item.as_object().unwrap() {
                    let method = match method.as_str() {
                        "post" => Method::POST,
                        "patch" => Method::PATCH,
                        _ => continue,
                    };
                    if operation.get("requestBody").is_none() {
                        continue;
                    }
                    let url = format!("/{service}{path}")
                        .replace("{instance}", "shop")
                        .replace("{USERNAME}", "alice")
                        .replace("{username}", "alice");
                    let url = regex_lite_replace_params(&url);
                    let mut bodies = hostile_bodies();
                    if let Some(long) = overlong_body(&spec, operation) {
                        bodies.push(("over maxLength", "application/json", long));
                    }
                    for (what, content_type, body) in bodies {
                        let mut req = s
                            .req(method.clone(), &url)
                            .header("content-type", content_type)
                            .body(body);
                        req = if url.starts_with("/bank/accounts/alice") {
                            req.basic_auth("alice", Some(BANK_PASSWORD))
                        } else {
                            req.bearer_auth(ADMIN_TOKEN)
                        };
                        let (status, resp) = send(req).await;
                        assert!(
                            status.is_client_error(),
                            "{method} {url} with {what}: {status} {resp}"
                        );
                        assert!(resp["code"].is_u64(), "{method} {url} with {what}: {resp}");
                        if what == "over maxLength" {
                            // 413 where a field's limit is above the upload limit (a logo).
                            assert!(
                                matches!(status.as_u16(), 400 | 413),
                                "{method} {url}: {status} {resp}"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 150, "only {checked} cases");
        assert_eq!(row_counts(&s).await, before);
        s.finish().await;
    }
}

/// Replaces every remaining `{param}` with `1` (ids of objects; the body is refused
/// before any lookup).
fn regex_lite_replace_params(url: &str) -> String {
    url.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn a_verified_password_stops_counting_once_the_stored_hash_changes() {
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
    for b in backends() {
        let s = TestServer::start(&b).await;
        bank_account(&s, "alice", BANK_PASSWORD).await;
        let history = "/bank/accounts/alice/taler-revenue/history";
        for _ in 0..2 {
            let req = s
                .req(Method::GET, history)
                .basic_auth("alice", Some(BANK_PASSWORD));
            assert_eq!(send(req).await.0, StatusCode::NO_CONTENT);
        }
        // The password changes (here straight in the database, as another server
        // sharing it would): the remembered verification no longer counts.
        let account = entities::bank_accounts::Entity::find()
            .filter(entities::bank_accounts::Column::Username.eq("alice"))
            .one(&s.server.state.db)
            .await
            .unwrap()
            .unwrap();
        let mut account = account.into_active_model();
        account.password_hash = Set(taler_openapi::taler::secret::hash_password(
            "new-password-1",
        ));
        account.update(&s.server.state.db).await.unwrap();
        let req = s
            .req(Method::GET, history)
            .basic_auth("alice", Some(BANK_PASSWORD));
        assert_eq!(send(req).await.0, StatusCode::UNAUTHORIZED);
        let req = s
            .req(Method::GET, history)
            .basic_auth("alice", Some("new-password-1"));
        assert_eq!(send(req).await.0, StatusCode::NO_CONTENT);
        s.finish().await;
    }
}

/// What the hot paths remember (verified Basic credentials, for a minute) and what they
/// do not (tokens: one query per request) never outlives a revocation: two servers on
/// one database, each credential used on the first until it is known to work there,
/// then revoked, changed or deleted through the second, and refused on the first at
/// once.
#[tokio::test]
async fn revocations_through_one_server_take_effect_at_once_on_another() {
    for b in backends() {
        let db = TestDb::new(&b).await;
        let first = TestServer::start_with(db.clone(), "").await;
        let second = TestServer::start_with(db, "").await;

        // A merchant token reading a pot.
        let token = first.instance_with_token("shop", "all").await;
        let (status, body) = first
            .call(
                Method::POST,
                "/merchant/instances/shop/private/pots",
                Some(&token),
                Some(json!({"pot_name": "tips", "description": "Tips"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let pot = format!(
            "/merchant/instances/shop/private/pots/{}",
            body["pot_serial_id"]
        );
        for _ in 0..3 {
            let (status, body) = first.call(Method::GET, &pot, Some(&token), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, _) = second
            .call(
                Method::DELETE,
                "/merchant/instances/shop/private/token",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = first.call(Method::GET, &pot, Some(&token), None).await;
        assert_error(status, &body, 401, 41);

        // A deleted instance takes its live tokens with it (an object's operation answers
        // for an unknown instance with the object's own 404, as its page lists).
        let live = first.login("shop", "pw-secret", "all").await;
        let (status, _) = first.call(Method::GET, &pot, Some(&live), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = second
            .call(
                Method::DELETE,
                "/merchant/management/instances/shop",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = first.call(Method::GET, &pot, Some(&live), None).await;
        assert_error(status, &body, 404, 2035);
        let (status, body) = first
            .call(
                Method::GET,
                "/merchant/instances/shop/private/pots",
                Some(&live),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2000);

        // A bank password the first server has verified (and so remembers).
        bank_account(&first, "alice", BANK_PASSWORD).await;
        let history = "/bank/accounts/alice/taler-revenue/history";
        let basic = |s: &TestServer, password: &str| {
            s.req(Method::GET, history)
                .basic_auth("alice", Some(password))
                .send()
        };
        for _ in 0..3 {
            assert_eq!(
                basic(&first, BANK_PASSWORD).await.unwrap().status(),
                StatusCode::NO_CONTENT
            );
        }
        let req = second
            .req(Method::PATCH, "/bank/accounts/alice/auth")
            .basic_auth("alice", Some(BANK_PASSWORD))
            .json(&json!({"old_password": BANK_PASSWORD, "new_password": "password-new-1"}));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = send(
            first
                .req(Method::GET, history)
                .basic_auth("alice", Some(BANK_PASSWORD)),
        )
        .await;
        assert_error(status, &body, 401, 40);
        assert_eq!(
            basic(&first, "password-new-1").await.unwrap().status(),
            StatusCode::NO_CONTENT
        );

        // A bank token revoked through the second server.
        let req = first
            .req(Method::POST, "/bank/accounts/alice/token")
            .basic_auth("alice", Some("password-new-1"))
            .json(&json!({"scope": "readonly"}));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let bank_token = body["access_token"].as_str().unwrap().to_owned();
        let (status, _) = first
            .call(Method::GET, history, Some(&bank_token), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = second
            .call(
                Method::DELETE,
                "/bank/accounts/alice/token",
                Some(&bank_token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = first
            .call(Method::GET, history, Some(&bank_token), None)
            .await;
        assert_error(status, &body, 401, 40);

        // A deleted account: its remembered password no longer opens anything.
        let (status, body) = second
            .call(
                Method::DELETE,
                "/bank/accounts/alice",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = send(
            first
                .req(Method::GET, history)
                .basic_auth("alice", Some("password-new-1")),
        )
        .await;
        // libeufin-bank authenticates first: a deleted account's password is 401.
        assert_error(status, &body, 401, 40);
        second.server.stop();
        first.finish().await;
    }
}

/// With room for one request in the application at a time (`MAX_REQUESTS_RUNNING`),
/// requests that wait do not keep others out: an order long poll waits inside the
/// application and gives its place back, a Revenue long poll parks.
#[tokio::test]
async fn waiting_requests_give_their_place_back() {
    for b in backends() {
        let s = TestServer::start_with(TestDb::new(&b).await, "MAX_REQUESTS_RUNNING = 1\n").await;
        bank_account(&s, "alice", BANK_PASSWORD).await;
        let orders = s
            .req(
                Method::GET,
                "/merchant/private/orders?limit=5&timeout_ms=3000",
            )
            .bearer_auth(ADMIN_TOKEN)
            .send();
        let revenue = s
            .req(
                Method::GET,
                "/bank/accounts/alice/taler-revenue/history?limit=5&timeout_ms=3000",
            )
            .basic_auth("alice", Some(BANK_PASSWORD))
            .send();
        let others = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let started = std::time::Instant::now();
            for _ in 0..3 {
                let (status, body) = s.call(Method::GET, "/merchant/config", None, None).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
            started.elapsed()
        };
        let started = std::time::Instant::now();
        let (orders, revenue, others) = tokio::join!(orders, revenue, others);
        assert!(others < Duration::from_secs(1), "{others:?}");
        let orders = orders.unwrap();
        assert_eq!(orders.status(), StatusCode::OK);
        assert_eq!(revenue.unwrap().status(), StatusCode::NO_CONTENT);
        assert!(started.elapsed() >= Duration::from_secs(3));
        s.finish().await;
    }
}
