//! Cosine similarity with shrinkage, the raw dot product, or RP3beta, by sparse products.
//!
//! The similarities of a vector `q` to every row of a matrix `M` are the product `q Mᵀ`:
//! for each of `q`'s terms, walk that term's row of `Mᵀ` (the rows of `M` that contain it) and
//! accumulate. Doing this for every row of `M` is the sparse product `M Mᵀ` computed row by row
//! (Gustavson's algorithm), which keeps only the touched entries of one row in memory at a time,
//! runs rows in parallel with rayon and truncates each row to its best neighbours as it goes:
//! the full product, which can be dense, is never stored. Item-kNN uses it with `M = Xᵀ`
//! (`Xᵀ X`), user-kNN with `M = X` (`X Xᵀ`), one row per query.
//!
//! RP3beta (Paudel et al. 2017) is the same product on transition probabilities: with
//! `P(u|i) = x_ui / Σ_u' x_u'i` (an item's users, summing to 1) and `P(j|u) = x_uj / Σ_j' x_uj'`
//! (a user's items, summing to 1), `W[i, j] = Σ_u P(u|i)^α P(j|u)^α / pop(j)^β`, where `pop(j)`
//! is the number of users who interacted with `j`. The index holds `P(j|u)^α` (documents =
//! items, terms = users), item `i`'s query is its `P(u|i)^α`, and each document's dot product is
//! scaled by `pop(j)^-β`; `W` is not symmetric.

use std::cmp::Ordering;

use rayon::prelude::*;

use crate::accumulator::Accumulator;
use crate::matrix::{row, transpose, Csr};

/// How two weighted vectors are compared (`similarity`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Similarity {
    /// `a·b / (|a| |b| + shrinkage)` (parameter value `cosine`, the default).
    Cosine,
    /// `a·b`, as implicit's `BM25Recommender` and `TFIDFRecommender` rank (parameter value
    /// `dot`): with BM25 weighting, the document-length normalisation then matters.
    Dot,
    /// RP3beta, item mode only (parameter value `rp3beta`): `W[i, j] = Σ_u P(u|i)^alpha
    /// P(j|u)^alpha / pop(j)^beta`, a two-step random walk item → user → item with its
    /// transition probabilities raised to `alpha` and its destination divided by the
    /// destination's popularity to the power `beta` (see the module documentation).
    Rp3Beta {
        /// Exponent of the transition probabilities, > 0 (`rp3_alpha`, default 0.5).
        alpha: f32,
        /// Popularity penalty exponent, >= 0 (`rp3_beta`, default 0.1); 0 gives P3alpha.
        beta: f32,
    },
}

impl Similarity {
    /// Parameter value `cosine`, `dot` or `rp3beta` (RP3beta with the given `alpha` and
    /// `beta`).
    pub fn parse(name: &str, alpha: f32, beta: f32) -> Option<Self> {
        match name {
            "cosine" => Some(Similarity::Cosine),
            "dot" => Some(Similarity::Dot),
            "rp3beta" => Some(Similarity::Rp3Beta { alpha, beta }),
            _ => None,
        }
    }

    /// The parameter value naming this similarity.
    pub fn as_str(self) -> &'static str {
        match self {
            Similarity::Cosine => "cosine",
            Similarity::Dot => "dot",
            Similarity::Rp3Beta { .. } => "rp3beta",
        }
    }
}

/// `dot / (norm_a * norm_b + shrinkage)` when it is positive and finite.
pub(crate) fn cosine(dot: f32, norm_a: f32, norm_b: f32, shrinkage: f32) -> Option<f32> {
    let denom = norm_a * norm_b + shrinkage;
    let sim = dot / denom;
    (denom > 0.0 && sim > 0.0 && sim.is_finite()).then_some(sim)
}

/// Euclidean norm of a vector's values.
pub(crate) fn norm(values: &[f32]) -> f32 {
    values.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// Orders `(index, similarity)` pairs best first: higher similarity, then lower index.
pub(crate) fn best_first(a: &(u32, f32), b: &(u32, f32)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// Keeps the `k` best pairs (see [`best_first`]), in no particular order.
pub(crate) fn keep_best(pairs: &mut Vec<(u32, f32)>, k: usize) {
    if pairs.len() > k {
        pairs.select_nth_unstable_by(k, best_first);
        pairs.truncate(k);
    }
}

/// The rows of a matrix ("documents") prepared for similarity queries: the transpose (an
/// inverted index from term to documents) and what turns a dot product into the similarity.
#[derive(Debug, Clone)]
pub(crate) struct CosineIndex {
    /// Terms x documents.
    by_term: Csr,
    scale: Scale,
}

/// How a query's dot product with a document becomes their similarity.
#[derive(Debug, Clone)]
enum Scale {
    /// `dot / (|q| |d| + shrinkage)`, with the documents' norms.
    Cosine { norms: Vec<f32>, shrinkage: f32 },
    /// `dot` as it is.
    Dot,
    /// `dot * factors[d]` (RP3beta: `pop(d)^-beta`).
    PerDocument(Vec<f32>),
}

impl CosineIndex {
    /// Indexes the rows of `docs` (documents x terms), compared by `similarity` (`shrinkage`
    /// applies to the cosine).
    ///
    /// # Panics
    /// If `similarity` is [`Similarity::Rp3Beta`], whose queries are not the indexed rows:
    /// [`rp3beta`] builds that index. [`Config`](crate::Config) refuses RP3beta where this
    /// constructor is used (user mode).
    pub(crate) fn new(docs: &Csr, shrinkage: f32, similarity: Similarity) -> Self {
        let scale = match similarity {
            Similarity::Cosine => Scale::Cosine {
                norms: (0..docs.rows()).map(|d| norm(row(docs, d).1)).collect(),
                shrinkage,
            },
            Similarity::Dot => Scale::Dot,
            Similarity::Rp3Beta { .. } => {
                panic!("RP3beta indexes are built by `rp3beta`, not `CosineIndex::new`")
            }
        };
        CosineIndex {
            by_term: transpose(docs),
            scale,
        }
    }

    /// The indexed matrix, transposed (terms x documents).
    pub(crate) fn by_term(&self) -> &Csr {
        &self.by_term
    }

    /// The similarities of the vector (`terms`, `values`) to every document with a
    /// positive one, except `skip`, in no particular order. `terms` must be columns of the
    /// indexed matrix.
    pub(crate) fn query(
        &self,
        terms: &[u32],
        values: &[f32],
        skip: Option<u32>,
        acc: &mut Accumulator,
    ) -> Vec<(u32, f32)> {
        self.similarities(terms, values, skip, acc).collect()
    }

    /// The `k` documents most similar to the vector (`terms`, `values`) (see [`best_first`]),
    /// except `skip`, sorted by index: [`query`](Self::query) then [`keep_best`], without
    /// allocating more than the result (`candidates` is scratch space).
    pub(crate) fn nearest(
        &self,
        terms: &[u32],
        values: &[f32],
        skip: Option<u32>,
        k: usize,
        acc: &mut Accumulator,
        candidates: &mut Vec<(u32, f32)>,
    ) -> Vec<(u32, f32)> {
        candidates.clear();
        if k == 0 {
            return Vec::new();
        }
        // Once `k` candidates reach `floor`, a lower similarity cannot enter: trim to the best
        // `k` now and then, and skip what falls below the last trim's worst (ties stay, for
        // `best_first` to break by index).
        let mut floor = 0.0f32;
        for (d, sim) in self.similarities(terms, values, skip, acc) {
            if sim >= floor {
                candidates.push((d, sim));
                if candidates.len() >= 2 * k + 64 {
                    keep_best(candidates, k);
                    floor = candidates
                        .iter()
                        .map(|&(_, s)| s)
                        .fold(f32::INFINITY, f32::min);
                }
            }
        }
        keep_best(candidates, k);
        candidates.sort_unstable_by_key(|&(j, _)| j);
        candidates.to_vec()
    }

    /// The positive similarities behind [`query`](Self::query).
    fn similarities<'a>(
        &'a self,
        terms: &[u32],
        values: &[f32],
        skip: Option<u32>,
        acc: &'a mut Accumulator,
    ) -> impl Iterator<Item = (u32, f32)> + 'a {
        acc.reset(self.by_term.cols());
        for (&t, &q) in terms.iter().zip(values) {
            let (docs, weights) = row(&self.by_term, t as usize);
            for (&d, &w) in docs.iter().zip(weights) {
                acc.add(d, q * w);
            }
        }
        let q_norm = match self.scale {
            Scale::Cosine { .. } => norm(values),
            Scale::Dot | Scale::PerDocument(_) => 0.0,
        };
        acc.iter()
            .filter(move |&(d, _)| Some(d) != skip)
            .filter_map(move |(d, dot)| {
                let sim = match &self.scale {
                    Scale::Cosine { norms, shrinkage } => {
                        cosine(dot, q_norm, norms[d as usize], *shrinkage)?
                    }
                    Scale::Dot => dot,
                    Scale::PerDocument(factors) => dot * factors[d as usize],
                };
                (sim > 0.0 && sim.is_finite()).then_some((d, sim))
            })
    }
}

/// The `k` nearest neighbours of every row of `docs` (documents x terms) by `similarity`
/// (cosine with `shrinkage`, or dot), excluding the row itself and non-positive similarities:
/// a documents x documents matrix whose row `d` holds `d`'s neighbours.
///
/// # Panics
/// If `similarity` is [`Similarity::Rp3Beta`] (see [`rp3beta`]).
pub(crate) fn knn(docs: &Csr, shrinkage: f32, similarity: Similarity, k: usize) -> Csr {
    neighbours(docs, &CosineIndex::new(docs, shrinkage, similarity), k)
}

/// The RP3beta neighbourhoods of the items of `items` (items x users, the weighted `Xᵀ`): row
/// `i` holds the `k` largest positive `W[i, j]`, `j != i`, with
/// `W[i, j] = Σ_u P(u|i)^alpha P(j|u)^alpha / pop(j)^beta` (see the module documentation).
///
/// Values that are not positive (which TF-IDF or BM25 weighting can produce) take no part in
/// the transition probabilities; `pop(j)` counts `j`'s stored interactions, positive or not.
pub(crate) fn rp3beta(items: &Csr, alpha: f32, beta: f32, k: usize) -> Csr {
    // powf once per stored value: P(u|i)^alpha for the queries, P(j|u)^alpha for the index.
    let queries = transition_powers(items, alpha);
    let by_term = transition_powers(&transpose(items), alpha);
    let factors = (0..items.rows())
        .map(|j| match items.indptr().outer_inds_sz(j).len() {
            0 => 0.0,
            pop => (pop as f32).powf(-beta),
        })
        .collect();
    let index = CosineIndex {
        by_term,
        scale: Scale::PerDocument(factors),
    };
    neighbours(&queries, &index, k)
}

/// Each row of `m` divided by the sum of its positive values, then raised to `alpha`, with the
/// other values dropped: the transition probabilities of a walk from a row to its columns.
fn transition_powers(m: &Csr, alpha: f32) -> Csr {
    let mut indptr = Vec::with_capacity(m.rows() + 1);
    indptr.push(0);
    let (mut indices, mut data) = (Vec::with_capacity(m.nnz()), Vec::with_capacity(m.nnz()));
    for r in 0..m.rows() {
        let (cols, values) = row(m, r);
        let total: f32 = values.iter().filter(|&&v| v > 0.0).sum();
        for (&c, &v) in cols.iter().zip(values) {
            if v > 0.0 {
                let p = v / total;
                // `alpha == 1` is the common case and stays exact without a call to `powf`.
                let p = if alpha == 1.0 { p } else { p.powf(alpha) };
                if p > 0.0 && p.is_finite() {
                    indices.push(c);
                    data.push(p);
                }
            }
        }
        indptr.push(indices.len());
    }
    Csr::try_new(m.shape(), indptr, indices, data)
        .unwrap_or_else(|_| unreachable!("a subset of a valid matrix's pattern is valid"))
}

/// The `k` nearest neighbours in `index` of every row `d` of `queries` (except `d` itself),
/// computed in parallel: a rows x documents matrix (square: query `d` is document `d`).
fn neighbours(queries: &Csr, index: &CosineIndex, k: usize) -> Csr {
    let n = queries.rows();
    let n_docs = index.by_term.cols();
    let rows: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (Accumulator::new(n_docs), Vec::new()),
            |(acc, candidates), d| {
                let (terms, values) = row(queries, d);
                index.nearest(terms, values, Some(d as u32), k, acc, candidates)
            },
        )
        .collect();
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0);
    let nnz = rows.iter().map(Vec::len).sum();
    let (mut indices, mut sims) = (Vec::with_capacity(nnz), Vec::with_capacity(nnz));
    for r in rows {
        indices.extend(r.iter().map(|&(j, _)| j));
        sims.extend(r.iter().map(|&(_, s)| s));
        indptr.push(indices.len());
    }
    Csr::try_new((n, n_docs), indptr, indices, sims)
        .unwrap_or_else(|_| unreachable!("rows are sorted and in range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::tests::dense;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    /// Rows 0..3 as documents over 4 terms.
    fn docs() -> Csr {
        dense(&[
            &[1.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 1.0, 0.0],
            &[0.0, 0.0, 1.0, 1.0],
            &[0.0, 0.0, 0.0, 1.0],
        ])
    }

    fn sim(m: &Csr, a: usize, b: usize) -> Option<f32> {
        m.get(a, b).copied()
    }

    #[test]
    fn cosine_matches_hand_computation() {
        let s = knn(&docs(), 0.0, Similarity::Cosine, 10);
        // |d0| = sqrt 2, |d1| = sqrt 3, |d2| = sqrt 2, |d3| = 1.
        assert!(close(sim(&s, 0, 1).unwrap(), 2.0 / 6f32.sqrt()));
        assert!(close(sim(&s, 1, 2).unwrap(), 1.0 / 6f32.sqrt()));
        assert!(close(sim(&s, 2, 3).unwrap(), 1.0 / 2f32.sqrt()));
        assert_eq!(sim(&s, 0, 2), None); // no common term
        assert_eq!(sim(&s, 0, 0), None); // never itself
                                         // Symmetric when nothing is truncated.
        for a in 0..4 {
            for b in 0..4 {
                assert_eq!(sim(&s, a, b), sim(&s, b, a));
            }
        }
    }

    #[test]
    fn dot_similarity_is_the_raw_product_and_ignores_shrinkage() {
        let s = knn(&docs(), 5.0, Similarity::Dot, 10);
        assert!(close(sim(&s, 0, 1).unwrap(), 2.0));
        assert!(close(sim(&s, 1, 2).unwrap(), 1.0));
        assert!(close(sim(&s, 2, 3).unwrap(), 1.0));
        assert_eq!(sim(&s, 0, 2), None);
        assert_eq!(sim(&s, 1, 1), None);
    }

    #[test]
    fn shrinkage_damps_weakly_supported_similarities() {
        let s = knn(&docs(), 1.0, Similarity::Cosine, 10);
        assert!(close(sim(&s, 0, 1).unwrap(), 2.0 / (6f32.sqrt() + 1.0)));
        assert!(close(sim(&s, 2, 3).unwrap(), 1.0 / (2f32.sqrt() + 1.0)));
        assert!(
            sim(&s, 0, 1).unwrap()
                < knn(&docs(), 0.0, Similarity::Cosine, 10)
                    .get(0, 1)
                    .copied()
                    .unwrap()
        );
    }

    #[test]
    fn keeps_only_the_best_neighbours() {
        let s = knn(&docs(), 0.0, Similarity::Cosine, 1);
        // d1's neighbours: d0 (0.816) and d2 (0.408): only d0 stays.
        assert_eq!(crate::matrix::row(&s, 1).0, &[0]);
        // d2's neighbours: d3 (0.707), d1 (0.408).
        assert_eq!(crate::matrix::row(&s, 2).0, &[3]);
        assert!((0..4).all(|r| crate::matrix::row(&s, r).0.len() <= 1));
        // Ties go to the lower index.
        let tied = dense(&[&[1.0, 0.0], &[1.0, 0.0], &[1.0, 0.0]]);
        assert_eq!(
            crate::matrix::row(&knn(&tied, 0.0, Similarity::Cosine, 1), 2).0,
            &[0]
        );
    }

    #[test]
    fn agrees_with_the_sprs_product() {
        let m = dense(&[
            &[2.0, 0.0, 1.0, 0.0, 3.0],
            &[0.0, 1.0, 4.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 2.0, 0.0],
            &[0.0, 0.0, 5.0, 1.0, 1.0],
        ]);
        let product = &m * &transpose(&m);
        let norms: Vec<f32> = (0..4).map(|r| norm(crate::matrix::row(&m, r).1)).collect();
        let s = knn(&m, 0.5, Similarity::Cosine, 10);
        for a in 0..4 {
            for b in 0..4 {
                let dot = product.get(a, b).copied().unwrap_or(0.0);
                let want = (a != b)
                    .then(|| cosine(dot, norms[a], norms[b], 0.5))
                    .flatten();
                match (sim(&s, a, b), want) {
                    (Some(got), Some(want)) => assert!(close(got, want)),
                    (got, want) => assert_eq!(got, want, "({a}, {b})"),
                }
            }
        }
    }

    #[test]
    fn nearest_is_the_best_of_the_query_with_reused_scratch() {
        // Ties (rows 0, 1 and 4 are equal) and rows of different lengths.
        let m = dense(&[
            &[1.0, 1.0, 0.0, 0.0, 2.0],
            &[1.0, 1.0, 0.0, 0.0, 2.0],
            &[0.0, 3.0, 1.0, 0.0, 0.0],
            &[1.0, 0.0, 0.0, 1.0, 1.0],
            &[1.0, 1.0, 0.0, 0.0, 2.0],
            &[0.0, 0.0, 0.0, 0.0, 0.0],
        ]);
        let index = CosineIndex::new(&m, 0.0, Similarity::Cosine);
        let (mut acc, mut candidates) = (Accumulator::new(6), Vec::new());
        for k in [1, 2, 3, 10] {
            for d in 0..6 {
                let (terms, values) = crate::matrix::row(&m, d);
                let skip = Some(d as u32);
                let mut want = index.query(terms, values, skip, &mut Accumulator::new(6));
                keep_best(&mut want, k);
                want.sort_unstable_by_key(|&(j, _)| j);
                let got = index.nearest(terms, values, skip, k, &mut acc, &mut candidates);
                assert_eq!(got, want, "row {d}, k {k}");
            }
        }
        // Enough candidates that `nearest` trims on the way, with many ties.
        let rows: Vec<Vec<f32>> = (0..300)
            .map(|d| (0..4).map(|t| ((d * (t + 3)) % 5) as f32).collect())
            .collect();
        let many = dense(&rows.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let index_many = CosineIndex::new(&many, 0.0, Similarity::Cosine);
        let mut acc_many = Accumulator::new(300);
        for k in [1, 3, 70] {
            for d in [0, 1, 7, 150, 299] {
                let (terms, values) = crate::matrix::row(&many, d);
                let skip = Some(d as u32);
                let mut want = index_many.query(terms, values, skip, &mut Accumulator::new(300));
                keep_best(&mut want, k);
                want.sort_unstable_by_key(|&(j, _)| j);
                let got =
                    index_many.nearest(terms, values, skip, k, &mut acc_many, &mut candidates);
                assert_eq!(got, want, "row {d}, k {k}");
            }
        }
        // Row 4 ties with rows 0 and 1: the lower index wins.
        let (terms, values) = crate::matrix::row(&m, 4);
        let got = index.nearest(terms, values, Some(4), 1, &mut acc, &mut candidates);
        assert_eq!(got[0].0, 0);
    }

    #[test]
    fn empty_and_zero_rows_have_no_neighbours() {
        let m = dense(&[&[0.0, 0.0], &[1.0, 0.0]]);
        let s = knn(&m, 0.0, Similarity::Cosine, 5);
        assert_eq!(s.nnz(), 0);
        assert!(cosine(0.0, 0.0, 0.0, 0.0).is_none());
        assert!(cosine(-1.0, 1.0, 1.0, 0.0).is_none());
    }

    /// Users x items with values (not binary) and items of different popularity: item 0 has 4
    /// users, items 1 and 3 have 3, items 2 and 4 have 2.
    const WALK: [&[f32]; 6] = [
        &[2.0, 1.0, 0.0, 3.0, 0.0],
        &[1.0, 0.0, 4.0, 0.0, 0.0],
        &[0.0, 5.0, 1.0, 1.0, 0.0],
        &[3.0, 1.0, 0.0, 0.0, 2.0],
        &[0.0, 0.0, 0.0, 2.0, 1.0],
        &[1.0, 0.0, 0.0, 0.0, 0.0],
    ];

    /// `W` by the formula, straight from the dense users x items matrix `x`, in f64:
    /// `W[i][j] = Σ_u (x_ui / Σ_u' x_u'i)^alpha (x_uj / Σ_j' x_uj')^alpha / pop(j)^beta`.
    fn dense_rp3(x: &[&[f32]], alpha: f64, beta: f64) -> Vec<Vec<f64>> {
        let (users, items) = (x.len(), x[0].len());
        let v = |u: usize, i: usize| f64::from(x[u][i]);
        let item_total: Vec<f64> = (0..items)
            .map(|i| (0..users).map(|u| v(u, i)).sum())
            .collect();
        let user_total: Vec<f64> = (0..users)
            .map(|u| (0..items).map(|i| v(u, i)).sum())
            .collect();
        let pop = |j: usize| (0..users).filter(|&u| v(u, j) != 0.0).count() as f64;
        (0..items)
            .map(|i| {
                (0..items)
                    .map(|j| {
                        let walk: f64 = (0..users)
                            .filter(|&u| v(u, i) > 0.0 && v(u, j) > 0.0)
                            .map(|u| {
                                (v(u, i) / item_total[i]).powf(alpha)
                                    * (v(u, j) / user_total[u]).powf(alpha)
                            })
                            .sum();
                        if walk > 0.0 {
                            walk / pop(j).powf(beta)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// RP3beta of the users x items matrix `x` (as item-kNN calls it, on `Xᵀ`).
    fn rp3(x: &[&[f32]], alpha: f32, beta: f32, k: usize) -> Csr {
        rp3beta(&transpose(&dense(x)), alpha, beta, k)
    }

    fn close_rel(got: f32, want: f64) -> bool {
        (f64::from(got) - want).abs() <= 1e-5 * want.abs().max(1e-3)
    }

    #[test]
    fn rp3beta_matches_the_dense_formula() {
        let binary: Vec<Vec<f32>> = WALK
            .iter()
            .map(|r| r.iter().map(|&v| f32::from(u8::from(v != 0.0))).collect())
            .collect();
        let binary: Vec<&[f32]> = binary.iter().map(Vec::as_slice).collect();
        for x in [&WALK[..], &binary] {
            for alpha in [0.5, 1.0, 1.5, 2.0] {
                for beta in [0.0, 0.25, 0.5, 1.0] {
                    let got = rp3(x, alpha, beta, 10);
                    let want = dense_rp3(x, f64::from(alpha), f64::from(beta));
                    assert_eq!(got.shape(), (5, 5));
                    for (i, want_row) in want.iter().enumerate() {
                        for (j, &w) in want_row.iter().enumerate() {
                            let case = format!("alpha {alpha}, beta {beta}: W[{i}, {j}]");
                            match sim(&got, i, j) {
                                None => assert!(i == j || w == 0.0, "{case} missing"),
                                Some(g) => {
                                    assert_ne!(i, j, "{case}: never itself");
                                    assert!(close_rel(g, w), "{case}: {g} vs {w}");
                                }
                            }
                        }
                    }
                }
            }
        }
        // One value by hand (alpha 1, beta 0.5): item 2's users are u1 (4 of 5) and u2 (1 of 5);
        // u1 gives item 0 a share 1/5, u2 gives item 1 a share 5/7.
        let w = rp3(&WALK, 1.0, 0.5, 10);
        assert!(close(sim(&w, 2, 0).unwrap(), 0.8 * 0.2 / 2.0));
        assert!(close(sim(&w, 2, 1).unwrap(), 0.2 * 5.0 / 7.0 / 3f32.sqrt()));
    }

    #[test]
    fn rp3beta_keeps_the_largest_neighbours() {
        let full = rp3(&WALK, 1.0, 0.5, 10);
        let want = dense_rp3(&WALK, 1.0, 0.5);
        for k in 1..=4 {
            let kept = rp3(&WALK, 1.0, 0.5, k);
            for (i, want_row) in want.iter().enumerate() {
                let (cols, vals) = crate::matrix::row(&kept, i);
                let (all_cols, all_vals) = crate::matrix::row(&full, i);
                let mut best: Vec<(u32, f32)> = all_cols
                    .iter()
                    .copied()
                    .zip(all_vals.iter().copied())
                    .collect();
                keep_best(&mut best, k);
                best.sort_unstable_by_key(|&(j, _)| j);
                let got: Vec<(u32, f32)> = cols.iter().copied().zip(vals.iter().copied()).collect();
                assert_eq!(got, best, "row {i}, k {k}");
                // Every dropped item weighs less than every kept one.
                let smallest_kept = cols
                    .iter()
                    .map(|&j| want_row[j as usize])
                    .fold(f64::INFINITY, f64::min);
                for (j, &w) in want_row.iter().enumerate() {
                    if j != i && !cols.contains(&(j as u32)) {
                        assert!(w < smallest_kept, "row {i}, k {k}: {j} dropped");
                    }
                }
            }
        }
        // Row 0 by hand: W[0, 4] = 3/7 2/6 / sqrt 2 > W[0, 3] = 2/7 3/6 / sqrt 3 >
        // W[0, 2] = 1/7 4/5 / sqrt 2 > W[0, 1] = (2/7 + 3/7) 1/6 / sqrt 3.
        assert_eq!(crate::matrix::row(&rp3(&WALK, 1.0, 0.5, 1), 0).0, &[4]);
        assert_eq!(crate::matrix::row(&rp3(&WALK, 1.0, 0.5, 2), 0).0, &[3, 4]);
        assert_eq!(
            crate::matrix::row(&rp3(&WALK, 1.0, 0.5, 3), 0).0,
            &[2, 3, 4]
        );
        // Ties go to the lower index: items 1, 2 and 3 are interchangeable (1/8 from item 0,
        // 1/4 from each other, item 0 only 1/4 / sqrt 2 from them).
        let tied: [&[f32]; 2] = [&[1.0, 1.0, 1.0, 1.0], &[1.0, 0.0, 0.0, 0.0]];
        assert_eq!(crate::matrix::row(&rp3(&tied, 1.0, 0.5, 1), 0).0, &[1]);
        assert_eq!(crate::matrix::row(&rp3(&tied, 1.0, 0.5, 2), 3).0, &[1, 2]);
    }

    #[test]
    fn rp3beta_is_not_symmetric_when_popularity_differs() {
        // Item 0 has three users, item 1 one (who also has item 0).
        let x: [&[f32]; 3] = [&[1.0, 1.0], &[1.0, 0.0], &[1.0, 0.0]];
        let w = rp3(&x, 1.0, 0.5, 10);
        // W[0, 1] = P(u0|0) P(1|u0) / 1^0.5 = 1/3 * 1/2; W[1, 0] = 1 * 1/2 / 3^0.5.
        let (forward, backward) = (sim(&w, 0, 1).unwrap(), sim(&w, 1, 0).unwrap());
        assert!(close(forward, 1.0 / 6.0));
        assert!(close(backward, 0.5 / 3f32.sqrt()));
        assert!(forward < backward);
        // The walk itself is not symmetric either (P3alpha, beta 0): W[1, 0] = 1/2.
        let p3 = rp3(&x, 1.0, 0.0, 10);
        assert!(close(sim(&p3, 1, 0).unwrap(), 0.5));
        assert!(close(sim(&p3, 0, 1).unwrap(), 1.0 / 6.0));
    }

    #[test]
    fn rp3beta_with_beta_0_and_alpha_1_is_the_two_step_random_walk() {
        // P3alpha with alpha 1: (row-normalised Xᵀ) (row-normalised X), without the diagonal.
        let x = dense(&WALK);
        let normalise = |m: &Csr| {
            let totals: Vec<f32> = (0..m.rows())
                .map(|r| crate::matrix::row(m, r).1.iter().sum())
                .collect();
            crate::matrix::map_values(m, |r, _, v| v / totals[r])
        };
        let walk = &normalise(&transpose(&x)) * &normalise(&x);
        let w = rp3beta(&transpose(&x), 1.0, 0.0, 10);
        for i in 0..5 {
            for j in 0..5 {
                let want = walk.get(i, j).copied();
                match (sim(&w, i, j), want) {
                    (None, _) if i == j => {}
                    (Some(got), Some(want)) => assert!(close(got, want), "({i}, {j})"),
                    (got, want) => assert_eq!(got, want, "({i}, {j})"),
                }
            }
            // A walk's probabilities: the stored row and the return to `i` sum to 1.
            let stored: f32 = crate::matrix::row(&w, i).1.iter().sum();
            assert!(close(stored + walk.get(i, i).copied().unwrap_or(0.0), 1.0));
        }
    }

    #[test]
    fn rp3beta_walks_only_on_positive_values() {
        // Weighting can make values 0 or negative: they are no step of the walk.
        let m = dense(&[&[2.0, -1.0, 2.0], &[0.5, 0.0, 0.0], &[-3.0, 0.0, 0.0]]);
        let p = transition_powers(&m, 2.0);
        assert_eq!(
            crate::matrix::row(&p, 0),
            (&[0u32, 2][..], &[0.25f32, 0.25][..])
        );
        assert_eq!(crate::matrix::row(&p, 1), (&[0u32][..], &[1.0f32][..]));
        assert_eq!(crate::matrix::row(&p, 2).0.len(), 0);
        // Users x items where user 1's value for item 0 is negative: it still counts in
        // pop(0) = 2, but carries no probability.
        let w = rp3(&[&[1.0, 1.0], &[-1.0, 0.0]], 1.0, 1.0, 10);
        assert!(close(sim(&w, 1, 0).unwrap(), 0.5 / 2.0));
        assert!(close(sim(&w, 0, 1).unwrap(), 0.5));
    }
}
