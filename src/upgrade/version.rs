//! Harvester versions as the upgrade code compares them: `v1.4.1`, `v1.5.0-rc2`, and dev builds
//! (`1a861fc-dirty`, `master-head`) which compare with nothing.
use std::fmt;

/// A Harvester version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HVersion {
    /// As written.
    pub raw: String,
    /// `(major, minor, patch)`; `None` for dev builds.
    pub num: Option<(u64, u64, u64)>,
    /// Prerelease suffix (`rc2`), when any.
    pub pre: Option<String>,
}

impl HVersion {
    /// Parses a version string.
    pub fn parse(s: &str) -> HVersion {
        let raw = s.trim().to_string();
        let body = raw.trim_start_matches('v');
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
        HVersion {
            raw,
            pre: if num.is_some() { pre } else { None },
            num,
        }
    }

    /// A dev build (no numeric version).
    pub fn is_dev(&self) -> bool {
        self.num.is_none()
    }

    /// Within `[since, until]` (inclusive; `until` open when `None`). Dev builds never are.
    pub fn within(&self, since: (u64, u64, u64), until: Option<(u64, u64, u64)>) -> bool {
        match self.num {
            Some(v) => v >= since && until.is_none_or(|u| v <= u),
            None => false,
        }
    }

    /// At least `v`.
    pub fn at_least(&self, v: (u64, u64, u64)) -> bool {
        self.num.is_some_and(|n| n >= v)
    }

    /// Major.minor.
    pub fn minor(&self) -> Option<(u64, u64)> {
        self.num.map(|(a, b, _)| (a, b))
    }
}

impl fmt::Display for HVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// `v1.4.1` from a tuple.
pub fn show(v: (u64, u64, u64)) -> String {
    format!("v{}.{}.{}", v.0, v.1, v.2)
}

/// Harvester's version guard (v1.4.0+, `upgrade-helper version-guard`): whether `from` may be
/// upgraded to `to`, given the target's `minUpgradableVersion`. `Err` carries the message the
/// controller puts in the Upgrade's `Completed` condition.
pub fn guard(
    from: &HVersion,
    to: &HVersion,
    min_upgradable: Option<&HVersion>,
) -> Result<(), String> {
    match (from.num, to.num) {
        (None, Some(_)) => {
            Err("upgrading from dev versions to non-dev versions is prohibited".into())
        }
        (_, None) => Err("incomparable: dev version".into()),
        (Some(f), Some(t)) => {
            if t < f || (t == f && to.pre.is_some() && from.pre.is_none()) {
                return Err("downgrading is prohibited".into());
            }
            if (from.pre.is_some() || to.pre.is_some()) && (f.0, f.1) != (t.0, t.1) {
                return Err(
                    "cross-version upgrades from/to any prerelease version are prohibited".into(),
                );
            }
            if let Some(min) = min_upgradable.and_then(|m| m.num)
                && f < min
            {
                return Err("current version does not meet minimum upgrade requirement".into());
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
        let v = HVersion::parse("v1.4.1");
        assert_eq!(v.num, Some((1, 4, 1)));
        assert!(v.within((1, 3, 0), Some((1, 4, 3))));
        assert!(!v.within((1, 5, 0), None));
        let rc = HVersion::parse("v1.5.0-rc2");
        assert_eq!(rc.pre.as_deref(), Some("rc2"));
        let dev = HVersion::parse("1a861fc-dirty");
        assert!(dev.is_dev());
        assert!(!dev.within((0, 0, 0), None));
    }

    #[test]
    fn version_guard() {
        let p = HVersion::parse;
        assert_eq!(
            guard(&p("v1.4.0"), &p("v1.4.1"), Some(&p("v1.3.2"))),
            Ok(())
        );
        assert_eq!(
            guard(&p("v1.4.1"), &p("v1.4.0"), None).unwrap_err(),
            "downgrading is prohibited"
        );
        assert_eq!(
            guard(&p("v1.3.1"), &p("v1.4.1"), Some(&p("v1.3.2"))).unwrap_err(),
            "current version does not meet minimum upgrade requirement"
        );
        assert_eq!(
            guard(&p("master-abc"), &p("v1.4.1"), None).unwrap_err(),
            "upgrading from dev versions to non-dev versions is prohibited"
        );
        assert_eq!(
            guard(&p("v1.4.0"), &p("v1.5.0-rc1"), None).unwrap_err(),
            "cross-version upgrades from/to any prerelease version are prohibited"
        );
    }
}
