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
    /// caller validated the query).
    pub(crate) fn from_query(query: &Query<'_>, binary: bool) -> Result<Self, PluginError> {
        let mut pairs = Vec::with_capacity(query.history.len());
        for (i, &item) in query.history.iter().enumerate() {
            let w = if binary { 1.0 } else { query.weight(i) };
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
                if !binary {
                    *v.values.last_mut().expect("values parallel items") += w;
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
        let binary = HistoryVector::from_query(&q, true).unwrap();
        assert_eq!(binary.items, vec![1, 4]);
        assert_eq!(binary.values, vec![1.0, 1.0]);
        let weighted = HistoryVector::from_query(&q, false).unwrap();
        assert_eq!(
            weighted.iter().collect::<Vec<_>>(),
            vec![(1, 0.5), (4, 3.0)]
        );
        let nan = [f32::NAN];
        let bad = Query {
            weights: Some(&nan),
            ..Query::new(&[0], 3)
        };
        assert!(HistoryVector::from_query(&bad, false).is_err());
        assert!(HistoryVector::from_query(&bad, true).is_ok());
    }
}
