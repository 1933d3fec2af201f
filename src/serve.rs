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
//! `ErrorDetail`.

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
use tokio::{net::TcpListener, sync::Semaphore};

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

/// Serves `app` on `listener` until the task is dropped.
pub async fn serve<E>(listener: TcpListener, app: E, limits: ServerLimits)
where
    E: Endpoint + 'static,
{
    let app = Arc::new(app.map_to_response());
    let cap = connection_cap(&limits);
    let permits = Arc::new(Semaphore::new(cap));
    let running = Running::default();
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
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, remote) = match listener.accept().await {
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
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(stream, remote, local, app, header_timeout, running).await;
        });
    }
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
/// request lives, so a waiting long poll would pin that buffer while hyper allocates
/// another to read the next request. Copying the few bytes out lets hyper reuse it.
fn detach_from_read_buffer(
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Request<hyper::body::Incoming> {
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

async fn serve_connection<E: Endpoint<Output = poem::Response> + 'static>(
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
    local: LocalAddr,
    app: Arc<E>,
    header_timeout: Duration,
    running: Running,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let local = local.clone();
        let running = running.clone();
        async move {
            let req = detach_from_read_buffer(req);
            let req = poem::Request::from((
                req,
                local,
                RemoteAddr(Addr::SocketAddr(remote)),
                Scheme::HTTP,
            ));
            // Both boxed, so this future, which hyper keeps for as long as the request
            // is pending, stays small: the application's future is large and lives only
            // while it runs; a parked long poll then waits with its own state alone.
            let in_app = running.enter();
            let mut resp = Box::pin(longpoll::with_parking(app.get_response(req))).await;
            drop(in_app);
            if let Some(parked) = longpoll::take_parked(&mut resp) {
                resp = Box::pin(longpoll::answer(resp, parked)).await;
            }
            Ok::<_, Infallible>(hyper::Response::<BoxBody>::from(resp))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    if let Err(e) = builder
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(error = %e, %remote, "connection closed");
    }
}
