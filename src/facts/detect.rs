//! Version detection: nothing in `metadata.yaml` says which Harvester captured the bundle, so
//! it is inferred from the Harvester `server-version` setting, the nodes'
//! `harvester-release.yaml`, or the image tag of the `harvester` Deployment, in that order.
//! Runs after the index (it reads indexed settings, nodes and workloads).
use serde::Serialize;

use crate::bundle::Bundle;
use crate::index::Index;
use crate::model::View;

/// Versions found in the bundle, each with where it came from.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Versions {
    /// Harvester version, `None` when nothing said.
    pub harvester: Option<String>,
    /// Where the Harvester version was read.
    pub harvester_source: Option<String>,
    /// Kubernetes version (metadata.yaml, else node kubelet).
    pub kubernetes: Option<String>,
    /// Rancher version (Rancher `server-version` setting, else node release file).
    pub rancher: Option<String>,
}

fn setting(index: &Index, group: &str, name: &str) -> Option<(String, String)> {
    let o = index.find(group, "Setting", "", name)?;
    let View::Setting(s) = &o.view else {
        return None;
    };
    let v = s.effective()?.trim();
    (!v.is_empty()).then(|| {
        let file = index
            .file_of(o)
            .map(|f| f.path.as_str())
            .unwrap_or_default();
        (v.to_string(), format!("{file}:{} (setting {name})", o.line))
    })
}

/// Detects the versions the bundle reveals (runs after the index: it reads settings and
/// workloads).
pub fn versions(bundle: &Bundle, index: &Index) -> Versions {
    let mut v = Versions::default();
    if let Some((ver, src)) = setting(index, "harvesterhci.io", "server-version") {
        v.harvester = Some(ver);
        v.harvester_source = Some(src);
    } else if let Some(n) = bundle
        .nodes
        .iter()
        .find(|n| n.release_value("harvester").is_some())
    {
        v.harvester = n.release_value("harvester").map(str::to_owned);
        v.harvester_source = Some(format!(
            "{}!{}/configs/etc/harvester-release.yaml",
            n.zip_path, n.name
        ));
    } else if let Some((tag, src)) = harvester_image_tag(index) {
        v.harvester = Some(tag);
        v.harvester_source = Some(src);
    }
    v.kubernetes = bundle
        .metadata
        .as_ref()
        .and_then(|m| m.kubernetesversion.clone())
        .or_else(|| {
            index.of_kind("", "Node").find_map(|n| match &n.view {
                View::Node(nv) => nv.kubelet_version.clone(),
                _ => None,
            })
        });
    v.rancher = setting(index, "management.cattle.io", "server-version")
        .map(|(s, _)| s)
        .or_else(|| {
            bundle
                .nodes
                .iter()
                .find_map(|n| n.release_value("rancher").map(str::to_owned))
        });
    v
}

fn harvester_image_tag(index: &Index) -> Option<(String, String)> {
    let o = index.find("apps", "Deployment", "harvester-system", "harvester")?;
    let View::Workload(w) = &o.view else {
        return None;
    };
    let c = w
        .containers
        .iter()
        .find(|c| c.image.contains("/harvester:") || c.image.starts_with("harvester:"))?;
    let tag = c.image.rsplit_once(':')?.1.to_string();
    let file = index
        .file_of(o)
        .map(|f| f.path.as_str())
        .unwrap_or_default();
    Some((tag, format!("{file}:{} (image {})", o.line, c.image)))
}

/// Parses `v1.4.0`, `1.4`, `v1.5.0-rc1` into (major, minor, patch); dev builds give `None`.
pub fn semver(v: &str) -> Option<(u64, u64, u64)> {
    let v = v.trim().trim_start_matches('v');
    let core = v.split(['-', '+']).next()?;
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    let patch = it.next().map(|p| p.parse().ok()).unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::semver;

    #[test]
    fn semver_parsing() {
        assert_eq!(semver("v1.4.0"), Some((1, 4, 0)));
        assert_eq!(semver("v1.5.0-rc1"), Some((1, 5, 0)));
        assert_eq!(semver("1.4"), Some((1, 4, 0)));
        assert_eq!(semver("master-head"), None);
        assert_eq!(semver("1a861fc-dirty"), None);
    }
}
