//! More-like-this: a weighted term profile of some items, and the BM25 query it becomes.
//!
//! A profile is built from a user's recent history (or one item, for similar items):
//!
//! 1. each history item gets a recency weight, `recency_decay^s` for the item `s` steps
//!    before the newest one, over the last `max_history` items ([`recency_window`]);
//! 2. each item's fields are analyzed as the index analyzes them; a term weighs
//!    `Σ_fields field_weight * sqrt(tf)` in that item ([`item_terms`]);
//! 3. a term's profile score is `Σ_items recency * item weight * idf`, with the BM25 idf
//!    `ln(1 + (N − df + 0.5) / (df + 0.5))` of its highest document frequency over the
//!    fields; terms found in fewer than `min_doc_freq` items cannot match another item (or
//!    hardly) and are dropped;
//! 4. the `max_terms` best terms are kept, each boosted by its score over the best one
//!    (Lucene's `MoreLikeThis` with boosting), and queried in every field that has them:
//!    a disjunction of `TermQuery(field, term)^(boost * field_weight)` scored by BM25.
//!
//! tantivy's own `MoreLikeThisQuery` starts from one document and knows no recency or field
//! weights, so the profile is built here and only the scoring is left to tantivy.

use std::collections::HashMap;

use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use crate::error::Result;
use crate::index::ItemIndex;
use crate::params::Config;
use crate::text::{ItemDoc, TextField};

/// At most this many tokens of one field are read (long descriptions add little more).
const MAX_TOKENS_PER_FIELD: usize = 5_000;

/// What one analyzed term weighs in one item.
#[derive(Debug, Clone, PartialEq)]
pub struct TermStat {
    /// `Σ_fields field_weight * sqrt(tf)`.
    pub weight: f32,
    /// The first word (lower-cased) that produced the term, for explanations.
    pub surface: String,
    /// In which fields the term occurs, in [`TextField::ALL`] order.
    pub fields: [bool; 4],
}

/// The analyzed terms of one item.
pub type ItemTerms = HashMap<String, TermStat>;

/// Analyzes the fields of `doc` that have a non-zero weight.
pub fn item_terms(analyzer: &mut TextAnalyzer, doc: &ItemDoc, config: &Config) -> ItemTerms {
    let mut terms = ItemTerms::new();
    for field in TextField::ALL {
        let weight = config.field_weight(field);
        let text = doc.field(field);
        if weight == 0.0 || text.is_empty() {
            continue;
        }
        let mut counts: HashMap<String, (u32, String)> = HashMap::new();
        let mut stream = analyzer.token_stream(text);
        let mut n = 0;
        while let Some(token) = stream.next() {
            n += 1;
            if n > MAX_TOKENS_PER_FIELD {
                break;
            }
            let entry = counts.entry(token.text.clone()).or_insert_with(|| {
                let surface = text.get(token.offset_from..token.offset_to).unwrap_or("");
                (0, surface.to_lowercase())
            });
            entry.0 += 1;
        }
        for (token, (tf, surface)) in counts {
            let stat = terms.entry(token).or_insert_with(|| TermStat {
                weight: 0.0,
                surface,
                fields: [false; 4],
            });
            stat.weight += weight * (tf as f32).sqrt();
            stat.fields[field as usize] = true;
        }
    }
    terms
}

/// The last `max_history` items of `history` (oldest first) with their recency weights.
pub fn recency_window(history: &[u32], config: &Config) -> Vec<(u32, f32)> {
    let start = history.len().saturating_sub(config.max_history);
    let window = &history[start..];
    let newest = window.len().saturating_sub(1);
    window
        .iter()
        .enumerate()
        .map(|(i, &item)| (item, config.recency_decay.powi((newest - i) as i32)))
        .collect()
}

/// One term of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileTerm {
    /// The analyzed term (stemmed, lower-cased).
    pub token: String,
    /// Its score over the best term's score, in (0, 1].
    pub boost: f32,
    /// The fields whose index holds the term, in [`TextField::ALL`] order.
    fields: [bool; 4],
}

/// A weighted set of terms describing some items; best term first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// The selected terms, best first.
    pub terms: Vec<ProfileTerm>,
}

impl Profile {
    /// The profile of `items` (item, weight), whose text is `docs[item]`.
    pub fn build(
        index: &ItemIndex,
        docs: &[ItemDoc],
        items: &[(u32, f32)],
        config: &Config,
    ) -> Result<Profile> {
        let mut analyzer = index.analyzer();
        let mut weights: HashMap<String, f32> = HashMap::new();
        for &(item, recency) in items {
            let Some(doc) = docs.get(item as usize) else {
                continue;
            };
            for (token, stat) in item_terms(&mut analyzer, doc, config) {
                *weights.entry(token).or_default() += recency * stat.weight;
            }
        }
        let n = index.num_docs() as f32;
        let mut scored = Vec::with_capacity(weights.len());
        for (token, weight) in weights {
            let dfs = index.doc_freqs(&token)?;
            let df = TextField::ALL
                .iter()
                .filter(|&&f| config.field_weight(f) > 0.0)
                .map(|&f| dfs[f as usize])
                .max()
                .unwrap_or(0);
            if df < config.min_doc_freq || df == 0 {
                continue;
            }
            let df = df as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let score = weight * idf;
            if score > 0.0 && score.is_finite() {
                scored.push((token, score, dfs.map(|d| d > 0)));
            }
        }
        // Best first; ties by token so that profiles (and results) are deterministic.
        scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(config.max_terms);
        let best = scored.first().map_or(1.0, |s| s.1);
        let terms = scored
            .into_iter()
            .map(|(token, score, fields)| ProfileTerm {
                token,
                boost: score / best,
                fields,
            })
            .collect();
        Ok(Profile { terms })
    }

    /// Whether no term was selected (no history text, or only terms unique to it).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The BM25 disjunction over every (field, term) pair of the profile.
    pub fn to_query(&self, index: &ItemIndex, config: &Config) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &self.terms {
            for field in TextField::ALL {
                let weight = config.field_weight(field);
                if weight == 0.0 || !term.fields[field as usize] {
                    continue;
                }
                let query =
                    TermQuery::new(index.term(field, &term.token), IndexRecordOption::WithFreqs);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), term.boost * weight)),
                ));
            }
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, description: &str) -> ItemDoc {
        ItemDoc {
            fields: [
                title.into(),
                String::new(),
                String::new(),
                description.into(),
            ],
        }
    }

    #[test]
    fn recency_window_keeps_the_newest_items() {
        let config = Config {
            max_history: 3,
            recency_decay: 0.5,
            ..Config::default()
        };
        assert_eq!(
            recency_window(&[9, 8, 7, 6], &config),
            [(8, 0.25), (7, 0.5), (6, 1.0)]
        );
        assert!(recency_window(&[], &config).is_empty());
    }

    #[test]
    fn item_terms_weigh_fields_and_remember_surface_words() {
        let config = Config::default();
        let mut analyzer = crate::index::analyzer();
        let terms = item_terms(
            &mut analyzer,
            &doc("Guitar Strings", "strings strings"),
            &config,
        );
        let strings = &terms["string"];
        // title weight 2 * sqrt(1) + description weight 0.5 * sqrt(2)
        assert!((strings.weight - (2.0 + 0.5 * 2f32.sqrt())).abs() < 1e-6);
        assert_eq!(strings.surface, "strings");
        assert_eq!(strings.fields, [true, false, false, true]);
    }

    #[test]
    fn profile_prefers_recent_shared_terms_and_drops_unique_ones() {
        let docs = [
            doc("Fender guitar", "electric"),
            doc("Guitar strings", "nickel"),
            doc("Drum sticks", "maple"),
            doc("Drum kit", "electric"),
        ];
        let index = ItemIndex::build(&docs, None).unwrap();
        let config = Config::default();
        let profile = Profile::build(&index, &docs, &[(2, 0.5), (0, 1.0)], &config).unwrap();
        let tokens: Vec<&str> = profile.terms.iter().map(|t| t.token.as_str()).collect();
        // "fender" and "stick" and "maple" occur in one item only.
        assert_eq!(tokens, ["guitar", "drum", "electr"]);
        assert_eq!(profile.terms[0].boost, 1.0);
        assert!(profile
            .terms
            .iter()
            .all(|t| t.boost > 0.0 && t.boost <= 1.0));
        let hits = index
            .top_items(&*profile.to_query(&index, &config), 10, [0, 2].into())
            .unwrap();
        assert_eq!(hits[0].0, 1, "{hits:?}");
        let empty = Profile::build(&index, &docs, &[], &config).unwrap();
        assert!(empty.is_empty());
    }
}
