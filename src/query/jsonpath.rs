//! The subset of kubectl's JSONPath that printer columns and `-o jsonpath` use: `.field`,
//! `['field']`, `[N]`, `[*]`, `.*` and filters `[?(@.a.b=="x")]` (`==`, `!=`), with `\.` in
//! field names (`.metadata.labels.app\.kubernetes\.io/name`), optionally inside `{…}`.
use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
    Filter {
        path: Vec<Step>,
        equal: bool,
        value: String,
    },
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path(Vec<Step>);

fn field_name(s: &[char], i: &mut usize) -> String {
    let mut name = String::new();
    while let Some(&c) = s.get(*i) {
        match c {
            '\\' => {
                if let Some(&n) = s.get(*i + 1) {
                    name.push(n);
                }
                *i += 2;
            }
            '.' | '[' | '=' | '!' | ')' | ' ' => break,
            _ => {
                name.push(c);
                *i += 1;
            }
        }
    }
    name
}

fn parse_steps(s: &[char], i: &mut usize, in_filter: bool) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    while let Some(&c) = s.get(*i) {
        match c {
            '.' => {
                *i += 1;
                if s.get(*i) == Some(&'.') {
                    return Err("recursive descent (..) is not supported".into());
                }
                if s.get(*i) == Some(&'*') {
                    *i += 1;
                    steps.push(Step::All);
                    continue;
                }
                let name = field_name(s, i);
                if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
            }
            '[' => {
                *i += 1;
                let close = |i: &mut usize| -> Result<(), String> {
                    if s.get(*i) == Some(&']') {
                        *i += 1;
                        Ok(())
                    } else {
                        Err(format!("expected ] at {}", *i))
                    }
                };
                match s.get(*i) {
                    Some('*') => {
                        *i += 1;
                        close(i)?;
                        steps.push(Step::All);
                    }
                    Some(&q) if q == '\'' || q == '"' => {
                        *i += 1;
                        let mut name = String::new();
                        while let Some(&c) = s.get(*i) {
                            *i += 1;
                            if c == q {
                                break;
                            }
                            name.push(c);
                        }
                        close(i)?;
                        steps.push(Step::Field(name));
                    }
                    Some('?') => {
                        *i += 1;
                        if s.get(*i) != Some(&'(') || s.get(*i + 1) != Some(&'@') {
                            return Err("a filter reads [?(@.field==\"value\")]".into());
                        }
                        *i += 2;
                        let path = parse_steps(s, i, true)?;
                        while s.get(*i) == Some(&' ') {
                            *i += 1;
                        }
                        let equal = match (s.get(*i), s.get(*i + 1)) {
                            (Some('='), Some('=')) => true,
                            (Some('!'), Some('=')) => false,
                            _ => return Err("a filter compares with == or !=".into()),
                        };
                        *i += 2;
                        while s.get(*i) == Some(&' ') {
                            *i += 1;
                        }
                        let mut value = String::new();
                        match s.get(*i) {
                            Some(&q) if q == '\'' || q == '"' => {
                                *i += 1;
                                while let Some(&c) = s.get(*i) {
                                    *i += 1;
                                    if c == q {
                                        break;
                                    }
                                    value.push(c);
                                }
                            }
                            _ => {
                                while let Some(&c) = s.get(*i) {
                                    if c == ')' || c == ' ' {
                                        break;
                                    }
                                    value.push(c);
                                    *i += 1;
                                }
                            }
                        }
                        while s.get(*i) == Some(&' ') {
                            *i += 1;
                        }
                        if s.get(*i) != Some(&')') {
                            return Err("a filter ends with )]".into());
                        }
                        *i += 1;
                        close(i)?;
                        steps.push(Step::Filter { path, equal, value });
                    }
                    _ => {
                        let mut n = String::new();
                        while let Some(&c) = s.get(*i) {
                            if c == ']' {
                                break;
                            }
                            n.push(c);
                            *i += 1;
                        }
                        close(i)?;
                        let n = n.trim().parse::<i64>().map_err(|_| {
                            format!("[{n}]: not an index (slices are not supported)")
                        })?;
                        steps.push(Step::Index(n));
                    }
                }
            }
            _ if in_filter => break,
            _ => return Err(format!("unexpected {c:?} at {}", *i)),
        }
    }
    Ok(steps)
}

impl Path {
    /// Parses `.status.conditions[?(@.type=="Ready")].status` (braces and a leading `$`
    /// allowed).
    pub fn parse(text: &str) -> Result<Path, String> {
        let t = text.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|x| x.strip_suffix('}'))
            .unwrap_or(t);
        let t = t.strip_prefix('$').unwrap_or(t);
        if t.len() > 1000 {
            return Err("path too long".into());
        }
        let chars: Vec<char> = t.chars().collect();
        let mut i = 0;
        let steps = parse_steps(&chars, &mut i, false)?;
        if i < chars.len() {
            return Err(format!("unexpected text at {i} in {text:?}"));
        }
        Ok(Path(steps))
    }

    /// Every value the path reaches in `v`.
    pub fn find<'v>(&self, v: &'v Value) -> Vec<&'v Value> {
        let mut cur = vec![v];
        for s in &self.0 {
            let mut next = Vec::new();
            for v in cur {
                step(s, v, &mut next);
            }
            cur = next;
        }
        cur
    }
}

fn step<'v>(s: &Step, v: &'v Value, out: &mut Vec<&'v Value>) {
    match s {
        Step::Field(f) => {
            if let Some(x) = v.get(f) {
                out.push(x);
            }
        }
        Step::Index(n) => {
            if let Some(a) = v.as_array() {
                let i = if *n < 0 { a.len() as i64 + n } else { *n };
                if let Some(x) = usize::try_from(i).ok().and_then(|i| a.get(i)) {
                    out.push(x);
                }
            }
        }
        Step::All => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(m) => out.extend(m.values()),
            _ => {}
        },
        Step::Filter { path, equal, value } => {
            // A list, or a map keyed by type (Longhorn v1beta1 conditions).
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                Value::Object(m) => m.values().collect(),
                _ => Vec::new(),
            };
            {
                let p = Path(path.clone());
                for x in items {
                    let hit = p.find(x).iter().any(|y| text(y) == *value);
                    if hit == *equal {
                        out.push(x);
                    }
                }
            }
        }
    }
}

/// A value as kubectl prints it: strings bare, others as compact JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_indexes_filters_and_escapes() {
        let v = serde_json::json!({
            "metadata": {"labels": {"app.kubernetes.io/name": "x"}},
            "status": {"conditions": [
                {"type": "Scheduled", "status": "True"},
                {"type": "Ready", "status": "False"}
            ], "interfaces": [{"ipAddress": "10.0.0.1"}]}
        });
        let one = |p: &str| -> Vec<String> {
            Path::parse(p)
                .unwrap()
                .find(&v)
                .into_iter()
                .map(text)
                .collect()
        };
        assert_eq!(
            one(".status.conditions[?(@.type=='Ready')].status"),
            ["False"]
        );
        assert_eq!(
            one("{.status.conditions[?(@.type!=\"Ready\")].type}"),
            ["Scheduled"]
        );
        assert_eq!(one(".status.interfaces[0].ipAddress"), ["10.0.0.1"]);
        assert_eq!(one(".status.conditions[-1].type"), ["Ready"]);
        assert_eq!(one(".status.conditions[*].type"), ["Scheduled", "Ready"]);
        assert_eq!(one(".metadata.labels.app\\.kubernetes\\.io/name"), ["x"]);
        assert_eq!(one(".metadata.labels['app.kubernetes.io/name']"), ["x"]);
        assert!(one(".spec.nothing").is_empty());
    }

    #[test]
    fn malformed_paths_are_errors_not_panics() {
        for p in [
            "..a",
            ".a[",
            ".a[x]",
            ".a[?(@.b)]",
            ".a[?(@.b==1",
            "[1:2]",
            "a",
            "{.a",
        ] {
            assert!(Path::parse(p).is_err(), "{p}");
        }
    }
}
