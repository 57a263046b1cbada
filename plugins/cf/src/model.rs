//! The trained model and the answers it gives: recommendations, similar items, explanations.

use recsys_plugin_api::{
    top_k_iter, Contribution, Explanation, PluginError, Query, Scored, TrainData,
};

use crate::accumulator::with_scratch;
use crate::history::HistoryVector;
use crate::item_knn::ItemKnn;
use crate::matrix;
use crate::popularity::Popularity;
use crate::sequence::Sequence;
use crate::similarity::{best_first, keep_best};
use crate::user_knn::UserKnn;
use crate::{Config, Mode};

/// At most this many contributions are listed in an explanation.
pub const MAX_CONTRIBUTIONS: usize = 10;

/// A trained neighbourhood collaborative-filtering model (the plugin's [`Recommender`]).
///
/// [`Recommender`]: recsys_plugin_api::Recommender
#[derive(Debug, Clone)]
pub struct Cf {
    pub(crate) config: Config,
    pub(crate) n_users: usize,
    pub(crate) n_items: usize,
    pub(crate) popularity: Popularity,
    pub(crate) kind: Kind,
    /// What users took after what (`sequence_weight` > 0 and timestamps at training).
    pub(crate) sequence: Option<Sequence>,
}

/// The mode-specific part of the model.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Item(ItemKnn),
    User(Box<UserKnn>),
}

impl Cf {
    /// Trains a model on `data` with `config` (validated again here).
    pub fn fit(data: &TrainData<'_>, config: Config) -> Result<Self, PluginError> {
        config.validate()?;
        let x = matrix::from_view(data.interactions(), config.binary)?;
        let mut model = Self::from_interactions(&x, config);
        if let Some(timestamps) = data.timestamps().filter(|_| config.sequence_weight > 0.0) {
            let view = data.interactions();
            model.sequence = Some(Sequence::fit(
                view.indptr(),
                view.indices(),
                timestamps,
                view.n_cols(),
                config.sequence_window,
                config.sequence_shrinkage,
                config.neighbours,
            ));
        }
        Ok(model)
    }

    /// Builds the model from the (binarised when configured) user x item matrix.
    pub(crate) fn from_interactions(x: &matrix::Csr, config: Config) -> Self {
        let kind = match config.mode {
            Mode::Item => Kind::Item(ItemKnn::train(x, &config)),
            Mode::User => Kind::User(Box::new(UserKnn::new(x, &config))),
        };
        Cf {
            config,
            n_users: x.rows(),
            n_items: x.cols(),
            popularity: Popularity::of(x),
            kind,
            sequence: None,
        }
    }

    /// The configuration the model was trained with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of items in the catalogue.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Number of users in the training data.
    pub fn n_users(&self) -> usize {
        self.n_users
    }

    fn check_item(&self, item: u32) -> Result<(), PluginError> {
        if item as usize >= self.n_items {
            return Err(PluginError::invalid_input(format!(
                "item {item} is out of range (catalogue has {} items)",
                self.n_items
            )));
        }
        Ok(())
    }

    /// See [`Recommender::recommend`](recsys_plugin_api::Recommender::recommend): neighbour
    /// scores, then popular items to fill up to `k` (score 0); for an empty history, the most
    /// popular items scored by their interaction counts.
    pub(crate) fn recommend_for(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        query.validate(self.n_items)?;
        let history =
            HistoryVector::from_query(query, self.config.binary, self.config.recency_decay)?;
        // More than the catalogue cannot be returned; clamping also keeps `top_k_iter` from
        // sizing its heap by an absurd `k`.
        let k = query.k.min(self.n_items);
        if k == 0 {
            return Ok(Vec::new());
        }
        if history.is_empty() {
            let mut out = Vec::with_capacity(k);
            let counts = self.popularity.counts();
            self.popularity.fill(
                &mut out,
                k,
                query.exclude,
                |_| false,
                |i| counts[i as usize],
            );
            return Ok(out);
        }
        Ok(with_scratch(|scratch| {
            scratch.items.reset(self.n_items);
            match &self.kind {
                Kind::Item(m) => m.score(&history, 1.0, &mut scratch.items),
                Kind::User(m) => {
                    let own_row = query.user.filter(|&u| (u as usize) < self.n_users);
                    m.score(&history, own_row, scratch)
                }
            }
            if let Some(sequence) = &self.sequence {
                sequence.score(&history, self.config.sequence_weight, &mut scratch.items);
            }
            let scores = &scratch.items;
            let candidates = scores
                .iter()
                .filter(|&(item, score)| score > 0.0 && !query.is_excluded(item));
            let mut out = top_k_iter(candidates, k);
            if out.len() < k {
                // Every positively scored item is already in `out`.
                self.popularity
                    .fill(&mut out, k, query.exclude, |i| scores.get(i) > 0.0, |_| 0.0);
            }
            out
        }))
    }

    /// See [`Recommender::similar_items`](recsys_plugin_api::Recommender::similar_items).
    pub(crate) fn similar_to(&self, item: u32, k: usize) -> Result<Vec<Scored>, PluginError> {
        self.check_item(item)?;
        let pairs = match &self.kind {
            Kind::Item(m) => m.similar(item, k),
            Kind::User(m) => with_scratch(|scratch| {
                let mut pairs = m.item_similarities(item, &mut scratch.items);
                keep_best(&mut pairs, k);
                pairs.sort_unstable_by(best_first);
                pairs
            }),
        };
        Ok(pairs
            .into_iter()
            .map(|(item, score)| Scored { item, score })
            .collect())
    }

    /// See [`Recommender::explain`](recsys_plugin_api::Recommender::explain).
    pub(crate) fn explain_for(
        &self,
        query: &Query<'_>,
        item: u32,
    ) -> Result<Explanation, PluginError> {
        query.validate(self.n_items)?;
        self.check_item(item)?;
        let history =
            HistoryVector::from_query(query, self.config.binary, self.config.recency_decay)?;
        let users = self.popularity.counts()[item as usize];
        if history.is_empty() {
            return Ok(Explanation {
                text: format!("item {item} is popular: {users} users interacted with it"),
                contributions: Vec::new(),
            });
        }
        let mut contributions: Vec<(u32, f32)> = match &self.kind {
            Kind::Item(m) => history
                .iter()
                .map(|(h, w)| (h, w * m.similarity(h, item)))
                .collect(),
            Kind::User(m) => {
                let mut sims =
                    with_scratch(|scratch| m.item_similarities(item, &mut scratch.items));
                sims.sort_unstable_by_key(|&(j, _)| j);
                let sim = |h: u32| {
                    sims.binary_search_by_key(&h, |&(j, _)| j)
                        .map_or(0.0, |i| sims[i].1)
                };
                history.iter().map(|(h, w)| (h, w * sim(h))).collect()
            }
        };
        if let Some(sequence) = &self.sequence {
            // Both lists above follow the history's order.
            let weight = self.config.sequence_weight;
            for ((h, w), c) in history.iter().zip(&mut contributions) {
                c.1 += weight * w * sequence.strength(h, item);
            }
        }
        contributions.retain(|&(_, w)| w > 0.0);
        contributions.sort_unstable_by(best_first);
        contributions.truncate(MAX_CONTRIBUTIONS);
        let text = if contributions.is_empty() {
            format!(
                "item {item} is not similar to anything you interacted with; it is recommended \
                 for its popularity ({users} users interacted with it)"
            )
        } else {
            let names: Vec<String> = contributions
                .iter()
                .take(3)
                .map(|(h, _)| format!("item {h}"))
                .collect();
            format!("because you interacted with {}", join_names(&names))
        };
        Ok(Explanation {
            text,
            contributions: contributions
                .into_iter()
                .map(|(h, weight)| Contribution {
                    item: Some(h),
                    term: None,
                    weight,
                })
                .collect(),
        })
    }
}

/// "a", "a and b", "a, b and c".
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_names_for_people() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(join_names(&n(&["item 1"])), "item 1");
        assert_eq!(join_names(&n(&["item 1", "item 2"])), "item 1 and item 2");
        assert_eq!(
            join_names(&n(&["item 1", "item 2", "item 3"])),
            "item 1, item 2 and item 3"
        );
    }
}
