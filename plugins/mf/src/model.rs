//! The trained model: factors, popularity, and what is derived from them for serving.

use rayon::prelude::*;
use recsys_plugin_api::{Contribution, Explanation, Query, Scored};

use crate::batch::{top_k_many, Blocking, Request};
use crate::confidence::Confidence;
use crate::error::{MfError, Result};
use crate::foldin::{entries, set_key, FoldIn, FoldedUser};
use crate::foldin_bpr::{cumulative, liked, BprFoldIn, BprSchedule, BprUser};
use crate::linalg::{dot, dots, gram};
use crate::params::{Algorithm, MfParams, MAX_FACTORS};
use recsys_plugin_api::top_k as top_k_scores;

/// Everything a model is made of (and what [`crate::io`] writes). Factor matrices are
/// row-major, `factors` values per row.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelParts {
    /// The algorithm that trained the factors.
    pub algorithm: Algorithm,
    /// Number of latent factors `k`.
    pub factors: usize,
    /// `λ`, also used by fold-in.
    pub regularization: f32,
    /// How history weights become confidences in fold-in.
    pub confidence: Confidence,
    /// Trained user vectors, `n_users x k`.
    pub user_factors: Vec<f32>,
    /// Item vectors, `n_items x k`.
    pub item_factors: Vec<f32>,
    /// Per-item score offsets (BPR); empty for ALS.
    pub item_bias: Vec<f32>,
    /// Number of users who liked each item in training (the empty-history fallback).
    pub popularity: Vec<u32>,
}

/// A trained matrix-factorization model (ALS or BPR), ready to serve.
#[derive(Debug, Clone)]
pub struct MatrixFactorization {
    parts: ModelParts,
    n_users: usize,
    n_items: usize,
    popularity_scores: Vec<f32>,
    item_norms: Vec<f32>,
    gram: Vec<f64>,
    /// Per training user, [`set_key`] of the items they liked in training (BPR); empty when
    /// unknown or unused (then every query is folded in).
    user_keys: Vec<u64>,
    /// The SGD schedule of BPR fold-ins.
    schedule: BprSchedule,
    /// Inclusive prefix sums of `popularity` (BPR fold-in's negative sampler).
    popularity_cumulative: Vec<u64>,
}

/// Which user vector serves a query.
enum User {
    /// The stored vector of a training user whose query likes the same items as in training.
    Trained(usize),
    /// The ALS ridge fold-in.
    Ridge(FoldedUser),
    /// The BPR SGD fold-in.
    Bpr(BprUser),
}

/// Item counts above which scoring runs on the rayon pool (below it, threads cost more than
/// they save).
const PARALLEL_SCORING_ITEMS: usize = 16_384;
/// Items per parallel scoring task.
const SCORING_CHUNK: usize = 4096;
/// Calls of [`MatrixFactorization::recommend_many`] with fewer queries go through
/// [`MatrixFactorization::recommend`] (whose scoring runs on the rayon pool for large
/// catalogues): too few users to share the reads of the item factors.
const MIN_BATCH: usize = 4;

impl MatrixFactorization {
    /// Checks the parts for consistency and derives the serving structures (item norms, `YᵀY`).
    pub fn from_parts(parts: ModelParts) -> Result<Self> {
        let k = parts.factors;
        let bad = |m: String| Err(MfError::InvalidInput(format!("inconsistent model: {m}")));
        if !(1..=MAX_FACTORS).contains(&k) {
            return bad(format!("{k} factors"));
        }
        let n_items = parts.popularity.len();
        if parts.item_factors.len() != n_items * k {
            return bad(format!(
                "{} item factor values for {n_items} items of {k} factors",
                parts.item_factors.len()
            ));
        }
        if parts.user_factors.len() % k != 0 {
            return bad(format!("{} user factor values", parts.user_factors.len()));
        }
        let want_bias = match parts.algorithm {
            Algorithm::Als => 0,
            Algorithm::Bpr => n_items,
        };
        if parts.item_bias.len() != want_bias {
            return bad(format!("{} item biases", parts.item_bias.len()));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !(finite(&parts.user_factors) && finite(&parts.item_factors) && finite(&parts.item_bias))
        {
            return bad("non-finite factors".into());
        }
        let reg_ok = parts.regularization.is_finite() && parts.regularization >= 0.0;
        let alpha_ok = parts.confidence.alpha.is_finite() && parts.confidence.alpha > 0.0;
        if !(reg_ok && alpha_ok) {
            return bad("regularization or alpha out of range".into());
        }
        let item_norms = parts
            .item_factors
            .chunks_exact(k)
            .map(|y| dot(y, y).sqrt())
            .collect();
        Ok(MatrixFactorization {
            n_users: parts.user_factors.len() / k,
            n_items,
            popularity_scores: parts.popularity.iter().map(|&c| c as f32).collect(),
            item_norms,
            gram: gram(&parts.item_factors, k),
            user_keys: Vec::new(),
            schedule: MfParams::default().bpr_schedule(),
            popularity_cumulative: cumulative(&parts.popularity),
            parts,
        })
    }

    /// Records each training user's liked items ([`set_key`] of the items with a positive
    /// value in their training row, one key per user), so that a query naming a training user
    /// with the same liked items is served by the stored vector (BPR; see
    /// [`MatrixFactorization::recommend`]). Empty: every query is folded in.
    pub fn with_user_keys(mut self, keys: Vec<u64>) -> Result<Self> {
        if !keys.is_empty() && keys.len() != self.n_users {
            return Err(MfError::InvalidInput(format!(
                "inconsistent model: {} user keys for {} users",
                keys.len(),
                self.n_users
            )));
        }
        self.user_keys = keys;
        Ok(self)
    }

    /// Sets the SGD schedule of BPR fold-ins (by default that of the default parameters).
    pub fn with_bpr_schedule(mut self, schedule: BprSchedule) -> Result<Self> {
        let ok = schedule.learning_rate.is_finite()
            && schedule.learning_rate > 0.0
            && schedule.epochs >= 1
            && (0.0..=1.0).contains(&schedule.popular_negatives);
        if !ok {
            return Err(MfError::InvalidInput(format!(
                "inconsistent model: BPR schedule {schedule:?}"
            )));
        }
        self.schedule = schedule;
        Ok(self)
    }

    /// The training users' liked-item keys (empty when the model does not keep them).
    pub fn user_keys(&self) -> &[u64] {
        &self.user_keys
    }

    /// The SGD schedule of BPR fold-ins.
    pub fn bpr_schedule(&self) -> BprSchedule {
        self.schedule
    }

    /// The model's parts.
    pub fn parts(&self) -> &ModelParts {
        &self.parts
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Number of users seen in training.
    pub fn n_users(&self) -> usize {
        self.n_users
    }

    /// Number of factors.
    pub fn factors(&self) -> usize {
        self.parts.factors
    }

    /// The trained vector of user `u`, if `u` was seen in training.
    pub fn user_vector(&self, u: usize) -> Option<&[f32]> {
        let k = self.parts.factors;
        self.parts.user_factors.get(u * k..(u + 1) * k)
    }

    fn item_vector(&self, i: u32) -> &[f32] {
        let k = self.parts.factors;
        &self.parts.item_factors[i as usize * k..(i as usize + 1) * k]
    }

    fn fold(&self) -> FoldIn<'_> {
        FoldIn {
            factors: self.parts.factors,
            gram: &self.gram,
            items: &self.parts.item_factors,
            regularization: f64::from(self.parts.regularization),
        }
    }

    fn fold_bpr(&self) -> BprFoldIn<'_> {
        BprFoldIn {
            factors: self.parts.factors,
            items: &self.parts.item_factors,
            item_bias: &self.parts.item_bias,
            popularity_cumulative: &self.popularity_cumulative,
            regularization: self.parts.regularization,
            schedule: self.schedule,
        }
    }

    /// Folds in a history with the ridge solve of [`crate::foldin`] (the ALS user step):
    /// `None` for a history with no usable entry (or, with `regularization = 0`, a degenerate
    /// one); an error for items out of range or weights of another length.
    pub fn fold_in(&self, history: &[u32], weights: Option<&[f32]>) -> Result<Option<FoldedUser>> {
        Query {
            weights,
            ..Query::new(history, 0)
        }
        .validate(self.n_items)?;
        let e = entries(history, weights, self.parts.confidence);
        if e.is_empty() {
            return Ok(None);
        }
        Ok(self.fold().solve(e))
    }

    /// Folds in a history with the BPR objective ([`crate::foldin_bpr`]; meant for BPR
    /// models, whose biases it needs): the liked items are the history entries with a
    /// positive weight. `None` when there is nothing to learn from.
    pub fn fold_in_bpr(
        &self,
        history: &[u32],
        weights: Option<&[f32]>,
        explain: bool,
    ) -> Result<Option<BprUser>> {
        Query {
            weights,
            ..Query::new(history, 0)
        }
        .validate(self.n_items)?;
        if self.parts.item_bias.len() != self.n_items {
            return Err(MfError::InvalidInput(
                "BPR fold-in needs a BPR model (item biases)".into(),
            ));
        }
        let liked = liked(&entries(history, weights, self.parts.confidence));
        Ok(self.fold_bpr().solve(&liked, set_key(&liked), explain))
    }

    /// The training user `query.user` names, when the items liked in the query are exactly
    /// those they liked in training and the model serves stored vectors (BPR: the stored vector
    /// is then the fold-in of the same items, see [`crate::train()`]).
    fn trained_user(&self, query: &Query<'_>) -> Option<usize> {
        if self.parts.algorithm != Algorithm::Bpr {
            return None;
        }
        let u = query.user? as usize;
        let key = *self.user_keys.get(u)?;
        let liked = liked(&entries(
            query.history,
            query.weights,
            self.parts.confidence,
        ));
        (!liked.is_empty() && set_key(&liked) == key).then_some(u)
    }

    /// The user vector that serves `query` (after validation); `None`: popularity.
    fn user(&self, query: &Query<'_>, explain: bool) -> Result<Option<User>> {
        if !explain {
            if let Some(u) = self.trained_user(query) {
                return Ok(Some(User::Trained(u)));
            }
        }
        Ok(match self.parts.algorithm {
            Algorithm::Als => self.fold_in(query.history, query.weights)?.map(User::Ridge),
            Algorithm::Bpr => self
                .fold_in_bpr(query.history, query.weights, explain)?
                .map(User::Bpr),
        })
    }

    /// The score of every item for a user vector `x` (plus the item bias of BPR models).
    pub fn scores(&self, x: &[f32]) -> Vec<f32> {
        let k = self.parts.factors;
        let mut out = vec![0.0f32; self.n_items];
        let bias = &self.parts.item_bias;
        let fill = |(c, chunk): (usize, &mut [f32])| {
            let first = c * SCORING_CHUNK;
            let ys = &self.parts.item_factors[first * k..(first + chunk.len()) * k];
            dots(ys, x, chunk);
            if let Some(b) = bias.get(first..first + chunk.len()) {
                chunk.iter_mut().zip(b).for_each(|(s, b)| *s += b);
            }
        };
        if self.n_items >= PARALLEL_SCORING_ITEMS {
            out.par_chunks_mut(SCORING_CHUNK).enumerate().for_each(fill);
        } else {
            out.chunks_mut(SCORING_CHUNK).enumerate().for_each(fill);
        }
        out
    }

    fn check(&self, query: &Query<'_>) -> Result<()> {
        query.validate(self.n_items)?;
        Ok(())
    }

    /// The best `query.k` items: score every item for the user's vector, drop the excluded
    /// ones. A BPR model's training user (`query.user`) whose query likes the same items as in
    /// training (compared as sets) is served by the stored vector, which is the fold-in of
    /// those items; any other history is folded in (ALS: [`crate::foldin`], BPR:
    /// [`crate::foldin_bpr`]). An empty history (or one that cannot be folded in) gets the
    /// most popular items.
    pub fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>> {
        self.check(query)?;
        Ok(match self.user(query, false)? {
            Some(user) => top_k_scores(&self.scores(self.vector(&user)), query.k, query.exclude),
            None => self.popular(query),
        })
    }

    /// One list per query, in the order given, each what [`MatrixFactorization::recommend`]
    /// returns for it up to float rounding; an error if any query is invalid (the first one's).
    ///
    /// Each query's user vector is found as `recommend` finds it (stored vector, fold-in, or
    /// the popularity list), one query at a time; then blocks of users are scored against
    /// tiles of items by matrix products ([`crate::batch`]), which read the item factors once
    /// per call instead of once per user. The products sum each score in another order than
    /// `recommend`'s dot products, so scores agree to about `1e-5` relative, and two items
    /// whose scores are that close may come in the other order (or, at the end of the list,
    /// one instead of the other). Single-threaded: hosts call it from several threads at once.
    /// Calls with fewer than four queries go through `recommend`.
    pub fn recommend_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Scored>>> {
        if queries.len() < MIN_BATCH {
            return queries.iter().map(|q| self.recommend(q)).collect();
        }
        self.recommend_many_with(queries, Blocking::DEFAULT)
    }

    /// [`MatrixFactorization::recommend_many`] cut into blocks as `blocking` says.
    fn recommend_many_with(
        &self,
        queries: &[Query<'_>],
        blocking: Blocking,
    ) -> Result<Vec<Vec<Scored>>> {
        // All queries are checked before any is folded in.
        for query in queries {
            self.check(query)?;
        }
        let mut out = vec![Vec::new(); queries.len()];
        // The users with a vector: their rows, which query each answers, and what it asks.
        let (mut vectors, mut answers, mut requests) = (Vec::new(), Vec::new(), Vec::new());
        for (i, query) in queries.iter().enumerate() {
            match self.user(query, false)? {
                Some(user) => {
                    vectors.extend_from_slice(self.vector(&user));
                    answers.push(i);
                    requests.push(Request {
                        k: query.k,
                        exclude: query.exclude,
                    });
                }
                None => out[i] = self.popular(query),
            }
        }
        let tops = top_k_many(
            &vectors,
            &requests,
            &self.parts.item_factors,
            &self.parts.item_bias,
            self.parts.factors,
            blocking,
        );
        for (i, top) in answers.into_iter().zip(tops) {
            out[i] = top;
        }
        Ok(out)
    }

    /// The vector of a user that serves a query.
    fn vector<'a>(&'a self, user: &'a User) -> &'a [f32] {
        match user {
            User::Trained(u) => self.user_vector(*u).expect("a training user"),
            User::Ridge(user) => &user.vector,
            User::Bpr(user) => &user.vector,
        }
    }

    /// The answer to a query without a user vector: the most popular items.
    fn popular(&self, query: &Query<'_>) -> Vec<Scored> {
        top_k_scores(&self.popularity_scores, query.k, query.exclude)
    }

    /// The `k` items whose factor vectors have the highest cosine with `item`'s.
    pub fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>> {
        if item as usize >= self.n_items {
            return Err(MfError::InvalidInput(format!(
                "item {item} is out of range (catalogue has {} items)",
                self.n_items
            )));
        }
        let y = self.item_vector(item);
        let norm = self.item_norms[item as usize];
        let factors = self.parts.factors;
        let cosines: Vec<f32> = self
            .parts
            .item_factors
            .chunks_exact(factors)
            .zip(&self.item_norms)
            .map(|(other, &n)| {
                let d = norm * n;
                if d > 0.0 {
                    dot(y, other) / d
                } else {
                    0.0
                }
            })
            .collect();
        Ok(top_k_scores(&cosines, k, &[item]))
    }

    /// Which history items make `item` score high for `query`: the exact split of the
    /// folded-in score `x·y_item` (without the BPR item bias) into one term per history item
    /// (see [`crate::foldin`] and [`crate::foldin_bpr`]). It always folds in, so for a training
    /// user served by the trained vector it explains the fold-in of the same history.
    pub fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation> {
        self.check(query)?;
        if item as usize >= self.n_items {
            return Err(MfError::InvalidInput(format!(
                "item {item} is out of range (catalogue has {} items)",
                self.n_items
            )));
        }
        let parts = match self.user(query, true)? {
            Some(User::Ridge(user)) => self.fold().contributions(&user, item),
            Some(User::Bpr(user)) => {
                let y = self.item_vector(item);
                let mut parts: Vec<(u32, f32)> =
                    user.parts.iter().map(|(j, p)| (*j, dot(p, y))).collect();
                parts.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                parts
            }
            Some(User::Trained(_)) | None => {
                return Ok(Explanation {
                    text: format!(
                        "popular: {} users interacted with item {item}",
                        self.parts.popularity[item as usize]
                    ),
                    contributions: Vec::new(),
                })
            }
        };
        let text = match parts.first() {
            Some(&(j, w)) if w > 0.0 => format!("because you interacted with item {j}"),
            _ => "no item in your history points to it strongly".to_string(),
        };
        Ok(Explanation {
            text,
            contributions: parts
                .into_iter()
                .map(|(j, weight)| Contribution {
                    item: Some(j),
                    term: None,
                    weight,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::{CsrView, Params, Recommender, TrainData};

    fn tiny() -> MatrixFactorization {
        // Items 0 and 1 point the same way, item 2 the other, item 3 is all zeros.
        MatrixFactorization::from_parts(ModelParts {
            algorithm: Algorithm::Als,
            factors: 2,
            regularization: 0.1,
            confidence: Confidence {
                alpha: 1.0,
                binary: true,
            },
            user_factors: vec![1.0, 0.0],
            item_factors: vec![1.0, 0.1, 0.9, 0.0, 0.0, 1.0, 0.0, 0.0],
            item_bias: vec![],
            popularity: vec![3, 1, 7, 0],
        })
        .unwrap()
    }

    #[test]
    fn similar_items_by_cosine_without_the_item() {
        let m = tiny();
        let got = m.similar_items(0, 3).unwrap();
        assert_eq!(got[0].item, 1);
        assert!(got.iter().all(|s| s.item != 0));
        assert!(m.similar_items(4, 3).is_err());
    }

    #[test]
    fn empty_history_falls_back_to_popularity() {
        let m = tiny();
        let got = m
            .recommend(&Query {
                exclude: &[2],
                ..Query::new(&[], 2)
            })
            .unwrap();
        assert_eq!(got.iter().map(|s| s.item).collect::<Vec<_>>(), vec![0, 1]);
        let e = m.explain(&Query::new(&[], 2), 2).unwrap();
        assert!(e.text.contains("7 users"), "{}", e.text);
        assert!(e.contributions.is_empty());
    }

    #[test]
    fn rejects_inconsistent_parts() {
        let mut p = tiny().parts().clone();
        p.item_bias = vec![0.0; 4];
        assert!(MatrixFactorization::from_parts(p).is_err());
        let mut p = tiny().parts().clone();
        p.item_factors.pop();
        assert!(MatrixFactorization::from_parts(p).is_err());
        let mut p = tiny().parts().clone();
        p.user_factors[0] = f32::NAN;
        assert!(MatrixFactorization::from_parts(p).is_err());
    }

    /// A model trained on two blocks of users and items (`two_groups`), with enough factors
    /// that the batched products go through `matrixmultiply`; and the training rows.
    fn trained(algorithm: &str) -> (MatrixFactorization, Vec<Vec<u32>>) {
        let (users, items) = (120, 40);
        let (indptr, indices, values) = crate::als::tests::two_groups(users, items);
        let csr = CsrView::new(users, items, &indptr, &indices, &values).unwrap();
        let json = format!(r#"{{"algorithm": "{algorithm}", "factors": 8, "epochs": 20}}"#);
        let params = MfParams::from_params(&Params::from_json(&json).unwrap()).unwrap();
        let model = crate::train(&TrainData::new(csr), &params).unwrap();
        let rows = indptr
            .windows(2)
            .map(|w| indices[w[0] as usize..w[1] as usize].to_vec())
            .collect();
        (model, rows)
    }

    /// `got` is `want` up to float rounding: scores agree to 1e-5 relative, and an item in
    /// another place (or not in `want`) has a near tie there (or with `want`'s last item).
    fn assert_agree(got: &[Scored], want: &[Scored], query: &Query<'_>) {
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1.0);
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(close(g.score, w.score), "{got:?} vs {want:?}");
            assert!(!query.is_excluded(g.item), "{got:?}");
            match want.iter().find(|w| w.item == g.item) {
                Some(w) => assert!(close(g.score, w.score), "{got:?} vs {want:?}"),
                None => assert!(close(g.score, want[want.len() - 1].score)),
            }
        }
        let mut items: Vec<u32> = got.iter().map(|s| s.item).collect();
        items.sort_unstable();
        items.dedup();
        assert_eq!(items.len(), got.len(), "{got:?}");
    }

    #[test]
    fn recommend_many_agrees_with_recommend() {
        for algorithm in ["als", "bpr"] {
            let (m, rows) = trained(algorithm);
            // Training users as in training, and with one more item; new and empty histories.
            let mut histories: Vec<(Option<u32>, Vec<u32>)> = (0..rows.len())
                .step_by(9)
                .map(|u| (Some(u as u32), rows[u].clone()))
                .collect();
            histories.push((Some(3), [&rows[3][..], &[39]].concat()));
            histories.extend([vec![1, 4, 6], vec![25, 30], vec![0, 39], vec![]].map(|h| (None, h)));
            let weights = [2.0, 0.5];
            let queries: Vec<Query<'_>> = histories
                .iter()
                .enumerate()
                .map(|(n, (user, history))| Query {
                    user: *user,
                    // Some exclude their history (sorted), some nothing.
                    exclude: if n % 2 == 0 { history } else { &[] },
                    // k from none to more than the catalogue.
                    k: [5, 10, 0, 100, 1][n % 5],
                    weights: (history.len() == 2).then_some(&weights[..]),
                    history,
                })
                .collect();
            let want: Vec<Vec<Scored>> = queries.iter().map(|q| m.recommend(q).unwrap()).collect();
            assert!(want.iter().any(|w| w.len() == 40), "{want:?}");
            let tiny = Blocking { users: 3, items: 7 };
            for got in [
                m.recommend_many(&queries).unwrap(),
                m.recommend_many_with(&queries, tiny).unwrap(),
                Recommender::recommend_many(&m, &queries).unwrap(),
            ] {
                assert_eq!(got.len(), queries.len());
                for ((g, w), q) in got.iter().zip(&want).zip(&queries) {
                    assert_agree(g, w, q);
                }
            }
            let few = m.recommend_many(&queries[..2]).unwrap();
            assert_eq!(few, want[..2]);
            assert!(m.recommend_many(&[]).unwrap().is_empty());
        }
    }

    #[test]
    fn recommend_many_fails_on_an_invalid_query() {
        let (m, rows) = trained("als");
        let mut queries: Vec<Query<'_>> = rows.iter().take(6).map(|r| Query::new(r, 5)).collect();
        for bad in [
            Query::new(&[3, 40], 5),
            Query {
                weights: Some(&[1.0]),
                ..Query::new(&[3, 4], 5)
            },
        ] {
            queries[4] = bad;
            let want = Recommender::recommend(&m, &bad).unwrap_err();
            for got in [
                Recommender::recommend_many(&m, &queries).unwrap_err(),
                Recommender::recommend_many(&m, &queries[3..5]).unwrap_err(),
            ] {
                assert_eq!(got.kind, want.kind);
                assert_eq!(got.message, want.message);
            }
        }
    }

    #[test]
    fn parallel_and_sequential_scoring_agree() {
        let n = PARALLEL_SCORING_ITEMS + 5;
        let item_factors: Vec<f32> = (0..n * 2).map(|v| (v % 7) as f32).collect();
        let m = MatrixFactorization::from_parts(ModelParts {
            item_factors,
            item_bias: (0..n).map(|v| v as f32).collect(),
            popularity: vec![0; n],
            algorithm: Algorithm::Bpr,
            ..tiny().parts().clone()
        })
        .unwrap();
        let s = m.scores(&[1.0, 2.0]);
        for i in [0, 1, SCORING_CHUNK, n - 1] {
            let y = &m.parts().item_factors[i * 2..i * 2 + 2];
            assert_eq!(s[i], y[0] + 2.0 * y[1] + i as f32);
        }
    }
}
