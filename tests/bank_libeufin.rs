//! libeufin-bank's own HTTP test cases (libeufin v0.11.1, `bank/src/test/kotlin/`),
//! ported to run against this bank over HTTP on both engines. Each test names the
//! Kotlin test it comes from; where it keeps only part of a case, the rest is a route
//! or feature this bank does not serve (cashouts, conversion); the TAN steps of the
//! cases are in `bank_tan.rs`.
//! Then the money-safety test of issue 31.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The accounts of libeufin's `bankSetup`: merchant, exchange (an exchange) and
/// customer, each with the password `<name>-password`, may go KUDOS:1000 into debt.
async fn setup(s: &TestServer) {
    for (name, exchange) in [("merchant", false), ("exchange", true), ("customer", false)] {
        let (status, body) = s
            .call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(
                    json!({ "username": name, "password": format!("{name}-password"),
                              "name": name, "is_taler_exchange": exchange }),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

/// libeufin's `pwAuth`: the account's own password.
fn as_user(s: &TestServer, m: Method, path: &str, user: &str) -> reqwest::RequestBuilder {
    s.req(m, &format!("/bank{path}"))
        .basic_auth(user, Some(format!("{user}-password")))
}

fn payto(user: &str) -> String {
    format!("payto://x-taler-bank/localhost/{user}")
}

fn key(n: u8) -> String {
    taler_openapi::taler::keys::encode(
        ed25519_dalek::SigningKey::from_bytes(&[n; 32])
            .verifying_key()
            .as_bytes(),
    )
}

async fn balance(s: &TestServer, user: &str) -> String {
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/bank/accounts/{user}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sign = if body["balance"]["credit_debit_indicator"] == "debit" {
        "-"
    } else {
        "+"
    };
    format!("{sign}{}", body["balance"]["amount"].as_str().unwrap())
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// routines.kt `authRoutine`, for the operations this bank serves: the header is
/// read, and the credentials checked, before anything else of the request.
#[tokio::test]
async fn auth_routine() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let cases = [
            (Method::GET, "/accounts/merchant"),
            (Method::POST, "/accounts/merchant/transactions"),
            (Method::PATCH, "/accounts/merchant"),
            (Method::POST, "/accounts/merchant/token"),
            (Method::GET, "/accounts/merchant/taler-revenue/history"),
            (
                Method::POST,
                "/accounts/exchange/taler-wire-gateway/transfer",
            ),
        ];
        for (m, path) in cases {
            let url = format!("/bank{path}");
            // No header: 401 `GENERIC_PARAMETER_MISSING`, no body needed.
            let (status, body) = send(s.req(m.clone(), &url)).await;
            assert_error(status, &body, 401, 25);
            // A bad header: 400 `GENERIC_HTTP_HEADERS_MALFORMED`.
            let (status, body) = send(s.req(m.clone(), &url).header("Authorization", "WTF")).await;
            assert_error(status, &body, 400, 23);
            // Unknown account, wrong password, another account's password: 401.
            for (user, password) in [
                ("unknown", "password"),
                ("merchant", "wrong-password"),
                ("customer", "customer-password"),
            ] {
                let req = s.req(m.clone(), &url).basic_auth(user, Some(password));
                let (status, body) = send(req).await;
                assert_error(status, &body, 401, 40);
            }
        }
        // Wrong credentials win over a body of the wrong shape (it is never read).
        let req = s
            .req(Method::POST, "/bank/accounts/merchant/transactions")
            .basic_auth("merchant", Some("wrong-password"))
            .json(&json!({ "amount": 3 }));
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        let req = s
            .req(Method::POST, "/bank/accounts/merchant/transactions")
            .basic_auth("merchant", Some("wrong-password"))
            .header("Content-Type", "application/json")
            .body("{not json");
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        // A bearer token of another form: 401 (RFC 6750; libeufin-bank answers 400).
        let req = s
            .req(Method::GET, "/bank/accounts/merchant")
            .header("Authorization", "Bearer not-a-secret-token");
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        s.finish().await;
    }
}

/// CoreBankTokenApiTest.post: refreshable tokens mint tokens, `forever` never expires,
/// a narrower token does not mint a wider one.
#[tokio::test]
async fn core_bank_token_api_post() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let mint = |auth: Option<String>, body: Value| {
            let mut req = s.req(Method::POST, "/bank/accounts/merchant/token");
            req = match auth {
                Some(token) => req.bearer_auth(token),
                None => req.basic_auth("merchant", Some("merchant-password")),
            };
            send(req.json(&body))
        };
        let (status, body) = mint(None, json!({ "scope": "readonly", "refreshable": true })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let refreshable = body["access_token"].as_str().unwrap().to_owned();
        let (status, body) = mint(Some(refreshable.clone()), json!({ "scope": "readonly" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let plain = body["access_token"].as_str().unwrap().to_owned();
        // "Cannot generate RW token from RO".
        let (status, body) = mint(Some(refreshable), json!({ "scope": "readwrite" })).await;
        assert_error(status, &body, 403, 16);
        // "Unrefreshable token".
        let (status, body) = mint(Some(plain), json!({ "scope": "readonly" })).await;
        assert_error(status, &body, 401, 40);
        // "Check 'forever' case".
        let (status, body) = mint(
            None,
            json!({ "scope": "readonly", "duration": { "d_us": "forever" } }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["expiration"], json!({ "t_s": "never" }));
        // "Check too big or invalid durations".
        for d in [json!("invalid"), json!(-1)] {
            let (status, body) = mint(
                None,
                json!({ "scope": "readonly", "duration": { "d_us": d } }),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        }
        s.finish().await;
    }
}

/// CoreBankTokenApiTest.delete: a token revokes itself; a password is not a token.
#[tokio::test]
async fn core_bank_token_api_delete() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let req = as_user(&s, Method::POST, "/accounts/merchant/token", "merchant")
            .json(&json!({ "scope": "readonly" }));
        let (_, body) = send(req).await;
        let token = body["access_token"].as_str().unwrap().to_owned();
        let del = || {
            s.req(Method::DELETE, "/bank/accounts/merchant/token")
                .bearer_auth(&token)
        };
        assert_eq!(send(del()).await.0, StatusCode::NO_CONTENT);
        let (status, body) = send(del()).await;
        assert_error(status, &body, 401, 40);
        let (status, _) = send(as_user(&s, Method::GET, "/accounts/merchant", "merchant")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = send(as_user(
            &s,
            Method::DELETE,
            "/accounts/merchant/token",
            "merchant",
        ))
        .await;
        assert_error(status, &body, 400, 23);
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.create: the account's payto URI is its own, of this bank's
/// kind ("Testing bad payto kind"), never another account's.
#[tokio::test]
async fn core_bank_accounts_api_create_payto() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let register = |body: Value| {
            s.call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(body),
            )
        };
        for payto in [
            "payto://x-taler-bank/localhost/merchant",
            "payto://iban/DE89370400440532013000",
        ] {
            let (status, body) = register(
                json!({ "username": "mallory", "password": "mallory-password", "name": "M", "payto_uri": payto }),
            )
            .await;
            assert_error(status, &body, 400, 22);
        }
        // Its own address, on any host, is the account's canonical one.
        let (status, body) = register(json!({ "username": "bar", "password": "bar-password",
            "name": "Mr Bar", "payto_uri": "payto://x-taler-bank/bank.hostname.test/bar" }))
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["internal_payto_uri"],
            json!("payto://x-taler-bank/localhost/bar?receiver-name=Mr+Bar")
        );
        // Reserved usernames.
        for name in ["admin", "bank"] {
            let (status, body) =
                register(json!({ "username": name, "password": "password-1", "name": "x" })).await;
            assert_error(status, &body, 409, 5120);
        }
        s.finish().await;
    }
}

/// CoreBankTransactionsApiTest.create: who may be paid, and how a payto URI is read.
#[tokio::test]
async fn core_bank_transactions_api_create() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let pay = |from: &'static str, uri: String| {
            let req = as_user(
                &s,
                Method::POST,
                &format!("/accounts/{from}/transactions"),
                from,
            )
            .json(&json!({ "payto_uri": uri, "amount": "KUDOS:0.3" }));
            send(req)
        };
        // Another host, a receiver-name and upper case kind name the same account.
        let (status, body) = pay(
            "merchant",
            "payto://X-TALER-BANK/bank.example.com/customer?receiver-name=Someone&message=payout"
                .into(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(balance(&s, "customer").await, "+KUDOS:0.3");
        // "Transaction to admin".
        let (status, body) = pay("merchant", format!("{}?message=payout", payto("admin"))).await;
        assert_error(status, &body, 409, 5142);
        // "Unknown creditor", and a payto URI of another kind: never another account.
        for uri in [
            format!("{}?message=payout", payto("unknown")),
            "payto://iban/DE89370400440532013000?message=payout".to_owned(),
        ] {
            let (status, body) = pay("merchant", uri).await;
            assert_error(status, &body, 409, 5124);
        }
        // "Malformed payto URI".
        let (status, body) = pay(
            "merchant",
            "payto://iban/UNKNOWN-IBAN-XYZ?message=payout".into(),
        )
        .await;
        assert_error(status, &body, 400, 22);
        // An exchange pays another exchange through the Wire Gateway only.
        s.call(
            Method::POST,
            "/bank/accounts",
            Some(ADMIN_TOKEN),
            Some(json!({ "username": "exchange2", "password": "exchange2-password", "name": "x", "is_taler_exchange": true })),
        )
        .await;
        let (status, body) = pay(
            "exchange",
            format!("{}?message={}", payto("exchange2"), key(1)),
        )
        .await;
        assert_error(status, &body, 409, 5126);
        s.finish().await;
    }
}

/// CoreBankTransactionsApiTest.create ("Bounce"): money sent to an exchange with a
/// subject it cannot use goes back to the sender in the same database transaction.
#[tokio::test]
async fn core_bank_transactions_api_bounce() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let pay = |subject: String| {
            let req = as_user(
                &s,
                Method::POST,
                "/accounts/merchant/transactions",
                "merchant",
            )
            .json(
                &json!({ "payto_uri": format!("{}?message={}", payto("exchange"), subject),
                               "amount": "KUDOS:2" }),
            );
            send(req)
        };
        for subject in [
            key(1),
            "no+key".to_owned(),
            key(1),
            format!("KYC+{}", "Z".repeat(52)),
        ] {
            let (status, body) = pay(subject).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // One reserve credited; the garbage, the reused key and the malformed KYC key
        // came back.
        assert_eq!(balance(&s, "exchange").await, "+KUDOS:2");
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:2");
        let req = as_user(
            &s,
            Method::GET,
            "/accounts/merchant/transactions?limit=20",
            "merchant",
        );
        let (_, body) = send(req).await;
        let subjects: Vec<&str> = body["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["subject"].as_str().unwrap())
            .filter(|t| t.starts_with("Bounce "))
            .collect();
        assert_eq!(subjects.len(), 3, "{body}");
        assert!(
            subjects[1].ends_with("reserve public key reuse"),
            "{subjects:?}"
        );
        s.finish().await;
    }
}

/// WireGatewayApiTest.addIncoming: the administrator's only (an exchange's own
/// credentials, even a `wiregateway` token, are refused and move nothing).
#[tokio::test]
async fn wire_gateway_api_add_incoming() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let url = "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming";
        let add = |n: u8, from: &str| json!({ "amount": "KUDOS:40", "reserve_pub": key(n), "debit_account": payto(from) });
        let req = as_user(&s, Method::POST, "/accounts/exchange/token", "exchange")
            .json(&json!({ "scope": "wiregateway" }));
        let (_, body) = send(req).await;
        let gateway_token = body["access_token"].as_str().unwrap().to_owned();
        let by_password = s
            .req(Method::POST, url)
            .basic_auth("exchange", Some("exchange-password"))
            .json(&add(1, "customer"));
        let (status, body) = send(by_password).await;
        assert_error(status, &body, 401, 40);
        let (status, body) = s
            .call(
                Method::POST,
                url,
                Some(&gateway_token),
                Some(add(1, "customer")),
            )
            .await;
        assert_error(status, &body, 401, 40);
        assert_eq!(balance(&s, "customer").await, "+KUDOS:0");
        // The administrator: once per key; never from an exchange.
        let (status, body) = s
            .call(
                Method::POST,
                url,
                Some(ADMIN_TOKEN),
                Some(add(1, "customer")),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = s
            .call(
                Method::POST,
                url,
                Some(ADMIN_TOKEN),
                Some(add(1, "customer")),
            )
            .await;
        assert_error(status, &body, 409, 5114);
        let (status, body) = s
            .call(
                Method::POST,
                url,
                Some(ADMIN_TOKEN),
                Some(add(2, "exchange")),
            )
            .await;
        assert_error(status, &body, 409, 5126);
        let (status, body) = s
            .call(
                Method::POST,
                url,
                Some(ADMIN_TOKEN),
                Some(add(2, "unknown")),
            )
            .await;
        assert_error(status, &body, 409, 5125);
        let (status, body) = s
            .call(
                Method::POST,
                "/bank/accounts/merchant/taler-wire-gateway/admin/add-incoming",
                Some(ADMIN_TOKEN),
                Some(add(3, "customer")),
            )
            .await;
        assert_error(status, &body, 409, 5127);
        assert_eq!(balance(&s, "customer").await, "-KUDOS:40");
        s.finish().await;
    }
}

/// WireGatewayApiTest.transfer ("Transfer to an exchange") and the histories with the
/// deprecated `delta`/`start` deployed exchanges still send.
#[tokio::test]
async fn wire_gateway_api_transfer_and_history() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let gw = |m: Method, path: &str| {
            as_user(
                &s,
                m,
                &format!("/accounts/exchange/taler-wire-gateway{path}"),
                "exchange",
            )
        };
        for n in 1..=5u8 {
            let (status, body) = s
                .call(
                    Method::POST,
                    "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming",
                    Some(ADMIN_TOKEN),
                    Some(json!({ "amount": "KUDOS:1", "reserve_pub": key(n), "debit_account": payto("customer") })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (_, first) = send(gw(Method::GET, "/history/incoming?delta=2")).await;
        let rows = first["incoming_transactions"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{first}");
        let start = rows[1]["row_id"].as_u64().unwrap();
        let (_, next) = send(gw(
            Method::GET,
            &format!("/history/incoming?delta=2&start={start}"),
        ))
        .await;
        let keys: Vec<&str> = next["incoming_transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["reserve_pub"].as_str().unwrap())
            .collect();
        assert_eq!(keys, [key(3), key(4)]);
        let transfer = json!({
            "request_uid": taler_openapi::taler::keys::encode(&[9u8; 64]),
            "amount": "KUDOS:1", "exchange_base_url": "http://exchange.example.com/",
            "wtid": taler_openapi::taler::keys::encode(&[9u8; 32]), "credit_account": payto("exchange"),
        });
        // To itself: libeufin-bank's `taler_transfer` finds an exchange as creditor.
        let (status, body) = send(gw(Method::POST, "/transfer").json(&transfer)).await;
        assert_error(status, &body, 409, 5126);
        let mut to_exchange = transfer.clone();
        to_exchange["credit_account"] = json!(payto("exchange2"));
        s.call(
            Method::POST,
            "/bank/accounts",
            Some(ADMIN_TOKEN),
            Some(json!({ "username": "exchange2", "password": "exchange2-password", "name": "x", "is_taler_exchange": true })),
        )
        .await;
        let (status, body) = send(gw(Method::POST, "/transfer").json(&to_exchange)).await;
        assert_error(status, &body, 409, 5126);
        let mut ok = transfer.clone();
        ok["credit_account"] = json!(payto("merchant"));
        let (status, body) = send(gw(Method::POST, "/transfer").json(&ok)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = send(gw(Method::GET, "/transfers?status=pending")).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = send(gw(Method::GET, "/transfers?status=success")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        s.finish().await;
    }
}

/// SecurityTest.bodySizeLimit: deflated bodies are accepted, within the same limit
/// as plain ones; an unknown encoding is 415 `GENERIC_COMPRESSION_INVALID`.
#[tokio::test]
async fn security_body_size_limit() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let post = |body: Vec<u8>, encoding: &str| {
            let req = as_user(
                &s,
                Method::POST,
                "/accounts/merchant/transactions",
                "merchant",
            )
            .header("Content-Type", "application/json")
            .header("Content-Encoding", encoding)
            .body(body);
            send(req)
        };
        let valid = json!({ "payto_uri": format!("{}?message=payout", payto("customer")), "amount": "KUDOS:0.3" });
        let (status, body) = post(deflate(valid.to_string().as_bytes()), "deflate").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // A bomb: 64 KiB of limit, a few hundred bytes that inflate to 64 MiB.
        let bomb = deflate(
            format!(
                "{{\"payto_uri\":\"{}?message={}\",\"amount\":\"KUDOS:0.3\"}}",
                payto("customer"),
                "A".repeat(64 << 20)
            )
            .as_bytes(),
        );
        assert!(bomb.len() < 128 << 10);
        let (status, body) = post(bomb, "deflate").await;
        assert_error(status, &body, 413, 32);
        let (status, body) = post(b"not deflate".to_vec(), "deflate").await;
        assert_error(status, &body, 400, 28);
        let (status, body) = post(valid.to_string().into_bytes(), "unknown").await;
        assert_error(status, &body, 415, 28);
        assert_eq!(balance(&s, "customer").await, "+KUDOS:0.3");
        s.finish().await;
    }
}

/// The bank with `WIRE_TYPE = iban` (libeufin's test.conf): accounts get generated
/// IBANs shown with the configured BIC; a payto URI without BIC or with spaces, lower
/// case and a receiver-name names the same account.
#[tokio::test]
async fn iban_bank() {
    for b in backends() {
        let db = common::TestDb::new(&b).await;
        let s = TestServer::start_with(db, "[bank]\nWIRE_TYPE = iban\nIBAN_PAYTO_BIC = SANDBOXX\n")
            .await;
        setup(&s).await;
        let (_, body) = send(as_user(&s, Method::GET, "/accounts/customer", "customer")).await;
        let shown = body["payto_uri"].as_str().unwrap().to_owned();
        assert!(shown.starts_with("payto://iban/SANDBOXX/DE"), "{shown}");
        let iban = shown["payto://iban/SANDBOXX/".len()..]
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let spaced: String = iban
            .to_ascii_lowercase()
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some(' ').into_iter().chain([c]))
            .collect();
        let uri = format!(
            "payto://iban/{}?receiver-name=X&message=hello",
            spaced.replace(' ', "%20")
        );
        let req = as_user(
            &s,
            Method::POST,
            "/accounts/merchant/transactions",
            "merchant",
        )
        .json(&json!({ "payto_uri": uri, "amount": "KUDOS:1" }));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(balance(&s, "customer").await, "+KUDOS:1");
        // An x-taler-bank address is not an account of this bank.
        let (status, body) = s
            .call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(json!({ "username": "x", "password": "x-password", "name": "x", "payto_uri": payto("x") })),
            )
            .await;
        assert_error(status, &body, 400, 22);
        s.finish().await;
    }
}

/// The administrator logs in with a password once `passwd admin` set one.
#[tokio::test]
async fn admin_password_login() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let config = common::test_config(&s.db, "");
        let db = taler_openapi::store::connect(&config, s.db.schema.as_deref())
            .await
            .unwrap();
        taler_openapi::bank::ledger::set_password(
            &db,
            &config.bank_wire,
            "admin",
            "admin-password",
        )
        .await
        .unwrap();
        let req = s
            .req(Method::GET, "/bank/accounts")
            .basic_auth("admin", Some("admin-password"));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let req = s
            .req(Method::POST, "/bank/accounts")
            .basic_auth("admin", Some("admin-password"))
            .json(&json!({ "username": "merchant", "password": "merchant-password", "name": "m" }));
        assert_eq!(send(req).await.0, StatusCode::OK);
        let req = as_user(&s, Method::GET, "/accounts", "merchant");
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        s.finish().await;
    }
}

/// Issue 31's money-safety test: customers pay the exchange with good, reused and
/// garbage subjects, the exchange pays them back, the administrator books incoming
/// transfers, all at once. After: every balance is the sum of its history, all
/// balances sum to zero, and every incoming row the exchange sees carries a key.
#[tokio::test]
async fn money_is_never_taken_stranded_or_misrouted() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        const CUSTOMERS: u8 = 6;
        for c in 0..CUSTOMERS {
            let name = format!("c{c}");
            s.call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(json!({ "username": name, "password": format!("{name}-password"), "name": name })),
            )
            .await;
        }
        let mut tasks = Vec::new();
        for c in 0..CUSTOMERS {
            let s_url = s.url("/bank");
            let client = s.client.clone();
            tasks.push(tokio::spawn(async move {
                let name = format!("c{c}");
                let mut codes = Vec::new();
                for i in 0..8u8 {
                    let subject = match i % 4 {
                        0 => key(c * 16 + i),      // a fresh reserve key
                        1 => key(c * 16 + i - 1),  // the same key again
                        2 => "garbage".to_owned(), // no key at all
                        _ => key(200),             // one key all customers race for
                    };
                    let req = client
                        .post(format!("{s_url}/accounts/{name}/transactions"))
                        .basic_auth(&name, Some(format!("{name}-password")))
                        .json(&json!({ "payto_uri": format!("{}?message={subject}", payto("exchange")),
                                       "amount": format!("KUDOS:1.{i}") }));
                    codes.push(send(req).await.0);
                    let req = client
                        .post(format!("{s_url}/accounts/exchange/taler-wire-gateway/transfer"))
                        .basic_auth("exchange", Some("exchange-password"))
                        .json(&json!({
                            "request_uid": taler_openapi::taler::keys::encode(&[c * 16 + i; 64]),
                            "amount": "KUDOS:0.5", "exchange_base_url": "http://exchange.example.com/",
                            "wtid": taler_openapi::taler::keys::encode(&[c * 16 + i; 32]),
                            "credit_account": payto(&name),
                        }));
                    codes.push(send(req).await.0);
                    let req = client
                        .post(format!("{s_url}/accounts/exchange/taler-wire-gateway/admin/add-incoming"))
                        .bearer_auth(ADMIN_TOKEN)
                        .json(&json!({ "amount": "KUDOS:0.25", "reserve_pub": key(100 + c * 8 + i),
                                       "debit_account": payto(&name) }));
                    codes.push(send(req).await.0);
                }
                codes
            }));
        }
        for t in tasks {
            for code in t.await.unwrap() {
                assert_eq!(code, StatusCode::OK);
            }
        }
        // Every account: its balance is the sum of its history.
        let mut users: Vec<String> = (0..CUSTOMERS).map(|c| format!("c{c}")).collect();
        users.extend(["merchant", "exchange", "customer", "admin"].map(String::from));
        let units = |a: &str| -> i128 {
            let (v, f) = a
                .split_once(':')
                .unwrap()
                .1
                .split_once('.')
                .unwrap_or((a.split_once(':').unwrap().1, "0"));
            v.parse::<i128>().unwrap() * 100_000_000 + format!("{f:0<8}").parse::<i128>().unwrap()
        };
        let mut total = 0i128;
        for user in &users {
            let shown = balance(&s, user).await;
            let (sign, amount) = shown.split_at(1);
            let balance = if sign == "-" {
                -units(amount)
            } else {
                units(amount)
            };
            let mut sum = 0i128;
            let mut offset = 0u64;
            loop {
                let (status, page) = s
                    .call(
                        Method::GET,
                        &format!("/bank/accounts/{user}/transactions?limit=100&offset={offset}"),
                        Some(ADMIN_TOKEN),
                        None,
                    )
                    .await;
                if status == StatusCode::NO_CONTENT {
                    break;
                }
                for t in page["transactions"].as_array().unwrap() {
                    let a = units(t["amount"].as_str().unwrap());
                    sum += if t["direction"] == "credit" { a } else { -a };
                    offset = t["row_id"].as_u64().unwrap();
                }
            }
            assert_eq!(balance, sum, "{user}: balance {shown} is not its history");
            total += balance;
        }
        assert_eq!(total, 0, "the balances do not sum to zero");
        // The exchange sees only incoming transfers it can use, each key once.
        let (_, page) = send(as_user(
            &s,
            Method::GET,
            "/accounts/exchange/taler-wire-gateway/history/incoming?limit=1000",
            "exchange",
        ))
        .await;
        let keys: Vec<&str> = page["incoming_transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["reserve_pub"].as_str().expect("a reserve key"))
            .collect();
        let unique: std::collections::BTreeSet<&&str> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "a reserve key credited twice");
        // Fresh keys (2 per customer), the raced key once, 8 add-incoming each.
        assert_eq!(keys.len(), usize::from(CUSTOMERS) * (2 + 8) + 1);
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.create: registering again with the same data answers as the
/// first time ("Check idempotency"); other data is a username reuse.
#[tokio::test]
async fn core_bank_accounts_api_create_idempotency() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let register = |body: Value| {
            s.call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(body),
            )
        };
        let req = json!({ "username": "john", "password": "password", "name": "John",
                          "contact_data": { "phone": "+99" } });
        let (status, first) = register(req.clone()).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (status, again) = register(req.clone()).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(first, again);
        let mut with_payto = req.clone();
        with_payto["payto_uri"] = json!(payto("john"));
        assert_eq!(register(with_payto).await.0, StatusCode::OK);
        for (field, value) in [
            ("name", json!("Johnny")),
            ("password", json!("password-2")),
            ("is_public", json!(true)),
        ] {
            let mut other = req.clone();
            other[field] = value;
            let (status, body) = register(other).await;
            assert_error(status, &body, 409, 5121);
        }
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.delete and .reconfig, with libeufin's switches: owners
/// delete their account and change their name only where the bank allows it; the
/// administrator's account is never public.
#[tokio::test]
async fn core_bank_accounts_api_switches() {
    for b in backends() {
        for allowed in [false, true] {
            let extra = if allowed {
                "[bank]\nALLOW_DELETIONS = YES\nALLOW_EDIT_NAME = yes\n"
            } else {
                ""
            };
            let s = TestServer::start_with(common::TestDb::new(&b).await, extra).await;
            setup(&s).await;
            let (_, config) = s.call(Method::GET, "/bank/config", None, None).await;
            assert_eq!(config["name"], json!("taler-corebank"));
            assert_eq!(config["allow_deletions"], json!(allowed));
            assert_eq!(config["allow_edit_name"], json!(allowed));
            let req = as_user(&s, Method::PATCH, "/accounts/customer", "customer")
                .json(&json!({ "name": "Another Name" }));
            let (status, body) = send(req).await;
            if allowed {
                assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
            } else {
                assert_error(status, &body, 409, 5135);
            }
            let (status, body) = send(as_user(
                &s,
                Method::DELETE,
                "/accounts/customer",
                "customer",
            ))
            .await;
            if allowed {
                assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
            } else {
                assert_error(status, &body, 401, 40);
            }
            let (status, body) = s
                .call(
                    Method::PATCH,
                    "/bank/accounts/admin",
                    Some(ADMIN_TOKEN),
                    Some(json!({ "is_public": true })),
                )
                .await;
            assert_error(status, &body, 409, 9999);
            s.finish().await;
        }
    }
}

/// No balance passes Taler's largest amount (2^52), whatever debit thresholds the
/// administrator grants (libeufin-bank's `amount_add` refuses the overflow).
#[tokio::test]
async fn balances_stay_within_the_largest_amount() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        for user in ["merchant", "exchange"] {
            let (status, body) = s
                .call(
                    Method::PATCH,
                    &format!("/bank/accounts/{user}"),
                    Some(ADMIN_TOKEN),
                    Some(json!({ "debit_threshold": "KUDOS:4503599627370496" })),
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        let pay = |from: &'static str, amount: &'static str| {
            let req = as_user(&s, Method::POST, &format!("/accounts/{from}/transactions"), from)
                .json(&json!({ "payto_uri": format!("{}?message=x", payto("customer")), "amount": amount }));
            send(req)
        };
        let (status, body) = pay("merchant", "KUDOS:4503599627370000").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = pay("exchange", "KUDOS:4503599627370000").await;
        assert_error(status, &body, 409, 5102);
        assert_eq!(balance(&s, "customer").await, "+KUDOS:4503599627370000");
        assert_eq!(balance(&s, "exchange").await, "+KUDOS:0");
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.create on a bank with `ALLOW_REGISTRATIONS` (libeufin's
/// test.conf): anyone registers, only the administrator chooses a debit threshold;
/// without the switch, registering takes the administrator.
#[tokio::test]
async fn core_bank_accounts_api_create_self_registration() {
    for b in backends() {
        let s = TestServer::start_with(
            common::TestDb::new(&b).await,
            "[bank]\nALLOW_REGISTRATIONS = yes\n",
        )
        .await;
        let anonymous = |body: Value| s.call(Method::POST, "/bank/accounts", None, Some(body));
        let (status, body) =
            anonymous(json!({ "username": "john", "password": "password", "name": "John" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let bat = json!({ "username": "bat", "password": "password", "name": "Bat", "debit_threshold": "KUDOS:42" });
        let (status, body) = anonymous(bat.clone()).await;
        assert_error(status, &body, 409, 5136);
        let (status, body) = s
            .call(Method::POST, "/bank/accounts", Some(ADMIN_TOKEN), Some(bat))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, config) = s.call(Method::GET, "/bank/config", None, None).await;
        assert_eq!(config["allow_registrations"], json!(true));
        s.finish().await;

        let s = TestServer::start(&b).await;
        let (status, body) = s
            .call(
                Method::POST,
                "/bank/accounts",
                None,
                Some(json!({ "username": "john", "password": "password", "name": "John" })),
            )
            .await;
        assert_error(status, &body, 401, 25);
        s.finish().await;
    }
}

/// AmountTest.apiError: a malformed amount is 400 `BANK_BAD_FORMAT_AMOUNT`, one beyond
/// Taler's largest 400 `BANK_NUMBER_TOO_BIG`; other malformed body fields are 400
/// `GENERIC_JSON_INVALID` (WireGatewayApiTest.transfer, "Bad BASE32 wtid").
#[tokio::test]
async fn amount_test_api_error() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let pay = |amount: &'static str| {
            let req = as_user(&s, Method::POST, "/accounts/merchant/transactions", "merchant")
                .json(&json!({ "payto_uri": format!("{}?message=payout", payto("exchange")), "amount": amount }));
            send(req)
        };
        let (status, body) = pay("KUDOS:0.3ABC").await;
        assert_error(status, &body, 400, 5108);
        let (status, body) = pay("KUDOS:999999999999999999").await;
        assert_error(status, &body, 400, 5104);
        let (status, body) = pay("EUR:1").await;
        assert_error(status, &body, 400, 30);
        let req = as_user(&s, Method::POST, "/accounts/exchange/taler-wire-gateway/transfer", "exchange")
            .json(&json!({ "request_uid": taler_openapi::taler::keys::encode(&[1u8; 64]), "amount": "KUDOS:1",
                "exchange_base_url": "http://exchange.example.com/", "wtid": "I love chocolate",
                "credit_account": payto("merchant") }));
        let (status, body) = send(req).await;
        assert_error(status, &body, 400, 22);
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.createBonus: each new account gets the bonus from the
/// administrator's account until it cannot afford one more; that registration is 409
/// and leaves no account behind.
#[tokio::test]
async fn core_bank_accounts_api_create_bonus() {
    for b in backends() {
        let s = TestServer::start_with(
            common::TestDb::new(&b).await,
            "[bank]\nREGISTRATION_BONUS = KUDOS:100\n",
        )
        .await;
        let (status, body) = s
            .call(
                Method::PATCH,
                "/bank/accounts/admin",
                Some(ADMIN_TOKEN),
                Some(json!({ "debit_threshold": "KUDOS:1000" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let register = |name: String| {
            s.call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(json!({ "username": name, "password": "password", "name": "Mallory" })),
            )
        };
        for n in 0..10 {
            let (status, body) = register(format!("foo{n}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(balance(&s, &format!("foo{n}")).await, "+KUDOS:100");
        }
        assert_eq!(balance(&s, "admin").await, "-KUDOS:1000");
        let (status, body) = register("bar".into()).await;
        assert_error(status, &body, 409, 5102);
        let (status, body) = s
            .call(Method::GET, "/bank/accounts/bar", Some(ADMIN_TOKEN), None)
            .await;
        assert_error(status, &body, 404, 5106);
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.reconfig (with test.conf's `ALLOW_EDIT_NAME`), without TAN,
/// cashout and conversion: owners change name, visibility and contact data; only the
/// administrator changes a debit threshold (checkAdminOnly); no change keeps values.
#[tokio::test]
async fn core_bank_accounts_api_reconfig() {
    for b in backends() {
        let s = TestServer::start_with(
            common::TestDb::new(&b).await,
            "[bank]\nALLOW_EDIT_NAME = yes\n",
        )
        .await;
        setup(&s).await;
        let patch = |body: Value| {
            send(as_user(&s, Method::PATCH, "/accounts/merchant", "merchant").json(&body))
        };
        let req = json!({ "name": "Roger", "is_public": true,
                          "contact_data": { "phone": "+99", "email": "foo@example.com" } });
        assert_eq!(patch(req.clone()).await.0, StatusCode::NO_CONTENT);
        assert_eq!(
            patch(req.clone()).await.0,
            StatusCode::NO_CONTENT,
            "idempotence"
        );
        // checkAdminOnly: restricted, the administrator always can, then idempotent.
        let mut limit = req.clone();
        limit["debit_threshold"] = json!("KUDOS:100");
        let (status, body) = patch(limit.clone()).await;
        assert_error(status, &body, 409, 5136);
        let (status, body) = s
            .call(
                Method::PATCH,
                "/bank/accounts/merchant",
                Some(ADMIN_TOKEN),
                Some(limit.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(patch(limit).await.0, StatusCode::NO_CONTENT);
        // "Check currency".
        let (status, body) = s
            .call(
                Method::PATCH,
                "/bank/accounts/merchant",
                Some(ADMIN_TOKEN),
                Some(json!({ "debit_threshold": "EUR:100" })),
            )
            .await;
        assert_error(status, &body, 400, 30);
        for body in [req.clone(), json!({})] {
            assert_eq!(patch(body).await.0, StatusCode::NO_CONTENT);
            let (_, got) = send(as_user(&s, Method::GET, "/accounts/merchant", "merchant")).await;
            assert_eq!(got["name"], json!("Roger"));
            assert_eq!(got["contact_data"]["phone"], json!("+99"));
            assert_eq!(got["contact_data"]["email"], json!("foo@example.com"));
            assert_eq!(got["debit_threshold"], json!("KUDOS:100"));
            assert_eq!(got["is_public"], json!(true));
            assert_eq!(got["is_taler_exchange"], json!(false));
        }
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.passwordChange, without TAN.
#[tokio::test]
async fn core_bank_accounts_api_password_change() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let change = |password: &str, body: Value| {
            let req = s
                .req(Method::PATCH, "/bank/accounts/customer/auth")
                .basic_auth("customer", Some(password))
                .json(&body);
            send(req)
        };
        let (status, body) = change(
            "customer-password",
            json!({ "old_password": "customer-password", "new_password": "new-password" }),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = change("customer-password", json!({})).await;
        assert_error(status, &body, 401, 40);
        let (status, body) = change(
            "new-password",
            json!({ "old_password": "new-password", "new_password": "customer-password" }),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = change(
            "customer-password",
            json!({ "old_password": "bad-password", "new_password": "new-password" }),
        )
        .await;
        assert_error(status, &body, 409, 5138);
        let (status, body) = change(
            "customer-password",
            json!({ "new_password": "new-password" }),
        )
        .await;
        assert_error(status, &body, 409, 5137);
        let (status, body) = s
            .call(
                Method::PATCH,
                "/bank/accounts/customer/auth",
                Some(ADMIN_TOKEN),
                Some(json!({ "new_password": "customer-password" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.list and .get: public accounts for anyone, all accounts
/// (the administrator's first) for the administrator, `delta` still understood.
#[tokio::test]
async fn core_bank_accounts_api_list_and_get() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, _) = s
            .call(Method::GET, "/bank/public-accounts", None, None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for n in 0..5 {
            let (status, body) = s
                .call(
                    Method::POST,
                    "/bank/accounts",
                    Some(ADMIN_TOKEN),
                    Some(json!({ "username": n.to_string(), "password": "password",
                                 "name": format!("Mr {n}"), "is_public": n % 2 == 0 })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (_, public) = s
            .call(Method::GET, "/bank/public-accounts", None, None)
            .await;
        let names: Vec<&str> = public["public_accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{public}");
        assert!(names.iter().all(|n| n.parse::<u32>().unwrap() % 2 == 0));
        let (_, all) = s
            .call(
                Method::GET,
                "/bank/accounts?delta=10",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        let names: Vec<&str> = all["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["admin", "0", "1", "2", "3", "4"]);
        let (_, filtered) = s
            .call(
                Method::GET,
                "/bank/accounts?filter_name=3",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(filtered["accounts"][0]["username"], json!("3"));
        assert_eq!(filtered["accounts"].as_array().unwrap().len(), 1);
        let req = s
            .req(Method::GET, "/bank/accounts/1")
            .basic_auth("1", Some("password"));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["name"], json!("Mr 1"));
        s.finish().await;
    }
}

/// CoreBankTransactionsApiTest.create, without TAN: idempotency, the payto URI's
/// amount first, the debit threshold, balances through debt, bounces of transfers to
/// the exchange and manual transfers from it; and .testById.
#[tokio::test]
async fn core_bank_transactions_api_create_and_by_id() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        for user in ["merchant", "customer", "exchange"] {
            s.call(
                Method::PATCH,
                &format!("/bank/accounts/{user}"),
                Some(ADMIN_TOKEN),
                Some(json!({ "debit_threshold": "KUDOS:10" })),
            )
            .await;
        }
        let post = |from: &'static str, body: Value| {
            send(
                as_user(
                    &s,
                    Method::POST,
                    &format!("/accounts/{from}/transactions"),
                    from,
                )
                .json(&body),
            )
        };
        let get = |id: u64| {
            send(as_user(
                &s,
                Method::GET,
                &format!("/accounts/merchant/transactions/{id}"),
                "merchant",
            ))
        };
        let tx =
            |from: &'static str, amount: &'static str, to: &'static str, subject: &'static str| {
                let body = json!({ "payto_uri": format!("{}?message={}&amount={amount}", payto(to),
                url_encode(subject)) });
                async move {
                    let (status, body) = post(from, body).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                    body["row_id"].as_u64().unwrap()
                }
            };
        let exchange_payto = payto("exchange");
        let valid = json!({ "payto_uri": format!("{exchange_payto}?message=payout"), "amount": "KUDOS:0.3" });
        // "Check OK": a subject without a reserve key, so the exchange returns it.
        let (_, body) = post("merchant", valid.clone()).await;
        let (_, got) = get(body["row_id"].as_u64().unwrap()).await;
        assert_eq!(got["subject"], json!("payout"));
        assert_eq!(got["amount"], json!("KUDOS:0.3"));
        // "Check idempotency".
        let uid = taler_openapi::taler::keys::encode(&[5u8; 32]);
        let mut with_uid = valid.clone();
        with_uid["request_uid"] = json!(uid);
        let (_, first) = post("merchant", with_uid.clone()).await;
        let (_, again) = post("merchant", with_uid.clone()).await;
        assert_eq!(first["row_id"], again["row_id"]);
        with_uid["amount"] = json!("KUDOS:42");
        let (status, body) = post("merchant", with_uid).await;
        assert_error(status, &body, 409, 5112);
        // "Check amount in payto_uri" and its precedence.
        for (body, subject) in [
            (
                json!({ "payto_uri": format!("{exchange_payto}?message=payout2&amount=KUDOS:1.05") }),
                "payout2",
            ),
            (
                json!({ "payto_uri": format!("{exchange_payto}?message=payout3&amount=KUDOS:1.05"), "amount": "KUDOS:10.003" }),
                "payout3",
            ),
        ] {
            let (_, created) = post("merchant", body).await;
            let (_, got) = get(created["row_id"].as_u64().unwrap()).await;
            assert_eq!(got["subject"], json!(subject));
            assert_eq!(got["amount"], json!("KUDOS:1.05"));
        }
        let mut bad = valid.clone();
        bad["amount"] = json!("EUR:3.3");
        assert_error_of(post("merchant", bad).await, 400, 30);
        let mut bad = valid.clone();
        bad["amount"] = json!("KUDOS:555");
        assert_error_of(post("merchant", bad).await, 409, 5102);
        let (status, _) = post(
            "merchant",
            json!({ "payto_uri": exchange_payto, "amount": "KUDOS:0.3" }),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let unknown = json!({ "payto_uri": format!("{}?message=payout", payto("unknown")), "amount": "KUDOS:0.3" });
        assert_error_of(post("merchant", unknown).await, 409, 5124);
        let to_self = json!({ "payto_uri": format!("{}?message=payout", payto("merchant")), "amount": "KUDOS:0.3" });
        assert_error_of(post("merchant", to_self).await, 409, 5101);
        let (_, admin) = s
            .call(Method::GET, "/bank/accounts/admin", Some(ADMIN_TOKEN), None)
            .await;
        let to_admin = json!({ "payto_uri": format!("{}&message=payout", admin["payto_uri"].as_str().unwrap()),
                               "amount": "KUDOS:0.3" });
        assert_error_of(post("merchant", to_admin).await, 409, 5142);
        // Balances, through debt.
        assert_eq!(balance(&s, "merchant").await, "+KUDOS:0");
        tx("merchant", "KUDOS:3", "customer", "payout").await;
        tx("merchant", "KUDOS:3", "customer", "payout").await;
        let over =
            json!({ "payto_uri": format!("{}?message=payout2&amount=KUDOS:5", payto("customer")) });
        assert_error_of(post("merchant", over).await, 409, 5102);
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:6");
        tx("customer", "KUDOS:10", "merchant", "payout").await;
        assert_eq!(balance(&s, "merchant").await, "+KUDOS:4");
        assert_eq!(balance(&s, "customer").await, "-KUDOS:4");
        tx("merchant", "KUDOS:4", "customer", "payout").await;
        // "Check bounce": an empty subject, a malformed one, a reserve key twice.
        let reserve = key(9);
        tx("merchant", "KUDOS:1", "exchange", "").await;
        tx("merchant", "KUDOS:1", "exchange", "Malformed").await;
        let reserve: &'static str = Box::leak(reserve.into_boxed_str());
        tx("merchant", "KUDOS:1", "exchange", reserve).await;
        tx("merchant", "KUDOS:1", "exchange", reserve).await;
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:1");
        assert_eq!(balance(&s, "exchange").await, "+KUDOS:1");
        // "Check warn": the exchange's manual transfers are plain transfers.
        tx("exchange", "KUDOS:1", "merchant", "").await;
        tx("exchange", "KUDOS:1", "merchant", "Malformed").await;
        assert_eq!(balance(&s, "merchant").await, "+KUDOS:1");
        assert_eq!(balance(&s, "exchange").await, "-KUDOS:1");
        // testById: another account's transfer, or none, is not found.
        let (status, body) = get(999_999).await;
        assert_error(status, &body, 404, 5107);
        let others = tx("customer", "KUDOS:0.1", "exchange", "x").await;
        let (status, body) = get(others).await;
        assert_error(status, &body, 404, 5107);
        s.finish().await;
    }
}

fn assert_error_of((status, body): (StatusCode, Value), expected: u16, code: u64) {
    assert_error(status, &body, expected, code);
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// What the history routines do to the bank (libeufin's helpers `tx`, `transfer`,
/// `addIncoming`).
#[derive(Clone, Copy)]
enum Act {
    /// A core transfer: from, amount, to, subject (`RESERVE` for a fresh reserve key).
    Tx(&'static str, &'static str, &'static str, &'static str),
    /// A Wire Gateway transfer of KUDOS:10 from the exchange to the merchant.
    Transfer,
    /// `admin/add-incoming` of KUDOS:10 from the merchant to the exchange.
    AddIncoming,
}

async fn act(s: &TestServer, a: Act) {
    static SEQ: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let fresh = || {
        let mut seed = [n; 32];
        seed[0] = 0xA5;
        taler_openapi::taler::keys::encode(
            ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .as_bytes(),
        )
    };
    let (status, body) = match a {
        Act::Tx(from, amount, to, subject) => {
            let subject = if subject == "RESERVE" { fresh() } else { subject.to_owned() };
            let uri = format!("{}?message={}&amount={amount}", payto(to), url_encode(&subject));
            send(as_user(s, Method::POST, &format!("/accounts/{from}/transactions"), from)
                .json(&json!({ "payto_uri": uri })))
            .await
        }
        Act::Transfer => {
            let mut uid = [n; 64];
            uid[0] = 0x5A;
            let body = json!({ "request_uid": taler_openapi::taler::keys::encode(&uid),
                "amount": "KUDOS:10", "exchange_base_url": "http://exchange.example.com/",
                "wtid": taler_openapi::taler::keys::encode(&uid[..32]), "credit_account": payto("merchant") });
            send(as_user(s, Method::POST, "/accounts/exchange/taler-wire-gateway/transfer", "exchange").json(&body)).await
        }
        Act::AddIncoming => {
            s.call(Method::POST, "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming",
                Some(ADMIN_TOKEN),
                Some(json!({ "amount": "KUDOS:10", "reserve_pub": fresh(), "debit_account": payto("merchant") })))
            .await
        }
    };
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// routines.kt `historyRoutine` (common `abstractHistoryRoutine`) without timing
/// assertions: what a history lists and ignores, its pages with the deprecated
/// `delta`/`start`, and long polls woken by what it lists only.
async fn history_routine(
    s: &TestServer,
    user: &'static str,
    path: &str,
    list: &str,
    registered: &[Act],
    ignored: &[Act],
) {
    let history = |query: String| {
        let url = format!("{path}?{query}");
        async move {
            let (status, body) = send(as_user(s, Method::GET, &url, user)).await;
            let ids: Vec<u64> = match status {
                StatusCode::NO_CONTENT => vec![],
                StatusCode::OK => body[list]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["row_id"].as_u64().unwrap())
                    .collect(),
                other => panic!("{url}: {other} {body}"),
            };
            ids
        }
    };
    assert!(history("delta=7".into()).await.is_empty());
    let (mut r, mut i) = (registered.iter(), ignored.iter());
    loop {
        let (a, b) = (r.next(), i.next());
        if a.is_none() && b.is_none() {
            break;
        }
        if let Some(a) = a {
            act(s, *a).await;
        }
        if let Some(b) = b {
            act(s, *b).await;
        }
    }
    let (nr, nt) = (registered.len(), registered.len() + ignored.len());
    assert_eq!(
        history(format!("delta={nt}")).await.len(),
        nr,
        "check ignored"
    );
    assert_eq!(
        history(format!("delta={nr}")).await.len(),
        nr,
        "skip ignored"
    );
    assert_eq!(
        history(format!("delta=-{}&long_poll_ms=1000", nr + 1))
            .await
            .len(),
        nr
    );
    assert_eq!(
        history(format!("delta={}&long_poll_ms=1000", nr + 1))
            .await
            .len(),
        nr
    );
    let latest = || async { history("delta=-1".into()).await[0] };
    // Check polling: woken by each listed act, not by the ignored ones.
    for a in registered {
        let id = latest().await;
        let poll = history(format!("delta=7&start={id}&long_poll_ms=5000"));
        let (found, ()) = tokio::join!(poll, async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            act(s, *a).await;
        });
        assert_eq!(found.len(), 1);
    }
    let id = latest().await;
    let poll = history(format!("delta=7&start={id}&long_poll_ms=300"));
    let (found, ()) = tokio::join!(poll, async {
        for b in ignored {
            act(s, *b).await;
        }
    });
    assert!(found.is_empty(), "woken by an ignored transfer");
    // Testing ranges.
    for _ in 0..20 {
        act(s, registered[0]).await;
    }
    let id = latest().await;
    assert_eq!(history(String::new()).await.len(), 20);
    assert_eq!(history("delta=10".into()).await.len(), 10);
    assert_eq!(history("delta=10&start=4".into()).await.len(), 10);
    assert_eq!(history("delta=-10".into()).await.len(), 10);
    assert_eq!(
        history(format!("delta=-10&start={}", id - 4)).await.len(),
        10
    );
}

/// WireGatewayApiTest.historyIncoming (without withdrawals).
#[tokio::test]
async fn wire_gateway_api_history_incoming() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        history_routine(
            &s,
            "exchange",
            "/accounts/exchange/taler-wire-gateway/history/incoming",
            "incoming_transactions",
            &[
                Act::AddIncoming,
                Act::Tx("merchant", "KUDOS:10", "exchange", "RESERVE"),
            ],
            &[
                Act::Tx("merchant", "KUDOS:10", "exchange", "ignored"),
                Act::Tx("exchange", "KUDOS:10", "merchant", "ignored"),
            ],
        )
        .await;
        s.finish().await;
    }
}

/// WireGatewayApiTest.historyOutgoing.
#[tokio::test]
async fn wire_gateway_api_history_outgoing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        history_routine(
            &s,
            "exchange",
            "/accounts/exchange/taler-wire-gateway/history/outgoing",
            "outgoing_transactions",
            &[Act::Transfer],
            &[
                Act::Tx("exchange", "KUDOS:10", "merchant", "3ZGXH2BZ3GGZ8SSH4MT8EQRD0B2JS5NY3RZ5WJHW4SMB7R8P9EEG http://exchange.example.com/"),
                Act::Tx("merchant", "KUDOS:10", "exchange", "ignored"),
                Act::Tx("exchange", "KUDOS:10", "merchant", "ignored"),
            ],
        )
        .await;
        s.finish().await;
    }
}

/// RevenueApiTest.history.
#[tokio::test]
async fn revenue_api_history() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        history_routine(
            &s,
            "merchant",
            "/accounts/merchant/taler-revenue/history",
            "incoming_transactions",
            &[
                Act::Transfer,
                Act::Tx("exchange", "KUDOS:10", "merchant", "ignored"),
            ],
            &[Act::Tx("merchant", "KUDOS:10", "customer", "payout")],
        )
        .await;
        s.finish().await;
    }
}

/// CoreBankTransactionsApiTest.history (without cashouts).
#[tokio::test]
async fn core_bank_transactions_api_history() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        history_routine(
            &s,
            "customer",
            "/accounts/customer/transactions",
            "transactions",
            &[
                Act::Tx("merchant", "KUDOS:0.1", "customer", "payout"),
                Act::Tx("customer", "KUDOS:0.1", "merchant", "payout"),
                Act::Tx("merchant", "KUDOS:0.1", "customer", "payout"),
            ],
            &[
                Act::Tx("merchant", "KUDOS:0.1", "exchange", "payout"),
                Act::Tx("exchange", "KUDOS:0.1", "merchant", "payout"),
            ],
        )
        .await;
        s.finish().await;
    }
}

/// WireGatewayApiTest.transfer: the exchange's debit threshold, idempotency by
/// `request_uid`, its reuse, currency, creditor, malformed keys.
#[tokio::test]
async fn wire_gateway_api_transfer() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        s.call(
            Method::PATCH,
            "/bank/accounts/exchange",
            Some(ADMIN_TOKEN),
            Some(json!({ "debit_threshold": "KUDOS:10" })),
        )
        .await;
        let valid = json!({
            "request_uid": taler_openapi::taler::keys::encode(&[3u8; 64]), "amount": "KUDOS:55",
            "exchange_base_url": "http://exchange.example.com/",
            "wtid": taler_openapi::taler::keys::encode(&[3u8; 32]), "credit_account": payto("merchant"),
        });
        let transfer = |body: Value| {
            send(
                as_user(
                    &s,
                    Method::POST,
                    "/accounts/exchange/taler-wire-gateway/transfer",
                    "exchange",
                )
                .json(&body),
            )
        };
        let with = |changes: Value| {
            let mut body = valid.clone();
            for (k, v) in changes.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        // "Checking exchange debt constraint", then with an allowance.
        assert_error_of(transfer(valid.clone()).await, 409, 5102);
        s.call(
            Method::PATCH,
            "/bank/accounts/exchange",
            Some(ADMIN_TOKEN),
            Some(json!({ "debit_threshold": "KUDOS:1000" })),
        )
        .await;
        let (status, first) = transfer(valid.clone()).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (status, again) = transfer(valid.clone()).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(first["row_id"], again["row_id"]);
        let reused = with(
            json!({ "wtid": taler_openapi::taler::keys::encode(&[4u8; 32]),
                                  "exchange_base_url": "http://different-exchange.example.com/" }),
        );
        assert_error_of(transfer(reused).await, 409, 5112);
        assert_error_of(transfer(with(json!({ "amount": "EUR:33" }))).await, 400, 30);
        let fresh = |n: u8, creditor: String| {
            with(json!({
            "request_uid": taler_openapi::taler::keys::encode(&[n; 64]),
            "wtid": taler_openapi::taler::keys::encode(&[n; 32]), "credit_account": creditor }))
        };
        assert_error_of(transfer(fresh(5, payto("unknown"))).await, 409, 5124);
        assert_error_of(transfer(fresh(6, payto("exchange"))).await, 409, 5126);
        for bad in [
            json!({ "wtid": "I love chocolate" }),
            json!({ "wtid": "0".repeat(50) }),
            json!({ "request_uid": "I love chocolate" }),
            json!({ "request_uid": "0".repeat(104) }),
        ] {
            assert_error_of(transfer(with(bad)).await, 400, 22);
        }
        assert_eq!(balance(&s, "merchant").await, "+KUDOS:55");
        s.finish().await;
    }
}

/// WireGatewayApiTest.addIncoming, the rest: currency, a reused reserve key, malformed
/// keys and the debtor's threshold.
#[tokio::test]
async fn wire_gateway_api_add_incoming_checks() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        s.call(
            Method::PATCH,
            "/bank/accounts/merchant",
            Some(ADMIN_TOKEN),
            Some(json!({ "debit_threshold": "KUDOS:50" })),
        )
        .await;
        let add = |body: Value| {
            s.call(
                Method::POST,
                "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming",
                Some(ADMIN_TOKEN),
                Some(body),
            )
        };
        let valid = json!({ "amount": "KUDOS:44", "reserve_pub": key(1), "debit_account": payto("merchant") });
        let (status, body) = add(valid.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_error_of(add(valid.clone()).await, 409, 5114);
        let mut other = valid.clone();
        other["amount"] = json!("EUR:33");
        other["reserve_pub"] = json!(key(2));
        assert_error_of(add(other.clone()).await, 400, 30);
        for bad in [json!("I love chocolate"), json!("0".repeat(50))] {
            other["amount"] = json!("KUDOS:1");
            other["reserve_pub"] = bad;
            assert_error_of(add(other.clone()).await, 400, 22);
        }
        other["reserve_pub"] = json!(key(3));
        other["amount"] = json!("KUDOS:10");
        assert_error_of(add(other).await, 409, 5102);
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:44");
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.delete with `ALLOW_DELETIONS` (test.conf), without TAN:
/// reserved accounts stay, a balance must be zero, a deleted account logs in no more.
#[tokio::test]
async fn core_bank_accounts_api_delete() {
    for b in backends() {
        let s = TestServer::start_with(
            common::TestDb::new(&b).await,
            "[bank]\nALLOW_DELETIONS = yes\n",
        )
        .await;
        setup(&s).await;
        for name in ["admin", "bank"] {
            let (status, body) = s
                .call(
                    Method::DELETE,
                    &format!("/bank/accounts/{name}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_error(status, &body, 409, 5120);
        }
        let (status, body) = s
            .call(
                Method::POST,
                "/bank/accounts",
                Some(ADMIN_TOKEN),
                Some(json!({ "username": "john", "password": "john-password", "name": "John" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let pay = |from: &'static str, to: &'static str| {
            send(
                as_user(
                    &s,
                    Method::POST,
                    &format!("/accounts/{from}/transactions"),
                    from,
                )
                .json(&json!({ "payto_uri": format!("{}?message=x&amount=KUDOS:1", payto(to)) })),
            )
        };
        assert_eq!(pay("customer", "john").await.0, StatusCode::OK);
        assert_error_of(
            send(as_user(&s, Method::DELETE, "/accounts/john", "john")).await,
            409,
            5123,
        );
        assert_eq!(pay("john", "customer").await.0, StatusCode::OK);
        assert_eq!(
            send(as_user(&s, Method::DELETE, "/accounts/john", "john"))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        assert_error_of(
            send(as_user(&s, Method::DELETE, "/accounts/john", "john")).await,
            401,
            40,
        );
        let (status, body) = s
            .call(
                Method::DELETE,
                "/bank/accounts/john",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, 5106);
        s.finish().await;
    }
}

/// Issue 34: the libeufin accounts with libeufin's `bankSetup` debts (KUDOS:10 each).
async fn setup_small_debts(s: &TestServer) {
    setup(s).await;
    for user in ["merchant", "customer", "exchange"] {
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/bank/accounts/{user}"),
                Some(ADMIN_TOKEN),
                Some(json!({ "debit_threshold": "KUDOS:10" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
}

/// `POST /accounts/$OWNER/withdrawals` with `user`'s password.
async fn create_as(s: &TestServer, owner: &str, user: &str, amount: &str) -> (StatusCode, Value) {
    send(
        as_user(
            s,
            Method::POST,
            &format!("/accounts/{owner}/withdrawals"),
            user,
        )
        .json(&json!({ "amount": amount })),
    )
    .await
}

/// `POST /accounts/$USER/withdrawals` as `user`: the operation's id and URI.
async fn withdrawal(s: &TestServer, user: &str, amount: &str) -> (String, String) {
    let (status, body) = send(
        as_user(
            s,
            Method::POST,
            &format!("/accounts/{user}/withdrawals"),
            user,
        )
        .json(&json!({ "amount": amount })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["withdrawal_id"].as_str().unwrap().to_owned(),
        body["taler_withdraw_uri"].as_str().unwrap().to_owned(),
    )
}

/// routines.kt `withdrawalSelect`: a wallet selects a fresh reserve key and the
/// exchange through the Bank Integration API.
async fn withdrawal_select(s: &TestServer, id: &str, n: u8) -> (StatusCode, Value) {
    s.call(
        Method::POST,
        &format!("/bank/taler-integration/withdrawal-operation/{id}"),
        None,
        Some(json!({ "reserve_pub": key(n), "selected_exchange": payto("exchange") })),
    )
    .await
}

/// A `wiregateway` token of the exchange's account.
async fn gateway_token(s: &TestServer) -> String {
    let req = as_user(s, Method::POST, "/accounts/exchange/token", "exchange")
        .json(&json!({ "scope": "wiregateway" }));
    let (status, body) = send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// routines.kt `authRoutine` for the withdrawal operations (a server of their own,
/// so that the failed logins of `auth_routine` do not throttle these).
#[tokio::test]
async fn core_bank_withdrawal_api_auth_routine() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        for path in [
            "/accounts/merchant/withdrawals",
            "/accounts/merchant/withdrawals/42/confirm",
            "/accounts/merchant/withdrawals/42/abort",
        ] {
            let url = format!("/bank{path}");
            let (status, body) = send(s.req(Method::POST, &url)).await;
            assert_error(status, &body, 401, 25);
            let (status, body) =
                send(s.req(Method::POST, &url).header("Authorization", "WTF")).await;
            assert_error(status, &body, 400, 23);
            let wrong = s
                .req(Method::POST, &url)
                .basic_auth("merchant", Some("wrong-password"));
            let (status, body) = send(wrong).await;
            assert_error(status, &body, 401, 40);
            // Another account's password is not this one's.
            let (status, body) = send(as_user(&s, Method::POST, path, "customer")).await;
            assert_error(status, &body, 401, 40);
        }
        s.finish().await;
    }
}

const UNKNOWN_UUID: &str = "0f9c8e0c-7c51-4a36-9cc7-6b1bd2c3f0a1";

/// CoreBankApiTest.kt `CoreBankWithdrawalApiTest.create` and `.get`, and
/// BankIntegrationApiTest.kt `config` and `get`.
#[tokio::test]
async fn core_bank_withdrawal_api_create_and_get() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup_small_debts(&s).await;
        let (id, uri) = withdrawal(&s, "merchant", "KUDOS:9.0").await;
        assert_eq!(
            uri,
            format!(
                "taler+http://withdraw/{}/bank/taler-integration/{id}",
                s.url("")
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
            )
        );
        // An exchange cannot withdraw; nobody beyond the debit threshold.
        let (status, body) = create_as(&s, "exchange", "exchange", "KUDOS:9.0").await;
        assert_error(status, &body, 409, 5126);
        let (status, body) = create_as(&s, "merchant", "merchant", "KUDOS:90").await;
        assert_error(status, &body, 409, 5102);
        let (status, body) = create_as(&s, "merchant", "customer", "KUDOS:1").await;
        assert_error(status, &body, 401, 40);

        // The public view, in both APIs.
        let (status, info) = s
            .call(Method::GET, &format!("/bank/withdrawals/{id}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{info}");
        assert_eq!(info["amount"], "KUDOS:9");
        assert_eq!(info["status"], "pending");
        assert_eq!(info["username"], "merchant");
        let op = format!("/bank/taler-integration/withdrawal-operation/{id}");
        let (status, body) = s.call(Method::GET, &op, None, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["selection_done"], false);
        assert_eq!(body["aborted"], false);
        assert_eq!(body["transfer_done"], false);
        assert_eq!(body["amount"], "KUDOS:9");
        assert_eq!(body["currency"], "KUDOS");
        assert_eq!(body["wire_types"], json!(["x-taler-bank"]));
        assert_eq!(
            body["sender_wire"].as_str().unwrap(),
            format!("{}?receiver-name=merchant", payto("merchant"))
        );
        let (status, body) = s
            .call(Method::GET, "/bank/taler-integration/config", None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["name"], "taler-bank-integration");
        assert_eq!(body["currency"], "KUDOS");

        // Unknown and malformed ids.
        for path in [
            format!("/bank/withdrawals/{UNKNOWN_UUID}"),
            format!("/bank/taler-integration/withdrawal-operation/{UNKNOWN_UUID}"),
        ] {
            let (status, body) = s.call(Method::GET, &path, None, None).await;
            assert_error(status, &body, 404, 5107);
        }
        for path in [
            "/bank/withdrawals/chocolate",
            "/bank/taler-integration/withdrawal-operation/chocolate",
        ] {
            let (status, body) = s.call(Method::GET, path, None, None).await;
            assert_error(status, &body, 400, 26);
        }

        // routines.kt `statusRoutine`: a long poll waits for another status, and an
        // abort ends it.
        let (id, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        for base in [
            "/bank/withdrawals",
            "/bank/taler-integration/withdrawal-operation",
        ] {
            let started = std::time::Instant::now();
            let (status, body) = s
                .call(
                    Method::GET,
                    &format!("{base}/{id}?timeout_ms=300"),
                    None,
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "pending");
            assert!(started.elapsed() >= std::time::Duration::from_millis(250));
        }
        let waiting = {
            let url = s.url(&format!("/bank/withdrawals/{id}?timeout_ms=5000"));
            let client = s.client.clone();
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
                (body, started.elapsed())
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (status, _) = send(as_user(
            &s,
            Method::POST,
            &format!("/accounts/merchant/withdrawals/{id}/abort"),
            "merchant",
        ))
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (body, waited) = waiting.await.unwrap();
        assert_eq!(body["status"], "aborted", "{body}");
        assert!(waited < std::time::Duration::from_secs(4), "{waited:?}");
        let (status, body) = s
            .call(
                Method::GET,
                &format!("/bank/withdrawals/{id}?old_state=aborted&timeout_ms=100"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "aborted");
        s.finish().await;
    }
}

/// BankIntegrationApiTest.kt `select` and `abort`.
#[tokio::test]
async fn bank_integration_api_select_and_abort() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup_small_debts(&s).await;
        let op = |id: &str| format!("/bank/taler-integration/withdrawal-operation/{id}");
        let req = json!({ "reserve_pub": key(1), "selected_exchange": payto("exchange") });
        let (status, body) = s
            .call(Method::POST, &op("chocolate"), None, Some(req.clone()))
            .await;
        assert_error(status, &body, 400, 26);
        let (status, body) = s
            .call(Method::POST, &op(UNKNOWN_UUID), None, Some(req.clone()))
            .await;
        assert_error(status, &body, 404, 5107);

        let (id, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        for _ in 0..2 {
            // Selected, and the same selection again is no error.
            let (status, body) = s
                .call(Method::POST, &op(&id), None, Some(req.clone()))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["status"], "selected");
            assert_eq!(body["transfer_done"], false);
        }
        let (status, body) = s
            .call(
                Method::POST,
                &op(&id),
                None,
                Some(json!({ "reserve_pub": key(2), "selected_exchange": payto("exchange") })),
            )
            .await;
        assert_error(status, &body, 409, 5113);
        let (status, info) = s
            .call(Method::GET, &format!("/bank/withdrawals/{id}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(info["status"], "selected");
        assert_eq!(info["selected_reserve_pub"], key(1));
        assert_eq!(info["selected_exchange_account"], payto("exchange"));

        let (id, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        let (status, body) = s
            .call(Method::POST, &op(&id), None, Some(req.clone()))
            .await;
        assert_error(status, &body, 409, 5114);
        let (status, body) = s
            .call(
                Method::POST,
                &op(&id),
                None,
                Some(json!({ "reserve_pub": key(3), "selected_exchange": payto("nobody") })),
            )
            .await;
        assert_error(status, &body, 409, 5106);
        let (status, body) = s
            .call(
                Method::POST,
                &op(&id),
                None,
                Some(json!({ "reserve_pub": key(3), "selected_exchange": payto("merchant") })),
            )
            .await;
        assert_error(status, &body, 409, 5127);
        // The wallet's amount must be the operation's.
        let (status, body) = s
            .call(Method::POST, &op(&id), None, Some(json!({ "reserve_pub": key(3), "selected_exchange": payto("exchange"), "amount": "KUDOS:2" })))
            .await;
        assert_error(status, &body, 409, 5148);

        // Abort: pending, selected (twice each), not confirmed.
        let abort = |id: &str| format!("{}/abort", op(id));
        let (pending, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        let (selected, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        let (status, _) = withdrawal_select(&s, &selected, 4).await;
        assert_eq!(status, StatusCode::OK);
        for id in [&pending, &selected, &pending, &selected] {
            let (status, body) = s.call(Method::POST, &abort(id), None, None).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        let (status, body) = s
            .call(
                Method::POST,
                &op(&pending),
                None,
                Some(json!({ "reserve_pub": key(5), "selected_exchange": payto("exchange") })),
            )
            .await;
        assert_error(status, &body, 409, 5153);
        let (confirmed, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        withdrawal_select(&s, &confirmed, 6).await;
        let (status, _) = send(as_user(
            &s,
            Method::POST,
            &format!("/accounts/merchant/withdrawals/{confirmed}/confirm"),
            "merchant",
        ))
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s.call(Method::POST, &abort(&confirmed), None, None).await;
        assert_error(status, &body, 409, 5116);
        let (status, body) = s.call(Method::POST, &abort("chocolate"), None, None).await;
        assert_error(status, &body, 400, 26);
        let (status, body) = s.call(Method::POST, &abort(UNKNOWN_UUID), None, None).await;
        assert_error(status, &body, 404, 5107);
        s.finish().await;
    }
}

/// CoreBankApiTest.kt `CoreBankWithdrawalApiTest.confirm` (but its 2FA step, which
/// comes with TAN), and the money's way: the exchange's Wire Gateway incoming history
/// shows the reserve key, and balances still sum to zero.
#[tokio::test]
async fn core_bank_withdrawal_api_confirm() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup_small_debts(&s).await;
        let confirm = |user: &str, id: &str| {
            send(as_user(
                &s,
                Method::POST,
                &format!("/accounts/{user}/withdrawals/{id}/confirm"),
                user,
            ))
        };
        let (status, body) = confirm("merchant", "42").await;
        assert_error(status, &body, 400, 26);
        let (status, body) = send(s.req(
            Method::POST,
            &format!("/bank/accounts/merchant/withdrawals/{UNKNOWN_UUID}/confirm"),
        ))
        .await;
        assert_error(status, &body, 401, 25);

        let (created, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        let (status, body) = confirm("merchant", &created).await;
        assert_error(status, &body, 409, 5130);

        let (selected, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        withdrawal_select(&s, &selected, 1).await;
        for _ in 0..2 {
            let (status, body) = confirm("merchant", &selected).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:1");
        assert_eq!(balance(&s, "exchange").await, "+KUDOS:1");
        let (status, body) = s
            .call(
                Method::GET,
                &format!("/bank/taler-integration/withdrawal-operation/{selected}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "confirmed");
        assert_eq!(body["transfer_done"], true);
        // The exchange sees the reserve key in its incoming history.
        let gateway = gateway_token(&s).await;
        let (status, body) = s
            .call(
                Method::GET,
                "/bank/accounts/exchange/taler-wire-gateway/history/incoming",
                Some(&gateway),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let incoming = body["incoming_transactions"].as_array().unwrap();
        assert_eq!(incoming.len(), 1, "{body}");
        assert_eq!(incoming[0]["reserve_pub"], key(1));
        assert_eq!(incoming[0]["amount"], "KUDOS:1");
        assert_eq!(
            incoming[0]["debit_account"]
                .as_str()
                .unwrap()
                .split('?')
                .next(),
            Some(payto("merchant").as_str())
        );

        let (aborted, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        withdrawal_select(&s, &aborted, 2).await;
        let (status, _) = send(as_user(
            &s,
            Method::POST,
            &format!("/accounts/merchant/withdrawals/{aborted}/abort"),
            "merchant",
        ))
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = confirm("merchant", &aborted).await;
        assert_error(status, &body, 409, 5117);

        // The account can no longer afford it at confirmation: nothing moves.
        let (poor, _) = withdrawal(&s, "merchant", "KUDOS:5").await;
        withdrawal_select(&s, &poor, 3).await;
        let (status, body) = send(
            as_user(&s, Method::POST, "/accounts/merchant/transactions", "merchant")
                .json(&json!({ "payto_uri": format!("{}?message=rent", payto("customer")), "amount": "KUDOS:5" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = confirm("merchant", &poor).await;
        assert_error(status, &body, 409, 5102);
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:6");
        let (status, _) = send(as_user(
            &s,
            Method::POST,
            &format!("/accounts/merchant/withdrawals/{poor}/abort"),
            "merchant",
        ))
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        // Another account's operation is unknown to this one.
        let (theirs, _) = withdrawal(&s, "customer", "KUDOS:1").await;
        withdrawal_select(&s, &theirs, 4).await;
        let (status, body) = confirm("merchant", &theirs).await;
        assert_error(status, &body, 404, 5107);
        let (status, body) = confirm("merchant", UNKNOWN_UUID).await;
        assert_error(status, &body, 404, 5107);
        s.finish().await;
    }
}

/// The confirmation's amount of the newest page (`BankAccountConfirmWithdrawalRequest`,
/// v6; libeufin 0.11 has none): an operation without an amount takes the one given at
/// confirmation (409 `BANK_AMOUNT_REQUIRED` without), one with an amount refuses
/// another (409 `BANK_AMOUNT_DIFFERS`) and accepts its own.
#[tokio::test]
async fn core_bank_withdrawal_api_confirm_amount() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let confirm = |id: &str, body: Option<Value>| {
            let req = as_user(
                &s,
                Method::POST,
                &format!("/accounts/merchant/withdrawals/{id}/confirm"),
                "merchant",
            );
            send(match body {
                Some(b) => req.json(&b),
                None => req,
            })
        };
        let (status, body) = send(
            as_user(
                &s,
                Method::POST,
                "/accounts/merchant/withdrawals",
                "merchant",
            )
            .json(&json!({ "suggested_amount": "KUDOS:2", "no_amount_to_wallet": true })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let open = body["withdrawal_id"].as_str().unwrap().to_owned();
        let (status, body) = s
            .call(
                Method::POST,
                &format!("/bank/taler-integration/withdrawal-operation/{open}"),
                None,
                Some(json!({ "reserve_pub": key(9), "selected_exchange": payto("exchange") })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = confirm(&open, None).await;
        assert_error(status, &body, 409, 5149);
        let (status, body) = confirm(&open, Some(json!({}))).await;
        assert_error(status, &body, 409, 5149);
        let (status, body) = confirm(&open, Some(json!({ "amount": "EUR:2" }))).await;
        assert_error(status, &body, 400, 30);
        let (status, body) = confirm(&open, Some(json!({ "amount": "KUDOS:2.5" }))).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:2.5");
        assert_eq!(balance(&s, "exchange").await, "+KUDOS:2.5");

        let (fixed, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        withdrawal_select(&s, &fixed, 10).await;
        let (status, body) = confirm(&fixed, Some(json!({ "amount": "KUDOS:3" }))).await;
        assert_error(status, &body, 409, 5148);
        let (status, body) = confirm(&fixed, Some(json!({ "amount": "KUDOS:1" }))).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:3.5");
        s.finish().await;
    }
}

/// Racing confirmations and aborts of one operation: the money moves at most once, and
/// the operation ends in one state that the money agrees with.
#[tokio::test]
async fn racing_confirm_and_abort_move_the_money_once() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup_small_debts(&s).await;
        for round in 0..3u8 {
            let (id, _) = withdrawal(&s, "customer", "KUDOS:1").await;
            withdrawal_select(&s, &id, 10 + round).await;
            let calls = (0..6).map(|n| {
                let action = if n % 2 == 0 { "confirm" } else { "abort" };
                send(as_user(
                    &s,
                    Method::POST,
                    &format!("/accounts/customer/withdrawals/{id}/{action}"),
                    "customer",
                ))
            });
            let results = futures_util::future::join_all(calls).await;
            for (status, body) in &results {
                assert!(matches!(status.as_u16(), 204 | 409), "{status} {body}");
            }
            let (_, info) = s
                .call(Method::GET, &format!("/bank/withdrawals/{id}"), None, None)
                .await;
            let confirmed = results
                .iter()
                .step_by(2)
                .filter(|(st, _)| *st == StatusCode::NO_CONTENT)
                .count();
            match info["status"].as_str().unwrap() {
                "confirmed" => assert!(confirmed >= 1, "{results:?}"),
                "aborted" => assert_eq!(confirmed, 0, "{results:?}"),
                other => panic!("{other}"),
            }
        }
        let (_, exchange) = s
            .call(
                Method::GET,
                "/bank/accounts/exchange",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        let gateway = gateway_token(&s).await;
        let (status, body) = s
            .call(
                Method::GET,
                "/bank/accounts/exchange/taler-wire-gateway/history/incoming?limit=10",
                Some(&gateway),
                None,
            )
            .await;
        let moved = if status == StatusCode::OK {
            body["incoming_transactions"].as_array().unwrap().len()
        } else {
            0
        };
        assert_eq!(
            exchange["balance"]["amount"],
            format!("KUDOS:{moved}"),
            "{exchange}"
        );
        assert_eq!(
            balance(&s, "customer").await,
            if moved == 0 {
                "+KUDOS:0".to_owned()
            } else {
                format!("-KUDOS:{moved}")
            }
        );
        s.finish().await;
    }
}

/// GcTest.kt, for what this bank keeps: withdrawals nobody finished are aborted, old
/// aborted ones and expired tokens deleted; confirmed withdrawals and live tokens stay.
#[tokio::test]
async fn gc_aborts_and_cleans_withdrawals_and_tokens() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup_small_debts(&s).await;
        let (pending, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        let (selected, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        withdrawal_select(&s, &selected, 1).await;
        let (confirmed, _) = withdrawal(&s, "merchant", "KUDOS:1").await;
        withdrawal_select(&s, &confirmed, 2).await;
        let (status, _) = send(as_user(
            &s,
            Method::POST,
            &format!("/accounts/merchant/withdrawals/{confirmed}/confirm"),
            "merchant",
        ))
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = send(
            as_user(&s, Method::POST, "/accounts/merchant/token", "merchant")
                .json(&json!({ "scope": "readonly" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let live = body["access_token"].as_str().unwrap().to_owned();
        let db = &s.server.state.db;
        let now = taler_openapi::taler::Timestamp::now().to_db();
        // Abort what was started before now + 10 s, clean nothing yet.
        let done = taler_openapi::store::bank::gc::collect(db, now + 10, 0)
            .await
            .unwrap();
        assert_eq!(done.withdrawals_aborted, 2, "{done:?}");
        for (id, status) in [
            (&pending, "aborted"),
            (&selected, "aborted"),
            (&confirmed, "confirmed"),
        ] {
            let (_, info) = s
                .call(Method::GET, &format!("/bank/withdrawals/{id}"), None, None)
                .await;
            assert_eq!(info["status"], status, "{info}");
        }
        // Clean: the aborted ones go, the confirmed one and the live token stay.
        let done = taler_openapi::store::bank::gc::collect(db, now + 10, now + 10)
            .await
            .unwrap();
        assert_eq!(done.withdrawals_deleted, 2, "{done:?}");
        for id in [&pending, &selected] {
            let (status, body) = s
                .call(Method::GET, &format!("/bank/withdrawals/{id}"), None, None)
                .await;
            assert_error(status, &body, 404, 5107);
        }
        let (status, _) = s
            .call(
                Method::GET,
                &format!("/bank/withdrawals/{confirmed}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = s
            .call(Method::GET, "/bank/accounts/merchant", Some(&live), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        // An expired token goes.
        let far = now + 2 * 86_400 + 10;
        let done = taler_openapi::store::bank::gc::collect(db, 0, far)
            .await
            .unwrap();
        assert!(done.tokens_deleted >= 1, "{done:?}");
        let (status, body) = s
            .call(Method::GET, "/bank/accounts/merchant", Some(&live), None)
            .await;
        assert_error(status, &body, 401, 40);
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:1");
        s.finish().await;
    }
}

/// StatsTest.kt `register` (without cashin and cashout, which come with conversion):
/// transfers into an exchange with a reserve key and Wire Gateway transfers out of it
/// count in every timeframe; other transfers do not. CoreBankApiTest.kt `monitor`:
/// the administrator only, and the parameters' rules.
#[tokio::test]
async fn core_bank_monitor_api() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        setup(&s).await;
        let monitor = async |query: &str| {
            let (status, body) = s
                .call(
                    Method::GET,
                    &format!("/bank/monitor{query}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        };
        let check = async |taler_in: (u64, &str), taler_out: (u64, &str)| {
            for timeframe in ["hour", "day", "month", "year"] {
                let body = monitor(&format!("?timeframe={timeframe}")).await;
                assert_eq!(body["type"], "no-conversions");
                assert_eq!(
                    (
                        body["talerInCount"].as_u64().unwrap(),
                        body["talerInVolume"].as_str().unwrap()
                    ),
                    taler_in,
                    "{timeframe}: {body}"
                );
                assert_eq!(
                    (
                        body["talerOutCount"].as_u64().unwrap(),
                        body["talerOutVolume"].as_str().unwrap()
                    ),
                    taler_out,
                    "{timeframe}: {body}"
                );
            }
        };
        check((0, "KUDOS:0"), (0, "KUDOS:0")).await;
        let add = "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming";
        for (n, amount) in [(1u8, "KUDOS:3"), (2, "KUDOS:7.6"), (3, "KUDOS:12.3")] {
            let (status, body) = s
                .call(Method::POST, add, Some(ADMIN_TOKEN), Some(json!({ "amount": amount, "reserve_pub": key(n), "debit_account": payto("customer") })))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        check((3, "KUDOS:22.9"), (0, "KUDOS:0")).await;
        let gateway = gateway_token(&s).await;
        for (n, amount) in [(1u8, "KUDOS:10"), (2, "KUDOS:0.5")] {
            let (status, body) = s
                .call(
                    Method::POST,
                    "/bank/accounts/exchange/taler-wire-gateway/transfer",
                    Some(&gateway),
                    Some(json!({ "request_uid": taler_openapi::taler::keys::encode(&[n; 64]), "amount": amount,
                                 "exchange_base_url": "https://exchange.example/", "wtid": taler_openapi::taler::keys::encode(&[n; 32]),
                                 "credit_account": payto("merchant") })),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        // A plain transfer between customers is no Taler transfer.
        let (status, _) = send(
            as_user(&s, Method::POST, "/accounts/customer/transactions", "customer")
                .json(&json!({ "payto_uri": format!("{}?message=rent", payto("merchant")), "amount": "KUDOS:1" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        check((3, "KUDOS:22.9"), (2, "KUDOS:10.5")).await;
        // Another hour, long ago: nothing.
        let body = monitor("?timeframe=hour&date_s=0").await;
        assert_eq!(body["talerInCount"], 0);
        let body = monitor("?timeframe=year&which=1999").await;
        assert_eq!(body["talerOutCount"], 0);
        // The parameters' rules.
        for query in [
            "?timeframe=decade",
            "?timeframe=hour&which=24",
            "?timeframe=month&which=13",
            "?which=1&date_s=0",
            "?date_s=-1",
            "?date_s=253402300800",
        ] {
            let (status, body) = s
                .call(
                    Method::GET,
                    &format!("/bank/monitor{query}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_error(status, &body, 400, 26);
        }
        // The administrator only; a read-only token of the administrator suffices.
        let (status, body) = send(as_user(&s, Method::GET, "/monitor", "merchant")).await;
        assert_error(status, &body, 401, 40);
        let (status, body) = send(s.req(Method::GET, "/bank/monitor")).await;
        assert_error(status, &body, 401, 25);
        s.finish().await;
    }
}
