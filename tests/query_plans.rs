//! Every list walks an index in its page's order and stops after `limit` rows, on both
//! engines: each list endpoint is called with each of its filters, every statement the
//! server ran for it is explained (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN` on
//! PostgreSQL with the server's planner settings, `store::POSTGRES_PLANNER`: sequential
//! scans, sorts and merge joins priced out, so that any index that can
//! serve is used), and the plan must search an index, never scan a table, and sort only
//! a page merged from index walks (`store::MERGED_PAGE`). Where the list has an index
//! of its own, the plan must use it. So a change that loses an index fails here, not at
//! a shop with a million orders. (`cargo bench --bench scale` measures the same lists
//! at a million rows.)

mod common;

use std::sync::{Arc, Mutex};

use common::{ADMIN_TOKEN, Backend, TestDb, TestServer, backends, send, test_config};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait};
use serde_json::json;

type Seen = Arc<Mutex<Vec<Statement>>>;

/// Tables a list reads whole by design: the administrator's list of every instance
/// and of every charity (their pages have no pagination), and the Donau's history
/// (at most 10,000 rows, by charity and year).
const READ_WHOLE: &[&str] = &["merchant_instances", "donau_charities", "donau_history"];

/// A server whose every statement lands in the returned list.
async fn observed(backend: &Backend) -> (TestServer, Seen) {
    let db = TestDb::new(backend).await;
    let config = test_config(&db, "");
    let seen = Seen::default();
    let sink = seen.clone();
    let state = taler_openapi::open_state_with(config, db.schema.as_deref(), move |conn| {
        conn.set_metric_callback(move |info| {
            sink.lock().unwrap().push(info.statement.clone());
        })
    })
    .await
    .expect("open state");
    let server = taler_openapi::start(state).await.expect("start server");
    let server = TestServer {
        server,
        db,
        client: reqwest::Client::new(),
        extra: String::new(),
    };
    (server, seen)
}

/// How one list is called: its path, who calls, and the index its plan must use.
struct Listing {
    path: String,
    auth: Auth,
    index: Option<&'static str>,
}

enum Auth {
    Bearer(String),
    Basic(&'static str),
}

const PASSWORD: &str = "password-123";

fn listing(path: impl Into<String>, auth: Auth, index: Option<&'static str>) -> Listing {
    Listing {
        path: path.into(),
        auth,
        index,
    }
}

/// Every list endpoint, with each of its filters and both directions.
fn listings(shop: &str) -> Vec<Listing> {
    let merchant = |path: &str, index| {
        listing(
            format!("/merchant/instances/shop/private/{path}"),
            Auth::Bearer(shop.to_owned()),
            index,
        )
    };
    let orders = |query: &str, index| merchant(&format!("orders?{query}"), Some(index));
    let by_instance = "merchant_orders_by_instance";
    let by_status = "merchant_orders_by_status";
    let admin = || Auth::Bearer(ADMIN_TOKEN.to_owned());
    let exchange = "/bank/accounts/exchange";
    vec![
        orders("limit=-20", by_instance),
        orders("limit=20&offset=5", by_instance),
        orders("delta=-20&start=100", by_instance),
        orders("paid=no", by_status),
        orders("paid=yes&limit=-20", by_status),
        orders("refunded=no&limit=-20", by_status),
        orders("wired=no&offset=3", by_status),
        orders("paid=yes&refunded=no&wired=no&limit=-20", by_status),
        orders("date_s=100&limit=-20", by_instance),
        orders("max_age=1%20day&limit=20", by_instance),
        orders("session_id=s-1&limit=-20", "merchant_orders_by_session"),
        orders("session_id=s-1&paid=yes", "merchant_orders_by_session"),
        orders(
            "session_id=s-1&fulfillment_url=https%3A%2F%2Fshop.example%2Fa&limit=-20",
            "merchant_orders_by_session",
        ),
        orders(
            "fulfillment_url=https%3A%2F%2Fshop.example%2Fa",
            "merchant_orders_by_fulfillment_url",
        ),
        orders("summary_filter=shoe&limit=-20", by_instance),
        orders("summary_filter=shoe&paid=no", by_status),
        merchant("products?limit=-20", Some("merchant_products_by_instance")),
        merchant(
            "products?name_filter=x&offset=2",
            Some("merchant_products_by_instance"),
        ),
        merchant("categories", Some("merchant_categories_by_instance")),
        merchant("categories/1", Some("merchant_product_categories")),
        merchant("templates", None),
        merchant("otp-devices", None),
        merchant("webhooks", None),
        merchant("pots?limit=-20", Some("merchant_money_pots_by_instance")),
        merchant("pots?offset=1", Some("merchant_money_pots_by_instance")),
        merchant("reports?limit=-20", Some("merchant_reports_by_instance")),
        merchant("accounts", Some("merchant_accounts_by_instance")),
        merchant("tokens?limit=-20", Some("merchant_tokens_by_instance")),
        listing("/merchant/management/instances", admin(), None),
        listing(
            "/bank/accounts/alice/transactions?limit=-20",
            Auth::Basic("alice"),
            Some("bank_transactions_outgoing"),
        ),
        listing(
            "/bank/accounts/alice/transactions?offset=1",
            Auth::Basic("alice"),
            Some("bank_transactions_incoming"),
        ),
        listing(
            "/bank/accounts/alice/tokens?limit=-20",
            Auth::Basic("alice"),
            Some("bank_tokens_by_account"),
        ),
        listing(
            "/bank/accounts?limit=-20",
            admin(),
            Some("bank_accounts_listed"),
        ),
        listing(
            "/bank/accounts?filter_name=ali",
            admin(),
            Some("bank_accounts_listed"),
        ),
        listing(
            "/bank/public-accounts?limit=-20",
            admin(),
            Some("bank_accounts_public"),
        ),
        listing(
            format!("{exchange}/taler-wire-gateway/history/incoming?limit=-20"),
            Auth::Basic("exchange"),
            Some("bank_transactions_incoming"),
        ),
        listing(
            format!("{exchange}/taler-wire-gateway/history/outgoing?limit=-20"),
            Auth::Basic("exchange"),
            Some("bank_transactions_outgoing"),
        ),
        listing(
            format!("{exchange}/taler-wire-gateway/transfers?limit=-20"),
            Auth::Basic("exchange"),
            Some("bank_transactions_outgoing"),
        ),
        listing(
            format!("{exchange}/taler-revenue/history?limit=-20"),
            Auth::Basic("exchange"),
            Some("bank_transactions_incoming"),
        ),
        listing("/donau/charities", admin(), None),
        listing("/donau/history", admin(), None),
    ]
}

#[tokio::test]
async fn every_list_walks_an_index_and_stops_after_its_page() {
    for backend in backends() {
        let (s, seen) = observed(&backend).await;
        let shop = s.instance_with_token("shop", "all").await;
        for (user, exchange) in [("alice", false), ("exchange", true)] {
            let (status, body) = s
                .call(
                    Method::POST,
                    "/bank/accounts",
                    Some(ADMIN_TOKEN),
                    Some(
                        json!({ "username": user, "password": PASSWORD, "name": user,
                                 "is_taler_exchange": exchange }),
                    ),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, body) = s
            .call(
                Method::POST,
                "/merchant/instances/shop/private/categories",
                Some(&shop),
                Some(json!({ "name": "Shoes" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["category_id"], 1, "the category `categories/1` reads");
        let db = s.server.state.db.clone();
        let mut failures = Vec::new();
        for list in listings(&shop) {
            seen.lock().unwrap().clear();
            let req = s.req(Method::GET, &list.path);
            let req = match &list.auth {
                Auth::Bearer(token) => req.bearer_auth(token),
                Auth::Basic(user) => req.basic_auth(user, Some(PASSWORD)),
            };
            let (status, body) = send(req).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::NO_CONTENT,
                "{backend:?} {}: {status} {body}",
                list.path
            );
            let statements = std::mem::take(&mut *seen.lock().unwrap());
            let label = format!("{backend:?} {}", list.path);
            let plans = walks(&db, &label, &statements, is_read, &mut failures).await;
            if let Some(index) = list.index
                && !plans.iter().any(|p| uses(p, index, &backend))
            {
                failures.push(format!(
                    "{backend:?} {}: no plan uses {index}:\n{}",
                    list.path,
                    plans.join("\n")
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
        s.finish().await;
    }
}

/// The order lifecycle's timed steps (every server runs them each second), the
/// webhook deliveries' and the reports' due rows: each asks for the oldest few rows
/// with work waiting, and must find them by an index that holds those rows, whatever
/// the number of orders kept. Its writes are explained too (they name rows by key, or
/// prune by a time).
#[tokio::test]
async fn every_timed_step_walks_an_index() {
    use taler_openapi::{merchant::orders::lifecycle, store};
    for backend in backends() {
        let (s, seen) = observed(&backend).await;
        let state = &s.server.state;
        let db = state.db.clone();
        let mut failures = Vec::new();
        seen.lock().unwrap().clear();
        lifecycle::sweep(state).await.expect("sweep");
        store::webhooks::lease_due(&db, 1_000, 2_000, 8)
            .await
            .expect("webhooks due");
        store::reports::claim_due(&db, 1_000, 1, 2_000, 8)
            .await
            .expect("reports due");
        let statements = std::mem::take(&mut *seen.lock().unwrap());
        let label = format!("{backend:?} timed steps");
        let plans = walks(&db, &label, &statements, |_| true, &mut failures).await;
        for index in [
            "merchant_orders_holding_units",
            "merchant_orders_unclaimed",
            "merchant_orders_by_creation",
            "merchant_order_rates_window",
            "login_failures_window_start",
            "merchant_pending_webhooks_due",
            "merchant_reports_due",
        ] {
            if !plans.iter().any(|p| p.contains(index)) {
                failures.push(format!(
                    "{label}: no plan uses {index}:\n{}",
                    plans.join("\n")
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
        s.finish().await;
    }
}

/// Explains each of `statements` that `chosen` picks; a plan that is not a bounded
/// index walk becomes one of `failures`. Returns the plans.
async fn walks(
    db: &sea_orm::DatabaseConnection,
    label: &str,
    statements: &[Statement],
    chosen: impl Fn(&str) -> bool,
    failures: &mut Vec<String>,
) -> Vec<String> {
    let mut plans = Vec::new();
    for statement in statements.iter().flat_map(split_statements) {
        if !chosen(&statement.sql) {
            continue;
        }
        let plan = explain(db, &statement).await;
        if std::env::var_os("SHOW_PLANS").is_some() {
            eprintln!("{label}\n  {}\n{plan}\n", statement.sql);
        }
        if let Some(why) = full_walk(&plan, &statement.sql) {
            failures.push(format!("{label}: {why}\n  {}\n{plan}", statement.sql));
        }
        plans.push(plan);
    }
    plans
}

/// Whether `plan` walks `index`. An order list filtered by payment states, session or
/// fulfillment URL fixes columns after the instance in its index: PostgreSQL then
/// chooses between that index and the instance's walk with the filter checked on each
/// order, by its column statistics. On the test's nearly empty tables both cost the
/// same and it may take either; at scale it takes the filter's (`cargo bench --bench
/// scale`). Either is a walk in the page's order that stops after the page.
fn uses(plan: &str, index: &str, backend: &Backend) -> bool {
    plan.contains(index)
        || (matches!(backend, Backend::Postgres(_))
            && index.starts_with("merchant_orders_by_")
            && plan.contains("merchant_orders_by_instance"))
}

fn is_read(sql: &str) -> bool {
    let sql = sql.trim_start().to_ascii_uppercase();
    sql.starts_with("SELECT") || sql.starts_with("WITH")
}

/// SQLite runs several statements sent as one text; each is explained on its own.
fn split_statements(statement: &Statement) -> Vec<Statement> {
    if statement.db_backend != DatabaseBackend::Sqlite || !statement.sql.contains("; ") {
        return vec![statement.clone()];
    }
    let mut values = statement
        .values
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_default()
        .into_iter();
    statement
        .sql
        .split("; ")
        .map(|sql| {
            let bound = sql.matches('?').count();
            Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                sql,
                values.by_ref().take(bound).collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// The plan of `statement`, one node per line.
async fn explain(db: &sea_orm::DatabaseConnection, statement: &Statement) -> String {
    let values = statement.values.clone().map(|v| v.0).unwrap_or_default();
    match statement.db_backend {
        DatabaseBackend::Sqlite => {
            let explain = Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {}", statement.sql),
                values,
            );
            db.query_all_raw(explain)
                .await
                .expect("explain")
                .iter()
                .map(|row| row.try_get_by_index::<String>(3).expect("detail"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        backend => {
            // Priced out, not forbidden: where no index can serve, the plan still
            // shows the scan or the sort, and the test names it.
            let txn = db.begin().await.expect("begin");
            for (name, value) in taler_openapi::store::POSTGRES_PLANNER {
                txn.execute_unprepared(&format!("SET LOCAL {name} = {value}"))
                    .await
                    .expect("set");
            }
            let explain = Statement::from_sql_and_values(
                backend,
                format!("EXPLAIN {}", statement.sql),
                values,
            );
            let plan = txn
                .query_all_raw(explain)
                .await
                .expect("explain")
                .iter()
                .map(|row| row.try_get_by_index::<String>(0).expect("plan line"))
                .collect::<Vec<_>>()
                .join("\n");
            txn.rollback().await.expect("rollback");
            plan
        }
    }
}

/// Why `plan` is not a bounded index walk, if it is not.
fn full_walk(plan: &str, sql: &str) -> Option<String> {
    let merged = sql.contains(taler_openapi::store::MERGED_PAGE);
    // Names a subquery is known by (SQLite: `CO-ROUTINE x`, `MATERIALIZE x`).
    let subqueries: Vec<&str> = plan
        .lines()
        .filter_map(|l| {
            l.strip_prefix("CO-ROUTINE ")
                .or_else(|| l.strip_prefix("MATERIALIZE "))
        })
        .collect();
    for line in plan.lines().map(str::trim) {
        // SQLite: `SCAN t` or `SCAN t USING INDEX i` reads every row of `t`.
        if let Some(rest) = line.strip_prefix("SCAN ") {
            let name = rest.split_whitespace().next().unwrap_or_default();
            let whole = READ_WHOLE.iter().any(|t| rest.starts_with(t));
            if !whole && !subqueries.contains(&name) && name != "CONSTANT" {
                return Some(format!("reads every row: {line}"));
            }
        }
        // PostgreSQL.
        let node = line.trim_start_matches("->").trim_start();
        if let Some(rest) = node.strip_prefix("Seq Scan on ")
            && !READ_WHOLE.iter().any(|t| rest.starts_with(t))
        {
            return Some(format!("reads every row: {line}"));
        }
        // PostgreSQL: an IN list checked on each row an index gives, not sought with
        // (before 17, an IN list on a later column of an index is only a filter).
        if node.starts_with("Filter:") && node.contains("= ANY (") {
            return Some(format!("checks an IN list on each row: {line}"));
        }
        // PostgreSQL: a merge join walks both sides in order, the other table whole.
        if node.starts_with("Merge Join") {
            return Some(format!("walks a joined table whole: {line}"));
        }
        // An OR over two indexes reads every row either names, in no order, then sorts
        // them all (a history read an account's every transfer so, for a page of 20).
        if line == "MULTI-INDEX OR" || node.starts_with("BitmapOr") {
            return Some(format!("reads every row of each side of an OR: {line}"));
        }
        // SQLite: `USE TEMP B-TREE FOR ORDER BY`, or `FOR LAST 2 TERMS OF ORDER BY`.
        let sorts = (line.starts_with("USE TEMP B-TREE FOR ") && line.ends_with("ORDER BY"))
            || node.starts_with("Sort ")
            || node.starts_with("Incremental Sort ");
        if sorts && !merged {
            return Some(format!("sorts what it read: {line}"));
        }
    }
    None
}
