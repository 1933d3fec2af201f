//! Wakes long pollers when something they wait for changed: a transfer reaching a
//! bank account, an order of a merchant instance being created or claimed. One
//! notifier per topic; wakes carry the key (account or instance serial) they concern.
//!
//! Waiters hold a broadcast receiver, not a thread or a database connection, so
//! thousands of them are cheap. On SQLite the inserting request notifies directly;
//! on PostgreSQL it sends `NOTIFY`, and one `LISTEN` connection per process fans the
//! notifications out, so a transfer recorded by one process wakes pollers of another.
//!
//! Every wake carries a sequence number, the same for all its receivers: pollers of one
//! account and page woken by one wake share one look at the database ([`SharedLooks`]),
//! so a transfer that wakes ten thousand of them costs one query, not ten thousand.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use tokio::{
    sync::{OnceCell, broadcast},
    task::JoinHandle,
};

/// Sent when the account id is unknown (a missed notification): every waiter re-checks.
pub const EVERYONE: i64 = -1;

/// Sent while the server shuts down: every waiter answers now with what it has (a
/// long poll its empty result), instead of having its connection cut.
pub const STOPPING: i64 = -2;

/// One wake: a transfer reached `account` (or [`EVERYONE`] must look).
#[derive(Debug, Clone, Copy)]
pub struct Wake {
    pub account: i64,
    /// Numbers the wakes of this process; equal for every receiver of one wake.
    pub seq: u64,
}

/// Sends wakes with increasing sequence numbers.
#[derive(Clone)]
struct Waker {
    sender: broadcast::Sender<Wake>,
    seq: Arc<AtomicU64>,
}

impl Waker {
    fn wake(&self, account: i64) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let _ = self.sender.send(Wake { account, seq });
    }
}

pub struct Notifier {
    waker: Waker,
    /// The PostgreSQL channel, when notifications go through the database.
    channel: Option<String>,
    listener: Option<JoinHandle<()>>,
}

impl Notifier {
    /// A notifier for this process only (SQLite, or no database at all).
    pub fn local() -> Notifier {
        Notifier {
            waker: Waker {
                sender: broadcast::channel(4096).0,
                seq: Arc::new(AtomicU64::new(0)),
            },
            channel: None,
            listener: None,
        }
    }

    /// Listens on PostgreSQL when the URL is one; `schema` keeps test schemas apart.
    pub async fn start(url: &str, schema: Option<&str>, topic: &str) -> Result<Notifier, DbErr> {
        let mut notifier = Notifier::local();
        if !url.starts_with("postgres") {
            return Ok(notifier);
        }
        let channel = format!("taler_openapi_{topic}_{}", schema.unwrap_or("public"));
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect(url)
            .await
            .map_err(|e| DbErr::Custom(format!("LISTEN connection: {e}")))?;
        listener
            .listen(&channel)
            .await
            .map_err(|e| DbErr::Custom(format!("LISTEN {channel}: {e}")))?;
        let waker = notifier.waker.clone();
        let listening = channel.clone();
        notifier.listener = Some(tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => waker.wake(n.payload().parse().unwrap_or(EVERYONE)),
                    Err(e) => {
                        // Notifications may be lost until it is back: reconnect (LISTEN
                        // again), then let every waiter look again.
                        tracing::warn!(error = %e, "LISTEN connection failed");
                        waker.wake(EVERYONE);
                        loop {
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                            if listener.listen(&listening).await.is_ok() {
                                tracing::info!("LISTEN connection back");
                                break;
                            }
                        }
                        waker.wake(EVERYONE);
                    }
                }
            }
        }));
        notifier.channel = Some(channel);
        Ok(notifier)
    }

    /// Tells every waiter of this process to answer now (see [`STOPPING`]).
    pub fn stopping(&self) {
        self.waker.wake(STOPPING);
    }

    /// The PostgreSQL channel the waiters of every server listen on, for statements
    /// that notify inside their own transaction (the bank's `bank_transfer`, an
    /// order's insert); `None` when waiters are woken in this process only.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.waker.sender.subscribe()
    }

    /// Announces a committed change concerning `account_id` (an account, an instance).
    pub async fn notify(&self, db: &DatabaseConnection, account_id: i64) -> Result<(), DbErr> {
        match &self.channel {
            Some(channel) => db
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [channel.clone().into(), account_id.to_string().into()],
                ))
                .await
                .map(|_| ()),
            None => {
                self.waker.wake(account_id);
                Ok(())
            }
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

/// Looks at the database shared by the waiters that ask the same question after the
/// same wake: the first runs it, the others wait for its answer. Answers are kept a
/// short while for waiters that get to run late, then dropped.
pub struct SharedLooks<K, V> {
    looks: Mutex<HashMap<K, Look<V>>>,
}

/// When a look was asked for, and its answer once there.
type Look<V> = (Instant, Arc<OnceCell<V>>);

/// How long an answer is kept for late waiters of the same wake.
const KEPT: Duration = Duration::from_secs(2);

impl<K, V> Default for SharedLooks<K, V> {
    fn default() -> Self {
        SharedLooks {
            looks: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> SharedLooks<K, V> {
    /// The answer to `key`, from `look` unless another waiter ran it.
    pub async fn get<F: Future<Output = V>>(&self, key: K, look: impl FnOnce() -> F) -> V {
        let cell = {
            let mut looks = self.looks.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            if looks.len() >= 64 {
                looks.retain(|_, (at, _)| now.duration_since(*at) < KEPT);
            }
            looks
                .entry(key)
                .or_insert_with(|| (now, Arc::new(OnceCell::new())))
                .1
                .clone()
        };
        cell.get_or_init(look).await.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_of_one_wake_share_one_look() {
        let looks = SharedLooks::<(i64, u64), u32>::default();
        let runs = AtomicU64::new(0);
        let look = || async {
            runs.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
            7
        };
        let answers =
            futures_util::future::join_all((0..50).map(|_| looks.get((1, 9), look))).await;
        assert!(answers.iter().all(|a| *a == 7));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        // Another wake asks again.
        assert_eq!(looks.get((1, 10), look).await, 7);
        assert_eq!(runs.load(Ordering::Relaxed), 2);
    }
}
