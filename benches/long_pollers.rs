//! How cheap are long pollers? Opens N concurrent `GET .../taler-revenue/history`
//! long polls on one account (SQLite, release build), then records one transfer and
//! measures how long until every poller has its answer, and the server's memory.
//!
//! Run: `cargo bench --bench long_pollers -- 2000` (N defaults to 2000).

use std::time::{Duration, Instant};

use serde_json::json;
use taler_openapi::{Config, config::Ini};

const ADMIN: &str = "secret-token:BENCHADMINTOKEN0123456789";

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let pollers: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("taler-openapi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ini = format!(
        "[taler-openapi]\nLISTEN = 127.0.0.1:0\nDATABASE_URL = sqlite://{}/bench.sqlite?mode=rwc\nADMIN_TOKEN = {ADMIN}\n",
        dir.display()
    );
    let config = Config::from_ini(Ini::parse_str(&ini).unwrap()).unwrap();
    let state = taler_openapi::open_state(config, None).await.unwrap();
    let server = taler_openapi::start(state).await.unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(pollers + 10)
        .build()
        .unwrap();
    for user in ["shop", "alice"] {
        let resp = client
            .post(server.url("/bank/accounts"))
            .bearer_auth(ADMIN)
            .json(&json!({ "username": user, "password": "bench-password", "name": user }))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
    }
    let token: serde_json::Value = client
        .post(server.url("/bank/accounts/shop/token"))
        .basic_auth("shop", Some("bench-password"))
        .json(&json!({ "scope": "revenue" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();

    let rss_before = rss_kib();
    let url = server.url("/bank/accounts/shop/taler-revenue/history?limit=1&timeout_ms=60000");
    let mut tasks = Vec::with_capacity(pollers);
    for _ in 0..pollers {
        let req = client.get(&url).bearer_auth(&token);
        tasks.push(tokio::spawn(async move {
            let resp = req.send().await.unwrap();
            (resp.status(), Instant::now())
        }));
    }
    // Let every poller reach its wait.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_waiting = rss_kib();

    let sent = Instant::now();
    let resp = client
        .post(server.url("/bank/accounts/alice/transactions"))
        .basic_auth("alice", Some("bench-password"))
        .json(&json!({ "payto_uri": "payto://x-taler-bank/localhost/shop?message=wake", "amount": "KUDOS:1" }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let mut latest = Duration::ZERO;
    let mut answered = 0;
    for t in tasks {
        let (status, at) = t.await.unwrap();
        if status == reqwest::StatusCode::OK {
            answered += 1;
        }
        latest = latest.max(at.saturating_duration_since(sent));
    }
    println!("long pollers:                 {pollers}");
    println!("answered with the transfer:   {answered}");
    println!(
        "all answered after transfer:  {:.1} ms",
        latest.as_secs_f64() * 1e3
    );
    println!(
        "process RSS while waiting:    {} KiB (+{} KiB, {:.1} KiB per poller, client side included)",
        rss_waiting,
        rss_waiting.saturating_sub(rss_before),
        rss_waiting.saturating_sub(rss_before) as f64 / pollers as f64
    );
    server.stop();
    let _ = std::fs::remove_dir_all(dir);
}
