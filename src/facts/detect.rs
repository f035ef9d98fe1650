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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::archive::Limits;

    fn detect_in(root: &Path) -> Versions {
        let bundle = Bundle::open(root, &Limits::default()).unwrap();
        let index = Index::build(&bundle, &|_, _| {});
        versions(&bundle, &index)
    }

    /// A copy of the fleet-stale sample without the listed files or folders.
    fn sample_without(gone: &[&str]) -> tempfile::TempDir {
        fn copy(from: &Path, to: &Path) {
            for e in std::fs::read_dir(from).unwrap() {
                let e = e.unwrap();
                let dst = to.join(e.file_name());
                if e.file_type().unwrap().is_dir() {
                    std::fs::create_dir_all(&dst).unwrap();
                    copy(&e.path(), &dst);
                } else {
                    std::fs::copy(e.path(), &dst).unwrap();
                }
            }
        }
        let t = tempfile::tempdir().unwrap();
        copy(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/fleet-stale-v1.4.0"),
            t.path(),
        );
        for g in gone {
            let p = t.path().join(g);
            if p.is_dir() {
                std::fs::remove_dir_all(p).unwrap();
            } else {
                std::fs::remove_file(p).unwrap();
            }
        }
        t
    }

    const HARVESTER_SETTINGS: &str = "yamls/cluster/harvesterhci.io/v1beta1/settings.yaml";

    #[test]
    fn the_server_version_setting_comes_first() {
        let t = sample_without(&[]);
        let v = detect_in(t.path());
        assert_eq!(v.harvester.as_deref(), Some("v1.4.0"));
        let src = v.harvester_source.unwrap();
        assert!(
            src.starts_with(HARVESTER_SETTINGS) && src.ends_with("(setting server-version)"),
            "{src}"
        );
        assert_eq!(v.kubernetes.as_deref(), Some("v1.29.9+rke2r1"));
        assert!(v.rancher.is_some());
    }

    #[test]
    fn then_the_nodes_release_file_then_the_image_tag() {
        let t = sample_without(&[HARVESTER_SETTINGS]);
        let v = detect_in(t.path());
        assert_eq!(v.harvester.as_deref(), Some("v1.4.0"));
        let src = v.harvester_source.unwrap();
        assert!(
            src.ends_with("/configs/etc/harvester-release.yaml"),
            "{src}"
        );

        let t = sample_without(&[HARVESTER_SETTINGS, "nodes"]);
        let v = detect_in(t.path());
        assert_eq!(v.harvester.as_deref(), Some("v1.4.0"));
        let src = v.harvester_source.unwrap();
        assert!(src.ends_with("(image rancher/harvester:v1.4.0)"), "{src}");

        // Nothing left to say which Harvester captured it.
        let deployments = "yamls/namespaced/harvester-system/apps/v1/deployments.yaml";
        let t = sample_without(&[HARVESTER_SETTINGS, "nodes", deployments]);
        let v = detect_in(t.path());
        assert_eq!((v.harvester, v.harvester_source), (None, None));
    }
}
