//! `sbdiag serve` with the real kubectl (Debian's `kubectl`; `.ci/run` installs it): the server
//! on a free port of 127.0.0.1 with its kubeconfig in a temporary folder, then kubectl's
//! get/describe/logs/api-resources/jsonpath and a refused delete, on the real bundle and on a
//! sample; raw HTTP for watch and malformed requests; kubectl's habits compared with `sbdiag get`
//! (names several groups serve, comma lists, empty lists), `auth can-i`, `explain` and `top`.
//! Each test stops its server (a Drop guard).
mod common;

use std::time::{Duration, Instant};

use common::serve::{Server, kubectl_bin};
use common::*;

fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn kubectl_on_the_real_bundle() {
    if kubectl_bin().is_none() {
        return;
    }
    for b in real_bundles() {
        let bs = b.to_str().unwrap();
        let s = Server::start(&b, &["--age-from", "capture"]);

        // The same rows as sbdiag get (ages as at capture).
        let pods = s.ok(&["get", "pods", "-A"]);
        let ours = ok(&["get", "pods", "-A", "-b", bs]);
        assert_eq!(rows(&pods), rows(&ours));
        assert!(pods.lines().count() > 50, "{pods}");

        let ds = s.ok(&["get", "ds", "-n", "longhorn-system", "-o", "wide"]);
        let head = ds.lines().next().unwrap();
        for h in ["DESIRED", "UP-TO-DATE", "CONTAINERS", "IMAGES", "SELECTOR"] {
            assert!(head.contains(h), "{ds}");
        }
        let lm = rows(&ds)
            .into_iter()
            .find(|r| r[0] == "longhorn-manager")
            .expect("longhorn-manager");
        assert_eq!(lm[1..8], ["1", "1", "1", "1", "1", "<none>", "16d"]);

        let mcc = s.ok(&["get", "managedcharts", "-A"]);
        assert!(
            rows(&mcc)
                .iter()
                .any(|r| r[..2] == ["fleet-local", "harvester"]),
            "{mcc}"
        );

        let node = s.ok(&["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"]);
        assert!(!node.is_empty() && !node.contains(' '), "{node}");
        let d = s.ok(&["describe", "node", &node]);
        assert!(
            d.starts_with(&format!("Name:               {node}\n")),
            "{d}"
        );
        assert!(d.contains("Non-terminated Pods:"), "{d}");
        assert!(d.contains("longhorn-manager-"), "{d}");

        // Logs: the same lines as sbdiag logs.
        let pod = s.ok(&[
            "get",
            "pods",
            "-n",
            "longhorn-system",
            "-l",
            "app=longhorn-manager",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ]);
        let tail = s.ok(&["logs", "-n", "longhorn-system", &pod, "--tail", "5"]);
        let want = ok(&[
            "logs",
            "-b",
            bs,
            "-n",
            "longhorn-system",
            &pod,
            "--tail",
            "5",
        ]);
        assert_eq!(tail, want);
        assert_eq!(tail.lines().count(), 5);

        // Every resource type, CRD or not: longhorn's volumes with their short name.
        let ar = s.ok(&["api-resources"]);
        assert!(
            rows(&ar)
                .iter()
                .any(|r| r[0] == "volumes" && r[1] == "lhv" && r[2] == "longhorn.io/v1beta1"),
            "{ar}"
        );
        // Collected with `items: []`: kubectl's "No resources found", exit 0.
        let lhv = s.kubectl(&["get", "lhv", "-A"]);
        assert!(lhv.status.success());
        assert!(lhv.stdout.is_empty());
        assert!(String::from_utf8_lossy(&lhv.stderr).contains("No resources found"));

        // Writes are refused and change nothing.
        let del = s.kubectl(&["delete", "pod", "-n", "longhorn-system", &pod]);
        assert!(!del.status.success());
        let err = String::from_utf8_lossy(&del.stderr);
        assert!(
            err.contains("MethodNotAllowed") && err.contains("read-only support bundle"),
            "{err}"
        );
        s.ok(&["get", "pod", "-n", "longhorn-system", &pod]);

        // An EndpointSlice port the generator wrote with `name: "null"` is served with the
        // server's default `""`: kubectl describe service dereferences it.
        let d = s.ok(&["describe", "svc", "-n", "harvester-system", "virt-api"]);
        assert!(d.contains("Endpoints:") && d.contains("10.52.0.6"), "{d}");
    }
}

#[test]
fn kubectl_on_a_sample() {
    if kubectl_bin().is_none() {
        return;
    }
    let b = sample("healthy-v1.4.0");
    let s = Server::start(&b, &[]);
    // Ages measured to now: the capture is long past, so no pod is younger than a day.
    let pods = s.ok(&["get", "pods", "-A"]);
    assert_eq!(pods.lines().count(), 62 + 1);
    let vms = s.ok(&["get", "vm"]);
    assert!(
        rows(&vms)
            .iter()
            .any(|r| r[0] == "vm-web-01" && r.contains(&"Running".to_string())),
        "{vms}"
    );
    let on_node = s.ok(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        "spec.nodeName=harvester-node-0",
        "-o",
        "wide",
    ]);
    assert!(on_node.lines().count() > 1, "{on_node}");
    assert!(
        rows(&on_node)
            .iter()
            .skip(1)
            .all(|r| r.contains(&"harvester-node-0".to_string())),
        "{on_node}"
    );
    let prev = s.ok(&[
        "logs",
        "-n",
        "harvester-system",
        "virt-handler-8wnxm",
        "--previous",
    ]);
    assert_eq!(
        prev,
        ok(&[
            "logs",
            "-b",
            b.to_str().unwrap(),
            "virt-handler-8wnxm",
            "--previous"
        ])
    );
    let d = s.ok(&[
        "describe",
        "pod",
        "-n",
        "harvester-system",
        "virt-handler-8wnxm",
    ]);
    assert!(d.contains("Namespace:"), "{d}");
    let raw = s.ok(&["get", "--raw", "/api/v1/namespaces/default/pods"]);
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["kind"], "PodList");
    let bad = s.kubectl(&["get", "pods", "-l", "a in (b"]);
    assert!(!bad.status.success());
    let none = s.ok(&["get", "pods", "-n", "nope"]);
    assert_eq!(none, "");
    let missing = s.kubectl(&["get", "pod", "nope"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NotFound"));
}

#[test]
fn watch_writes_and_malformed_requests_over_raw_http() {
    let b = sample("healthy-v1.4.0");
    // No kubectl needed here.
    let s = Server::start(&b, &[]);
    let started = Instant::now();
    let (code, body) = s.raw(
        "GET",
        "/api/v1/namespaces/harvester-system/pods?watch=true&timeoutSeconds=1",
    );
    assert_eq!(code, 200);
    assert!(body.matches("\"type\":\"ADDED\"").count() > 5, "{body}");
    assert!(started.elapsed() < Duration::from_secs(15));
    for m in ["POST", "PUT", "PATCH", "DELETE"] {
        let (code, body) = s.raw(m, "/api/v1/namespaces/default/pods/x");
        assert_eq!(code, 405, "{m}");
        assert!(body.contains("read-only support bundle"), "{body}");
    }
    let long = format!("/api/v1/pods?labelSelector={}", "a".repeat(20_000));
    for (target, want) in [
        ("/api/v1/pods?labelSelector=a%20in%20(", 400),
        ("/api/v1/pods?fieldSelector=nonsense", 400),
        ("/api/v1/pods?tailLines=%ff%fe", 200),
        ("/api/v1/namespaces/default/pods/x/log?tailLines=x", 400),
        ("/apis/nope.example.com/v1/widgets", 404),
        ("/api/v1/../../etc/passwd", 404),
        ("/api/v2/pods", 404),
        ("/%%%", 404),
        (long.as_str(), 400),
    ] {
        let (code, _) = s.raw("GET", target);
        assert_eq!(code, want, "{target}");
    }
    // Still serving.
    let (code, body) = s.raw("GET", "/version");
    assert_eq!(code, 200);
    assert!(body.contains("gitVersion"), "{body}");
}

#[test]
fn a_non_loopback_listen_is_refused_unless_allowed() {
    let b = sample("healthy-v1.4.0");
    let out = sbdiag(&[
        "serve",
        b.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
        "--kubeconfig",
        "/nonexistent/kc",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--allow-remote"),
        "{err}"
    );
}

#[test]
fn get_jsonpath_and_custom_columns_print_as_kubectl_does() {
    if kubectl_bin().is_none() {
        return;
    }
    let b = sample("healthy-v1.4.0");
    let s = Server::start(&b, &[]);
    let bundle = b.to_str().unwrap();
    for args in [
        &[
            "get",
            "po",
            "-A",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
        ][..],
        &[
            "get",
            "po",
            "-n",
            "harvester-system",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ],
        &[
            "get",
            "no",
            "harvester-node-0",
            "-o",
            "jsonpath={.metadata.name} {.status.nodeInfo.kubeletVersion}",
        ],
        &[
            "get",
            "vm",
            "-A",
            "-o",
            "jsonpath={.items[0].spec.template.spec.domain.resources}",
        ],
        &["get", "po", "-n", "nope", "-o", "jsonpath={.items}"],
        &[
            "get",
            "no",
            "-o",
            r#"custom-columns=NAME:.metadata.name,IP:.status.addresses[0].address,TAINTS:.spec.taints,LABELS:.metadata.labels,READY:.status.conditions[?(@.type=="Ready")].status"#,
        ],
        &[
            "get",
            "po",
            "-A",
            "-o",
            "custom-columns=NS:metadata.namespace,NAME:.metadata.name,NODE:.spec.nodeName,C:.spec.containers[*].name,PORTS:.spec.containers[0].ports",
        ],
        &[
            "get",
            "vm",
            "-A",
            "-o",
            "custom-columns=N:.metadata.name,RUNNING:.spec.running,GEN:.metadata.generation",
        ],
        &["get", "po", "-n", "nope", "-o", "custom-columns=A:.a"],
    ] {
        let ours = sbdiag(&[args, &["-b", bundle]].concat());
        assert!(ours.status.success(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            s.ok(args),
            "sbdiag and kubectl differ on {args:?}"
        );
        assert_eq!(String::from_utf8_lossy(&ours.stderr), "", "{args:?}");
    }
}

#[test]
fn api_resources_name_short_names_and_api_version_as_kubectl() {
    if kubectl_bin().is_none() {
        return;
    }
    let b = sample("healthy-v1.4.0");
    let s = Server::start(&b, &[]);
    // (NAME, SHORTNAMES or "-", APIVERSION): kubectl's five columns, sbdiag's six (OBJECTS last).
    let triples = |text: &str, width: usize| -> Vec<(String, String, String)> {
        let mut v: Vec<(String, String, String)> = rows(text)
            .into_iter()
            .map(|r| {
                if r.len() == width {
                    (r[0].clone(), r[1].clone(), r[2].clone())
                } else {
                    (r[0].clone(), "-".into(), r[1].clone())
                }
            })
            .collect();
        v.sort();
        v
    };
    let theirs = s.ok(&["api-resources", "--no-headers"]);
    let ours = ok(&["get", "api-resources", "-b", b.to_str().unwrap()]);
    assert!(
        ours.starts_with("NAME ") && ours.lines().next().unwrap().contains(" SHORTNAMES "),
        "{ours}"
    );
    let ours_rows: String = ours.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let t = triples(&ours_rows, 6);
    assert!(
        t.contains(&(
            "virtualmachineimages".into(),
            "vmimage,vmimages".into(),
            "harvesterhci.io/v1beta1".into()
        )),
        "{ours}"
    );
    assert_eq!(t, triples(&theirs, 5));
}

#[test]
fn kubectl_and_sbdiag_get_agree_and_the_edges_answer_clearly() {
    if kubectl_bin().is_none() {
        return;
    }
    let b = sample("healthy-v1.4.0");
    let bs = b.to_str().unwrap();
    let s = Server::start(&b, &["--age-from", "capture"]);
    // Discovery lists the built-in groups first, by their priority, then CRD groups by name,
    // so kubectl resolves `settings` (Harvester's, Longhorn's, Rancher's) as on a cluster.
    let apis: serde_json::Value = serde_json::from_str(&s.ok(&["get", "--raw", "/apis"])).unwrap();
    let groups: Vec<&str> = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    let at = |g: &str| groups.iter().position(|x| *x == g).unwrap();
    assert!(at("apps") < at("storage.k8s.io"), "{groups:?}");
    assert!(
        at("apiextensions.k8s.io") < at("fleet.cattle.io"),
        "{groups:?}"
    );
    assert!(at("harvesterhci.io") < at("longhorn.io"), "{groups:?}");
    assert!(at("longhorn.io") < at("management.cattle.io"), "{groups:?}");
    for args in [
        &["get", "settings"][..],
        &["get", "settings.longhorn.io", "-n", "longhorn-system"],
        &["get", "settings.management.cattle.io", "-o", "name"],
        &["get", "po,svc", "-n", "cattle-system"],
        &[
            "get",
            "po,svc",
            "-n",
            "cattle-system",
            "-o",
            "custom-columns=NAME:.metadata.name,KIND:.kind",
        ],
        &[
            "get",
            "po,svc",
            "-n",
            "cattle-system",
            "-o",
            "jsonpath={.kind}{range .items[*]}{.metadata.name},{end}",
        ],
        &["get", "po", "-n", "nope", "-o", "json"],
        &["get", "po", "-n", "nope", "-o", "yaml"],
        &["get", "po", "-A", "-o", "wide"],
        &["get", "ds", "-A"],
    ] {
        assert_eq!(
            s.ok(args),
            ok(&[args, &["-b", bs]].concat()),
            "kubectl {args:?} and sbdiag differ"
        );
    }
    // auth can-i: reads yes, writes no with the reason (a review, answered, stores nothing).
    assert_eq!(s.ok(&["auth", "can-i", "list", "pods"]), "yes\n");
    assert_eq!(
        s.ok(&["auth", "can-i", "get", "pods/log", "-n", "kube-system"]),
        "yes\n"
    );
    let no = s.kubectl(&["auth", "can-i", "delete", "pods"]);
    assert_eq!(no.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&no.stdout)
            .starts_with("no - this API is a read-only support bundle"),
        "{}",
        String::from_utf8_lossy(&no.stdout)
    );
    assert!(
        s.ok(&["auth", "can-i", "--list"])
            .contains("[get list watch]")
    );
    // No OpenAPI schema in a bundle: a clear 404, and explain fails at once rather than hangs.
    let openapi = s.kubectl(&["get", "--raw", "/openapi/v2"]);
    assert!(!openapi.status.success());
    assert!(
        String::from_utf8_lossy(&openapi.stderr).contains("holds no OpenAPI schema"),
        "{}",
        String::from_utf8_lossy(&openapi.stderr)
    );
    let started = Instant::now();
    let explain = s.kubectl(&["explain", "pods"]);
    assert!(!explain.status.success());
    assert!(!explain.stderr.is_empty());
    assert!(started.elapsed() < Duration::from_secs(20));
    for raw in ["/version", "/api", "/apis/apps/v1"] {
        s.ok(&["get", "--raw", raw]);
    }
    // Events sorted by kubectl itself; top reads the bundle's metrics.k8s.io lists.
    let events = s.ok(&["get", "events", "-A", "--sort-by=.lastTimestamp"]);
    assert_eq!(
        events.lines().count(),
        ok(&["get", "events", "-A", "-b", bs]).lines().count()
    );
    let top = s.ok(&["top", "nodes"]);
    assert!(
        top.starts_with("NAME ") && top.contains("harvester-node-0"),
        "{top}"
    );
}

#[test]
fn kubectl_prints_the_last_built_in_columns_events_wide_and_several_names() {
    if kubectl_bin().is_none() {
        return;
    }
    // The sample: `get events -o wide` and several names, as sbdiag get prints them.
    let b = sample("healthy-v1.4.0");
    let bs = b.to_str().unwrap();
    let s = Server::start(&b, &["--age-from", "capture"]);
    let ev = s.ok(&["get", "events", "-n", "default", "-o", "wide"]);
    assert_eq!(
        ev.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        [
            "LAST",
            "SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST",
            "SEEN",
            "COUNT",
            "NAME"
        ],
        "{ev}"
    );
    assert!(
        ev.lines().any(|l| l.contains(" spec.containers{compute} ")
            && l.contains(" kubelet, harvester-node-1 ")),
        "{ev}"
    );
    assert_eq!(
        ev,
        ok(&["get", "events", "-n", "default", "-o", "wide", "-b", bs])
    );
    let names = ["virt-handler-8wnxm", "virt-api-kc7qsr2cdd-lzrwd"];
    let pods = s.ok(&[&["get", "po", "-n", "harvester-system"][..], &names].concat());
    assert_eq!(pods.lines().count(), 3, "one table, two rows: {pods}");
    assert_eq!(
        pods,
        ok(&[
            &["get", "po", "-n", "harvester-system"][..],
            &names,
            &["-b", bs]
        ]
        .concat())
    );
    drop(s);

    for b in real_bundles() {
        let bs = b.to_str().unwrap();
        let s = Server::start(&b, &["--age-from", "capture"]);
        for (args, header, row) in [
            (
                &["get", "ingress", "-n", "cattle-system"][..],
                "NAME CLASS HOSTS ADDRESS PORTS AGE",
                "rancher-expose <none> * 172.16.132.182 80 16d",
            ),
            (
                &["get", "priorityclasses"],
                "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY",
                "system-node-critical 2000001000 false 16d PreemptLowerPriority",
            ),
            (
                &["get", "csidrivers"],
                "NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE",
                "driver.longhorn.io true true false <unset> false Persistent 16d",
            ),
            (
                &["get", "flowschemas"],
                "NAME PRIORITYLEVEL MATCHINGPRECEDENCE DISTINGUISHERMETHOD AGE MISSINGPL",
                "exempt exempt 1 <none> 16d False",
            ),
            (
                &["get", "prioritylevelconfigurations"],
                "NAME TYPE NOMINALCONCURRENCYSHARES QUEUES HANDSIZE QUEUELENGTHLIMIT AGE",
                "global-default Limited 20 128 6 50 16d",
            ),
        ] {
            let out = s.ok(args);
            let lines: Vec<String> = out
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            assert_eq!(lines[0], header, "{args:?}");
            assert!(lines.iter().any(|l| l == row), "{args:?}: {row}\n{out}");
            assert_eq!(out, ok(&[args, &["-b", bs]].concat()), "{args:?}");
        }
        // CREATED AT moves with every other timestamp under --age-from capture: the
        // captured time plus (now − capture), so it reads as long ago as AGE does.
        let created = |s: &Server| -> chrono::DateTime<chrono::Utc> {
            let out = s.ok(&["get", "clusterroles", "admin"]);
            let cell = out
                .lines()
                .nth(1)
                .unwrap()
                .split_whitespace()
                .nth(1)
                .unwrap();
            chrono::DateTime::parse_from_rfc3339(cell).unwrap().into()
        };
        let captured: chrono::DateTime<chrono::Utc> =
            chrono::DateTime::parse_from_rfc3339("2022-03-06T22:46:52Z")
                .unwrap()
                .into();
        let capture: chrono::DateTime<chrono::Utc> =
            chrono::DateTime::parse_from_rfc3339("2022-03-22T23:49:32Z")
                .unwrap()
                .into();
        let shifted = created(&s);
        let want = captured + (chrono::Utc::now() - capture);
        assert!(
            (shifted - want).num_seconds().abs() < 600,
            "{shifted} is not {captured} shifted to now ({want})"
        );
        drop(s);
        let s = Server::start(&b, &[]);
        assert_eq!(created(&s), captured, "timestamps as captured by default");
    }
}
