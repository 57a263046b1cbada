//! The trained model: factors, popularity, and what is derived from them for serving.

use rayon::prelude::*;
use recsys_plugin_api::{Contribution, Explanation, Query, Scored};

use crate::confidence::Confidence;
use crate::error::{MfError, Result};
use crate::foldin::{entries, FoldIn, FoldedUser};
use crate::linalg::{dot, dots, gram};
use crate::params::{Algorithm, MAX_FACTORS};
use recsys_plugin_api::top_k as top_k_scores;

/// Everything a model is made of (and what [`crate::io`] writes). Factor matrices are
/// row-major, `factors` values per row.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelParts {
    /// The algorithm that trained the factors.
    pub algorithm: Algorithm,
    /// Number of latent factors `k`.
    pub factors: usize,
    /// `λ`, also used by fold-in.
    pub regularization: f32,
    /// How history weights become confidences in fold-in.
    pub confidence: Confidence,
    /// Trained user vectors, `n_users x k`.
    pub user_factors: Vec<f32>,
    /// Item vectors, `n_items x k`.
    pub item_factors: Vec<f32>,
    /// Per-item score offsets (BPR); empty for ALS.
    pub item_bias: Vec<f32>,
    /// Number of users who liked each item in training (the empty-history fallback).
    pub popularity: Vec<u32>,
}

/// A trained matrix-factorization model (ALS or BPR), ready to serve.
#[derive(Debug, Clone)]
pub struct MatrixFactorization {
    parts: ModelParts,
    n_users: usize,
    n_items: usize,
    popularity_scores: Vec<f32>,
    item_norms: Vec<f32>,
    gram: Vec<f64>,
}

/// Item counts above which scoring runs on the rayon pool (below it, threads cost more than
/// they save).
const PARALLEL_SCORING_ITEMS: usize = 16_384;
/// Items per parallel scoring task.
const SCORING_CHUNK: usize = 4096;

impl MatrixFactorization {
    /// Checks the parts for consistency and derives the serving structures (item norms, `YᵀY`).
    pub fn from_parts(parts: ModelParts) -> Result<Self> {
        let k = parts.factors;
        let bad = |m: String| Err(MfError::InvalidInput(format!("inconsistent model: {m}")));
        if !(1..=MAX_FACTORS).contains(&k) {
            return bad(format!("{k} factors"));
        }
        let n_items = parts.popularity.len();
        if parts.item_factors.len() != n_items * k {
            return bad(format!(
                "{} item factor values for {n_items} items of {k} factors",
                parts.item_factors.len()
            ));
        }
        if parts.user_factors.len() % k != 0 {
            return bad(format!("{} user factor values", parts.user_factors.len()));
        }
        let want_bias = match parts.algorithm {
            Algorithm::Als => 0,
            Algorithm::Bpr => n_items,
        };
        if parts.item_bias.len() != want_bias {
            return bad(format!("{} item biases", parts.item_bias.len()));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !(finite(&parts.user_factors) && finite(&parts.item_factors) && finite(&parts.item_bias))
        {
            return bad("non-finite factors".into());
        }
        let reg_ok = parts.regularization.is_finite() && parts.regularization >= 0.0;
        let alpha_ok = parts.confidence.alpha.is_finite() && parts.confidence.alpha > 0.0;
        if !(reg_ok && alpha_ok) {
            return bad("regularization or alpha out of range".into());
        }
        let item_norms = parts
            .item_factors
            .chunks_exact(k)
            .map(|y| dot(y, y).sqrt())
            .collect();
        Ok(MatrixFactorization {
            n_users: parts.user_factors.len() / k,
            n_items,
            popularity_scores: parts.popularity.iter().map(|&c| c as f32).collect(),
            item_norms,
            gram: gram(&parts.item_factors, k),
            parts,
        })
    }

    /// The model's parts.
    pub fn parts(&self) -> &ModelParts {
        &self.parts
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Number of users seen in training.
    pub fn n_users(&self) -> usize {
        self.n_users
    }

    /// Number of factors.
    pub fn factors(&self) -> usize {
        self.parts.factors
    }

    /// The trained vector of user `u`, if `u` was seen in training.
    pub fn user_vector(&self, u: usize) -> Option<&[f32]> {
        let k = self.parts.factors;
        self.parts.user_factors.get(u * k..(u + 1) * k)
    }

    fn item_vector(&self, i: u32) -> &[f32] {
        let k = self.parts.factors;
        &self.parts.item_factors[i as usize * k..(i as usize + 1) * k]
    }

    fn fold(&self) -> FoldIn<'_> {
        FoldIn {
            factors: self.parts.factors,
            gram: &self.gram,
            items: &self.parts.item_factors,
            regularization: f64::from(self.parts.regularization),
        }
    }

    /// Folds in a history (see [`crate::foldin`]): `None` for a history with no usable entry
    /// (or, with `regularization = 0`, a degenerate one); an error for items out of range or
    /// weights of another length.
    pub fn fold_in(&self, history: &[u32], weights: Option<&[f32]>) -> Result<Option<FoldedUser>> {
        Query {
            weights,
            ..Query::new(history, 0)
        }
        .validate(self.n_items)?;
        let e = entries(history, weights, self.parts.confidence);
        if e.is_empty() {
            return Ok(None);
        }
        Ok(self.fold().solve(e))
    }

    /// The score of every item for a user vector `x` (plus the item bias of BPR models).
    pub fn scores(&self, x: &[f32]) -> Vec<f32> {
        let k = self.parts.factors;
        let mut out = vec![0.0f32; self.n_items];
        let bias = &self.parts.item_bias;
        let fill = |(c, chunk): (usize, &mut [f32])| {
            let first = c * SCORING_CHUNK;
            let ys = &self.parts.item_factors[first * k..(first + chunk.len()) * k];
            dots(ys, x, chunk);
            if let Some(b) = bias.get(first..first + chunk.len()) {
                chunk.iter_mut().zip(b).for_each(|(s, b)| *s += b);
            }
        };
        if self.n_items >= PARALLEL_SCORING_ITEMS {
            out.par_chunks_mut(SCORING_CHUNK).enumerate().for_each(fill);
        } else {
            out.chunks_mut(SCORING_CHUNK).enumerate().for_each(fill);
        }
        out
    }

    fn check(&self, query: &Query<'_>) -> Result<()> {
        query.validate(self.n_items)?;
        Ok(())
    }

    /// The best `query.k` items: fold in the history, score every item, drop the excluded ones.
    /// An empty history (or one that cannot be folded in) gets the most popular items.
    pub fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>> {
        self.check(query)?;
        let scores = match self.fold_in(query.history, query.weights)? {
            Some(user) => top_k_scores(&self.scores(&user.vector), query.k, query.exclude),
            None => top_k_scores(&self.popularity_scores, query.k, query.exclude),
        };
        Ok(scores)
    }

    /// The `k` items whose factor vectors have the highest cosine with `item`'s.
    pub fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>> {
        if item as usize >= self.n_items {
            return Err(MfError::InvalidInput(format!(
                "item {item} is out of range (catalogue has {} items)",
                self.n_items
            )));
        }
        let y = self.item_vector(item);
        let norm = self.item_norms[item as usize];
        let factors = self.parts.factors;
        let cosines: Vec<f32> = self
            .parts
            .item_factors
            .chunks_exact(factors)
            .zip(&self.item_norms)
            .map(|(other, &n)| {
                let d = norm * n;
                if d > 0.0 {
                    dot(y, other) / d
                } else {
                    0.0
                }
            })
            .collect();
        Ok(top_k_scores(&cosines, k, &[item]))
    }

    /// Which history items make `item` score high for `query` (exact for the folded-in score;
    /// see [`crate::foldin`]).
    pub fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation> {
        self.check(query)?;
        if item as usize >= self.n_items {
            return Err(MfError::InvalidInput(format!(
                "item {item} is out of range (catalogue has {} items)",
                self.n_items
            )));
        }
        let Some(user) = self.fold_in(query.history, query.weights)? else {
            return Ok(Explanation {
                text: format!(
                    "popular: {} users interacted with item {item}",
                    self.parts.popularity[item as usize]
                ),
                contributions: Vec::new(),
            });
        };
        let parts = self.fold().contributions(&user, item);
        let text = match parts.first() {
            Some(&(j, w)) if w > 0.0 => format!("because you interacted with item {j}"),
            _ => "no item in your history points to it strongly".to_string(),
        };
        Ok(Explanation {
            text,
            contributions: parts
                .into_iter()
                .map(|(j, weight)| Contribution {
                    item: Some(j),
                    term: None,
                    weight,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> MatrixFactorization {
        // Items 0 and 1 point the same way, item 2 the other, item 3 is all zeros.
        MatrixFactorization::from_parts(ModelParts {
            algorithm: Algorithm::Als,
            factors: 2,
            regularization: 0.1,
            confidence: Confidence {
                alpha: 1.0,
                binary: true,
            },
            user_factors: vec![1.0, 0.0],
            item_factors: vec![1.0, 0.1, 0.9, 0.0, 0.0, 1.0, 0.0, 0.0],
            item_bias: vec![],
            popularity: vec![3, 1, 7, 0],
        })
        .unwrap()
    }

    #[test]
    fn similar_items_by_cosine_without_the_item() {
        let m = tiny();
        let got = m.similar_items(0, 3).unwrap();
        assert_eq!(got[0].item, 1);
        assert!(got.iter().all(|s| s.item != 0));
        assert!(m.similar_items(4, 3).is_err());
    }

    #[test]
    fn empty_history_falls_back_to_popularity() {
        let m = tiny();
        let got = m
            .recommend(&Query {
                exclude: &[2],
                ..Query::new(&[], 2)
            })
            .unwrap();
        assert_eq!(got.iter().map(|s| s.item).collect::<Vec<_>>(), vec![0, 1]);
        let e = m.explain(&Query::new(&[], 2), 2).unwrap();
        assert!(e.text.contains("7 users"), "{}", e.text);
        assert!(e.contributions.is_empty());
    }

    #[test]
    fn rejects_inconsistent_parts() {
        let mut p = tiny().parts().clone();
        p.item_bias = vec![0.0; 4];
        assert!(MatrixFactorization::from_parts(p).is_err());
        let mut p = tiny().parts().clone();
        p.item_factors.pop();
        assert!(MatrixFactorization::from_parts(p).is_err());
        let mut p = tiny().parts().clone();
        p.user_factors[0] = f32::NAN;
        assert!(MatrixFactorization::from_parts(p).is_err());
    }

    #[test]
    fn parallel_and_sequential_scoring_agree() {
        let n = PARALLEL_SCORING_ITEMS + 5;
        let item_factors: Vec<f32> = (0..n * 2).map(|v| (v % 7) as f32).collect();
        let m = MatrixFactorization::from_parts(ModelParts {
            item_factors,
            item_bias: (0..n).map(|v| v as f32).collect(),
            popularity: vec![0; n],
            algorithm: Algorithm::Bpr,
            ..tiny().parts().clone()
        })
        .unwrap();
        let s = m.scores(&[1.0, 2.0]);
        for i in [0, 1, SCORING_CHUNK, n - 1] {
            let y = &m.parts().item_factors[i * 2..i * 2 + 2];
            assert_eq!(s[i], y[0] + 2.0 * y[1] + i as f32);
        }
    }
}
