//! The line rewriter: every line of every text file goes through it once. It replaces the
//! collected identifiers wherever they stand between non-alphanumeric characters (words of
//! the system's vocabulary only where they are a whole value), addresses, e-mails and
//! domains by their shape, and secret material (PEM blocks, tokens, cloud-init data,
//! passwords, Secret data) by `REDACTED`, keeping every line where it was so that line
//! numbers of evidence still point at the same place.
use std::borrow::Cow;
use std::collections::HashMap;

use regex::Regex;

use super::ids::{self, Found, Vocabulary};
use super::pseudo::{Class, Pseudonyms};
use super::words::Words;
use crate::error::{Error, Result};

/// What replaces secret material.
pub const REDACTED: &str = "REDACTED";
/// `REDACTED`, base64: the value of every Secret data key (still valid base64).
const REDACTED_B64: &str = "UkVEQUNURUQ=";

/// Keys whose values are secret material wherever they appear (YAML or JSON).
const SECRET_KEYS: &[&str] = &[
    "userdata",
    "userdatabase64",
    "networkdata",
    "networkdatabase64",
    "password",
    "passwd",
    "token",
    "agent-token",
    "secret",
    "secretkey",
    "secret-key",
    "secret_key",
    "privatekey",
    "private-key",
    "private_key",
    "client-key-data",
    "client-certificate-data",
    "certificate-authority-data",
    "kubeconfig",
    "cacerts",
    "ssh_authorized_keys",
    "ssh-authorized-keys",
    "sshauthorizedkeys",
    "publickey",
    "public-key",
    "issuedescription",
    "issueurl",
    "accesskey",
    "access-key",
    "aws_access_key_id",
    "aws_secret_access_key",
];

/// Values that are already masked.
fn is_masked(v: &str) -> bool {
    let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
    v.is_empty()
        || v == "null"
        || v == "~"
        || v == "{}"
        || v == "[]"
        || v.starts_with(REDACTED)
        || v == REDACTED_B64
        || v.chars().all(|c| c == '*')
}

/// One shape found by regular expression, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    PemInline,
    Jwt,
    SecretBase64,
    SshKey,
    Bearer,
    RancherToken,
    UrlCredentials,
    TokenFlag,
    JsonSecret,
    Email,
    Mac,
    Ipv6,
    Ipv4,
    Domain,
}

/// Top-level domains matched in free text (others are found from configurations only).
const TLDS: &str = "com|net|org|io|local|lan|internal|corp|home|intranet|cloud|biz|uk|de|fr|cn|jp|tw|nl|eu|ch|es|se|au|ca|br|ru|kr|xyz|gov|edu|mil";

fn shapes() -> Vec<(Shape, String)> {
    let keys = "userData|userDataBase64|networkData|networkDataBase64|password|passwd|token|secret|privateKey|private_key|client-key-data|kubeconfig|secretKey|accessKey";
    vec![
        (
            Shape::PemInline,
            r"-----BEGIN [A-Z0-9 ]+-----[A-Za-z0-9+/=\\ ]*-----END [A-Z0-9 ]+-----".into(),
        ),
        (
            Shape::Jwt,
            r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*".into(),
        ),
        (
            Shape::SecretBase64,
            r"(?:YXBpVmVyc2lvbj|LS0tLS1CRUdJTi|I2Nsb3VkLWNvbmZpZ)[A-Za-z0-9+/]*=*".into(),
        ),
        (
            Shape::SshKey,
            r"(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp[0-9]+) [A-Za-z0-9+/]{20,}=*".into(),
        ),
        (Shape::Bearer, r"[Bb](?:earer|EARER) [A-Za-z0-9._~+/-]{16,}=*".into()),
        (Shape::RancherToken, r"token-[a-z0-9]{5}:[a-z0-9]{30,}".into()),
        (
            Shape::UrlCredentials,
            r"://[A-Za-z0-9._~%!$&()+,;=-]+:[A-Za-z0-9._~%!$&()*+,;=-]+@".into(),
        ),
        (Shape::TokenFlag, r"--(?:token|password|agent-token)[= ][!-)+-~][!-~]*".into()),
        (
            Shape::JsonSecret,
            format!(r#"\\?"(?:{keys})\\?"[ ]*:[ ]*\\?"(?:[ !#-\[\]-~]|\\[ -!#-~])*\\?""#),
        ),
        (
            Shape::Email,
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}".into(),
        ),
        (
            Shape::Mac,
            r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}".into(),
        ),
        (
            Shape::Ipv6,
            r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{1,4}".into(),
        ),
        (
            Shape::Ipv4,
            r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}".into(),
        ),
        (
            Shape::Domain,
            format!(r"(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+(?i:{TLDS})(?-u:\b)"),
        ),
    ]
}

/// Secret-shaped strings the leak check looks for.
fn leak_shapes() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "a PEM block",
            r"-----BEGIN (?:[A-Z0-9]+ )*(?:PRIVATE KEY|CERTIFICATE|PUBLIC KEY|KEY)-----",
        ),
        (
            "a JSON Web Token",
            r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*",
        ),
        (
            "base64 of a kubeconfig, key or cloud-config",
            r"(?:YXBpVmVyc2lvbj|LS0tLS1CRUdJTi|I2Nsb3VkLWNvbmZpZ)[A-Za-z0-9+/]{8,}",
        ),
        (
            "an SSH key",
            r"(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp[0-9]+) [A-Za-z0-9+/]{20,}",
        ),
        (
            "a bearer token",
            r"[Bb](?:earer|EARER) [A-Za-z0-9._~+/-]{16,}",
        ),
        ("a Rancher token", r"token-[a-z0-9]{5}:[a-z0-9]{30,}"),
        (
            "credentials in a URL",
            r"://[A-Za-z0-9._~%!$&()+,;=-]+:[A-Za-z0-9._~%!$&()+,;=-]+@",
        ),
    ]
}

/// Per-file state of the rewriter (multi-line secrets).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileState {
    /// Inside a PEM block that began on an earlier line.
    pem: bool,
    /// Inside a block scalar of a secret key: the key's indentation.
    block: Option<usize>,
    /// Inside the `data:`/`stringData:` map of a Secret: its indentation.
    data: Option<usize>,
    /// The file is a list of Secrets.
    secrets: bool,
}

impl FileState {
    /// The state for a file at `path` (a Secret list gets its data masked).
    pub fn for_path(path: &str) -> FileState {
        FileState {
            secrets: path.ends_with("/v1/secrets.yaml"),
            ..FileState::default()
        }
    }
}

/// What [`Rewriter::lines`] found of a line before rewriting it.
#[derive(Clone, Copy)]
struct Hint<'a> {
    /// The shapes' matches in the line.
    shapes: &'a [(usize, usize)],
    /// Whether the text the line is in has a PEM block's beginning at all.
    has_pem: bool,
}

/// The rewriter of one run.
pub struct Rewriter<'p> {
    p: &'p Pseudonyms,
    /// Identifiers replaced in free text.
    ac: Option<Words>,
    words: Vec<(String, Class)>,
    /// The pseudonym of each of `words`, made once: a log line can name the node thousands of
    /// times, and asking the maker each time would take its lock from every worker.
    pseudonyms: Vec<String>,
    /// Identifiers that are vocabulary words: replaced only as whole values.
    whole: WholeValues<Class>,
    re: &'static Compiled,
}

/// The shapes' regular expressions, compiled once per process and shared by every rewriter:
/// compiling them, and building the lazy automaton's states again for each fresh copy, was a
/// third of a `redact` fuzzing run (one rewriter per input).
struct Compiled {
    /// Every shape in one automaton.
    any: Regex,
    /// Each shape alone, anchored, to say which one matched.
    each: Vec<(Shape, Regex)>,
    pem_begin: Regex,
}

impl Compiled {
    fn get() -> Result<&'static Compiled> {
        static COMPILED: std::sync::OnceLock<std::result::Result<Compiled, String>> =
            std::sync::OnceLock::new();
        COMPILED.get_or_init(Compiled::new).as_ref().map_err(|e| {
            Error::Usage(format!(
                "internal: a redaction pattern does not compile: {e}"
            ))
        })
    }

    fn new() -> std::result::Result<Compiled, String> {
        let list = shapes();
        let re = |r: &str| Regex::new(r).map_err(|e| e.to_string());
        let any = re(&alternatives(list.iter().map(|(_, r)| r.as_str())))?;
        let each = list
            .iter()
            .map(|(s, r)| Ok((*s, re(&format!("^(?:{r})$"))?)))
            .collect::<std::result::Result<Vec<_>, String>>()?;
        Ok(Compiled {
            any,
            each,
            pem_begin: re(r"-----BEGIN [A-Z0-9 ]+-----")?,
        })
    }
}

/// One regular expression matching any of `patterns`, the first listed winning where several
/// match at one place.
fn alternatives<'a>(patterns: impl Iterator<Item = &'a str>) -> String {
    patterns
        .map(|r| format!("(?:{r})"))
        .collect::<Vec<_>>()
        .join("|")
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

impl<'p> Rewriter<'p> {
    /// A rewriter of the identifiers `found`, with pseudonyms from `p`.
    pub fn new(found: &Found, vocab: &Vocabulary, p: &'p Pseudonyms) -> Result<Rewriter<'p>> {
        let mut words = Vec::new();
        let mut whole = HashMap::new();
        for (id, class) in &found.ids {
            if vocab.has(id) {
                whole.insert(id.clone(), *class);
            } else {
                words.push((id.clone(), *class));
            }
        }
        let ac = Words::new(words.iter().map(|(w, _)| w.as_str()));
        let pseudonyms = words.iter().map(|(w, c)| p.of(*c, w)).collect();
        Ok(Rewriter {
            p,
            ac,
            words,
            pseudonyms,
            whole: WholeValues::new(whole),
            re: Compiled::get()?,
        })
    }

    /// The identifiers replaced in free text and those replaced as whole values only.
    pub fn counts(&self) -> (usize, usize) {
        (self.words.len(), self.whole.map.len())
    }

    /// Rewrites a bundle-relative or archive path: identifiers and shapes, segment by segment.
    pub fn path(&self, path: &str) -> String {
        path.split('/')
            .map(|seg| {
                let (stem, ext) = match seg.rsplit_once('.') {
                    Some((s, e))
                        if matches!(e, "zip" | "log" | "yaml" | "txt" | "json" | "txz") =>
                    {
                        (s, Some(e))
                    }
                    _ => (seg, None),
                };
                if let Some(c) = self.whole.map.get(stem) {
                    let p = self.p.of(*c, stem);
                    return match ext {
                        Some(e) => format!("{p}.{e}"),
                        None => p,
                    };
                }
                self.free(seg)
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Rewrites one line of a text file (without its line ending) into `out`.
    pub fn line(&self, l: &str, st: &mut FileState, out: &mut String) {
        self.line_with(l, st, out, None);
    }

    /// Rewrites whole lines (each kept with its ending) from state `st`, appending to `out`.
    ///
    /// The shapes' automaton runs once over the whole text, not once a line: a bundle's YAML
    /// is mostly short lines, and starting a search cost as much as the search. Its matches
    /// are those of a search line by line, since no shape can match a line ending (`\r` or
    /// `\n`), and the one assertion (a domain's closing word boundary) sees a line ending as
    /// it sees the end of the text; `the_lines_of_a_text_as_one_by_one` tests it.
    pub fn lines(&self, text: &str, st: &mut FileState, out: &mut String) {
        let found: Vec<(usize, usize)> = self
            .re
            .any
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect();
        let has_pem = text.contains("-----BEGIN ");
        let mut shapes = found.iter().peekable();
        let mut here: Vec<(usize, usize)> = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let rest = text.get(at..).unwrap_or_default();
            let (len, ending) = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(i) if rest.as_bytes().get(i.wrapping_sub(1)) == Some(&b'\r') => (i - 1, 2),
                Some(i) => (i, 1),
                None => (rest.len(), 0),
            };
            let end = at + len;
            here.clear();
            while let Some(&&(s, e)) = shapes.peek() {
                if s >= end {
                    break;
                }
                here.push((s - at, e - at));
                shapes.next();
            }
            let l = text.get(at..end).unwrap_or_default();
            self.line_with(
                l,
                st,
                out,
                Some(Hint {
                    shapes: &here,
                    has_pem,
                }),
            );
            out.push_str(text.get(end..end + ending).unwrap_or_default());
            at = end + ending;
        }
    }

    /// [`Rewriter::line`], with what is already known of the line.
    fn line_with(&self, l: &str, st: &mut FileState, out: &mut String, hint: Option<Hint<'_>>) {
        // Inside a secret block scalar: every more-indented (or blank) line is masked.
        if let Some(key_indent) = st.block {
            if l.trim().is_empty() {
                out.push_str(l);
                return;
            }
            if indent(l) > key_indent {
                out.push_str(&l[..indent(l)]);
                out.push_str(&self.p.secret(l.trim()));
                return;
            }
            st.block = None;
        }
        if st.pem {
            let i = l.len() - l.trim_start().len();
            out.push_str(&l[..i]);
            if l.contains("-----END") {
                st.pem = false;
                out.push_str("-----END REDACTED-----");
            } else {
                out.push_str(&self.p.secret(l.trim()));
            }
            return;
        }
        if let Some(data_indent) = st.data {
            if !l.trim().is_empty() && indent(l) <= data_indent {
                st.data = None;
            } else if let Some(c) = key_line(l) {
                out.push_str(&l[..c.head]);
                let v = c.value;
                if v.starts_with('|') || v.starts_with('>') {
                    out.push_str(v);
                    st.block = Some(indent(l));
                } else if !v.is_empty() {
                    out.push_str(REDACTED_B64);
                }
                return;
            }
        }
        if let Some(c) = key_line(l) {
            let key = c.key;
            let lower = key.to_ascii_lowercase();
            if st.secrets && (key == "data" || key == "stringData") && c.value.is_empty() {
                st.data = Some(c.lead);
                out.push_str(l);
                return;
            }
            if SECRET_KEYS.contains(&lower.as_str()) {
                let v = c.value;
                if v.starts_with('|') || v.starts_with('>') {
                    out.push_str(l);
                    st.block = Some(c.lead);
                    return;
                }
                if !is_masked(v) && !v.starts_with('{') && !v.starts_with('[') {
                    out.push_str(&l[..c.head]);
                    let q = v.chars().next().filter(|c| *c == '"' || *c == '\'');
                    let secret = self.p.secret(v.trim_matches(|c| c == '"' || c == '\''));
                    match q {
                        Some(q) => {
                            out.push(q);
                            out.push_str(&secret);
                            out.push(q);
                        }
                        None => out.push_str(&secret),
                    }
                    return;
                }
            }
        }
        if hint.is_none_or(|h| h.has_pem)
            && let Some(m) = self.re.pem_begin.find(l)
            && !l[m.end()..].contains("-----END")
        {
            self.free_into(&l[..m.start()], out);
            out.push_str("-----BEGIN REDACTED-----");
            st.pem = true;
            return;
        }
        // A whole value that is a vocabulary word.
        if let Some((start, end, c)) = self.whole.find(l) {
            self.free_into(&l[..start], out);
            out.push_str(&self.p.of(*c, &l[start..end]));
            self.free_into(&l[end..], out);
            return;
        }
        self.free_with(l, out, hint.map(|h| h.shapes));
    }

    /// Replaces identifiers and shapes in free text.
    pub fn free(&self, l: &str) -> String {
        let mut out = String::with_capacity(l.len());
        self.free_into(l, &mut out);
        out
    }

    /// [`Rewriter::free`], appending to `out`.
    pub fn free_into(&self, l: &str, out: &mut String) {
        self.free_with(l, out, None);
    }

    /// [`Rewriter::free_into`], with the shapes' matches in `l` when already found.
    fn free_with(&self, l: &str, out: &mut String, shapes: Option<&[(usize, usize)]>) {
        let mut hits: Vec<(usize, usize, Cow<'_, str>)> = Vec::new();
        if let Some(ac) = &self.ac {
            for m in ac.find_iter(l) {
                // Whatever the case in this line, the pseudonym of the collected spelling.
                if let Some(p) = self.pseudonyms.get(m.pattern().as_usize()) {
                    hits.push((m.start(), m.end(), Cow::Borrowed(p)));
                }
            }
        }
        let mut shape = |start: usize, end: usize| {
            if let Some(r) = self.shape(l, start, end) {
                hits.push((start, end, Cow::Owned(r)));
            }
        };
        match shapes {
            Some(found) => found.iter().for_each(|&(s, e)| shape(s, e)),
            None => self
                .re
                .any
                .find_iter(l)
                .for_each(|m| shape(m.start(), m.end())),
        }
        if hits.is_empty() {
            out.push_str(l);
            return;
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut at = 0;
        for (s, e, r) in hits {
            if s < at {
                continue;
            }
            out.push_str(&l[at..s]);
            out.push_str(&r);
            at = e;
        }
        out.push_str(&l[at..]);
    }

    /// The replacement of a shape match at `start..end`, or `None` to keep it.
    fn shape(&self, l: &str, start: usize, end: usize) -> Option<String> {
        let text = &l[start..end];
        let shape = self.re.each.iter().find(|(_, r)| r.is_match(text))?.0;
        let p = self.p;
        match shape {
            Shape::PemInline => Some(format!(
                "-----BEGIN REDACTED-----{}-----END REDACTED-----",
                p.secret(text)
            )),
            Shape::Jwt | Shape::SecretBase64 | Shape::RancherToken => Some(p.secret(text)),
            Shape::SshKey | Shape::Bearer => text
                .split_once(' ')
                .map(|(t, body)| format!("{t} {}", p.secret(body))),
            Shape::UrlCredentials => Some(format!("://{}@", p.secret(text))),
            Shape::TokenFlag => {
                let cut = text.find(['=', ' ']).map_or(text.len(), |i| i + 1);
                Some(format!("{}{}", &text[..cut], p.secret(&text[cut..])))
            }
            Shape::JsonSecret => {
                let colon = text.find(':')?;
                let esc = if text.starts_with('\\') { "\\" } else { "" };
                Some(format!(
                    "{}:{esc}\"{}{esc}\"",
                    &text[..colon],
                    p.secret(&text[colon..])
                ))
            }
            Shape::Email => {
                let domain = text.rsplit_once('@')?.1;
                (!ids::is_kept_domain(domain) && ids::boundary(l, start, end))
                    .then(|| p.of(Class::Email, text))
            }
            Shape::Mac => ids::boundary(l, start, end).then(|| p.of(Class::Mac, text)),
            Shape::Ipv6 => {
                let ok = ids::boundary(l, start, end)
                    && !l[end..].starts_with(':')
                    && (text.contains("::") || text.matches(':').count() == 7)
                    && text.matches(':').count() >= 2
                    && text.parse::<std::net::Ipv6Addr>().is_ok();
                ok.then(|| p.of(Class::Ipv6, text))
            }
            // Wherever it stands as a word, as the leak check looks for it: also inside a
            // longer dotted number (`https://10.10.0.10.0.50.5`, an OID ending in an
            // address), which reads as the address to anyone (found by the `redact` fuzz
            // target: kept there and replaced elsewhere, the check refused the copy).
            Shape::Ipv4 => ids::boundary(l, start, end).then(|| p.of(Class::Ipv4, text)),
            // Like an address: wherever it stands as a word, as the leak check looks for it
            // (`--shop.acme.com`, `shop.acme.com-backup`), unless it is a domain of the
            // system's own.
            Shape::Domain => (ids::boundary(l, start, end) && !ids::is_kept_domain(text))
                .then(|| p.of(Class::Domain, text)),
        }
    }
}

/// A `key: value` line: the key, where its value starts, and the indentation before the key
/// (a list item's `- ` included).
struct KeyLine<'a> {
    lead: usize,
    key: &'a str,
    head: usize,
    value: &'a str,
}

/// The first position at or after `i` that is not ASCII white space.
fn skip_space(b: &[u8], i: usize) -> usize {
    i + b
        .iter()
        .skip(i)
        .take_while(|c| c.is_ascii_whitespace())
        .count()
}

fn key_line(l: &str) -> Option<KeyLine<'_>> {
    let b = l.as_bytes();
    let mut i = skip_space(b, 0);
    if b.get(i) == Some(&b'-') && b.get(i + 1).is_some_and(u8::is_ascii_whitespace) {
        i = skip_space(b, i + 1);
    }
    let lead = i;
    let quoted = b.get(i) == Some(&b'"');
    if quoted {
        i += 1;
    }
    let start = i;
    i += b
        .iter()
        .skip(i)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    if i == start {
        return None;
    }
    let key = l.get(start..i)?;
    if quoted {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
    }
    i += b.iter().skip(i).take_while(|c| **c == b' ').count();
    if b.get(i) != Some(&b':') {
        return None;
    }
    i = skip_space(b, i + 1);
    Some(KeyLine {
        lead,
        key,
        head: i,
        value: l.get(i..)?,
    })
}

/// The span of a line's value when the line is `key: value`, `- value` or `value` (quotes
/// excluded).
fn value_span(l: &str) -> Option<(usize, usize)> {
    let mut start = l.len() - l.trim_start().len();
    let rest = &l[start..];
    if let Some(r) = rest.strip_prefix("- ") {
        start += rest.len() - r.len();
    }
    let rest = &l[start..];
    let colon_space = memchr::memchr_iter(b':', rest.as_bytes())
        .find(|i| rest.as_bytes().get(i + 1) == Some(&b' '));
    if let Some(i) = colon_space {
        let key = &rest[..i];
        if !key.contains(' ') || key.starts_with('"') {
            start += i + 2;
        }
    }
    let mut end = l.trim_end().len();
    while start < end && l[start..].starts_with(' ') {
        start += 1;
    }
    let b = l.as_bytes();
    let first = b.get(start).copied();
    if end > start + 1 && matches!(first, Some(b'"' | b'\'')) && b.get(end - 1).copied() == first {
        start += 1;
        end -= 1;
    }
    (start < end).then_some((start, end))
}

/// Words looked for only where they are a line's whole value ([`value_span`]). Most lines'
/// values are longer than any such word: their length rules them out before any hashing.
struct WholeValues<V> {
    map: HashMap<String, V>,
    /// Whether a word has this length in bytes (the last slot: 256 or more).
    lens: Box<[bool; 257]>,
}

impl<V> WholeValues<V> {
    fn new(map: HashMap<String, V>) -> WholeValues<V> {
        let mut lens = Box::new([false; 257]);
        for w in map.keys() {
            if let Some(l) = lens.get_mut(w.len().min(256)) {
                *l = true;
            }
        }
        WholeValues { map, lens }
    }

    /// The span of line `l`'s whole value when it is one of the words, with its value.
    fn find(&self, l: &str) -> Option<(usize, usize, &V)> {
        if self.map.is_empty() {
            return None;
        }
        let (s, e) = value_span(l)?;
        if !self.lens.get((e - s).min(256)).copied().unwrap_or(true) {
            return None;
        }
        self.map.get(&l[s..e]).map(|v| (s, e, v))
    }
}

/// The leak check of one run: the originals to look for and the secret shapes.
pub struct LeakCheck {
    ac: Option<Words>,
    originals: Vec<String>,
    whole: WholeValues<()>,
    pseudonyms: std::collections::HashSet<String>,
    /// The secret shapes (`None` only if they did not compile, which the unit tests rule out).
    shapes: Option<&'static LeakShapes>,
}

/// The secret shapes the leak check looks for, compiled once per process and shared by every
/// check (a fuzzing run makes one check per input).
struct LeakShapes {
    /// Every secret shape in one automaton.
    any: Regex,
    /// Each alone, to say which.
    each: Vec<(&'static str, Regex)>,
}

impl LeakShapes {
    fn get() -> Option<&'static LeakShapes> {
        static SHAPES: std::sync::OnceLock<Option<LeakShapes>> = std::sync::OnceLock::new();
        SHAPES
            .get_or_init(|| {
                let list = leak_shapes();
                Some(LeakShapes {
                    any: Regex::new(&alternatives(list.iter().map(|(_, r)| *r))).ok()?,
                    each: list
                        .into_iter()
                        .map(|(what, r)| Some((what, Regex::new(r).ok()?)))
                        .collect::<Option<_>>()?,
                })
            })
            .as_ref()
    }
}

impl LeakCheck {
    /// A check for `originals` (each with whether it is a vocabulary word, looked for only
    /// as a whole value), not counting text that is itself one of `pseudonyms`.
    pub fn new(originals: Vec<(String, bool)>, pseudonyms: Vec<String>) -> LeakCheck {
        let (whole, free): (Vec<_>, Vec<_>) = originals.into_iter().partition(|(_, w)| *w);
        let originals: Vec<String> = free.into_iter().map(|(o, _)| o).collect();
        LeakCheck {
            ac: Words::new(originals.iter().map(String::as_str)),
            originals,
            whole: WholeValues::new(whole.into_iter().map(|(o, _)| (o, ())).collect()),
            pseudonyms: pseudonyms.into_iter().collect(),
            shapes: LeakShapes::get(),
        }
    }

    /// What of the originals or secrets each line of `text` still holds, as [`LeakCheck::line`]
    /// says it, with the line's index (the lines of [`str::lines`]).
    ///
    /// The identifiers and the secret shapes are searched once over the whole text, then each
    /// line takes the matches that start in it: on a bundle's short YAML lines, starting two
    /// searches a line cost more than the searches. Neither an identifier nor a secret shape
    /// holds a line ending, so the matches are those of a search line by line
    /// (`the_lines_of_a_text_checked_as_one_by_one` tests it).
    pub fn lines(&self, text: &str) -> Vec<(usize, String)> {
        let ids: Vec<(usize, usize)> = self.ac.as_ref().map_or_else(Vec::new, |ac| {
            ac.find_iter(text)
                .filter(|m| !self.pseudonyms.contains(&text[m.start()..m.end()]))
                .map(|m| (m.start(), m.pattern().as_usize()))
                .collect()
        });
        let shapes: Vec<usize> = match self.shapes {
            Some(r) => r.any.find_iter(text).map(|m| m.start()).collect(),
            None => Vec::new(),
        };
        let (mut ids, mut shapes) = (ids.iter().peekable(), shapes.iter().peekable());
        let mut out = Vec::new();
        let mut at = 0;
        for (i, l) in text.lines().enumerate() {
            // `lines` yields slices of `text`: where this one starts and where the next does.
            let start = l.as_ptr() as usize - text.as_ptr() as usize;
            debug_assert!(start >= at);
            let end = start + l.len();
            at = end;
            let mut id = None;
            while let Some(&&(s, pattern)) = ids.peek() {
                if s >= end {
                    break;
                }
                if s >= start {
                    id = id.or(Some(pattern));
                }
                ids.next();
            }
            let mut shape = false;
            while let Some(&&s) = shapes.peek() {
                if s >= end {
                    break;
                }
                shape |= s >= start;
                shapes.next();
            }
            let what = if let Some(p) = id {
                let o = self.originals.get(p).map_or("", String::as_str);
                Some(format!("the identifier {o:?}"))
            } else if let Some((s, e, ())) = self.whole.find(l) {
                Some(format!("the identifier {:?}", &l[s..e]))
            } else if shape {
                self.shape_in(l)
            } else {
                None
            };
            out.extend(what.map(|w| (i, w)));
        }
        out
    }

    /// Which secret shape line `l` holds, if any.
    fn shape_in(&self, l: &str) -> Option<String> {
        for (what, r) in self.shapes.iter().flat_map(|s| &s.each) {
            if let Some(m) = r.find(l)
                && !m.as_str().contains(REDACTED)
            {
                return Some(what.to_string());
            }
        }
        None
    }

    /// What of the originals or secrets line `l` still holds.
    pub fn line(&self, l: &str) -> Option<String> {
        if let Some(ac) = &self.ac {
            for m in ac.find_iter(l) {
                let text = &l[m.start()..m.end()];
                if !self.pseudonyms.contains(text) {
                    let o = self
                        .originals
                        .get(m.pattern().as_usize())
                        .map_or(text, String::as_str);
                    return Some(format!("the identifier {o:?}"));
                }
            }
        }
        if let Some((s, e, ())) = self.whole.find(l) {
            return Some(format!("the identifier {:?}", &l[s..e]));
        }
        if self.shapes.is_some_and(|r| !r.any.is_match(l)) {
            return None;
        }
        self.shape_in(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_once_per_process() {
        let (a, b) = (Compiled::get().ok(), Compiled::get().ok());
        assert!(a.is_some_and(|a| b.is_some_and(|b| std::ptr::eq(a, b))));
        assert_eq!(a.map(|c| c.each.len()), Some(shapes().len()));
        let (a, b) = (LeakShapes::get(), LeakShapes::get());
        assert!(a.is_some_and(|a| b.is_some_and(|b| std::ptr::eq(a, b))));
        assert_eq!(a.map(|c| c.each.len()), Some(leak_shapes().len()));
    }

    /// Runs `check` on random texts of up to 60 of `parts`, one after the other.
    fn for_texts_of(
        parts: &'static [&'static str],
        check: impl Fn(String) -> Result<(), proptest::test_runner::TestCaseError>,
    ) {
        use proptest::strategy::Strategy as _;
        let texts = proptest::collection::vec(proptest::sample::select(parts), 0..60)
            .prop_map(|p| p.concat());
        let r = proptest::test_runner::TestRunner::default().run(&texts, check);
        assert!(r.is_ok(), "{r:?}");
    }

    fn rewriter(p: &Pseudonyms) -> Rewriter<'_> {
        let mut f = Found::default();
        for (id, c) in [
            ("harv-node-1", Class::Node),
            ("acme-prod", Class::Namespace),
            ("web-01", Class::Vm),
            ("ready", Class::Vm),
            ("corp.acme.lab", Class::Domain),
        ] {
            f.ids.insert(id.into(), c);
        }
        Rewriter::new(&f, &Vocabulary::with(&["ready"]), p).unwrap()
    }

    fn all(r: &Rewriter, text: &str, path: &str) -> String {
        let mut st = FileState::for_path(path);
        let mut out = String::new();
        for l in text.lines() {
            r.line(l, &mut st, &mut out);
            out.push('\n');
        }
        out
    }

    /// The lines of a text rewritten together, the shapes searched once over the text, as
    /// each line alone: crafted cases (shapes at a line's end, before `\r\n`, PEM blocks, whole
    /// values), then random texts of the shapes' own characters.
    #[test]
    fn the_lines_of_a_text_as_one_by_one() {
        let p = Pseudonyms::with_key([5; 32]);
        let r = rewriter(&p);
        let one_by_one = |text: &str, path: &str| {
            let mut st = FileState::for_path(path);
            let mut out = String::new();
            let mut rest = text;
            while !rest.is_empty() {
                let (l, ending, next) = match rest.find('\n') {
                    Some(i) => match rest[..i].strip_suffix('\r') {
                        Some(l) => (l, "\r\n", &rest[i + 1..]),
                        None => (&rest[..i], "\n", &rest[i + 1..]),
                    },
                    None => (rest, "", ""),
                };
                r.line(l, &mut st, &mut out);
                out.push_str(ending);
                rest = next;
            }
            (out, st)
        };
        let together = |text: &str, path: &str| {
            let mut st = FileState::for_path(path);
            let mut out = String::new();
            r.lines(text, &mut st, &mut out);
            (out, st)
        };
        let crafted = [
            "ip 10.0.0.1\r\nnext host.corp.io\r\nmail a@b.com\nlast 10.0.0.2",
            "a.com\nb.io\r\n\r\n\n10.1.1.1\r\n52:54:00:12:34:56\nfe80::1\n::1\r",
            "key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIE 10.0.0.9\n  -----END RSA PRIVATE KEY-----\nx: 10.0.0.3",
            "pem -----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE----- 10.2.2.2\nname: ready\n- ready\nready set 10.0.0.4",
            "userData: |\n  #cloud-config\n  password: hunter2 10.0.0.5\nnext: web-01.corp.acme.lab\r",
            "url https://u:p@host.example.com/x --token=abc.def.com\nBearer abcdefghijklmnopqrstuvwxyz\r\n",
            "",
            "\n",
            "\r\n\r",
        ];
        for text in crafted {
            for path in ["logs/a.log", "yamls/v1/secrets.yaml"] {
                assert_eq!(
                    together(text, path),
                    one_by_one(text, path),
                    "{text:?} in {path}"
                );
            }
        }
        for_texts_of(
            &[
                "10.0.0.1",
                "a.com",
                "x@y.io",
                "fe80::",
                ":",
                ".",
                "-",
                "@",
                "\n",
                "\r",
                "\r\n",
                " ",
                "1",
                "ab",
                "ready",
                "- ",
                "name: ",
                "password: ",
                "-----BEGIN KEY-----",
                "-----END KEY-----",
                "web-01",
                "Bearer 0123456789abcdefXYZ",
            ],
            |text| {
                proptest::prop_assert_eq!(
                    together(&text, "logs/a.log"),
                    one_by_one(&text, "logs/a.log")
                );
                Ok(())
            },
        );
    }

    #[test]
    fn identifiers_shapes_and_secrets() {
        let p = Pseudonyms::with_key([3; 32]);
        let r = rewriter(&p);
        let text = "\
metadata:
  name: virt-launcher-web-01-abcde
  namespace: acme-prod
spec:
  nodeName: harv-node-1
  url: https://files.corp.acme.lab/img.qcow2
  ip: 10.1.2.3 and 10.1.2.30, version 1.2.3.4.5, v1.4.0
  owner: jane@acme.com via git@github.com
  mac: 52:54:00:12:34:56
  userData: |
    #cloud-config
    password: hunter2
  other: kept
  token: abcdef
  masked: '***'
  key: |
    -----BEGIN RSA PRIVATE KEY-----
    MIIEpAIBAAKCAQEA
    -----END RSA PRIVATE KEY-----
  jwt: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0.c2lnbmF0dXJl
  args: --token=s3cret --flag
  harvesterhci.io/creator: harvester
";
        let out = all(&r, text, "yamls/x.yaml");
        assert_eq!(out.lines().count(), text.lines().count());
        for gone in [
            "web-01",
            "acme-prod",
            "harv-node-1",
            "corp.acme.lab",
            "10.1.2.3",
            "jane@",
            "acme.com",
            "12:34:56",
            "hunter2",
            "cloud-config",
            "abcdef",
            "MIIE",
            "eyJhbG",
            "s3cret",
        ] {
            assert!(!out.contains(gone), "{gone} left in:\n{out}");
        }
        for kept in [
            "virt-launcher-",
            "git@github.com",
            "v1.4.0",
            "52:54:00:",
            "other: kept",
            "masked: '***'",
            "harvesterhci.io/creator: harvester",
            "-----BEGIN REDACTED-----",
            "--flag",
            "userData: |",
        ] {
            assert!(out.contains(kept), "{kept} lost in:\n{out}");
        }
        // A domain next to a dash is replaced too, as the leak check would find it there.
        let mut st = FileState::for_path("logs/a.log");
        let mut dashed = String::new();
        r.line(
            "mirror --shop.acme.com and shop.acme.com-backup",
            &mut st,
            &mut dashed,
        );
        assert!(!dashed.contains("acme.com"), "{dashed}");
        // A dotted number that begins with an address reads as that address: replaced too.
        let ip = p.of(Class::Ipv4, "1.2.3.4");
        assert!(out.contains(&format!("version {ip}.5,")), "{out}");
        let vm = p.of(Class::Vm, "web-01");
        assert!(out.contains(&format!("virt-launcher-{vm}-abcde")), "{out}");
        // The same identifier gives the same pseudonym in paths.
        assert_eq!(
            r.path("logs/acme-prod/virt-launcher-web-01-abcde/compute.log"),
            format!(
                "logs/{}/virt-launcher-{vm}-abcde/compute.log",
                p.of(Class::Namespace, "acme-prod")
            )
        );
        // A vocabulary word only as a whole value.
        let out = all(&r, "status: ready\n  name: ready\n  - ready\n", "x");
        let ready = p.of(Class::Vm, "ready");
        assert_eq!(
            out,
            format!("status: {ready}\n  name: {ready}\n  - {ready}\n")
        );
    }

    #[test]
    fn secret_data_is_masked_and_keys_kept() {
        let p = Pseudonyms::with_key([3; 32]);
        let r = rewriter(&p);
        let text = "items:\n- data:\n    applied-output: aGVsbG8=\n    failure-count: MA==\n  kind: Secret\n";
        let out = all(&r, text, "yamls/namespaced/fleet-local/v1/secrets.yaml");
        assert_eq!(
            out,
            "items:\n- data:\n    applied-output: UkVEQUNURUQ=\n    failure-count: UkVEQUNURUQ=\n  kind: Secret\n"
        );
    }

    /// The lines of a text checked together, as each line alone: crafted cases, then random
    /// texts of originals, pseudonyms, secret shapes and line endings.
    #[test]
    fn the_lines_of_a_text_checked_as_one_by_one() {
        let c = LeakCheck::new(
            vec![
                ("acme-prod".into(), false),
                ("10.0.0.1".into(), false),
                ("ready".into(), true),
            ],
            vec!["ns-123456".into()],
        );
        let one_by_one = |text: &str| -> Vec<(usize, String)> {
            text.lines()
                .enumerate()
                .filter_map(|(i, l)| Some((i, c.line(l)?)))
                .collect()
        };
        for text in [
            "namespace: ACME-PROD\r\nname: ready\n\nok\r\n-----BEGIN RSA PRIVATE KEY-----",
            "ns-123456 acme-prod\nacme-production 10.0.0.1\r\n- ready\r\nready now",
            "Bearer abcdefghijklmnopqrstuvwxyz\n\r\n\r",
            "",
            "\n\n",
        ] {
            assert_eq!(c.lines(text), one_by_one(text), "{text:?}");
        }
        for_texts_of(
            &[
                "acme-prod",
                "ACME-PROD",
                "ns-123456",
                "10.0.0.1",
                "10.0.0.10",
                "ready",
                "name: ",
                "- ",
                "-----BEGIN PRIVATE KEY-----",
                "-----BEGIN REDACTED-----",
                "Bearer 0123456789abcdefXYZ",
                "token-abcde:0123456789012345678901234567890123",
                "\n",
                "\r",
                "\r\n",
                " ",
                "-",
                "x",
            ],
            |text| {
                proptest::prop_assert_eq!(c.lines(&text), one_by_one(&text));
                Ok(())
            },
        );
    }

    #[test]
    fn the_leak_check_finds_what_is_left() {
        let c = LeakCheck::new(
            vec![("acme-prod".into(), false), ("ready".into(), true)],
            vec!["ns-123456".into()],
        );
        assert!(c.line("namespace: ACME-PROD").is_some());
        assert!(c.line("namespace: acme-production").is_none());
        assert!(c.line("name: ready").is_some());
        assert!(c.line("phase: is ready now").is_none());
        assert!(c.line("-----BEGIN RSA PRIVATE KEY-----").is_some());
        assert!(c.line("-----BEGIN REDACTED-----").is_none());
        assert!(
            c.line("token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0.c2ln")
                .is_some()
        );
        assert!(c.line("plain line").is_none());
    }
}
