//! The identifiers of one bundle, found from the bundle itself before anything is rewritten:
//! node and host names, user namespaces and the names of what users made in them (VMs,
//! images, volumes, networks, secrets, workloads…), the cluster id, and the domains that
//! settings and node configurations name. Names that Kubernetes, Harvester, Rancher,
//! Longhorn, KubeVirt or Fleet give their own objects are kept: the diagnosis needs them.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use regex::Regex;

use super::pseudo::Class;
use crate::bundle::{Bundle, PathKind};
use crate::index::Index;

/// Namespaces that are the system's own: their names and their objects' names are kept.
pub fn is_system_namespace(ns: &str) -> bool {
    matches!(
        ns,
        "kube-system"
            | "kube-public"
            | "kube-node-lease"
            | "harvester-system"
            | "harvester-public"
            | "longhorn-system"
            | "local"
            | "local-path-storage"
            | "cattle-system"
            | "fleet-local"
            | "fleet-default"
            | "fleet-system"
    ) || [
        "cattle-",
        "fleet-",
        "cluster-fleet-",
        "kube-",
        "p-",
        "c-m-",
        "user-",
    ]
    .iter()
    .any(|p| ns.starts_with(p))
}

/// Namespaces whose name is the system's own though users put their objects in them.
fn is_shared_namespace(ns: &str) -> bool {
    ns == "default"
}

/// Domains (and their subdomains) of the projects, registries and standards the bundle
/// names for itself: kept as they are.
pub const KEPT_DOMAINS: &[&str] = &[
    "k8s.io",
    "kubernetes.io",
    "x-k8s.io",
    "harvesterhci.io",
    "cattle.io",
    "rancher.io",
    "rancher.com",
    "rancher.cn",
    "longhorn.io",
    "kubevirt.io",
    "suse.com",
    "suse.de",
    "opensuse.org",
    "github.com",
    "githubusercontent.com",
    "github.io",
    "docker.io",
    "docker.com",
    "quay.io",
    "gcr.io",
    "ghcr.io",
    "googleapis.com",
    "golang.org",
    "go.dev",
    "cncf.io",
    "coreos.com",
    "prometheus.io",
    "grafana.com",
    "fluentbit.io",
    "banzaicloud.io",
    "cert-manager.io",
    "projectcalico.org",
    "tigera.io",
    "helm.sh",
    "cluster.local",
    "svc",
    "example.com",
    "example.org",
    "example.net",
    "example",
    "invalid",
    "localhost",
    "localdomain",
    "kube-vip.io",
    "metallb.io",
    "elemental.cattle.io",
    "upbound.io",
    "nvidia.com",
    "intel.com",
    "kernel.org",
    "ubuntu.com",
    "fedoraproject.org",
    "centos.org",
    "debian.org",
    "microsoft.com",
    "w3.org",
    "json-schema.org",
    "yaml.org",
    "opencontainers.org",
    "openshift.io",
    "istio.io",
    "multus-cni.io",
    "cni.cncf.io",
    "sigs.k8s.io",
    "opentelemetry.io",
    "jaegertracing.io",
    "apache.org",
    "mozilla.org",
    "letsencrypt.org",
    "rke2.io",
    "k3s.io",
    "coredns.io",
    "cilium.io",
    "flannel.io",
    "artifacthub.io",
    "velero.io",
    "openebs.io",
    "nginx.org",
    "nginx.com",
    "kubernetes.github.io",
    "etcd.io",
    "containerd.io",
    "harvester.io",
    "rancherlabs.com",
    "support-bundle-kit.io",
    "network-attachment-definition.io",
    "cdi.kubevirt.io",
    "volumesnapshot.io",
    "snapshot.storage.k8s.io",
    "storage.k8s.io",
    "linux.org",
    "redhat.com",
    "google.com",
    "wikimedia.org",
    "wikipedia.org",
    "gke.io",
    "amazonaws.com",
    "azure.com",
    "sslip.io",
    "nip.io",
    "xip.io",
];

/// Whether `host` is one of [`KEPT_DOMAINS`] or under one.
pub fn is_kept_domain(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    KEPT_DOMAINS
        .iter()
        .any(|d| h == *d || h.strip_suffix(d).is_some_and(|rest| rest.ends_with('.')))
}

/// Words that are the system's vocabulary: an identifier equal to one (a VM named `ready`)
/// is replaced only where it stands as a whole value, never inside free text, or the
/// diagnosis would lose the words it reads.
#[derive(Debug, Default)]
pub struct Vocabulary(BTreeSet<String>);

const COMMON_WORDS: &[&str] = &[
    "true",
    "false",
    "null",
    "none",
    "yes",
    "no",
    "on",
    "off",
    "ready",
    "running",
    "pending",
    "failed",
    "succeeded",
    "unknown",
    "error",
    "warning",
    "info",
    "normal",
    "active",
    "available",
    "healthy",
    "degraded",
    "faulted",
    "attached",
    "detached",
    "stopped",
    "starting",
    "stopping",
    "paused",
    "default",
    "node",
    "nodes",
    "master",
    "worker",
    "control-plane",
    "etcd",
    "main",
    "test",
    "data",
    "disk",
    "disks",
    "image",
    "images",
    "volume",
    "volumes",
    "network",
    "vm",
    "vms",
    "host",
    "hosts",
    "local",
    "name",
    "type",
    "status",
    "spec",
    "metadata",
    "kind",
    "items",
    "value",
    "key",
    "mgmt",
    "harvester",
    "longhorn",
    "rancher",
    "fleet",
    "kubevirt",
    "kubernetes",
    "cattle",
    "system",
    "upgrade",
    "backup",
    "restore",
    "template",
    "config",
    "secret",
    "secrets",
    "admin",
    "root",
    "user",
    "users",
    "server",
    "agent",
    "api",
    "app",
    "web",
    "db",
    "log",
    "logs",
    "cluster",
    "storage",
    "pod",
    "pods",
    "service",
    "services",
];

impl Vocabulary {
    /// The vocabulary of a bundle: common status words, every kind and resource name, and
    /// every word of the names of the system's own namespaces and objects.
    pub fn of(index: &Index, found: &Found) -> Vocabulary {
        // Node names are also the names of system objects (Longhorn nodes, leases): they are
        // identifiers, not vocabulary.
        let nodes: BTreeSet<&str> = found
            .ids
            .iter()
            .filter(|(_, c)| **c == Class::Node)
            .map(|(id, _)| id.as_str())
            .collect();
        let mut v: BTreeSet<String> = COMMON_WORDS.iter().map(|w| w.to_string()).collect();
        let mut words = |s: &str| {
            if nodes.contains(s) {
                return;
            }
            v.insert(s.to_ascii_lowercase());
            for w in s.split(|c: char| !c.is_ascii_alphanumeric()) {
                if !w.is_empty() && !nodes.contains(w) {
                    v.insert(w.to_ascii_lowercase());
                }
            }
        };
        // Each distinct string once: a bundle's objects share a few dozen kinds and
        // namespaces, and lower-casing every object's was a tenth of a second on a large one.
        let mut seen: HashSet<&str> = HashSet::new();
        let mut once = |s| {
            if seen.insert(s) {
                words(s);
            }
        };
        for f in &index.files {
            once(&f.resource);
        }
        for o in &index.objects {
            once(&o.key.kind);
            if o.key.namespace.is_empty() || is_system_namespace(&o.key.namespace) {
                once(&o.key.namespace);
                once(&o.key.name);
            }
        }
        Vocabulary(v)
    }

    /// A vocabulary of these words only (tests).
    #[cfg(test)]
    pub fn with(words: &[&str]) -> Vocabulary {
        Vocabulary(words.iter().map(|w| w.to_string()).collect())
    }

    /// Whether `id` is a word of the vocabulary (or too short to replace in free text).
    pub fn has(&self, id: &str) -> bool {
        id.len() < 3 || self.0.contains(&id.to_ascii_lowercase())
    }
}

/// The identifiers found, each with its class.
#[derive(Debug, Default)]
pub struct Found {
    /// Original → class (the first class seen wins).
    pub ids: BTreeMap<String, Class>,
}

impl Found {
    fn add(&mut self, class: Class, id: &str) {
        let id = id.trim();
        if id.is_empty() || id.len() > 253 {
            return;
        }
        // A `/` is never in a Kubernetes name or namespace, a host name or a cluster id: such
        // a value (a damaged capture) names nothing, and it could not be replaced where it
        // spans a path's folders (`yamls/namespaced/<ns>/longhorn.io/v1beta2/…` for a
        // namespace `longhorn.io/v1beta2`), so the leak check would refuse the whole copy.
        // Image display names are free text: kept.
        if id.contains('/') && class != Class::Image {
            return;
        }
        self.ids.entry(id.to_string()).or_insert(class);
    }
}

/// Kinds whose objects users name; pods and other objects derived from them are covered by
/// the parents' names (`virt-launcher-<vm>-xxxxx`).
fn class_of(group: &str, kind: &str) -> Option<Class> {
    Some(match (group, kind) {
        ("kubevirt.io", "VirtualMachine" | "VirtualMachineInstance") => Class::Vm,
        ("harvesterhci.io", "VirtualMachineImage") => Class::Image,
        ("", "PersistentVolumeClaim") | ("cdi.kubevirt.io", "DataVolume") => Class::Volume,
        ("k8s.cni.cncf.io", "NetworkAttachmentDefinition")
        | ("network.harvesterhci.io", "ClusterNetwork" | "VlanConfig" | "VlanStatus") => {
            Class::Network
        }
        ("", "Secret") => Class::Secret,
        ("", "Pod" | "Event" | "Endpoints" | "ReplicationController")
        | ("discovery.k8s.io", "EndpointSlice")
        | ("events.k8s.io", "Event")
        | ("apps", "ReplicaSet" | "ControllerRevision")
        | ("coordination.k8s.io", "Lease")
        | ("kubevirt.io", "VirtualMachineInstanceMigration") => return None,
        _ => Class::Name,
    })
}

/// Prefixes the system puts before a user's name in names it derives.
const DERIVED_PREFIXES: &[&str] = &[
    "virt-launcher-",
    "hp-volume-",
    "importer-prime-",
    "importer-",
];

/// The objects whose typed views [`collect`] reads (an event's subject and host, a pod's
/// node, an image's display name); it reads only names and metadata of the others.
pub const VIEWS_READ: &[(&str, &str)] = &[
    ("", "Event"),
    ("", "Pod"),
    ("harvesterhci.io", "VirtualMachineImage"),
];

/// Collects the identifiers of a bundle from an index holding at least the views of
/// [`VIEWS_READ`].
pub fn collect(bundle: &Bundle, index: &Index) -> Found {
    let mut f = Found::default();
    // Nodes, by their objects and by their zips.
    for o in index.of_kind("", "Node") {
        f.add(Class::Node, &o.key.name);
    }
    for n in &bundle.nodes {
        f.add(Class::Node, &n.name);
    }
    // Nodes gone since (a ghost node) still show in events and in pods bound to them.
    for o in index.of_kind("", "Event") {
        if let crate::model::views::View::Event(e) = &o.view {
            if &*e.regarding.kind == "Node" {
                f.add(Class::Node, &e.regarding.name);
            }
            if let Some(h) = &e.host {
                f.add(Class::Node, h);
            }
        }
    }
    for o in index.of_kind("", "Pod") {
        if let crate::model::views::View::Pod(p) = &o.view
            && let Some(n) = p.node_name.as_deref()
        {
            f.add(Class::Node, n);
        }
    }
    // The cluster id and the bundle's own name.
    if let Some(id) = bundle
        .metadata
        .as_ref()
        .and_then(|m| m.projectnamespaceuuid.as_deref())
    {
        f.add(Class::ClusterId, id);
    }
    for o in index.of_kind("", "Namespace") {
        if o.key.name == "harvester-system" && !o.meta.uid.is_empty() {
            f.add(Class::ClusterId, &o.meta.uid);
        }
    }
    // User namespaces, and what users named in them.
    let mut derived: Vec<(&str, &str)> = Vec::new();
    for o in &index.objects {
        if o.alias_of.is_some() {
            continue;
        }
        let ns = o.key.namespace.as_str();
        let user_ns = !ns.is_empty() && !is_system_namespace(ns);
        if user_ns && !is_shared_namespace(ns) {
            f.add(Class::Namespace, ns);
        }
        if o.key.kind == "Namespace" && o.key.group.is_empty() {
            let n = o.key.name.as_str();
            if !is_system_namespace(n) && !is_shared_namespace(n) {
                f.add(Class::Namespace, n);
            }
            continue;
        }
        let network = o.key.group == "network.harvesterhci.io";
        if !(user_ns || (network && o.key.name != "mgmt")) {
            continue;
        }
        match class_of(&o.key.group, &o.key.kind) {
            Some(c) => {
                f.add(c, &o.key.name);
                if c == Class::Image
                    && let Some(d) = o.tree().and_then(|t| t.str("/spec/displayName"))
                {
                    f.add(Class::Image, d);
                }
            }
            None => derived.push((&o.key.kind, &o.key.name)),
        }
    }
    // Derived names not covered by a parent's (a bare pod): their own pseudonym, less the
    // system's prefix.
    // One automaton over the parents' names: derived names are many (every pod of every VM).
    let roots: Vec<&str> = f.ids.keys().map(String::as_str).collect();
    let covers = aho_corasick::AhoCorasick::new(&roots).ok();
    let covered = |s: &str| {
        covers.as_ref().is_some_and(|ac| {
            ac.find_overlapping_iter(s)
                .any(|m| boundary(s, m.start(), m.end()))
        })
    };
    let mut new = Vec::new();
    for (kind, name) in derived {
        // An event is named `<object>.<hex>`: the object's name is what may identify.
        let name = match kind {
            "Event" => name.rsplit_once('.').map_or(name, |(n, _)| n),
            _ => name,
        };
        let rest = DERIVED_PREFIXES
            .iter()
            .find_map(|p| name.strip_prefix(p))
            .unwrap_or(name);
        if !covered(rest) {
            new.push(trim_generated(rest).to_string());
        }
    }
    for n in new {
        f.add(Class::Name, &n);
    }
    // Names the system gives its own objects in user namespaces stay.
    let system_names: BTreeSet<&str> = index
        .objects
        .iter()
        .filter(|o| o.key.namespace.is_empty() || is_system_namespace(&o.key.namespace))
        .map(|o| o.key.name.as_str())
        .collect();
    f.ids.retain(|id, c| {
        !matches!(c, Class::Name | Class::Secret) || !system_names.contains(id.as_str())
    });
    for keep in [
        "kube-root-ca.crt",
        "default",
        "kubernetes",
        "istio-ca-root-cert",
    ] {
        f.ids.remove(keep);
    }
    hosts_in_configs(bundle, &mut f);
    f
}

/// `name` without the random suffix Kubernetes appends (`-7d9f8c6b5-x2x4q`, `-abcde`).
fn trim_generated(name: &str) -> &str {
    let mut n = name;
    for _ in 0..2 {
        if let Some((head, tail)) = n.rsplit_once('-')
            && !head.is_empty()
            && (tail.len() == 5 || (8..=10).contains(&tail.len()))
            && tail
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && tail.chars().any(|c| c.is_ascii_digit())
        {
            n = head;
        }
    }
    n
}

/// Whether `s[start..end]` stands between non-alphanumeric characters.
pub fn boundary(s: &str, start: usize, end: usize) -> bool {
    let before = s.get(..start).and_then(|h| h.chars().next_back());
    let after = s.get(end..).and_then(|t| t.chars().next());
    !before.is_some_and(|c| c.is_ascii_alphanumeric())
        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Whether `word` occurs in `s` between non-alphanumeric characters.
pub fn contains_word(s: &str, word: &str) -> bool {
    !word.is_empty()
        && s.match_indices(word)
            .any(|(i, _)| boundary(s, i, i + word.len()))
}

/// Host names that settings and node configurations name (URLs, proxies, NTP and DNS
/// servers, the host's own name), whatever their top-level domain.
fn hosts_in_configs(bundle: &Bundle, f: &mut Found) {
    let Ok(url) =
        Regex::new(r"(?i)\b[a-z][a-z0-9+.-]*://(?:[^@/\s]+@)?([a-z0-9][a-z0-9.-]*[a-z0-9])")
    else {
        return;
    };
    let Ok(host) = Regex::new(
        r"(?i)\b([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)\b",
    ) else {
        return;
    };
    let take = |text: &str, f: &mut Found, bare: bool| {
        for c in url.captures_iter(text) {
            if let Some(h) = c.get(1) {
                add_host(f, h.as_str());
            }
        }
        if !bare {
            return;
        }
        // Bare host names only in values of keys that name hosts.
        for line in text.lines() {
            let Some((key, value)) = line.split_once([':', '=']) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if !HOST_KEYS.iter().any(|k| key.contains(k)) {
                continue;
            }
            for m in host.find_iter(value) {
                add_host(f, m.as_str());
            }
        }
    };
    for file in &bundle.files {
        let settings =
            matches!(&file.kind, PathKind::ResourceList { resource, .. } if resource == "settings");
        if settings && let Ok(t) = bundle.read_text(&file.path) {
            take(&t, f, false);
        }
    }
    for n in &bundle.nodes {
        let Some(Ok(zip)) = crate::bundle::nodes::open_node_zip(bundle, &n.name) else {
            continue;
        };
        for inner in &n.files {
            if !inner.contains("/configs/") {
                continue;
            }
            let Ok(bytes) = zip.read(inner) else { continue };
            let text = String::from_utf8_lossy(&bytes);
            if inner.ends_with("/etc/hostname") {
                let h = text.trim();
                if h.contains('.') {
                    add_host(f, h);
                } else {
                    f.add(Class::Node, h);
                }
                continue;
            }
            take(&text, f, true);
        }
    }
}

/// Words of configuration keys whose values name hosts.
const HOST_KEYS: &[&str] = &[
    "server",
    "ntp",
    "dns",
    "host",
    "proxy",
    "endpoint",
    "domain",
    "url",
    "registry",
    "mirror",
    "address",
    "nameserver",
    "search",
];

/// File name endings that look like top-level domains but are not.
const NOT_TLDS: &[&str] = &[
    "yaml", "yml", "json", "log", "conf", "config", "cfg", "txt", "sh", "go", "img", "iso",
    "qcow2", "gz", "tgz", "zip", "xz", "raw", "crt", "key", "pem", "service", "socket", "d", "so",
    "py", "md", "toml", "ini", "xml", "html", "js", "sock", "pid", "lock", "tar", "bin", "rules",
    "network", "mount", "target", "timer", "slice", "scope", "path", "swap", "csr",
];

fn add_host(f: &mut Found, h: &str) {
    let h = h.trim_end_matches('.');
    if h.parse::<std::net::IpAddr>().is_ok() || is_kept_domain(h) {
        return;
    }
    let Some(tld) = h.rsplit('.').next() else {
        return;
    };
    let alphabetic_tld =
        (2..=24).contains(&tld.len()) && tld.chars().all(|c| c.is_ascii_alphabetic());
    if !h.contains('.') || !alphabetic_tld || NOT_TLDS.contains(&tld.to_ascii_lowercase().as_str())
    {
        return;
    }
    // Version strings (`v1.4.0`) and numbers are not hosts.
    if h.split('.')
        .all(|l| l.chars().all(|c| c.is_ascii_digit() || c == 'v'))
    {
        return;
    }
    f.add(Class::Domain, h);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_domains_and_words() {
        assert!(is_kept_domain("harvesterhci.io"));
        assert!(is_kept_domain("releases.rancher.com"));
        assert!(!is_kept_domain("acme.com"));
        assert!(!is_kept_domain("notrancher.com"));
        assert!(contains_word("virt-launcher-web-01-abcde", "web-01"));
        assert!(!contains_word("web-012", "web-01"));
        assert_eq!(trim_generated("bob-7d9f8c6b5-x2x4q"), "bob");
        assert_eq!(trim_generated("bob-tools"), "bob-tools");
        assert!(is_system_namespace("cattle-fleet-system"));
        assert!(!is_system_namespace("acme-prod"));
    }

    #[test]
    fn hosts_from_config_text() {
        let mut f = Found::default();
        for h in [
            "rancher.acme.lab",
            "v1.4.0",
            "kernel.log",
            "10.0.0.1",
            "github.com",
            "ntp1.acme.com",
        ] {
            add_host(&mut f, h);
        }
        let got: Vec<&str> = f.ids.keys().map(String::as_str).collect();
        assert_eq!(got, ["ntp1.acme.com", "rancher.acme.lab"]);
    }
}
