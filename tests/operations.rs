//! Operations as a service manager expects (issue 36): a graceful stop, readiness, and
//! a database restart survived.

mod common;

use std::{
    path::PathBuf,
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use common::{ADMIN_TOKEN, Backend, TestDb, TestServer, backends, instance_request, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A stop (what SIGTERM and SIGINT do) closes the door and lets the room empty: no new
/// connections; a parked long poll gets its empty result at once (not a cut
/// connection); a request whose body is still arriving is finished and answered, with
/// `connection: close`; and what it wrote is there after a restart.
#[tokio::test]
async fn a_stop_answers_parked_long_polls_and_finishes_requests_in_flight() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, body) = s
            .call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(json!({"username": "alice", "password": "alice-password", "name": "Alice"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // A long poll of the Revenue API, parked for up to 30 s.
        let poll = s
            .req(
                Method::GET,
                "/bank/accounts/alice/taler-revenue/history?limit=5&timeout_ms=30000",
            )
            .basic_auth("alice", Some("alice-password"))
            .send();
        let poll = tokio::spawn(async move {
            let resp = poll.await.expect("the long poll is answered, not cut");
            (resp.status(), Instant::now())
        });
        // A request in flight: headers sent, the body not yet.
        let body = serde_json::to_vec(&instance_request("late", "pw-secret")).unwrap();
        let mut raw = tokio::net::TcpStream::connect(s.server.addr).await.unwrap();
        let head = format!(
            "POST /merchant/management/instances HTTP/1.1\r\nhost: x\r\n\
             authorization: Bearer {ADMIN_TOKEN}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n",
            body.len()
        );
        raw.write_all(head.as_bytes()).await.unwrap();
        raw.write_all(&body[..10]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;

        assert!(!poll.is_finished(), "the long poll is parked");
        let addr = s.server.addr;
        let db = s.db.clone();
        let stopped_at = Instant::now();
        let shutdown = tokio::spawn(s.server.shutdown());
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The door is closed.
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
        // The parked poll got its empty result at once.
        let (status, answered_at) = poll.await.unwrap();
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(answered_at - stopped_at < Duration::from_secs(3));
        // The request in flight is finished and answered, and the connection closed.
        raw.write_all(&body[10..]).await.unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(5), raw.read_to_string(&mut answer))
            .await
            .expect("answered and closed")
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        tokio::time::timeout(Duration::from_secs(5), shutdown)
            .await
            .expect("the stop ends once nothing is in flight")
            .unwrap();

        // What it acknowledged is there after a restart.
        let s = TestServer::start_with(db, "").await;
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/management/instances/late",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        s.finish().await;
    }
}

/// A PostgreSQL cluster of this test's own, to stop and start (never the shared one):
/// `initdb` in a temporary directory, run as `postgres` when the tests run as root.
struct ThrowAwayCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl ThrowAwayCluster {
    fn create() -> ThrowAwayCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| versions.filter_map(|v| v.ok()).map(|v| v.path()).max())
            .map(|v| v.join("bin"))
            .or_else(|| {
                let out = Command::new("pg_config").arg("--bindir").output().ok()?;
                Some(PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()))
            })
            .expect("PostgreSQL's programs (initdb, pg_ctl) are installed");
        let dir = std::env::temp_dir().join(format!("taler-openapi-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = ThrowAwayCluster { bin, dir, port };
        if cluster.as_root() {
            let uid = Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .unwrap();
            let gid = Command::new("id")
                .args(["-g", "postgres"])
                .output()
                .unwrap();
            let number = |o: std::process::Output| -> u32 {
                String::from_utf8(o.stdout).unwrap().trim().parse().unwrap()
            };
            std::os::unix::fs::chown(&cluster.dir, Some(number(uid)), Some(number(gid))).unwrap();
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn as_root(&self) -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if self.as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// A fast stop: sessions are ended, as in a restart by an administrator.
    fn stop(&self) {
        let data = self.dir.join("data");
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for ThrowAwayCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
        if self.as_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn bank_account(s: &TestServer, username: &str) {
    let (status, body) = s
        .call(
            Method::POST,
            "/bank/accounts",
            Some(ADMIN_TOKEN),
            Some(json!({"username": username, "password": "bank-password", "name": username})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A refusal while the database cannot be reached: 503, `Retry-After`, an
/// `ErrorDetail` with `TALER_EC_GENERIC_DB_SETUP_FAILED`.
fn assert_unreachable(status: StatusCode, retry_after: Option<&str>, body: &Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry_after, Some("5"));
    assert_eq!(body["code"], 50, "{body}");
}

async fn call_with_retry_after(
    s: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut req = s.req(method, path).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    (
        status,
        retry_after,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Issue 36, point 4: PostgreSQL restarted (a fast stop, a second down, started again)
/// while a client writes and a long poll is parked. Each write is acknowledged (200)
/// or refused with 503 and `Retry-After`, never 500; every acknowledged write is there
/// afterwards; the pool and the `LISTEN` connection come back by themselves, so the
/// poll parked before the restart is woken by a transfer made after it. Then an
/// outage longer than `DATABASE_WAIT_SECONDS`: requests are answered 503 within that
/// bound (not left hanging), `/health` says 503, and both recover when it is back.
#[tokio::test]
async fn a_database_restart_is_survived() {
    if !backends().iter().any(|b| matches!(b, Backend::Postgres(_))) {
        return; // a PostgreSQL test: it runs with the others (`TALER_OPENAPI_TEST_POSTGRES`)
    }
    let cluster = tokio::task::spawn_blocking(ThrowAwayCluster::create)
        .await
        .unwrap();
    let cluster = Arc::new(cluster);
    let db = TestDb::new(&Backend::Postgres(cluster.url())).await;
    let s = Arc::new(TestServer::start_with(db, "DATABASE_WAIT_SECONDS = 3\n").await);
    let token = s.instance_with_token("shop", "all").await;
    bank_account(&s, "seller").await;
    bank_account(&s, "buyer").await;

    // A long poll on the seller's incoming transfers, parked before the restart.
    let poll = {
        let req = s
            .req(
                Method::GET,
                "/bank/accounts/seller/taler-revenue/history?limit=5&timeout_ms=30000",
            )
            .basic_auth("seller", Some("bank-password"));
        tokio::spawn(send(req))
    };
    // A writer creating pots, one after another, through the restart.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (s, token, writing) = (s.clone(), token.clone(), writing.clone());
        tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut n = 0;
            while writing.load(Ordering::Relaxed) {
                n += 1;
                let answer = call_with_retry_after(
                    &s,
                    Method::POST,
                    "/merchant/instances/shop/private/pots",
                    &token,
                    Some(json!({"pot_name": format!("pot-{n}"), "description": "d"})),
                )
                .await;
                answers.push(answer);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!poll.is_finished(), "the long poll is parked");
    {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || {
            cluster.stop();
            std::thread::sleep(Duration::from_secs(1));
            cluster.start();
        })
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    writing.store(false, Ordering::Relaxed);
    let answers = writer.await.unwrap();

    // Acknowledged or refused with 503, never 500; and writes go through again.
    let mut acknowledged = Vec::new();
    for (status, retry_after, body) in &answers {
        if *status == StatusCode::OK {
            acknowledged.push(body["pot_serial_id"].as_u64().unwrap());
        } else {
            assert_unreachable(*status, retry_after.as_deref(), body);
        }
    }
    eprintln!(
        "through the restart: {} writes acknowledged, {} refused with 503",
        acknowledged.len(),
        answers.len() - acknowledged.len()
    );
    assert_eq!(
        answers.last().map(|a| a.0),
        Some(StatusCode::OK),
        "writes go through after the restart"
    );
    for serial in &acknowledged {
        let (status, body) = s
            .call(
                Method::GET,
                &format!("/merchant/instances/shop/private/pots/{serial}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "acknowledged pot {serial}: {body}");
    }

    // The poll parked before the restart is woken by a transfer made after it.
    let paid = s
        .req(Method::POST, "/bank/accounts/buyer/transactions")
        .basic_auth("buyer", Some("bank-password"))
        .json(&json!({
            "payto_uri": "payto://x-taler-bank/localhost/seller?message=after%20the%20restart",
            "amount": "KUDOS:3",
        }));
    let (status, body) = send(paid).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .expect("the parked poll is woken")
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["incoming_transactions"][0]["subject"],
        "after the restart"
    );

    // A longer outage: answered 503 within the wait, readiness fails, both recover.
    {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop())
            .await
            .unwrap();
    }
    let started = Instant::now();
    let (status, retry_after, body) = call_with_retry_after(
        &s,
        Method::GET,
        "/merchant/instances/shop/private/pots",
        &token,
        None,
    )
    .await;
    assert_unreachable(status, retry_after.as_deref(), &body);
    assert!(
        started.elapsed() < Duration::from_secs(3 + 3),
        "{:?}",
        started.elapsed()
    );
    let health = s.req(Method::GET, "/health").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.start())
            .await
            .unwrap();
    }
    let ready = async {
        loop {
            let health = s.req(Method::GET, "/health").send().await.unwrap();
            if health.status() == StatusCode::OK {
                return health.json::<Value>().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let body = tokio::time::timeout(Duration::from_secs(10), ready)
        .await
        .expect("ready again");
    assert_eq!(body, json!({"status": "ok"}));
    let (status, body) = s
        .call(
            Method::GET,
            "/merchant/instances/shop/private/pots",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(s);
}

/// A small round-robin balancer for the multi-server test: each connection it accepts
/// goes to the next server, bytes copied both ways.
async fn round_robin(servers: Vec<std::net::SocketAddr>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut next = 0;
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let server = servers[next % servers.len()];
            next += 1;
            tokio::spawn(async move {
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(server).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    addr
}

/// Calls through the balancer: a connection per request, so consecutive requests
/// reach consecutive servers.
struct Balanced {
    base: String,
    client: reqwest::Client,
}

impl Balanced {
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        common::call_with(self.req(method, path), token, body).await
    }
}

/// Spawns `req` and gives back its answer and how long it took.
fn timed(req: reqwest::RequestBuilder) -> tokio::task::JoinHandle<((StatusCode, Value), Duration)> {
    tokio::spawn(async move {
        let started = Instant::now();
        (send(req).await, started.elapsed())
    })
}

/// Issue 36, point 3: three servers on one PostgreSQL database behind a round-robin
/// balancer. Long polls parked on one server are woken by writes through another
/// (Revenue, Wire Gateway, account history, orders); compare-and-set holds across
/// servers (a pot's expected totals, an idempotent gateway transfer, a debit limit);
/// failed logins are counted once whichever server sees them. (That each due report is
/// delivered once by one of several servers: `merchant_reports`.)
#[tokio::test]
async fn three_servers_behind_a_balancer_share_one_database() {
    for b in backends() {
        if matches!(b, Backend::Sqlite) {
            continue; // several servers share a database on PostgreSQL
        }
        let db = TestDb::new(&b).await;
        let extra = "LOGIN_FAILURES_PER_ACCOUNT = 10\nLOGIN_FAILURES_PER_ADDRESS = 1000\n";
        // Started together on an empty schema: they take turns with the migrations.
        let servers: Vec<TestServer> = futures_util::future::join_all(
            (0..3).map(|_| TestServer::start_with(db.clone(), extra)),
        )
        .await;
        let lb = Balanced {
            base: format!(
                "http://{}",
                round_robin(servers.iter().map(|s| s.server.addr).collect()).await
            ),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        };
        for (user, exchange) in [("exchange", true), ("seller", false), ("buyer", false)] {
            let (status, body) = lb
                .call(
                    Method::POST,
                    "/bank/accounts",
                    Some(ADMIN_TOKEN),
                    Some(
                        json!({"username": user, "password": "bank-password", "name": user,
                                "is_taler_exchange": exchange}),
                    ),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, body) = lb
            .call(
                Method::POST,
                "/merchant/private/accounts",
                Some(ADMIN_TOKEN),
                Some(json!({"payto_uri": "payto://x-taler-bank/localhost/seller?receiver-name=Seller"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Long polls parked on the first server ...
        let first = &servers[0];
        let basic =
            |req: reqwest::RequestBuilder, user: &str| req.basic_auth(user, Some("bank-password"));
        let revenue = timed(basic(
            first.req(
                Method::GET,
                "/bank/accounts/seller/taler-revenue/history?limit=5&timeout_ms=20000",
            ),
            "seller",
        ));
        let account_history = timed(basic(
            first.req(
                Method::GET,
                "/bank/accounts/seller/transactions?limit=5&timeout_ms=20000",
            ),
            "seller",
        ));
        let gateway = timed(basic(
            first.req(
                Method::GET,
                "/bank/accounts/exchange/taler-wire-gateway/history/incoming?limit=5&timeout_ms=20000",
            ),
            "exchange",
        ));
        let orders = timed(
            first
                .req(
                    Method::GET,
                    "/merchant/private/orders?limit=5&offset=0&timeout_ms=20000",
                )
                .bearer_auth(ADMIN_TOKEN),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        for poll in [&revenue, &account_history, &gateway, &orders] {
            assert!(!poll.is_finished(), "parked");
        }
        // ... woken by writes through the others.
        let (status, body) = send(
            basic(
                servers[1].req(Method::POST, "/bank/accounts/buyer/transactions"),
                "buyer",
            )
            .json(&json!({
                "payto_uri": "payto://x-taler-bank/localhost/seller?message=first",
                "amount": "KUDOS:3",
            })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let reserve_pub = taler_openapi::taler::keys::encode(
            ed25519_dalek::SigningKey::from_bytes(&[1; 32])
                .verifying_key()
                .as_bytes(),
        );
        let (status, body) = servers[2]
            .call(
                Method::POST,
                "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming",
                Some(ADMIN_TOKEN),
                Some(json!({"amount": "KUDOS:20", "reserve_pub": reserve_pub,
                            "debit_account": "payto://x-taler-bank/localhost/buyer"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = servers[1]
            .call(
                Method::POST,
                "/merchant/private/orders",
                Some(ADMIN_TOKEN),
                Some(json!({"order": {"amount": "KUDOS:1", "summary": "Woken elsewhere"}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for (name, poll, field) in [
            ("revenue", revenue, "incoming_transactions"),
            ("account history", account_history, "transactions"),
            ("wire gateway", gateway, "incoming_transactions"),
            ("orders", orders, "orders"),
        ] {
            let ((status, body), waited) = poll.await.unwrap();
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
            assert_eq!(
                body[field].as_array().map(Vec::len),
                Some(1),
                "{name}: {body}"
            );
            assert!(waited < Duration::from_secs(10), "{name}: {waited:?}");
        }

        // A pot's expected totals: six racing updates, one wins.
        let (status, body) = lb
            .call(
                Method::POST,
                "/merchant/private/pots",
                Some(ADMIN_TOKEN),
                Some(json!({"pot_name": "tips", "description": "Tips"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let pot = format!("/merchant/private/pots/{}", body["pot_serial_id"]);
        let updates = (0..6).map(|n| {
            lb.call(
                Method::PATCH,
                &pot,
                Some(ADMIN_TOKEN),
                Some(json!({"pot_name": "tips", "description": "Tips",
                            "expected_pot_totals": [], "new_pot_totals": [format!("EUR:{}", n + 1)]})),
            )
        });
        let answers = futures_util::future::join_all(updates).await;
        let won: Vec<_> = answers.iter().filter(|(s, _)| s.is_success()).collect();
        assert_eq!(won.len(), 1, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| !s.is_success()) {
            common::assert_error(*status, body, 409, 2691);
        }

        // An idempotent gateway transfer: six racing copies, one transfer.
        let transfer = json!({
            "request_uid": taler_openapi::taler::keys::encode(&[7u8; 64]),
            "amount": "KUDOS:2",
            "exchange_base_url": "https://exchange.example/",
            "wtid": taler_openapi::taler::keys::encode(&[8u8; 32]),
            "credit_account": "payto://x-taler-bank/localhost/seller",
        });
        let copies = (0..6).map(|_| {
            send(
                basic(
                    lb.req(
                        Method::POST,
                        "/bank/accounts/exchange/taler-wire-gateway/transfer",
                    ),
                    "exchange",
                )
                .json(&transfer),
            )
        });
        let answers = futures_util::future::join_all(copies).await;
        assert!(
            answers.iter().all(|(s, _)| *s == StatusCode::OK),
            "{answers:?}"
        );
        assert!(
            answers
                .iter()
                .all(|(_, b)| b["row_id"] == answers[0].1["row_id"])
        );
        let (status, body) = send(basic(
            lb.req(
                Method::GET,
                "/bank/accounts/exchange/taler-wire-gateway/transfers",
            ),
            "exchange",
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["transfers"].as_array().unwrap().len(), 1, "{body}");

        // A debit limit: the buyer owes KUDOS:23 (the payment, the reserve it funded) and
        // may owe KUDOS:1000; twelve racing payments of KUDOS:100 through all three
        // servers, nine go through.
        let payments =
            (0..12).map(|n| {
                send(basic(
                lb.req(Method::POST, "/bank/accounts/buyer/transactions"),
                "buyer",
            )
            .json(&json!({
                "payto_uri": format!("payto://x-taler-bank/localhost/seller?message=race-{n}"),
                "amount": "KUDOS:100",
            })))
            });
        let answers = futures_util::future::join_all(payments).await;
        let paid = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!(paid, 9, "{answers:?}");
        for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
            common::assert_error(*status, body, 409, 5102);
        }
        let (status, body) = lb
            .call(Method::GET, "/bank/accounts/buyer", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["balance"]["amount"], "KUDOS:923", "{body}");
        assert_eq!(body["balance"]["credit_debit_indicator"], "debit", "{body}");

        // Failed logins, whichever server sees them: ten 401s, then 429.
        for n in 0..12 {
            let req = lb
                .req(Method::GET, "/bank/accounts/seller/taler-revenue/history")
                .basic_auth("seller", Some(format!("wrong-{n}")));
            let status = req.send().await.unwrap().status().as_u16();
            assert_eq!(status, if n < 10 { 401 } else { 429 }, "guess {n}");
        }

        for s in servers.into_iter().skip(1) {
            s.server.stop();
        }
        TestServer::start_with(db, extra).await.finish().await;
    }
}
