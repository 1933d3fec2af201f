//! Wakes long pollers when a transfer reaches an account.
//!
//! Waiters hold a broadcast receiver, not a thread or a database connection, so
//! thousands of them are cheap. On SQLite the inserting request notifies directly;
//! on PostgreSQL it sends `NOTIFY`, and one `LISTEN` connection per process fans the
//! notifications out, so a transfer recorded by one process wakes pollers of another.

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use tokio::{sync::broadcast, task::JoinHandle};

/// Sent when the account id is unknown (a missed notification): every waiter re-checks.
pub const EVERYONE: i64 = -1;

pub struct Notifier {
    sender: broadcast::Sender<i64>,
    /// The PostgreSQL channel, when notifications go through the database.
    channel: Option<String>,
    listener: Option<JoinHandle<()>>,
}

impl Notifier {
    /// A notifier for this process only (SQLite, or no database at all).
    pub fn local() -> Notifier {
        Notifier {
            sender: broadcast::channel(4096).0,
            channel: None,
            listener: None,
        }
    }

    /// Listens on PostgreSQL when the URL is one; `schema` keeps test schemas apart.
    pub async fn start(url: &str, schema: Option<&str>) -> Result<Notifier, DbErr> {
        let mut notifier = Notifier::local();
        if !url.starts_with("postgres") {
            return Ok(notifier);
        }
        let channel = format!("taler_openapi_incoming_{}", schema.unwrap_or("public"));
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect(url)
            .await
            .map_err(|e| DbErr::Custom(format!("LISTEN connection: {e}")))?;
        listener
            .listen(&channel)
            .await
            .map_err(|e| DbErr::Custom(format!("LISTEN {channel}: {e}")))?;
        let sender = notifier.sender.clone();
        notifier.listener = Some(tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        let id = n.payload().parse().unwrap_or(EVERYONE);
                        let _ = sender.send(id);
                    }
                    Err(e) => {
                        // sqlx reconnects on the next recv; notifications in between
                        // may be lost, so let every waiter look again.
                        tracing::warn!(error = %e, "LISTEN connection failed");
                        let _ = sender.send(EVERYONE);
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    }
                }
            }
        }));
        notifier.channel = Some(channel);
        Ok(notifier)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.sender.subscribe()
    }

    /// Announces a committed transfer into `account_id`.
    pub async fn incoming(&self, db: &DatabaseConnection, account_id: i64) -> Result<(), DbErr> {
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
                let _ = self.sender.send(account_id);
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
