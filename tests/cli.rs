//! The command line and the log, as a user meets them: help and version on stdout, a
//! key pair command, a bank password command, and an access log line per request that never shows a credential
//! and carries no colour codes when the output is not a terminal.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    time::Duration,
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

/// Serves on a free port with a fresh SQLite file, makes requests, stops, and returns
/// everything the server wrote to stdout.
fn serve_and_log(format: &str, requests: impl FnOnce(&str)) -> String {
    let dir =
        std::env::temp_dir().join(format!("taler-openapi-cli-{}-{format}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = binary()
        .current_dir(&dir)
        .args(["--listen", "127.0.0.1:0", "--log-format", format])
        .env(
            "TALER_OPENAPI_DATABASE_URL",
            format!("sqlite://{}/db.sqlite?mode=rwc", dir.display()),
        )
        .env(
            "TALER_OPENAPI_ADMIN_TOKEN",
            "secret-token:CLITESTADMINTOKEN",
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let base = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "server ended: {seen}"
        );
        seen.push_str(&line);
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().to_owned();
        }
        // The JSON banner: one line with the addresses as fields.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
            && let Some(url) = v["fields"]["listening"].as_str()
        {
            break url.to_owned();
        }
    };
    requests(&base);
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    seen + &rest
}

fn get(url: &str, token: Option<&str>) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap().status().as_u16()
    })
}

#[test]
fn access_log_has_a_line_per_request_without_secrets_or_colour() {
    let log = serve_and_log("text", |base| {
        assert_eq!(
            get(&format!("{base}/merchant/config?password=hunter2"), None),
            200
        );
        assert_eq!(
            get(
                &format!("{base}/merchant/private/pots"),
                Some("secret-token:CLITESTADMINTOKEN")
            ),
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
    let dir = std::env::temp_dir().join(format!("taler-openapi-cli-{}-term", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = binary()
        .current_dir(&dir)
        .args(["--listen", "127.0.0.1:0"])
        .env(
            "TALER_OPENAPI_DATABASE_URL",
            format!("sqlite://{}/db.sqlite?mode=rwc", dir.display()),
        )
        .env(
            "TALER_OPENAPI_ADMIN_TOKEN",
            "secret-token:CLITESTADMINTOKEN",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("admin token:") {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "server ended: {seen}"
        );
        seen.push_str(&line);
    }
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "{status:?}: {seen}{rest}");
    assert!(rest.contains("shutting down"), "{rest}");
}
