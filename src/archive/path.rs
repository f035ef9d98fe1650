//! Normalisation of entry names from untrusted archives. Names are only ever used as keys
//! inside the bundle, never joined to the file system; names that try to escape (zip-slip) are
//! refused and reported.

/// Turns a raw entry name into a bundle-relative `a/b/c` path, or says why it is refused.
pub fn normalize(raw: &str) -> Result<String, &'static str> {
    let s = raw.replace('\\', "/");
    if s.starts_with('/') {
        return Err("absolute path");
    }
    let bytes = s.as_bytes();
    if bytes.len() >= 2
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.get(1) == Some(&b':')
    {
        return Err("absolute path with a drive letter");
    }
    let mut parts = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("path escapes the archive with '..' (zip-slip)"),
            p if p.contains('\0') => return Err("NUL byte in name"),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err("empty name");
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn keeps_plain_paths() {
        assert_eq!(normalize("a/b/c.yaml").unwrap(), "a/b/c.yaml");
        assert_eq!(normalize("./a//b/").unwrap(), "a/b");
        assert_eq!(normalize("a\\b").unwrap(), "a/b");
    }

    #[test]
    fn refuses_escapes() {
        assert!(normalize("../etc/passwd").is_err());
        assert!(normalize("a/../../b").is_err());
        assert!(normalize("/etc/passwd").is_err());
        assert!(normalize("C:\\windows").is_err());
        assert!(normalize("").is_err());
        assert!(normalize("a/\0b").is_err());
    }
}
