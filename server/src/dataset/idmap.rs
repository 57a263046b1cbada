//! [`IdMap`]: string ids to dense `u32` indices and back.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxBuildHasher;

/// A bijection between string ids (reviewer ids, ASINs) and dense indices
/// `0..len`, assigned in first-seen order.
///
/// Each id is stored once, shared by both directions.
#[derive(Debug, Clone, Default)]
pub struct IdMap {
    index: HashMap<Arc<str>, u32, FxBuildHasher>,
    ids: Vec<Arc<str>>,
}

impl IdMap {
    /// The largest number of ids a map can hold: indices are `u32`.
    pub const MAX_LEN: usize = u32::MAX as usize;

    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `id`, if it is known.
    pub fn get(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The index of `id`, assigning the next free one if it is new.
    ///
    /// # Panics
    ///
    /// If the map already holds [`IdMap::MAX_LEN`] ids.
    pub fn get_or_insert(&mut self, id: &str) -> u32 {
        self.try_get_or_insert(id)
            .expect("IdMap holds at most IdMap::MAX_LEN ids")
    }

    /// Like [`IdMap::get_or_insert`], but `None` instead of a panic when a
    /// new id does not fit.
    pub fn try_get_or_insert(&mut self, id: &str) -> Option<u32> {
        if let Some(&index) = self.index.get(id) {
            return Some(index);
        }
        if self.ids.len() >= Self::MAX_LEN {
            return None;
        }
        let index = self.ids.len() as u32;
        let id: Arc<str> = Arc::from(id);
        self.index.insert(Arc::clone(&id), index);
        self.ids.push(id);
        Some(index)
    }

    /// The id at `index`.
    ///
    /// # Panics
    ///
    /// If `index` is not below [`IdMap::len`].
    pub fn id(&self, index: u32) -> &str {
        &self.ids[index as usize]
    }

    /// The number of ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the map holds no id.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The `(index, id)` pairs in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u32, &str)> + '_ {
        self.ids.iter().enumerate().map(|(i, id)| (i as u32, &**id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigns_indices_in_first_seen_order() {
        let mut map = IdMap::new();
        assert!(map.is_empty());
        assert_eq!(map.get_or_insert("b"), 0);
        assert_eq!(map.get_or_insert("a"), 1);
        assert_eq!(map.get_or_insert("b"), 0);
        assert_eq!(map.len(), 2);
        assert_eq!(map.get("a"), Some(1));
        assert_eq!(map.get("c"), None);
        assert_eq!(map.id(0), "b");
        assert_eq!(map.iter().collect::<Vec<_>>(), [(0, "b"), (1, "a")]);
    }

    #[test]
    fn ids_are_case_and_zero_sensitive() {
        let mut map = IdMap::new();
        assert_ne!(
            map.get_or_insert("0205616461"),
            map.get_or_insert("205616461")
        );
        assert_ne!(map.get_or_insert("a"), map.get_or_insert("A"));
    }
}
