//! `taler-openapi [-c FILE] [serve | openapi --out DIR | migrate]`

use std::path::PathBuf;

use taler_openapi::Config;

const USAGE: &str = "usage: taler-openapi [-c FILE] [serve | openapi --out DIR | migrate]

  serve            run the server (the default); applies migrations first
  openapi --out D  write merchant.json, bank.json and donau.json into D
  migrate          apply database migrations and exit

  -c FILE          Taler-style configuration file (see README.md)";

enum Command {
    Serve,
    OpenApi(PathBuf),
    Migrate,
}

fn parse_args() -> Result<(Option<PathBuf>, Command), String> {
    let mut args = std::env::args().skip(1);
    let (mut config, mut command, mut out) = (None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-c" | "--config" => {
                config = Some(PathBuf::from(args.next().ok_or("-c needs a file")?))
            }
            "--out" => out = Some(PathBuf::from(args.next().ok_or("--out needs a directory")?)),
            "-h" | "--help" => return Err(String::new()),
            "serve" | "openapi" | "migrate" if command.is_none() => command = Some(arg),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    let command = match command.as_deref() {
        None | Some("serve") => Command::Serve,
        Some("migrate") => Command::Migrate,
        Some(_) => Command::OpenApi(out.ok_or("openapi needs --out DIR")?),
    };
    Ok((config, command))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm_migration=warn".into()),
        )
        .init();
    if let Err(e) = run().await {
        if !e.is_empty() {
            eprintln!("error: {e}");
        }
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), String> {
    let (config_file, command) = parse_args()?;
    match command {
        Command::OpenApi(dir) => {
            // The specs depend on the configuration only for base paths; no database, no token.
            let ini = match &config_file {
                Some(f) => taler_openapi::config::Ini::parse_file(f)?,
                None => Default::default(),
            };
            let config = Config::from_ini(ini)?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            for (name, json) in taler_openapi::specs(config) {
                let path = dir.join(name);
                std::fs::write(&path, json + "\n")
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Migrate => {
            let config = Config::load(config_file.as_deref())?;
            taler_openapi::store::migrate(&config)
                .await
                .map_err(|e| format!("migration failed: {e}"))?;
            println!("database {} is up to date", config.database_url);
            Ok(())
        }
        Command::Serve => {
            let config = Config::load(config_file.as_deref())?;
            let origin = config.admin_token_origin.clone();
            let state = taler_openapi::open_state(config, None).await?;
            let server = taler_openapi::start(state.clone())
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", state.config.listen))?;
            let c = &state.config;
            let base = format!("http://{}", server.addr);
            println!(
                "taler-openapi {} listening on {base}",
                taler_openapi::VERSION
            );
            println!("  database:    {}", c.database_url);
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
            tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
            println!("shutting down");
            server.shutdown().await;
            Ok(())
        }
    }
}
