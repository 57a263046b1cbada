//! `recsys prepare`: from the MongoDB system of record to a training set.
//!
//! [`prepare`] streams `reviews` and `products` out of the store and
//!
//! 1. drops reviews that cannot be used (no rating, a rating outside 1..=5), counted by reason;
//! 2. keeps one interaction per (user, item), the latest;
//! 3. optionally keeps the k-core (every user and item with at least k interactions);
//! 4. computes per-interaction features (per-user mean-centred rating, confidence
//!    `1 + alpha * rating / 5`, review length, helpfulness) and per-item features (brand and
//!    category path as dense ids, `log1p` + z-scored price with imputation and flags);
//! 5. writes the collections `interactions` and `item_features` (with indexes) and, when asked,
//!    a versioned snapshot directory that [`Dataset::read`](crate::dataset::Dataset::read) loads
//!    directly: `reviews.json` and `meta.json` in the Amazon 2018 formats, `manifest.json`.
//!
//! Interactions keep the order they were ingested in (run, file, line), so evaluating the
//! snapshot gives the same user and item indices, hence the same metrics, as evaluating the
//! files that were ingested. `docs/schema.md` documents every strategy.
//!
//! Memory grows with the number of interactions, not with the reviews' size: reviews are
//! streamed with a projection of the fields used, each kept as a compact [`Row`] (dense user
//! and item ids, rating, time, text length, votes, position; no text), products only for the
//! items reviewed, and the output collections are written in batches as they are computed.

mod snapshot;
mod transform;

use std::collections::HashMap;
use std::path::PathBuf;

use mongodb::bson::{doc, Bson, DateTime, Document, RawBsonRef, RawDocument};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

use crate::store::schema::{self, PRODUCTS, REVIEWS};
use crate::store::{MongoStore, StoreError};

pub use snapshot::{latest_snapshot, Manifest, SNAPSHOT_FILES};
pub use transform::{
    deduplicate, interactions, item_features, k_core, sort_by_position, Interner, ItemFeatures,
    Position, Prepared, Row, Vocabulary, PATH_SEPARATOR,
};

/// Collection of prepared interactions, `_id` = `user|asin`.
pub const INTERACTIONS: &str = "interactions";
/// Collection of encoded item features, `_id` = ASIN.
pub const ITEM_FEATURES: &str = "item_features";
/// Collection of the snapshots written, `_id` = version: where each is, so that
/// `recsys evaluate --source mongodb` finds the latest.
pub const SNAPSHOTS: &str = "snapshots";
/// Default `alpha` of the confidence weight `1 + alpha * rating / 5`.
pub const DEFAULT_ALPHA: f64 = 4.0;

/// Documents per insert when writing the prepared collections.
const WRITE_BATCH: usize = 1000;

/// Why preparing failed.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Reading or writing MongoDB failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the snapshot failed.
    #[error("writing the snapshot {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The snapshot directory holds no snapshot.
    #[error("no snapshot in {0} (run `recsys prepare --snapshot DIR` first)")]
    NoSnapshot(PathBuf),
    /// The database holds no review to prepare from (nothing was written).
    #[error(
        "database `{database}` at {uri} has no reviews to prepare a training set from: is the \
         name right (--db)? Load files with `recsys ingest --mongodb-uri URI --db {database} \
         FILE...` first"
    )]
    NoReviews {
        /// The database's name.
        database: String,
        /// The server, password masked.
        uri: String,
    },
    /// An option is out of range (nothing was read or written).
    #[error("{0}")]
    InvalidOption(String),
}

/// What to prepare.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// Keep the k-core for this k (`None` or 1: no filtering).
    pub k_core: Option<usize>,
    /// `alpha` of the confidence weight.
    pub alpha: f64,
    /// Write a snapshot under this directory (in a new subdirectory named by its version).
    pub snapshot: Option<PathBuf>,
}

impl PrepareOptions {
    /// Checks the options before anything is read.
    ///
    /// # Errors
    ///
    /// [`PrepareError::InvalidOption`] for an `alpha` that is negative, infinite or NaN: the
    /// confidences `1 + alpha * rating / 5` must be finite and at least 1.
    pub fn check(&self) -> Result<(), PrepareError> {
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return Err(PrepareError::InvalidOption(format!(
                "--alpha must be a finite number of 0 or more (the confidence is 1 + alpha * \
                 rating / 5), not {}",
                self.alpha
            )));
        }
        Ok(())
    }
}

impl Default for PrepareOptions {
    fn default() -> Self {
        Self {
            k_core: None,
            alpha: DEFAULT_ALPHA,
            snapshot: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PrepareReport {
    /// Review documents read.
    pub reviews_read: u64,
    /// Product documents read.
    pub products_read: u64,
    /// Reviews dropped as unusable, by reason.
    pub dropped: std::collections::BTreeMap<String, u64>,
    /// Older interactions of the same (user, item) dropped.
    pub duplicates: u64,
    /// Interactions removed by the k-core filter.
    pub k_core_removed: u64,
    /// Interactions written.
    pub interactions: u64,
    /// Users in them.
    pub users: u64,
    /// Items in them.
    pub items: u64,
    /// Items without a product document.
    pub items_without_metadata: u64,
    /// Items whose price was imputed.
    pub prices_imputed: u64,
    /// Brands encoded (id 0, unknown, not counted).
    pub brands: u64,
    /// Category paths and roots encoded.
    pub categories: u64,
    /// The snapshot written, if any.
    pub snapshot: Option<PathBuf>,
}

impl std::fmt::Display for PrepareReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dropped: u64 = self.dropped.values().sum();
        write!(
            f,
            "{} reviews and {} products read; {} dropped, {} duplicates, {} removed by the \
             k-core; {} interactions, {} users, {} items ({} without metadata, {} prices \
             imputed), {} brands, {} categories",
            self.reviews_read,
            self.products_read,
            dropped,
            self.duplicates,
            self.k_core_removed,
            self.interactions,
            self.users,
            self.items,
            self.items_without_metadata,
            self.prices_imputed,
            self.brands,
            self.categories
        )?;
        if let Some(path) = &self.snapshot {
            write!(f, "; snapshot {}", path.display())?;
        }
        Ok(())
    }
}

fn command_error(
    store: &MongoStore,
    operation: &str,
) -> impl Fn(mongodb::error::Error) -> StoreError {
    let (uri, operation) = (store.uri().to_owned(), operation.to_owned());
    move |source| StoreError::Command {
        uri: uri.clone(),
        operation: operation.clone(),
        source,
    }
}

/// The position of each (run, file name) among the files of its run, from `ingest_runs`.
async fn file_positions(
    store: &MongoStore,
) -> Result<HashMap<(String, String), usize>, StoreError> {
    let error = command_error(store, "find in ingest_runs");
    let mut cursor = store
        .database()
        .collection::<Document>(schema::INGEST_RUNS)
        .find(doc! {})
        .projection(doc! { "files.file": 1 })
        .await
        .map_err(&error)?;
    let mut positions = HashMap::new();
    while cursor.advance().await.map_err(&error)? {
        let run = cursor.deserialize_current().map_err(&error)?;
        let Ok(id) = run.get_str("_id") else { continue };
        for (i, file) in run.get_array("files").into_iter().flatten().enumerate() {
            if let Some(file) = file.as_document().and_then(|f| f.get_str("file").ok()) {
                positions
                    .entry((id.to_owned(), schema::file_name(file).to_owned()))
                    .or_insert(i);
            }
        }
    }
    Ok(positions)
}

/// The compact position of a review document (see [`Position`]): `runs` gives run ids, and
/// `canonical` says whether the `_id` is the usual `user|asin|seconds` (then not kept).
fn position_of(
    doc: &RawDocument,
    files: &HashMap<(String, String), usize>,
    runs: &mut Interner,
    canonical: bool,
) -> Position {
    let id = (!canonical).then(|| Box::from(doc.get_str("_id").unwrap_or_default()));
    let Ok(ingest) = doc.get_document("ingest") else {
        return Position {
            run: runs.intern(NO_RUN),
            file: u32::MAX,
            line: i64::MAX,
            id,
        };
    };
    let run = ingest.get_str("run").unwrap_or(NO_RUN);
    let file = ingest.get_str("file").unwrap_or_default();
    let line = match ingest.get("line") {
        Ok(Some(RawBsonRef::Int64(n))) => n,
        Ok(Some(RawBsonRef::Int32(n))) => i64::from(n),
        _ => i64::MAX,
    };
    let file = files
        .get(&(run.to_owned(), file.to_owned()))
        .map_or(u32::MAX, |&i| u32::try_from(i).unwrap_or(u32::MAX - 1));
    Position {
        run: runs.intern(run),
        file,
        line,
        id,
    }
}

/// The run of reviews without provenance: after every real run id.
const NO_RUN: &str = "\u{10ffff}";

/// The fields of a review document that preparing reads ([`schema::review_from_document`]
/// checks them all; the text only for its length).
const REVIEW_FIELDS: [&str; 11] = [
    "user",
    "asin",
    "rating",
    "time",
    "verified",
    "votes",
    "votes_total",
    "text",
    "summary",
    "reviewer_name",
    "ingest",
];

/// Whether `id` is `user|asin|seconds`.
fn is_review_id(id: &str, user: &str, asin: &str, seconds: i64) -> bool {
    id.strip_prefix(user)
        .and_then(|rest| rest.strip_prefix('|'))
        .and_then(|rest| rest.strip_prefix(asin))
        .and_then(|rest| rest.strip_prefix('|'))
        .is_some_and(|rest| rest == seconds.to_string())
}

/// Prepares the training set from the store (see the [module docs](self)).
///
/// # Errors
///
/// [`PrepareError::InvalidOption`] for options out of range ([`PrepareOptions::check`]),
/// [`PrepareError::NoReviews`] when the database has no review (nothing is written then), or
/// [`PrepareError`] if MongoDB fails or the snapshot cannot be written. Unusable records are
/// not errors: they are counted in [`PrepareReport::dropped`].
pub async fn prepare(
    store: &MongoStore,
    options: &PrepareOptions,
) -> Result<PrepareReport, PrepareError> {
    options.check()?;
    let mut report = PrepareReport::default();
    let files = file_positions(store).await?;

    let error = command_error(store, "find in reviews");
    let mut projection = Document::new();
    for field in REVIEW_FIELDS {
        projection.insert(field, 1);
    }
    let mut cursor = store
        .database()
        .collection::<Document>(REVIEWS)
        .find(doc! {})
        .projection(projection)
        .await
        .map_err(&error)?;
    let (mut users, mut items, mut runs) = (
        Interner::default(),
        Interner::default(),
        Interner::default(),
    );
    let mut rows = Vec::new();
    while cursor.advance().await.map_err(&error)? {
        report.reviews_read += 1;
        let raw = cursor.current();
        match schema::review_from_document(raw) {
            Ok(review) if (1.0..=5.0).contains(&review.rating) => {
                let id = raw.get_str("_id").unwrap_or_default();
                let canonical = is_review_id(id, &review.user, &review.asin, review.timestamp);
                let position = position_of(raw, &files, &mut runs, canonical);
                let (user, item) = (users.intern(&review.user), items.intern(&review.asin));
                rows.push(Row::new(&review, user, item, position));
            }
            Ok(_) => {
                *report
                    .dropped
                    .entry("rating out of range 1..=5".into())
                    .or_default() += 1
            }
            Err(reason) => *report.dropped.entry(reason).or_default() += 1,
        }
    }
    rows.shrink_to_fit();
    if report.reviews_read == 0 {
        return Err(PrepareError::NoReviews {
            database: store.database().name().to_owned(),
            uri: store.uri().to_owned(),
        });
    }

    // Products of the items reviewed only: the others are counted, not kept.
    let error = command_error(store, "find in products");
    let mut cursor = store
        .database()
        .collection::<Document>(PRODUCTS)
        .find(doc! {})
        .await
        .map_err(&error)?;
    let mut products = HashMap::new();
    while cursor.advance().await.map_err(&error)? {
        report.products_read += 1;
        match schema::product_from_document(cursor.current()) {
            Ok(product) => {
                if items.get(&product.asin).is_some() {
                    products.insert(product.asin.clone(), product);
                }
            }
            Err(reason) => {
                *report
                    .dropped
                    .entry(format!("product: {reason}"))
                    .or_default() += 1
            }
        }
    }

    let review_id =
        |row: &Row| schema::review_id(users.name(row.user), items.name(row.item), row.time);
    sort_by_position(&mut rows, &runs.ranks(), review_id);
    let (rows, duplicates) = deduplicate(rows);
    report.duplicates = duplicates;
    let before = rows.len();
    let rows = match options.k_core {
        Some(k) if k > 1 => k_core(rows, k),
        _ => rows,
    };
    report.k_core_removed = (before - rows.len()) as u64;

    // Users and items in first-seen order, as `Dataset::read` indexes them.
    let (mut user_index, mut item_index) =
        (vec![u32::MAX; users.len()], vec![u32::MAX; items.len()]);
    let (mut n_users, mut asins) = (0u32, Vec::new());
    for row in &rows {
        if user_index[row.user as usize] == u32::MAX {
            user_index[row.user as usize] = n_users;
            n_users += 1;
        }
        if item_index[row.item as usize] == u32::MAX {
            item_index[row.item as usize] = asins.len() as u32;
            asins.push(items.name(row.item).to_owned());
        }
    }
    let (features, vocabulary) = item_features(&asins, &products);
    report.interactions = rows.len() as u64;
    report.users = u64::from(n_users);
    report.items = asins.len() as u64;
    report.items_without_metadata = features.iter().filter(|f| !f.has_metadata).count() as u64;
    report.prices_imputed = features.iter().filter(|f| f.price_imputed).count() as u64;
    report.brands = vocabulary.brands.len() as u64;
    report.categories = vocabulary.categories.len() as u64;

    let created = DateTime::now();
    let interaction_docs = interactions(&rows, options.alpha).map(|p| {
        let (user, asin) = (users.name(p.user), items.name(p.item));
        doc! {
            "_id": format!("{user}|{asin}"),
            "user": user,
            "asin": asin,
            "user_index": i64::from(user_index[p.user as usize]),
            "item_index": i64::from(item_index[p.item as usize]),
            "rating": f64::from(p.rating),
            "rating_centred": p.rating_centred,
            "confidence": p.confidence,
            "time": DateTime::from_millis(p.time * 1000),
            "review_length": p.review_length as i64,
            "helpful_votes": p.helpful_votes as i64,
            "helpful_ratio": p.helpful_ratio.map_or(Bson::Null, Bson::Double),
            "verified": p.verified.map_or(Bson::Null, Bson::Boolean),
        }
    });
    replace(store, INTERACTIONS, interaction_docs, &["user", "asin"]).await?;
    let feature_docs = features.iter().enumerate().map(|(index, f)| {
        doc! {
            "_id": &f.asin,
            "item_index": index as i64,
            "brand_id": i64::from(f.brand_id),
            "category_id": i64::from(f.category_id),
            "top_category_id": i64::from(f.top_category_id),
            "price": f.price.map_or(Bson::Null, Bson::Double),
            "price_norm": f.price_norm,
            "price_imputed": f.price_imputed,
            "brand_missing": f.brand_missing,
            "category_missing": f.category_missing,
            "has_metadata": f.has_metadata,
        }
    });
    replace(
        store,
        ITEM_FEATURES,
        feature_docs,
        &["brand_id", "category_id"],
    )
    .await?;

    if let Some(dir) = &options.snapshot {
        let written = snapshot::write(
            dir,
            created,
            store.database().name(),
            options,
            &report,
            rows.iter().map(|row| snapshot::Line {
                user: users.name(row.user),
                asin: items.name(row.item),
                rating: row.rating,
                time: row.time,
            }),
            &products,
            &asins,
            &vocabulary,
        )?;
        let path = std::fs::canonicalize(&written).map_err(|source| PrepareError::Io {
            path: written.clone(),
            source,
        })?;
        let files: Vec<String> = SNAPSHOT_FILES
            .iter()
            .map(|f| path.join(f).to_string_lossy().into_owned())
            .collect();
        let version = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        store
            .database()
            .collection::<Document>(SNAPSHOTS)
            .insert_one(doc! {
                "_id": version,
                "path": path.to_string_lossy().into_owned(),
                "files": files,
                "created": created,
                "k_core": options.k_core.map_or(Bson::Null, |k| Bson::Int64(k as i64)),
                "alpha": options.alpha,
                "interactions": report.interactions as i64,
            })
            .await
            .map_err(command_error(store, "insert into snapshots"))?;
        report.snapshot = Some(written);
    }
    Ok(report)
}

/// The data files of the latest snapshot recorded in the store's `snapshots` collection.
///
/// # Errors
///
/// [`PrepareError::NoSnapshot`] when none is recorded, [`StoreError`] if the query fails.
pub async fn latest_snapshot_in(store: &MongoStore) -> Result<Vec<PathBuf>, PrepareError> {
    let latest = store
        .database()
        .collection::<Document>(SNAPSHOTS)
        .find_one(doc! {})
        .sort(doc! { "created": -1, "_id": -1 })
        .await
        .map_err(command_error(store, "find in snapshots"))?;
    let no_snapshot =
        || PrepareError::NoSnapshot(PathBuf::from(format!("{SNAPSHOTS} of {}", store.uri())));
    let latest = latest.ok_or_else(no_snapshot)?;
    let files: Vec<PathBuf> = latest
        .get_array("files")
        .map_err(|_| no_snapshot())?
        .iter()
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .collect();
    if files.is_empty() {
        return Err(no_snapshot());
    }
    Ok(files)
}

/// Replaces the content of `collection` with `documents` and indexes `keys`.
async fn replace(
    store: &MongoStore,
    collection: &str,
    documents: impl Iterator<Item = Document>,
    keys: &[&str],
) -> Result<(), StoreError> {
    let target = store.database().collection::<Document>(collection);
    target
        .drop()
        .await
        .map_err(command_error(store, &format!("drop of {collection}")))?;
    let error = command_error(store, &format!("insert into {collection}"));
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    for document in documents {
        batch.push(document);
        if batch.len() == WRITE_BATCH {
            target.insert_many(&batch).await.map_err(&error)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        target.insert_many(&batch).await.map_err(&error)?;
    }
    let models = keys.iter().map(|key| {
        IndexModel::builder()
            .keys(doc! { *key: 1 })
            .options(IndexOptions::builder().name(key.to_string()).build())
            .build()
    });
    target.create_indexes(models).await.map_err(command_error(
        store,
        &format!("creating the indexes of {collection}"),
    ))?;
    Ok(())
}

fn block_on<T>(
    future: impl std::future::Future<Output = Result<T, PrepareError>>,
) -> Result<T, PrepareError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| PrepareError::Io {
            path: PathBuf::from("<async runtime>"),
            source,
        })?
        .block_on(future)
}

/// Connects to `config` and runs [`prepare`] on a runtime of its own, for callers without one
/// (the command line).
///
/// # Errors
///
/// As [`prepare`], and [`StoreError::Unreachable`] when no server answers.
pub fn run(
    config: &crate::store::MongoConfig,
    options: &PrepareOptions,
) -> Result<PrepareReport, PrepareError> {
    options.check()?;
    block_on(async {
        let store = MongoStore::connect(config).await?;
        prepare(&store, options).await
    })
}

/// [`latest_snapshot_in`] the database of `config`, on a runtime of its own.
///
/// # Errors
///
/// As [`latest_snapshot_in`], and [`StoreError::Unreachable`] when no server answers.
pub fn latest_snapshot_files(
    config: &crate::store::MongoConfig,
) -> Result<Vec<PathBuf>, PrepareError> {
    block_on(async {
        let store = MongoStore::connect(config).await?;
        latest_snapshot_in(&store).await
    })
}
