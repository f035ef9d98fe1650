//! `cargo xtask`: release tasks of sbdiag that are Rust, not shell (the cargo-xtask convention).
//!
//! - `cargo xtask dist` writes `dist/`: the static musl tarball (binary, shell completions, man
//!   pages, README, license), the vendored-source tarball, a CycloneDX bill of materials of the
//!   binary's crates and `SHA256SUMS`.
//! - `cargo xtask dist-check` tests what `dist` wrote: checksums, a statically linked binary that
//!   analyses the real bundle with an empty environment, completions and man pages, and an
//!   offline build of the vendored source with an empty `CARGO_HOME`.
//! - `cargo xtask image-check` builds the `Containerfile`'s image from `dist/` with podman and
//!   runs it on the real bundles as the README's hardened Job does.

mod archive;
mod check;
mod dist;
mod image;
mod sbom;
mod util;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "sbdiag's release tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Write dist/: the static musl tarball, the vendored-source tarball, the bill of
    /// materials and SHA256SUMS.
    Dist,
    /// Test what `dist` wrote. Skips with a note when dist/ is absent, unless CI is set (then it
    /// fails, as it does when a check cannot run).
    DistCheck,
    /// Build the Containerfile's image from dist/ with podman and run it on the real bundles
    /// with a read-only root file system, non-root, no capabilities. Skips with a note when
    /// podman, runc, dist/ or SBDIAG_REAL_BUNDLES is missing, unless CI is set (then it fails).
    ImageCheck,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Dist => dist::run(),
        Task::DistCheck => check::run(),
        Task::ImageCheck => image::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cargo xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
