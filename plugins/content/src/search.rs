//! Full-text search over title, brand, categories and description.
//!
//! Queries use tantivy's query language (`fender strings`, `"guitar strings"`,
//! `brand:fender`, `drum -sticks`); words are OR-ed and ranked by BM25 with the fields
//! weighted as in more-like-this. Parsing is lenient: what cannot be parsed is dropped
//! (`parse_query_lenient`), and if the resulting query still fails to run, the text is
//! searched as plain words. A search box never gets an error for what a person typed.

use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::error::Result;
use crate::index::ItemIndex;
use crate::params::Config;
use crate::text::TextField;

/// A query parser over the weighted text fields.
pub struct FullText {
    parser: QueryParser,
}

impl std::fmt::Debug for FullText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FullText").finish_non_exhaustive()
    }
}

impl FullText {
    /// A parser searching every field with a non-zero weight, boosted by that weight.
    pub fn new(index: &ItemIndex, config: &Config) -> FullText {
        let fields: Vec<TextField> = TextField::ALL
            .into_iter()
            .filter(|&f| config.field_weight(f) > 0.0)
            .collect();
        let mut parser = QueryParser::for_index(
            index.index(),
            fields.iter().map(|&f| index.field(f)).collect(),
        );
        for field in fields {
            parser.set_field_boost(index.field(field), config.field_weight(field));
        }
        FullText { parser }
    }

    /// The `k` best items for `text`, best first (BM25 scores).
    pub fn search(
        &self,
        index: &ItemIndex,
        config: &Config,
        text: &str,
        k: usize,
    ) -> Result<Vec<(u32, f32)>> {
        if text.trim().is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let (query, _errors) = self.parser.parse_query_lenient(text);
        match index.top_items(&*query, k, [].into()) {
            Ok(hits) => Ok(hits),
            // E.g. a range or a field the parser accepted but the index cannot run.
            Err(_) => index.top_items(&*plain_words(index, config, text), k, [].into()),
        }
    }
}

/// The words of `text`, analyzed, OR-ed over the weighted fields; no query syntax.
fn plain_words(index: &ItemIndex, config: &Config, text: &str) -> Box<dyn Query> {
    let mut analyzer = index.analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    while let Some(token) = stream.next() {
        for field in TextField::ALL {
            let weight = config.field_weight(field);
            if weight > 0.0 {
                let query =
                    TermQuery::new(index.term(field, &token.text), IndexRecordOption::WithFreqs);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), weight)),
                ));
            }
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::ItemDoc;

    fn docs() -> Vec<ItemDoc> {
        let doc = |title: &str, brand: &str| ItemDoc {
            fields: [title.into(), brand.into(), String::new(), String::new()],
        };
        vec![
            doc("Stratocaster electric guitar", "Fender"),
            doc("Nickel guitar strings", "Fender"),
            doc("Maple drum sticks", "Vic Firth"),
        ]
    }

    #[test]
    fn ranks_matches_and_survives_bad_syntax() {
        let docs = docs();
        let index = ItemIndex::build(&docs, None).unwrap();
        let config = Config::default();
        let full_text = FullText::new(&index, &config);
        let hits = full_text
            .search(&index, &config, "fender strings", 10)
            .unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 0]);
        let hits = full_text
            .search(&index, &config, "brand:fender", 10)
            .unwrap();
        assert_eq!(hits.len(), 2);
        for bad in [
            "\"unclosed AND (",
            "title:",
            ")))",
            "AND OR NOT",
            "item:[1 TO",
            "^2",
            "*",
        ] {
            assert!(full_text.search(&index, &config, bad, 10).is_ok(), "{bad}");
        }
        assert!(full_text
            .search(&index, &config, "  ", 10)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn plain_words_fallback_matches_every_weighted_field() {
        let docs = docs();
        let index = ItemIndex::build(&docs, None).unwrap();
        let query = plain_words(&index, &Config::default(), "vic (sticks");
        let hits = index.top_items(&*query, 10, [].into()).unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [2]);
    }
}
