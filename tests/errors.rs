//! Every kind of bad input leaves as an `ErrorDetail` with the right status and code.

mod common;

use common::{
    ADMIN_TOKEN, TestServer, assert_error, backends, header, instance_request, read_response, send,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn unknown_route_is_404_endpoint_unknown() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for path in [
            "/merchant/nope",
            "/nothing",
            "/bank/accounts/alice/nope",
            "/donau/charities/x/y",
        ] {
            let (status, body) = s.call(Method::GET, path, None, None).await;
            assert_error(status, &body, 404, 21);
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn wrong_method_is_405_method_invalid() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, body) = s
            .call(Method::PUT, "/merchant/config", None, Some(json!({})))
            .await;
        assert_error(status, &body, 405, 20);
        let (status, body) = s.call(Method::DELETE, "/donau/config", None, None).await;
        assert_error(status, &body, 405, 20);
        // The answer names the methods the path has (RFC 9110), also for paths with
        // parameters and for the default instance without its prefix.
        for (method, path, allow) in [
            (Method::PUT, "/merchant/config", "GET"),
            (Method::PUT, "/merchant/private/pots", "GET, POST"),
            (
                Method::PUT,
                "/merchant/instances/shop/private/pots/7",
                "DELETE, GET, PATCH",
            ),
            (
                Method::POST,
                "/bank/accounts/alice/taler-revenue/history",
                "GET",
            ),
            (Method::DELETE, "/donau/config", "GET"),
        ] {
            let resp = s.req(method, path).send().await.unwrap();
            assert_eq!(resp.status(), 405, "{path}");
            assert_eq!(resp.headers()["allow"], allow, "{path}");
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn malformed_json_is_400_json_invalid_and_changes_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for raw in ["{bad", "", "[1,", "{\"id\": \"x\"", "nul"] {
            let req = s
                .req(Method::POST, "/merchant/management/instances")
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "application/json")
                .body(raw.to_owned());
            let (status, body) = send(req).await;
            assert_error(status, &body, 400, 22);
        }
        let (_, list) = s
            .call(
                Method::GET,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(
            list["instances"].as_array().unwrap().len(),
            1,
            "only the default instance: {list}"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn missing_field_and_wrong_type_are_400_with_the_merchant_codes() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let mut missing = instance_request("shop", "pw-secret");
        missing.as_object_mut().unwrap().remove("name");
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(missing),
            )
            .await;
        assert_error(status, &body, 400, 25);

        let mut wrong = instance_request("shop", "pw-secret");
        wrong["use_stefan"] = json!("yes");
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(wrong),
            )
            .await;
        assert_error(status, &body, 400, 26);

        let mut bad_delay = instance_request("shop", "pw-secret");
        bad_delay["default_pay_delay"] = json!({"d_us": -5});
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(bad_delay),
            )
            .await;
        assert_error(status, &body, 400, 26);

        let mut forever = instance_request("shop", "pw-secret");
        forever["default_pay_delay"] = json!({"d_us": "forever"});
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(forever),
            )
            .await;
        assert_error(status, &body, 400, 26);
        assert_eq!(body["parameter"], "default_pay_delay", "{body}");

        // A body labelled as a form or as text (what a browser sends cross-site without
        // asking) is refused with 415 and changes nothing, however JSON it looks.
        for content_type in [
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
        ] {
            let req = s
                .req(Method::POST, "/merchant/management/instances")
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", content_type)
                .body(instance_request("formshop", "password-1").to_string());
            let (status, body) = send(req).await;
            assert_error(status, &body, 415, 23);
        }
        let (status, _) = s
            .call(
                Method::GET,
                "/merchant/management/instances/formshop",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // JSON with a charset, and no Content-Type at all, are read as JSON.
        let req = s
            .req(Method::POST, "/merchant/management/instances")
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json; charset=utf-8")
            .body(instance_request("jsonshop", "password-1").to_string());
        assert_eq!(send(req).await.0, StatusCode::NO_CONTENT);
        let req = s
            .req(Method::POST, "/merchant/management/instances")
            .bearer_auth(ADMIN_TOKEN)
            .body(instance_request("bareshop", "password-1").to_string());
        assert_eq!(send(req).await.0, StatusCode::NO_CONTENT);
        s.finish().await;
    }
}

#[tokio::test]
async fn bad_query_parameter_is_400_parameter_malformed() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        s.instance_with_token("shop", "readonly").await;
        let (status, body) = s
            .call(
                Method::DELETE,
                "/merchant/management/instances/shop?purge=MAYBE",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 400, 26);
        assert_eq!(body["parameter"], "purge");
        s.finish().await;
    }
}

#[tokio::test]
async fn oversize_body_is_413_and_changes_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let mut big = instance_request("bigshop", "pw-secret");
        big["name"] = json!("x".repeat(70_000));
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/management/instances",
                Some(ADMIN_TOKEN),
                Some(big.clone()),
            )
            .await;
        assert_error(status, &body, 413, 32);

        // Without Content-Length (chunked), the limit holds while reading.
        let stream = futures_stream(big.to_string());
        let req = s
            .req(Method::POST, "/merchant/management/instances")
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream));
        let (status, body) = send(req).await;
        assert_error(status, &body, 413, 32);

        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/management/instances/bigshop",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2000);
        s.finish().await;
    }
}

fn futures_stream(
    text: String,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .into_bytes()
        .chunks(8192)
        .map(|c| Ok(c.to_vec()))
        .collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn missing_wrong_and_malformed_tokens_are_401() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, body) = s
            .call(Method::GET, "/merchant/management/instances", None, None)
            .await;
        assert_error(status, &body, 401, 40);
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/management/instances",
                Some("secret-token:WRONG"),
                None,
            )
            .await;
        assert_error(status, &body, 401, 41);
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/management/instances",
                Some("hunter2"),
                None,
            )
            .await;
        assert_error(status, &body, 401, 43);
        let req = s
            .req(Method::GET, "/merchant/management/instances")
            .header("authorization", "Token abc");
        let (status, body) = send(req).await;
        assert_error(status, &body, 401, 40);
        s.finish().await;
    }
}

#[tokio::test]
async fn database_failure_is_500_with_db_code() {
    // SQLite only: break the schema under the running server.
    let s = TestServer::start(&common::Backend::Sqlite).await;
    use sea_orm::ConnectionTrait;
    s.server
        .state
        .db
        .execute_unprepared("DROP TABLE merchant_tokens")
        .await
        .unwrap();
    let req = s
        .req(Method::POST, "/merchant/private/token")
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"scope": "readonly"}));
    let (status, body) = send(req).await;
    assert_error(status, &body, 500, 52);
    let (status, body) = s
        .call(
            Method::GET,
            "/merchant/management/instances",
            Some("secret-token:UNKNOWN"),
            None,
        )
        .await;
    assert_error(status, &body, 500, 53);
    s.finish().await;
}

/// A number or boolean where the spec says string is refused, at any depth, and the
/// hint names the field.
#[tokio::test]
async fn non_strings_where_strings_belong_are_400() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for (path, body, field) in [
            (
                "/merchant/private/pots",
                json!({ "pot_name": 0, "description": "d" }),
                "pot_name",
            ),
            (
                "/merchant/private/categories",
                json!({ "name": true }),
                "name",
            ),
            (
                "/merchant/private/categories",
                json!({ "name": "drinks", "name_i18n": { "de": 5 } }),
                "name_i18n.de",
            ),
            (
                "/merchant/private/templates",
                json!({ "template_id": "t", "template_description": 1, "template_contract": {} }),
                "template_description",
            ),
            (
                "/merchant/private/otp-devices",
                json!({ "otp_device_id": 7, "otp_device_description": "d",
                        "otp_key": "JBSWY3DP", "otp_algorithm": 0 }),
                "otp_device_id",
            ),
        ] {
            let (status, resp) = s
                .call(
                    reqwest::Method::POST,
                    path,
                    Some(common::ADMIN_TOKEN),
                    Some(body),
                )
                .await;
            assert_error(status, &resp, 400, 26);
            assert!(
                resp["hint"].as_str().unwrap().contains(field),
                "{path}: {resp}"
            );
        }
        let (_, pots) = s
            .call(
                reqwest::Method::GET,
                "/merchant/private/pots",
                Some(common::ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(pots, json!({ "pots": [] }));
        let (status, resp) = s
            .call(
                reqwest::Method::POST,
                "/bank/accounts",
                Some(common::ADMIN_TOKEN),
                Some(json!({ "username": 12345678, "password": "password-1", "name": "n" })),
            )
            .await;
        assert_error(status, &resp, 400, 22);
        s.finish().await;
    }
}

/// What a request schema publishes (lengths, patterns, bounds, no `null` for a required
/// field) is what the server enforces: a 400 naming the field, with the service's code, and nothing stored.
#[tokio::test]
async fn published_constraints_are_enforced_and_name_the_field() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for (method, path, body, code, field) in [
            (
                Method::POST,
                "/merchant/private/pots",
                json!({ "pot_name": " ", "description": "d" }),
                26,
                "pot_name",
            ),
            (
                Method::POST,
                "/merchant/private/otp-devices",
                json!({ "otp_device_id": "till", "otp_device_description": "d",
                        "otp_key": "not base32!", "otp_algorithm": 0 }),
                26,
                "otp_key",
            ),
            (
                Method::POST,
                "/merchant/private/otp-devices",
                json!({ "otp_device_id": "till", "otp_device_description": "d",
                        "otp_key": "JBSWY3DP", "otp_algorithm": 0,
                        "otp_ctr": 9_007_199_254_740_992u64 }),
                26,
                "otp_ctr",
            ),
            (
                Method::POST,
                "/merchant/private/pots",
                json!({ "pot_name": null, "description": "d" }),
                25,
                "pot_name",
            ),
            (
                Method::POST,
                "/bank/accounts",
                // libeufin-bank: every malformed body field is `GENERIC_JSON_INVALID`.
                json!({ "username": "bad name", "password": "password-1", "name": "n" }),
                22,
                "username",
            ),
            (
                Method::POST,
                "/donau/charities",
                json!({ "charity_pub": "TXD9G0C2P45BFNABZV9WJS07787E2WQKVAK269DF08D6HXR7A4D0",
                        "charity_url": "ftp://x", "charity_name": "n",
                        "max_per_year": "KUDOS:1" }),
                22,
                "charity_url",
            ),
        ] {
            let (status, resp) = s.call(method, path, Some(ADMIN_TOKEN), Some(body)).await;
            assert_error(status, &resp, 400, code);
            assert_eq!(resp["parameter"], field, "{path}: {resp}");
        }
        for (path, list) in [
            ("/merchant/private/pots", "pots"),
            ("/merchant/private/otp-devices", "otp_devices"),
        ] {
            let (_, body) = s.call(Method::GET, path, Some(ADMIN_TOKEN), None).await;
            assert_eq!(body[list], json!([]), "{path}: {body}");
        }
        for query in ["limit=0", "offset=-1", "limit=x"] {
            let (status, resp) = s
                .call(
                    Method::GET,
                    &format!("/merchant/private/pots?{query}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_error(status, &resp, 400, 26);
            assert_eq!(resp["parameter"], query.split('=').next().unwrap());
        }
        s.finish().await;
    }
}

/// Sends `request` on a connection of its own; the answer's status, headers and body.
async fn raw_exchange(s: &TestServer, request: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(s.server.addr).await.unwrap();
    // The server may answer and close before it has read all of an oversize request.
    let _ = stream.write_all(request).await;
    read_response(&mut stream, &mut Vec::new())
        .await
        .expect("an answer before the connection closed")
}

#[tokio::test]
async fn requests_the_listener_cannot_parse_get_error_details() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let long_uri = format!(
            "GET /merchant/config?{} HTTP/1.1\r\nHost: x\r\n\r\n",
            "a".repeat(70_000)
        );
        let many_headers = format!(
            "GET /merchant/config HTTP/1.1\r\nHost: x\r\n{}\r\n",
            (0..120)
                .map(|i| format!("X-H{i}: v\r\n"))
                .collect::<String>()
        );
        let huge_header = format!(
            "GET /merchant/config HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(500_000)
        );
        let cases: [(&[u8], u16, u64); 4] = [
            (long_uri.as_bytes(), 414, 31),
            (many_headers.as_bytes(), 431, 23),
            (huge_header.as_bytes(), 431, 23),
            (b"GET /merchant/config HTTP/1.1\r\nHost x\r\n\r\n", 400, 23),
        ];
        for (request, status, code) in cases {
            // The body is as long as its content-length says: read_response reads that much.
            let (got, headers, body) = raw_exchange(&s, request).await;
            assert_eq!(got, status);
            assert_eq!(header(&headers, "content-type"), Some("application/json"));
            assert_eq!(header(&headers, "connection"), Some("close"));
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_error(StatusCode::from_u16(got).unwrap(), &body, status, code);
        }
        // The server goes on serving.
        let (status, _) = s.call(Method::GET, "/merchant/config", None, None).await;
        assert_eq!(status, StatusCode::OK);
        s.finish().await;
    }
}
