//! Helpers shared by sbdiag's fuzz targets: the limits every target runs under, a scratch file
//! for inputs the library opens by path, the textual bundle format of the `pipeline` target,
//! a reader that walks every entry of an opened archive, and ([`grammar`], [`Input`]) the
//! structure-aware bundles of the `pipeline` and `redact` targets.
pub mod grammar;

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use sbdiag::archive::{Archive, Entry, Limits};

/// Caps small enough that no input can make a target allocate more than a few hundred MB
/// (libFuzzer's default RSS limit is 2 GB); the ratio floor is low so bombs are judged early.
pub fn limits() -> Limits {
    Limits {
        max_entries: 20_000,
        max_entry_bytes: 16 << 20,
        max_total_bytes: 64 << 20,
        max_ratio: 250,
        ratio_floor_bytes: 1 << 20,
        max_nested_bytes: 8 << 20,
    }
}

/// Writes `data` to `name` in this process's scratch folder (under `$TMPDIR`) and returns its
/// path; the same name is overwritten on every run. `None` when the folder is not writable.
pub fn scratch(name: &str, data: &[u8]) -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = DIR
        .get_or_init(|| {
            let d = std::env::temp_dir().join(format!("sbdiag-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&d).ok().map(|_| d)
        })
        .as_ref()?;
    let p = dir.join(name);
    std::fs::write(&p, data).ok()?;
    Some(p)
}

/// Reads every entry of `a` (in parallel, as the index does, then a few one at a time, as
/// queries do), and opens every `.zip` entry as a nested archive, one level deep.
pub fn read_all(a: &Archive, nested: bool) {
    let _ = (a.origin(), a.format(), a.rejected().len());
    let files: Vec<&Entry> = a.entries().iter().filter(|e| !e.is_dir).collect();
    let zips = std::sync::Mutex::new(Vec::new());
    let _ = a.read_many(&files, |e, r| {
        if let Ok(bytes) = r
            && nested
            && e.path.ends_with(".zip")
            && let Ok(mut z) = zips.lock()
        {
            z.push((e.path.clone(), bytes));
        }
    });
    for e in a.entries().iter().take(3) {
        let _ = a.read(&e.path).map_err(|e| e.to_string());
    }
    let _ = a.read("no/such/entry");
    for (name, bytes) in zips.into_inner().unwrap_or_default() {
        if let Ok(inner) = Archive::from_zip_bytes(&name, bytes, a.limits()) {
            read_all(&inner, false);
        }
    }
}

/// The `pipeline` target's textual bundle: sections, each a `=== <entry name>` line followed
/// by the entry's bytes up to the next `\n=== ` (so a bundle is readable and editable as text,
/// and byte mutations reach the YAML directly). A `.zip` section whose content starts with
/// `+++ ` is itself a textual bundle with `+++ ` sections (a node zip). Two pseudo-entries set
/// analysis options, `@from-version` and `@to-version`; a third, `@format`, the report the
/// `pipeline` target renders ([`Format::name`]).
pub struct TextBundle<'a> {
    /// `(name, content)` of every section, in order.
    pub entries: Vec<(&'a [u8], &'a [u8])>,
    marker: &'static [u8; 4],
}

impl<'a> TextBundle<'a> {
    /// Parses `data`; `None` unless it starts with `=== `.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        Self::parse_with(data, b"=== ")
    }

    fn parse_with(data: &'a [u8], marker: &'static [u8; 4]) -> Option<Self> {
        let mut rest = data.strip_prefix(marker)?;
        let mut entries = Vec::new();
        let mut next = b"\n".to_vec();
        next.extend_from_slice(marker);
        loop {
            let (header, body_and_more) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            match find(body_and_more, &next) {
                Some(i) => {
                    entries.push((header, &body_and_more[..=i]));
                    rest = &body_and_more[i + next.len()..];
                }
                None => {
                    entries.push((header, body_and_more));
                    return Some(TextBundle { entries, marker });
                }
            }
        }
    }

    /// The content of the pseudo-entry `name` as trimmed text.
    pub fn option(&self, name: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_string())
    }

    /// A zip (stored entries) of every section but the pseudo-entries; duplicate or unusable
    /// names are skipped.
    pub fn to_zip(&self) -> Option<Vec<u8>> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(false);
        for (name, body) in &self.entries {
            if name.starts_with(b"@") {
                continue;
            }
            let nested = match Self::parse_with(body, b"+++ ") {
                Some(inner) if name.ends_with(b".zip") && self.marker == b"=== " => inner.to_zip(),
                _ => None,
            };
            let name = String::from_utf8_lossy(name).into_owned();
            if w.start_file(name, opts).is_err() {
                continue;
            }
            if w.write_all(nested.as_deref().unwrap_or(body)).is_err() {
                return None;
            }
        }
        w.finish().ok().map(|c| c.into_inner())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    // A window-by-window comparison was 10 % of a pipeline run's instructions.
    memchr::memmem::find(hay, needle)
}

/// What a `pipeline` or `redact` input stands for. An input that starts with a zero byte, with
/// `=== ` (a textual bundle, see [`TextBundle`]), `PK` or the gzip magic is taken as bytes
/// (after the zero byte, if any), so archive quirks stay reachable; any other input chooses
/// a bundle through [`grammar::bundle`].
pub enum Input {
    /// An archive's bytes (zip, tar, tar.gz, or anything else), and the analysis options of
    /// a textual bundle.
    Raw(Vec<u8>, Option<String>, Option<String>),
    /// A bundle of the grammar.
    Generated(grammar::Generated),
}

impl Input {
    /// Decodes `data`; `None` when it makes nothing worth running (a textual bundle that
    /// cannot be zipped, or the grammar running out of choices before the first).
    pub fn of(data: &[u8]) -> Option<Input> {
        Self::with_format(data).map(|(i, _)| i)
    }

    /// [`Input::of`] and the report format the `pipeline` target renders for `data`: chosen
    /// by the input's last byte when the grammar makes the bundle (the grammar reads its
    /// choices from the front), by a textual bundle's `@format` pseudo-entry (a
    /// [`Format::name`]), else by the input's length when it is raw bytes (an archive's last
    /// bytes are its own: a zip's comment length, a gzip's size).
    pub fn with_format(data: &[u8]) -> Option<(Input, Format)> {
        let raw = match data {
            [0, rest @ ..] => rest,
            _ if data.starts_with(b"=== ")
                || data.starts_with(b"PK")
                || data.starts_with(&[0x1f, 0x8b]) =>
            {
                data
            }
            _ => {
                let mut u = libfuzzer_sys::arbitrary::Unstructured::new(data);
                let format = Format::of(data.last().copied().unwrap_or_default());
                return grammar::bundle(&mut u)
                    .ok()
                    .map(|g| (Input::Generated(g), format));
            }
        };
        let by_length = Format::of(data.len() as u8);
        Some(match TextBundle::parse(raw) {
            Some(t) => (
                Input::Raw(
                    t.to_zip()?,
                    t.option("@from-version"),
                    t.option("@to-version"),
                ),
                t.option("@format")
                    .and_then(|f| Format::named(&f))
                    .unwrap_or(by_length),
            ),
            None => (Input::Raw(raw.to_vec(), None, None), by_length),
        })
    }

    /// The archive's bytes and the analysis options (`--from-version`, `--to-version`).
    pub fn into_parts(self) -> (Vec<u8>, Option<String>, Option<String>) {
        match self {
            Input::Raw(b, f, t) => (b, f, t),
            Input::Generated(g) => {
                let z = g.to_zip();
                (z, g.from_version, g.to_version)
            }
        }
    }
}

/// The one report format a `pipeline` input renders (rendering all six made every run
/// several times slower; each stays reachable through the choice byte, see
/// [`Input::with_format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `report::json` (must parse as JSON).
    Json,
    /// `report::sarif` (must parse as JSON).
    Sarif,
    /// `report::markdown`.
    Markdown,
    /// `report::html`.
    Html,
    /// `report::junit`.
    Junit,
    /// `report::terminal` with its two switches.
    Terminal {
        /// ANSI colours.
        color: bool,
        /// Every finding an incident explains, and where each informational finding shows.
        verbose: bool,
    },
}

impl Format {
    /// Every format, in the order of [`Format::of`].
    pub const ALL: [Format; 9] = [
        Format::Json,
        Format::Sarif,
        Format::Markdown,
        Format::Html,
        Format::Junit,
        Format::Terminal {
            color: false,
            verbose: false,
        },
        Format::Terminal {
            color: true,
            verbose: false,
        },
        Format::Terminal {
            color: false,
            verbose: true,
        },
        Format::Terminal {
            color: true,
            verbose: true,
        },
    ];

    /// The format's name in a textual bundle's `@format` entry.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Junit => "junit",
            Format::Terminal {
                color: false,
                verbose: false,
            } => "terminal",
            Format::Terminal {
                color: true,
                verbose: false,
            } => "terminal-color",
            Format::Terminal {
                color: false,
                verbose: true,
            } => "terminal-verbose",
            Format::Terminal {
                color: true,
                verbose: true,
            } => "terminal-color-verbose",
        }
    }

    /// The format named `name` ([`Format::name`]).
    pub fn named(name: &str) -> Option<Format> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The format of choice byte `b`: `b % 6`, the terminal's switches from the next bits.
    pub fn of(b: u8) -> Format {
        match b % 6 {
            0 => Format::Json,
            1 => Format::Sarif,
            2 => Format::Markdown,
            3 => Format::Html,
            4 => Format::Junit,
            _ => Format::Terminal {
                color: (b / 6) % 2 == 1,
                verbose: (b / 12) % 2 == 1,
            },
        }
    }
}

/// Per-process setup of the targets that run the whole pipeline: rayon's pool (the index, the
/// archive reads and the redaction use it) made once, of one worker, the calling thread itself
/// (`use_current_thread`), so that a run neither wakes nor waits for another thread; the
/// calling thread must be the one every run is made on (libFuzzer's). When
/// `SBDIAG_FUZZ_DUMP` names a folder, every generated bundle is also written there in the
/// textual format (to turn a failing input into a test's bundle; slow).
pub fn setup() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build_global();
    });
}

/// Writes `g` as text into `$SBDIAG_FUZZ_DUMP/<name>` when that variable is set, with an
/// `@format` entry when `format` is given (the `pipeline` target's choice).
pub fn dump(g: &grammar::Generated, name: &str, format: Option<Format>) {
    if let Some(dir) = std::env::var_os("SBDIAG_FUZZ_DUMP") {
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let mut text = g.to_text();
        if let Some(f) = format {
            text.push_str("=== @format\n");
            text.push_str(f.name());
            text.push('\n');
        }
        let _ = std::fs::write(dir.join(name), text);
    }
}

/// The sample the `serve` and `mcp` targets answer from (indexed once per process).
pub const SAMPLE: &str = "upgrade-blocked-v1.4.0";

/// The folder of the project's sample `name`.
pub fn sample_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(name)
}

/// [`SAMPLE`] opened and indexed (the `serve` target's capture).
pub fn load_sample() -> sbdiag::analyze::Capture {
    let path = sample_path(SAMPLE);
    sbdiag::analyze::Capture::load(&path, &Limits::default(), &|_, _| {})
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `serve` target's textual request: a first line `METHOD TARGET` (only a target: `GET`),
/// then `Name: value` header lines up to a blank line, then the body. A header line
/// `@age-from capture` is an option (ages as at the capture), not a header.
pub struct TextRequest<'a> {
    /// The method as written.
    pub method: &'a [u8],
    /// The request target (path and query string).
    pub target: &'a [u8],
    /// `(name, value)` of every header line.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    /// `@age-from capture` was given.
    pub age_from_capture: bool,
    /// Everything after the blank line.
    pub body: &'a [u8],
}

impl<'a> TextRequest<'a> {
    /// Parses `data`; `None` when it is empty.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        if data.is_empty() {
            return None;
        }
        let mut lines = Lines { rest: data };
        let first = lines.next().unwrap_or_default();
        let (method, target) = match first.iter().position(|&b| b == b' ') {
            Some(i) => (&first[..i], &first[i + 1..]),
            None => (&b"GET"[..], first),
        };
        let mut headers = Vec::new();
        let mut age_from_capture = false;
        for line in lines.by_ref() {
            if line.is_empty() {
                break;
            }
            if line == b"@age-from capture" {
                age_from_capture = true;
                continue;
            }
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (line, &line[line.len()..]),
            };
            headers.push((name, value.trim_ascii_start()));
        }
        Some(TextRequest {
            method,
            target,
            headers,
            age_from_capture,
            body: lines.rest,
        })
    }

    /// The request's parts as hyper hands them to the server; `None` when hyper would refuse
    /// the request (a bad method, target or header).
    pub fn parts(&self) -> Option<hyper::http::request::Parts> {
        let mut b = hyper::Request::builder()
            .method(hyper::Method::from_bytes(self.method).ok()?)
            .uri(hyper::Uri::try_from(self.target).ok()?);
        for (name, value) in &self.headers {
            b = b.header(
                hyper::header::HeaderName::from_bytes(name).ok()?,
                hyper::header::HeaderValue::from_bytes(value).ok()?,
            );
        }
        Some(b.body(()).ok()?.into_parts().0)
    }
}

/// Lines ending in `\n` or `\r\n`, the rest kept for the body.
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

/// One run of the `pipeline` target (see `fuzz_targets/pipeline.rs`): the input's bundle,
/// opened from memory, analysed, its report rendered in the format the input chooses; JSON
/// and SARIF must parse. A function of the library so that `examples/replay.rs` can run it
/// natively over a corpus, for profiling without the sanitizers.
pub fn pipeline(data: &[u8]) {
    use sbdiag::analyze::Analysis;
    use sbdiag::bundle::Bundle;
    use sbdiag::report;

    setup();
    let Some((input, format)) = Input::with_format(data) else {
        return;
    };
    if let Input::Generated(g) = &input {
        dump(g, "pipeline.txt", Some(format));
    }
    let (bytes, from, to) = input.into_parts();
    let bundle = match Archive::from_bytes("bundle.zip", bytes, &limits())
        .and_then(|a| Bundle::from_archive("bundle.zip".into(), a))
    {
        Ok(b) => b,
        Err(e) => return drop(e.to_string()),
    };
    let mut a = Analysis::of(bundle, &|_, _| {});
    a.options.from_version = from;
    a.options.to_version = to;
    let r = a.report();
    let json = match format {
        Format::Json => report::json::render(&r),
        Format::Sarif => report::sarif::render(&r),
        Format::Markdown => return drop(report::markdown::render(&r)),
        Format::Html => return drop(report::html::render(&r)),
        Format::Junit => return drop(report::junit::render(&r)),
        Format::Terminal { color, verbose } => {
            return drop(report::terminal::render(&r, color, verbose));
        }
    };
    assert!(
        serde_json::from_str::<serde::de::IgnoredAny>(&json).is_ok(),
        "{format:?}: {json}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_chosen_by_some_byte_and_named_once() {
        let chosen: std::collections::HashSet<&str> =
            (0..=255u8).map(|b| Format::of(b).name()).collect();
        assert_eq!(chosen.len(), Format::ALL.len());
        for f in Format::ALL {
            assert_eq!(Format::named(f.name()), Some(f));
        }
        assert_eq!(Format::named("yaml"), None);
    }

    #[test]
    fn a_textual_bundle_names_its_format_and_a_generated_one_ends_with_it() {
        let text = b"=== a/metadata.yaml\nx: 1\n=== @format\nsarif\n";
        let (input, format) = Input::with_format(text).unwrap();
        assert!(matches!(input, Input::Raw(..)));
        assert_eq!(format, Format::Sarif);
        // Without `@format`, the length chooses.
        let bare = b"=== a/metadata.yaml\nx: 1\n";
        assert_eq!(
            Input::with_format(bare).unwrap().1,
            Format::of(bare.len() as u8)
        );
        // The grammar's inputs: the last byte.
        let mut g = vec![7u8; 300];
        *g.last_mut().unwrap() = 3;
        let (input, format) = Input::with_format(&g).unwrap();
        assert!(matches!(input, Input::Generated(_)));
        assert_eq!(format, Format::Html);
    }
}
