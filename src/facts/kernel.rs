//! Kernel storage, filesystem and memory errors in the node bundles' kernel logs
//! (`<node>/logs/kernel.log*`: `journalctl -k`; `dmesg.log` of Longhorn's collector): which
//! lines mean a failing filesystem (`EXT4-fs error (device sdc)`, `XFS (sdb): … I/O error`,
//! a remount read-only), a block-device I/O error (`blk_update_request: I/O error, dev sdc`),
//! a hung task (`INFO: task x:12 blocked for more than 120 seconds`) or an OOM kill
//! (`Out of memory: Killed process 12 (x)`). [`Scanner`] counts them per kind and device, with
//! the first and last line, the processes (`comm`) the lines name, the filesystem's own error
//! count since its last fsck and how many messages the kernel suppressed. The analysis stage
//! streams every kernel log once, before the rules (`analyze::scan_kernel`); rules read the
//! result and never the logs.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

/// Longest line kept for a quote, in characters.
pub const QUOTE_WIDTH: usize = 300;

/// Most processes kept per group.
const MAX_COMMS: usize = 20;

/// What a kernel line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A filesystem error (ext2/3/4, XFS), a failed read of its metadata, or a remount
    /// read-only after an error.
    Filesystem,
    /// An I/O error of a block device.
    Io,
    /// A task blocked in the kernel for minutes (usually waiting on storage).
    HungTask,
    /// A process killed because memory ran out (the node's or a cgroup's).
    OomKill,
}

impl Kind {
    /// Words for it in a sentence.
    pub fn words(self) -> &'static str {
        match self {
            Kind::Filesystem => "filesystem errors",
            Kind::Io => "block I/O errors",
            Kind::HungTask => "hung tasks",
            Kind::OomKill => "OOM kills",
        }
    }

    /// A stable word for finding ids.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Filesystem => "fs",
            // Sorts before `fs`: the report lists a disk's I/O errors before the filesystem
            // errors they explain.
            Kind::Io => "block-io",
            Kind::HungTask => "hung-task",
            Kind::OomKill => "oom-kill",
        }
    }
}

/// One line of a kernel log, as kept for a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Bundle-relative file (`nodes/<n>.zip!<n>/logs/kernel.log`).
    pub file: String,
    /// Line number (1-based).
    pub line: u32,
    /// When, as RFC 3339 when the journal's year and UTC zone are known
    /// (`2022-03-22T23:50:31Z`), else as the log prints it (`Mar 22 23:50:31`, `[12.5]`).
    pub when: String,
    /// The line, at most [`QUOTE_WIDTH`] characters.
    pub text: String,
}

/// The lines of one kind about one device (or, for hung tasks and OOM kills, one node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Node name (from the node zip).
    pub node: String,
    /// What the lines report.
    pub kind: Kind,
    /// The device the lines name (`sdc`, `dm-0`), if any.
    pub device: Option<String>,
    /// How many lines.
    pub count: u64,
    /// The first one.
    pub first: Line,
    /// The last one.
    pub last: Line,
    /// Processes the lines name (`comm grafana-server`, `task x:12`, `Killed process 12 (x)`)
    /// with their counts, at most [`MAX_COMMS`].
    pub comms: BTreeMap<String, u64>,
    /// The filesystem was remounted read-only.
    pub read_only: bool,
    /// The filesystem's own count (`error count since last fsck: N`), the last one logged.
    pub fsck_errors: Option<u64>,
    /// `initial error at time <epoch>` of the filesystem, as RFC 3339.
    pub first_error: Option<String>,
}

/// Everything found in one node's kernel logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeKernel {
    /// Node name.
    pub node: String,
    /// Files read, oldest boot first.
    pub files: Vec<String>,
    /// Groups, by kind then device.
    pub groups: Vec<Group>,
    /// Filesystem error messages the kernel suppressed (`EXT4-fs error: 10 callbacks
    /// suppressed`): they name no device.
    pub suppressed_fs: u64,
}

/// Whether a file inside a node zip is a kernel log (`<node>/logs/kernel.log`, `.log.1`,
/// `.log.2`, or `dmesg.log`).
pub fn is_kernel_log(inner: &str) -> bool {
    let name = inner.rsplit('/').next().unwrap_or(inner);
    inner.contains("/logs/")
        && (name == "kernel.log" || name.starts_with("kernel.log.") || name == "dmesg.log")
}

/// Kernel logs in the order they are read: older boots first (`kernel.log.2`, `.1`, then
/// `kernel.log`), `dmesg.log` last.
pub fn read_order(files: &mut [String]) {
    fn rank(f: &str) -> (u8, i64) {
        let name = f.rsplit('/').next().unwrap_or(f);
        match name.strip_prefix("kernel.log.") {
            Some(n) => (0, -n.parse::<i64>().unwrap_or(0)),
            None if name == "kernel.log" => (1, 0),
            None => (2, 0),
        }
    }
    files.sort_by_key(|f| rank(f));
}

struct Patterns {
    candidate: Regex,
    journal: Regex,
    klog: Regex,
    header: Regex,
    read_only: Regex,
    xfs: Regex,
    io: Regex,
    scsi: Regex,
    hung: Regex,
    oom: Regex,
    fsck_count: Regex,
    fsck_first: Regex,
    suppressed: Regex,
}

/// The compiled patterns (`None` only if one does not compile, which a unit test rules out).
fn patterns() -> Option<&'static Patterns> {
    static P: OnceLock<Option<Patterns>> = OnceLock::new();
    P.get_or_init(|| {
        // ASCII classes (`[0-9]`): kernel lines name devices and numbers in ASCII, and
        // Unicode's digit and word classes made these automata a megabyte larger.
        let re = |s: &str| Regex::new(s).ok();
        Some(Patterns {
            candidate: re("rror|blocked for more|Kill|read-only|shut|FAILED|orruption")?,
            journal: re(r"^([A-Z][a-z]{2}) +([0-9]{1,2}) ([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]+)? [^ ]+ [^ :]+: ")?,
            klog: re(r"^[IWEF]([0-9]{2})([0-9]{2}) ([0-9]{2}:[0-9]{2}:[0-9]{2})")?,
            header: re(r"^-- Logs begin at [0-9A-Za-z_]+ ([0-9]{4})-([0-9]{2})-[0-9]{2} [0-9:]+ ([0-9A-Za-z_]+)")?,
            read_only: re(r"(?:EXT[234]-fs|XFS) \(([^)\s]+)\):.*(?:[Rr]emounting filesystem read-only|shutting down filesystem|Filesystem has been shut down)")?,
            xfs: re(r"XFS \(([^)\s]+)\):.*(?i:I/O error|corruption|metadata corrupt)")?,
            io: re(r"I/O error,? (?:on )?dev(?:ice)? ([0-9A-Za-z_\-./]+?),? ")?,
            scsi: re(r"\[(sd[a-z]+)\] .*(?:FAILED Result|Medium Error|Hardware Error)")?,
            hung: re(r"INFO: task (.+):([0-9]+) blocked for more than ([0-9]+) seconds")?,
            oom: re(r"Killed process [0-9]+ \(([^)]+)\)|Kill process [0-9]+ \(([^)]+)\)")?,
            fsck_count: re(r"EXT[234]-fs \(([^)\s]+)\): error count since last fsck: ([0-9]+)")?,
            fsck_first: re(r"EXT[234]-fs \(([^)\s]+)\): initial error at time ([0-9]+)")?,
            suppressed: re(r"EXT[234]-fs error: ([0-9]+) callbacks suppressed")?,
        })
    })
    .as_ref()
}

/// Streams the kernel logs of one node: [`Scanner::file`] for each file (in
/// [`read_order`]), [`Scanner::add`] for each line, then [`Scanner::finish`].
#[derive(Debug)]
pub struct Scanner {
    out: NodeKernel,
    /// Each group with its last line so far (kept raw: dated and quoted once, at the end).
    groups: BTreeMap<(Kind, Option<String>), (Group, Last)>,
    fsck: BTreeMap<String, (u64, Option<String>)>,
    /// Per file read: how its journal lines are dated.
    dating: Vec<Dating>,
    capture: Option<(i32, u32)>,
}

/// How the lines of one file are dated (journal lines carry no year; see [`Dating::header`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dating {
    /// Year of the journal (from its header, else the capture's).
    year: Option<i32>,
    /// Month of the header (a line in an earlier month is in the next year).
    header_month: u32,
    /// The header says UTC (or there is none: Harvester nodes run in UTC).
    utc: bool,
    /// Without a header: the capture's month (a line in a later month is in the year before).
    capture_month: Option<u32>,
}

/// The last line of a group so far: file (index into the files read), number and text.
#[derive(Debug, Default)]
struct Last {
    file: usize,
    line: u32,
    text: String,
}

impl Scanner {
    /// A scanner for `node`; the capture's (year, month) dates journal lines when a file has
    /// no header.
    pub fn new(node: &str, capture: Option<(i32, u32)>) -> Scanner {
        Scanner {
            out: NodeKernel {
                node: node.to_string(),
                ..NodeKernel::default()
            },
            groups: BTreeMap::new(),
            fsck: BTreeMap::new(),
            dating: Vec::new(),
            capture,
        }
    }

    /// Starts a file (bundle-relative path).
    pub fn file(&mut self, path: &str) {
        self.out.files.push(path.to_string());
        self.dating.push(Dating::new(self.capture));
    }

    /// Index of the current file.
    fn current(&self) -> usize {
        self.out.files.len().saturating_sub(1)
    }

    /// A line of file `file` as quoted: dated from its journal prefix.
    fn quote(&self, file: usize, n: u32, line: &str) -> Line {
        Line {
            file: self.out.files.get(file).cloned().unwrap_or_default(),
            line: n,
            when: self
                .dating
                .get(file)
                .map(|d| when(d, line))
                .unwrap_or_default(),
            text: line.chars().take(QUOTE_WIDTH).collect(),
        }
    }

    /// One line (1-based number `n`) of the current file.
    pub fn add(&mut self, n: u32, line: &str) {
        let Some(p) = patterns() else {
            return;
        };
        if n == 1
            && let Some(d) = Dating::header(line)
        {
            if let Some(last) = self.dating.last_mut() {
                *last = d;
            }
            return;
        }
        // Cheap filter first (one pass for all the fixed words): nearly every kernel line is
        // none of these.
        if !p.candidate.is_match(line) {
            return;
        }
        let Some((kind, device, comm, read_only)) = self.classify(p, line) else {
            return;
        };
        let file = self.current();
        let key = (kind, device);
        if !self.groups.contains_key(&key) {
            let first = self.quote(file, n, line);
            let g = Group {
                node: self.out.node.clone(),
                kind,
                device: key.1.clone(),
                count: 0,
                last: first.clone(),
                first,
                comms: BTreeMap::new(),
                read_only: false,
                fsck_errors: None,
                first_error: None,
            };
            self.groups.insert(key.clone(), (g, Last::default()));
        }
        let Some((g, last)) = self.groups.get_mut(&key) else {
            return;
        };
        g.count += 1;
        last.file = file;
        last.line = n;
        last.text.clear();
        last.text.push_str(line);
        g.read_only |= read_only;
        if let Some(c) = comm
            && (g.comms.len() < MAX_COMMS || g.comms.contains_key(c))
        {
            match g.comms.get_mut(c) {
                Some(k) => *k += 1,
                None => {
                    g.comms.insert(c.to_string(), 1);
                }
            }
        }
    }

    /// What a candidate line reports: kind, device, process, remount read-only. The common
    /// lines (ext4 errors, thousands of them) are parsed by hand; the rare ones by pattern,
    /// each tried only when the line holds its fixed words.
    fn classify<'l>(
        &mut self,
        p: &Patterns,
        line: &'l str,
    ) -> Option<(Kind, Option<String>, Option<&'l str>, bool)> {
        if line.contains("EXT") {
            let comm = between(line, "comm ", ':');
            if let Some(d) = between(line, "-fs error (device ", ')') {
                return Some((Kind::Filesystem, Some(d.to_string()), comm, false));
            }
            if let Some(d) = between(line, "-fs warning (device ", ')')
                && (line.contains(" error -") || line.contains("I/O error"))
            {
                return Some((Kind::Filesystem, Some(d.to_string()), comm, false));
            }
            if line.contains("callbacks suppressed")
                && let Some(c) = p.suppressed.captures(line)
            {
                self.out.suppressed_fs += c[1].parse::<u64>().unwrap_or(0);
                return None;
            }
            if line.contains("since last fsck")
                && let Some(c) = p.fsck_count.captures(line)
            {
                let e = self.fsck.entry(c[1].to_string()).or_default();
                e.0 = c[2].parse().unwrap_or(0);
                return None;
            }
            if line.contains("initial error at time")
                && let Some(c) = p.fsck_first.captures(line)
            {
                let e = self.fsck.entry(c[1].to_string()).or_default();
                e.1 = c[2]
                    .parse::<i64>()
                    .ok()
                    .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
                return None;
            }
        }
        if (line.contains("read-only") || line.contains("shut"))
            && let Some(c) = p.read_only.captures(line)
        {
            return Some((Kind::Filesystem, Some(c[1].to_string()), None, true));
        }
        if line.contains("XFS (")
            && let Some(c) = p.xfs.captures(line)
        {
            let comm = between(line, "comm ", ':');
            return Some((Kind::Filesystem, Some(c[1].to_string()), comm, false));
        }
        if line.contains("I/O error")
            && let Some(c) = p.io.captures(line)
        {
            return Some((Kind::Io, Some(c[1].to_string()), None, false));
        }
        if line.contains("] ")
            && let Some(c) = p.scsi.captures(line)
        {
            return Some((Kind::Io, Some(c[1].to_string()), None, false));
        }
        if line.contains("blocked for more")
            && let Some(c) = p.hung.captures(line)
        {
            let comm = c.get(1).map(|m| m.as_str());
            return Some((Kind::HungTask, None, comm, false));
        }
        if line.contains("Kill")
            && let Some(c) = p.oom.captures(line)
        {
            let comm = c.get(1).or_else(|| c.get(2)).map(|m| m.as_str());
            return Some((Kind::OomKill, None, comm, false));
        }
        None
    }

    /// What was found.
    pub fn finish(mut self) -> NodeKernel {
        let groups = std::mem::take(&mut self.groups);
        for ((kind, device), (mut g, last)) in groups {
            g.last = self.quote(last.file, last.line, &last.text);
            if kind == Kind::Filesystem
                && let Some((count, first)) = device.as_ref().and_then(|d| self.fsck.get(d))
            {
                g.fsck_errors = (*count > 0).then_some(*count);
                g.first_error = first.clone();
            }
            self.out.groups.push(g);
        }
        self.out
    }
}

/// The text between `marker` and the next `end` (`EXT4-fs error (device sdc)` → `sdc`), when
/// it is one word.
fn between<'a>(line: &'a str, marker: &str, end: char) -> Option<&'a str> {
    let at = line.find(marker)? + marker.len();
    let rest = line.get(at..)?;
    let word = rest.get(..rest.find(end)?)?;
    (!word.is_empty() && !word.contains(' ')).then_some(word)
}

impl Dating {
    /// Dating for a file without a header: the capture's year (the year before for a month
    /// after the capture's), UTC (Harvester nodes run in UTC).
    pub(crate) fn new(capture: Option<(i32, u32)>) -> Dating {
        Dating {
            year: capture.map(|c| c.0),
            header_month: 1,
            utc: true,
            capture_month: capture.map(|c| c.1),
        }
    }

    /// Dating from a journal's first line (`-- Logs begin at Sun 2022-03-06 22:45:10 UTC, …`),
    /// when it is one.
    pub(crate) fn header(line: &str) -> Option<Dating> {
        let c = patterns()?.header.captures(line)?;
        Some(Dating {
            year: c[1].parse().ok(),
            header_month: c[2].parse().unwrap_or(1),
            utc: &c[3] == "UTC",
            capture_month: None,
        })
    }

    /// RFC 3339 for a month, day and time of this file, when its year is known and it is UTC.
    fn date(&self, m: u32, day: &str, time: &str) -> Option<String> {
        let (Some(y), true) = (self.year, self.utc) else {
            return None;
        };
        let y = match self.capture_month {
            Some(cm) if m > cm => y - 1,
            Some(_) => y,
            None if m < self.header_month => y + 1,
            None => y,
        };
        let day: u32 = day.parse().unwrap_or(1);
        Some(format!("{y}-{m:02}-{day:02}T{time}Z"))
    }
}

/// When a line was written, from its prefix: RFC 3339 when the journal's year is known and it
/// is in UTC, else as printed (`Mar 22 23:50:31`, `[12.5]`). Also reads klog (`E0322
/// 23:50:31.1 …`, kubelet.log) and logrus (`time="2022-03-22T23:50:31.5Z"`, containerd.log,
/// rke2 messages) prefixes.
pub(crate) fn when(d: &Dating, line: &str) -> String {
    let Some(p) = patterns() else {
        return String::new();
    };
    if let Some(c) = p.journal.captures(line) {
        let (mon, day, time) = (&c[1], &c[2], &c[3]);
        if let Some(t) = month(mon).and_then(|m| d.date(m, day, time)) {
            return t;
        }
        return format!("{mon} {day} {time}");
    }
    if let Some(rest) = line.strip_prefix("time=\"")
        && let Some(t) = rest.get(..19)
        && chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").is_ok()
    {
        let zone = rest
            .get(19..)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        if zone.ends_with('Z') {
            return format!("{t}Z");
        }
        return t.to_string();
    }
    if let Some(c) = p.klog.captures(line) {
        let (m, day, time) = (c[1].parse::<u32>().unwrap_or(0), &c[2], &c[3]);
        if let Some(t) = d.date(m, day, time) {
            return t;
        }
        return format!("{}{} {time}", &c[1], day);
    }
    if let Some(rest) = line.strip_prefix('[')
        && let Some((t, _)) = rest.split_once(']')
    {
        return format!("[{}]", t.trim());
    }
    String::new()
}

fn month(m: &str) -> Option<u32> {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|x| *x == m)
    .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(lines: &[&str]) -> NodeKernel {
        let mut s = Scanner::new("node1", Some((2030, 6)));
        s.file("nodes/node1.zip!node1/logs/kernel.log");
        for (n, l) in (1u32..).zip(lines) {
            s.add(n, l);
        }
        s.finish()
    }

    #[test]
    fn ext4_errors_by_device_with_process_and_fsck_count() {
        let k = scan(&[
            "-- Logs begin at Sun 2022-03-06 22:45:10 UTC, end at Tue 2022-03-22 23:50:53 UTC. --",
            "Mar 06 22:45:12 localhost kernel: EXT4-fs (sda2): mounted filesystem with ordered data mode. Opts: (null)",
            "Mar 08 00:02:38 node1 kernel: EXT4-fs error (device sdc): __ext4_find_entry:1532: inode #2: comm grafana-server: reading directory lblock 0",
            "Mar 08 00:02:39 node1 kernel: EXT4-fs error: 7 callbacks suppressed",
            "Mar 22 23:18:45 node1 kernel: EXT4-fs (sdc): error count since last fsck: 367534",
            "Mar 22 23:18:45 node1 kernel: EXT4-fs (sdc): initial error at time 1646697758: __ext4_find_entry:1532: inode 2",
            "Mar 22 23:50:31 node1 kernel: EXT4-fs warning (device sdb): htree_dirblock_to_tree:997: inode #786433: lblock 0: comm prometheus: error -5 reading directory block",
            "Mar 22 23:50:45 node1 kernel: EXT4-fs error (device sdc): __ext4_find_entry:1532: inode #2: comm grafana-server: reading directory lblock 0",
        ]);
        assert_eq!(k.groups.len(), 2, "{k:?}");
        let sdc = k
            .groups
            .iter()
            .find(|g| g.device.as_deref() == Some("sdc"))
            .unwrap();
        assert_eq!((sdc.kind, sdc.count), (Kind::Filesystem, 2));
        assert_eq!(sdc.first.line, 3);
        assert_eq!(sdc.last.line, 8);
        assert_eq!(sdc.first.when, "2022-03-08T00:02:38Z");
        assert_eq!(sdc.last.when, "2022-03-22T23:50:45Z");
        assert_eq!(sdc.comms.get("grafana-server"), Some(&2));
        assert_eq!(sdc.fsck_errors, Some(367534));
        assert_eq!(sdc.first_error.as_deref(), Some("2022-03-08T00:02:38Z"));
        let sdb = k
            .groups
            .iter()
            .find(|g| g.device.as_deref() == Some("sdb"))
            .unwrap();
        assert_eq!(sdb.comms.get("prometheus"), Some(&1));
        assert_eq!(sdb.fsck_errors, None);
        assert_eq!(k.suppressed_fs, 7);
    }

    #[test]
    fn io_hung_oom_and_read_only() {
        let k = scan(&[
            "Jan 02 10:00:00 n kernel: blk_update_request: I/O error, dev sdd, sector 2048 op 0x1:(WRITE) flags 0x0",
            "Jan 02 10:00:01 n kernel: Buffer I/O error on dev sdd1, logical block 0, lost async page write",
            "Jan 02 10:00:02 n kernel: EXT4-fs (sdd1): Remounting filesystem read-only",
            "Jan 02 10:02:00 n kernel: INFO: task qemu-system-x86:4242 blocked for more than 120 seconds.",
            "Jan 02 10:03:00 n kernel: Memory cgroup out of memory: Killed process 999 (java) total-vm:1kB",
            "Jan 02 10:03:01 n kernel: eth0: link becomes ready",
        ]);
        let kinds: Vec<(Kind, Option<&str>, u64)> = k
            .groups
            .iter()
            .map(|g| (g.kind, g.device.as_deref(), g.count))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Filesystem, Some("sdd1"), 1),
                (Kind::Io, Some("sdd"), 1),
                (Kind::Io, Some("sdd1"), 1),
                (Kind::HungTask, None, 1),
                (Kind::OomKill, None, 1),
            ]
        );
        assert!(k.groups[0].read_only);
        // No header: the capture's year dates the lines.
        assert_eq!(k.groups[1].first.when, "2030-01-02T10:00:00Z");
        assert_eq!(k.groups[3].comms.get("qemu-system-x86"), Some(&1));
        assert_eq!(k.groups[4].comms.get("java"), Some(&1));
    }

    #[test]
    fn patterns_compile() {
        assert!(patterns().is_some());
    }

    #[test]
    fn kernel_logs_are_read_oldest_boot_first() {
        assert!(is_kernel_log("n/logs/kernel.log.1"));
        assert!(is_kernel_log("n/logs/dmesg.log"));
        assert!(!is_kernel_log("n/logs/kubelet.log"));
        let mut f = vec![
            "n/logs/kernel.log".to_string(),
            "n/logs/kernel.log.1".to_string(),
            "n/logs/kernel.log.2".to_string(),
        ];
        read_order(&mut f);
        assert_eq!(f[0], "n/logs/kernel.log.2");
        assert_eq!(f[2], "n/logs/kernel.log");
    }
}
