//! The Spark job (`examples/spark/ingest.py`) against `recsys ingest`: both ingest the same
//! sample of every ingested format, each into a database of its own on the MongoDB server under
//! test (`RECSYS_TEST_MONGODB_URI`), and must store exactly the same documents: the same
//! `products` and `reviews` (ids and field values, BSON types included; only `ingest.run`, the
//! run id, differs), the same quarantined lines with the same reasons and raw text, and the same
//! counts in `ingest_runs`.
//!
//! The job runs with the Python of `RECSYS_SPARK_PYTHON`, or of the virtualenv that
//! `scripts/dev-setup.sh` makes (`~/.cache/recsys-services/spark-venv`), in `local[2]`. Without
//! either (or without a server) the test is skipped with a notice, except under CI, where it
//! fails instead.
//!
//! The sample is small (the emulator is single-threaded): heads of the gift-card metadata and
//! reviews, of the ratings-only and Kaggle CSVs, plus malformed lines of each kind.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mongodb::bson::{doc, Bson, Document};
use recsys::ingest::{self, IngestOptions, ProgressMode};
use recsys::store::{MongoConfig, MongoStore};

/// Skips (returns `None`) with a notice, or fails under CI.
fn required<T>(value: Option<T>, what: &str) -> Option<T> {
    if value.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what}; tests that need it are never skipped in CI (scripts/test.sh sets it up)"
        );
        eprintln!("skipped: {what}");
    }
    value
}

fn mongodb_uri() -> Option<String> {
    let uri = std::env::var("RECSYS_TEST_MONGODB_URI")
        .ok()
        .filter(|uri| !uri.trim().is_empty());
    required(
        uri,
        "RECSYS_TEST_MONGODB_URI is not set: run `eval \"$(scripts/test-services.sh up)\"`",
    )
}

/// The Python that has pyspark and pymongo.
fn spark_python() -> Option<PathBuf> {
    let python = std::env::var_os("RECSYS_SPARK_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("RECSYS_SERVICES_HOME")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .map(|h| PathBuf::from(h).join(".cache/recsys-services"))
                })?;
            Some(home.join("spark-venv/bin/python"))
        })
        .filter(|python| python.exists());
    required(
        python,
        "no Python with pyspark: run scripts/dev-setup.sh or set RECSYS_SPARK_PYTHON",
    )
}

fn data(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/amazon")
        .join(relative)
}

/// The first `lines` lines of `source` (gzip or plain), as text.
fn head(source: &Path, lines: usize) -> String {
    let bytes = std::fs::read(source).expect("read a data file");
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("gunzip");
        text
    } else {
        String::from_utf8(bytes).expect("UTF-8")
    };
    text.split_inclusive('\n').take(lines).collect()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("gzip");
    encoder.finish().expect("gzip")
}

/// The sample files, in the order given to both writers.
fn sample(dir: &Path) -> Vec<PathBuf> {
    let write = |name: &str, content: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write a sample file");
        path
    };
    let gift = "mcauley2018-gift-cards";
    let meta = head(&data(&format!("{gift}/meta_Gift_Cards.json.gz")), 250)
        + "{\"asin\": \"B1\", \"title\": \"<b>Bold</b> &amp; plain\", \"price\": \"$1,299.00\", \"rank\": [\"n/a\", \">#2,893,775 in Toys &amp; Games (See Top)\"]}\n"
        + "[\"not\", \"an object\"]\n"
        + "{\"title\": \"no asin\"}\n";
    // The reviews cover products beyond the metadata's head: those are kept and flagged.
    let reviews = head(&data(&format!("{gift}/Gift_Cards_5.json.gz")), 400)
        + "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": 7, \"unixReviewTime\": 1}\n"
        + "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": \"five\", \"unixReviewTime\": 1}\n"
        + "{\"reviewerID\": \"A2\", \"overall\": 5.0, \"unixReviewTime\": 1}\n"
        + "{\"reviewerID\": \"A3\", \"asin\": \"B1\", \"overall\": 4.3, \"reviewTime\": \"02 28, 2014\", \"vote\": \"1,341\", \"reviewText\": \"a &lt; b &#34;ok&#34;\"}\n"
        + "not json at all\n\n";
    let ratings = head(
        &data("mcauley2018-magazine-subscriptions/Magazine_Subscriptions.csv"),
        120,
    ) + "B1,A1,5.0\nB1,A1,five,1\n,A1,5,1\nB1,A1,5,1.3697E+09\n";
    let kaggle = head(&data("kaggle-ratings-beauty-head/ratings_Beauty.csv"), 60)
        + "A9,205616461,3,1369699200,\r\nA9,B2,0,1369699200,\r\n";
    vec![
        write("reviews.json.gz", &gzip(&reviews)),
        write("meta.json", meta.as_bytes()),
        write("ratings.csv", ratings.as_bytes()),
        write("kaggle.csv", kaggle.as_bytes()),
    ]
}

async fn fresh_db(uri: &str, name: &str) -> MongoStore {
    let mut config = MongoConfig::new(uri, name);
    config.server_selection_timeout = Duration::from_secs(20);
    let store = MongoStore::connect(&config).await.expect("MongoDB answers");
    store
        .database()
        .drop()
        .await
        .expect("drop the test database");
    store
}

async fn all(store: &MongoStore, collection: &str) -> Vec<Document> {
    let mut cursor = store
        .database()
        .collection::<Document>(collection)
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await
        .expect("find");
    let mut found = Vec::new();
    while cursor.advance().await.expect("cursor") {
        found.push(cursor.deserialize_current().expect("document"));
    }
    found
}

/// Stored documents by `_id`, without the run id (which differs by construction).
async fn stored(store: &MongoStore, collection: &str) -> BTreeMap<String, Document> {
    all(store, collection)
        .await
        .into_iter()
        .map(|mut document| {
            if let Ok(origin) = document.get_document_mut("ingest") {
                origin.remove("run");
            }
            (
                document.get_str("_id").expect("string _id").to_owned(),
                document,
            )
        })
        .collect()
}

/// Quarantined lines by (file, line): format, stage, reason and raw text. serde_json and Python
/// word the detail of a JSON syntax error differently, so such a reason is compared up to its
/// colon (`not JSON`, `not valid JSON`).
async fn quarantined(store: &MongoStore) -> BTreeMap<(String, i64), Vec<String>> {
    all(store, "quarantine")
        .await
        .into_iter()
        .map(|q| {
            let reason = q.get_str("reason").unwrap();
            let reason = match reason.split_once(':') {
                Some((head, _)) if head.contains("JSON") => head,
                _ => reason,
            };
            let key = (
                q.get_str("file").unwrap().to_owned(),
                q.get_i64("line").unwrap(),
            );
            let id = q.get_str("_id").unwrap();
            let position = id.split_once(':').map_or("", |(_, rest)| rest).to_owned();
            let value = ["format", "stage", "raw", "file_name"]
                .iter()
                .map(|k| q.get_str(k).unwrap().to_owned())
                .chain([reason.to_owned(), position])
                .collect();
            (key, value)
        })
        .collect()
}

/// The counts of the run's record: totals and per file.
async fn run_counts(store: &MongoStore) -> Vec<(String, Vec<i64>)> {
    let runs = all(store, "ingest_runs").await;
    assert_eq!(runs.len(), 1, "one run");
    let run = &runs[0];
    assert_eq!(run.get_str("status").unwrap(), "finished", "{run}");
    let counts = |doc: &Document| -> Vec<i64> {
        ["read", "inserted", "updated", "duplicates", "quarantined"]
            .iter()
            .map(|k| doc.get_i64(k).unwrap_or_else(|_| panic!("{k} in {doc}")))
            .collect()
    };
    let mut out = vec![("total".to_owned(), counts(run))];
    for file in run.get_array("files").unwrap() {
        let Bson::Document(file) = file else {
            panic!("a file entry is a document")
        };
        let name = format!(
            "{} {}",
            file.get_str("file").unwrap(),
            file.get_str("format").unwrap()
        );
        out.push((name, counts(file)));
    }
    out.push((
        "reviews_linked".into(),
        vec![run.get_i64("reviews_linked").unwrap()],
    ));
    out
}

fn assert_same_documents(
    collection: &str,
    rust: &BTreeMap<String, Document>,
    spark: &BTreeMap<String, Document>,
) {
    let only_rust: Vec<_> = rust.keys().filter(|id| !spark.contains_key(*id)).collect();
    let only_spark: Vec<_> = spark.keys().filter(|id| !rust.contains_key(*id)).collect();
    assert!(
        only_rust.is_empty() && only_spark.is_empty(),
        "{collection}: ids only from recsys ingest {only_rust:?}, only from Spark {only_spark:?}"
    );
    for (id, document) in rust {
        assert_eq!(
            document, &spark[id],
            "{collection} {id}: recsys ingest (left) and Spark (right) differ"
        );
    }
}

#[tokio::test]
async fn spark_job_stores_what_recsys_ingest_stores() {
    let Some(uri) = mongodb_uri() else { return };
    let Some(python) = spark_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let files = sample(dir.path());
    let pid = std::process::id();
    let rust_db = format!("recsys_test_spark_rust_{pid}");
    let spark_db = format!("recsys_test_spark_job_{pid}");

    let rust = fresh_db(&uri, &rust_db).await;
    let mut options = IngestOptions::new(files.iter().cloned());
    options.progress = ProgressMode::Quiet;
    // One batch per file: records with the same `_id` then always meet in one batch, as they
    // meet in one group in the Spark job.
    options.batch_size = 100_000;
    let report = ingest::ingest(&rust, &options)
        .await
        .expect("recsys ingest succeeds");
    assert!(report.totals.is_balanced(), "{report}");
    assert!(report.totals.quarantined >= 10, "{report}");

    let spark = fresh_db(&uri, &spark_db).await;
    let job = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/spark/ingest.py");
    let output = Command::new(&python)
        .arg(&job)
        .args([
            "--mongodb-uri",
            &uri,
            "--db",
            &spark_db,
            "--master",
            "local[2]",
        ])
        .args(&files)
        .output()
        .expect("start the Spark job");
    assert!(
        output.status.success(),
        "the Spark job failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    for collection in ["products", "reviews"] {
        assert_same_documents(
            collection,
            &stored(&rust, collection).await,
            &stored(&spark, collection).await,
        );
    }
    assert_eq!(quarantined(&rust).await, quarantined(&spark).await);
    assert_eq!(run_counts(&rust).await, run_counts(&spark).await);
    // The sample exercises what it should: unknown products kept and flagged, a repaired ASIN.
    let flagged = spark
        .database()
        .collection::<Document>("reviews")
        .count_documents(doc! { "unknown_product": true })
        .await
        .unwrap();
    assert!(flagged > 0);
    let repaired = stored(&spark, "reviews").await;
    assert!(repaired.contains_key("A9|0205616461|1369699200"));

    rust.database().drop().await.unwrap();
    spark.database().drop().await.unwrap();
}
