//! `cargo xtask image-check`: builds the `Containerfile`'s image from `dist/` with podman and runs
//! it on the real bundles the way the README's hardened Job runs it.
//!
//! 1. `podman build` from the top of the clone, as the README says (`.dockerignore` keeps all but
//!    the static tarball out of the context), into a throw-away store, with no network.
//! 2. The image: user `65532:65532`, entrypoint `/usr/local/bin/sbdiag`, working folder `/out`,
//!    the version label; its file system (as `podman export` writes it) holds exactly the binary,
//!    its license and README, owned by root, none set-user-id or writable by others, the binary
//!    byte for byte the tarball's.
//! 3. Runs with the image's own user (no `--user`), a read-only root file system with no tmpfs
//!    added (as Kubernetes' `readOnlyRootFilesystem`), all capabilities dropped, no new
//!    privileges, no network, the bundles mounted read-only and an output folder writable only
//!    by group 65532 (as the Job's `fsGroup`): `--version`; `analyze` of every real bundle;
//!    `analyze` without `-o` (into the working folder `/out`); `scan /bundles` (the README's
//!    command); `analyze -o /probe`, which must fail on the read-only root.
//! 4. While `sbdiag serve` runs in the container, the host reads the process's
//!    `/proc/PID/status` and `mountinfo`: uid and gid 65532, no other group, every
//!    capability set empty, `NoNewPrivs`, a seccomp filter, `/` and `/bundles` read-only.
//!
//! What it cannot show: that Kubernetes (containerd or CRI-O, the Job's `securityContext`) runs
//! the image the same way; podman's flags stand for the Job's fields.
//!
//! Needs podman and runc, as root (rootful podman). Skips with a note when podman, runc, the
//! static tarball or `SBDIAG_REAL_BUNDLES` is missing, unless CI is set (then it fails).

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};

use crate::check::{check_reports, real_bundles};
use crate::util::{Workspace, in_ci, output, run_cmd, sha256_file, which};

/// The image's user and group (the Containerfile's `USER`, the Job's `runAsUser`/`fsGroup`).
const ID: u32 = 65532;

/// The files of the image, and nothing else.
const IMAGE_FILES: [&str; 3] = [
    "usr/local/bin/sbdiag",
    "usr/share/doc/sbdiag/LICENSE",
    "usr/share/doc/sbdiag/README.md",
];

pub fn run() -> Result<()> {
    let ws = Workspace::load()?;
    let tarball = ws.dist_dir().join(ws.binary_archive());
    let needs = [
        (
            tarball.is_file(),
            "run `cargo xtask dist` first".to_string(),
        ),
        (
            which(&["podman"]).is_some(),
            "podman is not installed (Debian: apt-get install podman runc)".into(),
        ),
        (
            which(&["runc"]).is_some(),
            "runc is not installed (Debian: apt-get install runc)".into(),
        ),
        (
            // /proc/self belongs to the process's effective user.
            std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0),
            "not root: image-check runs rootful podman".into(),
        ),
        (
            std::env::var_os("SBDIAG_REAL_BUNDLES").is_some(),
            "SBDIAG_REAL_BUNDLES is not set".into(),
        ),
    ];
    if let Some((_, why)) = needs.iter().find(|(ok, _)| !ok) {
        if in_ci() {
            bail!("{why} (CI is set: not skipping)");
        }
        eprintln!("cargo xtask image-check: SKIPPED: {why}");
        return Ok(());
    }
    let bundles_dir = PathBuf::from(std::env::var_os("SBDIAG_REAL_BUNDLES").unwrap_or_default());
    let bundles = real_bundles(&bundles_dir)?;

    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let podman = Podman::new(tmp.path())?;
    let image = format!("localhost/sbdiag:{}", ws.version);

    let started = Instant::now();
    run_cmd(
        podman
            .cmd()
            .args(["build", "--pull=never", "--network=none", "-f"])
            .arg(ws.root.join("Containerfile"))
            .arg("--build-arg")
            .arg(format!("VERSION={}", ws.version))
            .args(["-t", &image])
            .arg(&ws.root),
    )
    .context("podman cannot build the Containerfile")?;
    eprintln!(
        "cargo xtask image-check: {image} built in {:.0?}",
        started.elapsed()
    );

    let started = Instant::now();
    inspect(&podman, &image, &ws.version)?;
    contents(&podman, &image, &tarball, &ws, tmp.path())?;

    let out = tmp.path().join("out");
    writable_by_group_only(&out)?;
    let run = Run {
        podman: &podman,
        image: &image,
        bundles: &bundles_dir,
        out: &out,
    };
    runs(&run, &ws.version, &bundles)?;
    runtime_state(&run, &bundles[0])?;
    eprintln!(
        "cargo xtask image-check: image inspected and run hardened in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

/// podman with its state in a throw-away folder: the vfs storage driver (no overlay mounts
/// needed), cgroupfs (no systemd), and runc, which also runs where cgroups are v1 and v2 at
/// once (crun, podman's default on Debian, refuses that "hybrid" layout).
struct Podman {
    exe: PathBuf,
    state: PathBuf,
}

impl Podman {
    fn new(state: &Path) -> Result<Podman> {
        let exe = which(&["podman"]).context("podman is not on PATH")?;
        Ok(Podman {
            exe,
            state: state.join("podman"),
        })
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.arg("--root")
            .arg(self.state.join("storage"))
            .arg("--runroot")
            .arg(self.state.join("run"))
            .arg("--tmpdir")
            .arg(self.state.join("tmp"))
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"])
            .args(["--runtime", "runc", "--events-backend", "file"]);
        c
    }
}

/// A container run as the Job runs one.
struct Run<'a> {
    podman: &'a Podman,
    image: &'a str,
    /// Mounted read-only at `/bundles`.
    bundles: &'a Path,
    /// Mounted at `/out`.
    out: &'a Path,
}

impl Run<'_> {
    /// `podman run` hardened, up to the image (the caller adds sbdiag's arguments). No `--user`:
    /// the image's own `USER` must make it non-root.
    fn hardened(&self, detach: Option<&str>) -> Result<Command> {
        let mut c = self.podman.cmd();
        c.arg("run");
        match detach {
            Some(name) => c.args(["--detach", "--name", name]),
            None => c.arg("--rm"),
        };
        c.args(["--pull=never", "--network=none"])
            // Kubernetes' readOnlyRootFilesystem adds no writable /tmp or /run: neither does this.
            .args(["--read-only", "--read-only-tmpfs=false"])
            .args(["--cap-drop=ALL", "--security-opt=no-new-privileges"])
            // podman's default limits (nofile 1048576, nproc 32768) are raised with
            // CAP_SYS_RESOURCE, which sandboxes (such as the machine this was written on) drop:
            // limits every Linux host allows instead.
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ])
            .arg("--volume")
            .arg(format!("{}:/bundles:ro", volume_source(self.bundles)?))
            .arg("--volume")
            .arg(format!("{}:/out", volume_source(self.out)?))
            .arg(self.image);
        Ok(c)
    }

    /// sbdiag in the container; its stdout, or an error with its stderr.
    fn sbdiag(&self, args: &[&str]) -> Result<String> {
        output(self.hardened(None)?.args(args))
    }
}

/// A path usable in `--volume SRC:DST[:OPTS]`.
fn volume_source(p: &Path) -> Result<String> {
    let s = p.to_str().context("a mounted folder's path is not UTF-8")?;
    ensure!(
        !s.contains([':', ',']),
        "{s}: a folder mounted into the container cannot have ':' or ',' in its path"
    );
    Ok(s.to_string())
}

/// The image's configuration: the non-root user, the entrypoint, the working folder, the version.
fn inspect(podman: &Podman, image: &str, version: &str) -> Result<()> {
    let json: serde_json::Value = serde_json::from_str(&output(
        podman
            .cmd()
            .args(["image", "inspect", "--format", "json", image]),
    )?)
    .context("podman image inspect printed something not JSON")?;
    let config = &json[0]["Config"];
    let user = format!("{ID}:{ID}");
    ensure!(
        config["User"] == user.as_str(),
        "the image's user is {}, not {user}",
        config["User"]
    );
    ensure!(
        config["Entrypoint"] == serde_json::json!(["/usr/local/bin/sbdiag"]),
        "the image's entrypoint is {}",
        config["Entrypoint"]
    );
    ensure!(
        config["WorkingDir"] == "/out",
        "the image's working folder is {}",
        config["WorkingDir"]
    );
    let label = &config["Labels"]["org.opencontainers.image.version"];
    ensure!(
        label == version,
        "the image's version label is {label}, not {version}"
    );
    Ok(())
}

/// The image's file system holds the tarball's binary, its license and README, and nothing else.
fn contents(
    podman: &Podman,
    image: &str,
    tarball: &Path,
    ws: &Workspace,
    tmp: &Path,
) -> Result<()> {
    let name = "sbdiag-image-check-export";
    output(podman.cmd().args(["create", "--name", name, image]))?;
    let rootfs = tmp.join("rootfs.tar");
    let exported = output(
        podman
            .cmd()
            .args(["export", "--output"])
            .arg(&rootfs)
            .arg(name),
    );
    output(podman.cmd().args(["rm", name]))?;
    exported?;

    let unpacked = tmp.join("rootfs");
    std::fs::create_dir_all(&unpacked)?;
    let f = std::fs::File::open(&rootfs)?;
    let mut files = Vec::new();
    for entry in tar::Archive::new(f).entries()? {
        let mut entry = entry?;
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let header = entry.header();
        let (uid, mode) = (header.uid()?, header.mode()?);
        ensure!(
            uid == 0 && mode & 0o6002 == 0,
            "the image's {path} is owned by uid {uid} with mode {mode:o}: it should be root's, \
             not set-user-id, set-group-id or writable by others"
        );
        if header.entry_type().is_dir() {
            continue;
        }
        ensure!(
            header.entry_type().is_file(),
            "the image holds {path}, which is not a regular file or folder"
        );
        entry.unpack_in(&unpacked)?;
        files.push(path);
    }
    files.sort();
    ensure!(
        files == IMAGE_FILES,
        "the image holds {files:?}, expected exactly {IMAGE_FILES:?}"
    );

    let from_tarball = tmp.join("dist");
    std::fs::create_dir_all(&from_tarball)?;
    crate::archive::extract(tarball, &from_tarball)?;
    let shipped = from_tarball
        .join(ws.binary_archive().trim_end_matches(".tar.gz"))
        .join("sbdiag");
    ensure!(
        sha256_file(&unpacked.join(IMAGE_FILES[0]))? == sha256_file(&shipped)?,
        "the image's sbdiag is not the static tarball's"
    );
    Ok(())
}

/// The output folder as the Job's `fsGroup` makes it: root's, group 65532, set-group-id, and
/// writable by that group only; so what sbdiag writes proves which group it runs as.
fn writable_by_group_only(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    std::os::unix::fs::chown(out, None, Some(ID))
        .with_context(|| format!("cannot give {} to group {ID}", out.display()))?;
    std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o2770))?;
    Ok(())
}

/// sbdiag's commands in the hardened container, and what they wrote.
fn runs(run: &Run, version: &str, bundles: &[PathBuf]) -> Result<()> {
    let printed = run.sbdiag(&["--version"])?;
    ensure!(
        printed.starts_with(&format!("sbdiag {version} (commit ")),
        "--version in the image printed {printed:?}"
    );

    for (i, b) in bundles.iter().enumerate() {
        let file = file_name(b);
        let dir = format!("analyze-{i}");
        run.sbdiag(&[
            "analyze",
            &format!("/bundles/{file}"),
            "-o",
            &format!("/out/{dir}"),
        ])?;
        let (nodes, findings) = check_reports(&run.out.join(&dir), &file)?;
        written_by_the_image_user(&run.out.join(&dir).join("report.json"))?;
        eprintln!(
            "cargo xtask image-check: in the image, read-only, non-root: {file} → {nodes} nodes, {findings} findings"
        );
    }

    // No -o: the working folder, /out, receives ./sbdiag-<bundle name>/.
    let file = file_name(&bundles[0]);
    run.sbdiag(&["analyze", &format!("/bundles/{file}")])?;
    let default = run
        .out
        .join(format!("sbdiag-{}", file.trim_end_matches(".zip")));
    check_reports(&default, &file).context("analyze without -o in the image")?;

    // The README's command.
    run.sbdiag(&["scan", "/bundles", "-o", "/out/scan"])?;
    let scan = run.out.join("scan");
    for f in ["scan.html", "scan.csv", "scan.jsonl"] {
        ensure!(scan.join(f).is_file(), "scan in the image wrote no {f}");
    }
    let jsonl = std::fs::read_to_string(scan.join("scan.jsonl"))?;
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("scan.jsonl written in the image is not JSON lines")?;
    ensure!(
        rows.len() == bundles.len() && rows.iter().all(|r| r["status"] == "ok"),
        "scan in the image: {} rows for {} bundles, or not all ok: {jsonl}",
        rows.len(),
        bundles.len()
    );
    for r in &rows {
        let name = r["name"].as_str().context("a scan.jsonl row has no name")?;
        check_reports(&scan.join(name), name).context("scan in the image")?;
    }

    // Anywhere but the volume, the root file system refuses the write.
    let probe = run
        .hardened(None)?
        .args(["analyze", &format!("/bundles/{file}"), "-o", "/probe"])
        .output()?;
    let stderr = String::from_utf8_lossy(&probe.stderr);
    ensure!(
        !probe.status.success() && stderr.contains("Read-only file system"),
        "analyze -o /probe in the image should fail on the read-only root file system; it {} and said {stderr:?}",
        probe.status
    );
    Ok(())
}

/// A file sbdiag wrote in the container is owned by the image's user and group.
fn written_by_the_image_user(p: &Path) -> Result<()> {
    let m = std::fs::metadata(p)?;
    ensure!(
        m.uid() == ID && m.gid() == ID,
        "{} was written by uid {} gid {}, not {ID}",
        p.display(),
        m.uid(),
        m.gid()
    );
    Ok(())
}

/// Removes a detached container, whatever happened.
struct Detached<'a> {
    podman: &'a Podman,
    name: &'a str,
}

impl Drop for Detached<'_> {
    fn drop(&mut self) {
        let _ = self
            .podman
            .cmd()
            .args(["rm", "--force", "--time", "0", self.name])
            .output();
    }
}

/// What the kernel says of sbdiag's process in the container, read from the host while
/// `sbdiag serve` runs there: who it runs as, its capabilities, no new privileges, seccomp, and
/// its mounts.
fn runtime_state(run: &Run, bundle: &Path) -> Result<()> {
    let file = file_name(bundle);
    let name = "sbdiag-image-check-serve";
    output(
        run.hardened(Some(name))?
            .args(["serve", &format!("/bundles/{file}")]),
    )?;
    let _guard = Detached {
        podman: run.podman,
        name,
    };
    // serve writes its kubeconfig into the working folder once the bundle is loaded.
    let kubeconfig = run.out.join(format!(
        "sbdiag-{}.kubeconfig",
        file.trim_end_matches(".zip")
    ));
    let until = Instant::now() + Duration::from_secs(120);
    let state = |field: &str| {
        output(run.podman.cmd().args(["inspect", "--format", field, name]))
            .map(|s| s.trim().to_string())
    };
    while !kubeconfig.is_file() {
        if state("{{.State.Running}}")? != "true" || Instant::now() > until {
            let logs = output(run.podman.cmd().args(["logs", name])).unwrap_or_default();
            bail!(
                "sbdiag serve in the image wrote no {} (running: {}): {logs}",
                kubeconfig.display(),
                state("{{.State.Running}}")?
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let pid = state("{{.State.Pid}}")?;
    let proc = Path::new("/proc").join(&pid);
    let read = |f: &str| {
        std::fs::read_to_string(proc.join(f))
            .with_context(|| format!("cannot read /proc/{pid}/{f} (sbdiag serve in the image)"))
    };
    ensure!(
        read("comm")?.trim() == "sbdiag",
        "process {pid} is not sbdiag"
    );
    let status = read("status")?;
    let field = |k: &str| status_field(&status, k);
    let id = format!("{ID}\t{ID}\t{ID}\t{ID}");
    let expected = [
        ("Uid", id.as_str()),
        ("Gid", &id),
        ("CapInh", "0000000000000000"),
        ("CapPrm", "0000000000000000"),
        ("CapEff", "0000000000000000"),
        ("CapBnd", "0000000000000000"),
        ("CapAmb", "0000000000000000"),
        ("NoNewPrivs", "1"),
        // 2: a seccomp filter (podman's default profile, as the Job's RuntimeDefault).
        ("Seccomp", "2"),
    ];
    for (k, want) in expected {
        ensure!(
            field(k) == want,
            "sbdiag in the image runs with {k}: {:?}, expected {want:?}",
            field(k)
        );
    }

    // runc lists the primary group as a supplementary one too (as the Job's fsGroup is): no
    // other group, root's least of all.
    ensure!(
        field("Groups")
            .split_whitespace()
            .all(|g| g == ID.to_string()),
        "sbdiag in the image is in the groups {:?}, expected {ID} only",
        field("Groups")
    );

    let mountinfo = read("mountinfo")?;
    let options = |at: &str| mount_options(&mountinfo, at);
    for (at, want) in [("/", "ro"), ("/bundles", "ro"), ("/out", "rw")] {
        let opts = options(at).with_context(|| format!("sbdiag in the image has no {at} mount"))?;
        ensure!(
            opts.split(',').any(|o| o == want),
            "sbdiag in the image has {at} mounted {opts}, expected {want}"
        );
    }
    ensure!(
        options("/tmp").is_none(),
        "sbdiag in the image has a /tmp mount: the root file system is not read-only as Kubernetes makes it"
    );
    eprintln!(
        "cargo xtask image-check: sbdiag serve in the image runs as {ID}:{ID}, no capabilities, no new privileges, seccomp, / and /bundles read-only"
    );
    Ok(())
}

/// A field of `/proc/PID/status` (`Uid`, `CapEff`, …), trimmed; empty when absent.
fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or_default()
}

/// The options of what is mounted at `at` per `/proc/PID/mountinfo` (`ID PARENT MAJ:MIN ROOT
/// MOUNT-POINT OPTIONS …`): of the last mount there, the one that is seen.
fn mount_options(mountinfo: &str, at: &str) -> Option<String> {
    mountinfo.lines().rev().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        (f.get(4) == Some(&at)).then(|| f.get(5).copied().unwrap_or_default().to_string())
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's documented mountinfo line, a mount stacked on another (the last is seen),
    /// and a mount point that is only a prefix of another.
    #[test]
    fn mount_options_are_those_of_the_last_mount_at_the_point() {
        let info = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    40 36 0:50 / /out rw,relatime - ext4 /dev/vda rw\n\
                    41 36 0:51 / /bundles ro,relatime - ext4 /dev/vda rw\n\
                    42 36 0:52 / /out ro,nosuid - tmpfs tmpfs rw\n";
        assert_eq!(mount_options(info, "/mnt2").as_deref(), Some("rw,noatime"));
        assert_eq!(mount_options(info, "/out").as_deref(), Some("ro,nosuid"));
        assert_eq!(
            mount_options(info, "/bundles").as_deref(),
            Some("ro,relatime")
        );
        assert_eq!(mount_options(info, "/bun"), None);
        assert_eq!(mount_options(info, "/"), None);
    }

    /// A status as the kernel writes it: `Uid` has four ids, `CapAmb` is not `CapAm`, an absent
    /// field is empty; and this process's own `Uid` line parses.
    #[test]
    fn status_fields_are_read_by_their_whole_name() {
        let status = "Name:\tsbdiag\nUid:\t65532\t65532\t65532\t65532\nGroups:\t\nCapAmb:\t0000000000000000\n";
        assert_eq!(status_field(status, "Uid"), "65532\t65532\t65532\t65532");
        assert_eq!(status_field(status, "Groups"), "");
        assert_eq!(status_field(status, "CapAmb"), "0000000000000000");
        assert_eq!(status_field(status, "CapAm"), "");
        assert_eq!(status_field(status, "Seccomp"), "");
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        assert_eq!(status_field(&own, "Uid").split_whitespace().count(), 4);
    }

    /// `--volume SRC:DST` cannot carry a source with a colon or a comma.
    #[test]
    fn volume_sources_with_separators_are_refused() {
        assert_eq!(volume_source(Path::new("/srv/out")).unwrap(), "/srv/out");
        assert!(volume_source(Path::new("/srv/a:b")).is_err());
        assert!(volume_source(Path::new("/srv/a,b")).is_err());
    }
}
