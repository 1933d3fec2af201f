//! Recently verified HTTP Basic credentials, so that a client polling with its password
//! (a merchant reading the Revenue API) pays for argon2 once a minute, not per request.
//!
//! - The key is a keyed SHA-256 of service, account and password under a random
//!   per-process secret: the password is never stored, and the key is useless elsewhere.
//! - An entry remembers a digest of the stored password hash it was verified against,
//!   and counts only while the account still has that hash: a password change, on any
//!   server, invalidates it at once; a deleted account is not found before the cache is
//!   asked.
//! - Entries live [`TTL`]; only successful checks enter; the table is bounded.
//! - Checks of the same credentials at the same time share one argon2 run
//!   ([`VerifiedCredentials::check_once`]): a crowd of connections opening with one
//!   password costs one hash, not a second of every core.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;

use super::password::Busy;

use sha2::{Digest, Sha256};

/// How long a verified credential is taken on trust.
pub const TTL: Duration = Duration::from_secs(60);

/// Entries at most (memory bound).
const MAX_ENTRIES: usize = 10_000;

type Key = [u8; 32];

/// One check in progress and, once there, its answer.
type SharedCheck = Arc<OnceCell<Result<bool, Busy>>>;

struct Entry {
    phc_digest: [u8; 32],
    until: Instant,
}

pub struct VerifiedCredentials {
    secret: [u8; 32],
    entries: Mutex<HashMap<Key, Entry>>,
    /// Checks in progress, by credentials and stored hash, with their shared result. An
    /// entry per check in progress (each has a connection); the first done removes it.
    checking: Mutex<HashMap<Key, SharedCheck>>,
}

impl Default for VerifiedCredentials {
    fn default() -> Self {
        VerifiedCredentials {
            secret: super::secret::random_bytes::<32>(),
            entries: Mutex::new(HashMap::new()),
            checking: Mutex::new(HashMap::new()),
        }
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        // Length-prefixed, so no two different tuples hash alike.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

impl VerifiedCredentials {
    fn key(&self, service: &str, account: &str, password: &str) -> Key {
        digest(&[
            &self.secret,
            service.as_bytes(),
            account.as_bytes(),
            password.as_bytes(),
        ])
    }

    /// Was this password verified against this stored hash within the last [`TTL`]?
    pub fn contains(&self, service: &str, account: &str, password: &str, phc: &str) -> bool {
        let key = self.key(service, account, password);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&key).is_some_and(|e| {
            e.until > Instant::now()
                && super::secret::constant_time_eq(&e.phc_digest, &digest(&[phc.as_bytes()]))
        })
    }

    /// Remembers a credential that was just verified against `phc`.
    /// `verify`'s answer, shared by every check of the same credentials against the same
    /// stored hash that asks while it runs.
    pub async fn check_once<F: Future<Output = Result<bool, Busy>>>(
        &self,
        service: &str,
        account: &str,
        password: &str,
        phc: &str,
        verify: impl FnOnce() -> F,
    ) -> Result<bool, Busy> {
        let key = digest(&[&self.key(service, account, password), phc.as_bytes()]);
        let check = {
            let mut checking = self.checking.lock().unwrap_or_else(|e| e.into_inner());
            checking.entry(key).or_default().clone()
        };
        let answer = *check.get_or_init(verify).await;
        // Later checks hash anew.
        let mut checking = self.checking.lock().unwrap_or_else(|e| e.into_inner());
        if checking.get(&key).is_some_and(|c| Arc::ptr_eq(c, &check)) {
            checking.remove(&key);
        }
        answer
    }

    pub fn insert(&self, service: &str, account: &str, password: &str, phc: &str) {
        let key = self.key(service, account, password);
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                phc_digest: digest(&[phc.as_bytes()]),
                until: now + TTL,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_bound_to_password_and_stored_hash() {
        let c = VerifiedCredentials::default();
        c.insert("bank", "alice", "right", "$argon2id$old");
        assert!(c.contains("bank", "alice", "right", "$argon2id$old"));
        assert!(!c.contains("bank", "alice", "wrong", "$argon2id$old"));
        assert!(!c.contains("merchant", "alice", "right", "$argon2id$old"));
        // The password changed (a new stored hash): the entry no longer counts.
        assert!(!c.contains("bank", "alice", "right", "$argon2id$new"));
    }

    #[tokio::test]
    async fn concurrent_checks_of_the_same_credentials_share_one_run() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let c = VerifiedCredentials::default();
        let runs = AtomicU32::new(0);
        let verify = || async {
            runs.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(true)
        };
        let same = (0..8).map(|_| c.check_once("bank", "alice", "pw", "$h", verify));
        let answers = futures_util::future::join_all(same).await;
        assert!(answers.iter().all(|a| *a == Ok(true)));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        // Another password, or another stored hash, is its own check.
        assert_eq!(
            c.check_once("bank", "alice", "other", "$h", verify).await,
            Ok(true)
        );
        assert_eq!(
            c.check_once("bank", "alice", "pw", "$new", verify).await,
            Ok(true)
        );
        assert_eq!(runs.load(Ordering::Relaxed), 3);
        assert!(c.checking.lock().unwrap().is_empty());
    }
}
