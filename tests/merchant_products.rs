//! Products and categories over HTTP: read, modify and delete one, the list's filters
//! and default page, and the stock rules of an update.

mod common;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PARAMETER_MALFORMED: u64 = 26;
const CURRENCY_MISMATCH: u64 = 30;
const CATEGORY_UNKNOWN: u64 = 2003;
const PRODUCT_UNKNOWN: u64 = 2006;
const CATEGORY_EXISTS: u64 = 2651;
const TOTAL_LOST_REDUCED: u64 = 2660;
const TOTAL_LOST_EXCEEDS_STOCKS: u64 = 2661;
const TOTAL_STOCKED_REDUCED: u64 = 2662;
// Provisional numbers (see `taler::error::PROVISIONAL`).
const MONEY_POT_UNKNOWN: u64 = 2035;
const PRODUCT_GROUP_UNKNOWN: u64 = 2038;

async fn call(
    s: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    s.call(method, path, Some(ADMIN_TOKEN), body).await
}

fn product(id: &str, extra: Value) -> Value {
    let mut p = json!({
        "product_id": id,
        "product_name": format!("{id} name"),
        "description": format!("{id} description"),
        "unit": "piece",
        "unit_price": ["KUDOS:1.5"],
        "unit_total_stock": "10",
    });
    p.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    p
}

/// The patch body for `product`: the same without `product_id`.
fn patch_of(product: &Value, extra: Value) -> Value {
    let mut p = product.clone();
    p.as_object_mut().unwrap().remove("product_id");
    p.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    p
}

#[tokio::test]
async fn product_read_modify_delete_with_stock_rules() {
    for b in backends() {
        let mut s = TestServer::start(&b).await;
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/pots",
            Some(json!({ "description": "cakes", "pot_name": "cakes" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let pot = body["pot_serial_id"].as_u64().unwrap();
        let cake = product(
            "cake",
            json!({
                "image": "data:image/png;base64,AAAA",
                "taxes": [{ "name": "VAT", "tax": "KUDOS:0.2" }],
                "price_is_net": false,
                "address": { "town": "Bern" },
                "next_restock": { "t_s": 1800000000u64 },
                "minimum_age": 16,
                "money_pot_id": pot,
            }),
        );
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/products",
            Some(cake.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

        // What the instance stores survives a restart.
        s = s.restart().await;
        let (status, body) = call(&s, Method::GET, "/merchant/private/products/cake", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({
                "product_name": "cake name",
                "description": "cake description",
                "description_i18n": {},
                "unit": "piece",
                "unit_allow_fraction": false,
                "unit_precision_level": 0,
                "categories": [],
                "unit_price": ["KUDOS:1.5"],
                "price": "KUDOS:1.5",
                "image": "data:image/png;base64,AAAA",
                "taxes": [{ "name": "VAT", "tax": "KUDOS:0.2" }],
                "price_is_net": false,
                "total_stock": 10,
                "unit_total_stock": "10",
                "total_sold": 0,
                "unit_total_sold": "0",
                "total_lost": 0,
                "unit_total_lost": "0",
                "address": { "town": "Bern" },
                "next_restock": { "t_s": 1800000000u64 },
                "minimum_age": 16,
                "money_pot_id": pot,
            })
        );

        // More stock and some lost: fine; read back.
        let (status, body) = call(
            &s,
            Method::PATCH,
            "/merchant/private/products/cake",
            Some(patch_of(
                &cake,
                json!({ "unit_total_stock": "12.5", "unit_total_lost": "2", "description": "new" }),
            )),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = call(&s, Method::GET, "/merchant/private/products/cake", None).await;
        assert_eq!(
            (
                &body["unit_total_stock"],
                &body["total_stock"],
                &body["unit_total_lost"],
                &body["description"]
            ),
            (&json!("12.5"), &json!(12), &json!("2"), &json!("new"))
        );
        // The stock may not shrink, nor the lost units; no more may be lost than there is.
        for (extra, code) in [
            (json!({ "unit_total_stock": "12" }), TOTAL_STOCKED_REDUCED),
            (
                json!({ "unit_total_stock": "12.5", "unit_total_lost": "1" }),
                TOTAL_LOST_REDUCED,
            ),
            (
                json!({ "unit_total_stock": "12.5", "unit_total_lost": "13" }),
                TOTAL_LOST_EXCEEDS_STOCKS,
            ),
            (json!({ "categories": [77] }), CATEGORY_UNKNOWN),
            (json!({ "money_pot_id": 999 }), MONEY_POT_UNKNOWN),
            (json!({ "product_group_id": 5 }), PRODUCT_GROUP_UNKNOWN),
        ] {
            let mut body = patch_of(&cake, json!({ "unit_total_stock": "12.5" }));
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let (status, answer) = call(
                &s,
                Method::PATCH,
                "/merchant/private/products/cake",
                Some(body),
            )
            .await;
            let expected = if code == TOTAL_LOST_REDUCED
                || code == TOTAL_LOST_EXCEEDS_STOCKS
                || code == TOTAL_STOCKED_REDUCED
            {
                409
            } else {
                404
            };
            assert_error(status, &answer, expected, code);
        }
        // Unlimited stock is an increase; nothing changed by the refused updates.
        let (status, body) = call(
            &s,
            Method::PATCH,
            "/merchant/private/products/cake",
            Some(patch_of(
                &cake,
                json!({ "unit_total_stock": "-1", "unit_total_lost": "2" }),
            )),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = call(&s, Method::GET, "/merchant/private/products/cake", None).await;
        assert_eq!(
            (&body["total_stock"], &body["unit_total_lost"]),
            (&json!(-1), &json!("2"))
        );

        // Absent stock and price keep their values.
        let mut partial = patch_of(&cake, json!({ "description": "kept stock" }));
        for field in ["unit_total_stock", "unit_price"] {
            partial.as_object_mut().unwrap().remove(field);
        }
        let (status, body) = call(
            &s,
            Method::PATCH,
            "/merchant/private/products/cake",
            Some(partial),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = call(&s, Method::GET, "/merchant/private/products/cake", None).await;
        assert_eq!(
            (
                &body["unit_total_stock"],
                &body["unit_price"],
                &body["description"]
            ),
            (&json!("-1"), &json!(["KUDOS:1.5"]), &json!("kept stock"))
        );

        // Bad bodies are 400 and change nothing.
        for bad in [
            json!({ "unit_price": ["EUR:1"] }),
            json!({ "unit_total_lost": "-1" }),
            json!({ "image": "http://example.com/x.png" }),
        ] {
            let (status, body) = call(
                &s,
                Method::PATCH,
                "/merchant/private/products/cake",
                Some(patch_of(&cake, bad.clone())),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }

        // An unknown product is 404 before anything about the body (order of checks).
        let (status, body) = call(
            &s,
            Method::PATCH,
            "/merchant/private/products/pie",
            Some(patch_of(&cake, json!({ "unit_price": ["EUR:1"] }))),
        )
        .await;
        assert_error(status, &body, 404, PRODUCT_UNKNOWN);

        let (status, _) = call(&s, Method::DELETE, "/merchant/private/products/cake", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for method in [Method::GET, Method::DELETE] {
            let (status, body) = call(&s, method, "/merchant/private/products/cake", None).await;
            assert_error(status, &body, 404, PRODUCT_UNKNOWN);
        }
        let (status, body) = call(
            &s,
            Method::GET,
            "/merchant/instances/nobody/private/products/cake",
            None,
        )
        .await;
        assert_error(status, &body, 404, PRODUCT_UNKNOWN);
        // Posting again after the delete starts afresh.
        let (status, _) = call(
            &s,
            Method::POST,
            "/merchant/private/products",
            Some(product("cake", json!({}))),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/products",
            Some(product(
                "tart",
                json!({ "taxes": [{ "name": "VAT", "tax": "EUR:1" }] }),
            )),
        )
        .await;
        assert_error(status, &body, 400, CURRENCY_MISMATCH);
        // Ids are published as non-negative int64: a larger one is malformed, not unknown.
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/products",
            Some(product(
                "tart",
                json!({ "categories": [9_223_372_036_854_775_808u64] }),
            )),
        )
        .await;
        assert_error(status, &body, 400, PARAMETER_MALFORMED);
        s.finish().await;
    }
}

#[tokio::test]
async fn product_list_defaults_to_twenty_ascending_and_filters() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let (status, body) = call(
            &s,
            Method::POST,
            "/merchant/private/categories",
            Some(json!({ "name": "Hot Drinks" })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let drinks = body["category_id"].as_u64().unwrap();
        for i in 0..25 {
            let extra = if i % 5 == 0 {
                json!({ "categories": [drinks], "description": format!("a HOT one {i}") })
            } else {
                json!({})
            };
            let (status, body) = call(
                &s,
                Method::POST,
                "/merchant/private/products",
                Some(product(&format!("p{i:02}"), extra)),
            )
            .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        let ids = |body: &Value| -> Vec<String> {
            body["products"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["product_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let (status, body) = call(&s, Method::GET, "/merchant/private/products", None).await;
        assert_eq!(status, StatusCode::OK);
        let all = ids(&body);
        assert_eq!(all.len(), 20);
        assert_eq!((all[0].as_str(), all[19].as_str()), ("p00", "p19"));
        let (_, body) = call(&s, Method::GET, "/merchant/private/products?limit=-2", None).await;
        assert_eq!(ids(&body), ["p24", "p23"]);
        for (query, expected) in [
            (
                "category_filter=hot%20d",
                vec!["p00", "p05", "p10", "p15", "p20"],
            ),
            ("description_filter=HOT&limit=2", vec!["p00", "p05"]),
            ("name_filter=P1&limit=3", vec!["p10", "p11", "p12"]),
            ("name_filter=P1&description_filter=hot", vec!["p10", "p15"]),
            ("category_filter=cold", vec![]),
            ("product_group_serial=0&limit=1", vec!["p00"]),
            ("product_group_serial=3", vec![]),
            ("product_group_serial=9223372036854775807", vec![]),
        ] {
            let (status, body) = call(
                &s,
                Method::GET,
                &format!("/merchant/private/products?{query}"),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            assert_eq!(ids(&body), expected, "{query}");
        }
        // Above the published int64 maximum: malformed, not an empty page.
        let (status, body) = call(
            &s,
            Method::GET,
            "/merchant/private/products?product_group_serial=9223372036854775808",
            None,
        )
        .await;
        assert_error(status, &body, 400, 26);
        let offset = body_serial(&s, "p15").await;
        let (_, body) = call(
            &s,
            Method::GET,
            &format!("/merchant/private/products?category_filter=hot&offset={offset}"),
            None,
        )
        .await;
        assert_eq!(ids(&body), ["p20"]);
        s.finish().await;
    }
}

async fn body_serial(s: &TestServer, id: &str) -> u64 {
    let (_, body) = call(s, Method::GET, "/merchant/private/products?limit=100", None).await;
    body["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == id)
        .unwrap()["product_serial"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn category_read_rename_delete() {
    for b in backends() {
        let s = TestServer::start(&b).await;
        let mut ids = vec![];
        for name in ["drinks", "food"] {
            let (status, body) = call(
                &s,
                Method::POST,
                "/merchant/private/categories",
                Some(json!({ "name": name })),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            ids.push(body["category_id"].as_u64().unwrap());
        }
        let (drinks, food) = (ids[0], ids[1]);
        for (id, categories) in [("tea", json!([drinks])), ("soup", json!([food, drinks]))] {
            let (status, _) = call(
                &s,
                Method::POST,
                "/merchant/private/products",
                Some(product(id, json!({ "categories": categories }))),
            )
            .await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        let path = format!("/merchant/private/categories/{drinks}");
        let (status, body) = call(&s, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({ "name": "drinks", "products": [{ "product_id": "tea" }, { "product_id": "soup" }] })
        );
        // The counts follow every way a product joins or leaves a category: created
        // in it, its categories replaced, deleted.
        async fn counts(s: &TestServer) -> Vec<(String, u64)> {
            let (_, body) = call(s, Method::GET, "/merchant/private/categories", None).await;
            body["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let name = c["name"].as_str().unwrap().to_owned();
                    (name, c["product_count"].as_u64().unwrap())
                })
                .collect()
        }
        /// Gives each product these categories (a PATCH of its whole details).
        async fn recategorise<const N: usize>(s: &TestServer, products: [(&str, Value); N]) {
            for (id, categories) in products {
                let body = patch_of(&product(id, json!({})), json!({ "categories": categories }));
                let path = format!("/merchant/private/products/{id}");
                let (status, body) = call(s, Method::PATCH, &path, Some(body)).await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
            }
        }
        let named = |d: u64, f: u64| vec![("drinks".to_owned(), d), ("food".to_owned(), f)];
        assert_eq!(counts(&s).await, named(2, 1), "{b:?}");
        recategorise(
            &s,
            [("tea", json!([food])), ("soup", json!([food, drinks]))],
        )
        .await;
        assert_eq!(counts(&s).await, named(1, 2), "{b:?}");
        let (status, _) = call(
            &s,
            Method::POST,
            "/merchant/private/products",
            Some(product("cake", json!({ "categories": [food] }))),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = call(&s, Method::DELETE, "/merchant/private/products/cake", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(counts(&s).await, named(1, 2), "{b:?}");
        recategorise(
            &s,
            [("tea", json!([drinks])), ("soup", json!([food, drinks]))],
        )
        .await;
        assert_eq!(counts(&s).await, named(2, 1), "{b:?}");

        let (status, body) = call(
            &s,
            Method::PATCH,
            &path,
            Some(json!({ "name": "beverages", "name_i18n": { "de": "Getränke" } })),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, body) = call(&s, Method::GET, &path, None).await;
        assert_eq!(
            (&body["name"], &body["name_i18n"]["de"]),
            (&json!("beverages"), &json!("Getränke"))
        );
        let (status, body) = call(&s, Method::PATCH, &path, Some(json!({ "name": "food" }))).await;
        assert_error(status, &body, 409, CATEGORY_EXISTS);

        let (status, _) = call(&s, Method::DELETE, &path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        // The products stay, without the category.
        let (_, body) = call(&s, Method::GET, "/merchant/private/products/soup", None).await;
        assert_eq!(body["categories"], json!([food]));
        let (_, body) = call(&s, Method::GET, "/merchant/private/categories", None).await;
        assert_eq!(
            body,
            json!({ "categories": [{ "category_id": food, "name": "food", "product_count": 1 }] })
        );
        for method in [Method::GET, Method::DELETE] {
            let (status, body) = call(&s, method, &path, None).await;
            assert_error(status, &body, 404, CATEGORY_UNKNOWN);
        }
        let (status, body) = call(&s, Method::PATCH, &path, Some(json!({ "name": "x" }))).await;
        assert_error(status, &body, 404, CATEGORY_UNKNOWN);
        for bad in ["abc", "-1"] {
            let (status, body) = call(
                &s,
                Method::GET,
                &format!("/merchant/private/categories/{bad}"),
                None,
            )
            .await;
            assert_error(status, &body, 400, PARAMETER_MALFORMED);
        }
        let (status, body) = call(
            &s,
            Method::GET,
            "/merchant/private/categories/99999999999999999999",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        s.finish().await;
    }
}

/// Migration 000026 fills `merchant_product_categories` from the products' details, so
/// products stored before it keep their place in their categories: a category named by
/// a product of its own instance is linked, one of another instance is not, and a
/// product without `categories` has no links. Migration 000028 then counts each
/// category's products.
#[tokio::test]
async fn the_link_table_is_filled_from_products_stored_before_it() {
    use entities::{
        merchant_categories, merchant_instances, merchant_product_categories, merchant_products,
    };
    use migration::MigratorTrait;
    use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
    for b in backends() {
        let db = common::TestDb::new(&b).await;
        let mut options = sea_orm::ConnectOptions::new(db.url.clone());
        if let Some(schema) = &db.schema {
            options.set_schema_search_path(schema.clone());
        }
        let conn = sea_orm::Database::connect(options).await.unwrap();
        let before = migration::Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261205_000026_product_categories")
            .expect("the migration");
        migration::Migrator::up(&conn, Some(before as u32))
            .await
            .unwrap();
        let mut instances = Vec::new();
        for id in ["shop", "other"] {
            let row = merchant_instances::ActiveModel {
                instance_id: Set(id.to_owned()),
                name: Set(id.to_owned()),
                password_hash: Set("x".to_owned()),
                merchant_pub: Set(format!("pub-{id}")),
                merchant_priv: Set(vec![0; 32]),
                settings: Set("{}".to_owned()),
                deleted: Set(false),
                ..Default::default()
            }
            .insert(&conn)
            .await
            .unwrap();
            instances.push(row.instance_serial);
        }
        let mut categories = Vec::new();
        for (instance, name) in [
            (instances[0], "shoes"),
            (instances[0], "hats"),
            (instances[1], "theirs"),
        ] {
            // Inserted without reading the row back: the entity has columns of
            // later migrations.
            let row = merchant_categories::ActiveModel {
                instance_serial: Set(instance),
                category_name: Set(name.to_owned()),
                category_name_i18n: Set(None),
                ..Default::default()
            };
            let inserted = merchant_categories::Entity::insert(row)
                .exec(&conn)
                .await
                .unwrap();
            categories.push(inserted.last_insert_id);
        }
        let (shoes, hats, theirs) = (categories[0], categories[1], categories[2]);
        let mut products = Vec::new();
        for (id, details) in [
            ("boot", json!({ "categories": [shoes, theirs] })),
            ("cap", json!({ "categories": [hats, shoes, hats] })),
            ("sock", json!({ "description": "no categories" })),
        ] {
            let row = merchant_products::ActiveModel {
                instance_serial: Set(instances[0]),
                product_id: Set(id.to_owned()),
                product_details: Set(details.to_string()),
                total_sold: Set("0".to_owned()),
                total_lost: Set("0".to_owned()),
                total_locked: Set("0".to_owned()),
                ..Default::default()
            }
            .insert(&conn)
            .await
            .unwrap();
            products.push(row.product_serial);
        }
        migration::Migrator::up(&conn, None).await.unwrap();
        let links: Vec<(i64, i64)> = merchant_product_categories::Entity::find()
            .order_by_asc(merchant_product_categories::Column::CategorySerial)
            .order_by_asc(merchant_product_categories::Column::ProductSerial)
            .all(&conn)
            .await
            .unwrap()
            .into_iter()
            .map(|l| (l.category_serial, l.product_serial))
            .collect();
        let mut expected = vec![
            (shoes, products[0]),
            (shoes, products[1]),
            (hats, products[1]),
        ];
        expected.sort();
        assert_eq!(links, expected, "{b:?}");
        // Migration 000028 counts them.
        let counts: Vec<(i64, i64)> = merchant_categories::Entity::find()
            .order_by_asc(merchant_categories::Column::CategorySerial)
            .all(&conn)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.category_serial, c.product_count))
            .collect();
        assert_eq!(counts, [(shoes, 2), (hats, 1), (theirs, 0)], "{b:?}");
        conn.close().await.unwrap();
        db.drop().await;
    }
}
