pub use crate::ffi::ItemTextTable;
use crate::PluginError;

pub use crate::ffi::ItemText;

/// A borrowed user x item matrix in compressed sparse row form: row `u` holds the items user
/// `u` interacted with (`indices`, strictly increasing) and the interaction strengths
/// (`values`, e.g. ratings or counts).
#[derive(Debug, Clone, Copy)]
pub struct CsrView<'a> {
    n_rows: usize,
    n_cols: usize,
    indptr: &'a [u64],
    indices: &'a [u32],
    values: &'a [f32],
}

impl<'a> CsrView<'a> {
    /// Checks the arrays and wraps them. Fails unless `indptr` has `n_rows + 1` non-decreasing
    /// offsets from 0 to `indices.len() == values.len()`, every row's column indices are
    /// strictly increasing and below `n_cols`, and every value is finite.
    pub fn new(
        n_rows: usize,
        n_cols: usize,
        indptr: &'a [u64],
        indices: &'a [u32],
        values: &'a [f32],
    ) -> Result<Self, PluginError> {
        let bad = |what: String| Err(PluginError::invalid_input(format!("CSR matrix: {what}")));
        if indptr.len() != n_rows + 1 {
            return bad(format!(
                "indptr has {} entries, expected {}",
                indptr.len(),
                n_rows + 1
            ));
        }
        if indptr[0] != 0 || indptr[n_rows] as usize != indices.len() {
            return bad("indptr must run from 0 to the number of stored entries".into());
        }
        if values.len() != indices.len() {
            return bad(format!(
                "{} values for {} indices",
                values.len(),
                indices.len()
            ));
        }
        if n_cols > u32::MAX as usize {
            return bad("more than u32::MAX columns".into());
        }
        for r in 0..n_rows {
            let (start, end) = (indptr[r], indptr[r + 1]);
            if start > end {
                return bad(format!("indptr decreases at row {r}"));
            }
            let row = &indices[start as usize..end as usize];
            if row.windows(2).any(|w| w[0] >= w[1]) {
                return bad(format!(
                    "column indices of row {r} are not strictly increasing"
                ));
            }
            if row.last().is_some_and(|&c| c as usize >= n_cols) {
                return bad(format!("row {r} has a column index >= {n_cols}"));
            }
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return bad(format!("value {i} is not finite"));
        }
        Ok(CsrView {
            n_rows,
            n_cols,
            indptr,
            indices,
            values,
        })
    }

    /// Number of rows (users).
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
    /// Number of columns (items).
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }
    /// Row offsets, `n_rows + 1` of them.
    pub fn indptr(&self) -> &'a [u64] {
        self.indptr
    }
    /// Column indices of all stored entries, row after row.
    pub fn indices(&self) -> &'a [u32] {
        self.indices
    }
    /// Values of all stored entries, row after row.
    pub fn values(&self) -> &'a [f32] {
        self.values
    }
    /// The column indices and values of row `r`.
    pub fn row(&self, r: usize) -> (&'a [u32], &'a [f32]) {
        let (s, e) = (self.indptr[r] as usize, self.indptr[r + 1] as usize);
        (&self.indices[s..e], &self.values[s..e])
    }
}

/// Everything a plugin trains on: the interaction matrix, optional per-interaction timestamps
/// (aligned with the matrix's stored entries) and optional per-item text.
#[derive(Debug, Clone)]
pub struct TrainData<'a> {
    interactions: CsrView<'a>,
    timestamps: Option<&'a [i64]>,
    items: Option<ItemTextTable<'a>>,
}

impl<'a> TrainData<'a> {
    /// Training data with interactions only.
    pub fn new(interactions: CsrView<'a>) -> Self {
        TrainData {
            interactions,
            timestamps: None,
            items: None,
        }
    }
    /// Adds per-interaction timestamps (Unix seconds, one per stored entry).
    pub fn with_timestamps(mut self, timestamps: &'a [i64]) -> Result<Self, PluginError> {
        if timestamps.len() != self.interactions.nnz() {
            return Err(PluginError::invalid_input(format!(
                "{} timestamps for {} interactions",
                timestamps.len(),
                self.interactions.nnz()
            )));
        }
        self.timestamps = Some(timestamps);
        Ok(self)
    }
    /// Adds per-item text, one entry per item.
    pub fn with_item_text(mut self, items: ItemTextTable<'a>) -> Result<Self, PluginError> {
        if items.len() != self.interactions.n_cols() {
            return Err(PluginError::invalid_input(format!(
                "item text for {} items, the matrix has {}",
                items.len(),
                self.interactions.n_cols()
            )));
        }
        self.items = Some(items);
        Ok(self)
    }
    /// The user x item interaction matrix.
    pub fn interactions(&self) -> &CsrView<'a> {
        &self.interactions
    }
    /// Number of users (rows).
    pub fn n_users(&self) -> usize {
        self.interactions.n_rows()
    }
    /// Number of items (columns).
    pub fn n_items(&self) -> usize {
        self.interactions.n_cols()
    }
    /// Per-interaction timestamps, aligned with [`CsrView::indices`], when the host has them.
    pub fn timestamps(&self) -> Option<&'a [i64]> {
        self.timestamps
    }
    /// Whether per-item text was given.
    pub fn has_item_text(&self) -> bool {
        self.items.is_some()
    }
    /// The text fields of item `item`, when the host gave item text.
    pub fn item_text(&self, item: u32) -> Option<ItemText<'_>> {
        self.items.as_ref().and_then(|t| t.get(item as usize))
    }
    /// The item text table, when given.
    pub fn item_text_table(&self) -> Option<&ItemTextTable<'a>> {
        self.items.as_ref()
    }
}

/// A recommendation request.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The user's row in the training matrix, when the user was seen in training. Plugins may
    /// use it as a shortcut; they must give the same kind of answer from `history` alone.
    pub user: Option<u32>,
    /// The items the user interacted with, oldest first. May be empty, and may hold items the
    /// user did not have at training time (fold-in).
    pub history: &'a [u32],
    /// Interaction strengths aligned with `history`, when known (otherwise all 1).
    pub weights: Option<&'a [f32]>,
    /// Items that must not be returned, sorted ascending, without duplicates.
    pub exclude: &'a [u32],
    /// How many items to return at most.
    pub k: usize,
}

impl<'a> Query<'a> {
    /// A query for `history` that excludes nothing.
    pub fn new(history: &'a [u32], k: usize) -> Self {
        Query {
            user: None,
            history,
            weights: None,
            exclude: &[],
            k,
        }
    }
    /// Whether `item` must not be returned.
    pub fn is_excluded(&self, item: u32) -> bool {
        self.exclude.binary_search(&item).is_ok()
    }
    /// The weight of the `i`-th history entry (1 when no weights are given).
    pub fn weight(&self, i: usize) -> f32 {
        self.weights.map_or(1.0, |w| w[i])
    }
    /// Checks the query against a catalogue of `n_items` items.
    pub fn validate(&self, n_items: usize) -> Result<(), PluginError> {
        let out_of_range = |i: &u32| *i as usize >= n_items;
        if let Some(i) = self.history.iter().find(|i| out_of_range(i)) {
            return Err(PluginError::invalid_input(format!(
                "history item {i} is out of range (catalogue has {n_items} items)"
            )));
        }
        if self.weights.is_some_and(|w| w.len() != self.history.len()) {
            return Err(PluginError::invalid_input(
                "weights and history differ in length",
            ));
        }
        if self.exclude.windows(2).any(|w| w[0] >= w[1]) {
            return Err(PluginError::invalid_input(
                "exclude must be sorted without duplicates",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_view_validates_its_arrays() {
        let ok = CsrView::new(2, 3, &[0, 2, 3], &[0, 2, 1], &[1.0, 1.0, 2.0]).unwrap();
        assert_eq!(ok.row(0), (&[0u32, 2][..], &[1.0f32, 1.0][..]));
        assert_eq!(ok.nnz(), 3);
        assert!(CsrView::new(2, 3, &[0, 2], &[0, 2], &[1.0, 1.0]).is_err());
        assert!(CsrView::new(1, 3, &[0, 2], &[2, 0], &[1.0, 1.0]).is_err());
        assert!(CsrView::new(1, 2, &[0, 1], &[2], &[1.0]).is_err());
        assert!(CsrView::new(1, 2, &[0, 1], &[1], &[f32::NAN]).is_err());
    }

    #[test]
    fn query_validation() {
        let q = Query {
            exclude: &[1, 3],
            ..Query::new(&[0, 1], 5)
        };
        assert!(q.validate(4).is_ok());
        assert!(q.is_excluded(3) && !q.is_excluded(2));
        assert!(q.validate(1).is_err());
        let unsorted = Query {
            exclude: &[3, 1],
            ..q
        };
        assert!(unsorted.validate(4).is_err());
    }
}
