//! Issue 33: merchant endpoints that shop clients call (taler-php, the pretix and Tryton
//! plugins), over HTTP on both engines.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `GET private/tokens` lists an instance's tokens without their secrets, newest first
/// by default; `DELETE private/tokens/$SERIAL` revokes one, which is refused at once.
#[tokio::test]
async fn an_instance_lists_and_revokes_its_tokens_by_serial() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let all = s.instance_with_token("shop", "all").await;
        let (status, body) = s
            .token_by_password(
                "shop",
                "shop",
                "pw-secret",
                json!({ "scope": "readonly:refreshable", "description": "the till" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let till = body["access_token"].as_str().unwrap().to_owned();
        let path = "/merchant/instances/shop/private/tokens";

        let (status, body) = s.call(Method::GET, path, Some(&all), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let tokens = body["tokens"].as_array().unwrap();
        assert_eq!(tokens.len(), 2, "{body}");
        // Descending by serial: the till's token first.
        assert_eq!(tokens[0]["scope"], "readonly");
        assert_eq!(tokens[0]["refreshable"], true);
        assert_eq!(tokens[0]["description"], "the till");
        assert_eq!(tokens[1]["scope"], "all");
        assert!(tokens[0]["serial"].as_u64() > tokens[1]["serial"].as_u64());
        for t in tokens {
            assert!(t["creation_time"]["t_s"].is_u64() && t["expiration"]["t_s"].is_u64());
            // Never a secret, in any field.
            assert!(!t.to_string().contains("secret-token:"), "{t}");
        }
        // Ascending paging from an offset.
        let first = tokens[1]["serial"].as_u64().unwrap();
        let (status, body) = s
            .call(
                Method::GET,
                &format!("{path}?limit=5&offset={first}"),
                Some(&all),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["tokens"].as_array().unwrap().len(), 1);
        // A read-only token may list, not delete.
        let (status, _) = s.call(Method::GET, path, Some(&till), None).await;
        assert_eq!(status, StatusCode::OK);
        let serial = tokens[0]["serial"].as_u64().unwrap();
        let (status, body) = s
            .call(
                Method::DELETE,
                &format!("{path}/{serial}"),
                Some(&till),
                None,
            )
            .await;
        assert_error(status, &body, 403, 16);
        // Another instance's token names no token of this one.
        let other = s.instance_with_token("other", "all").await;
        let (status, body) = s
            .call(
                Method::DELETE,
                &format!("/merchant/instances/other/private/tokens/{serial}"),
                Some(&other),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2039);
        let (status, body) = s
            .call(
                Method::DELETE,
                &format!("{path}/{serial}"),
                Some(&all),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // Revoked: refused at once, and gone from the list.
        let (status, _) = s.call(Method::GET, path, Some(&till), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (_, body) = s.call(Method::GET, path, Some(&all), None).await;
        assert_eq!(body["tokens"].as_array().unwrap().len(), 1);
        let (status, body) = s
            .call(
                Method::DELETE,
                &format!("{path}/{serial}"),
                Some(&all),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2039);
        let (status, body) = s
            .call(Method::DELETE, &format!("{path}/abc"), Some(&all), None)
            .await;
        assert_error(status, &body, 400, 26);
        // An instance without tokens (the administrator's is configured): 204.
        let (status, _) = s
            .call(
                Method::GET,
                "/merchant/private/tokens",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        s.finish().await;
    }
}

/// Tryton tests its configuration with `HEAD` on the instance's base URL; clients read
/// the newest page's protocol version; templates take `currency` with `amount`.
#[tokio::test]
async fn base_urls_answer_head_and_templates_take_currency_with_amount() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let token = s.instance_with_token("shop", "all").await;
        for (path, expected) in [
            ("/merchant/", 200),
            ("/merchant/instances/shop/", 200),
            ("/merchant/instances/nope/", 404),
        ] {
            let resp = s.req(Method::HEAD, path).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), expected, "HEAD {path}");
            assert!(resp.text().await.unwrap().is_empty());
            let (status, _) = s.call(Method::GET, path, None, None).await;
            assert_eq!(status.as_u16(), expected, "GET {path}");
        }
        let (_, config) = s.call(Method::GET, "/merchant/config", None, None).await;
        assert_eq!(config["version"], "32:0:20");

        let template = |currency: &str| {
            json!({
                "template_id": format!("t-{currency}"),
                "template_description": "coffee",
                "template_contract": {
                    "summary": "Coffee",
                    "amount": "KUDOS:3",
                    "currency": currency,
                },
            })
        };
        let path = "/merchant/instances/shop/private/templates";
        let (status, body) = s
            .call(Method::POST, path, Some(&token), Some(template("KUDOS")))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = s
            .call(Method::GET, &format!("{path}/t-KUDOS"), Some(&token), None)
            .await;
        assert_eq!(body["template_contract"]["currency"], "KUDOS", "{body}");
        assert_eq!(body["template_contract"]["amount"], "KUDOS:3", "{body}");
        let (status, body) = s
            .call(Method::POST, path, Some(&token), Some(template("EUR")))
            .await;
        assert_error(status, &body, 400, 26);
        s.finish().await;
    }
}

/// The refund API answers, for the orders this backend can have (none paid: payments
/// need an exchange), the page's codes in the reference's order: contract, currency,
/// payment.
#[tokio::test]
async fn refunds_answer_the_pages_codes_for_orders_that_are_not_paid() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let token = s.instance_with_token("shop", "all").await;
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/accounts",
                Some(&token),
                Some(json!({ "payto_uri": "payto://x-taler-bank/bank.example/shop?receiver-name=Shop" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for (id, extra) in [
            ("refundable", json!({})),
            ("final", json!({ "refund_delay": { "d_us": 0 } })),
        ] {
            let mut req =
                json!({ "order": { "order_id": id, "amount": "KUDOS:4", "summary": "Tea" } });
            for (k, v) in extra.as_object().unwrap() {
                req[k] = v.clone();
            }
            let (status, body) = s
                .call(
                    Method::POST,
                    "/merchant/instances/shop/private/orders",
                    Some(&token),
                    Some(req),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let refund = |id: &str, amount: &str| {
            let path = format!("/merchant/instances/shop/private/orders/{id}/refund");
            let body = json!({ "refund": amount, "reason": "broken cup" });
            (path, body)
        };
        for (id, amount, status, code) in [
            ("refundable", "KUDOS:1", 409, 2531),
            ("refundable", "EUR:1", 409, 2024),
            ("final", "KUDOS:1", 403, 2532),
            ("nope", "KUDOS:1", 404, 2005),
        ] {
            let (path, body) = refund(id, amount);
            let (got, answer) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
            assert_error(got, &answer, status, code);
        }
        // `orders-refund` is the permission: a read-only token is refused.
        let readonly = s.login("shop", "pw-secret", "readonly").await;
        let (path, body) = refund("refundable", "KUDOS:1");
        let (got, answer) = s
            .call(Method::POST, &path, Some(&readonly), Some(body))
            .await;
        assert_error(got, &answer, 403, 16);
        s.finish().await;
    }
}

/// Webhooks: created, listed, read, changed and deleted as the pages say; an order's
/// creation is delivered by the server over real HTTP, with the templates expanded.
#[tokio::test]
async fn webhooks_are_configured_and_delivered_over_http() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for b in backends() {
        let s = TestServer::start(&b).await;
        let token = s.instance_with_token("shop", "all").await;
        let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/hook/{{{{order_id}}}}",
            receiver.local_addr().unwrap()
        );
        let path = "/merchant/instances/shop/private/webhooks";
        let hook = json!({
            "webhook_id": "paid",
            "event_type": "order_created",
            "url": url,
            "http_method": "post",
            "header_template": "X-Shop: {{instance_id}}",
            "body_template": "{\"id\":\"{{order_id}}\",\"amount\":\"{{contract_terms.amount}}\"}",
        });
        let (status, body) = s
            .call(Method::POST, path, Some(&token), Some(hook.clone()))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // The same again is no conflict; other settings under the id are.
        let (status, _) = s
            .call(Method::POST, path, Some(&token), Some(hook.clone()))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let mut other = hook.clone();
        other["http_method"] = json!("PUT");
        let (status, body) = s.call(Method::POST, path, Some(&token), Some(other)).await;
        assert_error(status, &body, 409, 2900);
        let mut bad = hook.clone();
        bad["url"] = json!("ftp://example.com/");
        let (status, body) = s.call(Method::POST, path, Some(&token), Some(bad)).await;
        assert_error(status, &body, 400, 26);
        let (_, body) = s.call(Method::GET, path, Some(&token), None).await;
        assert_eq!(
            body["webhooks"],
            json!([{ "webhook_id": "paid", "event_type": "order_created" }])
        );
        let (_, body) = s
            .call(Method::GET, &format!("{path}/paid"), Some(&token), None)
            .await;
        assert_eq!(body["http_method"], "POST", "{body}");
        let (status, body) = s
            .call(Method::GET, &format!("{path}/nope"), Some(&token), None)
            .await;
        assert_error(status, &body, 404, 2019);

        // An order fires it; the server delivers it.
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/accounts",
                Some(&token),
                Some(json!({ "payto_uri": "payto://x-taler-bank/bank.example/shop?receiver-name=Shop" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/orders",
                Some(&token),
                Some(json!({ "order": { "order_id": "o-1", "amount": "KUDOS:4", "summary": "Tea" } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (mut conn, _) =
            tokio::time::timeout(std::time::Duration::from_secs(10), receiver.accept())
                .await
                .expect("the webhook is delivered")
                .unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&request).contains("KUDOS:4\"}") {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "{}", String::from_utf8_lossy(&request));
            request.extend_from_slice(&buf[..n]);
        }
        conn.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&request).to_lowercase();
        assert!(text.starts_with("post /hook/o-1 http/1.1"), "{text}");
        assert!(text.contains("x-shop: shop"), "{text}");
        assert!(
            text.contains("{\"id\":\"o-1\",\"amount\":\"kudos:4\"}"),
            "{text}"
        );

        let mut patch = hook.clone();
        patch.as_object_mut().unwrap().remove("webhook_id");
        patch["event_type"] = json!("inventory_added");
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("{path}/paid"),
                Some(&token),
                Some(patch),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = s
            .call(Method::DELETE, &format!("{path}/paid"), Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s
            .call(Method::DELETE, &format!("{path}/paid"), Some(&token), None)
            .await;
        assert_error(status, &body, 404, 2019);
        s.finish().await;
    }
}

const PRODUCT_UNKNOWN: u64 = 2006;

/// An instance `shop` with a bank account, a token, and products: `cups` (5 in stock,
/// category "kitchen") and `tea` (unlimited).
async fn shop_with_stock(s: &TestServer) -> (String, u64) {
    let token = s.instance_with_token("shop", "all").await;
    let m = "/merchant/instances/shop/private";
    let (status, body) = s
        .call(
            Method::POST,
            &format!("{m}/accounts"),
            Some(&token),
            Some(
                json!({ "payto_uri": "payto://x-taler-bank/bank.example/shop?receiver-name=Shop" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s
        .call(
            Method::POST,
            &format!("{m}/categories"),
            Some(&token),
            Some(json!({ "name": "kitchen", "name_i18n": { "de": "Küche" } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kitchen = body["category_id"].as_u64().unwrap();
    for (id, stock, categories) in [("cups", "5", json!([kitchen])), ("tea", "-1", json!([]))] {
        let (status, body) = s
            .call(
                Method::POST,
                &format!("{m}/products"),
                Some(&token),
                Some(json!({
                    "product_id": id, "product_name": id.to_uppercase(), "description": id,
                    "unit": "piece", "unit_price": ["KUDOS:2"], "unit_total_stock": stock,
                    "categories": categories,
                })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    (token, kitchen)
}

/// A private order for `units` cups, taking over `locks`.
async fn order_cups(
    s: &TestServer,
    token: &str,
    units: u64,
    locks: &[&str],
) -> (StatusCode, Value) {
    s.call(
        Method::POST,
        "/merchant/instances/shop/private/orders",
        Some(token),
        Some(json!({
            "order": { "amount": format!("KUDOS:{}", 2 * units), "summary": "Cups" },
            "inventory_products": [{ "product_id": "cups", "unit_quantity": units.to_string() }],
            "lock_uuids": locks,
        })),
    )
    .await
}

/// `GET private/pos` gives the POS app every product with its details and every
/// category; `POST private/products/$ID/lock` holds units under a frontend's UUID (set
/// again to change, zero to release), an order naming the UUID takes the lock over, and
/// an expired lock gives its units back.
#[tokio::test]
async fn the_pos_configuration_and_product_locks() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (token, kitchen) = shop_with_stock(&s).await;
        let m = "/merchant/instances/shop/private";

        let (status, pos) = s
            .call(Method::GET, &format!("{m}/pos"), Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{pos}");
        let products = pos["products"].as_array().unwrap();
        assert_eq!(products.len(), 2, "{pos}");
        assert_eq!(products[0]["product_id"], "cups");
        assert_eq!(products[0]["product_name"], "CUPS");
        assert_eq!(products[0]["categories"], json!([kitchen]));
        assert_eq!(products[0]["unit_price"], json!(["KUDOS:2"]));
        assert_eq!(products[0]["price"], "KUDOS:2");
        assert_eq!(products[0]["total_stock"], 5);
        assert_eq!(products[1]["unit_total_stock"], "-1");
        assert!(products[0]["product_serial"].is_u64());
        assert_eq!(
            pos["categories"],
            json!([{ "id": kitchen, "name": "kitchen", "name_i18n": { "de": "Küche" } }])
        );
        let (status, body) = s.call(Method::GET, &format!("{m}/pos"), None, None).await;
        assert_error(status, &body, 401, 40);

        let lock = |product: &str, uuid: &str, quantity: Value, d_us: u64| {
            (
                format!("{m}/products/{product}/lock"),
                json!({ "lock_uuid": uuid, "duration": { "d_us": d_us }, "unit_quantity": quantity }),
            )
        };
        let hour = 3_600_000_000u64;
        let (path, body) = lock("cups", "till-1", json!("3"), hour);
        let (status, answer) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
        // 2 of 5 are free: an order for 3 is out of stock, as is a second lock for 3.
        let (status, answer) = order_cups(&s, &token, 3, &[]).await;
        assert_eq!(status, StatusCode::GONE, "{answer}");
        assert_eq!(answer["unit_available_quantity"], "2");
        let (path, body) = lock("cups", "till-2", json!("3"), hour);
        let (status, answer) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::GONE, "{answer}");
        assert_eq!(answer["product_id"], "cups");
        assert_eq!(answer["unit_requested_quantity"], "3");
        assert_eq!(answer["available_quantity"], 2);
        // The page's code comes with the body, for clients reading an `ErrorDetail`.
        assert_eq!(answer["code"], 2670);
        // Posting the same UUID again changes the lock: down to 1, then released.
        let (path, body) = lock("cups", "till-1", json!("1"), hour);
        let (status, _) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, answer) = order_cups(&s, &token, 5, &[]).await;
        assert_eq!(status, StatusCode::GONE, "{answer}");
        assert_eq!(answer["unit_available_quantity"], "4");
        let (path, body) = lock("cups", "till-1", json!("0"), hour);
        let (status, _) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // An order taking over a lock of all 5 gets them; its 2 are held, 3 free again.
        let (path, body) = lock("cups", "cart-7", json!("5"), hour);
        let (status, _) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, answer) = order_cups(&s, &token, 2, &["cart-7"]).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let (status, answer) = order_cups(&s, &token, 4, &[]).await;
        assert_eq!(status, StatusCode::GONE, "{answer}");
        assert_eq!(answer["unit_available_quantity"], "3");
        // A lock expires: its units come back without anyone asking.
        let (path, body) = lock("cups", "short", json!("3"), 1_000_000);
        let (status, _) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let mut freed = false;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let (status, _) = order_cups(&s, &token, 3, &[]).await;
            if status == StatusCode::OK {
                freed = true;
                break;
            }
        }
        assert!(freed, "the expired lock's units came back");

        // The page's errors: unknown product, malformed quantity, missing permission.
        let (path, body) = lock("ghost", "x", json!("1"), hour);
        let (status, answer) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_error(status, &answer, 404, PRODUCT_UNKNOWN);
        let (path, body) = lock("cups", "x", json!("1.5"), hour);
        let (status, answer) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_error(status, &answer, 400, 26);
        let (path, body) = lock("cups", " ", json!("1"), hour);
        let (status, answer) = s.call(Method::POST, &path, Some(&token), Some(body)).await;
        assert_error(status, &answer, 400, 26);
        let readonly = s.login("shop", "pw-secret", "readonly").await;
        let (path, body) = lock("cups", "x", json!("1"), hour);
        let (status, answer) = s
            .call(Method::POST, &path, Some(&readonly), Some(body))
            .await;
        assert_error(status, &answer, 403, 16);
        s.finish().await;
    }
}

/// Issue 33, point 2: what anyone can do through a public template is bounded. Orders
/// per address and minute (429, counted in the database), units one such order may
/// hold and for how long, and an order no wallet claimed is removed early, its units
/// given back. The merchant's own orders are not bounded so.
#[tokio::test]
async fn anonymous_orders_are_bounded() {
    let config = "[merchant]\nANONYMOUS_ORDERS_PER_MINUTE = 4\nANONYMOUS_ORDER_MAX_UNITS = 3\n\
                  ANONYMOUS_ORDER_MAX_HOLD = 2 minutes\nUNCLAIMED_ORDER_LIFETIME = 1 s\n";
    for b in backends() {
        wait_for_a_fresh_minute().await;
        let db = common::TestDb::new(&b).await;
        let s = TestServer::start_with(db.clone(), config).await;
        let (token, _) = shop_with_stock(&s).await;
        let m = "/merchant/instances/shop/private";
        for (id, contract) in [(
            "cart",
            json!({ "template_type": "inventory-cart", "selected_all": true,
                              "pay_duration": { "d_us": 86_400_000_000u64 } }),
        )] {
            let (status, body) = s
                .call(
                    Method::POST,
                    &format!("{m}/templates"),
                    Some(&token),
                    Some(json!({ "template_id": id, "template_description": id,
                                 "template_contract": contract })),
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        let cart = |units: u64| {
            json!({ "template_type": "inventory-cart", "amount": format!("KUDOS:{}", 2 * units),
                    "inventory_selection": [{ "product_id": "cups", "quantity": units.to_string() }] })
        };
        let use_cart = async |s: &TestServer, units: u64| {
            s.call(
                Method::POST,
                "/merchant/instances/shop/templates/cart",
                None,
                Some(cart(units)),
            )
            .await
        };
        // One anonymous order may not hold the whole stock (5): at most 3 units.
        let (status, body) = use_cart(&s, 4).await;
        assert_error(status, &body, 400, 26);
        // ... and holds them 2 minutes, not the template's day (a claimed one stays).
        let (status, created) = use_cart(&s, 1).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let (status, claim) = s
            .call(
                Method::POST,
                &format!(
                    "/merchant/instances/shop/orders/{}/claim",
                    created["order_id"].as_str().unwrap()
                ),
                None,
                Some(
                    json!({ "nonce": "7N01FGZ88E4NN4NQ1AKMT6VYQJE9GB6F5V29D360SNAZ2AQMCR60",
                             "token": created["token"] }),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{claim}");
        let terms = &claim["contract_terms"];
        let hold = terms["pay_deadline"]["t_s"].as_u64().unwrap()
            - terms["timestamp"]["t_s"].as_u64().unwrap();
        assert_eq!(hold, 120, "{terms}");
        let (status, created) = use_cart(&s, 3).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let id = created["order_id"].as_str().unwrap().to_owned();
        // Nobody claims it: it goes within seconds, and its units are free again.
        let mut gone = false;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let (status, _) = s
                .call(Method::GET, &format!("{m}/orders/{id}"), Some(&token), None)
                .await;
            if status == StatusCode::NOT_FOUND {
                gone = true;
                break;
            }
        }
        assert!(gone, "the unclaimed anonymous order was removed");
        // 4 are free (the claimed order holds 1): the merchant's own order may take all.
        let (status, answer) = order_cups(&s, &token, 4, &[]).await;
        assert_eq!(status, StatusCode::OK, "{answer}");

        // The rate: 4 creations a minute from one address, also through a second server
        // on the same database; the refused ones above (400) did not count.
        let second = TestServer::start_with(db, config).await;
        let tea = json!({ "template_type": "inventory-cart", "amount": "KUDOS:2",
                          "inventory_selection": [{ "product_id": "tea", "quantity": "1" }] });
        let mut statuses = Vec::new();
        for n in 0..4 {
            let server = if n % 2 == 0 { &s } else { &second };
            let (status, body) = server
                .call(
                    Method::POST,
                    "/merchant/instances/shop/templates/cart",
                    None,
                    Some(tea.clone()),
                )
                .await;
            statuses.push((status, body));
        }
        // The two cart orders counted; two more pass, then they are refused.
        let ok = statuses
            .iter()
            .filter(|(st, _)| *st == StatusCode::OK)
            .count();
        assert_eq!(ok, 2, "{statuses:?}");
        for (status, body) in &statuses[2..] {
            assert_error(*status, body, 429, 44);
        }
        let resp = second
            .req(Method::POST, "/merchant/instances/shop/templates/cart")
            .json(&tea)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait = resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        // The merchant's own orders are not counted.
        let (status, answer) = s
            .call(
                Method::POST,
                &format!("{m}/orders"),
                Some(&token),
                Some(json!({ "order": { "amount": "KUDOS:1", "summary": "Own" } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        second.finish().await;
        s.finish().await;
    }
}

/// Waits until at least 20 seconds remain in the current minute, so that a test's
/// rate window does not roll over in its middle.
async fn wait_for_a_fresh_minute() {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if secs % 60 > 40 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - secs % 60)).await;
    }
}

/// The order's page: a browser asking `GET /orders/$ID` for HTML gets a page with the
/// `taler://pay` URI as link and QR code (402, as the JSON answer); a wallet asking for
/// JSON gets JSON; a claimed order without proof sends the browser to buy it again.
#[tokio::test]
async fn browsers_get_the_orders_page_with_the_pay_link_and_a_qr_code() {
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (token, _) = shop_with_stock(&s).await;
        let (status, created) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/orders",
                Some(&token),
                Some(json!({ "order": { "order_id": "o-7", "amount": "KUDOS:4",
                    "summary": "Tea <for two>",
                    "public_reorder_url": "https://shop.example/tea" } })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let claim_token = created["token"].as_str().unwrap();
        let url = format!("/merchant/instances/shop/orders/o-7?token={claim_token}");
        let resp = s
            .req(Method::GET, &url)
            .header("accept", browser)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PAYMENT_REQUIRED);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = resp.text().await.unwrap();
        assert!(html.contains("Tea &lt;for two&gt;"), "{html}");
        assert!(html.contains("KUDOS:4"), "{html}");
        assert!(
            html.contains("href=\"taler+http://pay/") || html.contains("href=\"taler://pay/"),
            "{html}"
        );
        assert!(html.contains("/instances/shop/o-7/"), "{html}");
        assert!(html.contains("<svg"), "a QR code: {html}");
        // A wallet gets the JSON answer.
        let resp = s
            .req(Method::GET, &url)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PAYMENT_REQUIRED);
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["taler_pay_uri"].as_str().unwrap().contains("o-7"),
            "{body}"
        );
        // Claimed by a wallet: a browser without the contract's hash is sent to reorder.
        let (status, claim) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/orders/o-7/claim",
                None,
                Some(
                    json!({ "nonce": "7N01FGZ88E4NN4NQ1AKMT6VYQJE9GB6F5V29D360SNAZ2AQMCR60",
                             "token": claim_token }),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{claim}");
        let resp = s
            .req(Method::GET, "/merchant/instances/shop/orders/o-7")
            .header("accept", browser)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
        let html = resp.text().await.unwrap();
        assert!(html.contains("href=\"https://shop.example/tea\""), "{html}");
        s.finish().await;
    }
}

/// Racing frontends lock the last units: exactly the stock is locked, the rest get 410,
/// never more (nor a 5xx) on either engine.
#[tokio::test]
async fn racing_locks_never_hold_more_than_the_stock() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (token, _) = shop_with_stock(&s).await;
        let path = "/merchant/instances/shop/private/products/cups/lock";
        let calls = (0..12).map(|n| {
            let body = json!({ "lock_uuid": format!("till-{n}"), "duration": { "d_us": 60_000_000 },
                               "quantity": 1 });
            s.call(Method::POST, path, Some(&token), Some(body))
        });
        let results = futures_util::future::join_all(calls).await;
        let locked = results
            .iter()
            .filter(|(st, _)| *st == StatusCode::NO_CONTENT)
            .count();
        assert_eq!(locked, 5, "{results:?}");
        assert!(
            results
                .iter()
                .all(|(st, _)| matches!(st.as_u16(), 204 | 410)),
            "{results:?}"
        );
        s.finish().await;
    }
}
