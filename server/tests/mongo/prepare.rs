//! `recsys prepare`: from the ingested collections to `interactions`, `item_features` and a
//! snapshot whose evaluation equals the evaluation of the files ingested.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mongodb::bson::{doc, Document};
use recsys::dataset::Dataset;
use recsys::eval::{Metrics, MetricsAccumulator, Protocol, Split, TrainSet};
use recsys::prepare::{self, PrepareOptions, INTERACTIONS, ITEM_FEATURES};

use crate::support::{data, mongodb_uri, TestDb};

/// Popularity (training counts, ties by item index) scored in-process: depends on the users,
/// items, their indices and the split, as any plugin would.
fn popularity_metrics(dataset: &Dataset, protocol: Protocol, k: usize) -> Metrics {
    let train = TrainSet::new(dataset, Split::new(&dataset.interactions, protocol));
    let mut counts = vec![0u64; dataset.n_items()];
    for &item in &train.csr.indices {
        counts[item as usize] += 1;
    }
    let mut ranking: Vec<u32> = (0..dataset.n_items() as u32).collect();
    ranking.sort_by_key(|&i| (std::cmp::Reverse(counts[i as usize]), i));
    let mut metrics = MetricsAccumulator::new(dataset.n_items());
    for (user, relevant) in &train.test {
        let seen = train.seen(*user);
        let top: Vec<u32> = ranking
            .iter()
            .copied()
            .filter(|i| seen.binary_search(i).is_err())
            .take(k)
            .collect();
        metrics.add(k, &top, relevant);
    }
    metrics.finish()
}

/// `recsys evaluate ARGS` with the popularity plugin alone; its JSON report.
fn evaluate_cli(dir: &Path, name: &str, args: &[&str]) -> serde_json::Value {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_recsys"));
    let library = format!(
        "{}recsys_plugin_popularity{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let built = binary.parent().unwrap().join(&library);
    assert!(
        built.is_file(),
        "{} is missing: build the workspace's plugins first (`cargo build --workspace`)",
        built.display()
    );
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(&built, plugins.join(&library)).unwrap();
    let json = dir.join(format!("{name}.json"));
    let output = Command::new(binary)
        .arg("evaluate")
        .args(args)
        .arg("--plugin-dir")
        .arg(&plugins)
        .args(["--plugins", "popularity", "--quiet", "--json"])
        .arg(&json)
        .output()
        .expect("run recsys");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

fn ids(map: &recsys::dataset::IdMap) -> Vec<String> {
    map.iter().map(|(_, id)| id.to_owned()).collect()
}

#[tokio::test]
async fn the_snapshot_evaluates_exactly_like_the_files() {
    let Some(db) = TestDb::new("prepare").await else {
        return;
    };
    let files = [
        data("mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz"),
        data("mcauley2018-gift-cards/Gift_Cards_5.json.gz"),
        data("mcauley2018-gift-cards/meta_Gift_Cards.json.gz"),
    ];
    db.ingest(&files).await;
    // A review without a rating (written by another tool): dropped and counted.
    db.store
        .database()
        .collection::<Document>("reviews")
        .insert_one(doc! { "_id": "AZ|BZ|1", "user": "AZ", "asin": "BZ",
        "time": mongodb::bson::DateTime::from_millis(1000) })
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let options = PrepareOptions {
        snapshot: Some(dir.path().to_owned()),
        ..PrepareOptions::default()
    };
    let report = prepare::prepare(&db.store, &options).await.unwrap();
    eprintln!("{report}");
    assert_eq!(report.dropped.get("missing field `rating`"), Some(&1));

    let from_files = Dataset::read(&files, None).unwrap();
    let snapshot = prepare::latest_snapshot(dir.path()).unwrap();
    assert_eq!(
        Some(snapshot[0].parent().unwrap()),
        report.snapshot.as_deref()
    );
    let from_snapshot = Dataset::read(&snapshot, None).unwrap();
    assert_eq!(from_snapshot.report.problem_count(), 0);
    assert_eq!(ids(&from_snapshot.users), ids(&from_files.users));
    assert_eq!(ids(&from_snapshot.items), ids(&from_files.items));
    let rows = |d: &Dataset| -> Vec<(u32, u32, f32, i64)> {
        d.interactions
            .iter()
            .map(|i| (i.user, i.item, i.rating, i.timestamp))
            .collect()
    };
    assert_eq!(rows(&from_snapshot), rows(&from_files));
    assert_eq!(report.interactions as usize, from_files.interactions.len());
    let with_meta = |d: &Dataset| d.item_meta.iter().filter(|m| m.is_some()).count();
    assert_eq!(with_meta(&from_snapshot), with_meta(&from_files));
    for protocol in [
        Protocol::LeaveLastOut,
        Protocol::parse("random-holdout", 0.2, 42).unwrap(),
    ] {
        let (a, b) = (
            popularity_metrics(&from_snapshot, protocol, 10),
            popularity_metrics(&from_files, protocol, 10),
        );
        assert_eq!(a, b, "{protocol}");
        assert!(a.hit_rate > 0.0);
    }

    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report.snapshot.as_ref().unwrap().join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["counts"]["interactions"], report.interactions);
    assert_eq!(manifest["parameters"]["alpha"], prepare::DEFAULT_ALPHA);

    // The collections: one document per interaction and per item, with their indexes.
    assert_eq!(db.count(INTERACTIONS, doc! {}).await, report.interactions);
    assert_eq!(db.count(ITEM_FEATURES, doc! {}).await, report.items);
    for (collection, key) in [
        (INTERACTIONS, "user"),
        (INTERACTIONS, "asin"),
        (ITEM_FEATURES, "brand_id"),
        (ITEM_FEATURES, "category_id"),
    ] {
        let names = db
            .store
            .database()
            .collection::<Document>(collection)
            .list_index_names()
            .await
            .unwrap();
        assert!(names.iter().any(|n| n == key), "{collection}: {names:?}");
    }
    // Centred ratings average to zero per user; confidence follows the rating.
    let interactions = db.find(INTERACTIONS, doc! {}).await;
    let first = interactions[0].clone();
    let mut per_user: HashMap<String, f64> = HashMap::new();
    for i in &interactions {
        *per_user
            .entry(i.get_str("user").unwrap().into())
            .or_default() += i.get_f64("rating_centred").unwrap();
        let rating = i.get_f64("rating").unwrap();
        let confidence = i.get_f64("confidence").unwrap();
        assert!((confidence - (1.0 + prepare::DEFAULT_ALPHA * rating / 5.0)).abs() < 1e-12);
    }
    assert!(per_user.values().all(|s| s.abs() < 1e-9));
    // Musical instruments have no metadata here: unknown brand, imputed price, flagged.
    let features = db.find(ITEM_FEATURES, doc! { "has_metadata": false }).await;
    assert_eq!(features.len() as u64, report.items_without_metadata);
    assert!(features
        .iter()
        .all(|f| f.get_i64("brand_id").unwrap() == 0 && f.get_bool("price_imputed").unwrap()));
    assert!(report.items_without_metadata > 0 && report.brands > 0);

    // `recsys evaluate --source mongodb` trains from that snapshot, with the metrics of the files.
    assert_eq!(
        prepare::latest_snapshot_in(&db.store).await.unwrap(),
        snapshot
            .iter()
            .map(|f| std::fs::canonicalize(f).unwrap())
            .collect::<Vec<_>>()
    );
    let from_mongodb = evaluate_cli(
        dir.path(),
        "mongodb",
        &[
            "--source",
            "mongodb",
            "--mongodb-uri",
            &mongodb_uri().unwrap(),
            "--db",
            &db.name,
        ],
    );
    let mut data = Vec::new();
    for file in &files {
        data.extend(["--data", file.to_str().unwrap()]);
    }
    let from_files = evaluate_cli(dir.path(), "files", &data);
    for key in [
        "protocol",
        "k",
        "users_evaluated",
        "n_users",
        "n_items",
        "train_interactions",
    ] {
        assert_eq!(from_mongodb[key], from_files[key], "{key}");
    }
    assert_eq!(from_mongodb["results"][0]["plugin"], "popularity");
    assert!(
        from_mongodb["results"][0]["metrics"]["ndcg"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(
        from_mongodb["results"][0]["metrics"],
        from_files["results"][0]["metrics"]
    );

    // The 6-core: every user and item left has at least 6 interactions.
    let options = PrepareOptions {
        k_core: Some(6),
        ..PrepareOptions::default()
    };
    let core = prepare::prepare(&db.store, &options).await.unwrap();
    assert!(core.k_core_removed > 0 && core.interactions > 0, "{core}");
    let interactions = db.find(INTERACTIONS, doc! {}).await;
    assert_eq!(interactions.len() as u64, core.interactions);
    let mut users: HashMap<String, usize> = HashMap::new();
    let mut items: HashMap<String, usize> = HashMap::new();
    for i in &interactions {
        *users.entry(i.get_str("user").unwrap().into()).or_default() += 1;
        *items.entry(i.get_str("asin").unwrap().into()).or_default() += 1;
    }
    assert!(users.values().chain(items.values()).all(|&n| n >= 6));
    // A review written by another tool (no provenance, another `_id`), later than the stored
    // review of the same user and item: it replaces it, and only its text's length (in
    // characters) is kept.
    let (user, asin) = (
        first.get_str("user").unwrap().to_owned(),
        first.get_str("asin").unwrap().to_owned(),
    );
    db.store
        .database()
        .collection::<Document>("reviews")
        .insert_one(
            doc! { "_id": "other-tool-1", "user": &user, "asin": &asin, "rating": 2.0,
            "time": mongodb::bson::DateTime::from_millis(2_000_000_000_000), "text": "héllo wörld",
            "votes": 3_i64, "votes_total": 4_i64, "verified": true },
        )
        .await
        .unwrap();
    let again = prepare::prepare(&db.store, &PrepareOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (again.interactions, again.duplicates),
        (report.interactions, report.duplicates + 1),
        "{again}"
    );
    let other = db
        .one(INTERACTIONS, doc! { "_id": format!("{user}|{asin}") })
        .await;
    assert_eq!(other.get_f64("rating").unwrap(), 2.0);
    assert_eq!(other.get_i64("review_length").unwrap(), 11);
    assert_eq!(other.get_i64("helpful_votes").unwrap(), 3);
    assert_eq!(other.get_f64("helpful_ratio").unwrap(), 0.75);
    assert!(other.get_bool("verified").unwrap());
    db.drop_now().await;
}

#[test]
fn alpha_must_be_finite_and_not_negative() {
    // Checked before connecting: no server needed, nothing written anywhere.
    for alpha in ["NaN", "inf", "-5"] {
        let output = Command::new(env!("CARGO_BIN_EXE_recsys"))
            .args(["prepare", "--mongodb-uri", "mongodb://127.0.0.1:1/"])
            .arg(format!("--alpha={alpha}"))
            .output()
            .expect("run recsys");
        assert!(!output.status.success(), "{alpha}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--alpha must be a finite number of 0 or more")
                && !stderr.contains("cannot reach"),
            "{alpha}: {stderr}"
        );
    }
    let options = PrepareOptions {
        alpha: 0.0,
        ..PrepareOptions::default()
    };
    assert!(options.check().is_ok());
}

#[tokio::test]
async fn a_database_without_reviews_is_an_error_and_stays_empty() {
    let Some(db) = TestDb::new("prepare_empty").await else {
        return;
    };
    let error = prepare::prepare(&db.store, &PrepareOptions::default())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!("database `{}`", db.name))
            && message.contains("has no reviews")
            && message.contains("recsys ingest"),
        "{message}"
    );
    // Nothing was written: the database was not created.
    let names = db.store.database().list_collection_names().await.unwrap();
    assert!(names.is_empty(), "{names:?}");

    // The command line says the same, with a non-zero exit.
    let uri = mongodb_uri().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["prepare", "--mongodb-uri", &uri, "--db", &db.name])
        .output()
        .expect("run recsys");
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("has no reviews"), "{stderr}");
    db.drop_now().await;
}
