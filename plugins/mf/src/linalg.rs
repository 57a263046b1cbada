//! Dense kernels over `f32` slices: dot products, axpy, the Gram matrix `YᵀY`, and the
//! products `X Yᵀ` that score a block of users against a tile of items.
//!
//! The per-vector kernels are written so that the compiler vectorises them (eight independent
//! accumulators, no bounds checks in the loop); the Gram matrix goes through nalgebra's `gemm`,
//! which calls the pure-Rust `matrixmultiply` kernels.

use nalgebra::{Dyn, MatrixView, MatrixViewMut};
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

/// `out += Σ_n coef_n y_n` with `coef_n = base_n + scale_n (y_n · v)`, for the rows `y_n` of the
/// row-major matrix `y` (`k = v.len()` values per row) listed in `rows`; `weights(n)` gives
/// `(base_n, scale_n)`.
///
/// This is the sparse half of an ALS matrix-vector product, `Σ_i (c_i − 1) (y_i · v) y_i` (and,
/// with a base, the right-hand side). Rows go four at a time: four independent dot products
/// share the loads of `v` and keep the adder pipelines busy, and one pass over `out` adds all
/// four rows. Every loop runs over fixed-size eight-lane chunks, so the compiler vectorises it
/// without bounds checks.
#[inline]
pub fn sparse_gemv(
    y: &[f32],
    rows: &[u32],
    weights: impl Fn(usize) -> (f32, f32),
    v: &[f32],
    out: &mut [f32],
) {
    let k = v.len();
    let row = |n: usize| {
        let i = rows[n] as usize;
        &y[i * k..(i + 1) * k]
    };
    rows_gemv(row, rows.len(), weights, v, out);
}

/// [`sparse_gemv`] over rows stored one after the other in `rows` (`k = v.len()` values each):
/// the `n`-th row of `rows` takes the place of `y_{rows[n]}`, with the same arithmetic, so that
/// the result is bit for bit the same as `sparse_gemv` over the rows they were copied from.
///
/// A solver that runs several products over the same rows copies (gathers) them once and
/// reads the copy, contiguous and cache-resident, instead of the big matrix every time.
#[inline]
pub fn packed_gemv(
    rows: &[f32],
    weights: impl Fn(usize) -> (f32, f32),
    v: &[f32],
    out: &mut [f32],
) {
    let k = v.len();
    let n = rows.len().checked_div(k).unwrap_or(0);
    rows_gemv(|j: usize| &rows[j * k..(j + 1) * k], n, weights, v, out);
}

/// The loop of [`sparse_gemv`] and [`packed_gemv`]: `row(n)` for `n < len` gives the rows.
#[inline(always)]
fn rows_gemv<'y>(
    row: impl Fn(usize) -> &'y [f32],
    len: usize,
    weights: impl Fn(usize) -> (f32, f32),
    v: &[f32],
    out: &mut [f32],
) {
    let coef = |n: usize, d: f32| {
        let (base, scale) = weights(n);
        base + scale * d
    };
    let quads = len / 4 * 4;
    for n in (0..quads).step_by(4) {
        let (y0, y1, y2, y3) = (row(n), row(n + 1), row(n + 2), row(n + 3));
        let d = dot4([y0, y1, y2, y3], v);
        let c = [
            coef(n, d[0]),
            coef(n + 1, d[1]),
            coef(n + 2, d[2]),
            coef(n + 3, d[3]),
        ];
        axpy4(c, [y0, y1, y2, y3], out);
    }
    for n in quads..len {
        let yn = row(n);
        axpy(coef(n, dot(yn, v)), yn, out);
    }
}

/// `out[n] = y_n · v` for the rows of the row-major matrix `y` (`v.len()` values per row), four
/// rows at a time; each value equals `dot(y_n, v)` exactly.
pub fn dots(y: &[f32], v: &[f32], out: &mut [f32]) {
    let k = v.len();
    let mut rows = y.chunks_exact(k);
    let mut quads = out.chunks_exact_mut(4);
    for o in &mut quads {
        let (Some(a), Some(b), Some(c), Some(d)) =
            (rows.next(), rows.next(), rows.next(), rows.next())
        else {
            return;
        };
        o.copy_from_slice(&dot4([a, b, c, d], v));
    }
    for (o, r) in quads.into_remainder().iter_mut().zip(rows) {
        *o = dot(r, v);
    }
}

/// The dot products of four rows with `v` (all of `v`'s length).
#[inline]
fn dot4(rows: [&[f32]; 4], v: &[f32]) -> [f32; 4] {
    let k = v.len();
    let [a, b, c, d] = rows.map(|r| &r[..k]);
    let (mut sa, mut sb, mut sc, mut sd) = ([0.0f32; 8], [0.0f32; 8], [0.0f32; 8], [0.0f32; 8]);
    let chunks = a
        .chunks_exact(8)
        .zip(b.chunks_exact(8))
        .zip(c.chunks_exact(8).zip(d.chunks_exact(8)))
        .zip(v.chunks_exact(8));
    for (((a, b), (c, d)), v) in chunks {
        let v: &[f32; 8] = v.try_into().unwrap();
        lanes_fma(&mut sa, a.try_into().unwrap(), v);
        lanes_fma(&mut sb, b.try_into().unwrap(), v);
        lanes_fma(&mut sc, c.try_into().unwrap(), v);
        lanes_fma(&mut sd, d.try_into().unwrap(), v);
    }
    let mut out = lane_sums(&[sa, sb, sc, sd]);
    let tail = k / 8 * 8;
    for (o, r) in out.iter_mut().zip([a, b, c, d]) {
        let t: f32 = r[tail..].iter().zip(&v[tail..]).map(|(x, y)| x * y).sum();
        *o += t;
    }
    out
}

/// The sums of the lanes of four accumulators, each added up in lane order from the value an
/// empty `f32` sum has, so that each equals `acc.iter().sum()` exactly; the four run side by
/// side, instead of four dependent chains one after the other. Not inlined: seeing the sums,
/// LLVM vectorises the accumulation loops of [`dot4`] across the rows instead of along them,
/// with shuffles.
#[inline(never)]
fn lane_sums(acc: &[[f32; 8]; 4]) -> [f32; 4] {
    let empty: f32 = [0.0f32; 0].iter().sum();
    let mut sums = [empty; 4];
    for l in 0..8 {
        for (s, a) in sums.iter_mut().zip(acc) {
            *s += a[l];
        }
    }
    sums
}

/// `acc += a * b`, lane by lane.
#[inline(always)]
fn lanes_fma(acc: &mut [f32; 8], a: &[f32; 8], b: &[f32; 8]) {
    for l in 0..8 {
        acc[l] += a[l] * b[l];
    }
}

/// `out += Σ_j c_j rows_j` over `out`'s length. One element-wise loop over five slices: the
/// compiler vectorises it along the rows (chunked loops get vectorised across the chunks).
#[inline]
fn axpy4(c: [f32; 4], rows: [&[f32]; 4], out: &mut [f32]) {
    let k = out.len();
    let [a, b, d, e] = rows.map(|r| &r[..k]);
    let columns = a.iter().zip(b).zip(d.iter().zip(e));
    for (o, ((a, b), (d, e))) in out.iter_mut().zip(columns) {
        *o += (c[0] * a + c[1] * b) + (c[2] * d + c[3] * e);
    }
}

/// `out = M V` for a symmetric row-major `k x k` matrix `m` and `cols` vectors of length `k`
/// stored one after the other in `v` (a column-major `k x cols` matrix), written the same way
/// to `out`. One matrix product (runtime-dispatched SIMD kernels of `matrixmultiply`) instead
/// of `cols` matrix-vector products.
pub fn sym_matmul(m: &[f32], k: usize, v: &[f32], cols: usize, out: &mut [f32]) {
    let (v, out) = (&v[..k * cols], &mut out[..k * cols]);
    let m = StridedView::from_slice_with_strides(m, k, k, 1, k);
    let v = StridedView::from_slice_with_strides(v, k, cols, 1, k);
    let mut out = StridedViewMut::from_slice_with_strides_mut(out, k, cols, 1, k);
    out.gemm(1.0, &m, &v, 0.0);
}

/// `out = X Yᵀ + beta out` for the row-major `m x k` matrix `x` and `n x k` matrix `y`
/// (`k = factors`), with `out` the row-major `m x n` matrix (each row of `x` against every row
/// of `y`). One matrix product (the runtime-dispatched SIMD kernels of `matrixmultiply`): it
/// loads each row of `y` once for all the rows of `x`. With `beta = 0`, `out` is not read.
/// Products with a dimension below [`GEMM_MIN_DIM`] are computed with [`dot`].
pub fn gemm_nt(x: &[f32], y: &[f32], factors: usize, beta: f32, out: &mut [f32]) {
    let (m, n) = (x.len() / factors, y.len() / factors);
    if m.min(n).min(factors) < GEMM_MIN_DIM {
        let rows = out.chunks_exact_mut(n).zip(x.chunks_exact(factors));
        for (row, x) in rows {
            for (o, y) in row.iter_mut().zip(y.chunks_exact(factors)) {
                let old = if beta == 0.0 { 0.0 } else { beta * *o };
                *o = dot(x, y) + old;
            }
        }
        return;
    }
    let x = StridedView::from_slice_with_strides(x, m, factors, factors, 1);
    // The row-major n x k matrix `y` read column-major is `Yᵀ`.
    let yt = StridedView::from_slice_with_strides(y, factors, n, 1, factors);
    let mut out = StridedViewMut::from_slice_with_strides_mut(&mut out[..m * n], m, n, n, 1);
    out.gemm(1.0, &x, &yt, beta);
}

/// The smallest dimension [`gemm_nt`] hands to nalgebra. nalgebra 0.33 multiplies matrices
/// with a dimension of 5 or less with its own loops, which step out of bounds on views whose
/// rows are strided, as `gemm_nt`'s are (dimforge/nalgebra#1616); larger ones go to
/// `matrixmultiply`, which takes any strides.
pub const GEMM_MIN_DIM: usize = 8;

/// A dense view with run-time strides.
type StridedView<'a> = MatrixView<'a, f32, Dyn, Dyn, Dyn, Dyn>;
/// A mutable dense view with run-time strides.
type StridedViewMut<'a> = MatrixViewMut<'a, f32, Dyn, Dyn, Dyn, Dyn>;

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
    fn row_kernels_match_dot_and_axpy() {
        let mut rng = Rng::new(5);
        for k in [1, 3, 8, 13, 64] {
            let n = 11;
            let y: Vec<f32> = (0..n * k).map(|_| rng.next_f32() - 0.5).collect();
            let v: Vec<f32> = (0..k).map(|_| rng.next_f32() - 0.5).collect();
            let row = |i: usize| &y[i * k..(i + 1) * k];
            // `dots` gives exactly `dot`, row by row.
            let mut out = vec![0.0; n];
            dots(&y, &v, &mut out);
            for (i, &o) in out.iter().enumerate() {
                assert_eq!(o, dot(row(i), &v), "k = {k}, row {i}");
            }
            // `sparse_gemv` over rows listed with repeats, against dot + axpy.
            let rows = [3u32, 0, 7, 7, 10, 1, 5];
            let weights = |j: usize| (j as f32 * 0.5, 1.0 - j as f32 * 0.25);
            let mut got = vec![0.1; k];
            sparse_gemv(&y, &rows, weights, &v, &mut got);
            let mut want = vec![0.1; k];
            for (j, &i) in rows.iter().enumerate() {
                let (base, scale) = weights(j);
                axpy(
                    base + scale * dot(row(i as usize), &v),
                    row(i as usize),
                    &mut want,
                );
            }
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "k = {k}: {got:?} vs {want:?}");
            }
            // `packed_gemv` over the same rows copied one after the other: the same bits.
            let packed: Vec<f32> = rows
                .iter()
                .flat_map(|&i| row(i as usize))
                .copied()
                .collect();
            let mut from_copy = vec![0.1; k];
            packed_gemv(&packed, weights, &v, &mut from_copy);
            assert_eq!(from_copy, got, "k = {k}");
            // `sym_matmul` against `sym_matvec`, column by column.
            let m: Vec<f32> = (0..k * k)
                .map(|i| ((i / k) * (i % k)) as f32 * 0.01)
                .collect();
            let mut prod = vec![0.0; n * k];
            sym_matmul(&m, k, &y, n, &mut prod);
            for i in 0..n {
                let mut want = vec![0.0; k];
                sym_matvec(&m, row(i), &mut want);
                for (g, w) in prod[i * k..(i + 1) * k].iter().zip(&want) {
                    assert!((g - w).abs() < 1e-4, "k = {k}, column {i}");
                }
            }
        }
    }

    #[test]
    fn gemm_nt_matches_dots() {
        let mut rng = Rng::new(11);
        // Small shapes take `dot`, larger ones `matrixmultiply`.
        for (m, n, k) in [(3, 4, 2), (1, 9, 64), (9, 37, 13), (17, 70, 64), (8, 8, 8)] {
            let x: Vec<f32> = (0..m * k).map(|_| rng.next_f32() - 0.5).collect();
            let y: Vec<f32> = (0..n * k).map(|_| rng.next_f32() - 0.5).collect();
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.1).collect();
            let mut out: Vec<f32> = bias.iter().copied().cycle().take(m * n).collect();
            gemm_nt(&x, &y, k, 1.0, &mut out);
            let mut zero = vec![f32::NAN; m * n];
            gemm_nt(&x, &y, k, 0.0, &mut zero);
            for (r, (row, row0)) in out.chunks_exact(n).zip(zero.chunks_exact(n)).enumerate() {
                let mut want = vec![0.0; n];
                dots(&y, &x[r * k..(r + 1) * k], &mut want);
                for j in 0..n {
                    assert!((row[j] - want[j] - bias[j]).abs() < 1e-5, "{m}x{n}x{k}");
                    assert!((row0[j] - want[j]).abs() < 1e-5, "{m}x{n}x{k}");
                }
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
