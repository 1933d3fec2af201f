//! The listener. poem's own server has no header timeout and no connection cap (its
//! idle timeout would also cut long polls), so the application is served by hyper
//! directly:
//! - a request's headers must arrive within the header timeout. hyper starts that
//!   timer whenever a connection waits for a request, so a kept-alive connection that
//!   sits idle is closed after the same time. A long poll has sent its headers and
//!   waits for its answer, so it is not affected;
//! - at most `max_connections` connections are open at once; further ones wait in the
//!   kernel's backlog until one closes.
//!
//! It speaks HTTP/1.1 only, the protocol reverse proxies use towards their backends:
//! HTTP/2 over cleartext would cost every connection memory for nothing (about 10 KiB
//! of each idle long poller).
//!
//! The body timeout is the HTTP edge's (`crate::http`), where it becomes an
//! `ErrorDetail`; so do the answers hyper gives requests it cannot parse (`socket`).

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use hyper_util::rt::{TokioIo, TokioTimer};
use poem::{
    Addr, Endpoint, EndpointExt,
    http::uri::Scheme,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    net::TcpListener,
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};

mod socket;

use self::socket::Rewound;
use crate::{config::ServerLimits, longpoll};

/// File descriptors kept free of client connections (database, files, reports).
const RESERVED_DESCRIPTORS: u64 = 128;

type BoxBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// Raises the soft file-descriptor limit to the hard one and returns it.
pub fn raise_descriptor_limit() -> u64 {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
            return limit.rlim_cur;
        }
    }
    1024
}

/// The connection cap in force: the configured one, lowered to fit the descriptors.
pub fn connection_cap(limits: &ServerLimits) -> usize {
    let descriptors = raise_descriptor_limit().saturating_sub(RESERVED_DESCRIPTORS);
    limits
        .max_connections
        .min(usize::try_from(descriptors).unwrap_or(usize::MAX))
        .max(1)
}

/// Resolves once `stop` says to stop; never when its sender went away without saying so.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Serves `app` on `listener` until `stop` says so (or the task is dropped). Then it
/// stops accepting, lets every connection finish the request it is serving (hyper's
/// graceful shutdown; a parked long poll is answered by the `STOPPING` wake the caller
/// sends), closes them, and returns once all are closed.
pub async fn serve<E>(
    listener: TcpListener,
    app: E,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
) where
    E: Endpoint + 'static,
{
    let app = Arc::new(app.map_to_response());
    let cap = connection_cap(&limits);
    let permits = Arc::new(Semaphore::new(cap));
    let running = Running::default();
    let gate = Arc::new(Semaphore::new(limits.max_requests_running));
    let _trimmer = TrimOnDrain::spawn(permits.clone(), cap, running.clone());
    let local = listener
        .local_addr()
        .map(|a| LocalAddr(Addr::SocketAddr(a)))
        .unwrap_or_default();
    tracing::info!(
        max_connections = cap,
        header_timeout_s = limits.header_timeout.as_secs(),
        "accepting connections"
    );
    loop {
        let permit = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let accepted = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors or a connection reset before accept: wait, go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let local = local.clone();
        let header_timeout = limits.header_timeout;
        let running = running.clone();
        let gate = gate.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let connection = Connection {
                remote,
                local,
                header_timeout,
                running,
                gate,
                stop,
            };
            serve_connection(stream, app, connection).await;
        });
    }
    drop(listener);
    let open = cap - permits.available_permits();
    tracing::info!(
        open_connections = open,
        "no longer accepting connections; finishing the requests in flight"
    );
    // Every connection holds a permit until it closes.
    let _ = permits
        .acquire_many(u32::try_from(cap).unwrap_or(u32::MAX))
        .await;
}

/// What one connection's task gets from the listener.
struct Connection {
    remote: SocketAddr,
    local: LocalAddr,
    header_timeout: Duration,
    running: Running,
    gate: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

/// Counts the requests running in the application (parked long polls do not), and the
/// most that ran at once since the trimmer last looked: a crowd comes and goes between
/// two of its looks.
#[derive(Clone, Default)]
struct Running(Arc<(AtomicUsize, AtomicUsize)>);

impl Running {
    fn enter(&self) -> RunningGuard {
        let now = self.0.0.fetch_add(1, Ordering::Relaxed) + 1;
        self.0.1.fetch_max(now, Ordering::Relaxed);
        RunningGuard(self.clone())
    }

    /// Running now, and the most since the last call.
    fn now_and_peak(&self) -> (usize, usize) {
        let now = self.0.0.load(Ordering::Relaxed);
        (now, self.0.1.swap(now, Ordering::Relaxed).max(now))
    }
}

struct RunningGuard(Running);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.0.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Hands memory back to the operating system after a crowd (glibc keeps what it
/// freed): after ten thousand connections closed, or after ten thousand requests ran
/// at once (each needs tens of KiB while it runs, which long pollers, once parked,
/// give back). Every few seconds it compares open connections and running requests
/// with the most seen since the last trim; when either fell by at least
/// [`TRIM_DROP`], it trims.
struct TrimOnDrain(tokio::task::JoinHandle<()>);

/// How many connections must have closed, or requests finished, before memory is
/// trimmed.
const TRIM_DROP: usize = 1000;

impl TrimOnDrain {
    fn spawn(permits: Arc<Semaphore>, cap: usize, running: Running) -> TrimOnDrain {
        TrimOnDrain(tokio::spawn(async move {
            let (mut peak_open, mut peak_running) = (0, 0);
            loop {
                tokio::time::sleep(Duration::from_secs(3)).await;
                let open = cap - permits.available_permits();
                let (busy, busiest) = running.now_and_peak();
                peak_open = peak_open.max(open);
                peak_running = peak_running.max(busiest);
                if peak_open - open >= TRIM_DROP || peak_running - busy >= TRIM_DROP {
                    (peak_open, peak_running) = (open, busy);
                    let _ = tokio::task::spawn_blocking(trim).await;
                }
            }
        }))
    }
}

impl Drop for TrimOnDrain {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// hyper parses the request line and headers in place: the URI and header values are
/// slices of the connection's 8 KiB read buffer, which they keep alive for as long as the
/// request lives, so a long poll that waits inside the application (an order's) would
/// pin that buffer while hyper allocates another to read the next request. Copying the
/// few bytes out lets hyper reuse it. Only requests that may long-poll pay for it.
fn detach_from_read_buffer(
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Request<hyper::body::Incoming> {
    if !req.uri().query().is_some_and(|q| q.contains("timeout_ms")) {
        return req;
    }
    let (mut parts, body) = req.into_parts();
    let mut headers = hyper::HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in parts.headers.iter() {
        if let Ok(copy) = hyper::header::HeaderValue::from_bytes(value.as_bytes()) {
            headers.append(name.clone(), copy);
        }
    }
    parts.headers = headers;
    if let Ok(uri) = parts.uri.to_string().parse() {
        parts.uri = uri;
    }
    hyper::Request::from_parts(parts, body)
}

/// A parked long poll handed from the service to its connection, which takes the
/// socket back from hyper to wait: hyper's connection holds an 8 KiB read buffer and
/// an 8 KiB write buffer for as long as it lives, most of what an idle poller would
/// cost. The connection answers the poll itself, then serves the socket with hyper
/// again.
struct Detached {
    at_deadline: poem::Response,
    parked: longpoll::Parked,
    /// HTTP/1.1 without `Connection: close`.
    keep_alive: bool,
}

/// One per connection: where the service leaves a [`Detached`] and wakes the connection.
#[derive(Default)]
struct DetachSlot {
    detached: std::sync::Mutex<Option<Detached>>,
    ready: tokio::sync::Notify,
}

impl DetachSlot {
    fn put(&self, d: Detached) {
        *self.detached.lock().unwrap_or_else(|e| e.into_inner()) = Some(d);
        self.ready.notify_one();
    }

    fn take(&self) -> Option<Detached> {
        self.detached
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// Whether a request may wait detached from hyper, and if so whether the connection
/// stays open after its answer: an HTTP/1.1 GET without a body (hyper has read all of
/// it), so the socket holds nothing of it any more.
fn detachable(req: &hyper::Request<hyper::body::Incoming>, with_body: bool) -> Option<bool> {
    use hyper::header::CONNECTION;
    if req.method() != hyper::Method::GET || req.version() != hyper::Version::HTTP_11 || with_body {
        return None;
    }
    let close = req.headers().get_all(CONNECTION).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"))
        })
    });
    Some(!close)
}

fn has_body(req: &hyper::Request<hyper::body::Incoming>) -> bool {
    use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    let headers = req.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .is_some_and(|l| l.as_bytes() != b"0")
}

/// Lets a request without a body into the application once fewer than
/// `max_requests_running` such requests run there. Requests with a body are not held
/// up: they wait for their body with the edge's body timeout, and a slow body must not
/// keep others out.
async fn admit(gate: &Arc<Semaphore>, with_body: bool) -> Option<OwnedSemaphorePermit> {
    if with_body {
        return None;
    }
    // The gate is never closed.
    gate.clone().acquire_owned().await.ok()
}

/// What a detached poll's client sends while it waits: nothing, or a pipelined request
/// (kept, up to [`PIPELINED_MAX`] bytes). Returns when the client has gone.
async fn until_client_gone(stream: &tokio::net::TcpStream, pipelined: &mut Vec<u8>) {
    // Read into the vector itself: a buffer here would live in every connection's task.
    while pipelined.len() < PIPELINED_MAX {
        if stream.readable().await.is_err() {
            return;
        }
        pipelined.reserve(1024);
        match stream.try_read_buf(pipelined) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
    // Enough kept: the rest waits in the socket for hyper.
    std::future::pending().await
}

/// Pipelined bytes a detached poll keeps while it waits (hyper reads the rest later).
const PIPELINED_MAX: usize = 8192;

/// Writes `resp` as an HTTP/1.1 response, as hyper would: its headers, `date`, and
/// `content-length` (none for 204 and 304).
async fn write_response(
    stream: &mut tokio::net::TcpStream,
    resp: poem::Response,
    keep_alive: bool,
) -> std::io::Result<()> {
    use hyper::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
    use tokio::io::AsyncWriteExt;
    let (parts, body) = resp.into_parts();
    let body = body
        .into_bytes()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let status = parts.status;
    let mut head = Vec::with_capacity(256 + body.len());
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in parts.headers.iter() {
        if [CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, DATE].contains(name) {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let bodiless = status == hyper::StatusCode::NO_CONTENT
        || status == hyper::StatusCode::NOT_MODIFIED
        || status.is_informational();
    if !bodiless {
        head.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    head.extend_from_slice(b"date: ");
    head.extend_from_slice(httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes());
    head.extend_from_slice(b"\r\n");
    if !keep_alive {
        head.extend_from_slice(b"connection: close\r\n");
    }
    head.extend_from_slice(b"\r\n");
    if !bodiless {
        head.extend_from_slice(&body);
    }
    stream.write_all(&head).await?;
    stream.flush().await
}

/// One connection's whole life: hyper serves it; a long poll that parks takes the
/// socket back (the poll is answered here, a pipelined request kept), and hyper serves
/// it again. Long on purpose: the slot, the socket and what was read pass between
/// those states, and split apart each would need a name of its own.
async fn serve_connection<E: Endpoint<Output = poem::Response> + 'static>(
    stream: tokio::net::TcpStream,
    app: Arc<E>,
    connection: Connection,
) {
    let Connection {
        remote,
        local,
        header_timeout,
        running,
        gate,
        mut stop,
    } = connection;
    let slot = Arc::new(DetachSlot::default());
    let service = {
        let slot = slot.clone();
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let app = app.clone();
            let local = local.clone();
            let running = running.clone();
            let slot = slot.clone();
            let gate = gate.clone();
            async move {
                let with_body = has_body(&req);
                let admission = admit(&gate, with_body).await;
                let detach = detachable(&req, with_body);
                let req = detach_from_read_buffer(req);
                let req = poem::Request::from((
                    req,
                    local,
                    RemoteAddr(Addr::SocketAddr(remote)),
                    Scheme::HTTP,
                ));
                // Both boxed, so this future, which hyper keeps for as long as the
                // request is pending, stays small: the application's future is large and
                // lives only while it runs; a parked long poll then waits with its own
                // state alone.
                let in_app = running.enter();
                let mut resp =
                    Box::pin(longpoll::with_parking(admission, app.get_response(req))).await;
                drop(in_app);
                if let Some(parked) = longpoll::take_parked(&mut resp) {
                    if let Some(keep_alive) = detach {
                        // The connection takes the socket from hyper and answers; this
                        // future is dropped with hyper's connection.
                        slot.put(Detached {
                            at_deadline: resp,
                            parked,
                            keep_alive,
                        });
                        return std::future::pending().await;
                    }
                    resp = Box::pin(longpoll::answer(resp, parked)).await;
                }
                Ok::<_, Infallible>(hyper::Response::<BoxBody>::from(resp))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let mut io = Rewound::new(stream, bytes::Bytes::new());
    loop {
        let mut conn = builder.serve_connection(TokioIo::new(io), service.clone());
        let mut draining = false;
        loop {
            tokio::select! {
                closed = &mut conn => {
                    if let Err(e) = closed {
                        tracing::debug!(error = %e, %remote, "connection closed");
                    }
                    return;
                }
                () = slot.ready.notified() => break,
                // Finish the request being served (if any), then close.
                () = stopped(&mut stop), if !draining => {
                    draining = true;
                    std::pin::Pin::new(&mut conn).graceful_shutdown();
                }
            }
        }
        let Some(detached) = slot.take() else { return };
        let parts = conn.into_parts();
        let (mut stream, prefix) = parts.io.into_inner().into_parts();
        // What hyper had read past the request, if anything, copied out of its buffer.
        let mut pipelined = [parts.read_buf.as_ref(), prefix.as_ref()].concat();
        drop(parts.read_buf);
        let answer = tokio::select! {
            answer = Box::pin(longpoll::answer(detached.at_deadline, detached.parked)) => answer,
            () = until_client_gone(&stream, &mut pipelined) => return,
        };
        let keep_alive = detached.keep_alive && !*stop.borrow();
        match tokio::time::timeout(
            header_timeout,
            write_response(&mut stream, answer, keep_alive),
        )
        .await
        {
            Ok(Ok(())) if keep_alive => {}
            _ => return,
        }
        if pipelined.is_empty() {
            // hyper gets the socket back when the client sends its next request (or
            // leaves), not before: a connection kept alive after a long poll costs no
            // buffers while idle, and a wake of thousands of pollers does not allocate
            // thousands of them at once. An idle connection is closed after the header
            // timeout, as hyper would.
            tokio::select! {
                readable = tokio::time::timeout(header_timeout, stream.readable()) => {
                    if !matches!(readable, Ok(Ok(()))) {
                        return;
                    }
                }
                () = stopped(&mut stop) => return,
            }
        }
        io = Rewound::new(stream, pipelined.into());
    }
}
