//! Item-kNN: a sparse item x item matrix holding each item's nearest neighbours.

use crate::accumulator::Accumulator;
use crate::history::HistoryVector;
use crate::matrix::{row, transpose, Csr};
use crate::similarity::{best_first, keep_best, knn, rp3beta, Similarity};
use crate::weighting::FittedWeighting;
use crate::Config;

/// Item neighbourhoods: row `i` holds the `neighbours` items most similar to `i` (never `i`).
#[derive(Debug, Clone)]
pub(crate) struct ItemKnn {
    sims: Csr,
}

impl ItemKnn {
    /// Computes the neighbourhoods from the user x item matrix `x`: the items' user vectors
    /// are weighted, then compared by `config.similarity` (the rows of `Xᵀ X`, or RP3beta's
    /// walk on the weighted matrix).
    pub(crate) fn train(x: &Csr, config: &Config) -> Self {
        let items = transpose(x);
        let weighted = FittedWeighting::fit(config.weighting, &items).apply(&items);
        let sims = match config.similarity {
            Similarity::Rp3Beta { alpha, beta } => {
                rp3beta(&weighted, alpha, beta, config.neighbours)
            }
            similarity @ (Similarity::Cosine | Similarity::Dot) => {
                knn(&weighted, config.shrinkage, similarity, config.neighbours)
            }
        };
        ItemKnn { sims }
    }

    /// Wraps a loaded similarity matrix (square, no diagonal entries needed).
    pub(crate) fn from_similarities(sims: Csr) -> Self {
        ItemKnn { sims }
    }

    /// The item x item similarity matrix.
    pub(crate) fn similarities(&self) -> &Csr {
        &self.sims
    }

    /// Adds `scale * value(h) * sim(h, j)` to `acc[j]` for every history item `h` and
    /// neighbour `j`.
    pub(crate) fn score(&self, history: &HistoryVector, scale: f32, acc: &mut Accumulator) {
        for (h, w) in history.iter() {
            let (items, sims) = row(&self.sims, h as usize);
            let w = scale * w;
            for (&j, &s) in items.iter().zip(sims) {
                acc.add(j, w * s);
            }
        }
    }

    /// The `k` nearest neighbours of `item`, best first.
    pub(crate) fn similar(&self, item: u32, k: usize) -> Vec<(u32, f32)> {
        let (items, sims) = row(&self.sims, item as usize);
        let mut pairs: Vec<(u32, f32)> = items.iter().copied().zip(sims.iter().copied()).collect();
        keep_best(&mut pairs, k);
        pairs.sort_unstable_by(best_first);
        pairs
    }

    /// `sim(from, to)` as used in scoring: 0 unless `to` is one of `from`'s neighbours.
    pub(crate) fn similarity(&self, from: u32, to: u32) -> f32 {
        self.sims
            .get(from as usize, to as usize)
            .copied()
            .unwrap_or(0.0)
    }
}
