//! `recsys ingest` against a real MongoDB-protocol server (`RECSYS_TEST_MONGODB_URI`; in the
//! test suite the emulator that `scripts/test-services.sh up` starts): the Amazon files of
//! `shared/data/amazon`, every kind of bad input, and a server that is unreachable or goes away.
//!
//! Each test works in a database of its own, dropped at the end. The emulator is single-threaded
//! and scans for every query, so the big ratings CSVs are ingested through their first lines.

mod amazon;
mod bad_input;
mod cli;
mod prepare;
mod support;
mod unreachable;

/// `recsys eda --mongodb-uri`: the report of the collections an ingest wrote agrees with the
/// report of the files ingested.
mod eda {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    use recsys::dataset::{Record, RecordReader, Review};
    use recsys::eda::{analyze_files, analyze_store, write_report, EdaOptions, EdaReport};
    use recsys::eda::{StatsBuilder, StatsOptions};
    use recsys::store::schema::review_id;
    use serde_json::Value;

    use crate::support::{data, write, TestDb};

    /// `stats.json` of `report`, as written.
    fn stats_json(report: &EdaReport, dir: &Path) -> Value {
        let written = write_report(report, dir).unwrap();
        serde_json::from_str(&std::fs::read_to_string(written.json).unwrap()).unwrap()
    }

    /// The files as ingest stores them: of the reviews sharing an `_id` (user, asin, day), the
    /// last read is kept, with the fields it lacks taken from the earlier ones.
    fn deduplicated_stats(files: &[PathBuf]) -> EdaReport {
        let mut stats = StatsBuilder::new(StatsOptions::default());
        let mut reviews: HashMap<String, Review> = HashMap::new();
        for file in files {
            for item in RecordReader::open(file, None).unwrap() {
                match item {
                    Ok((_, Record::Review(review))) => {
                        let id = review_id(&review.user, &review.asin, review.timestamp);
                        let merged = match reviews.remove(&id) {
                            Some(earlier) => Review {
                                verified: review.verified.or(earlier.verified),
                                votes: review.votes.or(earlier.votes),
                                helpful: review.helpful.or(earlier.helpful),
                                text: review.text.or(earlier.text),
                                summary: review.summary.or(earlier.summary),
                                reviewer_name: review.reviewer_name.or(earlier.reviewer_name),
                                ..review
                            },
                            None => review,
                        };
                        reviews.insert(id, merged);
                    }
                    Ok((_, record)) => stats.add_record(&record),
                    Err(problem) => stats.add_problem(&problem.reason, None),
                }
            }
        }
        for review in reviews.values() {
            stats.add_review(review);
        }
        stats.finish("files", Vec::new())
    }

    /// The numbers that must agree, whatever the order the records were read in.
    fn key_numbers(json: &Value) -> Value {
        let overview = &json["overview"];
        let mut reasons: Vec<(String, u64)> = json["quarantine"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["reason"].as_str().unwrap().to_owned(),
                    r["count"].as_u64().unwrap(),
                )
            })
            .collect();
        reasons.sort();
        serde_json::json!({
            "interactions": overview["interactions"],
            "rated": overview["rated"],
            "users": overview["users"],
            "items": overview["items"],
            "metadata_coverage": overview["metadata_coverage"],
            "quarantined": overview["quarantined"],
            "histogram": json["ratings"]["histogram"],
            "reasons": reasons,
        })
    }

    fn gini(json: &Value) -> f64 {
        json["long_tail"]["gini"]
            .as_f64()
            .expect("a Gini coefficient")
    }

    #[tokio::test]
    async fn an_empty_database_is_an_error_naming_it() {
        let Some(db) = TestDb::new("eda_empty").await else {
            return;
        };
        let error = analyze_store(&db.store, &EdaOptions::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!("database `{}`", db.name)) && error.contains("recsys ingest"),
            "{error}"
        );
        db.drop_now().await;
    }

    #[tokio::test]
    async fn the_report_from_mongodb_agrees_with_the_report_from_the_files() {
        let Some(db) = TestDb::new("eda").await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        // Bad lines, quarantined by ingest and counted by reason by the file analysis.
        let bad = write(
            dir.path(),
            "bad.json",
            concat!(
                r#"{"reviewerID": "AX1", "asin": "BX1", "overall": 4.0, "unixReviewTime": 1393545600}"#,
                "\n",
                r#"{"reviewerID": "AX2", "asin": "BX1", "overall": "five", "unixReviewTime": 1393545600}"#,
                "\n",
                r#"{"reviewerID": "AX3", "overall": 3.0, "unixReviewTime": 1393545600}"#,
                "\n",
                "not json at all\n",
            )
            .as_bytes(),
        );
        let files = [
            data("mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz"),
            data("mcauley2018-gift-cards/Gift_Cards_5.json.gz"),
            data("mcauley2018-gift-cards/meta_Gift_Cards.json.gz"),
            bad,
        ];
        let ingested = db.ingest(&files).await;
        let t = ingested.totals;
        // Gift cards: three pairs of reviews share an `_id`; the later one of each is stored.
        assert_eq!((t.duplicates, t.quarantined), (3, 3), "{ingested}");

        let options = EdaOptions::default();
        let from_db = analyze_store(&db.store, &options).await.unwrap();
        let from_files = analyze_files(&files, &options).unwrap();
        let db_json = stats_json(&from_db, &dir.path().join("mongodb"));
        let files_json = stats_json(&from_files, &dir.path().join("files"));
        let deduplicated_json = stats_json(&deduplicated_stats(&files), &dir.path().join("dedup"));
        let (db_numbers, files_numbers) = (key_numbers(&db_json), key_numbers(&files_json));
        eprintln!("from MongoDB: {db_numbers}, Gini {}", gini(&db_json));
        eprintln!(
            "from the files: {files_numbers}, Gini {}",
            gini(&files_json)
        );

        // The same files ingested as stored: every number agrees.
        assert_eq!(db_numbers, key_numbers(&deduplicated_json));
        assert!((gini(&db_json) - gini(&deduplicated_json)).abs() < 1e-9);

        // `recsys eda --data` on the files: the same interactions (distinct user-item pairs),
        // users, items, metadata coverage and refused records; the reviews ingest merged (same
        // user, item and day) are the only difference.
        for key in [
            "interactions",
            "users",
            "items",
            "metadata_coverage",
            "quarantined",
            "reasons",
        ] {
            assert_eq!(db_numbers[key], files_numbers[key], "{key}");
        }
        assert_eq!(
            db_numbers["rated"].as_u64().unwrap() + t.duplicates,
            files_numbers["rated"].as_u64().unwrap()
        );
        // And the loader evaluation reads the files with counts the same interactions.
        let dataset = recsys::dataset::Dataset::read(&files, None).unwrap();
        assert_eq!(
            db_numbers["interactions"].as_u64(),
            Some(dataset.interactions.len() as u64)
        );
        assert_eq!(db_numbers["quarantined"].as_u64(), Some(t.quarantined));
        assert!((gini(&db_json) - gini(&files_json)).abs() < 1e-3);

        // The collections are the inputs; the products were found as written.
        let inputs: Vec<(&str, u64, u64)> = from_db
            .inputs
            .iter()
            .map(|i| (i.format.as_str(), i.records, i.malformed))
            .collect();
        assert_eq!(
            inputs,
            [
                ("products", 1547, 0),
                ("reviews", t.inserted - 1547, 0),
                ("quarantine", 3, 0)
            ]
        );

        // Ingesting the bad file again quarantines its lines again (the run is safe and adds
        // nothing else); the report still counts each refused line once.
        let again = db.ingest(&files[3..]).await;
        assert_eq!(again.totals.quarantined, 3, "{again}");
        let after = stats_json(
            &analyze_store(&db.store, &options).await.unwrap(),
            &dir.path().join("again"),
        );
        assert_eq!(
            key_numbers(&after)["quarantined"],
            db_numbers["quarantined"]
        );
        assert_eq!(key_numbers(&after)["reasons"], db_numbers["reasons"]);
        db.drop_now().await;
    }
}
