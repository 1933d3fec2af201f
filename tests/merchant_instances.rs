//! Merchant instances and tokens over HTTP.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends, instance_request};
use reqwest::{Method, StatusCode};
use serde_json::json;

const MGMT: &str = "/merchant/management/instances";

#[tokio::test]
async fn config_lists_currency_and_report_generators() {
    for b in backends() {
        let db = common::TestDb::new(&b).await;
        let s = TestServer::start_with(
            db,
            "[report-generator-mailer]\nBINARY = /usr/bin/true\nDESCRIPTION = Sends reports by mail\nTARGET_PATTERN = [^@ ]+@[^@ ]+\n",
        )
        .await;
        let (status, body) = s.call(Method::GET, "/merchant/config", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["name"], "taler-merchant");
        assert_eq!(body["currency"], "KUDOS");
        assert_eq!(body["currencies"]["KUDOS"]["alt_unit_names"]["0"], "KUDOS");
        assert_eq!(
            body["report_generators"]["report-generator-mailer"],
            "Sends reports by mail"
        );
        // The rest of `MerchantVersionResponse` (get-config.rst, v25+).
        assert_eq!(body["exchanges"], json!([]));
        assert_eq!(body["have_self_provisioning"], false);
        assert_eq!(body["have_donau"], false);
        assert_eq!(body["payment_target_types"], "*");
        assert_eq!(body["default_pay_delay"]["d_us"], 86_400_000_000u64);
        assert_eq!(body["default_refund_delay"]["d_us"], 15 * 86_400_000_000u64);
        assert_eq!(
            body["default_wire_transfer_delay"]["d_us"],
            7 * 86_400_000_000u64
        );
        assert_eq!(body["default_wire_transfer_rounding_interval"], "NONE");
        assert!(body.get("mandatory_tan_channels").is_none());
        let (status, body) = s
            .call(
                Method::GET,
                "/bank/accounts/alice/taler-revenue/config",
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (body["name"].as_str(), body["currency"].as_str()),
            (Some("taler-revenue"), Some("KUDOS"))
        );
        let (status, body) = s.call(Method::GET, "/donau/config", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["currency"], "KUDOS");
        s.finish().await;
    }
}

#[tokio::test]
async fn instance_lifecycle_with_delete_and_purge() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, _) = s
            .call(
                Method::POST,
                MGMT,
                Some(ADMIN_TOKEN),
                Some(instance_request("shop", "pw-secret")),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s
            .call(
                Method::POST,
                MGMT,
                Some(ADMIN_TOKEN),
                Some(instance_request("shop", "other-password")),
            )
            .await;
        assert_error(status, &body, 409, 2600);

        let (status, body) = s.call(Method::GET, MGMT, Some(ADMIN_TOKEN), None).await;
        assert_eq!(status, StatusCode::OK);
        let ids: Vec<&str> = body["instances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["admin", "shop"]);

        let (status, body) = s
            .call(
                Method::GET,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["name"], "Shop shop");
        assert_eq!(body["address"]["town"], "Biel");
        assert_eq!(
            body["default_pay_delay"],
            json!({"d_us": 86_400_000_000u64})
        );
        assert_eq!(body["merchant_pub"].as_str().unwrap().len(), 52);

        let (status, body) = s
            .call(
                Method::GET,
                &format!("{MGMT}/nope"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2000);

        let (status, _) = s
            .call(
                Method::DELETE,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s
            .call(
                Method::GET,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2000);
        let (status, body) = s
            .call(
                Method::POST,
                MGMT,
                Some(ADMIN_TOKEN),
                Some(instance_request("shop", "pw-secret")),
            )
            .await;
        assert_error(status, &body, 409, 2603);
        let (status, body) = s
            .call(
                Method::DELETE,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2000);
        let (status, _) = s
            .call(
                Method::DELETE,
                &format!("{MGMT}/shop?purge=YES"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = s
            .call(
                Method::POST,
                MGMT,
                Some(ADMIN_TOKEN),
                Some(instance_request("shop", "pw-secret")),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);

        let (status, body) = s
            .call(
                Method::DELETE,
                &format!("{MGMT}/admin"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 403, 44);
        s.finish().await;
    }
}

#[tokio::test]
async fn invalid_instance_requests_are_refused() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for (mutate, parameter) in [
            (json!({"id": "-bad"}), "id"),
            (json!({"id": "a"}), "id"),
            (json!({"id": "sh op"}), "id"),
            (json!({"name": " "}), "name"),
            (json!({"logo": "http://example.com/x.png"}), "logo"),
        ] {
            let mut req = instance_request("shop", "pw-secret");
            for (k, v) in mutate.as_object().unwrap() {
                req[k] = v.clone();
            }
            let (status, body) = s
                .call(Method::POST, MGMT, Some(ADMIN_TOKEN), Some(req))
                .await;
            assert_error(status, &body, 400, 26);
            assert_eq!(body["parameter"], parameter);
        }
        let mut no_password = instance_request("shop", "pw-secret");
        no_password["auth"] = json!({"method": "token"});
        let (status, body) = s
            .call(Method::POST, MGMT, Some(ADMIN_TOKEN), Some(no_password))
            .await;
        assert_error(status, &body, 400, 25);
        let (_, list) = s.call(Method::GET, MGMT, Some(ADMIN_TOKEN), None).await;
        assert_eq!(list["instances"].as_array().unwrap().len(), 1);
        s.finish().await;
    }
}

#[tokio::test]
async fn tokens_by_password_with_scopes_and_permissions() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let readonly = s.instance_with_token("shop", "readonly").await;
        assert!(readonly.starts_with("secret-token:"));

        // Wrong password, wrong user name, unknown instance.
        let (status, body) = s
            .token_by_password("shop", "shop", "nope", json!({"scope": "all"}))
            .await;
        assert_error(status, &body, 401, 40);
        let (status, body) = s
            .token_by_password("shop", "admin", "pw-secret", json!({"scope": "all"}))
            .await;
        assert_error(status, &body, 401, 40);
        let (status, body) = s
            .token_by_password("ghost", "ghost", "pw-secret", json!({"scope": "all"}))
            .await;
        assert_error(status, &body, 404, 2000);
        let (status, body) = s
            .token_by_password("shop", "shop", "pw-secret", json!({"scope": "superuser"}))
            .await;
        assert_error(status, &body, 400, 26);

        // A readonly token cannot refresh; a refreshable one can, within its scope.
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/token",
                Some(&readonly),
                Some(json!({"scope": "readonly"})),
            )
            .await;
        assert_error(status, &body, 403, 16);
        let refreshable = s.login("shop", "pw-secret", "readonly:refreshable").await;
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/token",
                Some(&refreshable),
                Some(json!({"scope": "readonly"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["scope"], "readonly");
        assert_eq!(body["refreshable"], false);
        assert_eq!(body["token"], body["access_token"]);
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/token",
                Some(&refreshable),
                Some(json!({"scope": "all"})),
            )
            .await;
        assert_error(status, &body, 403, 16);

        // A token of the default instance lacking instances-write gets 403 on management.
        let admin_readonly = {
            let (status, body) = s
                .call(
                    Method::POST,
                    "/merchant/private/token",
                    Some(ADMIN_TOKEN),
                    Some(json!({"scope": "readonly"})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        };
        let (status, _) = s.call(Method::GET, MGMT, Some(&admin_readonly), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = s
            .call(
                Method::POST,
                MGMT,
                Some(&admin_readonly),
                Some(instance_request("x1", "pw-secret")),
            )
            .await;
        assert_error(status, &body, 403, 16);
        s.finish().await;
    }
}

#[tokio::test]
async fn a_token_of_one_instance_never_opens_another() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let shop_a = s.instance_with_token("shop-a", "all:refreshable").await;
        s.instance_with_token("shop-b", "all").await;
        for path in [
            "/merchant/instances/shop-b/private/token",
            "/merchant/private/token",
        ] {
            let (status, body) = s
                .call(
                    Method::POST,
                    path,
                    Some(&shop_a),
                    Some(json!({"scope": "readonly"})),
                )
                .await;
            assert_error(status, &body, 401, 41);
        }
        let (status, body) = s.call(Method::GET, MGMT, Some(&shop_a), None).await;
        assert_error(status, &body, 401, 41);
        // The administrator token opens only the default instance.
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop-b/private/token",
                Some(ADMIN_TOKEN),
                Some(json!({"scope": "readonly"})),
            )
            .await;
        assert_error(status, &body, 401, 41);
        s.finish().await;
    }
}

#[tokio::test]
async fn revoked_expired_and_deleted_tokens_stop_working() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let token = s.instance_with_token("shop", "all:refreshable").await;
        let path = "/merchant/instances/shop/private/token";
        let (status, _) = s.call(Method::DELETE, path, Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s
            .call(
                Method::POST,
                path,
                Some(&token),
                Some(json!({"scope": "readonly"})),
            )
            .await;
        assert_error(status, &body, 401, 41);

        let (status, body) = s
            .token_by_password(
                "shop",
                "shop",
                "pw-secret",
                json!({"scope": "all:refreshable", "duration": {"d_us": 0}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let expired = body["access_token"].as_str().unwrap().to_owned();
        let (status, body) = s
            .call(
                Method::POST,
                path,
                Some(&expired),
                Some(json!({"scope": "readonly"})),
            )
            .await;
        assert_error(status, &body, 401, 42);

        let (status, body) = s
            .call(
                Method::DELETE,
                "/merchant/private/token",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 403, 44);

        let live = s.login("shop", "pw-secret", "all:refreshable").await;
        s.call(
            Method::DELETE,
            &format!("{MGMT}/shop"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
        let (status, body) = s
            .call(
                Method::POST,
                path,
                Some(&live),
                Some(json!({"scope": "readonly"})),
            )
            .await;
        assert_error(status, &body, 404, 2000);
        s.finish().await;
    }
}

#[tokio::test]
async fn default_instance_is_served_with_and_without_prefix() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for path in [
            "/merchant/private/token",
            "/merchant/instances/admin/private/token",
        ] {
            let (status, body) = s
                .call(
                    Method::POST,
                    path,
                    Some(ADMIN_TOKEN),
                    Some(json!({"scope": "all"})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn instances_and_tokens_survive_a_restart() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let token = s.instance_with_token("shop", "all:refreshable").await;
        let s = s.restart().await;
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/token",
                Some(&token),
                Some(json!({"scope": "readonly"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, list) = s.call(Method::GET, MGMT, Some(ADMIN_TOKEN), None).await;
        assert_eq!(list["instances"].as_array().unwrap().len(), 2);
        s.finish().await;
    }
}

/// `GET`, `PATCH` and `DELETE [/instances/$INSTANCE]/private` with the instance's own
/// token, and `PATCH /management/instances/$INSTANCE` with the administrator's.
#[tokio::test]
async fn instance_reads_reconfigures_and_deletes_itself() {
    for b in backends() {
        let mut s = TestServer::start(&b).await;
        let token = s.instance_with_token("shop", "all").await;
        let readonly = s.login("shop", "pw-secret", "readonly").await;
        let own = "/merchant/instances/shop/private";

        let (status, body) = s.call(Method::GET, own, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["name"], "Shop shop");
        assert_eq!(body["address"]["town"], "Biel");
        assert!(body.get("email_validated").is_none(), "{body}");
        let (_, by_admin) = s
            .call(
                Method::GET,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(body, by_admin);

        let reconfigured = json!({
            "name": "The Shop",
            "email": "shop@example.com",
            "address": { "town": "Bern" },
            "jurisdiction": { "country": "CH" },
            "use_stefan": false,
            "default_pay_delay": { "d_us": 3_600_000_000u64 },
        });
        let (status, body) = s
            .call(
                Method::PATCH,
                own,
                Some(&readonly),
                Some(reconfigured.clone()),
            )
            .await;
        assert_error(status, &body, 403, 16);
        let (status, body) = s
            .call(Method::PATCH, own, Some(&token), Some(reconfigured.clone()))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        s = s.restart().await;
        let (_, body) = s.call(Method::GET, own, Some(&token), None).await;
        assert_eq!(
            (
                &body["name"],
                &body["email"],
                &body["email_validated"],
                &body["address"]["town"]
            ),
            (
                &json!("The Shop"),
                &json!("shop@example.com"),
                &json!(false),
                &json!("Bern")
            )
        );
        assert_eq!(body["use_stefan"], false);
        assert_eq!(body["default_pay_delay"]["d_us"], 3_600_000_000u64);
        // Absent delays keep their values; "forever" is refused and changes nothing.
        assert_eq!(body["default_refund_delay"]["d_us"], 15 * 86_400_000_000u64);
        let mut forever = reconfigured.clone();
        forever["default_refund_delay"] = json!({ "d_us": "forever" });
        forever["name"] = json!("Other");
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                Some(forever),
            )
            .await;
        assert_error(status, &body, 400, 26);
        let mut renamed = reconfigured.clone();
        renamed["name"] = json!("Renamed by admin");
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                Some(renamed.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = s.call(Method::GET, own, Some(&token), None).await;
        assert_eq!(body["name"], "Renamed by admin");
        // An instance token opens only its own instance.
        let (status, _) = s
            .call(
                Method::PATCH,
                &format!("{MGMT}/shop"),
                Some(&token),
                Some(renamed.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("{MGMT}/nobody"),
                Some(ADMIN_TOKEN),
                Some(renamed.clone()),
            )
            .await;
        assert_error(status, &body, 404, 2000);

        // The instance deletes itself; then only the administrator can purge it.
        let (status, body) = s.call(Method::DELETE, own, Some(&readonly), None).await;
        assert_error(status, &body, 403, 16);
        let (status, body) = s.call(Method::DELETE, own, Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, _) = s.call(Method::GET, own, Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                Some(renamed.clone()),
            )
            .await;
        assert_error(status, &body, 409, 2625);
        let (status, _) = s
            .call(
                Method::DELETE,
                &format!("{MGMT}/shop?purge=YES"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("{MGMT}/shop"),
                Some(ADMIN_TOKEN),
                Some(renamed),
            )
            .await;
        assert_error(status, &body, 404, 2000);
        // The default instance cannot delete itself either.
        let (status, body) = s
            .call(Method::DELETE, "/merchant/private", Some(ADMIN_TOKEN), None)
            .await;
        assert_error(status, &body, 403, 44);
        s.finish().await;
    }
}
