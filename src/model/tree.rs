//! A whole object kept as a JSON tree, for the few kinds rules read at many depths (Upgrade,
//! Longhorn Volume, VirtualMachineInstance, …), with typed accessors by JSON pointer that
//! tolerate the generator's quirks (integers written as floats, booleans as strings).
use serde_json::Value;

/// An object as JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree(pub Value);

impl Tree {
    /// Wraps a value.
    pub fn new(v: Value) -> Tree {
        Tree(v)
    }

    /// The value at a JSON pointer (`/status/robustness`).
    pub fn at(&self, ptr: &str) -> Option<&Value> {
        self.0.pointer(ptr).filter(|v| !v.is_null())
    }

    /// A string (numbers and booleans as text); `None` when absent, null or empty.
    pub fn str(&self, ptr: &str) -> Option<&str> {
        match self.at(ptr)? {
            Value::String(s) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        }
    }

    /// A string, numbers and booleans included, as owned text.
    pub fn text(&self, ptr: &str) -> Option<String> {
        match self.at(ptr)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An integer (floats with no fraction and numeric strings accepted).
    pub fn int(&self, ptr: &str) -> Option<i64> {
        match self.at(ptr)? {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A boolean (`"true"`/`"false"` strings accepted).
    pub fn bool(&self, ptr: &str) -> Option<bool> {
        match self.at(ptr)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The elements of an array (empty when absent or not an array).
    pub fn list(&self, ptr: &str) -> &[Value] {
        self.at(ptr)
            .and_then(|v| v.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether a value is present and not empty (non-empty map, list or string).
    pub fn present(&self, ptr: &str) -> bool {
        match self.at(ptr) {
            None => false,
            Some(Value::Object(m)) => !m.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
        }
    }

    /// A sub-tree.
    pub fn sub(&self, ptr: &str) -> Tree {
        Tree(self.at(ptr).cloned().unwrap_or(Value::Null))
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
}
