//! Issue 33: merchant endpoints that shop clients call (taler-php, the pretix and Tryton
//! plugins), over HTTP on both engines.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

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
