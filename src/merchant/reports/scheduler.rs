//! The scheduler that sends periodic reports when they are due.
//!
//! Every server runs one. Each tick it claims the due reports no other server holds
//! (`store::reports::claim_due`: a lease in the database, `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), generates each through the same code path as
//! `POST .../reports/$REPORT_ID`, hands it to the configured program, and records the
//! outcome and the next due time. A failing or hanging program only delays its own
//! report: runs are separate tasks, each bounded by the generator's `TIMEOUT`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{task::JoinSet, time::sleep};

use crate::{
    merchant::reports::run::{self, RunFailure, now_us},
    state::State,
    store::reports::{self as store, Report, RunOutcome},
    taler::ErrorCode,
};

/// How often the scheduler looks for due reports.
const TICK: Duration = Duration::from_millis(200);
/// Reports claimed per tick at most.
const BATCH: u32 = 32;

/// The claims this server holds, each with the number of its runs still going.
pub type Leases = Arc<Mutex<HashMap<i64, usize>>>;

/// Runs the scheduler. When `stop` says so it claims nothing more and the task ends
/// once the runs in progress have finished (a stopping server lets them deliver).
/// Aborting the task stops the runs in progress too; their reports are taken up again
/// when their lease expires, or at once when the server releases its leases.
///
/// While a run is alive its claim is renewed every third of `REPORT_LEASE_SECONDS`, so
/// the lease can be short whatever the generator's timeout: a server that dies
/// mid-delivery (its generator program dies with it) leaves its reports to another
/// server within the lease.
pub fn spawn(
    state: State,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (tokio::task::JoinHandle<()>, Leases) {
    let leases = Leases::default();
    let held = leases.clone();
    let task = tokio::spawn(async move {
        let mut runs = JoinSet::new();
        let mut renewal = tokio::time::interval(renewal_period(&state));
        renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            while runs.try_join_next().is_some() {}
            tick(&state, &mut runs, &held).await;
            tokio::select! {
                () = sleep(TICK) => {}
                _ = renewal.tick() => renew(&state, &held).await,
                () = crate::serve::stopped(&mut stop) => break,
            }
        }
        if !runs.is_empty() {
            tracing::info!(runs = runs.len(), "finishing the report runs in progress");
        }
        loop {
            tokio::select! {
                next = runs.join_next() => if next.is_none() { break },
                _ = renewal.tick() => renew(&state, &held).await,
            }
        }
    });
    (task, leases)
}

/// Gives back the claims of runs a stopping server will not finish, so another server
/// (or this one, restarted) takes their reports up at once.
pub async fn release(state: &State, leases: &Leases) {
    let held: Vec<i64> = std::mem::take(&mut *lock(leases)).into_keys().collect();
    for lease in held {
        if let Err(e) = store::release_lease(&state.db, lease).await {
            tracing::warn!(error = %e, "cannot release a report lease");
        }
    }
}

fn lock(leases: &Leases) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
    leases.lock().unwrap_or_else(|e| e.into_inner())
}

fn lease_us(state: &State) -> i64 {
    state.config.limits.report_lease.as_micros() as i64
}

fn renewal_period(state: &State) -> Duration {
    (state.config.limits.report_lease / 3).max(Duration::from_millis(100))
}

/// Moves the expiry of every claim with a run still going.
async fn renew(state: &State, held: &Leases) {
    let claims: Vec<i64> = lock(held).keys().copied().collect();
    let until = now_us() + lease_us(state);
    for lease in claims {
        if let Err(e) = store::renew_lease(&state.db, lease, None, until).await {
            tracing::warn!(error = %e, "cannot renew a report lease");
        }
    }
}

/// One run's share in its claim: the claim is forgotten when its last run ends,
/// however it ends (an aborted run included).
struct Share {
    held: Leases,
    lease: i64,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut held = lock(&self.held);
        if let Some(runs) = held.get_mut(&self.lease) {
            *runs -= 1;
            if *runs == 0 {
                held.remove(&self.lease);
            }
        }
    }
}

async fn tick(state: &State, runs: &mut JoinSet<()>, held: &Leases) {
    let now = now_us();
    let lease = i64::from_le_bytes(crate::taler::secret::random_bytes::<8>());
    match store::claim_due(&state.db, now, lease, now + lease_us(state), BATCH).await {
        Ok(due) if due.is_empty() => {}
        Ok(due) => {
            lock(held).insert(lease, due.len());
            for report in due {
                let state = state.clone();
                let share = Share {
                    held: held.clone(),
                    lease,
                };
                runs.spawn(async move { run(state, report, share).await });
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot claim due reports"),
    }
}

async fn run(state: State, report: Report, share: Share) {
    let lease = share.lease;
    let outcome = match deliver(&state, &report, lease).await {
        Ok(()) => {
            tracing::info!(report = report.report_serial, "report sent");
            RunOutcome::Sent
        }
        Err(Delivery::Failed(failure)) => {
            tracing::warn!(report = report.report_serial, detail = %failure.detail, "report failed");
            let RunFailure { code, detail, .. } = *failure;
            RunOutcome::Failed {
                code: code as i32,
                detail,
            }
        }
        Err(Delivery::LeaseLost) => {
            tracing::warn!(
                report = report.report_serial,
                "the report's lease expired before it was sent (its renewal failed); another server sends it"
            );
            return;
        }
    };
    if let Err(e) = store::finish(&state.db, &report, lease, outcome, now_us()).await {
        tracing::error!(report = report.report_serial, error = %e, "cannot record a report run");
    }
    drop(share);
}

enum Delivery {
    Failed(Box<RunFailure>),
    /// Another server took the report over: this one must not send it too.
    LeaseLost,
}

impl From<RunFailure> for Delivery {
    fn from(failure: RunFailure) -> Self {
        Delivery::Failed(Box::new(failure))
    }
}

async fn deliver(state: &State, report: &Report, lease: i64) -> Result<(), Delivery> {
    let Some(generator) = state.config.report_generators.get(&report.program_section) else {
        return Err(Delivery::Failed(Box::new(RunFailure {
            code: ErrorCode::MerchantGenericReportGeneratorUnconfigured.number(),
            detail: format!(
                "no report generator is configured in section [{}]",
                report.program_section
            ),
            source_error: None,
        })));
    };
    let (_, content) = run::generate(state, report).await?;
    let instance = crate::store::instances::find_by_serial(&state.db, report.instance_serial)
        .await
        .map_err(|e| RunFailure::internal(format!("database: {e}")))?
        .ok_or_else(|| RunFailure::internal("the report's instance is gone"))?;
    // Last look before the program runs: if a renewal failed (the database was away
    // longer than the lease) another server may have the report by now.
    let until = now_us() + lease_us(state);
    match store::renew_lease(&state.db, lease, Some(report.report_serial), until).await {
        Ok(1) => {}
        Ok(_) => return Err(Delivery::LeaseLost),
        Err(e) => return Err(RunFailure::internal(format!("database: {e}")).into()),
    }
    Ok(run::transmit(generator, &instance.instance_id, report, &content).await?)
}
