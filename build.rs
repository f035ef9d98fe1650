//! Build script: the line `sbdiag --version` prints (env `SBDIAG_VERSION_LINE`): the package
//! version, the git commit and the Harvester knowledge the binary carries (the last release of
//! `src/facts/versions.yaml` and the date of the Harvester sources it was read from).
//!
//! The commit comes from, in order: `SBDIAG_GIT_COMMIT` (set by `cargo xtask dist`), the file
//! `COMMIT` at the top of the source tree (written into the vendored-source tarball, which has
//! no `.git`), or `git rev-parse HEAD` in release builds only. Debug builds do not ask git: the
//! script would have to rerun, and the library rebuild, at every commit.

use std::path::Path;
use std::process::Command;

fn main() {
    let table = "src/facts/versions.yaml";
    println!("cargo:rerun-if-changed={table}");
    println!("cargo:rerun-if-env-changed=SBDIAG_GIT_COMMIT");
    let yaml = std::fs::read_to_string(table).unwrap_or_else(|e| panic!("{table}: {e}"));
    let (release, read) = knowledge(&yaml).unwrap_or_else(|| {
        panic!("{table}: no `releases: [...]` list or no `sources_read: YYYY-MM-DD` line")
    });
    let commit = commit().map_or_else(
        || {
            if std::env::var("PROFILE").as_deref() == Ok("release") {
                "commit unknown".to_string()
            } else {
                "debug build, commit not recorded".to_string()
            }
        },
        |c| format!("commit {c}"),
    );
    println!(
        "cargo:rustc-env=SBDIAG_VERSION_LINE={} ({commit}; Harvester knowledge up to {release}, read from Harvester's sources of {read})",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default()
    );
}

/// The last entry of `releases: [...]` and the value of `sources_read:`.
fn knowledge(yaml: &str) -> Option<(String, String)> {
    let list = yaml.split_once("\nreleases: [")?.1.split_once(']')?.0;
    let release = list
        .split(',')
        .map(str::trim)
        .rfind(|r| !r.is_empty())?
        .to_string();
    let read = yaml
        .lines()
        .find_map(|l| l.strip_prefix("sources_read:"))?
        .trim()
        .to_string();
    (!read.is_empty()).then_some((release, read))
}

fn commit() -> Option<String> {
    if let Ok(c) = std::env::var("SBDIAG_GIT_COMMIT")
        && !c.trim().is_empty()
    {
        return Some(c.trim().to_string());
    }
    if Path::new("COMMIT").exists() {
        println!("cargo:rerun-if-changed=COMMIT");
        let c = std::fs::read_to_string("COMMIT").ok()?;
        return Some(c.trim().to_string()).filter(|c| !c.is_empty());
    }
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return None;
    }
    // Rerun when HEAD moves: the HEAD file, the branch's ref and packed-refs (worktree-aware).
    let head = git(&["rev-parse", "--short=12", "HEAD"])?;
    let mut watch = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.extend(git(&["rev-parse", "--git-path", &r]));
    }
    watch.extend(git(&["rev-parse", "--git-path", "packed-refs"]));
    for w in watch.iter().filter(|w| Path::new(w).exists()) {
        println!("cargo:rerun-if-changed={w}");
    }
    Some(head)
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}
