//! The `Report` value (the JSON contract of DESIGN §3, in [`contract`]) and its renderers.
//! Renderers only format: the analysis stage has already computed every verdict, severity,
//! timeline entry and rule description the report shows. Nothing here reads the bundle, the
//! index, the rules or the queries.
pub mod contract;
pub mod html;
pub mod json;
pub mod junit;
pub mod layout;
pub mod markdown;
pub mod sarif;
pub mod terminal;

pub use contract::{
    ArchiveFormat, BundleSummary, Check, CheckStatus, Collected, CoverageReport, Evidence, Failure,
    Finding, Gap, GapLevel, GraphEdge, GraphNode, Incident, Location, ObjectRef, ParseError,
    Report, RuleDescription, SCHEMA_VERSION, Severity, SubGraph, TimelineEntry, TimelineKind,
    TimelineLevel, Tool, Verdict,
};

/// The report templates (`templates/`), by name: `.html` and `.xml` ones escape for HTML (which
/// is XML-safe for text and attribute values), the others (Markdown, the terminal's summary)
/// escape nothing.
const TEMPLATES: &[(&str, &str)] = &[
    ("report.html", include_str!("../../templates/report.html")),
    (
        "report.junit.xml",
        include_str!("../../templates/report.junit.xml"),
    ),
    ("report.md", include_str!("../../templates/report.md")),
    ("summary.txt", include_str!("../../templates/summary.txt")),
];

/// Renders the template `name` of [`TEMPLATES`] with `ctx`. The templates are compiled once
/// per process, the first time one is rendered; an error (a template that does not compile,
/// which a unit test rules out, or a failure while rendering) is the renderer's to report.
pub(crate) fn render_template(
    name: &str,
    ctx: minijinja::Value,
) -> Result<String, minijinja::Error> {
    use std::sync::OnceLock;
    static ENV: OnceLock<Result<minijinja::Environment<'static>, minijinja::Error>> =
        OnceLock::new();
    let env = ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".xml") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(env)
    });
    match env {
        Ok(env) => env.get_template(name)?.render(ctx),
        Err(e) => Err(minijinja::Error::new(e.kind(), e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    /// Every template compiles, and each escapes as its format needs.
    #[test]
    fn templates_compile_and_escape_by_format() {
        for (name, _) in super::TEMPLATES {
            let env_ok = super::render_template(name, minijinja::context! {});
            // Rendering with no data may fail inside the template, never for its syntax.
            if let Err(e) = env_ok {
                assert!(
                    !matches!(e.kind(), minijinja::ErrorKind::SyntaxError),
                    "{name}: {e}"
                );
            }
        }
        let e = super::render_template("no-such.html", minijinja::context! {}).unwrap_err();
        assert_eq!(e.kind(), minijinja::ErrorKind::TemplateNotFound);
    }
}
