//! Tolerant field decoders for the generator's quirks: the string `"null"` stands for an empty
//! string or a JSON null, numbers arrive as floats (`2.31131136e+08`), and a field of an
//! unexpected type must not lose the whole object. Also the nesting guard ([`too_deep`]) every
//! YAML text passes before a parser sees it.
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// `"null"` and YAML null become `None`; numbers and booleans become their text.
pub fn opt_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(StrVisitor)
}

/// Like [`opt_str`] but empty instead of `None`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_str(d)?.unwrap_or_default())
}

/// Like [`opt_str`], the value shared with every equal short value decoded on this thread
/// ([`crate::model::tree::share`]): for fields that repeat across tens of thousands of objects
/// (an event's type, reason and node).
pub fn opt_shared<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::sync::Arc<str>>, D::Error> {
    Ok(opt_str(d)?.map(|s| crate::model::tree::share(&s)))
}

/// Like [`opt_shared`] but empty instead of `None`.
pub fn shared<'de, D: Deserializer<'de>>(d: D) -> Result<std::sync::Arc<str>, D::Error> {
    Ok(crate::model::tree::share(&opt_str(d)?.unwrap_or_default()))
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(unmangle(v).map(str::to_owned))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(format_float(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(StrVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Undoes the generator's rewrite of `""` into `"null"`: the whole string `null` was an empty
/// string or a null, and a string that ended in a double quote got `null` appended
/// (`…"master-head"null`).
pub fn unmangle(v: &str) -> Option<&str> {
    if v == "null" {
        None
    } else if let Some(s) = v.strip_suffix("\"null") {
        Some(v.get(..s.len() + 1).unwrap_or(v))
    } else {
        Some(v)
    }
}

/// Writes a float the way a user expects an integer count to look.
pub fn format_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// An integer written as an int, a float (`1e+06`) or a numeric string; anything else is `None`.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(opt_str(d)?.and_then(|s| parse_int(&s)))
}

/// Parses `"3"`, `"3.0"`, `"2.31131136e+08"` into an integer.
pub fn parse_int(s: &str) -> Option<i64> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(i);
    }
    let f = s.parse::<f64>().ok()?;
    (f.is_finite() && f.abs() < 9.2e18).then_some(f.round() as i64)
}

/// `true`/`false` (or their strings); anything else is `None`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match opt_str(d)?.as_deref() {
        Some("true") | Some("True") => Some(true),
        Some("false") | Some("False") => Some(false),
        _ => None,
    })
}

/// A string map (labels, annotations, selectors). `"null"` values are the generator's
/// rewrite of empty strings, so they become `""`. A non-map is an empty map.
pub fn str_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct MapV;
    impl<'de> Visitor<'de> for MapV {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            let mut m = BTreeMap::new();
            while let Some(k) = a.next_key::<Scalar>()? {
                let v: Scalar = a.next_value()?;
                if let Some(k) = k.0 {
                    m.insert(k, v.0.unwrap_or_default());
                }
            }
            Ok(m)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok(BTreeMap::new())
        }
    }
    d.deserialize_any(MapV)
}

/// [`str_map`] as a [`super::StrMap`] (labels and annotations).
pub fn str_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<super::StrMap, D::Error> {
    str_map(d).map(super::StrMap::from)
}

/// Any scalar as text (`"null"` → `None`), used for map keys and values.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Scalar(pub Option<String>);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Scalar(opt_str(d)?))
    }
}

/// A list whose malformed elements are skipped instead of failing the object.
pub fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct SeqV<T>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for SeqV<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            let mut v = Vec::new();
            while let Some(x) = a.next_element::<Maybe<T>>()? {
                if let Some(x) = x.0 {
                    v.push(x);
                }
            }
            Ok(v)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
    }
    d.deserialize_any(SeqV(std::marker::PhantomData))
}

/// A value that is `None` when it did not have the expected shape.
pub struct Maybe<T>(pub Option<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Maybe<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Buffer the value so a type mismatch deep inside only drops this element.
        let v = yaml_serde::Value::deserialize(d)?;
        Ok(Maybe(T::deserialize(v).ok()))
    }
}

/// Deepest bracket nesting tolerated in one item. The YAML scanner's cost grows with the
/// square of the flow nesting depth, so hostile input (`[[[[…`) is refused before parsing;
/// real objects (JSON annotations, CRD schemas included) stay far below this.
pub const MAX_NESTING: usize = 1000;

/// `Some(reason)` when the text nests brackets deeper than [`MAX_NESTING`] (counted naively,
/// quotes ignored, which only over-counts).
pub fn too_deep(text: &str) -> Option<String> {
    // No more opening brackets than the limit cannot nest deeper than it: counted with memchr's
    // vectorised search, most texts are never walked byte by byte (the walk was 2 % of
    // `redact`'s instructions on the real bundle).
    let opens = memchr::memchr2_iter(b'[', b'{', text.as_bytes())
        .take(MAX_NESTING + 1)
        .count();
    if opens <= MAX_NESTING {
        return None;
    }
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
                if max > MAX_NESTING {
                    return Some(format!(
                        "nesting deeper than {MAX_NESTING} levels; not parsed (hostile or corrupt content)"
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct T {
        #[serde(deserialize_with = "opt_str")]
        s: Option<String>,
        #[serde(deserialize_with = "opt_int")]
        n: Option<i64>,
        #[serde(deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(deserialize_with = "str_map")]
        m: BTreeMap<String, String>,
        #[serde(deserialize_with = "lenient_vec")]
        v: Vec<u32>,
    }

    fn parse(y: &str) -> T {
        yaml_serde::from_str(y).unwrap()
    }

    #[test]
    fn null_string_is_absent() {
        assert_eq!(parse("s: \"null\"").s, None);
        assert_eq!(parse("s: null").s, None);
        assert_eq!(parse("s: x").s.as_deref(), Some("x"));
        let t = parse("s: 'Pulling image \"a:b\"null'");
        assert_eq!(t.s.as_deref(), Some("Pulling image \"a:b\""));
    }

    #[test]
    fn floats_are_integers() {
        assert_eq!(parse("n: 2.31131136e+08").n, Some(231_131_136));
        assert_eq!(parse("n: 1e+06").n, Some(1_000_000));
        assert_eq!(parse("n: 3").n, Some(3));
        assert_eq!(parse("n: \"12\"").n, Some(12));
        assert_eq!(parse("n: abc").n, None);
        assert_eq!(
            parse("s: 1.498674085376e+12").s.as_deref(),
            Some("1498674085376")
        );
    }

    #[test]
    fn bools_and_maps_tolerate_shapes() {
        assert_eq!(parse("b: true").b, Some(true));
        assert_eq!(parse("b: \"False\"").b, Some(false));
        let t = parse("m:\n  a: \"null\"\n  b: 3\n");
        assert_eq!(t.m.get("a").map(String::as_str), Some(""));
        assert_eq!(t.m.get("b").map(String::as_str), Some("3"));
        assert!(parse("m: [1, 2]").m.is_empty());
    }

    #[test]
    fn bad_list_elements_are_skipped() {
        assert_eq!(parse("v: [1, x, 3]").v, vec![1, 3]);
        assert!(parse("v: nope").v.is_empty());
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        assert!(too_deep("a: [[{}]]").is_none());
        let deep = format!(
            "a: {}{}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        assert!(too_deep(&deep).unwrap().contains("nesting deeper"));
        // Exactly the limit is fine; more brackets than the limit side by side are walked and
        // found shallow.
        let at_limit = format!("{}{}", "{".repeat(MAX_NESTING), "}".repeat(MAX_NESTING));
        assert!(too_deep(&at_limit).is_none());
        assert!(too_deep(&"[{}]".repeat(MAX_NESTING)).is_none());
        let late = format!("{}x: {}", "[] ".repeat(MAX_NESTING), deep);
        assert!(too_deep(&late).is_some());
    }
}
