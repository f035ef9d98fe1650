//! Pre-check #16 Kubeconfig Secret: fleet-local/local-kubeconfig carries
//! `cluster.x-k8s.io/cluster-name=local`; informational when the generator left Secrets out.

use super::{Hit, RES, findings, of_kind};
use crate::index::Object;
use crate::rules::{Context, Input, RuleDef, RuleInfo, Severity};

pub(super) const KUBECONFIG_SECRET: RuleDef = RuleDef::new(
    RuleInfo {
        id: "upgrade.precheck.kubeconfig-secret",
        title: "Pre-check #16 Kubeconfig Secret: local-kubeconfig carries cluster.x-k8s.io/cluster-name=local",
        description: "check_kubeconfig_secret lists secrets -n fleet-local -l \
            cluster.x-k8s.io/cluster-name=local and fails unless local-kubeconfig is among \
            them: without the label capi-controller-manager gets Unauthorized and the \
            upgrade stalls (v1.2.2/v1.3.0 → v1.3.1 known issue, #6041). Support bundles \
            usually hold no Secrets, or only fleet-local machine-plan secrets; then the \
            check cannot be judged and an informational finding says so.",
        inputs: &[RES, Input::Resource("", "secrets")],
        versions: "all (check.sh v1.x)",
    },
    |info, cx| {
        findings(
            info,
            cx,
            &[
                "https://docs.harvesterhci.io/v1.3/upgrade/v1-2-2-to-v1-3-1#known-issues",
                "https://github.com/harvester/harvester/issues/6041",
            ],
            eval_kubeconfig_secret(cx),
        )
    },
);

const KUBECONFIG_FIX: &str =
    "$ kubectl label secret local-kubeconfig -n fleet-local cluster.x-k8s.io/cluster-name=local";

/// Whether Secrets were really collected: the generator keeps at most fleet-local's
/// machine-plan secrets, which say nothing about `local-kubeconfig`.
fn secrets_collected(secrets: &[&Object]) -> bool {
    secrets.iter().any(|s| {
        s.key.name == "local-kubeconfig"
            || s.key.namespace != "fleet-local"
            || !s.key.name.ends_with("-machine-plan")
    })
}

fn kubeconfig_secret<'a>(secrets: &[&'a Object]) -> Vec<Hit<'a>> {
    if !secrets_collected(secrets) {
        return vec![Hit {
            subject: "not-evaluated".into(),
            severity: Severity::Info,
            title: "Kubeconfig Secret check not evaluated: the bundle holds no Secrets besides \
                    machine plans"
                .into(),
            summary: format!(
                "The support bundle generator excludes Secrets (it keeps at most fleet-local's \
                 machine-plan secrets: {} here), so whether fleet-local/local-kubeconfig carries \
                 the label cluster.x-k8s.io/cluster-name=local cannot be read.",
                secrets.len()
            ),
            objects: Vec::new(),
            remediation: format!(
                "On the cluster, list the secrets carrying the label:\n$ kubectl get secrets -n \
                 fleet-local -l cluster.x-k8s.io/cluster-name=local | grep local-kubeconfig\n\
                 If nothing is listed, label the secret:\n{KUBECONFIG_FIX}"
            ),
        }];
    }
    let found = secrets
        .iter()
        .copied()
        .find(|s| s.key.namespace == "fleet-local" && s.key.name == "local-kubeconfig");
    match found {
        Some(s)
            if s.meta
                .labels
                .get("cluster.x-k8s.io/cluster-name")
                .map(String::as_str)
                == Some("local") =>
        {
            Vec::new()
        }
        Some(s) => {
            let label = s
                .meta
                .labels
                .get("cluster.x-k8s.io/cluster-name")
                .map(|v| format!("has cluster.x-k8s.io/cluster-name={v}"))
                .unwrap_or_else(|| "has no cluster.x-k8s.io/cluster-name label".into());
            vec![Hit {
                subject: "Secret/fleet-local/local-kubeconfig".into(),
                severity: Severity::Error,
                title: format!(
                    "Secret fleet-local/local-kubeconfig {label} (needs \
                     cluster.x-k8s.io/cluster-name=local)"
                ),
                summary: format!(
                    "Secret fleet-local/local-kubeconfig {label}, so `kubectl get secrets -n \
                     fleet-local -l cluster.x-k8s.io/cluster-name=local` does not list it. \
                     capi-controller-manager then cannot use it (Unauthorized) and the upgrade \
                     stalls waiting for the CAPI cluster (known issue of v1.2.2/v1.3.0 → v1.3.1, \
                     #6041). check_kubeconfig_secret prints \"Couldn't find the appropriate \
                     label on the local-kubeconfig secret.\"; Kubeconfig-Secret Test: Failed."
                ),
                objects: vec![(s, Some("labels:".into()))],
                remediation: format!("Label the secret:\n{KUBECONFIG_FIX}"),
            }]
        }
        None => vec![Hit {
            subject: "Secret/fleet-local/local-kubeconfig".into(),
            severity: Severity::Error,
            title: "Secret fleet-local/local-kubeconfig is missing".into(),
            summary: "The bundle's Secrets include other secrets but not \
                      fleet-local/local-kubeconfig, so check_kubeconfig_secret does not find it \
                      among the secrets labelled cluster.x-k8s.io/cluster-name=local; \
                      Kubeconfig-Secret Test: Failed."
                .into(),
            objects: Vec::new(),
            remediation: format!(
                "Check on the cluster whether the secret exists:\n$ kubectl -n fleet-local get \
                 secret local-kubeconfig --show-labels\nWhen it lacks the label:\n\
                 {KUBECONFIG_FIX}"
            ),
        }],
    }
}

fn eval_kubeconfig_secret<'a>(cx: &Context<'a>) -> Vec<Hit<'a>> {
    kubeconfig_secret(&of_kind(cx.index, "", "Secret"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::precheck::fixtures::object;

    #[test]
    fn kubeconfig_secret_label() {
        let plan = object(
            "Secret",
            "",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: custom-1-machine-plan\n  namespace: fleet-local\n",
        );
        let hits = kubeconfig_secret(&[&plan]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, Severity::Info);

        let unlabelled = object(
            "Secret",
            "",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: local-kubeconfig\n  namespace: fleet-local\n",
        );
        let hits = kubeconfig_secret(&[&plan, &unlabelled]);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].severity, Severity::Error);
        assert_eq!(
            hits[0].remediation,
            format!("Label the secret:\n{KUBECONFIG_FIX}")
        );
        let labelled = object(
            "Secret",
            "",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: local-kubeconfig\n  namespace: fleet-local\n  labels:\n    cluster.x-k8s.io/cluster-name: local\n",
        );
        assert!(kubeconfig_secret(&[&plan, &labelled]).is_empty());
    }
}
