//! Bank accounts, transfers and the Taler Revenue API history over HTTP.

mod common;

use std::time::{Duration, Instant};

use common::{ADMIN_TOKEN, TestServer, assert_error, backends, header, read_response, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "password-123";

async fn account(s: &TestServer, username: &str) {
    let (status, body) = s
        .call(
            Method::POST,
            "/bank/accounts",
            Some(ADMIN_TOKEN),
            Some(json!({ "username": username, "password": PASSWORD, "name": format!("{username} Ltd") })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["internal_payto_uri"],
        format!("payto://x-taler-bank/localhost/{username}?receiver-name={username}+Ltd")
    );
}

/// `from` pays `amount` to `to`; returns the row id.
async fn pay(s: &TestServer, from: &str, to: &str, amount: &str, subject: &str) -> u64 {
    let req = s
        .req(Method::POST, &format!("/bank/accounts/{from}/transactions"))
        .basic_auth(from, Some(PASSWORD))
        .json(&json!({
            "payto_uri": format!("payto://x-taler-bank/localhost/{to}?message={subject}"),
            "amount": amount,
        }));
    let (status, body) = send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["row_id"].as_u64().unwrap()
}

async fn history(s: &TestServer, user: &str, query: &str) -> (StatusCode, Value) {
    let req = s
        .req(
            Method::GET,
            &format!("/bank/accounts/{user}/taler-revenue/history{query}"),
        )
        .basic_auth(user, Some(PASSWORD));
    send(req).await
}

fn row_ids(body: &Value) -> Vec<u64> {
    body["incoming_transactions"]
        .as_array()
        .map(|a| a.iter().map(|t| t["row_id"].as_u64().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn history_paginates_in_both_directions() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        account(&s, "bob").await;
        let (status, body) = history(&s, "shop", "").await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
        let mut ids = Vec::new();
        for i in 0..25 {
            ids.push(
                pay(
                    &s,
                    "alice",
                    "shop",
                    &format!("KUDOS:{i}.5"),
                    &format!("order{i}"),
                )
                .await,
            );
            // Transfers to another account stay out of shop's history.
            pay(&s, "alice", "bob", "KUDOS:1", "other").await;
        }
        let (status, body) = history(&s, "shop", "").await;
        assert_eq!(status, StatusCode::OK);
        let newest: Vec<u64> = ids.iter().rev().take(20).copied().collect();
        assert_eq!(row_ids(&body), newest);
        assert_eq!(
            body["credit_account"],
            "payto://x-taler-bank/localhost/shop?receiver-name=shop+Ltd"
        );
        let first = &body["incoming_transactions"][0];
        assert_eq!(first["amount"], "KUDOS:24.5");
        assert_eq!(first["subject"], "order24");
        assert_eq!(
            first["debit_account"],
            "payto://x-taler-bank/localhost/alice?receiver-name=alice+Ltd"
        );
        assert!(first.get("credit_fee").is_none());
        assert!(first["date"]["t_s"].as_u64().is_some());

        let (_, body) = history(&s, "shop", &format!("?limit=3&offset={}", ids[4])).await;
        assert_eq!(row_ids(&body), ids[5..8].to_vec());
        let (_, body) = history(&s, "shop", &format!("?limit=-3&offset={}", ids[4])).await;
        assert_eq!(row_ids(&body), vec![ids[3], ids[2], ids[1]]);
        // Edges: nothing before the first or after the last.
        let (status, _) = history(&s, "shop", &format!("?limit=-5&offset={}", ids[0])).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = history(&s, "shop", &format!("?limit=5&offset={}", ids[24])).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // Over the maximum is clamped, not refused.
        let (_, body) = history(&s, "shop", "?limit=100000").await;
        assert_eq!(row_ids(&body), ids);

        // The deprecated names give the same answers.
        for (new, old) in [
            (
                format!("?limit=4&offset={}", ids[2]),
                format!("?delta=4&start={}", ids[2]),
            ),
            ("?limit=-2".to_owned(), "?delta=-2".to_owned()),
            (
                format!("?limit=2&offset={}&timeout_ms=10", ids[24]),
                format!("?delta=2&start={}&long_poll_ms=10", ids[24]),
            ),
        ] {
            assert_eq!(
                history(&s, "shop", &new).await,
                history(&s, "shop", &old).await
            );
        }

        for bad in [
            "?limit=0",
            "?limit=x",
            "?offset=-1",
            "?timeout_ms=-5",
            "?delta=0",
        ] {
            let (status, body) = history(&s, "shop", bad).await;
            assert_error(status, &body, 400, 26);
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn history_credentials_are_checked() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        pay(&s, "alice", "shop", "KUDOS:3", "hello").await;
        let url = "/bank/accounts/shop/taler-revenue/history";
        let wrong = s
            .req(Method::GET, url)
            .basic_auth("shop", Some("nope-nope"));
        let (status, body) = send(wrong).await;
        assert_error(status, &body, 401, 40);
        let other = s.req(Method::GET, url).basic_auth("alice", Some(PASSWORD));
        let (status, body) = send(other).await;
        assert_error(status, &body, 401, 40);
        let (status, body) = s.call(Method::GET, url, None, None).await;
        // libeufin-bank: no Authorization header is 401 `GENERIC_PARAMETER_MISSING`.
        assert_error(status, &body, 401, 25);
        let (status, body) = s
            .call(Method::GET, url, Some("secret-token:nonsense"), None)
            .await;
        assert_error(status, &body, 401, 40);
        let unknown = s
            .req(Method::GET, "/bank/accounts/nobody/taler-revenue/history")
            .basic_auth("nobody", Some(PASSWORD));
        let (status, body) = send(unknown).await;
        // libeufin-bank authenticates first: the credentials of an unknown account are 401.
        assert_error(status, &body, 401, 40);

        // Tokens: a revenue token reads the history; alice's token does not open shop's.
        let token = |user: &'static str, scope: &'static str| {
            let req = s
                .req(Method::POST, &format!("/bank/accounts/{user}/token"))
                .basic_auth(user, Some(PASSWORD))
                .json(&json!({ "scope": scope }));
            async move {
                let (status, body) = send(req).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body["access_token"].as_str().unwrap().to_owned()
            }
        };
        let revenue = token("shop", "revenue").await;
        let (status, body) = s.call(Method::GET, url, Some(&revenue), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["incoming_transactions"][0]["subject"], "hello");
        let alices = token("alice", "readwrite").await;
        let (status, body) = s.call(Method::GET, url, Some(&alices), None).await;
        assert_error(status, &body, 401, 40);
        // A revenue token cannot move money.
        let (status, body) = s
            .call(
                Method::POST,
                "/bank/accounts/shop/transactions",
                Some(&revenue),
                Some(json!({ "payto_uri": "payto://x-taler-bank/localhost/alice?message=x", "amount": "KUDOS:1" })),
            )
            .await;
        assert_error(status, &body, 403, 44);
        s.finish().await;
    }
}

/// The history reads account, token and page in one round trip: the page is only shown
/// once the credentials pass.
#[tokio::test]
async fn history_shows_its_page_only_to_the_account() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        let first = pay(&s, "alice", "shop", "KUDOS:3", "first").await;
        let url = "/bank/accounts/shop/taler-revenue/history";
        // Wrong credentials on an account with transfers: nothing of the page.
        let wrong = s
            .req(Method::GET, url)
            .basic_auth("shop", Some("nope-nope"));
        let (status, body) = send(wrong).await;
        assert_error(status, &body, 401, 40);
        assert!(body.get("incoming_transactions").is_none(), "{body}");
        // Nor for an unknown token.
        let (status, body) = s
            .call(Method::GET, url, Some("secret-token:nonsense"), None)
            .await;
        assert_error(status, &body, 401, 40);
        assert!(body.get("incoming_transactions").is_none(), "{body}");
        // The administrator does not read a merchant's facade (libeufin-bank's Revenue
        // API has no `allowAdmin`); the owner does, and an empty page after the last
        // transfer is a 204.
        let (status, body) = s.call(Method::GET, url, Some(ADMIN_TOKEN), None).await;
        assert_error(status, &body, 401, 40);
        let own = s.req(Method::GET, url).basic_auth("shop", Some(PASSWORD));
        let (status, body) = send(own).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(row_ids(&body), vec![first]);
        let after = format!("{url}?limit=5&offset={first}");
        let own = s
            .req(Method::GET, &after)
            .basic_auth("shop", Some(PASSWORD));
        let (status, _) = send(own).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // alice's page is hers: shop's transfer is not in it, and her credentials do not
        // open shop's.
        let hers = s
            .req(Method::GET, "/bank/accounts/alice/taler-revenue/history")
            .basic_auth("alice", Some(PASSWORD));
        let (status, _) = send(hers).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let second = pay(&s, "alice", "shop", "KUDOS:1.5", "second").await;
        let basic = s
            .req(Method::GET, &format!("{url}?limit=-1"))
            .basic_auth("shop", Some(PASSWORD));
        let (status, body) = send(basic).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(row_ids(&body), vec![second]);
        assert_eq!(body["incoming_transactions"][0]["amount"], "KUDOS:1.5");
        assert_eq!(
            body["credit_account"],
            "payto://x-taler-bank/localhost/shop?receiver-name=shop+Ltd"
        );
        // A deleted account's history is unknown, whoever asks.
        account(&s, "carol").await;
        let (status, body) = s
            .call(
                Method::DELETE,
                "/bank/accounts/carol",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let gone = s
            .req(Method::GET, "/bank/accounts/carol/taler-revenue/history")
            .basic_auth("carol", Some(PASSWORD));
        let (status, body) = send(gone).await;
        // A deleted account authenticates no more (libeufin-bank: 401).
        assert_error(status, &body, 401, 40);
        s.finish().await;
    }
}

#[tokio::test]
async fn accounts_and_transfers_refuse_bad_input() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        let register = |body: Value, token: Option<&'static str>| {
            let s = &s;
            async move {
                s.call(Method::POST, "/bank/accounts", token, Some(body))
                    .await
            }
        };
        let base = json!({ "username": "carol", "password": PASSWORD, "name": "Carol" });
        let (status, body) = register(base.clone(), None).await;
        assert_error(status, &body, 401, 25);
        let (status, body) = register(base.clone(), Some("secret-token:wrong")).await;
        assert_error(status, &body, 401, 40);
        let (status, body) = register(
            json!({ "username": "shop", "password": PASSWORD, "name": "x" }),
            Some(ADMIN_TOKEN),
        )
        .await;
        assert_error(status, &body, 409, 5121);
        let (status, body) = register(
            json!({ "username": "admin", "password": PASSWORD, "name": "x" }),
            Some(ADMIN_TOKEN),
        )
        .await;
        assert_error(status, &body, 409, 5120);
        // The newest page's password rule: 409 `BANK_PASSWORD_TOO_SHORT` / `_TOO_LONG`.
        let (status, body) = register(
            json!({ "username": "carol", "password": "short", "name": "x" }),
            Some(ADMIN_TOKEN),
        )
        .await;
        assert_error(status, &body, 409, 5150);
        let (status, body) = register(
            json!({ "username": "carol", "password": "p".repeat(65), "name": "x" }),
            Some(ADMIN_TOKEN),
        )
        .await;
        assert_error(status, &body, 409, 5151);
        for bad in [
            json!({ "username": "bad name", "password": PASSWORD, "name": "x" }),
            json!({ "username": "carol", "password": PASSWORD, "name": "x", "payto_uri": "http://x" }),
        ] {
            let (status, body) = register(bad, Some(ADMIN_TOKEN)).await;
            assert_error(status, &body, 400, 22);
        }

        let transfer = |body: Value| {
            let req = s
                .req(Method::POST, "/bank/accounts/alice/transactions")
                .basic_auth("alice", Some(PASSWORD))
                .json(&body);
            send(req)
        };
        let to_shop = "payto://x-taler-bank/localhost/shop?message=hi";
        for (body, status, code) in [
            (json!({ "payto_uri": to_shop, "amount": "EUR:1" }), 400, 30),
            (
                // libeufin-bank's amount codes: BANK_BAD_FORMAT_AMOUNT.
                json!({ "payto_uri": to_shop, "amount": "KUDOS:1.123456789" }),
                400,
                5108,
            ),
            (
                json!({ "payto_uri": to_shop, "amount": "KUDOS:-1" }),
                400,
                5108,
            ),
            (
                json!({ "payto_uri": to_shop, "amount": "KUDOS:0" }),
                400,
                26,
            ),
            (json!({ "payto_uri": to_shop }), 400, 25),
            (
                json!({ "payto_uri": "payto://x-taler-bank/localhost/shop", "amount": "KUDOS:1" }),
                400,
                25,
            ),
            (
                json!({ "payto_uri": "not a payto", "amount": "KUDOS:1" }),
                400,
                22,
            ),
            (
                json!({ "payto_uri": "payto://x-taler-bank/localhost/ghost?message=x", "amount": "KUDOS:1" }),
                409,
                5124,
            ),
            (
                json!({ "payto_uri": "payto://x-taler-bank/localhost/alice?message=x", "amount": "KUDOS:1" }),
                409,
                5101,
            ),
            (
                json!({ "payto_uri": to_shop, "amount": "KUDOS:1", "request_uid": "short" }),
                400,
                26,
            ),
        ] {
            let (got, resp) = transfer(body.clone()).await;
            assert_error(got, &resp, status, code);
        }
        // The payto amount wins over the body's.
        let (status, body) = transfer(
            json!({ "payto_uri": format!("{to_shop}&amount=KUDOS:2.5"), "amount": "KUDOS:1" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Idempotent with a request uid; reusing it differently is a conflict.
        let uid = "0".repeat(52);
        let first =
            transfer(json!({ "payto_uri": to_shop, "amount": "KUDOS:3", "request_uid": uid }))
                .await;
        let again =
            transfer(json!({ "payto_uri": to_shop, "amount": "KUDOS:3", "request_uid": uid }))
                .await;
        assert_eq!(first, again);
        let (status, body) =
            transfer(json!({ "payto_uri": to_shop, "amount": "KUDOS:4", "request_uid": uid }))
                .await;
        assert_error(status, &body, 409, 5112);
        let (_, body) = history(&s, "shop", "?limit=10").await;
        let amounts: Vec<&str> = body["incoming_transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["amount"].as_str().unwrap())
            .collect();
        assert_eq!(amounts, ["KUDOS:2.5", "KUDOS:3"]);
        s.finish().await;
    }
}

#[tokio::test]
async fn credit_fee_is_reported_when_configured() {
    for b in backends() {
        let db = common::TestDb::new(&b).await;
        let s = TestServer::start_with(db, "[bank]\nCREDIT_FEE = KUDOS:0.01\n").await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        pay(&s, "alice", "shop", "KUDOS:5", "fee").await;
        let (_, body) = history(&s, "shop", "").await;
        assert_eq!(body["incoming_transactions"][0]["credit_fee"], "KUDOS:0.01");
        let req = s
            .req(Method::POST, "/bank/accounts/alice/transactions")
            .basic_auth("alice", Some(PASSWORD))
            .json(&json!({ "payto_uri": "payto://x-taler-bank/localhost/shop?message=x", "amount": "KUDOS:0.01" }));
        let (status, body) = send(req).await;
        assert_error(status, &body, 409, 5102);
        s.finish().await;
    }
}

/// On SQLite a page is read as one JSON row (`store::bank::page_as_one_row`): what a
/// subject holds (quotes, backslashes, control characters, other scripts) comes back
/// exactly as sent, on a first look and on a long poll's wake alike, and so do the
/// amounts and the order of the page. A NUL (`%00`) is refused, on both engines.
#[tokio::test]
async fn subjects_and_amounts_come_back_exactly_as_sent() {
    let subject = "a \"quoted\" \\ back\u{7f}slash\t\u{1}\u{1f} \u{e9}\u{1f600} <b>&amp;</b>";
    let encoded: String = subject.bytes().map(|b| format!("%{b:02X}")).collect();
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        let req = s
            .req(Method::POST, "/bank/accounts/alice/transactions")
            .basic_auth("alice", Some(PASSWORD))
            .json(&json!({
                "payto_uri": "payto://x-taler-bank/localhost/shop?message=a%00b",
                "amount": "KUDOS:1",
            }));
        let (status, body) = send(req).await;
        assert_error(status, &body, 400, 22);
        let (status, _) = history(&s, "shop", "").await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        let first = pay(&s, "alice", "shop", "KUDOS:0.00000001", &encoded).await;
        let second = pay(&s, "alice", "shop", "KUDOS:3.99999999", "x").await;
        let (status, body) = history(&s, "shop", "").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(row_ids(&body), vec![second, first]);
        let page = &body["incoming_transactions"];
        assert_eq!(page[0]["amount"], "KUDOS:3.99999999");
        assert_eq!(page[1]["amount"], "KUDOS:0.00000001");
        assert_eq!(page[1]["subject"], subject);
        let (_, body) = history(&s, "shop", &format!("?limit=2&offset={}", first - 1)).await;
        assert_eq!(row_ids(&body), vec![first, second]);

        let query = format!("?limit=3&offset={second}&timeout_ms=20000");
        let poll = history(&s, "shop", &query);
        let payer = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            pay(&s, "alice", "shop", "KUDOS:2.5", &encoded).await
        };
        let ((status, body), row) = tokio::join!(poll, payer);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(row_ids(&body), vec![row]);
        assert_eq!(body["incoming_transactions"][0]["subject"], subject);
        assert_eq!(body["incoming_transactions"][0]["amount"], "KUDOS:2.5");
        s.finish().await;
    }
}

#[tokio::test]
async fn long_poll_returns_when_a_transfer_arrives() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        let last = pay(&s, "alice", "shop", "KUDOS:1", "before").await;

        // Times out with the empty answer.
        let started = Instant::now();
        let (status, _) = history(
            &s,
            "shop",
            &format!("?limit=5&offset={last}&timeout_ms=300"),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(started.elapsed() >= Duration::from_millis(300));

        // Returns as soon as the transfer is in, well before its 20 s timeout.
        let query = format!("?limit=5&offset={last}&timeout_ms=20000");
        let poll = history(&s, "shop", &query);
        let started = Instant::now();
        let payer = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            pay(&s, "alice", "shop", "KUDOS:7", "during").await
        };
        let ((status, body), row) = tokio::join!(poll, payer);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(row_ids(&body), vec![row]);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        s.finish().await;
    }
}

/// Waiting long polls are parked with the listener (`crate::longpoll`): the answer
/// still carries the request id the edge gave it, whether a transfer or the deadline
/// answers, and transfers to other accounts do not answer it.
#[tokio::test]
async fn parked_long_polls_keep_their_request_id_and_wake_only_for_their_account() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        account(&s, "bob").await;
        let last = pay(&s, "alice", "shop", "KUDOS:1", "before").await;
        let poll = |offset: u64, timeout: u64| {
            s.req(
                Method::GET,
                &format!(
                    "/bank/accounts/shop/taler-revenue/history?limit=5&offset={offset}&timeout_ms={timeout}"
                ),
            )
            .basic_auth("shop", Some(PASSWORD))
            .send()
        };

        // A transfer to bob does not answer shop's poll; the deadline does.
        let started = Instant::now();
        let other = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            pay(&s, "alice", "bob", "KUDOS:2", "not-for-shop").await
        };
        let (resp, _) = tokio::join!(poll(last, 600), other);
        let resp = resp.unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert!(started.elapsed() >= Duration::from_millis(600));
        assert!(resp.headers().contains_key("x-request-id"));

        // A transfer to shop answers it, with its rows and its request id.
        let payer = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            pay(&s, "alice", "shop", "KUDOS:3", "for-shop").await
        };
        let (resp, row) = tokio::join!(poll(last, 20_000), payer);
        let resp = resp.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().contains_key("x-request-id"));
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "application/json; charset=utf-8"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(row_ids(&body), vec![row]);

        // Pollers that gave up (closed their connection) do not hold the server up.
        for _ in 0..20 {
            let gone = tokio::time::timeout(Duration::from_millis(50), poll(row, 20_000)).await;
            assert!(gone.is_err(), "the poll should still wait");
        }
        let (status, body) = history(&s, "shop", &format!("?limit=5&offset={last}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        s.finish().await;
    }
}

/// A parked poll is answered by the listener itself (hyper lets the socket go while it
/// waits): the answer is well-formed HTTP/1.1, a request pipelined behind the poll is
/// answered after it, the connection stays open for more, and `Connection: close` closes
/// it after the answer, the deadline's included.
#[tokio::test]
async fn a_parked_poll_keeps_its_connection_and_pipelined_requests() {
    use tokio::io::AsyncWriteExt;
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "shop").await;
        account(&s, "alice").await;
        let last = pay(&s, "alice", "shop", "KUDOS:1", "before").await;
        let authorization = reqwest::Client::new()
            .get(s.url("/"))
            .basic_auth("shop", Some(PASSWORD))
            .build()
            .unwrap()
            .headers()["authorization"]
            .to_str()
            .unwrap()
            .to_owned();
        let address = s
            .url("")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let poll = |timeout: u64, close: bool| {
            format!(
                "GET /bank/accounts/shop/taler-revenue/history?limit=5&offset={last}&timeout_ms={timeout} HTTP/1.1\r\n\
                 Host: test\r\nAuthorization: {authorization}\r\n{}\r\n",
                if close { "Connection: close\r\n" } else { "" }
            )
        };
        let config = "GET /bank/config HTTP/1.1\r\nHost: test\r\n\r\n";

        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket
            .write_all(format!("{}{config}", poll(20_000, false)).as_bytes())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let row = pay(&s, "alice", "shop", "KUDOS:3", "for-shop").await;
        let mut buffered = Vec::new();
        let (status, headers, body) = read_response(&mut socket, &mut buffered).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            header(&headers, "content-type"),
            Some("application/json; charset=utf-8")
        );
        assert!(header(&headers, "x-request-id").is_some());
        assert!(header(&headers, "date").is_some());
        assert_eq!(header(&headers, "connection"), None);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(row_ids(&body), vec![row]);
        // The pipelined request, then another on the same connection.
        let (status, _, body) = read_response(&mut socket, &mut buffered).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["name"],
            "taler-corebank"
        );
        socket.write_all(config.as_bytes()).await.unwrap();
        let (status, _, _) = read_response(&mut socket, &mut buffered).await.unwrap();
        assert_eq!(status, 200);

        // `Connection: close`: the deadline's 204, then the end of the connection.
        let offset_now = row;
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let request =
            poll(300, true).replace(&format!("offset={last}"), &format!("offset={offset_now}"));
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut buffered = Vec::new();
        let (status, headers, body) = read_response(&mut socket, &mut buffered).await.unwrap();
        assert_eq!(status, 204);
        assert_eq!(header(&headers, "connection"), Some("close"));
        assert_eq!(header(&headers, "content-length"), None);
        assert!(body.is_empty());
        assert!(read_response(&mut socket, &mut buffered).await.is_none());
        s.finish().await;
    }
}

#[tokio::test]
async fn long_poll_is_woken_by_another_process_on_postgres() {
    for b in backends() {
        if matches!(b, common::Backend::Sqlite) {
            continue;
        }
        let db = common::TestDb::new(&b).await;
        let first = TestServer::start_with(db.clone(), "").await;
        let second = TestServer::start_with(db, "").await;
        account(&first, "shop").await;
        account(&first, "alice").await;
        let poll = history(&first, "shop", "?limit=5&timeout_ms=20000");
        let started = Instant::now();
        let payer = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            pay(&second, "alice", "shop", "KUDOS:9", "elsewhere").await
        };
        let ((status, body), row) = tokio::join!(poll, payer);
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(row_ids(&body), vec![row]);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        second.server.stop();
        first.finish().await;
    }
}
