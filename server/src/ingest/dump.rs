//! The sink of a dry run with a dump directory (`recsys ingest --dry-run --dump DIR`): every
//! document the run would send to MongoDB, written as canonical extended JSON, one per line, in
//! the layout the Spark job's `--dump DIR` writes too (`examples/spark/ingest.py`), so that the
//! two writers can be compared document by document on data too large for a test server:
//!
//! ```text
//! DIR/products/file-<i>.jsonl     the products built from the i-th file given (0-based)
//! DIR/reviews/file-<i>.jsonl      the reviews, `unknown_product` included
//! DIR/quarantine/file-<i>.jsonl   the quarantined lines, with their reasons
//! DIR/ingest_runs.jsonl           the run's record: counts per file and in all
//! ```
//!
//! The dump is what a run would write into an empty database: a review's `unknown_product`
//! says whether a product of the same run has its ASIN, and each file counts on its own (a
//! record whose `_id` an earlier batch of the same file already had is a duplicate; records of
//! different files are not merged). A file's record may appear twice in its dump when its `_id`
//! comes back in a later batch: the later line is the one MongoDB would keep.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mongodb::bson::{Bson, Document, RawDocumentBuf};

use super::source::PlannedFile;
use super::Sink;
use crate::store::schema;
use crate::store::{Pending, WriteOutcome};
use crate::{Error, Result};

/// Writes the documents of a dry run under a directory.
pub(crate) struct DumpSink {
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Open dump files by (collection, file index).
    writers: HashMap<(&'static str, usize), BufWriter<File>>,
    /// The product `_id`s dumped so far (the products an empty database would now hold).
    products: HashSet<String>,
    /// The file being dumped, and the `_id`s of its records dumped so far.
    current: Option<usize>,
    ids: HashSet<String>,
}

impl DumpSink {
    /// Creates the directory, or takes an empty one. A directory that holds anything is
    /// refused, so that a dump never mixes two runs (nor deletes what was there).
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for a non-empty directory; [`Error::Io`] if it cannot be created.
    pub(crate) fn create(dir: &Path) -> Result<Self> {
        if let Ok(mut entries) = std::fs::read_dir(dir) {
            if entries.next().is_some() {
                return Err(Error::Usage(format!(
                    "--dump {}: the directory is not empty; a dump holds one run, so give a new \
                     or empty directory (or remove the previous dump first)",
                    dir.display()
                )));
            }
        } else if dir.exists() {
            return Err(Error::Usage(format!(
                "--dump {}: not a directory",
                dir.display()
            )));
        }
        for collection in [schema::PRODUCTS, schema::REVIEWS, schema::QUARANTINE] {
            let path = dir.join(collection);
            std::fs::create_dir_all(&path)
                .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            state: Mutex::new(State::default()),
        })
    }

    /// Writes the run's record and flushes every file.
    pub(crate) fn finish(self, run: Document) -> Result<()> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        for (_, mut writer) in state.writers {
            writer
                .flush()
                .map_err(|e| Error::io(format!("cannot write in {}", self.dir.display()), e))?;
        }
        let path = self.dir.join(format!("{}.jsonl", schema::INGEST_RUNS));
        let text = format!("{}\n", Bson::Document(run).into_canonical_extjson());
        std::fs::write(&path, text)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }

    fn append(
        &self,
        state: &mut State,
        collection: &'static str,
        file: &PlannedFile,
        document: &RawDocumentBuf,
    ) -> Result<()> {
        let writer = match state.writers.entry((collection, file.index)) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let path = self
                    .dir
                    .join(collection)
                    .join(format!("file-{}.jsonl", file.index));
                let created = File::create(&path).map_err(|e| dump_error(&path, &e))?;
                entry.insert(BufWriter::new(created))
            }
        };
        let document = document
            .to_document()
            .map_err(|e| Error::Ingest(format!("a built document is not valid BSON: {e}")))?;
        let line = Bson::Document(document).into_canonical_extjson();
        writeln!(writer, "{line}").map_err(|e| dump_error(&self.dir, &e))
    }
}

fn dump_error(path: &Path, error: &std::io::Error) -> Error {
    Error::Ingest(format!("cannot write the dump {}: {error}", path.display()))
}

impl Sink for DumpSink {
    fn dry(&self) -> bool {
        true
    }

    async fn write(
        &self,
        file: &PlannedFile,
        collection: &str,
        batch: &[Pending],
    ) -> Result<WriteOutcome> {
        let collection = if collection == schema::PRODUCTS {
            schema::PRODUCTS
        } else {
            schema::REVIEWS
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.current != Some(file.index) {
            state.current = Some(file.index);
            state.ids.clear();
        }
        let mut outcome = WriteOutcome::default();
        for (position, record) in batch.iter().enumerate() {
            if state.ids.insert(record.id.clone()) {
                outcome.inserted.push(position);
            } else {
                // In a database, the later batch's record would meet the earlier one's `_id`.
                outcome.duplicates += 1;
            }
            if collection == schema::PRODUCTS {
                state.products.insert(record.id.clone());
            }
            self.append(&mut state, collection, file, &record.document)?;
        }
        Ok(outcome)
    }

    async fn quarantine(&self, file: &PlannedFile, documents: &[RawDocumentBuf]) -> Result<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for document in documents {
            self.append(&mut state, schema::QUARANTINE, file, document)?;
        }
        Ok(documents.len() as u64)
    }

    async fn known_products(&self, asins: &[String]) -> Result<HashSet<String>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Ok(asins
            .iter()
            .filter(|asin| state.products.contains(*asin))
            .cloned()
            .collect())
    }

    async fn link_reviews(&self, _: &[String]) -> Result<u64> {
        // Metadata is read first: no review of the run is stored before its product.
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::ingest::{dry_run, IngestOptions, ProgressMode};

    #[tokio::test]
    async fn a_dump_holds_every_document_flagged_against_the_run_s_products() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("meta.json");
        std::fs::write(&meta, "{\"asin\": \"B1\", \"title\": \"t\"}\n").unwrap();
        let reviews = dir.path().join("reviews.json");
        std::fs::write(
            &reviews,
            "{\"reviewerID\": \"A\", \"asin\": \"B1\", \"overall\": 5, \"unixReviewTime\": 1}\n\
             {\"reviewerID\": \"A\", \"asin\": \"B2\", \"overall\": 4, \"unixReviewTime\": 2}\n\
             not json\n",
        )
        .unwrap();
        let out = dir.path().join("dump");
        let mut options = IngestOptions::new([&reviews, &meta]);
        options.progress = ProgressMode::Quiet;
        options.dump = Some(out.clone());
        let report = dry_run(&options).await.unwrap();
        assert_eq!((report.totals.read, report.totals.quarantined), (4, 1));

        let read = |path: &str| std::fs::read_to_string(out.join(path)).unwrap();
        // The reviews are the first file given (index 0), the metadata the second.
        assert!(read("products/file-1.jsonl").starts_with("{\"_id\":\"B1\""));
        let reviews = read("reviews/file-0.jsonl");
        let lines: Vec<&str> = reviews.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("\"rating\":{\"$numberDouble\":\"5.0\"}"));
        assert!(lines[0].ends_with("\"unknown_product\":false}"));
        assert!(lines[1].ends_with("\"unknown_product\":true}"));
        assert!(read("quarantine/file-0.jsonl").contains("\"stage\":\"parse\""));
        let run = read("ingest_runs.jsonl");
        assert!(run.contains("\"read\":{\"$numberLong\":\"4\"}"), "{run}");
        assert_eq!(report.quarantined.len(), 1);
        assert_eq!(
            (
                report.quarantined[0].line,
                report.quarantined[0].reason.as_str()
            ),
            (3, "not JSON: expected ident at line 1 column 2")
        );

        // A second dump into the same directory would mix two runs: refused, nothing touched.
        let error = dry_run(&options).await.unwrap_err().to_string();
        assert!(
            error.contains("--dump") && error.contains("is not empty"),
            "{error}"
        );
        assert_eq!(read("ingest_runs.jsonl"), run);
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        options.dump = Some(file);
        assert!(dry_run(&options).await.is_err());
    }
}
