//! Cosine similarity with shrinkage (or the raw dot product), by sparse products.
//!
//! The similarities of a vector `q` to every row of a matrix `M` are the product `q Mᵀ`:
//! for each of `q`'s terms, walk that term's row of `Mᵀ` (the rows of `M` that contain it) and
//! accumulate. Doing this for every row of `M` is the sparse product `M Mᵀ` computed row by row
//! (Gustavson's algorithm), which keeps only the touched entries of one row in memory at a time,
//! runs rows in parallel with rayon and truncates each row to its best neighbours as it goes:
//! the full product, which can be dense, is never stored. Item-kNN uses it with `M = Xᵀ`
//! (`Xᵀ X`), user-kNN with `M = X` (`X Xᵀ`), one row per query.

use std::cmp::Ordering;

use rayon::prelude::*;

use crate::accumulator::Accumulator;
use crate::matrix::{row, transpose, Csr};

/// How two weighted vectors are compared (`similarity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Similarity {
    /// `a·b / (|a| |b| + shrinkage)` (parameter value `cosine`, the default).
    Cosine,
    /// `a·b`, as implicit's `BM25Recommender` and `TFIDFRecommender` rank (parameter value
    /// `dot`): with BM25 weighting, the document-length normalisation then matters.
    Dot,
}

impl Similarity {
    /// Parameter value `cosine` or `dot`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "cosine" => Some(Similarity::Cosine),
            "dot" => Some(Similarity::Dot),
            _ => None,
        }
    }

    /// The parameter value naming this similarity.
    pub fn as_str(self) -> &'static str {
        match self {
            Similarity::Cosine => "cosine",
            Similarity::Dot => "dot",
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

/// The rows of a matrix ("documents") prepared for cosine queries: the transpose (an inverted
/// index from term to documents) and the documents' norms.
#[derive(Debug, Clone)]
pub(crate) struct CosineIndex {
    /// Terms x documents.
    by_term: Csr,
    norms: Vec<f32>,
    shrinkage: f32,
    similarity: Similarity,
}

impl CosineIndex {
    /// Indexes the rows of `docs` (documents x terms), compared by `similarity` (`shrinkage`
    /// applies to the cosine).
    pub(crate) fn new(docs: &Csr, shrinkage: f32, similarity: Similarity) -> Self {
        let norms = (0..docs.rows()).map(|d| norm(row(docs, d).1)).collect();
        CosineIndex {
            by_term: transpose(docs),
            norms,
            shrinkage,
            similarity,
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
        acc.reset(self.norms.len());
        for (&t, &q) in terms.iter().zip(values) {
            let (docs, weights) = row(&self.by_term, t as usize);
            for (&d, &w) in docs.iter().zip(weights) {
                acc.add(d, q * w);
            }
        }
        let q_norm = norm(values);
        acc.iter()
            .filter(move |&(d, _)| Some(d) != skip)
            .filter_map(move |(d, dot)| match self.similarity {
                Similarity::Cosine => {
                    cosine(dot, q_norm, self.norms[d as usize], self.shrinkage).map(|s| (d, s))
                }
                Similarity::Dot => (dot > 0.0 && dot.is_finite()).then_some((d, dot)),
            })
    }
}

/// The `k` nearest neighbours of every row of `docs` (documents x terms) by `similarity`
/// (cosine with `shrinkage`, or dot), excluding the row itself and non-positive similarities:
/// a documents x documents matrix whose row `d` holds `d`'s neighbours.
pub(crate) fn knn(docs: &Csr, shrinkage: f32, similarity: Similarity, k: usize) -> Csr {
    let n = docs.rows();
    let index = CosineIndex::new(docs, shrinkage, similarity);
    let rows: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (Accumulator::new(n), Vec::new()),
            |(acc, candidates), d| {
                let (terms, values) = row(docs, d);
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
    Csr::try_new((n, n), indptr, indices, sims)
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
}
