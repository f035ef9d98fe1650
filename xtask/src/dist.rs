//! `cargo xtask dist`: builds the static binary and writes the archives of `dist/`.

use std::collections::BTreeSet;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};

use crate::archive::TarGz;
use crate::sbom;
use crate::util::{TARGET, Workspace, cargo, run_capture, run_cmd, sha256_file, which};

/// Files of the source tree left out of the vendored-source tarball: the fuzz targets are their
/// own workspace, whose dependencies (libFuzzer) are not vendored.
const NOT_IN_SOURCE: &[&str] = &["fuzz/"];

/// Where the vendored-source tarball's build reads its commit (build.rs).
pub const COMMIT_FILE: &str = "COMMIT";

pub fn run() -> Result<()> {
    let ws = Workspace::load()?;
    let git = Git::read(&ws.root)?;
    ensure_musl_target()?;
    let cc = musl_c_compiler()?;

    let dist = ws.dist_dir();
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .with_context(|| format!("cannot empty {}", dist.display()))?;
    }
    std::fs::create_dir_all(&dist).with_context(|| format!("cannot create {}", dist.display()))?;

    eprintln!(
        "cargo xtask dist: building sbdiag {} for {TARGET}",
        ws.version
    );
    let built = build_static(&ws, &git.commit, cc.as_deref())?;

    let binary_archive = dist.join(ws.binary_archive());
    write_binary_archive(&ws, &built.binary, git.mtime, &binary_archive)?;

    eprintln!("cargo xtask dist: vendoring the dependencies");
    let source_archive = dist.join(ws.source_archive());
    write_source_archive(&ws, &git, &source_archive)?;

    let sbom_path = dist.join(ws.sbom());
    let bom = sbom::cyclonedx(&ws, &built.packages, git.mtime)?;
    std::fs::write(&sbom_path, bom)
        .with_context(|| format!("cannot write {}", sbom_path.display()))?;

    let mut sums = String::new();
    for p in [&binary_archive, &source_archive, &sbom_path] {
        sums += &format!("{}  {}\n", sha256_file(p)?, file_name(p));
    }
    std::fs::write(dist.join("SHA256SUMS"), &sums).context("cannot write dist/SHA256SUMS")?;

    eprintln!(
        "cargo xtask dist: wrote {} (commit {})",
        dist.display(),
        git.commit
    );
    for p in [&binary_archive, &source_archive, &sbom_path] {
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        eprintln!("  {:>6.1} MB  {}", size as f64 / 1e6, file_name(p));
    }
    eprintln!("  SHA256SUMS (check with: cd dist && sha256sum -c SHA256SUMS)");
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What git says about the tree being packed.
struct Git {
    /// `HEAD`'s short hash, with `-modified` when tracked files differ from it.
    commit: String,
    /// `HEAD`'s commit time: every archive entry's modification time (or `SOURCE_DATE_EPOCH`).
    mtime: u64,
    /// The tracked files (paths relative to the top, as git lists them).
    files: Vec<String>,
}

impl Git {
    fn read(root: &Path) -> Result<Git> {
        let git = |args: &[&str]| {
            run_capture(Command::new("git").arg("-C").arg(root).args(args))
                .context("cargo xtask dist packs the files git tracks: it needs git and a clone")
        };
        let mut commit = git(&["rev-parse", "--short=12", "HEAD"])?
            .trim()
            .to_string();
        if !git(&["status", "--porcelain", "--untracked-files=no"])?
            .trim()
            .is_empty()
        {
            eprintln!(
                "cargo xtask dist: WARNING: tracked files differ from commit {commit}: the archives hold the files as they are and say {commit}-modified"
            );
            commit += "-modified";
        }
        let mtime = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(s) => s
                .trim()
                .parse()
                .context("SOURCE_DATE_EPOCH is not a number")?,
            Err(_) => git(&["log", "-1", "--format=%ct", "HEAD"])?
                .trim()
                .parse()
                .context("git log printed no commit time")?,
        };
        let files = git(&["ls-files", "-z"])?
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        Ok(Git {
            commit,
            mtime,
            files,
        })
    }
}

/// Adds the musl target with rustup when the toolchain lacks it.
fn ensure_musl_target() -> Result<()> {
    let sysroot = run_capture(Command::new("rustc").args(["--print", "sysroot"]))?;
    let lib = Path::new(sysroot.trim()).join("lib/rustlib").join(TARGET);
    if lib.is_dir() {
        return Ok(());
    }
    eprintln!("cargo xtask dist: the Rust target {TARGET} is missing: rustup target add {TARGET}");
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    match added {
        Ok(s) if s.success() && lib.is_dir() => Ok(()),
        Ok(s) => bail!(
            "`rustup target add {TARGET}` failed ({s}); the static build needs that target: \
             add it where the network is reachable (rustup target add {TARGET}) and run again"
        ),
        Err(e) => bail!(
            "the static build needs the Rust target {TARGET}, which this toolchain ({}) lacks, \
             and rustup cannot be run ({e}): install rustup, or your distribution's Rust standard \
             library for {TARGET}, and run again",
            sysroot.trim()
        ),
    }
}

/// The C compiler for musl that mimalloc's C code needs: `CC_x86_64_unknown_linux_musl` when set,
/// `x86_64-linux-musl-gcc` (which the build finds by itself), or `musl-gcc` (returned, to be set).
fn musl_c_compiler() -> Result<Option<String>> {
    if std::env::var_os("CC_x86_64_unknown_linux_musl").is_some() {
        return Ok(None);
    }
    if which(&["x86_64-linux-musl-gcc"]).is_some() {
        return Ok(None);
    }
    if which(&["musl-gcc"]).is_some() {
        return Ok(Some("musl-gcc".into()));
    }
    bail!(
        "the static build compiles mimalloc's C code for musl and finds no musl C compiler \
         (x86_64-linux-musl-gcc or musl-gcc on PATH): install Debian's or Ubuntu's `musl-tools`, \
         Fedora's `musl-gcc`, or set CC_x86_64_unknown_linux_musl"
    )
}

/// The static binary and the packages compiled into it.
struct Built {
    binary: PathBuf,
    /// Package ids of every crate compiled for the target (sbdiag's included).
    packages: BTreeSet<String>,
}

fn build_static(ws: &Workspace, commit: &str, cc: Option<&str>) -> Result<Built> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&ws.root)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .args(["--package", "sbdiag", "--bin", "sbdiag"])
        .args(["--message-format", "json-render-diagnostics"])
        .env("SBDIAG_GIT_COMMIT", commit)
        .stdout(Stdio::piped());
    if let Some(cc) = cc {
        cmd.env("CC_x86_64_unknown_linux_musl", cc);
    }
    let mut child = cmd.spawn().context("cannot run cargo build")?;
    let target_out = ws.target_dir.join(TARGET);
    let mut packages = BTreeSet::new();
    let mut binary = None;
    let stdout = child.stdout.take().context("cargo build has no stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo build's messages")?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        // Built for the target (not the host's build scripts and proc macros): in the binary.
        let files: Vec<&str> = msg["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .collect();
        if files.iter().any(|f| Path::new(f).starts_with(&target_out))
            && let Some(id) = msg["package_id"].as_str()
        {
            packages.insert(id.to_string());
        }
        if msg["target"]["name"] == "sbdiag"
            && let Some(exe) = msg["executable"].as_str()
        {
            binary = Some(PathBuf::from(exe));
        }
    }
    let status = child.wait().context("cargo build did not finish")?;
    if !status.success() {
        bail!("cargo build --release --target {TARGET} failed ({status})");
    }
    let binary = binary.context("cargo build reported no sbdiag executable")?;
    Ok(Built { binary, packages })
}

/// The static tarball: the binary, completions, man pages, README and license.
fn write_binary_archive(ws: &Workspace, binary: &Path, mtime: u64, out: &Path) -> Result<()> {
    let top = ws.binary_archive().trim_end_matches(".tar.gz").to_string();
    let mut t = TarGz::create(out, &top, mtime)?;
    t.file_from("sbdiag", binary)?;
    t.file_from("README.md", &ws.root.join("README.md"))?;
    t.file_from("LICENSE", &ws.root.join("LICENSE"))?;
    t.dir("completions")?;
    for shell in sbdiag::cli::Shell::ALL {
        let mut script = Vec::new();
        sbdiag::cli::write_completions(shell, &mut script);
        t.file(
            &format!("completions/{}", shell.file_name()),
            &script,
            false,
        )?;
    }
    t.dir("man")?;
    t.dir("man/man1")?;
    // The version the pages state is the binary's own line (its commit, not this task's).
    let line = run_capture(Command::new(binary).arg("--version"))?;
    let version = line
        .trim()
        .strip_prefix("sbdiag ")
        .with_context(|| format!("{} --version printed {line:?}", binary.display()))?;
    for (name, page) in man_pages(version)? {
        t.file(&format!("man/man1/{name}"), &page, false)?;
    }
    t.finish()
}

/// The man pages (`sbdiag.1`, `sbdiag-analyze.1`, …) from the command line's definition.
pub fn man_pages(version: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    // clap takes a `'static` version; this process ends soon after.
    let version: &'static str = Box::leak(version.to_string().into_boxed_str());
    let cmd = sbdiag::cli::command().version(version);
    clap_mangen::generate_to(cmd, dir.path()).context("cannot write the man pages")?;
    let mut pages = Vec::new();
    for e in std::fs::read_dir(dir.path()).context("cannot list the man pages")? {
        let path = e?.path();
        pages.push((file_name(&path), std::fs::read(&path)?));
    }
    pages.sort();
    Ok(pages)
}

/// The vendored-source tarball: the tracked files (but fuzz/), `vendor/`, the source
/// replacement in `.cargo/config.toml`, and `COMMIT`.
fn write_source_archive(ws: &Workspace, git: &Git, out: &Path) -> Result<()> {
    let stage = ws.target_dir.join("xtask-dist");
    if stage.exists() {
        std::fs::remove_dir_all(&stage)
            .with_context(|| format!("cannot empty {}", stage.display()))?;
    }
    std::fs::create_dir_all(&stage)?;
    let vendor = stage.join("vendor");
    // `cargo vendor` prints the source replacement it needs; the one written below is the same,
    // with the path relative to the unpacked folder.
    run_cmd(
        Command::new(cargo())
            .current_dir(&ws.root)
            .args(["vendor", "--locked", "--quiet"])
            .arg(&vendor)
            .stdout(Stdio::null()),
    )?;

    let top = format!("sbdiag-{}", ws.version);
    let mut t = TarGz::create(out, &top, git.mtime)?;
    let config = ".cargo/config.toml";
    let mut dirs = BTreeSet::new();
    for f in &git.files {
        if NOT_IN_SOURCE.iter().any(|p| f.starts_with(p)) || f == config || f == COMMIT_FILE {
            continue;
        }
        let src = ws.root.join(f);
        if !src.exists() {
            continue; // deleted in the working tree
        }
        let mut parent = Path::new(f).parent();
        let mut missing = Vec::new();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if dirs.insert(p.to_path_buf()) {
                missing.push(p.to_string_lossy().into_owned());
            }
            parent = p.parent();
        }
        for d in missing.iter().rev() {
            t.dir(d)?;
        }
        t.file_from(f, &src)?;
    }
    let own = std::fs::read_to_string(ws.root.join(config)).unwrap_or_default();
    let vendored = format!(
        "{own}\n# Written by `cargo xtask dist`: every crate from vendor/, so that\n\
         # `cargo build --release --offline --locked` needs no network and no CARGO_HOME.\n\
         [source.crates-io]\nreplace-with = \"vendored-sources\"\n\n\
         [source.vendored-sources]\ndirectory = \"vendor\"\n"
    );
    if dirs.insert(PathBuf::from(".cargo")) {
        t.dir(".cargo")?;
    }
    t.file(config, vendored.as_bytes(), false)?;
    t.file(COMMIT_FILE, format!("{}\n", git.commit).as_bytes(), false)?;
    t.tree("vendor", &vendor)?;
    t.finish()?;
    std::fs::remove_dir_all(&stage).ok();
    Ok(())
}
