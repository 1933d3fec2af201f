//! Login throttling: failed password logins are counted per account and per client
//! address in windows that start at the first failure. Past the limit, attempts are refused with 429 and
//! `Retry-After` *before* any password is hashed, until the window ends. The windows
//! are short, so the real owner is never locked out for long, while guessing stays at
//! a few attempts a minute.
//!
//! The counts live in the database (`login_failures`), so every server sharing it
//! counts against the same limit, and they are exact under concurrency: a failure is
//! counted by one atomic upsert that returns the new count, and an attempt whose
//! count went past the limit is answered 429, not 401, even when it was let in before
//! the others failed. A correct password is looked at again after hashing (a read,
//! never a write): when the window filled meanwhile, it is 429 too. So at most
//! `per_account` wrong passwords per window are told they were wrong, however many
//! arrive at once on however many servers.

use std::{
    net::IpAddr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use sea_orm::DatabaseConnection;

use super::{ApiError, ErrorCode};
use crate::store::login_failures::{self, Failures};

/// The limits, from the configuration (`[taler-openapi] LOGIN_*`).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Failed logins on one account per window before it is throttled.
    pub per_account: u32,
    /// Failed logins from one client address per window before it is throttled.
    pub per_peer: u32,
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            per_account: 10,
            per_peer: 30,
            window: Duration::from_secs(60),
        }
    }
}

pub struct LoginThrottle {
    limits: ThrottleLimits,
    db: DatabaseConnection,
}

tokio::task_local! {
    /// The client address of the request being served (set by the HTTP edge).
    pub static PEER: Option<IpAddr>;
}

/// The client address of the current request, if the edge recorded one.
pub fn current_peer() -> Option<IpAddr> {
    PEER.try_with(|p| *p).ok().flatten()
}

/// The keys one login attempt counts against, with their limits, at one moment.
struct Keys {
    names: Vec<String>,
    limits: Vec<u32>,
    now_ms: i64,
    /// Windows that started at or before this are over.
    cutoff_ms: i64,
    window_ms: i64,
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits, db: DatabaseConnection) -> LoginThrottle {
        LoginThrottle { limits, db }
    }

    fn keys(&self, service: &'static str, account: &str, peer: Option<IpAddr>) -> Keys {
        let mut names = vec![format!("account:{service}:{account}")];
        let mut limits = vec![self.limits.per_account];
        if let Some(peer) = peer {
            names.push(format!("address:{peer}"));
            limits.push(self.limits.per_peer);
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        let window_ms = self.limits.window.as_millis().max(1) as i64;
        Keys {
            names,
            limits,
            now_ms,
            cutoff_ms: now_ms - window_ms,
            window_ms,
        }
    }

    /// 429 when a key's count reached its limit (`past`: went beyond it, for the
    /// count that includes this attempt), with `Retry-After` until that window ends.
    fn judge(keys: &Keys, counts: &[Failures], past: bool) -> Result<(), ApiError> {
        let ends = counts
            .iter()
            .filter(|f| {
                keys.names
                    .iter()
                    .position(|n| *n == f.key)
                    .is_some_and(|i| {
                        let limit = i64::from(keys.limits[i]);
                        if past {
                            f.count > limit
                        } else {
                            f.count >= limit
                        }
                    })
            })
            .map(|f| f.window_start_ms + keys.window_ms)
            .max();
        let Some(ends) = ends else { return Ok(()) };
        let secs = ((ends - keys.now_ms).max(0) as u64).div_ceil(1000).max(1);
        Err(ApiError::with_status(
            poem::http::StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::GenericUnauthorized,
            format!("too many failed logins; try again in {secs} s"),
        )
        .retry_after(secs))
    }

    /// 429 when the account or the client address is throttled now (a read).
    pub async fn check(
        &self,
        service: &'static str,
        account: &str,
        peer: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let keys = self.keys(service, account, peer);
        let counts = login_failures::counts(&self.db, &keys.names, keys.cutoff_ms)
            .await
            .map_err(ApiError::db_fetch)?;
        Self::judge(&keys, &counts, false)
    }

    /// Counts a failed login and logs it (never the password): `Ok` when it was within
    /// the limits (answer 401), 429 when others filled the window first.
    pub async fn failed(
        &self,
        service: &'static str,
        account: &str,
        peer: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        tracing::info!(
            service,
            account,
            peer = %peer.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into()),
            "failed login"
        );
        let keys = self.keys(service, account, peer);
        let counts = login_failures::fail(&self.db, &keys.names, keys.now_ms, keys.cutoff_ms)
            .await
            .map_err(ApiError::db_store)?;
        Self::judge(&keys, &counts, true)
    }
}
