//! `recsys ingest`: Amazon files into MongoDB, with nothing lost.
//!
//! A run checks every file first (it exists, its format is known: otherwise an error naming the
//! file, before anything is written), then streams them, metadata first so that reviews find
//! their products. A reading thread parses, cleans and builds the BSON documents
//! ([`crate::store::schema`]) in batches; the writer sends each batch to MongoDB as one unordered
//! insert, and applies the records whose `_id` is already stored as `$set` updates, so the
//! server says which were new, which changed something and which were duplicates.
//!
//! Nothing is lost: each record read is inserted, updated, a duplicate, or quarantined with its
//! raw text and reason, and `read = inserted + updated + duplicates + quarantined` holds for every
//! file and run ([`Counts`], which also counts the records `repaired` on the way), printed at the
//! end with the first records set aside and stored in `ingest_runs`. Review `_id`s are
//! `user|asin|time` and product `_id`s are ASINs, so a second run on the same files inserts
//! nothing; a review whose user id or ASIN holds a `|` would make its `_id` ambiguous, so it is
//! quarantined. A run that fails part-way is left in `ingest_runs` as `failed` (or `running` if the
//! server went away), never as `finished`, and can simply be run again.
//!
//! A dry run ([`Target::DryRun`]) does the same reading, cleaning and BSON building without a
//! database, and reports the rate: the throughput benchmark of the pipeline. Given a dump
//! directory ([`IngestOptions::dump`], new or empty), it also writes every document it built there as
//! canonical extended JSON, in the layout the Spark job's `--dump` writes, so that the two
//! writers can be compared document by document on data too large for a test server.
//!
//! ```no_run
//! use recsys::ingest::{IngestOptions, Target};
//! use recsys::store::MongoConfig;
//!
//! let options = IngestOptions::new(["meta_Gift_Cards.json.gz", "Gift_Cards_5.json.gz"]);
//! let target = Target::MongoDb(MongoConfig::new("mongodb://127.0.0.1:27017", "recsys"));
//! let report = recsys::ingest::run(&target, &options)?;
//! assert!(report.totals.is_balanced());
//! println!("{report}");
//! # Ok::<(), recsys::Error>(())
//! ```

mod dump;
mod progress;
mod report;
mod source;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document, RawBsonRef, RawDocumentBuf};

pub use progress::ProgressMode;
pub use report::{Counts, FileCounts, IngestReport, QuarantineKept, Quarantined, MAX_EXAMPLES};

use crate::dataset::Format;
use crate::store::schema::{self, QuarantineEntry};
use crate::store::{MongoConfig, MongoStore, Pending, WriteOutcome};
use crate::{Error, Result};
use progress::Progress;
use source::{Batch, Kind, PlannedFile, Reading};

/// Records per write unless told otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 1000;

/// At most this many ASINs are remembered as known or unknown products; the memory is then
/// cleared, so that it stays bounded whatever the catalogue's size.
const MAX_REMEMBERED_ASINS: usize = 1 << 20;

/// What to ingest, and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The files: reviews, ratings or metadata, gzip or plain, in any order (metadata is read
    /// first).
    pub files: Vec<PathBuf>,
    /// The format of every file; detected per file when `None`.
    pub format: Option<Format>,
    /// Records per batch written.
    pub batch_size: usize,
    /// How progress is shown on stderr.
    pub progress: ProgressMode,
    /// With a dry run, also write every document built under this directory, as canonical
    /// extended JSON lines (the layout of `examples/spark/ingest.py --dump`; see
    /// `docs/schema.md`), for comparing writers document by document. It must be new or
    /// empty: a dump holds one run.
    pub dump: Option<PathBuf>,
}

impl IngestOptions {
    /// Options for `files`, with the defaults: formats detected, [`DEFAULT_BATCH_SIZE`],
    /// [`ProgressMode::Auto`].
    pub fn new(files: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        Self {
            files: files.into_iter().map(Into::into).collect(),
            format: None,
            batch_size: DEFAULT_BATCH_SIZE,
            progress: ProgressMode::Auto,
            dump: None,
        }
    }
}

/// Where a run writes.
#[derive(Debug, Clone)]
pub enum Target {
    /// Nowhere: parse, clean and build the documents, and count.
    DryRun,
    /// A MongoDB database.
    MongoDb(MongoConfig),
}

/// Runs an ingest on a runtime of its own (for callers without one, like the CLI).
///
/// # Errors
///
/// See [`ingest`]; for [`Target::MongoDb`], also [`StoreError`](crate::store::StoreError) when the server cannot be
/// reached (naming the URI).
pub fn run(target: &Target, options: &IngestOptions) -> Result<IngestReport> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    runtime.block_on(async {
        match target {
            Target::DryRun => dry_run(options).await,
            Target::MongoDb(config) => {
                let store = MongoStore::connect(config).await?;
                ingest(&store, options).await
            }
        }
    })
}

/// Reads, cleans and builds every document without writing anything.
///
/// # Errors
///
/// [`Error::Dataset`] naming a file that cannot be opened or whose format is unknown;
/// [`Error::Usage`] for a dump directory that is not empty.
pub async fn dry_run(options: &IngestOptions) -> Result<IngestReport> {
    let plan = source::plan(&options.files, options.format)?;
    let run_id = ObjectId::new().to_hex();
    let mut tally = Tally::new(&plan);
    let start = Instant::now();
    let Some(dir) = &options.dump else {
        pipeline(&DrySink, &plan, &run_id, options, &mut tally).await?;
        return Ok(tally.report(run_id, true, start, QuarantineKept::Nowhere));
    };
    let sink = dump::DumpSink::create(dir)?;
    pipeline(&sink, &plan, &run_id, options, &mut tally).await?;
    let mut record = doc! { "_id": &run_id, "status": "finished", "dry_run": true };
    record.extend(tally.totals().to_document());
    record.insert("files", tally.files_document());
    record.insert(
        "reviews_linked",
        i64::try_from(tally.reviews_linked).unwrap_or(i64::MAX),
    );
    sink.finish(record)?;
    Ok(tally.report(run_id, true, start, QuarantineKept::Dump(dir.clone())))
}

/// Ingests the files into `store`, recording the run in `ingest_runs`.
///
/// # Errors
///
/// [`Error::Dataset`] naming a file that cannot be opened or whose format is unknown (nothing is
/// written then), [`Error::Store`] if the run cannot start, [`Error::IngestFailed`] if it fails
/// part-way (the run is then marked `failed`).
pub async fn ingest(store: &MongoStore, options: &IngestOptions) -> Result<IngestReport> {
    let plan = source::plan(&options.files, options.format)?;
    store.ensure_indexes().await?;
    let run_id = ObjectId::new().to_hex();
    let mut tally = Tally::new(&plan);
    let started = DateTime::now();
    let mut record = doc! {
        "_id": &run_id,
        "status": "running",
        "database": store.database().name(),
        "files": tally.files_document(),
        "started": started,
        "finished": Bson::Null,
        "batch_size": i64::try_from(options.batch_size).unwrap_or(i64::MAX),
        "recsys_version": env!("CARGO_PKG_VERSION"),
    };
    record.extend(Counts::default().to_document());
    store.begin_run(record).await?;

    let start = Instant::now();
    let outcome = pipeline(store, &plan, &run_id, options, &mut tally).await;
    let elapsed = start.elapsed().as_secs_f64();
    let mut fields = tally.totals().to_document();
    fields.insert("files", tally.files_document());
    fields.insert(
        "reviews_linked",
        i64::try_from(tally.reviews_linked).unwrap_or(i64::MAX),
    );
    fields.insert("elapsed_seconds", elapsed);
    let failed = |source: Error, tally: &Tally| Error::IngestFailed {
        run_id: run_id.clone(),
        read: tally.totals().read,
        source: Box::new(source),
    };
    match outcome {
        Ok(()) => {
            fields.insert("status", "finished");
            fields.insert("finished", DateTime::now());
            if let Err(error) = store.update_run(&run_id, fields).await {
                return Err(failed(error.into(), &tally));
            }
            let kept = QuarantineKept::Database(store.database().name().to_owned());
            Ok(tally.report(run_id.clone(), false, start, kept))
        }
        Err(error) => {
            fields.insert("status", "failed");
            fields.insert("failed_at", DateTime::now());
            fields.insert("error", error.to_string());
            // Best effort: if the server is gone, the run stays `running`, never `finished`.
            let _ = store.update_run(&run_id, fields).await;
            Err(failed(error, &tally))
        }
    }
}

/// The counts of a run as it goes.
struct Tally {
    files: Vec<FileCounts>,
    done: Vec<bool>,
    reviews_linked: u64,
    /// The first records set aside.
    quarantined: Vec<Quarantined>,
    bson_bytes: u64,
}

impl Tally {
    fn new(plan: &[PlannedFile]) -> Self {
        Self {
            files: plan
                .iter()
                .map(|file| FileCounts {
                    path: file.path.clone(),
                    format: file.format,
                    counts: Counts::default(),
                })
                .collect(),
            done: vec![false; plan.len()],
            reviews_linked: 0,
            quarantined: Vec::new(),
            bson_bytes: 0,
        }
    }

    fn totals(&self) -> Counts {
        let mut totals = Counts::default();
        for file in &self.files {
            totals += file.counts;
        }
        totals
    }

    fn files_document(&self) -> Vec<Document> {
        self.files
            .iter()
            .map(|file| {
                let mut doc = doc! {
                    "file": file.path.display().to_string(),
                    "format": file.format.name(),
                };
                doc.extend(file.counts.to_document());
                doc
            })
            .collect()
    }

    /// Keeps the file, line and reason of the first records set aside.
    fn note_quarantined(&mut self, documents: &[RawDocumentBuf]) {
        let room = MAX_EXAMPLES.saturating_sub(self.quarantined.len());
        for document in documents.iter().take(room) {
            let text = |key| document.get_str(key).unwrap_or_default().to_owned();
            self.quarantined.push(Quarantined {
                file: text("file"),
                line: document
                    .get_i64("line")
                    .ok()
                    .and_then(|line| u64::try_from(line).ok())
                    .unwrap_or(0),
                reason: text("reason"),
            });
        }
    }

    fn report(
        self,
        run_id: String,
        dry_run: bool,
        start: Instant,
        quarantine_kept: QuarantineKept,
    ) -> IngestReport {
        IngestReport {
            run_id,
            dry_run,
            totals: self.totals(),
            files: self.files,
            reviews_linked: self.reviews_linked,
            quarantined: self.quarantined,
            quarantine_kept,
            bson_bytes: self.bson_bytes,
            elapsed: start.elapsed(),
        }
    }
}

/// What the pipeline needs from the place it writes to.
trait Sink {
    /// Whether nothing is really written (a dry run).
    fn dry(&self) -> bool {
        false
    }
    async fn write(
        &self,
        file: &PlannedFile,
        collection: &str,
        batch: &[Pending],
    ) -> Result<WriteOutcome>;
    async fn quarantine(&self, file: &PlannedFile, documents: &[RawDocumentBuf]) -> Result<u64>;
    async fn known_products(&self, asins: &[String]) -> Result<HashSet<String>>;
    async fn link_reviews(&self, asins: &[String]) -> Result<u64>;
}

impl Sink for MongoStore {
    async fn write(
        &self,
        _: &PlannedFile,
        collection: &str,
        batch: &[Pending],
    ) -> Result<WriteOutcome> {
        Ok(MongoStore::write(self, collection, batch).await?)
    }
    async fn quarantine(&self, _: &PlannedFile, documents: &[RawDocumentBuf]) -> Result<u64> {
        Ok(MongoStore::quarantine(self, documents).await?)
    }
    async fn known_products(&self, asins: &[String]) -> Result<HashSet<String>> {
        Ok(MongoStore::known_products(self, asins).await?)
    }
    async fn link_reviews(&self, asins: &[String]) -> Result<u64> {
        Ok(MongoStore::link_reviews(self, asins).await?)
    }
}

/// The sink of a dry run: every document would be new, no product is known beforehand.
struct DrySink;

impl Sink for DrySink {
    fn dry(&self) -> bool {
        true
    }
    async fn write(&self, _: &PlannedFile, _: &str, batch: &[Pending]) -> Result<WriteOutcome> {
        Ok(WriteOutcome {
            inserted: (0..batch.len()).collect(),
            ..WriteOutcome::default()
        })
    }
    async fn quarantine(&self, _: &PlannedFile, documents: &[RawDocumentBuf]) -> Result<u64> {
        Ok(documents.len() as u64)
    }
    async fn known_products(&self, _: &[String]) -> Result<HashSet<String>> {
        Ok(HashSet::new())
    }
    async fn link_reviews(&self, _: &[String]) -> Result<u64> {
        Ok(0)
    }
}

/// Reads the planned files on a thread and writes their batches into `sink`.
async fn pipeline<S: Sink>(
    sink: &S,
    plan: &[PlannedFile],
    run_id: &str,
    options: &IngestOptions,
    tally: &mut Tally,
) -> Result<()> {
    let bytes = Arc::new(AtomicU64::new(0));
    let total_bytes = plan.iter().map(|file| file.size).sum();
    let mut progress = Progress::new(options.progress, Arc::clone(&bytes), total_bytes);
    progress.say(&format!(
        "ingest run {run_id}: {} file{}, {:.1} MB",
        plan.len(),
        if plan.len() == 1 { "" } else { "s" },
        total_bytes as f64 / 1e6
    ));
    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
    let reading = Reading {
        plan: plan.to_vec(),
        run_id: run_id.to_owned(),
        batch_size: options.batch_size,
        bytes,
    };
    let reader = source::spawn(reading, sender);
    let mut writer = Writer {
        sink,
        plan,
        run_id,
        known: HashMap::new(),
    };
    let mut result = Ok(());
    while let Some(message) = receiver.recv().await {
        let written = match message {
            Ok(batch) => writer.write(batch, tally, &mut progress).await,
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            result = Err(error);
            break;
        }
    }
    drop(receiver); // stops the reading thread if the run failed
    let joined = reader.join();
    progress.finish();
    result?;
    if joined.is_err() {
        return Err(Error::Ingest(
            "the reading thread panicked; the run is incomplete".into(),
        ));
    }
    if let Some(position) = tally.done.iter().position(|done| !done) {
        return Err(Error::Ingest(format!(
            "reading {} stopped early; the run is incomplete",
            plan[position].path.display()
        )));
    }
    Ok(())
}

/// The writing side of a run.
struct Writer<'a, S> {
    sink: &'a S,
    plan: &'a [PlannedFile],
    run_id: &'a str,
    /// ASINs known to be stored products (true) or not (false).
    known: HashMap<String, bool>,
}

impl<S: Sink> Writer<'_, S> {
    async fn write(
        &mut self,
        batch: Batch,
        tally: &mut Tally,
        progress: &mut Progress,
    ) -> Result<()> {
        let file = &self.plan[batch.file];
        let Batch {
            kind,
            read,
            mut records,
            superseded,
            repaired,
            mut quarantine,
            bytes,
            last,
            ..
        } = batch;
        if kind == Kind::Reviews {
            self.flag_unknown_products(&mut records).await?;
        }
        let outcome = self.sink.write(file, kind.collection(), &records).await?;
        let stored_records = records.len() - outcome.rejected.len();
        for (position, reason) in &outcome.rejected {
            quarantine.push(self.refused(file, &records[*position], reason));
        }
        let quarantined = self.sink.quarantine(file, &quarantine).await?;
        tally.note_quarantined(&quarantine);
        let counts = Counts {
            read,
            inserted: outcome.inserted.len() as u64,
            updated: outcome.updated,
            duplicates: outcome.duplicates + superseded,
            quarantined,
            repaired,
        };
        if !counts.is_balanced() || quarantined != quarantine.len() as u64 {
            return Err(Error::Ingest(format!(
                "a batch of {} does not add up ({counts}); the run is incomplete",
                file.path.display()
            )));
        }
        if kind == Kind::Products && stored_records > 0 {
            let rejected: HashSet<usize> = outcome.rejected.iter().map(|(p, _)| *p).collect();
            for (position, record) in records.iter().enumerate() {
                if !rejected.contains(&position) {
                    self.remember(record.id.clone(), true);
                }
            }
            let new: Vec<String> = outcome
                .inserted
                .iter()
                .map(|&position| records[position].id.clone())
                .collect();
            tally.reviews_linked += self.sink.link_reviews(&new).await?;
        }
        let counted = &mut tally.files[batch.file];
        counted.counts += counts;
        tally.bson_bytes += bytes;
        progress.records(read);
        if last {
            tally.done[batch.file] = true;
            progress.file_done(&tally.files[batch.file], self.sink.dry());
        }
        Ok(())
    }

    fn remember(&mut self, asin: String, known: bool) {
        if self.known.len() >= MAX_REMEMBERED_ASINS {
            self.known.clear();
        }
        self.known.insert(asin, known);
    }

    /// Appends `unknown_product` to each review: whether its ASIN is a stored product.
    async fn flag_unknown_products(&mut self, records: &mut [Pending]) -> Result<()> {
        let asin = |record: &Pending| {
            record
                .document
                .get_str("asin")
                .unwrap_or_default()
                .to_owned()
        };
        let mut missing: Vec<String> = records
            .iter()
            .map(asin)
            .filter(|asin| !self.known.contains_key(asin))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let found = self.sink.known_products(&missing).await?;
            for asin in missing {
                let known = found.contains(&asin);
                self.remember(asin, known);
            }
        }
        for record in records {
            let known = self.known.get(&asin(record)).copied().unwrap_or(false);
            record
                .document
                .append_ref("unknown_product", RawBsonRef::Boolean(!known));
        }
        Ok(())
    }

    /// The quarantine document of a record MongoDB refused.
    fn refused(&self, file: &PlannedFile, record: &Pending, reason: &str) -> RawDocumentBuf {
        let line = record
            .document
            .get_document("ingest")
            .ok()
            .and_then(|origin| origin.get_i64("line").ok())
            .unwrap_or(0);
        let path = file.display();
        let raw = schema::document_text(&record.document);
        let entry = QuarantineEntry {
            run_id: self.run_id,
            file_index: file.index,
            file: &path,
            format: file.format.name(),
            line: u64::try_from(line).unwrap_or(0),
            reason,
            raw: &raw,
            stage: "write",
        };
        schema::quarantine_document(&entry, DateTime::now())
    }
}
