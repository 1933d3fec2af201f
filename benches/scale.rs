//! Every list at a million rows: does a page cost the same whatever the table holds?
//!
//! Starts the release server (a separate process) on a fresh database, creates through
//! the API what the requests need (the instance `shop` with a token, a bank account and
//! an order template; the bank accounts `alice` and `exchange` with tokens; a product
//! and a category), then fills the tables straight in SQL, copying those rows:
//! - 1,000 instances, 1,000,000 orders: one in ten in `shop` (one large shop: 100,000
//!   over the whole year), the rest spread over the other 999. 70% paid, a tenth of those refunded, 4 in 7
//!   of them wired; one creation every 30 s over a year; sessions of three orders, 2,000
//!   fulfillment URLs, one summary in 50 with "red shoe";
//! - 10,000 bank accounts (one in ten public), 1,000,000 transfers: a tenth touch
//!   `alice`, a tenth are reserve transfers into `exchange`, a twentieth its transfers
//!   out;
//! - 100,000 products: 20,000 in `shop`, all in its one category.
//!
//! Then each list endpoint with each filter: 100 requests one after the other (median
//! and p99), and 16 connections with wrk for `--seconds` (req/s, p50, p99). Last, the
//! time to create one order and make one transfer, measured once before the tables
//! were filled (about a thousand rows) and once after.
//!
//! Run: `cargo bench --bench scale` (SQLite), or
//! `cargo bench --bench scale -- postgres://postgres@127.0.0.1:5432/scale` (an empty
//! database). Options: `--seconds N` (default 3), `--orders N`, `--transfers N`,
//! `--products N` (defaults 1,000,000, 1,000,000 and 100,000). Needs Debian's `wrk`.
//! Targets (issue 37): median ≤ 5 ms alone, p99 ≤ 20 ms with 16 clients.
//!
//! Nothing here is a test: it prints figures, and no test asserts a timing.

mod common;

use common::{Server, bearer_by_password, connect, free_port, parse_ms};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

const ADMIN: &str = "secret-token:BENCHADMINTOKEN0123456789";
/// Products of the large shop.
const SHOP_PRODUCTS: u64 = 20_000;
const INSTANCES: u64 = 1_000;
const ACCOUNTS: u64 = 10_000;
/// The first order's creation time: a year before the bench's "now" (2026-12-01).
const EPOCH: i64 = 1_764_547_200;

struct Options {
    database: Option<String>,
    seconds: u64,
    orders: u64,
    transfers: u64,
    products: u64,
}

fn options() -> Options {
    let mut o = Options {
        database: None,
        seconds: 3,
        orders: 1_000_000,
        transfers: 1_000_000,
        products: 100_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = || args.next().and_then(|n| n.parse().ok()).expect("a number");
        match a.as_str() {
            "--seconds" => o.seconds = number(),
            "--orders" => o.orders = number(),
            "--transfers" => o.transfers = number(),
            "--products" => o.products = number(),
            url if url.starts_with("postgres") => o.database = Some(url.to_owned()),
            _ => {} // cargo bench passes `--bench`
        }
    }
    o
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    auth: &str,
    body: Value,
) -> Value {
    let resp = client
        .request(method, &url)
        .header("Authorization", auth)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn exec(db: &DatabaseConnection, sql: String) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index::<i64>(0)
    .unwrap()
}

/// Rows `from..to` of a fill: `body` is an `INSERT ... SELECT` over `seq(i)`. In
/// chunks of 100,000 (SQLite and PostgreSQL both take `WITH RECURSIVE` before
/// `INSERT`).
async fn fill(db: &DatabaseConnection, from: u64, to: u64, body: &str) {
    let mut at = from;
    while at < to {
        let end = (at + 100_000).min(to);
        exec(
            db,
            format!(
                "WITH RECURSIVE seq(i) AS (SELECT CAST({at} AS BIGINT) UNION ALL \
                 SELECT i + 1 FROM seq WHERE i < {last}) {body}",
                last = end - 1
            ),
        )
        .await;
        at = end;
    }
}

struct Timing {
    p50_ms: f64,
    p99_ms: f64,
}

/// `n` requests one after the other.
async fn one_at_a_time(client: &reqwest::Client, url: &str, auth: &str, n: usize) -> Timing {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let resp = client
            .get(url)
            .header("Authorization", auth)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let _ = resp.bytes().await.unwrap();
        assert!(status.is_success(), "{url}: {status}");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    percentiles(times)
}

fn percentiles(mut times: Vec<f64>) -> Timing {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Timing {
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}

/// wrk with 16 connections: req/s, p50, p99.
fn sixteen(url: &str, auth: &str, seconds: u64) -> (f64, Timing) {
    let out = Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{seconds}s"), "--latency", "-H"])
        .arg(format!("Authorization: {auth}"))
        .arg(url)
        .output()
        .expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        eprintln!("warning: non-2xx answers from {url}:\n{text}");
    }
    let mut rps = 0.0;
    let mut t = Timing {
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
    };
    for line in text.lines() {
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["Requests/sec:", n] => rps = n.parse().unwrap_or(0.0),
            ["50%", v] => t.p50_ms = parse_ms(v),
            ["99%", v] => t.p99_ms = parse_ms(v),
            _ => {}
        }
    }
    (rps, t)
}

/// The time to create one order and to make one transfer (100 of each, one after the
/// other): (order p50, order p99, transfer p50, transfer p99).
async fn writes(
    client: &reqwest::Client,
    base: &str,
    shop: &str,
    alice: &str,
    round: &str,
) -> (Timing, Timing) {
    let mut orders = Vec::new();
    let mut transfers = Vec::new();
    for i in 0..100 {
        let start = Instant::now();
        call(
            client,
            reqwest::Method::POST,
            format!("{base}/merchant/instances/shop/private/orders"),
            shop,
            json!({"order": {"order_id": format!("w-{round}-{i}"), "amount": "KUDOS:1",
                             "summary": "one more"}, "create_token": false}),
        )
        .await;
        orders.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        call(
            client,
            reqwest::Method::POST,
            format!("{base}/bank/accounts/alice/transactions"),
            alice,
            json!({"payto_uri": "payto://x-taler-bank/localhost/exchange?message=more",
                   "amount": "KUDOS:0.01"}),
        )
        .await;
        transfers.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    (percentiles(orders), percentiles(transfers))
}

#[tokio::main]
async fn main() {
    let o = options();
    let dir = std::env::temp_dir().join(format!("taler-openapi-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = o
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/scale.sqlite?mode=rwc", dir.display()));
    let engine = if database.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let conf = dir.join("taler.conf");
    std::fs::write(
        &conf,
        format!(
            "[taler-openapi]\nLISTEN = 127.0.0.1:{port}\nDATABASE_URL = {database}\nADMIN_TOKEN = {ADMIN}\n\
             [bank]\nDEFAULT_DEBIT_THRESHOLD = KUDOS:100000000\n\
             [donau]\nDONATION_UNIT_VALUES = NONE\n"
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_taler-openapi"))
        .arg("-c")
        .arg(&conf)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/merchant/config"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // What the requests need, through the API.
    use reqwest::Method;
    let admin = format!("Bearer {ADMIN}");
    call(
        &client,
        Method::POST,
        format!("{base}/merchant/management/instances"),
        &admin,
        json!({
        "id": "shop", "name": "Shop", "auth": {"method": "token", "password": "shop-password"},
        "address": {}, "jurisdiction": {}, "use_stefan": true}),
    )
    .await;
    let shop = bearer_by_password(
        &client,
        &format!("{base}/merchant/instances/shop/private/token"),
        "shop",
        "shop-password",
        "all",
    )
    .await;
    let private = |p: &str| format!("{base}/merchant/instances/shop/private{p}");
    call(
        &client,
        Method::POST,
        private("/accounts"),
        &shop,
        json!({"payto_uri": "payto://x-taler-bank/localhost/shop?receiver-name=Shop"}),
    )
    .await;
    let category = call(
        &client,
        Method::POST,
        private("/categories"),
        &shop,
        json!({"name": "Shoes"}),
    )
    .await["category_id"]
        .as_u64()
        .unwrap();
    call(
        &client,
        Method::POST,
        private("/products"),
        &shop,
        json!({
        "product_id": "template", "product_name": "Red shoe", "description": "A red shoe",
        "unit": "pair", "unit_price": ["KUDOS:20"], "unit_total_stock": "-1",
        "categories": [category]}),
    )
    .await;
    call(
        &client,
        Method::POST,
        private("/orders"),
        &shop,
        json!({"order": {
        "order_id": "template", "amount": "KUDOS:20", "summary": "Red shoe",
        "fulfillment_url": "https://shop.example/item/0"}, "session_id": "session-0",
        "create_token": false}),
    )
    .await;
    let mut bank = Vec::new();
    for (user, exchange) in [("alice", false), ("exchange", true)] {
        call(
            &client,
            Method::POST,
            format!("{base}/bank/accounts"),
            &admin,
            json!({
            "username": user, "password": format!("{user}-password"), "name": user,
            "is_taler_exchange": exchange, "is_public": true}),
        )
        .await;
        let token = client
            .post(format!("{base}/bank/accounts/{user}/token"))
            .basic_auth(user, Some(format!("{user}-password")))
            .json(&json!({"scope": "readwrite"}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        bank.push(format!(
            "Bearer {}",
            token["access_token"].as_str().unwrap()
        ));
    }
    let (alice, exchange) = (bank[0].clone(), bank[1].clone());

    // The tables at about a thousand rows: the writes' first measure.
    let db = connect(&database).await;
    let shop_serial = number(
        &db,
        "SELECT instance_serial FROM merchant_instances WHERE instance_id = 'shop'",
    )
    .await;
    let template_order = number(
        &db,
        "SELECT order_serial FROM merchant_orders WHERE order_id = 'template'",
    )
    .await;
    let alice_id = number(
        &db,
        "SELECT account_id FROM bank_accounts WHERE username = 'alice'",
    )
    .await;
    let exchange_id = number(
        &db,
        "SELECT account_id FROM bank_accounts WHERE username = 'exchange'",
    )
    .await;
    // Orders: `instance` names each one's instance (an SQL expression of `i`).
    let order_body = |instance: String| {
        format!(
            "INSERT INTO merchant_orders (instance_serial, order_id, contract_terms, h_post_data, \
             claim_token_salt, creation_time, pay_deadline, summary, amount, fulfillment_url, \
             session_id, otp_serial, nonce, h_contract_terms, paid, refunded, wired, \
             inventory_locks, unclaimed_deadline) \
             SELECT {instance}, 'o-' || i, o.contract_terms, o.h_post_data, NULL, {EPOCH} + i * 30, \
             {EPOCH} + 4000000000, \
             CASE WHEN i % 50 = 0 THEN 'Order ' || i || ': a red shoe' ELSE 'Order ' || i || ': a hat' END, \
             o.amount, 'https://shop.example/item/' || (i % 2000), 'session-' || (i / 3), NULL, \
             o.nonce, o.h_contract_terms, i % 10 < 7, i % 10 = 0, i % 10 < 7 AND i % 7 < 4, NULL, NULL \
             FROM seq, merchant_orders o WHERE o.order_serial = {template_order}"
        )
    };
    // Transfers: `a` and `b` are the accounts of the transfers `alice` and `exchange`
    // are not part of (SQL expressions of `i`).
    // A 32-byte value in Taler's base32 (52 characters) made of `i`'s digits.
    let zeros = "0".repeat(51);
    let key = format!("substr('{zeros}' || i, length('{zeros}' || i) - 50, 51) || '0'");
    let transfer_body = |a: String, b: String| {
        format!(
            "INSERT INTO bank_transactions (debtor_account_id, creditor_account_id, amount, \
             credit_fee, subject, date, request_uid, wtid, exchange_base_url, reserve_pub, account_pub) \
             SELECT CASE WHEN i % 20 = 0 THEN {alice_id} WHEN i % 20 = 5 THEN {exchange_id} ELSE {a} END, \
             CASE WHEN i % 20 = 1 THEN {alice_id} WHEN i % 10 = 2 THEN {exchange_id} ELSE {b} END, \
             'KUDOS:1', NULL, 'transfer ' || i, {EPOCH} + i * 30, NULL, \
             CASE WHEN i % 20 = 5 THEN {key} END, \
             CASE WHEN i % 20 = 5 THEN 'https://exchange.example/' END, \
             CASE WHEN i % 10 = 2 THEN {key} END, NULL FROM seq"
        )
    };
    // A thousand of each before the first measure of the writes.
    fill(&db, 0, 1_000, &order_body(shop_serial.to_string())).await;
    fill(
        &db,
        0,
        1_000,
        &transfer_body(exchange_id.to_string(), alice_id.to_string()),
    )
    .await;
    let small = writes(&client, &base, &shop, &alice, "small").await;

    // The million rows.
    let filled = Instant::now();
    fill(
        &db,
        1,
        INSTANCES,
        "INSERT INTO merchant_instances (instance_id, name, password_hash, merchant_pub, \
         merchant_priv, settings, deleted) SELECT 'filler-' || i, name, password_hash, \
         merchant_pub, merchant_priv, settings, deleted FROM seq, merchant_instances \
         WHERE instance_id = 'shop'",
    )
    .await;
    let first_filler = number(
        &db,
        "SELECT MIN(instance_serial) FROM merchant_instances WHERE instance_id LIKE 'filler-%'",
    )
    .await;
    // Orders 0..1,000 are in `shop` already (above); of the others, one in ten.
    fill(
        &db,
        1_000,
        o.orders,
        &order_body(format!(
            "CASE WHEN i % 10 = 0 THEN {shop_serial} ELSE {first_filler} + i % {} END",
            INSTANCES - 1
        )),
    )
    .await;
    fill(
        &db,
        1,
        ACCOUNTS - 1,
        "INSERT INTO bank_accounts (username, password_hash, name, payto_key, is_public, \
         is_taler_exchange, balance_value, balance_frac, has_debt, debit_threshold_value, \
         debit_threshold_frac, deleted, contact_data, tan_channels, tan_login_failures) \
         SELECT 'account-' || i, password_hash, 'Account ' || i, 'bench-' || i, i % 10 = 0, \
         is_taler_exchange, balance_value, balance_frac, has_debt, debit_threshold_value, \
         debit_threshold_frac, deleted, contact_data, tan_channels, tan_login_failures \
         FROM seq, bank_accounts WHERE username = 'alice'",
    )
    .await;
    let first_account = number(
        &db,
        "SELECT MIN(account_id) FROM bank_accounts WHERE username LIKE 'account-%'",
    )
    .await;
    let some = |k: u64| format!("{first_account} + (i * {k}) % {}", ACCOUNTS - 2);
    fill(
        &db,
        1_000,
        o.transfers,
        &transfer_body(some(7919), some(104_729)),
    )
    .await;
    fill(
        &db,
        1,
        o.products,
        &format!(
            "INSERT INTO merchant_products (instance_serial, product_id, product_details, \
         total_sold, total_lost, total_locked) \
         SELECT CASE WHEN i < {SHOP_PRODUCTS} THEN {shop_serial} ELSE {first_filler} + i % {} END, \
         'p-' || i, product_details, total_sold, total_lost, total_locked \
         FROM seq, merchant_products WHERE product_id = 'template'",
            INSTANCES - 1
        ),
    )
    .await;
    // The large shop's products are all in its one category (the links the server
    // writes with a product; see `store::inventory::link`).
    exec(
        &db,
        format!(
            "INSERT INTO merchant_product_categories (category_serial, product_serial) \
             SELECT {category}, product_serial FROM merchant_products \
             WHERE instance_serial = {shop_serial} AND product_id <> 'template'"
        ),
    )
    .await;
    if engine == "PostgreSQL" {
        exec(&db, "VACUUM ANALYZE".to_owned()).await;
    }
    let rows = |table: &'static str| {
        let db = db.clone();
        async move { number(&db, &format!("SELECT COUNT(*) FROM {table}")).await }
    };
    println!(
        "{engine}: {} instances, {} orders ({} in shop), {} products, {} bank accounts, \
         {} transfers; filled in {:.0} s",
        rows("merchant_instances").await,
        rows("merchant_orders").await,
        number(
            &db,
            &format!("SELECT COUNT(*) FROM merchant_orders WHERE instance_serial = {shop_serial}")
        )
        .await,
        rows("merchant_products").await,
        rows("bank_accounts").await,
        rows("bank_transactions").await,
        filled.elapsed().as_secs_f64()
    );
    let large = writes(&client, &base, &shop, &alice, "large").await;

    // A recent day, and a time after every order.
    let day_ago = EPOCH + (o.orders as i64 - 2_880) * 30;
    let m = |q: &str| {
        (
            format!("{base}/merchant/instances/shop/private/{q}"),
            shop.clone(),
        )
    };
    let b = |q: &str, who: &String| (format!("{base}/bank/{q}"), who.clone());
    let lists: Vec<(String, (String, String))> = vec![
        ("orders, newest 20".into(), m("orders?limit=-20")),
        (
            "orders, 20 from the middle".into(),
            m(&format!("orders?limit=20&offset={}", o.orders / 2)),
        ),
        ("orders paid=no".into(), m("orders?paid=no&limit=-20")),
        ("orders paid=yes".into(), m("orders?paid=yes&limit=-20")),
        (
            "orders refunded=yes".into(),
            m("orders?refunded=yes&limit=-20"),
        ),
        (
            "orders refunded=no".into(),
            m("orders?refunded=no&limit=-20"),
        ),
        ("orders wired=no".into(), m("orders?wired=no&limit=-20")),
        (
            "orders paid=yes&wired=no".into(),
            m("orders?paid=yes&wired=no&limit=-20"),
        ),
        (
            "orders wired=no ascending".into(),
            m("orders?wired=no&limit=20"),
        ),
        (
            "orders date_s (a day ago), newest".into(),
            m(&format!("orders?date_s={day_ago}&limit=-20")),
        ),
        (
            "orders date_s (a day ago), oldest".into(),
            m(&format!("orders?date_s={day_ago}&limit=20")),
        ),
        (
            "orders session_id".into(),
            m("orders?session_id=session-120&limit=-20"),
        ),
        (
            "orders fulfillment_url".into(),
            m("orders?fulfillment_url=https%3A%2F%2Fshop.example%2Fitem%2F10&limit=-20"),
        ),
        (
            "orders summary_filter (1 in 50)".into(),
            m("orders?summary_filter=red%20shoe&limit=-20"),
        ),
        (
            "orders delta/start (v11)".into(),
            m(&format!("orders?delta=-20&start={}", o.orders / 2)),
        ),
        ("products, newest 20".into(), m("products?limit=-20")),
        (
            "products name_filter (every one)".into(),
            m("products?name_filter=shoe&limit=-20"),
        ),
        ("categories".into(), m("categories")),
        ("pots".into(), m("pots?limit=-20")),
        ("reports".into(), m("reports?limit=-20")),
        ("tokens".into(), m("tokens?limit=-20")),
        ("templates".into(), m("templates")),
        ("otp-devices".into(), m("otp-devices")),
        ("accounts".into(), m("accounts")),
        (
            "instances (admin, every one)".into(),
            (
                format!("{base}/merchant/management/instances"),
                admin.clone(),
            ),
        ),
        (
            "bank: account history, newest".into(),
            b("accounts/alice/transactions?limit=-20", &alice),
        ),
        (
            "bank: account history, oldest".into(),
            b("accounts/alice/transactions?limit=20", &alice),
        ),
        (
            "bank: tokens".into(),
            b("accounts/alice/tokens?limit=-20", &alice),
        ),
        (
            "bank: accounts (admin)".into(),
            b("accounts?limit=-20", &admin),
        ),
        (
            "bank: accounts filter_name".into(),
            b("accounts?filter_name=account%2099&limit=-20", &admin),
        ),
        (
            "bank: public accounts".into(),
            b("public-accounts?limit=-20", &alice),
        ),
        (
            "WG history/incoming".into(),
            b(
                "accounts/exchange/taler-wire-gateway/history/incoming?limit=-20",
                &exchange,
            ),
        ),
        (
            "WG history/outgoing".into(),
            b(
                "accounts/exchange/taler-wire-gateway/history/outgoing?limit=-20",
                &exchange,
            ),
        ),
        (
            "WG transfers".into(),
            b(
                "accounts/exchange/taler-wire-gateway/transfers?limit=-20",
                &exchange,
            ),
        ),
        (
            "Revenue history".into(),
            b(
                "accounts/exchange/taler-revenue/history?limit=-20",
                &exchange,
            ),
        ),
    ];
    println!(
        "\n{:<38} {:>9} {:>9} | {:>8} {:>9} {:>9}",
        "list", "alone p50", "alone p99", "16: req/s", "16: p50", "16: p99"
    );
    // The server opens its pool's connections as the first 16 clients come; on
    // PostgreSQL each costs a backend start. Not a cost of any list: paid here, once.
    if let Some((_, (url, auth))) = lists.first() {
        sixteen(url, auth, 1);
    }
    for (name, (url, auth)) in &lists {
        let alone = one_at_a_time(&client, url, auth, 100).await;
        let (rps, busy) = sixteen(url, auth, o.seconds);
        let flag = if alone.p50_ms > 5.0 || busy.p99_ms > 20.0 {
            "  over target"
        } else {
            ""
        };
        println!(
            "{name:<38} {:>7.2}ms {:>7.2}ms | {rps:>8.0} {:>7.2}ms {:>7.2}ms{flag}",
            alone.p50_ms, alone.p99_ms, busy.p50_ms, busy.p99_ms
        );
    }
    println!(
        "\nwrites, one at a time (100 each)     ~1,000 rows p50/p99     ~1,000,000 rows p50/p99"
    );
    println!(
        "create an order (POST orders)        {:>6.2} / {:>6.2} ms        {:>6.2} / {:>6.2} ms",
        small.0.p50_ms, small.0.p99_ms, large.0.p50_ms, large.0.p99_ms
    );
    println!(
        "make a transfer (POST transactions)  {:>6.2} / {:>6.2} ms        {:>6.2} / {:>6.2} ms",
        small.1.p50_ms, small.1.p99_ms, large.1.p50_ms, large.1.p99_ms
    );
    let _ = std::fs::remove_dir_all(&dir);
}
