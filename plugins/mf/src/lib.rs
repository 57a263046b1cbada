//! # recsys-mf
//!
//! The matrix-factorization plugin of recsys (plugin name `mf`): latent factors for users and
//! items learned from implicit feedback, served by folding in a user's history, so that users
//! who were not in the training data get personal recommendations without retraining.
//!
//! ## Algorithms
//!
//! * **Implicit ALS** (`algorithm = "als"`, the default). Hu, Koren and Volinsky, *Collaborative
//!   Filtering for Implicit Feedback Datasets*, ICDM 2008: every (user, item) pair has a
//!   preference `p` (1 if the user interacted) and a confidence `c = 1 + alpha * r`; the model
//!   minimises `Σ c (p − x_u·y_i)² + λ(Σ|x_u|² + Σ|y_i|²)` over *all* pairs by alternating exact
//!   least-squares steps for users and items. Each step is solved with the conjugate-gradient
//!   method of Takács, Pilászy and Tikk, *Applications of the conjugate gradient method for
//!   implicit feedback collaborative filtering*, RecSys 2011, as implicit's
//!   `least_squares_cg` does: `YᵀY + λI` is computed once per sweep and each vector takes
//!   `cg_steps` CG steps from its previous value ([`als`]).
//! * **BPR** (`algorithm = "bpr"`). Rendle et al., *BPR: Bayesian Personalized Ranking from
//!   Implicit Feedback*, UAI 2009: SGD on `ln σ(x_u·(y_i − y_j) + b_i − b_j)` for sampled
//!   (user, liked, other) triples with uniform negative sampling and an item bias, as
//!   implicit's `bpr.pyx` ([`bpr`]).
//!
//! ## Serving
//!
//! * `recommend` **folds in** the query's history (and weights): one regularised least-squares
//!   solve `(YᵀY + Y_uᵀ(C_u − I)Y_u + λI) x = Y_uᵀ C_u p_u`, the exact ALS user step, against
//!   the precomputed `YᵀY` ([`foldin`]). It always uses the history, even for a known user, so
//!   the newest events count. BPR models are served the same way (a ridge regression of the
//!   history onto the BPR item factors, plus the item bias). Every item is then scored (a
//!   dense mat-vec, parallel for large catalogues), the excluded items dropped, and the top `k`
//!   kept ([`recsys_plugin_api::top_k`]). An empty history gets the items most users liked in training.
//!   `Query::user` is not used: the answer depends on the history alone.
//! * `similar_items` ranks items by the cosine of their factor vectors.
//! * `explain` splits the folded-in score exactly into one term per history item,
//!   `c_j (y_iᵀ A⁻¹ y_j)`, as implicit's `explain` does; the text names the largest.
//! * `save` / `load` use a compact checksummed binary format ([`io`]).
//!
//! ## Parameters
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `algorithm` | `"als"` | `als` or `bpr` |
//! | `factors` | 64 | latent factors (1 to 1024) |
//! | `regularization` | 0.05 | `λ` of ALS and fold-in; BPR weight decay |
//! | `alpha` | 1.0 | confidence slope, `c = 1 + alpha * r` |
//! | `binary` | true | every stored value counts as `r = 1` |
//! | `iterations` | 15 | ALS sweeps |
//! | `cg_steps` | 3 | CG steps per vector and sweep |
//! | `learning_rate` | 0.01 | BPR step size |
//! | `epochs` | 100 | BPR passes over the positives |
//! | `seed` | 42 | initialisation and sampling seed (training is deterministic) |
//! | `threads` | 0 | training threads; 0 = rayon's global pool |
//!
//! ## Dependencies
//!
//! Sparse matrices are [`sprs`] (the by-user matrix and its transpose). Dense `k x k` algebra
//! (the Gram matrix through `gemm`, the fold-in Cholesky solve) is `nalgebra` without default
//! features: pure Rust (its `gemm` calls the `matrixmultiply` kernels sprs already pulls in),
//! no BLAS or LAPACK, and a much smaller build than `faer`. The per-vector hot loops are plain
//! `f32` slices written to autovectorise ([`linalg`]).
//!
//! Two examples measure the plugin without the host: `leave_last_out` (NDCG@k on an Amazon
//! review file, with the peer script's protocol) and `timing` (fit times on a synthetic
//! power-law matrix, `recommend` latency on a 100k-item model).
//!
//! ## Example
//!
//! ```
//! use recsys_mf::MatrixFactorization;
//! use recsys_plugin_api::{CsrView, Params, Query, Recommender, TrainData};
//!
//! // Users 0 and 1 like items 0 to 2; users 2 and 3 like items 3 to 5.
//! let indptr = [0u64, 3, 5, 8, 10];
//! let indices = [0u32, 1, 2, 0, 1, 3, 4, 5, 3, 4];
//! let values = [1.0f32; 10];
//! let csr = CsrView::new(4, 6, &indptr, &indices, &values).unwrap();
//! let params = Params::from_json(r#"{"factors": 4, "seed": 7}"#).unwrap();
//! let model = MatrixFactorization::train(&TrainData::new(csr), &params).unwrap();
//!
//! // A new user who liked item 1: fold-in, no retraining.
//! let query = Query { exclude: &[1], ..Query::new(&[1], 2) };
//! let top = Recommender::recommend(&model, &query).unwrap();
//! assert!(top.iter().all(|s| s.item < 3), "{top:?}");
//! ```
#![warn(missing_docs)]

pub mod als;
pub mod bpr;
pub mod confidence;
mod error;
pub mod foldin;
pub mod io;
pub mod linalg;
pub mod matrix;
mod model;
mod params;
mod plugin;
pub mod rng;
mod train;

pub use error::{MfError, Result};
pub use model::{MatrixFactorization, ModelParts};
pub use params::{Algorithm, MfParams, MAX_FACTORS};
pub use train::train;

// The entry symbol only for the cdylib build (feature `dylib-entry`, on by default): embedders
// that link several plugins statically turn it off and register `plugin_declaration()`.
#[cfg(feature = "dylib-entry")]
recsys_plugin_api::export_plugin!(MatrixFactorization);
#[cfg(not(feature = "dylib-entry"))]
recsys_plugin_api::declare_plugin!(MatrixFactorization);

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::host::Plugin;
    use recsys_plugin_api::{Capability, CsrView, ErrorKind, Params, Query, TrainData};

    #[test]
    fn through_the_plugin_abi() {
        let plugin = Plugin::from_static(&RECSYS_PLUGIN_DECLARATION).unwrap();
        let info = plugin.info();
        assert_eq!(info.name, "mf");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        for c in [
            Capability::Recommend,
            Capability::SimilarItems,
            Capability::Explain,
            Capability::SaveLoad,
            Capability::FoldIn,
        ] {
            assert!(info.has(c), "{c:?}");
        }
        assert!(info.params.iter().all(|p| !p.description.is_empty()));

        let (indptr, indices, values) = als::tests::two_groups(300, 12);
        let csr = CsrView::new(300, 12, &indptr, &indices, &values).unwrap();
        let data = TrainData::new(csr);
        let params = Params::from_json(r#"{"factors": 4, "iterations": 10}"#).unwrap();
        let model = plugin.train(&data, &params).unwrap();

        let query = Query {
            exclude: &[0, 1],
            ..Query::new(&[0, 1, 2], 4)
        };
        let got = model.recommend(&query).unwrap();
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|s| s.item < 6 && s.item > 1), "{got:?}");
        let similar = model.similar_items(3, 3).unwrap();
        assert!(similar.iter().all(|s| s.item < 6), "{similar:?}");
        let why = model.explain(&query, got[0].item).unwrap();
        assert!(
            why.text.starts_with("because you interacted with item"),
            "{}",
            why.text
        );
        assert_eq!(why.contributions.len(), 3);

        let restored = plugin.load(&model.save().unwrap(), Some(12)).unwrap();
        assert_eq!(restored.recommend(&query).unwrap(), got);
        let err = plugin.load(&[1, 2, 3], None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);

        let bad = Params::from_json(r#"{"factors": 0}"#).unwrap();
        let err = plugin.train(&data, &bad).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams);
        assert!(err.message.contains("factors"), "{}", err.message);
        let err = plugin
            .train(&data, &Params::from_json(r#"{"neighbours": 3}"#).unwrap())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams);
    }
}
