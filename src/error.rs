//! Library error type: every error names the file it concerns and what the user can do.
use std::path::PathBuf;

/// Errors that make a bundle (or one of its parts) unusable.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input path cannot be read at all (the OS's reason is the source, so that a chain
    /// printer such as anyhow's `{:#}` says it once).
    #[error("{path}: cannot be read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input is not an archive we can read (corrupt, truncated, unknown format).
    #[error("{path}: not a readable archive: {reason}")]
    BadArchive { path: PathBuf, reason: String },
    /// The input is readable but is not a Harvester support bundle.
    #[error("{path}: not a support bundle: {reason}")]
    NotABundle { path: PathBuf, reason: String },
    /// A safety limit was hit (zip bomb, too many entries, ...).
    #[error("{path}: {what} (limit {limit}); raise it with {flag} if the bundle is trusted")]
    Limit {
        path: PathBuf,
        what: String,
        limit: u64,
        flag: &'static str,
    },
    /// One entry inside the archive could not be read.
    #[error("{entry}: {reason}")]
    Entry { entry: String, reason: String },
    /// A user argument cannot be used.
    #[error("{0}")]
    Usage(String),
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
