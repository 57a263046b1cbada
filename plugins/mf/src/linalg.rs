//! Dense kernels over `f32` slices: dot products, axpy, and the Gram matrix `YᵀY`.
//!
//! The per-vector kernels are written so that the compiler vectorises them (eight independent
//! accumulators, no bounds checks in the loop); the Gram matrix goes through nalgebra's `gemm`,
//! which calls the pure-Rust `matrixmultiply` kernels.

use nalgebra::{Dyn, MatrixView};
use rayon::prelude::*;

/// `a · b` over the common length.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        // Fixed-size arrays: no bounds checks; the loop becomes two 4-lane multiply-adds.
        let (x, y): (&[f32; 8], &[f32; 8]) = (x.try_into().unwrap(), y.try_into().unwrap());
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    // A plain sum: a hand-written pairwise reduction here makes LLVM split the loop above
    // into 2-lane operations.
    acc.iter().sum::<f32>() + tail
}

/// `y += a * x` over the common length.
#[inline]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// `out = M v` for a row-major `k x k` matrix `m`.
#[inline]
pub fn sym_matvec(m: &[f32], v: &[f32], out: &mut [f32]) {
    let k = v.len();
    for (o, row) in out.iter_mut().zip(m.chunks_exact(k)) {
        *o = dot(row, v);
    }
}

/// A dense view with run-time strides.
type StridedView<'a> = MatrixView<'a, f32, Dyn, Dyn, Dyn, Dyn>;

/// Rows per partial Gram matrix; a constant, so that the sum (and the model) does not depend on
/// the number of threads.
const GRAM_CHUNK: usize = 4096;

/// `YᵀY` of the row-major `n x k` matrix `y`, as a row-major `k x k` matrix (symmetric), summed
/// in `f64`. Chunks of rows are multiplied in parallel and their partial sums added in order.
pub fn gram(y: &[f32], k: usize) -> Vec<f64> {
    let partials: Vec<Vec<f32>> = y
        .par_chunks(GRAM_CHUNK * k)
        .map(|chunk| {
            let n = chunk.len() / k;
            // The row-major n x k chunk is a column-major k x n matrix `Yc^T`, and also (with
            // swapped strides) the n x k matrix `Yc`.
            let yt = StridedView::from_slice_with_strides(chunk, k, n, 1, k);
            let yc = StridedView::from_slice_with_strides(chunk, n, k, k, 1);
            let mut g = nalgebra::DMatrix::<f32>::zeros(k, k);
            g.gemm(1.0, &yt, &yc, 0.0);
            // Symmetric, so column-major and row-major agree.
            g.as_slice().to_vec()
        })
        .collect();
    let mut total = vec![0.0f64; k * k];
    for p in partials {
        for (t, v) in total.iter_mut().zip(p) {
            *t += f64::from(v);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn dot_and_axpy_match_the_naive_loops() {
        let mut rng = Rng::new(3);
        for n in [0, 1, 7, 8, 9, 64, 67] {
            let a: Vec<f32> = (0..n).map(|_| rng.next_f32() - 0.5).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.next_f32() - 0.5).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-5, "n = {n}");
            let mut y = b.clone();
            axpy(2.0, &a, &mut y);
            for i in 0..n {
                assert_eq!(y[i], b[i] + 2.0 * a[i]);
            }
        }
    }

    #[test]
    fn gram_matches_the_naive_product() {
        let (n, k) = (GRAM_CHUNK + 37, 5);
        let mut rng = Rng::new(9);
        let y: Vec<f32> = (0..n * k).map(|_| rng.next_f32() - 0.5).collect();
        let g = gram(&y, k);
        for a in 0..k {
            for b in 0..k {
                let naive: f64 = (0..n)
                    .map(|i| f64::from(y[i * k + a]) * f64::from(y[i * k + b]))
                    .sum();
                assert!((g[a * k + b] - naive).abs() < 1e-3, "({a}, {b})");
            }
        }
        let m = [2.0, 1.0, 1.0, 3.0];
        let mut out = [0.0; 2];
        sym_matvec(&m, &[1.0, 2.0], &mut out);
        assert_eq!(out, [4.0, 7.0]);
    }
}
