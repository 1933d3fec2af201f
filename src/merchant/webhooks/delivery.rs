//! The sender: delivers pending webhook calls over HTTP in the background.
//!
//! Every server runs one. It wakes when an event fires on this server, and otherwise
//! every [`TICK`] (for events fired on other servers, and retries). It leases the due
//! deliveries in the database (so two servers never send one at once), sends at most
//! [`WEBHOOK_CONCURRENCY`] at a time, each bounded by [`WEBHOOK_TIMEOUT_SECS`]. A 2xx
//! answer ends a delivery; anything else is retried after 2, 4, 8, ... seconds (at
//! most [`WEBHOOK_MAX_BACKOFF_SECS`]) until [`WEBHOOK_MAX_ATTEMPTS`] attempts failed,
//! then it is given up and logged. A delivery interrupted by a stop is sent again when
//! its lease runs out.

use std::{sync::Arc, time::Duration};

use tokio::sync::Semaphore;

use crate::{
    state::State,
    store::webhooks::{self as store, Pending},
    taler::{
        Timestamp,
        limits::{
            WEBHOOK_CONCURRENCY, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_MAX_BACKOFF_SECS,
            WEBHOOK_TIMEOUT_SECS,
        },
    },
};

/// How often the sender looks for due deliveries without being woken.
const TICK: Duration = Duration::from_secs(1);

/// Runs the sender until the returned task is aborted.
pub fn spawn(state: State) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(WEBHOOK_CONCURRENCY));
        loop {
            if let Err(e) = send_due(&state, &slots).await {
                tracing::warn!(error = %e, "cannot look for due webhook deliveries");
            }
            let _ = tokio::time::timeout(TICK, state.webhook_wake.notified()).await;
        }
    })
}

/// Leases what is due and a free slot can take, and sends each in its own task.
async fn send_due(state: &State, slots: &Arc<Semaphore>) -> Result<(), sea_orm::DbErr> {
    loop {
        let free = slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let now = Timestamp::now().to_db();
        // Held until the attempt must have ended, with a margin.
        let lease_until = now + WEBHOOK_TIMEOUT_SECS as i64 + 5;
        let due = store::lease_due(&state.db, now, lease_until, free as u64).await?;
        if due.is_empty() {
            return Ok(());
        }
        for delivery in due {
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                // Not expected (the batch fits the free slots); the lease runs out and
                // the delivery is taken up again.
                return Ok(());
            };
            let state = state.clone();
            tokio::spawn(async move {
                attempt(&state, delivery).await;
                drop(permit);
                // A slot is free: more may be due.
                state.webhook_wake.notify_one();
            });
        }
    }
}

async fn attempt(state: &State, delivery: Pending) {
    let result = send(state, &delivery).await;
    let outcome = match result {
        Ok(()) => store::done(&state.db, delivery.pending_serial).await,
        Err(why) => {
            let attempts = delivery.retries + 1;
            if attempts >= WEBHOOK_MAX_ATTEMPTS {
                tracing::warn!(url = %delivery.url, attempts, %why, "webhook delivery given up");
                store::done(&state.db, delivery.pending_serial).await
            } else {
                tracing::info!(url = %delivery.url, attempts, %why, "webhook delivery failed; will retry");
                let wait = 2i64
                    .saturating_pow(attempts as u32)
                    .min(WEBHOOK_MAX_BACKOFF_SECS);
                let next = Timestamp::now().to_db() + wait;
                store::retry_at(&state.db, delivery.pending_serial, attempts, next).await
            }
        }
    };
    if let Err(e) = outcome {
        // The lease runs out and the delivery is taken up again.
        tracing::warn!(error = %e, "cannot record a webhook delivery's outcome");
    }
}

/// One HTTP request; `Err` with the reason unless the answer is 2xx.
async fn send(state: &State, delivery: &Pending) -> Result<(), String> {
    let method = reqwest::Method::from_bytes(delivery.http_method.as_bytes())
        .map_err(|e| format!("method: {e}"))?;
    let mut req = state
        .http
        .request(method, &delivery.url)
        .timeout(Duration::from_secs(WEBHOOK_TIMEOUT_SECS));
    for line in delivery.header.as_deref().unwrap_or("").lines() {
        if let Some((name, value)) = line.split_once(':') {
            req = req.header(name.trim(), value.trim());
        }
    }
    if let Some(body) = &delivery.body {
        req = req.body(body.clone());
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", resp.status()))
    }
}
