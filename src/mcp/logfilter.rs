//! The `logs` tool's filters over one log's text: a regex, a time window relative to the
//! capture (`since`/`until`), and the last N lines; every line kept with its line number in
//! the file, so that an answer can be cited as evidence.
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use regex::Regex;

use crate::model::time::{self, Timestamp};

/// The filters of one `logs` call.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Lines matching this regex.
    pub grep: Option<String>,
    /// Lines at or after this time (`2h`: 2 hours before capture; or RFC 3339).
    pub since: Option<String>,
    /// Lines at or before this time.
    pub until: Option<String>,
    /// The last N lines kept by the other filters.
    pub tail: Option<usize>,
}

/// The lines kept, each `N: text` with its 1-based line number, and notes on how they were
/// chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept {
    /// `N: text` per line.
    pub lines: Vec<String>,
    /// Lines in the file.
    pub file_lines: usize,
    /// How the time window was read, when one was given.
    pub notes: Vec<String>,
}

/// A duration such as `90s`, `15m`, `2h`, `1d`, `1h30m`.
fn duration(s: &str) -> Option<Duration> {
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        // Beyond chrono's range (about 292 million years) is no duration: `None`, not a panic.
        let d = match c {
            's' => Duration::try_seconds(n),
            'm' => Duration::try_minutes(n),
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            _ => return None,
        }?;
        total = total.checked_add(&d)?;
        any = true;
    }
    (num.is_empty() && any).then_some(total)
}

/// A `since`/`until` argument as a time: a duration before `capture`, or RFC 3339.
pub fn point(arg: &str, name: &str, capture: Option<Timestamp>) -> Result<Timestamp, String> {
    let a = arg.trim();
    if let Some(t) = time::parse(a) {
        return Ok(t);
    }
    let Some(d) = duration(a) else {
        return Err(format!(
            "{name} {a:?}: expected a duration before the capture (30s, 15m, 2h, 1d, 1h30m) or an RFC 3339 time (2022-03-22T23:00:00Z)"
        ));
    };
    match capture {
        Some(c) => c.checked_sub_signed(d).ok_or_else(|| {
            format!(
                "{name} {a:?}: that is before the earliest time there is; give a shorter duration"
            )
        }),
        None => Err(format!(
            "{name} {a:?}: the bundle records no capture time to count back from; give an RFC 3339 time"
        )),
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// When a line was written, from its prefix: RFC 3339 (the kubelet's `--timestamps`, most
/// node logs), logrus' `time="…"`, a journal's `Mar 22 23:11:08` or klog's `I0322 23:11:08`
/// (these two without a year: the capture's, or the year before when that would be after it).
fn line_time(line: &str, capture: Option<Timestamp>) -> Option<Timestamp> {
    let first = line.split([' ', '\t']).next().unwrap_or_default();
    if first.len() >= 20
        && first.as_bytes().get(4) == Some(&b'-')
        && let Some(t) = time::parse(first)
    {
        return Some(t);
    }
    if let Some(rest) = line.strip_prefix("time=\"")
        && let Some(end) = rest.find('"')
    {
        return time::parse(rest.get(..end)?);
    }
    let capture = capture?;
    let dated = |month: u32, day: u32, clock: &str| -> Option<Timestamp> {
        let t = NaiveTime::parse_from_str(clock.get(..8)?, "%H:%M:%S").ok()?;
        let at = |y: i32| {
            NaiveDate::from_ymd_opt(y, month, day).map(|d| Utc.from_utc_datetime(&d.and_time(t)))
        };
        let this = at(capture.year())?;
        if this > capture + Duration::days(1) {
            at(capture.year() - 1)
        } else {
            Some(this)
        }
    };
    let mut words = line.split_whitespace();
    let w0 = words.next()?;
    if let Some(m) = MONTHS.iter().position(|m| *m == w0) {
        let day: u32 = words.next()?.parse().ok()?;
        return dated(m as u32 + 1, day, words.next()?);
    }
    let b = w0.as_bytes();
    if b.len() == 5 && matches!(b.first(), Some(b'I' | b'W' | b'E' | b'F')) {
        let month: u32 = w0.get(1..3)?.parse().ok()?;
        let day: u32 = w0.get(3..5)?.parse().ok()?;
        return dated(month, day, words.next()?);
    }
    None
}

/// Applies `f` to `text`.
pub fn apply(text: &str, f: &Filter, capture: Option<Timestamp>) -> Result<Kept, String> {
    let re = match &f.grep {
        Some(g) => {
            Some(Regex::new(g).map_err(|e| format!("grep {g:?} is not a valid regex: {e}"))?)
        }
        None => None,
    };
    let since = f
        .since
        .as_deref()
        .map(|s| point(s, "since", capture))
        .transpose()?;
    let until = f
        .until
        .as_deref()
        .map(|s| point(s, "until", capture))
        .transpose()?;
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(format!(
            "since ({}) is after until ({}): no line can be in between",
            s.to_rfc3339(),
            u.to_rfc3339()
        ));
    }
    let windowed = since.is_some() || until.is_some();
    let mut kept: Vec<String> = Vec::new();
    let mut file_lines = 0;
    let mut dated = 0;
    // An undated line (a stack trace's continuation) takes the time of the line above it.
    let mut current: Option<Timestamp> = None;
    for (i, line) in text.lines().enumerate() {
        file_lines = i + 1;
        if windowed && let Some(t) = line_time(line, capture) {
            current = Some(t);
            dated += 1;
        }
        if windowed {
            let inside = current
                .is_some_and(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u));
            if !inside {
                continue;
            }
        }
        if re.as_ref().is_some_and(|r| !r.is_match(line)) {
            continue;
        }
        kept.push(format!("{}: {line}", i + 1));
    }
    if let Some(n) = f.tail {
        let skip = kept.len().saturating_sub(n);
        kept.drain(..skip);
    }
    let mut notes = Vec::new();
    if windowed {
        notes.push(format!(
            "time window {} … {} (capture {}); lines without a time of their own take the time of the line above",
            since.map(|t| t.to_rfc3339()).unwrap_or_else(|| "start".into()),
            until.map(|t| t.to_rfc3339()).unwrap_or_else(|| "end".into()),
            capture
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "time unknown".into()),
        ));
        if dated == 0 && file_lines > 0 {
            notes.push(
                "no line of this log starts with a time sbdiag reads, so the time window kept none"
                    .into(),
            );
        }
    }
    Ok(Kept {
        lines: kept,
        file_lines,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap() -> Option<Timestamp> {
        time::parse("2022-03-22T23:49:32Z")
    }

    const LOG: &str = "2022-03-22T20:00:00.1Z start\n\
                       2022-03-22T22:00:00Z error: disk\n\
                       \tat stack\n\
                       2022-03-22T23:30:00Z error: again\n\
                       2022-03-22T23:40:00Z fine\n";

    #[test]
    fn grep_keeps_line_numbers() {
        let f = Filter {
            grep: Some("error".into()),
            ..Filter::default()
        };
        let k = apply(LOG, &f, cap()).unwrap();
        assert_eq!(
            k.lines,
            vec![
                "2: 2022-03-22T22:00:00Z error: disk",
                "4: 2022-03-22T23:30:00Z error: again"
            ]
        );
        assert_eq!(k.file_lines, 5);
    }

    #[test]
    fn window_is_relative_to_capture_and_continuations_follow() {
        let f = Filter {
            since: Some("2h".into()),
            until: Some("15m".into()),
            ..Filter::default()
        };
        let k = apply(LOG, &f, cap()).unwrap();
        assert_eq!(
            k.lines,
            vec![
                "2: 2022-03-22T22:00:00Z error: disk",
                "3: \tat stack",
                "4: 2022-03-22T23:30:00Z error: again"
            ]
        );
        let tail = Filter {
            tail: Some(1),
            grep: Some("error".into()),
            ..Filter::default()
        };
        assert_eq!(
            apply(LOG, &tail, cap()).unwrap().lines,
            vec!["4: 2022-03-22T23:30:00Z error: again"]
        );
    }

    #[test]
    fn journal_and_klog_lines_are_dated_in_the_capture_year() {
        let c = cap();
        assert_eq!(
            line_time("Mar 22 23:11:08 node1 kernel: x", c),
            time::parse("2022-03-22T23:11:08Z")
        );
        assert_eq!(
            line_time("I0322 23:11:08.123 1 x.go:1] y", c),
            time::parse("2022-03-22T23:11:08Z")
        );
        // December lines in a January capture are from the year before.
        let jan = time::parse("2023-01-02T00:00:00Z");
        assert_eq!(
            line_time("Dec 31 10:00:00 n k: x", jan),
            time::parse("2022-12-31T10:00:00Z")
        );
        assert_eq!(
            line_time("time=\"2022-03-22T01:02:03Z\" level=info", c),
            time::parse("2022-03-22T01:02:03Z")
        );
        assert_eq!(line_time("plain text", c), None);
    }

    #[test]
    fn bad_arguments_say_what_is_expected() {
        let bad = |f: Filter| apply(LOG, &f, cap()).unwrap_err();
        assert!(
            bad(Filter {
                grep: Some("(".into()),
                ..Filter::default()
            })
            .contains("not a valid regex")
        );
        assert!(
            bad(Filter {
                since: Some("yesterday".into()),
                ..Filter::default()
            })
            .contains("expected a duration")
        );
        assert!(
            bad(Filter {
                since: Some("1h".into()),
                until: Some("2h".into()),
                ..Filter::default()
            })
            .contains("after until")
        );
        let no_capture = apply(
            LOG,
            &Filter {
                since: Some("1h".into()),
                ..Filter::default()
            },
            None,
        );
        assert!(no_capture.unwrap_err().contains("no capture time"));
        assert_eq!(duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(duration("15"), None);
    }

    /// Found by the `mcp` fuzz target: a duration past chrono's range panicked in the `logs`
    /// tool (`TimeDelta::days out of bounds`, then an overflowing sum and subtraction).
    #[test]
    fn durations_out_of_range_are_refused_not_a_panic() {
        assert_eq!(duration("999999999999999d"), None);
        assert_eq!(duration("9223372036854775807s"), None);
        assert_eq!(duration("9223372036854775s9223372036854775s"), None);
        let capture = time::parse("2022-03-22T23:49:32Z");
        let e = point("106751991167d", "since", capture).unwrap_err();
        assert!(e.contains("before the earliest time"), "{e}");
        let e = apply(
            LOG,
            &Filter {
                since: Some("999999999999999d".into()),
                ..Filter::default()
            },
            capture,
        )
        .unwrap_err();
        assert!(e.contains("expected a duration"), "{e}");
    }
}
