//! Deletes unpaid orders whose pay deadline passed, giving their inventory units back.
//!
//! Every server runs one. Each deletion is conditional on the order still being there
//! and unpaid (`store::orders::delete`), so when several servers share a database only
//! one of them deletes an order and gives its units back; the others find it gone.

use std::time::Duration;

use crate::{state::State, store::orders, taler::Timestamp};

/// How often the task looks for expired orders.
const TICK: Duration = Duration::from_secs(1);
/// Orders deleted per tick at most.
const BATCH: u64 = 64;

pub fn spawn(state: State) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "cannot clean up expired orders");
            }
            tokio::time::sleep(TICK).await;
        }
    })
}

/// One pass: deletes up to [`BATCH`] expired unpaid orders.
pub async fn sweep(state: &State) -> Result<u64, sea_orm::DbErr> {
    let now = Timestamp::now().to_db();
    let mut deleted = 0;
    for order in orders::expired(&state.db, now, BATCH).await? {
        if orders::delete(&state.db, &order).await? {
            deleted += 1;
            tracing::info!(order = %order.order_id, "deleted an unpaid order past its pay deadline");
        }
    }
    Ok(deleted)
}
