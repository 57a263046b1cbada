//! A query's history as a sparse vector.

use recsys_plugin_api::{PluginError, Query};

/// The distinct items of a history, ascending, with their values: 1 each when binary,
/// otherwise the sum of the item's weights in the query (weights default to 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct HistoryVector {
    pub(crate) items: Vec<u32>,
    pub(crate) values: Vec<f32>,
}

impl HistoryVector {
    /// Builds the vector; fails on a non-finite weight. Items are assumed in range (the
    /// caller validated the query). With `recency_decay` d < 1, the entry `s` steps before
    /// the newest is scaled by `d^s` (the history is oldest first); a repeated item keeps
    /// its newest (largest) value when binary.
    pub(crate) fn from_query(
        query: &Query<'_>,
        binary: bool,
        recency_decay: f32,
    ) -> Result<Self, PluginError> {
        let n = query.history.len();
        let mut pairs = Vec::with_capacity(n);
        for (i, &item) in query.history.iter().enumerate() {
            let base = if binary { 1.0 } else { query.weight(i) };
            let w = if recency_decay < 1.0 {
                base * recency_decay.powi((n - 1 - i).min(i32::MAX as usize) as i32)
            } else {
                base
            };
            if !w.is_finite() {
                return Err(PluginError::invalid_input(format!(
                    "history weight {i} (item {item}) is not finite"
                )));
            }
            pairs.push((item, w));
        }
        pairs.sort_unstable_by_key(|&(item, _)| item);
        let mut v = HistoryVector::default();
        for (item, w) in pairs {
            if v.items.last() == Some(&item) {
                let last = v.values.last_mut().expect("values parallel items");
                if binary {
                    *last = last.max(w);
                } else {
                    *last += w;
                }
            } else {
                v.items.push(item);
                v.values.push(w);
            }
        }
        Ok(v)
    }

    /// Whether the history is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `(item, value)` pairs, ascending by item.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.items.iter().copied().zip(self.values.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_dedupes_and_weights() {
        let weights = [2.0, 0.5, 1.0];
        let q = Query {
            weights: Some(&weights),
            ..Query::new(&[4, 1, 4], 3)
        };
        let binary = HistoryVector::from_query(&q, true, 1.0).unwrap();
        assert_eq!(binary.items, vec![1, 4]);
        assert_eq!(binary.values, vec![1.0, 1.0]);
        let weighted = HistoryVector::from_query(&q, false, 1.0).unwrap();
        assert_eq!(
            weighted.iter().collect::<Vec<_>>(),
            vec![(1, 0.5), (4, 3.0)]
        );
        let nan = [f32::NAN];
        let bad = Query {
            weights: Some(&nan),
            ..Query::new(&[0], 3)
        };
        assert!(HistoryVector::from_query(&bad, false, 1.0).is_err());
        assert!(HistoryVector::from_query(&bad, true, 1.0).is_ok());
    }

    #[test]
    fn recency_decay_weights_newer_items_more() {
        let q = Query::new(&[3, 1, 2, 3], 3);
        let v = HistoryVector::from_query(&q, true, 0.5).unwrap();
        // Positions from the newest: item 3 at 0 (and 3), item 2 at 1, item 1 at 2.
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            vec![(1, 0.25), (2, 0.5), (3, 1.0)]
        );
    }
}
