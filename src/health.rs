//! `GET /health`: the readiness a load balancer polls. 200 `{"status":"ok"}` while the
//! database answers; 503 (an `ErrorDetail`, `TALER_EC_GENERIC_DB_SETUP_FAILED`, with
//! `Retry-After`) while it does not. A server that is stopping no longer accepts
//! connections, so its checks fail too. It needs no credentials, so what it costs is
//! bounded: one database round trip at a time, its answer kept for a second and shared
//! by every check in between.

use std::time::Duration;

use poem::{Endpoint, Response};
use tokio::{sync::Mutex, time::Instant};

use crate::{state::State, taler::ApiError};

/// How long one look at the database is reused.
const KEPT: Duration = Duration::from_secs(1);
/// How long a look may take before the database counts as unreachable.
const LOOK_TIMEOUT: Duration = Duration::from_secs(2);

/// The last look: when, and whether the database answered.
#[derive(Default)]
pub struct Health(Mutex<Option<(Instant, bool)>>);

impl Health {
    /// Whether the database answers, looked at most once a second.
    async fn database_answers(&self, state: &State) -> bool {
        let mut last = self.0.lock().await;
        if let Some((at, answered)) = *last
            && at.elapsed() < KEPT
        {
            return answered;
        }
        let answered = matches!(
            tokio::time::timeout(LOOK_TIMEOUT, state.db.ping()).await,
            Ok(Ok(()))
        );
        *last = Some((Instant::now(), answered));
        answered
    }
}

pub fn endpoint(state: State) -> impl Endpoint + 'static {
    poem::endpoint::make(move |_| {
        let state = state.clone();
        async move {
            if state.health.database_answers(&state).await {
                Response::builder()
                    .content_type("application/json")
                    .header("cache-control", "no-store")
                    .body(r#"{"status":"ok"}"#)
            } else {
                poem::IntoResponse::into_response(ApiError::database_unreachable())
            }
        }
    })
}
