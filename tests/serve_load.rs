//! `sbdiag serve` under load on 127.0.0.1 (issue 21), with std threads and `TcpStream` only.
//!
//! `many_clients_and_slow_ones_are_answered_correctly_in_bounded_memory`: on the real bundle
//! (a sample when no real bundle is present, outside CI), a single client's answers first,
//! then fast clients on keep-alive connections doing what kubectl does (lists of several kinds,
//! across namespaces, with label and field selectors, as JSON and as kubectl's Tables; an
//! object; pod logs with `tailLines` and `follow`) beside watchers (a watch with
//! `timeoutSeconds`, one resumed from a list, one held open and dropped mid-stream); twice,
//! the second time with slow clients connected (silent, a byte at a time, reading the largest
//! answer slowly and then leaving). Every answer is compared with the single client's, the fast
//! clients' latency is bounded while the slow ones are connected, memory is read from
//! `/proc/PID/status`, and the process is still serving afterwards with every connection
//! closed.
//!
//! `limits_free_what_silent_and_stalled_clients_hold`: the limits in `sbdiag::serve` — a
//! connection beyond `MAX_CONNECTIONS` is answered 429, a silent connection is closed after
//! `HEADER_READ_TIMEOUT` and frees its slot, a client that reads nothing of its responses is
//! cut after `WRITE_STALL_TIMEOUT`.
//!
//! `cargo build --release && SBDIAG_SERVE_BIN=target/release/sbdiag cargo test --test serve_load
//! -- --nocapture` prints the figures BENCHMARKS.md quotes ("serve under load").
mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::serve::{Server, kubectl_bin};
use common::*;
use sbdiag::serve::{HEADER_READ_TIMEOUT, MAX_CONNECTIONS, WRITE_STALL_TIMEOUT};
use serde_json::Value;

/// The `Accept` header kubectl sends for `get` (a Table, else JSON).
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
/// The `Accept` header of `kubectl get -o json` and of client-go.
const JSON: &str = "application/json, */*";

/// What the load test reads of the server's process, and its connections.
impl Server {
    /// The server on `bundle`, ages as at capture: every answer is the same whenever it is
    /// asked.
    fn at_capture(bundle: &Path) -> Server {
        Server::start(bundle, &["--age-from", "capture"])
    }

    /// A `/proc/PID/status` figure in kB (`VmRSS`, `VmHWM`).
    fn mem_kb(&self, field: &str) -> u64 {
        let st = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        st.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"))
    }

    /// Open file descriptors: the listener, the runtime's, and one per open connection.
    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .unwrap()
            .count()
    }

    /// Waits until the server holds at most `n` descriptors (connections closed); the count.
    fn fds_settle(&self, n: usize, within: Duration) -> usize {
        let start = Instant::now();
        loop {
            let f = self.fds();
            if f <= n || start.elapsed() > within {
                return f;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn connect(&self) -> Conn {
        let s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Conn {
            r: BufReader::new(s),
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

/// A response: status, headers, body (chunks joined).
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    fn send(&mut self, target: &str, accept: &str) -> std::io::Result<()> {
        // As kubectl writes it: the request's head in one write.
        let req = format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\nUser-Agent: serve-load\r\n\r\n"
        );
        self.r.get_mut().write_all(req.as_bytes())
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut l = String::new();
        if self.r.read_line(&mut l)? == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        Ok(l.trim_end().to_string())
    }

    /// The status line and headers.
    fn head(&mut self) -> std::io::Result<(u16, Vec<(String, String)>)> {
        let status = self.line()?;
        let code = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("status line {status:?}")))?;
        let mut headers = Vec::new();
        loop {
            let l = self.line()?;
            if l.is_empty() {
                return Ok((code, headers));
            }
            let (k, v) = l.split_once(':').unwrap_or((&l, ""));
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }

    /// One chunk of a chunked body (`None`: the last, empty chunk and the trailer).
    fn chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let size = self.line()?;
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other(format!("chunk size {size:?}")))?;
        if n == 0 {
            while !self.line()?.is_empty() {}
            return Ok(None);
        }
        let mut b = vec![0; n];
        self.r.read_exact(&mut b)?;
        self.line()?;
        Ok(Some(b))
    }

    fn response(&mut self) -> std::io::Result<Response> {
        let (status, headers) = self.head()?;
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            while let Some(c) = self.chunk()? {
                body.extend_from_slice(&c);
            }
        } else if let Some(n) = get("content-length").and_then(|v| v.parse().ok()) {
            body.resize(n, 0);
            self.r.read_exact(&mut body)?;
        } else {
            self.r.read_to_end(&mut body)?;
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn get(&mut self, target: &str, accept: &str) -> Response {
        self.send(target, accept).expect("send");
        self.response()
            .unwrap_or_else(|e| panic!("GET {target}: {e}"))
    }
}

/// What a request asks, and how its answer is counted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// A `…List`: its items.
    List,
    /// A `Table`: its rows.
    Table,
    /// One object.
    Object,
    /// A log: its lines.
    Log,
}

#[derive(Debug, Clone)]
struct Case {
    target: String,
    accept: &'static str,
    shape: Shape,
}

/// A case's answer, counted: items, rows or lines (1 for an object).
fn count(shape: Shape, r: &Response) -> usize {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    if shape == Shape::Log {
        assert_eq!(r.header("content-type"), Some("text/plain"));
        return String::from_utf8(r.body.clone())
            .expect("utf-8 log")
            .lines()
            .count();
    }
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v: Value = serde_json::from_slice(&r.body).expect("a JSON answer");
    match shape {
        Shape::List => {
            assert!(v["kind"].as_str().unwrap().ends_with("List"), "{v}");
            v["items"].as_array().expect("items").len()
        }
        Shape::Table => {
            assert_eq!(v["kind"], "Table");
            assert!(!v["columnDefinitions"].as_array().unwrap().is_empty());
            v["rows"].as_array().expect("rows").len()
        }
        Shape::Object => {
            assert!(v["metadata"]["name"].is_string(), "{v}");
            1
        }
        Shape::Log => unreachable!(),
    }
}

/// Events of a watch body: one JSON object a line, each `ADDED`; their count.
fn watch_events(body: &[u8], table: bool) -> usize {
    let text = std::str::from_utf8(body).expect("utf-8 watch");
    let mut n = 0;
    for l in text.lines() {
        let e: Value = serde_json::from_str(l).expect("a watch event a line");
        assert_eq!(e["type"], "ADDED", "{l}");
        if table {
            assert_eq!(e["object"]["kind"], "Table", "{l}");
            assert_eq!(e["object"]["rows"].as_array().unwrap().len(), 1, "{l}");
        } else {
            assert!(e["object"]["metadata"]["name"].is_string(), "{l}");
        }
        n += 1;
    }
    n
}

/// The requests of the load and the single client's answers to them.
struct Plan {
    cases: Vec<Case>,
    /// (body, count) of each case, from one client alone.
    want: Vec<(Vec<u8>, usize)>,
    /// A namespace's pods, watched: path and count.
    watch_ns: (String, usize),
    /// Every pod.
    pods: usize,
    /// The largest answer of the cases, read slowly by slow clients.
    largest: String,
}

/// Picks the requests from the bundle: kinds it holds, a pod with a log, a label selector
/// that matches.
fn plan(s: &Server) -> Plan {
    let mut c = s.connect();
    let pods: Value = serde_json::from_slice(&c.get("/api/v1/pods", JSON).body).unwrap();
    let items = pods["items"].as_array().unwrap();
    assert!(items.len() > 5, "a bundle with pods");
    // A pod with a log of at least 20 lines and a label to select it by.
    let (ns, pod, label) = items
        .iter()
        .find_map(|p| {
            let ns = p["metadata"]["namespace"].as_str()?;
            let name = p["metadata"]["name"].as_str()?;
            let (k, v) = p["metadata"]["labels"].as_object()?.iter().next()?;
            let log = c.get(&format!("/api/v1/namespaces/{ns}/pods/{name}/log"), JSON);
            let lines = String::from_utf8_lossy(&log.body).lines().count();
            (log.status == 200 && lines >= 20).then(|| {
                (
                    ns.to_string(),
                    name.to_string(),
                    format!("{k}={}", v.as_str().unwrap_or_default()),
                )
            })
        })
        .expect("a pod with a log of 20 lines");
    let sel = label.replace('=', "%3D").replace('/', "%2F");
    let case = |target: String, accept, shape| Case {
        target,
        accept,
        shape,
    };
    // The requests of `kubectl get` (Tables; `-o json`; `limit=500`, as kubectl asks), of
    // client-go (JSON lists with selectors), of `kubectl logs`. Every pod as JSON, the
    // costliest answer (about 0.7 s in a debug build), is asked by the single client only.
    let all_pods_json = case("/api/v1/pods?limit=500".into(), JSON, Shape::List);
    let cases = vec![
        case("/api/v1/pods?limit=500".into(), TABLE, Shape::Table),
        case(
            format!("/api/v1/namespaces/{ns}/pods?labelSelector={sel}&limit=500"),
            TABLE,
            Shape::Table,
        ),
        case(
            format!("/api/v1/pods?labelSelector={sel}"),
            JSON,
            Shape::List,
        ),
        case(
            format!("/api/v1/pods?fieldSelector=metadata.namespace%3D{ns}"),
            JSON,
            Shape::List,
        ),
        case(
            format!("/api/v1/namespaces/{ns}/pods/{pod}"),
            JSON,
            Shape::Object,
        ),
        case("/api/v1/nodes?limit=500".into(), TABLE, Shape::Table),
        case(
            "/apis/apps/v1/daemonsets?limit=500".into(),
            TABLE,
            Shape::Table,
        ),
        case(
            format!("/apis/apps/v1/namespaces/{ns}/deployments"),
            JSON,
            Shape::List,
        ),
        case("/api/v1/services?limit=500".into(), TABLE, Shape::Table),
        case("/api/v1/events?limit=500".into(), JSON, Shape::List),
        case("/api/v1/namespaces?limit=500".into(), TABLE, Shape::Table),
        // kubectl logs --tail 20, kubectl logs, kubectl logs -f --tail 5 (a capture does not
        // grow: the answer ends).
        case(
            format!("/api/v1/namespaces/{ns}/pods/{pod}/log?tailLines=20"),
            "*/*",
            Shape::Log,
        ),
        case(
            format!("/api/v1/namespaces/{ns}/pods/{pod}/log"),
            "*/*",
            Shape::Log,
        ),
        case(
            format!("/api/v1/namespaces/{ns}/pods/{pod}/log?follow=true&tailLines=5"),
            "*/*",
            Shape::Log,
        ),
    ];
    let want: Vec<(Vec<u8>, usize)> = cases
        .iter()
        .chain([&all_pods_json])
        .map(|k| {
            let r = c.get(&k.target, k.accept);
            let n = count(k.shape, &r);
            (r.body, n)
        })
        .collect();
    // The single client's answers agree with each other and with the bundle.
    let n = |i: usize| want[i].1;
    assert_eq!(n(0), items.len(), "pods: Table rows = List items");
    assert_eq!(n(cases.len()), items.len(), "pods as JSON");
    assert!(n(1) >= 1 && n(2) >= n(1), "label selector {label}");
    assert!(n(3) >= n(1) && n(3) < items.len(), "field selector");
    assert!(n(5) >= 1 && n(6) >= 1 && n(10) >= 1);
    assert_eq!((n(11), n(13)), (20, 5), "tailLines");
    assert!(n(12) >= 20);
    let watch_ns = (format!("/api/v1/namespaces/{ns}/pods"), n(3));
    let largest = cases
        .iter()
        .zip(&want)
        .max_by_key(|(_, w)| w.0.len())
        .map(|(k, _)| k.target.clone())
        .unwrap();
    Plan {
        cases,
        want,
        watch_ns,
        pods: items.len(),
        largest,
    }
}

/// What one pass of the load measured.
#[derive(Debug, Default)]
struct Pass {
    latencies: Vec<Duration>,
    watches: usize,
    elapsed: Duration,
}

impl Pass {
    fn quantile(&self, q: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        l[((l.len() - 1) as f64 * q).round() as usize]
    }

    fn line(&self, name: &str) -> String {
        format!(
            "{name}: {} requests in {:.2} s ({:.0}/s) and {} watches; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.latencies.len(),
            self.elapsed.as_secs_f64(),
            self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            self.watches,
            self.quantile(0.5).as_secs_f64() * 1e3,
            self.quantile(0.99).as_secs_f64() * 1e3,
            self.quantile(1.0).as_secs_f64() * 1e3,
        )
    }
}

/// Fast clients, each on its own keep-alive connection going through every case `rounds`
/// times from a different starting point.
const FAST: usize = 16;
/// Watchers, each doing the three watches `WATCH_ROUNDS` times.
const WATCHERS: usize = 4;
const WATCH_ROUNDS: usize = 1;

/// One pass: the fast clients and the watchers at once; every answer checked.
fn load(s: &Server, p: &Plan, rounds: usize) -> Pass {
    let start = Barrier::new(FAST + WATCHERS);
    let latencies = Mutex::new(Vec::new());
    let began = Instant::now();
    std::thread::scope(|sc| {
        for t in 0..FAST {
            let (start, latencies) = (&start, &latencies);
            sc.spawn(move || {
                let mut c = s.connect();
                let mut mine = Vec::new();
                start.wait();
                for i in 0..rounds * p.cases.len() {
                    let k = (t + i) % p.cases.len();
                    let case = &p.cases[k];
                    let t0 = Instant::now();
                    let r = c.get(&case.target, case.accept);
                    mine.push(t0.elapsed());
                    let n = count(case.shape, &r);
                    assert_eq!(n, p.want[k].1, "{}: count", case.target);
                    assert!(
                        r.body == p.want[k].0,
                        "{}: not the single client's answer",
                        case.target
                    );
                }
                latencies.lock().unwrap().extend(mine);
            });
        }
        for _ in 0..WATCHERS {
            let start = &start;
            sc.spawn(move || {
                start.wait();
                for _ in 0..WATCH_ROUNDS {
                    watch_round(s, p);
                }
            });
        }
    });
    Pass {
        latencies: latencies.into_inner().unwrap(),
        watches: WATCHERS * WATCH_ROUNDS * 3,
        elapsed: began.elapsed(),
    }
}

/// The server's watch semantics, asserted: the current objects as `ADDED`, then the stream
/// held open until `timeoutSeconds` (then ended) or until the client leaves; a watch resumed
/// from a list's `resourceVersion` has seen the objects and gets none.
fn watch_round(s: &Server, p: &Plan) {
    let mut c = s.connect();
    // kubectl get pods -n NS -w's first form: events, then the end at timeoutSeconds.
    let t0 = Instant::now();
    let r = c.get(
        &format!("{}?watch=true&timeoutSeconds=1", p.watch_ns.0),
        JSON,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(watch_events(&r.body, false), p.watch_ns.1);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(15),
        "a watch with timeoutSeconds=1 took {took:?}"
    );
    // Resumed from the list's resourceVersion, as Tables (kubectl get -w): no events.
    let r = c.get(
        &format!(
            "{}?watch=true&resourceVersion=1&timeoutSeconds=1",
            p.watch_ns.0
        ),
        TABLE,
    );
    assert_eq!((r.status, watch_events(&r.body, true)), (200, 0));
    // As Tables with no timeout (k9s, kubectl get -w): the events, then an open stream; the
    // client leaves mid-stream.
    let mut c = s.connect();
    c.send(&format!("{}?watch=true", p.watch_ns.0), TABLE)
        .unwrap();
    let (status, _) = c.head().unwrap();
    assert_eq!(status, 200);
    let mut body = Vec::new();
    while body.iter().filter(|b| **b == b'\n').count() < p.watch_ns.1 {
        body.extend(c.chunk().unwrap().expect("the stream stays open"));
    }
    assert_eq!(watch_events(&body, true), p.watch_ns.1);
    c.r.get_ref()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut b = [0u8; 1];
    match c.r.read(&mut b) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a watch with no timeout stays open and idle: {other:?}"),
    }
    drop(c);
}

/// A slow client's kind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slow {
    /// Connects and sends nothing.
    Silent,
    /// Sends a request's head a byte every 200 ms, never finishing it.
    Trickle,
    /// Asks for the largest answer, reads 256 bytes every 20 ms up to half of it, and leaves
    /// mid-answer.
    Reader,
}

/// What a slow client saw: its kind, when the server closed its connection (from its
/// connect), the answer's status and the bytes it read.
type Seen = (Slow, Option<Duration>, u16, usize);

/// Starts `n` slow clients of each kind; they run until `stop` is set (readers) or the server
/// closes their connection (silent and trickling ones, at most `HEADER_READ_TIMEOUT` + 10 s).
fn slow_clients(
    s: &Server,
    (largest, half): (&str, usize),
    n: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<Seen>> {
    let mut v = Vec::new();
    for kind in [Slow::Silent, Slow::Trickle, Slow::Reader] {
        for _ in 0..n {
            let (addr, target, stop) = (s.addr.clone(), largest.to_string(), stop.clone());
            v.push(std::thread::spawn(move || {
                slow(kind, &addr, (&target, half), &stop)
            }));
        }
    }
    v
}

fn slow(
    kind: Slow,
    addr: &str,
    (target, half): (&str, usize),
    stop: &std::sync::atomic::AtomicBool,
) -> Seen {
    let began = Instant::now();
    let deadline = HEADER_READ_TIMEOUT + Duration::from_secs(10);
    let s = TcpStream::connect(addr).expect("connect");
    match kind {
        Slow::Silent => {
            while began.elapsed() < deadline {
                if closed(&s, Duration::from_millis(200)) {
                    return (kind, Some(began.elapsed()), 0, 0);
                }
            }
            (kind, None, 0, 0)
        }
        Slow::Trickle => {
            let head = b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
            let mut i = 0;
            while began.elapsed() < deadline {
                let b = head.get(i).copied().unwrap_or(b'a');
                i += 1;
                if (&s).write_all(&[b]).is_err() || closed(&s, Duration::from_millis(200)) {
                    return (kind, Some(began.elapsed()), 0, i);
                }
            }
            (kind, None, 0, i)
        }
        Slow::Reader => {
            let mut c = Conn {
                r: BufReader::with_capacity(256, s),
            };
            c.send(target, JSON).unwrap();
            let (status, _) = c.head().unwrap();
            let mut b = [0u8; 256];
            let mut read = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Half the answer at most: the reader leaves mid-answer.
                if read < half {
                    match c.r.read(&mut b) {
                        Ok(0) | Err(_) => return (kind, Some(began.elapsed()), status, read),
                        Ok(n) => read += n,
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Leaves mid-answer.
            (kind, None, status, read)
        }
    }
}

/// Whether the server closed `s` (EOF or reset); waits at most `wait`.
fn closed(s: &TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut b = [0u8; 4096];
    loop {
        match (&*s).read(&mut b) {
            Ok(0) => return true,
            // A 408 or any bytes: keep reading to the end.
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

fn bundle_under_test() -> PathBuf {
    real_bundles()
        .into_iter()
        .next()
        .unwrap_or_else(|| sample("healthy-v1.4.0"))
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Rounds through every case per fast client in a pass.
const ROUNDS: usize = 1;
/// Slow clients of each kind in the second pass.
const SLOW: usize = 4;

#[test]
fn many_clients_and_slow_ones_are_answered_correctly_in_bounded_memory() {
    let b = bundle_under_test();
    let mut s = Server::at_capture(&b);
    let p = plan(&s);
    let fds0 = s.fds_settle(0, Duration::from_millis(200));
    let rss0 = s.mem_kb("VmRSS");

    let alone = load(&s, &p, ROUNDS);
    let rss1 = s.mem_kb("VmRSS");

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let largest = p.want[..p.cases.len()]
        .iter()
        .map(|w| w.0.len())
        .max()
        .unwrap();
    let slow = slow_clients(&s, (&p.largest, largest / 2), SLOW, &stop);
    // Connected, and the readers into their answers, before the fast clients start.
    std::thread::sleep(Duration::from_millis(500));
    let beside_slow = load(&s, &p, ROUNDS);
    let rss2 = s.mem_kb("VmRSS");
    let hwm = s.mem_kb("VmHWM");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen: Vec<Seen> = slow.into_iter().map(|h| h.join().unwrap()).collect();

    eprintln!(
        "bundle {}: {} cases, largest answer {} KB",
        b.display(),
        p.cases.len(),
        largest / 1024
    );
    eprintln!("{}", alone.line("fast clients alone"));
    eprintln!(
        "{}",
        beside_slow.line(&format!("fast clients beside {} slow ones", 3 * SLOW))
    );
    eprintln!(
        "RSS: {:.1} MB after the single client, {:.1} MB after the first pass, {:.1} MB after the second; peak {:.1} MB",
        mb(rss0),
        mb(rss1),
        mb(rss2),
        mb(hwm)
    );

    // Slow clients held nobody up: a request held by one would wait until the header timeout
    // closed it (or for ever), and the fast clients were not slowed by more than the machine's
    // noise (generous: a debug build on two cores other builds share).
    let worst = beside_slow.quantile(1.0);
    assert!(
        worst < HEADER_READ_TIMEOUT,
        "a fast client waited {worst:?} beside slow ones"
    );
    let (p99a, p99b) = (alone.quantile(0.99), beside_slow.quantile(0.99));
    assert!(
        p99b <= p99a * 3 + Duration::from_secs(1),
        "p99 {p99a:?} alone, {p99b:?} beside slow clients"
    );
    for (kind, closed_after, status, bytes) in &seen {
        match kind {
            // The server closed them, at the header timeout.
            Slow::Silent | Slow::Trickle => {
                let t = closed_after.unwrap_or_else(|| panic!("{kind:?}: never closed"));
                assert!(
                    t + Duration::from_secs(1) >= HEADER_READ_TIMEOUT
                        && t <= HEADER_READ_TIMEOUT + Duration::from_secs(5),
                    "{kind:?}: closed after {t:?}"
                );
            }
            // They were answered, read part of it, and left mid-answer.
            Slow::Reader => {
                assert_eq!(*status, 200);
                assert!(*bytes > 0 && *bytes < largest, "{bytes} of {largest} bytes");
                assert_eq!(*closed_after, None, "the server cut a reader that reads");
            }
        }
    }

    // Memory is bounded: at most `max_answers()` answers are built at once, each a few times
    // its JSON in memory while it is built, and each connection holds at most its own answer;
    // 128 MB over the single client's RSS is several times what 40 clients of this bundle
    // need, and far below what an unbounded server reaches (one thread and one answer per
    // request in flight).
    assert!(
        hwm <= rss0 + 128 * 1024,
        "peak RSS {:.1} MB against {:.1} MB before the load",
        mb(hwm),
        mb(rss0)
    );
    // The same load again does not grow memory: nothing is kept per request or connection.
    assert!(
        rss2 <= rss1 + 32 * 1024,
        "RSS grew from {:.1} MB to {:.1} MB over the second pass",
        mb(rss1),
        mb(rss2)
    );

    // Every connection is closed (the watches and readers that left, the silent ones), and
    // the process keeps serving.
    let fds = s.fds_settle(fds0, Duration::from_secs(5));
    assert!(
        fds <= fds0,
        "{fds} descriptors open, {fds0} before the load"
    );
    assert!(s.alive());
    let r = s.connect().get("/api/v1/pods?limit=500", JSON);
    assert!(r.status == 200 && r.body == p.want[p.cases.len()].0);
    if kubectl_bin().is_some() {
        let pods = s.ok(&["get", "pods", "-A"]);
        assert_eq!(pods.lines().count(), p.pods + 1, "{pods}");
    }
}

#[test]
fn limits_free_what_silent_and_stalled_clients_hold() {
    let s = Server::at_capture(&bundle_under_test());
    let p = plan(&s);
    let fds0 = s.fds_settle(0, Duration::from_millis(200));
    // A client that pipelines many requests for the largest answer (a whole pod log, cheap
    // to answer) and reads nothing: once the socket buffers are full the server waits on it,
    // WRITE_STALL_TIMEOUT at most.
    const PIPELINED: usize = 400;
    let stalled = TcpStream::connect(&s.addr).unwrap();
    let mut reqs = String::new();
    for _ in 0..PIPELINED {
        reqs.push_str(&format!(
            "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            p.largest
        ));
    }
    (&stalled).write_all(reqs.as_bytes()).unwrap();
    let stalled_at = Instant::now();

    // Every other slot taken by silent connections: one more is refused with a 429 Status.
    let began = Instant::now();
    let silent: Vec<TcpStream> = (1..MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(&s.addr).unwrap())
        .collect();
    let mut extra = s.connect();
    let r = extra.get("/version", JSON);
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("retry-after"), Some("1"));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (v["kind"].as_str(), v["reason"].as_str()),
        (Some("Status"), Some("TooManyRequests"))
    );
    assert!(
        closed(extra.r.get_ref(), Duration::from_secs(5)),
        "a refused connection is closed"
    );

    // The silent ones are closed at the header timeout, which frees their slots.
    for (i, c) in silent.iter().enumerate() {
        let left = (HEADER_READ_TIMEOUT + Duration::from_secs(5)).saturating_sub(began.elapsed());
        assert!(
            closed(c, left.max(Duration::from_millis(1))),
            "silent connection {i} still open after {:?}",
            began.elapsed()
        );
    }
    let t = began.elapsed();
    assert!(
        t + Duration::from_secs(1) >= HEADER_READ_TIMEOUT,
        "closed after {t:?}"
    );
    drop(silent);
    let r = s.connect().get("/version", JSON);
    assert_eq!(
        r.status, 200,
        "served again once the silent connections are gone"
    );
    // Only the stalled connection is left, still held (it reads nothing, the server waits).
    let fds = s.fds_settle(fds0 + 1, Duration::from_secs(5));
    assert_eq!(fds, fds0 + 1, "the stalled connection alone is open");
    assert!(
        stalled_at.elapsed() < WRITE_STALL_TIMEOUT,
        "the test is too slow to tell"
    );

    // The stalled client is cut: reading now, it gets fewer answers than it asked for, then
    // the end of the connection.
    std::thread::sleep(
        (WRITE_STALL_TIMEOUT + Duration::from_secs(3)).saturating_sub(stalled_at.elapsed()),
    );
    let mut got = Vec::new();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let end = (&stalled).read_to_end(&mut got);
    assert!(
        !matches!(&end, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "the stalled connection is still open: {end:?}"
    );
    let answered = got.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count();
    let size = p.want[..p.cases.len()]
        .iter()
        .map(|w| w.0.len())
        .max()
        .unwrap();
    assert!(
        size * PIPELINED > 64 << 20 && answered < PIPELINED,
        "{answered} of {PIPELINED} answers of {size} bytes"
    );
    eprintln!(
        "stalled client: {answered} of {PIPELINED} pipelined answers ({} KB) before the cut",
        got.len() / 1024
    );

    let fds = s.fds_settle(fds0, Duration::from_secs(5));
    assert!(fds <= fds0, "{fds} descriptors open, {fds0} before");
}
