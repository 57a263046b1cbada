use recsys_plugin_api::{CsrView, ItemText, ItemTextTable, TrainData};

use super::Split;
use crate::dataset::{Csr, Dataset};

/// Owned text of one item, in the shape plugins receive it.
#[derive(Debug, Clone, Default)]
struct OwnedItemText {
    title: String,
    brand: String,
    categories: String,
    description: String,
}

/// The training side of a split, ready to hand to plugins: the user x item matrix (values =
/// ratings), timestamps aligned with its entries, each user's training history oldest first,
/// item text when the dataset has metadata, and the held-out test items.
#[derive(Debug, Clone)]
pub struct TrainSet {
    /// Users x items, one entry per training interaction.
    pub csr: Csr,
    /// Timestamps aligned with `csr`'s entries.
    pub timestamps: Vec<i64>,
    history_indptr: Vec<usize>,
    history: Vec<u32>,
    item_text: Option<Vec<OwnedItemText>>,
    /// Test items per user: `(user, items sorted ascending)`.
    pub test: Vec<(u32, Vec<u32>)>,
}

impl TrainSet {
    /// Builds the training side of `split` over all of `dataset`'s users and items.
    pub fn new(dataset: &Dataset, split: Split) -> TrainSet {
        let (n_users, n_items) = (dataset.n_users(), dataset.n_items());
        let mut indptr = Vec::with_capacity(n_users + 1);
        let mut indices = Vec::with_capacity(split.train.len());
        let mut values = Vec::with_capacity(split.train.len());
        let mut timestamps = Vec::with_capacity(split.train.len());
        let mut history_indptr = Vec::with_capacity(n_users + 1);
        let mut history = Vec::with_capacity(split.train.len());
        indptr.push(0u64);
        history_indptr.push(0usize);
        let mut rows = split.train.chunk_by(|a, b| a.user == b.user).peekable();
        let mut row_buf = Vec::new();
        for user in 0..n_users as u32 {
            if let Some(rows_of_user) = rows.next_if(|r| r[0].user == user) {
                // `split.train` holds each user's rows oldest first.
                history.extend(rows_of_user.iter().map(|r| r.item));
                row_buf.clear();
                row_buf.extend(rows_of_user.iter().map(|r| (r.item, r.rating, r.timestamp)));
                row_buf.sort_unstable_by_key(|r| r.0);
                for &(item, rating, ts) in &row_buf {
                    indices.push(item);
                    values.push(rating);
                    timestamps.push(ts);
                }
            }
            indptr.push(indices.len() as u64);
            history_indptr.push(history.len());
        }
        let item_text = dataset.item_meta.iter().any(Option::is_some).then(|| {
            dataset
                .item_meta
                .iter()
                .map(|meta| match meta {
                    None => OwnedItemText::default(),
                    Some(m) => OwnedItemText {
                        title: m.title.clone().unwrap_or_default(),
                        brand: m.brand.clone().unwrap_or_default(),
                        categories: m.categories.join("\n"),
                        description: m.description.clone().unwrap_or_default(),
                    },
                })
                .collect()
        });
        TrainSet {
            csr: Csr {
                n_rows: n_users,
                n_cols: n_items,
                indptr,
                indices,
                values,
            },
            timestamps,
            history_indptr,
            history,
            item_text,
            test: split.test,
        }
    }

    /// The view plugins train on.
    pub fn train_data(&self) -> TrainData<'_> {
        let c = &self.csr;
        let csr = CsrView::new(c.n_rows, c.n_cols, &c.indptr, &c.indices, &c.values)
            .expect("TrainSet builds a valid CSR matrix");
        let mut data = TrainData::new(csr)
            .with_timestamps(&self.timestamps)
            .expect("one timestamp per entry");
        if let Some(items) = &self.item_text {
            let table = ItemTextTable::new(items.iter().map(|t| ItemText {
                title: &t.title,
                brand: &t.brand,
                categories: &t.categories,
                description: &t.description,
            }));
            data = data.with_item_text(table).expect("one text per item");
        }
        data
    }

    /// The user's training items, oldest first.
    pub fn history(&self, user: u32) -> &[u32] {
        let u = user as usize;
        &self.history[self.history_indptr[u]..self.history_indptr[u + 1]]
    }

    /// The user's training items, sorted ascending (what evaluation excludes).
    pub fn seen(&self, user: u32) -> &[u32] {
        self.csr.row(user as usize).0
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.csr.n_cols
    }
}
