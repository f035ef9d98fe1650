//! The object index: every item of every resource list, keyed by (group, kind, namespace,
//! name), with its file and line range and its typed view. Files are read and split in
//! parallel (rayon); each item is decoded on its own, so one broken item or file becomes a
//! `parse_errors` entry and the rest is indexed. The same object served by two API groups
//! (core and `events.k8s.io` events, `extensions` and `networking.k8s.io` ingresses) is kept
//! once, the other copy marked as an alias.
pub mod split;

use std::collections::HashMap;
use std::sync::Mutex;

use rayon::prelude::*;
use serde::Serialize;

use crate::bundle::{Bundle, BundleFile, PathKind};
use crate::model::kinds::ResourceType;
use crate::model::typed::Kind;
use crate::model::views::{self, CommonStatus, View};
use crate::model::{Meta, MetaCore, ObjectKey, split_api_version};

/// One indexed object.
#[derive(Debug, Clone)]
pub struct Object {
    /// Identity.
    pub key: ObjectKey,
    /// API version.
    pub version: String,
    /// Index into [`Index::files`] (whose entry gives the plural resource name).
    pub file: u32,
    /// First line of the item in its file (1-based).
    pub line: u32,
    /// Last line of the item.
    pub end_line: u32,
    /// Line of `metadata.name`: the line evidence about the object as a whole points at.
    pub name_line: u32,
    /// Metadata but the name and namespace, which are in `key`.
    pub meta: MetaCore,
    /// Common status.
    pub status: CommonStatus,
    /// Typed view.
    pub view: View,
    /// When this is a second copy served by another API group, the primary object's index.
    pub alias_of: Option<usize>,
}

impl Object {
    /// The object's generic tree, for kinds without a typed view of their own.
    pub fn tree(&self) -> Option<&crate::model::tree::Tree> {
        match &self.view {
            crate::model::views::View::Tree(t) => Some(t),
            _ => None,
        }
    }

    /// `group/version` (`v1` for the core group).
    pub fn api_version(&self) -> String {
        if self.key.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.key.group, self.version)
        }
    }
}

impl crate::model::typed::Stored for Object {
    fn group(&self) -> &str {
        &self.key.group
    }
    fn kind(&self) -> &str {
        &self.key.kind
    }
    fn stored_tree(&self) -> Option<&crate::model::tree::Tree> {
        self.tree()
    }
}

#[cfg(test)]
impl Object {
    /// An object decoded from one item's YAML (version `v1`, line 1), for unit tests.
    pub(crate) fn from_yaml(kind: &str, group: &str, yaml: &str) -> Object {
        let d = views::decode(kind, group, yaml).expect("test YAML decodes");
        Object {
            key: ObjectKey {
                group: group.into(),
                kind: kind.into(),
                namespace: d.meta.namespace,
                name: d.meta.name,
            },
            version: "v1".into(),
            file: 0,
            line: 1,
            end_line: 1,
            name_line: 1,
            meta: d.meta.core,
            status: d.status,
            view: d.view,
            alias_of: None,
        }
    }
}

#[cfg(test)]
impl Index {
    /// An index of objects, each given as one item's YAML whose top-level `apiVersion` and
    /// `kind` say what it is (file 0, line 1), for unit tests of facts and rules.
    pub(crate) fn from_yaml_objects(items: &[&str]) -> Index {
        let top = |y: &str, key: &str| -> String {
            y.lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().trim_matches('"').to_string())
                .unwrap_or_default()
        };
        let objects = items
            .iter()
            .map(|y| {
                let api = top(y, "apiVersion:");
                let (group, version) = api.rsplit_once('/').unwrap_or(("", api.as_str()));
                let mut o = Object::from_yaml(&top(y, "kind:"), group, y);
                o.version = version.into();
                o
            })
            .collect();
        let mut idx = Index {
            objects,
            ..Index::default()
        };
        idx.finish();
        idx
    }
}

/// A resource list file.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Bundle-relative path.
    pub path: String,
    /// Namespace of the folder (`""` for cluster lists).
    pub namespace: String,
    /// API group of the folder.
    pub group: String,
    /// API version of the folder.
    pub version: String,
    /// Plural resource name.
    pub resource: String,
    /// Items found.
    pub items: usize,
}

/// A file or item that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct ParseError {
    /// Bundle-relative file.
    pub file: String,
    /// Line (1-based) where the problem is.
    pub line: u32,
    /// What is wrong.
    pub error: String,
}

/// The index of a bundle.
#[derive(Debug, Default)]
pub struct Index {
    /// Objects sorted by key (aliases included, marked).
    pub objects: Vec<Object>,
    /// Resource list files, sorted by path.
    pub files: Vec<FileInfo>,
    /// Parse errors, sorted.
    pub parse_errors: Vec<ParseError>,
    /// Number of objects that are not aliases.
    primary_count: usize,
}

/// Groups whose copy of an object is the primary one when two groups serve it.
const PRIMARY_GROUPS: &[&str] = &["", "networking.k8s.io", "apps", "policy"];

/// Groups whose objects another group also serves (core/events.k8s.io events,
/// extensions/networking.k8s.io ingresses and network policies, extensions/apps workloads,
/// extensions/policy pod security policies).
const ALIAS_GROUPS: &[&str] = &[
    "",
    "events.k8s.io",
    "extensions",
    "networking.k8s.io",
    "apps",
    "policy",
];

impl Index {
    /// Indexes every resource list of the bundle. `progress(done, total)` is called as files
    /// finish.
    pub fn build(bundle: &Bundle, progress: &(dyn Fn(usize, usize) + Sync)) -> Index {
        Index::build_with(bundle, progress, Views::All)
    }

    /// [`Index::build`], decoding the typed views of the objects `views` names only: the
    /// others keep their identity, metadata and common status, with the generic view. For
    /// readers of names and metadata (redaction), which need not pay for every view.
    pub fn build_with(
        bundle: &Bundle,
        progress: &(dyn Fn(usize, usize) + Sync),
        wanted: Views<'_>,
    ) -> Index {
        let lists: Vec<&BundleFile> = bundle.resource_lists().collect();
        let entries: Vec<_> = lists.iter().filter_map(|f| bundle.entry(f)).collect();
        let by_entry: HashMap<&str, usize> = lists
            .iter()
            .enumerate()
            .map(|(i, f)| (f.entry.as_str(), i))
            .collect();
        // Each file's objects (their `file` is the list's position until the end), moved into
        // one vector of the exact size at the end, file by file, each file's vector freed as
        // soon as it is moved: growing one vector as files finish copied it whole at every
        // doubling, the last copy at the index's peak.
        let chunks: Mutex<Vec<Vec<Object>>> = Mutex::new(Vec::with_capacity(lists.len()));
        // (list position, items, errors) of each file read.
        let results: Mutex<Vec<(usize, usize, Vec<ParseError>)>> =
            Mutex::new(Vec::with_capacity(lists.len()));
        let done = std::sync::atomic::AtomicUsize::new(0);
        let total = lists.len();
        let handle = |entry: &crate::archive::Entry,
                      bytes: crate::error::Result<Vec<u8>>,
                      twins: Option<&Twins>| {
            let Some(&i) = by_entry.get(entry.path.as_str()) else {
                return;
            };
            let Some(f) = lists.get(i) else { return };
            let mut r = match bytes {
                Ok(b) => index_file(f, &b, twins, wanted),
                Err(e) => FileResult::failed(&f.path, 0, e.to_string()),
            };
            let items = r.objects.len();
            if let PathKind::ResourceList {
                namespace,
                group,
                version,
                ..
            } = &f.kind
            {
                for o in &mut r.objects {
                    o.file = i as u32;
                    if o.key.namespace.is_empty() {
                        o.key.namespace.clone_from(namespace);
                    }
                    if o.key.group.is_empty() && o.version.is_empty() {
                        o.key.group.clone_from(group);
                        o.version.clone_from(version);
                    }
                }
            }
            if let Ok(mut c) = chunks.lock() {
                c.push(std::mem::take(&mut r.objects));
            }
            if let Ok(mut v) = results.lock() {
                v.push((i, items, r.errors));
            }
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(d, total);
        };
        // Core event lists first when entries can be read in any order (zip, folder), so the
        // `events.k8s.io` copies are known as such when decoded ([`Twins`]); a tar is read
        // in one pass, its copies decoded whole.
        let core_events = |e: &&crate::archive::Entry| {
            by_entry
                .get(e.path.as_str())
                .and_then(|&i| lists.get(i))
                .is_some_and(|f| {
                    matches!(&f.kind, PathKind::ResourceList { group, resource, .. }
                        if group.is_empty() && resource == "events")
                })
        };
        let random_access = matches!(
            bundle.archive.format(),
            crate::archive::Format::Zip | crate::archive::Format::Dir
        );
        let read = if random_access {
            let (first, rest): (Vec<_>, Vec<_>) = entries.iter().copied().partition(core_events);
            let read = bundle.archive.read_many(&first, |e, b| handle(e, b, None));
            let twins: Twins = chunks
                .lock()
                .map(|c| {
                    c.iter()
                        .flatten()
                        .filter(|o| o.key.kind == "Event" && o.key.group.is_empty())
                        .map(|o| o.meta.uid.clone())
                        .filter(|u| !u.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let rest_read = bundle
                .archive
                .read_many(&rest, |e, b| handle(e, b, Some(&twins)));
            read.and(rest_read)
        } else {
            bundle
                .archive
                .read_many(&entries, |e, b| handle(e, b, None))
        };
        let mut results = results.into_inner().unwrap_or_default();
        results.sort_by_key(|(i, _, _)| *i);
        let chunks = chunks.into_inner().unwrap_or_default();
        let mut objects = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
        for chunk in chunks {
            objects.extend(chunk);
        }
        let mut idx = Index {
            objects,
            ..Index::default()
        };
        if let Err(e) = read {
            idx.parse_errors.push(ParseError {
                file: bundle.source.clone(),
                line: 0,
                error: e.to_string(),
            });
        }
        // List position -> file id (position in `idx.files`).
        let mut file_id = vec![0u32; lists.len()];
        for (i, items, errors) in results {
            let Some(f) = lists.get(i) else { continue };
            let PathKind::ResourceList {
                namespace,
                group,
                version,
                resource,
            } = &f.kind
            else {
                continue;
            };
            if let Some(slot) = file_id.get_mut(i) {
                *slot = idx.files.len() as u32;
            }
            idx.files.push(FileInfo {
                path: f.path.clone(),
                namespace: namespace.clone(),
                group: group.clone(),
                version: version.clone(),
                resource: resource.clone(),
                items,
            });
            idx.parse_errors.extend(errors);
        }
        for o in &mut idx.objects {
            o.file = file_id.get(o.file as usize).copied().unwrap_or(0);
        }
        idx.finish();
        idx
    }

    fn finish(&mut self) {
        // (key, file, line) is unique, so the unstable sort (no buffer of half the objects)
        // gives the same order every run.
        self.objects.sort_unstable_by(|a, b| {
            a.key
                .cmp(&b.key)
                .then_with(|| a.file.cmp(&b.file))
                .then_with(|| a.line.cmp(&b.line))
        });
        self.parse_errors.sort();
        // Same key twice (e.g. one group in two versions): the first is primary.
        for i in 1..self.objects.len() {
            let same = match (self.objects.get(i - 1), self.objects.get(i)) {
                (Some(a), Some(b)) => a.key == b.key,
                _ => false,
            };
            if same {
                let primary = self
                    .objects
                    .get(i - 1)
                    .and_then(|a| a.alias_of)
                    .unwrap_or(i - 1);
                if let Some(o) = self.objects.get_mut(i) {
                    o.alias_of = Some(primary);
                }
            }
        }
        // Same uid and kind under two groups that serve the same objects: keep the preferred
        // group's copy. Only the groups the API server really doubles up are considered, so
        // unrelated kinds that share a name (fleet, CAPI and provisioning `Cluster`s) and a
        // (bogus) uid stay distinct.
        // (kind, uid, position), sorted: objects sharing a kind and uid are adjacent (a
        // sorted vector, not a map of vectors: a tenth of the memory at the index's peak).
        let mut by_uid: Vec<(&str, &str, usize)> = self
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                !o.meta.uid.is_empty()
                    && o.alias_of.is_none()
                    && ALIAS_GROUPS.contains(&o.key.group.as_str())
            })
            .map(|(i, o)| (o.key.kind.as_str(), o.meta.uid.as_str(), i))
            .collect();
        by_uid.sort_unstable();
        let mut aliases = Vec::new();
        for same in by_uid.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
            if same.len() < 2 {
                continue;
            }
            let ids = same.iter().map(|x| x.2);
            let rank = |i: &usize| {
                let g = self
                    .objects
                    .get(*i)
                    .map(|o| o.key.group.as_str())
                    .unwrap_or("");
                (
                    PRIMARY_GROUPS
                        .iter()
                        .position(|p| *p == g)
                        .unwrap_or(usize::MAX),
                    g.to_string(),
                )
            };
            let Some(primary) = ids.clone().min_by_key(rank) else {
                continue;
            };
            aliases.extend(ids.filter(|&i| i != primary).map(|i| (i, primary)));
        }
        for (i, p) in aliases {
            if let Some(o) = self.objects.get_mut(i) {
                o.alias_of = Some(p);
            }
        }
        self.primary_count = self.objects.iter().filter(|o| o.alias_of.is_none()).count();
    }

    /// Objects that are not aliases of another.
    pub fn primary(&self) -> impl Iterator<Item = &Object> {
        self.objects.iter().filter(|o| o.alias_of.is_none())
    }

    /// Number of distinct objects.
    pub fn object_count(&self) -> usize {
        self.primary_count
    }

    /// The object with this key.
    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.position(key).and_then(|i| self.objects.get(i))
    }

    /// The typed view to show for `o`: its own, or for a copy kept light (an `events.k8s.io`
    /// copy of a core Event, see [`Twins`]) the view of the object it copies.
    pub fn view_of<'a>(&'a self, o: &'a Object) -> &'a View {
        match (&o.view, o.alias_of.and_then(|p| self.objects.get(p))) {
            (View::Generic, Some(primary)) => &primary.view,
            (v, _) => v,
        }
    }

    /// Position in [`Index::objects`] of the object with this key: the one that is not an
    /// alias among the objects with that key. A binary search of the sorted objects (a hash
    /// map of keys would hold a second copy of every key).
    pub fn position(&self, key: &ObjectKey) -> Option<usize> {
        let start = self.objects.partition_point(|o| o.key < *key);
        self.objects
            .get(start..)?
            .iter()
            .take_while(|o| o.key == *key)
            .position(|o| o.alias_of.is_none())
            .map(|p| start + p)
    }

    /// Whether a resource list (group, plural) was written for this namespace (`""` for
    /// cluster-scoped lists): when it was, an object absent from it was absent at capture.
    pub fn has_list_in(&self, group: &str, resource: &str, namespace: &str) -> bool {
        self.files
            .iter()
            .any(|f| f.group == group && f.resource == resource && f.namespace == namespace)
    }

    /// Looks an object up by parts.
    pub fn find(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<&Object> {
        self.get(&ObjectKey {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        })
    }

    /// All primary objects of a (group, kind), in key order.
    pub fn of_kind(&self, group: &str, kind: &str) -> impl Iterator<Item = &Object> + use<'_> {
        self.of_kind_all(group, kind)
            .filter(|o| o.alias_of.is_none())
    }

    /// All primary objects of a typed view's kind kept whole, in key order, each with its view
    /// (`index.typed::<LhVolume>()`).
    pub fn typed<'a, V: Kind<'a>>(&'a self) -> impl Iterator<Item = (&'a Object, V)> + 'a {
        self.of_kind(V::GROUP, V::KIND)
            .filter_map(|o| Some((o, V::of(o)?)))
    }

    /// All objects of a (group, kind), second copies served by another group included.
    pub fn of_kind_all(&self, group: &str, kind: &str) -> impl Iterator<Item = &Object> + use<'_> {
        let start = self
            .objects
            .partition_point(|o| (o.key.group.as_str(), o.key.kind.as_str()) < (group, kind));
        let end = self
            .objects
            .partition_point(|o| (o.key.group.as_str(), o.key.kind.as_str()) <= (group, kind));
        self.objects
            .get(start..end.max(start))
            .unwrap_or_default()
            .iter()
    }

    /// The file an object came from.
    pub fn file_of(&self, o: &Object) -> Option<&FileInfo> {
        self.files.get(o.file as usize)
    }

    /// Resource types present (from files and items).
    pub fn resource_types(&self) -> Vec<ResourceType> {
        let mut seen: HashMap<(String, String), ResourceType> = HashMap::new();
        for o in &self.objects {
            let Some(f) = self.file_of(o) else { continue };
            seen.entry((o.key.group.clone(), o.key.kind.clone()))
                .or_insert_with(|| ResourceType {
                    group: o.key.group.clone(),
                    kind: o.key.kind.clone(),
                    plural: f.resource.clone(),
                    namespaced: !f.namespace.is_empty(),
                });
        }
        let mut v: Vec<ResourceType> = seen.into_values().collect();
        v.sort();
        v
    }

    /// Whether a resource list (group, plural) was written for any namespace.
    pub fn has_list(&self, group: &str, resource: &str) -> bool {
        self.files
            .iter()
            .any(|f| f.group == group && f.resource == resource)
    }
}

struct FileResult {
    objects: Vec<Object>,
    errors: Vec<ParseError>,
}

impl FileResult {
    /// A file that yields no object, with one error at `line` (0: the file as a whole).
    fn failed(path: &str, line: u32, error: impl Into<String>) -> Self {
        FileResult {
            objects: Vec::new(),
            errors: vec![ParseError {
                file: path.to_string(),
                line,
                error: error.into(),
            }],
        }
    }
}

/// Indexes one resource list file on its own, as [`Index::build`] does for each file: `path`
/// is bundle-relative (it gives the namespace and API group, e.g.
/// `yamls/namespaced/default/v1/pods.yaml`), `bytes` the file's content. Returns the objects
/// decoded and the parse errors; used by the fuzz targets and tests.
pub fn index_file_bytes(path: &str, bytes: &[u8]) -> (Vec<Object>, Vec<ParseError>) {
    let f = BundleFile {
        path: path.to_string(),
        kind: crate::bundle::layout::classify(path),
        size: bytes.len() as u64,
        entry: path.to_string(),
    };
    let r = index_file(&f, bytes, None, Views::All);
    (r.objects, r.errors)
}

/// The core Events' uids, known before the `events.k8s.io` lists are decoded: an
/// `events.k8s.io` Event whose uid is among them is a second copy of a core Event (an alias),
/// and is kept light: its identity, metadata and lines, without its event view (the
/// primary's is used: [`Index::view_of`]). A quarter of a bundle's objects can be such copies.
type Twins = std::collections::HashSet<String>;

/// Drops the view of an `events.k8s.io` copy of a core Event (see [`Twins`]).
fn lighten(o: &mut Object, twins: Option<&Twins>) {
    if let Some(t) = twins
        && o.key.kind == "Event"
        && o.key.group == "events.k8s.io"
        && t.contains(&o.meta.uid)
    {
        o.view = View::Generic;
    }
}

/// Which objects get their typed view when indexed (see [`Index::build_with`]).
#[derive(Debug, Clone, Copy)]
pub enum Views<'a> {
    /// Every object: what analysis reads.
    All,
    /// Only the objects of these `(group, kind)`; the others get the generic view.
    Only(&'a [(&'a str, &'a str)]),
}

impl Views<'_> {
    fn of(&self, group: &str, kind: &str) -> bool {
        match self {
            Views::All => true,
            Views::Only(kinds) => kinds.iter().any(|(g, k)| *g == group && *k == kind),
        }
    }
}

fn index_file(
    f: &BundleFile,
    bytes: &[u8],
    twins: Option<&Twins>,
    wanted: Views<'_>,
) -> FileResult {
    let mut r = index_file_full(f, bytes, twins, wanted);
    for o in &mut r.objects {
        lighten(o, twins);
    }
    r
}

fn index_file_full(
    f: &BundleFile,
    bytes: &[u8],
    twins: Option<&Twins>,
    wanted: Views<'_>,
) -> FileResult {
    let PathKind::ResourceList {
        group: dir_group, ..
    } = &f.kind
    else {
        return FileResult::failed(&f.path, 0, "not a resource list");
    };
    let text = crate::text::utf8_lossy(bytes);
    let items = match split::split_lazy(&text) {
        split::Lazy::List(items) => items,
        split::Lazy::Done(split::Split::List(items)) => {
            return decode_all(f, dir_group, &items, wanted);
        }
        split::Lazy::Done(split::Split::Single(item)) => {
            return decode_all(f, dir_group, std::slice::from_ref(&item), wanted);
        }
        split::Lazy::Done(split::Split::NotObjects) => {
            if text.trim().is_empty() {
                return FileResult::failed(&f.path, 0, "empty file");
            }
            if let Some(why) = crate::model::de::too_deep(&text) {
                return FileResult::failed(&f.path, 1, why);
            }
            let line = yaml_serde::from_str::<yaml_serde::Value>(&text)
                .err()
                .and_then(|e| e.location().map(|l| l.line() as u32))
                .unwrap_or(1);
            return FileResult::failed(&f.path, line, "not a Kubernetes List (no items:)");
        }
        split::Lazy::Done(split::Split::OtherLayout) => return reparse_whole(f, &text, wanted),
    };
    // Each item is built (a copy of its text) and decoded by the same task, so only the items
    // in flight exist as copies, never the whole file twice.
    let (objects, errors) = (0..items.len())
        .into_par_iter()
        .filter_map(|i| items.build(i))
        .map(|it| {
            // Lightened as soon as decoded: the views of a whole list of copies never exist
            // at once.
            decode_item(f, dir_group, &it, wanted).map(|mut o| {
                lighten(&mut o, twins);
                o
            })
        })
        .partition_map(|d| match d {
            Ok(o) => rayon::iter::Either::Left(o),
            Err(e) => rayon::iter::Either::Right(e),
        });
    FileResult { objects, errors }
}

/// Decodes items already built.
fn decode_all(
    f: &BundleFile,
    dir_group: &str,
    items: &[split::RawItem],
    wanted: Views<'_>,
) -> FileResult {
    let (objects, errors) = items
        .par_iter()
        .map(|it| decode_item(f, dir_group, it, wanted))
        .partition_map(|d| match d {
            Ok(o) => rayon::iter::Either::Left(o),
            Err(e) => rayon::iter::Either::Right(e),
        });
    FileResult { objects, errors }
}

/// For lists not written in the generator's layout: parse the whole file, re-emit each item,
/// and decode it; line numbers point at the `items:` key.
fn reparse_whole(f: &BundleFile, text: &str, wanted: Views<'_>) -> FileResult {
    let PathKind::ResourceList { group, .. } = &f.kind else {
        return FileResult::failed(&f.path, 0, "not a resource list");
    };
    #[derive(serde::Deserialize)]
    struct List {
        #[serde(default)]
        items: Vec<yaml_serde::Value>,
    }
    let line = text
        .lines()
        .position(|l| l.starts_with("items:"))
        .map(|p| p as u32 + 1)
        .unwrap_or(1);
    if let Some(why) = crate::model::de::too_deep(text) {
        return FileResult::failed(&f.path, line, why);
    }
    match yaml_serde::from_str::<List>(text) {
        Ok(list) => {
            let mut out = FileResult {
                objects: Vec::new(),
                errors: Vec::new(),
            };
            for v in list.items {
                let Ok(body) = yaml_serde::to_string(&v) else {
                    continue;
                };
                let kind = v.get("kind").and_then(|k| k.as_str()).map(str::to_owned);
                let api_version = v
                    .get("apiVersion")
                    .and_then(|k| k.as_str())
                    .map(str::to_owned);
                let item = split::RawItem {
                    line,
                    end_line: line,
                    text: body,
                    kind,
                    api_version,
                    name_line: line,
                };
                match decode_item(f, group, &item, wanted) {
                    Ok(o) => out.objects.push(o),
                    Err(e) => out.errors.push(e),
                }
            }
            out
        }
        Err(e) => FileResult::failed(
            &f.path,
            e.location().map(|l| l.line() as u32).unwrap_or(line),
            format!("unparsable YAML: {e}"),
        ),
    }
}

/// A decode error placed in the file: the parser's position is relative to the item text,
/// so it is shifted to the item's first line and kept inside the item.
fn item_error(f: &BundleFile, it: &split::RawItem, e: &yaml_serde::Error) -> ParseError {
    let rel = e.location().map(|l| (l.line() as u32, l.column() as u32));
    let line = match rel {
        Some((l, _)) => (it.line + l.saturating_sub(1)).min(it.end_line),
        None => it.line,
    };
    let mut msg = e.to_string();
    if let Some(i) = msg.find(" at line ") {
        msg.truncate(i);
    }
    if let Some((l, c)) = rel {
        let l = (it.line + l.saturating_sub(1)).min(it.end_line);
        msg.push_str(&format!(
            " (item starting at line {}; at line {l} column {c})",
            it.line
        ));
    }
    ParseError {
        file: f.path.clone(),
        line,
        error: msg,
    }
}

fn decode_item(
    f: &BundleFile,
    dir_group: &str,
    it: &split::RawItem,
    wanted: Views<'_>,
) -> Result<Object, ParseError> {
    let (group, version) = match it.api_version.as_deref() {
        Some(av) if !av.is_empty() && av != "null" => {
            let (g, v) = split_api_version(av);
            (g.to_string(), v.to_string())
        }
        _ => (dir_group.to_string(), String::new()),
    };
    let kind = it.kind.clone().unwrap_or_default();
    let err_at = |e: &yaml_serde::Error| item_error(f, it, e);
    if let Some(why) = crate::model::de::too_deep(&it.text) {
        return Err(ParseError {
            file: f.path.clone(),
            line: it.line,
            error: why,
        });
    }
    // The kind's view, else the generic one where the kind's fails on odd data.
    let full = || match views::decode(&kind, &group, &it.text) {
        Ok(d) => Ok(d),
        Err(first) => views::decode_generic(&it.text).map_err(|_| err_at(&first)),
    };
    // A kind left out gets the generic view; where that fails (the generic view reads
    // `status` strictly, a kept tree leniently), the full decode decides, so that the index
    // holds the same objects and errors whatever the views asked.
    let decoded = if wanted.of(&group, &kind) {
        full()
    } else {
        views::decode_generic(&it.text).or_else(|_| full())
    }?;
    if decoded.meta.name.is_empty() {
        return Err(ParseError {
            file: f.path.clone(),
            line: it.line,
            error: "item has no metadata.name".into(),
        });
    }
    let kind = if decoded.kind.is_empty() {
        kind
    } else {
        decoded.kind
    };
    if kind.is_empty() {
        return Err(ParseError {
            file: f.path.clone(),
            line: it.line,
            error: "item has no kind".into(),
        });
    }
    let (group, version) = if decoded.api_version.is_empty() {
        (group, version)
    } else {
        let (g, v) = split_api_version(&decoded.api_version);
        (g.to_string(), v.to_string())
    };
    let Meta {
        name,
        namespace,
        core: meta,
    } = decoded.meta;
    Ok(Object {
        key: ObjectKey {
            group,
            kind,
            namespace,
            name,
        },
        version,
        file: 0,
        line: it.line,
        end_line: it.end_line,
        name_line: it.name_line,
        meta,
        status: decoded.status,
        view: decoded.view,
        alias_of: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::Limits;

    /// Decoding only some views keeps every object, its identity, metadata and lines: only
    /// the views of the kinds left out are generic.
    #[test]
    fn views_of_some_kinds_only() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/vm-stuck-v1.4.0");
        let bundle = Bundle::open(&root, &Limits::default()).unwrap();
        let all = Index::build(&bundle, &|_, _| {});
        let some = Index::build_with(&bundle, &|_, _| {}, Views::Only(&[("", "Pod")]));
        assert_eq!(all.objects.len(), some.objects.len());
        assert_eq!(all.files.len(), some.files.len());
        assert_eq!(all.parse_errors, some.parse_errors);
        let (mut pods, mut others) = (0, 0);
        for (a, s) in all.objects.iter().zip(&some.objects) {
            assert_eq!(
                (&a.key, a.line, a.end_line, a.alias_of, &a.meta.uid),
                (&s.key, s.line, s.end_line, s.alias_of, &s.meta.uid)
            );
            if (a.key.group.as_str(), a.key.kind.as_str()) == ("", "Pod") {
                assert!(matches!(s.view, View::Pod(_)), "{:?}", s.key);
                pods += 1;
            } else if !matches!(a.view, View::Generic) {
                assert!(matches!(s.view, View::Generic), "{:?}", s.key);
                others += 1;
            }
        }
        assert!(
            pods > 0 && others > 0,
            "{pods} pods, {others} other typed views"
        );
    }

    /// Items that only some decoders take: whatever the views asked, the same objects and the
    /// same errors.
    #[test]
    fn views_asked_never_change_what_is_indexed() {
        let path = "yamls/namespaced/default/kubevirt.io/v1/virtualmachines.yaml";
        let item = |name: &str, rest: &str| {
            format!(
                "- apiVersion: kubevirt.io/v1\n  kind: VirtualMachine\n  metadata:\n    name: {name}\n    namespace: default\n{rest}"
            )
        };
        let text = [
            "apiVersion: v1\nitems:\n".to_string(),
            item("plain", ""),
            item("odd-status", "  status: weird\n"),
            item("odd-spec", "  spec: [1, 2]\n  status:\n    conditions: 3\n"),
            item("[odd, name]", ""),
            "- apiVersion: kubevirt.io/v1\n  kind: VirtualMachine\n  metadata: 7\n".to_string(),
            "kind: List\n".to_string(),
        ]
        .concat();
        let f = BundleFile {
            path: path.to_string(),
            kind: crate::bundle::layout::classify(path),
            size: text.len() as u64,
            entry: path.to_string(),
        };
        let keys = |wanted| {
            let r = index_file(&f, text.as_bytes(), None, wanted);
            let keys: Vec<_> = r.objects.iter().map(|o| o.key.name.clone()).collect();
            (keys, r.errors)
        };
        let all = keys(Views::All);
        assert!(all.0.contains(&"odd-status".to_string()), "{all:?}");
        assert_eq!(all, keys(Views::Only(&[])));
    }
}
