//! The command line's definition: every subcommand, argument and help text of `sbdiag`, shared by
//! the binary (`main.rs`, which runs them) and `cargo xtask dist` (which writes the shell
//! completions and man pages from it). Parsing only: nothing here reads a bundle.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::archive::Limits;
use crate::query::get::Output;

/// What `sbdiag --version` prints after the name: the version, the git commit and the
/// Harvester knowledge carried (build.rs).
pub const VERSION: &str = env!("SBDIAG_VERSION_LINE");

/// The whole command line as clap sees it: the binary parses with it, `cargo xtask dist` writes
/// the man pages and shell completions from it.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Writes the completion script of `shell` for the command named `sbdiag`.
pub fn write_completions(shell: Shell, out: &mut dyn std::io::Write) {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut command(), "sbdiag", out);
}

/// The shells `sbdiag completions` writes scripts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// bash (`source <(sbdiag completions bash)`, or a file in
    /// /usr/share/bash-completion/completions/sbdiag).
    Bash,
    /// zsh (a file `_sbdiag` in a folder of `$fpath`).
    Zsh,
    /// fish (a file in ~/.config/fish/completions/sbdiag.fish).
    Fish,
}

impl Shell {
    /// Every shell, for `cargo xtask dist`.
    pub const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    /// The file name its completion folder expects.
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "sbdiag.bash",
            Shell::Zsh => "_sbdiag",
            Shell::Fish => "sbdiag.fish",
        }
    }
}

#[derive(Parser)]
#[command(
    name = "sbdiag",
    version = VERSION,
    about = "Diagnose a Harvester cluster from its support bundle, offline"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// A folder of extra or newer knowledge files: known issues (the embedded catalogue's
    /// schema), denial texts, and releases, check and gate versions (the embedded version
    /// table's schema); also from the SBDIAG_KNOWLEDGE environment variable.
    #[arg(long, global = true, value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
}

/// Safety limits for untrusted archives.
#[derive(Args, Clone)]
pub struct LimitArgs {
    /// Most entries an archive may list.
    #[arg(long, global = true, value_name = "N", default_value_t = Limits::default().max_entries)]
    pub max_entries: usize,
    /// Most bytes one entry may inflate to (suffixes K, M, G).
    #[arg(long, global = true, value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    pub max_entry_size: u64,
    /// Most bytes the whole archive may inflate to (suffixes K, M, G).
    #[arg(long, global = true, value_name = "SIZE", default_value = "64G", value_parser = parse_size)]
    pub max_total_size: u64,
    /// Highest compression ratio tolerated for entries above 16M.
    #[arg(long, global = true, value_name = "RATIO", default_value_t = Limits::default().max_ratio)]
    pub max_ratio: u64,
}

impl LimitArgs {
    /// The archive limits these arguments set.
    pub fn limits(&self) -> Limits {
        Limits {
            max_entries: self.max_entries,
            max_entry_bytes: self.max_entry_size,
            max_total_bytes: self.max_total_size,
            max_ratio: self.max_ratio,
            max_nested_bytes: self.max_entry_size.min(Limits::default().max_nested_bytes),
            ..Limits::default()
        }
    }
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let mut chars = s.chars();
    let last = chars.next_back().map(|c| c.to_ascii_uppercase());
    let (num, mult) = match last {
        Some('K') => (chars.as_str(), 1u64 << 10),
        Some('M') => (chars.as_str(), 1 << 20),
        Some('G') => (chars.as_str(), 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .map(|n| n.saturating_mul(mult))
        .map_err(|_| format!("{s:?} is not a size (e.g. 512M, 2G)"))
}

#[derive(Subcommand)]
pub enum Command {
    /// Diagnose a bundle: write reports and print a summary.
    Analyze {
        /// Bundle: .zip, .tar, .tar.gz/.tgz or unpacked folder.
        bundle: PathBuf,
        /// Output folder (default ./sbdiag-<bundle name>/).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Report formats to write, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "html,md,json")]
        format: Vec<Format>,
        /// Print the JSON report to stdout instead of the summary (writes no files, so it
        /// cannot be combined with -o or --format).
        #[arg(long, conflicts_with_all = ["output", "format"])]
        json: bool,
        /// Exit 1 when a finding at or above this severity exists.
        #[arg(long, value_enum)]
        fail_on: Option<FailOn>,
        /// Judge upgrades as Harvester VERSION would (default: the version detected in the
        /// bundle). The admission webhook that judges an upgrade is the running version's.
        #[arg(long, value_name = "VERSION", value_parser = version_arg)]
        from_version: Option<String>,
        /// Check an upgrade to VERSION (default: the newest Version object above the running
        /// version); adds the version-compatibility check.
        #[arg(long, value_name = "VERSION", value_parser = version_arg)]
        to_version: Option<String>,
        /// In the summary, list every finding each incident explains (by default only counted)
        /// and where each informational finding shows.
        #[arg(short, long)]
        verbose: bool,
        /// Pseudonymize the reports as `sbdiag redact` does the bundle: the analysis runs on a
        /// redacted copy held in memory, and the reports are leak-checked before any is written.
        #[arg(long)]
        redact: bool,
        /// With --redact: the mapping file to reuse and update (see `sbdiag redact --map`).
        #[arg(long, value_name = "FILE", requires = "redact")]
        map: Option<PathBuf>,
    },
    /// List objects, like kubectl get (ages relative to capture time).
    Get {
        /// Kind, plural, short name or resource.group (`ds`, `pods`, `bundles.fleet.cattle.io`),
        /// KIND/NAME (`ds/longhorn-manager`), or several comma-separated (`po,svc`);
        /// `api-resources` lists what the bundle holds. An empty list prints "No resources
        /// found" on stderr and exits 0.
        kind: String,
        /// Object names (one table of them all, as kubectl prints `get po A B`).
        names: Vec<String>,
        #[command(flatten)]
        common: QueryArgs,
        /// All namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Label selector (`app=x,tier!=y`).
        #[arg(short = 'l', long)]
        selector: Option<String>,
        /// Output format: table, wide, yaml, json, name, `jsonpath=TEMPLATE`
        /// (`jsonpath='{.items[*].metadata.name}'`, `{range .items[*]}{.x}{"\n"}{end}`) or
        /// `custom-columns=HEADER:PATH,…` (`NAME:.metadata.name,NODE:.spec.nodeName`).
        #[arg(short, long, value_name = "FORMAT", value_parser = output_arg, default_value = "table")]
        output: OutputArg,
        /// Keep metadata.managedFields in -o yaml/json.
        #[arg(long)]
        show_managed_fields: bool,
        /// Add a LABELS column.
        #[arg(long)]
        show_labels: bool,
        /// Sort by the value of a JSONPath in each object (`.metadata.creationTimestamp`).
        #[arg(long, value_name = "JSONPATH")]
        sort_by: Option<String>,
    },
    /// Serve the bundles to AI assistants as Model Context Protocol tools on stdio (incidents,
    /// findings, get, describe, events, logs, graph, coverage, diff); read-only, offline.
    Mcp {
        /// Bundles (.zip, .tar, .tar.gz/.tgz or unpacked folders), addressed in the tools by
        /// their file name without extension.
        #[arg(required = true, value_name = "BUNDLE")]
        bundles: Vec<PathBuf>,
    },
    /// Serve the bundle as a read-only Kubernetes API on loopback, for kubectl, k9s and
    /// client libraries; writes a kubeconfig and prints `export KUBECONFIG=…`.
    Serve {
        /// Bundle: .zip, .tar, .tar.gz/.tgz or unpacked folder.
        bundle: PathBuf,
        /// Address to listen on (port 0: any free port).
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Listen on an address beyond loopback (the API has no authentication).
        #[arg(long)]
        allow_remote: bool,
        /// Where to write the kubeconfig (default ./sbdiag-<bundle name>.kubeconfig).
        #[arg(long, value_name = "FILE")]
        kubeconfig: Option<PathBuf>,
        /// `now`: timestamps as captured, so kubectl's AGE is measured to now; `capture`:
        /// timestamps shifted so that AGE reads as at capture time.
        #[arg(long, value_enum, default_value = "now")]
        age_from: AgeFromArg,
    },
    /// Show objects: metadata, status, conditions, related events and the status graph. As
    /// kubectl: in the namespace `default` unless -n or -A; `KIND NAME` that names no object
    /// describes those whose names start with NAME; `KIND` alone describes every object.
    Describe {
        /// Kind (as for get), then the name or a name prefix; or KIND/NAME
        /// (`po/virt-handler-8wnxm`).
        kind: String,
        /// Object name, or the start of names (not needed with KIND/NAME).
        name: Option<String>,
        #[command(flatten)]
        common: QueryArgs,
        /// All namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
    },
    /// An object's neighbourhood in the status graph (tree or Graphviz DOT).
    Graph {
        /// KIND/NAME (`ds/harvester-whereabouts`, `managedchart/harvester`).
        target: String,
        #[command(flatten)]
        common: QueryArgs,
        /// How many edges away to go.
        #[arg(long, default_value_t = 3)]
        depth: usize,
        /// text (indented tree) or dot (Graphviz).
        #[arg(long, value_enum, default_value = "text")]
        format: GraphFormat,
    },
    /// Events of every API group, merged, de-duplicated, oldest first.
    Events {
        #[command(flatten)]
        common: QueryArgs,
        /// Only events of this type (Normal, Warning).
        #[arg(long = "type")]
        kind: Option<String>,
    },
    /// Pod container logs, or node logs from the node bundles.
    Logs {
        /// Pod name, or node name for node logs.
        pod: String,
        #[command(flatten)]
        common: QueryArgs,
        /// Container (for a node: the log, e.g. kernel, rke2-server, kubelet).
        #[arg(short, long)]
        container: Option<String>,
        /// The previous container instance (`.log.1`) or previous boot.
        #[arg(short, long)]
        previous: bool,
        /// Only lines matching this regex (printed with their line numbers).
        #[arg(long)]
        grep: Option<String>,
        /// Only the last N lines.
        #[arg(long)]
        tail: Option<usize>,
    },
    /// The rule catalog.
    Rules {
        /// Explain one rule: what it checks, its inputs and versions.
        #[arg(long, conflicts_with = "versions")]
        explain: Option<String>,
        /// Which upgrade checks and version-dependent behaviours exist in which Harvester
        /// release (`yes`, `-`, `.2+` from patch 2, `-.2` up to patch 2).
        #[arg(long)]
        versions: bool,
    },
    /// Scan many bundles in parallel: one line per bundle, per-bundle reports in DIR/<name>/,
    /// and a cross-bundle summary (scan.html, scan.csv, scan.jsonl).
    Scan {
        /// Bundles (.zip, .tar, .tar.gz/.tgz, unpacked folders) or folders searched
        /// recursively; with --merge, the shard output folders to combine.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Output folder (default ./sbdiag-scan/).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Bundles analysed at once (default: CPUs, at most 4); memory grows with it.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Only the stable share K of N (0 <= K < N) of the bundles, chosen by a hash of each
        /// bundle's path relative to its PATH argument (`$JOB_COMPLETION_INDEX/N`).
        #[arg(long, value_name = "K/N")]
        shard: Option<crate::scan::Shard>,
        /// Count only these rules in the summary: ids, families or prefixes, comma-separated
        /// (`fleet.`, `upgrade.admission,webhook`).
        #[arg(long, value_name = "RULES")]
        rules: Option<String>,
        /// Report formats written per bundle, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "html,md,json")]
        format: Vec<Format>,
        /// Combine the shard output folders given as PATHs (their scan.jsonl) into one summary
        /// in -o DIR, identical to an unsharded scan.
        #[arg(long, conflicts_with_all = ["shard", "rules", "jobs"])]
        merge: bool,
        /// Exit 1 when a bundle has a finding at or above this severity.
        #[arg(long, value_enum)]
        fail_on: Option<FailOn>,
    },
    /// What changed between two bundles of one cluster: objects, status, findings, Fleet and
    /// upgrade transitions (ordered by capture time).
    Diff {
        /// A bundle.
        old: PathBuf,
        /// Another bundle of the same cluster (the two are ordered by capture time).
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormat,
        /// Compare bundles of different clusters anyway.
        #[arg(long)]
        force: bool,
    },
    /// A pseudonymized copy of a bundle, for sharing: names, addresses, domains and e-mails
    /// replaced by consistent pseudonyms, secrets by REDACTED; kept only when the leak check
    /// finds nothing left. Exit 1 when it does (the output is removed).
    #[command(group(clap::ArgGroup::new("what").required(true).args(["bundle", "check"])))]
    Redact {
        /// The bundle to redact: .zip, .tar, .tar.gz/.tgz or unpacked folder.
        bundle: Option<PathBuf>,
        /// Where to write the redacted bundle (same format as the input; must not exist).
        #[arg(short, long, value_name = "OUT", required_unless_present = "check")]
        output: Option<PathBuf>,
        /// Mapping file: reused when it exists (same pseudonyms across bundles of one
        /// cluster), written (created or updated) after a successful run. It holds the
        /// originals: keep it private. Without it, a per-run secret is used and nothing kept.
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// Only check an already redacted bundle: secret-shaped strings, and the originals of
        /// --map when given.
        #[arg(long, value_name = "OUT", conflicts_with_all = ["bundle", "output"])]
        check: Option<PathBuf>,
    },
    /// Print a shell completion script (bash, zsh, fish) on stdout.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    Text,
    Md,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgeFromArg {
    Now,
    Capture,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
}

#[derive(Args)]
pub struct QueryArgs {
    /// Bundle: .zip, .tar, .tar.gz/.tgz or unpacked folder.
    #[arg(short, long, env = "SBDIAG_BUNDLE")]
    pub bundle: PathBuf,
    /// Namespace.
    #[arg(short, long)]
    pub namespace: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Html,
    Md,
    Json,
    Sarif,
    Junit,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
}

/// A Harvester version argument (`v1.4.1`, `1.4.1`, `v1.5.0-rc2`): refused with the reason
/// instead of silently judging nothing.
pub fn version_arg(s: &str) -> Result<String, String> {
    if crate::facts::version::Version::parse(s).num.is_some() {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a Harvester version like v1.4.1"))
    }
}

/// `get -o`: a built-in format, or kubectl's `jsonpath=`/`custom-columns=` printers.
#[derive(Debug, Clone)]
pub struct OutputArg {
    pub format: Output,
    pub printer: Option<crate::query::template::Printer>,
}

pub fn output_arg(s: &str) -> Result<OutputArg, String> {
    if let Some(p) = crate::query::template::Printer::parse(s) {
        return Ok(OutputArg {
            format: Output::Json,
            printer: Some(p?),
        });
    }
    match <Output as clap::ValueEnum>::from_str(s, false) {
        Ok(format) => Ok(OutputArg {
            format,
            printer: None,
        }),
        Err(_) => Err(format!(
            "{s:?}: expected table, wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=HEADER:PATH,…"
        )),
    }
}
