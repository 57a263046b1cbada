//! # recsys-mf
//!
//! The matrix-factorization plugin of recsys (plugin name `mf`): latent factors for users and
//! items learned from implicit feedback, served by folding in a user's history, so that users
//! who were not in the training data get personal recommendations without retraining (BPR
//! models serve a training user's unchanged history from the stored vector).
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
//!   (user, liked, other) triples with an item bias, as implicit's `bpr.pyx` ([`bpr`]). The
//!   other item `j` is drawn in proportion to popularity (as implicit does) with probability
//!   `popular_negatives`, else uniformly (as in the paper); the step size decays linearly from
//!   `learning_rate` to `learning_rate / epochs`. After the last pass every user vector is
//!   re-fitted against the final item factors with the BPR fold-in below, so that stored and
//!   folded-in vectors agree (the SGD user vectors lag behind the items they were trained
//!   with, and rank no better).
//!
//! ## Serving
//!
//! `recommend` scores every item for a user vector (a dense mat-vec, parallel for large
//! catalogues, plus the item bias of BPR), drops the excluded items and keeps the top `k`
//! ([`recsys_plugin_api::top_k`]). The user vector comes from the query's history (and
//! weights), so that users who were not in training, and the newest events of those who were,
//! count without retraining:
//!
//! * **ALS: ridge fold-in**, one regularised least-squares solve
//!   `(YᵀY + Y_uᵀ(C_u − I)Y_u + λI) x = Y_uᵀ C_u p_u`, the exact ALS user step, against the
//!   precomputed `YᵀY` ([`foldin`]). For a training user it matches the trained vector up to
//!   the CG approximation (on validation splits it ranks as well or slightly better), so ALS
//!   always folds in and `Query::user` is not used.
//! * **BPR: SGD fold-in**, 100 passes of the BPR updates on the user vector alone against the
//!   fixed item factors and biases, with the training sampler and a larger, decaying step
//!   (the problem is convex), seeded by the history's item set so that the answer is
//!   deterministic ([`foldin_bpr`]). A 20-item history takes 2,000 `O(k)` steps. (A ridge
//!   regression onto BPR factors, which earlier versions used, ranks below popularity on a
//!   12k-item catalogue.)
//! * **BPR: known users.** When `Query::user` names a training user and the query's liked
//!   items are exactly those the user liked in training (compared as sets, through a 64-bit
//!   key per user stored with the model), the stored vector is used: it is the fold-in of the
//!   same items, computed at training time, so the answer is the same as without the id, only
//!   cheaper. Any other history (a new user, a changed history) is folded in.
//!
//! An empty history (or one with nothing to learn from) gets the items most users liked in
//! training.
//!
//! `recommend_many` (the host's batched ranking) finds each query's user vector the same way,
//! then scores blocks of users against tiles of items with one matrix product each and keeps
//! every user's top `k` across the tiles ([`batch`]): the item factors are read once per call
//! instead of once per user, about four times faster than `recommend` per user on a 100k-item
//! catalogue. The lists agree with `recommend`'s up to float rounding.
//!
//! * `similar_items` ranks items by the cosine of their factor vectors.
//! * `explain` splits the folded-in score `x·y_i` (without the bias) exactly into one term per
//!   history item and names the largest. ALS: `c_j (y_iᵀ A⁻¹ y_j)`, as implicit's `explain`
//!   does; BPR: the part of `x` each history item's updates built (they add up to `x`). It
//!   always folds in, also for a known user.
//! * `save` / `load` use a compact checksummed binary format ([`io`]) that keeps the user
//!   vectors and keys and still reads the files of the previous version.
//!
//! ## Parameters
//!
//! | name | default | meaning | searched by `--tune` |
//! |---|---|---|---|
//! | `algorithm` | `"als"` | `als` or `bpr` | als, bpr |
//! | `factors` | 64 | latent factors (1 to 1024) | 32, 64, 128 |
//! | `regularization` | 0.05 | `λ` of ALS and its fold-in; BPR weight decay (also in its fold-in) | 0.01, 0.05, 0.2 |
//! | `alpha` | 1.0 | confidence slope, `c = 1 + alpha * r` (ALS) | 1, 5, 20 |
//! | `binary` | true | every stored value counts as `r = 1` | |
//! | `iterations` | 15 | ALS sweeps | |
//! | `cg_steps` | 3 | CG steps per vector and sweep | |
//! | `learning_rate` | 0.2 | BPR step size of the first pass, decaying linearly to `learning_rate / epochs` | 0.05, 0.2, 0.4 |
//! | `epochs` | 100 | BPR passes over the positives | |
//! | `popular_negatives` | 0.35 | BPR: share of the other items drawn in proportion to popularity (the rest uniformly), in training and fold-in | 0.2, 0.35, 0.65 |
//! | `seed` | 42 | initialisation and sampling seed (training is deterministic) | |
//! | `threads` | 0 | training threads; 0 = rayon's global pool | |
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
//! review file, with the peer script's protocol) and `als_scale` (ALS fit time and a checksum
//! of the factors on a power-law matrix of the 10M peer benchmark's shape, default 500k users x
//! 100k items); the criterion bench `mf` times
//! ALS and BPR fold-in recommendation on a 100k-item model, and ranking 1,024 users with
//! `recommend` per user against `recommend_many`.
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
pub mod batch;
pub mod bpr;
pub mod confidence;
mod error;
pub mod foldin;
pub mod foldin_bpr;
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
