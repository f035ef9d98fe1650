//! `cargo xtask dist-check`: tests the archives `cargo xtask dist` wrote.
//!
//! 1. `SHA256SUMS` matches every file it lists, and lists both tarballs and the bill of materials.
//! 2. The static tarball: the ELF binary has no program interpreter (and `file` says statically
//!    linked); with an empty environment (as `env -i`) it prints its version and analyses every
//!    real bundle of `SBDIAG_REAL_BUNDLES`; the completions are what `sbdiag completions` prints;
//!    there is a man page for the command and for each subcommand.
//! 3. The vendored source, unpacked into a temporary folder, builds with `cargo build --release
//!    --offline --locked` and an empty `CARGO_HOME`; the result states the tarball's commit and
//!    analyses the sample of the README's first command.
//!
//! Without `dist/` it skips with a note, unless CI is set; in CI every check must run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail, ensure};

use crate::archive::extract;
use crate::dist::COMMIT_FILE;
use crate::util::{Workspace, cargo, in_ci, output, run_cmd, sha256_file, which};

pub fn run() -> Result<()> {
    let ws = Workspace::load()?;
    let dist = ws.dist_dir();
    if !dist.join("SHA256SUMS").is_file() {
        if in_ci() {
            bail!(
                "{} has no SHA256SUMS: run `cargo xtask dist` first (CI is set: not skipping)",
                dist.display()
            );
        }
        eprintln!(
            "cargo xtask dist-check: SKIPPED: {} is absent (run `cargo xtask dist` first)",
            dist.join("SHA256SUMS").display()
        );
        return Ok(());
    }
    checksums(&ws, &dist)?;
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let started = Instant::now();
    let commit = binary(&ws, &dist, tmp.path())?;
    eprintln!(
        "cargo xtask dist-check: static binary checked in {:.0?}",
        started.elapsed()
    );
    let started = Instant::now();
    vendored(&ws, &dist, tmp.path(), &commit)?;
    eprintln!(
        "cargo xtask dist-check: vendored source built offline and checked in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

fn checksums(ws: &Workspace, dist: &Path) -> Result<()> {
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS"))?;
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (sum, name) = line
            .split_once("  ")
            .with_context(|| format!("SHA256SUMS: {line:?} is not `HASH  FILE`"))?;
        let actual = sha256_file(&dist.join(name))?;
        ensure!(
            actual == sum,
            "SHA256SUMS: {name} has SHA-256 {actual}, the list says {sum}"
        );
        listed.push(name.to_string());
    }
    for want in [ws.binary_archive(), ws.source_archive(), ws.sbom()] {
        ensure!(listed.contains(&want), "SHA256SUMS does not list {want}");
    }
    Ok(())
}

/// Checks the static tarball; returns the commit its binary states.
fn binary(ws: &Workspace, dist: &Path, tmp: &Path) -> Result<String> {
    let into = tmp.join("bin");
    std::fs::create_dir_all(&into)?;
    extract(&dist.join(ws.binary_archive()), &into)?;
    let top = into.join(ws.binary_archive().trim_end_matches(".tar.gz"));
    let exe = top.join("sbdiag");
    for f in ["sbdiag", "README.md", "LICENSE"] {
        ensure!(top.join(f).is_file(), "the static tarball has no {f}");
    }

    ensure!(
        !has_interpreter(&exe)?,
        "{} asks for a program interpreter (dynamic loader): not static",
        exe.display()
    );
    match which(&["file"]) {
        Some(file) => {
            let out = String::from_utf8_lossy(&Command::new(file).arg(&exe).output()?.stdout)
                .into_owned();
            ensure!(
                out.contains("statically linked") || out.contains("static-pie linked"),
                "file(1) does not say statically linked: {out}"
            );
        }
        None if in_ci() => bail!("file(1) is not installed (CI is set: not skipping)"),
        None => eprintln!("cargo xtask dist-check: file(1) not installed: ELF header check only"),
    }

    // An empty environment, as `env -i`: no PATH, HOME, locale or LD_* variables.
    let empty_env = |args: &[&str]| {
        let mut c = Command::new(&exe);
        c.env_clear().args(args).current_dir(tmp);
        c
    };
    let version = output(&mut empty_env(&["--version"]))?;
    let prefix = format!("sbdiag {} (commit ", ws.version);
    ensure!(
        version.starts_with(&prefix) && version.contains("Harvester knowledge up to v"),
        "--version printed {version:?}, expected {prefix}…; Harvester knowledge up to …"
    );
    let commit = version
        .trim_start_matches(&prefix)
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();

    for shell in sbdiag::cli::Shell::ALL {
        let name = format!("{shell:?}").to_lowercase();
        let shipped =
            std::fs::read(top.join("completions").join(shell.file_name())).with_context(|| {
                format!(
                    "the static tarball has no completions/{}",
                    shell.file_name()
                )
            })?;
        let printed = empty_env(&["completions", &name]).output()?.stdout;
        ensure!(
            !shipped.is_empty() && shipped == printed,
            "completions/{} differs from `sbdiag completions {name}`",
            shell.file_name()
        );
    }

    let man = top.join("man/man1");
    let cmd = sbdiag::cli::command();
    let mut pages = vec!["sbdiag.1".to_string()];
    pages.extend(
        cmd.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| format!("sbdiag-{}.1", s.get_name())),
    );
    for p in &pages {
        let text = std::fs::read_to_string(man.join(p))
            .with_context(|| format!("the static tarball has no man/man1/{p}"))?;
        ensure!(
            text.starts_with(".ie") || text.contains(".TH"),
            "man/man1/{p} is not a man page"
        );
    }

    match std::env::var_os("SBDIAG_REAL_BUNDLES") {
        Some(dir) => analyse_real(&empty_env, Path::new(&dir), tmp)?,
        None if in_ci() => bail!("SBDIAG_REAL_BUNDLES is not set (CI is set: not skipping)"),
        None => eprintln!(
            "cargo xtask dist-check: SBDIAG_REAL_BUNDLES not set: the static binary was not run on a real bundle"
        ),
    }
    Ok(commit)
}

/// `analyze` of every `.zip` in `dir` with the static binary: exit 0, the three reports written,
/// a report.json naming the cluster and its nodes.
fn analyse_real(empty_env: &dyn Fn(&[&str]) -> Command, dir: &Path, tmp: &Path) -> Result<()> {
    for (i, b) in real_bundles(dir)?.iter().enumerate() {
        let out = tmp.join(format!("real-{i}"));
        let (b_s, out_s) = (b.to_string_lossy(), out.to_string_lossy());
        let summary = output(&mut empty_env(&["analyze", &b_s, "-o", &out_s]))?;
        let (nodes, findings) = check_reports(&out, &b_s)?;
        eprintln!(
            "cargo xtask dist-check: static binary, empty environment: {} → {nodes} nodes, {findings} findings ({} summary lines)",
            b.file_name().unwrap_or_default().to_string_lossy(),
            summary.lines().count()
        );
    }
    Ok(())
}

/// The `.zip` bundles in `dir` (`SBDIAG_REAL_BUNDLES`), sorted; an error when there is none.
pub fn real_bundles(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("SBDIAG_REAL_BUNDLES: cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .collect();
    bundles.sort();
    ensure!(!bundles.is_empty(), "no .zip bundle in {}", dir.display());
    Ok(bundles)
}

/// What `analyze BUNDLE -o OUT` must have written in `out`: report.html, report.md and a
/// report.json naming the cluster and its nodes. Returns the nodes and the findings counted.
pub fn check_reports(out: &Path, bundle: &str) -> Result<(u64, usize)> {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).with_context(|| {
            format!("analyze {bundle} wrote no {}/report.json", out.display())
        })?)?;
    ensure!(
        out.join("report.html").is_file() && out.join("report.md").is_file(),
        "analyze {bundle} wrote no report.html or report.md"
    );
    let nodes = json["bundle"]["nodes"].as_u64().unwrap_or(0);
    ensure!(
        nodes > 0 && json["bundle"]["cluster_id"].is_string() && json["findings"].is_array(),
        "report.json of {bundle} names no cluster or nodes"
    );
    Ok((nodes, json["findings"].as_array().map_or(0, Vec::len)))
}

/// Builds the vendored source offline with an empty CARGO_HOME and runs the result.
fn vendored(ws: &Workspace, dist: &Path, tmp: &Path, commit: &str) -> Result<()> {
    let into = tmp.join("src");
    std::fs::create_dir_all(&into)?;
    extract(&dist.join(ws.source_archive()), &into)?;
    let top = into.join(format!("sbdiag-{}", ws.version));
    let recorded = std::fs::read_to_string(top.join(COMMIT_FILE))
        .with_context(|| format!("the vendored source has no {COMMIT_FILE}"))?;
    ensure!(
        recorded.trim() == commit,
        "the vendored source is of commit {}, the static binary of {commit}",
        recorded.trim()
    );
    ensure!(
        !top.join(".git").exists(),
        "the vendored source holds a .git folder"
    );
    let cargo_home = tmp.join("empty-cargo-home");
    std::fs::create_dir_all(&cargo_home)?;
    let target = tmp.join("src-target");
    run_cmd(
        Command::new(cargo())
            .current_dir(&top)
            .args(["build", "--release", "--offline", "--locked"])
            .env("CARGO_HOME", &cargo_home)
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("SBDIAG_GIT_COMMIT"),
    )
    .context("the vendored source does not build offline")?;
    let exe = target.join("release/sbdiag");
    let version = output(Command::new(&exe).arg("--version"))?;
    ensure!(
        version.starts_with(&format!("sbdiag {} (commit {commit};", ws.version)),
        "the offline build's --version printed {version:?}, expected commit {commit}"
    );
    let report = output(Command::new(&exe).current_dir(&top).args([
        "analyze",
        "samples/fleet-stale-v1.4.0",
        "--json",
    ]))?;
    let json: serde_json::Value =
        serde_json::from_str(&report).context("the offline build's --json is not JSON")?;
    ensure!(
        json["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "the offline build found nothing in samples/fleet-stale-v1.4.0"
    );
    Ok(())
}

/// Whether the ELF file at `path` has a PT_INTERP program header (asks for a dynamic loader).
fn has_interpreter(path: &Path) -> Result<bool> {
    let elf = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    interpreter_in(&elf).with_context(|| format!("{} is not a 64-bit ELF file", path.display()))
}

fn interpreter_in(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?));
    // 64-bit little-endian ELF only (the x86-64 target).
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    let mut interp = false;
    for i in 0..phnum {
        interp |= u32_at(phoff + i * phentsize)? == PT_INTERP;
    }
    Some(interp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running test binary (dynamically linked against glibc) has an interpreter; a header
    /// with no program headers has none; a non-ELF file is refused.
    #[test]
    fn interpreter_is_read_from_the_program_headers() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(interpreter_in(&me), Some(true));
        let mut bare = me[..64].to_vec();
        bare[0x38] = 0;
        bare[0x39] = 0;
        assert_eq!(interpreter_in(&bare), Some(false));
        assert_eq!(interpreter_in(b"#!/bin/sh\n"), None);
    }
}
