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
use crate::linalg::{axpy, dot, gram, packed_gemv, sparse_gemv, sym_matmul};
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

/// Rows solved together: their `YᵀY` products form one matrix product. A constant, so that the
/// result does not depend on the number of threads.
const BLOCK: usize = 64;

/// Work space of one block of CG solves (`BLOCK` vectors each), reused across the blocks a
/// rayon task handles.
struct Scratch {
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
    rs: Vec<f32>,
    active: Vec<bool>,
    /// The fixed side's vectors of the block's rows, gathered (see [`gather`]).
    packed: Vec<f32>,
    /// Where each row's vectors start in `packed`, or `None` for a row read in place.
    start: Vec<Option<usize>>,
    /// The most floats `packed` holds: [`GATHER_FLOATS`] (less in tests).
    budget: usize,
}

impl Scratch {
    fn new(k: usize) -> Self {
        Scratch {
            r: vec![0.0; BLOCK * k],
            p: vec![0.0; BLOCK * k],
            ap: vec![0.0; BLOCK * k],
            rs: vec![0.0; BLOCK],
            active: vec![false; BLOCK],
            packed: Vec::new(),
            start: vec![None; BLOCK],
            budget: GATHER_FLOATS,
        }
    }
}

/// Updates every row of `target` against the fixed factors, `rows` giving each target row's
/// signed confidences.
fn solve_side(target: &mut [f32], fixed: &[f32], rows: &Csr, config: AlsConfig) {
    let k = config.factors;
    let mut yty: Vec<f32> = gram(fixed, k).into_iter().map(|v| v as f32).collect();
    for d in 0..k {
        yty[d * k + d] += config.regularization;
    }
    target.par_chunks_mut(BLOCK * k).enumerate().for_each_init(
        || Scratch::new(k),
        |s, (b, xs)| {
            let first = b * BLOCK;
            cg_block(
                xs,
                k,
                &yty,
                fixed,
                |n| row(rows, first + n),
                config.cg_steps,
                s,
            );
        },
    );
}

/// `cg_steps` conjugate-gradient steps on the systems of a block of at most [`BLOCK`] users (or
/// items), from their current vectors `xs` (row-major, `k` per row); `row(n)` gives the
/// signed confidences of the block's `n`-th row. `yty` already includes `λI`.
///
/// Each vector follows its own CG recurrence (and stops on its own); only the dense
/// `YᵀY p` products of the block's vectors are computed together, as one matrix product. The
/// sparse parts read each row's fixed vectors once per step (`cg_steps + 1` times in all), so
/// they are first gathered into a contiguous copy ([`gather`]); the arithmetic, and so the
/// result, is the same bit for bit as reading them in place.
fn cg_block<'r>(
    xs: &mut [f32],
    k: usize,
    yty: &[f32],
    y: &[f32],
    row: impl Fn(usize) -> (&'r [u32], &'r [f32]),
    steps: usize,
    s: &mut Scratch,
) {
    let m = xs.len() / k;
    let (r, p, ap) = (&mut s.r[..m * k], &mut s.p[..m * k], &mut s.ap[..m * k]);
    let (rs, active) = (&mut s.rs[..m], &mut s.active[..m]);
    let start = &mut s.start[..m];
    gather(y, k, |n| row(n).0, start, &mut s.packed, s.budget);
    let packed = &s.packed;
    // Row `n`'s gathered vectors, if it has them.
    let copy = |n: usize| start[n].map(|at| &packed[at..at + row(n).0.len() * k]);
    // r = b − A x
    sym_matmul(yty, k, xs, m, r);
    for (n, (rn, xn)) in r.chunks_exact_mut(k).zip(xs.chunks_exact(k)).enumerate() {
        rn.iter_mut().for_each(|v| *v = -*v);
        let conf = row(n).1;
        let weights = |j: usize| {
            let (c, p) = Confidence::split(conf[j]);
            (c * p, 1.0 - c)
        };
        row_product(y, row(n).0, copy(n), weights, xn, rn);
        rs[n] = dot(rn, rn);
        active[n] = rs[n] >= 1e-20;
    }
    p.copy_from_slice(r);
    for _ in 0..steps {
        if !active.iter().any(|&a| a) {
            return;
        }
        // ap = A p
        sym_matmul(yty, k, p, m, ap);
        let vectors = xs
            .chunks_exact_mut(k)
            .zip(r.chunks_exact_mut(k))
            .zip(p.chunks_exact_mut(k).zip(ap.chunks_exact_mut(k)));
        for (n, ((xn, rn), (pn, apn))) in vectors.enumerate() {
            if !active[n] {
                continue;
            }
            let conf = row(n).1;
            let weights = |j: usize| (0.0, Confidence::split(conf[j]).0 - 1.0);
            row_product(y, row(n).0, copy(n), weights, pn, apn);
            let p_ap = dot(pn, apn);
            if p_ap <= 0.0 || !p_ap.is_finite() {
                active[n] = false;
                continue;
            }
            let a = rs[n] / p_ap;
            axpy(a, pn, xn);
            axpy(-a, apn, rn);
            let rs_new = dot(rn, rn);
            if rs_new < 1e-20 {
                active[n] = false;
                continue;
            }
            let beta = rs_new / rs[n];
            for (p, r) in pn.iter_mut().zip(rn.iter()) {
                *p = r + beta * *p;
            }
            rs[n] = rs_new;
        }
    }
}

/// `Σ_j (base_j + scale_j (y_j · v)) y_j` over the vectors `y_j` of the fixed side that `idx`
/// lists, read from their gathered copy when there is one (both give the same bits).
#[inline]
fn row_product(
    y: &[f32],
    idx: &[u32],
    copy: Option<&[f32]>,
    weights: impl Fn(usize) -> (f32, f32),
    v: &[f32],
    out: &mut [f32],
) {
    match copy {
        Some(rows) => packed_gemv(rows, weights, v, out),
        None => sparse_gemv(y, idx, weights, v, out),
    }
}

/// Floats of fixed-side vectors a block gathers at most (16 MiB, per thread): the block's
/// rows then read them in order, from the cache or at least sequentially, instead of from
/// random places of the fixed matrix. Bigger than the L2 cache on purpose: the item side's
/// blocks often gather several MB (popular items have tens of thousands of users), and even
/// a copy that falls out to L3 or memory is read far faster than the scattered originals (at
/// 10M interactions, 16 MiB made the item side about 13 % faster than 4 MiB).
const GATHER_FLOATS: usize = 4 << 20;

/// Copies the fixed side's vectors of the block's rows (`rows(n)` lists row `n`'s) one after
/// the other into `packed`, row by row while they fit in `budget` floats; `start[n]` tells
/// where row `n`'s begin, or `None` for a row left out (too long for what remains).
///
/// Each CG step reads every row's vectors again: for the item side these are random rows of
/// the user matrix, far bigger than the cache, so reading them from the copy saves a trip to
/// memory per vector and step.
fn gather<'r>(
    y: &[f32],
    k: usize,
    rows: impl Fn(usize) -> &'r [u32],
    start: &mut [Option<usize>],
    packed: &mut Vec<f32>,
    budget: usize,
) {
    packed.clear();
    for (n, start) in start.iter_mut().enumerate() {
        let idx = rows(n);
        *start = None;
        if packed.len() + idx.len() * k <= budget {
            *start = Some(packed.len());
            for &i in idx {
                let i = i as usize;
                packed.extend_from_slice(&y[i * k..(i + 1) * k]);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::linalg::sym_matvec;
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
    fn gathering_does_not_change_a_bit() {
        // Rows of 0 to 40 vectors, some repeated, solved with everything gathered, nothing
        // gathered, and a budget that fits only some rows.
        let (k, n_fixed, m) = (13, 50, 37);
        let mut rng = Rng::new(4);
        let y: Vec<f32> = (0..n_fixed * k).map(|_| rng.next_f32() - 0.5).collect();
        let mut yty: Vec<f32> = gram(&y, k).into_iter().map(|v| v as f32).collect();
        for d in 0..k {
            yty[d * k + d] += 0.1;
        }
        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..m)
            .map(|n| {
                let len = (n * 7) % 41;
                let idx: Vec<u32> = (0..len).map(|_| rng.below(n_fixed) as u32).collect();
                let conf = (0..len)
                    .map(|j| {
                        if j % 3 == 0 {
                            -2.0
                        } else {
                            1.0 + 4.0 * rng.next_f32()
                        }
                    })
                    .collect();
                (idx, conf)
            })
            .collect();
        let x0: Vec<f32> = (0..m * k).map(|_| rng.next_f32() * 0.1).collect();
        let solve = |budget: usize| {
            let mut s = Scratch::new(k);
            s.budget = budget;
            let mut x = x0.clone();
            let row = |n: usize| (&rows[n].0[..], &rows[n].1[..]);
            cg_block(&mut x, k, &yty, &y, row, 3, &mut s);
            let gathered = s.start[..m].iter().filter(|s| s.is_some()).count();
            (x, gathered)
        };
        let (all, n_all) = solve(usize::MAX);
        let (none, n_none) = solve(0);
        let (some, n_some) = solve(60 * k);
        assert_eq!(
            (n_all, n_none),
            (m, 1),
            "only the empty row fits in nothing"
        );
        assert!(1 < n_some && n_some < m, "{n_some}");
        let bits = |v: &[f32]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&all), bits(&none));
        assert_eq!(bits(&some), bits(&none));
        assert_ne!(all, x0);
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
        let mut s = Scratch::new(k);
        cg_block(&mut x, k, &yty, &y, |_| (&idx[..], &conf[..]), 10, &mut s);
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
