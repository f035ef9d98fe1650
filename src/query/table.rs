//! Column formatting like kubectl's tab writer (left-aligned, three spaces apart).

/// Formats rows under headers.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            out.push_str(c);
            if i + 1 < n {
                let pad = widths.get(i).copied().unwrap_or(0) - c.chars().count() + 3;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_columns() {
        let t = super::render(
            &["NAME", "AGE"],
            &[
                vec!["a-long-name".into(), "5d".into()],
                vec!["b".into(), "1h".into()],
            ],
        );
        assert_eq!(t, "NAME          AGE\na-long-name   5d\nb             1h\n");
    }
}
