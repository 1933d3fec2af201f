//! The edge around the whole application: a request id for every request, the access
//! log, and the body rules (`body`) before any service sees the request.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result, http::HeaderValue};
use tracing::Instrument;

use super::{body::BodyRules, errors::error_response};

/// Wraps the whole application; see the module comment.
pub struct TalerEdge {
    pub body: BodyRules,
}

impl<E: Endpoint> Middleware<E> for TalerEdge {
    type Output = TalerEdgeEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        TalerEdgeEndpoint {
            inner,
            body: Arc::new(self.body.clone()),
        }
    }
}

pub struct TalerEdgeEndpoint<E> {
    inner: E,
    body: Arc<BodyRules>,
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

impl<E: Endpoint> Endpoint for TalerEdgeEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let request_id = format!(
            "{:x}-{}",
            std::process::id(),
            REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let span = tracing::info_span!(
            "request",
            id = %request_id,
            method = %req.method(),
            path = %req.uri().path()
        );
        let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let started = std::time::Instant::now();
        let work = async move {
            let mut resp = match self.body.prepare(&mut req).await {
                Ok(()) => match self.inner.call(req).await {
                    Ok(resp) => resp.into_response(),
                    Err(err) => error_response(err),
                },
                Err(err) => err.into_response(),
            };
            let status = resp.status();
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), "request failed");
            }
            // The access log: the span carries method and path (never the query, which
            // may hold secrets) and no header is logged, so no credential reaches it.
            tracing::info!(
                target: "access",
                status = status.as_u16(),
                duration_us = started.elapsed().as_micros() as u64,
                peer = %peer.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                "request"
            );
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert("x-request-id", value);
            }
            Ok(resp)
        }
        .instrument(span);
        crate::taler::throttle::PEER.scope(peer, work).await
    }
}
