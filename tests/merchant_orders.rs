//! Orders over HTTP: the merchant's flow (create, list, long-poll for a claim, forget,
//! delete) and the wallet's (status, claim, second claim refused).

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use taler_openapi::taler::{contract, keys};

const CURRENCY_MISMATCH: u64 = 2024;
const ORDER_UNKNOWN: u64 = 2005;
const PRODUCT_UNKNOWN: u64 = 2006;
const INVALID_TOKEN: u64 = 2105;
const INVALID_CONTRACT_HASH: u64 = 2106;
const CLAIM_NOT_FOUND: u64 = 2300;
const ALREADY_CLAIMED: u64 = 2301;
const PROPOSAL_PARSE_ERROR: u64 = 2502;
const ALREADY_EXISTS: u64 = 2503;
const PAY_DEADLINE_IN_PAST: u64 = 2507;
const FORGET_PATH_SYNTAX: u64 = 2510;
const FORGET_NOT_FORGETTABLE: u64 = 2511;
const AWAITING_PAYMENT: u64 = 2520;

async fn call(s: &TestServer, m: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    s.call(m, path, Some(ADMIN_TOKEN), body).await
}

async fn public(s: &TestServer, m: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    s.call(m, path, None, body).await
}

const ACCOUNT: &str = "payto://x-taler-bank/bank.example/shop?receiver-name=Shop";

/// Gives the default instance a bank account (orders need one) and returns its `h_wire`.
async fn add_account(s: &TestServer) -> String {
    let (status, body) = call(
        s,
        Method::POST,
        "/merchant/private/accounts",
        Some(json!({ "payto_uri": ACCOUNT })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["h_wire"].as_str().unwrap().to_owned()
}

fn nonce() -> String {
    keys::encode(&taler_openapi::taler::secret::random_bytes::<32>())
}

/// The merchant's key, from the public instance configuration.
async fn merchant_pub(s: &TestServer) -> VerifyingKey {
    let (status, body) = call(s, Method::GET, "/merchant/private", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bytes = keys::decode(body["merchant_pub"].as_str().unwrap(), 32).unwrap();
    VerifyingKey::from_bytes(&bytes.try_into().unwrap()).unwrap()
}

fn verify_claim(key: &VerifyingKey, claim: &Value) -> [u8; 64] {
    let h = contract::contract_hash(&claim["contract_terms"]).unwrap();
    let sig = keys::decode(claim["sig"].as_str().unwrap(), 64).unwrap();
    key.verify(
        &contract::contract_purpose(&h),
        &Signature::from_bytes(&sig.try_into().unwrap()),
    )
    .expect("the claim signature verifies with the instance's public key");
    h
}

/// Wallet flow: order → status (402 with pay URI) → claim (signed) → same nonce again
/// (same terms) → other nonce (409) → status needs the contract hash.
#[tokio::test]
async fn wallet_claims_an_order_once() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        add_account(&s).await;
        let key = merchant_pub(&s).await;
        let (status, created) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(json!({
                "order": {
                    "amount": "KUDOS:3.5",
                    "summary": "Three coffees",
                    "fulfillment_url": "https://shop.example/thanks/${ORDER_ID}",
                    "extra": { "table": 7 },
                },
            })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let id = created["order_id"].as_str().unwrap().to_owned();
        let token = created["token"].as_str().unwrap().to_owned();
        // A generated id: year, day of the year, 13 random characters.
        let (year_day, random) = id.split_once('-').unwrap();
        let (year, day) = year_day.split_once('.').unwrap();
        assert!(
            year.parse::<i32>().unwrap() >= 2026
                && (1..=366).contains(&day.parse::<u32>().unwrap()),
            "{id}"
        );
        assert_eq!(random.len(), 13, "{id}");

        // Without the token the wallet learns nothing.
        let (status, body) = public(&s, Method::GET, &format!("/merchant/orders/{id}"), None).await;
        assert_error(status, &body, 403, INVALID_TOKEN);
        let (status, body) = public(
            &s,
            Method::GET,
            &format!("/merchant/orders/{id}?token={token}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
        let pay_uri = body["taler_pay_uri"].as_str().unwrap();
        assert!(
            pay_uri.starts_with("taler+http://pay/127.0.0.1:")
                && pay_uri.contains(&format!("/merchant/{id}/?c={token}")),
            "{pay_uri}"
        );
        assert_eq!(
            body["fulfillment_url"],
            json!(format!("https://shop.example/thanks/{id}"))
        );

        // Claims: a wrong token is an unknown order; the right one gets signed terms.
        let claim_path = format!("/merchant/orders/{id}/claim");
        let wallet = nonce();
        let (status, body) = public(
            &s,
            Method::POST,
            &claim_path,
            Some(json!({ "nonce": wallet, "token": "WRONG" })),
        )
        .await;
        assert_error(status, &body, 404, CLAIM_NOT_FOUND);
        let (status, claim) = public(
            &s,
            Method::POST,
            &claim_path,
            Some(json!({ "nonce": wallet, "token": token })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{claim}");
        let terms = &claim["contract_terms"];
        assert_eq!(terms["nonce"], json!(wallet));
        assert_eq!(terms["order_id"], json!(id));
        assert_eq!(terms["amount"], json!("KUDOS:3.5"));
        assert_eq!(terms["max_fee"], json!("KUDOS:0"));
        assert_eq!(terms["merchant"]["name"], json!("Default instance"));
        assert_eq!(terms["extra"], json!({ "table": 7 }));
        assert_eq!(terms["wire_method"], json!("x-taler-bank"));
        assert!(terms["h_wire"].as_str().unwrap().len() == 103, "{terms}");
        assert!(terms["pay_deadline"]["t_s"].as_u64().unwrap() > 0);
        let h = verify_claim(&key, &claim);

        // The same nonce again: the same terms. Another nonce: 409.
        let (status, again) = public(
            &s,
            Method::POST,
            &claim_path,
            Some(json!({ "nonce": wallet, "token": token })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["contract_terms"], claim["contract_terms"]);
        let (status, body) = public(
            &s,
            Method::POST,
            &claim_path,
            Some(json!({ "nonce": nonce(), "token": token })),
        )
        .await;
        assert_error(status, &body, 409, ALREADY_CLAIMED);

        // Once claimed, the status needs the contract hash; the token no longer does.
        let status_path = format!("/merchant/orders/{id}?token={token}");
        let (status, body) = public(&s, Method::GET, &status_path, None).await;
        assert_error(status, &body, 403, INVALID_CONTRACT_HASH);
        let h_contract = keys::encode(&h);
        let (status, body) = public(
            &s,
            Method::GET,
            &format!("/merchant/orders/{id}?h_contract={h_contract}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
        assert!(!body["taler_pay_uri"].as_str().unwrap().contains("?c="));

        // The merchant sees the claim; the claimed order cannot be deleted yet.
        let (status, body) = call(
            &s,
            Method::GET,
            &format!("/merchant/private/orders/{id}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["order_status"], json!("claimed"));
        assert_eq!(body["contract_terms"], claim["contract_terms"]);
        let (status, body) = call(
            &s,
            Method::DELETE,
            &format!("/merchant/private/orders/{id}"),
            None,
        )
        .await;
        assert_error(status, &body, 409, AWAITING_PAYMENT);

        // Survives a restart: the same signed terms.
        let s = s.restart().await;
        let (status, after) = public(
            &s,
            Method::POST,
            &claim_path,
            Some(json!({ "nonce": wallet })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{after}");
        assert_eq!(after["contract_terms"], claim["contract_terms"]);
        verify_claim(&key, &after);
        s.finish().await;
    }
}

/// The row id of the newest order.
async fn body_newest(s: &TestServer) -> u64 {
    let (_, body) = call(s, Method::GET, "/merchant/private/orders?limit=-1", None).await;
    body["orders"][0]["row_id"].as_u64().unwrap()
}

/// Merchant flow: create with a given id (repeat is not a conflict, other details are),
/// list with filters, long-poll the order for a claim, forget, delete.
#[tokio::test]
async fn merchant_creates_lists_waits_forgets_and_deletes() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        add_account(&s).await;
        let order = json!({
            "order": {
                "order_id": "A-1",
                "amount": "KUDOS:10",
                "summary": "Ten things",
                "products": [{ "description": "a thing", "quantity": 10 }],
                "extra": { "note": "secret", "public": 1 },
                "$forgettable": { "extra": true },
            },
            "session_id": "s-1",
            "create_token": false,
        });
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({ "order_id": "A-1" }));
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut other = order.clone();
        other["order"]["summary"] = json!("Eleven things");
        let (status, body) = call(&s, Method::POST, "/merchant/private/orders", Some(other)).await;
        assert_error(status, &body, 409, ALREADY_EXISTS);
        for i in 2..=3 {
            let (status, body) = call(
                &s,
                Method::POST,
                "/merchant/private/orders",
                Some(json!({ "order": {
                    "order_id": format!("A-{i}"), "amount": "KUDOS:1", "summary": "one"
                } })),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }

        let (status, body) = call(&s, Method::GET, "/merchant/private/orders", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ids: Vec<&str> = body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["order_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["A-1", "A-2", "A-3"],
            "the page's default: 20, ascending"
        );
        let (status, body) =
            call(&s, Method::GET, "/merchant/private/orders?limit=-20", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ids: Vec<&str> = body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["order_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["A-3", "A-2", "A-1"]);
        assert_eq!(body["orders"][2]["amount"], json!("KUDOS:10"));
        assert_eq!(body["orders"][2]["paid"], json!(false));
        let (_, body) = call(
            &s,
            Method::GET,
            "/merchant/private/orders?limit=1&offset=1&paid=no",
            None,
        )
        .await;
        assert_eq!(body["orders"].as_array().unwrap().len(), 1);
        assert_eq!(body["orders"][0]["order_id"], json!("A-2"));
        let (_, body) = call(&s, Method::GET, "/merchant/private/orders?paid=YES", None).await;
        assert_eq!(body["orders"], json!([]));
        let (_, body) = call(
            &s,
            Method::GET,
            "/merchant/private/orders?session_id=s-1",
            None,
        )
        .await;
        assert_eq!(body["orders"].as_array().unwrap().len(), 1);
        let (status, body) =
            call(&s, Method::GET, "/merchant/private/orders?paid=maybe", None).await;
        assert_error(status, &body, 400, 26);

        // Long poll for orders after the newest: woken by a creation.
        let newest = body_newest(&s).await;
        let waiter = {
            let req = s
                .req(
                    Method::GET,
                    &format!("/merchant/private/orders?limit=5&offset={newest}&timeout_ms=20000"),
                )
                .bearer_auth(ADMIN_TOKEN);
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                (common::send(req).await, started.elapsed())
            })
        };

        // Long poll the order's status for a claim (lp_not_etag).
        let resp = s
            .req(Method::GET, "/merchant/private/orders/A-1")
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["order_status"], json!("unpaid"));
        assert_eq!(body["summary"], json!("Ten things"));
        assert!(
            body["taler_pay_uri"]
                .as_str()
                .unwrap()
                .ends_with("/merchant/A-1/s-1")
        );
        let claim_waiter = {
            let req = s
                .req(
                    Method::GET,
                    &format!("/merchant/private/orders/A-1?timeout_ms=20000&lp_not_etag={etag}"),
                )
                .bearer_auth(ADMIN_TOKEN);
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                (common::send(req).await, started.elapsed())
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (status, claim) = public(
            &s,
            Method::POST,
            "/merchant/orders/A-1/claim",
            Some(json!({ "nonce": nonce() })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{claim}");
        let ((status, body), waited) = claim_waiter.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["order_status"], json!("claimed"));
        assert!(waited.as_secs() < 10, "woken by the claim, not the timeout");
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(json!({ "order": { "amount": "KUDOS:2", "summary": "late" } })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ((status, listed), waited) = waiter.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(listed["orders"][0]["summary"], json!("late"), "{listed}");
        assert!(
            waited.as_secs() < 10,
            "woken by the new order, not the timeout"
        );

        // Forget: bad paths, unforgettable fields, then the forgettable one; the
        // contract hash stays the same.
        let h_before = contract::contract_hash(&claim["contract_terms"]).unwrap();
        let forget = "/merchant/private/orders/A-1/forget";
        let (status, body) = call(
            &s,
            Method::PATCH,
            forget,
            Some(json!({ "fields": ["extra"] })),
        )
        .await;
        assert_error(status, &body, 400, FORGET_PATH_SYNTAX);
        let (status, body) = call(
            &s,
            Method::PATCH,
            forget,
            Some(json!({ "fields": ["$.summary"] })),
        )
        .await;
        assert_error(status, &body, 409, FORGET_NOT_FORGETTABLE);
        let (status, _) = call(
            &s,
            Method::PATCH,
            forget,
            Some(json!({ "fields": ["$.extra", "$.nothing_here"] })),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = call(
            &s,
            Method::PATCH,
            forget,
            Some(json!({ "fields": ["$.extra"] })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, body) = call(&s, Method::GET, "/merchant/private/orders/A-1", None).await;
        let terms = &body["contract_terms"];
        assert!(terms.get("extra").is_none(), "{terms}");
        assert!(terms["$forgotten"]["extra"].is_string(), "{terms}");
        assert_eq!(contract::contract_hash(terms).unwrap(), h_before);

        // Delete: an unclaimed order goes; an unknown one is 404.
        let (status, _) = call(&s, Method::DELETE, "/merchant/private/orders/A-2", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = call(&s, Method::DELETE, "/merchant/private/orders/A-2", None).await;
        assert_error(status, &body, 404, ORDER_UNKNOWN);
        let (status, body) = call(&s, Method::GET, "/merchant/private/orders/A-2", None).await;
        assert_error(status, &body, 404, ORDER_UNKNOWN);
        s.finish().await;
    }
}

/// Bad orders are refused with the page's codes and store nothing.
#[tokio::test]
async fn invalid_orders_are_refused() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        add_account(&s).await;
        let post = async |order: Value| {
            call(&s, Method::POST, "/merchant/private/orders", Some(order)).await
        };
        let (status, body) = post(json!({ "order": { "amount": "EUR:1", "summary": "x" } })).await;
        assert_error(status, &body, 409, CURRENCY_MISMATCH);
        let (status, body) = post(json!({ "order": { "summary": "x" } })).await;
        assert_error(status, &body, 400, PROPOSAL_PARSE_ERROR);
        let (status, body) = post(json!({ "order": {
            "amount": "KUDOS:1", "summary": "x", "pay_deadline": { "t_s": 1000 }
        } }))
        .await;
        assert_error(status, &body, 400, PAY_DEADLINE_IN_PAST);
        let (status, body) = post(json!({ "order": {
            "amount": "KUDOS:1", "summary": "x", "extra": { "ratio": 0.5 }
        } }))
        .await;
        assert_error(status, &body, 400, PROPOSAL_PARSE_ERROR);
        let (status, body) = post(json!({ "order": {
            "amount": "KUDOS:1", "summary": "x", "order_id": "no spaces"
        } }))
        .await;
        assert_error(status, &body, 400, 26);
        let (status, body) = post(json!({
            "order": { "amount": "KUDOS:1", "summary": "x" },
            "inventory_products": [{ "product_id": "ghost", "quantity": 1 }],
        }))
        .await;
        assert_error(status, &body, 404, PRODUCT_UNKNOWN);
        let (_, body) = call(&s, Method::GET, "/merchant/private/orders", None).await;
        assert_eq!(body["orders"], json!([]));
        let (status, body) = s
            .call(Method::GET, "/merchant/private/orders", None, None)
            .await;
        assert_error(status, &body, 401, 40);
        // Permissions: `readonly` reads orders but does not create them.
        let readonly = s.instance_with_token("kiosk", "readonly").await;
        let orders = "/merchant/instances/kiosk/private/orders";
        let (status, body) = s.call(Method::GET, orders, Some(&readonly), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = s
            .call(
                Method::POST,
                orders,
                Some(&readonly),
                Some(json!({ "order": { "amount": "KUDOS:1", "summary": "x" } })),
            )
            .await;
        assert_error(status, &body, 403, 16);
        let (status, body) =
            public(&s, Method::GET, "/merchant/instances/nobody/orders/x", None).await;
        assert_error(status, &body, 404, ORDER_UNKNOWN);
        s.finish().await;
    }
}

/// Inventory products: priced from the inventory, their units held; the last unit
/// goes to one of two racing orders, and comes back when that order is deleted.
#[tokio::test]
async fn inventory_units_are_held_and_released() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        add_account(&s).await;
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/products",
            Some(json!({
                "product_id": "cake",
                "product_name": "Cake",
                "description": "a slice",
                "unit": "slice",
                "unit_price": ["KUDOS:1.5"],
                "unit_total_stock": "3",
            })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let order = |id: &str, q: u64| {
            json!({
                "order": { "order_id": id, "amount": "KUDOS:3", "summary": "cake" },
                "inventory_products": [{ "product_id": "cake", "quantity": q }],
                "create_token": false,
            })
        };
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order("c1", 2)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order("c2", 2)),
        )
        .await;
        assert_eq!(status, StatusCode::GONE, "{body}");
        assert_eq!(body["product_id"], json!("cake"));
        assert_eq!(body["unit_requested_quantity"], json!("2"));
        assert_eq!(body["unit_available_quantity"], json!("1"));

        // Two racing orders for the last slice: one wins.
        let (a, b2) = tokio::join!(
            call(
                &s,
                Method::POST,
                "/merchant/private/orders",
                Some(order("r1", 1))
            ),
            call(
                &s,
                Method::POST,
                "/merchant/private/orders",
                Some(order("r2", 1))
            ),
        );
        let mut statuses = [a.0.as_u16(), b2.0.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 410], "{a:?} {b2:?}");

        let (status, claim) = public(
            &s,
            Method::POST,
            "/merchant/orders/c1/claim",
            Some(json!({ "nonce": nonce() })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{claim}");
        let line = &claim["contract_terms"]["products"][0];
        assert_eq!(line["product_id"], json!("cake"));
        assert_eq!(line["price"], json!("KUDOS:3"));
        assert_eq!(line["unit_quantity"], json!("2"));

        // All three slices are held: none may be marked lost.
        let (status, body) = call(
            &s,
            Method::PATCH,
            "/merchant/private/products/cake",
            Some(json!({
                "description": "a slice", "unit": "slice", "unit_price": ["KUDOS:1.5"],
                "unit_total_stock": "3", "unit_total_lost": "1",
            })),
        )
        .await;
        assert_error(status, &body, 409, 2661);

        // Deleting the winner of the race gives its slice back.
        let winner = if a.0 == StatusCode::OK { "r1" } else { "r2" };
        let (status, _) = call(
            &s,
            Method::DELETE,
            &format!("/merchant/private/orders/{winner}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order("c3", 1)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Units are held: the product cannot be deleted.
        let (status, body) =
            call(&s, Method::DELETE, "/merchant/private/products/cake", None).await;
        assert_error(status, &body, 409, 2680);
        s.finish().await;
    }
}

const TEMPLATE_UNKNOWN: u64 = 2018;
const USING_AMOUNT_CONFLICT: u64 = 2860;
const USING_SUMMARY_CONFLICT: u64 = 2861;
const USING_NO_AMOUNT: u64 = 2862;
const USING_NO_SUMMARY: u64 = 2863;
const USING_NO_CURRENCY: u64 = 2864;
const USING_WRONG_PRODUCT: u64 = 2865;
const USING_WRONG_TYPE: u64 = 2866;

async fn claim_of(s: &TestServer, created: &Value) -> Value {
    let id = created["order_id"].as_str().unwrap();
    let (status, claim) = public(
        s,
        Method::POST,
        &format!("/merchant/orders/{id}/claim"),
        Some(json!({ "nonce": nonce(), "token": created["token"] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    claim
}

/// A wallet turns each template type into an order; the rules between template and
/// request give the page's codes; a form works like JSON.
#[tokio::test]
async fn wallets_create_orders_from_templates() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        add_account(&s).await;
        let key = merchant_pub(&s).await;
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/categories",
            Some(json!({ "name": "drinks" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let drinks = body["category_id"].as_u64().unwrap();
        for (id, stock, categories) in [
            ("coffee", "-1", json!([drinks])),
            ("tea", "-1", json!([])),
            ("juice", "1", json!([drinks])),
        ] {
            let (status, body) = call(
                &s,
                Method::POST,
                "/merchant/private/products",
                Some(json!({
                    "product_id": id, "product_name": id.to_uppercase(),
                    "description": id, "unit": "cup", "unit_price": ["KUDOS:2.5"],
                    "unit_total_stock": stock, "categories": categories,
                })),
            )
            .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        for (id, contract) in [
            (
                "espresso",
                json!({ "summary": "Espresso", "amount": "KUDOS:2.5", "request_tip": true,
                        "pay_duration": { "d_us": 600000000 } }),
            ),
            ("donation", json!({ "currency": "KUDOS" })),
            (
                "bar",
                json!({ "template_type": "inventory-cart", "selected_categories": [drinks] }),
            ),
            (
                "news",
                json!({ "template_type": "paivana", "summary": "News",
                        "website_regex": "^https://news\\.example/",
                        "choices": [{ "amount": "KUDOS:0.1", "description": "one article" }] }),
            ),
        ] {
            let (status, body) = call(
                &s,
                Method::POST,
                "/merchant/private/templates",
                Some(json!({
                    "template_id": id, "template_description": id, "template_contract": contract,
                })),
            )
            .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        let use_template = async |id: &str, body: Value| {
            public(
                &s,
                Method::POST,
                &format!("/merchant/templates/{id}"),
                Some(body),
            )
            .await
        };

        // Fixed order: the price is the template's; a tip is added as a line.
        let (status, created) = use_template("espresso", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let claim = claim_of(&s, &created).await;
        verify_claim(&key, &claim);
        let terms = &claim["contract_terms"];
        assert_eq!(terms["amount"], json!("KUDOS:2.5"));
        assert_eq!(terms["summary"], json!("Espresso"));
        assert_eq!(
            terms["pay_deadline"]["t_s"].as_u64().unwrap()
                - terms["timestamp"]["t_s"].as_u64().unwrap(),
            600
        );
        let (status, created) = use_template("espresso", json!({ "tip": "KUDOS:0.5" })).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let terms = claim_of(&s, &created).await["contract_terms"].clone();
        assert_eq!(terms["amount"], json!("KUDOS:3"));
        assert_eq!(terms["products"][0]["price"], json!("KUDOS:0.5"));
        let (status, body) = use_template("espresso", json!({ "amount": "KUDOS:9" })).await;
        assert_error(status, &body, 400, USING_AMOUNT_CONFLICT);
        let (status, body) = use_template("espresso", json!({ "summary": "Tea" })).await;
        assert_error(status, &body, 400, USING_SUMMARY_CONFLICT);
        let (status, body) = use_template("espresso", json!({ "template_type": "paivana" })).await;
        assert_error(status, &body, 400, USING_WRONG_TYPE);
        let (status, body) = use_template("ghost", json!({})).await;
        assert_error(status, &body, 404, TEMPLATE_UNKNOWN);

        // A form works like JSON.
        let (status, created) = common::send(
            s.req(Method::POST, "/merchant/templates/espresso")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("tip=KUDOS%3A1"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        assert_eq!(
            claim_of(&s, &created).await["contract_terms"]["amount"],
            json!("KUDOS:3.5")
        );

        // Open amount: the request gives amount and summary, in the template's currency.
        let (status, body) = use_template("donation", json!({})).await;
        assert_error(status, &body, 400, USING_NO_AMOUNT);
        let (status, body) = use_template("donation", json!({ "amount": "EUR:1" })).await;
        assert_error(status, &body, 400, CURRENCY_MISMATCH);
        let (status, body) = use_template("donation", json!({ "amount": "KUDOS:4" })).await;
        assert_error(status, &body, 400, USING_NO_SUMMARY);
        let (status, created) = use_template(
            "donation",
            json!({ "amount": "KUDOS:4", "summary": "Gift" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");

        // Inventory cart: priced from the inventory, only what the template offers.
        let cart = |selection: Value, amount: Option<&str>| {
            let mut body =
                json!({ "template_type": "inventory-cart", "inventory_selection": selection });
            if let Some(a) = amount {
                body["amount"] = json!(a);
            }
            body
        };
        let two_coffees = json!([{ "product_id": "coffee", "quantity": "2" }]);
        let (status, body) = use_template("bar", cart(two_coffees.clone(), None)).await;
        assert_error(status, &body, 400, USING_NO_CURRENCY);
        let (status, body) = use_template("bar", cart(two_coffees.clone(), Some("KUDOS:4"))).await;
        assert_error(status, &body, 400, USING_AMOUNT_CONFLICT);
        let (status, body) = use_template(
            "bar",
            cart(
                json!([{ "product_id": "tea", "quantity": "1" }]),
                Some("KUDOS:2.5"),
            ),
        )
        .await;
        assert_error(status, &body, 400, USING_WRONG_PRODUCT);
        let (status, body) = use_template(
            "bar",
            cart(
                json!([{ "product_id": "ghost", "quantity": "1" }]),
                Some("KUDOS:2.5"),
            ),
        )
        .await;
        assert_error(status, &body, 404, PRODUCT_UNKNOWN);
        let (status, created) = use_template("bar", cart(two_coffees, Some("KUDOS:5"))).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let terms = claim_of(&s, &created).await["contract_terms"].clone();
        assert_eq!(terms["amount"], json!("KUDOS:5"));
        assert_eq!(terms["summary"], json!("COFFEE"));
        assert_eq!(terms["products"][0]["unit_quantity"], json!("2"));
        let juice = |q: &str| json!([{ "product_id": "juice", "quantity": q }]);
        let (status, body) = use_template("bar", cart(juice("2"), Some("KUDOS:5"))).await;
        assert_eq!(status, StatusCode::GONE, "{body}");
        let (status, body) = use_template("bar", cart(juice("1"), Some("KUDOS:2.5"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Paivana: the website becomes the fulfillment URL, the id the session.
        let (status, body) = use_template("news", json!({ "template_type": "paivana" })).await;
        assert_error(status, &body, 400, 26);
        let (status, body) = use_template(
            "news",
            json!({ "template_type": "paivana", "website": "https://evil.example/",
                    "paivana_id": "p1" }),
        )
        .await;
        assert_error(status, &body, 400, 26);
        let (status, created) = use_template(
            "news",
            json!({ "template_type": "paivana", "website": "https://news.example/a",
                    "paivana_id": "p1" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let id = created["order_id"].as_str().unwrap();
        let (_, status_body) = public(
            &s,
            Method::GET,
            &format!(
                "/merchant/orders/{id}?token={}",
                created["token"].as_str().unwrap()
            ),
            None,
        )
        .await;
        assert!(
            status_body["taler_pay_uri"]
                .as_str()
                .unwrap()
                .contains(&format!("/{id}/p1?c=")),
            "{status_body}"
        );
        let claim = claim_of(&s, &created).await;
        verify_claim(&key, &claim);
        let terms = &claim["contract_terms"];
        assert_eq!(terms["version"], json!(1));
        assert_eq!(terms["choices"][0]["amount"], json!("KUDOS:0.1"));
        assert_eq!(terms["fulfillment_url"], json!("https://news.example/a"));
        assert!(terms.get("amount").is_none());
        s.finish().await;
    }
}

/// An unpaid order past its pay deadline gives its units back (exactly once, though two
/// servers sweep the same database) and stays readable, no longer payable, until the
/// merchant deletes it (issue 32: a shop polling its order must not read 404).
#[tokio::test]
async fn expired_orders_free_their_units_once_and_stay_readable() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        add_account(&s).await;
        // A second server on the same database, sweeping as fast as it can.
        let other =
            taler_openapi::open_state(common::test_config(&s.db, ""), s.db.schema.as_deref())
                .await
                .unwrap();
        let sweeper = tokio::spawn(async move {
            loop {
                let _ = taler_openapi::merchant::orders::lifecycle::sweep(&other).await;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        });
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/products",
            Some(json!({
                "product_id": "bread", "description": "a loaf", "unit": "loaf",
                "unit_price": ["KUDOS:3"], "unit_total_stock": "3",
            })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let order = |id: &str, deadline: Option<u64>, q: u64| {
            let mut o = json!({
                "order": { "order_id": id, "amount": "KUDOS:3", "summary": "bread" },
                "inventory_products": [{ "product_id": "bread", "quantity": q }],
            });
            if let Some(d) = deadline {
                o["order"]["pay_deadline"] = json!({ "t_s": d });
            }
            o
        };
        for body in [order("soon", Some(now + 2), 1), order("later", None, 1)] {
            let (status, created) =
                call(&s, Method::POST, "/merchant/private/orders", Some(body)).await;
            assert_eq!(status, StatusCode::OK, "{created}");
        }
        // Two loaves can be ordered once "soon" gave its loaf back.
        let mut freed = false;
        for _ in 0..100 {
            let (status, _) = call(
                &s,
                Method::POST,
                "/merchant/private/orders",
                Some(order("probe", None, 2)),
            )
            .await;
            if status == StatusCode::OK {
                freed = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(freed, "the expired order kept its units");
        // Sweeps go on meanwhile; the loaf must not be given back twice.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (status, body) = call(&s, Method::DELETE, "/merchant/private/orders/probe", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = call(&s, Method::GET, "/merchant/private/orders/soon", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["order_status"], "unpaid", "{body}");
        let (status, body) = call(&s, Method::GET, "/merchant/private/orders/later", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // One loaf is still held by "later": two are free, not three.
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order("all", None, 3)),
        )
        .await;
        assert_eq!(status, StatusCode::GONE, "{body}");
        assert_eq!(body["unit_available_quantity"], json!("2"));
        sweeper.abort();
        s.finish().await;
    }
}

/// Bank accounts: h_wire from the salt, idempotent add, 409 for other settings,
/// deletion deactivates, orders need an active account (of the preferred method).
#[tokio::test]
async fn accounts_and_the_orders_that_name_them() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let order = json!({ "order": { "amount": "KUDOS:1", "summary": "x" } });
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order.clone()),
        )
        .await;
        assert_error(status, &body, 404, 2500);

        let (status, added) = call(
            &s,
            Method::POST,
            "/merchant/private/accounts",
            Some(json!({ "payto_uri": ACCOUNT, "extra_subject": "shop" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{added}");
        let h_wire = added["h_wire"].as_str().unwrap().to_owned();
        let salt: [u8; 16] = keys::decode(added["salt"].as_str().unwrap(), 16)
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            keys::encode(&contract::merchant_wire_hash(ACCOUNT, &salt)),
            h_wire
        );
        let (status, again) = call(
            &s,
            Method::POST,
            "/merchant/private/accounts",
            Some(json!({ "payto_uri": ACCOUNT, "extra_subject": "shop" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again, added);
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/accounts",
            Some(json!({ "payto_uri": ACCOUNT, "extra_subject": "other" })),
        )
        .await;
        assert_error(status, &body, 409, 2627);
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/accounts",
            Some(json!({ "payto_uri": "payto://nothing" })),
        )
        .await;
        assert_error(status, &body, 400, 26);

        let (status, body) = call(
            &s,
            Method::GET,
            &format!("/merchant/private/accounts/{h_wire}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["payto_uri"], json!(ACCOUNT));
        assert_eq!(body["extra_subject"], json!("shop"));

        let (status, created) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let mut iban = order.clone();
        iban["payment_target"] = json!("iban");
        let (status, body) = call(&s, Method::POST, "/merchant/private/orders", Some(iban)).await;
        assert_error(status, &body, 404, 2500);

        let path = format!("/merchant/private/accounts/{h_wire}");
        let (status, _) = call(&s, Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = call(&s, Method::DELETE, &path, None).await;
        assert_error(status, &body, 404, 2626);
        let (_, listed) = call(&s, Method::GET, "/merchant/private/accounts", None).await;
        assert_eq!(
            listed["accounts"],
            json!([{ "payto_uri": ACCOUNT, "h_wire": h_wire, "active": false }])
        );
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/orders",
            Some(order.clone()),
        )
        .await;
        assert_error(status, &body, 404, 2500);
        // Added again: reactivated, the same h_wire.
        let (status, back) = call(
            &s,
            Method::POST,
            "/merchant/private/accounts",
            Some(json!({ "payto_uri": ACCOUNT })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{back}");
        assert_eq!(back["h_wire"], json!(h_wire));
        let (status, body) = call(&s, Method::POST, "/merchant/private/orders", Some(order)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        s.finish().await;
    }
}

/// The order list's payment-state filters are merged walks, one per state the filter
/// allows (`store::orders::list_query`): every combination of `paid`, `refunded` and
/// `wired`, paged three at a time in both directions, lists exactly the matching
/// orders in row order; `summary_filter` matches a text in the summary, ignoring case.
#[tokio::test]
async fn filtered_order_pages_are_exact_in_both_directions() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    for b in backends() {
        let s = TestServer::start(&b).await;
        add_account(&s).await;
        // Orders in every payment state (twice over). Payments are not served yet, so
        // the states are written into the database.
        let mut states = Vec::new();
        for i in 0..16u32 {
            let id = format!("F-{i}");
            let summary = if i % 5 == 0 { "A red SHOE" } else { "a hat" };
            let (status, body) = call(
                &s,
                Method::POST,
                "/merchant/private/orders",
                Some(
                    json!({ "order": { "order_id": id, "amount": "KUDOS:1", "summary": summary } }),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let state = [i & 1 != 0, i & 2 != 0, i & 4 != 0];
            entities::merchant_orders::Entity::update_many()
                .col_expr(
                    entities::merchant_orders::Column::Paid,
                    Expr::value(state[0]),
                )
                .col_expr(
                    entities::merchant_orders::Column::Refunded,
                    Expr::value(state[1]),
                )
                .col_expr(
                    entities::merchant_orders::Column::Wired,
                    Expr::value(state[2]),
                )
                .filter(entities::merchant_orders::Column::OrderId.eq(id.clone()))
                .exec(&s.server.state.db)
                .await
                .unwrap();
            states.push((id, state, i % 5 == 0));
        }
        let word = |f: Option<bool>| match f {
            None => "all",
            Some(true) => "yes",
            Some(false) => "no",
        };
        let choices = [None, Some(false), Some(true)];
        for paid in choices {
            for refunded in choices {
                for wired in choices {
                    for summary in [None, Some("Red shoe")] {
                        let wanted: Vec<&str> = states
                            .iter()
                            .filter(|(_, st, shoe)| {
                                [paid, refunded, wired]
                                    .iter()
                                    .zip(st)
                                    .all(|(f, v)| f.is_none_or(|f| f == *v))
                                    && (summary.is_none() || *shoe)
                            })
                            .map(|(id, _, _)| id.as_str())
                            .collect();
                        for limit in [3i64, -3] {
                            let mut listed: Vec<String> = Vec::new();
                            let mut offset: Option<u64> = None;
                            loop {
                                let mut path = format!(
                                    "/merchant/private/orders?paid={}&refunded={}&wired={}&limit={limit}",
                                    word(paid),
                                    word(refunded),
                                    word(wired)
                                );
                                if let Some(text) = summary {
                                    path.push_str(&format!("&summary_filter={text}"));
                                }
                                if let Some(o) = offset {
                                    path.push_str(&format!("&offset={o}"));
                                }
                                let (status, body) = call(&s, Method::GET, &path, None).await;
                                assert_eq!(status, StatusCode::OK, "{path}: {body}");
                                let page = body["orders"].as_array().unwrap();
                                assert!(page.len() <= 3, "{path}");
                                for o in page {
                                    listed.push(o["order_id"].as_str().unwrap().to_owned());
                                    offset = o["row_id"].as_u64();
                                }
                                if page.len() < 3 {
                                    break;
                                }
                            }
                            let mut expected: Vec<&str> = wanted.clone();
                            if limit < 0 {
                                expected.reverse();
                            }
                            assert_eq!(
                                listed, expected,
                                "{b:?} paid={paid:?} refunded={refunded:?} wired={wired:?} \
                                 summary={summary:?} limit={limit}"
                            );
                        }
                    }
                }
            }
        }
        s.finish().await;
    }
}
