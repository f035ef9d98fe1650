//! Root causes in pod logs: which containers of the index are failing (not ready, crash-looping,
//! exited with an error) and which log line most likely says why — the last fatal line
//! (logrus `level=fatal`/`panic`, klog `F…`, `panic:`, Go's `fatal error:`, a JSON
//! `"level":"fatal"`), else the last error line near the end of the log (logrus/JSON `error`,
//! klog `E…`, cobra's `Error:`, kubectl's `error:` and `Error from server`). The analysis
//! stage streams the logs of the failing containers once, before the rules
//! (`analyze::scan_causes`); rules read the result through `Context::log_cause` and quote it.
use crate::index::Object;
use crate::model::views::View;

/// Longest quoted cause, in characters.
pub const QUOTE_WIDTH: usize = 300;

/// An error line counts only within this many lines of its log's end: further up it is likely
/// an old, recovered error rather than why the container fails now.
pub const ERROR_TAIL: u32 = 30;

/// How bad a cause line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// An error the program logged and may have survived.
    Error,
    /// A fatal line: the program exits right after it.
    Fatal,
}

/// The line that likely explains why a container fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseLine {
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Bundle-relative log file (`logs/<ns>/<pod>/<container>.log` or `.log.1`).
    pub file: String,
    /// Line (1-based).
    pub line: u32,
    /// Its level.
    pub level: Level,
    /// What it says: the message (and error) of a structured line, without the timestamp and
    /// the logger's prefix, at most [`QUOTE_WIDTH`] characters.
    pub text: String,
}

/// The containers of a pod that are failing: not ready in a pod that is neither finished
/// (`Succeeded`) nor being deleted (a Terminating pod fails because it is deleted). Pods whose
/// containers are all ready are not failing even when the pod is not Ready (their node is down:
/// the cause is the node, not a log line).
pub fn failing_containers(pod: &Object) -> Vec<&str> {
    let View::Pod(v) = &pod.view else {
        return Vec::new();
    };
    if pod.meta.deletion_timestamp.is_some() || pod.status.phase.as_deref() == Some("Succeeded") {
        return Vec::new();
    }
    v.container_statuses
        .iter()
        .filter(|c| c.ready != Some(true))
        .filter(|c| {
            // A container that has not started yet (image pull, scheduling) has no log to read.
            c.state.running.is_some()
                || c.state.terminated.is_some()
                || c.last_state.terminated.is_some()
        })
        .map(|c| c.name.as_str())
        .collect()
}

/// Strips the kubelet's RFC 3339 timestamp (`2025-02-14T09:37:03.229311345Z `) that starts
/// every line of a pod log.
fn without_timestamp(line: &str) -> &str {
    let b = line.as_bytes();
    if b.len() > 20
        && b.get(4) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && let Some(sp) = line
            .char_indices()
            .take(40)
            .find(|c| c.1 == ' ')
            .map(|c| c.0)
        && line[..sp].ends_with('Z')
    {
        return &line[sp + 1..];
    }
    line
}

/// The value of `key="…"` or `key=word` in a logrus text line, unescaped.
fn logfmt_value(line: &str, key: &str) -> Option<String> {
    let at = line
        .match_indices(&format!("{key}="))
        .find(|(i, _)| *i == 0 || line.as_bytes().get(i - 1) == Some(&b' '))?
        .0;
    let rest = &line[at + key.len() + 1..];
    if let Some(q) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = q.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                '"' => return Some(out),
                c => out.push(c),
            }
        }
        Some(out)
    } else {
        Some(rest.split(' ').next().unwrap_or_default().to_string())
    }
}

/// `msg` with `error` appended (`problem running manager: leader election lost`).
fn with_error(msg: Option<String>, err: Option<String>) -> String {
    match (msg.filter(|m| !m.is_empty()), err.filter(|e| !e.is_empty())) {
        (Some(m), Some(e)) if !m.contains(&e) => format!("{m}: {e}"),
        (Some(m), _) => m,
        (None, Some(e)) => e,
        (None, None) => String::new(),
    }
}

/// Whether a line is a klog line of severity `sev` (`E0214 09:37:03.229311       1 file.go:12] …`),
/// and its message.
fn klog(line: &str, sev: u8) -> Option<&str> {
    let b = line.as_bytes();
    let digits = b
        .get(1..5)
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 22 || b.first() != Some(&sev) || !digits || b.get(5) != Some(&b' ') {
        return None;
    }
    let end = line.find("] ")?;
    Some(&line[end + 2..])
}

/// The level and the message of a line that states a failure, `None` for any other line.
pub fn classify(raw: &str) -> Option<(Level, String)> {
    let line = without_timestamp(raw.trim_end());
    // Error chains put the root cause last: keep the head and the tail.
    let quote = |s: &str| crate::text::head_tail(s.trim(), QUOTE_WIDTH);
    // logrus text.
    if let Some(level) = logfmt_value(line, "level")
        && line.contains("level=")
    {
        let level = match level.as_str() {
            "fatal" | "panic" => Level::Fatal,
            "error" => Level::Error,
            _ => return None,
        };
        let text = with_error(logfmt_value(line, "msg"), logfmt_value(line, "error"));
        return (!text.is_empty()).then(|| (level, quote(&text)));
    }
    // JSON (zap, controller-runtime).
    if line.starts_with('{')
        && let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(line)
    {
        let s = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let level = match s("level")
            .or_else(|| s("severity"))?
            .to_lowercase()
            .as_str()
        {
            "fatal" | "panic" | "dpanic" | "critical" => Level::Fatal,
            "error" => Level::Error,
            _ => return None,
        };
        let text = with_error(s("msg").or_else(|| s("message")), s("error"));
        return (!text.is_empty()).then(|| (level, quote(&text)));
    }
    if let Some(m) = klog(line, b'F') {
        return Some((Level::Fatal, quote(m)));
    }
    if let Some(m) = klog(line, b'E') {
        return Some((Level::Error, quote(m)));
    }
    for (prefix, level) in [
        ("panic: ", Level::Fatal),
        ("fatal error: ", Level::Fatal),
        ("Error: ", Level::Error),
        ("error: ", Level::Error),
        ("Error from server", Level::Error),
    ] {
        if line.starts_with(prefix) {
            return Some((level, quote(line)));
        }
    }
    None
}

/// What one log file holds: its last fatal line, its last error line, and its length.
#[derive(Debug, Clone, Default)]
pub struct FileCauses {
    /// Last fatal line: (line, text).
    pub fatal: Option<(u32, String)>,
    /// Last error line: (line, text).
    pub error: Option<(u32, String)>,
    /// Number of lines.
    pub lines: u32,
}

impl FileCauses {
    /// Takes line `n` into account.
    pub fn add(&mut self, n: u32, line: &str) {
        self.lines = n;
        match classify(line) {
            Some((Level::Fatal, t)) => self.fatal = Some((n, t)),
            Some((Level::Error, t)) => self.error = Some((n, t)),
            None => {}
        }
    }

    /// Its error line, when it is near the end ([`ERROR_TAIL`]).
    fn recent_error(&self) -> Option<&(u32, String)> {
        self.error
            .as_ref()
            .filter(|(n, _)| self.lines.saturating_sub(*n) < ERROR_TAIL)
    }
}

/// The cause of a container from its logs (each file with what it holds), current log first:
/// a fatal line of the current log, else of the previous one, else a recent error line of the
/// current log, else of the previous one.
pub fn pick<'a>(files: &'a [(&'a str, FileCauses)]) -> Option<(&'a str, u32, Level, &'a str)> {
    let fatal = files.iter().find_map(|(f, c)| {
        c.fatal
            .as_ref()
            .map(|(n, t)| (*f, *n, Level::Fatal, t.as_str()))
    });
    fatal.or_else(|| {
        files.iter().find_map(|(f, c)| {
            c.recent_error()
                .map(|(n, t)| (*f, *n, Level::Error, t.as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fatal_and_error_lines_of_each_format() {
        let c = |l: &str| classify(l);
        assert_eq!(
            c(
                "2025-02-14T09:37:03.229311345Z time=\"2025-02-14T09:37:03Z\" level=fatal \
               msg=\"failed to run webhook server: failed to load TLS secret \
               harvester-system/harvester-webhook-tls: tls: private key does not match public key\""
            ),
            Some((
                Level::Fatal,
                "failed to run webhook server: failed to load TLS secret \
                 harvester-system/harvester-webhook-tls: tls: private key does not match public key"
                    .into()
            ))
        );
        assert_eq!(
            c(
                "2025-02-14T09:39:18.089212533Z {\"level\":\"error\",\"ts\":\"x\",\"logger\":\"setup\",\
               \"msg\":\"problem running manager\",\"error\":\"leader election lost\"}"
            ),
            Some((
                Level::Error,
                "problem running manager: leader election lost".into()
            ))
        );
        assert_eq!(
            c(
                "2025-02-07T13:12:12.208335069Z Error from server (AlreadyExists): plans x already exists"
            ),
            Some((
                Level::Error,
                "Error from server (AlreadyExists): plans x already exists".into()
            ))
        );
        assert_eq!(
            c("F0214 09:37:03.229311       1 main.go:44] cannot open /etc/x: no such file"),
            Some((Level::Fatal, "cannot open /etc/x: no such file".into()))
        );
        assert_eq!(
            c("2025-01-01T00:00:00Z panic: runtime error: nil map").map(|x| x.0),
            Some(Level::Fatal)
        );
        assert_eq!(
            c("time=\"x\" level=error msg=\"sync failed\" error=\"conflict \\\"a\\\"\""),
            Some((Level::Error, "sync failed: conflict \"a\"".into()))
        );
        // Not causes.
        for l in [
            "2025-02-14T09:39:17.382251213Z W0214 09:39:17.381432       1 reflector.go:547] failed to list",
            "time=\"x\" level=info msg=\"error count 0\"",
            "{\"level\":\"info\",\"msg\":\"Error: none\"}",
            "I0214 09:39:18.028522       1 leaderelection.go:285] failed to renew lease",
            "Everything fine: no error",
        ] {
            assert_eq!(c(l), None, "{l}");
        }
        let long = format!("level=fatal msg=\"{}: the cause\"", "x".repeat(1000));
        let quoted = c(&long).map(|x| x.1).unwrap_or_default();
        assert_eq!(quoted.chars().count(), QUOTE_WIDTH + " … ".len() - 2);
        assert!(quoted.ends_with("x: the cause"));
    }

    #[test]
    fn a_fatal_line_wins_and_old_errors_are_no_cause() {
        let mut current = FileCauses::default();
        for (n, l) in [(1, "level=error msg=\"old\""), (2, "level=info msg=\"up\"")] {
            current.add(n, l);
        }
        for n in 3..=40 {
            current.add(n, "level=info msg=\"serving\"");
        }
        let mut previous = FileCauses::default();
        previous.add(1, "level=error msg=\"retrying\"");
        previous.add(2, "level=fatal msg=\"bad key\"");
        previous.add(3, "level=error msg=\"after\"");
        let files = [("c.log", current.clone()), ("c.log.1", previous)];
        assert_eq!(pick(&files), Some(("c.log.1", 2, Level::Fatal, "bad key")));
        // Without a fatal line anywhere: the current log's error is 39 lines from its end, too
        // old; the previous log's recent error is the cause.
        let mut prev = FileCauses::default();
        prev.add(1, "level=error msg=\"recent\"");
        let files = [("c.log", current.clone()), ("c.log.1", prev)];
        assert_eq!(pick(&files), Some(("c.log.1", 1, Level::Error, "recent")));
        assert_eq!(pick(&[("c.log", current)]), None);
    }
}
