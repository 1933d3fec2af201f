//! The command line: `taler-openapi [OPTIONS] [serve | openapi --out DIR | migrate | keypair |
//! passwd USERNAME PASSWORD | gc]`.

use std::{io::IsTerminal, path::PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use taler_openapi::{Config, config};

/// GNU Taler merchant backend, bank (Revenue API) and Donau, served OpenAPI-first.
///
/// Options fall back to the environment variables shown, then to the configuration
/// file, then to the defaults (see README.md).
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// Taler-style configuration file.
    #[arg(
        short,
        long,
        value_name = "FILE",
        env = "TALER_OPENAPI_CONFIG",
        global = true
    )]
    config: Option<PathBuf>,
    /// Address to listen on (`[taler-openapi] LISTEN`, default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR", env = config::ENV_LISTEN, global = true)]
    listen: Option<String>,
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://...`
    /// (`[taler-openapi] DATABASE_URL`, default a SQLite file in the working directory).
    #[arg(long, value_name = "URL", env = config::ENV_DATABASE_URL, global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// Currency of all three services (`[taler] CURRENCY`, default KUDOS).
    #[arg(long, value_name = "CURRENCY", env = config::ENV_CURRENCY, global = true)]
    currency: Option<String>,
    /// Log lines as human-readable text (coloured on a terminal) or as JSON objects
    /// for log shippers. Levels come from `RUST_LOG` (default `info`; `access=off`
    /// silences the access log).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "TALER_OPENAPI_LOG_FORMAT", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default); applies migrations first.
    Serve,
    /// Write merchant.json, bank.json, bank-integration.json and donau.json into a
    /// directory.
    Openapi {
        /// Directory to write the specs into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Print a fresh EdDSA key pair in Taler's encoding (e.g. a Donau `charity_pub`).
    Keypair,
    /// Set a bank account's password, as `libeufin-bank passwd` does: `passwd admin PW`
    /// lets the bank's administrator log in with a password.
    Passwd {
        /// The account's username (`admin` for the administrator).
        username: String,
        /// The new password.
        password: String,
    },
    /// The bank's garbage collection, as `libeufin-bank gc`: aborts withdrawals nobody
    /// finished (`[bank] GC_ABORT_AFTER`, 15 minutes), deletes aborted ones and expired
    /// tokens (`GC_CLEAN_AFTER`, 14 days). Safe while servers run.
    Gc,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    if let Err(e) = run(cli).await {
        match json_output() {
            true => tracing::error!(error = %e, "error"),
            false => eprintln!("error: {e}"),
        }
        std::process::exit(1);
    }
}

/// `--log-format json`: then every line the program writes is a JSON object, what it
/// would print as text too (the banner, "shutting down", errors, command results).
static JSON_OUTPUT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

fn json_output() -> bool {
    JSON_OUTPUT.get().copied().unwrap_or(false)
}

/// Prints one line of the program's own output: as text, or as a JSON log line.
fn say(line: impl std::fmt::Display) {
    match json_output() {
        true => tracing::info!("{line}"),
        false => println!("{line}"),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm_migration=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = JSON_OUTPUT.set(matches!(format, LogFormat::Json));
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

/// The command-line options that override the file and the environment.
fn overrides(cli: &Cli) -> Vec<(&'static str, &'static str, String)> {
    let mut list = Vec::new();
    if let Some(v) = &cli.listen {
        list.push(("taler-openapi", "LISTEN", v.clone()));
    }
    if let Some(v) = &cli.database_url {
        list.push(("taler-openapi", "DATABASE_URL", v.clone()));
    }
    if let Some(v) = &cli.currency {
        list.push(("taler", "CURRENCY", v.clone()));
    }
    list
}

async fn run(cli: Cli) -> Result<(), String> {
    let overrides = overrides(&cli);
    let file = cli.config.as_deref();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi { out } => {
            // The specs depend on the configuration only for base paths; no database, no token.
            let mut ini = match file {
                Some(f) => config::Ini::parse_file(f)?,
                None => Default::default(),
            };
            for (section, key, value) in &overrides {
                ini.set(section, key, value);
            }
            let config = Config::from_ini(ini)?;
            std::fs::create_dir_all(&out)
                .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            for (name, json) in taler_openapi::specs(config) {
                let path = out.join(name);
                std::fs::write(&path, json + "\n")
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                say(format_args!("wrote {}", path.display()));
            }
            Ok(())
        }
        Command::Migrate => {
            let config = Config::load_with(file, &overrides)?;
            taler_openapi::store::migrate(&config)
                .await
                .map_err(|e| format!("migration failed: {e}"))?;
            say(format_args!(
                "database {} is up to date",
                config.database_url_shown()
            ));
            Ok(())
        }
        Command::Keypair => {
            let (public, private) = taler_openapi::taler::secret::generate_keypair();
            say(format_args!("public key:  {public}"));
            say(format_args!("private key: {private}"));
            Ok(())
        }
        Command::Passwd { username, password } => {
            let config = Config::load_with(file, &overrides)?;
            let db = taler_openapi::store::connect(&config, None)
                .await
                .map_err(|e| {
                    format!("cannot open database {}: {e}", config.database_url_shown())
                })?;
            taler_openapi::bank::ledger::set_password(&db, &config.bank_wire, &username, &password)
                .await?;
            say(format_args!("password of bank account `{username}` set"));
            Ok(())
        }
        Command::Gc => {
            let config = Config::load_with(file, &overrides)?;
            let db = taler_openapi::store::connect(&config, None)
                .await
                .map_err(|e| {
                    format!("cannot open database {}: {e}", config.database_url_shown())
                })?;
            let done = taler_openapi::bank::ledger::collect_garbage(&db, &config.ini).await?;
            say(format_args!(
                "garbage collection: {} withdrawals aborted, {} deleted; {} expired tokens deleted; {} TAN challenges deleted",
                done.withdrawals_aborted,
                done.withdrawals_deleted,
                done.tokens_deleted,
                done.challenges_deleted
            ));
            Ok(())
        }
        Command::Serve => serve(Config::load_with(file, &overrides)?).await,
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (what systemd, Docker and Kubernetes send): both stop
/// the server the same way. Listening starts when this is made, before the banner
/// tells anyone the server is up, so an early signal is not missed.
struct StopSignal {
    #[cfg(unix)]
    signals: (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
}

impl StopSignal {
    fn listen() -> Result<StopSignal, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
            let terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
            Ok(StopSignal {
                signals: (interrupt, terminate),
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    async fn wait(mut self) -> Result<(), String> {
        #[cfg(unix)]
        {
            let (interrupt, terminate) = &mut self.signals;
            tokio::select! {
                _ = interrupt.recv() => Ok(()),
                _ = terminate.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let stop = StopSignal::listen()?;
    let origin = config.admin_token_origin.clone();
    let state = taler_openapi::open_state(config, None).await?;
    let server = taler_openapi::start(state.clone())
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", state.config.listen))?;
    let c = &state.config;
    let base = format!("http://{}", server.addr);
    if json_output() {
        // One structured line: what the text banner says, as fields.
        tracing::info!(
            version = taler_openapi::VERSION,
            listening = %base,
            database = %c.database_url_shown(),
            merchant = %format!("{base}{}", c.merchant_base),
            bank = %format!("{base}{}", c.bank_base),
            donau = %format!("{base}{}", c.donau_base),
            swagger_ui = %format!("{base}/swagger-ui/"),
            admin_token = %format!("in the {origin}"),
            "taler-openapi listening"
        );
    } else {
        println!(
            "taler-openapi {} listening on {base}",
            taler_openapi::VERSION
        );
        println!("  database:    {}", c.database_url_shown());
        println!(
            "  merchant:    {base}{}  (spec: {base}{}openapi.json)",
            c.merchant_base, c.merchant_base
        );
        println!(
            "  bank:        {base}{}  (spec: {base}{}openapi.json)",
            c.bank_base, c.bank_base
        );
        println!(
            "  donau:       {base}{}  (spec: {base}{}openapi.json)",
            c.donau_base, c.donau_base
        );
        println!("  Swagger UI:  {base}/swagger-ui/");
        println!("  admin token: in the {origin}");
    }
    stop.wait().await?;
    say("shutting down");
    server.shutdown().await;
    Ok(())
}
