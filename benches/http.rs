//! The hot paths against the stack's ceilings, measured in one run.
//!
//! Starts the release server (a separate process) on a fresh database, builds the
//! ceilings in this process with the same stack (the same listener, poem-openapi,
//! sea-orm with the same pool on the same database): a bare handler, a handler with one
//! sea-orm point read, and one with one sea-orm insert. Then drives each path with wrk
//! (Debian's `wrk`, which must be installed) and prints one table: req/s, p50, p99 and
//! the ratio to its ceiling. The writes beyond one row (an order without inventory, a
//! bank transfer between two accounts) are printed against the insert ceiling too, for
//! what their extra statements cost; no goal applies to them. Last, the long-poll case: N idle long pollers on one
//! account, the server's RSS, and how long one transfer takes to answer all of them.
//!
//! Run: `cargo bench --bench http` (SQLite), or
//! `cargo bench --bench http -- postgres://postgres@127.0.0.1:5432/bench` (an empty
//! database), or `cargo bench --bench http -- --both postgres://...` (both engines, one
//! after the other, their tables side by side). Options: `--history-rows N` (default 1,000,000), `--pollers N` (default
//! 10,000), `--seconds N` per path (default 5), `--hold` (set up, print the addresses
//! and tokens, and wait: for profiling by hand).
//!
//! Nothing here is a test: it prints figures, and no test asserts a timing.

mod common;

use common::{Server, bearer_by_password, connect, free_port, parse_ms};
use std::{
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use poem_openapi::{OpenApi, OpenApiService, param::Path, payload::Json};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set, Statement};
use serde_json::{Value, json};

/// Writes wait for the disk's fsync, which drifts by a factor of two within a minute
/// on these machines: the insert ceiling and POST pot are measured in turn, in this
/// many short rounds each (about three times `--seconds` per side in all), and
/// averaged.
const WRITE_ROUNDS: u64 = 8;
const ADMIN: &str = "secret-token:BENCHADMINTOKEN0123456789";

struct Options {
    database: Option<String>,
    history_rows: u64,
    pollers: usize,
    seconds: u64,
    /// `--pollers-only`: skip the request paths (no history rows either).
    pollers_only: bool,
    /// `--hold`: set everything up, print how to reach it, and wait (for profiling by
    /// hand) instead of measuring.
    hold: bool,
    /// `--both`: run on SQLite, then on the PostgreSQL database given, and print the
    /// two tables side by side.
    both: bool,
}

/// Set in the runs `--both` starts: each table row is printed once more, tab-separated.
const SIDE_BY_SIDE: &str = "TALER_OPENAPI_BENCH_ROWS";

/// `--both`: runs this bench twice (SQLite, then PostgreSQL at `url`, the other options
/// the same), prints the two tables side by side, then what else each run printed.
fn both(url: &str) {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--both" && a != url)
        .collect();
    let run = |database: Option<&str>| -> String {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(&args)
            .args(database)
            .env(SIDE_BY_SIDE, "1")
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let sqlite = run(None);
    let postgres = run(Some(url));
    let rows = |out: &str| -> Vec<Vec<String>> {
        out.lines()
            .filter_map(|l| l.strip_prefix("row\t"))
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()
    };
    println!();
    println!(
        "{:<52} {:>8} {:>8} {:>10} | {:>8} {:>8} {:>10}",
        "path", "SQLite/s", "p99 ms", "ratio", "PG req/s", "p99 ms", "ratio"
    );
    for (a, b) in rows(&sqlite).iter().zip(rows(&postgres).iter()) {
        // Rows are name, req/s, p50, p99, ratio; the history's name holds the row count.
        println!(
            "{:<52} {:>8} {:>8} {:>10} | {:>8} {:>8} {:>10}",
            a[0], a[1], a[3], a[4], b[1], b[3], b[4]
        );
    }
    for (engine, out) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        println!("\n== {engine}");
        for line in out.lines().filter(|l| !l.starts_with("row\t")) {
            println!("{line}");
        }
    }
}

fn options() -> Options {
    let mut o = Options {
        database: None,
        history_rows: 1_000_000,
        pollers: 10_000,
        seconds: 5,
        pollers_only: false,
        hold: false,
        both: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = || args.next().and_then(|n| n.parse().ok()).expect("a number");
        match a.as_str() {
            "--history-rows" => o.history_rows = number(),
            "--pollers" => o.pollers = number() as usize,
            "--seconds" => o.seconds = number(),
            "--pollers-only" => o.pollers_only = true,
            "--hold" => o.hold = true,
            "--both" => o.both = true,
            url if url.starts_with("postgres") => o.database = Some(url.to_owned()),
            _ => {} // cargo bench passes `--bench`
        }
    }
    o
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// The server's CPU time in clock ticks (user and system).
fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The fields after the command name (in parentheses, which may hold spaces).
            let rest = &s[s.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// Whether the server used at most 2% of a core over the next half second.
async fn server_idle(pid: u32) -> bool {
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_millis(500)).await;
    cpu_ticks(pid) - before <= 1
}

/// Accounts among which the bench's crowd of transfers moves money.
const CROWD: usize = 32;

/// The ceilings: the same stack with nothing of ours in the handler.
struct Ceiling(DatabaseConnection);

#[derive(poem_openapi::Object)]
struct PotRow {
    pot_name: String,
    description: String,
    pot_totals: String,
}

#[OpenApi]
impl Ceiling {
    #[oai(path = "/bare", method = "get")]
    async fn bare(&self) -> Json<Value> {
        Json(json!({"pot_name": "tips", "description": "Tips jar", "pot_totals": []}))
    }

    #[oai(path = "/read/:id", method = "get")]
    async fn read(&self, id: Path<i64>) -> Json<Option<PotRow>> {
        let pot = entities::merchant_money_pots::Entity::find_by_id(id.0)
            .one(&self.0)
            .await
            .ok()
            .flatten();
        Json(pot.map(|p| PotRow {
            pot_name: p.pot_name,
            description: p.description,
            pot_totals: p.pot_totals,
        }))
    }

    #[oai(path = "/insert", method = "post")]
    async fn insert(&self) -> Json<i64> {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let i = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let row = entities::merchant_money_pots::ActiveModel {
            instance_serial: Set(1),
            pot_name: Set(format!("ceiling-{}-{i}", std::process::id())),
            description: Set("d".to_owned()),
            pot_totals: Set(String::new()),
            ..Default::default()
        }
        .insert(&self.0)
        .await
        .map(|r| r.pot_serial)
        .unwrap_or(-1);
        Json(row)
    }
}

struct Measured {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// The mean of runs taken in turn with others.
fn mean(runs: &[Measured]) -> Measured {
    let n = runs.len() as f64;
    Measured {
        rps: runs.iter().map(|m| m.rps).sum::<f64>() / n,
        p50_ms: runs.iter().map(|m| m.p50_ms).sum::<f64>() / n,
        p99_ms: runs.iter().map(|m| m.p99_ms).sum::<f64>() / n,
    }
}

/// Runs wrk against `url` with `connections` connections; `script` is Lua for POST bodies.
fn wrk(
    url: &str,
    connections: u32,
    seconds: u64,
    auth: Option<&str>,
    script: Option<&str>,
) -> Measured {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(auth) = auth {
        cmd.args(["-H", &format!("Authorization: {auth}")]);
    }
    if let Some(script) = script {
        cmd.args(["-s", script]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut m = Measured {
        rps: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => m.rps = n.parse().unwrap_or(0.0),
            ["50%", t] => m.p50_ms = parse_ms(t),
            ["99%", t] => m.p99_ms = parse_ms(t),
            _ => {}
        }
    }
    if text.contains("Non-2xx") {
        eprintln!("warning: non-2xx answers from {url}:\n{text}");
    }
    m
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    auth: &str,
    body: Option<Value>,
) -> Value {
    let mut req = client.request(method, &url).header("Authorization", auth);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body = resp.text().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// Adds `rows` transfers into `shop` straight into the database, in batches.
async fn fill_history(db: &DatabaseConnection, shop: i64, alice: i64, rows: u64) {
    let backend = db.get_database_backend();
    let mut done = 0;
    while done < rows {
        let n = (rows - done).min(5_000);
        let values: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "({alice}, {shop}, 'KUDOS:1', NULL, 'bench {}', 1700000000, NULL)",
                    done + i
                )
            })
            .collect();
        db.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO bank_transactions (debtor_account_id, creditor_account_id, amount, \
                 credit_fee, subject, date, request_uid) VALUES {}",
                values.join(",")
            ),
        ))
        .await
        .unwrap();
        done += n;
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    if o.both {
        both(
            o.database
                .as_deref()
                .expect("--both needs a postgres:// URL"),
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("taler-openapi-http-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("reports/drop")).unwrap();
    let database = o
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.sqlite?mode=rwc", dir.display()));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let conf = dir.join("taler.conf");
    std::fs::write(
        &conf,
        format!(
            "[taler-openapi]\nLISTEN = 127.0.0.1:{port}\nDATABASE_URL = {database}\nADMIN_TOKEN = {ADMIN}\n\
             MAX_CONNECTIONS = 30000\n\
             [bank]\nDEFAULT_DEBIT_THRESHOLD = KUDOS:1000000\n\
             [report-generator-file]\nBINARY = /bin/true\nTARGET_DIRECTORY = {}/reports\n\
             [donau]\nDONATION_UNIT_VALUES = NONE\n",
            dir.display()
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
    let pid = child.id();
    let _server = Server(child);
    // The pollers have a client of their own (see `pollers`).
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

    // The objects the paths read.
    let admin = format!("Bearer {ADMIN}");
    let m = |p: &str| format!("{base}/merchant{p}");
    use reqwest::Method;
    call(
        &client,
        Method::POST,
        m("/management/instances"),
        &admin,
        Some(json!({
        "id": "shop", "name": "Shop", "auth": {"method": "token", "password": "shop-password"},
        "address": {}, "jurisdiction": {}, "use_stefan": true})),
    )
    .await;
    let shop = bearer_by_password(
        &client,
        &m("/instances/shop/private/token"),
        "shop",
        "shop-password",
        "all",
    )
    .await;
    let private = |p: &str| m(&format!("/instances/shop/private{p}"));
    call(
        &client,
        Method::POST,
        private("/pots"),
        &shop,
        Some(json!({"pot_name": "tips", "description": "Tips jar"})),
    )
    .await;
    call(&client, Method::POST, private("/otp-devices"), &shop, Some(json!({
        "otp_device_id": "till", "otp_device_description": "Till", "otp_key": "JBSWY3DPEHPK3PXP", "otp_algorithm": 1}))).await;
    call(
        &client,
        Method::POST,
        private("/templates"),
        &shop,
        Some(json!({
        "template_id": "coffee", "template_description": "Coffee", "otp_id": "till",
        "template_contract": {"summary": "Coffee", "amount": "KUDOS:2.5"}})),
    )
    .await;
    let report = call(&client, Method::POST, private("/reports"), &shop, Some(json!({
        "description": "Pots", "program_section": "report-generator-file", "mime_type": "application/json",
        "data_source": "/private/pots", "target_address": "drop", "report_frequency": {"d_us": 86_400_000_000u64}}))).await;
    let report_id = report["report_serial_id"].as_u64().unwrap();
    let pot_id = 1;
    // The default instance's own pot, for the administrator token.
    let admin_pot = call(
        &client,
        Method::POST,
        m("/private/pots"),
        &admin,
        Some(json!({"pot_name": "admin-tips", "description": "Admin"})),
    )
    .await;
    let admin_pot_id = admin_pot["pot_serial_id"].as_u64().unwrap();
    for user in ["shop", "alice"] {
        call(
            &client,
            Method::POST,
            format!("{base}/bank/accounts"),
            &admin,
            Some(json!({
            "username": user, "password": format!("{user}-password"), "name": user})),
        )
        .await;
    }
    let bank_bearer = bearer_by_password(
        &client,
        &format!("{base}/bank/accounts/shop/token"),
        "shop",
        "shop-password",
        "revenue",
    )
    .await;
    let basic = format!("Basic {}", base64_encode(b"shop:shop-password"));
    let alice_bearer = bearer_by_password(
        &client,
        &format!("{base}/bank/accounts/alice/token"),
        "alice",
        "alice-password",
        "readwrite",
    )
    .await;
    // Orders are paid into a bank account of the instance.
    call(
        &client,
        Method::POST,
        private("/accounts"),
        &shop,
        Some(json!({"payto_uri": "payto://x-taler-bank/localhost/shop?receiver-name=Shop"})),
    )
    .await;

    // The ceilings, in this process, on the same database.
    let db = connect(&database).await;
    let ids: Vec<i64> = {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT account_id AS id FROM bank_accounts ORDER BY username DESC",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<i64>("", "id").unwrap())
            .collect()
    };
    let (shop_account, alice_account) = (ids[0], ids[1]);
    if !o.pollers_only {
        eprintln!("filling the history with {} transfers ...", o.history_rows);
        fill_history(&db, shop_account, alice_account, o.history_rows).await;
        // After a bulk load, PostgreSQL's autovacuum would analyze the table while the
        // paths are measured, taking a core at random times: done here first, as a
        // table that grew over months has its statistics.
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            eprintln!("VACUUM ANALYZE, CHECKPOINT ...");
            db.execute_unprepared("VACUUM ANALYZE").await.unwrap();
            // And the load's dirty pages written out now: otherwise the checkpoint
            // spreads their writes over the next minutes, under the measurements.
            db.execute_unprepared("CHECKPOINT").await.unwrap();
        }
    }
    // Transfers among many accounts, each with its own token, debtor and creditor
    // picked at random: what a bank sees, where the one-pair row queues on two
    // accounts' locks.
    let mut crowd = String::from("accounts = {\n");
    if !o.pollers_only {
        for i in 0..CROWD {
            let user = format!("crowd{i}");
            call(
                &client,
                Method::POST,
                format!("{base}/bank/accounts"),
                &admin,
                Some(json!({"username": user, "password": "crowd-password", "name": user})),
            )
            .await;
            let bearer = bearer_by_password(
                &client,
                &format!("{base}/bank/accounts/{user}/token"),
                &user,
                "crowd-password",
                "readwrite",
            )
            .await;
            crowd.push_str(&format!("  {{\"{user}\", \"{bearer}\"}},\n"));
        }
    }
    crowd.push_str(
        "}\nwrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
         request = function()\n  local i = math.random(#accounts)\n  local j = math.random(#accounts - 1)\n  \
         if j >= i then j = j + 1 end\n  wrk.headers[\"Authorization\"] = accounts[i][2]\n  \
         return wrk.format(nil, \"/bank/accounts/\" .. accounts[i][1] .. \"/transactions\", nil,\n    \
         '{\"payto_uri\":\"payto://x-taler-bank/localhost/' .. accounts[j][1] .. '?message=bench\",\"amount\":\"KUDOS:0.01\"}')\nend\n",
    );
    let crowd_script = dir.join("crowd.lua");
    std::fs::write(&crowd_script, crowd).unwrap();
    let crowd_script = crowd_script.display().to_string();
    let ceiling_port = free_port();
    let ceiling = OpenApiService::new(Ceiling(db.clone()), "ceiling", "1");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", ceiling_port))
        .await
        .unwrap();
    let config = taler_openapi::Config::from_ini(Default::default()).unwrap();
    tokio::spawn(taler_openapi::serve::serve(
        listener,
        poem::Route::new().nest("/", ceiling),
        config.limits,
        tokio::sync::watch::channel(false).1,
    ));
    let c = |p: &str| format!("http://127.0.0.1:{ceiling_port}{p}");
    let post_script = dir.join("post.lua");
    std::fs::write(
        &post_script,
        // Each wrk thread numbers its own requests under a prefix of its own, so
        // every pot name is new (a repeated name would be a 409, not an insert).
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
         threads = 0\nsetup = function(thread)\n  threads = threads + 1\n  thread:set(\"id\", threads)\nend\n\
         counter = 0\nrequest = function()\n  counter = counter + 1\n  \
         return wrk.format(nil, nil, nil, '{\"pot_name\":\"w' .. id .. '-' .. counter .. '-' .. os.time() .. '\",\"description\":\"d\"}')\nend\n",
    )
    .unwrap();
    let post_script = post_script.display().to_string();
    // A fixed body each (an order gets an id of its own; a transfer is a new one).
    let body_script = |name: &str, body: Value| {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
                 wrk.body = '{body}'\n"
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let order_script = body_script(
        "order.lua",
        json!({"order": {"amount": "KUDOS:1", "summary": "bench"}}),
    );
    let transfer_script = body_script(
        "transfer.lua",
        json!({"payto_uri": "payto://x-taler-bank/localhost/shop?message=bench", "amount": "KUDOS:0.01"}),
    );
    if o.hold {
        println!("server pid {pid}, ceilings at {}", c("/"));
        println!("history: {base}/bank/accounts/shop/taler-revenue/history?limit=-20");
        println!(
            "order: {} with Authorization: {shop} and {order_script}",
            private("/orders")
        );
        println!(
            "transfer: {base}/bank/accounts/alice/transactions with Authorization: {alice_bearer} and {transfer_script}"
        );
        println!("bearer: Authorization: {bank_bearer}");
        println!("basic: Authorization: {basic}");
        println!(
            "pot: {} with Authorization: {shop}",
            private(&format!("/pots/{pot_id}"))
        );
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }

    if !o.pollers_only {
        let s = o.seconds;
        let bare = wrk(&c("/bare"), 32, s, None, None);
        let read = wrk(&c(&format!("/read/{pot_id}")), 32, s, None, None);
        // The same at the history's 16 connections: what its p99 compares with.
        let read16 = wrk(&c(&format!("/read/{pot_id}")), 16, s, None, None);
        // The history before any write of the bench: the transfers below add to it.
        let history = format!("{base}/bank/accounts/shop/taler-revenue/history?limit=-20");
        // Warm: each pooled connection prepares and plans the page's statement once.
        wrk(&history, 16, 1, Some(&bank_bearer), None);
        let bearer = wrk(&history, 16, s, Some(&bank_bearer), None);
        let basic_m = wrk(&history, 16, s, Some(&basic), None);
        // Writes: see `WRITE_ROUNDS`.
        let (mut inserts, mut posts) = (Vec::new(), Vec::new());
        let round = (3 * s).div_ceil(WRITE_ROUNDS).max(1);
        for _ in 0..WRITE_ROUNDS {
            inserts.push(wrk(&c("/insert"), 32, round, None, Some(&post_script)));
            posts.push(wrk(
                &private("/pots"),
                32,
                round,
                Some(&shop),
                Some(&post_script),
            ));
        }
        let (insert, post) = (mean(&inserts), mean(&posts));
        let post_name = format!("POST pot, instance token (mean of {WRITE_ROUNDS})");
        let insert_name = format!("ceiling: + one sea-orm insert (mean of {WRITE_ROUNDS})");
        let rows: Vec<(&str, Measured, &str, f64)> = vec![
            (
                "GET pot, instance token",
                wrk(
                    &private(&format!("/pots/{pot_id}")),
                    32,
                    s,
                    Some(&shop),
                    None,
                ),
                "read",
                read.rps,
            ),
            (
                "GET template, instance token",
                wrk(&private("/templates/coffee"), 32, s, Some(&shop), None),
                "read",
                read.rps,
            ),
            (
                "GET report, instance token",
                wrk(
                    &private(&format!("/reports/{report_id}")),
                    32,
                    s,
                    Some(&shop),
                    None,
                ),
                "read",
                read.rps,
            ),
            (
                "GET OTP device, instance token",
                wrk(&private("/otp-devices/till"), 32, s, Some(&shop), None),
                "read",
                read.rps,
            ),
            (
                "GET pot, administrator token",
                wrk(
                    &m(&format!("/private/pots/{admin_pot_id}")),
                    32,
                    s,
                    Some(&admin),
                    None,
                ),
                "read",
                read.rps,
            ),
            (
                "GET template, public (wallet)",
                wrk(&m("/instances/shop/templates/coffee"), 32, s, None, None),
                "read",
                read.rps,
            ),
            (&post_name, post, "insert", insert.rps),
            // Writes beyond one row, for their round trips: the order's check of the
            // instance's bank accounts, notification and webhooks; the transfer's
            // creditor, two balances and its pollers.
            (
                "POST order, no inventory, instance token",
                wrk(&private("/orders"), 32, s, Some(&shop), Some(&order_script)),
                "insert",
                insert.rps,
            ),
            (
                "POST bank transfer, among 32 accounts",
                wrk(&base, 32, s, None, Some(&crowd_script)),
                "insert",
                insert.rps,
            ),
            (
                "POST bank transfer, one account to another",
                wrk(
                    &format!("{base}/bank/accounts/alice/transactions"),
                    32,
                    s,
                    Some(&alice_bearer),
                    Some(&transfer_script),
                ),
                "insert",
                insert.rps,
            ),
        ];

        println!();
        println!(
            "database: {}",
            if o.database.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            }
        );
        println!(
            "{:<44} {:>10} {:>9} {:>9} {:>8}",
            "path", "req/s", "p50 ms", "p99 ms", "ratio"
        );
        let tabbed = std::env::var_os(SIDE_BY_SIDE).is_some();
        let line = |name: &str, m: &Measured, ratio: &str| {
            println!(
                "{name:<44} {:>10.0} {:>9.2} {:>9.2} {ratio:>8}",
                m.rps, m.p50_ms, m.p99_ms
            );
            if tabbed {
                println!(
                    "row\t{name}\t{:.0}\t{:.2}\t{:.2}\t{ratio}",
                    m.rps, m.p50_ms, m.p99_ms
                );
            }
        };
        line("ceiling: bare poem-openapi handler", &bare, "");
        line("ceiling: + one sea-orm point read", &read, "100%");
        line("ceiling: the same, 16 connections", &read16, "");
        line(&insert_name, &insert, "100%");
        for (name, m, of, ceiling) in &rows {
            line(name, m, &format!("{:.0}% {of}", 100.0 * m.rps / ceiling));
        }
        let history_name = format!("history limit=-20, {} rows, 16 conns", o.history_rows);
        line(&format!("{history_name}, bearer"), &bearer, "");
        line(
            &format!("{history_name}, Basic"),
            &basic_m,
            &format!("{:.0}% bearer", 100.0 * basic_m.rps / bearer.rps),
        );

        // The goals, as ratios of this run.
        let verdict = |met: bool| if met { "met" } else { "NOT met" };
        let reads = rows
            .iter()
            .filter(|(name, ..)| name.ends_with("instance token") && name.starts_with("GET"))
            .map(|(_, m, _, ceiling)| m.rps / ceiling)
            .fold(f64::INFINITY, f64::min);
        let post = rows
            .iter()
            .find(|(name, ..)| name.starts_with("POST"))
            .map(|(_, m, _, ceiling)| m.rps / ceiling)
            .unwrap_or(0.0);
        println!();
        println!(
            "goal 1, authorized reads >= 60% of the read ceiling: slowest {:.0}%, {}",
            100.0 * reads,
            verdict(reads >= 0.6)
        );
        let basic_ratio = basic_m.rps / bearer.rps;
        println!(
            "goal 2, HTTP Basic >= 50% of bearer on the history: {:.0}%, {}",
            100.0 * basic_ratio,
            verdict(basic_ratio >= 0.5)
        );
        // An absolute figure, unlike the others: the read ceiling's own p99 at the same
        // 16 connections shows how fast this machine is in this run.
        println!(
            "goal 4, history p99 < 5 ms at 16 connections: bearer {:.2} ms ({:.1}x the read ceiling's p99 of {:.2} ms at 16 connections), {}",
            bearer.p99_ms,
            bearer.p99_ms / read16.p99_ms,
            read16.p99_ms,
            verdict(bearer.p99_ms < 5.0)
        );
        // The issue measured POST pot at the single-insert ceiling; runs vary by ~10%.
        println!(
            "goal 5, writes at their ratio to the insert ceiling (>= 90%): {:.0}%, {}",
            100.0 * post,
            verdict(post >= 0.9)
        );
        // Issue 36's targets for PostgreSQL (printed for both engines: "the same
        // ratios as SQLite"); its history target is at 1,000,000 rows.
        println!(
            "scale-out targets: reads >= 90% of the read ceiling: {:.0}%, {}; \
             POST pot >= 80% of the insert ceiling: {:.0}%, {}; history p99 <= 5 ms \
             ({} rows): {:.2} ms, {}",
            100.0 * reads,
            verdict(reads >= 0.9),
            100.0 * post,
            verdict(post >= 0.8),
            o.history_rows,
            bearer.p99_ms,
            verdict(bearer.p99_ms <= 5.0),
        );
    }

    // Long polling: all pollers at once, then arriving over five seconds.
    let mut goals_met = true;
    for (name, batch) in [
        ("at once", o.pollers),
        ("over 5 s", o.pollers.div_ceil(100)),
    ] {
        let p = pollers(&base, &bank_bearer, pid, o.pollers, batch).await;
        let added = p.waiting_rss - p.start_rss;
        println!();
        println!(
            "long pollers, arriving {name}:   {} ({} answered with the transfer)",
            o.pollers, p.woken
        );
        println!(
            "server RSS:                    {:.0} MiB before, {:.0} MiB waiting (+{added:.0} MiB, {:.1} KiB each), {:.0} MiB 5 s after",
            p.start_rss,
            p.waiting_rss,
            added * 1024.0 / o.pollers as f64,
            p.after_rss
        );
        println!(
            "wake after one transfer:       p50 {:.0} ms, p99 {:.0} ms, last {:.0} ms",
            p.p50_ms, p.p99_ms, p.last_ms
        );
        // Goal 3, scaled to the pollers asked for: 200 MB (190.7 MiB) per 10,000.
        let budget = 200e6 / (1024.0 * 1024.0) * o.pollers as f64 / 10_000.0;
        let met = added < budget && p.p99_ms < 500.0 && p.after_rss < p.start_rss + 15.0;
        goals_met &= met;
        println!(
            "goal: < {budget:.1} MiB, wake p99 < 500 ms, memory back within 15 MiB: {}",
            if met { "met" } else { "NOT met" }
        );
        println!(
            "scale-out target, wake p99 <= 300 ms: {:.0} ms, {}",
            p.p99_ms,
            if p.p99_ms <= 300.0 { "met" } else { "NOT met" }
        );
    }
    if !goals_met {
        println!("(long-poll goal not met in this run)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// What one long-poll run measured.
struct Pollers {
    start_rss: f64,
    waiting_rss: f64,
    after_rss: f64,
    woken: usize,
    p50_ms: f64,
    p99_ms: f64,
    last_ms: f64,
}

/// `n` idle long pollers on the shop's Revenue history, started `batch` at a time
/// (50 ms apart); after 5 s one transfer wakes them all.
async fn pollers(base: &str, bearer: &str, pid: u32, n: usize, batch: usize) -> Pollers {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(n + 16)
        .build()
        .unwrap();
    // wrk leaves requests in flight when it stops: transfers still queued on their
    // accounts' locks would land after the newest row is read and wake the pollers
    // before the measured transfer.
    let idle = Instant::now();
    while !server_idle(pid).await && idle.elapsed() < Duration::from_secs(60) {}
    let start_rss = rss_mib(pid);
    let url = format!("{base}/bank/accounts/shop/taler-revenue/history?limit=1&timeout_ms=120000");
    // Start after the newest row, so every poller waits.
    let newest: Value = client
        .get(format!(
            "{base}/bank/accounts/shop/taler-revenue/history?limit=-1"
        ))
        .header("Authorization", bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null); // 204: no transfers yet
    let offset = newest["incoming_transactions"][0]["row_id"]
        .as_u64()
        .unwrap_or(0);
    let url = format!("{url}&offset={offset}");
    let answered = Arc::new(std::sync::Mutex::new(Vec::with_capacity(n)));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 && i % batch.max(1) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let req = client.get(&url).header("Authorization", bearer);
        let answered = answered.clone();
        tasks.push(tokio::spawn(async move {
            if let Ok(resp) = req.send().await {
                let at = Instant::now();
                let ok = resp.status() == reqwest::StatusCode::OK;
                let _ = resp.bytes().await;
                answered.lock().unwrap().push((ok, at));
            }
        }));
        tokio::task::yield_now().await;
    }
    // Five seconds, and then until the server is idle: pollers that arrived all at once
    // may still be running their first looks (on PostgreSQL that takes longer), and a
    // transfer before they park would time their first look, not their wake.
    let waited = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    while !server_idle(pid).await && waited.elapsed() < Duration::from_secs(60) {}
    let waiting_rss = rss_mib(pid);
    let sent = Instant::now();
    client
        .post(format!("{base}/bank/accounts/alice/transactions"))
        .basic_auth("alice", Some("alice-password"))
        .json(&json!({"payto_uri": "payto://x-taler-bank/localhost/shop?message=wake", "amount": "KUDOS:1"}))
        .send()
        .await
        .unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let mut waits: Vec<Duration> = answered
        .lock()
        .unwrap()
        .iter()
        .filter(|(ok, _)| *ok)
        .map(|(_, at)| at.saturating_duration_since(sent))
        .collect();
    waits.sort();
    let woken = waits.len();
    let ms = |p: usize| {
        waits
            .get((woken * p / 100).min(woken.saturating_sub(1)))
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3
    };
    drop(client);
    tokio::time::sleep(Duration::from_secs(5)).await;
    Pollers {
        start_rss,
        waiting_rss,
        after_rss: rss_mib(pid),
        woken,
        p50_ms: ms(50),
        p99_ms: ms(99),
        last_ms: waits.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
