//! The tantivy index over the items' text: schema, analyzer, building (in RAM or in a
//! directory) and the searcher the model queries.
//!
//! One document per item that has any text: the four [`TextField`]s, tokenized by the
//! [`ANALYZER`] (letters and digits, lower-cased, ASCII-folded, English stop words removed,
//! Porter-stemmed) with frequencies and positions (phrase queries in search), and the item
//! index as a `u64` fast field ([`ITEM_FIELD`]) that maps hits back to items.

use std::path::Path;
use std::sync::Arc;

use tantivy::directory::MmapDirectory;
use tantivy::query::Query;
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{
    Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, Term,
};

use crate::collector::TopItems;
pub use crate::collector::ITEM_FIELD;
use crate::error::{ContentError, Result};
use crate::text::{ItemDoc, TextField};

/// Name under which the analyzer is registered with the index.
pub const ANALYZER: &str = "recsys_en";

/// Lucene's English stop words (the list tantivy ships behind its `stopwords` feature).
const STOP_WORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// Tokens longer than this (in bytes) are dropped: URLs, serial numbers, base64 junk.
const MAX_TOKEN_LEN: usize = 40;

/// Indexing memory budget per writer thread (tantivy's minimum is 15 MB).
const WRITER_BUDGET_PER_THREAD: usize = 50_000_000;

/// The text analyzer of every text field (and of more-like-this term extraction).
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(STOP_WORDS.map(String::from)))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The index schema: the four text fields, then the item fast field.
fn schema() -> Schema {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    for field in TextField::ALL {
        builder.add_text_field(field.name(), text.clone());
    }
    builder.add_u64_field(ITEM_FIELD, FAST);
    builder.build()
}

/// A built index and a reader over it; cheap to search from many threads at once.
pub struct ItemIndex {
    index: Index,
    reader: IndexReader,
    fields: [Field; 4],
    analyzer: TextAnalyzer,
}

impl std::fmt::Debug for ItemIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemIndex")
            .field("docs", &self.reader.searcher().num_docs())
            .finish_non_exhaustive()
    }
}

impl ItemIndex {
    /// Indexes every item that has text; `docs[i]` is item `i`. The index lives in RAM, or in
    /// `dir` when given (created if missing; an index of this schema already there is
    /// emptied and rebuilt, anything else there is refused).
    pub fn build(docs: &[ItemDoc], dir: Option<&Path>) -> Result<ItemIndex> {
        let schema = schema();
        let index = match dir {
            None => Index::create_in_ram(schema.clone()),
            Some(path) => open_dir(path, &schema)?,
        };
        let analyzer = analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let fields = TextField::ALL.map(|f| schema.get_field(f.name()).expect("in the schema"));
        let item_field = schema.get_field(ITEM_FIELD).expect("in the schema");

        let with_text = docs.iter().filter(|d| !d.is_empty()).count();
        let threads = if with_text < 50_000 {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
        };
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(threads, threads * WRITER_BUDGET_PER_THREAD)?;
        writer.delete_all_documents()?;
        for (i, doc) in docs.iter().enumerate() {
            if doc.is_empty() {
                continue;
            }
            let mut d = TantivyDocument::default();
            for (field, text) in fields.iter().zip(&doc.fields) {
                if !text.is_empty() {
                    d.add_text(*field, text);
                }
            }
            d.add_u64(item_field, i as u64);
            writer.add_document(d)?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(ItemIndex {
            index,
            reader,
            fields,
            analyzer,
        })
    }

    /// The index (for query parsers, which need its schema and tokenizers).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The tantivy field of a text field.
    pub fn field(&self, field: TextField) -> Field {
        self.fields[field as usize]
    }

    /// Number of indexed items (those with text).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// A copy of the analyzer of the text fields (analyzing needs `&mut`).
    pub fn analyzer(&self) -> TextAnalyzer {
        self.analyzer.clone()
    }

    /// The term of `field` for an analyzed token.
    pub fn term(&self, field: TextField, token: &str) -> Term {
        Term::from_field_text(self.field(field), token)
    }

    /// In how many items `field` holds the analyzed token.
    pub fn doc_freq(&self, field: TextField, token: &str) -> Result<u64> {
        Ok(self.reader.searcher().doc_freq(&self.term(field, token))?)
    }

    /// In how many items each field holds the analyzed token, in [`TextField::ALL`] order.
    pub fn doc_freqs(&self, token: &str) -> Result<[u64; 4]> {
        let searcher = self.reader.searcher();
        let mut dfs = [0; 4];
        for field in TextField::ALL {
            dfs[field as usize] = searcher.doc_freq(&self.term(field, token))?;
        }
        Ok(dfs)
    }

    /// The `limit` best items for `query`, leaving out `skip` (sorted ascending), best first.
    pub fn top_items(
        &self,
        query: &dyn Query,
        limit: usize,
        skip: Arc<[u32]>,
    ) -> Result<Vec<(u32, f32)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        Ok(self
            .reader
            .searcher()
            .search(query, &TopItems::new(limit, skip))?)
    }
}

/// Opens (or creates) the on-disk index in `path`.
fn open_dir(path: &Path, schema: &Schema) -> Result<Index> {
    let dir_error = |source| ContentError::IndexDir {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(path).map_err(dir_error)?;
    let directory = MmapDirectory::open(path).map_err(tantivy::TantivyError::from)?;
    let exists = Index::exists(&directory).map_err(tantivy::TantivyError::from)?;
    if !exists {
        return Ok(Index::create(
            directory,
            schema.clone(),
            IndexSettings::default(),
        )?);
    }
    let index = Index::open(directory)?;
    if index.schema() != *schema {
        return Err(dir_error(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "it holds a tantivy index that is not a recsys content index; choose an empty \
             directory",
        )));
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::query::TermQuery;

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

    fn tokens(text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push(token.text.clone());
        }
        out
    }

    #[test]
    fn analyzer_lowercases_stems_and_drops_stop_words() {
        assert_eq!(
            tokens("The Fender Strings for Guitars, café"),
            ["fender", "string", "guitar", "cafe"]
        );
    }

    #[test]
    fn maps_hits_to_items_and_skips_empty_and_excluded_items() {
        let docs = [
            doc("Fender guitar", ""),
            ItemDoc::default(),
            doc("Drum sticks", "for the drum"),
            doc("Guitar strings", "strings for guitar"),
        ];
        let index = ItemIndex::build(&docs, None).unwrap();
        assert_eq!(index.num_docs(), 3);
        assert_eq!(index.doc_freq(TextField::Title, "guitar").unwrap(), 2);
        let query = TermQuery::new(
            index.term(TextField::Title, "guitar"),
            IndexRecordOption::WithFreqs,
        );
        let hits = index.top_items(&query, 10, Arc::from([])).unwrap();
        let mut items: Vec<u32> = hits.iter().map(|h| h.0).collect();
        items.sort_unstable();
        assert_eq!(items, [0, 3]);
        let hits = index.top_items(&query, 10, Arc::from([3])).unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), [0]);
        assert_eq!(index.top_items(&query, 1, Arc::from([])).unwrap().len(), 1);
    }

    #[test]
    fn builds_in_a_directory_and_rebuilds_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let first = ItemIndex::build(&[doc("Fender guitar", "")], Some(&path)).unwrap();
        assert_eq!(first.num_docs(), 1);
        assert!(path.join("meta.json").exists());
        let docs = [doc("Drum", ""), doc("Guitar", ""), doc("Bass guitar", "")];
        let second = ItemIndex::build(&docs, Some(&path)).unwrap();
        assert_eq!(second.num_docs(), 3);
        assert_eq!(second.doc_freq(TextField::Title, "guitar").unwrap(), 2);
    }

    #[test]
    fn refuses_a_foreign_index_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = Schema::builder();
        builder.add_text_field("body", tantivy::schema::TEXT);
        Index::create_in_dir(dir.path(), builder.build()).unwrap();
        let err = ItemIndex::build(&[doc("Guitar", "")], Some(dir.path())).unwrap_err();
        assert!(
            err.to_string().contains("not a recsys content index"),
            "{err}"
        );
    }
}
