//! Harvester's behaviour by version, stated once: every check of the upgrade admission webhook
//! (`validator.harvesterhci.io`, `reference/upgrade-blockers.md` §A) with the versions it exists
//! in, the exact denial text of each version, and the inputs sbdiag needs to judge it; the
//! version gates of behaviours inside checks; and the webhook's name. The admission simulation,
//! the Fleet "effect" sentences, leftover explanations and the log recogniser all quote from
//! here, so a text is right everywhere or wrong everywhere.
use std::sync::OnceLock;

use super::input::{Input, lists};
use super::version::{Range, Version};

/// The name a user sees in `admission webhook "…" denied the request: …`.
pub const WEBHOOK: &str = "validator.harvesterhci.io";

/// The line a user sees when the webhook denies with `message`.
pub fn as_user_sees(message: &str) -> String {
    format!("admission webhook \"{WEBHOOK}\" denied the request: {message}")
}

/// The version table as data (embedded; see its header for the schema). `--knowledge` files
/// add to it ([`install`]) before the first analysis reads it.
pub const VERSION_TABLE: &str = include_str!("versions.yaml");

/// One text a check returns, in the versions that return it. `{name}` marks a value the
/// webhook fills in; everything else is verbatim (typos included).
#[derive(Debug, Clone)]
pub struct Text {
    /// Which of the check's denials (`""` when it has one).
    pub case: String,
    /// Versions returning this text.
    pub versions: Range,
    /// The text.
    pub text: String,
}

/// How sbdiag judges a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judged {
    /// From the bundle's objects.
    Simulated,
    /// Needs live data; the bundle offers at most a proxy.
    Live,
    /// Not simulated (defensive, or about the new Upgrade's own annotations); recognised in
    /// events and logs only.
    Recognised,
}

/// One check of the upgrade admission webhook (or the version gate the controller applies):
/// its versions and texts from the table, how sbdiag judges it from [`BEHAVIOUR`].
#[derive(Debug, Clone)]
pub struct AdmissionCheck {
    /// Id as in the reference (`C12`).
    pub id: String,
    /// Short name.
    pub name: String,
    /// Versions that have the check.
    pub versions: Range,
    /// What sbdiag needs to judge it: missing inputs make it `not_evaluated`.
    pub inputs: &'static [Input],
    /// The fields it reads, in words (for `rules --explain`).
    pub reads: String,
    /// Its denial texts; a knowledge file's come first, so that they win.
    pub texts: Vec<Text>,
    /// How sbdiag judges it.
    pub judged: Judged,
}

impl AdmissionCheck {
    /// Whether the webhook of `v` has this check.
    pub fn exists_in(&self, v: &Version) -> bool {
        self.versions.contains(v)
    }

    /// The text for `case` that `v` returns, with `args` filled in; `None` when `v` has no such
    /// check or no such text.
    pub fn text(&self, case: &str, v: &Version, args: &[(&str, &str)]) -> Option<String> {
        if !self.exists_in(v) {
            return None;
        }
        let t = self
            .texts
            .iter()
            .find(|t| t.case == case && t.versions.contains(v))?;
        Some(fill(&t.text, args))
    }
}

/// A denial of the UpgradeLog webhook (v1.9+), with what it means for the user.
#[derive(Debug, Clone)]
pub struct UpgradeLogDenial {
    /// `UL1` … `UL10`.
    pub id: String,
    /// The text.
    pub text: Text,
    /// What it means.
    pub meaning: String,
}

/// A behaviour that changed between releases, as the table states it.
#[derive(Debug, Clone)]
pub struct GateInfo {
    /// Its name (the constant the code asks, e.g. `VERSION_GUARD`).
    pub name: String,
    /// What changes, in words.
    pub what: String,
    /// The releases that behave this way (any of these ranges).
    pub versions: Vec<Range>,
}

/// A named version gate: the code asks `GATE.contains(v)`, the table says which versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate(pub &'static str);

impl Gate {
    /// The ranges the table gives this gate (none for a name the table lacks, which a unit test
    /// rules out for every gate the code defines).
    pub fn ranges(self) -> &'static [Range] {
        table()
            .gates
            .iter()
            .find(|g| g.name == self.0)
            .map(|g| g.versions.as_slice())
            .unwrap_or(&[])
    }

    /// Whether version `v` behaves this way.
    pub fn contains(self, v: &Version) -> bool {
        self.ranges().iter().any(|r| r.contains(v))
    }
}

/// The whole table: embedded data plus what knowledge files added.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Releases checked against, oldest first.
    pub releases: Vec<(u64, u64, u64)>,
    /// The admission checks in the webhook's order of evaluation.
    pub checks: Vec<AdmissionCheck>,
    /// Denials of deleting an Upgrade.
    pub delete_texts: Vec<Text>,
    /// The UpgradeLog webhook's denials.
    pub upgradelog_denials: Vec<UpgradeLogDenial>,
    /// Every named gate.
    pub gates: Vec<GateInfo>,
}

/// A version range as the table writes it: `{since: v1.4.0, until: v1.7.x}` (both
/// inclusive; `vX.Y.x` is every patch of a minor).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// First version.
    pub since: Option<String>,
    /// Last version.
    pub until: Option<String>,
}

impl Bounds {
    /// The range, or which field does not parse.
    pub fn range(&self) -> Result<Range, String> {
        let num = |field: &str, s: &str| {
            Version::parse(s)
                .num
                .ok_or_else(|| format!("{field}: {s:?} is not a version like v1.10.0"))
        };
        let since = match &self.since {
            Some(s) => num("since", s)?,
            None => (0, 0, 0),
        };
        let until = match self.until.as_deref() {
            None => None,
            Some(u) => match u.strip_suffix(".x") {
                Some(minor) => {
                    let (a, b, _) = num("until", &format!("{minor}.0"))?;
                    Some((a, b, u64::MAX))
                }
                None => Some(num("until", u)?),
            },
        };
        Ok(Range { since, until })
    }
}

/// A text as the table writes it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextData {
    /// Which denial of the check (`""` when it has one).
    #[serde(default)]
    pub case: String,
    /// Versions returning it (every version of the check when absent).
    pub versions: Option<Bounds>,
    /// The text.
    pub text: String,
}

/// A check as the table writes it. In a knowledge file only `id` is required: `versions`
/// replaces the check's, `texts` come before the table's.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckData {
    /// The check's id.
    pub id: String,
    /// Short name.
    pub name: Option<String>,
    /// Versions that have it.
    pub versions: Option<Bounds>,
    /// What it reads, in words.
    pub reads: Option<String>,
    /// Its texts.
    #[serde(default)]
    pub texts: Vec<TextData>,
}

/// An UpgradeLog denial as the table writes it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeLogData {
    /// `UL1` …
    pub id: String,
    /// Versions returning it.
    pub versions: Option<Bounds>,
    /// The text.
    pub text: String,
    /// What it means.
    pub meaning: String,
}

/// A gate as the table writes it (in a knowledge file, `versions` replaces the gate's).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateData {
    /// The gate's name.
    pub name: String,
    /// What changes (optional in a knowledge file).
    pub what: Option<String>,
    /// The releases that behave this way.
    pub versions: Vec<Bounds>,
}

/// The table's file, and what a knowledge file may add (every part optional there).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableData {
    /// Releases (a knowledge file adds newer ones).
    #[serde(default)]
    pub releases: Vec<String>,
    /// The date (`YYYY-MM-DD`) of the newest Harvester source the embedded table was read
    /// from; `sbdiag --version` prints it (build.rs reads it from the file).
    #[serde(default)]
    pub sources_read: Option<String>,
    /// Checks.
    #[serde(default)]
    pub checks: Vec<CheckData>,
    /// Denials of deleting an Upgrade.
    #[serde(default)]
    pub delete_texts: Vec<TextData>,
    /// UpgradeLog denials.
    #[serde(default)]
    pub upgradelog_denials: Vec<UpgradeLogData>,
    /// Gates.
    #[serde(default)]
    pub gates: Vec<GateData>,
}

fn text_of(t: &TextData) -> Result<Text, String> {
    Ok(Text {
        case: t.case.clone(),
        versions: match &t.versions {
            Some(b) => b.range()?,
            None => Range::ALL,
        },
        text: t.text.clone(),
    })
}

impl Table {
    /// The embedded table (`Err` names the part that does not parse: a unit test rules it out).
    pub fn embedded() -> Result<Table, String> {
        let data: TableData = yaml_serde::from_str(VERSION_TABLE).map_err(|e| e.to_string())?;
        let mut t = Table::default();
        t.add(&data, true)?;
        Ok(t)
    }

    /// Adds `data`: new releases, check versions and texts, gate versions. Outside the
    /// embedded table (`embedded` false) a check or gate must already exist: judging a new
    /// check is code.
    pub fn add(&mut self, data: &TableData, embedded: bool) -> Result<(), String> {
        for r in &data.releases {
            let n = Version::parse(r)
                .num
                .ok_or_else(|| format!("releases: {r:?} is not a version like v1.10.0"))?;
            if !self.releases.contains(&n) {
                self.releases.push(n);
            }
        }
        self.releases.sort();
        for c in &data.checks {
            let texts = c
                .texts
                .iter()
                .map(text_of)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("checks {}: texts: {e}", c.id))?;
            let versions = c
                .versions
                .as_ref()
                .map(Bounds::range)
                .transpose()
                .map_err(|e| format!("checks {}: versions: {e}", c.id))?;
            match self.checks.iter_mut().find(|x| x.id == c.id) {
                Some(x) if !embedded => {
                    if let Some(v) = versions {
                        x.versions = v;
                    }
                    for t in &texts {
                        if !x.texts.iter().any(|o| o.case == t.case) {
                            let cases: Vec<&str> =
                                x.texts.iter().map(|t| t.case.as_str()).collect();
                            return Err(format!(
                                "checks {}: texts: case {:?} is not a case of {} (its cases: {cases:?})",
                                c.id, t.case, c.id
                            ));
                        }
                    }
                    x.texts.splice(0..0, texts);
                }
                Some(_) => return Err(format!("checks {}: the id is used twice", c.id)),
                None if embedded => {
                    let (inputs, judged) = behaviour(&c.id)
                        .ok_or_else(|| format!("checks {}: no BEHAVIOUR entry", c.id))?;
                    self.checks.push(AdmissionCheck {
                        id: c.id.clone(),
                        name: c.name.clone().unwrap_or_default(),
                        versions: versions.unwrap_or(Range::ALL),
                        inputs,
                        reads: c.reads.clone().unwrap_or_default(),
                        texts,
                        judged,
                    });
                }
                None => {
                    return Err(format!(
                        "checks {}: is not a check of the upgrade webhook (`sbdiag rules \
                         --versions` lists them; a new check needs a new sbdiag, its evaluation \
                         is code)",
                        c.id
                    ));
                }
            }
        }
        for t in &data.delete_texts {
            self.delete_texts
                .push(text_of(t).map_err(|e| format!("delete_texts: {e}"))?);
        }
        for d in &data.upgradelog_denials {
            let text = text_of(&TextData {
                case: String::new(),
                versions: d.versions.clone(),
                text: d.text.clone(),
            })
            .map_err(|e| format!("upgradelog_denials {}: {e}", d.id))?;
            self.upgradelog_denials.push(UpgradeLogDenial {
                id: d.id.clone(),
                text,
                meaning: d.meaning.clone(),
            });
        }
        for g in &data.gates {
            let versions = g
                .versions
                .iter()
                .map(Bounds::range)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("gates {}: versions: {e}", g.name))?;
            match self.gates.iter_mut().find(|x| x.name == g.name) {
                Some(x) if !embedded => x.versions = versions,
                Some(_) => return Err(format!("gates {}: the name is used twice", g.name)),
                None if embedded => self.gates.push(GateInfo {
                    name: g.name.clone(),
                    what: g.what.clone().unwrap_or_default(),
                    versions,
                }),
                None => {
                    return Err(format!(
                        "gates {}: is not a gate of this sbdiag (`sbdiag rules --versions` lists them)",
                        g.name
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What knowledge files add to the table; set once, before the table is first read.
static ADDED: OnceLock<TableData> = OnceLock::new();
static TABLE: OnceLock<Table> = OnceLock::new();

/// Installs what knowledge files add to the table, for the rest of the process. `false` when
/// something was installed already or the table was read before (then nothing changes).
/// Knowledge files are validated with [`Table::add`] first, so this cannot fail.
pub fn install(added: TableData) -> bool {
    TABLE.get().is_none() && ADDED.set(added).is_ok()
}

/// The table: embedded data, plus what knowledge files added.
pub fn table() -> &'static Table {
    TABLE.get_or_init(|| {
        let mut t = Table::embedded().unwrap_or_default();
        if let Some(added) = ADDED.get() {
            // Validated when the files were loaded; a failure here leaves the embedded table.
            let mut with = t.clone();
            if with.add(added, false).is_ok() {
                t = with;
            }
        }
        t
    })
}

/// Fills `{name}` slots of a text.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Backups with no `status` count as in progress (C10) only in v1.4.x
/// (`IsBackupProgressing`).
pub const BACKUP_WITHOUT_STATUS_IN_PROGRESS: Gate = Gate("BACKUP_WITHOUT_STATUS_IN_PROGRESS");
/// C24 also counts VMIs with a CD-ROM disk or a container disk (commit 6fe02736a; removed in
/// v1.8.0).
pub const MIGRATION_CHECK_COUNTS_CDROM: Gate = Gate("MIGRATION_CHECK_COUNTS_CDROM");
/// C24 counts a VMI whose `hostDevices` is there at all (`!= nil`), an empty list included;
/// v1.9 counts only a non-empty list (§E).
pub const MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES: Gate =
    Gate("MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES");
/// C24–C26 know witness nodes and `restoreVM` (Harvester #8526, v1.6.0): a witness does not
/// count towards their single-node skip, C24 does not count a witness as a node a VM could
/// migrate to, and `restoreVM: true` skips those checks.
pub const RESTORE_VM_AND_WITNESS_AWARE: Gate = Gate("RESTORE_VM_AND_WITNESS_AWARE");
/// The controller's version guard (`upgrade-helper version-guard`) replaced the plain
/// minimum-version comparison.
pub const VERSION_GUARD: Gate = Gate("VERSION_GUARD");
/// Rancher's CAPI controllers (capi-controller-manager) run in namespace `cattle-capi-system`
/// from v1.8.0, in `cattle-provisioning-capi-system` before; the support bundle's default
/// namespace list still names only the old one, so a v1.8+ bundle lacks their logs unless the
/// user added the namespace.
pub const CAPI_IN_CATTLE_CAPI_SYSTEM: Gate = Gate("CAPI_IN_CATTLE_CAPI_SYSTEM");
/// Upgrades to these versions run an `upgrade_manifests.sh` whose `wait_managed_chart` also
/// waits for the ManagedChart's `status.unavailable` to be 0, so a chart can be Ready and still
/// hold the upgrade (harvester/harvester#10693). The script is the target version's.
pub const WAIT_MANAGED_CHART_UNAVAILABLE: Gate = Gate("WAIT_MANAGED_CHART_UNAVAILABLE");
/// Where the webhook finds the API server addresses for its certificate check (C27/C28): the
/// ready IPv4 endpoints of default/kubernetes's EndpointSlices from v1.9.0 (harvester
/// "common: drop the Endpoints"), the Endpoints object's addresses before.
pub const KUBERNETES_IPS_FROM_ENDPOINT_SLICES: Gate = Gate("KUBERNETES_IPS_FROM_ENDPOINT_SLICES");
/// The UpgradeLog validating webhook exists (harvester/harvester#10674).
pub const UPGRADELOG_WEBHOOK: Gate = Gate("UPGRADELOG_WEBHOOK");

/// Every named gate, from the table (for `rules --versions`).
pub fn gates() -> &'static [GateInfo] {
    &table().gates
}

/// The newest release the knowledge covers.
pub fn newest_release() -> (u64, u64, u64) {
    table().releases.last().copied().unwrap_or((0, 0, 0))
}
/// How `range` covers the releases of minor `(major, minor)`: `yes` (all), `-` (none), `.2+`
/// (from patch 2), `-.2` (up to patch 2), or the patches listed.
pub fn coverage_cell(ranges: &[Range], major: u64, minor: u64) -> String {
    let patches: Vec<(u64, bool)> = table()
        .releases
        .iter()
        .filter(|r| r.0 == major && r.1 == minor)
        .map(|r| {
            (r.2, {
                let v = Version::parse(&format!("v{}.{}.{}", r.0, r.1, r.2));
                ranges.iter().any(|x| x.contains(&v))
            })
        })
        .collect();
    let has: Vec<u64> = patches.iter().filter(|p| p.1).map(|p| p.0).collect();
    if has.is_empty() {
        return "-".into();
    }
    if has.len() == patches.len() {
        return "yes".into();
    }
    let first = patches.iter().position(|p| p.1).unwrap_or(0);
    let suffix = patches.iter().skip(first).all(|p| p.1);
    let prefix = first == 0 && patches.iter().skip_while(|p| p.1).all(|p| !p.1);
    match (suffix, prefix, has.first(), has.last()) {
        (true, _, Some(f), _) => format!(".{f}+"),
        (_, true, _, Some(l)) => format!("-.{l}"),
        _ => has
            .iter()
            .map(|p| format!(".{p}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The table `sbdiag rules --versions` prints: every admission check, UpgradeLog denial group
/// and named gate against each minor release (`v1.0` … `v1.9`).
pub fn version_matrix() -> (Vec<String>, Vec<Vec<String>>) {
    let mut minors: Vec<(u64, u64)> = table().releases.iter().map(|r| (r.0, r.1)).collect();
    minors.dedup();
    let mut header = vec!["CHECK".to_string(), "WHAT".to_string()];
    header.extend(minors.iter().map(|(a, b)| format!("v{a}.{b}")));
    let row = |id: &str, what: &str, ranges: &[Range]| {
        let mut r = vec![id.to_string(), what.to_string()];
        r.extend(minors.iter().map(|(a, b)| coverage_cell(ranges, *a, *b)));
        r
    };
    let mut rows: Vec<Vec<String>> = admission()
        .iter()
        .map(|c| row(&c.id, &c.name, std::slice::from_ref(&c.versions)))
        .collect();
    rows.extend(gates().iter().map(|g| row(&g.name, &g.what, &g.versions)));
    (header, rows)
}

/// The namespace of Rancher's CAPI controllers on the running version (the older one when the
/// version is not known).
pub fn capi_namespace(running: Option<&Version>) -> &'static str {
    if running.is_some_and(|v| CAPI_IN_CATTLE_CAPI_SYSTEM.contains(v)) {
        "cattle-capi-system"
    } else {
        "cattle-provisioning-capi-system"
    }
}

/// How sbdiag judges each check of the table (by id): the inputs it needs from the bundle
/// (missing ones make it `not_evaluated`) and whether it is simulated. The table's data says
/// what the webhook does; this says what sbdiag can do about it.
pub static BEHAVIOUR: &[(&str, &[Input], Judged)] = &[
    ("C1", &[], Judged::Simulated),
    ("C2", &[lists::VERSIONS], Judged::Simulated),
    ("C3", &[lists::UPGRADES], Judged::Simulated),
    ("C4", &[lists::UPGRADES], Judged::Simulated),
    ("C5", &[], Judged::Recognised),
    ("C6", &[], Judged::Recognised),
    ("C7", &[lists::NODES, lists::LH_VOLUMES], Judged::Simulated),
    ("C8/C9", &[lists::CAPI_CLUSTERS], Judged::Simulated),
    ("C10", &[lists::VM_BACKUPS], Judged::Simulated),
    ("C11", &[lists::BACKUP_SCHEDULES], Judged::Simulated),
    ("C12", &[lists::MANAGED_CHARTS], Judged::Simulated),
    ("C13", &[lists::ADDONS], Judged::Simulated),
    ("C14", &[lists::NODES], Judged::Simulated),
    ("C15", &[lists::NODES], Judged::Simulated),
    ("C16", &[lists::NODES], Judged::Simulated),
    (
        "C17",
        &[Input::Live(
            "each kubelet's /stats/summary (free bytes of the system partition)",
        )],
        Judged::Live,
    ),
    (
        "C18",
        &[Input::Live("each kubelet's /stats/summary and /configz")],
        Judged::Live,
    ),
    (
        "C19",
        &[Input::Live("each kubelet's /stats/summary endpoint")],
        Judged::Recognised,
    ),
    ("C20", &[lists::CAPI_MACHINES], Judged::Simulated),
    (
        "C21",
        &[lists::NODES, lists::CAPI_MACHINES],
        Judged::Simulated,
    ),
    ("C22", &[lists::NODES, lists::LH_VOLUMES], Judged::Simulated),
    ("C23", &[lists::NODES, lists::LH_VOLUMES], Judged::Simulated),
    (
        "C24",
        &[lists::NODES, lists::VMIS, lists::SETTINGS],
        Judged::Simulated,
    ),
    (
        "C25",
        &[lists::NODES, lists::VMS, lists::SETTINGS],
        Judged::Simulated,
    ),
    (
        "C26",
        &[lists::NODES, lists::VMS, lists::VMIS, lists::SETTINGS],
        Judged::Simulated,
    ),
    (
        "C27",
        &[Input::Live(
            "a TLS handshake with default/kubernetes (certificate expiry)",
        )],
        Judged::Live,
    ),
    (
        "C28",
        &[lists::ENDPOINTS, lists::ENDPOINT_SLICES],
        Judged::Simulated,
    ),
    ("A.5", &[lists::VERSIONS], Judged::Simulated),
];

/// Whether `id` is a check of the table (without reading the table: knowledge files are
/// validated before it is built).
pub fn is_check(id: &str) -> bool {
    BEHAVIOUR.iter().any(|(i, _, _)| *i == id)
}

fn behaviour(id: &str) -> Option<(&'static [Input], Judged)> {
    BEHAVIOUR
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, inputs, judged)| (*inputs, *judged))
}

/// The webhook's checks in its order of evaluation (§A.1), then the controller's version gate.
pub fn admission() -> &'static [AdmissionCheck] {
    &table().checks
}

/// The UpgradeLog webhook's denials (v1.9+).
pub fn upgradelog_denials() -> &'static [UpgradeLogDenial] {
    &table().upgradelog_denials
}

/// The UpgradeLog denial with this id.
pub fn upgradelog_denial(id: &str) -> Option<&'static UpgradeLogDenial> {
    upgradelog_denials().iter().find(|d| d.id == id)
}

/// The webhook's denials of deleting an Upgrade.
pub fn delete_texts() -> &'static [Text] {
    &table().delete_texts
}

/// The check with this id.
pub fn check(id: &str) -> Option<&'static AdmissionCheck> {
    admission().iter().find(|c| c.id == id)
}

/// The text check `id` returns for `case` in version `v`, filled in; `None` when the webhook of
/// `v` has no such check (or no such text).
pub fn denial(id: &str, case: &str, v: &Version, args: &[(&str, &str)]) -> Option<String> {
    check(id)?.text(case, v, args)
}

/// The denial a not-Ready ManagedChart gets from the webhook of `v` (C12); `None` when that
/// webhook does not check ManagedCharts.
pub fn managed_chart_denial(chart: &str, v: &Version) -> Option<String> {
    denial("C12", "", v, &[("chart", chart)])
}

/// Which check a denial text seen in an event or a log comes from (`C12`, `delete`), whatever
/// the version: every text of the table, with its slots matching anything.
pub fn recognise(message: &str) -> Option<&'static str> {
    static PATTERNS: OnceLock<Vec<(&'static str, regex::Regex)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        let texts = admission()
            .iter()
            .flat_map(|c| {
                c.texts
                    .iter()
                    .map(move |t| (c.id.as_str(), t.text.as_str()))
            })
            .chain(delete_texts().iter().map(|t| ("delete", t.text.as_str())))
            .chain(
                upgradelog_denials()
                    .iter()
                    .map(|d| (d.id.as_str(), d.text.text.as_str())),
            );
        // Most literal text first, so that a short text whose slots could swallow a longer
        // one (`node {node} does not exist`) never shadows it.
        let mut v: Vec<(usize, &'static str, regex::Regex)> = texts
            .filter_map(|(id, text)| {
                Some((
                    literal_len(text),
                    id,
                    regex::Regex::new(&pattern(text)).ok()?,
                ))
            })
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.0));
        v.into_iter().map(|(_, id, re)| (id, re)).collect()
    });
    patterns
        .iter()
        .find(|(_, re)| re.is_match(message))
        .map(|(id, _)| *id)
}

/// Characters of `text` outside its `{slots}`.
fn literal_len(text: &str) -> usize {
    let mut n = 0;
    let mut depth = false;
    for c in text.chars() {
        match c {
            '{' => depth = true,
            '}' => depth = false,
            _ if !depth => n += 1,
            _ => {}
        }
    }
    n
}

/// A regular expression matching `text` with its `{slots}` filled by anything (a trailing
/// period optional: logs and events often drop it).
fn pattern(text: &str) -> String {
    let text = text.strip_suffix('.').unwrap_or(text);
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&regex::escape(&rest[..open]));
        out.push_str(".*?");
        rest = &rest[open + close + 1..];
    }
    out.push_str(&regex::escape(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every gate the code asks, so that a name the table lacks fails here, not silently.
    const CODE_GATES: &[Gate] = &[
        BACKUP_WITHOUT_STATUS_IN_PROGRESS,
        MIGRATION_CHECK_COUNTS_CDROM,
        MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES,
        RESTORE_VM_AND_WITNESS_AWARE,
        VERSION_GUARD,
        CAPI_IN_CATTLE_CAPI_SYSTEM,
        WAIT_MANAGED_CHART_UNAVAILABLE,
        KUBERNETES_IPS_FROM_ENDPOINT_SLICES,
        UPGRADELOG_WEBHOOK,
        super::super::upgrade::NODE_UPGRADE_PAUSE,
        super::super::upgrade::REPO_DEPLOYMENT,
        super::super::upgrade::REPO_IMAGE_IN_LONGHORN_STATIC,
        super::super::upgrade::RESTORE_VM_JOBS,
        super::super::upgrade::WORKLOAD_UPDATE_METHODS_BACKUP,
        super::super::upgrade::SKIP_RKE2_MANIFESTS,
    ];

    #[test]
    fn the_embedded_table_parses_and_matches_the_code() {
        let t = Table::embedded().expect("the embedded version table parses");
        assert_eq!(t.releases.first(), Some(&(1, 0, 0)));
        assert!(t.releases.windows(2).all(|w| w[0] < w[1]));
        // Every check of the data is judged by code and every behaviour has its check.
        let ids: Vec<&str> = t.checks.iter().map(|c| c.id.as_str()).collect();
        let behaviour: Vec<&str> = BEHAVIOUR.iter().map(|b| b.0).collect();
        assert_eq!(ids, behaviour);
        for c in &t.checks {
            assert!(!c.name.is_empty() && !c.reads.is_empty(), "{}", c.id);
        }
        // Every gate of the data is asked by the code, and the other way round.
        let mut names: Vec<&str> = t.gates.iter().map(|g| g.name.as_str()).collect();
        let mut code: Vec<&str> = CODE_GATES.iter().map(|g| g.0).collect();
        names.sort();
        code.sort();
        assert_eq!(names, code);
        assert!(CODE_GATES.iter().all(|g| !g.ranges().is_empty()));
        assert_eq!(t.upgradelog_denials.len(), 10);
        assert_eq!(t.delete_texts.len(), 2);
        // `until: v1.7.x` is every patch of v1.7.
        assert!(MIGRATION_CHECK_COUNTS_CDROM.contains(&v("v1.7.99")));
        assert!(!MIGRATION_CHECK_COUNTS_CDROM.contains(&v("v1.8.0")));
    }

    #[test]
    fn the_embedded_table_refuses_what_only_code_can_add() {
        let mut t = Table::embedded().expect("table");
        let add = |yaml: &str| yaml_serde::from_str::<TableData>(yaml).expect("schema");
        let e = t
            .add(&add("checks: [{id: C99, texts: [{text: x}]}]"), false)
            .unwrap_err();
        assert!(e.contains("a new check needs a new sbdiag"), "{e}");
        let e = t
            .add(
                &add("checks: [{id: C12, texts: [{case: nope, text: x}]}]"),
                false,
            )
            .unwrap_err();
        assert!(e.contains("is not a case of C12"), "{e}");
        let e = t
            .add(
                &add("gates: [{name: NOPE, versions: [{since: v1.0.0}]}]"),
                false,
            )
            .unwrap_err();
        assert!(e.contains("is not a gate"), "{e}");
        // A knowledge text comes before the table's, so it wins for its versions.
        t.add(
            &add("checks: [{id: C12, texts: [{versions: {since: v1.10.0}, text: \"chart {chart} made up\"}]}]"),
            false,
        )
        .expect("adds");
        let c12 = t.checks.iter().find(|c| c.id == "C12").expect("C12");
        assert_eq!(
            c12.text("", &v("v1.10.0"), &[("chart", "harvester")])
                .as_deref(),
            Some("chart harvester made up")
        );
        assert!(
            c12.text("", &v("v1.4.0"), &[("chart", "harvester")])
                .is_some_and(|t| t.contains("please wait for it to be ready"))
        );
    }

    fn v(s: &str) -> Version {
        Version::parse(s)
    }

    #[test]
    fn ids_unique_and_texts_within_check_versions() {
        let mut ids: Vec<&str> = admission().iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate check id");
        for c in admission() {
            assert!(!c.texts.is_empty(), "{} has no text", c.id);
            // Every version the check exists in has a text for its default case (or every case
            // is named).
            for probe in [
                "v1.0.0", "v1.1.2", "v1.2.2", "v1.3.2", "v1.4.1", "v1.5.1", "v1.6.0",
            ]
            .iter()
            .chain(&["v1.7.0", "v1.8.2", "v1.9.0"])
            {
                let pv = v(probe);
                if c.exists_in(&pv) {
                    let cases: Vec<&str> = c.texts.iter().map(|t| t.case.as_str()).collect();
                    assert!(
                        cases.iter().any(|case| c.text(case, &pv, &[]).is_some()),
                        "{} has no text in {probe}",
                        c.id
                    );
                }
            }
        }
    }

    #[test]
    fn managed_chart_text_by_version() {
        assert_eq!(managed_chart_denial("harvester", &v("v1.1.1")), None);
        assert_eq!(
            managed_chart_denial("harvester", &v("v1.4.0")).as_deref(),
            Some("managed chart harvester is not ready, please wait for it to be ready")
        );
        assert_eq!(
            managed_chart_denial("harvester", &v("v1.6.9")).as_deref(),
            Some("managed chart harvester is not ready, please wait for it to be ready")
        );
        assert_eq!(
            managed_chart_denial("harvester", &v("v1.7.0")).as_deref(),
            Some("managed chart harvester is not ready, please wait for it to be ready or fix it")
        );
        assert_eq!(managed_chart_denial("harvester", &v("master-head")), None);
    }

    #[test]
    fn texts_by_version_and_case() {
        assert_eq!(denial("C4", "", &v("v1.6.1"), &[]), None);
        assert!(
            denial("C4", "", &v("v1.7.0"), &[("upgrades", "a,b")])
                .is_some_and(|t| t.ends_with(": a,b"))
        );
        assert_eq!(denial("C8/C9", "phase", &v("v1.1.0"), &[]), None);
        assert!(denial("C8/C9", "missing", &v("v1.1.0"), &[]).is_some());
        assert!(
            denial(
                "A.5",
                "min-version",
                &v("v1.3.2"),
                &[("from", "v1.3.2"), ("min", "v1.4.0")]
            )
            .is_some_and(|t| t.starts_with("The current version v1.3.2 is less"))
        );
        assert_eq!(
            denial("A.5", "min-version", &v("v1.4.0"), &[]).as_deref(),
            Some("current version does not meet minimum upgrade requirement")
        );
        assert!(denial("C18", "", &v("v1.3.0"), &[]).is_some_and(|t| t.contains(" uses ")));
        assert!(denial("C18", "", &v("v1.4.0"), &[]).is_some_and(|t| t.contains("will reach")));
        assert_eq!(denial("C17", "", &v("v1.5.0"), &[]), None);
        assert_eq!(denial("C22", "", &v("v1.5.0"), &[]), None);
        assert!(denial("C23", "", &v("v1.5.0"), &[]).is_some());
    }

    #[test]
    fn the_version_matrix_shows_partial_minors() {
        assert_eq!(coverage_cell(&[Range::since(1, 8, 2)], 1, 8), ".2+");
        assert_eq!(coverage_cell(&[Range::since(1, 8, 2)], 1, 9), "yes");
        assert_eq!(coverage_cell(&[Range::since(1, 8, 2)], 1, 7), "-");
        assert_eq!(
            coverage_cell(&[Range::between((1, 2, 0), (1, 4, 3))], 1, 4),
            "yes"
        );
        assert_eq!(
            coverage_cell(MIGRATION_CHECK_COUNTS_EMPTY_HOST_DEVICES.ranges(), 1, 2),
            ".2+"
        );
        assert_eq!(
            coverage_cell(&[Range::between((1, 5, 0), (1, 5, 1))], 1, 5),
            "-.1"
        );
        let (header, rows) = version_matrix();
        assert_eq!(header.get(2).map(String::as_str), Some("v1.0"));
        assert_eq!(header.last().map(String::as_str), Some("v1.9"));
        let c25 = rows.iter().find(|r| r[0] == "C25").expect("C25");
        assert_eq!(
            &c25[c25.len() - 2..],
            [".2+".to_string(), "yes".to_string()]
        );
        assert!(rows.iter().any(|r| r[0] == "UPGRADELOG_WEBHOOK"));
        // A gate of two ranges: v1.7.2+ of v1.7, and v1.8.1+.
        let w = rows
            .iter()
            .find(|r| r[0] == "WORKLOAD_UPDATE_METHODS_BACKUP")
            .expect("gate");
        assert_eq!(
            &w[w.len() - 3..],
            [".2+".to_string(), ".1+".to_string(), "yes".to_string()]
        );
    }

    #[test]
    fn capi_controllers_move_to_cattle_capi_system_in_v1_8() {
        assert_eq!(
            capi_namespace(Some(&v("v1.7.3"))),
            "cattle-provisioning-capi-system"
        );
        assert_eq!(capi_namespace(Some(&v("v1.8.0"))), "cattle-capi-system");
        assert_eq!(capi_namespace(None), "cattle-provisioning-capi-system");
    }

    #[test]
    fn recognises_the_upgradelog_webhooks_denials() {
        assert_eq!(
            recognise(
                "upgradelog hvst-upgrade-x-upgradelog already exists for upgrade hvst-upgrade-x"
            ),
            Some("UL9")
        );
        assert_eq!(
            recognise(
                "cannot create upgradeLog: upgrade hvst-upgrade-x is not initializing or waiting for logging infrastructure"
            ),
            Some("UL7")
        );
        assert_eq!(
            recognise("upgradelog can only be created by the harvester controller"),
            Some("UL1")
        );
        assert_eq!(upgradelog_denials().len(), 10);
        assert!(
            upgradelog_denials()
                .iter()
                .all(|d| d.text.versions.contains(&v("v1.9.0"))
                    && !d.text.versions.contains(&v("v1.8.2")))
        );
    }

    #[test]
    fn recognises_texts_from_any_version() {
        let seen = |m: &str| recognise(m);
        assert_eq!(
            seen("managed chart harvester is not ready, please wait for it to be ready"),
            Some("C12")
        );
        assert_eq!(
            seen(
                "managed chart rancher-monitoring-crd is not ready, please wait for it to be ready or fix it"
            ),
            Some("C12")
        );
        assert_eq!(seen("version or image field are not specified"), Some("C1"));
        assert_eq!(
            seen("cannot proceed until previous upgrade \"hvst-upgrade-x\" completes"),
            Some("C3")
        );
        assert_eq!(seen("node n1 has no nnnotations"), Some("C21"));
        assert_eq!(
            seen("node n1 refers to machine m1, but the machine does not exist"),
            Some("C21")
        );
        assert_eq!(seen("node n9 does not exist"), Some("C6"));
        assert_eq!(
            seen("node upgrade is in progressing, please wait for it to be provisioned"),
            Some("delete")
        );
        assert_eq!(
            seen(
                "cluster fleet-local/local status is Provisioning, please wait for it to be provisioned"
            ),
            Some("C8/C9")
        );
        assert_eq!(seen("something else entirely"), None);
    }

    #[test]
    fn user_line() {
        assert_eq!(
            as_user_sees("x"),
            "admission webhook \"validator.harvesterhci.io\" denied the request: x"
        );
    }
}
