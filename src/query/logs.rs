//! `logs`: a pod container's log (`logs/<ns>/<pod>/<c>.log[.1]`) or a node log from its node
//! zip (`-c kernel`, `-c rke2-server`, ...), optionally filtered by a regex, with line numbers
//! so lines can be cited as evidence.
use regex::Regex;

use crate::analyze::Capture;
use crate::bundle::PathKind;
use crate::error::{Error, Result};

/// What to show.
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    /// Pod (or node) name.
    pub target: String,
    /// `-n`.
    pub namespace: Option<String>,
    /// `-c`: container, or node log name.
    pub container: Option<String>,
    /// `--previous`: the previous container instance (`.log.1`), or the previous boot.
    pub previous: bool,
    /// `--grep`.
    pub grep: Option<String>,
    /// `--tail`.
    pub tail: Option<usize>,
}

/// A log and where it came from.
#[derive(Debug, Clone)]
pub struct LogText {
    /// Bundle-relative path (`nodes/n.zip!n/logs/kernel.log` for node logs).
    pub source: String,
    /// Lines to print (already filtered), with a `N:` prefix when filtered.
    pub text: String,
    /// Notes for stderr (e.g. which container was defaulted).
    pub notes: Vec<String>,
}

fn filter(text: &str, req: &LogRequest) -> Result<String> {
    let re = match &req.grep {
        Some(g) => Some(Regex::new(g).map_err(|e| Error::Usage(format!("--grep: {e}")))?),
        None => None,
    };
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| re.as_ref().is_none_or(|r| r.is_match(l)))
        .collect();
    let skip = req.tail.map(|t| lines.len().saturating_sub(t)).unwrap_or(0);
    let mut out = String::new();
    for (n, l) in lines.into_iter().skip(skip) {
        if re.is_some() {
            out.push_str(&format!("{}:", n + 1));
        }
        out.push_str(l);
        out.push('\n');
    }
    Ok(out)
}

/// Finds and reads the requested log.
pub fn logs(a: &Capture, req: &LogRequest) -> Result<LogText> {
    let b = &a.bundle;
    let mut candidates: Vec<(&str, &str, &str, bool)> = Vec::new();
    for f in &b.files {
        if let PathKind::PodLog {
            namespace,
            pod,
            container,
            previous,
        } = &f.kind
            && pod == &req.target
            && req.namespace.as_ref().is_none_or(|n| n == namespace)
        {
            candidates.push((
                f.path.as_str(),
                namespace.as_str(),
                container.as_str(),
                *previous,
            ));
        }
    }
    if !candidates.is_empty() {
        let mut namespaces: Vec<&str> = candidates.iter().map(|c| c.1).collect();
        namespaces.dedup();
        if namespaces.len() > 1 {
            return Err(Error::Usage(format!(
                "pod {} exists in several namespaces ({}); use -n",
                req.target,
                namespaces.join(", ")
            )));
        }
        let mut containers: Vec<&str> = candidates.iter().map(|c| c.2).collect();
        containers.sort();
        containers.dedup();
        let mut notes = Vec::new();
        let container = match &req.container {
            Some(c) => c.as_str(),
            None => {
                let first = containers.first().copied().unwrap_or_default();
                if containers.len() > 1 {
                    notes.push(format!(
                        "Defaulted container {first:?} out of: {}",
                        containers.join(", ")
                    ));
                }
                first
            }
        };
        let Some(found) = candidates
            .iter()
            .find(|c| c.2 == container && c.3 == req.previous)
        else {
            return Err(Error::Usage(if containers.contains(&container) {
                format!(
                    "no {} log for container {container} of pod {} in the bundle (only kept when the container restarted)",
                    if req.previous { "previous" } else { "current" },
                    req.target
                )
            } else {
                format!(
                    "container {container:?} has no log in pod {}; containers with logs: {}",
                    req.target,
                    containers.join(", ")
                )
            }));
        };
        let text = b.read_text(found.0)?;
        return Ok(LogText {
            source: found.0.to_string(),
            text: filter(&text, req)?,
            notes,
        });
    }
    if let Some(node) = b.nodes.iter().find(|n| n.name == req.target) {
        let names: Vec<&str> = node
            .logs
            .iter()
            .filter_map(|p| p.rsplit('/').next())
            .collect();
        let Some(c) = &req.container else {
            return Err(Error::Usage(format!(
                "{} is a node; choose a log with -c: {}",
                node.name,
                names
                    .iter()
                    .map(|n| n.trim_end_matches(".log"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let wanted = if req.previous {
            format!("{c}.log.1")
        } else if c.ends_with(".log") || c.contains(".log.") {
            c.clone()
        } else {
            format!("{c}.log")
        };
        let Some(path) = node
            .logs
            .iter()
            .find(|p| p.rsplit('/').next() == Some(wanted.as_str()))
        else {
            return Err(Error::Usage(format!(
                "node {} has no {wanted}; it has: {}",
                node.name,
                names.join(", ")
            )));
        };
        let source = format!("{}!{path}", node.zip_path);
        let text = b.read_text(&source)?;
        return Ok(LogText {
            source,
            text: filter(&text, req)?,
            notes: Vec::new(),
        });
    }
    let pod_exists = a.index.of_kind("", "Pod").any(|p| p.key.name == req.target);
    Err(Error::Usage(if pod_exists {
        format!(
            "pod {} is in the bundle but none of its logs are (see coverage: bundle.pod-logs)",
            req.target
        )
    } else {
        format!("no pod or node named {} has logs in the bundle", req.target)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grep_and_tail() {
        let req = LogRequest {
            grep: Some("err".into()),
            tail: Some(1),
            ..LogRequest::default()
        };
        assert_eq!(
            filter("ok\nerr one\nfine\nerr two\n", &req).unwrap(),
            "4:err two\n"
        );
        let all = LogRequest::default();
        assert_eq!(filter("a\nb\n", &all).unwrap(), "a\nb\n");
        let bad = LogRequest {
            grep: Some("(".into()),
            ..LogRequest::default()
        };
        assert!(filter("a", &bad).is_err());
    }
}
