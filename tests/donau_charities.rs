//! The Donau's charity registry over HTTP.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use taler_openapi::taler::{EddsaPublicKey, time::current_year};

const PERMISSION_INSUFFICIENT: u64 = 16;
const JSON_INVALID: u64 = 22;
const PARAMETER_MALFORMED: u64 = 26;
const CURRENCY_MISMATCH: u64 = 30;
const CHARITY_NOT_FOUND: u64 = 8609;
// Provisional (see `taler::error::PROVISIONAL`).
const CHARITY_PUB_EXISTS: u64 = 8618;

/// The public key of a key pair made from `seed`.
fn charity_pub(seed: u8) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    EddsaPublicKey(key.verifying_key().to_bytes()).to_string()
}

fn charity(seed: u8, name: &str) -> Value {
    json!({
        "charity_pub": charity_pub(seed),
        "charity_url": format!("https://{name}.example.org/"),
        "charity_name": name,
        "max_per_year": "KUDOS:1000.5",
    })
}

async fn register(s: &TestServer, body: Value) -> u64 {
    let (status, body) = s
        .call(
            Method::POST,
            "/donau/charities",
            Some(ADMIN_TOKEN),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["charity_id"].as_u64().unwrap()
}

#[tokio::test]
async fn charity_lifecycle() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        // No charities yet: 204 with an empty body.
        let (status, body) = s
            .call(Method::GET, "/donau/charities", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

        let first = register(&s, charity(1, "alpha")).await;
        let second = register(&s, charity(2, "beta")).await;
        assert!(second > first);
        let (status, body) = s
            .call(Method::GET, "/donau/charities", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let year = current_year();
        assert_eq!(
            body["charities"][0],
            json!({
                "charity_id": first,
                "charity_pub": charity_pub(1),
                "charity_name": "alpha",
                "max_per_year": "KUDOS:1000.5",
                "current_year": year,
                "receipts_to_date": "KUDOS:0",
            })
        );
        assert_eq!(body["charities"][1]["charity_id"], second);

        let one = format!("/donau/charity/{first}");
        let (status, body) = s.call(Method::GET, &one, Some(ADMIN_TOKEN), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({
                "charity_pub": charity_pub(1),
                "name": "alpha",
                "url": "https://alpha.example.org/",
                "max_per_year": "KUDOS:1000.5",
                "receipts_to_date": "KUDOS:0",
                "current_year": year,
            })
        );

        let mut changed = charity(3, "alpha2");
        changed["max_per_year"] = json!("KUDOS:5");
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/donau/charities/{first}"),
                Some(ADMIN_TOKEN),
                Some(changed),
            )
            .await;
        assert_eq!((status, body), (StatusCode::OK, Value::Null));

        // Survives a restart.
        let s = s.restart().await;
        let (_, body) = s.call(Method::GET, &one, Some(ADMIN_TOKEN), None).await;
        assert_eq!(
            (&body["name"], &body["charity_pub"], &body["max_per_year"]),
            (&json!("alpha2"), &json!(charity_pub(3)), &json!("KUDOS:5"))
        );

        // Delete the newest; its id is not handed out again.
        let (status, _) = s
            .call(
                Method::DELETE,
                &format!("/donau/charities/{second}"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let third = register(&s, charity(2, "beta-again")).await;
        assert!(third > second, "id {second} was reused");
        for (method, path) in [
            (Method::GET, format!("/donau/charity/{second}")),
            (Method::DELETE, format!("/donau/charities/{second}")),
        ] {
            let (status, body) = s.call(method, &path, Some(ADMIN_TOKEN), None).await;
            assert_error(status, &body, 404, CHARITY_NOT_FOUND);
        }
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/donau/charities/{second}"),
                Some(ADMIN_TOKEN),
                Some(charity(9, "ghost")),
            )
            .await;
        assert_error(status, &body, 404, CHARITY_NOT_FOUND);
        s.finish().await;
    }
}

#[tokio::test]
async fn missing_or_wrong_admin_token_is_403_everywhere() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let id = register(&s, charity(1, "alpha")).await;
        let requests = [
            (
                Method::POST,
                "/donau/charities".to_owned(),
                Some(charity(2, "x")),
            ),
            (Method::GET, "/donau/charities".to_owned(), None),
            (Method::GET, format!("/donau/charity/{id}"), None),
            (
                Method::PATCH,
                format!("/donau/charities/{id}"),
                Some(charity(2, "x")),
            ),
            (Method::DELETE, format!("/donau/charities/{id}"), None),
        ];
        for (method, path, body) in requests {
            for token in [None, Some("secret-token:wrong"), Some("")] {
                let (status, resp) = s.call(method.clone(), &path, token, body.clone()).await;
                assert_error(status, &resp, 403, PERMISSION_INSUFFICIENT);
            }
        }
        let (_, body) = s
            .call(Method::GET, "/donau/charities", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(body["charities"].as_array().unwrap().len(), 1);
        assert_eq!(body["charities"][0]["charity_name"], "alpha");
        s.finish().await;
    }
}

/// 32 bytes that decode from base32 but are no point on the curve.
fn not_a_curve_point() -> String {
    (0u8..=255)
        .map(|i| {
            let mut bytes = [0u8; 32];
            bytes[0] = i;
            bytes[31] = 0x11;
            bytes
        })
        .find(|b| ed25519_dalek::VerifyingKey::from_bytes(b).is_err())
        .map(|b| EddsaPublicKey(b).to_string())
        .expect("some y is not on the curve")
}

#[tokio::test]
async fn bad_keys_amounts_and_urls_are_400_and_change_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let id = register(&s, charity(1, "alpha")).await;
        let good_pub = charity_pub(5);
        let cases = [
            ("charity_pub", json!(good_pub[..51]), JSON_INVALID),
            ("charity_pub", json!(format!("{good_pub}0")), JSON_INVALID),
            (
                "charity_pub",
                json!(good_pub.replace(&good_pub[..1], "U")),
                JSON_INVALID,
            ),
            ("charity_pub", json!(good_pub.to_lowercase()), JSON_INVALID),
            ("charity_pub", json!(not_a_curve_point()), JSON_INVALID),
            ("charity_pub", json!(42), JSON_INVALID),
            ("max_per_year", json!("KUDOS:1.123456789"), JSON_INVALID),
            ("max_per_year", json!("KUDOS:-1"), JSON_INVALID),
            (
                "max_per_year",
                json!("KUDOS:4503599627370497"),
                JSON_INVALID,
            ),
            ("max_per_year", json!("EUR:10"), CURRENCY_MISMATCH),
            (
                "charity_url",
                json!("ftp://alpha.example.org/"),
                JSON_INVALID,
            ),
            ("charity_url", json!("not a url"), JSON_INVALID),
            ("charity_name", json!(" "), JSON_INVALID),
        ];
        for (field, value, code) in cases {
            let mut body = charity(5, "gamma");
            body[field] = value.clone();
            let (status, resp) = s
                .call(
                    Method::POST,
                    "/donau/charities",
                    Some(ADMIN_TOKEN),
                    Some(body.clone()),
                )
                .await;
            assert_error(status, &resp, 400, code);
            // PATCH reports semantic problems as PARAMETER_MALFORMED, schema ones as JSON_INVALID.
            let (status, resp) = s
                .call(
                    Method::PATCH,
                    &format!("/donau/charities/{id}"),
                    Some(ADMIN_TOKEN),
                    Some(body),
                )
                .await;
            assert_eq!(status.as_u16(), 400, "{field}={value}: {resp}");
        }
        let mut missing = charity(5, "gamma");
        missing.as_object_mut().unwrap().remove("charity_url");
        let (status, resp) = s
            .call(
                Method::POST,
                "/donau/charities",
                Some(ADMIN_TOKEN),
                Some(missing),
            )
            .await;
        assert_error(status, &resp, 400, JSON_INVALID);
        for bad_id in ["abc", "-1", "18446744073709551616"] {
            let (status, resp) = s
                .call(
                    Method::GET,
                    &format!("/donau/charity/{bad_id}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_error(status, &resp, 400, PARAMETER_MALFORMED);
        }
        let (_, body) = s
            .call(Method::GET, "/donau/charities", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(body["charities"].as_array().unwrap().len(), 1);
        assert_eq!(body["charities"][0]["charity_pub"], charity_pub(1));
        s.finish().await;
    }
}

#[tokio::test]
async fn duplicate_key_is_409() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let first = register(&s, charity(1, "alpha")).await;
        let second = register(&s, charity(2, "beta")).await;
        let (status, body) = s
            .call(
                Method::POST,
                "/donau/charities",
                Some(ADMIN_TOKEN),
                Some(charity(1, "copycat")),
            )
            .await;
        assert_error(status, &body, 409, CHARITY_PUB_EXISTS);
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/donau/charities/{second}"),
                Some(ADMIN_TOKEN),
                Some(charity(1, "beta")),
            )
            .await;
        assert_error(status, &body, 409, CHARITY_PUB_EXISTS);
        // Keeping its own key is fine.
        let (status, _) = s
            .call(
                Method::PATCH,
                &format!("/donau/charities/{first}"),
                Some(ADMIN_TOKEN),
                Some(charity(1, "alpha-renamed")),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        s.finish().await;
    }
}
