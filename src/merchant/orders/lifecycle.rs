//! The order lifecycle's timed steps. Every server runs one task:
//! - an unpaid order past its pay deadline gives its inventory units back; the order
//!   itself stays, readable and not payable, until the merchant deletes it;
//! - an order created anonymously (from a public template) that no wallet claimed in
//!   `[merchant] UNCLAIMED_ORDER_LIFETIME` is removed, its units given back;
//! - a product lock past its expiration gives its units back;
//! - counts of anonymous order creations older than two minutes are dropped;
//! - an order is removed once its legal preservation (`[merchant] LEGAL_PRESERVATION`,
//!   counted from its creation) has passed.
//!
//! Each step is conditional on the row as it is now (`store::orders::expire`, `purge`),
//! so when several servers share a database, units are given back exactly once.

use std::time::Duration;

use crate::{
    state::State,
    store::{locks, orders, rates},
    taler::{RelativeTime, Timestamp},
};

/// How often the task looks for expired orders.
const TICK: Duration = Duration::from_secs(1);
/// Orders handled per step and tick at most.
const BATCH: u64 = 64;

pub fn spawn(state: State) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "cannot run the order lifecycle");
            }
            tokio::time::sleep(TICK).await;
        }
    })
}

/// One pass: gives back the units of up to [`BATCH`] expired unpaid orders and
/// removes up to [`BATCH`] orders past their legal preservation. Returns how many
/// orders it changed.
pub async fn sweep(state: &State) -> Result<u64, sea_orm::DbErr> {
    let now = Timestamp::now();
    let mut changed = 0;
    for order in orders::expired(&state.db, now.to_db(), BATCH).await? {
        if orders::expire(&state.db, &order).await? {
            changed += 1;
            tracing::info!(order = %order.order_id, "an unpaid order passed its pay deadline: its units are free again");
        }
    }
    for order in orders::unclaimed(&state.db, now.to_db(), BATCH).await? {
        if orders::delete_unclaimed(&state.db, &order).await? {
            changed += 1;
            tracing::info!(order = %order.order_id, "removed an anonymous order no wallet claimed");
        }
    }
    for lock in locks::expired(&state.db, now.to_db(), BATCH).await? {
        if locks::expire(&state.db, &lock).await? {
            changed += 1;
        }
    }
    rates::prune(&state.db, now.to_db() - 120).await?;
    let window_ms = state.config.limits.login.window.as_millis() as i64;
    crate::store::login_failures::prune(&state.db, now.to_db() * 1000 - window_ms).await?;
    if let RelativeTime::Micros(us) = state.config.limits.legal_preservation {
        let cutoff = now.to_db().saturating_sub((us / 1_000_000) as i64);
        for order in orders::past_preservation(&state.db, cutoff, BATCH).await? {
            if orders::purge(&state.db, &order).await? {
                changed += 1;
                tracing::info!(order = %order.order_id, "removed an order past its legal preservation");
            }
        }
    }
    Ok(changed)
}
