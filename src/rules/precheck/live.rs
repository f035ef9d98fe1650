//! Pre-checks only the live machine can answer: #1 Host (where the script runs), #2
//! Certificates (RKE2 certificate files), #3 Node-Free-Space (kubelet image-filesystem stats),
//! #20 Network-Config (`/oem` files) and #21 COS_STATE-Size (`df` on every node). Each declares
//! `Input::Live`, so the engine reports it `not_evaluated` and its evaluation never runs;
//! #20 and #21, which the script runs only on v1.6.x and v1.7.x, are `not_applicable` on other
//! versions.

use crate::facts::version::Range;
use crate::rules::{Context, Finding, Input, RuleDef, RuleInfo};

pub(super) const HOST: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.host",
        title: "Pre-check #1 Host: the script runs on a control-plane node",
        description: "check_host compares `hostname` of the machine running the script with \
            the nodes labelled node-role.kubernetes.io/control-plane=true and prompts when it \
            is not one of them (skipped with -y). It is about where the script runs, not \
            about the cluster, so a bundle cannot answer it.",
        inputs: &[Input::Live(
            "the hostname of the machine running check.sh, compared with the control-plane \
             nodes",
        )],
        versions: "all (check.sh v1.x)",
    },
    live,
);

pub(super) const CERTIFICATES: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.certificates",
        title: "Pre-check #2 Certificates: RKE2 certificates on the node not expired or expiring",
        description: "check_certs runs `openssl x509 -checkend` on every \
            /var/lib/rancher/rke2/server/tls/**/*.crt of the node it runs on: an expired \
            certificate fails, one expiring within 10 days (864000 s) is a warning. Fix: \
            bump spec.rkeConfig.rotateCertificates.generation of \
            clusters.provisioning.cattle.io local -n fleet-local (or enable setting \
            auto-rotate-rke2-certs); issue #3863. Support bundles do not hold the \
            certificate files.",
        inputs: &[Input::Live(
            "the certificate files /var/lib/rancher/rke2/server/tls/**/*.crt on a \
             control-plane node (openssl x509 -checkend 0 / 864000)",
        )],
        versions: "all (check.sh v1.x)",
    },
    live,
);

pub(super) const NODE_FREE_SPACE: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.node-free-space",
        title: "Pre-check #3 Node-Free-Space: room for the new images on every node",
        description: "check_free_space reads each node's kubelet stats \
            (/api/v1/nodes/<n>/proxy/stats/summary: node.fs.usedBytes, capacityBytes) and \
            fails when (used + 13958643712 B) / capacity > 0.85 — the webhook's image-GC \
            check (C18) with a fixed 85 % threshold. Kubelet stats are not in a bundle (the \
            upgrade.admission C17/C18 findings give the DiskPressure proxy); run `df -h \
            /usr/local` on each node.",
        inputs: &[Input::Live(
            "kubelet /stats/summary of every node (node.fs.usedBytes, node.fs.capacityBytes)",
        )],
        versions: "all (check.sh v1.x)",
    },
    live,
);

pub(super) const NETWORK_CONFIG: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.network-config",
        title: "Pre-check #20 Network-Config: OEM network configuration in the layout the upgrade expects",
        description: "Only when the running version is v1.6.x: a DaemonSet \
            upgrade-helper-network-config-check reads each node's /oem/90_custom.yaml, \
            /oem/99_custom.yaml and /oem/harvester.config. /oem/90_custom.yaml must exist \
            (systems installed with v1.0 have 99_custom.yaml and need it renamed), and \
            harvester.config must set install.managementinterface (or \
            install.management_interface) and not use the old install.networks schema. Node \
            bundles do not contain /oem.",
        inputs: &[Input::Live(
            "/oem/90_custom.yaml, /oem/99_custom.yaml and /oem/harvester.config on every node \
             (the check runs only when the running version is v1.6.x)",
        )],
        versions: "v1.6.x only",
    },
    live,
)
.only(Range::through_minor((1, 6, 0), (1, 6)));

pub(super) const COS_STATE_SIZE: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.cos-state-size",
        title: "Pre-check #21 COS_STATE-Size: the COS_STATE partition can hold the v1.8 OS image",
        description: "Only when the running version is v1.7.x: a DaemonSet runs `df \
            /run/initramfs/cos-state/` on every node; a partition smaller than 15 GB is an \
            error — upgrading to Harvester v1.8.x would result in a corrupt OS image (issue \
            #10687).",
        inputs: &[Input::Live(
            "the size of /run/initramfs/cos-state on every node (df; the check runs only when \
             the running version is v1.7.x)",
        )],
        versions: "v1.7.x only",
    },
    live,
)
.only(Range::through_minor((1, 7, 0), (1, 7)));

/// Never called: the engine reports a rule with a live input as `not_evaluated`.
fn live(_: &RuleInfo, _: &Context) -> Vec<Finding> {
    Vec::new()
}
