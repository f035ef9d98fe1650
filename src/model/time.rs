//! Time relative to the capture: every age and "since" is measured from the bundle's
//! `bundlecreatedat`, never from the clock of the machine running sbdiag.
use chrono::{DateTime, Utc};

/// A parsed RFC 3339 timestamp.
pub type Timestamp = DateTime<Utc>;

/// Parses an RFC 3339 timestamp (with or without fractional seconds).
pub fn parse(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A duration measured back from capture time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age(pub i64);

impl Age {
    /// Age of `ts` at `capture`; `None` if either is missing or unparsable.
    pub fn at(ts: Option<&str>, capture: Option<Timestamp>) -> Option<Age> {
        let t = parse(ts?)?;
        Some(Age((capture? - t).num_seconds()))
    }
}

/// `ts` with its age at `capture`: `2025-02-12T09:44:34Z (1d23h before capture)`, or `ts` alone
/// when the age cannot be computed; `None` without a `ts`.
pub fn with_age(ts: Option<&str>, capture: Option<Timestamp>) -> Option<String> {
    let t = ts?;
    Some(match Age::at(Some(t), capture) {
        Some(a) => format!("{t} ({a} before capture)"),
        None => t.to_string(),
    })
}

impl std::fmt::Display for Age {
    /// kubectl-style short duration (`45s`, `12m`, `5h3m`, `273d`); negative ages (objects
    /// stamped after the capture, i.e. clock skew) are shown with a leading `-`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sign, s) = if self.0 < 0 {
            ("-", -self.0)
        } else {
            ("", self.0)
        };
        let (d, h, m) = (s / 86400, (s % 86400) / 3600, (s % 3600) / 60);
        let txt = if d >= 8 {
            format!("{d}d")
        } else if d >= 1 {
            if h > 0 {
                format!("{d}d{h}h")
            } else {
                format!("{d}d")
            }
        } else if h >= 1 {
            if m > 0 {
                format!("{h}h{m}m")
            } else {
                format!("{h}h")
            }
        } else if m >= 1 {
            format!("{m}m")
        } else {
            format!("{s}s")
        };
        write!(f, "{sign}{txt}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_relative_to_capture() {
        let cap = parse("2022-03-22T23:49:32Z");
        assert_eq!(
            Age::at(Some("2022-03-22T23:49:02Z"), cap)
                .unwrap()
                .to_string(),
            "30s"
        );
        assert_eq!(
            Age::at(Some("2022-03-22T21:00:00Z"), cap)
                .unwrap()
                .to_string(),
            "2h49m"
        );
        assert_eq!(
            Age::at(Some("2022-03-06T23:09:58Z"), cap)
                .unwrap()
                .to_string(),
            "16d"
        );
        assert_eq!(
            Age::at(Some("2022-03-20T23:49:32Z"), cap)
                .unwrap()
                .to_string(),
            "2d"
        );
        assert_eq!(
            Age::at(Some("2022-03-22T23:50:32Z"), cap)
                .unwrap()
                .to_string(),
            "-1m"
        );
        assert!(Age::at(Some("null"), cap).is_none());
        assert!(Age::at(Some("2022-03-22T23:49:02Z"), None).is_none());
        assert!(parse("2022-03-06T23:10:46.224130342Z").is_some());
    }
}
