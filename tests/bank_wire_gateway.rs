//! The Taler Wire Gateway of an exchange account over HTTP: incoming reserve and KYC
//! transfers, idempotent outgoing transfers, both histories with long polling.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "password-123";
const GW: &str = "/bank/accounts/exchange/taler-wire-gateway";

async fn account(s: &TestServer, username: &str, exchange: bool) {
    let (status, body) = s
        .call(
            Method::POST,
            "/bank/accounts",
            Some(ADMIN_TOKEN),
            Some(
                json!({ "username": username, "password": PASSWORD, "name": username,
                         "is_taler_exchange": exchange }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn gw(s: &TestServer, m: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = s
        .req(m, &format!("{GW}{path}"))
        .basic_auth("exchange", Some(PASSWORD));
    if let Some(b) = body {
        req = req.json(&b);
    }
    send(req).await
}

/// `admin/...` of the exchange's Wire Gateway, as the bank's administrator: libeufin-bank
/// serves these to the administrator only.
async fn admin_gw(s: &TestServer, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    s.call(
        Method::POST,
        &format!("{GW}{path}"),
        Some(ADMIN_TOKEN),
        body,
    )
    .await
}

fn key(n: u8) -> String {
    taler_openapi::taler::keys::encode(
        ed25519_dalek::SigningKey::from_bytes(&[n; 32])
            .verifying_key()
            .as_bytes(),
    )
}

fn payto(user: &str) -> String {
    format!("payto://x-taler-bank/localhost/{user}")
}

#[tokio::test]
async fn an_exchange_runs_against_the_bank() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "exchange", true).await;
        account(&s, "shop", false).await;
        account(&s, "alice", false).await;

        let (status, config) = s
            .call(Method::GET, &format!("{GW}/config"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{config}");
        assert_eq!(config["name"], json!("taler-wire-gateway"));
        assert_eq!(config["currency"], json!("KUDOS"));

        // Incoming: a reserve funded through admin/add-incoming, once per key.
        let (status, _) = gw(&s, Method::GET, "/history/incoming", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let waiter = {
            let req = s
                .req(
                    Method::GET,
                    &format!("{GW}/history/incoming?limit=5&timeout_ms=20000"),
                )
                .basic_auth("exchange", Some(PASSWORD));
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                (send(req).await, started.elapsed())
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let add =
            json!({ "amount": "KUDOS:20", "reserve_pub": key(1), "debit_account": payto("alice") });
        let (status, body) = admin_gw(&s, "/admin/add-incoming", Some(add.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ((status, polled), waited) = waiter.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{polled}");
        assert!(waited.as_secs() < 10, "woken by the incoming transfer");
        assert_eq!(
            polled["incoming_transactions"][0]["reserve_pub"],
            json!(key(1))
        );
        let (status, body) = admin_gw(&s, "/admin/add-incoming", Some(add)).await;
        assert_error(status, &body, 409, 5114);
        let (status, body) = admin_gw(
            &s,
            "/admin/add-incoming",
            Some(json!({ "amount": "KUDOS:1", "reserve_pub": key(2), "debit_account": payto("nobody") })),
        )
        .await;
        assert_error(status, &body, 409, 5125);
        let (status, body) = admin_gw(
            &s,
            "/admin/add-kycauth",
            Some(json!({ "amount": "KUDOS:0.1", "account_pub": key(3), "debit_account": payto("alice") })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // A core transfer to the exchange naming a reserve key is incoming too; one
        // whose subject names none goes back to alice at once (libeufin-bank's bounce).
        for (subject, amount) in [(key(4), "KUDOS:5"), ("no key here".to_owned(), "KUDOS:1")] {
            let req = s
                .req(Method::POST, "/bank/accounts/alice/transactions")
                .basic_auth("alice", Some(PASSWORD))
                .json(&json!({
                    "payto_uri": format!("{}?message={}", payto("exchange"), subject.replace(' ', "+")),
                    "amount": amount,
                }));
            let (status, body) = send(req).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let req = s
            .req(Method::GET, "/bank/accounts/alice/transactions?limit=-1")
            .basic_auth("alice", Some(PASSWORD));
        let (status, history) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{history}");
        let bounce = &history["transactions"][0];
        assert_eq!(bounce["direction"], json!("credit"), "{history}");
        assert_eq!(bounce["amount"], json!("KUDOS:1"));
        assert!(
            bounce["subject"].as_str().unwrap().starts_with("Bounce "),
            "{bounce}"
        );
        let (status, incoming) = gw(&s, Method::GET, "/history/incoming?limit=10", None).await;
        assert_eq!(status, StatusCode::OK, "{incoming}");
        let kinds: Vec<(&str, &str)> = incoming["incoming_transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["type"].as_str().unwrap(), t["amount"].as_str().unwrap()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("RESERVE", "KUDOS:20"),
                ("KYCAUTH", "KUDOS:0.1"),
                ("RESERVE", "KUDOS:5")
            ]
        );
        assert_eq!(
            incoming["incoming_transactions"][1]["account_pub"],
            json!(key(3))
        );
        assert_eq!(
            incoming["credit_account"],
            json!("payto://x-taler-bank/localhost/exchange?receiver-name=exchange")
        );

        // Outgoing: the exchange pays the shop; idempotent by request_uid.
        let uid = taler_openapi::taler::keys::encode(&[7u8; 64]);
        let wtid = taler_openapi::taler::keys::encode(&[8u8; 32]);
        let transfer = json!({
            "request_uid": uid, "amount": "KUDOS:12", "exchange_base_url": "https://exchange.example/",
            "wtid": wtid, "credit_account": payto("shop"),
        });
        let (status, first) = gw(&s, Method::POST, "/transfer", Some(transfer.clone())).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (status, again) = gw(&s, Method::POST, "/transfer", Some(transfer.clone())).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again, first);
        let mut other = transfer.clone();
        other["amount"] = json!("KUDOS:13");
        let (status, body) = gw(&s, Method::POST, "/transfer", Some(other)).await;
        assert_error(status, &body, 409, 5112);
        let mut same_wtid = transfer.clone();
        same_wtid["request_uid"] = json!(taler_openapi::taler::keys::encode(&[9u8; 64]));
        let (status, body) = gw(&s, Method::POST, "/transfer", Some(same_wtid)).await;
        assert_error(status, &body, 409, 5154);
        let mut unknown = transfer.clone();
        unknown["request_uid"] = json!(taler_openapi::taler::keys::encode(&[10u8; 64]));
        unknown["wtid"] = json!(taler_openapi::taler::keys::encode(&[11u8; 32]));
        unknown["credit_account"] = json!(payto("nobody"));
        let (status, body) = gw(&s, Method::POST, "/transfer", Some(unknown)).await;
        assert_error(status, &body, 409, 5124);

        let row = first["row_id"].as_u64().unwrap();
        let (status, listed) = gw(&s, Method::GET, "/transfers", None).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(listed["transfers"][0]["row_id"], json!(row));
        assert_eq!(listed["transfers"][0]["status"], json!("success"));
        let (status, one) = gw(&s, Method::GET, &format!("/transfers/{row}"), None).await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_eq!(one["wtid"], json!(wtid));
        assert_eq!(one["exchange_base_url"], json!("https://exchange.example/"));
        let (status, body) = gw(&s, Method::GET, "/transfers/1", None).await;
        assert_error(status, &body, 404, 5107);
        let (status, outgoing) = gw(&s, Method::GET, "/history/outgoing?limit=5", None).await;
        assert_eq!(status, StatusCode::OK, "{outgoing}");
        assert_eq!(outgoing["outgoing_transactions"][0]["wtid"], json!(wtid));
        assert_eq!(
            outgoing["outgoing_transactions"].as_array().unwrap().len(),
            1
        );

        // The shop sees the payment in its Revenue API history; the exchange's balance
        // is what came in (and was not returned) minus what went out.
        let req = s
            .req(Method::GET, "/bank/accounts/shop/taler-revenue/history")
            .basic_auth("shop", Some(PASSWORD));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["incoming_transactions"][0]["subject"],
            json!(format!("{wtid} https://exchange.example/"))
        );
        let (_, account) = s
            .call(
                Method::GET,
                "/bank/accounts/exchange",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(account["balance"]["amount"], json!("KUDOS:13.1"));

        // Only the exchange's own credentials, and only exchange accounts.
        let req = s
            .req(Method::GET, &format!("{GW}/history/incoming"))
            .basic_auth("alice", Some(PASSWORD));
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        let req = s
            .req(
                Method::GET,
                "/bank/accounts/shop/taler-wire-gateway/history/incoming",
            )
            .basic_auth("shop", Some(PASSWORD));
        let (status, body) = send(req).await;
        assert_error(status, &body, 409, 5127);
        s.finish().await;
    }
}
