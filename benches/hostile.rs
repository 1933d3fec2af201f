//! What an anonymous attacker can do to the release server (a separate process, SQLite):
//!
//! 1. Password flood: two bursts of 64 concurrent clients sending wrong passwords for
//!    6 s each (half to the bank's HTTP Basic history, half to the merchant's token
//!    endpoint), with the login throttle turned off so every guess reaches the hashing
//!    pool (the worst case: guesses spread over many accounts and addresses). Prints the
//!    server's RSS at start, its peak in each burst and 5 s after, and the p99 of
//!    `GET /merchant/config` during the flood.
//! 2. Slow headers: 1,500 connections that send half a request header; prints how long a
//!    normal request takes beside them and how long until the server closed them all.
//!
//! Run: `cargo bench --bench hostile` (targets: RSS growth < 300 MB, back within 100 MB
//! 5 s after, config p99 < 250 ms; a normal request < 1 s, half-sent ones closed < 35 s).

use std::{
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN: &str = "secret-token:BENCHADMINTOKEN0123456789";

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("taler-openapi-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let conf = dir.join("taler.conf");
    std::fs::write(
        &conf,
        format!(
            "[taler-openapi]\nLISTEN = 127.0.0.1:{port}\nDATABASE_URL = sqlite://{}/db.sqlite?mode=rwc\n\
             ADMIN_TOKEN = {ADMIN}\nLOGIN_FAILURES_PER_ACCOUNT = 1000000000\n\
             LOGIN_FAILURES_PER_ADDRESS = 1000000000\n[donau]\nDONATION_UNIT_VALUES = NONE\n",
            dir.display()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_taler-openapi"))
        .arg("-c")
        .arg(&conf)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _server = Server(child);
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client
            .get(format!("{base}/merchant/config"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ok = client
        .post(format!("{base}/merchant/management/instances"))
        .bearer_auth(ADMIN)
        .json(&json!({"id": "shop", "name": "Shop", "auth": {"method": "token", "password": "shop-password"},
                      "address": {}, "jurisdiction": {}, "use_stefan": true}))
        .send()
        .await
        .unwrap();
    assert!(ok.status().is_success());
    let ok = client
        .post(format!("{base}/bank/accounts"))
        .bearer_auth(ADMIN)
        .json(&json!({"username": "shop", "password": "shop-password", "name": "Shop"}))
        .send()
        .await
        .unwrap();
    assert!(ok.status().is_success());

    println!("password flood (64 clients x 6 s, twice; throttle off):");
    let start = rss_mib(pid);
    println!("  RSS at start:                {start:.0} MiB");
    let mut config_latencies = Vec::new();
    let mut peak_all = start;
    for burst in 1..=2 {
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(AtomicU64::new(0));
        let busy = Arc::new(AtomicU64::new(0));
        let mut flood = Vec::new();
        for n in 0..64 {
            let (client, base, stop, answers, busy) = (
                client.clone(),
                base.clone(),
                stop.clone(),
                answers.clone(),
                busy.clone(),
            );
            flood.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let req = if n % 2 == 0 {
                        client
                            .get(format!("{base}/bank/accounts/shop/taler-revenue/history"))
                            .basic_auth("shop", Some("wrong-password"))
                    } else {
                        client
                            .post(format!("{base}/merchant/instances/shop/private/token"))
                            .basic_auth("shop", Some("wrong-password"))
                            .json(&json!({"scope": "readonly"}))
                    };
                    if let Ok(resp) = req.send().await {
                        answers.fetch_add(1, Ordering::Relaxed);
                        if resp.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                            busy.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        let started = Instant::now();
        let mut peak = 0f64;
        while started.elapsed() < Duration::from_secs(6) {
            let t = Instant::now();
            let resp = client.get(format!("{base}/merchant/config")).send().await;
            if resp.is_ok() {
                config_latencies.push(t.elapsed());
            }
            peak = peak.max(rss_mib(pid));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::Relaxed);
        for f in flood {
            let _ = f.await;
        }
        peak_all = peak_all.max(peak);
        println!(
            "  burst {burst}: {} answers ({} of them 503 busy), peak RSS {peak:.0} MiB",
            answers.load(Ordering::Relaxed),
            busy.load(Ordering::Relaxed)
        );
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss_mib(pid);
    println!(
        "  RSS growth at peak:          {:.0} MiB (target < 300 MB)",
        peak_all - start
    );
    println!(
        "  RSS 5 s after:               {after:.0} MiB, {:+.0} MiB from start (target within 100 MB)",
        after - start
    );
    println!(
        "  GET /merchant/config p99:    {:.1} ms over {} requests (target < 250 ms)",
        p99(config_latencies.clone()).as_secs_f64() * 1e3,
        config_latencies.len()
    );

    println!("slow headers (1,500 half-sent requests):");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut slow = Vec::new();
    for _ in 0..1500 {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(mut c) => {
                let _ = c
                    .write_all(b"GET /merchant/config HTTP/1.1\r\nHost: x\r\n")
                    .await;
                slow.push(c);
            }
            Err(e) => {
                println!("  connect failed after {}: {e}", slow.len());
                break;
            }
        }
    }
    let opened = Instant::now();
    let t = Instant::now();
    let normal = tokio::time::timeout(
        Duration::from_secs(30),
        client.get(format!("{base}/merchant/config")).send(),
    )
    .await;
    println!(
        "  normal request beside them:  {} in {:.1} ms (target < 1 s)",
        match normal {
            Ok(Ok(r)) => r.status().to_string(),
            _ => "no answer".to_owned(),
        },
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut closed = 0;
    let mut last = Duration::ZERO;
    for mut c in slow {
        let mut buf = Vec::new();
        let left = Duration::from_secs(60).saturating_sub(opened.elapsed());
        if tokio::time::timeout(left, c.read_to_end(&mut buf))
            .await
            .is_ok()
        {
            closed += 1;
            last = last.max(opened.elapsed());
        }
    }
    println!(
        "  closed by the server:        {closed} of 1500, the last after {:.1} s (target < 35 s)",
        last.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
