//! Merchant templates, OTP devices and the inventory they select from, over HTTP.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PARAMETER_MALFORMED: u64 = 26;
const INSTANCE_UNKNOWN: u64 = 2000;
const CATEGORY_UNKNOWN: u64 = 2003;
const TEMPLATE_UNKNOWN: u64 = 2018;
const OTP_DEVICE_UNKNOWN: u64 = 2021;
const PRODUCT_EXISTS: u64 = 2650;
const TEMPLATE_EXISTS: u64 = 2850;
const OTP_DEVICE_EXISTS: u64 = 2851;

async fn post(s: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    s.call(Method::POST, path, Some(ADMIN_TOKEN), Some(body))
        .await
}

async fn get(s: &TestServer, path: &str) -> (StatusCode, Value) {
    s.call(Method::GET, path, Some(ADMIN_TOKEN), None).await
}

fn otp_device(id: &str) -> Value {
    json!({
        "otp_device_id": id,
        "otp_device_description": format!("till {id}"),
        "otp_key": "JBSWY3DPEHPK3PXP",
        "otp_algorithm": "TOTP_WITHOUT_PRICE",
    })
}

/// A category and two products: `coffee` in the category, `tea` outside it.
async fn stock_shelves(s: &TestServer) -> u64 {
    let (status, body) = post(
        s,
        "/merchant/private/categories",
        json!({ "name": "drinks" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let category = body["category_id"].as_u64().unwrap();
    for (id, categories) in [("coffee", json!([category])), ("tea", json!([]))] {
        let (status, body) = post(
            s,
            "/merchant/private/products",
            json!({
                "product_id": id,
                "product_name": id.to_uppercase(),
                "description": format!("a cup of {id}"),
                "unit": "cup",
                "unit_price": ["KUDOS:2.5"],
                "unit_total_stock": "-1",
                "categories": categories,
            }),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    category
}

fn template(id: &str, contract: Value) -> Value {
    json!({
        "template_id": id,
        "template_description": format!("template {id}"),
        "template_contract": contract,
    })
}

/// Each template type: create, read back exactly as posted, list, modify, read for a
/// wallet, survive a restart, delete.
#[tokio::test]
async fn template_lifecycle_for_each_type_round_trips() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let category = stock_shelves(&s).await;
        let (status, body) = post(&s, "/merchant/private/otp-devices", otp_device("till1")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        let fixed = json!({
            "template_id": "espresso",
            "template_description": "one espresso",
            "otp_id": "till1",
            "template_contract": {
                "summary": "Espresso",
                "amount": "KUDOS:2.50",
                "pay_duration": { "d_us": 300000000 },
                "max_pickup_duration": { "d_us": "forever" },
                "minimum_age": 0,
                "x-extension": { "kept": true },
            },
            "editable_defaults": { "summary": "Espresso, double" },
        });
        let cart = json!({
            "template_id": "shelf",
            "template_description": "help yourself",
            "template_contract": {
                "template_type": "inventory-cart",
                "summary": "Drinks",
                "currency": "KUDOS",
                "selected_categories": [category],
                "selected_products": ["tea"],
                "choose_one": false,
                "request_tip": true,
            },
        });
        let paivana = json!({
            "template_id": "paywall",
            "template_description": "articles",
            "template_contract": {
                "template_type": "paivana",
                "website_regex": "^https://news\\.example/.*$",
                "choices": [
                    { "amount": "KUDOS:0.1", "description": "one article" },
                    { "amount": "KUDOS:1", "description": "a day", "max_fee": "KUDOS:0.01" },
                ],
            },
            "editable_defaults": { "summary": "Reading" },
        });
        for t in [&fixed, &cart, &paivana] {
            let (status, body) = post(&s, "/merchant/private/templates", t.clone()).await;
            assert_eq!(
                status,
                StatusCode::NO_CONTENT,
                "{}: {body}",
                t["template_id"]
            );
        }

        let s = s.restart().await;
        for t in [&fixed, &cart, &paivana] {
            let id = t["template_id"].as_str().unwrap();
            let (status, body) = get(&s, &format!("/merchant/private/templates/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            // Exactly what was posted, field for field.
            assert_eq!(body["template_contract"], t["template_contract"], "{id}");
            assert_eq!(body["template_description"], t["template_description"]);
            assert_eq!(body["otp_id"], t["otp_id"]);
            assert_eq!(body["editable_defaults"], t["editable_defaults"]);
        }
        let (_, body) = get(&s, "/merchant/private/templates/espresso").await;
        assert_eq!(body["required_currency"], "KUDOS");
        let (_, body) = get(&s, "/merchant/private/templates/paywall").await;
        assert!(body.get("required_currency").is_none(), "{body}");

        let (status, body) = get(&s, "/merchant/private/templates").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({ "templates": [
                { "template_id": "espresso", "template_description": "one espresso" },
                { "template_id": "paywall", "template_description": "articles" },
                { "template_id": "shelf", "template_description": "help yourself" },
            ]})
        );

        // Wallets read templates without credentials.
        let (status, body) = s
            .call(Method::GET, "/merchant/templates/espresso", None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["template_contract"], fixed["template_contract"]);
        assert_eq!(body["required_currency"], "KUDOS");
        assert_eq!(body["template_type"], "fixed-order");
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/instances/admin/templates/shelf",
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["template_type"], "inventory-cart");
        let payload = &body["template_contract"]["inventory_payload"];
        let ids: Vec<&str> = payload["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["product_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["coffee", "tea"], "{payload}");
        assert_eq!(payload["products"][0]["unit_price"], json!(["KUDOS:2.5"]));
        assert_eq!(payload["products"][0]["remaining_stock"], "-1");
        assert_eq!(
            payload["categories"],
            json!([{ "category_id": category, "category_name": "drinks" }])
        );
        assert_eq!(payload["units"], json!([]));
        assert_eq!(body["template_contract"]["summary"], "Drinks");

        // PATCH replaces everything; the device link goes when `otp_id` is absent.
        let (status, body) = s
            .call(
                Method::PATCH,
                "/merchant/private/templates/espresso",
                Some(ADMIN_TOKEN),
                Some(json!({
                    "template_description": "espresso, any size",
                    "template_contract": { "template_type": "fixed-order", "currency": "KUDOS" },
                    "editable_defaults": { "amount": "KUDOS:3" },
                })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = get(&s, "/merchant/private/templates/espresso").await;
        assert_eq!(
            body,
            json!({
                "template_description": "espresso, any size",
                "template_contract": { "template_type": "fixed-order", "currency": "KUDOS" },
                "editable_defaults": { "amount": "KUDOS:3" },
                "required_currency": "KUDOS",
            })
        );

        for id in ["espresso", "shelf", "paywall"] {
            let path = format!("/merchant/private/templates/{id}");
            let (status, _) = s.call(Method::DELETE, &path, Some(ADMIN_TOKEN), None).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            let (status, body) = get(&s, &path).await;
            assert_error(status, &body, 404, TEMPLATE_UNKNOWN);
        }
        s.finish().await;
    }
}

/// Every validation rule: 400 `PARAMETER_MALFORMED`, a hint naming the field, and
/// nothing stored.
#[tokio::test]
async fn invalid_templates_are_400_naming_the_field_and_store_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        stock_shelves(&s).await;
        let cart = |extra: Value| {
            let mut c = json!({ "template_type": "inventory-cart" });
            c.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            c
        };
        let paivana = |choices: Value, regex: &str| json!({ "template_type": "paivana", "choices": choices, "website_regex": regex });
        let cases: Vec<(Value, Option<Value>, &str)> = vec![
            // Both may be given, but must agree (a page since v25; issue 33).
            (
                json!({ "amount": "KUDOS:1", "currency": "EUR" }),
                None,
                "currency",
            ),
            (json!({ "amount": "EUR:1" }), None, "amount"),
            (json!({ "currency": "EUR" }), None, "currency"),
            (json!({ "amount": "KUDOS:1.123456789" }), None, "Amount"),
            (
                json!({ "template_type": "subscription" }),
                None,
                "template_type",
            ),
            (json!({ "template_type": 7 }), None, "template_type"),
            (
                json!({ "pay_duration": { "d_us": -5 } }),
                None,
                "pay_duration",
            ),
            (
                json!({ "pay_duration": { "d_us": "forever" } }),
                None,
                "pay_duration",
            ),
            (
                json!({ "pay_duration": { "d_us": 0 } }),
                None,
                "pay_duration",
            ),
            (
                json!({ "max_pickup_duration": { "d_us": 9007199254740991u64 } }),
                None,
                "max_pickup_duration",
            ),
            (json!({ "minimum_age": -1 }), None, "minimum_age"),
            (json!({ "minimum_age": 1000 }), None, "minimum_age"),
            (json!({ "summary": 5 }), None, "summary"),
            (
                paivana(json!([{ "amount": "KUDOS:1" }]), "(unclosed"),
                None,
                "website_regex",
            ),
            (paivana(json!([]), ".*"), None, "choices"),
            (json!({ "template_type": "paivana" }), None, "choices"),
            (
                paivana(json!([{ "amount": "EUR:1" }]), ".*"),
                None,
                "choices",
            ),
            (
                cart(json!({ "selected_products": ["coffee", "cake"] })),
                None,
                "selected_products",
            ),
            (
                cart(json!({ "selected_categories": [999] })),
                None,
                "selected_categories",
            ),
            (
                cart(json!({ "selected_categories": [-1] })),
                None,
                "selected_categories",
            ),
            (cart(json!({ "amount": "KUDOS:1" })), None, "amount"),
            (
                cart(json!({ "inventory_payload": { "products": [] } })),
                None,
                "inventory_payload",
            ),
            (
                json!({ "summary": "s" }),
                Some(json!({ "website_regex": ".*" })),
                "website_regex",
            ),
            (
                json!({ "summary": "s" }),
                Some(json!({ "no_such_field": 1 })),
                "no_such_field",
            ),
            (
                json!({ "summary": "s" }),
                Some(json!({ "template_type": "paivana" })),
                "template_type",
            ),
            (
                json!({ "summary": "s" }),
                Some(json!({ "amount": 12 })),
                "amount",
            ),
            (
                json!({ "summary": "s" }),
                Some(json!({ "summary": true })),
                "summary",
            ),
            (
                json!({ "currency": "KUDOS" }),
                Some(json!({ "amount": "EUR:2" })),
                "amount",
            ),
        ];
        for (contract, defaults, field) in cases {
            let mut body = template("t", contract.clone());
            if let Some(d) = &defaults {
                body["editable_defaults"] = d.clone();
            }
            let (status, resp) = post(&s, "/merchant/private/templates", body).await;
            assert_error(status, &resp, 400, PARAMETER_MALFORMED);
            let hint = resp["hint"].as_str().unwrap();
            assert!(
                hint.contains(field),
                "{contract} {defaults:?}: hint `{hint}` lacks `{field}`"
            );
        }
        // A template needs an id.
        let (status, resp) = post(&s, "/merchant/private/templates", template("", json!({}))).await;
        assert_error(status, &resp, 400, PARAMETER_MALFORMED);

        let (_, body) = get(&s, "/merchant/private/templates").await;
        assert_eq!(body, json!({ "templates": [] }));
        s.finish().await;
    }
}

#[tokio::test]
async fn template_status_codes() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let t = template("latte", json!({ "amount": "KUDOS:4" }));

        // Unknown instance, unknown OTP device.
        let (status, body) = post(
            &s,
            "/merchant/instances/nobody/private/templates",
            t.clone(),
        )
        .await;
        assert_error(status, &body, 404, INSTANCE_UNKNOWN);
        let mut with_otp = t.clone();
        with_otp["otp_id"] = json!("no-such-till");
        let (status, body) = post(&s, "/merchant/private/templates", with_otp).await;
        assert_error(status, &body, 404, OTP_DEVICE_UNKNOWN);

        // Created once; the same again is fine; other details under the id are 409.
        let (status, _) = post(&s, "/merchant/private/templates", t.clone()).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = post(&s, "/merchant/private/templates", t.clone()).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = post(
            &s,
            "/merchant/private/templates",
            template("latte", json!({ "amount": "KUDOS:5" })),
        )
        .await;
        assert_error(status, &body, 409, TEMPLATE_EXISTS);
        let (_, body) = get(&s, "/merchant/private/templates/latte").await;
        assert_eq!(body["template_contract"]["amount"], "KUDOS:4");

        // Unknown template: private and public reads, patch, delete.
        for (method, path) in [
            (Method::GET, "/merchant/private/templates/mocha"),
            (Method::DELETE, "/merchant/private/templates/mocha"),
            (
                Method::GET,
                "/merchant/instances/nobody/private/templates/latte",
            ),
        ] {
            let (status, body) = s.call(method, path, Some(ADMIN_TOKEN), None).await;
            assert_error(status, &body, 404, TEMPLATE_UNKNOWN);
        }
        for path in [
            "/merchant/templates/mocha",
            "/merchant/instances/nobody/templates/latte",
        ] {
            let (status, body) = s.call(Method::GET, path, None, None).await;
            assert_error(status, &body, 404, TEMPLATE_UNKNOWN);
        }
        let patch = json!({ "template_description": "d", "template_contract": {} });
        let (status, body) = s
            .call(
                Method::PATCH,
                "/merchant/private/templates/mocha",
                Some(ADMIN_TOKEN),
                Some(patch.clone()),
            )
            .await;
        assert_error(status, &body, 404, TEMPLATE_UNKNOWN);
        let mut patch_otp = patch.clone();
        patch_otp["otp_id"] = json!("no-such-till");
        let (status, body) = s
            .call(
                Method::PATCH,
                "/merchant/private/templates/latte",
                Some(ADMIN_TOKEN),
                Some(patch_otp),
            )
            .await;
        assert_error(status, &body, 404, OTP_DEVICE_UNKNOWN);

        // Credentials: none is 401, a read-only token may read but not write, and
        // another instance's token is refused.
        let (status, body) = s
            .call(Method::GET, "/merchant/private/templates", None, None)
            .await;
        assert_error(status, &body, 401, 40);
        let readonly = s.instance_with_token("cafe", "readonly").await;
        let (status, _) = s
            .call(
                Method::GET,
                "/merchant/instances/cafe/private/templates",
                Some(&readonly),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/cafe/private/templates",
                Some(&readonly),
                Some(t.clone()),
            )
            .await;
        assert_error(status, &body, 403, 16);
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/private/templates",
                Some(&readonly),
                None,
            )
            .await;
        assert_error(status, &body, 401, 41);

        // Oversize body.
        let mut huge = template("huge", json!({ "summary": "x".repeat(70_000) }));
        huge["template_description"] = json!("big");
        let (status, body) = post(&s, "/merchant/private/templates", huge).await;
        assert_error(status, &body, 413, 32);
        let (status, body) = get(&s, "/merchant/private/templates/huge").await;
        assert_error(status, &body, 404, TEMPLATE_UNKNOWN);
        s.finish().await;
    }
}

/// Racing creates of one template id with different details: one wins, the rest 409.
#[tokio::test]
async fn racing_template_creates_have_one_winner() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let mut requests = Vec::new();
        for i in 0..12 {
            let req = s
                .req(Method::POST, "/merchant/private/templates")
                .bearer_auth(ADMIN_TOKEN)
                .json(&template(
                    "race",
                    json!({ "amount": format!("KUDOS:{}", i + 1) }),
                ));
            requests.push(tokio::spawn(common::send(req)));
        }
        let mut created = 0;
        for r in requests {
            let (status, body) = r.await.unwrap();
            match status {
                StatusCode::NO_CONTENT => created += 1,
                _ => assert_error(status, &body, 409, TEMPLATE_EXISTS),
            }
        }
        assert_eq!(created, 1);
        s.finish().await;
    }
}

#[tokio::test]
async fn otp_device_lifecycle_codes_and_deletion_while_in_use() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, body) = post(&s, "/merchant/private/otp-devices", otp_device("till1")).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // The same again is fine; other details are 409.
        let (status, _) = post(&s, "/merchant/private/otp-devices", otp_device("till1")).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let mut other = otp_device("till1");
        other["otp_algorithm"] = json!(2);
        let (status, body) = post(&s, "/merchant/private/otp-devices", other).await;
        assert_error(status, &body, 409, OTP_DEVICE_EXISTS);
        for (field, bad) in [
            ("otp_key", json!("not base32!")),
            ("otp_key", json!("")),
            ("otp_algorithm", json!(7)),
            ("otp_algorithm", json!("HOTP")),
            ("otp_ctr", json!(-1)),
            ("otp_device_id", json!("")),
        ] {
            let mut d = otp_device("till2");
            d[field] = bad.clone();
            let (status, body) = post(&s, "/merchant/private/otp-devices", d).await;
            assert_error(status, &body, 400, PARAMETER_MALFORMED);
            let _ = (field, bad);
        }

        let (status, body) = get(&s, "/merchant/private/otp-devices").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({ "otp_devices": [{ "otp_device_id": "till1", "device_description": "till till1" }] })
        );
        let (status, body) = get(
            &s,
            "/merchant/private/otp-devices/till1?faketime=1700000000",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // TOTP codes (HMAC-SHA1, 30 s, 8 digits) of the step and two on either side,
        // computed independently with Python's hmac module.
        assert_eq!(
            body,
            json!({
                "device_description": "till till1",
                "otp_algorithm": 1,
                "otp_timestamp": 1700000000u64,
                "otp_code": "8968785\n14822542\n2324550\n2367665\n41870960",
            })
        );
        // Unusable or unused arguments are not an error (get-private-otp-devices-DEVICE_ID).
        for query in [
            "price=KUDOS:x",
            "faketime=yesterday",
            "faketime=-5&price=EUR:1",
        ] {
            let (status, body) =
                get(&s, &format!("/merchant/private/otp-devices/till1?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            assert_eq!(body["otp_code"].as_str().unwrap().lines().count(), 5);
        }

        let (status, body) = s
            .call(
                Method::PATCH,
                "/merchant/private/otp-devices/till1",
                Some(ADMIN_TOKEN),
                Some(json!({ "otp_device_description": "front till", "otp_algorithm": 2, "otp_ctr": 5 })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = get(&s, "/merchant/private/otp-devices/till1").await;
        assert_eq!(body["device_description"], "front till");
        assert_eq!(body["otp_algorithm"], 2);
        assert_eq!(body["otp_ctr"], 5);
        // TOTP with price: the code depends on the price; without one there is none.
        assert!(body.get("otp_code").is_none(), "{body}");
        let (_, one) = get(
            &s,
            "/merchant/private/otp-devices/till1?faketime=60&price=KUDOS:1",
        )
        .await;
        let (_, two) = get(
            &s,
            "/merchant/private/otp-devices/till1?faketime=60&price=KUDOS:2",
        )
        .await;
        assert_eq!(one["otp_code"].as_str().unwrap().lines().count(), 5);
        assert_ne!(one["otp_code"], two["otp_code"]);

        // A template uses the device: deleting the device detaches it, the template stays.
        let mut t = template("espresso", json!({ "amount": "KUDOS:2" }));
        t["otp_id"] = json!("till1");
        let (status, _) = post(&s, "/merchant/private/templates", t).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, body) = get(&s, "/merchant/private/templates/espresso").await;
        assert_eq!(body["otp_id"], "till1");
        let (status, _) = s
            .call(
                Method::DELETE,
                "/merchant/private/otp-devices/till1",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for (method, path) in [
            (Method::GET, "/merchant/private/otp-devices/till1"),
            (Method::DELETE, "/merchant/private/otp-devices/till1"),
            (
                Method::GET,
                "/merchant/instances/nobody/private/otp-devices/till1",
            ),
        ] {
            let (status, body) = s.call(method, path, Some(ADMIN_TOKEN), None).await;
            assert_error(status, &body, 404, OTP_DEVICE_UNKNOWN);
        }
        let (status, body) = get(&s, "/merchant/private/templates/espresso").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("otp_id").is_none(), "{body}");
        let (status, body) = s
            .call(
                Method::PATCH,
                "/merchant/private/otp-devices/till1",
                Some(ADMIN_TOKEN),
                Some(json!({ "otp_device_description": "x", "otp_algorithm": 0 })),
            )
            .await;
        assert_error(status, &body, 404, OTP_DEVICE_UNKNOWN);
        s.finish().await;
    }
}

#[tokio::test]
async fn products_and_categories() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let category = stock_shelves(&s).await;
        let (status, body) = get(&s, "/merchant/private/categories").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({ "categories": [{ "category_id": category, "name": "drinks", "product_count": 1 }] })
        );
        let (status, body) = post(
            &s,
            "/merchant/private/categories",
            json!({ "name": "drinks" }),
        )
        .await;
        assert_error(status, &body, 409, 2651);

        let (status, body) = get(&s, "/merchant/private/products?limit=10").await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<&str> = body["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["product_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["coffee", "tea"]);

        let product = |id: &str, extra: Value| {
            let mut p = json!({
                "product_id": id, "description": "d", "unit": "piece",
                "unit_price": ["KUDOS:1"], "unit_total_stock": "3.5",
            });
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            p
        };
        let (status, body) = post(
            &s,
            "/merchant/private/products",
            product("cake", json!({ "categories": [999] })),
        )
        .await;
        assert_error(status, &body, 404, CATEGORY_UNKNOWN);
        let (status, _) = post(&s, "/merchant/private/products", product("cake", json!({}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = post(&s, "/merchant/private/products", product("cake", json!({}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = post(
            &s,
            "/merchant/private/products",
            product("cake", json!({ "description": "other" })),
        )
        .await;
        assert_error(status, &body, 409, PRODUCT_EXISTS);
        for bad in [
            json!({ "unit_total_stock": "1.1234567" }),
            json!({ "unit_total_stock": "-2" }),
            json!({ "unit_price": ["KUDOS:1", "KUDOS:2"] }),
            json!({ "unit_price": [], "price": null }),
            json!({ "unit_precision_level": 9 }),
            json!({ "minimum_age": 300 }),
        ] {
            let (status, body) = post(
                &s,
                "/merchant/private/products",
                product("pie", bad.clone()),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }
        let (status, body) = post(
            &s,
            "/merchant/private/products",
            product("pie", json!({ "unit_price": ["EUR:1"] })),
        )
        .await;
        assert_error(status, &body, 400, 30);
        s.finish().await;
    }
}
