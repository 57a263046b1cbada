//! Fold-in: the factor vector of a user given only their history, against fixed item factors.
//!
//! This is exactly the ALS user step, solved exactly instead of with a few CG steps:
//!
//! ```text
//! (YᵀY + Y_uᵀ (C_u − I) Y_u + λI) x = Y_uᵀ C_u p_u
//! ```
//!
//! `YᵀY` is precomputed once per model, so a history of `n` items costs `O(n k²)` to form the
//! system plus one `k x k` Cholesky factorisation (`O(k³/3)`), in `f64`. It serves ALS models;
//! BPR models fold in with their own objective ([`crate::foldin_bpr`]): a ridge regression
//! onto factors that were not trained for it ranks below popularity on a 12k-item catalogue.
//!
//! Because `x = A⁻¹ b` is linear in `b = Σ_j c_j p_j y_j`, the score of item `i` splits exactly
//! into one term per history item: `x·y_i = Σ_j c_j p_j (y_iᵀ A⁻¹ y_j)`. These terms are the
//! explanation (implicit's `explain` computes the same decomposition).

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use crate::confidence::Confidence;

/// One history entry: an item and its signed confidence.
pub type Entry = (u32, f32);

/// The entries of a query history: sorted by item, repeated items merged (their strengths
/// added), zero strengths dropped. `weights` defaults to 1 per entry.
pub fn entries(history: &[u32], weights: Option<&[f32]>, confidence: Confidence) -> Vec<Entry> {
    let mut raw: Vec<(u32, f32)> = history
        .iter()
        .enumerate()
        .map(|(n, &i)| (i, weights.map_or(1.0, |w| w[n])))
        .collect();
    raw.sort_unstable_by_key(|&(i, _)| i);
    let mut merged: Vec<(u32, f32)> = Vec::with_capacity(raw.len());
    for (i, w) in raw {
        match merged.last_mut() {
            Some(last) if last.0 == i => last.1 += w,
            _ => merged.push((i, w)),
        }
    }
    merged
        .into_iter()
        .filter_map(|(i, w)| confidence.signed(w).map(|c| (i, c)))
        .collect()
}

/// The distinct items of a history, sorted ascending.
pub fn item_set(history: &[u32]) -> Vec<u32> {
    let mut items = history.to_vec();
    items.sort_unstable();
    items.dedup();
    items
}

/// A 64-bit fingerprint of an item set (sorted ascending, distinct), stable across platforms
/// and versions (it is saved with the model): a SplitMix64-style mix chained over the items.
/// Two different sets collide with probability about `2⁻⁶⁴`.
pub fn set_key(items: &[u32]) -> u64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut h = mix(items.len() as u64 ^ 0x243F_6A88_85A3_08D3);
    for &i in items {
        h = mix(h.wrapping_add(0x9E37_79B9_7F4A_7C15) ^ u64::from(i));
    }
    h
}

/// The fixed side of the fold-in problem: the item factors and their Gram matrix.
#[derive(Debug, Clone, Copy)]
pub struct FoldIn<'a> {
    /// Number of factors `k`.
    pub factors: usize,
    /// `YᵀY`, row-major `k x k` (without `λ`).
    pub gram: &'a [f64],
    /// The item factors, row-major `n_items x k`.
    pub items: &'a [f32],
    /// `λ`.
    pub regularization: f64,
}

/// A folded-in user: the factor vector and the factorised system (for explanations).
#[derive(Debug, Clone)]
pub struct FoldedUser {
    /// The user's factor vector.
    pub vector: Vec<f32>,
    chol: Cholesky<f64, Dyn>,
    entries: Vec<Entry>,
}

impl FoldIn<'_> {
    fn item(&self, i: u32) -> &[f32] {
        let k = self.factors;
        &self.items[i as usize * k..(i as usize + 1) * k]
    }

    /// Solves for the user vector; `None` when the system cannot be factorised even with a tiny
    /// diagonal jitter (only possible with `λ = 0` and degenerate factors).
    pub fn solve(&self, entries: Vec<Entry>) -> Option<FoldedUser> {
        let k = self.factors;
        let mut a = DMatrix::from_column_slice(k, k, self.gram);
        let mut b = DVector::<f64>::zeros(k);
        for d in 0..k {
            a[(d, d)] += self.regularization;
        }
        {
            let cols = a.as_mut_slice();
            for &(i, signed) in &entries {
                let (c, p) = Confidence::split(signed);
                let y = self.item(i);
                let w = f64::from(c) - 1.0;
                if w != 0.0 {
                    // The lower triangle only: it is all the Cholesky factorisation reads.
                    for (c, (col, &yc)) in cols.chunks_exact_mut(k).zip(y).enumerate() {
                        let s = w * f64::from(yc);
                        for (v, &yr) in col[c..].iter_mut().zip(&y[c..]) {
                            *v += s * f64::from(yr);
                        }
                    }
                }
                let cp = f64::from(c * p);
                if cp != 0.0 {
                    for (bv, &yv) in b.iter_mut().zip(y) {
                        *bv += cp * f64::from(yv);
                    }
                }
            }
        }
        let chol = a.clone().cholesky().or_else(|| {
            let jitter = 1e-6 * (a.trace() / k as f64).max(1.0);
            for d in 0..k {
                a[(d, d)] += jitter;
            }
            a.cholesky()
        })?;
        let x = chol.solve(&b);
        let vector: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        if vector.iter().any(|v| !v.is_finite()) {
            return None;
        }
        Some(FoldedUser {
            vector,
            chol,
            entries,
        })
    }

    /// How much each history entry contributes to the score `x·y_item` (see the module docs),
    /// largest first. The contributions add up to the score (up to rounding).
    pub fn contributions(&self, user: &FoldedUser, item: u32) -> Vec<(u32, f32)> {
        let y = DVector::from_iterator(self.factors, self.item(item).iter().map(|&v| v as f64));
        let w = user.chol.solve(&y);
        let mut out: Vec<(u32, f32)> = user
            .entries
            .iter()
            .map(|&(j, signed)| {
                let (c, p) = Confidence::split(signed);
                let yj = self.item(j);
                let dot: f64 = w.iter().zip(yj).map(|(&a, &b)| a * f64::from(b)).sum();
                (j, (f64::from(c * p) * dot) as f32)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::{dot, gram};

    const CONF: Confidence = Confidence {
        alpha: 1.0,
        binary: true,
    };

    #[test]
    fn entries_merge_duplicates_and_drop_zeros() {
        let graded = Confidence {
            alpha: 1.0,
            binary: false,
        };
        let e = entries(&[5, 2, 5, 7], Some(&[1.0, 2.0, 3.0, 0.0]), graded);
        assert_eq!(e, vec![(2, 3.0), (5, 5.0)]);
        assert_eq!(entries(&[3, 3], None, CONF), vec![(3, 2.0)]);
        assert!(entries(&[], None, CONF).is_empty());
    }

    #[test]
    fn set_keys_ignore_order_and_repeats_only() {
        let a = set_key(&item_set(&[5, 2, 5, 7]));
        assert_eq!(a, set_key(&[2, 5, 7]));
        assert_ne!(a, set_key(&[2, 5]));
        assert_ne!(a, set_key(&[2, 5, 8]));
        assert_ne!(set_key(&[]), set_key(&[0]));
        assert_ne!(set_key(&[0, 1]), set_key(&[1]));
        // Fixed values: the keys are saved with models, so they must never change.
        assert_eq!(set_key(&[]), 0xe9e0_033e_3bad_af36);
        assert_eq!(a, 0x8c3d_3fdf_945f_b355);
    }

    #[test]
    fn solves_the_normal_equations_and_explains_exactly() {
        let k = 3;
        let items = [
            1.0f32, 0.0, 0.5, 0.0, 1.0, 0.2, 0.3, 0.3, 1.0, 0.9, 0.1, 0.0,
        ];
        let g = gram(&items, k);
        let fold = FoldIn {
            factors: k,
            gram: &g,
            items: &items,
            regularization: 0.1,
        };
        let e = entries(&[0, 2], Some(&[1.0, 1.0]), CONF);
        let user = fold.solve(e).unwrap();
        // A x = b, checked by hand: A = YᵀY + λI + Σ (c−1) y yᵀ, b = Σ c y with c = 2.
        let x = &user.vector;
        for d in 0..k {
            let mut ax = 0.1 * x[d];
            for i in 0..4 {
                let y = &items[i * k..(i + 1) * k];
                let c = if i == 0 || i == 2 { 2.0 } else { 1.0 };
                ax += c * y[d] * dot(y, x);
            }
            let b = 2.0 * (items[d] + items[2 * k + d]);
            assert!((ax - b).abs() < 1e-5, "row {d}: {ax} vs {b}");
        }
        let parts = fold.contributions(&user, 3);
        let score = dot(x, &items[9..12]);
        let sum: f32 = parts.iter().map(|p| p.1).sum();
        assert!((sum - score).abs() < 1e-5, "{sum} vs {score}");
        assert!(parts[0].1 >= parts[1].1);
    }

    #[test]
    fn singular_systems_get_a_jitter() {
        let items = [0.0f32; 8];
        let g = gram(&items, 2);
        let fold = FoldIn {
            factors: 2,
            gram: &g,
            items: &items,
            regularization: 0.0,
        };
        let user = fold.solve(entries(&[1], None, CONF)).unwrap();
        assert_eq!(user.vector, vec![0.0, 0.0]);
    }
}
