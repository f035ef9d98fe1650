//! The one version type: Harvester, Kubernetes and Fleet versions as the code compares them
//! (`v1.4.1`, `1.5`, `v1.5.0-rc2`, `v1.31.4+rke2r1`), dev builds (`1a861fc-dirty`,
//! `master-head`) which compare with nothing, and [`Range`]s of versions in which a behaviour
//! exists. Every version comparison in sbdiag goes through here.
use std::fmt;

/// A Harvester version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// As written.
    pub raw: String,
    /// `(major, minor, patch)`; `None` for dev builds.
    pub num: Option<(u64, u64, u64)>,
    /// Prerelease suffix (`rc2`), when any.
    pub pre: Option<String>,
}

impl Version {
    /// Parses a version string.
    pub fn parse(s: &str) -> Version {
        let raw = s.trim().to_string();
        let body = raw.trim_start_matches('v');
        let body = body.split_once('+').map_or(body, |(b, _)| b);
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, Some(p.to_string())),
            None => (body, None),
        };
        let mut it = core.split('.');
        let num = (|| {
            let a = it.next()?.parse().ok()?;
            let b = it.next()?.parse().ok()?;
            let c = it.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
            Some((a, b, c))
        })();
        Version {
            raw,
            pre: if num.is_some() { pre } else { None },
            num,
        }
    }

    /// A dev build (no numeric version).
    pub fn is_dev(&self) -> bool {
        self.num.is_none()
    }

    /// Major.minor.
    pub fn minor(&self) -> Option<(u64, u64)> {
        self.num.map(|(a, b, _)| (a, b))
    }
}

impl Default for Version {
    /// The empty version: unknown, compares with nothing.
    fn default() -> Version {
        Version::parse("")
    }
}

/// The versions in which a behaviour exists: `since` up to `until` inclusive (open when
/// `None`). Patch `u64::MAX` in `until` means "every patch of that minor".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First version with it.
    pub since: (u64, u64, u64),
    /// Last version with it, when it was removed.
    pub until: Option<(u64, u64, u64)>,
}

impl Range {
    /// From `since` on.
    pub const fn since(major: u64, minor: u64, patch: u64) -> Range {
        Range {
            since: (major, minor, patch),
            until: None,
        }
    }

    /// From `since` through `until`, both inclusive.
    pub const fn between(since: (u64, u64, u64), until: (u64, u64, u64)) -> Range {
        Range {
            since,
            until: Some(until),
        }
    }

    /// From `since` through every patch of minor `until`.
    pub const fn through_minor(since: (u64, u64, u64), until: (u64, u64)) -> Range {
        Range {
            since,
            until: Some((until.0, until.1, u64::MAX)),
        }
    }

    /// Every version.
    pub const ALL: Range = Range::since(0, 0, 0);

    /// Whether `v` is in it. Dev builds never are. A prerelease counts as its release
    /// (`v1.7.0-rc1` has what `v1.7.0` has).
    pub fn contains(&self, v: &Version) -> bool {
        match v.num {
            Some(n) => n >= self.since && self.until.is_none_or(|u| n <= u),
            None => false,
        }
    }
}

impl fmt::Display for Range {
    /// `v1.4.0+`, `v1.3.0 – v1.4.3`, `v1.4.1 – v1.7.x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.until {
            None => write!(f, "{}+", show(self.since)),
            Some((a, b, u64::MAX)) => write!(f, "{} – v{a}.{b}.x", show(self.since)),
            Some(u) => write!(f, "{} – {}", show(self.since), show(u)),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// `v1.4.1` from a tuple.
pub fn show(v: (u64, u64, u64)) -> String {
    format!("v{}.{}.{}", v.0, v.1, v.2)
}

/// Harvester's version guard (v1.4.0+, `upgrade-helper version-guard`): whether `from` may be
/// upgraded to `to`, given the target's `minUpgradableVersion`. `Err` names the refusal, a case
/// of check A.5 in [`crate::facts::harvester`], which holds the text the controller writes.
pub fn guard(
    from: &Version,
    to: &Version,
    min_upgradable: Option<&Version>,
) -> Result<(), &'static str> {
    match (from.num, to.num) {
        (None, Some(_)) => Err("dev-to-release"),
        (_, None) => Err("dev"),
        (Some(f), Some(t)) => {
            if t < f || (t == f && to.pre.is_some() && from.pre.is_none()) {
                return Err("downgrade");
            }
            if (from.pre.is_some() || to.pre.is_some()) && (f.0, f.1) != (t.0, t.1) {
                return Err("prerelease");
            }
            if let Some(min) = min_upgradable.and_then(|m| m.num)
                && f < min
            {
                return Err("min-version");
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_compare() {
        let v = Version::parse("v1.4.1");
        assert_eq!(v.num, Some((1, 4, 1)));
        assert!(Range::between((1, 3, 0), (1, 4, 3)).contains(&v));
        assert!(!Range::since(1, 5, 0).contains(&v));
        let rc = Version::parse("v1.5.0-rc2");
        assert_eq!(rc.pre.as_deref(), Some("rc2"));
        let dev = Version::parse("1a861fc-dirty");
        assert!(dev.is_dev());
        assert!(!Range::ALL.contains(&dev));
    }

    #[test]
    fn build_metadata_and_short_forms() {
        assert_eq!(Version::parse("v1.31.4+rke2r1").num, Some((1, 31, 4)));
        assert_eq!(Version::parse("v1.31.4+rke2r1").pre, None);
        assert_eq!(Version::parse("1.4").num, Some((1, 4, 0)));
        assert_eq!(Version::parse("v1.5.0-rc1").num, Some((1, 5, 0)));
        assert!(Version::parse("master-head").is_dev());
        assert!(Version::default().is_dev());
    }

    #[test]
    fn ranges() {
        let r = Range::between((1, 3, 0), (1, 4, 3));
        assert!(r.contains(&Version::parse("v1.3.0")));
        assert!(r.contains(&Version::parse("v1.4.3")));
        assert!(!r.contains(&Version::parse("v1.4.4")));
        assert!(!r.contains(&Version::parse("v1.2.9")));
        let m = Range::through_minor((1, 4, 1), (1, 7));
        assert!(m.contains(&Version::parse("v1.7.12")));
        assert!(!m.contains(&Version::parse("v1.8.0")));
        assert!(Range::since(1, 7, 0).contains(&Version::parse("v1.7.0-rc1")));
        assert!(!Range::ALL.contains(&Version::parse("dev-abc")));
        assert_eq!(r.to_string(), "v1.3.0 – v1.4.3");
        assert_eq!(m.to_string(), "v1.4.1 – v1.7.x");
        assert_eq!(Range::since(1, 1, 2).to_string(), "v1.1.2+");
    }

    #[test]
    fn version_guard() {
        let p = Version::parse;
        assert_eq!(
            guard(&p("v1.4.0"), &p("v1.4.1"), Some(&p("v1.3.2"))),
            Ok(())
        );
        assert_eq!(
            guard(&p("v1.4.1"), &p("v1.4.0"), None).unwrap_err(),
            "downgrade"
        );
        assert_eq!(
            guard(&p("v1.3.1"), &p("v1.4.1"), Some(&p("v1.3.2"))).unwrap_err(),
            "min-version"
        );
        assert_eq!(
            guard(&p("master-abc"), &p("v1.4.1"), None).unwrap_err(),
            "dev-to-release"
        );
        assert_eq!(
            guard(&p("v1.4.0"), &p("v1.5.0-rc1"), None).unwrap_err(),
            "prerelease"
        );
    }
}
