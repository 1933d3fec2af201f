//! A stored order as the handlers read it: its contract terms, its amount, its 404, and
//! waiting for it to change.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::{
    notifier::{EVERYONE, STOPPING},
    state::State,
    store::orders::Order as StoredOrder,
    taler::{Amount, ApiError, ErrorCode},
};

pub fn order_unknown(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MerchantGenericOrderUnknown,
        format!("order `{id}` is unknown"),
    )
}

pub fn stored_terms(order: &StoredOrder) -> Result<Value, ApiError> {
    serde_json::from_str(&order.contract_terms).map_err(ApiError::db_fetch)
}

pub fn order_amount(order: &StoredOrder) -> Result<Amount, ApiError> {
    order.amount.parse().map_err(ApiError::db_fetch)
}

/// Waits (up to `timeout_ms`) for `changed` to say yes, looking again whenever an order
/// of the instance changes (on any server sharing the database).
pub async fn long_poll<T, F: Future<Output = Result<T, ApiError>>>(
    state: &State,
    instance_serial: i64,
    timeout_ms: u64,
    first: T,
    mut done: impl FnMut(&T) -> bool,
    mut look: impl FnMut() -> F,
) -> Result<T, ApiError> {
    let mut current = first;
    if done(&current) || timeout_ms == 0 {
        return Ok(current);
    }
    let mut wake = state.order_changes.subscribe();
    // Look once after subscribing: a change in between is not missed.
    current = look().await?;
    let deadline = tokio::time::Instant::now()
        + Duration::from_millis(timeout_ms.min(crate::taler::limits::MAX_LONG_POLL_MS));
    if !done(&current) {
        crate::longpoll::waiting_inside();
    }
    while !done(&current) {
        tokio::select! {
            woke = wake.recv() => match woke {
                Ok(w) if w.account == STOPPING => break,
                Ok(w) if w.account != instance_serial && w.account != EVERYONE => continue,
                Ok(_) | Err(RecvError::Lagged(_)) => match look().await {
                    Ok(found) => current = found,
                    // The database is away: wait on for the wake when it is back.
                    Err(e) if e.is_database_unreachable() => {}
                    Err(e) => return Err(e),
                },
                Err(RecvError::Closed) => break,
            },
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    Ok(current)
}
