//! Label selectors as kubectl takes them: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
//! `a notin (x,y)`, comma-separated and all required.

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector(Vec<Req>);

fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

fn set(v: &str) -> Option<Vec<String>> {
    let v = v.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        v.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
    )
}

impl Selector {
    /// Parses a selector; the error says which part is wrong.
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let bad = || format!("invalid label selector part {p:?}");
            let req = if let Some((k, v)) = p.split_once("!=") {
                Req::Ne(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once("==") {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once('=') {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once(" notin ") {
                Req::NotIn(k.trim().into(), set(v).ok_or_else(bad)?)
            } else if let Some((k, v)) = p.split_once(" in ") {
                Req::In(k.trim().into(), set(v).ok_or_else(bad)?)
            } else if let Some(k) = p.strip_prefix('!') {
                Req::NotExists(k.trim().into())
            } else if p.contains([' ', '(', ')']) {
                return Err(bad());
            } else {
                Req::Exists(p.into())
            };
            reqs.push(req);
        }
        Ok(Selector(reqs))
    }

    /// Whether the labels satisfy every requirement.
    pub fn matches(&self, labels: &crate::model::StrMap) -> bool {
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => labels.get(k) == Some(v),
            Req::Ne(k, v) => labels.get(k) != Some(v),
            Req::Exists(k) => labels.contains_key(k),
            Req::NotExists(k) => !labels.contains_key(k),
            Req::In(k, vs) => labels.get(k).is_some_and(|x| vs.contains(x)),
            Req::NotIn(k, vs) => labels.get(k).is_none_or(|x| !vs.contains(x)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> crate::model::StrMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selector_forms() {
        let l = labels(&[("app", "longhorn-manager"), ("tier", "x")]);
        assert!(Selector::parse("app=longhorn-manager").unwrap().matches(&l));
        assert!(
            Selector::parse("app==longhorn-manager,tier")
                .unwrap()
                .matches(&l)
        );
        assert!(
            !Selector::parse("app!=longhorn-manager")
                .unwrap()
                .matches(&l)
        );
        assert!(Selector::parse("!missing").unwrap().matches(&l));
        assert!(
            Selector::parse("app in (a, longhorn-manager)")
                .unwrap()
                .matches(&l)
        );
        assert!(
            !Selector::parse("app notin (longhorn-manager)")
                .unwrap()
                .matches(&l)
        );
        assert!(Selector::parse("app in a").is_err());
        assert!(Selector::parse("").unwrap().matches(&l));
    }
}
