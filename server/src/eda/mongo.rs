//! Feeding a [`StatsBuilder`] from the collections `recsys ingest` wrote: `products`, `reviews`
//! and the reasons in `quarantine`, each read through a cursor in batches, so that memory stays
//! bounded by the distinct users, items and (user, item) pairs as for files.

use mongodb::bson::{doc, RawDocument, RawDocumentBuf};

use super::progress::Progress;
use super::report::{EdaReport, InputSummary};
use super::source::EdaOptions;
use super::stats::StatsBuilder;
use crate::store::schema::{self, PRODUCTS, QUARANTINE, REVIEWS};
use crate::store::{MongoConfig, MongoStore, StoreError};
use crate::{Error, Result};

/// Documents the server sends per cursor batch.
const BATCH_SIZE: u32 = 1000;
/// Progress is checked every this many documents.
const PROGRESS_EVERY: u64 = 8192;

/// Connects to `config` and analyses its database (see [`analyze_store`]), on an async runtime
/// of its own (for callers without one, like the command line).
///
/// # Errors
///
/// [`StoreError::Unreachable`] naming the server (password masked) when no server answers
/// within `config.server_selection_timeout`, [`StoreError::InvalidUri`], or
/// [`StoreError::Command`] if a query fails part-way.
pub fn analyze_mongodb(config: &MongoConfig, options: &EdaOptions) -> Result<EdaReport> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    runtime.block_on(async {
        let store = MongoStore::connect(config).await?;
        analyze_store(&store, options).await
    })
}

/// Reads the `products`, `reviews` and `quarantine` collections of `store` in one streaming pass
/// (in that order, each in `_id` order) and computes the same report as
/// [`analyze_files`](super::analyze_files) does for the files ingested. Each collection is an
/// input of the report; a document that does not convert back to a record
/// ([`schema::review_from_document`], [`schema::product_from_document`]) is counted as
/// malformed with its reason, never fatal. A quarantined line counts once, however many runs
/// quarantined it (the same file ingested again).
///
/// # Errors
///
/// [`Error::NotFound`] naming the database when none of the three collections holds a
/// document (a mistyped `--db`, or nothing ingested yet), [`StoreError::Command`] if a query
/// fails.
pub async fn analyze_store(store: &MongoStore, options: &EdaOptions) -> Result<EdaReport> {
    let database = store.database();
    let mut total = 0;
    for collection in [PRODUCTS, REVIEWS, QUARANTINE] {
        total += database
            .collection::<RawDocumentBuf>(collection)
            .estimated_document_count()
            .await
            .map_err(command_error(store, format!("count of {collection}")))?;
    }
    if total == 0 {
        return Err(Error::NotFound(format!(
            "database `{}` at {} has no {PRODUCTS}, {REVIEWS} or {QUARANTINE} documents to \
             analyse: is the name right (--db)? Load files with `recsys ingest --mongodb-uri URI \
             --db {} FILE...` first",
            database.name(),
            store.uri(),
            database.name()
        )));
    }
    let mut scan = Scan {
        stats: StatsBuilder::new(options.stats.clone()),
        progress: Progress::documents(options.progress, total),
        documents: 0,
    };
    let mut inputs = Vec::with_capacity(3);
    inputs.push(
        scan.collection(store, PRODUCTS, |stats, doc| {
            stats.add_product(&schema::product_from_document(doc)?);
            Ok(())
        })
        .await?,
    );
    inputs.push(
        scan.collection(store, REVIEWS, |stats, doc| {
            stats.add_review(&schema::review_from_document(doc)?);
            Ok(())
        })
        .await?,
    );
    // Each run that reads a bad line quarantines it again (re-running an ingest is safe and
    // adds nothing else): a line counts once, told apart by its file, line and raw text.
    let seen = std::cell::RefCell::new(std::collections::HashSet::new());
    inputs.push(
        scan.collection(store, QUARANTINE, |stats, doc| {
            let reason = doc
                .get_str("reason")
                .map_err(|_| "missing field `reason`".to_owned())?;
            let file = doc.get_str("file_name").ok();
            let line = doc.get_i64("line").ok();
            let key = (
                doc.get_str("file").ok().or(file).map(str::to_owned),
                line,
                doc.get_str("raw").ok().map(str::to_owned),
            );
            if key.0.is_some() && key.1.is_some() && !seen.borrow_mut().insert(key) {
                return Ok(());
            }
            let at = file.zip(line).map(|(file, line)| format!("{file}:{line}"));
            stats.add_problem(reason, at.as_deref());
            Ok(())
        })
        .await?,
    );
    scan.progress.finish(scan.documents, scan.documents);
    Ok(scan.stats.finish(database.name(), inputs))
}

/// The state of one pass over the collections.
struct Scan {
    stats: StatsBuilder,
    progress: Progress,
    documents: u64,
}

impl Scan {
    /// Feeds every document of `collection` to `add`; a document it refuses is counted as a
    /// problem of the collection, located by its `_id`.
    async fn collection(
        &mut self,
        store: &MongoStore,
        collection: &str,
        add: impl Fn(&mut StatsBuilder, &RawDocument) -> std::result::Result<(), String>,
    ) -> Result<InputSummary> {
        let error = || command_error(store, format!("find in {collection}"));
        let mut cursor = store
            .database()
            .collection::<RawDocumentBuf>(collection)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .batch_size(BATCH_SIZE)
            .await
            .map_err(error())?;
        let mut summary = InputSummary {
            source: format!(
                "{}.{collection} at {}",
                store.database().name(),
                store.uri()
            ),
            format: collection.to_owned(),
            lines: 0,
            records: 0,
            malformed: 0,
        };
        while cursor.advance().await.map_err(error())? {
            let document = cursor.current();
            summary.lines += 1;
            match add(&mut self.stats, document) {
                Ok(()) => summary.records += 1,
                Err(reason) => {
                    summary.malformed += 1;
                    let at = match document.get_str("_id") {
                        Ok(id) => format!("{collection} {id}"),
                        Err(_) => collection.to_owned(),
                    };
                    let reason = format!("{collection} document: {reason}");
                    self.stats.add_problem(&reason, Some(&at));
                }
            }
            self.documents += 1;
            if self.documents % PROGRESS_EVERY == 0 {
                self.progress.update(self.documents, self.documents);
            }
        }
        Ok(summary)
    }
}

fn command_error(
    store: &MongoStore,
    operation: String,
) -> impl FnOnce(mongodb::error::Error) -> Error + '_ {
    move |source| {
        Error::Store(StoreError::Command {
            uri: store.uri().to_owned(),
            operation,
            source,
        })
    }
}
