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

/// Longest request body read (an access review's); a longer one is answered 413.
pub const MAX_BODY: usize = 64 * 1024;

/// A response body before it is sent: all of it, or a watch's first events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The whole body (empty for HEAD).
    Full(Bytes),
    /// A watch: these events, then the stream stays open for at most `timeout` seconds
    /// (`None`: until the client leaves).
    Watch {
        /// The initial events, one JSON object per line.
        first: Bytes,
        /// `timeoutSeconds`, when the client gave one.
        timeout: Option<u64>,
    },
}

impl From<Payload> for Out {
    /// The body the server sends (the watch's timer starts here: call it on the runtime).
    fn from(p: Payload) -> Out {
        match p {
            Payload::Full(b) if b.is_empty() => Out::Full(None),
            Payload::Full(b) => Out::Full(Some(b)),
            Payload::Watch { first, timeout } => Out::Watch {
                first: Some(first),
                until: timeout.map(|s| {
                    Box::pin(tokio::time::sleep(std::time::Duration::from_secs(
                        s.min(24 * 3600),
                    )))
                }),
            },
        }
    }
}

/// Whether the server reads the body of a request with these parts before [`respond`]
/// (at most [`MAX_BODY`] bytes): only an access review's.
pub fn wants_body(parts: &hyper::http::request::Parts) -> bool {
    api::Api::reads_body(parts.method.as_str(), parts.uri.path())
}

/// Answers one request from its parts (method, URI, `Accept`) and body, without I/O: what the
/// server sends for every request. `body` is `None` when it was wanted ([`wants_body`]) but
/// too large or broken (413); a request whose body is not wanted passes `Some(&[])`.
pub fn respond(
    api: &api::Api,
    parts: &hyper::http::request::Parts,
    body: Option<&[u8]>,
) -> hyper::Response<Payload> {
    let method = parts.method.as_str();
    let head = method == "HEAD";
    let Some(body) = body else {
        return reply_of(
            api::status(413, "RequestEntityTooLarge", "request body too large"),
            head,
        );
    };
    let accept = parts
        .headers
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let reply = api.handle_body(
        method,
        parts.uri.path(),
        parts.uri.query().unwrap_or_default(),
        accept,
        body,
    );
    reply_of(reply, head)
}

async fn answer(
    api: &Arc<api::Api>,
    answers: &tokio::sync::Semaphore,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Out> {
    let (parts, incoming) = req.into_parts();
    // Only an access review's body is read; writes are refused unread.
    let body = if wants_body(&parts) {
        read_body(incoming, MAX_BODY).await
    } else {
        Some(Vec::new())
    };
    let api2 = api.clone();
    // At most max_answers() at once; the semaphore is never closed.
    let Ok(_permit) = answers.acquire().await else {
        return reply_of(
            api::status(503, "ServiceUnavailable", "the server is stopping"),
            false,
        )
        .map(Out::from);
    };
    let head = parts.method == hyper::Method::HEAD;
    // Answers read the bundle (logs, objects' lines): off the async threads.
    let resp = tokio::task::spawn_blocking(move || respond(&api2, &parts, body.as_deref()))
        .await
        .unwrap_or_else(|_| {
            reply_of(
                api::status(500, "InternalError", "the request could not be answered"),
                head,
            )
        });
    resp.map(Out::from)
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
fn reply_of(reply: api::Reply, head: bool) -> hyper::Response<Payload> {
    let body = match (head, reply.watch) {
        (true, _) => Payload::Full(Bytes::new()),
        (false, Some(timeout)) => Payload::Watch {
            first: Bytes::from(reply.body),
            timeout,
        },
        (false, None) => Payload::Full(Bytes::from(reply.body)),
    };
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::OK);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(reply.content_type),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// The API over one sample, indexed once for every test here.
    fn api() -> &'static api::Api {
        static API: OnceLock<api::Api> = OnceLock::new();
        API.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/upgrade-blocked-v1.4.0");
            let c = Capture::load(&dir, &crate::archive::Limits::default(), &|_, _| {}).unwrap();
            api::Api::new(Box::leak(Box::new(c)), AgeFrom::Now)
        })
    }

    fn parts(method: &str, uri: &str, accept: Option<&str>) -> hyper::http::request::Parts {
        let mut b = hyper::Request::builder().method(method).uri(uri);
        if let Some(a) = accept {
            b = b.header(hyper::header::ACCEPT, a);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn full(r: &hyper::Response<Payload>) -> &[u8] {
        match r.body() {
            Payload::Full(b) => b,
            Payload::Watch { .. } => panic!("a watch: {r:?}"),
        }
    }

    fn json_of(r: &hyper::Response<Payload>) -> serde_json::Value {
        assert_eq!(r.headers()[hyper::header::CONTENT_TYPE], "application/json");
        serde_json::from_slice(full(r)).unwrap()
    }

    #[test]
    fn a_list_a_table_and_a_head_from_the_request_parts() {
        let uri = "/api/v1/namespaces/cattle-system/pods?labelSelector=app%3Drancher";
        let r = respond(api(), &parts("GET", uri, None), Some(&[]));
        assert_eq!(r.status(), 200);
        let v = json_of(&r);
        assert_eq!(v["kind"], "PodList");
        let names: Vec<&str> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["metadata"]["name"].as_str())
            .collect();
        assert_eq!(names, ["rancher-ll288pl58g-jxzlh"]);

        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
        let t = respond(api(), &parts("GET", uri, Some(accept)), Some(&[]));
        assert_eq!(json_of(&t)["kind"], "Table");

        let h = respond(api(), &parts("HEAD", uri, None), Some(&[]));
        assert_eq!(h.status(), 200);
        assert!(full(&h).is_empty());
    }

    #[test]
    fn a_watch_is_its_first_events_and_its_timeout() {
        let uri = "/api/v1/namespaces/cattle-system/pods?watch=true&timeoutSeconds=7";
        let r = respond(api(), &parts("GET", uri, None), Some(&[]));
        assert_eq!(r.status(), 200);
        let Payload::Watch { first, timeout } = r.body() else {
            panic!("not a watch: {r:?}");
        };
        assert_eq!(*timeout, Some(7));
        let events: Vec<serde_json::Value> = first
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert!(events.len() >= 3, "{events:?}");
        assert!(events.iter().all(|e| e["type"] == "ADDED"));
        // Resumed from a list: no events, still open.
        let uri = "/api/v1/namespaces/cattle-system/pods?watch=1&resourceVersion=1";
        let r = respond(api(), &parts("GET", uri, None), Some(&[]));
        assert_eq!(
            r.body(),
            &Payload::Watch {
                first: Bytes::new(),
                timeout: None
            }
        );
    }

    #[test]
    fn bodies_writes_and_unknown_paths() {
        let review = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
        let p = parts("POST", review, None);
        assert!(wants_body(&p));
        let too_large = respond(api(), &p, None);
        assert_eq!(too_large.status(), 413);
        assert_eq!(json_of(&too_large)["reason"], "RequestEntityTooLarge");
        let body = br#"{"spec":{"resourceAttributes":{"verb":"list","resource":"pods"}}}"#;
        let r = respond(api(), &p, Some(body));
        assert_eq!(r.status(), 201);
        assert_eq!(json_of(&r)["status"]["allowed"], true);

        let del = parts("DELETE", "/api/v1/namespaces/default/pods/x", None);
        assert!(!wants_body(&del));
        let r = respond(api(), &del, Some(&[]));
        assert_eq!(r.status(), 405);
        assert_eq!(json_of(&r)["message"], api::READ_ONLY);

        let r = respond(api(), &parts("GET", "/nope?x=%zz", None), Some(&[]));
        assert_eq!(r.status(), 404);
        assert_eq!(json_of(&r)["code"], 404);
    }
}
