//! IPv4 CIDR arithmetic for the network pre-checks: parsing `a.b.c.d/n`, spans, membership,
//! and the usable addresses of a range once network, broadcast and excluded CIDRs are taken
//! out (exclusions merged and clipped to the range).
use std::net::Ipv4Addr;

/// An IPv4 network: first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cidr {
    base: u32,
    prefix: u32,
}

impl Cidr {
    /// `a.b.c.d/n` (a bare address is a /32); `None` for anything else (IPv6 included).
    pub(super) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, p.trim().parse::<u32>().ok()?),
            None => (s, 32),
        };
        if prefix > 32 {
            return None;
        }
        let ip: Ipv4Addr = addr.trim().parse().ok()?;
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        Some(Cidr {
            base: u32::from(ip) & mask,
            prefix,
        })
    }

    pub(super) fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    /// First and last address, inclusive.
    pub(super) fn span(&self) -> (u64, u64) {
        let start = u64::from(self.base);
        (start, start + self.size() - 1)
    }

    pub(super) fn contains(&self, ip: Ipv4Addr) -> bool {
        let (a, b) = self.span();
        (a..=b).contains(&u64::from(u32::from(ip)))
    }
}

/// A network of a setting (`storage-network`, `rwx-network`.network).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Network {
    /// The range, `a.b.c.d/n`.
    pub(super) range: String,
    /// CIDRs (or bare addresses) the range leaves out.
    pub(super) exclude: Vec<String>,
}

/// Usable addresses of the range: its size minus network and broadcast, minus the excluded
/// CIDRs (merged, clipped to the range). `Err` names an invalid CIDR.
pub(super) fn usable_ips(net: &Network) -> Result<(Cidr, u64, u64), String> {
    let cidr = Cidr::parse(&net.range)
        .filter(|_| net.range.contains('/'))
        .ok_or_else(|| format!("range {:?} is not an IPv4 CIDR", net.range))?;
    if cidr.size() <= 2 {
        return Ok((cidr, 0, 0));
    }
    let (first, last) = cidr.span();
    let (lo, hi) = (first + 1, last - 1);
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for e in &net.exclude {
        let x = Cidr::parse(e).ok_or_else(|| format!("exclude {e:?} is not an IPv4 CIDR"))?;
        let (a, b) = x.span();
        let (a, b) = (a.max(lo), b.min(hi));
        if a <= b {
            spans.push((a, b));
        }
    }
    spans.sort_unstable();
    let mut excluded = 0u64;
    let mut cur: Option<(u64, u64)> = None;
    for (a, b) in spans {
        cur = match cur {
            Some((ca, cb)) if a <= cb.saturating_add(1) => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                excluded += cb - ca + 1;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((ca, cb)) = cur {
        excluded += cb - ca + 1;
    }
    let hosts = hi - lo + 1;
    Ok((cidr, hosts - excluded, excluded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(range: &str, exclude: &[&str]) -> Network {
        Network {
            range: range.into(),
            exclude: exclude.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn parse_masks_the_base_and_refuses_what_is_not_ipv4() {
        let c = Cidr::parse(" 10.0.0.7/29 ").unwrap();
        assert_eq!(c.span(), (0x0A00_0000, 0x0A00_0007));
        assert_eq!(c.size(), 8);
        // A bare address is a /32; /0 is everything.
        assert_eq!(Cidr::parse("10.0.0.7").unwrap().size(), 1);
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().size(), 1 << 32);
        for bad in ["10.0.0.0/33", "fd00::/64", "10.0.0/24", "x", "10.0.0.0/-1"] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn contains_is_inclusive_at_both_ends() {
        let c = Cidr::parse("192.168.1.0/30").unwrap();
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert!(c.contains(ip("192.168.1.0")));
        assert!(c.contains(ip("192.168.1.3")));
        assert!(!c.contains(ip("192.168.1.4")));
        assert!(!c.contains(ip("192.168.0.255")));
    }

    #[test]
    fn usable_ips_merge_and_clip_exclusions() {
        // /29: 8 addresses, 6 hosts; excludes .1/32 and .0/30 (clipped to .1–.3, merged): 3.
        let (c, usable, excluded) =
            usable_ips(&net("10.0.0.0/29", &["10.0.0.1/32", "10.0.0.0/30"])).unwrap();
        assert_eq!((c.size(), usable, excluded), (8, 3, 3));
        // An exclusion outside the range takes nothing.
        let r = usable_ips(&net("192.168.0.0/24", &["192.168.0.250", "10.0.0.0/8"])).unwrap();
        assert_eq!((r.1, r.2), (253, 1));
        // Adjacent exclusions merge without counting the seam twice.
        let r = usable_ips(&net(
            "10.0.0.0/28",
            &["10.0.0.4/30", "10.0.0.8/30", "10.0.0.6"],
        ))
        .unwrap();
        assert_eq!((r.1, r.2), (6, 8));
        // /31 and /32 leave nothing once network and broadcast are out.
        assert_eq!(usable_ips(&net("10.0.0.0/31", &[])).unwrap().1, 0);
    }

    #[test]
    fn usable_ips_name_the_invalid_cidr() {
        let e = usable_ips(&net("192.168.0.0", &[])).unwrap_err();
        assert!(e.contains("range \"192.168.0.0\""), "{e}");
        let e = usable_ips(&net("10.0.0.0/24", &["bogus"])).unwrap_err();
        assert!(e.contains("exclude \"bogus\""), "{e}");
    }
}
