//! Everything a handler needs, built once at start-up (`crate::open_state`) and shared
//! by every request: the database, the configuration, the long-poll notifiers, the
//! password checks, and what the services hand each other at start-up.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    http::AllowedMethods,
    notifier::{Notifier, SharedLooks},
    taler::{ApiError, login::Logins, password::PasswordPool, throttle::LoginThrottle},
};

pub type State = Arc<AppState>;

/// A page of a bank history that long pollers share: the account, the page's offset
/// and size, and the wake's sequence number.
pub type HistoryPageKey = (i64, i64, u64, u64);

/// A shared page's answer, encoded (`None`: the page is empty).
pub type HistoryPage = Result<Option<Bytes>, ApiError>;

pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Config,
    /// Wakes long pollers of the bank's histories.
    pub incoming: Notifier,
    /// The bank's `admin` account (its id): source of bonuses, receiver of fees.
    pub bank_admin_account: i64,
    /// Wakes long pollers of orders (by instance serial): a claim, a new order.
    pub order_changes: Notifier,
    /// History pages shared by the long pollers one wake woke.
    pub history_looks: SharedLooks<HistoryPageKey, HistoryPage>,
    /// This server's own base URL (`http://host:port`), known once it listens; the
    /// report scheduler requests data sources through it.
    pub self_url: OnceLock<String>,
    /// The merchant spec's paths and their methods, known once the application is
    /// built (`merchant::endpoint` puts them here): a report's data source must name
    /// one of its `GET` operations.
    pub merchant_paths: OnceLock<Arc<AllowedMethods>>,
    /// HTTP client for requests the server makes itself.
    pub http: reqwest::Client,
    /// Password checks: the bounded hashing pool and the login throttle.
    pub logins: Logins,
    /// Wakes the webhook sender when an event fired on this server.
    pub webhook_wake: tokio::sync::Notify,
    /// The readiness check's last look at the database.
    pub health: crate::health::Health,
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        config: Config,
        incoming: Notifier,
        order_changes: Notifier,
        bank_admin_account: i64,
    ) -> State {
        let l = &config.limits;
        let logins = Logins {
            pool: PasswordPool::new(l.password_workers, l.password_queue),
            throttle: LoginThrottle::new(l.login, db.clone()),
            verified: Default::default(),
        };
        Arc::new(AppState {
            db,
            logins,
            config,
            incoming,
            order_changes,
            bank_admin_account,
            history_looks: Default::default(),
            self_url: Default::default(),
            merchant_paths: Default::default(),
            http: reqwest::Client::new(),
            webhook_wake: Default::default(),
            health: Default::default(),
        })
    }
}
