//! `Sparse<T>`: a group of fields most objects leave empty, boxed only when one is set and
//! read through `Deref` (a shared empty value otherwise). Objects' status, rarely set metadata
//! and rarely set condition fields use it: inline, such fields took a large share of every
//! one of a bundle's hundred thousand objects.
use std::ops::{Deref, DerefMut};

/// A type with an all-empty value that [`Sparse`] does not box.
pub trait Empty: PartialEq + Default + 'static {
    /// The all-empty value.
    const EMPTY: &'static Self;
}

/// `T`, boxed only when it differs from [`Empty::EMPTY`].
#[derive(Clone, Default)]
pub struct Sparse<T: Empty>(Option<Box<T>>);

impl<T: Empty> Sparse<T> {
    /// Whether the fields are boxed (some are set).
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// The fields themselves.
    pub fn into_inner(self) -> T {
        self.0.map(|b| *b).unwrap_or_default()
    }
}

impl<T: Empty> From<T> for Sparse<T> {
    fn from(v: T) -> Sparse<T> {
        Sparse((v != *T::EMPTY).then(|| Box::new(v)))
    }
}

impl<T: Empty> Deref for Sparse<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or(T::EMPTY)
    }
}

/// Writing through it boxes the fields.
impl<T: Empty> DerefMut for Sparse<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: Empty> PartialEq for Sparse<T> {
    fn eq(&self, other: &Sparse<T>) -> bool {
        **self == **other
    }
}

impl<T: Empty + Eq> Eq for Sparse<T> {}

impl<T: Empty + std::fmt::Debug> std::fmt::Debug for Sparse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Empty + serde::Serialize> serde::Serialize for Sparse<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq)]
    struct F {
        a: Option<String>,
    }

    impl Empty for F {
        const EMPTY: &'static F = &F { a: None };
    }

    #[test]
    fn boxed_only_when_set() {
        let empty = Sparse::from(F::default());
        assert!(!empty.is_set() && empty.a.is_none());
        let set = Sparse::from(F {
            a: Some("x".into()),
        });
        assert!(set.is_set() && set.a.as_deref() == Some("x"));
        let mut w = empty.clone();
        w.a = Some("x".into());
        assert!(w.is_set() && w == set && empty != set);
    }
}
