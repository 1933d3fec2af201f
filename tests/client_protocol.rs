//! Issue 32: what the shop clients people already use (the PHP SDK taler-php, the
//! pretix and Tryton plugins, GNU Taler's wallet code) need of the protocol, over HTTP
//! on both engines.

mod common;

use common::{ADMIN_TOKEN, TestServer, backends, instance_request, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A published schema with its `$ref` followed.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(
            spec,
            &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        ),
        None => schema,
    }
}

/// The object schemas that together describe `body` under `schema`: the schema, its
/// `allOf` parts, and the `oneOf` member the body is (by discriminator, else the first
/// whose required fields the body has).
fn parts<'a>(spec: &'a Value, schema: &'a Value, body: &Value, out: &mut Vec<&'a Value>) {
    let schema = resolve(spec, schema);
    out.push(schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        parts(spec, part, body, out);
    }
    let members = schema["oneOf"].as_array().into_iter().flatten();
    let by_tag = schema["discriminator"]["propertyName"]
        .as_str()
        .and_then(|tag| body[tag].as_str())
        .and_then(|value| schema["discriminator"]["mapping"][value].as_str());
    let chosen = members.clone().find(|m| match by_tag {
        Some(target) => m["$ref"].as_str() == Some(target),
        None => resolve(spec, m)["required"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|r| body.get(r.as_str().unwrap()).is_some()),
    });
    if let Some(member) = chosen {
        parts(spec, member, body, out);
    }
}

/// Sets every optional field `body` leaves out to `null`, at every depth the schema
/// describes; returns how many it set.
fn fill_nulls(spec: &Value, schema: &Value, body: &mut Value) -> usize {
    let mut filled = 0;
    match body {
        Value::Object(_) => {
            let mut found = Vec::new();
            parts(spec, schema, body, &mut found);
            for part in found {
                let required: Vec<&str> = part["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for (name, property) in part["properties"].as_object().into_iter().flatten() {
                    let map = body.as_object_mut().unwrap();
                    match map.get_mut(name) {
                        Some(value) => filled += fill_nulls(spec, property, value),
                        None if !required.contains(&name.as_str()) => {
                            map.insert(name.clone(), Value::Null);
                            filled += 1;
                        }
                        None => {}
                    }
                }
            }
        }
        Value::Array(items) => {
            let item = &resolve(spec, schema)["items"];
            for value in items {
                filled += fill_nulls(spec, item, value);
            }
        }
        _ => {}
    }
    filled
}

enum Auth {
    Admin,
    Basic(&'static str, &'static str),
    None,
}

/// The published request schema of `method path` (the spec's path with parameters).
fn request_schema<'a>(spec: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
    let (_, item) = spec["paths"].as_object()?.iter().find(|(pattern, _)| {
        let p: Vec<&str> = pattern.split('/').collect();
        let q: Vec<&str> = path.split('/').collect();
        p.len() == q.len() && p.iter().zip(&q).all(|(p, q)| p == q || p.starts_with('{'))
    })?;
    item[method.to_ascii_lowercase()]["requestBody"]["content"]
        .as_object()?
        .values()
        .next()
        .map(|c| &c["schema"])
}

/// Every operation that takes a body with an optional field, called with every optional
/// field the call leaves out set to `null`: the reference backends read `null` as
/// absent, and taler-php sends it for every field it does not set (issue 32, point 1).
#[tokio::test]
async fn null_means_absent_for_every_optional_field_of_every_body() {
    let nonce = "7N01FGZ88E4NN4NQ1AKMT6VYQJE9GB6F5V29D360SNAZ2AQMCR60";
    let key = "TXD9G0C2P45BFNABZV9WJS07787E2WQKVAK269DF08D6HXR7A4D0";
    for b in backends() {
        let reports = std::env::temp_dir().join("taler-openapi-client-protocol");
        let config = format!(
            "[report-generator-file]\nBINARY = {}/contrib/taler-openapi-report-file\n\
             TARGET_DIRECTORY = {}\n",
            env!("CARGO_MANIFEST_DIR"),
            reports.display()
        );
        let s = TestServer::start_with(common::TestDb::new(&b).await, &config).await;
        let m = "/merchant/instances/admin/private";
        let mut steps: Vec<(Method, String, Auth, Value)> = vec![
            (
                Method::POST,
                "/merchant/management/instances".into(),
                Auth::Admin,
                instance_request("shop", "shop-password"),
            ),
            (
                Method::PATCH,
                "/merchant/management/instances/shop".into(),
                Auth::Admin,
                json!({ "name": "Shop", "address": {}, "jurisdiction": {}, "use_stefan": true }),
            ),
            (
                Method::PATCH,
                m.into(),
                Auth::Admin,
                json!({ "name": "Admin", "address": {}, "jurisdiction": {}, "use_stefan": false }),
            ),
            (
                Method::POST,
                "/merchant/management/instances/shop/auth".into(),
                Auth::Admin,
                json!({ "method": "token", "password": "shop-password" }),
            ),
            (
                Method::POST,
                "/merchant/instances/shop/private/token".into(),
                Auth::Basic("shop", "shop-password"),
                json!({ "scope": "readonly" }),
            ),
            (
                Method::POST,
                format!("{m}/accounts"),
                Auth::Admin,
                json!({ "payto_uri": "payto://x-taler-bank/localhost/admin?receiver-name=Shop" }),
            ),
            (
                Method::POST,
                format!("{m}/pots"),
                Auth::Admin,
                json!({ "pot_name": "tips", "description": "Tips" }),
            ),
            (
                Method::PATCH,
                format!("{m}/pots/1"),
                Auth::Admin,
                json!({ "pot_name": "tips", "description": "More tips" }),
            ),
            (
                Method::POST,
                format!("{m}/otp-devices"),
                Auth::Admin,
                json!({ "otp_device_id": "till", "otp_device_description": "Till",
                        "otp_key": "JBSWY3DPEHPK3PXP", "otp_algorithm": 1 }),
            ),
            (
                Method::PATCH,
                format!("{m}/otp-devices/till"),
                Auth::Admin,
                json!({ "otp_device_description": "Till 1", "otp_algorithm": 1 }),
            ),
            (
                Method::POST,
                format!("{m}/categories"),
                Auth::Admin,
                json!({ "name": "drinks" }),
            ),
            (
                Method::PATCH,
                format!("{m}/categories/1"),
                Auth::Admin,
                json!({ "name": "hot drinks" }),
            ),
            (
                Method::POST,
                format!("{m}/products"),
                Auth::Admin,
                json!({ "product_id": "tea", "description": "Tea", "unit": "cup",
                        "unit_price": ["KUDOS:2.5"], "unit_total_stock": "-1" }),
            ),
            (
                Method::PATCH,
                format!("{m}/products/tea"),
                Auth::Admin,
                json!({ "description": "Green tea", "unit": "cup",
                        "unit_price": ["KUDOS:2.5"], "unit_total_stock": "-1" }),
            ),
            (
                Method::POST,
                format!("{m}/products/tea/lock"),
                Auth::Admin,
                json!({ "lock_uuid": "till-1", "duration": { "d_us": 60_000_000 } }),
            ),
            (
                Method::POST,
                format!("{m}/templates"),
                Auth::Admin,
                json!({ "template_id": "coffee", "template_description": "Coffee",
                        "template_contract": { "summary": "Coffee", "amount": "KUDOS:3" } }),
            ),
            (
                Method::PATCH,
                format!("{m}/templates/coffee"),
                Auth::Admin,
                json!({ "template_description": "Coffee",
                        "template_contract": { "summary": "Coffee", "amount": "KUDOS:3" } }),
            ),
            (
                Method::POST,
                "/merchant/instances/admin/templates/coffee".into(),
                Auth::None,
                json!({}),
            ),
            (
                Method::POST,
                format!("{m}/reports"),
                Auth::Admin,
                json!({ "description": "Pots", "program_section": "report-generator-file",
                        "mime_type": "application/json", "data_source": "/private/pots",
                        "target_address": "seed",
                        "report_frequency": { "d_us": 3_600_000_000u64 } }),
            ),
            (
                Method::PATCH,
                format!("{m}/reports/1"),
                Auth::Admin,
                json!({ "description": "Pots", "program_section": "report-generator-file",
                        "mime_type": "application/json", "data_source": "/private/pots",
                        "target_address": "seed",
                        "report_frequency": { "d_us": 7_200_000_000u64 } }),
            ),
            (
                Method::POST,
                format!("{m}/webhooks"),
                Auth::Admin,
                json!({ "webhook_id": "w", "event_type": "inventory_deleted",
                        "url": "http://127.0.0.1:9/", "http_method": "POST" }),
            ),
            (
                Method::PATCH,
                format!("{m}/webhooks/w"),
                Auth::Admin,
                json!({ "event_type": "inventory_deleted",
                        "url": "http://127.0.0.1:9/", "http_method": "PUT" }),
            ),
            (
                Method::POST,
                format!("{m}/orders"),
                Auth::Admin,
                json!({ "order": { "order_id": "o-1", "amount": "KUDOS:4", "summary": "Tea" },
                        "create_token": false }),
            ),
            (
                Method::POST,
                "/merchant/instances/admin/orders/o-1/claim".into(),
                Auth::None,
                json!({ "nonce": nonce }),
            ),
            (
                Method::POST,
                "/bank/accounts".into(),
                Auth::Admin,
                json!({ "username": "alice", "password": "alice-password", "name": "Alice" }),
            ),
            (
                Method::POST,
                "/bank/accounts".into(),
                Auth::Admin,
                json!({ "username": "exchange", "password": "exchange-password",
                        "name": "Exchange", "is_taler_exchange": true }),
            ),
            (
                Method::POST,
                "/bank/accounts/alice/token".into(),
                Auth::Basic("alice", "alice-password"),
                json!({ "scope": "readonly" }),
            ),
            (
                Method::PATCH,
                "/bank/accounts/alice".into(),
                Auth::Basic("alice", "alice-password"),
                json!({}),
            ),
            (
                Method::PATCH,
                "/bank/accounts/alice/auth".into(),
                Auth::Admin,
                json!({ "new_password": "alice-password" }),
            ),
            (
                Method::POST,
                "/bank/accounts/alice/transactions".into(),
                Auth::Basic("alice", "alice-password"),
                json!({ "payto_uri": format!(
                    "payto://x-taler-bank/localhost/exchange?message={key}&amount=KUDOS:1") }),
            ),
            (
                Method::POST,
                "/bank/accounts/exchange/taler-wire-gateway/admin/add-incoming".into(),
                Auth::Admin,
                json!({ "amount": "KUDOS:1", "reserve_pub": nonce,
                        "debit_account": "payto://x-taler-bank/localhost/alice" }),
            ),
        ];
        let specs: Vec<(&str, Value)> = {
            let mut v = Vec::new();
            for service in ["merchant", "bank", "bank/taler-integration", "donau"] {
                let (status, spec) = s
                    .call(Method::GET, &format!("/{service}/openapi.json"), None, None)
                    .await;
                assert_eq!(status, StatusCode::OK);
                v.push((service, spec));
            }
            v
        };
        let mut covered = Vec::new();
        // A withdrawal operation for the Bank Integration API's selection, made after the
        // accounts above.
        let mut later = Vec::new();
        let mut all = std::mem::take(&mut steps);
        all.push((
            Method::POST,
            "/bank/accounts/alice/withdrawals".into(),
            Auth::Basic("alice", "alice-password"),
            json!({}),
        ));
        let mut pending = all.into_iter();
        loop {
            let Some((method, path, auth, mut body)) = pending.next().or_else(|| later.pop())
            else {
                break;
            };
            let (service, rest) = match path.strip_prefix("/bank/taler-integration/") {
                Some(rest) => ("bank/taler-integration", rest),
                None => path[1..].split_once('/').unwrap(),
            };
            let spec = &specs.iter().find(|(name, _)| *name == service).unwrap().1;
            let schema = request_schema(spec, method.as_str(), &format!("/{rest}"))
                .unwrap_or_else(|| panic!("{method} {path} has no request schema"));
            fill_nulls(spec, schema, &mut body);
            let mut req = s.req(method.clone(), &path).json(&body);
            req = match auth {
                Auth::Admin => req.bearer_auth(ADMIN_TOKEN),
                Auth::Basic(user, password) => req.basic_auth(user, Some(password)),
                Auth::None => req,
            };
            let (status, answer) = send(req).await;
            assert!(
                status.is_success(),
                "{method} {path} with {body}: {status} {answer}"
            );
            if path == "/bank/accounts/alice/withdrawals" {
                let id = answer["withdrawal_id"].as_str().unwrap();
                // Selected with its amount, then confirmed with `amount: null`.
                later.push((
                    Method::POST,
                    format!("/bank/accounts/alice/withdrawals/{id}/confirm"),
                    Auth::Basic("alice", "alice-password"),
                    json!({}),
                ));
                later.push((
                    Method::POST,
                    format!("/bank/taler-integration/withdrawal-operation/{id}"),
                    Auth::None,
                    json!({ "reserve_pub": taler_openapi::taler::keys::encode(&[7u8; 32]),
                            "selected_exchange": "payto://x-taler-bank/localhost/exchange",
                            "amount": "KUDOS:1" }),
                ));
            }
            covered.push((service.to_owned(), method, schema.clone()));
        }
        // Every body schema of every service that has an optional field is covered.
        for (service, spec) in &specs {
            for (pattern, item) in spec["paths"].as_object().unwrap() {
                for (method, op) in item.as_object().unwrap() {
                    let Some(schema) = op["requestBody"]["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|c| &c["schema"])
                    else {
                        continue;
                    };
                    let mut probe = json!({});
                    let has_optional = fill_nulls(spec, schema, &mut probe) > 0;
                    let done = covered.iter().any(|(svc, m, sc)| {
                        svc == service && m.as_str().eq_ignore_ascii_case(method) && sc == schema
                    });
                    assert!(
                        !has_optional || done,
                        "{service}: {method} {pattern} takes optional fields; add it above"
                    );
                }
            }
        }
        s.finish().await;
    }
}

/// Clients configured with an instance's base URL ask `config` there; the default
/// instance is served at the root too; currency entries name their currency (issue 32,
/// point 2).
#[tokio::test]
async fn an_instance_base_url_serves_config_and_the_default_instance_the_root() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let token = s.instance_with_token("shop", "all").await;
        for path in [
            "/merchant/config",
            "/merchant/instances/admin/config",
            "/merchant/instances/shop/config",
        ] {
            let (status, body) = s.call(Method::GET, path, None, None).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            assert_eq!(body["name"], "taler-merchant");
            assert_eq!(body["currencies"]["KUDOS"]["currency"], "KUDOS", "{body}");
        }
        let (status, body) = s
            .call(Method::GET, "/merchant/instances/nope/config", None, None)
            .await;
        common::assert_error(status, &body, 404, 2000);
        // `/private/...` is the default instance's `/instances/admin/private/...`.
        let (status, at_root) = s
            .call(Method::GET, "/merchant/private", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{at_root}");
        let (_, prefixed) = s
            .call(
                Method::GET,
                "/merchant/instances/admin/private",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(at_root, prefixed);
        assert_eq!(at_root["auth"]["method"], "token");
        // An instance's token does not open the default instance at the root.
        let (status, _) = s
            .call(Method::GET, "/merchant/private", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        s.finish().await;
    }
}

fn login(s: &TestServer, instance: &str) -> reqwest::RequestBuilder {
    s.req(
        Method::POST,
        &format!("/merchant/instances/{instance}/private/token"),
    )
    .json(&json!({ "scope": "all" }))
}

/// `POST private/token` takes every credential form the pages document; `private/auth`
/// changes the method, including `external` (issue 32, point 3).
#[tokio::test]
async fn clients_log_in_and_change_authentication_as_the_pages_say() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        s.instance_with_token("shop", "all").await;
        // HTTP Basic, instance id and password.
        let (status, body) = send(login(&s, "shop").basic_auth("shop", Some("pw-secret"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The password as a bearer token (`InstanceAuthConfigTokenOLD`), as the Tryton
        // module logs in; a wrong one is 401.
        let (status, body) = send(login(&s, "shop").bearer_auth("secret-token:pw-secret")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["access_token"].as_str().unwrap().to_owned();
        let (status, body) = send(login(&s, "shop").bearer_auth("secret-token:pw-wrong")).await;
        common::assert_error(status, &body, 401, 41);
        // ...but only to log in: elsewhere the password is no token.
        let (status, _) = s
            .call(
                Method::GET,
                "/merchant/instances/shop/private",
                Some("secret-token:pw-secret"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // A new password, by the instance itself; then the old form `token`.
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/auth",
                Some(&token),
                Some(json!({ "method": "token", "password": "pw-second" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = send(login(&s, "shop").basic_auth("shop", Some("pw-secret"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = send(login(&s, "shop").basic_auth("shop", Some("pw-second"))).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances/shop/auth",
                Some(ADMIN_TOKEN),
                Some(json!({ "method": "token", "token": "secret-token:pw-third" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = send(login(&s, "shop").basic_auth("shop", Some("pw-third"))).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances/shop/auth",
                Some(ADMIN_TOKEN),
                Some(json!({ "method": "token" })),
            )
            .await;
        common::assert_error(status, &body, 400, 25);

        // `external`: the backend checks no credentials for the instance.
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances/shop/auth",
                Some(ADMIN_TOKEN),
                Some(json!({ "method": "external" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, body) = s
            .call(Method::GET, "/merchant/instances/shop/private", None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["auth"]["method"], "external");
        let (status, body) = send(login(&s, "shop")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Other instances still need their credentials.
        let (status, _) = s
            .call(Method::GET, "/merchant/instances/admin/private", None, None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Back to a password, from behind the proxy; then credentials are needed again.
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/auth",
                None,
                Some(json!({ "method": "token", "password": "pw-fourth" })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = s
            .call(Method::GET, "/merchant/instances/shop/private", None, None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // An instance created with `external` from the start.
        s.create_external_instance("proxied").await;
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/instances/proxied/private/orders",
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        s.finish().await;
    }
}

async fn admin(s: &TestServer, m: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    s.call(m, path, Some(ADMIN_TOKEN), body).await
}

/// Creates order `id` on the default instance (which gets a bank account first) and
/// claims it with a fresh nonce; returns the claimed contract terms.
async fn claimed_order(s: &TestServer, id: &str, extra: Value) -> Value {
    let _ = admin(
        s,
        Method::POST,
        "/merchant/private/accounts",
        Some(json!({ "payto_uri": "payto://x-taler-bank/bank.example/shop?receiver-name=Shop" })),
    )
    .await;
    let mut order = json!({ "order_id": id, "amount": "KUDOS:4", "summary": "Tea" });
    for (k, v) in extra.as_object().unwrap() {
        order[k] = v.clone();
    }
    let (status, created) = admin(
        s,
        Method::POST,
        "/merchant/private/orders",
        Some(json!({ "order": order })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let nonce =
        taler_openapi::taler::keys::encode(&taler_openapi::taler::secret::random_bytes::<32>());
    let (status, claim) = s
        .call(
            Method::POST,
            &format!("/merchant/orders/{id}/claim"),
            None,
            Some(json!({ "nonce": nonce, "token": created["token"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    claim["contract_terms"].clone()
}

/// Orders live until the merchant removes them; the public status of a claimed order
/// without proof of ownership sends a browser to `public_reorder_url`; the merchant's
/// status answers 304 to `If-None-Match`; `max_age` narrows the list; the old name of
/// the default instance is redirected (issue 32, point 4).
#[tokio::test]
async fn orders_follow_the_lifecycle_the_pages_describe() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        claimed_order(
            &s,
            "reorderable",
            json!({ "public_reorder_url": "https://shop.example/tea" }),
        )
        .await;
        claimed_order(&s, "plain", json!({})).await;
        // 202 with the reorder URL, as GNU Taler's merchant integration tests expect.
        let (status, body) = s
            .call(Method::GET, "/merchant/orders/reorderable", None, None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["public_reorder_url"], "https://shop.example/tea");
        let (status, body) = s
            .call(Method::GET, "/merchant/orders/plain", None, None)
            .await;
        common::assert_error(status, &body, 403, 2106);

        // A claimed order that may still be paid is deleted only with `force`.
        let (status, body) =
            admin(&s, Method::DELETE, "/merchant/private/orders/plain", None).await;
        common::assert_error(status, &body, 409, 2520);
        let (status, body) = admin(
            &s,
            Method::DELETE,
            "/merchant/private/orders/plain?force=YES",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        // The ETag comes back as If-None-Match: 304, no body.
        let resp = s
            .req(Method::GET, "/merchant/private/orders/reorderable")
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        for presented in [etag.clone(), format!("\"{etag}\"")] {
            let resp = s
                .req(Method::GET, "/merchant/private/orders/reorderable")
                .bearer_auth(ADMIN_TOKEN)
                .header("If-None-Match", presented)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
            assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
        }
        let resp = s
            .req(Method::GET, "/merchant/private/orders/reorderable")
            .bearer_auth(ADMIN_TOKEN)
            .header("If-None-Match", "\"other\"")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);

        // `max_age`: orders younger than a day are all of them; a malformed one is 400.
        let (status, body) = admin(
            &s,
            Method::GET,
            "/merchant/private/orders?max_age=1%20day",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["orders"].as_array().unwrap().len(), 1, "{body}");
        let (status, body) = admin(
            &s,
            Method::GET,
            "/merchant/private/orders?max_age=yesterday",
            None,
        )
        .await;
        common::assert_error(status, &body, 400, 26);

        // The default instance's old name: 308 to `admin`, the query kept; no instance
        // may take the name.
        let resp = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(s.url("/merchant/instances/default/private/orders?limit=5"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            resp.headers()["location"].to_str().unwrap(),
            "/merchant/instances/admin/private/orders?limit=5"
        );
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/instances/default/config",
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "followed: {body}");
        let (status, body) = admin(
            &s,
            Method::POST,
            "/merchant/management/instances",
            Some(instance_request("default", "pw-secret")),
        )
        .await;
        common::assert_error(status, &body, 400, 26);
        s.finish().await;
    }
}

/// Creates order `id` with the given extra request headers; returns its pay URI (as the
/// merchant's status shows it, asked with the same headers) and `merchant_base_url`.
async fn public_urls(s: &TestServer, id: &str, headers: &[(&str, &str)]) -> (String, String) {
    let _ = admin(
        s,
        Method::POST,
        "/merchant/private/accounts",
        Some(json!({ "payto_uri": "payto://x-taler-bank/bank.example/shop?receiver-name=Shop" })),
    )
    .await;
    let with = |mut req: reqwest::RequestBuilder| {
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.bearer_auth(ADMIN_TOKEN)
    };
    let (status, created) = send(with(s.req(Method::POST, "/merchant/private/orders")).json(
        &json!({
            "order": { "order_id": id, "amount": "KUDOS:1", "summary": "Tea" },
            "create_token": false
        }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (status, order) = send(with(
        s.req(Method::GET, &format!("/merchant/private/orders/{id}")),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{order}");
    let nonce =
        taler_openapi::taler::keys::encode(&taler_openapi::taler::secret::random_bytes::<32>());
    let (status, claim) = s
        .call(
            Method::POST,
            &format!("/merchant/orders/{id}/claim"),
            None,
            Some(json!({ "nonce": nonce })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    (
        order["taler_pay_uri"].as_str().unwrap().to_owned(),
        claim["contract_terms"]["merchant_base_url"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// The URLs handed to wallets name the server as clients reach it: `PUBLIC_URL` when
/// set; else the request's `Host`, and the forwarded headers only when trusted (issue
/// 32, point 5).
#[tokio::test]
async fn pay_uris_use_the_public_url_and_trust_forwarded_headers_only_when_told() {
    let proxy = [
        ("X-Forwarded-Host", "shop.example"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Prefix", "/taler"),
    ];
    for b in backends() {
        // Default: any client may send forwarded headers, so they are not believed.
        let s = TestServer::start(&b).await;
        let host = s
            .url("/")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let (pay, base) = public_urls(&s, "o1", &proxy).await;
        assert_eq!(pay, format!("taler+http://pay/{host}/merchant/o1/"));
        assert_eq!(base, format!("http://{host}/merchant/"));
        s.finish().await;

        // Behind a proxy that says where it serves us.
        let db = common::TestDb::new(&b).await;
        let s =
            TestServer::start_with(db, "[taler-openapi]\nTRUST_FORWARDED_HEADERS = YES\n").await;
        let (pay, base) = public_urls(&s, "o2", &proxy).await;
        assert_eq!(pay, "taler://pay/shop.example/taler/merchant/o2/");
        assert_eq!(base, "https://shop.example/taler/merchant/");
        // A prefix that climbs out is not believed.
        let (pay, _) = public_urls(
            &s,
            "o3",
            &[
                ("X-Forwarded-Host", "shop.example"),
                ("X-Forwarded-Prefix", "/a/../b"),
            ],
        )
        .await;
        assert_eq!(pay, "taler+http://pay/shop.example/merchant/o3/");
        s.finish().await;

        // PUBLIC_URL wins over everything the request says.
        let db = common::TestDb::new(&b).await;
        let s = TestServer::start_with(
            db,
            "[taler-openapi]\nPUBLIC_URL = https://pay.example.com:8443/base\n\
             TRUST_FORWARDED_HEADERS = YES\n",
        )
        .await;
        let (pay, base) = public_urls(&s, "o4", &proxy).await;
        assert_eq!(pay, "taler://pay/pay.example.com:8443/base/merchant/o4/");
        assert_eq!(base, "https://pay.example.com:8443/base/merchant/");
        s.finish().await;
    }
}

/// Contracts a JavaScript wallet can read: integers beyond 2^53 - 1 are refused at
/// order creation; the terms carry `auditors` for wallets up to 2023 (issue 32,
/// point 6). Bank accounts take the newest page's fields and refuse payto URIs that
/// name no account (point 7).
#[tokio::test]
async fn contracts_and_accounts_are_what_wallets_and_pages_expect() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for bad in [
            "payto://iban/NOTANIBAN",
            "payto://iban/DE89370400440532013001",
            "payto://x-taler-bank/shop",
        ] {
            let (status, body) = admin(
                &s,
                Method::POST,
                "/merchant/private/accounts",
                Some(json!({ "payto_uri": bad })),
            )
            .await;
            common::assert_error(status, &body, 400, 24);
            assert_eq!(body["parameter"], "payto_uri");
        }
        let (status, added) = admin(
            &s,
            Method::POST,
            "/merchant/private/accounts",
            Some(json!({
                "payto_uri": "payto://iban/DE89370400440532013000?receiver-name=Shop",
                "credit_facade_url": "https://bank.example/facade/",
                "credit_facade_credentials": { "type": "basic", "username": "shop", "password": "facade-secret" },
                "extra_wire_subject_metadata": "shop-42",
            })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{added}");
        let h_wire = added["h_wire"].as_str().unwrap();
        let (status, account) = admin(
            &s,
            Method::GET,
            &format!("/merchant/private/accounts/{h_wire}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{account}");
        assert_eq!(account["extra_wire_subject_metadata"], "shop-42");
        assert!(
            !account.to_string().contains("facade-secret"),
            "credentials are never returned: {account}"
        );
        // The same account with other credentials conflicts, as the page says.
        let (status, body) = admin(
            &s,
            Method::POST,
            "/merchant/private/accounts",
            Some(json!({
                "payto_uri": "payto://iban/DE89370400440532013000?receiver-name=Shop",
                "credit_facade_url": "https://bank.example/facade/",
                "credit_facade_credentials": { "type": "basic", "username": "shop", "password": "other" },
                "extra_wire_subject_metadata": "shop-42",
            })),
        )
        .await;
        common::assert_error(status, &body, 409, 2627);

        for extra in [
            json!({ "big": 9_007_199_254_740_992u64 }),
            json!({ "nested": [{ "negative": -9_007_199_254_740_992i64 }] }),
        ] {
            let (status, body) = admin(
                &s,
                Method::POST,
                "/merchant/private/orders",
                Some(json!({ "order": { "amount": "KUDOS:1", "summary": "x", "extra": extra } })),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert!(body["hint"].as_str().unwrap().contains("2^53"), "{body}");
        }
        let terms = claimed_order(
            &s,
            "fits",
            json!({ "extra": { "largest": 9_007_199_254_740_991u64 } }),
        )
        .await;
        assert_eq!(terms["auditors"], json!([]));
        assert_eq!(terms["exchanges"], json!([]));
        assert_eq!(terms["extra"]["largest"], json!(9_007_199_254_740_991u64));
        s.finish().await;
    }
}
