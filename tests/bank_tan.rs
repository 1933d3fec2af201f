//! Two-factor authentication (TAN) of the bank: libeufin-bank's `CoreBankTanApiTest`
//! (v0.11.1, `bank/src/test/kotlin/CoreBankApiTest.kt`: `send`, `sendTanErr`,
//! `confirm`) and the 2FA steps of its transaction, withdrawal, account and token
//! cases, ported to the protocol of the newest pages (v10: a 202 `ChallengeResponse`
//! listing challenges with their channel and address, `Taler-Challenge-Ids` on the
//! repeated request with the same body, `ChallengeRequestResponse` from the send
//! endpoint). The codes go out through a program that writes them to a file, as
//! libeufin's `libeufin-tan-file.sh`.

mod common;

use std::path::PathBuf;

use common::{ADMIN_TOKEN, TestDb, TestServer, assert_error, backends, send};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// A directory with the TAN program (`tan.sh`: the message into `tan-$ADDRESS.txt`)
/// and a failing one (`fail.sh`).
struct TanDir(PathBuf);

impl TanDir {
    fn new() -> TanDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!(
            "taler-openapi-tan-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        };
        write(
            "tan.sh",
            format!("#!/bin/sh\ncat > \"{}/tan-$1.txt\"\n", dir.display()),
        );
        write("fail.sh", "#!/bin/sh\ncat > /dev/null\nexit 1\n".to_owned());
        TanDir(dir)
    }

    fn config(&self, sms: &str) -> String {
        format!(
            "[bank]\nTAN_SMS = {}\nTAN_EMAIL = {}\nALLOW_DELETIONS = YES\n",
            self.0.join(sms).display(),
            self.0.join("tan.sh").display()
        )
    }

    /// libeufin's `tanCode`: the last code sent to `info`, taken from its file.
    fn code(&self, info: &str) -> Option<String> {
        let path = self.0.join(format!("tan-{info}.txt"));
        let text = std::fs::read_to_string(&path).ok()?;
        std::fs::remove_file(&path).unwrap();
        let code = text.strip_prefix("T-")?.split_whitespace().next()?;
        Some(code.to_owned())
    }
}

impl Drop for TanDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// libeufin's `bankSetup` accounts: merchant, exchange and customer.
async fn start(backend: &common::Backend, tan: &TanDir, sms: &str) -> TestServer {
    let s = TestServer::start_with(TestDb::new(backend).await, &tan.config(sms)).await;
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
    s
}

fn as_user(s: &TestServer, m: Method, path: &str, user: &str) -> RequestBuilder {
    s.req(m, &format!("/bank{path}"))
        .basic_auth(user, Some(format!("{user}-password")))
}

fn as_admin(s: &TestServer, m: Method, path: &str) -> RequestBuilder {
    s.req(m, &format!("/bank{path}")).bearer_auth(ADMIN_TOKEN)
}

/// Sends the request; with `ids`, in `Taler-Challenge-Ids`.
async fn with_ids(req: RequestBuilder, ids: Option<&str>) -> (StatusCode, Value) {
    match ids {
        Some(ids) => send(req.header("Taler-Challenge-Ids", ids)).await,
        None => send(req).await,
    }
}

/// The challenges of a 202, as (id, channel, address).
fn challenges(status: StatusCode, body: &Value) -> Vec<(String, String, String)> {
    assert_eq!(status, StatusCode::ACCEPTED, "expected a challenge: {body}");
    body["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["challenge_id"].as_str().unwrap().to_owned(),
                c["tan_channel"].as_str().unwrap().to_owned(),
                c["tan_info"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `POST /accounts/$USER/challenge/$ID`, unauthenticated as the page says.
async fn request_code(s: &TestServer, user: &str, id: &str) -> (StatusCode, Value) {
    send(s.req(
        Method::POST,
        &format!("/bank/accounts/{user}/challenge/{id}"),
    ))
    .await
}

/// Sends a challenge's code and returns it.
async fn send_code(s: &TestServer, tan: &TanDir, user: &str, id: &str, info: &str) -> String {
    let (status, body) = request_code(s, user, id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["solve_expiration"]["t_s"].is_u64(), "{body}");
    assert!(body["earliest_retransmission"]["t_s"].is_u64(), "{body}");
    tan.code(info).expect("a code was sent")
}

async fn confirm(s: &TestServer, user: &str, id: &str, code: &str) -> (StatusCode, Value) {
    send(
        s.req(
            Method::POST,
            &format!("/bank/accounts/{user}/challenge/{id}/confirm"),
        )
        .json(&json!({ "tan": code })),
    )
    .await
}

/// libeufin's `assertChallenge`: expects one challenge per (channel, address) of
/// `expected`, solves them (all if `combi_and`, else the first) and returns the ids
/// for `Taler-Challenge-Ids`.
async fn solve(
    s: &TestServer,
    tan: &TanDir,
    user: &str,
    (status, body): (StatusCode, Value),
    expected: &[(&str, &str)],
) -> String {
    let got = challenges(status, &body);
    let pairs: Vec<(&str, &str)> = got
        .iter()
        .map(|(_, c, i)| (c.as_str(), i.as_str()))
        .collect();
    assert_eq!(pairs, expected, "{body}");
    let all = body["combi_and"].as_bool().unwrap();
    let mut ids = Vec::new();
    for (id, _, info) in got.iter().take(if all { got.len() } else { 1 }) {
        let code = send_code(s, tan, user, id, info).await;
        let (status, body) = confirm(s, user, id, &format!("T-{code}")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        ids.push(id.clone());
    }
    ids.join(",")
}

/// libeufin's `fillTanInfo`: the owner's phone and 2FA by SMS, set by the
/// administrator (no challenge).
async fn fill_tan_info(s: &TestServer, user: &str, phone: &str) {
    let (status, body) = send(
        as_admin(s, Method::PATCH, &format!("/accounts/{user}")).json(
            &json!({ "contact_data": { "phone": phone, "email": "email@example.com" },
                 "tan_channels": ["sms"] }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

async fn balance(s: &TestServer, user: &str) -> String {
    let (status, body) = send(as_admin(s, Method::GET, &format!("/accounts/{user}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sign = if body["balance"]["credit_debit_indicator"] == "debit" {
        "-"
    } else {
        "+"
    };
    format!("{sign}{}", body["balance"]["amount"].as_str().unwrap())
}

/// CoreBankTanApiTest.send: enabling, changing and disabling the second factor
/// confirms with the current channel and then at every new address; the
/// administrator needs none; a resend waits a minute; a change voids pending
/// challenges; an unknown challenge is 404.
#[tokio::test]
async fn core_bank_tan_api_send() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        let patch =
            |body: Value| as_user(&s, Method::PATCH, "/accounts/merchant", "merchant").json(&body);

        // Set up 2FA: only the new address is challenged.
        let body = json!({ "contact_data": { "phone": "+99", "email": "email@example.com" },
                           "tan_channels": ["sms"] });
        let ids = solve(
            &s,
            &tan,
            "merchant",
            with_ids(patch(body.clone()), None).await,
            &[("sms", "+99")],
        )
        .await;
        let (status, b) = with_ids(patch(body), Some(&ids)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (_, account) = send(as_admin(&s, Method::GET, "/accounts/merchant")).await;
        assert_eq!(account["tan_channels"], json!(["sms"]), "{account}");
        assert_eq!(account["tan_channel"], "sms", "{account}");

        // Changes: the current channel first, then the new address.
        for (change, old, new) in [
            (
                json!({ "contact_data": { "phone": "+98" } }),
                ("sms", "+99"),
                ("sms", "+98"),
            ),
            (
                json!({ "tan_channels": ["email"] }),
                ("sms", "+98"),
                ("email", "email@example.com"),
            ),
            (
                json!({ "contact_data": { "phone": "+97" }, "tan_channel": "sms" }),
                ("email", "email@example.com"),
                ("sms", "+97"),
            ),
        ] {
            let first = solve(
                &s,
                &tan,
                "merchant",
                with_ids(patch(change.clone()), None).await,
                &[old],
            )
            .await;
            let second = solve(
                &s,
                &tan,
                "merchant",
                with_ids(patch(change.clone()), Some(&first)).await,
                &[new],
            )
            .await;
            let (status, b) = with_ids(patch(change), Some(&second)).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        }

        // Disable 2FA: the current channel confirms.
        let off = json!({ "tan_channels": [] });
        let ids = solve(
            &s,
            &tan,
            "merchant",
            with_ids(patch(off.clone()), None).await,
            &[("sms", "+97")],
        )
        .await;
        let (status, b) = with_ids(patch(off), Some(&ids)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (_, account) = send(as_admin(&s, Method::GET, "/accounts/merchant")).await;
        assert!(account.get("tan_channels").is_none(), "{account}");

        // The administrator needs no second factor.
        for body in [
            json!({ "contact_data": { "phone": "+99" }, "tan_channels": ["sms"] }),
            json!({ "tan_channels": ["email"] }),
            json!({ "tan_channels": [] }),
        ] {
            let (status, b) =
                send(as_admin(&s, Method::PATCH, "/accounts/merchant").json(&body)).await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        }

        // Retransmission and invalidation.
        fill_tan_info(&s, "merchant", "+88").await;
        let (status, b) = with_ids(patch(json!({ "is_public": false })), None).await;
        let got = challenges(status, &b);
        let id = &got[0].0;
        send_code(&s, &tan, "merchant", id, "+88").await;
        // Again at once: 429 with Retry-After, nothing sent.
        let resp = s
            .req(
                Method::POST,
                &format!("/bank/accounts/merchant/challenge/{id}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(resp.headers().get("retry-after").is_some());
        let b: Value = resp.json().await.unwrap();
        assert_eq!(b["code"], 5131, "{b}");
        assert!(tan.code("+88").is_none());
        // Changing the TAN settings voids the pending challenge.
        fill_tan_info(&s, "merchant", "+87").await;
        let (status, b) = request_code(&s, "merchant", id).await;
        assert_error(status, &b, 404, 5144);

        // Unknown challenge; a challenge of another account is unknown too.
        let (status, b) = request_code(&s, "merchant", "42").await;
        assert_error(status, &b, 404, 5107);
        let (status, b) = with_ids(patch(json!({ "is_public": false })), None).await;
        let other = challenges(status, &b)[0].0.clone();
        let (status, b) = request_code(&s, "customer", &other).await;
        assert_error(status, &b, 404, 5107);
        s.finish().await;
    }
}

/// CoreBankTanApiTest.sendTanErr: the TAN program fails, 502.
#[tokio::test]
async fn core_bank_tan_api_send_tan_err() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "fail.sh").await;
        fill_tan_info(&s, "merchant", "+1234").await;
        let (status, b) = send(
            as_user(&s, Method::PATCH, "/accounts/merchant", "merchant")
                .json(&json!({ "is_public": false })),
        )
        .await;
        let id = challenges(status, &b)[0].0.clone();
        let (status, b) = request_code(&s, "merchant", &id).await;
        assert_error(status, &b, 502, 5133);
        // A failed delivery may be asked for again at once.
        let (status, b) = request_code(&s, "merchant", &id).await;
        assert_error(status, &b, 502, 5133);
        s.finish().await;
    }
}

/// CoreBankTanApiTest.confirm: a wrong code is 409 and counts; the right one solves
/// the challenge (again: still solved); another account's path is 404; three wrong
/// codes exhaust it (429) until a new code is sent; a TAN change voids it.
#[tokio::test]
async fn core_bank_tan_api_confirm() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        fill_tan_info(&s, "merchant", "+99").await;
        let patch =
            |body: Value| as_user(&s, Method::PATCH, "/accounts/merchant", "merchant").json(&body);

        let (status, b) = with_ids(patch(json!({ "is_public": false })), None).await;
        let id = challenges(status, &b)[0].0.clone();
        // Nothing solves a challenge before a code was sent.
        assert_error_of(confirm(&s, "merchant", &id, "00000000").await, 409, 5134);
        let code = send_code(&s, &tan, "merchant", &id, "+99").await;
        assert_error_of(confirm(&s, "merchant", &id, "nice-try").await, 409, 5134);
        assert_error_of(confirm(&s, "customer", &id, "nice-try").await, 404, 5107);
        let (status, b) = confirm(&s, "merchant", &id, &code).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (status, b) = confirm(&s, "merchant", &id, &code).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        // Solved: no new code.
        let (status, b) = request_code(&s, "merchant", &id).await;
        assert_error(status, &b, 410, 9999);
        assert_error_of(confirm(&s, "merchant", "42", &code).await, 404, 5107);
        // The solved challenge makes the change.
        let (status, b) = with_ids(patch(json!({ "is_public": false })), Some(&id)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");

        // Attempts are limited per code.
        let (status, b) = with_ids(patch(json!({ "is_public": true })), None).await;
        let id = challenges(status, &b)[0].0.clone();
        let code = send_code(&s, &tan, "merchant", &id, "+99").await;
        for _ in 0..3 {
            assert_error_of(confirm(&s, "merchant", &id, "12345678x").await, 409, 5134);
        }
        assert_error_of(confirm(&s, "merchant", &id, &code).await, 429, 5131);

        // A TAN change voids the pending challenge.
        fill_tan_info(&s, "merchant", "+88").await;
        assert_error_of(confirm(&s, "merchant", &id, &code).await, 404, 5144);
        s.finish().await;
    }
}

fn assert_error_of((status, body): (StatusCode, Value), expected: u16, code: u64) {
    assert_error(status, &body, expected, code);
}

/// CoreBankTransactionsApiTest.create (2FA steps): a transfer of an account with a
/// second factor moves money only with a solved challenge for that very body, once.
#[tokio::test]
async fn core_bank_transactions_api_create_with_tan() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        fill_tan_info(&s, "merchant", "+99").await;
        let transfer = |amount: &str| {
            as_user(
                &s,
                Method::POST,
                "/accounts/merchant/transactions",
                "merchant",
            )
            .json(&json!({
                "payto_uri": "payto://x-taler-bank/localhost/customer?message=payout",
                "amount": amount
            }))
        };
        // The header is bounded like every input.
        let (status, b) = with_ids(transfer("KUDOS:3"), Some(&"0".repeat(600))).await;
        assert_error(status, &b, 400, 26);
        let r = with_ids(transfer("KUDOS:3"), None).await;
        let ids = solve(&s, &tan, "merchant", r, &[("sms", "+99")]).await;
        assert_eq!(balance(&s, "merchant").await, "+KUDOS:0");
        // Another body with the challenge: a new challenge, nothing moves.
        let (status, b) = with_ids(transfer("KUDOS:300"), Some(&ids)).await;
        challenges(status, &b);
        assert_eq!(balance(&s, "merchant").await, "+KUDOS:0");
        let (status, b) = with_ids(transfer("KUDOS:3"), Some(&ids)).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert!(b["row_id"].is_u64(), "{b}");
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:3");
        // Used once: the same challenge again asks for a new one.
        let (status, b) = with_ids(transfer("KUDOS:3"), Some(&ids)).await;
        challenges(status, &b);
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:3");
        assert_eq!(balance(&s, "customer").await, "+KUDOS:3");

        s.finish().await;
    }
}

/// Racing requests with one solved challenge: one transfer goes through, the other
/// gets a conflict or a new challenge; the money moves once.
#[tokio::test]
async fn racing_requests_use_one_challenge_once() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        fill_tan_info(&s, "merchant", "+99").await;
        let transfer = || {
            as_user(
                &s,
                Method::POST,
                "/accounts/merchant/transactions",
                "merchant",
            )
            .json(&json!({
                "payto_uri": "payto://x-taler-bank/localhost/customer?message=race",
                "amount": "KUDOS:5"
            }))
        };
        let r = with_ids(transfer(), None).await;
        let ids = solve(&s, &tan, "merchant", r, &[("sms", "+99")]).await;
        let results =
            futures_util::future::join_all((0..6).map(|_| with_ids(transfer(), Some(&ids)))).await;
        let done = results
            .iter()
            .filter(|(st, _)| *st == StatusCode::OK)
            .count();
        assert_eq!(done, 1, "{results:?}");
        for (status, body) in &results {
            assert!(
                [200, 202, 409].contains(&status.as_u16()),
                "{status} {body}"
            );
            if *status == StatusCode::CONFLICT {
                assert_eq!(body["code"], 5134, "{body}");
            }
        }
        assert_eq!(balance(&s, "merchant").await, "-KUDOS:5");
        assert_eq!(balance(&s, "customer").await, "+KUDOS:5");
        s.finish().await;
    }
}

/// CoreBankWithdrawalApiTest.confirm (2FA steps): the confirmation of an account with
/// a second factor moves the money only with a solved challenge.
#[tokio::test]
async fn core_bank_withdrawal_api_confirm_with_tan() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        let (status, b) = send(
            as_user(
                &s,
                Method::POST,
                "/accounts/customer/withdrawals",
                "customer",
            )
            .json(&json!({ "amount": "KUDOS:1" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let id = b["withdrawal_id"].as_str().unwrap().to_owned();
        let reserve = taler_openapi::taler::keys::encode(
            ed25519_dalek::SigningKey::from_bytes(&[7; 32])
                .verifying_key()
                .as_bytes(),
        );
        let (status, b) = s.call(
            Method::POST,
            &format!("/bank/taler-integration/withdrawal-operation/{id}"),
            None,
            Some(json!({ "reserve_pub": reserve, "selected_exchange": "payto://x-taler-bank/localhost/exchange" })),
        ).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        fill_tan_info(&s, "customer", "+99").await;
        let path = format!("/accounts/customer/withdrawals/{id}/confirm");
        let r = with_ids(as_user(&s, Method::POST, &path, "customer"), None).await;
        let ids = solve(&s, &tan, "customer", r, &[("sms", "+99")]).await;
        assert_eq!(balance(&s, "customer").await, "+KUDOS:0");
        let (status, b) = with_ids(as_user(&s, Method::POST, &path, "customer"), Some(&ids)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        assert_eq!(balance(&s, "customer").await, "-KUDOS:1");
        assert_eq!(balance(&s, "exchange").await, "+KUDOS:1");
        // Confirmed already: no challenge, no second transfer.
        let (status, b) = with_ids(as_user(&s, Method::POST, &path, "customer"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        assert_eq!(balance(&s, "customer").await, "-KUDOS:1");
        s.finish().await;
    }
}

/// CoreBankAccountsApiTest.passwordChange, .delete and CoreBankTokenApiTest.post
/// (2FA steps): a new password, a deletion and a login with the password need the
/// second factor; refreshing a token does not.
#[tokio::test]
async fn core_bank_accounts_api_password_delete_and_token_with_tan() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        fill_tan_info(&s, "merchant", "+99").await;

        // Token: a login with the password is challenged.
        let login = || {
            as_user(&s, Method::POST, "/accounts/merchant/token", "merchant")
                .json(&json!({ "scope": "readwrite", "refreshable": true }))
        };
        let r = with_ids(login(), None).await;
        let ids = solve(&s, &tan, "merchant", r, &[("sms", "+99")]).await;
        let (status, b) = with_ids(login(), Some(&ids)).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let token = b["access_token"].as_str().unwrap().to_owned();
        // Refreshing with the token is not.
        let (status, b) = send(
            s.req(Method::POST, "/bank/accounts/merchant/token")
                .bearer_auth(&token)
                .json(&json!({ "scope": "readonly" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{b}");

        // Password change.
        let change = |old: &str, new: &str| {
            s.req(Method::PATCH, "/bank/accounts/merchant/auth")
                .basic_auth("merchant", Some(old))
                .json(&json!({ "old_password": old, "new_password": new }))
        };
        let r = with_ids(change("merchant-password", "new-password"), None).await;
        let ids = solve(&s, &tan, "merchant", r, &[("sms", "+99")]).await;
        let (status, b) = with_ids(change("merchant-password", "new-password"), Some(&ids)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (status, b) = with_ids(change("new-password", "merchant-password"), Some(&ids)).await;
        challenges(status, &b);

        // Deletion (allowed to owners here): with the second factor only.
        let (status, b) = send(
            as_admin(&s, Method::PATCH, "/accounts/customer").json(&json!({
            "contact_data": { "email": "c@example.com" }, "tan_channels": ["email"] })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let delete = || as_user(&s, Method::DELETE, "/accounts/customer", "customer");
        let r = with_ids(delete(), None).await;
        let ids = solve(&s, &tan, "customer", r, &[("email", "c@example.com")]).await;
        let (status, b) = with_ids(delete(), Some(&ids)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (status, _) = send(as_admin(&s, Method::GET, "/accounts/customer")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        s.finish().await;
    }
}

/// Registration with 2FA (CoreBankAccountsApiTest.create, .createTanErr): the
/// administrator only, a channel the bank offers, with its address.
#[tokio::test]
async fn core_bank_accounts_api_create_with_tan() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        let register = |body: Value| as_admin(&s, Method::POST, "/accounts").json(&body);
        let (status, b) = send(register(
            json!({ "username": "tanned", "password": "tanned-password",
            "name": "Tanned", "tan_channels": ["sms"] }),
        ))
        .await;
        assert_error(status, &b, 409, 5129);
        let (status, b) = send(register(
            json!({ "username": "tanned", "password": "tanned-password",
            "name": "Tanned", "contact_data": { "phone": "+12" }, "tan_channel": "sms" }),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let (_, account) = send(as_admin(&s, Method::GET, "/accounts/tanned")).await;
        assert_eq!(account["tan_channels"], json!(["sms"]), "{account}");
        s.finish().await;

        // A bank without TAN programs offers no channel; nobody but the administrator
        // turns 2FA on at registration.
        let s = TestServer::start_with(
            TestDb::new(&backend).await,
            "[bank]\nALLOW_REGISTRATIONS = YES\n",
        )
        .await;
        let (_, config) = send(s.req(Method::GET, "/bank/config")).await;
        assert_eq!(config["supported_tan_channels"], json!([]), "{config}");
        let (status, b) = send(
            s.req(Method::POST, "/bank/accounts")
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({
            "username": "a", "password": "a-password", "name": "A",
            "contact_data": { "phone": "+12" }, "tan_channels": ["sms"] })),
        )
        .await;
        assert_error(status, &b, 409, 5132);
        let (status, b) = send(s.req(Method::POST, "/bank/accounts").json(&json!({
            "username": "b", "password": "b-password", "name": "B",
            "contact_data": { "phone": "+12" }, "tan_channels": ["sms"] })))
        .await;
        assert_error(status, &b, 409, 5145);
        // CoreBankAccountsApiTest.patchTanErr: an owner asks for a channel the bank
        // does not offer.
        let (status, b) = send(s.req(Method::POST, "/bank/accounts").json(&json!({
            "username": "c", "password": "c-password", "name": "C",
            "contact_data": { "email": "c@example.com" } })))
        .await;
        assert_eq!(status, StatusCode::OK, "{b}");
        let (status, b) = send(
            s.req(Method::PATCH, "/bank/accounts/c")
                .basic_auth("c", Some("c-password"))
                .json(&json!({ "tan_channel": "email" })),
        )
        .await;
        assert_error(status, &b, 409, 5132);
        s.finish().await;
    }
}

/// GcTest (challenges): a collection deletes the challenges that can serve no more
/// (used, void, never solved and expired) once old, keeps the others, and every
/// challenge once older than the cleaning age.
#[tokio::test]
async fn gc_deletes_challenges_that_can_serve_no_more() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        fill_tan_info(&s, "merchant", "+99").await;
        let patch =
            |body: Value| as_user(&s, Method::PATCH, "/accounts/merchant", "merchant").json(&body);
        // One used, one pending.
        let r = with_ids(patch(json!({ "is_public": true })), None).await;
        let ids = solve(&s, &tan, "merchant", r, &[("sms", "+99")]).await;
        let (status, b) = with_ids(patch(json!({ "is_public": true })), Some(&ids)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let (status, b) = with_ids(patch(json!({ "is_public": false })), None).await;
        let pending = challenges(status, &b)[0].0.clone();

        let db = &s.server.state.db;
        let now = taler_openapi::taler::Timestamp::now().to_db();
        // Created before `now + 10`: the used one goes, the pending one (its code
        // still good) stays.
        let done = taler_openapi::store::bank::gc::collect(db, now + 10, 0)
            .await
            .unwrap();
        assert_eq!(done.challenges_deleted, 1, "{done:?}");
        let code = send_code(&s, &tan, "merchant", &pending, "+99").await;
        let (status, b) = confirm(&s, "merchant", &pending, &code).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        // Past the cleaning age, every challenge goes.
        let done = taler_openapi::store::bank::gc::collect(db, 0, now + 10)
            .await
            .unwrap();
        assert_eq!(done.challenges_deleted, 1, "{done:?}");
        let (status, b) = with_ids(patch(json!({ "is_public": false })), Some(&pending)).await;
        challenges(status, &b);
        s.finish().await;
    }
}

/// The confirm page: "Too many unsuccessful attempts to confirm token creation
/// challenges block the account." Ten wrong codes for login challenges in a row lock
/// the account's logins (403 `BANK_ACCOUNT_LOCKED`, also with the right code), until a
/// new password (here the administrator's) unlocks them; other challenges' wrong
/// codes do not count.
#[tokio::test]
async fn wrong_login_codes_lock_the_account_until_a_new_password() {
    for backend in backends() {
        let tan = TanDir::new();
        let s = start(&backend, &tan, "tan.sh").await;
        fill_tan_info(&s, "merchant", "+99").await;
        let login = |password: &str| {
            s.req(Method::POST, "/bank/accounts/merchant/token")
                .basic_auth("merchant", Some(password))
                .json(&json!({ "scope": "readonly" }))
        };
        // Wrong codes of another operation's challenge do not count.
        let (status, b) = send(
            as_user(&s, Method::PATCH, "/accounts/merchant", "merchant")
                .json(&json!({ "is_public": true })),
        )
        .await;
        let other = challenges(status, &b)[0].0.clone();
        for _ in 0..3 {
            assert_error_of(confirm(&s, "merchant", &other, "00000001").await, 409, 5134);
        }
        // Ten wrong codes on login challenges.
        let mut wrong = 0;
        while wrong < 10 {
            let (status, b) = send(login("merchant-password")).await;
            let id = challenges(status, &b)[0].0.clone();
            for _ in 0..3 {
                if wrong < 10 {
                    assert_error_of(confirm(&s, "merchant", &id, "00000001").await, 409, 5134);
                    wrong += 1;
                }
            }
        }
        let (status, b) = send(login("merchant-password")).await;
        assert_error(status, &b, 403, 5152);
        // A wrong password stays 401.
        let (status, _) = send(login("wrong-password")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // A new password unlocks.
        let (status, b) = send(
            as_admin(&s, Method::PATCH, "/accounts/merchant/auth")
                .json(&json!({ "new_password": "merchant-password-2" })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{b}");
        let r = with_ids(login("merchant-password-2"), None).await;
        let ids = solve(&s, &tan, "merchant", r, &[("sms", "+99")]).await;
        let (status, b) = with_ids(login("merchant-password-2"), Some(&ids)).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        s.finish().await;
    }
}
