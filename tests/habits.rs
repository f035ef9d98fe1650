//! kubectl habits in `sbdiag get`: KIND/NAME, comma-separated kinds, "No resources found" and
//! exit 0 for an empty list (also a list collected with `items: []`), did-you-mean for a typo,
//! SBDIAG_BUNDLE in place of `-b`, `-o jsonpath=` / `-o custom-columns=`, `describe KIND/NAME`
//! and the short names the API defines.
mod common;

use std::process::Command;

use common::*;

#[test]
fn kind_slash_name_and_comma_lists() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let one = ok(&[
        "get",
        "ds/harvester-whereabouts",
        "-n",
        "kube-system",
        "-b",
        b,
    ]);
    assert_eq!(
        one,
        ok(&[
            "get",
            "ds",
            "harvester-whereabouts",
            "-n",
            "kube-system",
            "-b",
            b
        ])
    );
    let two = ok(&["get", "po,svc", "-n", "harvester-system", "-b", b]);
    let tables: Vec<&str> = two.split("\n\n").collect();
    assert_eq!(tables.len(), 2, "{two}");
    assert!(tables[0].starts_with("NAME") && tables[0].contains("RESTARTS"));
    assert!(tables[1].starts_with("NAME") && tables[1].contains("CLUSTER-IP"));
    let both = sbdiag(&["get", "ds/x", "y", "-b", b]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn empty_lists_are_no_error_and_typos_get_a_suggestion() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let none = sbdiag(&["get", "po", "-l", "app=nonexistent", "-A", "-b", b]);
    assert_eq!(none.status.code(), Some(0));
    assert!(none.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        "No resources found\n"
    );
    let typo = sbdiag(&["get", "podz", "-b", b]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("did you mean pods?"),
        "{}",
        String::from_utf8_lossy(&typo.stderr)
    );
    for b in real_bundles() {
        // virtualmachines.yaml was collected with `items: []`.
        let vm = sbdiag(&["get", "vm", "-A", "-b", b.to_str().unwrap()]);
        assert_eq!(vm.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&vm.stderr), "No resources found\n");
    }
}

#[test]
fn sbdiag_bundle_stands_for_dash_b() {
    let s = sample("healthy-v1.4.0");
    let out = Command::new(env!("CARGO_BIN_EXE_sbdiag"))
        .args(["get", "nodes"])
        .env("SBDIAG_BUNDLE", &s)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        ok(&["get", "nodes", "-b", s.to_str().unwrap()])
    );
}

#[test]
fn show_labels_and_sort_by() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let out = ok(&["get", "nodes", "--show-labels", "-b", b]);
    let head = out.lines().next().unwrap();
    assert!(head.ends_with("LABELS"), "{out}");
    assert!(
        out.contains("kubernetes.io/hostname=harvester-node-0"),
        "{out}"
    );
    // Sorted by creation time: the same pods, in another order than by name.
    let by_age = ok(&[
        "get",
        "pods",
        "-A",
        "--sort-by",
        ".metadata.creationTimestamp",
        "-o",
        "name",
        "-b",
        b,
    ]);
    let by_name = ok(&["get", "pods", "-A", "-o", "name", "-b", b]);
    let mut a: Vec<&str> = by_age.lines().collect();
    let mut n: Vec<&str> = by_name.lines().collect();
    assert_eq!(a.len(), n.len());
    assert_ne!(a, n, "sorting by creation time changes the order");
    a.sort();
    n.sort();
    assert_eq!(a, n);
    let bad = sbdiag(&["get", "pods", "--sort-by", ".a[", "-b", b]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn arguments_are_checked_and_errors_said_once() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    // A version that is not one is refused, not silently ignored.
    let out = sbdiag(&["analyze", b, "--json", "--from-version", "banana"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"banana\" is not a Harvester version like v1.4.1"),
        "{err}"
    );
    let out = sbdiag(&["analyze", b, "--json", "--to-version", "1.x"]);
    assert_eq!(out.status.code(), Some(2));
    // --json writes no files, so -o with it is an error rather than ignored.
    let dir = tempfile::tempdir().unwrap();
    let out = sbdiag(&["analyze", b, "--json", "-o", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    // A missing bundle: its path and the OS's reason, once.
    let out = sbdiag(&["analyze", "/nope/bundle.zip"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nope/bundle.zip: cannot be read: "), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

#[test]
fn jsonpath_and_custom_columns_outputs() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    assert_eq!(
        ok(&[
            "get",
            "vm",
            "-A",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name}={.status.printableStatus}{"\n"}{end}"#,
            "-b",
            b
        ]),
        "vm-test-01=Stopped\nvm-web-01=Running\n"
    );
    assert_eq!(
        ok(&[
            "get",
            "no",
            "-o",
            r"custom-columns=NAME:.metadata.name,CPU:.status.capacity.cpu,ROLE:.metadata.labels.node-role\.kubernetes\.io/control-plane,X:.spec.nothing",
            "-b",
            b
        ]),
        "NAME               CPU   ROLE   X\n\
         harvester-node-0   24    true   <none>\n\
         harvester-node-1   16    true   <none>\n\
         harvester-node-2   16    true   <none>\n"
    );
    // An empty list: the template still applies, and no "No resources found" note.
    let none = sbdiag(&[
        "get",
        "po",
        "-n",
        "nope",
        "-o",
        "jsonpath={.items}",
        "-b",
        b,
    ]);
    assert_eq!(String::from_utf8_lossy(&none.stdout), "[]");
    assert_eq!(String::from_utf8_lossy(&none.stderr), "");
    for bad in [
        "jsonpath={range .items[*]}",
        "custom-columns=NAME",
        "banana",
    ] {
        let out = sbdiag(&["get", "po", "-o", bad, "-b", b]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--output"),
            "{bad}"
        );
    }
}

#[test]
fn describe_takes_kind_slash_name() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let slash = ok(&[
        "describe",
        "po/virt-handler-8wnxm",
        "-n",
        "harvester-system",
        "-b",
        b,
    ]);
    assert!(
        slash.starts_with("Name:         virt-handler-8wnxm\n"),
        "{slash}"
    );
    assert_eq!(
        slash,
        ok(&[
            "describe",
            "po",
            "virt-handler-8wnxm",
            "-n",
            "harvester-system",
            "-b",
            b
        ])
    );
    for (args, says) in [
        (&["describe", "po"][..], "describe needs an object"),
        (&["describe", "po/a", "b"], "no need to give a name"),
        (&["describe", "po/"], "expected KIND/NAME"),
    ] {
        let out = sbdiag(&[args, &["-b", b]].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}"
        );
    }
}

#[test]
fn short_names_the_api_defines() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    for (short, long) in [
        ("vmimages", "virtualmachineimages"),
        ("vmimage", "virtualmachineimages"),
        ("kvs", "kubevirts"),
        ("lhim", "instancemanagers.longhorn.io"),
        ("bd", "blockdevices"),
    ] {
        assert_eq!(
            ok(&["get", short, "-A", "-b", b]),
            ok(&["get", long, "-A", "-b", b]),
            "{short}"
        );
    }
}
