//! User-kNN: the users most similar to a history, found per query, vote for their items.

use crate::accumulator::{Accumulator, Scratch};
use crate::history::HistoryVector;
use crate::matrix::{row, transpose, Csr};
use crate::similarity::{keep_best, CosineIndex, Similarity};
use crate::weighting::FittedWeighting;
use crate::Config;

/// The training matrix indexed for user-kNN queries.
///
/// Nothing is precomputed per user: a query's history is a new row, and its similarities to
/// every user are its row of `X Xᵀ`, computed at query time through the inverted index (the
/// cost is the total number of users of the history's items). That answers new histories
/// exactly, and a user's own training row in the same way.
#[derive(Debug, Clone)]
pub(crate) struct UserKnn {
    /// The (weighted) user rows, for user similarities; its transpose is the inverted index.
    users: CosineIndex,
    /// How user rows were weighted, to weight query histories the same way.
    weighting: FittedWeighting,
    /// Item columns as documents, for item-item cosine (explain, similar_items); its
    /// transpose is the interaction matrix `X` itself.
    items: CosineIndex,
    /// `Xᵀ`: the users of each item.
    item_users: Csr,
    neighbours: usize,
}

impl UserKnn {
    /// Indexes the user x item matrix `x`.
    pub(crate) fn new(x: &Csr, config: &Config) -> Self {
        let weighting = FittedWeighting::fit(config.weighting, x);
        let users = CosineIndex::new(&weighting.apply(x), config.shrinkage, config.similarity);
        let item_users = transpose(x);
        let items = CosineIndex::new(&item_users, config.shrinkage, Similarity::Cosine);
        UserKnn {
            users,
            weighting,
            items,
            item_users,
            neighbours: config.neighbours,
        }
    }

    /// The user x item interaction matrix.
    pub(crate) fn interactions(&self) -> &Csr {
        self.items.by_term()
    }

    /// Finds the `neighbours` users most similar to `history` (never `skip_user`) and adds
    /// `sim(user) * x[user, j]` to `scratch.items[j]` for each of their items `j`.
    pub(crate) fn score(
        &self,
        history: &HistoryVector,
        skip_user: Option<u32>,
        scratch: &mut Scratch,
    ) {
        let query = self
            .weighting
            .apply_to_document(&history.items, &history.values);
        let mut similar = self
            .users
            .query(&history.items, &query, skip_user, &mut scratch.users);
        keep_best(&mut similar, self.neighbours);
        let x = self.interactions();
        for (u, s) in similar {
            let (items, values) = row(x, u as usize);
            for (&j, &v) in items.iter().zip(values) {
                scratch.items.add(j, s * v);
            }
        }
    }

    /// Cosine similarities of `item` to every item sharing a user with it (never itself),
    /// computed on the interaction matrix (unweighted) with the configured shrinkage.
    pub(crate) fn item_similarities(&self, item: u32, acc: &mut Accumulator) -> Vec<(u32, f32)> {
        let (users, values) = row(&self.item_users, item as usize);
        self.items.query(users, values, Some(item), acc)
    }
}
