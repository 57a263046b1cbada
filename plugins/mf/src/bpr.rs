//! Bayesian personalised ranking (Rendle, Freudenthaler, Gantner and Schmidt-Thieme, UAI 2009)
//! trained with SGD, with an item bias term as implicit's `bpr.pyx` has.
//!
//! For a sampled triple (user `u`, liked item `i`, other item `j`) the model scores
//! `x̂_uij = x_u·(y_i − y_j) + b_i − b_j` and takes a gradient-ascent step on
//! `ln σ(x̂_uij) − λ (|x_u|² + |y_i|² + |y_j|² + b_i² + b_j²)`.
//!
//! Sampling: `i` is a uniformly drawn stored positive interaction (so users are weighted by
//! their activity). `j` is, with probability `popular_negatives`, the item of another uniformly
//! drawn stored positive, i.e. drawn in proportion to popularity as implicit does, and otherwise
//! a uniformly drawn item, as in the paper. A `j` the user has interacted with is skipped, as
//! implicit's `verify_negative_samples` does.
//!
//! The two samplers pull the item bias in opposite directions. Under popularity sampling an item
//! is drawn as `j` as often as it is drawn as `i`, so the bias cannot learn popularity and the
//! factors must carry the ranking; under uniform sampling popular items win most triples on
//! their bias alone. A mixture keeps some of the popularity prior.
//!
//! The defaults, `popular_negatives = 0.35` and `learning_rate = 0.2`, were chosen with the
//! model served as it is (user vectors from the BPR fold-in, [`crate::foldin_bpr`]) on
//! validation splits that hold out each user's second-to-last interaction, of three small
//! Amazon 5-core sets (musical instruments, gift cards, magazines; mean of 5 seeds) and of the
//! Beauty 5-core (12k items). NDCG@10 there, in that order: `0.8` / `0.025` (the previous
//! defaults) 0.054 / 0.174 / 0.155 / 0.017; `0.5` / `0.05` 0.062 / 0.180 / 0.206 / 0.026;
//! `0.35` / `0.2` 0.063 / 0.180 / 0.210 / 0.035. Larger steps help the larger catalogue most;
//! `0.4` was no better on the small sets.
//!
//! The step size decays linearly from `learning_rate` in the first pass to
//! `learning_rate / epochs` in the last, so the result depends less on where training stops.
//!
//! The updates run sequentially, so a seed fixes the model exactly; Hogwild-style parallel SGD
//! would be faster on large data at the price of reproducibility.

use recsys_plugin_api::CsrView;

use crate::linalg::dot;
use crate::rng::Rng;

/// Samples drawn and checked together before their updates run.
const SAMPLE_BATCH: usize = 256;

/// BPR settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BprConfig {
    /// Number of latent factors `k`.
    pub factors: usize,
    /// SGD step size of the first pass; it decays linearly over the passes.
    pub learning_rate: f32,
    /// `λ`.
    pub regularization: f32,
    /// Passes over the data (each draws as many samples as there are positives).
    pub epochs: usize,
    /// Share of the `j` drawn in proportion to popularity (from the stored positives' items);
    /// the rest are drawn uniformly. In `[0, 1]`.
    pub popular_negatives: f32,
    /// Seed of the initialisation and the sampling.
    pub seed: u64,
}

/// Trained BPR factors (row-major, `k` per row) and item biases.
#[derive(Debug, Clone, PartialEq)]
pub struct BprFactors {
    /// User factors.
    pub users: Vec<f32>,
    /// Item factors.
    pub items: Vec<f32>,
    /// Item biases.
    pub item_bias: Vec<f32>,
}

/// Trains BPR on the positive (value > 0) interactions of `data`.
pub fn train_bpr(data: &CsrView<'_>, config: BprConfig) -> BprFactors {
    let k = config.factors;
    let n_items = data.n_cols();
    let mut rng = Rng::new(config.seed);
    // implicit: uniform in [-0.5, 0.5) / k, biases 0.
    let mut init = |rows: usize| -> Vec<f32> {
        (0..rows * k)
            .map(|_| (rng.next_f32() - 0.5) / k as f32)
            .collect()
    };
    let mut users = init(data.n_rows());
    let mut items = init(n_items);
    let mut item_bias = vec![0.0f32; n_items];

    let positives: Vec<(u32, u32)> = (0..data.n_rows())
        .flat_map(|u| {
            let (idx, val) = data.row(u);
            idx.iter()
                .zip(val)
                .filter(|(_, &v)| v > 0.0)
                .map(move |(&i, _)| (u as u32, i))
        })
        .collect();
    if positives.is_empty() || n_items < 2 {
        return BprFactors {
            users,
            items,
            item_bias,
        };
    }

    let reg = config.regularization;
    let popular = config.popular_negatives;
    let (indptr, indices) = (data.indptr(), data.indices());
    let seen = |u: u32, j: u32| {
        let (s, e) = (indptr[u as usize] as usize, indptr[u as usize + 1] as usize);
        indices[s..e].binary_search(&j).is_ok()
    };
    let mut batch: Vec<(u32, u32, u32)> = Vec::with_capacity(SAMPLE_BATCH);
    for epoch in 0..config.epochs {
        // Linear decay: the last pass steps at `learning_rate / epochs`.
        let lr = config.learning_rate * (1.0 - epoch as f32 / config.epochs as f32);
        let mut drawn = 0;
        while drawn < positives.len() {
            // Draw and check a batch of samples first: their memory accesses are independent,
            // so the CPU overlaps the cache misses. The stream of samples and updates is the
            // same as drawing and updating one at a time.
            let n = SAMPLE_BATCH.min(positives.len() - drawn);
            drawn += n;
            batch.clear();
            for _ in 0..n {
                let (u, i) = positives[rng.below(positives.len())];
                // No extra draw at the pure settings 0 and 1.
                let by_popularity = popular >= 1.0 || (popular > 0.0 && rng.next_f32() < popular);
                let j = if by_popularity {
                    positives[rng.below(positives.len())].1
                } else {
                    rng.below(n_items) as u32
                };
                batch.push((u, i, j));
            }
            batch.retain(|&(u, _, j)| !seen(u, j));
            for &(u, i, j) in &batch {
                let (u, i, j) = (u as usize, i as usize, j as usize);
                let x = &mut users[u * k..(u + 1) * k];
                // i is one of u's items and j is not, so they differ.
                let (yi, yj) = two_rows(&mut items, k, i, j);
                let score = dot(x, yi) - dot(x, yj) + item_bias[i] - item_bias[j];
                // d/dx̂ ln σ(x̂) = σ(−x̂)
                let z = 1.0 / (1.0 + score.exp());
                for ((xf, yif), yjf) in x.iter_mut().zip(yi.iter_mut()).zip(yj.iter_mut()) {
                    let (xv, iv, jv) = (*xf, *yif, *yjf);
                    *xf += lr * (z * (iv - jv) - reg * xv);
                    *yif += lr * (z * xv - reg * iv);
                    *yjf += lr * (-z * xv - reg * jv);
                }
                item_bias[i] += lr * (z - reg * item_bias[i]);
                item_bias[j] += lr * (-z - reg * item_bias[j]);
            }
        }
    }
    BprFactors {
        users,
        items,
        item_bias,
    }
}

/// Rows `a` and `b` (distinct) of a row-major matrix with `k` columns, both mutable.
fn two_rows(m: &mut [f32], k: usize, a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
    debug_assert_ne!(a, b);
    if a < b {
        let (lo, hi) = m.split_at_mut(b * k);
        (&mut lo[a * k..(a + 1) * k], &mut hi[..k])
    } else {
        let (lo, hi) = m.split_at_mut(a * k);
        (&mut hi[..k], &mut lo[b * k..(b + 1) * k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::als::tests::two_groups;

    fn config() -> BprConfig {
        BprConfig {
            factors: 4,
            learning_rate: 0.05,
            regularization: 0.01,
            epochs: 200,
            popular_negatives: 0.0,
            seed: 5,
        }
    }

    #[test]
    fn ranks_each_users_group_first_and_is_deterministic() {
        let (n_users, n_items) = (20, 12);
        let (indptr, indices, values) = two_groups(n_users, n_items);
        let view = CsrView::new(n_users, n_items, &indptr, &indices, &values).unwrap();
        for popular_negatives in [0.0, 0.8, 1.0] {
            let config = BprConfig {
                popular_negatives,
                ..config()
            };
            let f = train_bpr(&view, config);
            assert_each_users_group_first(&f, n_users, n_items);
            assert_eq!(train_bpr(&view, config), f);
            assert_ne!(train_bpr(&view, BprConfig { seed: 6, ..config }), f);
        }
    }

    fn assert_each_users_group_first(f: &BprFactors, n_users: usize, n_items: usize) {
        let k = 4;
        for u in [0usize, n_users - 1] {
            let x = &f.users[u * k..(u + 1) * k];
            let score = |i: usize| dot(x, &f.items[i * k..(i + 1) * k]) + f.item_bias[i];
            let own = if u < n_users / 2 {
                0..n_items / 2
            } else {
                n_items / 2..n_items
            };
            let worst_own = own.clone().map(score).fold(f32::INFINITY, f32::min);
            let best_other = (0..n_items)
                .filter(|i| !own.contains(i))
                .map(score)
                .fold(f32::NEG_INFINITY, f32::max);
            assert!(
                worst_own > best_other,
                "user {u}: {worst_own} <= {best_other}"
            );
        }
    }

    #[test]
    fn popularity_sampling_never_draws_an_item_nobody_liked() {
        let (n_users, n_items) = (20, 12);
        let (indptr, indices, values) = two_groups(n_users, n_items);
        // One more column that no user liked.
        let view = CsrView::new(n_users, n_items + 1, &indptr, &indices, &values).unwrap();
        let unliked = n_items;
        let k = config().factors;
        let row = |f: &BprFactors| f.items[unliked * k..(unliked + 1) * k].to_vec();
        let initial = train_bpr(
            &view,
            BprConfig {
                epochs: 0,
                ..config()
            },
        );

        let by_popularity = train_bpr(
            &view,
            BprConfig {
                popular_negatives: 1.0,
                ..config()
            },
        );
        assert_eq!(row(&by_popularity), row(&initial));
        assert_eq!(by_popularity.item_bias[unliked], 0.0);

        // Drawn uniformly, it loses every triple it is in and gets the lowest bias.
        let uniform = train_bpr(
            &view,
            BprConfig {
                popular_negatives: 0.0,
                ..config()
            },
        );
        assert_ne!(row(&uniform), row(&initial));
        let lowest = uniform.item_bias[..n_items]
            .iter()
            .fold(f32::INFINITY, |a, &b| a.min(b));
        assert!(
            uniform.item_bias[unliked] < lowest,
            "{:?}",
            uniform.item_bias
        );
    }

    #[test]
    fn two_rows_in_either_order() {
        let mut m = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let (a, b) = two_rows(&mut m, 2, 2, 0);
        assert_eq!((&a[..], &b[..]), (&[4.0, 5.0][..], &[0.0, 1.0][..]));
        let (a, b) = two_rows(&mut m, 2, 1, 2);
        a[0] = 9.0;
        b[1] = 8.0;
        assert_eq!(m, [0.0, 1.0, 9.0, 3.0, 4.0, 8.0]);
    }

    #[test]
    fn no_positives_gives_the_initial_factors() {
        let view = CsrView::new(2, 3, &[0, 1, 1], &[1], &[-1.0]).unwrap();
        let f = train_bpr(&view, config());
        assert_eq!(f.items.len(), 12);
        assert!(f.item_bias.iter().all(|&b| b == 0.0));
    }
}
