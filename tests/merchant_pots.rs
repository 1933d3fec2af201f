//! Merchant money pots over HTTP.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// Provisional numbers (see `taler::error::PROVISIONAL`); the hint names the code too.
const POT_UNKNOWN: u64 = 2035;
const CONFLICTING_NAME: u64 = 2690;
const CONFLICTING_TOTAL: u64 = 2691;
const PARAMETER_MALFORMED: u64 = 26;

async fn create_pot(s: &TestServer, base: &str, token: &str, name: &str) -> u64 {
    let (status, body) = s
        .call(
            Method::POST,
            &format!("{base}/private/pots"),
            Some(token),
            Some(json!({ "pot_name": name, "description": format!("{name} pot") })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["pot_serial_id"].as_u64().unwrap()
}

fn modify(name: &str, expected: Option<Value>, new: Option<Value>) -> Value {
    let mut body = json!({ "pot_name": name, "description": "d" });
    if let Some(e) = expected {
        body["expected_pot_totals"] = e;
    }
    if let Some(n) = new {
        body["new_pot_totals"] = n;
    }
    body
}

#[tokio::test]
async fn pot_lifecycle_on_default_instance_and_by_prefix() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let id = create_pot(&s, "/merchant", ADMIN_TOKEN, "tips").await;
        // The default instance is the same with and without the prefix.
        let (status, body) = s
            .call(
                Method::GET,
                &format!("/merchant/instances/admin/private/pots/{id}"),
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({ "pot_name": "tips", "description": "tips pot", "pot_totals": [] })
        );

        let pot = format!("/merchant/private/pots/{id}");
        let (status, body) = s
            .call(
                Method::PATCH,
                &pot,
                Some(ADMIN_TOKEN),
                Some(modify(
                    "tips2",
                    Some(json!([])),
                    Some(json!(["KUDOS:10.50", "EUR:0.00000001", "CHF:3"])),
                )),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = s.call(Method::GET, &pot, Some(ADMIN_TOKEN), None).await;
        assert_eq!(body["pot_name"], "tips2");
        assert_eq!(body["description"], "d");
        assert_eq!(
            body["pot_totals"],
            json!(["CHF:3", "EUR:0.00000001", "KUDOS:10.5"])
        );

        // New totals may change the currencies; expected totals compare exactly.
        let (status, _) = s
            .call(
                Method::PATCH,
                &pot,
                Some(ADMIN_TOKEN),
                Some(modify(
                    "tips2",
                    Some(json!(["KUDOS:10.5", "CHF:3.0", "EUR:0.00000001"])),
                    Some(json!(["USD:1"])),
                )),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, body) = s.call(Method::GET, &pot, Some(ADMIN_TOKEN), None).await;
        assert_eq!(body["pot_totals"], json!(["USD:1"]));

        // Survives a restart.
        let s = s.restart().await;
        let (_, body) = s.call(Method::GET, &pot, Some(ADMIN_TOKEN), None).await;
        assert_eq!(body["pot_totals"], json!(["USD:1"]));

        let (status, _) = s.call(Method::DELETE, &pot, Some(ADMIN_TOKEN), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for method in [Method::GET, Method::DELETE] {
            let (status, body) = s.call(method, &pot, Some(ADMIN_TOKEN), None).await;
            assert_error(status, &body, 404, POT_UNKNOWN);
            assert!(body["hint"].as_str().unwrap().contains("MONEY_POT_UNKNOWN"));
        }
        let (status, body) = s
            .call(
                Method::PATCH,
                &pot,
                Some(ADMIN_TOKEN),
                Some(modify("x", None, None)),
            )
            .await;
        assert_error(status, &body, 404, POT_UNKNOWN);
        s.finish().await;
    }
}

#[tokio::test]
async fn pot_names_are_unique_per_instance() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let shop = s.instance_with_token("shop", "all").await;
        let other = s.instance_with_token("other", "all").await;
        create_pot(&s, "/merchant/instances/shop", &shop, "tips").await;
        // Another instance may use the same name.
        create_pot(&s, "/merchant/instances/other", &other, "tips").await;
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/pots",
                Some(&shop),
                Some(json!({ "pot_name": "tips", "description": "again" })),
            )
            .await;
        assert_error(status, &body, 409, CONFLICTING_NAME);
        let second = create_pot(&s, "/merchant/instances/shop", &shop, "rent").await;
        let (status, body) = s
            .call(
                Method::PATCH,
                &format!("/merchant/instances/shop/private/pots/{second}"),
                Some(&shop),
                Some(modify("tips", None, Some(json!(["KUDOS:1"])))),
            )
            .await;
        assert_error(status, &body, 409, CONFLICTING_NAME);
        let (_, body) = s
            .call(
                Method::GET,
                &format!("/merchant/instances/shop/private/pots/{second}"),
                Some(&shop),
                None,
            )
            .await;
        assert_eq!(
            (&body["pot_name"], &body["pot_totals"]),
            (&json!("rent"), &json!([]))
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn patch_pot_with_stale_expected_total_is_409_and_changes_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let id = create_pot(&s, "/merchant", ADMIN_TOKEN, "tips").await;
        let pot = format!("/merchant/private/pots/{id}");
        s.call(
            Method::PATCH,
            &pot,
            Some(ADMIN_TOKEN),
            Some(modify("tips", None, Some(json!(["EUR:5"])))),
        )
        .await;
        for stale in [json!([]), json!(["EUR:4"]), json!(["EUR:5", "CHF:0"])] {
            let (status, body) = s
                .call(
                    Method::PATCH,
                    &pot,
                    Some(ADMIN_TOKEN),
                    Some(modify("renamed", Some(stale), Some(json!(["EUR:0"])))),
                )
                .await;
            assert_error(status, &body, 409, CONFLICTING_TOTAL);
        }
        let (_, body) = s.call(Method::GET, &pot, Some(ADMIN_TOKEN), None).await;
        assert_eq!(
            (&body["pot_name"], &body["pot_totals"]),
            (&json!("tips"), &json!(["EUR:5"]))
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn bad_amounts_are_400_and_change_nothing() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let id = create_pot(&s, "/merchant", ADMIN_TOKEN, "tips").await;
        let pot = format!("/merchant/private/pots/{id}");
        let bad = [
            json!(["EUR:1.123456789"]),
            json!(["eur:1"]),
            json!(["EUR:-1"]),
            json!(["EUR:4503599627370497"]),
            json!(["EUR:1", "EUR:2"]),
            json!([1.5]),
            json!("EUR:1"),
        ];
        for totals in bad {
            for field in ["new_pot_totals", "expected_pot_totals"] {
                let mut body = modify("renamed", None, None);
                body[field] = totals.clone();
                let (status, body) = s
                    .call(Method::PATCH, &pot, Some(ADMIN_TOKEN), Some(body))
                    .await;
                assert_error(status, &body, 400, PARAMETER_MALFORMED);
            }
        }
        let (_, body) = s.call(Method::GET, &pot, Some(ADMIN_TOKEN), None).await;
        assert_eq!(
            (&body["pot_name"], &body["pot_totals"]),
            (&json!("tips"), &json!([]))
        );
        // Missing fields, empty names and broken JSON.
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/private/pots",
                Some(ADMIN_TOKEN),
                Some(json!({ "pot_name": "x" })),
            )
            .await;
        assert_error(status, &body, 400, 25);
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/private/pots",
                Some(ADMIN_TOKEN),
                Some(json!({ "pot_name": " ", "description": "" })),
            )
            .await;
        assert_error(status, &body, 400, PARAMETER_MALFORMED);
        let (status, body) = send_raw(&s, Method::PATCH, &pot, "{\"pot_name\":").await;
        assert_error(status, &body, 400, 22);
        s.finish().await;
    }
}

async fn send_raw(s: &TestServer, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
    common::send(
        s.req(method, path)
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body.to_owned()),
    )
    .await
}

#[tokio::test]
async fn malformed_pot_id_is_400_and_unknown_ids_are_404() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for id in ["abc", "-1", "1.5", "18446744073709551616"] {
            for method in [Method::GET, Method::DELETE] {
                let (status, body) = s
                    .call(
                        method,
                        &format!("/merchant/private/pots/{id}"),
                        Some(ADMIN_TOKEN),
                        None,
                    )
                    .await;
                assert_error(status, &body, 400, PARAMETER_MALFORMED);
                // Named as the spec names it, not by poem-openapi's internal `param1`.
                assert_eq!(body["parameter"], "pot_id", "{body}");
            }
        }
        for id in ["0", "99", "9223372036854775808", "18446744073709551615"] {
            let (status, body) = s
                .call(
                    Method::GET,
                    &format!("/merchant/private/pots/{id}"),
                    Some(ADMIN_TOKEN),
                    None,
                )
                .await;
            assert_error(status, &body, 404, POT_UNKNOWN);
        }
        // An unknown instance: the pot pages answer with the pot code, the list with
        // the instance code.
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/instances/nope/private/pots/1",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, POT_UNKNOWN);
        let (status, body) = s
            .call(
                Method::GET,
                "/merchant/instances/nope/private/pots",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_error(status, &body, 404, 2000);
        s.finish().await;
    }
}

#[tokio::test]
async fn other_instances_tokens_and_scopes_are_refused() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let shop = s.instance_with_token("shop", "all").await;
        let thief = s.instance_with_token("thief", "all").await;
        let readonly = s.login("shop", "pw-secret", "readonly").await;
        let orders = s.login("shop", "pw-secret", "order-full").await;
        let id = create_pot(&s, "/merchant/instances/shop", &shop, "tips").await;
        let pot = format!("/merchant/instances/shop/private/pots/{id}");
        s.call(
            Method::PATCH,
            &pot,
            Some(&shop),
            Some(modify("tips", None, Some(json!(["KUDOS:7"])))),
        )
        .await;

        let (status, body) = s
            .call(
                Method::PATCH,
                &pot,
                Some(&thief),
                Some(modify("stolen", None, Some(json!(["KUDOS:0"])))),
            )
            .await;
        assert_error(status, &body, 401, 41);
        let (status, body) = s.call(Method::DELETE, &pot, Some(&thief), None).await;
        assert_error(status, &body, 401, 41);
        let (status, body) = s
            .call(Method::GET, &pot, Some("secret-token:nonsense"), None)
            .await;
        assert_error(status, &body, 401, 41);
        let (status, body) = s.call(Method::GET, &pot, None, None).await;
        assert_error(status, &body, 401, 40);

        // readonly reads but cannot write; order scopes cannot touch pots.
        let (status, _) = s.call(Method::GET, &pot, Some(&readonly), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = s
            .call(
                Method::PATCH,
                &pot,
                Some(&readonly),
                Some(modify("stolen", None, None)),
            )
            .await;
        assert_error(status, &body, 403, 16);
        let (status, body) = s.call(Method::GET, &pot, Some(&orders), None).await;
        assert_error(status, &body, 403, 16);
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/pots",
                Some(&readonly),
                Some(json!({ "pot_name": "x", "description": "" })),
            )
            .await;
        assert_error(status, &body, 403, 16);

        let (_, body) = s.call(Method::GET, &pot, Some(&shop), None).await;
        assert_eq!(
            (&body["pot_name"], &body["pot_totals"]),
            (&json!("tips"), &json!(["KUDOS:7"]))
        );
        // The thief's own list does not show it.
        let (_, body) = s
            .call(
                Method::GET,
                "/merchant/instances/thief/private/pots",
                Some(&thief),
                None,
            )
            .await;
        assert_eq!(body["pots"], json!([]));
        s.finish().await;
    }
}

#[tokio::test]
async fn list_paginates_by_serial_in_both_directions() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let mut ids = Vec::new();
        for i in 0..25 {
            ids.push(create_pot(&s, "/merchant", ADMIN_TOKEN, &format!("p{i}")).await);
        }
        let list = |query: String| {
            let s = &s;
            async move {
                let (status, body) = s
                    .call(
                        Method::GET,
                        &format!("/merchant/private/pots{query}"),
                        Some(ADMIN_TOKEN),
                        None,
                    )
                    .await;
                (status, body)
            }
        };
        let serials = |body: &Value| -> Vec<u64> {
            body["pots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["pot_serial"].as_u64().unwrap())
                .collect()
        };
        // Default: the 20 newest, descending.
        let (status, body) = list(String::new()).await;
        assert_eq!(status, StatusCode::OK);
        let expected: Vec<u64> = ids.iter().rev().take(20).copied().collect();
        assert_eq!(serials(&body), expected);
        assert_eq!(body["pots"][0]["pot_name"], "p24");
        assert_eq!(body["pots"][0]["pot_totals"], json!([]));

        let (_, body) = list(format!("?limit=3&offset={}", ids[4])).await;
        assert_eq!(serials(&body), ids[5..8].to_vec());
        let (_, body) = list(format!("?limit=-3&offset={}", ids[4])).await;
        assert_eq!(serials(&body), vec![ids[3], ids[2], ids[1]]);
        // Edges: nothing before the first, nothing after the last.
        let (_, body) = list(format!("?limit=-5&offset={}", ids[0])).await;
        assert_eq!(serials(&body), Vec::<u64>::new());
        let (_, body) = list(format!("?limit=5&offset={}", ids[24])).await;
        assert_eq!(serials(&body), Vec::<u64>::new());
        let (_, body) = list("?limit=100".into()).await;
        assert_eq!(serials(&body), ids);

        for bad in [
            "?limit=0",
            "?limit=abc",
            "?offset=-1",
            "?limit=99999999999999999999",
        ] {
            let (status, body) = list(bad.into()).await;
            assert_error(status, &body, 400, PARAMETER_MALFORMED);
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn concurrent_patches_with_same_expected_totals_have_one_winner() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let id = create_pot(&s, "/merchant", ADMIN_TOKEN, "tips").await;
        let pot = format!("/merchant/private/pots/{id}");
        s.call(
            Method::PATCH,
            &pot,
            Some(ADMIN_TOKEN),
            Some(modify("tips", None, Some(json!(["KUDOS:100"])))),
        )
        .await;
        let requests = (0..20).map(|i| {
            let req = s
                .req(Method::PATCH, &pot)
                .bearer_auth(ADMIN_TOKEN)
                .json(&modify(
                    "tips",
                    Some(json!(["KUDOS:100"])),
                    Some(json!([format!("KUDOS:{i}")])),
                ));
            async move { (i, common::send(req).await) }
        });
        let results = futures_util::future::join_all(requests).await;
        let winners: Vec<u64> = results
            .iter()
            .filter(|(_, (status, _))| *status == StatusCode::NO_CONTENT)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        for (_, (status, body)) in &results {
            if *status != StatusCode::NO_CONTENT {
                assert_error(*status, body, 409, CONFLICTING_TOTAL);
            }
        }
        let (_, body) = s.call(Method::GET, &pot, Some(ADMIN_TOKEN), None).await;
        assert_eq!(body["pot_totals"], json!([format!("KUDOS:{}", winners[0])]));
        s.finish().await;
    }
}

#[tokio::test]
async fn oversize_pot_body_is_413() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let big = "x".repeat(70_000);
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/private/pots",
                Some(ADMIN_TOKEN),
                Some(json!({ "pot_name": "big", "description": big })),
            )
            .await;
        assert_error(status, &body, 413, 32);
        let (_, body) = s
            .call(
                Method::GET,
                "/merchant/private/pots",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(body["pots"], json!([]));
        s.finish().await;
    }
}

/// Reads authorize and fetch in one query, with nothing remembered between requests: a
/// token revoked on one server, or an instance deleted there, stops working at once on
/// another server sharing the database.
#[tokio::test]
async fn revocation_and_instance_deletion_take_effect_at_once_on_every_server() {
    for b in backends() {
        let db = common::TestDb::new(&b).await;
        let first = TestServer::start_with(db.clone(), "").await;
        let second = TestServer::start_with(db, "").await;
        let token = first.instance_with_token("shop", "all").await;
        let (status, body) = first
            .call(
                Method::POST,
                "/merchant/instances/shop/private/pots",
                Some(&token),
                Some(json!({"pot_name": "tips", "description": "d"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let pot = format!(
            "/merchant/instances/shop/private/pots/{}",
            body["pot_serial_id"]
        );
        for _ in 0..3 {
            let (status, _) = second.call(Method::GET, &pot, Some(&token), None).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = first
            .call(
                Method::DELETE,
                "/merchant/instances/shop/private/token",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = second.call(Method::GET, &pot, Some(&token), None).await;
        assert_error(status, &body, 401, 41);

        let other = second.login("shop", "pw-secret", "all").await;
        let (status, _) = first.call(Method::GET, &pot, Some(&other), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = second
            .call(
                Method::DELETE,
                "/merchant/management/instances/shop",
                Some(ADMIN_TOKEN),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = first.call(Method::GET, &pot, Some(&other), None).await;
        assert_error(status, &body, 404, 2035);
        first.finish().await;
        second.finish().await;
    }
}

/// "Not blank" means the same to the server as to a JSON Schema (ECMA-262) validator and
/// a Go client: Rust's white space (U+0085 included) is blank in all of them.
#[tokio::test]
async fn blank_names_are_refused_in_every_regex_dialect() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for blank in [" \t", "\u{85}", "\u{a0}\u{2003}", "\u{2028}\u{3000}"] {
            let (status, body) = s
                .call(
                    Method::POST,
                    "/merchant/private/pots",
                    Some(ADMIN_TOKEN),
                    Some(json!({ "pot_name": blank, "description": "d" })),
                )
                .await;
            assert_error(status, &body, 400, 26);
        }
        let id = create_pot(&s, "/merchant", ADMIN_TOKEN, "a\u{85}b").await;
        assert!(id > 0);
        s.finish().await;
    }
}

/// Issue 36, point 1: on PostgreSQL a pot is created by the statement that checks the
/// instance and the token (`store::access::insert_authorized`), so that check is
/// written twice, in Rust and in SQL. Every refusal here must leave no pot behind, and
/// every allowed creation must make one, on both engines.
#[tokio::test]
async fn refused_creations_write_nothing_and_allowed_ones_write_one() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
    use sha2::Digest;
    for b in backends() {
        let s = TestServer::start(&b).await;
        let shop = s.instance_with_token("shop", "write").await;
        let refreshable = s.login("shop", "pw-secret", "all:refreshable").await;
        let thief = s.instance_with_token("thief", "all").await;
        let readonly = s.login("shop", "pw-secret", "readonly").await;
        let orders = s.login("shop", "pw-secret", "order-full").await;
        let expired = s.login("shop", "pw-secret", "all").await;
        entities::merchant_tokens::Entity::update_many()
            .col_expr(
                entities::merchant_tokens::Column::Expiration,
                Expr::value(1i64),
            )
            .filter(
                entities::merchant_tokens::Column::TokenHash
                    .eq(sha2::Sha256::digest(expired.as_bytes()).to_vec()),
            )
            .exec(&s.server.state.db)
            .await
            .unwrap();
        let unprefixed = shop.strip_prefix("secret-token:").unwrap().to_owned();
        let post = |base: &'static str, token: Option<String>, name: &'static str| {
            let s = &s;
            async move {
                s.call(
                    Method::POST,
                    &format!("{base}/private/pots"),
                    token.as_deref(),
                    Some(json!({ "pot_name": name, "description": "" })),
                )
                .await
            }
        };
        let shop_base = "/merchant/instances/shop";
        for (token, status, code) in [
            (Some(readonly.clone()), 403, 16),
            (Some(orders.clone()), 403, 16),
            (Some(thief.clone()), 401, 41),
            (Some(expired.clone()), 401, 42),
            (Some(unprefixed.clone()), 401, 43),
            (Some("secret-token:nonsense".to_owned()), 401, 41),
            (Some(ADMIN_TOKEN.to_owned()), 401, 41),
        ] {
            let (got, body) = post(shop_base, token.clone(), "refused").await;
            assert_error(got, &body, status, code);
        }
        let (status, body) = post("/merchant/instances/nowhere", Some(shop.clone()), "x").await;
        assert_error(status, &body, 404, 2000);
        // An instance that leaves authentication to a proxy.
        s.create_external_instance("proxied").await;
        // Allowed: the instance's own tokens, the administrator token on `admin`, no
        // credentials behind the proxy.
        for (base, token, name) in [
            (shop_base, Some(shop.clone()), "a"),
            (shop_base, Some(refreshable.clone()), "b"),
            ("/merchant", Some(ADMIN_TOKEN.to_owned()), "c"),
            ("/merchant/instances/proxied", None, "d"),
        ] {
            let (status, body) = post(base, token, name).await;
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
        }
        let (status, body) = post(shop_base, Some(shop.clone()), "a").await;
        assert_error(status, &body, 409, 2690);
        let pots = entities::merchant_money_pots::Entity::find()
            .count(&s.server.state.db)
            .await
            .unwrap();
        assert_eq!(
            pots, 4,
            "one pot for each allowed creation, none for a refusal"
        );
        s.finish().await;
    }
}
