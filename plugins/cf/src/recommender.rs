//! The plugin interface: [`Recommender`] for [`Cf`].

use recsys_plugin_api::{
    Capability, Explanation, Params, PluginError, PluginInfo, Query, Recommender, Scored, TrainData,
};

use crate::{io, Cf, Config};

impl Recommender for Cf {
    fn info() -> PluginInfo {
        let info = PluginInfo::new("cf", env!("CARGO_PKG_VERSION"))
            .description(
                "Neighbourhood collaborative filtering: item-kNN (default) or user-kNN by \
                 cosine similarity with shrinkage (or dot product, or RP3beta in item mode) on \
                 sparse matrices, with optional TF-IDF or BM25 weighting; folds in new \
                 histories without retraining.",
            )
            .capability(Capability::Recommend)
            .capability(Capability::SimilarItems)
            .capability(Capability::Explain)
            .capability(Capability::SaveLoad)
            .capability(Capability::FoldIn);
        Config::presets().into_iter().fold(
            Config::specs().into_iter().fold(info, PluginInfo::param),
            |info, (name, description, params)| info.preset(name, description, params),
        )
    }

    fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError> {
        Cf::fit(data, Config::from_params(params)?)
    }

    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        self.recommend_for(query)
    }

    fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>, PluginError> {
        self.similar_to(item, k)
    }

    fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation, PluginError> {
        self.explain_for(query, item)
    }

    fn save(&self) -> Result<Vec<u8>, PluginError> {
        Ok(io::encode(self))
    }

    fn load(bytes: &[u8]) -> Result<Self, PluginError> {
        io::decode(bytes)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use recsys_plugin_api::{Capability, CsrView, ErrorKind, ParamValue};

    use super::*;

    // Five users x five items, values are ratings (ignored by default):
    //   u0: 0 1      item vectors over users: i0 = i1 = {u0, u1}, i2 = {u1, u2},
    //   u1: 0 1 2    i3 = {u2, u3}, i4 = {u4}; so cos(0, 1) = 1, cos(0, 2) = cos(1, 2)
    //   u2: 2 3      = cos(2, 3) = 1/2, and item 4 has no neighbour.
    //   u3: 3
    //   u4: 4
    const INDPTR: [u64; 6] = [0, 2, 5, 7, 8, 9];
    const INDICES: [u32; 9] = [0, 1, 0, 1, 2, 2, 3, 3, 4];
    const VALUES: [f32; 9] = [5.0, 1.0, 3.0, 4.0, 2.0, 5.0, 5.0, 1.0, 4.0];

    fn data() -> TrainData<'static> {
        TrainData::new(CsrView::new(5, 5, &INDPTR, &INDICES, &VALUES).unwrap())
    }

    /// `json`'s parameters, with `shrinkage` 0, `recency_decay` 1, `sequence_weight` 0 and
    /// `sequence_shrinkage` 0 where it gives none.
    pub(crate) fn plain(json: &str) -> Params {
        let mut params = Params::from_json(json).unwrap();
        for (name, value) in [
            ("shrinkage", 0.0),
            ("recency_decay", 1.0),
            ("sequence_weight", 0.0),
            ("sequence_shrinkage", 0.0),
        ] {
            if params.get(name).is_none() {
                params.set(name, recsys_plugin_api::ParamValue::Float(value));
            }
        }
        params
    }

    /// Trains with `json`; unless it says otherwise, with plain cosine (no shrinkage) over an
    /// unweighted history, which the hand-computed values below assume.
    fn train(json: &str) -> Cf {
        Cf::train(&data(), &plain(json)).unwrap()
    }

    fn items(scored: &[Scored]) -> Vec<u32> {
        scored.iter().map(|s| s.item).collect()
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    fn query<'a>(history: &'a [u32], exclude: &'a [u32], k: usize) -> Query<'a> {
        Query {
            exclude,
            ..Query::new(history, k)
        }
    }

    #[test]
    fn info_lists_capabilities_and_documented_params() {
        let info = Cf::info();
        assert_eq!(info.name, "cf");
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
        assert_eq!(info.params.len(), 14);
        assert!(info.params.iter().all(|p| !p.description.is_empty()));
    }

    #[test]
    fn what_users_took_next_is_added_to_the_neighbour_scores() {
        // u0 took 0, then 2; u1 took 1, then 0. Item vectors i0 = {u0, u1}, i1 = {u1},
        // i2 = {u0}: cos(0, 1) = cos(0, 2) = 1/sqrt(2), but only 2 was taken after 0, so
        // T[0, 2] = 1 / sqrt(out(0) in(2)) = 1.
        let x = CsrView::new(2, 3, &[0, 2, 4], &[0, 2, 0, 1], &[1.0; 4]).unwrap();
        let timestamps = [1, 2, 2, 1];
        let timed = TrainData::new(x).with_timestamps(&timestamps).unwrap();
        let q = query(&[0], &[0], 2);
        let half = std::f32::consts::FRAC_1_SQRT_2;
        for (data, weight, shrinkage, first, second) in [
            (&timed, 0.5, 0.0, (2, half + 0.5), (1, half)),
            (&timed, 2.0, 0.0, (2, half + 2.0), (1, half)),
            // T[0, 2] = 1 / (1 + 1).
            (&timed, 2.0, 1.0, (2, half + 1.0), (1, half)),
            // Off: the tie is broken by item number.
            (&timed, 0.0, 0.0, (1, half), (2, half)),
            // No timestamps: no order to learn from, so no sequence part.
            (&TrainData::new(x), 2.0, 0.0, (1, half), (2, half)),
        ] {
            let json =
                format!(r#"{{"sequence_weight": {weight}, "sequence_shrinkage": {shrinkage}}}"#);
            let m = Cf::train(data, &plain(&json)).unwrap();
            let recs = m.recommend(&q).unwrap();
            let got: Vec<(u32, f32)> = recs.iter().map(|s| (s.item, s.score)).collect();
            assert_eq!(got.len(), 2, "{json}");
            for (g, want) in got.iter().zip([first, second]) {
                assert!(g.0 == want.0 && close(g.1, want.1), "{json}: {got:?}");
            }
        }
        // The explanation counts the sequence part in the history item's contribution.
        let m = Cf::train(&timed, &plain(r#"{"sequence_weight": 2}"#)).unwrap();
        let e = m.explain(&query(&[0], &[], 1), 2).unwrap();
        assert_eq!(e.contributions.len(), 1);
        assert_eq!(e.contributions[0].item, Some(0));
        assert!(close(e.contributions[0].weight, half + 2.0), "{e:?}");
        // Similar items stay the symmetric neighbours.
        assert!(close(m.similar_items(0, 2).unwrap()[0].score, half));
    }

    #[test]
    fn item_knn_scores_are_summed_cosines() {
        let m = train("{}");
        let recs = m.recommend(&query(&[0], &[0], 2)).unwrap();
        assert_eq!(items(&recs), vec![1, 2]);
        assert!(close(recs[0].score, 1.0) && close(recs[1].score, 0.5));
        // Both history items vote: item 2 gets sim(0, 2) + sim(1, 2).
        let recs = m.recommend(&query(&[0, 1], &[0, 1], 1)).unwrap();
        assert_eq!(items(&recs), vec![2]);
        assert!(close(recs[0].score, 1.0));
    }

    #[test]
    fn shrinkage_lowers_scores() {
        let m = train(r#"{"shrinkage": 1.0}"#);
        let recs = m.recommend(&query(&[0], &[0], 2)).unwrap();
        assert_eq!(items(&recs), vec![1, 2]);
        assert!(close(recs[0].score, 2.0 / 3.0) && close(recs[1].score, 1.0 / 3.0));
    }

    #[test]
    fn ratings_count_only_when_not_binary() {
        let weights = [1.0, 4.0];
        let q = Query {
            weights: Some(&weights),
            ..query(&[0, 3], &[0, 3], 1)
        };
        // Binary: item 2 gets 1/2 + 1/2, item 1 gets 1.
        let binary = train("{}").recommend(&q).unwrap();
        assert_eq!(items(&binary), vec![1]);
        // With values, item 2 is pulled up by the heavy weight of item 3.
        let valued = train(r#"{"binary": false}"#).recommend(&q).unwrap();
        assert_eq!(items(&valued), vec![2]);
    }

    #[test]
    fn neighbour_lists_are_truncated() {
        let m = train(r#"{"neighbours": 1}"#);
        // Item 2 has three neighbours at 1/2; the tie keeps the lowest index.
        assert_eq!(items(&m.similar_items(2, 5).unwrap()), vec![0]);
        let recs = m.recommend(&query(&[2], &[2], 1)).unwrap();
        assert_eq!(recs.len(), 1);
        assert!(recs[0].item == 0 && close(recs[0].score, 0.5));
    }

    #[test]
    fn excluded_items_never_come_back_and_popular_items_fill_up() {
        let m = train("{}");
        let recs = m.recommend(&query(&[0], &[0, 1], 10)).unwrap();
        // Item 2 by similarity, then 3 and 4 by popularity with score 0.
        assert_eq!(items(&recs), vec![2, 3, 4]);
        assert_eq!((recs[1].score, recs[2].score), (0.0, 0.0));
        assert!(m.recommend(&query(&[0], &[], 0)).unwrap().is_empty());
        // Only `exclude` is excluded (the history is the host's to exclude), and k is clamped.
        assert_eq!(m.recommend(&query(&[0], &[], usize::MAX)).unwrap().len(), 5);
        assert_eq!(m.recommend(&query(&[], &[], usize::MAX)).unwrap().len(), 5);
    }

    #[test]
    fn empty_history_falls_back_to_popularity() {
        let m = train("{}");
        let recs = m.recommend(&query(&[], &[1], 3)).unwrap();
        assert_eq!(items(&recs), vec![0, 2, 3]);
        assert!(recs.iter().all(|s| s.score == 2.0));
        let all = m.recommend(&query(&[], &[], 10)).unwrap();
        assert_eq!(items(&all), vec![0, 1, 2, 3, 4]);
        assert_eq!(all[4].score, 1.0);
    }

    #[test]
    fn bad_queries_are_errors() {
        let m = train("{}");
        let err = m.recommend(&query(&[7], &[], 3)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(m.similar_items(5, 3).is_err());
        assert!(m.explain(&query(&[0], &[], 3), 9).is_err());
    }

    #[test]
    fn duplicate_history_items_count_once_when_binary() {
        let m = train("{}");
        let once = m.recommend(&query(&[0], &[0], 3)).unwrap();
        let twice = m.recommend(&query(&[0, 0], &[0], 3)).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn similar_items_are_neighbours_best_first() {
        let m = train("{}");
        let s = m.similar_items(0, 5).unwrap();
        assert_eq!(items(&s), vec![1, 2]);
        assert!(close(s[0].score, 1.0) && close(s[1].score, 0.5));
        assert!(m.similar_items(4, 5).unwrap().is_empty());
        assert_eq!(m.similar_items(0, 1).unwrap().len(), 1);
    }

    #[test]
    fn explain_names_the_contributing_history_items() {
        let m = train("{}");
        let e = m.explain(&query(&[2, 0, 4], &[], 3), 1).unwrap();
        assert_eq!(e.text, "because you interacted with item 0 and item 2");
        let got: Vec<(Option<u32>, f32)> =
            e.contributions.iter().map(|c| (c.item, c.weight)).collect();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0, got[1].0), (Some(0), Some(2)));
        assert!(close(got[0].1, 1.0) && close(got[1].1, 0.5));
        // The contributions add up to the score.
        let recs = m.recommend(&query(&[2, 0, 4], &[0, 2, 4], 1)).unwrap();
        assert_eq!(recs[0].item, 1);
        assert!(close(recs[0].score, got[0].1 + got[1].1));
        let unrelated = m.explain(&query(&[4], &[], 3), 1).unwrap();
        assert!(unrelated.contributions.is_empty());
        assert!(unrelated.text.contains("popularity"), "{}", unrelated.text);
        let empty = m.explain(&query(&[], &[], 3), 1).unwrap();
        assert_eq!(empty.text, "item 1 is popular: 2 users interacted with it");
    }

    #[test]
    fn user_knn_sums_the_rows_of_similar_users() {
        let m = train(r#"{"mode": "user"}"#);
        // q = {0}: sim(u0) = 1/sqrt 2, sim(u1) = 1/sqrt 3.
        let (s0, s1) = (1.0 / 2f32.sqrt(), 1.0 / 3f32.sqrt());
        let recs = m.recommend(&query(&[0], &[0], 2)).unwrap();
        assert_eq!(items(&recs), vec![1, 2]);
        assert!(close(recs[0].score, s0 + s1) && close(recs[1].score, s1));
        // With one neighbour only u0 votes; item 2 comes from popularity.
        let one = train(r#"{"mode": "user", "neighbours": 1}"#);
        let recs = one.recommend(&query(&[0], &[0], 2)).unwrap();
        assert_eq!(items(&recs), vec![1, 2]);
        assert!(close(recs[0].score, s0) && recs[1].score == 0.0);
        // A known user is never their own neighbour: u0 (items 0, 1) is served by u1.
        let own = Query {
            user: Some(0),
            ..query(&[0, 1], &[0, 1], 1)
        };
        let recs = one.recommend(&own).unwrap();
        assert_eq!(recs[0].item, 2);
        assert!(close(recs[0].score, 2.0 / 6f32.sqrt()));
    }

    #[test]
    fn user_knn_similar_items_and_explain_use_item_cosine() {
        let m = train(r#"{"mode": "user"}"#);
        let s = m.similar_items(0, 5).unwrap();
        assert_eq!(items(&s), vec![1, 2]);
        assert!(close(s[0].score, 1.0) && close(s[1].score, 0.5));
        let e = m.explain(&query(&[0, 3], &[], 3), 2).unwrap();
        let got: Vec<Option<u32>> = e.contributions.iter().map(|c| c.item).collect();
        assert_eq!(got, vec![Some(0), Some(3)]);
        assert!(m.recommend(&query(&[], &[], 2)).unwrap().len() == 2);
    }

    #[test]
    fn weightings_train_and_rank_the_obvious_neighbour_first() {
        for mode in ["item", "user"] {
            for weighting in ["tfidf", "bm25"] {
                let m = train(&format!(
                    r#"{{"mode": "{mode}", "weighting": "{weighting}"}}"#
                ));
                let recs = m.recommend(&query(&[0], &[0], 5)).unwrap();
                assert_eq!(recs[0].item, 1, "{mode} {weighting}");
                assert_eq!(recs.len(), 4);
            }
        }
    }

    #[test]
    fn invalid_params_are_rejected() {
        let err = Cf::train(
            &data(),
            &Params::new().with("neighbours", ParamValue::Int(0)),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams);
        assert!(err.message.contains("neighbours"), "{}", err.message);
    }

    #[test]
    fn save_and_load_round_trip_in_both_modes() {
        for json in [
            "{}",
            r#"{"mode": "user", "weighting": "bm25", "bm25_k1": 2.0, "neighbours": 2}"#,
            r#"{"weighting": "tfidf", "shrinkage": 3.5, "binary": false}"#,
            r#"{"similarity": "rp3beta", "rp3_alpha": 0.5, "rp3_beta": 0.75, "binary": false}"#,
            r#"{"similarity": "rp3beta", "weighting": "bm25", "neighbours": 1}"#,
        ] {
            let m = train(json);
            let bytes = m.save().unwrap();
            let loaded = Cf::load(&bytes).unwrap();
            assert_eq!(loaded.config(), m.config(), "{json}");
            assert_eq!(loaded.save().unwrap(), bytes, "{json}");
            for history in [&[][..], &[0], &[2, 3], &[4]] {
                let q = query(history, &[], 5);
                assert_eq!(loaded.recommend(&q).unwrap(), m.recommend(&q).unwrap());
                assert_eq!(loaded.explain(&q, 1).unwrap(), m.explain(&q, 1).unwrap());
            }
            for item in 0..5 {
                assert_eq!(
                    loaded.similar_items(item, 3).unwrap(),
                    m.similar_items(item, 3).unwrap()
                );
            }
        }
    }

    #[test]
    fn rp3beta_scores_are_summed_walk_weights() {
        // alpha 1, beta 0.5, binary: item 0's users u0 and u1 (1/2 each) step to u0's items
        // with 1/2 each and to u1's with 1/3 each; items 1, 2 and 3 have 2 users each.
        let m = train(r#"{"similarity": "rp3beta", "rp3_alpha": 1, "rp3_beta": 0.5}"#);
        let root2 = 2f32.sqrt();
        let w01 = (0.5 * 0.5 + 0.5 / 3.0) / root2;
        let (w02, w21, w23) = (0.5 / 3.0 / root2, 0.5 / 3.0 / root2, 0.25 / root2);
        let s = m.similar_items(0, 5).unwrap();
        assert_eq!(items(&s), vec![1, 2]);
        assert!(close(s[0].score, w01) && close(s[1].score, w02));
        let recs = m.recommend(&query(&[0, 2], &[0, 2], 2)).unwrap();
        assert_eq!(items(&recs), vec![1, 3]);
        assert!(close(recs[0].score, w01 + w21) && close(recs[1].score, w23));
        let e = m.explain(&query(&[0, 2], &[], 2), 1).unwrap();
        let got: Vec<(Option<u32>, f32)> =
            e.contributions.iter().map(|c| (c.item, c.weight)).collect();
        assert_eq!((got[0].0, got[1].0), (Some(0), Some(2)));
        assert!(close(got[0].1, w01) && close(got[1].1, w21));
        // Shrinkage does not apply to RP3beta.
        let shrunk = train(
            r#"{"similarity": "rp3beta", "rp3_alpha": 1, "rp3_beta": 0.5, "shrinkage": 100}"#,
        );
        assert_eq!(shrunk.similar_items(0, 5).unwrap(), s);
        // One neighbour: item 2 keeps item 3 (1/4 / sqrt 2 beats 1/6 / sqrt 2 from 0 and 1).
        let one =
            train(r#"{"similarity": "rp3beta", "rp3_alpha": 1, "rp3_beta": 0.5, "neighbours": 1}"#);
        assert_eq!(items(&one.similar_items(2, 5).unwrap()), vec![3]);
    }

    #[test]
    fn rp3beta_is_refused_in_user_mode() {
        let params = Params::from_json(r#"{"mode": "user", "similarity": "rp3beta"}"#).unwrap();
        let err = Cf::train(&data(), &params).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams);
        assert!(
            err.message.contains("`similarity`") && err.message.contains("`mode`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_empty_catalogue_trains_and_answers() {
        let x = CsrView::new(0, 0, &[0], &[], &[]).unwrap();
        let m = Cf::train(&TrainData::new(x), &Params::new()).unwrap();
        assert!(m.recommend(&query(&[], &[], 3)).unwrap().is_empty());
        let loaded = Cf::load(&m.save().unwrap()).unwrap();
        assert_eq!(loaded.n_items(), 0);
    }
}
