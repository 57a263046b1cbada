//! # recsys-content
//!
//! The content-based plugin of recsys (plugin name `content`): recommends items whose text
//! (title, brand, categories, description) is like the text of the items a user liked, so
//! that items nobody has interacted with yet can be recommended from day one (cold start),
//! and offers full-text search over the catalogue.
//!
//! ## How it works
//!
//! * **Training** cleans every item's text defensively (HTML tags and entities, see [`text`])
//!   and builds a [tantivy](https://docs.rs/tantivy) index of it, one document per item with
//!   text, in RAM or in `index_dir` ([`index`]). It also counts each item's training
//!   interactions (its popularity). Training data without item text fails with
//!   *"the content plugin needs item text (product metadata); this dataset has none"*
//!   (an `InvalidInput` error the host reports) rather than recommending nothing.
//! * **`recommend`** builds a more-like-this profile of the user's last `max_history`
//!   history items, recent ones weighing more (`recency_decay`): the `max_terms` best terms
//!   by tf-idf ([`mlt`]). Their disjunction, boosted per term and per field, is scored by
//!   BM25 over the index; the history and `exclude` are left out. The final score is
//!   `bm25 / best bm25 + (popularity_weight + 0.001) * count / highest count`: the small
//!   constant orders items with equal text by popularity, and the most popular items are
//!   always candidates, so a short list of matches is filled up by popularity.
//!   The history alone drives it (`Query::user` is not used), so new users work without
//!   retraining (fold-in); interaction strengths (`Query::weights`) are not used, recency
//!   is.
//! * **Fallback:** an empty history, or one whose text has no term shared with another item,
//!   gets the most popular training items (scores = count / highest count), never an error.
//! * **`similar_items`** is more-like-this from that one item (without the popularity
//!   weight), **`explain`** lists the profile's terms the item matches (as the words that
//!   occur in the item, e.g. "matches: guitar, strings, fender") and the history items that
//!   share the most of them, and **`search`** parses tantivy's query language leniently
//!   ([`search`]).
//! * **`save`/`load`** keep the item texts, popularity and parameters in a compact
//!   checksummed format and rebuild the index on load ([`io`]).
//!
//! A model is `Send + Sync`: it keeps a tantivy `IndexReader`, whose searchers serve any
//! number of threads at once.
//!
//! ## Parameters
//!
//! | name | default | meaning |
//! |---|---|---|
//! | `index_dir` | `""` | directory of an on-disk index; empty = RAM |
//! | `max_history` | 20 | history items (newest) that build the profile |
//! | `recency_decay` | 0.9 | weight `d^s` of the item `s` steps before the newest |
//! | `max_terms` | 40 | terms in the more-like-this query |
//! | `min_doc_freq` | 2 | terms in fewer items are not used |
//! | `popularity_weight` | 0.3 | weight of the popularity prior in recommend (0 = pure content) |
//! | `title_weight` | 2.0 | field weight of the title |
//! | `brand_weight` | 1.0 | field weight of the brand |
//! | `categories_weight` | 1.0 | field weight of the categories |
//! | `description_weight` | 0.5 | field weight of the description |
//!
//! ## Example
//!
//! ```
//! use recsys_content::ContentModel;
//! use recsys_plugin_api::{CsrView, ItemText, ItemTextTable, Params, Query, Recommender, TrainData};
//!
//! let titles = ["Fender electric guitar", "Guitar strings", "Drum sticks", "Fender acoustic guitar"];
//! let table = ItemTextTable::new(titles.iter().map(|&title| ItemText { title, ..Default::default() }));
//! // One user who bought the electric guitar and the strings; nobody bought item 3 yet.
//! let (indptr, indices, values) = ([0u64, 2], [0u32, 1], [1f32, 1.0]);
//! let csr = CsrView::new(1, 4, &indptr, &indices, &values)?;
//! let data = TrainData::new(csr).with_item_text(table)?;
//! let model = ContentModel::train(&data, &Params::new())?;
//!
//! let recs = model.recommend(&Query::new(&[0], 2))?;
//! assert_eq!(recs[0].item, 3); // the other guitar, though it has no interactions
//! assert_eq!(model.search("drum", 1)?[0].item, 2);
//! # Ok::<(), recsys_plugin_api::PluginError>(())
//! ```
#![warn(missing_docs)]

mod collector;
pub mod error;
pub mod index;
pub mod io;
pub mod mlt;
mod model;
pub mod params;
pub mod search;
pub mod text;

#[cfg(test)]
mod fixture;

pub use error::{ContentError, Result};
pub use model::ContentModel;
pub use params::Config;

// The entry symbol only for the cdylib build (feature `dylib-entry`, on by default): embedders
// that link several plugins statically turn it off and register `plugin_declaration()`.
#[cfg(feature = "dylib-entry")]
recsys_plugin_api::export_plugin!(ContentModel);
#[cfg(not(feature = "dylib-entry"))]
recsys_plugin_api::declare_plugin!(ContentModel);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{Fixture, COLD_START};
    use recsys_plugin_api::host::Plugin;
    use recsys_plugin_api::{
        Capability, CsrView, ErrorKind, ItemText, ItemTextTable, Params, Query, TrainData,
    };

    #[test]
    fn works_through_the_plugin_abi() {
        let plugin = Plugin::from_static(&RECSYS_PLUGIN_DECLARATION).unwrap();
        assert_eq!(plugin.name(), "content");
        assert!(plugin.info().has(Capability::Search));

        // Built the way a host builds it: a checked CSR view plus an item text table.
        let fixture = Fixture::new();
        let data = fixture.data();
        let model = plugin.train(&data, &Params::new()).unwrap();
        let recs = model.recommend(&Query::new(&[0, 1], 3)).unwrap();
        assert!(recs.iter().any(|s| s.item == COLD_START), "{recs:?}");
        assert_eq!(model.search("fender strings", 3).unwrap()[0].item, 2);
        assert!(model.search("\"unclosed AND (", 3).is_ok());
        assert!(!model.similar_items(5, 2).unwrap().is_empty());
        let why = model.explain(&Query::new(&[0, 1], 3), COLD_START).unwrap();
        assert!(why.text.starts_with("matches: "), "{}", why.text);

        let restored = plugin.load(&model.save().unwrap(), Some(9)).unwrap();
        assert_eq!(
            restored.recommend(&Query::new(&[4], 5)).unwrap(),
            model.recommend(&Query::new(&[4], 5)).unwrap()
        );
        let err = plugin.load(b"garbage", Some(9)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);

        // No item text: the host gets the clear message.
        let (indptr, indices, values) = ([0u64, 1], [0u32], [1f32]);
        let csr = CsrView::new(1, 2, &indptr, &indices, &values).unwrap();
        let err = plugin
            .train(&TrainData::new(csr), &Params::new())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert_eq!(err.message, error::NO_ITEM_TEXT);
        let table = ItemTextTable::new([ItemText::default(), ItemText::default()]);
        let data = TrainData::new(csr).with_item_text(table).unwrap();
        assert_eq!(
            plugin.train(&data, &Params::new()).unwrap_err().message,
            error::NO_ITEM_TEXT
        );
    }
}
