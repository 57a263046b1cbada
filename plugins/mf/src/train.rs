//! Training: from the host's interaction matrix and the parameters to a model.

use recsys_plugin_api::TrainData;

use crate::als::{Als, AlsConfig};
use crate::bpr::{train_bpr, BprConfig};
use crate::confidence::Confidence;
use crate::error::{MfError, Result};
use crate::matrix::ConfidenceMatrix;
use crate::model::{MatrixFactorization, ModelParts};
use crate::params::{Algorithm, MfParams};

/// Trains the model `params` describe; parallel parts run on a pool of `params.threads`
/// threads, or on rayon's global pool when it is 0.
pub fn train(data: &TrainData<'_>, params: &MfParams) -> Result<MatrixFactorization> {
    params.validate()?;
    let confidence = Confidence {
        alpha: params.alpha,
        binary: params.binary,
    };
    // `TrainData` is not `Sync` (item text holds raw pointers); the CSR view is.
    let view = *data.interactions();
    let matrix = ConfidenceMatrix::new(&view, confidence)?;
    let popularity = matrix.item_popularity();
    let run = || match params.algorithm {
        Algorithm::Als => {
            let mut als = Als::new(
                &matrix,
                AlsConfig {
                    factors: params.factors,
                    regularization: params.regularization,
                    cg_steps: params.cg_steps,
                    seed: params.seed,
                },
            );
            for _ in 0..params.iterations {
                als.iterate();
            }
            let (users, items) = als.into_factors();
            (users, items, Vec::new())
        }
        Algorithm::Bpr => {
            let f = train_bpr(
                &view,
                BprConfig {
                    factors: params.factors,
                    learning_rate: params.learning_rate,
                    regularization: params.regularization,
                    epochs: params.epochs,
                    seed: params.seed,
                },
            );
            (f.users, f.items, f.item_bias)
        }
    };
    let (user_factors, item_factors, item_bias) = in_pool(params.threads, run)?;
    MatrixFactorization::from_parts(ModelParts {
        algorithm: params.algorithm,
        factors: params.factors,
        regularization: params.regularization,
        confidence,
        user_factors,
        item_factors,
        item_bias,
        popularity,
    })
}

/// Runs `f` on a dedicated pool of `threads` threads, or on the current pool when it is 0.
fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    if threads == 0 {
        return Ok(f());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("recsys-mf-{i}"))
        .build()
        .map_err(|e| MfError::Internal(format!("cannot start {threads} training threads: {e}")))?;
    Ok(pool.install(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::als::tests::two_groups;
    use crate::linalg::dot;
    use recsys_plugin_api::{CsrView, Params, Query};

    const USERS: usize = 300;
    const ITEMS: usize = 20;

    fn fit(json: &str) -> MatrixFactorization {
        let (indptr, indices, values) = two_groups(USERS, ITEMS);
        let csr = CsrView::new(USERS, ITEMS, &indptr, &indices, &values).unwrap();
        let params = MfParams::from_params(&Params::from_json(json).unwrap()).unwrap();
        train(&TrainData::new(csr), &params).unwrap()
    }

    fn assert_group_a_first(model: &MatrixFactorization) {
        // A new user with three group-A items: the other seven group-A items come first.
        let history = [1u32, 4, 6];
        let got = model
            .recommend(&Query {
                exclude: &history,
                ..Query::new(&history, ITEMS / 2 - 3)
            })
            .unwrap();
        assert_eq!(got.len(), 7);
        assert!(got.iter().all(|s| (s.item as usize) < ITEMS / 2), "{got:?}");
        // And the mirror image for group B.
        let history = [12u32, 15];
        let got = model.recommend(&Query::new(&history, 10)).unwrap();
        assert!(
            got.iter().all(|s| (s.item as usize) >= ITEMS / 2),
            "{got:?}"
        );
    }

    #[test]
    fn als_ranks_the_histories_group_first() {
        assert_group_a_first(&fit(r#"{"factors": 4}"#));
    }

    #[test]
    fn bpr_ranks_the_histories_group_first() {
        assert_group_a_first(&fit(
            r#"{"algorithm": "bpr", "factors": 8, "learning_rate": 0.05, "epochs": 50}"#,
        ));
    }

    #[test]
    fn fold_in_of_a_training_user_matches_the_trained_vector() {
        let model = fit(r#"{"factors": 8, "iterations": 30}"#);
        let (indptr, indices, _) = two_groups(USERS, ITEMS);
        for u in [0, 7, USERS - 1] {
            let history = &indices[indptr[u] as usize..indptr[u + 1] as usize];
            let folded = model.fold_in(history, None).unwrap().unwrap();
            let trained = model.user_vector(u).unwrap();
            let (a, b) = (model.scores(trained), model.scores(&folded.vector));
            let max_diff = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(max_diff < 0.02, "user {u}: scores differ by {max_diff}");
            let cos = dot(trained, &folded.vector)
                / (dot(trained, trained).sqrt() * dot(&folded.vector, &folded.vector).sqrt());
            assert!(cos > 0.999, "user {u}: cosine {cos}");
        }
    }

    #[test]
    fn excluded_items_never_come_back() {
        let model = fit(r#"{"factors": 4}"#);
        let exclude = [0u32, 2, 3, 5, 7, 19];
        let got = model
            .recommend(&Query {
                exclude: &exclude,
                ..Query::new(&[0, 2], ITEMS)
            })
            .unwrap();
        assert_eq!(got.len(), ITEMS - exclude.len());
        assert!(got.iter().all(|s| !exclude.contains(&s.item)));
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(model.recommend(&Query::new(&[0], 0)).unwrap().is_empty());
    }

    #[test]
    fn empty_history_gets_the_most_popular_items() {
        let model = fit(r#"{"factors": 4}"#);
        let got = model.recommend(&Query::new(&[], 3)).unwrap();
        let pop = &model.parts().popularity;
        let best = *pop.iter().max().unwrap();
        assert_eq!(pop[got[0].item as usize], best);
        assert_eq!(got[0].score, best as f32);
        // A history of zero-weight entries carries no information either.
        let q = Query {
            weights: Some(&[0.0]),
            ..Query::new(&[3], 3)
        };
        assert_eq!(model.recommend(&q).unwrap(), got);
        // Out-of-range items are an input error, not a panic.
        assert!(model.recommend(&Query::new(&[ITEMS as u32], 3)).is_err());
    }

    #[test]
    fn same_seed_same_model_whatever_the_threads() {
        for algo in ["als", "bpr"] {
            let a = fit(&format!(
                r#"{{"algorithm": "{algo}", "factors": 4, "epochs": 5, "threads": 1}}"#
            ));
            let b = fit(&format!(
                r#"{{"algorithm": "{algo}", "factors": 4, "epochs": 5, "threads": 2}}"#
            ));
            assert_eq!(a.parts(), b.parts(), "{algo}");
            let c = fit(&format!(
                r#"{{"algorithm": "{algo}", "factors": 4, "epochs": 5, "seed": 1}}"#
            ));
            assert_ne!(a.parts(), c.parts(), "{algo}");
        }
    }

    #[test]
    fn trains_on_degenerate_matrices() {
        for (users, items, indptr, indices) in [
            (0usize, 0usize, vec![0u64], vec![]),
            (2, 3, vec![0, 0, 0], vec![]),
            (1, 1, vec![0, 1], vec![0u32]),
        ] {
            let values = vec![1.0; indices.len()];
            let csr = CsrView::new(users, items, &indptr, &indices, &values).unwrap();
            for algo in [Algorithm::Als, Algorithm::Bpr] {
                let params = MfParams {
                    algorithm: algo,
                    factors: 3,
                    epochs: 2,
                    iterations: 2,
                    ..MfParams::default()
                };
                let m = train(&TrainData::new(csr), &params).unwrap();
                assert_eq!(m.n_items(), items);
                let got = m.recommend(&Query::new(&indices, 5)).unwrap();
                assert!(got.len() <= items);
            }
        }
    }
}
