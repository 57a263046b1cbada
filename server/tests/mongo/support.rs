//! What every MongoDB test needs: the server's URI, a database of its own, the data files, and
//! small queries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mongodb::bson::{doc, Document};
use recsys::ingest::{self, IngestOptions, IngestReport, ProgressMode};
use recsys::store::{MongoConfig, MongoStore};

/// The URI of the MongoDB server under test, from `RECSYS_TEST_MONGODB_URI`.
///
/// Unset: under CI (`CI` set) the test fails, saying how to start a server; elsewhere it is
/// skipped with a notice on stderr (returns `None`).
pub fn mongodb_uri() -> Option<String> {
    match std::env::var("RECSYS_TEST_MONGODB_URI") {
        Ok(uri) if !uri.trim().is_empty() => Some(uri),
        _ if std::env::var_os("CI").is_some() => panic!(
            "RECSYS_TEST_MONGODB_URI is not set: start a server with \
             `eval \"$(scripts/test-services.sh up)\"` (scripts/test.sh does); \
             tests that need MongoDB are never skipped in CI"
        ),
        _ => {
            eprintln!(
                "skipped: RECSYS_TEST_MONGODB_URI is not set; run \
                 `eval \"$(scripts/test-services.sh up)\"` to run the MongoDB tests"
            );
            None
        }
    }
}

/// A database of the test's own, empty, on the server under test; dropped by [`TestDb::drop_now`].
pub struct TestDb {
    pub store: MongoStore,
    pub name: String,
}

impl TestDb {
    /// Connects to a fresh database `recsys_test_<name>_<pid>`; `None` when the test is skipped.
    pub async fn new(name: &str) -> Option<TestDb> {
        let uri = mongodb_uri()?;
        let name = format!("recsys_test_{name}_{}", std::process::id());
        let mut config = MongoConfig::new(uri, &name);
        config.server_selection_timeout = Duration::from_secs(20);
        let store = MongoStore::connect(&config)
            .await
            .expect("the MongoDB server under test answers");
        store
            .database()
            .drop()
            .await
            .expect("drop the test database");
        Some(TestDb { store, name })
    }

    pub async fn ingest(&self, files: &[PathBuf]) -> IngestReport {
        let report = ingest::ingest(&self.store, &options(files))
            .await
            .expect("ingest succeeds");
        assert!(report.totals.is_balanced(), "{report}");
        for file in &report.files {
            assert!(
                file.counts.is_balanced(),
                "{}: {}",
                file.path.display(),
                file.counts
            );
        }
        report
    }

    pub async fn count(&self, collection: &str, filter: Document) -> u64 {
        self.store
            .database()
            .collection::<Document>(collection)
            .count_documents(filter)
            .await
            .expect("count")
    }

    pub async fn find(&self, collection: &str, filter: Document) -> Vec<Document> {
        let mut cursor = self
            .store
            .database()
            .collection::<Document>(collection)
            .find(filter)
            .await
            .expect("find");
        let mut found = Vec::new();
        while cursor.advance().await.expect("cursor") {
            found.push(cursor.deserialize_current().expect("document"));
        }
        found
    }

    pub async fn one(&self, collection: &str, filter: Document) -> Document {
        let mut found = self.find(collection, filter.clone()).await;
        assert_eq!(found.len(), 1, "one document in {collection} for {filter}");
        found.remove(0)
    }

    /// The run's record in `ingest_runs`, checked against the report.
    pub async fn check_run(&self, report: &IngestReport) -> Document {
        let run = self
            .one("ingest_runs", doc! { "_id": &report.run_id })
            .await;
        assert_eq!(run.get_str("status").unwrap(), "finished");
        assert!(run.get_datetime("finished").is_ok());
        let t = report.totals;
        for (key, value) in [
            ("read", t.read),
            ("inserted", t.inserted),
            ("updated", t.updated),
            ("duplicates", t.duplicates),
            ("quarantined", t.quarantined),
            ("repaired", t.repaired),
        ] {
            assert_eq!(run.get_i64(key).unwrap() as u64, value, "ingest_runs.{key}");
        }
        let quarantined = self
            .count("quarantine", doc! { "run_id": &report.run_id })
            .await;
        assert_eq!(
            quarantined, t.quarantined,
            "quarantine documents of the run"
        );
        run
    }

    pub async fn drop_now(self) {
        self.store
            .database()
            .drop()
            .await
            .expect("drop the test database");
    }
}

pub fn options(files: &[PathBuf]) -> IngestOptions {
    let mut options = IngestOptions::new(files.iter().cloned());
    options.progress = ProgressMode::Quiet;
    options
}

/// A file of `shared/data/amazon`.
pub fn data(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/amazon")
        .join(relative)
}

/// The first `lines` lines of `source` written to `dir/name`.
pub fn head(source: &Path, lines: usize, dir: &Path, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(source).expect("read the source file");
    let head: Vec<&str> = text.split_inclusive('\n').take(lines).collect();
    let path = dir.join(name);
    std::fs::write(&path, head.concat()).expect("write the head");
    path
}

pub fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write a fixture");
    path
}
