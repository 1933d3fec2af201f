//! Bank balances and debit thresholds over HTTP: money moves between two balances in
//! one transaction, never below a debit threshold, and all balances sum to zero.

mod common;

use common::{ADMIN_TOKEN, TestDb, TestServer, assert_error, backends, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "password-123";
const UNALLOWED_DEBIT: u64 = 5102;

async fn account(s: &TestServer, username: &str, threshold: Option<&str>) {
    let mut body = json!({ "username": username, "password": PASSWORD, "name": username });
    if let Some(t) = threshold {
        body["debit_threshold"] = json!(t);
    }
    let (status, body) = s
        .call(
            Method::POST,
            "/bank/accounts",
            Some(ADMIN_TOKEN),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn transfer(s: &TestServer, from: &str, to: &str, amount: &str) -> (StatusCode, Value) {
    let req = s
        .req(Method::POST, &format!("/bank/accounts/{from}/transactions"))
        .json(&json!({
            "payto_uri": format!("payto://x-taler-bank/localhost/{to}?message=pay"),
            "amount": amount,
        }));
    let req = if from == "admin" {
        req.bearer_auth(ADMIN_TOKEN)
    } else {
        req.basic_auth(from, Some(PASSWORD))
    };
    send(req).await
}

/// The balance in units of 10^-8, negative for a debt (read as the administrator).
async fn balance(s: &TestServer, user: &str) -> i128 {
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/bank/accounts/{user}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let amount = body["balance"]["amount"].as_str().unwrap();
    let (_, number) = amount.split_once(':').unwrap();
    let (value, frac) = number.split_once('.').unwrap_or((number, ""));
    let units = value.parse::<i128>().unwrap() * 100_000_000
        + format!("{frac:0<8}").parse::<i128>().unwrap();
    match body["balance"]["credit_debit_indicator"].as_str().unwrap() {
        "debit" => -units,
        _ => units,
    }
}

const KUDOS: i128 = 100_000_000;

#[tokio::test]
async fn transfers_move_balances_within_debit_thresholds() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "alice", None).await;
        account(&s, "bob", Some("KUDOS:10")).await;

        // The administrator's account funds alice.
        let (status, body) = transfer(&s, "admin", "alice", "KUDOS:100").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(balance(&s, "alice").await, 100 * KUDOS);
        assert_eq!(balance(&s, "admin").await, -100 * KUDOS);

        // bob may go ten below zero, not more; a refused transfer changes nothing.
        let (status, body) = transfer(&s, "bob", "alice", "KUDOS:10.5").await;
        assert_error(status, &body, 409, UNALLOWED_DEBIT);
        assert_eq!(balance(&s, "bob").await, 0);
        let (status, body) = transfer(&s, "bob", "alice", "KUDOS:10").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(balance(&s, "bob").await, -10 * KUDOS);
        let (status, body) = transfer(&s, "bob", "alice", "KUDOS:0.01").await;
        assert_error(status, &body, 409, UNALLOWED_DEBIT);

        // The account's own view: balance, threshold, payto URI.
        let req = s
            .req(Method::GET, "/bank/accounts/bob")
            .basic_auth("bob", Some(PASSWORD));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["balance"],
            json!({ "amount": "KUDOS:10", "credit_debit_indicator": "debit" })
        );
        assert_eq!(body["debit_threshold"], json!("KUDOS:10"));
        assert_eq!(
            body["payto_uri"],
            json!("payto://x-taler-bank/localhost/bob?receiver-name=bob")
        );
        // Another account's password does not read bob; the administrator may not
        // move bob's money.
        let req = s
            .req(Method::GET, "/bank/accounts/bob")
            .basic_auth("alice", Some(PASSWORD));
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        let req = s
            .req(Method::POST, "/bank/accounts/bob/transactions")
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({
                "payto_uri": "payto://x-taler-bank/localhost/alice?message=x",
                "amount": "KUDOS:1",
            }));
        let (status, body) = send(req).await;
        // As libeufin-bank: the administrator has no right on bob's money (401).
        assert_error(status, &body, 401, 40);

        // bob's history: the one transfer out; alice's: both in, the newest first.
        let req = s
            .req(Method::GET, "/bank/accounts/bob/transactions")
            .basic_auth("bob", Some(PASSWORD));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let bob_out = &body["transactions"][0];
        assert_eq!(bob_out["direction"], json!("debit"));
        assert_eq!(bob_out["amount"], json!("KUDOS:10"));
        assert_eq!(
            bob_out["creditor_payto_uri"],
            json!("payto://x-taler-bank/localhost/alice?receiver-name=alice")
        );
        let (status, body) = s
            .call(
                Method::GET,
                "/bank/accounts/alice/transactions",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let directions: Vec<&str> = body["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["direction"].as_str().unwrap())
            .collect();
        assert_eq!(directions, ["credit", "credit"]);
        let row = bob_out["row_id"].as_u64().unwrap();
        let (status, one) = s
            .call(
                Method::GET,
                &format!("/bank/accounts/alice/transactions/{row}"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_eq!(one["direction"], json!("credit"));
        account(&s, "dave", None).await;
        let (status, body) = s
            .call(
                Method::GET,
                &format!("/bank/accounts/dave/transactions/{row}"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, 5107);
        let (status, _) = s
            .call(
                Method::GET,
                "/bank/accounts/dave/transactions",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // A long poll on dave's history is woken by dave's own outgoing transfer.
        let waiter = {
            let req = s
                .req(
                    Method::GET,
                    "/bank/accounts/dave/transactions?limit=5&timeout_ms=20000",
                )
                .bearer_auth(ADMIN_TOKEN);
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                (send(req).await, started.elapsed())
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (status, body) = transfer(&s, "dave", "alice", "KUDOS:1").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ((status, body), waited) = waiter.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["transactions"][0]["direction"], json!("debit"));
        assert!(waited.as_secs() < 10);

        let (status, config) = s.call(Method::GET, "/bank/config", None, None).await;
        assert_eq!(status, StatusCode::OK, "{config}");
        assert_eq!(config["currency"], json!("KUDOS"));
        assert_eq!(config["default_debit_threshold"], json!("KUDOS:1000"));

        // Survives a restart.
        let s = s.restart().await;
        assert_eq!(balance(&s, "alice").await, 111 * KUDOS);
        s.finish().await;
    }
}

/// Many concurrent transfers among a few accounts near their thresholds: every
/// balance stays within its threshold and all balances, the administrator's
/// included, sum to zero.
#[tokio::test]
async fn concurrent_transfers_never_drift() {
    for b in backends() {
        let s = TestServer::start_with(
            TestDb::new(&b).await,
            "[bank]\nDEFAULT_DEBIT_THRESHOLD = KUDOS:3\nCREDIT_FEE = KUDOS:0.01\n",
        )
        .await;
        let users = ["u0", "u1", "u2", "u3"];
        // Tokens, not passwords: password checks are deliberately few at a time.
        let mut tokens = Vec::new();
        for u in users {
            account(&s, u, None).await;
            let req = s
                .req(Method::POST, &format!("/bank/accounts/{u}/token"))
                .basic_auth(u, Some(PASSWORD))
                .json(&json!({ "scope": "readwrite" }));
            let (status, body) = send(req).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            tokens.push(body["access_token"].as_str().unwrap().to_owned());
        }
        let mut tasks = Vec::new();
        for i in 0..80usize {
            let from = users[i % 4];
            let to = users[(i * 7 + 1) % 4];
            if from == to {
                continue;
            }
            let req = s
                .req(Method::POST, &format!("/bank/accounts/{from}/transactions"))
                .bearer_auth(&tokens[i % 4])
                .json(&json!({
                    "payto_uri": format!("payto://x-taler-bank/localhost/{to}?message=m{i}"),
                    "amount": format!("KUDOS:{}.{:02}", 1 + i % 2, i % 100),
                }));
            tasks.push(tokio::spawn(send(req)));
        }
        let (mut ok, mut refused) = (0, 0);
        for t in tasks {
            let (status, body) = t.await.unwrap();
            match status.as_u16() {
                200 => ok += 1,
                409 => {
                    assert_eq!(body["code"], json!(UNALLOWED_DEBIT), "{body}");
                    refused += 1;
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert!(ok > 0 && refused > 0, "{ok} done, {refused} refused");
        let mut sum = balance(&s, "admin").await;
        for u in users {
            let b = balance(&s, u).await;
            assert!(b >= -3 * KUDOS, "{u} is below its threshold: {b}");
            sum += b;
        }
        assert_eq!(sum, 0, "balances drifted");
        // A refused transfer leaves no row (on PostgreSQL the database's
        // `bank_transfer` takes its row back): the histories hold exactly the
        // transfers that went through.
        let mut listed = 0;
        for (u, token) in users.iter().zip(&tokens) {
            let req = s
                .req(
                    Method::GET,
                    &format!("/bank/accounts/{u}/transactions?limit=100"),
                )
                .bearer_auth(token);
            let (status, body) = send(req).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            listed += body["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["direction"] == json!("debit"))
                .count();
        }
        assert_eq!(listed, ok, "{refused} refused");
        s.finish().await;
    }
}

#[tokio::test]
async fn new_accounts_get_the_registration_bonus() {
    for b in backends() {
        let s = TestServer::start_with(
            TestDb::new(&b).await,
            "[bank]\nREGISTRATION_BONUS = KUDOS:50\n",
        )
        .await;
        account(&s, "carol", None).await;
        assert_eq!(balance(&s, "carol").await, 50 * KUDOS);
        assert_eq!(balance(&s, "admin").await, -50 * KUDOS);
        let req = s
            .req(Method::GET, "/bank/accounts/carol/taler-revenue/history")
            .basic_auth("carol", Some(PASSWORD));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["incoming_transactions"][0]["subject"],
            json!("Registration bonus.")
        );
        s.finish().await;
    }
}

/// Transfers recorded before balances existed are replayed into them by the migration
/// that adds balances (SQLite; the migration is the same SQL on PostgreSQL).
#[tokio::test]
async fn the_balance_migration_replays_earlier_transfers() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database, Statement};
    let dir = std::env::temp_dir().join(format!("taler-openapi-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/db.sqlite?mode=rwc", dir.display());
    let db = Database::connect(&url).await.unwrap();
    // Every migration before balances (000011 is the eleventh).
    Migrator::up(&db, Some(10)).await.unwrap();
    let backend = db.get_database_backend();
    for sql in [
        "INSERT INTO bank_accounts (account_id, username, password_hash, name, payto_key, \
         is_public, is_taler_exchange) VALUES \
         (1, 'a', 'x', 'a', 'payto://x-taler-bank/localhost/a', false, false), \
         (2, 'b', 'x', 'b', 'payto://x-taler-bank/localhost/b', false, false)",
        "INSERT INTO bank_transactions (debtor_account_id, creditor_account_id, amount, \
         credit_fee, subject, date) VALUES \
         (1, 2, 'KUDOS:5.5', NULL, 's', 0), (2, 1, 'KUDOS:1.25', 'KUDOS:0.25', 's', 0)",
    ] {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
    }
    Migrator::up(&db, None).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT balance_value, balance_frac, has_debt FROM bank_accounts ORDER BY account_id",
        ))
        .await
        .unwrap();
    let balances: Vec<(i64, i32, bool)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "balance_value").unwrap(),
                r.try_get("", "balance_frac").unwrap(),
                r.try_get("", "has_debt").unwrap(),
            )
        })
        .collect();
    // a: -5.5 + 1.0 (1.25 minus the 0.25 fee) = -4.5; b: +5.5 - 1.25 = 4.25.
    assert_eq!(balances, [(4, 50_000_000, true), (4, 25_000_000, false)]);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Managing accounts: changes (the owner's and the administrator's), passwords,
/// deletion with a zero balance, the lists, and revoking a token.
#[tokio::test]
async fn accounts_are_managed() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "erin", None).await;
        account(&s, "frank", None).await;
        let as_erin = |m: Method, path: &str, body: Option<Value>| {
            let mut req = s.req(m, path).basic_auth("erin", Some(PASSWORD));
            if let Some(b) = body {
                req = req.json(&b);
            }
            send(req)
        };
        // The owner makes the account public; name and threshold are the admin's.
        let (status, _) = as_erin(
            Method::PATCH,
            "/bank/accounts/erin",
            Some(json!({ "is_public": true })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = as_erin(
            Method::PATCH,
            "/bank/accounts/erin",
            Some(json!({ "name": "Eve" })),
        )
        .await;
        assert_error(status, &body, 409, 5135);
        let (status, body) = as_erin(
            Method::PATCH,
            "/bank/accounts/erin",
            Some(json!({ "debit_threshold": "KUDOS:5000" })),
        )
        .await;
        assert_error(status, &body, 409, 5136);
        let (status, body) = s
            .call(
                Method::PATCH,
                "/bank/accounts/erin",
                Some(ADMIN_TOKEN),
                Some(json!({ "debit_threshold": "KUDOS:5", "name": "Erin E." })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // Owners change their own contact data, as in libeufin-bank.
        let (status, body) = as_erin(
            Method::PATCH,
            "/bank/accounts/erin",
            Some(json!({ "contact_data": { "email": "erin@example.org" } })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = s
            .call(
                Method::PATCH,
                "/bank/accounts/erin",
                Some(ADMIN_TOKEN),
                Some(json!({ "contact_data": { "email": "erin@example.org" } })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, data) = s
            .call(Method::GET, "/bank/accounts/erin", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(data["contact_data"], json!({ "email": "erin@example.org" }));
        assert_eq!(
            (
                data["debit_threshold"].clone(),
                data["name"].clone(),
                data["is_public"].clone()
            ),
            (json!("KUDOS:5"), json!("Erin E."), json!(true))
        );

        // Lists: the administrator's, and the public one.
        let (status, listed) = s
            .call(
                Method::GET,
                "/bank/accounts?filter_name=ERIN",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(listed["accounts"].as_array().unwrap().len(), 1);
        assert_eq!(listed["accounts"][0]["username"], json!("erin"));
        let (status, body) = s.call(Method::GET, "/bank/accounts", None, None).await;
        // No Authorization header: 401 `GENERIC_PARAMETER_MISSING`, as libeufin-bank.
        assert_error(status, &body, 401, 25);
        let (status, public) = s
            .call(Method::GET, "/bank/public-accounts", None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{public}");
        let names: Vec<&str> = public["public_accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["erin"]);
        let (status, _) = s
            .call(
                Method::GET,
                "/bank/public-accounts?filter_name=nobody",
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        // Passwords: the owner proves the old one.
        let change = |old: Option<&str>| {
            let mut body = json!({ "new_password": "new-password-456" });
            if let Some(o) = old {
                body["old_password"] = json!(o);
            }
            body
        };
        let (status, body) = as_erin(
            Method::PATCH,
            "/bank/accounts/erin/auth",
            Some(change(None)),
        )
        .await;
        assert_error(status, &body, 409, 5137);
        let (status, body) = as_erin(
            Method::PATCH,
            "/bank/accounts/erin/auth",
            Some(change(Some("wrong-password"))),
        )
        .await;
        assert_error(status, &body, 409, 5138);
        let (status, _) = as_erin(
            Method::PATCH,
            "/bank/accounts/erin/auth",
            Some(change(Some(PASSWORD))),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = as_erin(Method::GET, "/bank/accounts/erin", None).await;
        assert_error(status, &body, 401, 40);
        let req = s
            .req(Method::POST, "/bank/accounts/erin/token")
            .basic_auth("erin", Some("new-password-456"))
            .json(&json!({ "scope": "readwrite" }));
        let (status, token) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{token}");
        let token = token["access_token"].as_str().unwrap().to_owned();

        // The token list, then a token revokes itself.
        let (status, _) = s
            .call(Method::GET, "/bank/accounts/erin", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, listed) = s
            .call(
                Method::GET,
                "/bank/accounts/erin/tokens",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(listed["tokens"].as_array().unwrap().len(), 1);
        assert_eq!(listed["tokens"][0]["scope"], json!("readwrite"));
        assert!(
            listed["tokens"][0]["creation_time"]["t_s"]
                .as_u64()
                .unwrap()
                > 0
        );
        let (status, _) = s
            .call(
                Method::DELETE,
                "/bank/accounts/erin/token",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s
            .call(Method::GET, "/bank/accounts/erin", Some(&token), None)
            .await;
        assert_error(status, &body, 401, 40);
        let (status, _) = s
            .call(
                Method::GET,
                "/bank/accounts/erin/tokens",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        // Deletion: by the administrator only (no `ALLOW_DELETIONS`), with a zero
        // balance; the administrator's account never.
        let req = s
            .req(Method::DELETE, "/bank/accounts/erin")
            .basic_auth("erin", Some("new-password-456"));
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        let (status, body) = transfer(&s, "frank", "erin", "KUDOS:2").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = s
            .call(
                Method::DELETE,
                "/bank/accounts/erin",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 409, 5123);
        let req = s
            .req(Method::POST, "/bank/accounts/erin/transactions")
            .basic_auth("erin", Some("new-password-456"))
            .json(&json!({ "payto_uri": "payto://x-taler-bank/localhost/frank?message=back", "amount": "KUDOS:2" }));
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = s
            .call(
                Method::DELETE,
                "/bank/accounts/erin",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s
            .call(Method::GET, "/bank/accounts/erin", Some(ADMIN_TOKEN), None)
            .await;
        assert_error(status, &body, 404, 5106);
        let (status, body) = transfer(&s, "frank", "erin", "KUDOS:1").await;
        assert_error(status, &body, 409, 5124);
        let (status, body) = s
            .call(
                Method::DELETE,
                "/bank/accounts/admin",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 409, 5120);
        // frank's history still shows the transfers with erin.
        let (status, history) = s
            .call(
                Method::GET,
                "/bank/accounts/frank/transactions",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{history}");
        assert_eq!(history["transactions"].as_array().unwrap().len(), 2);
        s.finish().await;
    }
}

/// Taler transfers recorded before the monitor's statistics existed are counted into
/// them by the migration that adds them (SQLite; the same code runs on PostgreSQL).
#[tokio::test]
async fn the_stats_migration_counts_earlier_taler_transfers() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Database, Statement};
    let dir = std::env::temp_dir().join(format!("taler-openapi-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/db.sqlite?mode=rwc", dir.display());
    let db = Database::connect(&url).await.unwrap();
    // Every migration before the statistics (000020 is the twentieth).
    Migrator::up(&db, Some(19)).await.unwrap();
    let backend = db.get_database_backend();
    let key = "TXD9G0C2P45BFNABZV9WJS07787E2WQKVAK269DF08D6HXR7A4D0";
    for sql in [
        "INSERT INTO bank_accounts (account_id, username, password_hash, name, payto_key, \
         is_public, is_taler_exchange, balance_value, balance_frac, has_debt, \
         debit_threshold_value, debit_threshold_frac, deleted) VALUES \
         (1, 'a', 'x', 'a', 'payto://x-taler-bank/localhost/a', false, false, 0, 0, false, 0, 0, false), \
         (2, 'e', 'x', 'e', 'payto://x-taler-bank/localhost/e', false, true, 0, 0, false, 0, 0, false)"
            .to_owned(),
        // 2024-02-29T13:45:10Z: two in, one out, one plain; then one in a year later.
        format!(
            "INSERT INTO bank_transactions (debtor_account_id, creditor_account_id, amount, \
             subject, date, reserve_pub, wtid) VALUES \
             (1, 2, 'KUDOS:5.5', 's', 1709214310, '{key}', NULL), \
             (1, 2, 'KUDOS:0.75', 's', 1709214311, 'OTHER', NULL), \
             (2, 1, 'KUDOS:2', 's', 1709214312, NULL, 'W'), \
             (1, 2, 'KUDOS:9', 's', 1709214313, NULL, NULL), \
             (1, 2, 'KUDOS:1', 's', 1740750310, 'THIRD', NULL)"
        ),
    ] {
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
    }
    Migrator::up(&db, None).await.unwrap();
    let row = |timeframe: &str, start: i64| {
        let db = &db;
        let sql = format!(
            "SELECT taler_in_count, taler_in_value, taler_in_frac, taler_out_count, \
             taler_out_value FROM bank_stats WHERE timeframe = '{timeframe}' AND start = {start}"
        );
        async move {
            let r = db
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .unwrap();
            let get = |c: &str| r.try_get::<i64>("", c).unwrap();
            [
                get("taler_in_count"),
                get("taler_in_value"),
                get("taler_in_frac"),
                get("taler_out_count"),
                get("taler_out_value"),
            ]
        }
    };
    assert_eq!(row("hour", 1_709_211_600).await, [2, 6, 25_000_000, 1, 2]);
    assert_eq!(row("month", 1_706_745_600).await, [2, 6, 25_000_000, 1, 2]);
    assert_eq!(row("year", 1_704_067_200).await, [2, 6, 25_000_000, 1, 2]);
    assert_eq!(row("year", 1_735_689_600).await, [1, 1, 0, 0, 0]);
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every refusal of the bank's booking writes nothing, on both engines (on
/// PostgreSQL one statement, the database's `bank_transfer`, books a transfer): a
/// withdrawal no longer `selected`, a challenge used already, a debit past the
/// threshold; a repeated request uid replays the first answer, another transfer with
/// it is refused.
#[tokio::test]
async fn a_refused_booking_writes_nothing() {
    use taler_openapi::store::bank::{self as store, NewTransfer, TransferOutcome};
    for b in backends() {
        let s = TestServer::start(&b).await;
        account(&s, "alice", None).await;
        account(&s, "bob", None).await;
        let db = &s.server.state.db;
        let id = async |u: &str| {
            store::find_account(db, u)
                .await
                .unwrap()
                .unwrap()
                .account_id
        };
        let (alice, bob) = (id("alice").await, id("bob").await);
        let new = |units: i128, uid: Option<&str>| NewTransfer {
            debtor: alice,
            creditor: bob,
            amount: format!("KUDOS:{}", units / KUDOS),
            amount_units: units,
            credit_fee: None,
            fee_units: 0,
            fee_account: None,
            subject: "booked".to_owned(),
            date: 1_700_000_000,
            request_uid: uid.map(str::to_owned),
            taler: Default::default(),
            bounce_unless_incoming: false,
            withdrawal: None,
            challenge: None,
        };
        let book = async |n: NewTransfer| store::transfer(db, None, n).await.unwrap();
        let unchanged = async || {
            assert_eq!(balance(&s, "alice").await, 0);
            assert_eq!(balance(&s, "bob").await, 0);
            let (status, body) = s
                .call(
                    Method::GET,
                    "/bank/accounts/bob/transactions",
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        };

        let gone = NewTransfer {
            withdrawal: Some(i64::MAX),
            ..new(KUDOS, None)
        };
        assert!(matches!(
            book(gone).await,
            TransferOutcome::WithdrawalNotSelected
        ));
        unchanged().await;
        let used = NewTransfer {
            challenge: Some(i64::MAX),
            ..new(KUDOS, None)
        };
        assert!(matches!(book(used).await, TransferOutcome::ChallengeUsed));
        unchanged().await;
        // The default threshold is KUDOS:1000.
        assert!(matches!(
            book(new(1001 * KUDOS, None)).await,
            TransferOutcome::UnallowedDebit
        ));
        unchanged().await;

        let uid = Some("uid-1");
        let TransferOutcome::Done(first, _) = book(new(2 * KUDOS, uid)).await else {
            panic!("the transfer was refused");
        };
        let TransferOutcome::Done(again, _) = book(new(2 * KUDOS, uid)).await else {
            panic!("the repeat was refused");
        };
        assert_eq!(again, first);
        assert!(matches!(
            book(new(3 * KUDOS, uid)).await,
            TransferOutcome::RequestUidReused
        ));
        assert_eq!(balance(&s, "alice").await, -2 * KUDOS);
        assert_eq!(balance(&s, "bob").await, 2 * KUDOS);
        s.finish().await;
    }
}
