//! What a packaged sbdiag says about itself: `--version` (version, commit, Harvester knowledge)
//! and `completions SHELL`. The archives themselves are tested by `cargo xtask dist-check`.
mod common;

use common::*;

#[test]
fn version_states_commit_and_knowledge() {
    let v = ok(&["--version"]);
    let (a, b, c) = sbdiag::facts::harvester::newest_release();
    let table: sbdiag::facts::harvester::TableData =
        yaml_serde::from_str(sbdiag::facts::harvester::VERSION_TABLE).unwrap();
    let read = table.sources_read.expect("versions.yaml has sources_read");
    let knowledge = format!(
        "; Harvester knowledge up to v{a}.{b}.{c}, read from Harvester's sources of {read})\n"
    );
    let commit = v
        .strip_prefix(&format!("sbdiag {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(&knowledge))
        .unwrap_or_else(|| panic!("--version printed {v:?}"));
    // Test builds are debug builds: build.rs asks git only in release builds, but takes
    // SBDIAG_GIT_COMMIT or the COMMIT file of a vendored-source tarball.
    assert!(
        commit == "debug build, commit not recorded"
            || commit.strip_prefix("commit ").is_some_and(|c| c.len() >= 7),
        "{commit:?}"
    );
    assert_eq!(read.len(), 10, "sources_read is YYYY-MM-DD: {read}");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let subcommands: Vec<String> = sbdiag::cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    assert!(subcommands.contains(&"completions".to_string()));
    for (shell, marker) in [
        ("bash", "complete -F _sbdiag"),
        ("zsh", "#compdef sbdiag"),
        ("fish", "complete -c sbdiag"),
    ] {
        let script = ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        for s in &subcommands {
            assert!(script.contains(s.as_str()), "{shell}: no subcommand {s}");
        }
        // Options of subcommands too, and the values of value enums.
        assert!(
            script.contains("fail-on") && script.contains("warning"),
            "{shell}"
        );
    }
    let other = sbdiag(&["completions", "tcsh"]);
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("bash, zsh, fish"));
}
