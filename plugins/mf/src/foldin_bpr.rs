//! Fold-in for BPR models: the user vector that the BPR objective gives a history, against the
//! fixed trained item factors and biases.
//!
//! The ridge solve of [`crate::foldin`] regresses the history onto the item factors, which BPR
//! did not train for: on a 12k-item catalogue it ranks below popularity while the trained user
//! vectors rank well above it. This module instead runs the training updates of
//! [`crate::bpr`] on the user vector alone: for a history of `n` liked items, `epochs` passes of
//! `n` samples each, `i` drawn uniformly from the history and `j` from the training sampler (in
//! proportion to popularity with probability `popular_negatives`, else uniformly; a `j` in the
//! history is skipped), each a gradient step on `ln σ(x·(y_i − y_j) + b_i − b_j) − λ|x|²` with
//! the step size decaying linearly from `learning_rate`, starting from `x = 0`. That is the
//! schedule a training user with the same history went through (there, `i` is drawn from all
//! positives, so a user with `n` positives gets `n` samples per pass on average).
//!
//! The problem is convex in `x` and small (`k` unknowns), so a 20-item history costs about
//! 2,000 steps of `O(k)` each. Long histories are capped at [`MAX_STEPS`] steps by running fewer
//! passes. The sampling seed is a hash of the history's item set, so the same history always
//! gets the same vector.
//!
//! Every update adds a multiple of `y_i − y_j` to `x` and shrinks it by `1 − lr·λ`, so `x` is
//! exactly a sum of one part per history item (the updates where it was the positive, shrunk by
//! every later step): `x·y = Σ_i parts_i·y`. Those terms explain a score. The shrinking is kept
//! as one shared scale so that tracking the parts costs one extra `O(k)` update per step.

use crate::foldin::Entry;
use crate::linalg::dot;
use crate::rng::Rng;

/// Step size of the first fold-in pass: the problem is convex and the items are fixed, so the
/// fold-in can step far larger than training. On the validation splits of four Amazon sets,
/// 0.1 to 1 (100 passes) rank alike, 0.01 to 0.05 stop short of the optimum, and 0.4 with 50
/// passes (half the cost) ranks a little lower.
pub const FOLD_IN_LEARNING_RATE: f32 = 0.2;
/// Passes of a fold-in over the history.
pub const FOLD_IN_EPOCHS: usize = 100;

/// The liked items of fold-in entries (those with a positive signed confidence), sorted.
pub fn liked(entries: &[Entry]) -> Vec<u32> {
    entries
        .iter()
        .filter(|&&(_, signed)| signed > 0.0)
        .map(|&(i, _)| i)
        .collect()
}

/// Inclusive prefix sums of item counts (the popularity sampler of [`BprFoldIn`]).
pub fn cumulative(popularity: &[u32]) -> Vec<u64> {
    popularity
        .iter()
        .scan(0u64, |acc, &c| {
            *acc += u64::from(c);
            Some(*acc)
        })
        .collect()
}

/// At most this many SGD steps per fold-in (a history of `n` items runs
/// `min(epochs, max(1, MAX_STEPS / n))` passes).
pub const MAX_STEPS: usize = 50_000;

/// The SGD schedule of a BPR fold-in (by default the training schedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BprSchedule {
    /// Step size of the first pass; it decays linearly over the passes.
    pub learning_rate: f32,
    /// Passes over the history.
    pub epochs: usize,
    /// Share of the negatives drawn in proportion to popularity, in `[0, 1]`.
    pub popular_negatives: f32,
}

/// The fixed side of a BPR fold-in.
#[derive(Debug, Clone, Copy)]
pub struct BprFoldIn<'a> {
    /// Number of factors `k`.
    pub factors: usize,
    /// Item factors, row-major `n_items x k`.
    pub items: &'a [f32],
    /// Item biases, one per item.
    pub item_bias: &'a [f32],
    /// Inclusive prefix sums of the item popularity (the popularity sampler); all zero or
    /// empty: negatives are drawn uniformly.
    pub popularity_cumulative: &'a [u64],
    /// `λ`.
    pub regularization: f32,
    /// The SGD schedule.
    pub schedule: BprSchedule,
}

/// A folded-in BPR user.
#[derive(Debug, Clone)]
pub struct BprUser {
    /// The user's factor vector.
    pub vector: Vec<f32>,
    /// When asked for: per history item, its part of the vector (they add up to it).
    pub parts: Vec<(u32, Vec<f32>)>,
}

impl BprFoldIn<'_> {
    fn item(&self, i: usize) -> &[f32] {
        &self.items[i * self.factors..(i + 1) * self.factors]
    }

    fn n_items(&self) -> usize {
        self.item_bias.len()
    }

    /// Draws a negative candidate.
    fn negative(&self, rng: &mut Rng) -> usize {
        let popular = self.schedule.popular_negatives;
        let total = self.popularity_cumulative.last().copied().unwrap_or(0);
        // The same draws as training: no extra one at the pure settings 0 and 1.
        let by_popularity =
            total > 0 && (popular >= 1.0 || (popular > 0.0 && rng.next_f32() < popular));
        if by_popularity {
            let x = ((u128::from(rng.next_u64()) * u128::from(total)) >> 64) as u64;
            self.popularity_cumulative.partition_point(|&c| c <= x)
        } else {
            rng.below(self.n_items())
        }
    }

    /// The user vector for the liked items `positives` (sorted ascending, distinct, in range),
    /// with its per-item parts when `explain` is set. `None` when there is nothing to learn
    /// from: no positives, or no other item to rank them above.
    pub fn solve(&self, positives: &[u32], seed: u64, explain: bool) -> Option<BprUser> {
        let k = self.factors;
        let n = positives.len();
        if n == 0 || n >= self.n_items() {
            return None;
        }
        let reg = self.regularization;
        let epochs = self.schedule.epochs.min((MAX_STEPS / n).max(1));
        let mut rng = Rng::new(seed);
        let mut x = vec![0.0f32; k];
        let mut diff = vec![0.0f32; k];
        // x = scale * Σ parts (only maintained when explaining).
        let mut parts = if explain {
            vec![0.0f32; n * k]
        } else {
            Vec::new()
        };
        let mut scale = 1.0f32;
        for epoch in 0..epochs {
            let lr = self.schedule.learning_rate * (1.0 - epoch as f32 / epochs as f32);
            let shrink = 1.0 - lr * reg;
            for _ in 0..n {
                let e = rng.below(n);
                let i = positives[e] as usize;
                let j = self.negative(&mut rng);
                if positives.binary_search(&(j as u32)).is_ok() {
                    continue;
                }
                let (yi, yj) = (self.item(i), self.item(j));
                for ((d, a), b) in diff.iter_mut().zip(yi).zip(yj) {
                    *d = a - b;
                }
                let score = dot(&x, &diff) + self.item_bias[i] - self.item_bias[j];
                // d/dx̂ ln σ(x̂) = σ(−x̂)
                let step = lr / (1.0 + score.exp());
                for (xv, d) in x.iter_mut().zip(&diff) {
                    *xv = shrink * *xv + step * d;
                }
                if explain {
                    scale *= shrink;
                    if scale < 1e-20 {
                        parts.iter_mut().for_each(|p| *p *= scale);
                        scale = 1.0;
                    }
                    let s = step / scale;
                    for (p, d) in parts[e * k..(e + 1) * k].iter_mut().zip(&diff) {
                        *p += s * d;
                    }
                }
            }
        }
        if x.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let parts = if explain {
            positives
                .iter()
                .zip(parts.chunks_exact(k))
                .map(|(&i, p)| (i, p.iter().map(|v| v * scale).collect()))
                .collect()
        } else {
            Vec::new()
        };
        Some(BprUser { vector: x, parts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: BprSchedule = BprSchedule {
        learning_rate: 0.05,
        epochs: 100,
        popular_negatives: 0.5,
    };

    /// Items 0 to 2 point along the first axis, 3 to 5 along the second.
    fn items() -> (Vec<f32>, Vec<f32>, Vec<u64>) {
        let items = vec![1.0, 0.0, 0.9, 0.1, 1.0, 0.2, 0.0, 1.0, 0.1, 0.9, 0.2, 1.0];
        (
            items,
            vec![0.0, 0.1, 0.0, 0.2, 0.0, 0.0],
            vec![3, 4, 5, 9, 10, 10],
        )
    }

    #[test]
    fn learns_the_direction_of_the_history_deterministically_and_explains_exactly() {
        let (items, bias, cumulative) = items();
        let fold = BprFoldIn {
            factors: 2,
            items: &items,
            item_bias: &bias,
            popularity_cumulative: &cumulative,
            regularization: 0.01,
            schedule: SCHEDULE,
        };
        let user = fold.solve(&[0, 1], 9, true).unwrap();
        let x = &user.vector;
        assert!(x[0] > 0.0 && x[0] > x[1], "{x:?}");
        let score = |i: usize| dot(x, &items[i * 2..i * 2 + 2]) + bias[i];
        assert!(score(2) > score(3).max(score(4)).max(score(5)));
        // Same history and seed, same vector; explaining does not change it.
        assert_eq!(fold.solve(&[0, 1], 9, false).unwrap().vector, *x);
        assert_ne!(fold.solve(&[0, 1], 10, false).unwrap().vector, *x);
        // The parts add up to the vector.
        assert_eq!(user.parts.len(), 2);
        for d in 0..2 {
            let sum: f32 = user.parts.iter().map(|(_, p)| p[d]).sum();
            assert!((sum - x[d]).abs() < 1e-5, "{sum} vs {}", x[d]);
        }
    }

    #[test]
    fn nothing_to_learn_from() {
        let (items, bias, _) = items();
        let fold = BprFoldIn {
            factors: 2,
            items: &items,
            item_bias: &bias,
            popularity_cumulative: &[],
            regularization: 0.01,
            schedule: SCHEDULE,
        };
        assert!(fold.solve(&[], 1, false).is_none());
        assert!(fold.solve(&[0, 1, 2, 3, 4, 5], 1, false).is_none());
        assert!(fold.solve(&[4], 1, false).is_some());
    }
}
