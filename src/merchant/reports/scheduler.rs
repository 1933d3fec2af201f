//! The scheduler that sends periodic reports when they are due.
//!
//! Every server runs one. Each tick it claims the due reports no other server holds
//! (`store::reports::claim_due`: a lease in the database, `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), generates each through the same code path as
//! `POST .../reports/$REPORT_ID`, hands it to the configured program, and records the
//! outcome and the next due time. A failing or hanging program only delays its own
//! report: runs are separate tasks, each bounded by the generator's `TIMEOUT`.

use std::{
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

/// The leases this server took and may still hold (their `lease_until_us` values).
pub type Leases = Arc<Mutex<Vec<i64>>>;

/// Runs the scheduler. When `stop` says so it claims nothing more and the task ends
/// once the runs in progress have finished (a stopping server lets them deliver).
/// Aborting the task stops the runs in progress too; their reports are taken up again
/// when their lease expires, or at once when the server releases its leases.
pub fn spawn(
    state: State,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> (tokio::task::JoinHandle<()>, Leases) {
    let leases = Leases::default();
    let held = leases.clone();
    let task = tokio::spawn(async move {
        let mut runs = JoinSet::new();
        loop {
            while runs.try_join_next().is_some() {}
            tick(&state, &mut runs, &held).await;
            tokio::select! {
                () = sleep(TICK) => {}
                () = crate::serve::stopped(&mut stop) => break,
            }
        }
        if !runs.is_empty() {
            tracing::info!(runs = runs.len(), "finishing the report runs in progress");
        }
        while runs.join_next().await.is_some() {}
    });
    (task, leases)
}

/// Gives back the leases of runs a stopping server will not finish, so another server
/// (or this one, restarted) takes their reports up at once.
pub async fn release(state: &State, leases: &Leases) {
    let held: Vec<i64> = std::mem::take(&mut *leases.lock().unwrap_or_else(|e| e.into_inner()));
    let now = now_us();
    for lease in held.into_iter().filter(|l| *l > now) {
        if let Err(e) = store::release_lease(&state.db, lease).await {
            tracing::warn!(error = %e, "cannot release a report lease");
        }
    }
}

/// How long a server may hold a report: fetching plus the slowest generator, plus slack.
fn lease_us(state: &State) -> i64 {
    let slowest = state
        .config
        .report_generators
        .values()
        .map(|g| g.timeout_secs)
        .max()
        .unwrap_or(0);
    ((run::FETCH_TIMEOUT.as_secs() + slowest + 30) * 1_000_000) as i64
}

async fn tick(state: &State, runs: &mut JoinSet<()>, held: &Leases) {
    let now = now_us();
    // A few random microseconds keep two servers' leases apart.
    let jitter = i64::from(u16::from_le_bytes(crate::taler::secret::random_bytes::<2>()));
    let lease = now + lease_us(state) + jitter;
    {
        let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|l| *l > now);
        held.push(lease);
    }
    match store::claim_due(&state.db, now, lease, BATCH).await {
        Ok(due) => {
            for report in due {
                let state = state.clone();
                runs.spawn(async move { run(state, report, lease).await });
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot claim due reports"),
    }
}

async fn run(state: State, report: Report, lease: i64) {
    let outcome = match deliver(&state, &report).await {
        Ok(()) => {
            tracing::info!(report = report.report_serial, "report sent");
            RunOutcome::Sent
        }
        Err(failure) => {
            tracing::warn!(report = report.report_serial, detail = %failure.detail, "report failed");
            RunOutcome::Failed {
                code: failure.code as i32,
                detail: failure.detail,
            }
        }
    };
    if let Err(e) = store::finish(&state.db, &report, lease, outcome, now_us()).await {
        tracing::error!(report = report.report_serial, error = %e, "cannot record a report run");
    }
}

async fn deliver(state: &State, report: &Report) -> Result<(), RunFailure> {
    let Some(generator) = state.config.report_generators.get(&report.program_section) else {
        return Err(RunFailure {
            code: ErrorCode::MerchantGenericReportGeneratorUnconfigured.number(),
            detail: format!(
                "no report generator is configured in section [{}]",
                report.program_section
            ),
            source_error: None,
        });
    };
    let (_, content) = run::generate(state, report).await?;
    let instance = crate::store::instances::find_by_serial(&state.db, report.instance_serial)
        .await
        .map_err(|e| RunFailure::internal(format!("database: {e}")))?
        .ok_or_else(|| RunFailure::internal("the report's instance is gone"))?;
    run::transmit(generator, &instance.instance_id, report, &content).await
}
