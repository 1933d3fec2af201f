//! What the benches share: the server as a child process, a free port, the
//! server's own database pool, wrk's durations.

#![allow(dead_code)]

use std::process::Child;

use sea_orm::DatabaseConnection;

/// The server's process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A duration as wrk prints it (`812.00us`, `1.20ms`, `2.01s`), in milliseconds.
pub fn parse_ms(text: &str) -> f64 {
    let (number, unit) =
        text.split_at(text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len()));
    let n: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

/// The server's own pool settings (the same `store::connect`), on the same database.
pub async fn connect(url: &str) -> DatabaseConnection {
    let ini =
        taler_openapi::config::Ini::parse_str(&format!("[taler-openapi]\nDATABASE_URL = {url}\n"))
            .unwrap();
    let config = taler_openapi::Config::from_ini(ini).unwrap();
    taler_openapi::store::connect(&config, None).await.unwrap()
}

/// `Bearer …` of a token a password logs in to (`POST …/token` with HTTP Basic): the
/// bank's accounts and the merchant's instances alike.
pub async fn bearer_by_password(
    client: &reqwest::Client,
    token_url: &str,
    user: &str,
    password: &str,
    scope: &str,
) -> String {
    let answer = client
        .post(token_url)
        .basic_auth(user, Some(password))
        .json(&serde_json::json!({ "scope": scope }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    format!("Bearer {}", answer["access_token"].as_str().unwrap())
}
