//! Operations as a service manager expects (issue 36): a graceful stop.

mod common;

use std::time::{Duration, Instant};

use common::{ADMIN_TOKEN, TestServer, backends, instance_request};
use reqwest::{Method, StatusCode};
use serde_json::json;
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
                "/bank/accounts/alice/taler-revenue/history?timeout_ms=30000",
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
