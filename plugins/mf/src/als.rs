//! Implicit-feedback ALS (Hu, Koren and Volinsky 2008) with the conjugate-gradient solver of
//! Takács, Pilászy and Tikk (2011), as implicit's `least_squares_cg` does it.
//!
//! The loss is `Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (Σ_u |x_u|² + Σ_i |y_i|²)`, where every
//! unobserved pair has `c = 1, p = 0`. With the item factors `Y` fixed, user `u`'s optimum solves
//!
//! ```text
//! (YᵀY + λI + Σ_{i∈u} (c_ui − 1) y_i y_iᵀ) x_u = Σ_{i∈u} c_ui p_ui y_i
//! ```
//!
//! `YᵀY + λI` is shared by all users and computed once per sweep; instead of solving exactly,
//! a few CG steps start from the previous `x_u` (the matrix-vector product costs
//! `O(k² + n_u k)`), which converges to the same fixed point far more cheaply. Items are updated
//! the same way with the roles swapped.

use rayon::prelude::*;

use crate::confidence::Confidence;
use crate::linalg::{axpy, dot, gram, sym_matvec};
use crate::matrix::{row, ConfidenceMatrix, Csr};
use crate::rng::Rng;

/// ALS settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlsConfig {
    /// Number of latent factors `k`.
    pub factors: usize,
    /// `λ`.
    pub regularization: f32,
    /// CG steps per vector and sweep.
    pub cg_steps: usize,
    /// Seed of the initial factors.
    pub seed: u64,
}

/// An ALS run in progress: the confidences and both factor matrices (row-major, `k` per row).
#[derive(Debug)]
pub struct Als<'a> {
    matrix: &'a ConfidenceMatrix,
    config: AlsConfig,
    users: Vec<f32>,
    items: Vec<f32>,
}

/// Small random factors, as implicit: uniform in `[0, 0.01)`.
pub fn init_factors(rng: &mut Rng, rows: usize, k: usize) -> Vec<f32> {
    (0..rows * k).map(|_| rng.next_f32() * 0.01).collect()
}

impl<'a> Als<'a> {
    /// Starts from small random factors.
    pub fn new(matrix: &'a ConfidenceMatrix, config: AlsConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let users = init_factors(&mut rng, matrix.n_users(), config.factors);
        let items = init_factors(&mut rng, matrix.n_items(), config.factors);
        Als {
            matrix,
            config,
            users,
            items,
        }
    }

    /// One sweep: all users, then all items (in parallel in the current rayon pool).
    pub fn iterate(&mut self) {
        let c = self.config;
        solve_side(&mut self.users, &self.items, self.matrix.by_user(), c);
        solve_side(&mut self.items, &self.users, self.matrix.by_item(), c);
    }

    /// The current value of the loss in the module docs.
    pub fn loss(&self) -> f64 {
        let k = self.config.factors;
        let g = gram(&self.items, k);
        let reg = f64::from(self.config.regularization);
        let mut total = 0.0f64;
        for (u, x) in self.users.chunks_exact(k).enumerate() {
            // Every pair as unobserved: xᵀ (YᵀY) x; then correct the observed ones.
            let mut quad = 0.0f64;
            for a in 0..k {
                for b in 0..k {
                    quad += f64::from(x[a]) * g[a * k + b] * f64::from(x[b]);
                }
            }
            total += quad;
            let (idx, conf) = row(self.matrix.by_user(), u);
            for (&i, &s) in idx.iter().zip(conf) {
                let (c, p) = Confidence::split(s);
                let y = &self.items[i as usize * k..(i as usize + 1) * k];
                let score = f64::from(dot(x, y));
                total += f64::from(c) * (f64::from(p) - score).powi(2) - score * score;
            }
        }
        let norms = |v: &[f32]| v.iter().map(|&a| f64::from(a) * f64::from(a)).sum::<f64>();
        total + reg * (norms(&self.users) + norms(&self.items))
    }

    /// The user and item factors.
    pub fn into_factors(self) -> (Vec<f32>, Vec<f32>) {
        (self.users, self.items)
    }
}

/// Work vectors of one CG solve, reused across the users a rayon task handles.
struct Scratch {
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
}

/// Updates every row of `target` against the fixed factors, `rows` giving each target row's
/// signed confidences.
fn solve_side(target: &mut [f32], fixed: &[f32], rows: &Csr, config: AlsConfig) {
    let k = config.factors;
    let mut yty: Vec<f32> = gram(fixed, k).into_iter().map(|v| v as f32).collect();
    for d in 0..k {
        yty[d * k + d] += config.regularization;
    }
    target.par_chunks_mut(k).enumerate().for_each_init(
        || Scratch {
            r: vec![0.0; k],
            p: vec![0.0; k],
            ap: vec![0.0; k],
        },
        |s, (u, x)| {
            let (idx, conf) = row(rows, u);
            cg_update(x, &yty, fixed, idx, conf, config.cg_steps, s);
        },
    );
}

/// `cg_steps` conjugate-gradient steps on one user's (or item's) system, from the current `x`.
/// `yty` already includes `λI`.
fn cg_update(
    x: &mut [f32],
    yty: &[f32],
    y: &[f32],
    idx: &[u32],
    conf: &[f32],
    steps: usize,
    s: &mut Scratch,
) {
    let k = x.len();
    let row_of = |i: u32| &y[i as usize * k..(i as usize + 1) * k];
    // r = b − A x
    sym_matvec(yty, x, &mut s.r);
    s.r.iter_mut().for_each(|v| *v = -*v);
    for (&i, &signed) in idx.iter().zip(conf) {
        let (c, p) = Confidence::split(signed);
        let yi = row_of(i);
        axpy(c * p - (c - 1.0) * dot(yi, x), yi, &mut s.r);
    }
    s.p.copy_from_slice(&s.r);
    let mut rs_old = dot(&s.r, &s.r);
    if rs_old < 1e-20 {
        return;
    }
    for _ in 0..steps {
        // ap = A p
        sym_matvec(yty, &s.p, &mut s.ap);
        for (&i, &signed) in idx.iter().zip(conf) {
            let (c, _) = Confidence::split(signed);
            let yi = row_of(i);
            axpy((c - 1.0) * dot(yi, &s.p), yi, &mut s.ap);
        }
        let p_ap = dot(&s.p, &s.ap);
        if p_ap <= 0.0 || !p_ap.is_finite() {
            return;
        }
        let a = rs_old / p_ap;
        axpy(a, &s.p, x);
        axpy(-a, &s.ap, &mut s.r);
        let rs_new = dot(&s.r, &s.r);
        if rs_new < 1e-20 {
            return;
        }
        let beta = rs_new / rs_old;
        for (p, r) in s.p.iter_mut().zip(&s.r) {
            *p = r + beta * *p;
        }
        rs_old = rs_new;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use recsys_plugin_api::CsrView;

    /// A block-structured matrix: users `0..n/2` like items `0..m/2`, the others the rest; each
    /// user misses about 20 % of their block's items (deterministically).
    pub(crate) fn two_groups(n_users: usize, n_items: usize) -> (Vec<u64>, Vec<u32>, Vec<f32>) {
        let (mut indptr, mut indices) = (vec![0u64], Vec::new());
        for u in 0..n_users {
            let block = if u < n_users / 2 {
                0..n_items / 2
            } else {
                n_items / 2..n_items
            };
            for i in block {
                // Drop about 20 % of the block, pseudo-randomly.
                if Rng::new((u * 1000 + i) as u64).below(10) >= 2 {
                    indices.push(i as u32);
                }
            }
            indptr.push(indices.len() as u64);
        }
        let values = vec![1.0; indices.len()];
        (indptr, indices, values)
    }

    fn matrix(n_users: usize, n_items: usize) -> ConfidenceMatrix {
        let (indptr, indices, values) = two_groups(n_users, n_items);
        let view = CsrView::new(n_users, n_items, &indptr, &indices, &values).unwrap();
        ConfidenceMatrix::new(
            &view,
            Confidence {
                alpha: 2.0,
                binary: true,
            },
        )
        .unwrap()
    }

    fn config() -> AlsConfig {
        AlsConfig {
            factors: 4,
            regularization: 0.05,
            cg_steps: 3,
            seed: 1,
        }
    }

    #[test]
    fn loss_decreases_every_sweep() {
        let m = matrix(20, 12);
        let mut als = Als::new(&m, config());
        let mut last = als.loss();
        let first = last;
        for it in 0..8 {
            als.iterate();
            let now = als.loss();
            assert!(now <= last * (1.0 + 1e-5), "sweep {it}: {last} -> {now}");
            last = now;
        }
        assert!(last < first * 0.5, "{first} -> {last}");
    }

    #[test]
    fn cg_converges_to_the_exact_solution() {
        // With enough steps, CG solves A x = b exactly (k steps in exact arithmetic).
        let k = 3;
        let y = [
            1.0f32, 0.0, 0.5, 0.0, 1.0, 0.2, 0.3, 0.3, 1.0, 0.9, 0.1, 0.0,
        ];
        let mut yty: Vec<f32> = gram(&y, k).into_iter().map(|v| v as f32).collect();
        for d in 0..k {
            yty[d * k + d] += 0.1;
        }
        let (idx, conf) = ([0u32, 2], [3.0f32, 2.0]);
        let mut x = vec![0.0; k];
        let mut s = Scratch {
            r: vec![0.0; k],
            p: vec![0.0; k],
            ap: vec![0.0; k],
        };
        cg_update(&mut x, &yty, &y, &idx, &conf, 10, &mut s);
        // Residual of the full system.
        let mut ax = vec![0.0; k];
        sym_matvec(&yty, &x, &mut ax);
        let mut b = vec![0.0; k];
        for (&i, &c) in idx.iter().zip(&conf) {
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            axpy((c - 1.0) * dot(yi, &x), yi, &mut ax);
            axpy(c, yi, &mut b);
        }
        for d in 0..k {
            assert!((ax[d] - b[d]).abs() < 1e-4, "{ax:?} vs {b:?}");
        }
    }
}
