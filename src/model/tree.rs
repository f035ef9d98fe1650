//! A whole object kept as a JSON tree, for the few kinds rules read at many depths (Upgrade,
//! Longhorn Volume, VirtualMachineInstance, …), with typed accessors by JSON pointer that
//! tolerate the generator's quirks (integers written as floats, booleans as strings).
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Number;

/// A map key, shared by every map that uses the same name (`metadata`, `name`, `status`, …
/// repeat in every object; one copy each per decoding thread).
pub type Key = Arc<str>;

/// Distinct keys kept per decoding thread; past this (a hostile bundle with endless key names)
/// keys are simply not shared.
const MAX_INTERNED: usize = 65_536;

/// String values up to this length are shared like keys: most values of a kind's objects
/// repeat (states, node and image names, storage classes, `"True"`); longer ones (messages,
/// JSON annotations) rarely do.
const MAX_SHARED_VALUE: usize = 64;

thread_local! {
    static KEYS: RefCell<HashSet<Arc<str>>> = RefCell::new(HashSet::new());
    static VALUES: RefCell<HashSet<Arc<str>>> = RefCell::new(HashSet::new());
}

/// The shared copy of `s` in `table` (one of the thread's tables), made when absent.
fn shared(table: &'static std::thread::LocalKey<RefCell<HashSet<Arc<str>>>>, s: &str) -> Arc<str> {
    table.with(|set| {
        let mut set = set.borrow_mut();
        if let Some(x) = set.get(s) {
            return x.clone();
        }
        let x: Arc<str> = Arc::from(s);
        if set.len() < MAX_INTERNED {
            set.insert(x.clone());
        }
        x
    })
}

fn intern(k: &str) -> Key {
    shared(&KEYS, k)
}

/// A string value: shared when short (see [`MAX_SHARED_VALUE`]).
pub fn share(s: &str) -> Arc<str> {
    if s.len() <= MAX_SHARED_VALUE {
        shared(&VALUES, s)
    } else {
        Arc::from(s)
    }
}

/// One value of a tree. A compact JSON value: lists are boxed slices (no spare capacity), maps
/// are slices of (shared key, value) in document order, short strings are shared. A third of
/// the size of `serde_json::Value` with its B-tree maps, for the same object.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Node {
    /// `null` (also the generator's `"null"` string).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(Number),
    /// A string (short ones shared between trees).
    Str(Arc<str>),
    /// A list.
    List(Box<[Node]>),
    /// A map, in document order.
    Map(Box<[(Key, Node)]>),
}

impl Node {
    /// Converts a JSON value; with `unmangle`, undoes the generator's `"null"` rewrites
    /// ([`super::de::unmangle`]).
    pub fn from_json(v: serde_json::Value, unmangle: bool) -> Node {
        use serde_json::Value as J;
        match v {
            J::Null => Node::Null,
            J::Bool(b) => Node::Bool(b),
            J::Number(n) => Node::Num(n),
            J::String(s) if unmangle => match super::de::unmangle(&s) {
                None => Node::Null,
                Some(t) => Node::Str(share(t)),
            },
            J::String(s) => Node::Str(share(&s)),
            J::Array(a) => Node::List(
                a.into_iter()
                    .map(|x| Node::from_json(x, unmangle))
                    .collect(),
            ),
            J::Object(m) => Node::Map(
                m.into_iter()
                    .map(|(k, x)| (intern(&k), Node::from_json(x, unmangle)))
                    .collect(),
            ),
        }
    }

    /// Back to a JSON value (for comparisons with JSON data and for printing).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Node::Null => J::Null,
            Node::Bool(b) => J::Bool(*b),
            Node::Num(n) => J::Number(n.clone()),
            Node::Str(s) => J::String(s.to_string()),
            Node::List(a) => J::Array(a.iter().map(Node::to_json).collect()),
            Node::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A map's value by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a JSON pointer (RFC 6901: `/a/0/b`, `~1` for `/`, `~0` for `~`).
    pub fn pointer(&self, ptr: &str) -> Option<&Node> {
        if ptr.is_empty() {
            return Some(self);
        }
        let rest = ptr.strip_prefix('/')?;
        let mut cur = self;
        for token in rest.split('/') {
            let token = if token.contains('~') {
                std::borrow::Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                std::borrow::Cow::Borrowed(token)
            };
            cur = match cur {
                Node::Map(_) => cur.get(&token)?,
                Node::List(a) => {
                    if token.len() > 1 && token.starts_with('0') {
                        return None;
                    }
                    a.get(token.parse::<usize>().ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, when this is a list.
    pub fn as_array(&self) -> Option<&[Node]> {
        match self {
            Node::List(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, when this is a map.
    pub fn as_object(&self) -> Option<&[(Key, Node)]> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an i64, when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Num(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number as a u64, when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Num(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The number as an f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Num(n) => n.as_f64(),
            _ => None,
        }
    }

    /// A boolean, `"true"`/`"false"` strings (any case) accepted.
    pub fn lenient_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            Node::Str(s) => match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }
}

/// An object as a compact tree.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree(pub Node);

impl Tree {
    /// Wraps a JSON value as it is.
    pub fn new(v: serde_json::Value) -> Tree {
        Tree(Node::from_json(v, false))
    }

    /// Wraps a JSON value read from a bundle, undoing the generator's `"null"` rewrites.
    pub fn from_bundle(v: serde_json::Value) -> Tree {
        Tree(Node::from_json(v, true))
    }

    /// The value at a JSON pointer (`/status/robustness`).
    pub fn at(&self, ptr: &str) -> Option<&Node> {
        self.0.pointer(ptr).filter(|v| !v.is_null())
    }

    /// A string (numbers and booleans as text); `None` when absent, null or empty.
    pub fn str(&self, ptr: &str) -> Option<&str> {
        match self.at(ptr)? {
            Node::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// A string, numbers and booleans included, as owned text.
    pub fn text(&self, ptr: &str) -> Option<String> {
        match self.at(ptr)? {
            Node::Str(s) if !s.is_empty() => Some(s.to_string()),
            Node::Num(n) => Some(n.to_string()),
            Node::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An integer (floats with no fraction and numeric strings accepted).
    pub fn int(&self, ptr: &str) -> Option<i64> {
        match self.at(ptr)? {
            Node::Num(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            }),
            Node::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A boolean (`"true"`/`"false"` strings accepted).
    pub fn bool(&self, ptr: &str) -> Option<bool> {
        self.at(ptr)?.lenient_bool()
    }

    /// The elements of a list (empty when absent or not a list).
    pub fn list(&self, ptr: &str) -> &[Node] {
        self.at(ptr).and_then(Node::as_array).unwrap_or_default()
    }

    /// Whether a value is present and not empty (non-empty map, list or string).
    pub fn present(&self, ptr: &str) -> bool {
        match self.at(ptr) {
            None => false,
            Some(Node::Map(m)) => !m.is_empty(),
            Some(Node::List(a)) => !a.is_empty(),
            Some(Node::Str(s)) => !s.is_empty(),
            Some(_) => true,
        }
    }

    /// A sub-tree.
    pub fn sub(&self, ptr: &str) -> Tree {
        Tree(self.at(ptr).cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_tolerate_quirks() {
        let t = Tree::new(serde_json::json!({
            "spec": {"numberOfReplicas": 3.0, "flag": "true", "s": "", "n": "12"},
            "status": {"list": [1, 2], "m": {}}
        }));
        assert_eq!(t.int("/spec/numberOfReplicas"), Some(3));
        assert_eq!(t.int("/spec/n"), Some(12));
        assert_eq!(t.bool("/spec/flag"), Some(true));
        assert_eq!(t.str("/spec/s"), None);
        assert_eq!(t.list("/status/list").len(), 2);
        assert!(!t.present("/status/m"));
        assert!(t.present("/status/list"));
        assert_eq!(t.text("/spec/numberOfReplicas").as_deref(), Some("3.0"));
    }

    #[test]
    fn short_strings_are_shared_long_ones_are_not() {
        let long = "x".repeat(MAX_SHARED_VALUE + 1);
        let a = Tree::new(serde_json::json!({"s": "Running", "l": long}));
        let b = Tree::new(serde_json::json!({"s": "Running", "l": long}));
        let (Some(Node::Str(x)), Some(Node::Str(y))) = (a.at("/s"), b.at("/s")) else {
            panic!("strings")
        };
        assert!(Arc::ptr_eq(x, y));
        let (Some(Node::Str(x)), Some(Node::Str(y))) = (a.at("/l"), b.at("/l")) else {
            panic!("strings")
        };
        assert!(!Arc::ptr_eq(x, y));
        assert_eq!(a, b);
    }

    #[test]
    fn pointers_and_round_trip() {
        let v = serde_json::json!({
            "a/b": {"~x": [10, {"k": "v"}]},
            "list": [], "s": "null", "t": "x\"null", "n": null
        });
        let t = Tree::new(v.clone());
        assert_eq!(t.0.to_json(), v);
        assert_eq!(t.str("/a~1b/~0x/1/k"), Some("v"));
        assert_eq!(t.int("/a~1b/~0x/0"), Some(10));
        assert!(t.at("/a~1b/~0x/01").is_none());
        assert!(t.at("/a~1b/~0x/2").is_none());
        assert!(t.at("/n").is_none());
        assert_eq!(t.0.pointer(""), Some(&t.0));
        // From a bundle, the generator's rewrites are undone.
        let b = Tree::from_bundle(v);
        assert!(b.at("/s").is_none());
        assert_eq!(b.str("/t"), Some("x\""));
        // Keys are shared between trees decoded on one thread.
        let (x, y) = (
            Tree::new(serde_json::json!({"kk": 1})),
            Tree::new(serde_json::json!({"kk": 2})),
        );
        match (&x.0, &y.0) {
            (Node::Map(a), Node::Map(b)) => assert!(Arc::ptr_eq(&a[0].0, &b[0].0)),
            _ => panic!("maps expected"),
        }
    }

    #[test]
    fn node_is_small() {
        assert!(std::mem::size_of::<Node>() <= 24);
    }
}
