//! Configuration: a Taler-style INI file (`[section]`, `KEY = value`, `@INLINE@`),
//! overridden by `TALER_OPENAPI_*` environment variables.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use crate::taler::{amount::check_currency, secret};

/// Sections and keys of a Taler INI file; names are case-insensitive.
#[derive(Debug, Clone, Default)]
pub struct Ini {
    sections: BTreeMap<String, BTreeMap<String, String>>,
    /// Every (section, key) the program asked for, set or not: what is set and never
    /// asked for is no option of ours (a typo, say), reported by
    /// [`Config::unknown_options`]. Shared by the clones, which read the same file.
    asked: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<(String, String)>>>,
}

impl Ini {
    pub fn parse_file(path: &Path) -> Result<Ini, String> {
        let mut ini = Ini::default();
        ini.read_file(path, 0)?;
        Ok(ini)
    }

    pub fn parse_str(text: &str) -> Result<Ini, String> {
        let mut ini = Ini::default();
        ini.read_text(text, Path::new("."), "<string>", 0)?;
        Ok(ini)
    }

    fn read_file(&mut self, path: &Path, depth: u32) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read configuration file {}: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        self.read_text(&text, dir, &path.display().to_string(), depth)
    }

    fn read_text(
        &mut self,
        text: &str,
        dir: &Path,
        origin: &str,
        depth: u32,
    ) -> Result<(), String> {
        if depth > 8 {
            return Err(format!("{origin}: @INLINE@ nested too deeply"));
        }
        let mut section: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty()
                || line.starts_with('#')
                || line.starts_with(';')
                || line.starts_with('%')
            {
                continue;
            }
            if let Some(include) = line.strip_prefix("@INLINE@") {
                self.read_file(&dir.join(include.trim()), depth + 1)?;
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = Some(name.trim().to_ascii_lowercase());
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("{origin}:{}: expected `KEY = value`", n + 1))?;
            let section = section
                .as_ref()
                .ok_or_else(|| format!("{origin}:{}: option outside of a section", n + 1))?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            self.sections
                .entry(section.clone())
                .or_default()
                .insert(key.trim().to_ascii_uppercase(), value.to_owned());
        }
        Ok(())
    }

    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((section.to_ascii_lowercase(), key.to_ascii_uppercase()));
        self.sections
            .get(&section.to_ascii_lowercase())
            .and_then(|s| s.get(&key.to_ascii_uppercase()))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A `YES`/`NO` option (any case; also `true`/`false`, `1`/`0`), `default` if unset.
    pub fn flag(&self, section: &str, key: &str, default: bool) -> Result<bool, String> {
        match self
            .get(section, key)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => Ok(default),
            Some("yes" | "true" | "1") => Ok(true),
            Some("no" | "false" | "0") => Ok(false),
            Some(other) => Err(format!("[{section}] {key} `{other}`: expected YES or NO")),
        }
    }

    pub fn set(&mut self, section: &str, key: &str, value: &str) {
        self.sections
            .entry(section.to_ascii_lowercase())
            .or_default()
            .insert(key.to_ascii_uppercase(), value.to_owned());
    }

    /// `[section] KEY: not an option (did you mean NAME?)` for every option set in one
    /// of `sections` that was never asked for (nor is in `later`, read after start-up),
    /// with the nearest name that is, when one is near.
    fn unasked(&self, sections: &[String], later: &[(&str, &str)]) -> Vec<String> {
        let asked = self.asked.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut found = Vec::new();
        for section in sections {
            let Some(keys) = self.sections.get(section) else {
                continue;
            };
            let known: Vec<&str> = asked
                .iter()
                .filter(|(s, _)| s == section)
                .map(|(_, k)| k.as_str())
                .chain(later.iter().filter(|(s, _)| s == section).map(|(_, k)| *k))
                .collect();
            for key in keys.keys() {
                if known.contains(&key.as_str()) {
                    continue;
                }
                let nearest = known
                    .iter()
                    .map(|k| (edit_distance(key, k), *k))
                    .filter(|(d, _)| *d <= 3)
                    .min();
                found.push(match nearest {
                    Some((_, name)) => {
                        format!("[{section}] {key}: not an option (did you mean {name}?)")
                    }
                    None => format!("[{section}] {key}: not an option of taler-openapi"),
                });
            }
        }
        found
    }

    /// Names of the sections starting with `prefix`.
    pub fn sections_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.sections
            .keys()
            .map(String::as_str)
            .filter(move |s| s.starts_with(prefix))
    }

    fn number<T: std::str::FromStr>(
        &self,
        section: &str,
        key: &str,
        default: T,
    ) -> Result<T, String> {
        match self.get(section, key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("[{section}] {key}: `{v}` is not a number")),
        }
    }
}

/// Levenshtein distance between two option names (short ASCII strings).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Options read after start-up, by a command or a task, not by `Config::from_ini`.
const READ_LATER: &[(&str, &str)] = &[
    ("bank", "GC_ABORT_AFTER"),
    ("bank", "GC_CLEAN_AFTER"),
    ("taler-openapi", "ADMIN_TOKEN_FILE"),
];

/// How wallets and frontends should render the currency (api-common `CurrencySpecification`).
#[derive(Debug, Clone)]
pub struct CurrencySpec {
    /// The currency code (`[taler] CURRENCY`).
    pub currency: String,
    pub name: String,
    pub num_fractional_input_digits: u32,
    pub num_fractional_normal_digits: u32,
    pub num_fractional_trailing_zero_digits: u32,
    pub alt_unit_names: BTreeMap<String, String>,
}

/// A report generator: a configuration section naming a program (`BINARY`).
#[derive(Debug, Clone)]
pub struct ReportGenerator {
    pub binary: String,
    pub description: String,
    /// `TIMEOUT` in seconds (default 60): a run taking longer is killed and retried.
    pub timeout_secs: u64,
    /// Where this generator's `target_address`es live.
    pub targets: ReportTargets,
}

/// The space a generator's deliveries are confined to; every generator names one.
#[derive(Debug, Clone)]
pub enum ReportTargets {
    /// `TARGET_DIRECTORY`: a `target_address` is a relative path inside this directory
    /// (no `..`, no absolute path, no `file://`, no symlink out of it); the program gets
    /// the resolved absolute path and the directory in `TALER_OPENAPI_REPORT_ROOT`.
    Directory(PathBuf),
    /// `TARGET_PATTERN`: a `target_address` must match this regular expression whole
    /// (an e-mail address, say), and is passed to the program as it is.
    Pattern(regex::Regex),
}

/// `PUBLIC_URL`: an absolute `http` or `https` URL without query or fragment; its
/// path gets a trailing slash.
fn public_url(text: &str) -> Result<url::Url, String> {
    let refuse = |why: &str| format!("[{SECTION}] PUBLIC_URL `{text}`: {why}");
    let mut url = url::Url::parse(text).map_err(|e| refuse(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(refuse("must be an http or https URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(refuse("must have no query, fragment or user"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The whole server configuration, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub currency: String,
    pub currency_spec: CurrencySpec,
    /// Administrator token of every service unless a service sets its own.
    pub admin_token: String,
    /// Where the admin token was found, for the start-up message.
    pub admin_token_origin: String,
    pub merchant_admin_token: Option<String>,
    pub bank_admin_token: Option<String>,
    pub donau_admin_token: Option<String>,
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_upload_bytes: usize,
    /// Connection and hashing limits (`[taler-openapi]`, see README "Security").
    pub limits: ServerLimits,
    pub merchant_base: String,
    pub bank_base: String,
    pub donau_base: String,
    /// `PUBLIC_URL` (`https://pay.example.com/`): where clients reach this server; every
    /// service's public base URL derives from it (`.../merchant/`, ...). Unset: from
    /// the request (`Host`, and the forwarded headers if trusted).
    pub public_url: Option<url::Url>,
    /// `TRUST_FORWARDED_HEADERS` (default NO): believe `X-Forwarded-Host`,
    /// `X-Forwarded-Proto` and `X-Forwarded-Prefix`, which only a proxy in front of
    /// this server may set.
    pub trust_forwarded_headers: bool,
    /// Section name (lower case) → generator.
    pub report_generators: BTreeMap<String, ReportGenerator>,
    /// `[bank] CREDIT_FEE`: what the bank keeps of each incoming transfer, if anything.
    pub bank_credit_fee: Option<crate::taler::Amount>,
    /// `[bank] DEFAULT_DEBIT_THRESHOLD`: how far new accounts may go below zero
    /// (zero unless configured, as in libeufin-bank).
    pub bank_default_debit_threshold: crate::taler::Amount,
    /// `[bank] REGISTRATION_BONUS`: what the administrator's account gives each new
    /// account, if anything.
    pub bank_registration_bonus: Option<crate::taler::Amount>,
    /// `[bank] WIRE_TYPE` and its details: the form of the bank's own payto URIs.
    pub bank_wire: BankWire,
    /// `[bank] ALLOW_REGISTRATIONS`, `ALLOW_DELETIONS`, `ALLOW_EDIT_NAME`,
    /// `ALLOW_EDIT_CASHOUT_PAYTO_URI`: what anyone, and account owners, may do
    /// themselves (the administrator may always).
    pub bank_allow: BankAllow,
    /// `[bank] TAN_SMS`, `TAN_EMAIL`: the program that delivers a second factor's code
    /// on each channel (the address as its argument, the message on standard input),
    /// as libeufin-bank's options of the same names. A channel without one is not
    /// offered.
    pub bank_tan_channels: BTreeMap<String, std::path::PathBuf>,
    /// `[donau]`: the donation unit keys the Donau makes each year.
    pub donau_keys: DonauKeys,
    pub ini: Ini,
}

/// `[donau] DONATION_UNIT_VALUES` (the values of the receipts, one RSA key each per
/// year; `NONE`: the Donau makes no keys), `DONATION_UNIT_KEY_BITS` (modulus size,
/// 1024 to 4096, default 2048) and `LEGAL_DOMAIN` (the authority `/keys` names).
#[derive(Debug, Clone)]
pub struct DonauKeys {
    pub values: Vec<crate::taler::Amount>,
    pub key_bits: usize,
    pub legal_domain: String,
}

impl DonauKeys {
    /// At most this many values: each is a key to generate and to sign with.
    pub const MAX_VALUES: usize = 32;

    fn from_ini(ini: &Ini, currency: &str) -> Result<DonauKeys, String> {
        let values = match ini.get("donau", "DONATION_UNIT_VALUES") {
            // The usual 1-2-5 ladder from 1 to 1000 units of the currency.
            None => [1u64, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
                .iter()
                .map(|v| crate::taler::Amount::new(currency, *v, 0))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("[donau] DONATION_UNIT_VALUES: {e}"))?,
            Some(text) if text.eq_ignore_ascii_case("none") => Vec::new(),
            Some(text) => {
                let mut values = Vec::new();
                for word in text.split_whitespace() {
                    let amount: crate::taler::Amount = word
                        .parse()
                        .map_err(|e| format!("[donau] DONATION_UNIT_VALUES: {word}: {e}"))?;
                    if amount.currency() != currency || amount.is_zero() {
                        return Err(format!(
                            "[donau] DONATION_UNIT_VALUES: {word} must be a non-zero amount \
                             in {currency}"
                        ));
                    }
                    if !values.contains(&amount) {
                        values.push(amount);
                    }
                }
                values
            }
        };
        if values.len() > Self::MAX_VALUES {
            return Err(format!(
                "[donau] DONATION_UNIT_VALUES: at most {} values",
                Self::MAX_VALUES
            ));
        }
        let key_bits: usize = ini.number("donau", "DONATION_UNIT_KEY_BITS", 2048)?;
        if !(1024..=crate::taler::rsa::MAX_BITS).contains(&key_bits) {
            return Err("[donau] DONATION_UNIT_KEY_BITS must be 1024 to 4096".to_owned());
        }
        Ok(DonauKeys {
            values,
            key_bits,
            legal_domain: ini
                .get("donau", "LEGAL_DOMAIN")
                .unwrap_or("unconfigured")
                .to_owned(),
        })
    }
}

/// The form of the bank's own payto URIs, as libeufin-bank configures it:
/// `[bank] WIRE_TYPE = x-taler-bank` (default) with `X_TALER_BANK_PAYTO_HOSTNAME`
/// (default `localhost`), or `WIRE_TYPE = iban` with an optional `IBAN_PAYTO_BIC`
/// (accounts get a generated IBAN unless registered with one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankWire {
    XTalerBank { hostname: String },
    Iban { bic: Option<String> },
}

impl BankWire {
    fn from_ini(ini: &Ini) -> Result<BankWire, String> {
        match ini
            .get("bank", "WIRE_TYPE")
            .unwrap_or("x-taler-bank")
            .to_ascii_lowercase()
            .as_str()
        {
            "x-taler-bank" => {
                let hostname = ini
                    .get("bank", "X_TALER_BANK_PAYTO_HOSTNAME")
                    .unwrap_or("localhost")
                    .to_owned();
                let ok = !hostname.is_empty()
                    && hostname
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
                if !ok {
                    return Err(format!(
                        "[bank] X_TALER_BANK_PAYTO_HOSTNAME `{hostname}` is not a host name"
                    ));
                }
                Ok(BankWire::XTalerBank { hostname })
            }
            "iban" => {
                let bic = ini.get("bank", "IBAN_PAYTO_BIC").map(str::to_owned);
                if let Some(bic) = &bic {
                    let re = regex::Regex::new("^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$")
                        .expect("valid regex");
                    if !re.is_match(bic) {
                        return Err(format!("[bank] IBAN_PAYTO_BIC `{bic}` is not a BIC"));
                    }
                }
                Ok(BankWire::Iban { bic })
            }
            other => Err(format!(
                "[bank] WIRE_TYPE `{other}`: expected `x-taler-bank` or `iban`"
            )),
        }
    }

    /// The wire type as `GET /config` names it.
    pub fn wire_type(&self) -> &'static str {
        match self {
            BankWire::XTalerBank { .. } => "x-taler-bank",
            BankWire::Iban { .. } => "iban",
        }
    }
}

/// What a bank account's owner may do without the administrator, as libeufin-bank's
/// switches of the same names (all `NO` by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BankAllow {
    /// `ALLOW_REGISTRATIONS`: anyone may open an account (`POST /accounts` without
    /// credentials).
    pub registrations: bool,
    pub deletions: bool,
    pub edit_name: bool,
    pub edit_cashout_payto_uri: bool,
}

/// What the server grants one client and all of them together; each has a key in
/// `[taler-openapi]` and a line in the README's Security section.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// `PASSWORD_WORKERS`: password verifications running at once (default: CPU cores).
    pub password_workers: usize,
    /// `PASSWORD_QUEUE`: verifications waiting for a worker before 503 (default 16, at least 1).
    pub password_queue: usize,
    /// `LOGIN_FAILURES_PER_ACCOUNT`, `LOGIN_FAILURES_PER_ADDRESS`, `LOGIN_WINDOW_SECONDS`.
    pub login: crate::taler::throttle::ThrottleLimits,
    /// `HEADER_TIMEOUT_SECONDS`: to send a request's headers, and the longest a kept-alive
    /// connection may sit idle before its next request (default 10).
    pub header_timeout: std::time::Duration,
    /// `BODY_TIMEOUT_SECONDS`: to send a request's body once the headers are in (default 30).
    pub body_timeout: std::time::Duration,
    /// `DATABASE_WAIT_SECONDS`: how long a request waits for a database connection (the
    /// database restarting, or every connection busy) before it is answered 503 with
    /// `Retry-After` (default 5).
    pub database_wait: std::time::Duration,
    /// `DATABASE_CONNECTIONS`: the PostgreSQL pool's size (default 16; SQLite keeps 8,
    /// it writes one at a time anyway). Each server holds one more, for `LISTEN`.
    pub database_connections: u32,
    /// `SHUTDOWN_TIMEOUT_SECONDS`: how long requests in flight may take to finish once
    /// the server was told to stop (default 8, within Docker's 10 before SIGKILL).
    pub shutdown_timeout: std::time::Duration,
    /// `MAX_CONNECTIONS`: open client connections at once; more wait to be accepted
    /// (default 16384, lowered to fit the process's file-descriptor limit).
    pub max_connections: usize,
    /// `MAX_REQUESTS_RUNNING`: requests without a body the application runs at once (default
    /// 256); more wait, each with its connection alone, until one finishes or parks. A
    /// running request holds tens of KiB; a crowd of long pollers arriving together would
    /// otherwise all hold that at once, and leave the heap fragmented after.
    pub max_requests_running: usize,
    /// `MIN_REPORT_FREQUENCY_SECONDS`: the shortest report frequency (default 60).
    pub min_report_frequency_secs: u64,
    /// `REPORT_LEASE_SECONDS`: how long a report run's claim lasts unless its server
    /// renews it (default 15; renewed every third of that while the run is alive), so
    /// the longest a report waits when its server died mid-delivery.
    pub report_lease: std::time::Duration,
    /// `[merchant] LEGAL_PRESERVATION`: how long orders are kept after their creation
    /// (the reference backend's option and default, "10 years"); then they are removed.
    pub legal_preservation: crate::taler::RelativeTime,
    /// `[merchant] ANONYMOUS_ORDER_*` and `UNCLAIMED_ORDER_LIFETIME`: what anyone may do
    /// through a public template.
    pub anonymous_orders: AnonymousOrderLimits,
    /// `SQLITE_SYNCHRONOUS`: `FULL` (default: an acknowledged write survives a power
    /// loss) or `NORMAL` (faster; survives a process crash, not a power loss).
    pub sqlite_synchronous_full: bool,
}

/// Bounds on the orders anyone can create without credentials (from a public
/// template), so that nobody can fill the database or hold the stock.
#[derive(Debug, Clone, Copy)]
pub struct AnonymousOrderLimits {
    /// `[merchant] ANONYMOUS_ORDERS_PER_MINUTE`: creations from one client address (an
    /// IPv6 client: its /64 network) per minute, shared by the servers of one database
    /// (default 30).
    pub per_address_per_minute: u32,
    /// `[merchant] ANONYMOUS_ORDER_MAX_UNITS`: inventory units one such order may hold,
    /// summed over its products (default 100).
    pub max_units: u64,
    /// `[merchant] ANONYMOUS_ORDER_MAX_HOLD`: the longest such an order's pay deadline
    /// (and so its hold on units) may be after its creation (default 1 hour).
    pub max_hold_secs: i64,
    /// `[merchant] UNCLAIMED_ORDER_LIFETIME`: such an order no wallet claimed is removed
    /// this long after its creation (default 15 minutes).
    pub unclaimed_lifetime_secs: i64,
}

impl Default for AnonymousOrderLimits {
    fn default() -> Self {
        AnonymousOrderLimits {
            per_address_per_minute: 30,
            max_units: 100,
            max_hold_secs: 3_600,
            unclaimed_lifetime_secs: 900,
        }
    }
}

pub const ENV_LISTEN: &str = "TALER_OPENAPI_LISTEN";
pub const ENV_DATABASE_URL: &str = "TALER_OPENAPI_DATABASE_URL";
pub const ENV_ADMIN_TOKEN: &str = "TALER_OPENAPI_ADMIN_TOKEN";
pub const ENV_CURRENCY: &str = "TALER_OPENAPI_CURRENCY";
pub const ENV_PUBLIC_URL: &str = "TALER_OPENAPI_PUBLIC_URL";

const SECTION: &str = "taler-openapi";
const DEFAULT_ADMIN_TOKEN_FILE: &str = "taler-openapi-admin-token";

impl Config {
    /// Loads the file (if any), applies the environment, and resolves the admin token
    /// (generating and storing one on first start).
    pub fn load(file: Option<&Path>) -> Result<Config, String> {
        Config::load_with(file, &[])
    }

    /// As `load`, then `overrides` (section, key, value: command-line options) win over
    /// both the file and the environment.
    pub fn load_with(
        file: Option<&Path>,
        overrides: &[(&str, &str, String)],
    ) -> Result<Config, String> {
        let mut ini = match file {
            Some(path) => Ini::parse_file(path)?,
            None => Ini::default(),
        };
        for (var, section, key) in [
            (ENV_LISTEN, SECTION, "LISTEN"),
            (ENV_DATABASE_URL, SECTION, "DATABASE_URL"),
            (ENV_ADMIN_TOKEN, SECTION, "ADMIN_TOKEN"),
            (ENV_CURRENCY, "taler", "CURRENCY"),
            (ENV_PUBLIC_URL, SECTION, "PUBLIC_URL"),
        ] {
            if let Ok(value) = std::env::var(var) {
                ini.set(section, key, &value);
            }
        }
        for (section, key, value) in overrides {
            ini.set(section, key, value);
        }
        let mut config = Config::from_ini(ini)?;
        if config.admin_token.is_empty() {
            let path = PathBuf::from(
                config
                    .ini
                    .get(SECTION, "ADMIN_TOKEN_FILE")
                    .unwrap_or(DEFAULT_ADMIN_TOKEN_FILE),
            );
            config.admin_token = load_or_create_token_file(&path)?;
            config.admin_token_origin = format!("file {}", absolute(&path).display());
        }
        for option in config.unknown_options() {
            tracing::warn!("{option}");
        }
        Ok(config)
    }

    /// The options set in our sections (`[taler]`, `[taler-openapi]`, `[merchant]`,
    /// `[bank]`, `[donau]`, the currency's `[currency-*]`, `[report-generator-*]`) that
    /// no part of taler-openapi reads: typos, mostly (`CURENCY = EUR` would otherwise
    /// start a KUDOS server without a word). Other sections belong to other programs
    /// sharing the file and are left alone.
    pub fn unknown_options(&self) -> Vec<String> {
        let mut sections: Vec<String> = ["taler", SECTION, "merchant", "bank", "donau"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sections.push(format!("currency-{}", self.currency.to_ascii_lowercase()));
        sections.extend(
            self.ini
                .sections_with_prefix("report-generator-")
                .map(str::to_owned),
        );
        self.ini.unasked(&sections, READ_LATER)
    }

    /// Builds the configuration from INI values alone (no environment, no files written).
    /// An empty `admin_token` means none was configured.
    ///
    /// Long on purpose: one statement per option, in the order of the table in
    /// `docs/configuration.md`, so that the two are read side by side.
    pub fn from_ini(ini: Ini) -> Result<Config, String> {
        let currency = ini.get("taler", "CURRENCY").unwrap_or("KUDOS").to_owned();
        check_currency(&currency).map_err(|e| format!("[taler] CURRENCY `{currency}`: {e}"))?;
        let bank_amount = |key: &str| -> Result<Option<crate::taler::Amount>, String> {
            match ini.get("bank", key) {
                None => Ok(None),
                Some(text) => {
                    let amount: crate::taler::Amount = text
                        .parse()
                        .map_err(|e| format!("[bank] {key} `{text}`: {e}"))?;
                    if amount.currency() != currency {
                        return Err(format!("[bank] {key} `{text}` is not in {currency}"));
                    }
                    Ok(Some(amount))
                }
            }
        };
        let bank_credit_fee = bank_amount("CREDIT_FEE")?;
        let bank_default_debit_threshold = match bank_amount("DEFAULT_DEBIT_THRESHOLD")? {
            Some(a) => a,
            None => crate::taler::Amount::zero(&currency).map_err(|e| e.to_string())?,
        };
        let bank_registration_bonus = bank_amount("REGISTRATION_BONUS")?.filter(|a| !a.is_zero());
        let bank_wire = BankWire::from_ini(&ini)?;
        let bank_allow = BankAllow {
            registrations: ini.flag("bank", "ALLOW_REGISTRATIONS", false)?,
            deletions: ini.flag("bank", "ALLOW_DELETIONS", false)?,
            edit_name: ini.flag("bank", "ALLOW_EDIT_NAME", false)?,
            edit_cashout_payto_uri: ini.flag("bank", "ALLOW_EDIT_CASHOUT_PAYTO_URI", false)?,
        };
        let bank_tan_channels = ["sms", "email"]
            .into_iter()
            .filter_map(|channel| {
                let key = format!("TAN_{}", channel.to_ascii_uppercase());
                ini.get("bank", &key)
                    .map(|script| (channel.to_owned(), std::path::PathBuf::from(script)))
            })
            .collect();
        let spec_section = format!("currency-{}", currency.to_ascii_lowercase());
        let currency_spec = CurrencySpec {
            currency: currency.clone(),
            name: ini
                .get(&spec_section, "NAME")
                .unwrap_or(&currency)
                .to_owned(),
            num_fractional_input_digits: ini.number(&spec_section, "FRACTIONAL_INPUT_DIGITS", 2)?,
            num_fractional_normal_digits: ini.number(
                &spec_section,
                "FRACTIONAL_NORMAL_DIGITS",
                2,
            )?,
            num_fractional_trailing_zero_digits: ini.number(
                &spec_section,
                "FRACTIONAL_TRAILING_ZERO_DIGITS",
                2,
            )?,
            alt_unit_names: match ini.get(&spec_section, "ALT_UNIT_NAMES") {
                Some(json) => serde_json::from_str(json)
                    .map_err(|e| format!("[{spec_section}] ALT_UNIT_NAMES: {e}"))?,
                None => BTreeMap::from([("0".to_owned(), currency.clone())]),
            },
        };

        let admin_token = ini.get(SECTION, "ADMIN_TOKEN").unwrap_or("").to_owned();
        let service_token = |section: &str| -> Result<Option<String>, String> {
            ini.get(section, "ADMIN_TOKEN")
                .map(|t| check_token(section, t))
                .transpose()
        };
        if !admin_token.is_empty() {
            check_token(SECTION, &admin_token)?;
        }

        let mut report_generators = BTreeMap::new();
        for section in ini.sections_with_prefix("report-generator-") {
            let binary = ini
                .get(section, "BINARY")
                .ok_or_else(|| format!("[{section}] BINARY is required"))?;
            let targets = match (
                ini.get(section, "TARGET_DIRECTORY"),
                ini.get(section, "TARGET_PATTERN"),
            ) {
                (Some(dir), None) => ReportTargets::Directory(PathBuf::from(dir)),
                (None, Some(pattern)) => ReportTargets::Pattern(
                    regex::Regex::new(&format!("^(?:{pattern})$"))
                        .map_err(|e| format!("[{section}] TARGET_PATTERN: {e}"))?,
                ),
                _ => {
                    return Err(format!(
                        "[{section}] must set exactly one of TARGET_DIRECTORY (deliveries are \
                         files in that directory) or TARGET_PATTERN (what a target address \
                         must look like)"
                    ));
                }
            };
            report_generators.insert(
                section.to_owned(),
                ReportGenerator {
                    binary: binary.to_owned(),
                    description: ini.get(section, "DESCRIPTION").unwrap_or(binary).to_owned(),
                    timeout_secs: ini.number(section, "TIMEOUT", 60)?,
                    targets,
                },
            );
        }

        let donau_keys = DonauKeys::from_ini(&ini, &currency)?;
        Ok(Config {
            listen: ini
                .get(SECTION, "LISTEN")
                .unwrap_or("127.0.0.1:8080")
                .to_owned(),
            database_url: ini
                .get(SECTION, "DATABASE_URL")
                .unwrap_or("sqlite://taler-openapi.sqlite?mode=rwc")
                .to_owned(),
            currency,
            currency_spec,
            admin_token_origin: if admin_token.is_empty() {
                String::new()
            } else {
                "configuration".to_owned()
            },
            admin_token,
            merchant_admin_token: service_token("merchant")?,
            bank_admin_token: service_token("bank")?,
            donau_admin_token: service_token("donau")?,
            max_upload_bytes: ini.number(SECTION, "MAX_UPLOAD_BYTES", 1024 * 1024)?,
            limits: ServerLimits::from_ini(&ini)?,
            merchant_base: base_path(ini.get(SECTION, "MERCHANT_BASE").unwrap_or("/merchant/"))?,
            bank_base: base_path(ini.get(SECTION, "BANK_BASE").unwrap_or("/bank/"))?,
            donau_base: base_path(ini.get(SECTION, "DONAU_BASE").unwrap_or("/donau/"))?,
            public_url: ini.get(SECTION, "PUBLIC_URL").map(public_url).transpose()?,
            trust_forwarded_headers: ini.flag(SECTION, "TRUST_FORWARDED_HEADERS", false)?,
            report_generators,
            bank_credit_fee,
            bank_default_debit_threshold,
            bank_registration_bonus,
            bank_wire,
            bank_allow,
            bank_tan_channels,
            donau_keys,
            ini,
        })
    }

    /// The database URL as it may be printed or logged: its password, and a
    /// `password` query parameter (libpq's), replaced by `***`.
    pub fn database_url_shown(&self) -> String {
        redact_url(&self.database_url)
    }

    pub fn merchant_admin_token(&self) -> &str {
        self.merchant_admin_token
            .as_deref()
            .unwrap_or(&self.admin_token)
    }

    pub fn bank_admin_token(&self) -> &str {
        self.bank_admin_token
            .as_deref()
            .unwrap_or(&self.admin_token)
    }

    pub fn donau_admin_token(&self) -> &str {
        self.donau_admin_token
            .as_deref()
            .unwrap_or(&self.admin_token)
    }
}

impl ServerLimits {
    fn from_ini(ini: &Ini) -> Result<ServerLimits, String> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let defaults = crate::taler::throttle::ThrottleLimits::default();
        let secs = |key: &str, default: u64| -> Result<std::time::Duration, String> {
            match ini.number(SECTION, key, default)? {
                0 => Err(format!("[{SECTION}] {key} must be at least 1")),
                n => Ok(std::time::Duration::from_secs(n)),
            }
        };
        let synchronous = ini.get(SECTION, "SQLITE_SYNCHRONOUS").unwrap_or("FULL");
        Ok(ServerLimits {
            password_workers: ini.number(SECTION, "PASSWORD_WORKERS", cores)?.max(1),
            password_queue: ini.number(SECTION, "PASSWORD_QUEUE", 16)?,
            login: crate::taler::throttle::ThrottleLimits {
                per_account: ini.number(
                    SECTION,
                    "LOGIN_FAILURES_PER_ACCOUNT",
                    defaults.per_account,
                )?,
                per_peer: ini.number(SECTION, "LOGIN_FAILURES_PER_ADDRESS", defaults.per_peer)?,
                window: secs("LOGIN_WINDOW_SECONDS", defaults.window.as_secs())?,
            },
            header_timeout: secs("HEADER_TIMEOUT_SECONDS", 10)?,
            body_timeout: secs("BODY_TIMEOUT_SECONDS", 30)?,
            database_wait: secs("DATABASE_WAIT_SECONDS", 5)?,
            database_connections: match ini.number(SECTION, "DATABASE_CONNECTIONS", 16u32)? {
                0 => {
                    return Err(format!(
                        "[{SECTION}] DATABASE_CONNECTIONS must be at least 1"
                    ));
                }
                n => n,
            },
            shutdown_timeout: secs("SHUTDOWN_TIMEOUT_SECONDS", 8)?,
            max_connections: ini.number(SECTION, "MAX_CONNECTIONS", 16384)?.max(1),
            max_requests_running: ini.number(SECTION, "MAX_REQUESTS_RUNNING", 256)?.max(1),
            min_report_frequency_secs: ini
                .number(SECTION, "MIN_REPORT_FREQUENCY_SECONDS", 60)?
                .max(1),
            report_lease: secs("REPORT_LEASE_SECONDS", 15)?,
            legal_preservation: match ini.get("merchant", "LEGAL_PRESERVATION") {
                None => crate::taler::RelativeTime::Micros(10 * 365 * 86_400_000_000),
                Some(v) => crate::taler::RelativeTime::parse_fancy(v).ok_or_else(|| {
                    format!("[merchant] LEGAL_PRESERVATION: `{v}` is no relative time (`10 years`)")
                })?,
            },
            anonymous_orders: {
                let d = AnonymousOrderLimits::default();
                let relative = |key: &str, default: i64| -> Result<i64, String> {
                    match ini.get("merchant", key) {
                        None => Ok(default),
                        Some(v) => match crate::taler::RelativeTime::parse_fancy(v) {
                            Some(crate::taler::RelativeTime::Micros(us)) if us >= 1_000_000 => {
                                Ok((us / 1_000_000) as i64)
                            }
                            _ => Err(format!(
                                "[merchant] {key}: `{v}` is no relative time of at least 1 s (`15 minutes`)"
                            )),
                        },
                    }
                };
                AnonymousOrderLimits {
                    per_address_per_minute: ini
                        .number(
                            "merchant",
                            "ANONYMOUS_ORDERS_PER_MINUTE",
                            d.per_address_per_minute,
                        )?
                        .max(1),
                    max_units: ini
                        .number("merchant", "ANONYMOUS_ORDER_MAX_UNITS", d.max_units)?
                        .max(1),
                    max_hold_secs: relative("ANONYMOUS_ORDER_MAX_HOLD", d.max_hold_secs)?,
                    unclaimed_lifetime_secs: relative(
                        "UNCLAIMED_ORDER_LIFETIME",
                        d.unclaimed_lifetime_secs,
                    )?,
                }
            },
            sqlite_synchronous_full: match synchronous.to_ascii_uppercase().as_str() {
                "FULL" => true,
                "NORMAL" => false,
                other => {
                    return Err(format!(
                        "[{SECTION}] SQLITE_SYNCHRONOUS `{other}`: use FULL or NORMAL"
                    ));
                }
            },
        })
    }
}

fn check_token(section: &str, token: &str) -> Result<String, String> {
    match token.strip_prefix(secret::TOKEN_PREFIX) {
        Some(rest) if rest.len() >= 16 => Ok(token.to_owned()),
        _ => Err(format!(
            "[{section}] ADMIN_TOKEN must start with `{}` followed by at least 16 characters",
            secret::TOKEN_PREFIX
        )),
    }
}

/// Normalises a base path to `/name/`.
fn base_path(p: &str) -> Result<String, String> {
    let trimmed = p.trim_matches('/');
    if trimmed.is_empty() || trimmed.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
        return Err(format!(
            "base path `{p}` must be a non-empty path such as /merchant/"
        ));
    }
    Ok(format!("/{trimmed}/"))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Reads the admin token file, or creates it (mode 0600) with a fresh token.
fn load_or_create_token_file(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => check_token("admin token file", text.trim()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = secret::generate_token();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .map_err(|e| format!("cannot create admin token file {}: {e}", path.display()))?;
            writeln!(file, "{token}")
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(token)
        }
        Err(e) => Err(format!(
            "cannot read admin token file {}: {e}",
            path.display()
        )),
    }
}

/// `url` without its credentials: the password and any `password` query parameter
/// become `***`; a URL that does not parse is not shown at all.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(a database URL that does not parse)".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_shown_without_credentials() {
        assert_eq!(
            redact_url("postgres://taler:hunter2@db.example:5432/taler"),
            "postgres://taler:***@db.example:5432/taler"
        );
        assert_eq!(
            redact_url("postgres://db.example/taler?user=taler&password=hunter2&sslmode=require"),
            "postgres://db.example/taler?user=taler&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://taler-openapi.sqlite?mode=rwc"),
            "sqlite://taler-openapi.sqlite?mode=rwc"
        );
        assert!(!redact_url("post gres://a:hunter2@x").contains("hunter2"));
    }

    #[test]
    fn options_nothing_reads_are_reported_with_the_nearest_name() {
        let ini = Ini::parse_str(
            "[taler]\nCURENCY = EUR\n[bank]\nALLOW_REGISTRATION = YES\nGC_CLEAN_AFTER = 1 day\n\
             [taler-openapi]\nLISTEN = 127.0.0.1:0\nFROBNICATE = 1\n\
             [currency-kudos]\nNAME = Kudos\nNAMME = x\n[exchange]\nBASE_URL = x\n",
        )
        .unwrap();
        let config = Config::from_ini(ini).unwrap();
        assert_eq!(
            config.unknown_options(),
            [
                "[taler] CURENCY: not an option (did you mean CURRENCY?)",
                "[taler-openapi] FROBNICATE: not an option of taler-openapi",
                "[bank] ALLOW_REGISTRATION: not an option (did you mean ALLOW_REGISTRATIONS?)",
                "[currency-kudos] NAMME: not an option (did you mean NAME?)",
            ]
        );
        assert_eq!(edit_distance("CURENCY", "CURRENCY"), 1);
        assert_eq!(edit_distance("", "ABC"), 3);
    }

    #[test]
    fn parses_taler_ini() {
        let ini = Ini::parse_str(
            "# comment\n[TALER]\nCURRENCY = EUR\n\n[taler-openapi]\nlisten = 0.0.0.0:9000\n\
             MERCHANT_BASE = shop\n[report-generator-email]\nBINARY = \"/usr/bin/mailer\"\n\
             TARGET_PATTERN = [^@ ]+@[^@ ]+\n",
        )
        .unwrap();
        let c = Config::from_ini(ini).unwrap();
        assert_eq!(c.currency, "EUR");
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.merchant_base, "/shop/");
        assert_eq!(
            c.report_generators["report-generator-email"].binary,
            "/usr/bin/mailer"
        );
        assert_eq!(c.currency_spec.alt_unit_names["0"], "EUR");
        assert!(c.admin_token.is_empty());
    }

    #[test]
    fn donau_keys_default_ladder_none_and_refusals() {
        let config = |text: &str| {
            Config::from_ini(Ini::parse_str(&format!("[taler]\nCURRENCY = EUR\n{text}")).unwrap())
        };
        let c = config("").unwrap();
        let ladder: Vec<String> = c.donau_keys.values.iter().map(|v| v.to_string()).collect();
        assert_eq!(ladder.first().unwrap(), "EUR:1");
        assert_eq!(ladder.last().unwrap(), "EUR:1000");
        assert_eq!(ladder.len(), 10);
        assert_eq!(c.donau_keys.key_bits, 2048);
        let c = config("[donau]\nDONATION_UNIT_VALUES = none\n").unwrap();
        assert!(c.donau_keys.values.is_empty());
        let c = config("[donau]\nDONATION_UNIT_VALUES = EUR:0.5 EUR:2 EUR:2\n").unwrap();
        assert_eq!(c.donau_keys.values.len(), 2);
        for bad in [
            "DONATION_UNIT_VALUES = KUDOS:1",
            "DONATION_UNIT_VALUES = EUR:0",
            "DONATION_UNIT_VALUES = 5",
            "DONATION_UNIT_KEY_BITS = 512",
            "DONATION_UNIT_KEY_BITS = 8192",
        ] {
            assert!(config(&format!("[donau]\n{bad}\n")).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_bad_values() {
        for text in [
            "[taler]\nCURRENCY = eur\n",
            "[taler-openapi]\nADMIN_TOKEN = hunter2\n",
            "[taler-openapi]\nMAX_UPLOAD_BYTES = lots\n",
            "[report-generator-x]\nDESCRIPTION = no binary\n",
            "[report-generator-x]\nBINARY = /bin/true\n",
            "[report-generator-x]\nBINARY = /bin/true\nTARGET_PATTERN = (\n",
            "KEY = outside\n",
            "[taler]\nnot an option\n",
        ] {
            let result = Ini::parse_str(text).and_then(Config::from_ini);
            assert!(result.is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn admin_token_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("taler-openapi-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        let _ = std::fs::remove_file(&path);
        let first = load_or_create_token_file(&path).unwrap();
        let second = load_or_create_token_file(&path).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
