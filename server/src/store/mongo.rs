//! [`MongoStore`]: the MongoDB operations that ingest needs.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use mongodb::bson::{doc, Bson, Document, RawDocumentBuf};
use mongodb::error::ErrorKind;
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Database, IndexModel};

use super::error::{redact_uri, StoreError};
use super::schema::{self, INGEST_RUNS, PRODUCTS, QUARANTINE, REVIEWS};

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// An update command is cut into commands of at most this many bytes of statements, well under
/// the 16 MiB a command document may have.
const MAX_COMMAND_BYTES: usize = 8 << 20;

/// At most this many statements per update command (the server's limit is 100,000).
const MAX_COMMAND_STATEMENTS: usize = 1000;

/// Where the store is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct MongoConfig {
    /// A MongoDB connection string, e.g. `mongodb://127.0.0.1:27017/?directConnection=true`.
    pub uri: String,
    /// The database holding recsys' collections.
    pub database: String,
    /// How long to look for a usable server before giving up (the driver's server selection
    /// timeout). A run against an unreachable server fails after this long.
    pub server_selection_timeout: Duration,
}

impl MongoConfig {
    /// `uri` and `database` with a 10 s server selection timeout.
    pub fn new(uri: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            database: database.into(),
            server_selection_timeout: Duration::from_secs(10),
        }
    }
}

/// A record to write: its `_id` and the document inserted if the `_id` is new
/// ([`schema::insert_document`]).
#[derive(Debug, Clone)]
pub struct Pending {
    /// The document's `_id`.
    pub id: String,
    /// The full document, `_id` first.
    pub document: RawDocumentBuf,
}

/// What writing a batch of records did: `inserted.len() + updated + duplicates +
/// rejected.len()` equals the batch's length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The positions in the batch of the records whose `_id` was new.
    pub inserted: Vec<usize>,
    /// Records whose `_id` was stored with different content, now replaced field by field.
    pub updated: u64,
    /// Records whose `_id` was stored with the same content: nothing changed.
    pub duplicates: u64,
    /// Records the server refused: their position in the batch and its message.
    pub rejected: Vec<(usize, String)>,
}

/// A connection to the database that holds recsys' collections.
#[derive(Debug, Clone)]
pub struct MongoStore {
    client: Client,
    database: Database,
    uri: String,
}

impl MongoStore {
    /// Connects and checks that the server answers (a `ping`), so that an unreachable server is
    /// reported at once, naming the URI.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidUri`] or [`StoreError::Unreachable`].
    pub async fn connect(config: &MongoConfig) -> Result<Self, StoreError> {
        let uri = redact_uri(&config.uri);
        let mut options =
            ClientOptions::parse(&config.uri)
                .await
                .map_err(|source| StoreError::InvalidUri {
                    uri: uri.clone(),
                    source,
                })?;
        options.server_selection_timeout = Some(config.server_selection_timeout);
        options.connect_timeout =
            Some(config.server_selection_timeout.min(Duration::from_secs(10)));
        options.app_name.get_or_insert_with(|| "recsys".to_owned());
        let client = Client::with_options(options).map_err(|source| StoreError::InvalidUri {
            uri: uri.clone(),
            source,
        })?;
        let database = client.database(&config.database);
        database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|source| StoreError::Unreachable {
                uri: uri.clone(),
                source,
            })?;
        Ok(Self {
            client,
            database,
            uri,
        })
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The URI connected to, password masked.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    fn command_error(
        &self,
        operation: impl Into<String>,
    ) -> impl FnOnce(mongodb::error::Error) -> StoreError + '_ {
        let operation = operation.into();
        move |source| StoreError::Command {
            uri: self.uri.clone(),
            operation,
            source,
        }
    }

    /// Creates the indexes the queries need (existing ones are left as they are): reviews by
    /// user and by asin, products by category and by brand, quarantine by run, runs by start.
    ///
    /// # Errors
    ///
    /// [`StoreError::Command`] if the server refuses.
    pub async fn ensure_indexes(&self) -> Result<(), StoreError> {
        let indexes: [(&str, &[&str]); 4] = [
            (REVIEWS, &["user", "asin"]),
            (PRODUCTS, &["categories", "brand"]),
            (QUARANTINE, &["run_id"]),
            (INGEST_RUNS, &["started"]),
        ];
        for (collection, keys) in indexes {
            let models = keys.iter().map(|key| {
                IndexModel::builder()
                    .keys(doc! { *key: 1 })
                    .options(IndexOptions::builder().name(key.to_string()).build())
                    .build()
            });
            self.database
                .collection::<Document>(collection)
                .create_indexes(models)
                .await
                .map_err(self.command_error(format!("creating the indexes of {collection}")))?;
        }
        Ok(())
    }

    /// Writes a batch of records into `collection` (`reviews` or `products`), keyed by `_id`.
    ///
    /// New `_id`s are inserted (one unordered `insert`). For the records whose `_id` is already
    /// stored, the stored documents are read back (one `find`): a record whose fields all equal
    /// the stored ones is a duplicate and is not written; the others are applied as `$set` of
    /// their fields (fields they lack are kept) and count as updated. A second run on the same
    /// files therefore only reads. The batch must not repeat an `_id`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if the server cannot be reached or its reply does not account for every
    /// record. Records it refuses one by one are not errors but [`WriteOutcome::rejected`].
    pub async fn write(
        &self,
        collection: &str,
        batch: &[Pending],
    ) -> Result<WriteOutcome, StoreError> {
        let mut outcome = WriteOutcome::default();
        if batch.is_empty() {
            return Ok(outcome);
        }
        let operation = format!("insert into {collection}");
        let result = self
            .database
            .collection::<RawDocumentBuf>(collection)
            .insert_many(batch.iter().map(|pending| &pending.document))
            .ordered(false)
            .await;
        let mut stored = Vec::new();
        if let Err(error) = result {
            let ErrorKind::InsertMany(failure) = error.kind.as_ref() else {
                return Err(self.command_error(operation)(error));
            };
            if failure.write_concern_error.is_some() {
                return Err(self.command_error(operation)(error));
            }
            for write_error in failure.write_errors.iter().flatten() {
                if write_error.index >= batch.len() {
                    return Err(self.unexpected(&operation, "write error index out of range"));
                }
                if write_error.code == DUPLICATE_KEY {
                    stored.push(write_error.index);
                } else {
                    let reason = describe(write_error.code, &write_error.message);
                    outcome.rejected.push((write_error.index, reason));
                }
            }
        }
        let not_new: HashSet<usize> = stored
            .iter()
            .copied()
            .chain(outcome.rejected.iter().map(|(position, _)| *position))
            .collect();
        outcome.inserted = (0..batch.len()).filter(|i| !not_new.contains(i)).collect();
        if stored.is_empty() {
            return Ok(outcome);
        }
        let current = self.fetch(collection, batch, &stored).await?;
        let mut changed = Vec::new();
        for position in stored {
            let pending = &batch[position];
            let (set, _) = schema::update_parts(&pending.document);
            match current.get(pending.id.as_str()) {
                Some(document) if schema::covers(document, &set) => outcome.duplicates += 1,
                _ => changed.push(position),
            }
        }
        self.update_stored(collection, batch, &changed, outcome)
            .await
    }

    /// The stored documents of the records at `positions` of `batch`, by `_id`.
    async fn fetch(
        &self,
        collection: &str,
        batch: &[Pending],
        positions: &[usize],
    ) -> Result<HashMap<String, RawDocumentBuf>, StoreError> {
        let error = || self.command_error(format!("find in {collection}"));
        let ids: Vec<&str> = positions.iter().map(|&p| batch[p].id.as_str()).collect();
        let mut cursor = self
            .database
            .collection::<RawDocumentBuf>(collection)
            .find(doc! { "_id": { "$in": ids } })
            .await
            .map_err(error())?;
        let mut found = HashMap::with_capacity(positions.len());
        while cursor.advance().await.map_err(error())? {
            let document = cursor.current();
            if let Ok(id) = document.get_str("_id") {
                found.insert(id.to_owned(), document.to_raw_document_buf());
            }
        }
        Ok(found)
    }

    /// Applies the records at `positions` of `batch`, whose `_id`s are stored with other content,
    /// as `$set` updates (upserts, in case a stored copy went meanwhile).
    async fn update_stored(
        &self,
        collection: &str,
        batch: &[Pending],
        positions: &[usize],
        mut outcome: WriteOutcome,
    ) -> Result<WriteOutcome, StoreError> {
        let operation = format!("update of {collection}");
        for chunk in chunks(batch, positions) {
            let mut statements = Vec::with_capacity(chunk.len());
            for &position in chunk {
                let pending = &batch[position];
                let (set, on_insert) = schema::update_parts(&pending.document);
                let to_document = |raw: &RawDocumentBuf| {
                    raw.to_document()
                        .map_err(|error| self.unexpected(&operation, &error.to_string()))
                };
                statements.push(doc! {
                    "q": { "_id": pending.id.as_str() },
                    "u": { "$set": to_document(&set)?, "$setOnInsert": to_document(&on_insert)? },
                    "upsert": true,
                });
            }
            let sent = statements.len() as u64;
            let reply = self
                .database
                .run_command(doc! { "update": collection, "updates": statements, "ordered": false })
                .await
                .map_err(self.command_error(operation.as_str()))?;
            if let Ok(concern) = reply.get_document("writeConcernError") {
                let detail = format!("write concern error {concern}");
                return Err(self.unexpected(&operation, &detail));
            }
            let matched_or_upserted = number(&reply, "n");
            let modified = number(&reply, "nModified");
            let mut upserted = 0;
            for entry in reply.get_array("upserted").into_iter().flatten() {
                let index = entry.as_document().map_or(u64::MAX, |e| number(e, "index"));
                let Some(&position) = usize::try_from(index).ok().and_then(|i| chunk.get(i)) else {
                    return Err(self.unexpected(&operation, "upserted index out of range"));
                };
                outcome.inserted.push(position);
                upserted += 1;
            }
            let mut refused = 0;
            for error in reply.get_array("writeErrors").into_iter().flatten() {
                let Some(error) = error.as_document() else {
                    continue;
                };
                let index = number(error, "index");
                let Some(&position) = usize::try_from(index).ok().and_then(|i| chunk.get(i)) else {
                    return Err(self.unexpected(&operation, "write error index out of range"));
                };
                let code = i32::try_from(number(error, "code")).unwrap_or(0);
                let message = error.get_str("errmsg").unwrap_or_default();
                outcome.rejected.push((position, describe(code, message)));
                refused += 1;
            }
            let matched = matched_or_upserted.checked_sub(upserted);
            match matched.and_then(|matched| matched.checked_sub(modified)) {
                Some(unchanged) if matched_or_upserted + refused == sent => {
                    outcome.updated += modified;
                    outcome.duplicates += unchanged;
                }
                _ => {
                    let detail = format!(
                        "{sent} statements sent, n = {matched_or_upserted}, nModified = \
                         {modified}, {upserted} upserted, {refused} write errors"
                    );
                    return Err(self.unexpected(&operation, &detail));
                }
            }
        }
        Ok(outcome)
    }

    fn unexpected(&self, operation: &str, detail: &str) -> StoreError {
        StoreError::UnexpectedReply {
            uri: self.uri.clone(),
            operation: operation.to_owned(),
            detail: detail.to_owned(),
        }
    }

    /// Inserts quarantine documents ([`schema::quarantine_document`]); returns how many.
    ///
    /// # Errors
    ///
    /// [`StoreError`] if any of them is not stored: a quarantined record must never be lost.
    pub async fn quarantine(&self, documents: &[RawDocumentBuf]) -> Result<u64, StoreError> {
        if documents.is_empty() {
            return Ok(0);
        }
        self.database
            .collection::<RawDocumentBuf>(QUARANTINE)
            .insert_many(documents)
            .ordered(false)
            .await
            .map_err(self.command_error("insert into quarantine"))?;
        Ok(documents.len() as u64)
    }

    /// Which of `asins` are stored products.
    ///
    /// # Errors
    ///
    /// [`StoreError::Command`] if the query fails.
    pub async fn known_products(&self, asins: &[String]) -> Result<HashSet<String>, StoreError> {
        let mut known = HashSet::new();
        if asins.is_empty() {
            return Ok(known);
        }
        let error = || self.command_error("lookup of products");
        let mut cursor = self
            .database
            .collection::<Document>(PRODUCTS)
            .find(doc! { "_id": { "$in": asins } })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(error())?;
        while cursor.advance().await.map_err(error())? {
            if let Ok(id) = cursor.current().get_str("_id") {
                known.insert(id.to_owned());
            }
        }
        Ok(known)
    }

    /// Clears `unknown_product` on the stored reviews of `asins`, products just inserted;
    /// returns how many reviews changed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Command`] if the update fails.
    pub async fn link_reviews(&self, asins: &[String]) -> Result<u64, StoreError> {
        if asins.is_empty() {
            return Ok(0);
        }
        let result = self
            .database
            .collection::<Document>(REVIEWS)
            .update_many(
                doc! { "asin": { "$in": asins }, "unknown_product": true },
                doc! { "$set": { "unknown_product": false } },
            )
            .await
            .map_err(self.command_error("update of reviews for new products"))?;
        Ok(result.modified_count)
    }

    /// Inserts the record of a starting run.
    ///
    /// # Errors
    ///
    /// [`StoreError::Command`] if the insert fails.
    pub async fn begin_run(&self, run: Document) -> Result<(), StoreError> {
        self.database
            .collection::<Document>(INGEST_RUNS)
            .insert_one(run)
            .await
            .map_err(self.command_error("insert into ingest_runs"))?;
        Ok(())
    }

    /// Sets fields of a run's record.
    ///
    /// # Errors
    ///
    /// [`StoreError::Command`] if the update fails.
    pub async fn update_run(&self, run_id: &str, fields: Document) -> Result<(), StoreError> {
        self.database
            .collection::<Document>(INGEST_RUNS)
            .update_one(doc! { "_id": run_id }, doc! { "$set": fields })
            .await
            .map_err(self.command_error("update of ingest_runs"))?;
        Ok(())
    }

    /// The client, for other queries.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// `positions` cut into runs of at most [`MAX_COMMAND_STATEMENTS`] records and about
/// [`MAX_COMMAND_BYTES`] bytes, one update command each.
fn chunks<'a>(batch: &[Pending], positions: &'a [usize]) -> Vec<&'a [usize]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, &position) in positions.iter().enumerate() {
        let size = batch[position].document.as_bytes().len();
        if i > start && (i - start >= MAX_COMMAND_STATEMENTS || bytes + size > MAX_COMMAND_BYTES) {
            chunks.push(&positions[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < positions.len() {
        chunks.push(&positions[start..]);
    }
    chunks
}

/// A write error as text: `E11000 ... (code 11000)`.
fn describe(code: i32, message: &str) -> String {
    format!("rejected by MongoDB: {message} (code {code})")
}

/// A count in a server reply, whatever its numeric type; 0 if absent.
fn number(doc: &Document, key: &str) -> u64 {
    match doc.get(key) {
        Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
        Some(Bson::Double(n)) if *n >= 0.0 => *n as u64,
        _ => 0,
    }
}
