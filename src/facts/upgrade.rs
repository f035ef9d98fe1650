//! What a Harvester upgrade creates and owns, named once: the label that ties an artefact to
//! its Upgrade, the repository VM's name, and which Upgrade an artefact belongs to (by label,
//! or by name for the two artefacts the controller leaves unlabelled). The life cycle, the
//! leftover rules and (issue 14) the incident grouping read it from here.
use crate::index::Object;

/// Label the upgrade controller puts on what it creates for an Upgrade (its name).
pub const UPGRADE_LABEL: &str = "harvesterhci.io/upgrade";

/// The repository VM the controller creates for Upgrade `upgrade`, in `harvester-system`.
pub fn repo_vm_name(upgrade: &str) -> String {
    format!("upgrade-repo-{upgrade}")
}

/// The Upgrade an artefact of `kind` belongs to: its [`UPGRADE_LABEL`], else what its name says
/// for the two unlabelled ones (the skip-restart plan; the repo VM's claim, made from its
/// volumeClaimTemplates as `upgrade-repo-<upgrade>-disk-<n>`).
pub fn owning_upgrade(kind: &str, o: &Object) -> Option<String> {
    if let Some(u) = o.meta.labels.get(UPGRADE_LABEL) {
        return Some(u.clone());
    }
    match kind {
        "Plan" => o
            .key
            .name
            .strip_suffix("-skip-restart-rancher-system-agent")
            .map(str::to_string),
        "PersistentVolumeClaim" => o
            .key
            .name
            .strip_prefix("upgrade-repo-")
            .and_then(|rest| rest.rsplit_once("-disk-"))
            .map(|(u, _)| u.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_by_label_and_by_name() {
        let labelled = Object::from_yaml(
            "VirtualMachine",
            "kubevirt.io",
            "metadata:\n  name: upgrade-repo-hvst-upgrade-a\n  namespace: harvester-system\n  labels:\n    harvesterhci.io/upgrade: hvst-upgrade-a\n",
        );
        assert_eq!(
            owning_upgrade("VirtualMachine", &labelled).as_deref(),
            Some("hvst-upgrade-a")
        );
        let claim = Object::from_yaml(
            "PersistentVolumeClaim",
            "",
            "metadata:\n  name: upgrade-repo-hvst-upgrade-b-disk-0\n  namespace: harvester-system\n",
        );
        assert_eq!(
            owning_upgrade("PersistentVolumeClaim", &claim).as_deref(),
            Some("hvst-upgrade-b")
        );
        let plan = Object::from_yaml(
            "Plan",
            "upgrade.cattle.io",
            "metadata:\n  name: hvst-upgrade-c-skip-restart-rancher-system-agent\n  namespace: cattle-system\n",
        );
        assert_eq!(
            owning_upgrade("Plan", &plan).as_deref(),
            Some("hvst-upgrade-c")
        );
        // An unlabelled object of another kind belongs to nobody, whatever its name.
        let vm = Object::from_yaml(
            "VirtualMachine",
            "kubevirt.io",
            "metadata:\n  name: upgrade-repo-x-disk-0\n  namespace: default\n",
        );
        assert_eq!(owning_upgrade("VirtualMachine", &vm), None);
        assert_eq!(
            repo_vm_name("hvst-upgrade-a"),
            "upgrade-repo-hvst-upgrade-a"
        );
    }
}
