//! `bundleGenerationError.log`: one collection failure per line (some lines are glued to the
//! next because the generator forgot a newline). Each becomes a ledger entry with its line.
use serde::Serialize;

/// What a generation-error line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ErrorKind {
    /// `Failed to get <api-path>: ...`: a LIST failed.
    ListFailed {
        /// The API path.
        api_path: String,
        /// `true` for verbs-less resources (tokenreviews, bindings...): normal, nothing lost.
        benign: bool,
    },
    /// `Failed to parse objects received from <api-path>`.
    ParseFailed { api_path: String },
    /// `Support Bundle: failed to generate <file>`.
    FileFailed { file: String },
    /// `BUG: Support bundle: cannot get log for pod <pod> container <c>`.
    LogFailed { pod: String, container: String },
    /// `Support bundle: cannot get pod list`: log collection stopped here.
    PodListFailed,
    /// `Unable to fetch cluster|namespaced resources`: the whole YAML module was skipped.
    ResourcesSkipped { scope: String },
    /// `Cannot get pod <pod> info`.
    PodInfoFailed { pod: String },
    /// Anything else.
    Other,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionError {
    /// 1-based line in `bundleGenerationError.log`.
    pub line: u32,
    /// The message.
    pub message: String,
    /// Its classification.
    #[serde(flatten)]
    pub kind: ErrorKind,
}

fn after<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.find(prefix)
        .map(|i| s.get(i + prefix.len()..).unwrap_or_default())
}

fn classify(msg: &str) -> ErrorKind {
    if let Some(rest) = after(msg, "Failed to parse objects received from ") {
        let api_path = rest
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        return ErrorKind::ParseFailed { api_path };
    }
    if let Some(rest) = after(msg, "Failed to get ") {
        let api_path = rest
            .split(": ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let benign = msg.contains("does not allow this method");
        return ErrorKind::ListFailed { api_path, benign };
    }
    if let Some(rest) = after(msg, "failed to generate ") {
        let file = rest
            .split(": ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        return ErrorKind::FileFailed { file };
    }
    if let Some(rest) = after(msg, "cannot get log for pod ") {
        let mut it = rest.split_whitespace();
        let pod = it.next().unwrap_or_default().to_string();
        let container = match (it.next(), it.next()) {
            (Some("container"), Some(c)) => c.trim_end_matches(':').to_string(),
            _ => String::new(),
        };
        return ErrorKind::LogFailed { pod, container };
    }
    if msg.contains("cannot get pod list") {
        return ErrorKind::PodListFailed;
    }
    if let Some(rest) = after(msg, "Unable to fetch ") {
        let scope = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        return ErrorKind::ResourcesSkipped { scope };
    }
    if let Some(rest) = after(msg, "Cannot get pod `") {
        let pod = rest.split('`').next().unwrap_or_default().to_string();
        return ErrorKind::PodInfoFailed { pod };
    }
    ErrorKind::Other
}

/// Parses the whole log.
pub fn parse(text: &str) -> Vec<CollectionError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        // "Cannot get pod `x` info (error: e), just continue" has no newline of its own.
        let mut rest = line;
        while let Some(pos) = rest.find("just continue") {
            let end = pos + "just continue".len();
            push(&mut out, i, rest.get(..end).unwrap_or_default());
            rest = rest.get(end..).unwrap_or_default();
        }
        push(&mut out, i, rest);
    }
    out
}

fn push(out: &mut Vec<CollectionError>, i: usize, msg: &str) {
    let msg = msg.trim();
    if msg.is_empty() {
        return;
    }
    out.push(CollectionError {
        line: i as u32 + 1,
        message: msg.to_string(),
        kind: classify(msg),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_shape() {
        let log = "Failed to get /apis/authentication.k8s.io/v1/tokenreviews: the server does not allow this method on the requested resource\n\
Failed to get /api/v1/namespaces/x/pods: context deadline exceeded\n\
BUG: Support bundle: cannot get log for pod etcd-node02 container etcd: previous terminated container \"etcd\" in pod \"etcd-node02\" not found\n\
Cannot get pod `p1` info (error: boom), just continueUnable to fetch namespaced resources: unable to retrieve the complete list of server APIs\n\
Support bundle: cannot get pod list: forbidden\n\
Support Bundle: failed to generate /tmp/x.yaml: disk full\n\
Failed to parse objects received from /apis/x/v1/ys: bad\n\
something else\n";
        let e = parse(log);
        assert_eq!(e.len(), 9);
        assert_eq!(
            e[0].kind,
            ErrorKind::ListFailed {
                api_path: "/apis/authentication.k8s.io/v1/tokenreviews".into(),
                benign: true
            }
        );
        assert!(matches!(
            &e[1].kind,
            ErrorKind::ListFailed { benign: false, .. }
        ));
        assert_eq!(
            e[2].kind,
            ErrorKind::LogFailed {
                pod: "etcd-node02".into(),
                container: "etcd".into()
            }
        );
        assert_eq!(e[3].kind, ErrorKind::PodInfoFailed { pod: "p1".into() });
        assert_eq!(
            e[4].kind,
            ErrorKind::ResourcesSkipped {
                scope: "namespaced".into()
            }
        );
        assert_eq!(e[4].line, 4);
        assert_eq!(e[5].kind, ErrorKind::PodListFailed);
        assert!(matches!(e[6].kind, ErrorKind::FileFailed { .. }));
        assert!(matches!(e[7].kind, ErrorKind::ParseFailed { .. }));
        assert_eq!(e[8].kind, ErrorKind::Other);
    }
}
