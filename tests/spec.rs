//! The published specs: in sync with the code, complete, and browsable.

mod common;

use std::path::Path;

use common::{TestServer, backends};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const REFRESH: &str = "cargo run -- openapi --out openapi";

#[test]
fn committed_specs_match_the_code() {
    let config = taler_openapi::Config::from_ini(Default::default()).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi");
    for (name, json) in taler_openapi::specs(config) {
        let committed = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|_| panic!("openapi/{name} is missing; run `{REFRESH}`"));
        assert!(
            committed.trim_end() == json.trim_end(),
            "openapi/{name} differs from what the code produces; run `{REFRESH}` and commit the result"
        );
    }
}

fn all_specs() -> Vec<(&'static str, Value)> {
    let config = taler_openapi::Config::from_ini(Default::default()).unwrap();
    taler_openapi::specs(config)
        .into_iter()
        .map(|(name, json)| (name, serde_json::from_str(&json).unwrap()))
        .collect()
}

#[test]
fn every_operation_is_documented_and_its_errors_are_error_details() {
    for (name, spec) in all_specs() {
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let at = format!("{name} {method} {path}");
                for key in ["summary", "description", "operationId", "tags"] {
                    assert!(op.get(key).is_some(), "{at} lacks {key}");
                }
                for (status, resp) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        let content = &resp["content"];
                        let schema = &content
                            .get("application/json")
                            .or_else(|| content.get("application/json; charset=utf-8"))
                            .unwrap_or(&Value::Null)["schema"]["$ref"];
                        // The pages give these statuses bodies of their own: 402 tells
                        // the wallet how to pay, 410 which product ran out.
                        let own = match status.as_str() {
                            "402" => Some("#/components/schemas/StatusUnpaidResponse"),
                            "410" => Some("#/components/schemas/OutOfStockResponse"),
                            _ => None,
                        };
                        if let Some(own) = own.filter(|own| schema == own) {
                            assert!(
                                path.contains("/orders")
                                    || path.contains("/templates/")
                                    || path.ends_with("/lock"),
                                "{at} {own}"
                            );
                            continue;
                        }
                        assert_eq!(schema, "#/components/schemas/ErrorDetail", "{at} {status}");
                    }
                }
                let private = path.contains("/private/") || path.starts_with("/management");
                if private {
                    assert!(
                        op.get("security").is_some(),
                        "{at} has no security requirement"
                    );
                    assert!(
                        op["responses"].get("401").is_some(),
                        "{at} does not declare 401"
                    );
                }
                if matches!(method.as_str(), "post" | "patch" | "put") {
                    assert!(
                        op["responses"].get("400").is_some(),
                        "{at} does not declare 400"
                    );
                    assert!(
                        op["responses"].get("413").is_some(),
                        "{at} does not declare 413"
                    );
                }
            }
        }
    }
}

#[test]
fn schema_names_are_the_taler_names() {
    let specs = all_specs();
    let merchant = &specs[0].1;
    // A Taler type is a component, or, where a field describes its use of a string
    // type, that type inlined under its Taler name as `title` (see `published_spec`).
    let named = |name: &str| -> Option<Value> {
        if let Some(schema) = merchant["components"]["schemas"].get(name) {
            return Some(schema.clone());
        }
        fn find(v: &Value, name: &str) -> Option<Value> {
            match v {
                Value::Object(m) if m.get("title") == Some(&Value::from(name)) => Some(v.clone()),
                Value::Object(m) => m.values().find_map(|v| find(v, name)),
                Value::Array(items) => items.iter().find_map(|v| find(v, name)),
                _ => None,
            }
        }
        find(merchant, name)
    };
    for name in [
        "ErrorDetail",
        "RelativeTime",
        "Timestamp",
        "EddsaPublicKey",
        "InstanceConfigurationRequest",
        "LoginTokenRequest",
        "LoginTokenSuccessResponse",
        "MerchantVersionResponse",
        "CurrencySpecification",
    ] {
        assert!(named(name).is_some(), "merchant spec lacks schema {name}");
    }
    assert_eq!(
        named("EddsaPublicKey").unwrap()["pattern"],
        "^[0-9A-HJKMNP-TV-Z]{51}[0G]$"
    );
}

#[tokio::test]
async fn services_serve_their_specs_and_swagger_ui_lists_them() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        for base in [
            "/merchant/",
            "/bank/",
            "/bank/taler-integration/",
            "/donau/",
        ] {
            let (status, body) = s
                .call(Method::GET, &format!("{base}openapi.json"), None, None)
                .await;
            assert_eq!(status, StatusCode::OK);
            assert!(body["openapi"].as_str().unwrap().starts_with("3."));
            assert_eq!(body["servers"][0]["url"], base.trim_end_matches('/'));
        }
        let page = s.client.get(s.url("/swagger-ui/")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        // Without the slash the UI's relative paths would miss: redirect to it.
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let bare = no_redirects.get(s.url("/swagger-ui")).send().await.unwrap();
        assert_eq!(bare.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(bare.headers()["location"], "/swagger-ui/");
        assert!(page.text().await.unwrap().contains("swagger-ui"));
        let init = s
            .client
            .get(s.url("/swagger-ui/swagger-initializer.js"))
            .send()
            .await
            .unwrap();
        let init = init.text().await.unwrap();
        for url in [
            "/merchant/openapi.json",
            "/bank/openapi.json",
            "/bank/taler-integration/openapi.json",
            "/donau/openapi.json",
        ] {
            assert!(init.contains(url), "Swagger UI does not list {url}");
        }
        let root = s
            .client
            .get(s.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(root.contains("/swagger-ui/"));
        s.finish().await;
    }
}

#[test]
fn published_limits_come_from_the_limits_module() {
    use taler_openapi::taler::limits;
    let specs = all_specs();
    let merchant = &specs.iter().find(|(n, _)| *n == "merchant.json").unwrap().1;
    let request = &merchant["components"]["schemas"]["InstanceConfigurationRequest"];
    assert_eq!(
        request["properties"]["logo"]["maxLength"],
        limits::MAX_IMAGE_CHARS as u64
    );
    for product in ["ProductAddDetailRequest", "ProductPatchDetailRequest"] {
        assert_eq!(
            merchant["components"]["schemas"][product]["properties"]["image"]["maxLength"],
            limits::MAX_IMAGE_CHARS as u64,
            "{product}"
        );
    }
    assert_eq!(
        request["properties"]["name"]["maxLength"],
        limits::MAX_TEXT_CHARS as u64
    );
    // Every request body declares the edge's 408 and 415.
    for (name, spec) in &specs {
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op.get("requestBody").is_some() {
                    for status in ["408", "413", "415"] {
                        assert!(
                            op["responses"].get(status).is_some(),
                            "{name} {method} {path} lacks {status}"
                        );
                    }
                }
            }
        }
    }
}

/// Every integer is published as `int32` or `int64` (the formats OpenAPI defines, which
/// every generator maps to a type of that width) with bounds that fit it.
#[test]
fn integers_are_int32_or_int64_with_fitting_bounds() {
    fn walk(value: &serde_json::Value, at: &str, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("type").and_then(|t| t.as_str()) == Some("integer") {
                    let format = map.get("format").and_then(|f| f.as_str());
                    let max = map.get("maximum").and_then(|m| m.as_f64());
                    let fits = match format {
                        Some("int64") => max.is_none_or(|m| m <= i64::MAX as f64),
                        Some("int32") => max.is_none_or(|m| m <= i32::MAX as f64),
                        _ => false,
                    };
                    if !fits {
                        found.push(format!("{at}: {format:?} max {max:?}"));
                    }
                }
                for (k, v) in map {
                    walk(v, &format!("{at}/{k}"), found);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    for (name, spec) in all_specs() {
        let mut found = vec![];
        walk(&spec, name, &mut found);
        assert!(found.is_empty(), "{found:#?}");
    }
}

/// Every operation the code declares is published: poem-openapi keeps one API's
/// operations of a path, so a path split across two APIs would silently lose some.
#[test]
fn every_declared_operation_is_published() {
    let published: std::collections::BTreeSet<String> = all_specs()
        .iter()
        .flat_map(|(_, spec)| {
            spec["paths"]
                .as_object()
                .unwrap()
                .values()
                .flat_map(|item| item.as_object().unwrap().values())
                .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut declared = Vec::new();
    for path in common::rust_files(Path::new("src")) {
        let text = std::fs::read_to_string(&path).unwrap();
        for part in text.split("operation_id = \"").skip(1) {
            declared.push(part.split('"').next().unwrap().to_owned());
        }
    }
    assert!(
        declared.len() > 60,
        "found only {} operations",
        declared.len()
    );
    for id in declared {
        assert!(
            published.contains(&id),
            "operation `{id}` is not in any published spec"
        );
    }
}
