//! The trained content model and its [`Recommender`] implementation.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use recsys_plugin_api::{
    top_k_iter, Capability, Contribution, Explanation, Params, PluginError, PluginInfo, Query,
    Recommender, Scored, TrainData,
};

use crate::error::{ContentError, Result};
use crate::index::ItemIndex;
use crate::mlt::{item_terms, recency_window, Profile};
use crate::params::Config;
use crate::search::FullText;
use crate::text::ItemDoc;

/// Popularity's share of a score when `popularity_weight` is 0: enough to order equal
/// content scores (items with the same text) and the items no term matched, too little to
/// reorder real differences in content.
const TIE_BREAK: f32 = 1e-3;

/// Terms and history items named in an explanation's text.
const EXPLAIN_TERMS: usize = 5;

/// A trained content-based model: the items' text, their training popularity and the index.
#[derive(Debug)]
pub struct ContentModel {
    config: Config,
    docs: Vec<ItemDoc>,
    /// Training interactions per item.
    popularity: Vec<f32>,
    /// The highest entry of `popularity` (1 when there is none, to divide by).
    max_popularity: f32,
    /// Item indices by decreasing popularity, then increasing index.
    by_popularity: Vec<u32>,
    index: ItemIndex,
    full_text: FullText,
}

impl ContentModel {
    /// Indexes `docs` (one per item) and keeps `popularity` (one count per item).
    pub fn from_parts(config: Config, docs: Vec<ItemDoc>, popularity: Vec<f32>) -> Result<Self> {
        config.validate()?;
        if docs.len() != popularity.len() {
            return Err(ContentError::InvalidInput(format!(
                "{} item texts for {} popularity counts",
                docs.len(),
                popularity.len()
            )));
        }
        if docs.iter().all(ItemDoc::is_empty) {
            return Err(ContentError::NoItemText);
        }
        if docs.len() > u32::MAX as usize {
            return Err(ContentError::InvalidInput(
                "more than u32::MAX items".into(),
            ));
        }
        let dir = (!config.index_dir.is_empty()).then(|| Path::new(&config.index_dir));
        let index = ItemIndex::build(&docs, dir)?;
        let full_text = FullText::new(&index, &config);
        let max_popularity = popularity
            .iter()
            .copied()
            .filter(|p| p.is_finite())
            .fold(0f32, f32::max);
        let max_popularity = if max_popularity > 0.0 {
            max_popularity
        } else {
            1.0
        };
        let mut by_popularity: Vec<u32> = (0..docs.len() as u32).collect();
        by_popularity.sort_by(|&a, &b| {
            popularity[b as usize]
                .total_cmp(&popularity[a as usize])
                .then(a.cmp(&b))
        });
        Ok(ContentModel {
            config,
            docs,
            popularity,
            max_popularity,
            by_popularity,
            index,
            full_text,
        })
    }

    /// Trains on `data` with a checked `config` (what [`Recommender::train`] does after
    /// reading the parameters).
    pub fn train_with(data: &TrainData<'_>, config: Config) -> Result<Self> {
        if !data.has_item_text() {
            return Err(ContentError::NoItemText);
        }
        let docs: Vec<ItemDoc> = (0..data.n_items() as u32)
            .map(|i| {
                data.item_text(i)
                    .map_or_else(ItemDoc::default, |t| ItemDoc::from_item_text(&t))
            })
            .collect();
        let mut popularity = vec![0f32; data.n_items()];
        for &item in data.interactions().indices() {
            popularity[item as usize] += 1.0;
        }
        ContentModel::from_parts(config, docs, popularity)
    }

    /// The parameters the model was trained with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The cleaned text of every item.
    pub fn docs(&self) -> &[ItemDoc] {
        &self.docs
    }

    /// Training interactions per item.
    pub fn popularity(&self) -> &[f32] {
        &self.popularity
    }

    /// Number of items in the catalogue.
    pub fn n_items(&self) -> usize {
        self.docs.len()
    }

    /// Popularity scaled to [0, 1].
    fn popularity_share(&self, item: u32) -> f32 {
        self.popularity[item as usize] / self.max_popularity
    }

    fn check_item(&self, item: u32) -> Result<()> {
        if item as usize >= self.n_items() {
            return Err(ContentError::InvalidInput(format!(
                "item {item} is out of range (catalogue has {} items)",
                self.n_items()
            )));
        }
        Ok(())
    }

    /// Ranks items for a profile: `bm25 / best bm25 + (popularity_weight + TIE_BREAK) *
    /// popularity share`, over the best BM25 hits and the most popular items, leaving out
    /// `skip`. An empty profile ranks by popularity share alone.
    fn rank(
        &self,
        profile: &Profile,
        skip: Arc<[u32]>,
        k: usize,
        popularity_weight: f32,
    ) -> Result<Vec<Scored>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let prior = popularity_weight + TIE_BREAK;
        let mut candidates: Vec<(u32, f32)> = Vec::new();
        if !profile.is_empty() {
            // A pool deeper than k, so that the prior can lift good matches from below k.
            let pool = k.saturating_mul(3).max(k.saturating_add(50));
            let hits = self.index.top_items(
                &*profile.to_query(&self.index, &self.config),
                pool,
                Arc::clone(&skip),
            )?;
            if let Some(&(_, best)) = hits.first() {
                candidates.extend(
                    hits.iter()
                        .map(|&(item, s)| (item, s / best + prior * self.popularity_share(item))),
                );
            }
        }
        let content_scored = !candidates.is_empty();
        let matched: HashSet<u32> = candidates.iter().map(|c| c.0).collect();
        let popular = self
            .by_popularity
            .iter()
            .copied()
            .filter(|i| skip.binary_search(i).is_err() && !matched.contains(i))
            .take(k)
            .map(|item| {
                let share = self.popularity_share(item);
                (item, if content_scored { prior * share } else { share })
            });
        candidates.extend(popular);
        Ok(top_k_iter(candidates, k))
    }

    fn profile(&self, items: &[(u32, f32)]) -> Result<Profile> {
        Profile::build(&self.index, &self.docs, items, &self.config)
    }

    fn recommend_impl(&self, query: &Query<'_>) -> Result<Vec<Scored>> {
        query
            .validate(self.n_items())
            .map_err(|e| ContentError::InvalidInput(e.message))?;
        let profile = self.profile(&recency_window(query.history, &self.config))?;
        let mut skip: Vec<u32> = query.exclude.iter().chain(query.history).copied().collect();
        skip.sort_unstable();
        skip.dedup();
        self.rank(
            &profile,
            skip.into(),
            query.k,
            self.config.popularity_weight,
        )
    }

    fn similar_items_impl(&self, item: u32, k: usize) -> Result<Vec<Scored>> {
        self.check_item(item)?;
        let profile = self.profile(&[(item, 1.0)])?;
        self.rank(&profile, Arc::from([item]), k, 0.0)
    }

    fn explain_impl(&self, query: &Query<'_>, item: u32) -> Result<Explanation> {
        query
            .validate(self.n_items())
            .map_err(|e| ContentError::InvalidInput(e.message))?;
        self.check_item(item)?;
        let window = recency_window(query.history, &self.config);
        let profile = self.profile(&window)?;
        let mut analyzer = self.index.analyzer();
        let candidate = item_terms(&mut analyzer, &self.docs[item as usize], &self.config);

        // Matching terms: the profile's boost times the term's weight in the item.
        let mut terms: Vec<(&str, &str, f32)> = profile
            .terms
            .iter()
            .filter_map(|t| {
                let stat = candidate.get(&t.token)?;
                Some((
                    t.token.as_str(),
                    stat.surface.as_str(),
                    t.boost * stat.weight,
                ))
            })
            .collect();
        terms.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(b.0)));

        // History items: the matching terms they share, weighted by recency.
        let mut shared: HashMap<u32, f32> = HashMap::new();
        for &(h, recency) in &window {
            if h == item || shared.contains_key(&h) {
                continue;
            }
            let history_terms = item_terms(&mut analyzer, &self.docs[h as usize], &self.config);
            let weight: f32 = terms
                .iter()
                .filter(|(token, _, _)| history_terms.contains_key(*token))
                .map(|t| t.2)
                .sum::<f32>()
                * recency;
            if weight > 0.0 {
                shared.insert(h, weight);
            }
        }
        let mut items: Vec<(u32, f32)> = shared.into_iter().collect();
        items.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

        let text = if terms.is_empty() {
            format!(
                "no shared terms; popular: {:.0} interactions",
                self.popularity[item as usize]
            )
        } else {
            let words: Vec<&str> = terms.iter().take(EXPLAIN_TERMS).map(|t| t.1).collect();
            format!("matches: {}", words.join(", "))
        };
        let mut contributions: Vec<Contribution> = terms
            .iter()
            .map(|&(_, surface, weight)| Contribution {
                item: None,
                term: Some(surface.to_string()),
                weight,
            })
            .chain(
                items
                    .iter()
                    .take(EXPLAIN_TERMS)
                    .map(|&(h, weight)| Contribution {
                        item: Some(h),
                        term: None,
                        weight,
                    }),
            )
            .collect();
        contributions.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        Ok(Explanation {
            text,
            contributions,
        })
    }

    fn search_impl(&self, text: &str, k: usize) -> Result<Vec<Scored>> {
        let hits = self.full_text.search(&self.index, &self.config, text, k)?;
        Ok(top_k_iter(hits, k))
    }
}

impl Recommender for ContentModel {
    fn info() -> PluginInfo {
        let mut info = PluginInfo::new("content", env!("CARGO_PKG_VERSION"))
            .description(
                "Content-based filtering: BM25 more-like-this over title, brand, categories \
                 and description (tantivy), plus full-text search; needs item text.",
            )
            .capability(Capability::SimilarItems)
            .capability(Capability::Explain)
            .capability(Capability::Search)
            .capability(Capability::SaveLoad)
            .capability(Capability::ItemText)
            .capability(Capability::FoldIn);
        for spec in Config::specs() {
            info = info.param(spec);
        }
        info
    }

    fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError> {
        Self::info().validate_params(params)?;
        let config = Config::from_params(params)?;
        Ok(ContentModel::train_with(data, config)?)
    }

    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        Ok(self.recommend_impl(query)?)
    }

    fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>, PluginError> {
        Ok(self.similar_items_impl(item, k)?)
    }

    fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation, PluginError> {
        Ok(self.explain_impl(query, item)?)
    }

    fn search(&self, text: &str, k: usize) -> Result<Vec<Scored>, PluginError> {
        Ok(self.search_impl(text, k)?)
    }

    fn save(&self) -> Result<Vec<u8>, PluginError> {
        Ok(crate::io::save(self))
    }

    fn load(bytes: &[u8]) -> Result<Self, PluginError> {
        Ok(crate::io::load(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::NO_ITEM_TEXT;
    use crate::fixture::{Fixture, COLD_START, DRUM_ITEMS, GUITAR_ITEMS, ITEMS};
    use recsys_plugin_api::{ErrorKind, ItemText, ItemTextTable, ParamValue};

    fn model() -> ContentModel {
        ContentModel::train(&Fixture::new().data(), &Params::new()).unwrap()
    }

    fn items(scored: &[Scored]) -> Vec<u32> {
        scored.iter().map(|s| s.item).collect()
    }

    #[test]
    fn guitar_fans_get_guitar_items_first_including_the_cold_start_one() {
        let model = model();
        let got = model.recommend(&Query::new(&[0, 1], 5)).unwrap();
        let got = items(&got);
        assert_eq!(got.len(), 5);
        // The three other guitar items first, the unbought Squier among them.
        let mut first3 = got[..3].to_vec();
        first3.sort_unstable();
        assert_eq!(first3, [2, 3, COLD_START], "{got:?}");
        assert!(got[3..].iter().all(|i| !GUITAR_ITEMS.contains(i)));
        assert!(
            !got.contains(&0) && !got.contains(&1),
            "history is excluded"
        );
    }

    #[test]
    fn exclude_is_respected_and_results_are_well_formed() {
        let model = model();
        let query = Query {
            exclude: &[2, COLD_START],
            ..Query::new(&[0, 1], 20)
        };
        let got = model.recommend(&query).unwrap();
        let ids = items(&got);
        assert!(
            !ids.iter().any(|i| [0, 1, 2, COLD_START].contains(i)),
            "{ids:?}"
        );
        assert_eq!(ids[0], 3);
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len());
        assert!(got.iter().all(|s| s.score.is_finite()));
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(model.recommend(&Query::new(&[0], 0)).unwrap().is_empty());
        // Exactly k when k unseen items exist, matched by content or not.
        assert_eq!(model.recommend(&Query::new(&[0, 1], 7)).unwrap().len(), 7);
    }

    #[test]
    fn recent_history_weighs_more() {
        let model = model();
        let params = Params::new().with("recency_decay", ParamValue::Float(0.1));
        let recent = ContentModel::train(&Fixture::new().data(), &params).unwrap();
        // Oldest a guitar, newest a drum kit: drums first with a strong decay.
        let got = items(&recent.recommend(&Query::new(&[0, 4], 2)).unwrap());
        assert!(DRUM_ITEMS.contains(&got[0]), "{got:?}");
        let got = items(&recent.recommend(&Query::new(&[4, 0], 2)).unwrap());
        assert!(GUITAR_ITEMS.contains(&got[0]), "{got:?}");
        let _ = model;
    }

    #[test]
    fn empty_or_textless_history_falls_back_to_popularity() {
        let model = model();
        // Items 2, 3 and 5 have three interactions each.
        let got = model.recommend(&Query::new(&[], 3)).unwrap();
        assert_eq!(items(&got), [2, 3, 5]);
        assert_eq!(got[0].score, 1.0);
        let got = model.recommend(&Query::new(&[8], 3)).unwrap();
        assert_eq!(items(&got), [2, 3, 5]);
        let query = Query {
            exclude: &[3],
            ..Query::new(&[], 2)
        };
        assert_eq!(items(&model.recommend(&query).unwrap()), [2, 5]);
    }

    #[test]
    fn popularity_weight_blends_in_the_prior() {
        let params = Params::new().with("popularity_weight", ParamValue::Float(100.0));
        let model = ContentModel::train(&Fixture::new().data(), &params).unwrap();
        let got = items(&model.recommend(&Query::new(&[0, 1], 3)).unwrap());
        // The prior dominates: the popular strings and drum sticks beat the unbought Squier.
        assert_eq!(got, [2, 3, 5]);
    }

    #[test]
    fn similar_items_of_a_drum_are_drums() {
        let model = model();
        let got = items(&model.similar_items(5, 3).unwrap());
        assert_eq!(got.len(), 3);
        assert!(!got.contains(&5));
        assert_eq!(got[0], 6, "the other drum sticks first: {got:?}");
        assert_eq!(got[1], 4);
        let got = items(&model.similar_items(2, 2).unwrap());
        assert_eq!(got[0], 3, "strings are like strings: {got:?}");
        // No text: popularity, without the item itself.
        assert_eq!(items(&model.similar_items(8, 2).unwrap()), [2, 3]);
        let err = model.similar_items(99, 2).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
    }

    #[test]
    fn search_ranks_strings_first_and_never_fails_on_syntax() {
        let model = model();
        let got = model.search("fender strings", 4).unwrap();
        let ids = items(&got);
        assert_eq!(ids[0], 2, "{ids:?}");
        assert!(ids.contains(&3) && ids.contains(&0));
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(model.search("\"unclosed AND (", 5).is_ok());
        assert!(model.search("drum AND (sticks", 5).is_ok());
        assert!(model.search("", 5).unwrap().is_empty());
        assert!(model.search("fender", 0).unwrap().is_empty());
        assert_eq!(items(&model.search("hickory", 5).unwrap()), [5]);
        assert_eq!(items(&model.search("brand:zildjian", 5).unwrap()), [6]);
    }

    #[test]
    fn explain_names_shared_terms_and_history_items() {
        let model = model();
        let history = [4, 2];
        let e = model.explain(&Query::new(&history, 5), 3).unwrap();
        assert!(e.text.starts_with("matches: "), "{}", e.text);
        let terms: Vec<&str> = e
            .contributions
            .iter()
            .filter_map(|c| c.term.as_deref())
            .collect();
        for word in ["strings", "nickel", "guitar"] {
            assert!(terms.contains(&word), "{word} in {terms:?}");
            assert!(e.text.contains(word), "{}", e.text);
        }
        assert!(!terms.contains(&"drum"));
        let history_items: Vec<(u32, f32)> = e
            .contributions
            .iter()
            .filter_map(|c| Some((c.item?, c.weight)))
            .collect();
        // The strings share most; the drum kit only "musical instruments", found everywhere.
        assert_eq!(history_items[0].0, 2, "{history_items:?}");
        assert!(history_items[1..]
            .iter()
            .all(|h| h.1 < history_items[0].1 / 5.0));
        assert!(e
            .contributions
            .windows(2)
            .all(|w| w[0].weight >= w[1].weight));
        let none = model.explain(&Query::new(&[], 5), 3).unwrap();
        assert!(none.contributions.is_empty());
        assert!(none.text.contains("popular"), "{}", none.text);
        assert!(model.explain(&Query::new(&[0], 5), 42).is_err());
    }

    #[test]
    fn training_without_item_text_fails_clearly() {
        let fixture = Fixture::new();
        let err = ContentModel::train(&TrainData::new(fixture.csr()), &Params::new()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert_eq!(err.message, NO_ITEM_TEXT);
        let blank = ItemTextTable::new((0..ITEMS.len()).map(|_| ItemText {
            title: " ",
            description: "<br/>",
            ..ItemText::default()
        }));
        let data = TrainData::new(fixture.csr()).with_item_text(blank).unwrap();
        let err = ContentModel::train(&data, &Params::new()).unwrap_err();
        assert_eq!(err.message, NO_ITEM_TEXT);
    }

    #[test]
    fn bad_params_are_refused() {
        let fixture = Fixture::new();
        let data = fixture.data();
        let err = ContentModel::train(&data, &Params::new().with("neighbours", ParamValue::Int(3)))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams);
        let err = ContentModel::train(&data, &Params::new().with("max_terms", ParamValue::Int(0)))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams);
        assert!(err.message.contains("max_terms"));
    }

    #[test]
    fn info_declares_capabilities_and_described_params() {
        let info = ContentModel::info();
        assert_eq!(info.name, "content");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        for c in [
            Capability::Recommend,
            Capability::SimilarItems,
            Capability::Explain,
            Capability::Search,
            Capability::SaveLoad,
            Capability::ItemText,
            Capability::FoldIn,
        ] {
            assert!(info.has(c), "{c:?}");
        }
        assert!(info.params.iter().all(|p| !p.description.is_empty()));
        assert!(info.params.iter().any(|p| p.name == "index_dir"));
    }

    #[test]
    fn save_load_roundtrip_gives_identical_answers() {
        let params = Params::new()
            .with("max_terms", ParamValue::Int(10))
            .with("popularity_weight", ParamValue::Float(0.25));
        let model = ContentModel::train(&Fixture::new().data(), &params).unwrap();
        let bytes = model.save().unwrap();
        let restored = ContentModel::load(&bytes).unwrap();
        assert_eq!(restored.config(), model.config());
        assert_eq!(restored.docs(), model.docs());
        assert_eq!(restored.save().unwrap(), bytes);
        for history in [&[][..], &[0], &[0, 1], &[4, 6], &[2, 5, 8]] {
            let q = Query::new(history, 9);
            assert_eq!(
                restored.recommend(&q).unwrap(),
                model.recommend(&q).unwrap()
            );
        }
        assert_eq!(
            restored.similar_items(4, 5).unwrap(),
            model.similar_items(4, 5).unwrap()
        );
        assert_eq!(
            restored.search("electric guitar", 5).unwrap(),
            model.search("electric guitar", 5).unwrap()
        );
    }

    #[test]
    fn corrupt_bytes_are_rejected_without_panicking() {
        let bytes = model().save().unwrap();
        for len in 0..bytes.len() {
            let err = ContentModel::load(&bytes[..len]).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput, "prefix {len}");
        }
        for at in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            assert!(ContentModel::load(&bad).is_err(), "flipped byte {at}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ContentModel::load(&longer).is_err());
        let err = ContentModel::load(b"RECSYSMF\x01\0\0\0\0\0\0\0").unwrap_err();
        assert!(err.message.contains("magic"), "{err}");
    }

    #[test]
    fn builds_its_index_in_a_directory_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("content-index");
        let params = Params::new().with(
            "index_dir",
            ParamValue::Str(path.to_string_lossy().into_owned()),
        );
        let on_disk = ContentModel::train(&Fixture::new().data(), &params).unwrap();
        assert!(path.join("meta.json").exists());
        let q = Query::new(&[0, 1], 5);
        assert_eq!(
            on_disk.recommend(&q).unwrap(),
            model().recommend(&q).unwrap()
        );
        // A saved on-disk model rebuilds its index there on load.
        let restored = ContentModel::load(&on_disk.save().unwrap()).unwrap();
        assert_eq!(
            restored.recommend(&q).unwrap(),
            on_disk.recommend(&q).unwrap()
        );
    }

    #[test]
    fn serves_many_threads_at_once() {
        let model = model();
        let expected = model.recommend(&Query::new(&[0, 1], 4)).unwrap();
        let expected_search = model.search("drum sticks", 3).unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20 {
                        assert_eq!(model.recommend(&Query::new(&[0, 1], 4)).unwrap(), expected);
                        assert_eq!(model.search("drum sticks", 3).unwrap(), expected_search);
                    }
                });
            }
        });
    }
}
