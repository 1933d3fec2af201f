//! The command line and the log, as a user meets them: help and version on stdout, a
//! key pair command, a bank password command, and an access log line per request that never shows a credential
//! and carries no colour codes when the output is not a terminal.

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Stdio},
    time::{Duration, Instant},
};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_taler-openapi"))
}

#[test]
fn help_and_version_go_to_stdout_with_exit_0() {
    for (args, expected) in [
        (&["--help"][..], "Usage: taler-openapi"),
        (&["-h"][..], "Usage: taler-openapi"),
        (&["--version"][..], "taler-openapi 0.1.0"),
        (&["-V"][..], "taler-openapi 0.1.0"),
        (&["help", "openapi"][..], "--out <DIR>"),
    ] {
        let out = binary().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains(expected), "{args:?}: {stdout}");
    }
    let help = String::from_utf8(binary().arg("--help").output().unwrap().stdout).unwrap();
    for env in [
        "TALER_OPENAPI_LISTEN",
        "TALER_OPENAPI_DATABASE_URL",
        "TALER_OPENAPI_CURRENCY",
        "TALER_OPENAPI_LOG_FORMAT",
    ] {
        assert!(help.contains(env), "--help does not name {env}");
    }
    let out = binary().arg("bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("bogus"));
}

#[test]
fn keypair_prints_52_character_keys() {
    let out = binary().arg("keypair").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{text}");
    for key in keys {
        assert_eq!(key.len(), 52, "{key}");
        assert!(key.parse::<taler_openapi::taler::EddsaPublicKey>().is_ok());
    }
}

/// `passwd admin PASSWORD` (libeufin-bank's `passwd`): sets the administrator's password
/// in the database, refuses a short one and an unknown account.
#[test]
fn passwd_sets_a_bank_password() {
    let dir = std::env::temp_dir().join(format!("taler-openapi-passwd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
    let run = |args: &[&str]| {
        binary()
            .args(args)
            .env("TALER_OPENAPI_DATABASE_URL", &url)
            .env(
                "TALER_OPENAPI_ADMIN_TOKEN",
                "secret-token:cli-test-admin-token",
            )
            .output()
            .unwrap()
    };
    let out = run(&["passwd", "admin", "admin-password"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout).unwrap().contains("`admin`"));
    let out = run(&["passwd", "admin", "short"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["passwd", "nobody", "long-enough-password"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("nobody"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A server process on a free port, with its SQLite file in `dir`.
struct Served {
    child: Child,
    stdout: BufReader<ChildStdout>,
    base: String,
    /// What it printed up to the end of its banner.
    seen: String,
}

const ADMIN_TOKEN: &str = "secret-token:CLITESTADMINTOKEN";

/// Starts the server in `dir` (its SQLite file `db.sqlite` there, shared by every
/// server started in `dir`) with `args`, and waits for the end of its banner.
fn serve(dir: &Path, args: &[&str]) -> Served {
    let mut child = binary()
        .current_dir(dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env(
            "TALER_OPENAPI_DATABASE_URL",
            format!("sqlite://{}/db.sqlite?mode=rwc", dir.display()),
        )
        .env("TALER_OPENAPI_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let mut base = None;
    loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "server ended: {seen}"
        );
        seen.push_str(&line);
        if let Some(url) = line.split("listening on ").nth(1) {
            base = Some(url.trim().to_owned());
        }
        // The JSON banner: one line with the addresses as fields.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
            && let Some(url) = v["fields"]["listening"].as_str()
        {
            base = Some(url.to_owned());
            break;
        }
        if line.contains("admin token:") {
            break;
        }
    }
    Served {
        child,
        stdout,
        base: base.expect("the banner names the address"),
        seen,
    }
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taler-openapi-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Serves on a free port with a fresh SQLite file, makes requests, stops, and returns
/// everything the server wrote to stdout.
fn serve_and_log(format: &str, requests: impl FnOnce(&str)) -> String {
    let dir = scratch(format);
    let mut server = serve(&dir, &["--log-format", format]);
    requests(&server.base);
    std::thread::sleep(Duration::from_millis(200));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut rest = String::new();
    server.stdout.read_to_string(&mut rest).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    server.seen + &rest
}

/// One request with an optional bearer token and JSON body: status and JSON answer.
fn call(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_default())
    })
}

fn get(url: &str, token: Option<&str>) -> u16 {
    call(reqwest::Method::GET, url, token, None).0
}

#[test]
fn access_log_has_a_line_per_request_without_secrets_or_colour() {
    let log = serve_and_log("text", |base| {
        assert_eq!(
            get(&format!("{base}/merchant/config?password=hunter2"), None),
            200
        );
        assert_eq!(
            get(&format!("{base}/merchant/private/pots"), Some(ADMIN_TOKEN)),
            200
        );
        assert_eq!(
            get(
                &format!("{base}/merchant/private/pots"),
                Some("secret-token:WRONG")
            ),
            401
        );
    });
    let access: Vec<&str> = log.lines().filter(|l| l.contains("access")).collect();
    assert_eq!(access.len(), 3, "{log}");
    assert!(
        access[0].contains("GET") && access[0].contains("/merchant/config"),
        "{log}"
    );
    assert!(
        access[0].contains("status=200") && access[0].contains("peer=127.0.0.1"),
        "{log}"
    );
    assert!(access[2].contains("status=401"), "{log}");
    for secret in [
        "hunter2",
        "CLITESTADMINTOKEN",
        "WRONG",
        "Authorization",
        "\u{1b}[",
    ] {
        assert!(!log.contains(secret), "the log shows `{secret}`: {log}");
    }
}

#[test]
fn json_log_lines_parse() {
    let log = serve_and_log("json", |base| {
        assert_eq!(
            get(
                &format!("{base}/bank/accounts/x/taler-revenue/config"),
                None
            ),
            200
        );
    });
    // Every line is JSON, the banner too (issue 36).
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let banner = lines
        .iter()
        .find(|v| v["fields"]["message"] == "taler-openapi listening")
        .expect("the banner");
    assert!(
        banner["fields"]["database"]
            .as_str()
            .unwrap()
            .starts_with("sqlite://")
    );
    let access: Vec<&serde_json::Value> =
        lines.iter().filter(|v| v["target"] == "access").collect();
    assert_eq!(access.len(), 1, "{log}");
    assert_eq!(access[0]["fields"]["status"], 200);
    assert_eq!(access[0]["span"]["method"], "GET");
}

/// SIGTERM (what systemd, Docker and Kubernetes send) stops the server as Ctrl-C does:
/// "shutting down" and exit status 0, not death by the signal (143).
#[cfg(unix)]
#[test]
fn sigterm_shuts_down_gracefully() {
    let dir = scratch("term");
    let Served {
        mut child,
        mut stdout,
        seen,
        ..
    } = serve(&dir, &[]);
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "{status:?}: {seen}{rest}");
    assert!(rest.contains("shutting down"), "{rest}");
}

/// Issue 36, point 4: a server killed outright (SIGKILL: no drop, no shutdown) in the
/// middle of a report delivery. Its claim is no longer renewed, so another server takes
/// the report up once `REPORT_LEASE_SECONDS` (here 1) have passed and delivers it,
/// within the report's period; and the killed server's generator program dies with it
/// instead of delivering the same due time a second time.
#[cfg(target_os = "linux")]
#[test]
fn a_server_killed_mid_delivery_leaves_the_report_to_another() {
    let dir = scratch("kill");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/taler-openapi-report-file");
    let runs = dir.join("runs.log");
    // Says which server (its parent) starts and delivers which due time, slowly.
    let slow = dir.join("slow.sh");
    std::fs::write(
        &slow,
        format!(
            "#!/bin/sh\necho \"$PPID start $TALER_MERCHANT_REPORT_DUE\" >> {runs}\nsleep 2\n\
             echo \"$PPID deliver $TALER_MERCHANT_REPORT_DUE\" >> {runs}\nexec {file} \"$@\"\n",
            runs = runs.display(),
            file = file.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = dir.join("taler-openapi.conf");
    std::fs::write(
        &config,
        format!(
            "[taler-openapi]\nMIN_REPORT_FREQUENCY_SECONDS = 1\nREPORT_LEASE_SECONDS = 1\n\
             [report-generator-slow]\nBINARY = {}\nTIMEOUT = 10\nTARGET_DIRECTORY = {}\n",
            slow.display(),
            dir.display()
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let runs_log = || std::fs::read_to_string(&runs).unwrap_or_default();
    let wait_for = |limit: Duration, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() && start.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(50));
        }
        done()
    };

    let mut first = serve(&dir, &["-c", &config]);
    let (status, body) = call(
        reqwest::Method::POST,
        &format!("{}/merchant/private/reports", first.base),
        Some(ADMIN_TOKEN),
        Some(serde_json::json!({
            "description": "Pots of the day",
            "program_section": "report-generator-slow",
            "mime_type": "application/json",
            "data_source": "/private/pots",
            "target_address": "drop",
            "report_frequency": { "d_us": 4_000_000 },
        })),
    );
    assert_eq!(status, 200, "{body}");
    let id = body["report_serial_id"].as_u64().unwrap();
    let started = format!("{} start ", first.child.id());
    assert!(
        wait_for(Duration::from_secs(10), &|| runs_log().contains(&started)),
        "the first server did not start the run: {}",
        runs_log()
    );
    let due = runs_log()
        .lines()
        .find_map(|l| l.strip_prefix(&started).map(str::to_owned))
        .unwrap();
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let killed = Instant::now();

    let mut second = serve(&dir, &["-c", &config]);
    let delivered = format!("{} deliver {due}", second.child.id());
    assert!(
        wait_for(Duration::from_secs(4), &|| runs_log().contains(&delivered)),
        "the second server did not take the report up within its period: {}",
        runs_log()
    );
    let took = killed.elapsed();
    // The program appends to the log after it is started: wait for that line (a busy
    // disk can hold it a while), rather than guess a time.
    let delivery_log = dir.join("admin/drop/deliveries.log");
    let line = format!("{id} {due}");
    wait_for(Duration::from_secs(10), &|| {
        std::fs::read_to_string(&delivery_log)
            .unwrap_or_default()
            .lines()
            .any(|l| l == line)
    });
    // Long enough for the killed server's program to have delivered, had it lived.
    std::thread::sleep(Duration::from_millis(2500));
    let log = runs_log();
    let deliveries =
        std::fs::read_to_string(dir.join("admin/drop/deliveries.log")).unwrap_or_default();
    let (_, detail) = call(
        reqwest::Method::GET,
        &format!("{}/merchant/private/reports/{id}", second.base),
        Some(ADMIN_TOKEN),
        None,
    );
    second.child.kill().unwrap();
    second.child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !log.contains(&format!("{} deliver", first.child.id())),
        "the killed server's program delivered: {log}"
    );
    let lines: Vec<&str> = deliveries.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| **l == format!("{id} {due}"))
            .count(),
        1,
        "the interrupted due time is delivered once: {deliveries}"
    );
    let mut distinct = lines.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), lines.len(), "{deliveries}");
    assert!(detail.get("last_error_code").is_none(), "{detail}");
    eprintln!("taken up and delivered {took:?} after the kill");
}
