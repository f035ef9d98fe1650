//! Service failures and clock evidence in the node bundles' service logs: the journals of the
//! rke2 units (`<node>/logs/rke2-server.log`, `rke2-agent.log`: `journalctl -u`), the kubelet's
//! and containerd's own files (`kubelet.log`, klog; `containerd.log`, logrus). [`Scanner`]
//! counts, per node and service, what says the service failed: systemd's `Main process exited,
//! code=exited, status=1/FAILURE`, `Failed with result 'exit-code'` and `Start request repeated
//! too quickly`, rke2's and containerd's `level=fatal`, klog's fatal lines (`F0322 …`), the
//! kubelet's `failed to run Kubelet` and Go panics; with the first and last such line, and
//! whether systemd started the unit again after the last failure. It also keeps x509 `not yet
//! valid` lines (a clock behind the certificate issuer's) and each file's last dated line (the
//! node's clock when it collected its logs, at the latest). The analysis stage streams these
//! files in the same pass as the kernel logs (`analyze::scan_node_logs`); rules read the result.
use std::collections::BTreeMap;

use crate::facts::kernel::{self, Dating, Line};

/// Longest line kept for a quote, in characters (rke2's fatal lines carry a long URL and error
/// chain before the part that matters).
pub const QUOTE_WIDTH: usize = 600;

/// The `issue` of the etcd log lines that report another member's clock drift (pod logs of
/// `kube-system/etcd-<node>`, read with the known-issue patterns before the rules).
pub const CLOCK_DRIFT_HIT: &str = "node-clock:etcd-drift";

/// Namespace and pod-name prefix of the etcd pods rke2 runs.
pub const ETCD_PODS: (&str, &str) = ("kube-system", "etcd-");

/// etcd's warning when a peer's clock differs from its own by more than a second
/// (`rafthttp/probing_status.go`: `"msg":"prober found high clock drift"`, with
/// `"clock-drift":"1.52s"` and `"remote-peer-id"`).
pub const CLOCK_DRIFT_LINE: &str = "prober found high clock drift";

/// A service whose log the node bundle holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// `rke2-server.service` (its journal).
    Rke2Server,
    /// `rke2-agent.service` (its journal).
    Rke2Agent,
    /// The kubelet rke2 runs (`/var/lib/rancher/rke2/agent/logs/kubelet.log`).
    Kubelet,
    /// The containerd rke2 runs (`/var/lib/rancher/rke2/agent/containerd/containerd.log`).
    Containerd,
}

impl Service {
    /// The service of a file inside a node zip (`<node>/logs/rke2-server.log`), if it is one of
    /// the scanned ones.
    pub fn of_file(inner: &str) -> Option<Service> {
        if !inner.contains("/logs/") {
            return None;
        }
        match inner.rsplit('/').next().unwrap_or(inner) {
            "rke2-server.log" => Some(Service::Rke2Server),
            "rke2-agent.log" => Some(Service::Rke2Agent),
            "kubelet.log" => Some(Service::Kubelet),
            "containerd.log" => Some(Service::Containerd),
            _ => None,
        }
    }

    /// Its name (the systemd unit's without `.service`; the log's name for `sbdiag logs -c`).
    pub fn name(self) -> &'static str {
        match self {
            Service::Rke2Server => "rke2-server",
            Service::Rke2Agent => "rke2-agent",
            Service::Kubelet => "kubelet",
            Service::Containerd => "containerd",
        }
    }

    /// Whether its log is the systemd unit's journal (with systemd's own lines about it).
    pub fn is_unit(self) -> bool {
        matches!(self, Service::Rke2Server | Service::Rke2Agent)
    }
}

/// Most failure lines of one service that keep their own quote (the first and last are
/// always kept).
const MAX_QUOTES: usize = 3;

/// What one service's log says about its failures on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    /// Node name (from the node zip).
    pub node: String,
    /// The service.
    pub service: Service,
    /// systemd's `Main process exited` lines with a failing status (not 0, not a clean
    /// stop by SIGTERM/SIGINT/SIGHUP/SIGPIPE).
    pub exits: u64,
    /// systemd's `Failed with result '…'` lines.
    pub failed: u64,
    /// systemd's `Start request repeated too quickly` lines: it stopped restarting the unit.
    pub start_limit: u64,
    /// The service's own fatal lines (`level=fatal`, klog `F…`, `failed to run Kubelet`,
    /// `panic:`).
    pub fatal: u64,
    /// The first failure line.
    pub first: Line,
    /// The last failure line.
    pub last: Line,
    /// The last fatal line of the service itself (what it said before exiting), if any.
    pub last_fatal: Option<Line>,
    /// systemd logged `Started …` for the unit after the last failure line (unit journals only).
    pub restarted_after: bool,
    /// Distinct exit results, `status=1/FAILURE` or `'exit-code'`, with their counts.
    pub results: BTreeMap<String, u64>,
}

impl Failures {
    /// How many times the service likely failed: the largest of its failing exits, systemd's
    /// failure results and its own fatal lines (one crash logs one of each, or some of them).
    pub fn failures(&self) -> u64 {
        self.exits.max(self.failed).max(self.fatal)
    }
}

/// What the service logs of one node say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeServices {
    /// Node name.
    pub node: String,
    /// Files read.
    pub files: Vec<String>,
    /// Failures per service (only services with at least one failure line).
    pub failures: Vec<Failures>,
    /// x509 `certificate has expired or is not yet valid … is before …` lines: how many and
    /// the last one.
    pub not_yet_valid: Option<(u64, Line)>,
    /// The newest dated last line of the node's log files (kernel and service logs): the
    /// node's clock when it wrote it, no later than when it collected its logs.
    pub newest: Option<Line>,
}

/// A failure line's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    Exit,
    Failed,
    StartLimit,
    Fatal,
    Started,
}

/// Fixed words of every line worth a closer look (one pass, before any parsing).
fn candidate(line: &str) -> bool {
    line.contains("exited")
        || line.contains("Failed")
        || line.contains("fatal")
        || line.contains("too quickly")
        || line.contains("ailed to run")
        || line.contains("panic")
        || line.contains("Started ")
        || line.starts_with('F')
}

/// Signals systemd treats as a clean stop of a service by default.
const CLEAN_SIGNALS: &[&str] = &["TERM", "INT", "HUP", "PIPE"];

/// What a line of a `service` log reports, with the result words (`status=1/FAILURE`).
fn classify(service: Service, line: &str) -> Option<(Hit, Option<String>)> {
    if !candidate(line) {
        return None;
    }
    // systemd's own lines are in the unit journals only.
    if service.is_unit() && line.contains("systemd[") {
        if line.contains("Main process exited") {
            let status = line.split("status=").nth(1)?.trim_end_matches('.').trim();
            let (code, name) = status.split_once('/').unwrap_or((status, ""));
            if code == "0" || CLEAN_SIGNALS.contains(&name) {
                return None;
            }
            return Some((Hit::Exit, Some(format!("status={status}"))));
        }
        if let Some(r) = line.split("Failed with result ").nth(1) {
            // systemd's result after the start limit repeats that, not another failure.
            if r.contains("start-limit-hit") {
                return None;
            }
            return Some((Hit::Failed, Some(r.trim_end_matches('.').to_string())));
        }
        if line.contains("Start request repeated too quickly") {
            return Some((Hit::StartLimit, None));
        }
        if line.contains(": Started ") {
            return Some((Hit::Started, None));
        }
        return None;
    }
    let fatal = line.contains("level=fatal")
        || line.contains("\"level\":\"fatal\"")
        || line.contains("failed to run Kubelet")
        || line.contains("Failed to run kubelet")
        || line.contains("panic: ")
        // klog: `F0322 23:50:31.123 …`
        || (service == Service::Kubelet
            && line.starts_with('F')
            && line.as_bytes().get(1..5).is_some_and(|d| d.iter().all(u8::is_ascii_digit)));
    fatal.then_some((Hit::Fatal, None))
}

/// A line's position: (index of its file among the files read, line number).
type LinePos = (usize, u32);

/// Streams the service logs of one node: [`Scanner::file`] for each file, [`Scanner::add`]
/// for each line, then [`Scanner::finish`]. [`Scanner::last_line`] takes the last line of
/// any other log of the node (the kernel's) for the node's newest time.
#[derive(Debug)]
pub struct Scanner {
    out: NodeServices,
    capture: Option<(i32, u32)>,
    /// The current file's service (`None`: another log of the node, only its last line kept).
    current: Option<Service>,
    /// How the current file's lines are dated.
    dating: Dating,
    /// Per service: its failures so far and the position of the last `Started` line.
    services: BTreeMap<Service, (Option<Failures>, Option<LinePos>)>,
    not_yet_valid: Option<(u64, Line)>,
    /// The current file's last line (number, text), kept raw: dated once, at the end.
    last: (u32, String),
}

impl Scanner {
    /// A scanner for `node`; the capture's (year, month) dates lines of logs without a year.
    pub fn new(node: &str, capture: Option<(i32, u32)>) -> Scanner {
        Scanner {
            out: NodeServices {
                node: node.to_string(),
                ..NodeServices::default()
            },
            capture,
            current: None,
            dating: Dating::new(capture),
            services: BTreeMap::new(),
            not_yet_valid: None,
            last: (0, String::new()),
        }
    }

    /// Starts a file (bundle-relative path) of `service`.
    pub fn file(&mut self, path: &str, service: Service) {
        self.end_file();
        self.out.files.push(path.to_string());
        self.current = Some(service);
        self.dating = Dating::new(self.capture);
    }

    fn quote(&self, n: u32, line: &str) -> Line {
        Line {
            file: self.out.files.last().cloned().unwrap_or_default(),
            line: n,
            when: kernel::when(&self.dating, line),
            text: line.chars().take(QUOTE_WIDTH).collect(),
        }
    }

    /// One line (1-based number `n`) of the current file.
    pub fn add(&mut self, n: u32, line: &str) {
        self.keep_last(n, line);
        let Some(service) = self.current else {
            return;
        };
        if line.contains("not yet valid") && line.contains("x509") {
            let count = self.not_yet_valid.as_ref().map(|(c, _)| *c).unwrap_or(0) + 1;
            let mut q = self.quote(n, line);
            // The part that matters: `x509: … current time A is before B`.
            if let Some(at) = line.find("x509:") {
                q.text = line[at..]
                    .trim_end_matches(['"', '\\'])
                    .chars()
                    .take(QUOTE_WIDTH)
                    .collect();
            }
            self.not_yet_valid = Some((count, q));
        }
        let Some((hit, result)) = classify(service, line) else {
            return;
        };
        let file = self.out.files.len().saturating_sub(1);
        if hit == Hit::Started {
            self.services.entry(service).or_default().1 = Some((file, n));
            return;
        }
        let quote = self.quote(n, line);
        let node = self.out.node.clone();
        let slot = &mut self.services.entry(service).or_default().0;
        let f = slot.get_or_insert_with(|| Failures {
            node,
            service,
            exits: 0,
            failed: 0,
            start_limit: 0,
            fatal: 0,
            first: quote.clone(),
            last: quote.clone(),
            last_fatal: None,
            restarted_after: false,
            results: BTreeMap::new(),
        });
        match hit {
            Hit::Exit => f.exits += 1,
            Hit::Failed => f.failed += 1,
            Hit::StartLimit => f.start_limit += 1,
            Hit::Fatal => {
                f.fatal += 1;
                f.last_fatal = Some(quote.clone());
            }
            Hit::Started => {}
        }
        if let Some(r) = result
            && (f.results.len() < MAX_QUOTES || f.results.contains_key(&r))
        {
            *f.results.entry(r).or_default() += 1;
        }
        f.last = quote;
    }

    /// Keeps the last line of a file of the node that is not a service log (the kernel's):
    /// its time bounds the node's clock at collection. Call [`Scanner::other_file`] first.
    pub fn last_line(&mut self, n: u32, line: &str) {
        self.keep_last(n, line);
    }

    /// Starts a file of the node that is not a service log (only its last line is kept).
    pub fn other_file(&mut self, path: &str) {
        self.end_file();
        self.out.files.push(path.to_string());
        self.current = None;
        self.dating = Dating::new(self.capture);
    }

    fn keep_last(&mut self, n: u32, line: &str) {
        if n == 1
            && let Some(d) = Dating::header(line)
        {
            self.dating = d;
            return;
        }
        if !line.trim().is_empty() {
            self.last.0 = n;
            self.last.1.clear();
            self.last.1.push_str(line);
        }
    }

    /// Dates the current file's last line and keeps it when it is the newest so far.
    fn end_file(&mut self) {
        let (n, text) = std::mem::take(&mut self.last);
        if n == 0 {
            return;
        }
        let q = self.quote(n, &text);
        let Some(t) = parse_rfc3339(&q.when) else {
            return;
        };
        if self
            .out
            .newest
            .as_ref()
            .and_then(|l| parse_rfc3339(&l.when))
            .is_none_or(|old| t > old)
        {
            self.out.newest = Some(q);
        }
    }

    /// What was found.
    pub fn finish(mut self) -> NodeServices {
        self.end_file();
        for (_, (f, started)) in std::mem::take(&mut self.services) {
            let Some(mut f) = f else { continue };
            if let Some((file, line)) = started {
                let last_file = self
                    .out
                    .files
                    .iter()
                    .position(|p| *p == f.last.file)
                    .unwrap_or(0);
                f.restarted_after = (file, line) > (last_file, f.last.line);
            }
            self.out.failures.push(f);
        }
        self.out.not_yet_valid = self.not_yet_valid;
        self.out
    }
}

/// An RFC 3339 time as [`kernel::when`] writes it (`2022-03-22T23:50:31Z`).
pub fn parse_rfc3339(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: &str = "nodes/n2.zip!n2/logs/rke2-agent.log";

    fn scan(files: &[(&str, &[&str])]) -> NodeServices {
        let mut s = Scanner::new("n2", Some((2030, 3)));
        for (path, lines) in files {
            match Service::of_file(path) {
                Some(svc) => s.file(path, svc),
                None => s.other_file(path),
            }
            for (n, l) in (1u32..).zip(lines.iter()) {
                match Service::of_file(path) {
                    Some(_) => s.add(n, l),
                    None => s.last_line(n, l),
                }
            }
        }
        s.finish()
    }

    #[test]
    fn unit_failures_counted_with_results_and_restart() {
        let k = scan(&[(
            UNIT,
            &[
                "-- Logs begin at Sun 2030-03-06 22:45:10 UTC, end at Tue 2030-03-22 23:50:58 UTC. --",
                "Mar 20 10:00:00 n2 rke2[2137]: time=\"2030-03-20T10:00:00Z\" level=fatal msg=\"starting kubernetes: preparing server: failed to get CA certs\"",
                "Mar 20 10:00:00 n2 systemd[1]: rke2-agent.service: Main process exited, code=exited, status=1/FAILURE",
                "Mar 20 10:00:00 n2 systemd[1]: rke2-agent.service: Failed with result 'exit-code'.",
                "Mar 20 10:00:05 n2 systemd[1]: rke2-agent.service: Main process exited, code=killed, status=15/TERM",
                "Mar 20 10:00:06 n2 rke2[2200]: time=\"2030-03-20T10:00:06Z\" level=fatal msg=\"starting kubernetes: preparing server: failed to get CA certs\"",
                "Mar 20 10:00:06 n2 systemd[1]: rke2-agent.service: Main process exited, code=exited, status=1/FAILURE",
                "Mar 20 10:00:06 n2 systemd[1]: rke2-agent.service: Failed with result 'exit-code'.",
                "Mar 20 10:00:11 n2 systemd[1]: rke2-agent.service: Start request repeated too quickly.",
                "Mar 20 10:00:11 n2 systemd[1]: Failed to start Rancher Kubernetes Engine v2 (agent).",
            ],
        )]);
        assert_eq!(k.failures.len(), 1, "{k:?}");
        let f = &k.failures[0];
        assert_eq!(f.service, Service::Rke2Agent);
        assert_eq!((f.exits, f.failed, f.fatal, f.start_limit), (2, 2, 2, 1));
        assert_eq!(f.failures(), 2);
        assert_eq!(f.first.line, 2);
        assert_eq!(f.last.line, 9);
        assert_eq!(f.first.when, "2030-03-20T10:00:00Z");
        assert_eq!(f.results.get("status=1/FAILURE"), Some(&2));
        assert_eq!(f.results.get("'exit-code'"), Some(&2));
        assert!(!f.restarted_after);
        assert_eq!(f.last_fatal.as_ref().map(|l| l.line), Some(6));
        // A later start clears "still down".
        let k = scan(&[(
            UNIT,
            &[
                "Mar 20 10:00:06 n2 systemd[1]: rke2-agent.service: Failed with result 'exit-code'.",
                "Mar 20 10:05:00 n2 systemd[1]: Started Rancher Kubernetes Engine v2 (agent).",
            ],
        )]);
        assert!(k.failures[0].restarted_after);
    }

    #[test]
    fn kubelet_and_containerd_fatal_lines_and_x509_clock() {
        let k = scan(&[
            (
                "nodes/n2.zip!n2/logs/kubelet.log",
                &[
                    "I0320 10:00:00.000001    3311 server.go:484] \"Kubelet version\"",
                    "E0320 10:00:01.5    3311 run.go:74] \"command failed\" err=\"failed to run Kubelet: validate service connection: CRI v1 runtime API is not implemented\"",
                    "E0320 10:00:02.5    3311 certificate_manager.go:562] x509: certificate has expired or is not yet valid: current time 2030-03-20T10:00:02Z is before 2030-03-20T11:00:00Z",
                    "F0320 10:00:03.000000    3311 server.go:99] oops",
                ],
            ),
            (
                "nodes/n2.zip!n2/logs/containerd.log",
                &[
                    "time=\"2030-03-20T10:00:00.123456789Z\" level=info msg=\"starting containerd\"",
                    "panic: runtime error: invalid memory address or nil pointer dereference",
                ],
            ),
            (
                "nodes/n2.zip!n2/logs/kernel.log",
                &["Mar 22 23:55:00 n2 kernel: eth0: link up", ""],
            ),
        ]);
        let kubelet = k
            .failures
            .iter()
            .find(|f| f.service == Service::Kubelet)
            .unwrap();
        assert_eq!(kubelet.fatal, 2);
        assert_eq!(kubelet.first.when, "2030-03-20T10:00:01Z");
        let containerd = k
            .failures
            .iter()
            .find(|f| f.service == Service::Containerd)
            .unwrap();
        assert_eq!(containerd.fatal, 1);
        let (n, l) = k.not_yet_valid.as_ref().unwrap();
        assert_eq!((*n, l.line), (1, 3));
        // The newest last line: the kernel log's (blank last lines are skipped).
        let newest = k.newest.as_ref().unwrap();
        assert_eq!(newest.when, "2030-03-22T23:55:00Z");
        assert!(newest.file.ends_with("kernel.log"));
    }

    #[test]
    fn a_clean_stop_is_not_a_failure() {
        let k = scan(&[(
            UNIT,
            &[
                "Mar 20 10:00:05 n2 systemd[1]: rke2-agent.service: Main process exited, code=killed, status=15/TERM",
                "Mar 20 10:00:05 n2 systemd[1]: rke2-agent.service: Succeeded.",
                "Mar 20 10:00:05 n2 rke2[12]: time=\"2030-03-20T10:00:05Z\" level=info msg=\"Failed to test data store connection: context canceled\"",
            ],
        )]);
        assert!(k.failures.is_empty(), "{k:?}");
    }
}
