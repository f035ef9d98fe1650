//! The HTML report (`analyze --format html`): one self-contained, deterministic file that shows
//! the verdict, every error finding, the status graphs, the coverage ledger and the timeline, in
//! which everything from the bundle is text; and, in headless Chromium
//! (`tests/browser/check.mjs`), a page that makes no network request, logs no error, never runs
//! planted markup, filters findings and leaves a screenshot in `target/browser/`.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ok, sample};
use serde_json::Value;

/// The samples whose reports are checked.
const SAMPLES: [&str; 3] = [
    "fleet-stale-v1.4.0",
    "upgrade-blocked-v1.4.0",
    "webhook-down-v1.4.0",
];

/// Markup planted in the bundle: a status message, an object name, an annotation, an event.
const PLANT_MESSAGE: &str = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>";
const PLANT_NAME: &str = "node-a<script>window.__pwned=3</script>";
const PLANT_EVENT: &str = "<script>window.__pwned=5</script>";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Text as the report writes it (minijinja's HTML auto-escaping, and the SVG's own).
fn esc(s: &str) -> String {
    sbdiag::report::html::escape(s)
}

/// `analyze BUNDLE -o DIR --format html,json`: the HTML and the JSON report.
fn analyze(bundle: &Path, dir: &Path) -> (String, Value) {
    ok(&[
        "analyze",
        bundle.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--format",
        "html,json",
    ]);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    (html, json)
}

fn array<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array"))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string: {v}"))
}

/// The tags of a page (text from the bundle is escaped, so every `<` that opens a name is a tag),
/// lower-cased, without the angle brackets.
fn tags(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let end = rest.find('>').expect("unclosed tag");
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

/// A tag's name and attributes (name, unquoted value).
fn parse_tag(t: &str) -> (String, Vec<(String, String)>) {
    let mut chars = t.chars().peekable();
    let mut name = String::new();
    while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '/') {
        name.push(c);
    }
    let mut attrs = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == '/').is_some() {}
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=' && *c != '/') {
            key.push(c);
        }
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            match chars.next_if(|c| *c == '"' || *c == '\'') {
                Some(q) => {
                    for c in chars.by_ref() {
                        if c == q {
                            break;
                        }
                        value.push(c);
                    }
                }
                None => {
                    while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                        value.push(c);
                    }
                }
            }
        }
        attrs.push((key, value));
    }
    (name, attrs)
}

/// Nothing in the page loads or runs anything but its own script: no element that fetches
/// (stylesheet, script, image, frame, media), no `src`, no event handler attribute, no CSS
/// import, font or `url(`; the only links are in-page anchors and web references in `<a>`; one
/// inline script, allowed by its hash under a policy that forbids every fetch.
fn assert_offline(html: &str, what: &str) {
    let tags = tags(html);
    let mut scripts = 0;
    for t in &tags {
        let (name, attrs) = parse_tag(t);
        assert!(
            ![
                "link", "img", "image", "iframe", "frame", "object", "embed", "base", "video",
                "audio", "source", "track", "picture", "use", "form",
            ]
            .contains(&name.as_str()),
            "{what}: <{t}>"
        );
        if name == "input" {
            assert!(
                attrs.contains(&("type".into(), "checkbox".into())),
                "{what}: <{t}>"
            );
        }
        if name == "script" {
            scripts += 1;
            assert!(attrs.is_empty(), "{what}: <{t}>");
        }
        for (k, v) in &attrs {
            assert!(
                !k.starts_with("on")
                    && ![
                        "src",
                        "srcset",
                        "xlink:href",
                        "background",
                        "poster",
                        "action"
                    ]
                    .contains(&k.as_str()),
                "{what}: attribute {k} in <{t}>"
            );
            assert!(!v.contains("url("), "{what}: url( in <{t}>");
            if k == "href" {
                assert_eq!(name, "a", "{what}: href outside <a>: <{t}>");
                assert!(
                    v.starts_with('#') || v.starts_with("https:") || v.starts_with("http:"),
                    "{what}: <{t}>"
                );
            }
            if name == "meta" && k == "http-equiv" {
                assert_eq!(v, "content-security-policy", "{what}: <{t}>");
            }
        }
    }
    assert_eq!(scripts, 1, "{what}: one inline script, the page's own");
    let lower = html.to_ascii_lowercase();
    let style = &lower[lower.find("<style>").expect("<style>")..lower.find("</style>").unwrap()];
    for bad in ["url(", "@import", "@font-face"] {
        assert!(!style.contains(bad), "{what}: {bad} in the style sheet");
    }
    assert!(
        html.contains(
            "content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-"
        ),
        "{what}: Content-Security-Policy"
    );
    assert!(
        !html.contains("SBDIAG-SCRIPT-HASH"),
        "{what}: script hash placeholder left"
    );
}

#[test]
fn samples_render_offline_complete_and_deterministic() {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for name in SAMPLES {
        let bundle = sample(name);
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let (html, r) = analyze(&bundle, a.path());
        let (again, _) = analyze(&bundle, b.path());
        assert!(html == again, "{name}: two runs, different bytes");
        assert!(!html.contains(&today), "{name}: the date of the run");
        assert_offline(&html, name);
        assert!(html.starts_with("<!doctype html>\n"), "{name}");

        let verdict = &r["verdict"];
        assert!(
            html.contains(&format!(
                "<h1 id=\"verdict\">{}</h1>",
                esc(text(verdict, "headline"))
            )),
            "{name}: verdict headline"
        );
        for (key, label) in [
            ("errors", "error(s)"),
            ("warnings", "warning(s)"),
            ("infos", "info"),
        ] {
            assert!(
                html.contains(&format!("{} {label}</a>", verdict[key])),
                "{name}: count of {key}"
            );
        }

        let findings = array(&r, "findings");
        assert_eq!(
            html.matches("<details class=\"finding ").count(),
            findings.len(),
            "{name}: one block per finding"
        );
        let mut errors = 0;
        for f in findings.iter().filter(|f| f["severity"] == "error") {
            errors += 1;
            let id = text(f, "id");
            assert!(
                html.contains(&esc(text(f, "title"))),
                "{name}: title of {id}"
            );
            assert!(
                html.contains(&format!("id <code>{}</code>", esc(id))),
                "{name}: id {id}"
            );
            for e in array(f, "evidence") {
                assert!(
                    html.contains(&esc(text(e, "file"))),
                    "{name}: evidence of {id}"
                );
            }
        }
        assert!(errors > 0, "{name}: the sample has error findings");
        // Incidents first: each with its title, id and cause, before any finding outside them;
        // one graph per incident that has one, and per finding no incident holds.
        let incidents = array(&r, "incidents");
        let held: std::collections::BTreeSet<&str> = incidents
            .iter()
            .flat_map(|i| {
                std::iter::once(text(i, "cause"))
                    .chain(array(i, "effects").iter().filter_map(|e| e.as_str()))
            })
            .collect();
        let mut last = 0;
        for i in incidents {
            let at = html
                .find(&format!(
                    "<span class=\"title\">{}</span></h3>\n<p class=\"fid\">id <code>{}</code>",
                    esc(text(i, "title")),
                    esc(text(i, "id"))
                ))
                .unwrap_or_else(|| panic!("{name}: incident {}", i["id"]));
            assert!(at > last, "{name}: incidents in report order");
            last = at;
            let cause = html
                .find(&format!("id <code>{}</code>", esc(text(i, "cause"))))
                .unwrap_or_else(|| panic!("{name}: cause of {}", i["id"]));
            assert!(cause > at, "{name}: the cause under its incident");
        }
        if !incidents.is_empty() {
            let incidents_at = html.find("<section id=\"incidents\">").expect("incidents");
            assert!(
                incidents_at < html.find("<section id=\"findings\">").unwrap(),
                "{name}: incidents before the other findings"
            );
        }
        if let Some(d) = r["bundle"]["issue_description"].as_str() {
            let at = html
                .find(&format!(
                    "<div class=\"issue-text\">{}</div>",
                    esc(d.trim())
                ))
                .unwrap_or_else(|| panic!("{name}: the customer's description"));
            assert!(
                at < html.find("<section id=\"findings\">").unwrap(),
                "{name}: the customer's description at the top"
            );
        }
        let graphs = incidents
            .iter()
            .filter(|i| i.get("graph").is_some())
            .count()
            + findings
                .iter()
                .filter(|f| f.get("graph").is_some() && !held.contains(text(f, "id")))
                .count();
        assert!(graphs > 0, "{name}: the sample has status graphs");
        assert_eq!(
            html.matches("<svg class=\"graph\"").count(),
            graphs,
            "{name}: one graph per incident, and per finding outside incidents, with one"
        );
        // A box drawn for each object not ready, with a red border.
        let unready = incidents
            .iter()
            .filter_map(|i| i.get("graph"))
            .chain(
                findings
                    .iter()
                    .filter(|f| !held.contains(text(f, "id")))
                    .filter_map(|f| f.get("graph")),
            )
            .flat_map(|g| array(g, "nodes"))
            .filter(|n| n["ready"] == false)
            .count();
        assert_eq!(
            html.matches("<g class=\"n bad").count(),
            unready,
            "{name}: unready boxes"
        );

        assert!(html.contains("<section id=\"coverage\">"), "{name}");
        for g in array(&r["coverage"], "missing") {
            assert!(html.contains(&esc(text(g, "what"))), "{name}: gap {g}");
        }
        for c in array(&r, "checks")
            .iter()
            .filter(|c| c["status"] == "not_evaluated")
        {
            let label = match c.get("check") {
                Some(k) => format!(
                    "<code>{}</code> <code>{}</code>",
                    esc(text(c, "rule")),
                    esc(k.as_str().unwrap())
                ),
                None => format!("<code>{}</code>", esc(text(c, "rule"))),
            };
            assert!(
                html.contains(&format!(
                    "{label}</td><td class=\"wrap\">{}",
                    esc(text(c, "reason"))
                )),
                "{name}: not evaluated {c}"
            );
        }

        assert!(html.contains("<section id=\"timeline\">"), "{name}");
        let timeline = array(&r, "timeline");
        assert!(!timeline.is_empty(), "{name}: the sample has a timeline");
        for t in timeline {
            assert!(html.contains(&esc(text(t, "text"))), "{name}: timeline {t}");
            assert!(html.contains(&esc(text(t, "ago"))), "{name}: timeline {t}");
        }

        // Filters for every severity present and every rule.
        for sev in ["error", "warning", "info"] {
            let present = findings.iter().any(|f| f["severity"] == sev);
            assert_eq!(
                html.contains(&format!("data-sev=\"{sev}\"")),
                present,
                "{name}: filter {sev}"
            );
        }
        for f in findings {
            assert!(
                html.contains(&format!("<option value=\"{}\">", esc(text(f, "rule")))),
                "{name}: rule filter {}",
                f["rule"]
            );
        }
    }
}

/// The fixture of a node whose name, annotation and Ready condition carry markup, and an event
/// about it that does too.
fn planted_fixture() -> String {
    let yaml = |s: &str| serde_json::to_string(s).unwrap();
    let name = yaml(PLANT_NAME);
    [
        "# Assumed capture time of the support bundle: 2025-02-14T09:41:07Z",
        "---",
        "apiVersion: v1",
        "kind: Node",
        "metadata:",
        &format!("  name: {name}"),
        "  annotations:",
        &format!("    note: {}", yaml("<script>window.__pwned=4</script>")),
        "spec:",
        "  unschedulable: true",
        "status:",
        "  conditions:",
        "  - type: Ready",
        "    status: \"False\"",
        "    reason: KubeletNotReady",
        &format!("    message: {}", yaml(PLANT_MESSAGE)),
        "    lastTransitionTime: \"2025-02-14T08:00:00Z\"",
        "  nodeInfo:",
        "    kubeletVersion: v1.29.9+rke2r1",
        "---",
        "apiVersion: v1",
        "kind: Event",
        "metadata:",
        "  name: ev1",
        "  namespace: default",
        "type: Warning",
        "reason: Planted",
        &format!("message: {}", yaml(PLANT_EVENT)),
        "involvedObject:",
        "  kind: Node",
        &format!("  name: {name}"),
        "firstTimestamp: \"2025-02-14T09:00:00Z\"",
        "lastTimestamp: \"2025-02-14T09:00:00Z\"",
        "count: 1",
        "",
    ]
    .join("\n")
}

/// A copy of the fleet-stale sample whose ManagedChart status message (drawn in the status
/// graph) carries markup.
fn planted_sample(dir: &Path) -> PathBuf {
    let src = sample("fleet-stale-v1.4.0");
    let root = dir.join("fleet-stale-planted");
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        let to = root.join(e.path().strip_prefix(&src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    let file = root.join("yamls/namespaced/fleet-local/management.cattle.io/v3/managedcharts.yaml");
    let s = std::fs::read_to_string(&file).unwrap();
    let from = "message: 'NotReady(1) [Cluster fleet-local/local];";
    assert!(s.contains(from), "the sample changed: {from} not found");
    std::fs::write(
        &file,
        s.replacen(
            from,
            "message: 'NotReady(1) <script>window.__pwned=6</script> [Cluster fleet-local/local];",
            1,
        ),
    )
    .unwrap();
    root
}

/// No planted element survived as markup; each shows as escaped text.
fn assert_planted_is_text(html: &str, planted: &[&str], what: &str) {
    assert_offline(html, what);
    // Markup (the tags themselves are checked by assert_offline: no <img>, no handler).
    for raw in ["<script>window", "<img src=x"] {
        let at = html.find(raw);
        assert!(
            at.is_none(),
            "{what}: raw {raw:?} in the page: {}",
            at.and_then(|i| html.get(i..(i + 120).min(html.len())))
                .unwrap_or_default()
        );
    }
    for p in planted {
        assert!(html.contains(&esc(p)), "{what}: {p:?} not shown as text");
    }
    assert!(html.contains("&lt;script&gt;"), "{what}");
}

#[test]
fn markup_planted_in_the_bundle_is_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = common::build_bundle(&planted_fixture(), dir.path());
    let out = dir.path().join("out");
    let (html, r) = analyze(&root, &out);
    // The planted strings did reach the report, so the page had to deal with them.
    let json = r.to_string();
    for p in [PLANT_NAME, PLANT_MESSAGE, PLANT_EVENT] {
        assert!(json.contains(p), "{p} not in report.json");
    }
    assert!(
        array(&r, "findings")
            .iter()
            .any(|f| text(f, "title").contains(PLANT_NAME)),
        "a finding names the planted node"
    );
    assert_planted_is_text(&html, &[PLANT_NAME, PLANT_MESSAGE, PLANT_EVENT], "fixture");

    // In the status graph too (built in Rust, not by the template).
    let planted = planted_sample(dir.path());
    let (html, r) = analyze(&planted, &dir.path().join("out-graph"));
    assert!(
        r.to_string().contains(
            "\"status\":\"[progressing,error] NotReady(1) <script>window.__pwned=6</script>"
        ),
        "the planted message is drawn in a graph"
    );
    assert_planted_is_text(&html, &["<script>window.__pwned=6</script>"], "graph");
    let svg = &html[html.find("<svg class=\"graph\"").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert!(svg.contains("&lt;script&gt;window.__pwned=6&lt;&#x2f;script&gt;"));
}

// ---------------------------------------------------------------------------------------------
// In a real browser.

/// What the browser check needs, or why it cannot run.
fn browser() -> Result<PathBuf, String> {
    let chromium = PathBuf::from("/usr/bin/chromium");
    if !chromium.is_file() {
        return Err(format!(
            "{} not found (apt-get install chromium)",
            chromium.display()
        ));
    }
    let modules = manifest().join("tests/browser/node_modules/playwright-core");
    if !modules.join("package.json").is_file() {
        return Err(format!(
            "{} not found (cd tests/browser && npm ci)",
            modules.display()
        ));
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(chromium),
        _ => Err("node not found".into()),
    }
}

#[test]
fn browser_renders_report() {
    let chromium = match browser() {
        Ok(c) => c,
        Err(why) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but the browser test cannot run: {why}"
            );
            eprintln!("skipping browser_renders_report: {why}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let shots = manifest().join("target/browser");
    std::fs::create_dir_all(&shots).unwrap();

    let sample_out = dir.path().join("sample");
    let (_, r) = analyze(&sample("fleet-stale-v1.4.0"), &sample_out);
    let planted_out = dir.path().join("planted");
    let (_, planted_r) = analyze(&planted_sample(dir.path()), &planted_out);
    let fixture_out = dir.path().join("fixture");
    let (_, fixture_r) = analyze(
        &common::build_bundle(&planted_fixture(), dir.path()),
        &fixture_out,
    );

    let arg = |p: &Path| p.to_str().unwrap().to_string();
    let mut args: Vec<String> = vec![arg(&manifest().join("tests/browser/check.mjs"))];
    args.extend([
        arg(&sample_out.join("report.html")),
        arg(&shots.join("report.png")),
        "--verdict".into(),
        text(&r["verdict"], "headline").into(),
    ]);
    // The incident the sample was made for is the first one shown.
    if let Some(first) = r["incidents"][0]["title"].as_str() {
        args.extend(["--incident".into(), first.into()]);
    }
    args.extend([
        "--".into(),
        arg(&planted_out.join("report.html")),
        arg(&shots.join("report-planted.png")),
        "--verdict".into(),
        text(&planted_r["verdict"], "headline").into(),
        "--text".into(),
        "<script>window.__pwned=6</script>".into(),
        "--".into(),
        arg(&fixture_out.join("report.html")),
        arg(&shots.join("report-fixture.png")),
        "--verdict".into(),
        text(&fixture_r["verdict"], "headline").into(),
        "--no-graph".into(),
    ]);
    for t in [PLANT_NAME, PLANT_MESSAGE, PLANT_EVENT] {
        args.extend(["--text".into(), t.into()]);
    }
    let out = Command::new("node")
        .args(&args)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser check failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let results: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 3, "{stdout}");
    assert!(results.iter().all(|v| v["ok"] == true), "{stdout}");
    assert!(results[0]["facts"]["graphs"].as_u64().unwrap() > 0);
    for png in ["report.png", "report-planted.png", "report-fixture.png"] {
        let p = shots.join(png);
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 10_000)
                .unwrap_or(false),
            "{} missing or empty",
            p.display()
        );
    }
    eprintln!("screenshots in {}", shots.display());
}
