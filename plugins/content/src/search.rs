//! Full-text search over title, brand, categories and description.
//!
//! Queries use tantivy's query language (`fender strings`, `"guitar strings"`,
//! `brand:fender`, `drum -sticks`); words are OR-ed and ranked by BM25 with the fields
//! weighted as in more-like-this. Parsing is lenient: what cannot be parsed is dropped
//! (`parse_query_lenient`), and if the resulting query still fails to run, the text is
//! searched as plain words. A search box never gets an error for what a person typed.
//!
//! tantivy's parser recurses once per nested group or prefix operator, so text dense with
//! syntax (800 `(` in a row, or 1,000 `+`, overflowed a 2 MiB thread stack and aborted the
//! whole process) never reaches it: text with more than [`MAX_SYNTAX`] syntax characters is
//! searched as plain words, and only its first [`MAX_WORDS`] distinct words count.

use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::error::Result;
use crate::index::ItemIndex;
use crate::params::Config;
use crate::text::TextField;

/// Most syntax characters (`( ) [ ] { } + - ! ^ ~ " :`) a text may hold to be parsed as a query:
/// well past what a person types, and nesting this deep stays far from any stack's end.
pub const MAX_SYNTAX: usize = 32;

/// Most distinct words a plain-words search uses (each is one clause per weighted field).
pub const MAX_WORDS: usize = 64;

/// Whether `text` holds few enough syntax characters to be given to the query parser.
fn parseable(text: &str) -> bool {
    text.chars()
        .filter(|c| "()[]{}+-!^~\":".contains(*c))
        .nth(MAX_SYNTAX)
        .is_none()
}

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
        if !parseable(text) {
            return index.top_items(&*plain_words(index, config, text), k, [].into());
        }
        let (query, _errors) = self.parser.parse_query_lenient(text);
        match index.top_items(&*query, k, [].into()) {
            Ok(hits) => Ok(hits),
            // E.g. a range or a field the parser accepted but the index cannot run.
            Err(_) => index.top_items(&*plain_words(index, config, text), k, [].into()),
        }
    }
}

/// The first [`MAX_WORDS`] distinct words of `text`, analyzed, OR-ed over the weighted
/// fields; no query syntax.
fn plain_words(index: &ItemIndex, config: &Config, text: &str) -> Box<dyn Query> {
    let mut analyzer = index.analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut words = std::collections::HashSet::new();
    while let Some(token) = stream.next() {
        if !words.insert(token.text.clone()) {
            continue;
        }
        if words.len() > MAX_WORDS {
            break;
        }
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
    fn text_dense_with_syntax_is_searched_as_words_without_overflowing() {
        let docs = docs();
        let index = ItemIndex::build(&docs, None).unwrap();
        let config = Config::default();
        let full_text = FullText::new(&index, &config);
        // Each of these, long enough, overflowed the parser's recursion (800 `(` aborted a
        // release build). Test threads have 2 MiB stacks, like tokio's.
        for c in "()[]{}+-!^~\":".chars() {
            let text = format!("{}strings", c.to_string().repeat(5_000));
            let hits = full_text.search(&index, &config, &text, 10).unwrap();
            assert!(hits.len() <= 1, "{c}");
        }
        let nested = format!("{}guitar{}", "(".repeat(1_000), ")".repeat(1_000));
        let hits = full_text.search(&index, &config, &nested, 10).unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [0, 1]);
        // At the limit the parser still runs, and stays within the stack.
        let half = MAX_SYNTAX / 2;
        let deepest = format!("{}guitar{}", "(".repeat(half), ")".repeat(half));
        assert!(parseable(&deepest) && !parseable(&format!("({deepest})")));
        let hits = full_text.search(&index, &config, &deepest, 10).unwrap();
        assert_eq!(hits.len(), 2);
        let prefixed = format!("{}guitar", "+".repeat(MAX_SYNTAX));
        assert!(parseable(&prefixed));
        assert!(full_text.search(&index, &config, &prefixed, 10).is_ok());
        // Searched as words, only the first MAX_WORDS distinct ones count (repeats are free).
        let syntax = "(".repeat(MAX_SYNTAX + 1);
        let many: String = (1..MAX_WORDS).map(|i| format!("w{i} w{i} ")).collect();
        let text = format!("{syntax} {many} guitar");
        let hits = full_text.search(&index, &config, &text, 10).unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [0, 1]);
        let late = format!("{syntax} {many} w{MAX_WORDS} guitar");
        assert!(full_text
            .search(&index, &config, &late, 10)
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
