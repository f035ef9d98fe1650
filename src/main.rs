//! The `sbdiag` command line: argument parsing, progress and exit codes over the library.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser as _;

use sbdiag::analyze::Analysis;
use sbdiag::archive::Limits;
use sbdiag::cli::{AgeFromArg, Cli, Command, DiffFormat, FailOn, Format, GraphFormat, LimitArgs};
use sbdiag::query::get::{self, Scope};
use sbdiag::query::logs::{self, LogRequest};
use sbdiag::report;
use sbdiag::report::Severity;
use sbdiag::rules;

/// A user-facing failure: exit 2 with one line.
struct Fatal(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.into())
    }
}

/// mimalloc: fewer cycles in malloc/free than glibc's allocator on the many small
/// allocations of YAML decoding, and less fragmentation across the parallel decoders
/// (measured with bench/run.py, see BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's option `purge_delay` (its `mi_option_t` index in the bundled mimalloc v3; the
/// test `purge_delay_option_is_the_one_we_think` checks it by its default of 1000 ms).
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// How long, in milliseconds, redaction lets mimalloc keep freed memory before giving it back.
/// Measured on the real bundle against 0, 100 and 1000 (BENCHMARKS.md): 250 has most of the
/// time 1000 saves, for less memory.
#[cfg(feature = "mimalloc")]
const REDACT_PURGE_DELAY_MS: std::ffi::c_long = 250;

#[cfg(feature = "mimalloc")]
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

/// Gives freed memory back to the system at once instead of after mimalloc's default second:
/// indexing frees as much as it keeps (item copies, parse trees), and held for a second that
/// garbage was a fifth of the peak memory on the bench bundle (BENCHMARKS.md), for no
/// measurable speed. Redaction (`redact`, `analyze --redact`; `churn`) keeps it a quarter of a
/// second ([`REDACT_PURGE_DELAY_MS`]): it frees and allocates again a file's worth of text for
/// every file it rewrites and reads back, and memory given back at once was zeroed by the
/// kernel again on its next use (BENCHMARKS.md). `MIMALLOC_PURGE_DELAY` in the environment
/// still wins.
///
/// Also turns transparent huge pages off for the process, as `MIMALLOC_ALLOW_THP=0` would (it
/// is read before `main`, too early to set here): mimalloc's large regions were backed by 2 MiB
/// pages the kernel zeroes whole, so a few KiB touched cost 2 MiB cleared. Measured
/// (BENCHMARKS.md): the kernel's page clearing was a fifth of `redact`'s CPU time; without
/// huge pages, on the real bundle, `analyze` takes 22 % less time and 40 % less memory and
/// `redact` 25 % and 20 % less; the bench bundle's `analyze` keeps its best time with 6 % less
/// memory and less spread. `MIMALLOC_ALLOW_THP` in the environment still wins.
#[cfg_attr(not(feature = "mimalloc"), allow(unused_variables))]
fn tune_allocator(churn: bool) {
    #[cfg(all(feature = "mimalloc", target_os = "linux"))]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        disable_huge_pages();
    }
    #[cfg(feature = "mimalloc")]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        let ms = if churn { REDACT_PURGE_DELAY_MS } else { 0 };
        // SAFETY: called in `main` before any other thread exists (mimalloc's option setters
        // are not thread-safe); the function takes plain integers.
        #[allow(unsafe_code)]
        unsafe {
            mi_option_set(MI_OPTION_PURGE_DELAY, ms);
        }
    }
}

/// Whether `command` redacts a bundle (the allocator keeps freed memory a while, see
/// [`tune_allocator`]).
fn redacts(command: &Command) -> bool {
    matches!(
        command,
        Command::Redact { .. } | Command::Analyze { redact: true, .. }
    )
}

/// `prctl(PR_SET_THP_DISABLE, 1)`: no transparent huge pages for this process's memory
/// (Linux ≥ 3.15; on an older kernel the call fails and nothing changes). `true` when set.
#[cfg(all(feature = "mimalloc", target_os = "linux"))]
fn disable_huge_pages() -> bool {
    const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
    unsafe extern "C" {
        fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
    }
    // SAFETY: prctl with this option takes four unsigned longs and touches no memory of ours.
    #[allow(unsafe_code)]
    let r = unsafe {
        prctl(
            PR_SET_THP_DISABLE,
            1 as std::ffi::c_ulong,
            0 as std::ffi::c_ulong,
            0 as std::ffi::c_ulong,
            0 as std::ffi::c_ulong,
        )
    };
    r == 0
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tune_allocator(redacts(&cli.command));
    match run(cli) {
        Ok(code) => code,
        Err(Fatal(e)) => {
            let _ = writeln!(std::io::stderr(), "sbdiag: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load(bundle: &Path, limits: &LimitArgs) -> Result<Analysis, Fatal> {
    load_with(bundle, limits, Analysis::load)
}

/// Loads `bundle` with `how` (the whole analysis, or only the capture), showing the
/// indexing progress on a terminal.
fn load_with<T>(
    bundle: &Path,
    limits: &LimitArgs,
    how: impl FnOnce(
        &Path,
        &sbdiag::archive::Limits,
        &(dyn Fn(usize, usize) + Sync),
    ) -> sbdiag::error::Result<T>,
) -> Result<T, Fatal> {
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} indexing {pos}/{len} files {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let progress = |done: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    };
    let a = how(bundle, &limits.limits(), &progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(a?)
}

fn print(s: &str) -> Result<(), Fatal> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn default_output_dir(bundle: &Path) -> PathBuf {
    let name = bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let stem = [".tar.gz", ".tgz", ".tar", ".zip"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name)
        .to_string();
    PathBuf::from(format!("sbdiag-{stem}"))
}

fn run(cli: Cli) -> Result<ExitCode, Fatal> {
    let knowledge = cli
        .knowledge
        .clone()
        .or_else(|| std::env::var_os("SBDIAG_KNOWLEDGE").map(PathBuf::from));
    if let Some(dir) = knowledge {
        sbdiag::upgrade::known::load_dir(&dir)
            .context("the knowledge files cannot be used; fix them or leave out --knowledge")?
            .install();
    }
    match cli.command {
        Command::Analyze {
            bundle,
            output,
            format,
            json,
            fail_on,
            from_version,
            to_version,
            verbose,
            redact,
            map,
        } => {
            let mut check = None;
            let mut a = if redact {
                let red = sbdiag::redact::in_memory(&bundle, &cli.limits.limits(), map.as_deref())?;
                match red.bundle {
                    Some(b) => {
                        check = Some(red.check);
                        Analysis::of(b, &|_, _| {})
                    }
                    None => {
                        let mut err = std::io::stderr().lock();
                        let _ = writeln!(
                            err,
                            "leak check FAILED: the redacted copy still holds originals or secrets; no report was written:"
                        );
                        for l in red.leaks.iter().take(sbdiag::redact::LEAKS_SHOWN) {
                            let _ = writeln!(err, "  {}:{}: {}", l.file, l.line, l.what);
                        }
                        return Ok(ExitCode::from(1));
                    }
                }
            } else {
                load(&bundle, &cli.limits)?
            };
            a.options.from_version = from_version;
            a.options.to_version = to_version;
            let r = a.report();
            // Every report of a redacted analysis is leak-checked before anything is written.
            let checked = |name: &str, body: String| -> Result<String, Fatal> {
                let Some(c) = &check else { return Ok(body) };
                let leaks = sbdiag::redact::check_text(c, name, &body);
                if leaks.is_empty() {
                    return Ok(body);
                }
                let shown: Vec<String> = leaks
                    .iter()
                    .take(sbdiag::redact::LEAKS_SHOWN)
                    .map(|l| format!("  {}:{}: {}", l.file, l.line, l.what))
                    .collect();
                Err(Fatal(anyhow::anyhow!(
                    "leak check FAILED on the redacted {name}; no report was written:\n{}",
                    shown.join("\n")
                )))
            };
            if json {
                print(&checked("report.json", report::json::render(&r))?)?;
            } else {
                // A redacted analysis is named by the redacted copy (the bundle's file name
                // holds the cluster id).
                let named = if redact {
                    PathBuf::from(&a.bundle.source)
                } else {
                    bundle.clone()
                };
                let dir = output.unwrap_or_else(|| default_output_dir(&named));
                let mut bodies = Vec::new();
                for f in &format {
                    let (name, body) = match f {
                        Format::Json => ("report.json", report::json::render(&r)),
                        Format::Html => ("report.html", report::html::render(&r)),
                        Format::Md => ("report.md", report::markdown::render(&r)),
                        Format::Sarif => ("report.sarif", report::sarif::render(&r)),
                        Format::Junit => ("report.junit.xml", report::junit::render(&r)),
                    };
                    bodies.push((name, checked(name, body)?));
                }
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create output folder {}", dir.display()))?;
                for (name, body) in bodies {
                    let path = dir.join(name);
                    std::fs::write(&path, body)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                print(&checked(
                    "summary",
                    report::terminal::render(&r, report::terminal::use_color(), verbose),
                )?)?;
                let _ = writeln!(std::io::stderr(), "reports written to {}", dir.display());
            }
            let threshold = fail_on.map(|f| match f {
                FailOn::Error => Severity::Error,
                FailOn::Warning => Severity::Warning,
            });
            Ok(match (threshold, r.worst()) {
                (Some(t), Some(w)) if w >= t => ExitCode::from(1),
                _ => ExitCode::SUCCESS,
            })
        }
        Command::Get {
            kind,
            names,
            common,
            all_namespaces,
            selector,
            output,
            show_managed_fields,
            show_labels,
            sort_by,
        } => {
            let a = load(&common.bundle, &cli.limits)?;
            let scope = Scope {
                namespace: common.namespace,
                all: all_namespaces,
                selector,
                with_aliases: false,
            };
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let l = get::get_names(
                &a,
                &kind,
                &names,
                &scope,
                output.format,
                show_managed_fields,
                &get::Print {
                    show_labels,
                    sort_by,
                    printer: output.printer,
                },
            )?;
            print(&l.text)?;
            if let Some(n) = l.note {
                let _ = writeln!(std::io::stderr(), "{n}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            bundle,
            listen,
            allow_remote,
            kubeconfig,
            age_from,
        } => {
            if !listen.ip().is_loopback() && allow_remote {
                let _ = writeln!(
                    std::io::stderr(),
                    "WARNING: serving on {listen}, beyond loopback, without authentication: anyone who can reach it reads the whole bundle"
                );
            }
            let started = std::time::Instant::now();
            // Only the bundle and its index: serve answers from the captured objects and
            // logs, never from the analysis (facts, log scans, Fleet).
            let a = load_with(&bundle, &cli.limits, sbdiag::analyze::Capture::load)?;
            let capture = a.bundle.created_at;
            let opts = sbdiag::serve::Options {
                listen,
                allow_remote,
                kubeconfig: kubeconfig
                    .unwrap_or_else(|| sbdiag::serve::default_kubeconfig(&bundle)),
                age_from: match age_from {
                    AgeFromArg::Now => sbdiag::serve::AgeFrom::Now,
                    AgeFromArg::Capture => sbdiag::serve::AgeFrom::Capture,
                },
                context: format!("sbdiag-{}", sbdiag::serve::context_name(&bundle)),
            };
            sbdiag::serve::serve(a, &opts, |r| {
                let ages = match (age_from, capture) {
                    (AgeFromArg::Capture, Some(c)) => format!(
                        "ages read as at capture time ({}): timestamps are shifted by the time since",
                        c.to_rfc3339()
                    ),
                    (AgeFromArg::Capture, None) => {
                        "the bundle records no capture time: timestamps are as captured and ages are measured to now".into()
                    }
                    (AgeFromArg::Now, _) => format!(
                        "timestamps as captured: ages are measured to now, not to the capture ({}); --age-from capture shows them as at capture",
                        capture.map(|c| c.to_rfc3339()).unwrap_or_else(|| "time unknown".into())
                    ),
                };
                let _ = writeln!(
                    std::io::stderr(),
                    "sbdiag serve: {} resource types of {} on http://{} (read-only), ready in {} ms\n{ages}\nkubeconfig written to {}; stop with Ctrl-C",
                    r.resources,
                    bundle.display(),
                    r.addr,
                    started.elapsed().as_millis(),
                    r.kubeconfig.display()
                );
                let path =
                    std::path::absolute(&r.kubeconfig).unwrap_or_else(|_| r.kubeconfig.clone());
                let _ = print(&format!("export KUBECONFIG={}\n", path.display()));
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Mcp { bundles } => {
            sbdiag::mcp::run(bundles, cli.limits.limits())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph {
            target,
            common,
            depth,
            format,
        } => {
            let Some((kind, name)) = target.split_once('/') else {
                return Err(Fatal(anyhow::anyhow!(
                    "expected KIND/NAME (e.g. ds/harvester-whereabouts), got {target:?}"
                )));
            };
            let a = load(&common.bundle, &cli.limits)?;
            print(&sbdiag::query::graph::render(
                &a,
                kind,
                name,
                common.namespace.as_deref(),
                depth,
                match format {
                    GraphFormat::Text => sbdiag::query::graph::Format::Text,
                    GraphFormat::Dot => sbdiag::query::graph::Format::Dot,
                },
            )?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Describe {
            kind,
            name,
            common,
            all_namespaces,
        } => {
            let what = get::describe_args(&kind, name.as_deref())?;
            let a = load(&common.bundle, &cli.limits)?;
            let scope = Scope {
                namespace: common.namespace,
                all: all_namespaces,
                selector: None,
                with_aliases: false,
            };
            let l = get::describe_all(&a, what, &scope)?;
            print(&l.text)?;
            if let Some(n) = l.note {
                let _ = writeln!(std::io::stderr(), "{n}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Events { common, kind } => {
            let a = load(&common.bundle, &cli.limits)?;
            print(&get::events_table(
                &a,
                common.namespace.as_deref(),
                kind.as_deref(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Logs {
            pod,
            common,
            container,
            previous,
            grep,
            tail,
        } => {
            let a = load(&common.bundle, &cli.limits)?;
            let req = LogRequest {
                target: pod,
                namespace: common.namespace,
                container,
                previous,
                grep,
                tail,
            };
            let l = logs::logs(&a, &req)?;
            for n in &l.notes {
                let _ = writeln!(std::io::stderr(), "{n}");
            }
            let _ = writeln!(std::io::stderr(), "# {}", l.source);
            print(&l.text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { explain, versions } => {
            let catalog = rules::catalog();
            if versions {
                let (header, rows) = sbdiag::facts::harvester::version_matrix();
                let header: Vec<&str> = header.iter().map(String::as_str).collect();
                let (a, b, c) = sbdiag::facts::harvester::newest_release();
                print(&format!(
                    "{}\nKnowledge checked against Harvester releases up to v{a}.{b}.{c}; a newer \
                     running version is judged with the newest rules.\n",
                    sbdiag::query::table::render(&header, &rows).trim_end()
                ))?;
                return Ok(ExitCode::SUCCESS);
            }
            match explain {
                None => {
                    let rows: Vec<Vec<String>> = catalog
                        .iter()
                        .map(|r| vec![r.info().id.to_string(), r.info().title.to_string()])
                        .collect();
                    print(&sbdiag::query::table::render(&["RULE", "CHECKS"], &rows))?;
                }
                Some(id) => {
                    let r = catalog.iter().find(|r| r.info().id == id).ok_or_else(|| {
                        anyhow::anyhow!("no rule {id:?}; `sbdiag rules` lists them")
                    })?;
                    let i = r.info();
                    let inputs: Vec<String> = i.inputs.iter().map(|x| x.describe()).collect();
                    print(&format!(
                        "{}\n  {}\n\n{}\n\ninputs:   {}\nversions: {}\n{}",
                        i.id,
                        i.title,
                        i.description,
                        inputs.join(", "),
                        i.versions,
                        r.explain().map(|e| format!("\n{e}")).unwrap_or_default()
                    ))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan {
            paths,
            output,
            jobs,
            shard,
            rules,
            format,
            merge,
            fail_on,
        } => {
            let output = output.unwrap_or_else(|| PathBuf::from("sbdiag-scan"));
            let outcome = if merge {
                sbdiag::scan::merge(&paths, &output)?
            } else {
                scan(&paths, &output, jobs, shard, rules, &format, &cli.limits)?
            };
            let _ = writeln!(
                std::io::stderr(),
                "{} bundle{}: {} analysed, {} could not be analysed, {} duplicate{} skipped; \
                 summary in {}",
                outcome.rows.len(),
                if outcome.rows.len() == 1 { "" } else { "s" },
                outcome.count(sbdiag::scan::Status::Ok),
                outcome.count(sbdiag::scan::Status::Error),
                outcome.count(sbdiag::scan::Status::Duplicate),
                if outcome.count(sbdiag::scan::Status::Duplicate) == 1 {
                    ""
                } else {
                    "s"
                },
                output.join(sbdiag::scan::summary::HTML).display()
            );
            if merge {
                print(
                    &outcome
                        .rows
                        .iter()
                        .map(|r| format!("{}\n", r.line()))
                        .collect::<String>(),
                )?;
            }
            let threshold = fail_on.map(|f| match f {
                FailOn::Error => 2,
                FailOn::Warning => 1,
            });
            Ok(match (threshold, outcome.worst()) {
                (Some(t), Some(w)) if w >= t => ExitCode::from(1),
                _ => ExitCode::SUCCESS,
            })
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            sbdiag::cli::write_completions(shell, &mut out);
            print(&String::from_utf8_lossy(&out))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            old,
            new,
            format,
            force,
        } => {
            let snapshot = |path: &Path| -> Result<sbdiag::diff::Snapshot, Fatal> {
                let a = load(path, &cli.limits)?;
                let r = a.report();
                Ok(sbdiag::diff::Snapshot::take(&a, &r))
            };
            let first = snapshot(&old)?;
            let second = snapshot(&new)?;
            let d = sbdiag::diff::compare(first, second, force)?;
            print(&match format {
                DiffFormat::Text => sbdiag::diff::render::text(&d),
                DiffFormat::Md => sbdiag::diff::render::markdown(&d),
                DiffFormat::Json => sbdiag::diff::render::json(&d),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Redact {
            bundle,
            output,
            map,
            check,
        } => redact(
            bundle.as_deref(),
            output.as_deref(),
            map.as_deref(),
            check.as_deref(),
            &cli.limits.limits(),
        ),
    }
}

/// `redact`: the redacted copy and its leak check, or the check alone.
fn redact(
    bundle: Option<&Path>,
    output: Option<&Path>,
    map: Option<&Path>,
    check: Option<&Path>,
    limits: &Limits,
) -> Result<ExitCode, Fatal> {
    let mut err = std::io::stderr().lock();
    let report_leaks = |err: &mut dyn Write, leaks: &[sbdiag::redact::Leak]| {
        for l in leaks.iter().take(sbdiag::redact::LEAKS_SHOWN) {
            let _ = writeln!(err, "  {}:{}: {}", l.file, l.line, l.what);
        }
        if leaks.len() > sbdiag::redact::LEAKS_SHOWN {
            let _ = writeln!(
                err,
                "  … and {} more",
                leaks.len() - sbdiag::redact::LEAKS_SHOWN
            );
        }
    };
    if let Some(out) = check {
        let leaks = sbdiag::redact::check(out, limits, map)?;
        if leaks.is_empty() {
            let what = if map.is_some() {
                "no original of the mapping and no secret-shaped string"
            } else {
                "no secret-shaped string (give --map to look for the originals too)"
            };
            let _ = writeln!(err, "leak check passed: {} holds {what}", out.display());
            return Ok(ExitCode::SUCCESS);
        }
        let _ = writeln!(
            err,
            "leak check FAILED: {} lines of {} still hold originals or secrets:",
            leaks.len(),
            out.display()
        );
        report_leaks(&mut err, &leaks);
        return Ok(ExitCode::from(1));
    }
    let (Some(bundle), Some(out)) = (bundle, output) else {
        return Err(Fatal(anyhow::anyhow!(
            "redact needs BUNDLE and -o OUT (or --check OUT)"
        )));
    };
    let (s, leaks) = sbdiag::redact::redact(bundle, out, limits, map)?;
    if !leaks.is_empty() {
        let _ = writeln!(
            err,
            "leak check FAILED: {} lines of the redacted copy still hold originals or secrets; nothing was kept:",
            leaks.len()
        );
        report_leaks(&mut err, &leaks);
        return Ok(ExitCode::from(1));
    }
    let _ = writeln!(
        err,
        "redacted {} into {}: {} files, {} identifiers found in the bundle ({} replaced only as whole values, being words the diagnosis reads), {} pseudonyms in all; leak check passed",
        bundle.display(),
        out.display(),
        s.files,
        s.identifiers,
        s.whole_values_only,
        s.pseudonyms
    );
    for (f, why) in &s.dropped {
        let _ = writeln!(err, "  left out {f}: {why}");
    }
    match map {
        Some(m) => {
            let _ = writeln!(
                err,
                "mapping written to {} (it holds the originals: keep it private)",
                m.display()
            );
        }
        None => {
            let _ = writeln!(
                err,
                "no mapping kept (a per-run secret); --map FILE keeps one to reuse"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `scan PATH...`: discovery, then the scan with a progress bar on a terminal; one line per
/// bundle on stdout as bundles finish (in name order).
fn scan(
    paths: &[PathBuf],
    output: &Path,
    jobs: Option<u16>,
    shard: Option<sbdiag::scan::Shard>,
    rules: Option<String>,
    format: &[Format],
    limits: &LimitArgs,
) -> Result<sbdiag::scan::Outcome, Fatal> {
    use sbdiag::scan::{self, Event, ReportFormat, RuleFilter};
    let rules = match rules {
        Some(list) => {
            let catalog = rules::catalog();
            let known: Vec<&str> = catalog.iter().map(|r| r.info().id).collect();
            RuleFilter::parse(&list, &known)?
        }
        None => RuleFilter::default(),
    };
    let found = scan::discover(paths, Some(output))?;
    for n in &found.notes {
        let _ = writeln!(std::io::stderr(), "sbdiag: {n}");
    }
    if found.candidates.is_empty() {
        return Err(Fatal(anyhow::anyhow!(
            "no bundle found under {} (looked for .zip, .tar, .tar.gz/.tgz files and folders \
             holding metadata.yaml)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let opts = scan::Options {
        output: output.to_path_buf(),
        jobs: jobs.map(usize::from).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(4)
        }),
        shard,
        rules,
        formats: format
            .iter()
            .map(|f| match f {
                Format::Html => ReportFormat::Html,
                Format::Md => ReportFormat::Md,
                Format::Json => ReportFormat::Json,
                Format::Sarif => ReportFormat::Sarif,
                Format::Junit => ReportFormat::Junit,
            })
            .collect(),
        limits: limits.limits(),
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} {pos}/{len} {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut failed_print: Option<std::io::Error> = None;
    let outcome = scan::run(&found.candidates, &opts, &mut |ev| match ev {
        Event::Hashing { done, total } => {
            if let Some(b) = &bar {
                b.set_message("hashing");
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        }
        Event::Row { row, done, total } => {
            let text = format!("{}\n", row.line());
            let mut write = || {
                let mut out = std::io::stdout().lock();
                match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                        failed_print.get_or_insert(e);
                    }
                    _ => {}
                }
            };
            match &bar {
                Some(b) => {
                    b.suspend(write);
                    b.set_message("analysing");
                    b.set_length(total as u64);
                    b.set_position(done as u64);
                }
                None => write(),
            }
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(e) = failed_print {
        return Err(Fatal(e.into()));
    }
    Ok(outcome?)
}

#[cfg(test)]
mod tests {
    /// The index of `purge_delay` is mimalloc's enum order: a mimalloc update that moved it
    /// would make `tune_allocator` set another option. Identified by its default (1000 ms).
    #[cfg(feature = "mimalloc")]
    #[test]
    fn purge_delay_option_is_the_one_we_think() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        #[allow(unsafe_code)]
        // SAFETY: reads an integer option; the test does not set any.
        let v = unsafe { super::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(v, 1000);
    }

    /// Only the commands that redact keep freed memory for mimalloc's default delay.
    #[test]
    fn only_redaction_keeps_freed_memory() {
        use clap::Parser as _;
        let redacts = |args: &[&str]| {
            super::Cli::try_parse_from(args).is_ok_and(|cli| super::redacts(&cli.command))
        };
        assert!(redacts(&["sbdiag", "redact", "b.zip", "-o", "out.zip"]));
        assert!(redacts(&["sbdiag", "redact", "--check", "out.zip"]));
        assert!(redacts(&["sbdiag", "analyze", "b.zip", "--redact"]));
        let plain = |args: &[&str]| {
            super::Cli::try_parse_from(args).is_ok_and(|cli| !super::redacts(&cli.command))
        };
        assert!(plain(&["sbdiag", "analyze", "b.zip"]));
        assert!(plain(&["sbdiag", "scan", "dir"]));
    }

    /// The call that turns transparent huge pages off succeeds, and the kernel then reports
    /// them off for the process (`THP_enabled: 0` in `/proc/self/status`, on kernels that
    /// show that line).
    #[cfg(all(feature = "mimalloc", target_os = "linux"))]
    #[test]
    fn huge_pages_are_turned_off() {
        assert!(super::disable_huge_pages());
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
            assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
        }
    }
}
