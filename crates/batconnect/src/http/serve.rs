//! The server loop: HTTP/1.1 connections served by hyper, each watched so that no client
//! can hold the service's connections (and file descriptors) for as long as it likes.
//!
//! - A connection must send a request's headers within the header timeout
//!   (`BAT_HEADER_TIMEOUT_SECONDS`, counted from its opening, or from the first byte of its
//!   next request on a kept-alive connection), or it is closed.
//! - A request's body must arrive whole within the body timeout (`BAT_BODY_TIMEOUT_SECONDS`)
//!   once its headers have: a body dripped a byte at a time cannot hold a connection busy.
//! - A kept-alive connection may wait idle for its next request for the keep-alive timeout
//!   (`BAT_KEEP_ALIVE_SECONDS`), then it is closed.
//! - At most `BAT_MAX_CONNECTIONS` are open: at the cap, the oldest connection still
//!   sending its headers (or, failing that, the longest idle) is closed for the new one, so
//!   a real request is still served while half-open connections pile up. Connections busy
//!   with a request are never closed for that.
//! - When the process runs out of file descriptors, accepting pauses briefly after freeing
//!   one the same way, instead of spinning.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The connection limits (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub keep_alive: Duration,
    /// How long a request's whole body may take once its headers have arrived.
    pub body_timeout: Duration,
    pub max_connections: usize,
}

/// Sending its headers (a new connection too, before its first byte).
const WAITING: u8 = 0;
/// Its request is being answered.
const BUSY: u8 = 1;
/// Kept alive, waiting for its next request.
const IDLE: u8 = 2;
/// Chosen to be closed.
const CLOSING: u8 = 3;

struct Conn {
    phase: AtomicU8,
    /// Milliseconds since the registry's start when the phase began.
    since: AtomicU64,
    /// When bytes last went out: a response whose body hyper has taken may still be on its
    /// way to a slow client, so "idle" counts from here too.
    last_write: AtomicU64,
    close: tokio::sync::Notify,
}

/// How long an idle connection must have written nothing before it may be closed to make
/// room (its last response is surely on the wire by then).
const QUIET_BEFORE_EVICTION_MS: u64 = 1000;

struct Registry {
    start: Instant,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Moves a connection to `phase`, unless it was chosen to be closed meanwhile.
    fn set(&self, conn: &Conn, phase: u8) {
        conn.since.store(self.now(), Ordering::Release);
        let _ = conn
            .phase
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current != CLOSING).then_some(phase)
            });
    }

    /// Idle for how long: since its phase began and since it last wrote.
    fn quiet_for(&self, conn: &Conn, now: u64) -> u64 {
        let since = conn
            .since
            .load(Ordering::Acquire)
            .max(conn.last_write.load(Ordering::Acquire));
        now.saturating_sub(since)
    }

    fn open(&self) -> (u64, Arc<Conn>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            phase: AtomicU8::new(WAITING),
            since: AtomicU64::new(self.now()),
            last_write: AtomicU64::new(0),
            close: tokio::sync::Notify::new(),
        });
        self.lock().insert(id, conn.clone());
        (id, conn)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open_count(&self) -> usize {
        self.lock()
            .values()
            .filter(|c| c.phase.load(Ordering::Acquire) != CLOSING)
            .count()
    }

    /// Closes a connection that is still in `phase` (never one that became busy meanwhile).
    fn close_if(conn: &Conn, phase: u8) -> bool {
        let closed = conn
            .phase
            .compare_exchange(phase, CLOSING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if closed {
            conn.close.notify_one();
        }
        closed
    }

    /// Closes the oldest connection still sending its headers, else the longest idle one
    /// that has written nothing for a moment; false when there is none (every connection
    /// is busy with a request, or just answered one).
    fn evict_one(&self) -> bool {
        let now = self.now();
        let conns = self.lock();
        let mut waiting: Vec<&Arc<Conn>> = conns
            .values()
            .filter(|c| c.phase.load(Ordering::Acquire) == WAITING)
            .collect();
        waiting.sort_by_key(|c| c.since.load(Ordering::Acquire));
        if waiting.into_iter().any(|c| Self::close_if(c, WAITING)) {
            return true;
        }
        let mut idle: Vec<&Arc<Conn>> = conns
            .values()
            .filter(|c| {
                c.phase.load(Ordering::Acquire) == IDLE
                    && self.quiet_for(c, now) > QUIET_BEFORE_EVICTION_MS
            })
            .collect();
        idle.sort_by_key(|c| std::cmp::Reverse(self.quiet_for(c, now)));
        idle.into_iter().any(|c| Self::close_if(c, IDLE))
    }

    /// Closes connections past their header or keep-alive timeout; how many.
    fn reap(&self, limits: &Limits) -> usize {
        let now = self.now();
        let header = limits.header_timeout.as_millis() as u64;
        let idle = limits.keep_alive.as_millis() as u64;
        let mut closed = 0;
        for conn in self.lock().values() {
            let closes = match conn.phase.load(Ordering::Acquire) {
                WAITING => {
                    now.saturating_sub(conn.since.load(Ordering::Acquire)) > header
                        && Self::close_if(conn, WAITING)
                }
                IDLE => self.quiet_for(conn, now) > idle && Self::close_if(conn, IDLE),
                _ => false,
            };
            closed += usize::from(closes);
        }
        closed
    }
}

/// The socket, telling its connection's watch when the next request's first bytes arrive.
struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            // A kept-alive connection starts its next request: its headers are timed now.
            if this.conn.phase.load(Ordering::Acquire) == IDLE {
                this.registry.set(&this.conn, WAITING);
            }
        }
        polled
    }
}

impl Watched {
    fn wrote(&self, polled: &Poll<std::io::Result<usize>>) {
        if matches!(polled, Poll::Ready(Ok(n)) if *n > 0) {
            self.conn
                .last_write
                .store(self.registry.now(), Ordering::Release);
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, data);
        this.wrote(&polled);
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// A request body that must arrive whole by a deadline; past it, reading it fails (the
/// handler answers that it could not read the body, and the connection closes).
struct Timed {
    body: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for Timed {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending if this.deadline.as_mut().poll(cx).is_ready() => Poll::Ready(Some(Err(
                "the request body did not arrive in time (BAT_BODY_TIMEOUT_SECONDS)".into(),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A response body that marks its connection idle once it has been sent (or dropped).
struct Tracked {
    body: Body,
    conn: Option<(Arc<Conn>, Arc<Registry>)>,
}

impl Tracked {
    fn done(&mut self) {
        if let Some((conn, registry)) = self.conn.take() {
            registry.set(&conn, IDLE);
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.done();
    }
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            this.done();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Serves `router` on `listener` until `stopped` turns true; then stops accepting, closes
/// idle and half-open connections at once, and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let registry = Arc::new(Registry {
        start: Instant::now(),
        next_id: AtomicU64::new(0),
        conns: Mutex::new(HashMap::new()),
    });
    let reaper = {
        let (registry, mut stopped) = (registry.clone(), stopped.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let closed = registry.reap(&limits);
                        if closed > 0 {
                            tracing::debug!(closed, "closed connections past their header or keep-alive timeout");
                        }
                    }
                    _ = stopped.wait_for(|s| *s) => return,
                }
            }
        })
    };
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors (or another transient failure): free one and
                // wait a moment instead of spinning on accept.
                tracing::warn!(%error, "could not accept a connection");
                registry.evict_one();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if registry.open_count() >= limits.max_connections && !registry.evict_one() {
            tracing::warn!(
                max = limits.max_connections,
                "at the connection cap with every connection busy; serving one more"
            );
        }
        let _ = stream.set_nodelay(true);
        let (id, conn) = registry.open();
        let (router, registry, mut stopped) = (router.clone(), registry.clone(), stopped.clone());
        tokio::spawn(async move {
            let service = {
                let (conn, registry) = (conn.clone(), registry.clone());
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    registry.set(&conn, BUSY);
                    request.extensions_mut().insert(ConnectInfo(peer));
                    let (router, conn, registry) = (router.clone(), conn.clone(), registry.clone());
                    async move {
                        let request = request.map(|body| {
                            Body::new(Timed {
                                body,
                                deadline: Box::pin(tokio::time::sleep(limits.body_timeout)),
                            })
                        });
                        let response = match tower::ServiceExt::oneshot(router, request).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        };
                        Ok::<_, Infallible>(response.map(|body| Tracked {
                            body,
                            conn: Some((conn, registry)),
                        }))
                    }
                })
            };
            let io = TokioIo::new(Watched {
                stream,
                conn: conn.clone(),
                registry: registry.clone(),
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(io, service);
            tokio::pin!(connection);
            let mut stopping = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    // Past a timeout, or chosen to make room: dropped, which closes it.
                    _ = conn.close.notified() => break,
                    // Shutting down: a connection still sending its headers goes now; one
                    // answering (or just done answering) finishes what it is sending.
                    _ = stopped.wait_for(|s| *s), if !stopping => {
                        if Registry::close_if(&conn, WAITING) {
                            break;
                        }
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            registry.lock().remove(&id);
        });
    }
    drop(listener);
    reaper.abort();
    // Requests in flight finish (at most 30 s).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !registry.lock().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Raises the soft limit of open files as far as the hard limit allows (each connection
/// is a file); the limit the process runs with, or `None` where it cannot be read.
pub fn raise_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}
