//! The reading side of a run: checks the files, then streams them on a thread of its own,
//! turning records into BSON documents and malformed lines into quarantine documents, in
//! batches.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use flate2::bufread::MultiGzDecoder;
use mongodb::bson::{DateTime, RawDocumentBuf};
use tokio::sync::mpsc::Sender;

use crate::dataset::{Format, Record, RecordReader};
use crate::store::schema::{self, QuarantineEntry, MAX_SENT_DOCUMENT};
use crate::store::Pending;
use crate::{Error, Result};

/// The formats that hold reviews, ratings or products, and so can be ingested.
pub(crate) const INGESTED: [Format; 4] = [
    Format::ReviewsJson,
    Format::MetadataJson,
    Format::RatingsCsv,
    Format::KaggleCsv,
];

/// A batch is also cut when its documents reach this many bytes.
const MAX_BATCH_BYTES: usize = 8 << 20;

const BUFFER_SIZE: usize = 256 << 10;

/// A file of the run, checked before anything is written.
#[derive(Debug, Clone)]
pub(crate) struct PlannedFile {
    /// The position of the file among those given (for quarantine ids).
    pub(crate) index: usize,
    pub(crate) path: PathBuf,
    pub(crate) format: Format,
    /// Size on disk, for progress.
    pub(crate) size: u64,
}

impl PlannedFile {
    pub(crate) fn kind(&self) -> Kind {
        if self.format.has_interactions() {
            Kind::Reviews
        } else {
            Kind::Products
        }
    }

    pub(crate) fn display(&self) -> String {
        self.path.display().to_string()
    }
}

/// Which collection a batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Reviews,
    Products,
}

impl Kind {
    pub(crate) fn collection(self) -> &'static str {
        match self {
            Kind::Reviews => schema::REVIEWS,
            Kind::Products => schema::PRODUCTS,
        }
    }
}

/// Records of one file, ready to write.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The position of the file in the plan.
    pub(crate) file: usize,
    pub(crate) kind: Kind,
    /// Records read into this batch: `records.len() + superseded + quarantine.len()`.
    pub(crate) read: u64,
    pub(crate) records: Vec<Pending>,
    /// Records replaced in this batch by a later record with the same `_id`.
    pub(crate) superseded: u64,
    /// Records read into this batch that needed a documented repair (a timestamp taken from
    /// `reviewTime`, zeros restored to a shortened ASIN).
    pub(crate) repaired: u64,
    /// Quarantine documents of the malformed lines (and of documents too large to store).
    pub(crate) quarantine: Vec<RawDocumentBuf>,
    /// Bytes of BSON built.
    pub(crate) bytes: u64,
    /// Whether this is the file's last batch.
    pub(crate) last: bool,
}

impl Batch {
    fn empty(file: usize, kind: Kind) -> Self {
        Self {
            file,
            kind,
            read: 0,
            records: Vec::new(),
            superseded: 0,
            repaired: 0,
            quarantine: Vec::new(),
            bytes: 0,
            last: false,
        }
    }
}

/// Checks every file (it exists, its format is known or given) and orders them: metadata first,
/// so that reviews read in the same run find their products. Nothing is read yet.
///
/// # Errors
///
/// [`Error::Usage`] without files; [`Error::Dataset`] naming the file that cannot be opened or
/// whose format is not recognised.
pub(crate) fn plan(files: &[PathBuf], format: Option<Format>) -> Result<Vec<PlannedFile>> {
    if files.is_empty() {
        return Err(Error::Usage("ingest: no file given".into()));
    }
    let mut planned = Vec::with_capacity(files.len());
    for (index, path) in files.iter().enumerate() {
        let reader = RecordReader::open(path, format)?;
        if !INGESTED.contains(&reader.format()) {
            return Err(Error::Usage(format!(
                "cannot ingest {}: it is a `{}` file (numeric ids, no ASINs, ratings or times); \
                 recsys ingest loads {}",
                path.display(),
                reader.format(),
                INGESTED.map(Format::name).join(", ")
            )));
        }
        let size = std::fs::metadata(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?
            .len();
        planned.push(PlannedFile {
            index,
            path: path.clone(),
            format: reader.format(),
            size,
        });
    }
    planned.sort_by_key(|file| file.kind() == Kind::Reviews);
    Ok(planned)
}

/// A reader that counts the bytes read through it (compressed bytes, for progress).
struct Counted<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Why ingest refuses a record that parsed: a review whose user id or ASIN holds the `|` that
/// joins them in its `_id` ([`schema::review_id`]) could take another review's `_id` (user
/// `U|B1` on item `X` and user `U` on item `B1|X`, the same day), so it is quarantined rather
/// than silently merged. Products are kept: their `_id` is the ASIN alone.
pub(crate) fn ambiguous_id(record: &Record) -> Option<String> {
    let Record::Review(review) = record else {
        return None;
    };
    let field = if review.user.contains('|') {
        "user id"
    } else if review.asin.contains('|') {
        "ASIN"
    } else {
        return None;
    };
    Some(format!(
        "`|` in the {field}: it separates user, ASIN and time in a review `_id`"
    ))
}

/// Opens a planned file, gzip or plain, counting the bytes read from disk; the reader refuses
/// the records ingest cannot store ([`ambiguous_id`]).
fn open(file: &PlannedFile, bytes: &Arc<AtomicU64>) -> Result<RecordReader> {
    let error = |e| Error::io(format!("cannot read {}", file.path.display()), e);
    let counted = Counted {
        inner: File::open(&file.path).map_err(error)?,
        bytes: Arc::clone(bytes),
    };
    let mut input = BufReader::with_capacity(BUFFER_SIZE, counted);
    let gzip = input.fill_buf().map_err(error)?.starts_with(&[0x1f, 0x8b]);
    let input: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            BUFFER_SIZE,
            MultiGzDecoder::new(input),
        ))
    } else {
        Box::new(input)
    };
    Ok(RecordReader::from_reader(&file.path, file.format, input).refusing(ambiguous_id))
}

/// What the reading thread needs.
pub(crate) struct Reading {
    pub(crate) plan: Vec<PlannedFile>,
    pub(crate) run_id: String,
    pub(crate) batch_size: usize,
    /// Compressed bytes read so far, all files together.
    pub(crate) bytes: Arc<AtomicU64>,
}

/// Starts the reading thread. It sends batches until the files end, or stops early when the
/// receiver is gone (the run failed); an error opening a file is sent as the last message.
pub(crate) fn spawn(reading: Reading, sender: Sender<Result<Batch>>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("ingest-read".into())
        .spawn(move || {
            for (position, file) in reading.plan.iter().enumerate() {
                let result = read_file(&reading, position, file, &sender);
                match result {
                    Ok(true) => {}
                    Ok(false) => return, // the receiver is gone
                    Err(error) => {
                        let _ = sender.blocking_send(Err(error));
                        return;
                    }
                }
            }
        })
        .expect("cannot start the ingest reading thread")
}

/// Streams one file in batches; `Ok(false)` if the receiver is gone.
fn read_file(
    reading: &Reading,
    position: usize,
    file: &PlannedFile,
    sender: &Sender<Result<Batch>>,
) -> Result<bool> {
    let mut reader = open(file, &reading.bytes)?;
    let path = file.display();
    let name = schema::file_name(&path).to_owned();
    let format = file.format.name();
    let mut builder = BatchBuilder::new(position, file.kind(), reading.batch_size);
    let mut repaired_so_far = 0;
    while let Some(item) = reader.next() {
        let repaired = reader.repaired() > repaired_so_far;
        repaired_so_far = reader.repaired();
        let (id, line, document) = match item {
            Ok((line, Record::Review(review))) => {
                let id = schema::review_id(&review.user, &review.asin, review.timestamp);
                let origin = schema::provenance(&reading.run_id, &name, line);
                let document = schema::review_document(&id, &review, &origin);
                (id, line, document)
            }
            Ok((line, Record::Product(product))) => {
                let fields = schema::product_fields(&product);
                let origin = schema::provenance(&reading.run_id, &name, line);
                let document = schema::insert_document(&product.asin, &fields, &[], &origin);
                (product.asin, line, document)
            }
            Ok((line, _)) => {
                return Err(Error::Ingest(format!(
                    "{path}:{line}: a record of a kind ingest does not store"
                )))
            }
            Err(problem) => {
                let entry =
                    schema::problem_entry(&reading.run_id, file.index, format, &path, &problem);
                let document = schema::quarantine_document(&entry, DateTime::now());
                if let Some(full) = builder.push_quarantine(document) {
                    if sender.blocking_send(Ok(full)).is_err() {
                        return Ok(false);
                    }
                }
                continue;
            }
        };
        let size = document.as_bytes().len();
        if size > MAX_SENT_DOCUMENT {
            let reason = format!(
                "document of {size} bytes is larger than MongoDB allows ({} bytes)",
                schema::MAX_DOCUMENT
            );
            let raw = schema::document_text(&document);
            let entry = QuarantineEntry {
                run_id: &reading.run_id,
                file_index: file.index,
                file: &path,
                format,
                line,
                reason: &reason,
                raw: &raw,
                stage: "write",
            };
            let quarantined = schema::quarantine_document(&entry, DateTime::now());
            if let Some(full) = builder.push_quarantine(quarantined) {
                if sender.blocking_send(Ok(full)).is_err() {
                    return Ok(false);
                }
            }
            continue;
        }
        if let Some(full) = builder.push(Pending { id, document }, repaired) {
            if sender.blocking_send(Ok(full)).is_err() {
                return Ok(false);
            }
        }
    }
    let mut last = builder.take();
    last.last = true;
    Ok(sender.blocking_send(Ok(last)).is_ok())
}

/// Fills batches, cutting them by count and size.
///
/// A batch never repeats an `_id`: a record whose `_id` the batch already holds replaces the
/// earlier one, which is counted as superseded (a duplicate). A full batch is cut only before a
/// record with another `_id`, so that adjacent records with the same key (the same user
/// reviewing the same product twice on one day) always meet in one batch: the later one wins,
/// in the first run and in every later one alike.
struct BatchBuilder {
    batch: Batch,
    ids: HashMap<String, usize>,
    last_id: Option<String>,
    batch_size: usize,
}

impl BatchBuilder {
    fn new(file: usize, kind: Kind, batch_size: usize) -> Self {
        Self {
            batch: Batch::empty(file, kind),
            ids: HashMap::new(),
            last_id: None,
            batch_size: batch_size.max(1),
        }
    }

    fn full(&self) -> bool {
        self.batch.records.len() >= self.batch_size
            || self.batch.quarantine.len() >= self.batch_size
            || self.batch.bytes >= MAX_BATCH_BYTES as u64
    }

    fn take(&mut self) -> Batch {
        self.ids.clear();
        let empty = Batch::empty(self.batch.file, self.batch.kind);
        std::mem::replace(&mut self.batch, empty)
    }

    /// Adds a record (`repaired`: it needed a documented repair); returns the batch it
    /// completed, if any.
    fn push(&mut self, pending: Pending, repaired: bool) -> Option<Batch> {
        let complete = if self.full() && self.last_id.as_deref() != Some(pending.id.as_str()) {
            Some(self.take())
        } else {
            None
        };
        self.batch.read += 1;
        self.batch.repaired += u64::from(repaired);
        self.batch.bytes += pending.document.as_bytes().len() as u64;
        self.last_id = Some(pending.id.clone());
        match self.ids.get(&pending.id) {
            Some(&position) => {
                self.batch.records[position] = pending;
                self.batch.superseded += 1;
            }
            None => {
                self.ids
                    .insert(pending.id.clone(), self.batch.records.len());
                self.batch.records.push(pending);
            }
        }
        complete
    }

    /// Adds a quarantine document; returns the batch it completed, if any.
    fn push_quarantine(&mut self, document: RawDocumentBuf) -> Option<Batch> {
        let complete = self.full().then(|| self.take());
        self.batch.read += 1;
        self.batch.bytes += document.as_bytes().len() as u64;
        self.batch.quarantine.push(document);
        complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str) -> Pending {
        let mut document = RawDocumentBuf::new();
        document.append_ref("_id", id);
        Pending {
            id: id.into(),
            document,
        }
    }

    fn ids(batch: &Batch) -> Vec<&str> {
        batch.records.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn a_repeated_id_replaces_the_earlier_record() {
        let mut builder = BatchBuilder::new(0, Kind::Reviews, 3);
        assert!(builder.push(pending("a"), false).is_none());
        assert!(builder.push(pending("b"), false).is_none());
        assert!(builder.push(pending("a"), false).is_none());
        let batch = builder.take();
        assert_eq!(ids(&batch), ["a", "b"]);
        assert_eq!((batch.read, batch.superseded), (3, 1));
    }

    #[test]
    fn full_batches_are_cut_but_never_between_equal_ids() {
        let mut builder = BatchBuilder::new(0, Kind::Reviews, 2);
        assert!(builder.push(pending("a"), false).is_none());
        assert!(builder.push(pending("b"), false).is_none());
        // Full, but the next record has the same id as the last: it joins the batch.
        assert!(builder.push(pending("b"), false).is_none());
        let cut = builder.push(pending("c"), false).unwrap();
        assert_eq!(ids(&cut), ["a", "b"]);
        assert_eq!((cut.read, cut.superseded), (3, 1));
        assert_eq!(ids(&builder.take()), ["c"]);
    }

    #[test]
    fn quarantined_lines_count_as_read() {
        let mut builder = BatchBuilder::new(0, Kind::Products, 2);
        assert!(builder.push_quarantine(RawDocumentBuf::new()).is_none());
        assert!(builder.push(pending("a"), false).is_none());
        let batch = builder.take();
        assert_eq!(
            (batch.read, batch.records.len(), batch.quarantine.len()),
            (2, 1, 1)
        );
    }

    #[test]
    fn metadata_files_are_read_first_and_unknown_formats_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let reviews = dir.path().join("r.json");
        std::fs::write(
            &reviews,
            r#"{"reviewerID": "A", "asin": "B", "overall": 5, "unixReviewTime": 1}"#,
        )
        .unwrap();
        let meta = dir.path().join("m.json");
        std::fs::write(&meta, r#"{"asin": "B", "title": "t"}"#).unwrap();
        let planned = plan(&[reviews.clone(), meta], None).unwrap();
        assert_eq!(planned[0].format, Format::MetadataJson);
        assert_eq!(
            (planned[1].index, planned[1].format),
            (0, Format::ReviewsJson)
        );

        let odd = dir.path().join("notes.txt");
        std::fs::write(&odd, "to do: buy milk\n").unwrap();
        let error = plan(&[reviews.clone(), odd], None).unwrap_err().to_string();
        assert!(error.contains("notes.txt"), "{error}");
        assert!(plan(&[], None).is_err());

        let sequences = dir.path().join("Beauty.txt");
        std::fs::write(&sequences, "1 2 3 4\n2 5 6\n").unwrap();
        let error = plan(&[reviews, sequences], None).unwrap_err().to_string();
        assert!(
            error.contains("cannot ingest") && error.contains("Beauty.txt"),
            "{error}"
        );
    }
}
