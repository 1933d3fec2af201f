//! Long polls that wait in the connection, not in the request's future.
//!
//! A request's future holds every layer of the application on the heap (the edge,
//! routing, the operation with its extractors and queries): about 30 KiB, kept for as
//! long as the request is pending. So an operation that finds nothing and must wait
//! does not wait itself: it answers with what it would answer at the deadline (a 204)
//! and attaches a [`Parked`]: what wakes it, until when, and how to look again. The
//! listener (`crate::serve`) lets the application's future go, waits with the parked
//! state alone (a few hundred bytes), and sends the first look that finds something,
//! or the deadline's answer.
//!
//! Served any other way (not inside [`with_parking`]), [`park`] waits in place, with
//! the same [`Parked::wait`].

use std::{
    cell::RefCell,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use poem::{
    IntoResponse, Response,
    http::{HeaderName, HeaderValue},
};
use poem_openapi::{ApiResponse, registry::Registry};
use tokio::{
    sync::{
        OwnedSemaphorePermit,
        broadcast::{self, error::RecvError},
    },
    time::Instant,
};

use crate::{
    http::error_response,
    notifier::{EVERYONE, Notifier, STOPPING, Wake},
    taler::ApiError,
};

tokio::task_local! {
    /// Set while the listener that waits for parked long polls runs a request (a
    /// task-local, not a request extension: no allocation per request), with the
    /// request's admission (see `crate::serve`), if it needed one.
    static PARKING: RefCell<Option<OwnedSemaphorePermit>>;
}

/// Runs `request` (the application's answer to one request) with parking on; the
/// admission is given back when it finishes, or when it starts to wait inside.
pub async fn with_parking<F: Future>(
    admission: Option<OwnedSemaphorePermit>,
    request: F,
) -> F::Output {
    PARKING.scope(RefCell::new(admission), request).await
}

fn parking() -> bool {
    PARKING.try_with(|_| ()).is_ok()
}

/// For an operation about to wait inside the application (a long poll that cannot
/// park): it gives its admission back, so waiting requests do not hold out others.
pub fn waiting_inside() {
    let _ = PARKING.try_with(|admission| admission.borrow_mut().take());
}

/// Looks again after a wake (its sequence number; `None` after missed wakes): the
/// answer, or `None` to go on waiting.
pub type Look = Box<dyn FnMut(Option<u64>) -> LookFuture + Send + Sync>;

pub type LookFuture = Pin<Box<dyn Future<Output = Option<Response>> + Send>>;

/// A long poll waiting for a wake.
pub struct Parked {
    /// Subscribed before the operation's first look, so nothing in between is missed.
    wake: broadcast::Receiver<Wake>,
    /// The key (account, instance) whose wakes concern it.
    key: i64,
    deadline: Instant,
    look: Look,
}

impl Parked {
    pub fn new(wake: broadcast::Receiver<Wake>, key: i64, deadline: Instant, look: Look) -> Self {
        Parked {
            wake,
            key,
            deadline,
            look,
        }
    }

    /// Waits until a look after a wake concerning its key answers, or the deadline.
    pub async fn wait(mut self) -> Option<Response> {
        loop {
            tokio::select! {
                woke = self.wake.recv() => {
                    let seq = match woke {
                        Ok(w) if w.account == STOPPING => return None,
                        Ok(w) if w.account != self.key && w.account != EVERYONE => continue,
                        Ok(w) => Some(w.seq),
                        Err(RecvError::Lagged(_)) => None,
                        Err(RecvError::Closed) => return None,
                    };
                    if let Some(answer) = (self.look)(seq).await {
                        return Some(answer);
                    }
                },
                _ = tokio::time::sleep_until(self.deadline) => return None,
            }
        }
    }
}

/// Carries a [`Parked`] out of the application on its response (extensions must be
/// `Clone`; the first to take it waits).
#[derive(Clone)]
struct Slot(Arc<Mutex<Option<Parked>>>);

/// An operation's answer that may wait parked. The spec shows `T`.
pub enum MayPark<T> {
    Now(T),
    /// `T` is the answer at the deadline.
    Parked(T, Parked),
    Answered(Response),
}

impl<T: ApiResponse> ApiResponse for MayPark<T> {
    const BAD_REQUEST_HANDLER: bool = T::BAD_REQUEST_HANDLER;

    fn meta() -> poem_openapi::registry::MetaResponses {
        T::meta()
    }

    fn register(registry: &mut Registry) {
        T::register(registry)
    }

    fn from_parse_request_error(err: poem::Error) -> Self {
        MayPark::Now(T::from_parse_request_error(err))
    }
}

impl<T: IntoResponse> IntoResponse for MayPark<T> {
    fn into_response(self) -> Response {
        match self {
            MayPark::Now(answer) => answer.into_response(),
            MayPark::Parked(at_deadline, parked) => {
                let mut resp = at_deadline.into_response();
                resp.extensions_mut()
                    .insert(Slot(Arc::new(Mutex::new(Some(parked)))));
                resp
            }
            MayPark::Answered(resp) => resp,
        }
    }
}

/// Parks `parked` with the listener, or waits for it here when the request did not
/// come through one. `at_deadline` answers when nothing came.
pub async fn park<T>(at_deadline: T, parked: Parked) -> MayPark<T> {
    if parking() {
        return MayPark::Parked(at_deadline, parked);
    }
    match parked.wait().await {
        Some(answer) => MayPark::Answered(answer),
        None => MayPark::Now(at_deadline),
    }
}

/// A long-polled read: answers what `look` finds now, or `empty` when there is
/// nothing and no time to wait; else parks the request until a wake of `notifier`
/// concerning `key` lets `look` find something, or `timeout_ms` passes (at most
/// [`MAX_LONG_POLL_MS`](crate::taler::limits::MAX_LONG_POLL_MS)). `look` gets the
/// wake's sequence number (`None` on the first look and after missed wakes), so the
/// pollers one wake woke can share a look.
pub async fn respond<R, E, F>(
    notifier: &Notifier,
    key: i64,
    timeout_ms: u64,
    empty: R,
    look: impl Fn(Option<u64>) -> F + Send + Sync + 'static,
) -> Result<MayPark<R>, E>
where
    R: IntoResponse,
    E: From<ApiError> + Into<poem::Error> + 'static,
    F: Future<Output = Result<Option<R>, ApiError>> + Send + 'static,
{
    // Subscribe before the first look, so a change in between is not missed.
    let wake = notifier.subscribe();
    let first = look(None).await?;
    Ok(respond_after::<R, E, F>(wake, first, key, timeout_ms, empty, look).await)
}

/// [`respond`] after a first look the operation made itself (with a query that read
/// more than the look), `wake` subscribed before it.
pub async fn respond_after<R, E, F>(
    wake: broadcast::Receiver<Wake>,
    first: Option<R>,
    key: i64,
    timeout_ms: u64,
    empty: R,
    look: impl Fn(Option<u64>) -> F + Send + Sync + 'static,
) -> MayPark<R>
where
    R: IntoResponse,
    E: From<ApiError> + Into<poem::Error> + 'static,
    F: Future<Output = Result<Option<R>, ApiError>> + Send + 'static,
{
    if let Some(found) = first {
        return MayPark::Now(found);
    }
    if timeout_ms == 0 {
        return MayPark::Now(empty);
    }
    let deadline = Instant::now()
        + Duration::from_millis(timeout_ms.min(crate::taler::limits::MAX_LONG_POLL_MS));
    let again: Look = Box::new(move |seq| {
        let found = look(seq);
        Box::pin(async move {
            match found.await {
                Ok(None) => None,
                Ok(Some(found)) => Some(found.into_response()),
                // Woken while the database is away (the notifier wakes everyone when
                // it loses its connection, and again once it is back): wait on.
                Err(e) if e.is_database_unreachable() => None,
                Err(e) => Some(error_response(E::from(e).into())),
            }
        })
    });
    park(empty, Parked::new(wake, key, deadline, again)).await
}

/// The listener's side: the long poll parked on `resp`, if there is one.
pub fn take_parked(resp: &mut Response) -> Option<Parked> {
    let slot = resp.extensions_mut().remove::<Slot>()?;
    slot.0.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// Waits for `parked`; `at_deadline` answers if nothing came. The answer keeps the
/// headers the application set on `at_deadline` (the request id).
pub async fn answer(at_deadline: Response, parked: Parked) -> Response {
    // Kept apart while waiting: a header map reserves room for several headers, an
    // exact list for the one or two there are.
    let (parts, body) = at_deadline.into_parts();
    let headers: Box<[(HeaderName, HeaderValue)]> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let (status, version) = (parts.status, parts.version);
    let mut answer = match parked.wait().await {
        Some(answer) => answer,
        None => Response::from_parts(
            poem::ResponseParts {
                status,
                version,
                headers: Default::default(),
                extensions: Default::default(),
            },
            body,
        ),
    };
    let set_by_look: Vec<HeaderName> = answer.headers().keys().cloned().collect();
    for (name, value) in headers.iter() {
        if !set_by_look.contains(name) {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use poem::http::StatusCode;

    use super::*;

    fn parked(wake: broadcast::Receiver<Wake>, wait: Duration) -> Parked {
        let look: Look = Box::new(|seq| {
            Box::pin(
                async move { seq.map(|_| Response::builder().status(StatusCode::OK).finish()) },
            )
        });
        Parked::new(wake, 7, Instant::now() + wait, look)
    }

    /// Without a listener that parks (outside [`with_parking`]), the operation waits itself.
    #[tokio::test]
    async fn without_a_parking_listener_the_operation_waits_in_place() {
        let (tx, rx) = broadcast::channel(8);
        let waker = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = tx.send(Wake { account: 8, seq: 1 }); // another key: ignored
            let _ = tx.send(Wake { account: 7, seq: 2 });
            tx
        });
        let answer = park(StatusCode::NO_CONTENT, parked(rx, Duration::from_secs(20)))
            .await
            .into_response();
        assert_eq!(answer.status(), StatusCode::OK);
        let tx = waker.await.unwrap();

        // Nothing for its key: the deadline answers.
        let answer = park(
            StatusCode::NO_CONTENT,
            parked(tx.subscribe(), Duration::from_millis(30)),
        )
        .await
        .into_response();
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);

        // With the listener's parking, the response carries the parked poll for it.
        let mut resp = with_parking(
            None,
            park(
                StatusCode::NO_CONTENT,
                parked(tx.subscribe(), Duration::from_secs(20)),
            ),
        )
        .await
        .into_response();
        assert!(take_parked(&mut resp).is_some());
        assert!(take_parked(&mut resp).is_none());
    }
}
