//! `sbdiag serve`: the capture as a read-only Kubernetes API on loopback, so that kubectl,
//! k9s and client libraries work on a support bundle. The bundle is indexed once; every
//! request is answered from memory ([`api`]) over HTTP/1.1 (hyper on a small tokio runtime).
//! No TLS: the kubeconfig written points kubectl at an `http://` server on 127.0.0.1.
//!
//! Under load no client holds the others up: a request's head must arrive within
//! [`HEADER_READ_TIMEOUT`] (an idle keep-alive connection is closed after it too), a response
//! the client stops reading is dropped after [`WRITE_STALL_TIMEOUT`] without progress, at most
//! [`MAX_CONNECTIONS`] connections are served at once (one more gets a 429 `Status` and is
//! closed), and at most [`max_answers`] answers are built at once, so that memory stays bounded
//! whatever the number of clients. `tests/serve_load.rs` proves each.
pub mod api;
pub mod route;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::analyze::Capture;
use crate::error::{Error, Result};
pub use api::AgeFrom;

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on (port 0: an ephemeral port).
    pub listen: SocketAddr,
    /// Allow an address beyond loopback.
    pub allow_remote: bool,
    /// Where to write the kubeconfig.
    pub kubeconfig: PathBuf,
    /// Ages as at capture time or now.
    pub age_from: AgeFrom,
    /// The name of the cluster and context in the kubeconfig.
    pub context: String,
}

/// What is served, once listening.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The address bound.
    pub addr: SocketAddr,
    /// The kubeconfig written.
    pub kubeconfig: PathBuf,
    /// Resource types served.
    pub resources: usize,
}

/// Time a client has to send a request's line and headers, and that an idle keep-alive
/// connection is kept: a client that connects and sends nothing, or sends a byte at a time,
/// loses the connection then. kubectl and client-go send a request's head in one write and
/// reconnect when an idle connection was closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Time a response may wait for the client to read: a client that stops reading (a full socket
/// buffer and no progress for this long) loses the connection and the rest of its response. A
/// watch or a reply being written to a client that reads, however slowly, is not affected.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Connections served at once (below the usual limit of 1,024 open files). One more is answered
/// `429 Too Many Requests` with `Retry-After: 1` (client-go waits and retries) and closed.
pub const MAX_CONNECTIONS: usize = 512;

/// Answers built at once: two per core, at least four. An answer may hold a whole list as JSON
/// while it is built; the other requests wait their turn (in arrival order) instead of each
/// taking a thread and its memory.
pub fn max_answers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
        .max(4)
}

/// A response body: all at once, or a watch's events then an open, idle stream.
enum Out {
    Full(Option<Bytes>),
    Watch {
        first: Option<Bytes>,
        until: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

impl Body for Out {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Out::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Out::Watch { first, until } => {
                if let Some(b) = first.take().filter(|b| !b.is_empty()) {
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                match until {
                    Some(t) => t.as_mut().poll(cx).map(|_| None),
                    // Idle until the client leaves (hyper drops the body then).
                    None => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Out::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Out::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Out::Full(None) => SizeHint::with_exact(0),
            Out::Watch { .. } => SizeHint::default(),
        }
    }
}

/// The kubeconfig text for a server at `addr`.
pub fn kubeconfig(addr: SocketAddr, context: &str) -> String {
    format!(
        "# Written by sbdiag serve: a read-only Kubernetes API over a support bundle.\n\
         apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {context}\n  \
           cluster:\n    \
             server: http://{addr}\n\
         contexts:\n\
         - name: {context}\n  \
           context:\n    \
             cluster: {context}\n    \
             user: sbdiag\n    \
             namespace: default\n\
         current-context: {context}\n\
         users:\n\
         - name: sbdiag\n  \
           user: {{}}\n\
         preferences: {{}}\n"
    )
}

/// Default kubeconfig path: `./sbdiag-<bundle name>.kubeconfig`.
pub fn default_kubeconfig(bundle: &Path) -> PathBuf {
    PathBuf::from(format!("sbdiag-{}.kubeconfig", context_name(bundle)))
}

/// The bundle's name without its archive extension.
pub fn context_name(bundle: &Path) -> String {
    let name = bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    [".tar.gz", ".tgz", ".tar", ".zip"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name)
        .to_string()
}

/// Serves `a` until the process ends: binds, writes the kubeconfig, calls `ready`, then
/// answers requests.
pub fn serve(a: Capture, opts: &Options, ready: impl FnOnce(&Ready)) -> Result<()> {
    if !opts.listen.ip().is_loopback() && !opts.allow_remote {
        return Err(Error::Usage(format!(
            "--listen {}: not a loopback address; the API has no authentication, so anyone who can reach it reads the whole bundle. Add --allow-remote to listen there anyway",
            opts.listen
        )));
    }
    // The capture lives as long as the process: requests borrow it from every thread.
    let a: &'static Capture = Box::leak(Box::new(a));
    let api = Arc::new(api::Api::new(a, opts.age_from));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the server runtime: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", opts.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", opts.listen)))?;
        std::fs::write(&opts.kubeconfig, kubeconfig(addr, &opts.context)).map_err(|e| {
            Error::Io {
                path: opts.kubeconfig.clone(),
                source: e,
            }
        })?;
        ready(&Ready {
            addr,
            kubeconfig: opts.kubeconfig.clone(),
            resources: api.resources.len(),
        });
        let open = Arc::new(AtomicUsize::new(0));
        let answers = Arc::new(tokio::sync::Semaphore::new(max_answers()));
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                // Out of file descriptors (or another transient failure): wait for connections
                // to close instead of spinning on accept.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(slot) = Slot::take(&open) else {
                tokio::spawn(refuse(stream));
                continue;
            };
            let api = api.clone();
            let answers = answers.clone();
            tokio::spawn(async move {
                let _slot = slot;
                let io = Stall::new(hyper_util::rt::TokioIo::new(stream));
                let service = hyper::service::service_fn(move |req| {
                    let api = api.clone();
                    let answers = answers.clone();
                    async move { Ok::<_, Infallible>(answer(&api, &answers, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(io, service)
                    .await;
            });
        }
    })
}

/// One of the [`MAX_CONNECTIONS`] connection slots, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>) -> Option<Slot> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_CONNECTIONS).then_some(n + 1)
        })
        .ok()
        .map(|_| Slot(open.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers a connection beyond [`MAX_CONNECTIONS`]: a 429 `Status`, whatever the request; the
/// request is read and dropped until the client closes or for a second, so that the client
/// reads the answer instead of a reset.
async fn refuse(stream: tokio::net::TcpStream) {
    let body = api::status(
        429,
        "TooManyRequests",
        &format!(
            "too many connections: sbdiag serve answers {MAX_CONNECTIONS} at once; retry when one closes"
        ),
    )
    .body;
    let head = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        // The answer fits the socket's buffer: written at once or not at all.
        let _ = stream.writable().await;
        let _ = stream.try_write(&out);
        let mut buf = [0u8; 4096];
        loop {
            let _ = stream.readable().await;
            match stream.try_read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
    })
    .await;
}

/// A connection whose writes fail once the client has read nothing for
/// [`WRITE_STALL_TIMEOUT`] while a response waits: hyper then closes it.
struct Stall<T> {
    io: T,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> Stall<T> {
    fn new(io: T) -> Stall<T> {
        Stall { io, stalled: None }
    }

    /// A write's outcome: progress resets the clock; `Pending` starts it, and fails the write
    /// once it runs out.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        p: Poll<std::io::Result<R>>,
    ) -> Poll<std::io::Result<R>> {
        if p.is_ready() {
            self.stalled = None;
            return p;
        }
        let t = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_STALL_TIMEOUT)));
        match t.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client read nothing of the response",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for Stall<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for Stall<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        let p = Pin::new(&mut me.io).poll_write(cx, buf);
        me.watch(cx, p)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        let p = Pin::new(&mut me.io).poll_write_vectored(cx, bufs);
        me.watch(cx, p)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let me = self.get_mut();
        let p = Pin::new(&mut me.io).poll_flush(cx);
        me.watch(cx, p)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

async fn answer(
    api: &Arc<api::Api>,
    answers: &tokio::sync::Semaphore,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Out> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let head = method == "HEAD";
    // Only an access review's body is read (at most 64 KiB); writes are refused unread.
    let body = if api::Api::reads_body(&method, &path) {
        match read_body(req.into_body(), 64 * 1024).await {
            Some(b) => b,
            None => {
                return reply_of(
                    api::status(413, "RequestEntityTooLarge", "request body too large"),
                    false,
                );
            }
        }
    } else {
        Vec::new()
    };
    let api2 = api.clone();
    // At most max_answers() at once; the semaphore is never closed.
    let Ok(_permit) = answers.acquire().await else {
        return reply_of(
            api::status(503, "ServiceUnavailable", "the server is stopping"),
            false,
        );
    };
    // Answers read the bundle (logs, objects' lines): off the async threads.
    let reply = tokio::task::spawn_blocking(move || {
        api2.handle_body(&method, &path, &query, &accept, &body)
    })
    .await
    .unwrap_or_else(|_| api::status(500, "InternalError", "the request could not be answered"));
    reply_of(reply, head)
}

/// A request body, or `None` past `limit` bytes or on a broken stream.
async fn read_body(mut b: hyper::body::Incoming, limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut b).poll_frame(cx)).await {
            None => return Some(out),
            Some(Ok(frame)) => {
                if let Ok(d) = frame.into_data() {
                    if out.len() + d.len() > limit {
                        return None;
                    }
                    out.extend_from_slice(&d);
                }
            }
            Some(Err(_)) => return None,
        }
    }
}

/// The HTTP response of a reply (no body for HEAD).
fn reply_of(reply: api::Reply, head: bool) -> hyper::Response<Out> {
    let body = if head {
        Out::Full(None)
    } else {
        match reply.watch {
            Some(timeout) => Out::Watch {
                first: Some(Bytes::from(reply.body)),
                until: timeout.map(|s| {
                    Box::pin(tokio::time::sleep(std::time::Duration::from_secs(
                        s.min(24 * 3600),
                    )))
                }),
            },
            None => Out::Full(Some(Bytes::from(reply.body))),
        }
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::OK);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(reply.content_type),
    );
    resp
}
