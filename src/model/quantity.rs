//! Kubernetes resource quantities (`512Mi`, `1.5Gi`, `250m`, `2`, `1e9`) as numbers: memory in
//! bytes, CPU in millicores, as the scheduler compares them.

/// The value of a quantity in base units (bytes, cores), or `None` when it is not one.
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    // Binary suffixes first: `Mi` must not read as `M` followed by junk.
    const BINARY: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
    ];
    const DECIMAL: &[(&str, f64)] = &[
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (number, factor) = BINARY
        .iter()
        .chain(DECIMAL)
        .find_map(|(s, f)| q.strip_suffix(s).map(|n| (n, *f)))
        .unwrap_or((q, 1.0));
    // A plain number, or one with an exponent (`1e3`, `1E3`); Rust's parser also takes
    // `inf` and `NaN`, which are not quantities.
    if !number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'))
    {
        return None;
    }
    let v: f64 = number.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * factor)
}

/// Memory in bytes.
pub fn bytes(q: &str) -> Option<u64> {
    parse(q).map(|v| v.ceil() as u64)
}

/// CPU in millicores.
pub fn millicores(q: &str) -> Option<u64> {
    parse(q).map(|v| (v * 1000.0).ceil() as u64)
}

/// Bytes as kubectl-like binary units (`1.5Gi`, `512Mi`).
pub fn show_bytes(b: u64) -> String {
    let units = [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    for (u, n) in units {
        if b >= n {
            let v = b as f64 / n as f64;
            return if (v - v.round()).abs() < 0.05 {
                format!("{}{u}", v.round())
            } else {
                format!("{v:.1}{u}")
            };
        }
    }
    format!("{b}")
}

/// Millicores as kubectl writes CPU (`250m`, `2`).
pub fn show_millicores(m: u64) -> String {
    if m.is_multiple_of(1000) {
        format!("{}", m / 1000)
    } else {
        format!("{m}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_as_the_scheduler_reads_them() {
        assert_eq!(bytes("512Mi"), Some(536_870_912));
        assert_eq!(bytes("1.5Gi"), Some(1_610_612_736));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("128974848"), Some(128_974_848));
        assert_eq!(millicores("250m"), Some(250));
        assert_eq!(millicores("2"), Some(2000));
        assert_eq!(millicores("0.5"), Some(500));
        for bad in ["", "Gi", "lots", "inf", "NaN", "-1Gi", "1Zi"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(show_bytes(1_610_612_736), "1.5Gi");
        assert_eq!(show_bytes(8 << 30), "8Gi");
        assert_eq!(show_millicores(2500), "2500m");
        assert_eq!(show_millicores(4000), "4");
    }
}
