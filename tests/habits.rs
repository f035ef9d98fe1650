//! kubectl habits in `sbdiag get`: KIND/NAME, comma-separated kinds, "No resources found" and
//! exit 0 for an empty list (also a list collected with `items: []`), did-you-mean for a typo,
//! SBDIAG_BUNDLE in place of `-b`, `-o jsonpath=` / `-o custom-columns=`, `describe KIND/NAME`
//! and the short names the API defines; kubectl's `List` for `-o json|yaml` (empty or of
//! several kinds), kind-prefixed names in comma lists, `describe` in the namespace `default`,
//! of a whole kind or of a name prefix, names several API groups serve resolved in discovery
//! order, and the columns kubectl prints for built-in kinds.
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
        (&["describe", "po/a", "b"][..], "no need to give a name"),
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

#[test]
fn json_and_yaml_lists_are_kubectls_even_when_empty() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let none = |o: &str| {
        let out = sbdiag(&["get", "po", "-n", "nope", "-o", o, "-b", b]);
        assert_eq!(out.status.code(), Some(0), "{o}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{o}");
        String::from_utf8(out.stdout).unwrap()
    };
    // Exactly what kubectl 1.32 prints for an empty list.
    assert_eq!(
        none("json"),
        "{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"
    );
    assert_eq!(
        none("yaml"),
        "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"
    );
    assert_eq!(none("name"), "");
    // One object found by a selector is still a List; one object named is the object.
    let listed: serde_json::Value = serde_json::from_str(&ok(&[
        "get",
        "po",
        "-n",
        "cattle-system",
        "-l",
        "app=rancher",
        "-o",
        "json",
        "-b",
        b,
    ]))
    .unwrap();
    assert_eq!(listed["kind"], "List");
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let named: serde_json::Value = serde_json::from_str(&ok(&[
        "get",
        "po",
        "virt-handler-8wnxm",
        "-n",
        "harvester-system",
        "-o",
        "json",
        "-b",
        b,
    ]))
    .unwrap();
    assert_eq!(named["kind"], "Pod");
    let yaml = ok(&[
        "get",
        "po",
        "-n",
        "cattle-system",
        "-l",
        "app=rancher",
        "-o",
        "yaml",
        "-b",
        b,
    ]);
    assert!(yaml.starts_with("apiVersion: v1\nitems:\n- "), "{yaml}");
    assert!(
        yaml.ends_with("kind: List\nmetadata:\n  resourceVersion: \"\"\n"),
        "{yaml}"
    );
}

#[test]
fn comma_lists_print_one_list_and_tables_name_the_kind() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let cc = ok(&[
        "get",
        "po,svc",
        "-n",
        "cattle-system",
        "-o",
        "custom-columns=NAME:.metadata.name,KIND:.kind",
        "-b",
        b,
    ]);
    assert_eq!(
        cc,
        "NAME                                         KIND\n\
         rancher-ll288pl58g-jxzlh                     Pod\n\
         rancher-webhook-ds6c6m2bhb-dm7tp             Pod\n\
         system-upgrade-controller-pwscpxcvj8-gzphh   Pod\n\
         rancher                                      Service\n\
         rancher-webhook                              Service\n"
    );
    assert_eq!(
        ok(&[
            "get",
            "po,svc",
            "-n",
            "cattle-system",
            "-o",
            "jsonpath={.kind}:{range .items[*]}{.kind},{end}",
            "-b",
            b
        ]),
        "List:Pod,Pod,Pod,Service,Service,"
    );
    let j: serde_json::Value = serde_json::from_str(&ok(&[
        "get",
        "po,svc",
        "-n",
        "cattle-system",
        "-o",
        "json",
        "-b",
        b,
    ]))
    .unwrap();
    assert_eq!(j["items"].as_array().unwrap().len(), 5);
    // Tables: one per kind, names prefixed with the kind when several kinds show.
    let t = ok(&["get", "po,svc", "-n", "cattle-system", "-b", b]);
    assert!(t.contains("\npod/rancher-ll288pl58g-jxzlh "), "{t}");
    assert!(t.contains("\n\nNAME "), "{t}");
    assert!(t.contains("\nservice/rancher "), "{t}");
    // No VM in that namespace: one kind shows, no prefix (as kubectl prints it).
    let one = ok(&["get", "po,vm", "-n", "cattle-system", "-b", b]);
    assert!(one.starts_with("NAME ") && !one.contains("pod/"), "{one}");
}

#[test]
fn describe_is_kubectls_default_namespace_whole_kind_and_prefix() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    // Without -n: the namespace default, and a hint where the pod is.
    let out = sbdiag(&["describe", "po", "virt-handler-8wnxm", "-b", b]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not found in namespace default (it is in harvester-system: use -n)"),
        "{err}"
    );
    // A name prefix: every match, each followed by a blank line.
    let prefix = ok(&[
        "describe",
        "po",
        "virt-handler",
        "-n",
        "harvester-system",
        "-b",
        b,
    ]);
    let names: Vec<&str> = prefix
        .lines()
        .filter_map(|l| l.strip_prefix("Name:         "))
        .collect();
    assert_eq!(
        names,
        [
            "virt-handler-6jmjj",
            "virt-handler-8wnxm",
            "virt-handler-sn4v6"
        ]
    );
    assert!(prefix.ends_with("\n\n"), "{prefix}");
    // KIND/NAME is exact: no prefix matching.
    let exact = sbdiag(&[
        "describe",
        "po/virt-handler",
        "-n",
        "harvester-system",
        "-b",
        b,
    ]);
    assert_eq!(exact.status.code(), Some(2));
    // KIND alone: every object of the kind in the namespace, two blank lines between.
    let all = ok(&["describe", "vm", "-b", b]);
    assert_eq!(all.matches("Name:         vm-").count(), 2, "{all}");
    assert!(all.contains("\n\n\nName:         vm-web-01\n"), "{all}");
    let none = sbdiag(&["describe", "po", "-n", "nope", "-b", b]);
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        "No resources found in nope namespace.\n"
    );
    // -A: across namespaces.
    let every = ok(&["describe", "ds", "-A", "-b", b]);
    assert!(every.contains("Namespace:    kube-system\n"), "{every}");
    assert!(
        every.contains("Namespace:    harvester-system\n"),
        "{every}"
    );
}

#[test]
fn names_several_groups_serve_resolve_in_discovery_order() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    // settings: Harvester's, Longhorn's and Rancher's; the first CRD group by name wins.
    let bare = ok(&["get", "settings", "-o", "name", "-b", b]);
    assert!(
        bare.lines()
            .all(|l| l.starts_with("setting.harvesterhci.io/")),
        "{bare}"
    );
    assert_eq!(
        bare,
        ok(&["get", "settings.harvesterhci.io", "-o", "name", "-b", b])
    );
    let lh = ok(&["get", "settings.longhorn.io", "-A", "-o", "name", "-b", b]);
    assert!(
        lh.lines().count() > 5 && lh.lines().all(|l| l.starts_with("setting.longhorn.io/")),
        "{lh}"
    );
    let mgmt = ok(&[
        "get",
        "settings.management.cattle.io",
        "-o",
        "name",
        "-b",
        b,
    ]);
    assert!(
        mgmt.lines()
            .all(|l| l.starts_with("setting.management.cattle.io/")),
        "{mgmt}"
    );
    // A built-in group still wins over a CRD's: nodes are the core Nodes.
    assert!(ok(&["get", "nodes", "-o", "name", "-b", b]).starts_with("node/"));
}

#[test]
fn built_in_kinds_print_kubectls_columns() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let head = |args: &[&str]| -> String {
        ok(&[args, &["-b", b]].concat())
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        head(&["get", "ds", "-A"]),
        "NAMESPACE NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE"
    );
    assert_eq!(
        head(&["get", "po", "-A", "-o", "wide"]),
        "NAMESPACE NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"
    );
    // A restart whose end the status records reads as kubectl prints it.
    let pods = ok(&["get", "po", "-n", "harvester-system", "-b", b]);
    assert!(
        pods.lines()
            .any(|l| l.starts_with("virt-handler-8wnxm ") && l.contains(" 1 (46d ago) ")),
        "{pods}"
    );
    let jobs = ok(&[
        "get",
        "jobs",
        "-n",
        "harvester-system",
        "-b",
        sample("upgrade-stuck-predrained-v1.4.0").to_str().unwrap(),
    ]);
    let first: Vec<&str> = jobs.lines().take(2).collect();
    assert_eq!(
        first[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    );
    assert_eq!(
        first[1].split_whitespace().collect::<Vec<_>>(),
        [
            "hvst-upgrade-mq7xk-apply-manifests",
            "Complete",
            "1/1",
            "27m",
            "4h11m"
        ]
    );
    for b in real_bundles() {
        let b = b.to_str().unwrap();
        for (args, header, row) in [
            (
                &["get", "cm", "-n", "kube-system"][..],
                "NAME DATA AGE",
                "chart-content-rke2-canal 1 16d",
            ),
            (
                &["get", "ns"],
                "NAME STATUS AGE",
                "cattle-dashboards Active 16d",
            ),
            (
                &["get", "sc"],
                "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE",
                "longhorn (default) driver.longhorn.io Delete Immediate true 4h54m",
            ),
            (
                &["get", "ep", "-n", "kube-system"],
                "NAME ENDPOINTS AGE",
                "rancher-monitoring-coredns 10.52.0.2:9153 16d",
            ),
            (
                &["get", "controllerrevisions", "-n", "longhorn-system"],
                "NAME CONTROLLER REVISION AGE",
                "longhorn-manager-6c8b7bb8dd daemonset.apps/longhorn-manager 1 16d",
            ),
            (
                &["get", "clusterroles"],
                "NAME CREATED AT",
                "admin 2022-03-06T22:46:52Z",
            ),
            (
                &["get", "jobs", "-n", "harvester-system"],
                "NAME STATUS COMPLETIONS DURATION AGE",
                "default-default Complete 1/1 10s 16d",
            ),
        ] {
            let out = ok(&[args, &["-b", b]].concat());
            let lines: Vec<String> = out
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            assert_eq!(lines[0], header, "{args:?}");
            assert!(lines.iter().any(|l| l == row), "{args:?}: {row}\n{out}");
        }
    }
}

#[test]
fn get_takes_several_names_as_kubectl_does() {
    let s = sample("healthy-v1.4.0");
    let b = s.to_str().unwrap();
    let names = ["virt-handler-8wnxm", "virt-api-kc7qsr2cdd-lzrwd"];
    let base = ["get", "po", "-n", "harvester-system"];
    let t = ok(&[&base[..], &names, &["-b", b]].concat());
    let first: Vec<&str> = t
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(
        first,
        ["NAME", names[0], names[1]],
        "one table, in the order named:\n{t}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&ok(&[&base[..], &names, &["-o", "json", "-b", b]].concat())).unwrap();
    assert_eq!(j["kind"], "List");
    assert_eq!(j["items"].as_array().unwrap().len(), 2);
    // A name that is not there is still an error, saying which.
    let out = sbdiag(&[&base[..], &[names[0], "nope-x"], &["-b", b]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope-x"));
    // KIND/NAME with names after it stays an error.
    let out = sbdiag(&[
        "get",
        "po/virt-handler-8wnxm",
        "x",
        "-n",
        "harvester-system",
        "-b",
        b,
    ]);
    assert_eq!(out.status.code(), Some(2));
}
