//! `sbdiag serve`: the capture as a read-only Kubernetes API on loopback, so that kubectl,
//! k9s and client libraries work on a support bundle. The bundle is indexed once; every
//! request is answered from memory ([`api`]) over HTTP/1.1 (hyper on a small tokio runtime).
//! No TLS: the kubeconfig written points kubectl at an `http://` server on 127.0.0.1.
pub mod api;
pub mod route;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let api = api.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let service = hyper::service::service_fn(move |req| {
                    let api = api.clone();
                    async move { Ok::<_, Infallible>(answer(&api, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    })
}

async fn answer(
    api: &Arc<api::Api>,
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
