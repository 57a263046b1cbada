//! The Amazon files of `shared/data/amazon`, one dataset folder per test and database: exact
//! counts, the documents as `docs/schema.md` describes them, and a second run that changes
//! nothing.

use std::collections::HashMap;

use mongodb::bson::doc;
use recsys::dataset::{Format, Record, RecordReader};
use recsys::ingest::{self, IngestReport};
use recsys::store::schema::review_id;
use recsys::Error;

use crate::support::{data, head, options, TestDb};

/// A second run over the same files: nothing inserted or updated, every record a duplicate
/// (or quarantined again), and the collections unchanged.
async fn rerun_changes_nothing(db: &TestDb, files: &[std::path::PathBuf], first: &IngestReport) {
    let reviews = db.count("reviews", doc! {}).await;
    let products = db.count("products", doc! {}).await;
    let again = db.ingest(files).await;
    let t = again.totals;
    assert_eq!((t.inserted, t.updated), (0, 0), "{again}");
    assert_eq!(t.read, first.totals.read);
    assert_eq!(t.quarantined, first.totals.quarantined);
    assert_eq!(t.duplicates, t.read - t.quarantined);
    assert!(again.nothing_new());
    assert!(again.to_string().contains("nothing new"), "{again}");
    assert_eq!(db.count("reviews", doc! {}).await, reviews);
    assert_eq!(db.count("products", doc! {}).await, products);
    db.check_run(&again).await;
}

#[tokio::test]
async fn gift_cards_reviews_and_metadata() {
    let Some(db) = TestDb::new("gift_cards").await else {
        return;
    };
    // Reviews given first: metadata is still read first, so every review finds its product.
    let files = [
        data("mcauley2018-gift-cards/Gift_Cards_5.json.gz"),
        data("mcauley2018-gift-cards/meta_Gift_Cards.json.gz"),
    ];
    let report = db.ingest(&files).await;
    assert_eq!(report.files[0].format, Format::MetadataJson);
    let meta = report.files[0].counts;
    assert_eq!((meta.read, meta.inserted, meta.duplicates), (1547, 1547, 0));
    // Three pairs of different reviews share (user, asin, day): the later one of each is kept.
    let reviews = report.files[1].counts;
    assert_eq!(
        (
            reviews.read,
            reviews.inserted,
            reviews.updated,
            reviews.duplicates
        ),
        (2972, 2969, 0, 3)
    );
    assert_eq!(report.totals.quarantined, 0);
    db.check_run(&report).await;

    assert_eq!(db.count("products", doc! {}).await, 1547);
    assert_eq!(db.count("reviews", doc! {}).await, 2969);
    assert_eq!(
        db.count("reviews", doc! { "unknown_product": true }).await,
        0
    );

    let review = db
        .one(
            "reviews",
            doc! { "_id": "A1Z1JLCLHI6T5E|B00KV30IHG|1416355200" },
        )
        .await;
    assert_eq!(
        review.get_str("text").unwrap(),
        "Easy way to get the things I need"
    );
    assert_eq!(review.get_f64("rating").unwrap(), 5.0);
    assert_eq!(
        review.get_datetime("time").unwrap().timestamp_millis(),
        1_416_355_200_000
    );
    assert!(review.get_bool("verified").unwrap());
    assert_eq!(
        review
            .get_document("ingest")
            .unwrap()
            .get_i64("line")
            .unwrap(),
        2006
    );

    let product = db.one("products", doc! { "_id": "B001H53QE4" }).await;
    assert_eq!(product.get_f64("price").unwrap(), 1250.0);
    assert_eq!(product.get_str("price_raw").unwrap(), "$1,250.00");
    assert!(!product.get_bool("price_invalid").unwrap());
    assert_eq!(product.get_i64("rank").unwrap(), 1786);
    assert_eq!(product.get_str("rank_category").unwrap(), "Gift Cards");
    assert_eq!(product.get_str("brand").unwrap(), "Amazon");
    let unpriced = db.one("products", doc! { "_id": "B001BKEWF2" }).await;
    assert!(unpriced.is_null("price") && unpriced.is_null("rank"));
    assert_eq!(
        unpriced.get_array("categories").unwrap().len(),
        2,
        "categories kept as an array"
    );

    let indexes = db
        .store
        .database()
        .collection::<mongodb::bson::Document>("reviews")
        .list_index_names()
        .await
        .unwrap();
    assert!(indexes.contains(&"user".to_string()) && indexes.contains(&"asin".to_string()));
    let indexes = db
        .store
        .database()
        .collection::<mongodb::bson::Document>("products")
        .list_index_names()
        .await
        .unwrap();
    assert!(indexes.contains(&"categories".to_string()) && indexes.contains(&"brand".to_string()));

    rerun_changes_nothing(&db, &files, &report).await;
    db.drop_now().await;
}

#[tokio::test]
async fn musical_instruments_2014_reviews_without_metadata() {
    let Some(db) = TestDb::new("musical_instruments").await else {
        return;
    };
    let files = [data(
        "mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz",
    )];
    let report = db.ingest(&files).await;
    let t = report.totals;
    assert_eq!(
        (t.read, t.inserted, t.updated, t.duplicates, t.quarantined),
        (10261, 10261, 0, 0, 0)
    );
    db.check_run(&report).await;
    // No metadata: every review is kept, and flagged.
    assert_eq!(
        db.count("reviews", doc! { "unknown_product": true }).await,
        10261
    );
    let review = db
        .one(
            "reviews",
            doc! { "_id": "A2IBPI20UZIR0U|1384719342|1393545600" },
        )
        .await;
    assert_eq!(review.get_i64("votes").unwrap(), 0);
    assert_eq!(review.get_i64("votes_total").unwrap(), 0);
    assert_eq!(review.get_str("summary").unwrap(), "good");
    rerun_changes_nothing(&db, &files, &report).await;
    db.drop_now().await;
}

#[tokio::test]
async fn magazine_subscriptions_metadata_reviews_and_ratings() {
    let Some(db) = TestDb::new("magazine_subscriptions").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ratings = head(
        &data("mcauley2018-magazine-subscriptions/Magazine_Subscriptions.csv"),
        2000,
        dir.path(),
        "Magazine_Subscriptions_head.csv",
    );
    let files = [
        data("mcauley2018-magazine-subscriptions/meta_Magazine_Subscriptions.json.gz"),
        data("mcauley2018-magazine-subscriptions/Magazine_Subscriptions_5.json.gz"),
        ratings,
    ];
    let report = db.ingest(&files).await;
    // The metadata repeats 1065 lines exactly: merged, counted as duplicates.
    let meta = report.files[0].counts;
    assert_eq!(
        (meta.read, meta.inserted, meta.duplicates),
        (3385, 2320, 1065)
    );
    let reviews = report.files[1].counts;
    assert_eq!(
        (reviews.read, reviews.inserted + reviews.duplicates),
        (2375, 2375)
    );
    let csv = report.files[2].counts;
    assert_eq!(
        (report.files[2].format, csv.read),
        (Format::RatingsCsv, 2000)
    );
    assert_eq!(report.totals.quarantined, 0);
    db.check_run(&report).await;
    assert_eq!(db.count("products", doc! {}).await, 2320);

    // A rating that is also a 5-core review merges into it: the review keeps its text.
    let mut with_text = HashMap::new();
    for item in RecordReader::open(&files[1], None).unwrap() {
        if let (_, Record::Review(r)) = item.unwrap() {
            with_text.insert(review_id(&r.user, &r.asin, r.timestamp), r.text.is_some());
        }
    }
    let expected = with_text.values().filter(|has| **has).count() as u64;
    assert_eq!(
        db.count("reviews", doc! { "text": { "$exists": true } })
            .await,
        expected
    );
    assert!(csv.duplicates > 0 && csv.updated == 0, "{csv}");
    // Flags agree with the products stored.
    let asins: Vec<String> = db
        .find("products", doc! {})
        .await
        .iter()
        .map(|p| p.get_str("_id").unwrap().to_owned())
        .collect();
    let known = db
        .count("reviews", doc! { "asin": { "$in": &asins } })
        .await;
    assert_eq!(
        db.count("reviews", doc! { "unknown_product": false }).await,
        known
    );
    assert!(db.count("reviews", doc! { "unknown_product": true }).await > 0);

    rerun_changes_nothing(&db, &files, &report).await;
    db.drop_now().await;
}

#[tokio::test]
async fn kaggle_ratings_with_mangled_asins() {
    let Some(db) = TestDb::new("kaggle_ratings").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ratings = head(
        &data("kaggle-ratings-beauty-head/ratings_Beauty.csv"),
        4001,
        dir.path(),
        "ratings_Beauty_head.csv",
    );
    let files = [ratings];
    let report = db.ingest(&files).await;
    assert_eq!(report.files[0].format, Format::KaggleCsv);
    assert_eq!(report.totals.read, 4000, "the header is not a record");
    db.check_run(&report).await;
    // `205616461` lost its leading zero in a spreadsheet; the ASIN is stored repaired.
    let review = db
        .one(
            "reviews",
            doc! { "_id": "A39HTATAQ9V7YF|0205616461|1369699200" },
        )
        .await;
    assert_eq!(review.get_str("asin").unwrap(), "0205616461");
    assert_eq!(review.get_f64("rating").unwrap(), 5.0);
    assert!(review.get("text").is_none());
    rerun_changes_nothing(&db, &files, &report).await;
    db.drop_now().await;
}

#[tokio::test]
async fn reviews_stored_before_their_products_are_linked_later() {
    let Some(db) = TestDb::new("linked_later").await else {
        return;
    };
    let reviews = [data("mcauley2018-gift-cards/Gift_Cards_5.json.gz")];
    let first = db.ingest(&reviews).await;
    assert_eq!(first.totals.inserted, 2969);
    assert_eq!(
        db.count("reviews", doc! { "unknown_product": true }).await,
        2969
    );

    let meta = db
        .ingest(&[data("mcauley2018-gift-cards/meta_Gift_Cards.json.gz")])
        .await;
    assert_eq!(meta.totals.inserted, 1547);
    assert_eq!(meta.reviews_linked, 2969);
    assert_eq!(
        db.count("reviews", doc! { "unknown_product": true }).await,
        0
    );

    let again = db.ingest(&reviews).await;
    assert!(again.nothing_new(), "{again}");
    db.drop_now().await;
}

/// The sequence, attribute and id-map files hold numeric ids without ASINs, ratings or times:
/// the reader reads them, ingest refuses them by name before writing anything.
#[tokio::test]
async fn files_without_reviews_ratings_or_products_are_refused_by_name() {
    let Some(db) = TestDb::new("refused_files").await else {
        return;
    };
    for file in [
        "s3rec-amazon2014-beauty-sports-toys-5core/Beauty.txt.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Beauty_item2attributes.json.gz",
        "p5-amazon2014-beauty-sports-toys-idmaps/toys/datamaps.json.gz",
        "sasrec-amazon2014-video-games/Video.txt.gz",
    ] {
        let path = data(file);
        let files = [
            data("mcauley2018-gift-cards/Gift_Cards_5.json.gz"),
            path.clone(),
        ];
        let error = ingest::ingest(&db.store, &options(&files))
            .await
            .unwrap_err();
        let message = error.to_string();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            matches!(error, Error::Usage(_) | Error::Dataset(_)) && message.contains(name),
            "{file}: {message}"
        );
    }
    assert_eq!(db.count("ingest_runs", doc! {}).await, 0, "nothing written");
    assert_eq!(db.count("reviews", doc! {}).await, 0, "nothing written");
    db.drop_now().await;
}
