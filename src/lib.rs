//! taler-openapi: the GNU Taler merchant backend, the bank's Taler Revenue API and the
//! Donau, served OpenAPI-first from one listener.
//!
//! [`build`] assembles the application from a [`Config`]; `main` and the tests both use it.

pub mod bank;
pub mod config;
pub mod donau;
pub mod health;
pub mod http;
pub mod longpoll;
pub mod merchant;
pub mod notifier;
pub mod serve;
pub mod state;
pub mod store;
pub mod swagger;
pub mod taler;

use std::net::SocketAddr;

use poem::{Endpoint, EndpointExt, Route, middleware::CatchPanic};
use poem_openapi::{LicenseObject, OpenApi, OpenApiService};
use sea_orm::DatabaseConnection;

pub use config::Config;

pub use state::{AppState, State};

pub use http::NoContent;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The three services, each an OpenAPI service with its own spec.
pub struct Services {
    pub merchant: OpenApiService<merchant::Api, ()>,
    pub bank: OpenApiService<bank::Api, ()>,
    pub integration: OpenApiService<bank::integration::Api, ()>,
    pub donau: OpenApiService<donau::Api, ()>,
}

fn service<T: OpenApi>(
    api: T,
    title: &str,
    description: &str,
    base: &str,
) -> OpenApiService<T, ()> {
    OpenApiService::new(api, title, VERSION)
        .description(format!(
            "{description} Text never contains NUL (U+0000): a request carrying one in its \
             body, path or query is refused with 400. Request bodies are JSON: another \
             `Content-Type` is refused with 415."
        ))
        .license(
            LicenseObject::new("AGPL-3.0-or-later")
                .url("https://www.gnu.org/licenses/agpl-3.0.html"),
        )
        .server(base.trim_end_matches('/'))
}

impl Services {
    pub fn new(state: &State) -> Services {
        let c = &state.config;
        Services {
            merchant: service(
                merchant::api(state),
                "GNU Taler merchant backend",
                "The merchant backend API of GNU Taler. Private endpoints of an instance live under \
                 `/instances/{instance}/private/...`; the default instance `admin` is also reachable \
                 without the `/instances/admin` prefix. Every error body is an `ErrorDetail`.",
                &c.merchant_base,
            ),
            bank: service(
                bank::api(state),
                "GNU Taler bank",
                "The bank as libeufin-bank serves it: the core bank API (accounts, balances, \
                 transactions, tokens), the Taler Wire Gateway and the Taler Revenue API. Every \
                 error body is an `ErrorDetail`.",
                &c.bank_base,
            ),
            integration: service(
                bank::integration::api(state),
                "GNU Taler Bank Integration API",
                "The Taler Bank Integration API of the bank, as libeufin-bank serves it: what a \
                 wallet calls to take part in a withdrawal the account's owner started. Every \
                 error body is an `ErrorDetail`.",
                &bank::withdrawals::integration_base_of(&c.bank_base),
            ),
            donau: service(
                donau::api(state),
                "GNU Taler Donau",
                "The Donau donation authority: configuration and the charity registry. Every error \
                 body is an `ErrorDetail`.",
                &c.donau_base,
            ),
        }
    }

    /// The published specs as `(file name, JSON)`, as `openapi --out` writes them.
    pub fn specs(&self) -> [(&'static str, String); 4] {
        [
            ("merchant.json", merchant::spec(&self.merchant)),
            ("bank.json", http::published_spec(&self.bank)),
            (
                "bank-integration.json",
                http::published_spec(&self.integration),
            ),
            ("donau.json", http::published_spec(&self.donau)),
        ]
    }
}

/// The specs of a configuration, without a database.
pub fn specs(config: Config) -> [(&'static str, String); 4] {
    let state = AppState::new(
        DatabaseConnection::default(),
        config,
        notifier::Notifier::local(),
        notifier::Notifier::local(),
        0,
    );
    Services::new(&state).specs()
}

/// Opens the database (running migrations) and makes sure the default instance exists.
pub async fn open_state(config: Config, schema: Option<&str>) -> Result<State, String> {
    open_state_with(config, schema, |_| {}).await
}

/// [`open_state`], with `prepare` given the database connection before the server
/// shares it (the query-plan tests set a metric callback there, to see every
/// statement the server runs).
pub async fn open_state_with(
    config: Config,
    schema: Option<&str>,
    prepare: impl FnOnce(&mut sea_orm::DatabaseConnection),
) -> Result<State, String> {
    let mut db = store::connect(&config, schema)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", config.database_url_shown()))?;
    prepare(&mut db);
    store::instances::ensure_exists(
        &db,
        merchant::instances::settings::instance_row(
            merchant::instances::auth::DEFAULT_INSTANCE.to_owned(),
            "Default instance".to_owned(),
            taler::secret::hash_password(&taler::secret::generate_token()),
            &merchant::instances::settings::InstanceSettings::defaults(),
        ),
    )
    .await
    .map_err(|e| format!("cannot create the default instance: {e}"))?;
    let bank_admin_account = bank::ensure_admin_account(&db, &config.bank_wire)
        .await
        .map_err(|e| format!("cannot create the bank's administrator account: {e}"))?;
    let incoming = notifier::Notifier::start(&config.database_url, schema, "incoming")
        .await
        .map_err(|e| format!("cannot listen for bank notifications: {e}"))?;
    let order_changes = notifier::Notifier::start(&config.database_url, schema, "orders")
        .await
        .map_err(|e| format!("cannot listen for order notifications: {e}"))?;
    Ok(AppState::new(
        db,
        config,
        incoming,
        order_changes,
        bank_admin_account,
    ))
}

/// The whole application: three services, Swagger UI, and the Taler error edge.
pub fn build(state: &State) -> impl Endpoint + 'static {
    let c = &state.config;
    let services = Services::new(state);
    let swagger = swagger::endpoint(&[
        ("merchant", format!("{}openapi.json", c.merchant_base)),
        ("bank", format!("{}openapi.json", c.bank_base)),
        (
            "bank-integration",
            format!(
                "{}openapi.json",
                bank::withdrawals::integration_base_of(&c.bank_base)
            ),
        ),
        ("donau", format!("{}openapi.json", c.donau_base)),
    ]);
    Route::new()
        .at("/", poem::endpoint::make_sync(|_| swagger::index_page()))
        .nest(
            c.merchant_base.trim_end_matches('/'),
            merchant::endpoint(services.merchant, state),
        )
        .nest(
            bank::withdrawals::integration_base_of(&c.bank_base).trim_end_matches('/'),
            bank::integration::endpoint(services.integration, state.clone()),
        )
        .nest(
            c.bank_base.trim_end_matches('/'),
            bank::endpoint(services.bank, state.clone()),
        )
        .nest(
            c.donau_base.trim_end_matches('/'),
            donau::endpoint(services.donau),
        )
        .nest("/swagger-ui", swagger)
        .at("/health", health::endpoint(state.clone()))
        .with(http::TalerEdge {
            body: http::body::BodyRules {
                max_upload_bytes: c.max_upload_bytes,
                body_timeout: c.limits.body_timeout,
                forms: vec![merchant::templates::using::form_route(&c.merchant_base)],
            },
        })
        .with(CatchPanic::new().with_handler(http::panic_response))
}

/// A server running in the background, as the tests use it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: State,
    handle: tokio::task::JoinHandle<()>,
    /// Tells the listener to stop accepting and finish what it serves.
    stop: tokio::sync::watch::Sender<bool>,
    /// Tells the report scheduler to claim nothing more and finish its runs.
    scheduler_stop: tokio::sync::watch::Sender<bool>,
    scheduler: tokio::task::JoinHandle<()>,
    leases: merchant::reports::scheduler::Leases,
    cleanup: tokio::task::JoinHandle<()>,
    webhooks: tokio::task::JoinHandle<()>,
    donau_keys: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn stop(self) {
        self.abort_tasks();
    }

    /// Stops serving and every background task.
    fn abort_tasks(&self) {
        self.handle.abort();
        self.scheduler.abort();
        self.cleanup.abort();
        self.webhooks.abort();
        self.donau_keys.abort();
    }

    /// Stops as a service manager expects, within `[taler-openapi]
    /// SHUTDOWN_TIMEOUT_SECONDS` (what is still running then is cut): background work
    /// stopped, report runs in progress finished, then no new connections, parked long
    /// polls answered with their empty result, requests in flight finished; last, the
    /// report leases of the runs it did not finish are given back, so another server
    /// (or the next start) takes them up at once.
    pub async fn shutdown(mut self) {
        self.cleanup.abort();
        self.webhooks.abort();
        self.donau_keys.abort();
        let timeout = self.state.config.limits.shutdown_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        // The scheduler first: it claims nothing more, and report runs in progress may
        // finish (they fetch their data from this server, so it still serves them).
        let _ = self.scheduler_stop.send(true);
        if tokio::time::timeout_at(deadline, &mut self.scheduler)
            .await
            .is_err()
        {
            tracing::warn!("report runs still in progress at the shutdown timeout are cut");
        }
        let _ = self.stop.send(true);
        // Again and again: a long poll that subscribes after one wake gets the next.
        let state = self.state.clone();
        let stopping = tokio::spawn(async move {
            loop {
                state.incoming.stopping();
                state.order_changes.stopping();
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
        if tokio::time::timeout_at(deadline, &mut self.handle)
            .await
            .is_err()
        {
            tracing::warn!(
                timeout_s = timeout.as_secs(),
                "requests still running at the shutdown timeout are cut"
            );
        }
        stopping.abort();
        self.abort_tasks();
        merchant::reports::scheduler::release(&self.state, &self.leases).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.abort_tasks();
    }
}

/// Binds `state.config.listen` (port 0 picks a free port) and serves in the background.
pub async fn start(state: State) -> std::io::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(state.config.listen.as_str()).await?;
    let addr = listener.local_addr()?;
    let _ = state.self_url.set(format!("http://{addr}"));
    let app = build(&state);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(serve::serve(
        listener,
        app,
        state.config.limits.clone(),
        stopped,
    ));
    let (scheduler_stop, scheduler_stopped) = tokio::sync::watch::channel(false);
    let (scheduler, leases) = merchant::reports::scheduler::spawn(state.clone(), scheduler_stopped);
    let cleanup = merchant::orders::lifecycle::spawn(state.clone());
    let webhooks = merchant::webhooks::delivery::spawn(state.clone());
    let donau_keys = donau::keys::spawn(state.clone());
    Ok(RunningServer {
        addr,
        state,
        handle,
        stop,
        scheduler_stop,
        scheduler,
        leases,
        cleanup,
        webhooks,
        donau_keys,
    })
}
