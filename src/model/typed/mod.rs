//! Typed read-only views of the kinds kept whole as a compact tree ([`super::views::TREE_KINDS`])
//! that rules read deeply: Longhorn (`longhorn.rs`), KubeVirt (`kubevirt.rs`), Harvester
//! (`harvester.rs`) and Cluster API (`capi.rs`) objects, and Endpoints, EndpointSlices,
//! PodDisruptionBudgets and Whereabouts IPPools (`core.rs`).
//!
//! A view is a zero-cost wrapper over the object's stored [`Tree`] (no decoded struct per object:
//! the index's memory stays what it was); each accessor names the field it reads, so every JSON
//! pointer is written once, here, with a unit test on YAML. A view is had from an indexed object
//! with `View::of(&object)`, which checks the object's group and kind; every view also
//! implements [`Kind`], through which `Index::typed` lists the objects of its kind with their
//! view.
pub mod capi;
pub mod core;
pub mod harvester;
pub mod kubevirt;
pub mod longhorn;

use super::tree::Tree;

/// An object as a typed view reads it: its group, its kind and its stored tree (implemented by
/// the index's objects; a trait so this module does not depend on the index).
pub trait Stored {
    /// API group (`""` for the core group).
    fn group(&self) -> &str;
    /// Kind, as the API spells it.
    fn kind(&self) -> &str;
    /// The object kept whole as a tree, if its kind is one.
    fn stored_tree(&self) -> Option<&Tree>;
}

/// A typed view of one kind.
pub trait Kind<'a>: Sized + Copy {
    /// API group of the kind.
    const GROUP: &'static str;
    /// Kind, as the API spells it.
    const KIND: &'static str;
    /// The view of `o`, when `o` is of this kind and kept whole.
    fn of<S: Stored + ?Sized>(o: &'a S) -> Option<Self>;
}

/// Declares a view: a copyable wrapper over a tree, its inherent `of` and its [`Kind`].
macro_rules! view {
    ($(#[$doc:meta])* $name:ident = $group:literal / $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(&'a crate::model::tree::Tree);

        impl<'a> $name<'a> {
            #[doc = concat!("The view of `o`, when it is a ", $group, " ", $kind, " kept whole.")]
            pub fn of<S: $crate::model::typed::Stored + ?Sized>(o: &'a S) -> Option<Self> {
                if o.group() == $group && o.kind() == $kind {
                    o.stored_tree().map($name)
                } else {
                    None
                }
            }
        }

        impl<'a> $crate::model::typed::Kind<'a> for $name<'a> {
            const GROUP: &'static str = $group;
            const KIND: &'static str = $kind;
            fn of<S: $crate::model::typed::Stored + ?Sized>(o: &'a S) -> Option<Self> {
                $name::of(o)
            }
        }
    };
}
use view;

#[cfg(test)]
pub(crate) mod testing {
    //! A stored object built from YAML, for the views' unit tests.
    use super::Stored;
    use crate::model::tree::Tree;
    use crate::model::views::{View, decode};

    /// An object of (group, kind) decoded from YAML the way the index decodes it.
    pub(crate) struct Obj {
        group: &'static str,
        kind: &'static str,
        view: View,
    }

    /// Decodes `yaml` as an object of `group`/`kind`.
    pub(crate) fn obj(group: &'static str, kind: &'static str, yaml: &str) -> Obj {
        let view = decode(kind, group, yaml).expect("test YAML decodes").view;
        Obj { group, kind, view }
    }

    impl Stored for Obj {
        fn group(&self) -> &str {
            self.group
        }
        fn kind(&self) -> &str {
            self.kind
        }
        fn stored_tree(&self) -> Option<&Tree> {
            match &self.view {
                View::Tree(t) => Some(t),
                _ => None,
            }
        }
    }
}
