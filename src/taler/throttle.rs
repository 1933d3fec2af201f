//! Login throttling: failed password logins are counted per account and per client
//! address in short fixed windows. Past the limit, further attempts are refused with
//! 429 and `Retry-After` *before* any password is hashed, until the window ends. The
//! windows are short, so the real owner is never locked out for long, while guessing
//! stays at a few attempts a minute. The table is bounded: expired windows are dropped,
//! and when it is still full the oldest windows go first.
//!
//! The counts live in this server's memory: several servers sharing a database each
//! count on their own (an attacker spreading guesses over N servers gets N times the
//! rate, still a few a minute).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::{ApiError, ErrorCode};

/// The limits, from the configuration (`[taler-openapi] LOGIN_*`).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Failed logins on one account per window before it is throttled.
    pub per_account: u32,
    /// Failed logins from one client address per window before it is throttled.
    pub per_peer: u32,
    pub window: Duration,
    /// Windows tracked at most (memory bound).
    pub max_entries: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            per_account: 10,
            per_peer: 30,
            window: Duration::from_secs(60),
            max_entries: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account { service: &'static str, name: String },
    Peer(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

pub struct LoginThrottle {
    limits: ThrottleLimits,
    windows: Mutex<HashMap<Key, Window>>,
}

tokio::task_local! {
    /// The client address of the request being served (set by the HTTP edge).
    pub static PEER: Option<IpAddr>;
}

/// The client address of the current request, if the edge recorded one.
pub fn current_peer() -> Option<IpAddr> {
    PEER.try_with(|p| *p).ok().flatten()
}

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits) -> LoginThrottle {
        LoginThrottle {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> ThrottleLimits {
        self.limits
    }

    fn keys(service: &'static str, account: &str, peer: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::Account {
            service,
            name: account.to_owned(),
        }];
        keys.extend(peer.map(Key::Peer));
        keys
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::Account { .. } => self.limits.per_account,
            Key::Peer(_) => self.limits.per_peer,
        }
    }

    /// 429 when the account or the client address is throttled now.
    pub fn check(
        &self,
        service: &'static str,
        account: &str,
        peer: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let wait = Self::keys(service, account, peer)
            .iter()
            .filter_map(|key| {
                let w = windows.get(key)?;
                let ends = w.start + self.limits.window;
                (w.failures >= self.limit(key) && ends > now).then(|| ends - now)
            })
            .max();
        match wait {
            None => Ok(()),
            Some(wait) => {
                let secs = wait.as_secs().max(1);
                Err(ApiError::with_status(
                    poem::http::StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::GenericUnauthorized,
                    format!("too many failed logins; try again in {secs} s"),
                )
                .retry_after(secs))
            }
        }
    }

    /// Counts a failed login and logs it (never the password).
    pub fn failed(&self, service: &'static str, account: &str, peer: Option<IpAddr>) {
        tracing::info!(
            service,
            account,
            peer = %peer.map(|p| p.to_string()).unwrap_or_else(|| "unknown".into()),
            "failed login"
        );
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= self.limits.max_entries {
            let window = self.limits.window;
            windows.retain(|_, w| w.start + window > now);
            if windows.len() >= self.limits.max_entries {
                // Still full of live windows: drop the oldest half.
                let mut starts: Vec<Instant> = windows.values().map(|w| w.start).collect();
                starts.sort_unstable();
                let cut = starts[starts.len() / 2];
                windows.retain(|_, w| w.start > cut);
            }
        }
        for key in Self::keys(service, account, peer) {
            let w = windows.entry(key).or_insert(Window {
                start: now,
                failures: 0,
            });
            if w.start + self.limits.window <= now {
                *w = Window {
                    start: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_after_the_limit_and_forgets_after_the_window() {
        let t = LoginThrottle::new(ThrottleLimits {
            per_account: 3,
            per_peer: 5,
            window: Duration::from_millis(200),
            max_entries: 100,
        });
        let peer = Some("192.0.2.1".parse().unwrap());
        for _ in 0..3 {
            assert!(t.check("bank", "alice", peer).is_ok());
            t.failed("bank", "alice", peer);
        }
        let err = t.check("bank", "alice", peer).unwrap_err();
        assert_eq!(err.status.as_u16(), 429);
        // Another account from the same address is fine until the address limit.
        assert!(t.check("bank", "bob", peer).is_ok());
        t.failed("bank", "bob", peer);
        t.failed("bank", "bob", peer);
        assert!(t.check("bank", "carol", peer).is_err());
        // Same name on another service is another account.
        assert!(t.check("merchant", "alice", None).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(t.check("bank", "alice", peer).is_ok());
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = LoginThrottle::new(ThrottleLimits {
            max_entries: 50,
            ..Default::default()
        });
        for n in 0..1000 {
            t.failed("bank", &format!("user{n}"), None);
        }
        assert!(t.windows.lock().unwrap().len() <= 50);
    }
}
