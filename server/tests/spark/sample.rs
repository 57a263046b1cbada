//! Both writers store a sample of every ingested format into MongoDB: the stored collections
//! must be equal.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mongodb::bson::{doc, Document};
use recsys::ingest::{self, IngestOptions, ProgressMode};
use recsys::store::{MongoConfig, MongoStore};

use crate::compare::{assert_same_documents, quarantine_key, run_counts, without_run};
use crate::{data, mongodb_uri, run_spark, spark_python};

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

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// The sample files, in the order given to both writers: heads of the gift-card metadata and
/// reviews, of the ratings-only and Kaggle CSVs, plus malformed lines of each kind: bad JSON,
/// ratings and times, repaired times and ASINs, lines that are not UTF-8, ids holding the `|`
/// of review `_id`s, and a header naming the ratings CSV's columns.
pub(crate) fn sample(dir: &Path) -> Vec<PathBuf> {
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
    let mut meta = meta.into_bytes();
    meta.extend_from_slice(b"{\"asin\": \"B9\", \"title\": \"caf\xe9\"}\n");
    // The reviews cover products beyond the metadata's head: those are kept and flagged.
    let reviews = head(&data(&format!("{gift}/Gift_Cards_5.json.gz")), 400)
        + "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": 7, \"unixReviewTime\": 1}\n"
        + "{\"reviewerID\": \"A1\", \"asin\": \"B1\", \"overall\": \"five\", \"unixReviewTime\": 1}\n"
        + "{\"reviewerID\": \"A2\", \"overall\": 5.0, \"unixReviewTime\": 1}\n"
        + "{\"reviewerID\": \"A3\", \"asin\": \"B1\", \"overall\": 4.3, \"reviewTime\": \"02 28, 2014\", \"vote\": \"1,341\", \"reviewText\": \"a &lt; b &#34;ok&#34;\"}\n"
        + "not json at all\n\n"
        // Two ids that would both be `U|B1|X|1393545600`: both are refused.
        + "{\"reviewerID\": \"U|B1\", \"asin\": \"X\", \"overall\": 5.0, \"unixReviewTime\": 1393545600}\n"
        + "{\"reviewerID\": \"U\", \"asin\": \"B1|X\", \"overall\": 1.0, \"unixReviewTime\": 1393545600}\n"
        + "{\"reviewerID\": \"A4\", \"asin\": \"B1\", \"overall\": 5.0, \"unixReviewTime\": \"abc\", \"reviewTime\": \"02 28, 2014\"}\n";
    let mut reviews = reviews.into_bytes();
    reviews.extend_from_slice(
        b"{\"reviewerID\": \"U34\xff\", \"asin\": \"B1\", \"overall\": 5.0, \"unixReviewTime\": 1}\n",
    );
    let ratings = "item,user,rating,timestamp\n".to_owned()
        + &head(
            &data("mcauley2018-magazine-subscriptions/Magazine_Subscriptions.csv"),
            120,
        )
        + "B1,A1,5.0\nB1,A1,five,1\n,A1,5,1\nB1,A1,5,1.3697E+09\nB1|X,A1,5,1369699200\n\
           item,user,rating,timestamp\n";
    let mut ratings = ratings.into_bytes();
    ratings.extend_from_slice(b"B1,A\xe2\x82,5,1369699200\nB2,A\xff,5,1369699200\n");
    let kaggle = head(&data("kaggle-ratings-beauty-head/ratings_Beauty.csv"), 60)
        + "A9,205616461,3,1369699200,\r\nA9,B2,0,1369699200,\r\n";
    vec![
        write("reviews.json.gz", &gzip(&reviews)),
        write("meta.json", &meta),
        write("ratings.csv", &ratings),
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
        .map(|document| {
            let id = document.get_str("_id").expect("string _id").to_owned();
            (id, without_run(document))
        })
        .collect()
}

/// Quarantined lines by (file, line).
async fn quarantined(store: &MongoStore) -> BTreeMap<(String, i64), Document> {
    all(store, "quarantine")
        .await
        .iter()
        .map(quarantine_key)
        .collect()
}

/// The one run's counts.
async fn counts(store: &MongoStore) -> Vec<(String, Vec<i64>)> {
    let runs = all(store, "ingest_runs").await;
    assert_eq!(runs.len(), 1, "one run");
    assert_eq!(
        runs[0].get_str("status").unwrap(),
        "finished",
        "{}",
        runs[0]
    );
    run_counts(&runs[0])
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
    run_spark(&python, &["--mongodb-uri", &uri, "--db", &spark_db], &files);

    for collection in ["products", "reviews"] {
        assert_same_documents(
            collection,
            &stored(&rust, collection).await,
            &stored(&spark, collection).await,
        );
    }
    assert_same_documents(
        "quarantine",
        &quarantined(&rust).await,
        &quarantined(&spark).await,
    );
    assert_eq!(counts(&rust).await, counts(&spark).await);
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
    assert!(repaired.contains_key("A4|B1|1393545600"));
    // Refused alike by both (the quarantine comparison above): ids holding `|`, lines that are
    // not UTF-8; the ratings header is no record.
    let refused = quarantined(&spark).await;
    let reasons: Vec<&str> = refused
        .values()
        .map(|q| q.get_str("reason").unwrap())
        .collect();
    for expected in [
        "`|` in the user id: it separates user, ASIN and time in a review `_id`",
        "`|` in the ASIN: it separates user, ASIN and time in a review `_id`",
        "not UTF-8: invalid byte at offset 19",
        "not valid UTF-8: invalid utf-8 sequence of 2 bytes from index 4",
        "not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 4",
    ] {
        assert!(reasons.contains(&expected), "{expected} in {reasons:?}");
    }
    assert!(!refused
        .keys()
        .any(|(file, line)| file.ends_with("ratings.csv") && *line == 1));
    let totals = &counts(&spark).await[0].1;
    assert!(totals[5] >= 3, "repaired: {totals:?}");

    rust.database().drop().await.unwrap();
    spark.database().drop().await.unwrap();
}
