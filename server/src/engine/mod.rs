//! The engine as a library: plugins trained on a dataset and fused into one ensemble, answering
//! recommend / similar / search / explain for ASINs, with no HTTP server, Kafka or MongoDB.
//!
//! ```no_run
//! use recsys::dataset::Dataset;
//! use recsys::engine::{Engine, Interest};
//!
//! # fn main() -> recsys::Result<()> {
//! let dataset = Dataset::read(&["reviews.json.gz".into(), "meta.json.gz".into()], None)?;
//! let engine = Engine::builder()
//!     .plugin_dir("target/release")?
//!     .plugins("cf,mf")
//!     .train(&dataset)?;
//! // A history the models never saw is folded in, without retraining.
//! let history = [Interest::like("B0001"), Interest::like("B0002")];
//! for rec in engine.recommend(&history, 10)? {
//!     println!("{} {:.3} {}", rec.asin, rec.score, rec.because);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Statically linked plugins are registered with [`EngineBuilder::register`] instead of (or
//! besides) a plugin directory; both go through the same [`crate::plugins::LoadedPlugin`].

mod builder;
mod catalogue;

use recsys_plugin_api::{Capability, Query};
use serde::{Deserialize, Serialize};

pub use builder::EngineBuilder;
pub use catalogue::{Catalogue, Product};

use crate::eval::{EnsembleSpec, Fusion};
use crate::plugins::TrainedModel;
use crate::{Error, Result};

/// One thing a user expressed about an item, as the engine uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interest {
    /// The item.
    pub asin: String,
    /// Strength: > 0 is a positive signal (a like is 1), <= 0 removes the item from the
    /// recommendations without counting it as liked (a dislike).
    pub weight: f32,
}

impl Interest {
    /// A like (weight 1).
    pub fn like(asin: impl Into<String>) -> Self {
        Interest {
            asin: asin.into(),
            weight: 1.0,
        }
    }
    /// A dislike (weight -1): never recommended, not used as a signal.
    pub fn dislike(asin: impl Into<String>) -> Self {
        Interest {
            asin: asin.into(),
            weight: -1.0,
        }
    }
    /// A star rating: 4 and 5 stars are positive signals (5 stronger), 1 to 3 stars exclude
    /// the item like a dislike.
    pub fn rating(asin: impl Into<String>, stars: f32) -> Self {
        Interest {
            asin: asin.into(),
            weight: if stars >= 4.0 { stars - 3.0 } else { -1.0 },
        }
    }
}

/// How one plugin ranked a recommended item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The plugin.
    pub plugin: String,
    /// 1-based rank in that plugin's list.
    pub rank: usize,
    /// Its share of the fused score.
    pub share: f64,
}

/// One recommended item, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The item.
    pub asin: String,
    /// The fused score (weighted reciprocal rank).
    pub score: f64,
    /// The plugins that ranked it, largest share first.
    pub sources: Vec<Source>,
    /// One sentence for people, from the plugin that contributed most.
    pub because: String,
    /// The liked items that contributed most (ASINs), when the plugin could tell.
    pub because_items: Vec<String>,
    /// Matching terms, for content-based explanations.
    pub because_terms: Vec<String>,
}

/// An item and a similarity or relevance score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    /// The item.
    pub asin: String,
    /// Plugin score (higher is better).
    pub score: f32,
}

/// How one member ranked an item: (member index, 1-based rank, its part of the fused score).
type Vote = (usize, usize, f64);

/// A trained member of the ensemble.
#[derive(Debug)]
struct Member {
    model: TrainedModel,
    /// `plugin` or `plugin:preset` (two members may be the same plugin).
    label: String,
    weight: f64,
    similar: bool,
    explain: bool,
}

/// Plugins trained on a catalogue's interactions and fused with the weights of an
/// [`EnsembleSpec`]. Cheap to share (`Arc<Engine>`); every method takes `&self` and is safe to
/// call from many threads.
#[derive(Debug)]
pub struct Engine {
    catalogue: Catalogue,
    members: Vec<Member>,
    /// A model trained only for search, when no member can search.
    searcher: Option<TrainedModel>,
    spec: EnsembleSpec,
    version: String,
}

impl Engine {
    /// A builder: where the plugins come from, which to use, with what parameters.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::new()
    }

    /// The catalogue the models were trained on.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The ensemble in use (members, parameters, weights).
    pub fn ensemble(&self) -> &EnsembleSpec {
        &self.spec
    }

    /// An id of this trained model set (dataset, members, weights and training time), stored
    /// with every recommendation so that it can be traced to the models that made it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The members in use (weight > 0) by label (`cf`, `cf:implicit-bm25`), with their
    /// weights and whether each is still healthy.
    pub fn members(&self) -> Vec<(String, f64, Option<String>)> {
        self.members
            .iter()
            .map(|m| (m.label.clone(), m.weight, m.model.failure()))
            .collect()
    }

    /// Resolves interests to item indices: (positive history oldest first with weights,
    /// excluded items sorted). Unknown ASINs are an error naming them.
    fn resolve(&self, history: &[Interest]) -> Result<(Vec<u32>, Vec<f32>, Vec<u32>)> {
        let mut items = Vec::new();
        let mut weights = Vec::new();
        let mut exclude = Vec::new();
        for interest in history {
            let item = self
                .catalogue
                .index(&interest.asin)
                .ok_or_else(|| Error::NotFound(format!("unknown product `{}`", interest.asin)))?;
            exclude.push(item);
            if interest.weight > 0.0 && interest.weight.is_finite() {
                items.push(item);
                weights.push(interest.weight);
            }
        }
        exclude.sort_unstable();
        exclude.dedup();
        Ok((items, weights, exclude))
    }

    /// The top `k` items for a history (oldest first), excluding every item in it. Histories
    /// the models never saw are folded in without retraining; an empty history gets what the
    /// members recommend to a new user (popular items for most). Members that fail are
    /// skipped (and a member that panicked is disabled); only when all fail is it an error.
    pub fn recommend(&self, history: &[Interest], k: usize) -> Result<Vec<Recommendation>> {
        let (items, weights, exclude) = self.resolve(history)?;
        let depth = self.spec.depth.max(k);
        let query = Query {
            user: None,
            history: &items,
            weights: Some(&weights),
            exclude: &exclude,
            k: depth,
        };
        let mut lists: Vec<(usize, Vec<u32>)> = Vec::with_capacity(self.members.len());
        let mut last_error = None;
        for (i, member) in self.members.iter().enumerate() {
            match member.model.recommend(&query) {
                Ok(list) => lists.push((i, list.into_iter().map(|s| s.item).collect())),
                Err(e) => last_error = Some(e),
            }
        }
        if lists.is_empty() {
            return Err(
                last_error.unwrap_or_else(|| Error::Usage("the ensemble has no members".into()))
            );
        }
        // The evaluation's fusion, over the members that answered.
        let fusion = Fusion {
            weights: lists.iter().map(|(m, _)| self.members[*m].weight).collect(),
            rank_constant: self.spec.rank_constant,
        };
        let slices: Vec<&[u32]> = lists.iter().map(|(_, l)| l.as_slice()).collect();
        let fused = fusion.fuse_scored(&slices, k);
        // Who ranked each fused item where, and its part of the score, largest first.
        let votes = |item: u32| -> Vec<Vote> {
            let mut votes: Vec<Vote> = lists
                .iter()
                .zip(&fusion.weights)
                .filter_map(|((m, list), w)| {
                    let rank = list.iter().position(|&i| i == item)? + 1;
                    Some((*m, rank, w / (fusion.rank_constant + rank as f64)))
                })
                .collect();
            votes.sort_by(|a, b| b.2.total_cmp(&a.2));
            votes
        };
        let explain_query = Query { k, ..query };
        Ok(fused
            .into_iter()
            .map(|(item, score)| self.recommendation(&explain_query, item, score, &votes(item)))
            .collect())
    }

    fn recommendation(
        &self,
        query: &Query<'_>,
        item: u32,
        score: f64,
        sources: &[Vote],
    ) -> Recommendation {
        let mut rec = Recommendation {
            asin: self.catalogue.asin(item).to_string(),
            score,
            sources: sources
                .iter()
                .map(|&(m, rank, s)| Source {
                    plugin: self.members[m].label.clone(),
                    rank,
                    share: s / score,
                })
                .collect(),
            because: String::new(),
            because_items: Vec::new(),
            because_terms: Vec::new(),
        };
        // The explanation of the member with the largest share that can explain.
        let explained = sources.iter().find_map(|&(m, _, _)| {
            let member = &self.members[m];
            if !member.explain || query.history.is_empty() {
                return None;
            }
            member.model.explain(query, item).ok()
        });
        match explained {
            Some(e) => {
                for c in &e.contributions {
                    if let Some(i) = c.item {
                        if (i as usize) < self.catalogue.len() {
                            rec.because_items.push(self.catalogue.asin(i).to_string());
                        }
                    }
                    if let Some(t) = &c.term {
                        rec.because_terms.push(t.clone());
                    }
                }
                rec.because_items.truncate(3);
                rec.because_terms.truncate(5);
                rec.because = if let Some(first) = rec.because_items.first() {
                    let title = self.catalogue.title(first).unwrap_or(first);
                    format!("because you liked {title}")
                } else if !rec.because_terms.is_empty() {
                    format!("matches {}", rec.because_terms.join(", "))
                } else {
                    e.text
                };
            }
            None => {
                rec.because = if query.history.is_empty() {
                    "popular with other shoppers".into()
                } else {
                    format!(
                        "ranked #{} by {}",
                        rec.sources[0].rank, rec.sources[0].plugin
                    )
                }
            }
        }
        rec
    }

    /// Items similar to `asin`, from the first member (by weight) that can tell.
    pub fn similar(&self, asin: &str, k: usize) -> Result<Vec<ScoredItem>> {
        let item = self
            .catalogue
            .index(asin)
            .ok_or_else(|| Error::NotFound(format!("unknown product `{asin}`")))?;
        let mut last_error = None;
        for member in self.members.iter().filter(|m| m.similar) {
            match member.model.similar_items(item, k) {
                Ok(list) => return Ok(self.scored(list)),
                Err(e) => last_error = Some(e),
            }
        }
        // No member has the capability: the ensemble's recommendation for "likes this item".
        if last_error.is_none() {
            return Ok(self
                .recommend(&[Interest::like(asin)], k)?
                .into_iter()
                .map(|r| ScoredItem {
                    asin: r.asin,
                    score: r.score as f32,
                })
                .collect());
        }
        Err(last_error.expect("checked above"))
    }

    /// Whether full-text search is available (a plugin with the search capability).
    pub fn can_search(&self) -> bool {
        self.searcher.is_some()
            || self
                .members
                .iter()
                .any(|m| m.model.capabilities().contains(&Capability::Search))
    }

    /// The `k` best matches of `text` in the catalogue (most relevant first).
    pub fn search(&self, text: &str, k: usize) -> Result<Vec<ScoredItem>> {
        let model = self.searcher.as_ref().or_else(|| {
            self.members
                .iter()
                .map(|m| &m.model)
                .find(|m| m.capabilities().contains(&Capability::Search))
        });
        match model {
            Some(m) => Ok(self.scored(m.search(text, k)?)),
            None => Err(Error::Unsupported(
                "no loaded plugin can search (the content plugin can)".into(),
            )),
        }
    }

    fn scored(&self, list: Vec<recsys_plugin_api::Scored>) -> Vec<ScoredItem> {
        list.into_iter()
            .filter(|s| (s.item as usize) < self.catalogue.len())
            .map(|s| ScoredItem {
                asin: self.catalogue.asin(s.item).to_string(),
                score: s.score,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_map_to_signals() {
        assert_eq!(Interest::rating("a", 5.0).weight, 2.0);
        assert_eq!(Interest::rating("a", 4.0).weight, 1.0);
        assert!(Interest::rating("a", 3.0).weight < 0.0);
        assert!(Interest::dislike("a").weight < 0.0);
    }
}
