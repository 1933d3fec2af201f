//! Merchant periodic reports over HTTP: the private family, the token-authorized
//! generation endpoint, and the scheduler delivering through a real generator program.

mod common;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use common::{ADMIN_TOKEN, TestDb, TestServer, assert_error, backends};
use entities::merchant_reports;
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

// Provisional numbers (see `taler::error::PROVISIONAL`); the hint names the code too.
const REPORT_UNKNOWN: u64 = 2036;
const GENERATOR_UNCONFIGURED: u64 = 2037;
const PARAMETER_MALFORMED: u64 = 26;

/// A scratch directory: the drop target and the helper scripts of one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "taler-openapi-reports-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

/// Generator sections: the shipped file drop, one that fails, one that hangs.
fn generators(dir: &Path) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/taler-openapi-report-file");
    let attempts = dir.join("attempts");
    let fail = script(
        dir,
        "fail.sh",
        &format!("echo x >> {}; echo boom >&2; exit 1", attempts.display()),
    );
    let hang = script(dir, "hang.sh", "sleep 30");
    // Deliveries are confined to TARGET_DIRECTORY (the scratch directory), in a room
    // per instance: the admin instance's target `drop` is `<dir>/admin/drop`.
    let root = dir.display().to_string();
    format!(
        "[taler-openapi]\nMIN_REPORT_FREQUENCY_SECONDS = 1\n\
         [report-generator-file]\nBINARY = {}\nDESCRIPTION = File drop\nTIMEOUT = 5\nTARGET_DIRECTORY = {root}\n\
         [report-generator-failing]\nBINARY = {}\nTARGET_DIRECTORY = {root}\n\
         [report-generator-hanging]\nBINARY = {}\nTIMEOUT = 1\nTARGET_DIRECTORY = {root}\n",
        file.display(),
        fail.display(),
        hang.display()
    )
}

fn report(section: &str, _dir: &Path, frequency_us: u64) -> Value {
    json!({
        "description": "Pots of the day",
        "program_section": format!("report-generator-{section}"),
        "mime_type": "application/json",
        "data_source": "/private/pots",
        "target_address": "drop",
        "report_frequency": { "d_us": frequency_us },
    })
}

async fn create(s: &TestServer, body: Value) -> u64 {
    let (status, resp) = s
        .call(
            Method::POST,
            "/merchant/private/reports",
            Some(ADMIN_TOKEN),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    resp["report_serial_id"].as_u64().unwrap()
}

async fn detail(s: &TestServer, id: u64) -> Value {
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/merchant/private/reports/{id}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The deliveries the file drop logged for the admin instance, as `(report, due)` lines.
fn deliveries(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("admin/drop/deliveries.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits (at most `limit`) until `done` holds.
async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done()
}

fn assert_distinct(lines: &[String]) {
    let mut sorted = lines.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        lines.len(),
        "a due report was delivered twice: {lines:?}"
    );
}

/// Gives report `id` a known token: the database holds only its SHA-256 digest (hex),
/// so the test stores the digest of a token it chose, as a deployment handing the
/// token to an external generator would.
async fn report_token(s: &TestServer, id: u64) -> String {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    use sha2::Digest;
    // A `ShortHashCode`: 52 Crockford base32 characters.
    let token = format!("{id:Z>52}");
    let row = merchant_reports::Entity::find_by_id(id as i64)
        .one(&s.server.state.db)
        .await
        .unwrap()
        .unwrap();
    let stored = row.report_token.clone();
    assert_eq!(
        stored.len(),
        64,
        "stored as a SHA-256 digest in hex: {stored}"
    );
    let digest: String = sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut row = row.into_active_model();
    row.report_token = Set(digest);
    row.update(&s.server.state.db).await.unwrap();
    token
}

#[tokio::test]
async fn report_family_status_codes_and_validation() {
    for b in backends() {
        let dir = scratch("crud");
        let s = TestServer::start_with(TestDb::new(&b).await, &generators(&dir)).await;
        // A day, so the scheduler stays out of this test.
        let day = 86_400_000_000u64;
        let id = create(&s, report("file", &dir, day)).await;

        let body = detail(&s, id).await;
        assert_eq!(body["report_serial"], id);
        assert_eq!(body["program_section"], "report-generator-file");
        assert_eq!(body["data_source"], "/private/pots");
        assert_eq!(body["report_frequency"], json!({ "d_us": day }));
        assert_eq!(body["report_frequency_shift"], json!({ "d_us": 0 }));
        let next = body["next_transmission"]["t_s"].as_u64().unwrap();
        assert_eq!(
            next % 86_400,
            0,
            "daily reports run at midnight UTC without a shift"
        );
        assert!(body.get("last_error_code").is_none());

        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/private/reports",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({ "reports": [{ "report_serial": id, "description": "Pots of the day",
                                  "report_frequency": { "d_us": day } }] })
        );

        // PATCH replaces the settings and reschedules (shift of eight hours).
        let mut patched = report("file", &dir, day);
        patched["description"] = json!("Morning pots");
        patched["report_frequency_shift"] = json!({ "d_us": 8u64 * 3_600_000_000 });
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/merchant/private/reports/{id}"),
                Some(ADMIN_TOKEN),
                Some(patched),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let body = detail(&s, id).await;
        assert_eq!(body["description"], "Morning pots");
        assert_eq!(
            body["next_transmission"]["t_s"].as_u64().unwrap() % 86_400,
            8 * 3_600
        );

        // Validation: each field, and an unconfigured generator (501).
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/private/reports",
                Some(ADMIN_TOKEN),
                Some(report("nope", &dir, day)),
            )
            .await;
        assert_error(status, &body, 501, GENERATOR_UNCONFIGURED);
        for (field, value) in [
            ("data_source", json!("private/pots")),
            ("data_source", json!("/private/../x")),
            ("data_source", json!("/private/%2e%2e/%2e%2e/config")),
            ("data_source", json!("/private/%2E%2E/x")),
            ("data_source", json!("/private/./pots")),
            ("data_source", json!("/private/nothing-here")),
            ("data_source", json!("/config")),
            ("mime_type", json!("text/csv")),
            ("target_address", json!(" ")),
            ("target_address", json!("/etc")),
            ("target_address", json!("file:///var/tmp/x")),
            ("target_address", json!("../../var/tmp")),
            ("target_address", json!("a/../../b")),
            ("target_address", json!("%2e%2e")),
            ("target_address", json!("a//b")),
            ("report_frequency", json!({ "d_us": 0 })),
            ("report_frequency", json!({ "d_us": 999_999 })),
            ("report_frequency", json!({ "d_us": "forever" })),
            ("report_frequency", json!({ "d_us": -5 })),
            ("report_frequency_shift", json!({ "d_us": day })),
            ("report_frequency_shift", json!({ "d_us": "forever" })),
        ] {
            let mut body = report("file", &dir, day);
            body[field] = value.clone();
            let (status, resp) = s
                .call(
                    Method::POST,
                    "/merchant/private/reports",
                    Some(ADMIN_TOKEN),
                    Some(body),
                )
                .await;
            assert_error(status, &resp, 400, PARAMETER_MALFORMED);
            // A value of the wrong type is reported by its type (`RelativeTime`).
            let hint = resp["hint"].as_str().unwrap();
            assert!(
                hint.contains(field) || hint.contains("RelativeTime"),
                "{field} {value}: {resp}"
            );
        }
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/nobody/private/reports",
                Some(ADMIN_TOKEN),
                Some(report("file", &dir, day)),
            )
            .await;
        assert_error(status, &body, 404, 2000);

        // Credentials.
        let (status, body) = s
            .call(Method::GET, "/merchant/private/reports", None, None)
            .await;
        assert_error(status, &body, 401, 40);
        let readonly = s.instance_with_token("shop", "readonly").await;
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/reports",
                Some(&readonly),
                Some(report("file", &dir, day)),
            )
            .await;
        assert_error(status, &body, 403, 16);

        // The generation endpoint: the token is the only credential.
        let token = report_token(&s, id).await;
        let path = format!("/merchant/reports/{id}");
        let (status, body) = s
            .call(
                Method::POST,
                &path,
                None,
                Some(json!({ "report_token": "Z".repeat(52) })),
            )
            .await;
        assert_error(status, &body, 404, REPORT_UNKNOWN);
        let (status, body) = s
            .call(
                Method::POST,
                &path,
                None,
                Some(json!({ "report_token": "WRONG" })),
            )
            .await;
        assert_error(status, &body, 400, PARAMETER_MALFORMED);
        let resp = s
            .req(Method::POST, &path)
            .json(&json!({ "report_token": token }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{:?}",
            resp.headers()
        );
        let content: Value = resp.json().await.unwrap();
        assert_eq!(content, json!({ "pots": [] }));
        let (status, body) = s
            .call(
                Method::POST,
                &format!("/merchant/instances/admin/reports/{id}"),
                None,
                Some(json!({})),
            )
            .await;
        assert_error(status, &body, 400, 25);

        // Unknown and malformed ids.
        let (status, body) = s
            .call(
                Method::DELETE,
                &format!("/merchant/private/reports/{id}"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for (method, path) in [
            (Method::GET, format!("/merchant/private/reports/{id}")),
            (Method::DELETE, format!("/merchant/private/reports/{id}")),
            (
                Method::GET,
                "/merchant/instances/nobody/private/reports/1".to_owned(),
            ),
        ] {
            let (status, body) = s.call(method, &path, Some(ADMIN_TOKEN), None).await;
            assert_error(status, &body, 404, REPORT_UNKNOWN);
        }
        // An unknown report is 404 before the body's problems (here an unconfigured
        // generator, otherwise 501), as the page orders them.
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/merchant/private/reports/{id}"),
                Some(ADMIN_TOKEN),
                Some(report("nope", &dir, day)),
            )
            .await;
        assert_error(status, &body, 404, REPORT_UNKNOWN);
        let (status, body) = s
            .call(
                Method::POST,
                &path,
                None,
                Some(json!({ "report_token": token })),
            )
            .await;
        assert_error(status, &body, 404, REPORT_UNKNOWN);
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/private/reports/abc",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 400, PARAMETER_MALFORMED);
        s.finish().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// End to end: a one-second report is generated and handed to the shipped file drop,
/// with its data, description and mime type; a restart neither repeats a due time nor
/// stops the schedule.
#[tokio::test]
async fn reports_are_delivered_on_schedule_across_a_restart() {
    for b in backends() {
        let dir = scratch("deliver");
        let s = TestServer::start_with(TestDb::new(&b).await, &generators(&dir)).await;
        let id = create(&s, report("file", &dir, 1_000_000)).await;
        assert!(
            wait_for(Duration::from_secs(10), || deliveries(&dir).len() >= 2).await,
            "no deliveries: {:?} {}",
            deliveries(&dir),
            detail(&s, id).await
        );
        let s = s.restart().await;
        let before = deliveries(&dir).len();
        assert!(
            wait_for(Duration::from_secs(10), || deliveries(&dir).len()
                >= before + 2)
            .await,
            "no deliveries after the restart: {:?}",
            deliveries(&dir)
        );
        let lines = deliveries(&dir);
        assert_distinct(&lines);

        let first = lines[0].replace(' ', "-");
        let data: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("admin/drop/report-{first}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(data, json!({ "pots": [] }));
        let meta =
            std::fs::read_to_string(dir.join(format!("admin/drop/report-{first}.meta"))).unwrap();
        assert!(meta.contains("description: Pots of the day"), "{meta}");
        assert!(meta.contains("mime_type: application/json"), "{meta}");

        let body = detail(&s, id).await;
        assert!(body.get("last_error_code").is_none(), "{body}");
        s.finish().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A failing program is recorded and retried; a hanging one is killed after its
/// timeout; neither holds up another report.
#[tokio::test]
async fn failing_and_hanging_generators_are_recorded_retried_and_isolated() {
    for b in backends() {
        let dir = scratch("fail");
        let s = TestServer::start_with(TestDb::new(&b).await, &generators(&dir)).await;
        let failing = create(&s, report("failing", &dir, 60_000_000)).await;
        let hanging = create(&s, report("hanging", &dir, 1_000_000)).await;
        let fine = create(&s, report("file", &dir, 1_000_000)).await;

        let attempts = || {
            std::fs::read_to_string(dir.join("attempts"))
                .unwrap_or_default()
                .lines()
                .count()
        };
        // The failing report is due within a minute; make it due now.
        let mut body = report("failing", &dir, 1_000_000);
        body["description"] = json!("failing");
        let (status, _) = s
            .call(
                Method::PATCH,
                &format!("/merchant/private/reports/{failing}"),
                Some(ADMIN_TOKEN),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(
            wait_for(Duration::from_secs(12), || attempts() >= 2).await,
            "the failing generator was not retried: {} attempts",
            attempts()
        );
        let body = detail(&s, failing).await;
        assert_eq!(body["last_error_code"], 60, "{body}");
        assert!(
            body["last_error_detail"].as_str().unwrap().contains("boom"),
            "{body}"
        );

        let mut hung = Value::Null;
        for _ in 0..60 {
            hung = detail(&s, hanging).await;
            if hung.get("last_error_detail").is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            hung["last_error_detail"]
                .as_str()
                .unwrap_or("")
                .contains("killed"),
            "{hung}"
        );
        // Meanwhile the healthy report kept being delivered.
        assert!(
            wait_for(Duration::from_secs(5), || deliveries(&dir).len() >= 2).await,
            "{:?} {}",
            deliveries(&dir),
            detail(&s, fine).await
        );
        assert!(detail(&s, fine).await.get("last_error_code").is_none());
        s.finish().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Two servers on one database: every due time is delivered once.
#[tokio::test]
async fn two_servers_deliver_each_due_report_once() {
    for b in backends() {
        let dir = scratch("two");
        let extra = generators(&dir);
        let db = TestDb::new(&b).await;
        let first = TestServer::start_with(db.clone(), &extra).await;
        let second = TestServer::start_with(db, &extra).await;
        let a = create(&first, report("file", &dir, 1_000_000)).await;
        let b2 = create(&second, report("file", &dir, 1_000_000)).await;
        assert!(
            wait_for(Duration::from_secs(12), || deliveries(&dir).len() >= 8).await,
            "{:?}",
            deliveries(&dir)
        );
        first.server.stop();
        let lines = deliveries(&dir);
        assert_distinct(&lines);
        for id in [a, b2] {
            assert!(
                lines
                    .iter()
                    .filter(|l| l.starts_with(&format!("{id} ")))
                    .count()
                    >= 3,
                "{lines:?}"
            );
            let body = detail(&second, id).await;
            assert!(body.get("last_error_code").is_none(), "{body}");
        }
        second.finish().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The generator section `report-generator-slow`: it appends the due time it was
/// started for to the returned file, takes 1.5 s, then delivers through the file drop.
/// `options` go into `[taler-openapi]`.
fn slow_generator(dir: &Path, options: &str) -> (PathBuf, String) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/taler-openapi-report-file");
    let started = dir.join("started");
    let slow = script(
        dir,
        "slow.sh",
        &format!(
            "echo $TALER_MERCHANT_REPORT_DUE >> {}; sleep 1.5; exec {} \"$@\"",
            started.display(),
            file.display()
        ),
    );
    let extra = format!(
        "[taler-openapi]\nMIN_REPORT_FREQUENCY_SECONDS = 1\n{options}\
         [report-generator-slow]\nBINARY = {}\nTIMEOUT = 5\nTARGET_DIRECTORY = {}\n",
        slow.display(),
        dir.display()
    );
    (started, extra)
}

/// Issue 36: a server told to stop while a report run is in progress lets it deliver
/// (within `SHUTDOWN_TIMEOUT_SECONDS`) instead of cutting it; the next start goes on
/// with the schedule, and no due time is delivered twice.
#[tokio::test]
async fn a_stopping_server_finishes_the_report_run_in_progress() {
    for b in backends() {
        let dir = scratch("stop");
        let (started, extra) = slow_generator(&dir, "");
        let s = TestServer::start_with(TestDb::new(&b).await, &extra).await;
        let id = create(&s, report("slow", &dir, 1_000_000)).await;
        assert!(
            wait_for(Duration::from_secs(10), || started.exists()).await,
            "the run did not start: {}",
            detail(&s, id).await
        );
        assert!(deliveries(&dir).is_empty(), "still sleeping");
        let s = s.restart().await;
        assert_eq!(
            deliveries(&dir).len(),
            1,
            "the run in progress was finished before the stop"
        );
        assert!(
            wait_for(Duration::from_secs(10), || deliveries(&dir).len() >= 2).await,
            "the schedule goes on: {:?}",
            deliveries(&dir)
        );
        s.finish().await;
        assert_distinct(&deliveries(&dir));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Issue 36, point 4: a server cut off in the middle of a delivery (its tasks aborted,
/// as in a crash: no lease given back) leaves the report to another server on the same
/// database, which delivers that due time within `REPORT_LEASE_SECONDS` (here 1), once.
/// `tests/cli.rs` kills a server process outright.
#[tokio::test]
async fn a_server_cut_off_mid_delivery_leaves_the_report_to_another() {
    for b in backends() {
        let dir = scratch("cut");
        let (started, extra) = slow_generator(&dir, "REPORT_LEASE_SECONDS = 1\n");
        let db = TestDb::new(&b).await;
        let first = TestServer::start_with(db.clone(), &extra).await;
        let id = create(&first, report("slow", &dir, 4_000_000)).await;
        assert!(
            wait_for(Duration::from_secs(10), || started.exists()).await,
            "the run did not start: {}",
            detail(&first, id).await
        );
        let due = std::fs::read_to_string(&started).unwrap().trim().to_owned();
        first.server.stop();
        let second = TestServer::start_with(db, &extra).await;
        let line = format!("{id} {due}");
        assert!(
            wait_for(Duration::from_secs(5), || deliveries(&dir).contains(&line)).await,
            "the second server did not take the report up: {:?}",
            deliveries(&dir)
        );
        // Long enough for the cut run's program to have delivered, had it lived.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let lines = deliveries(&dir);
        assert_eq!(lines.iter().filter(|l| **l == line).count(), 1, "{lines:?}");
        assert_distinct(&lines);
        let body = detail(&second, id).await;
        assert!(body.get("last_error_code").is_none(), "{body}");
        second.finish().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Issue 33, point 2: each instance's deliveries land in a room of its own under the
/// generator's `TARGET_DIRECTORY`, so two instances naming the same target (or one
/// naming what it guesses is another's) never see each other's reports.
#[tokio::test]
async fn each_instance_delivers_into_its_own_room() {
    for b in backends() {
        let dir = scratch("rooms");
        let s = TestServer::start_with(TestDb::new(&b).await, &generators(&dir)).await;
        let mut ids = Vec::new();
        for name in ["alpha", "beta"] {
            let token = s.instance_with_token(name, "all").await;
            let (status, body) = s
                .call(
                    Method::POST,
                    &format!("/merchant/instances/{name}/private/reports"),
                    Some(&token),
                    Some(report("file", &dir, 1_000_000)),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            ids.push((name, body["report_serial_id"].as_u64().unwrap()));
        }
        let log = |name: &str| {
            std::fs::read_to_string(dir.join(name).join("drop/deliveries.log")).unwrap_or_default()
        };
        assert!(
            wait_for(Duration::from_secs(10), || {
                !log("alpha").is_empty() && !log("beta").is_empty()
            })
            .await,
            "{:?} {:?}",
            log("alpha"),
            log("beta")
        );
        for (name, id) in &ids {
            for line in log(name).lines() {
                assert!(line.starts_with(&format!("{id} ")), "{name}: {line}");
            }
        }
        assert!(
            !dir.join("drop").exists(),
            "nothing lands outside the rooms"
        );
        s.finish().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
