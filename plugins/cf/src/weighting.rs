//! Interaction weighting applied before similarity: none, TF-IDF or BM25.
//!
//! The weighting treats the rows of a matrix as *documents* (the things compared: items in
//! item mode, users in user mode) and its columns as *terms* (the other side), as implicit's
//! `nearest_neighbours` module does for items. With `N` documents, `df(t)` documents that
//! contain term `t`, `x` a stored value and `len(d)` the sum of document `d`'s values:
//!
//! * `none`: `x`;
//! * `tfidf`: `sqrt(x) * idf(t)`;
//! * `bm25`: `x * (k1 + 1) / (k1 * (1 - b + b * len(d) / avg_len) + x) * idf(t)`,
//!
//! where `idf(t) = ln(N) - ln(1 + df(t))` and `avg_len` is the mean of `len(d)` over all
//! documents. Similarities are cosines of the weighted rows, so `weighting` only changes the
//! vectors, never the kind of similarity. implicit's `BM25Recommender` instead ranks by the raw
//! dot product of BM25 rows. One consequence: with binary values BM25's document-length factor
//! is constant within a row and the cosine cancels it, so `bm25` ranks exactly like `tfidf`;
//! they differ only when `binary` is off.

use crate::matrix::{map_values, row, Csr};

/// How interaction values are weighted before similarities are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weighting {
    /// The values as they are (all 1 with `binary`).
    None,
    /// `sqrt(value) * idf`.
    TfIdf,
    /// Okapi BM25 term saturation and document-length normalisation, times idf.
    Bm25 {
        /// Term-frequency saturation (`bm25_k1`, default 1.2).
        k1: f32,
        /// Strength of the document-length normalisation, 0..=1 (`bm25_b`, default 0.75).
        b: f32,
    },
}

impl Weighting {
    /// Parameter value `none`, `tfidf` or `bm25` (BM25 with the given `k1` and `b`).
    pub fn parse(name: &str, k1: f32, b: f32) -> Option<Self> {
        match name {
            "none" => Some(Weighting::None),
            "tfidf" => Some(Weighting::TfIdf),
            "bm25" => Some(Weighting::Bm25 { k1, b }),
            _ => None,
        }
    }

    /// The parameter value naming this weighting.
    pub fn as_str(&self) -> &'static str {
        match self {
            Weighting::None => "none",
            Weighting::TfIdf => "tfidf",
            Weighting::Bm25 { .. } => "bm25",
        }
    }
}

/// A weighting fitted to a document x term matrix: the statistics needed to weight that
/// matrix and, the same way, new documents (user-kNN queries).
#[derive(Debug, Clone)]
pub(crate) struct FittedWeighting {
    weighting: Weighting,
    /// `idf(t)` per term (empty for [`Weighting::None`]).
    idf: Vec<f32>,
    /// Mean document length.
    avg_len: f32,
}

impl FittedWeighting {
    /// Fits `weighting` to `docs` (rows = documents, columns = terms).
    pub(crate) fn fit(weighting: Weighting, docs: &Csr) -> Self {
        let idf = if weighting == Weighting::None {
            Vec::new()
        } else {
            let mut df = vec![0u64; docs.cols()];
            for &t in docs.indices() {
                df[t as usize] += 1;
            }
            let ln_n = if docs.rows() == 0 {
                0.0
            } else {
                (docs.rows() as f64).ln()
            };
            df.iter()
                .map(|&d| (ln_n - (d as f64).ln_1p()) as f32)
                .collect()
        };
        let total: f64 = docs.data().iter().map(|&v| f64::from(v)).sum();
        let avg_len = if docs.rows() == 0 {
            0.0
        } else {
            (total / docs.rows() as f64) as f32
        };
        FittedWeighting {
            weighting,
            idf,
            avg_len,
        }
    }

    /// The weight of value `x` for term `term` in a document of length `len`.
    fn weight(&self, x: f32, term: u32, len: f32) -> f32 {
        let w = match self.weighting {
            Weighting::None => return x,
            Weighting::TfIdf => x.max(0.0).sqrt() * self.idf[term as usize],
            Weighting::Bm25 { k1, b } => {
                let len_norm = if self.avg_len > 0.0 {
                    1.0 - b + b * len / self.avg_len
                } else {
                    1.0
                };
                let denom = k1 * len_norm + x;
                if denom == 0.0 {
                    0.0
                } else {
                    x * (k1 + 1.0) / denom * self.idf[term as usize]
                }
            }
        };
        if w.is_finite() {
            w
        } else {
            0.0
        }
    }

    /// The weighted copy of the matrix this weighting was fitted to.
    pub(crate) fn apply(&self, docs: &Csr) -> Csr {
        if self.weighting == Weighting::None {
            return docs.clone();
        }
        let lens: Vec<f32> = (0..docs.rows())
            .map(|d| row(docs, d).1.iter().sum())
            .collect();
        map_values(docs, |d, t, x| self.weight(x, t, lens[d]))
    }

    /// The weights of a new document with the given terms and values.
    pub(crate) fn apply_to_document(&self, terms: &[u32], values: &[f32]) -> Vec<f32> {
        let len: f32 = values.iter().sum();
        terms
            .iter()
            .zip(values)
            .map(|(&t, &x)| self.weight(x, t, len))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::tests::dense;

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b).abs() < 1e-5
    }

    #[test]
    fn parses_names() {
        assert_eq!(Weighting::parse("none", 1.0, 0.5), Some(Weighting::None));
        assert_eq!(Weighting::parse("tfidf", 1.0, 0.5), Some(Weighting::TfIdf));
        assert_eq!(
            Weighting::parse("bm25", 1.0, 0.5),
            Some(Weighting::Bm25 { k1: 1.0, b: 0.5 })
        );
        assert_eq!(Weighting::parse("BM25", 1.0, 0.5), None);
        assert_eq!(Weighting::Bm25 { k1: 1.0, b: 0.5 }.as_str(), "bm25");
    }

    #[test]
    fn none_keeps_values() {
        let m = dense(&[&[2.0, 0.0], &[0.0, 3.0]]);
        let w = FittedWeighting::fit(Weighting::None, &m);
        assert_eq!(w.apply(&m).data(), m.data());
        assert_eq!(w.apply_to_document(&[1], &[4.0]), vec![4.0]);
    }

    #[test]
    fn tfidf_matches_hand_computation() {
        // 3 documents; term 0 is in 2 of them, term 1 in 1.
        let m = dense(&[&[4.0, 0.0], &[1.0, 9.0], &[0.0, 0.0]]);
        let w = FittedWeighting::fit(Weighting::TfIdf, &m);
        let idf0 = 3f64.ln() - 3f64.ln(); // ln 3 - ln(1 + 2) = 0
        let idf1 = 3f64.ln() - 2f64.ln();
        let got = w.apply(&m);
        assert!(close(got.data()[0], 2.0 * idf0));
        assert!(close(got.data()[1], 1.0 * idf0));
        assert!(close(got.data()[2], 3.0 * idf1));
    }

    #[test]
    fn bm25_matches_hand_computation() {
        // Documents (rows) of lengths 1, 3, 2 and 0, so avg_len = 6 / 4 = 1.5.
        let m = dense(&[
            &[1.0, 0.0, 0.0],
            &[1.0, 1.0, 1.0],
            &[0.0, 2.0, 0.0],
            &[0.0, 0.0, 0.0],
        ]);
        let (k1, b) = (1.2f64, 0.75f64);
        let w = FittedWeighting::fit(
            Weighting::Bm25 {
                k1: k1 as f32,
                b: b as f32,
            },
            &m,
        );
        let n = 4f64;
        let idf = |df: f64| n.ln() - (1.0 + df).ln();
        let avg = 1.5;
        let bm25 = |x: f64, len: f64, df: f64| {
            let norm = 1.0 - b + b * len / avg;
            x * (k1 + 1.0) / (k1 * norm + x) * idf(df)
        };
        let got = w.apply(&m);
        let want = [
            bm25(1.0, 1.0, 2.0), // (0, 0)
            bm25(1.0, 3.0, 2.0), // (1, 0)
            bm25(1.0, 3.0, 2.0), // (1, 1)
            bm25(1.0, 3.0, 1.0), // (1, 2)
            bm25(2.0, 2.0, 2.0), // (2, 1)
        ];
        for (g, w) in got.data().iter().zip(want) {
            assert!(close(*g, w), "{g} vs {w}");
        }
        // A new document is weighted with the fitted idf and average length.
        let doc = w.apply_to_document(&[0, 2], &[1.0, 1.0]);
        assert!(close(doc[0], bm25(1.0, 2.0, 2.0)));
        assert!(close(doc[1], bm25(1.0, 2.0, 1.0)));
    }
}
