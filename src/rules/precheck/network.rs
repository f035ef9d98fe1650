//! Pre-checks #18 Storage-Network-IP-Availability and #19 RWX-Network-IP-Availability
//! (from v1.8.0): free addresses for the new Longhorn managers on the storage network and on a
//! dedicated RWX network, counted from Whereabouts' allocations (the address arithmetic is in
//! `cidr.rs`).
use crate::facts::cluster;
use crate::facts::version::Range;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use serde_json::Value;

use super::cidr::{Cidr, Network, usable_ips};
use super::{Hit, RES, effective, findings, full, json, subject, truthy};
use crate::index::{Index, Object};
use crate::model::typed::core::IpPool;
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};
use crate::text::plural;

pub(super) const STORAGE_NETWORK_IP: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.storage-network-ip",
        title: "Pre-check #18 Storage-Network-IP-Availability: free storage-network IPs for the new Longhorn managers",
        description: "check_storage_network_ip_availability (when setting storage-network \
            has an effective value) counts the free IPv4 addresses of its range — CIDR size \
            minus network and broadcast, minus the `exclude` CIDRs, minus the allocations of \
            the Whereabouts IPPool kube-system/<range with dashes> — and fails when they are \
            fewer than instancemanagers.longhorn.io + backingimagemanagers.longhorn.io (+1 \
            when RWX volumes share the storage network: rwx-network \
            share-storage-network on v1.8+, else Longhorn setting \
            storage-network-for-rwx-volume-enabled). sbdiag reads an IPPool's \
            spec.allocations only when the index keeps IPPools whole (a JSON tree); \
            otherwise it counts Whereabouts' OverlappingRangeIPReservations in the range \
            (one per allocation), else the addresses in the range in the pods' \
            k8s.v1.cni.cncf.io/network-status annotations — a lower bound, so a pass on it \
            is reported as an informational finding. Each finding says which source it \
            used.",
        inputs: &[
            RES,
            Input::Resource("harvesterhci.io", "settings"),
            Input::Resource("longhorn.io", "instancemanagers"),
        ],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &["https://docs.harvesterhci.io/v1.4/advanced/storagenetwork"],
            eval_storage_network_ip(cx),
        )
    },
);

pub(super) const RWX_NETWORK_IP: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.rwx-network-ip",
        title: "Pre-check #19 RWX-Network-IP-Availability: a free IP on the dedicated RWX network",
        description: "check_rwx_network_ip_availability (v1.8.0 and later, when setting \
            rwx-network has a dedicated `network`, i.e. share-storage-network is not true) \
            counts the free IPv4 addresses of that network's range the same way as \
            storage-network-ip and fails when none is left for the upgrade repository's RWX \
            volume. Below v1.8.0: nothing.",
        inputs: &[
            RES,
            Input::HarvesterVersion,
            Input::Resource("harvesterhci.io", "settings"),
        ],
        versions: "v1.8.0+ (nothing below)",
    },
    |info, cx| findings(info, cx, &[], eval_rwx_network_ip(cx)),
)
.only(Range::since(1, 8, 0));

fn network_of(v: &Value) -> Option<Network> {
    let range = v.get("range").and_then(Value::as_str)?.trim().to_string();
    if range.is_empty() {
        return None;
    }
    let exclude = v
        .get("exclude")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(Network { range, exclude })
}

/// Whereabouts names an IPPool after its range: `10.0.0.0/24` → `10.0.0.0-24`.
fn pool_name(range: &str) -> String {
    range.trim().replace(['/', ':'], "-")
}

/// Addresses Whereabouts has allocated in a range, and where sbdiag read them.
struct Allocated<'a> {
    count: u64,
    source: String,
    /// Whether `count` is what the script reads; else a lower bound.
    exact: bool,
    /// Objects to cite, with the text their evidence focuses on.
    objects: Vec<(&'a Object, Option<String>)>,
}

fn allocated<'a>(index: &'a Index, cidr: Cidr, pool: &str) -> Allocated<'a> {
    const G: &str = "whereabouts.cni.cncf.io";
    let pool_obj = index.find(G, "IPPool", "kube-system", pool).or_else(|| {
        index
            .of_kind(G, "IPPool")
            .find(|o| o.key.namespace == "kube-system" && o.key.name.ends_with(pool))
    });
    if let Some(p) = pool_obj
        && let Some(pool) = IpPool::of(p)
    {
        return Allocated {
            count: pool.allocation_count() as u64,
            source: format!("spec.allocations of IPPool {}", full(p)),
            exact: true,
            objects: vec![(p, Some("allocations:".into()))],
        };
    }
    if pool_obj.is_none() && index.has_list(G, "ippools") {
        return Allocated {
            count: 0,
            source: format!("IPPool kube-system/{pool} does not exist: nothing allocated"),
            exact: true,
            objects: Vec::new(),
        };
    }
    let why = match pool_obj {
        Some(p) => format!("sbdiag does not keep the spec of IPPool {}", full(p)),
        None => "the bundle has no IPPool list".into(),
    };
    if index.has_list(G, "overlappingrangeipreservations") {
        let res: Vec<&'a Object> = index
            .of_kind(G, "OverlappingRangeIPReservation")
            .filter(|o| {
                o.key
                    .name
                    .parse::<Ipv4Addr>()
                    .is_ok_and(|ip| cidr.contains(ip))
            })
            .collect();
        return Allocated {
            count: res.len() as u64,
            source: format!(
                "counted from Whereabouts' OverlappingRangeIPReservations named by an address in \
                 the range, as {why}"
            ),
            exact: true,
            objects: res.into_iter().take(3).map(|o| (o, None)).collect(),
        };
    }
    let mut ips: BTreeSet<Ipv4Addr> = BTreeSet::new();
    let mut pods: Vec<&'a Object> = Vec::new();
    for p in index.of_kind("", "Pod") {
        let Some(status) = p
            .meta
            .annotations
            .get("k8s.v1.cni.cncf.io/network-status")
            .and_then(|s| json(s))
        else {
            continue;
        };
        let mut hit = false;
        for net in status.as_array().map(Vec::as_slice).unwrap_or_default() {
            for ip in net
                .get("ips")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if let Some(ip) = ip.as_str().and_then(|s| s.parse::<Ipv4Addr>().ok())
                    && cidr.contains(ip)
                {
                    ips.insert(ip);
                    hit = true;
                }
            }
        }
        if hit {
            pods.push(p);
        }
    }
    Allocated {
        count: ips.len() as u64,
        source: format!(
            "counted from the addresses in the range in the pods' \
             k8s.v1.cni.cncf.io/network-status annotations, as {why}; a lower bound, since \
             allocations left by pods that are gone are not seen"
        ),
        exact: false,
        objects: pods
            .into_iter()
            .take(3)
            .map(|o| (o, Some("k8s.v1.cni.cncf.io/network-status".into())))
            .collect(),
    }
}

/// What the upgrade needs on a network.
struct Need {
    count: u64,
    why: String,
}

/// The availability verdict for one network: `label` names it.
fn ip_availability<'a>(
    label: &str,
    setting: &'a Object,
    net: &Network,
    alloc: &Allocated<'a>,
    need: &Need,
    fix: &str,
) -> Vec<Hit<'a>> {
    let (cidr, usable, excluded) = match usable_ips(net) {
        Ok(u) => u,
        Err(e) => {
            return vec![Hit {
                subject: subject(setting, "invalid"),
                severity: Severity::Warning,
                title: format!("The {label} range cannot be counted: {e}"),
                summary: format!(
                    "Setting {}: range {:?}, exclude {:?}: {e}. The script's IP arithmetic \
                     needs an IPv4 CIDR; free addresses were not counted.",
                    setting.key.name, net.range, net.exclude
                ),
                objects: vec![(setting, Some("value:".into()))],
                remediation: fix.into(),
            }];
        }
    };
    let free = usable.saturating_sub(alloc.count);
    if free >= need.count {
        if alloc.exact {
            return Vec::new();
        }
        return vec![Hit {
            subject: subject(setting, "allocations-estimated"),
            severity: Severity::Info,
            title: format!(
                "The {label} {} has at most {free} free IPs for the {} the upgrade needs \
                 (allocations estimated)",
                net.range, need.count
            ),
            summary: format!(
                "Usable: {} − 2 (network, broadcast) − {excluded} excluded = {usable}; allocated: \
                 at least {} ({}); needed: {} — {}. The script reads the IPPool's allocations, \
                 which the bundle does not give sbdiag; verify on the cluster when the margin is \
                 small.",
                cidr.size(),
                alloc.count,
                alloc.source,
                need.count,
                need.why
            ),
            objects: vec![(setting, Some("value:".into()))],
            remediation: format!(
                "On the cluster, the number of spec.allocations must leave at least {1} of the \
                 {usable} usable addresses free:\n$ kubectl -n kube-system get \
                 ippools.whereabouts.cni.cncf.io {0} -o yaml",
                pool_name(&net.range),
                need.count
            ),
        }];
    }
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "Setting {} defines {label} {} ({} addresses) with exclude [{}].",
        setting.key.name,
        net.range,
        cidr.size(),
        net.exclude.join(", ")
    );
    let _ = writeln!(
        summary,
        "Usable: {} − 2 (network, broadcast) − {excluded} excluded = {usable}; allocated: {}{} — \
         {}; free: {}{free}.",
        cidr.size(),
        if alloc.exact { "" } else { "at least " },
        alloc.count,
        alloc.source,
        if alloc.exact { "" } else { "at most " }
    );
    let _ = writeln!(
        summary,
        "Needed: {} — {}. The script fails when the free addresses are fewer; the new pods \
         then wait for an address and the upgrade stalls.",
        need.count, need.why
    );
    let mut objects: Vec<(&'a Object, Option<String>)> = vec![(setting, Some("value:".into()))];
    objects.extend(alloc.objects.iter().cloned());
    vec![Hit {
        subject: subject(setting, ""),
        severity: Severity::Error,
        title: format!(
            "The {label} {} has {}{free} free IPs, the upgrade needs {}",
            net.range,
            if alloc.exact { "" } else { "at most " },
            need.count
        ),
        summary,
        objects,
        remediation: fix.into(),
    }]
}

/// Whether RWX volumes share the storage network: `rwx-network` (v1.8+) `share-storage-network`,
/// else Longhorn's `storage-network-for-rwx-volume-enabled`.
fn rwx_shares_storage(index: &Index) -> (bool, String) {
    if let Some(v) = cluster::setting_object(index, "harvesterhci.io", "rwx-network")
        .and_then(effective)
        .and_then(json)
    {
        let shared = truthy(v.get("share-storage-network"));
        return (
            shared,
            format!("setting rwx-network share-storage-network is {shared}"),
        );
    }
    let lh = cluster::setting_object(
        index,
        "longhorn.io",
        "storage-network-for-rwx-volume-enabled",
    )
    .and_then(effective)
    .map(|v| v.eq_ignore_ascii_case("true"));
    match lh {
        Some(b) => (
            b,
            format!("Longhorn setting storage-network-for-rwx-volume-enabled is {b}"),
        ),
        None => (false, "RWX does not use the storage network".into()),
    }
}

const STORAGE_FIX: &str = "Give the storage network enough free addresses before upgrading: widen \
    the range or drop excludes in setting storage-network (Harvester UI → Advanced → Settings → \
    storage-network; changing it requires every VM to be stopped), and check the Whereabouts \
    IPPool in kube-system for allocations whose pods are gone.";

fn storage_network<'a>(
    setting: &'a Object,
    shared: (bool, String),
    instance_managers: usize,
    backing_image_managers: usize,
    alloc: impl FnOnce(Cidr, &str) -> Allocated<'a>,
) -> Vec<Hit<'a>> {
    let Some(value) = effective(setting) else {
        return Vec::new();
    };
    let Some(net) = json(value).as_ref().and_then(network_of) else {
        return vec![Hit {
            subject: subject(setting, "invalid"),
            severity: Severity::Warning,
            title: "Setting storage-network has no readable range".into(),
            summary: format!(
                "Setting storage-network is {value:?}: no JSON object with a range, so free \
                 addresses cannot be counted."
            ),
            objects: vec![(setting, Some("value:".into()))],
            remediation: STORAGE_FIX.into(),
        }];
    };
    let mut need = Need {
        count: (instance_managers + backing_image_managers) as u64,
        why: format!(
            "one per new Longhorn manager: {} + {}",
            plural(instance_managers, "instance manager", "instance managers"),
            plural(
                backing_image_managers,
                "backing-image manager",
                "backing-image managers"
            )
        ),
    };
    if shared.0 {
        need.count += 1;
        let _ = write!(
            need.why,
            ", + 1 for the upgrade repository's RWX volume ({})",
            shared.1
        );
    }
    if need.count == 0 {
        return Vec::new();
    }
    let allocated = match Cidr::parse(&net.range) {
        Some(c) => alloc(c, &pool_name(&net.range)),
        None => Allocated {
            count: 0,
            source: String::new(),
            exact: true,
            objects: Vec::new(),
        },
    };
    ip_availability(
        "storage network",
        setting,
        &net,
        &allocated,
        &need,
        STORAGE_FIX,
    )
}

fn eval_storage_network_ip<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    if !cx.index.has_list("harvesterhci.io", "settings") {
        // Harvester always has settings: an absent list was not collected (bundles before
        // support-bundle-kit v0.0.26 / Harvester v1.1.3 leave it out).
        return vec![Hit {
            subject: "not-evaluated".into(),
            severity: Severity::Info,
            title: "Storage-network IP check not evaluated: the bundle has no Harvester settings"
                .into(),
            summary: "settings.harvesterhci.io is not in the bundle (support-bundle-kit adds it \
                      from v0.0.26, Harvester v1.1.3), so whether a storage network is configured \
                      cannot be read."
                .into(),
            objects: Vec::new(),
            remediation: "On the cluster, read the setting; when it has a value, compare the free \
                          addresses of its range with the number of Longhorn instance and \
                          backing-image managers:\n$ kubectl get settings.harvesterhci.io \
                          storage-network -o yaml"
                .into(),
        }];
    }
    let Some(setting) = cluster::setting_object(cx.index, "harvesterhci.io", "storage-network")
    else {
        return Vec::new();
    };
    storage_network(
        setting,
        rwx_shares_storage(cx.index),
        cx.index.of_kind("longhorn.io", "InstanceManager").count(),
        cx.index
            .of_kind("longhorn.io", "BackingImageManager")
            .count(),
        |c, p| allocated(cx.index, c, p),
    )
}

const RWX_FIX: &str = "Free an address on the dedicated RWX network before upgrading: widen the \
    range or drop excludes in setting rwx-network, and check the Whereabouts IPPool in \
    kube-system for allocations whose pods are gone.";

fn rwx_network<'a>(
    setting: &'a Object,
    alloc: impl FnOnce(Cidr, &str) -> Allocated<'a>,
) -> Vec<Hit<'a>> {
    let Some(v) = effective(setting).and_then(json) else {
        return Vec::new();
    };
    if truthy(v.get("share-storage-network")) {
        return Vec::new();
    }
    let Some(net) = v.get("network").and_then(network_of) else {
        return Vec::new();
    };
    let allocated = match Cidr::parse(&net.range) {
        Some(c) => alloc(c, &pool_name(&net.range)),
        None => Allocated {
            count: 0,
            source: String::new(),
            exact: true,
            objects: Vec::new(),
        },
    };
    ip_availability(
        "dedicated RWX network",
        setting,
        &net,
        &allocated,
        &Need {
            count: 1,
            why: "one for the upgrade repository's RWX volume".into(),
        },
        RWX_FIX,
    )
}

fn eval_rwx_network_ip<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    let Some(setting) = cluster::setting_object(cx.index, "harvesterhci.io", "rwx-network") else {
        return Vec::new();
    };
    rwx_network(setting, |c, p| allocated(cx.index, c, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::{object, setting};

    fn alloc<'a>(n: u64) -> impl FnOnce(Cidr, &str) -> Allocated<'a> {
        move |_, _| Allocated {
            count: n,
            source: "test".into(),
            exact: true,
            objects: Vec::new(),
        }
    }

    fn estimated<'a>(n: u64) -> impl FnOnce(Cidr, &str) -> Allocated<'a> {
        move |_, _| Allocated {
            count: n,
            source: "pods".into(),
            exact: false,
            objects: Vec::new(),
        }
    }

    #[test]
    fn storage_network_ip_counting() {
        assert_eq!(pool_name("10.0.0.0/29"), "10.0.0.0-29");

        let s = setting(
            "storage-network",
            r#"{"vlan":100,"clusterNetwork":"storage","range":"10.0.0.0/29","exclude":["10.0.0.1/32"]}"#,
        );
        // 5 usable, 3 allocated → 2 free; 2 instance managers fit…
        assert!(storage_network(&s, (false, String::new()), 2, 0, alloc(3)).is_empty());
        // …3 do not, nor 2 plus a backing-image manager, nor 2 plus a shared RWX network.
        let hits = storage_network(&s, (false, String::new()), 3, 0, alloc(3));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].subject, "Setting/storage-network");
        assert!(
            hits[0].title.contains("2 free IPs, the upgrade needs 3"),
            "{}",
            hits[0].title
        );
        assert!(
            hits[0]
                .summary
                .contains("8 − 2 (network, broadcast) − 1 excluded = 5")
        );
        assert_eq!(
            storage_network(&s, (false, String::new()), 2, 1, alloc(3)).len(),
            1
        );
        assert_eq!(
            storage_network(&s, (true, "shared".into()), 2, 0, alloc(3)).len(),
            1
        );
        // Allocations estimated from pods: a pass is only informational, a failure stands.
        let info = storage_network(&s, (false, String::new()), 2, 0, estimated(3));
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].severity, Severity::Info);
        let fail = storage_network(&s, (false, String::new()), 3, 0, estimated(3));
        assert_eq!(fail[0].severity, Severity::Error);
        assert!(fail[0].title.contains("at most 2 free IPs"));
        // Not configured: nothing to check.
        let empty = object(
            "Setting",
            "harvesterhci.io",
            "apiVersion: harvesterhci.io/v1beta1\nkind: Setting\nmetadata:\n  name: storage-network\nvalue: \"null\"\n",
        );
        assert!(storage_network(&empty, (true, String::new()), 9, 9, alloc(0)).is_empty());
    }

    #[test]
    fn rwx_network_needs_one_free_ip_on_a_dedicated_network() {
        let dedicated = setting(
            "rwx-network",
            r#"{"share-storage-network":false,"network":{"vlan":20,"clusterNetwork":"rwx","range":"10.1.0.0/30"}}"#,
        );
        assert!(rwx_network(&dedicated, alloc(1)).is_empty());
        assert_eq!(rwx_network(&dedicated, alloc(2)).len(), 1);
        let shared = setting("rwx-network", r#"{"share-storage-network":true}"#);
        assert!(rwx_network(&shared, alloc(100)).is_empty());
    }
}
