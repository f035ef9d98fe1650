//! Shared helpers: the workspace's paths and version (`cargo metadata`), running tools, hashes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail, ensure};

/// The static build's target.
pub const TARGET: &str = "x86_64-unknown-linux-musl";

/// The workspace as `cargo metadata` describes it (for the binary's target platform).
pub struct Workspace {
    /// The folder of the top Cargo.toml.
    pub root: PathBuf,
    /// Cargo's target folder.
    pub target_dir: PathBuf,
    /// sbdiag's version.
    pub version: String,
    /// The whole `cargo metadata` answer.
    pub metadata: serde_json::Value,
}

impl Workspace {
    /// `cargo metadata` of the workspace this xtask belongs to.
    pub fn load() -> Result<Workspace> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let out = run_capture(
            Command::new(cargo())
                .args(["metadata", "--format-version", "1", "--locked"])
                .args(["--filter-platform", TARGET, "--manifest-path"])
                .arg(&manifest),
        )?;
        let metadata: serde_json::Value =
            serde_json::from_str(&out).context("cargo metadata printed something not JSON")?;
        let root = PathBuf::from(str_at(&metadata, "workspace_root")?);
        let target_dir = PathBuf::from(str_at(&metadata, "target_directory")?);
        let version = metadata["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "sbdiag")
            .and_then(|p| p["version"].as_str())
            .context("cargo metadata lists no package sbdiag")?
            .to_string();
        Ok(Workspace {
            root,
            target_dir,
            version,
            metadata,
        })
    }

    /// `dist/`.
    pub fn dist_dir(&self) -> PathBuf {
        self.root.join("dist")
    }

    /// The static tarball's file name (and, without `.tar.gz`, its top folder).
    pub fn binary_archive(&self) -> String {
        format!("sbdiag-{}-{TARGET}.tar.gz", self.version)
    }

    /// The vendored-source tarball's file name.
    pub fn source_archive(&self) -> String {
        format!("sbdiag-{}-vendored-src.tar.gz", self.version)
    }

    /// The bill of materials' file name.
    pub fn sbom(&self) -> String {
        format!("sbdiag-{}-{TARGET}.cdx.json", self.version)
    }
}

fn str_at<'a>(v: &'a serde_json::Value, key: &str) -> Result<&'a str> {
    v[key]
        .as_str()
        .with_context(|| format!("cargo metadata has no {key}"))
}

/// The cargo running this task (`CARGO`), else `cargo` on PATH.
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// Runs `cmd` with stdout captured (stderr shown); fails with the command line when it fails.
pub fn run_capture(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    if !out.status.success() {
        bail!("{shown} failed ({})", out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("{shown} printed non-UTF-8"))
}

/// Runs `cmd`; its stdout when it exits 0, else an error with its stderr.
pub fn output(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    ensure!(
        out.status.success(),
        "{shown} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8(out.stdout).with_context(|| format!("{shown} printed non-UTF-8"))
}

/// Runs `cmd` with stdout and stderr shown.
pub fn run_cmd(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// The first of `names` found on PATH.
pub fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// SHA-256 of a file, in lower-case hex (the scan's own hash, as `sha256sum` prints it).
pub fn sha256_file(path: &Path) -> Result<String> {
    sbdiag::scan::hash::file(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Whether CI is set (then a check that cannot run fails instead of skipping).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}
