//! Bad input is data: each kind of malformed record is quarantined with its raw text and a
//! reason, the good records around it are stored, and the counts add up.

use std::io::Write;

use mongodb::bson::{doc, Document};
use recsys::ingest::{self, Target};
use recsys::Error;

use crate::support::{options, write, TestDb};

fn review(user: &str, asin: &str, time: i64) -> String {
    format!(
        r#"{{"reviewerID": "{user}", "asin": "{asin}", "overall": 4.0, "unixReviewTime": {time}, "reviewText": "fine"}}"#
    )
}

fn gzip(content: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

/// The quarantine documents of a run, by line.
async fn quarantined(db: &TestDb, run_id: &str) -> Vec<Document> {
    let mut found = db.find("quarantine", doc! { "run_id": run_id }).await;
    found.sort_by_key(|q| q.get_i64("line").unwrap());
    found
}

#[tokio::test]
async fn malformed_lines_are_quarantined_with_raw_text_and_reason() {
    let Some(db) = TestDb::new("malformed_lines").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        review("A1", "B1", 1_500_000_000),
        "{this is not JSON".to_owned(),
        r#"["A2", "B1", 5.0, 1500000000]"#.to_owned(),
        r#"{"reviewerID": "A3", "overall": 5.0, "unixReviewTime": 1500000000}"#.to_owned(),
        r#"{"reviewerID": "A4", "asin": "B1", "overall": 7, "unixReviewTime": 1500000000}"#
            .to_owned(),
        r#"{"reviewerID": "A5", "asin": "B1", "overall": "five", "unixReviewTime": 1500000000}"#
            .to_owned(),
        review("A6", "B2", 1_500_000_000),
    ];
    let file = write(dir.path(), "bad_reviews.json", lines.join("\n").as_bytes());
    let report = db.ingest(std::slice::from_ref(&file)).await;
    let t = report.totals;
    assert_eq!((t.read, t.inserted, t.quarantined), (7, 2, 5), "{report}");
    db.check_run(&report).await;

    let expected = [
        (2, "not valid JSON"),
        (3, "JSON but not an object (an array)"),
        (4, "missing field `asin`"),
        (5, "rating 7 out of range 1..=5"),
        (6, "rating not a number: \"five\""),
    ];
    let found = quarantined(&db, &report.run_id).await;
    assert_eq!(found.len(), expected.len());
    for (q, (line, reason)) in found.iter().zip(expected) {
        assert_eq!(q.get_i64("line").unwrap(), line);
        assert!(q.get_str("reason").unwrap().starts_with(reason), "{q}");
        assert_eq!(
            q.get_str("raw").unwrap(),
            lines[line as usize - 1],
            "raw text kept"
        );
        assert_eq!(q.get_str("file").unwrap(), file.display().to_string());
        assert_eq!(q.get_str("file_name").unwrap(), "bad_reviews.json");
        assert_eq!(q.get_str("stage").unwrap(), "parse");
        assert_eq!(q.get_str("format").unwrap(), "reviews");
    }
    assert_eq!(db.count("reviews", doc! {}).await, 2);

    // Quarantine is a per-run log: a second run records the same lines again under its id.
    let again = db.ingest(&[file]).await;
    assert_eq!((again.totals.inserted, again.totals.quarantined), (0, 5));
    assert_eq!(quarantined(&db, &again.run_id).await.len(), 5);
    db.drop_now().await;
}

#[tokio::test]
async fn a_truncated_gzip_keeps_what_could_be_read() {
    let Some(db) = TestDb::new("truncated_gzip").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let content: String = (0..3000)
        .map(|i| review(&format!("A{i}"), &format!("B{}", i % 50), 1_400_000_000 + i))
        .collect::<Vec<_>>()
        .join("\n");
    let gz = gzip(content.as_bytes());
    let file = write(dir.path(), "cut.json.gz", &gz[..gz.len() / 2]);
    let report = db.ingest(&[file]).await;
    let t = report.totals;
    assert_eq!(t.quarantined, 1, "{report}");
    assert!(t.inserted > 100 && t.inserted < 3000, "{report}");
    assert_eq!(t.read, t.inserted + 1);
    db.check_run(&report).await;
    let found = quarantined(&db, &report.run_id).await;
    assert_eq!(found[0].get_i64("line").unwrap() as u64, t.inserted + 1);
    assert!(
        found[0]
            .get_str("reason")
            .unwrap()
            .starts_with("input unreadable from this line on"),
        "{}",
        found[0]
    );
    assert_eq!(db.count("reviews", doc! {}).await, t.inserted);
    db.drop_now().await;
}

#[tokio::test]
async fn five_megabyte_lines_are_stored_or_quarantined_never_fatal() {
    let Some(db) = TestDb::new("big_lines").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = "lorem ipsum ".repeat((5 << 20) / 12);
    let big_review = format!(
        r#"{{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1500000000, "reviewText": "{text}"}}"#
    );
    let junk = "x".repeat(5 << 20);
    let content = [big_review, junk, review("A2", "B1", 1_500_000_000)].join("\n");
    let file = write(dir.path(), "big.json", content.as_bytes());
    let report = db.ingest(&[file]).await;
    let t = report.totals;
    assert_eq!((t.read, t.inserted, t.quarantined), (3, 2, 1), "{report}");
    db.check_run(&report).await;

    let stored = db.one("reviews", doc! { "_id": "A1|B1|1500000000" }).await;
    assert_eq!(stored.get_str("text").unwrap().len(), text.len());
    let q = &quarantined(&db, &report.run_id).await[0];
    assert_eq!(q.get_i64("line").unwrap(), 2);
    assert!(q.get_str("reason").unwrap().starts_with("not JSON"), "{q}");
    let raw = q.get_str("raw").unwrap();
    assert!(
        raw.starts_with("xxxx") && raw.len() < 70_000,
        "raw kept, cut"
    );
    assert!(raw.ends_with(&format!("[truncated, {} bytes in all]", 5 << 20)));
    db.drop_now().await;
}

#[tokio::test]
async fn a_file_in_an_unknown_format_is_an_error_naming_it_and_nothing_is_written() {
    let Some(db) = TestDb::new("unknown_format").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", review("A1", "B1", 1).as_bytes());
    let odd = write(dir.path(), "notes.txt", b"to do: buy milk\nand bread\n");
    let error = ingest::ingest(&db.store, &options(&[good, odd]))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Dataset(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("notes.txt") && message.contains("cannot recognise"),
        "{message}"
    );
    assert_eq!(db.count("ingest_runs", doc! {}).await, 0);
    assert_eq!(db.count("reviews", doc! {}).await, 0);
    db.drop_now().await;
}

/// The dry run parses and builds the same documents without a server, and counts the same
/// records read and quarantined.
#[test]
fn a_dry_run_counts_like_a_real_run_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        review("A1", "B1", 1),
        "not json".to_owned(),
        review("A1", "B1", 1),
        review("A2", "B1", 1),
    ];
    let file = write(dir.path(), "r.json", lines.join("\n").as_bytes());
    let report = ingest::run(&Target::DryRun, &options(&[file])).unwrap();
    let t = report.totals;
    assert!(report.dry_run && t.is_balanced());
    // The repeated review is superseded in its batch, as in a real run.
    assert_eq!(
        (t.read, t.inserted, t.duplicates, t.quarantined),
        (4, 2, 1, 1)
    );
    assert!(report.bson_bytes > 0);
    assert!(report.to_string().contains("records/s"), "{report}");
}

#[tokio::test]
async fn ids_holding_the_separator_are_quarantined_not_merged() {
    let Some(db) = TestDb::new("separator").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Both would be `U|B1|X|1393545600`: one review would silently replace the other.
    let lines = [
        review("U|B1", "X", 1_393_545_600),
        review("U", "B1|X", 1_393_545_600),
        review("U", "B1", 1_393_545_600),
    ];
    let file = write(dir.path(), "pipe.json", lines.join("\n").as_bytes());
    let report = db.ingest(std::slice::from_ref(&file)).await;
    let t = report.totals;
    assert_eq!(
        (t.read, t.inserted, t.duplicates, t.quarantined),
        (3, 1, 0, 2),
        "{report}"
    );
    db.check_run(&report).await;
    let found = quarantined(&db, &report.run_id).await;
    let reasons: Vec<(i64, &str, &str)> = found
        .iter()
        .map(|q| {
            (
                q.get_i64("line").unwrap(),
                q.get_str("reason").unwrap(),
                q.get_str("raw").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (
                1,
                "`|` in the user id: it separates user, ASIN and time in a review `_id`",
                lines[0].as_str()
            ),
            (
                2,
                "`|` in the ASIN: it separates user, ASIN and time in a review `_id`",
                lines[1].as_str()
            ),
        ]
    );
    assert_eq!(db.count("reviews", doc! {}).await, 1);
    assert_eq!(
        db.count("reviews", doc! { "_id": "U|B1|1393545600" }).await,
        1
    );
    db.drop_now().await;
}

#[tokio::test]
async fn repaired_records_are_counted_in_the_summary_and_the_run() {
    let Some(db) = TestDb::new("repaired").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Timestamps before 1970 and not a number: both taken from `reviewTime`, as evaluate does.
    let file = write(
        dir.path(),
        "repair.json",
        concat!(
            r#"{"overall":5.0,"reviewerID":"U1","asin":"B1","unixReviewTime":-86400,"reviewTime":"02 28, 2014"}"#,
            "\n",
            r#"{"overall":5.0,"reviewerID":"U2","asin":"B1","unixReviewTime":"abc","reviewTime":"02 28, 2014"}"#,
            "\n",
            r#"{"overall":4.0,"reviewerID":"U3","asin":"B1","unixReviewTime":1393545600}"#,
            "\n",
        )
        .as_bytes(),
    );
    let report = db.ingest(std::slice::from_ref(&file)).await;
    let t = report.totals;
    assert_eq!((t.read, t.inserted, t.repaired), (3, 3, 2), "{report}");
    assert_eq!(report.files[0].counts.repaired, 2);
    let text = report.to_string();
    assert!(
        text.contains(
            "read 3 = inserted 3 + updated 0 + duplicates 0 + quarantined 0 (2 repaired)"
        ) && text.contains("2 repaired: records that needed a documented repair"),
        "{text}"
    );
    let run = db.check_run(&report).await;
    let files = run.get_array("files").unwrap();
    let first = files[0].as_document().unwrap();
    assert_eq!(first.get_i64("repaired").unwrap(), 2);
    assert_eq!(
        db.count("reviews", doc! { "_id": "U1|B1|1393545600" })
            .await,
        1,
        "the day of reviewTime"
    );

    // The same lines again: nothing new, and still counted as repaired.
    let again = db.ingest(&[file]).await;
    assert_eq!(
        (again.totals.duplicates, again.totals.repaired),
        (3, 2),
        "{again}"
    );
    db.drop_now().await;
}
