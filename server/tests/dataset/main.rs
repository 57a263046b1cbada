//! Reads every Amazon file in `shared/data/amazon` and checks the counts that
//! the folders' `SOURCE.md` files state.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::Result;
use recsys::dataset::{
    detect_format, Dataset, DatasetError, Format, Interaction, Product, Record, RecordReader,
    Review,
};

fn data(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/amazon")
        .join(relative)
}

fn reviews(path: &PathBuf) -> Result<Vec<Review>> {
    let mut reviews = Vec::new();
    for item in RecordReader::open(path, None)? {
        match item?.1 {
            Record::Review(review) => reviews.push(review),
            Record::Product(product) => anyhow::bail!("unexpected product {}", product.asin),
        }
    }
    Ok(reviews)
}

fn products(path: &PathBuf) -> Result<Vec<Product>> {
    let mut products = Vec::new();
    for item in RecordReader::open(path, None)? {
        match item?.1 {
            Record::Product(product) => products.push(product),
            Record::Review(review) => anyhow::bail!("unexpected review by {}", review.user),
        }
    }
    Ok(products)
}

/// How many interactions have each star rating, 1 to 5.
fn stars(interactions: &[Interaction]) -> [usize; 5] {
    let mut counts = [0; 5];
    for interaction in interactions {
        counts[interaction.rating as usize - 1] += 1;
    }
    counts
}

fn time_range(interactions: &[Interaction]) -> (i64, i64) {
    let times = interactions.iter().map(|i| i.timestamp);
    (times.clone().min().unwrap(), times.max().unwrap())
}

/// The number of items with metadata.
fn with_meta(dataset: &Dataset) -> usize {
    dataset.item_meta.iter().flatten().count()
}

#[test]
fn musical_instruments_2014_five_core() -> Result<()> {
    let path = data("mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz");
    assert_eq!(detect_format(&path)?, Format::ReviewsJson);
    let dataset = Dataset::read(std::slice::from_ref(&path), None)?;
    assert_eq!(dataset.name, "reviews_Musical_Instruments_5");
    assert_eq!(dataset.interactions.len(), 10_261);
    assert_eq!((dataset.n_users(), dataset.n_items()), (1_429, 900));
    assert_eq!(dataset.report.problem_count(), 0);
    assert_eq!(dataset.report.duplicates_collapsed, 0);
    assert_eq!(stars(&dataset.interactions), [217, 250, 772, 2_084, 6_938]);
    assert_eq!(
        time_range(&dataset.interactions),
        (1_095_465_600, 1_405_987_200)
    );
    assert_eq!(dataset.item_meta.len(), 900);
    assert_eq!(with_meta(&dataset), 0);
    let file = &dataset.report.files[0];
    assert_eq!(
        (file.lines, file.records, file.malformed, file.repaired),
        (10_261, 10_261, 0, 0)
    );

    // Exact 5-core: at least 5 reviews per user and per item.
    let ratings = dataset.ratings();
    assert_eq!(ratings.nnz(), 10_261);
    assert!((0..ratings.n_rows).all(|u| ratings.row(u).0.len() >= 5));

    let reviews = reviews(&path)?;
    assert_eq!(reviews.len(), 10_261);
    assert_eq!(
        reviews.iter().filter(|r| r.reviewer_name.is_none()).count(),
        27
    );
    assert_eq!(reviews.iter().filter(|r| r.text.is_none()).count(), 7);
    assert!(reviews
        .iter()
        .all(|r| r.helpful.is_some() && r.verified.is_none()));
    // ISBN-like ASINs stay strings, leading digits and all.
    assert_eq!(reviews[0].asin, "1384719342");
    assert!(dataset.items.get("1384719342").is_some());
    // 479 texts held entities such as `&#34;`; they are decoded.
    assert!(reviews
        .iter()
        .all(|r| !r.text.as_deref().unwrap_or("").contains("&#34;")));
    Ok(())
}

#[test]
fn gift_cards_2018_reviews_and_metadata() -> Result<()> {
    let reviews_path = data("mcauley2018-gift-cards/Gift_Cards_5.json.gz");
    let meta_path = data("mcauley2018-gift-cards/meta_Gift_Cards.json.gz");
    assert_eq!(detect_format(&meta_path)?, Format::MetadataJson);
    let dataset = Dataset::read(&[reviews_path.clone(), meta_path.clone()], None)?;
    assert_eq!(dataset.name, "mcauley2018-gift-cards");
    let report = &dataset.report;
    assert_eq!(report.files[0].records, 2_972);
    assert_eq!(report.files[1].records, 1_547);
    assert_eq!(report.problem_count(), 0);
    // 6 pairs duplicated, 7 extra rows.
    assert_eq!(report.duplicates_collapsed, 7);
    assert_eq!(dataset.interactions.len(), 2_965);
    assert_eq!((dataset.n_users(), dataset.n_items()), (458, 148));
    assert_eq!(
        time_range(&dataset.interactions),
        (1_327_968_000, 1_534_896_000)
    );
    // 100 % coverage, all with a clean title; the other 1,399 products have no review.
    assert_eq!(with_meta(&dataset), 148);
    assert!(dataset
        .item_meta
        .iter()
        .flatten()
        .all(|m| m.title.is_some()));
    assert_eq!(report.products_without_interactions, 1_547 - 148);
    assert_eq!(report.duplicate_products, 0);

    let reviews = reviews(&reviews_path)?;
    assert_eq!(reviews.iter().filter(|r| r.text.is_none()).count(), 6);
    assert_eq!(reviews.iter().filter(|r| r.votes.is_some()).count(), 208);
    assert!(reviews.iter().all(|r| r.verified.is_some()));

    let products = products(&meta_path)?;
    assert_eq!(products.len(), 1_547);
    assert_eq!(products.iter().filter(|p| p.price.is_some()).count(), 358);
    // 1,185 empty prices have no raw value; 2 CSS ones and 2 "whitespace" ones
    // (whitespace, then a `<div`) have one, without a price.
    assert_eq!(
        products.iter().filter(|p| p.price_raw.is_none()).count(),
        1_185
    );
    assert_eq!(
        products
            .iter()
            .filter(|p| p.price.is_none() && p.price_raw.is_some())
            .count(),
        4
    );
    // 163 titles had entities such as `&#39;`: none is left.
    let titles: Vec<&str> = products.iter().filter_map(|p| p.title.as_deref()).collect();
    assert!(titles
        .iter()
        .all(|t| !t.contains("&#39;") && !t.contains("&amp;")));
    assert!(titles.contains(&"P.F. Chang's Gift Cards - E-mail Delivery"));
    // main_cat: 3 are an <img> whose alt text is the category, 6 are empty.
    let main_cats: Vec<_> = products.iter().map(|p| p.main_cat.as_deref()).collect();
    assert_eq!(main_cats.iter().filter(|c| c.is_none()).count(), 6);
    assert_eq!(
        main_cats
            .iter()
            .filter(|c| **c == Some("AMAZON FASHION"))
            .count(),
        3
    );
    assert!(main_cats.iter().flatten().all(|c| !c.contains('<')));
    // rank is a string in 827 lines and a list in 720 (694 of them empty).
    assert_eq!(
        products.iter().filter(|p| p.rank.is_some()).count(),
        827 + 720 - 694
    );
    Ok(())
}

#[test]
fn magazine_subscriptions_five_core_with_metadata() -> Result<()> {
    let dir = "mcauley2018-magazine-subscriptions";
    let five_core = data(&format!("{dir}/Magazine_Subscriptions_5.json.gz"));
    let meta = data(&format!("{dir}/meta_Magazine_Subscriptions.json.gz"));
    let dataset = Dataset::read(&[five_core, meta], None)?;
    let report = &dataset.report;
    assert_eq!(report.files[0].records, 2_375);
    assert_eq!(report.problem_count(), 0);
    // 73 (user, item) pairs occur more than once, 73 extra rows.
    assert_eq!(report.duplicates_collapsed, 73);
    assert_eq!(dataset.interactions.len(), 2_302);
    assert_eq!((dataset.n_users(), dataset.n_items()), (348, 157));
    assert_eq!(
        time_range(&dataset.interactions),
        (1_005_523_200, 1_526_774_400)
    );
    // 3,385 metadata lines, 2,320 distinct ASINs; 151 of the 157 items are described.
    assert_eq!(report.files[1].records, 3_385);
    assert_eq!(report.duplicate_products, 1_065);
    assert_eq!(with_meta(&dataset), 151);
    assert_eq!(report.products_without_interactions, 2_320 - 151);
    Ok(())
}

#[test]
fn magazine_subscriptions_ratings_csv_with_metadata() -> Result<()> {
    let dir = "mcauley2018-magazine-subscriptions";
    let ratings = data(&format!("{dir}/Magazine_Subscriptions.csv"));
    let meta = data(&format!("{dir}/meta_Magazine_Subscriptions.json.gz"));
    assert_eq!(detect_format(&ratings)?, Format::RatingsCsv);
    let dataset = Dataset::read(&[meta, ratings], None)?;
    let report = &dataset.report;
    assert_eq!(report.files[1].format, Format::RatingsCsv);
    assert_eq!(report.files[1].records, 89_689);
    assert_eq!(report.problem_count(), 0);
    // 1,366 pairs repeated, 1,371 extra rows.
    assert_eq!(report.duplicates_collapsed, 1_371);
    assert_eq!(dataset.interactions.len(), 89_689 - 1_371);
    assert_eq!((dataset.n_users(), dataset.n_items()), (72_098, 2_428));
    assert_eq!(
        time_range(&dataset.interactions),
        (1_004_054_400, 1_537_315_200)
    );
    // Item-first column order: users are reviewer ids, items ASINs.
    assert_eq!(dataset.items.id(0), "B00005N7P0");
    assert_eq!(dataset.users.id(0), "AH2IFH762VY5U");

    // Every metadata ASIN has ratings: 2,320 of 2,428 items are described.
    assert_eq!(with_meta(&dataset), 2_320);
    assert_eq!(report.products_without_interactions, 0);
    assert_eq!(report.duplicate_products, 1_065);
    let described = || dataset.item_meta.iter().flatten();
    assert_eq!(described().filter(|m| m.brand.is_some()).count(), 2_173);
    // SOURCE.md counts 1,966 non-empty descriptions, one of which is `["", "", "", ""]`.
    assert_eq!(
        described().filter(|m| m.description.is_some()).count(),
        1_965
    );
    // Titles are mostly a broken `<span` tag or a tag tail. SOURCE.md says 157 are
    // usable, but only 147 distinct ASINs have a title that is neither.
    assert_eq!(described().filter(|m| m.title.is_some()).count(), 147);
    assert!(described().all(|m| {
        let title = m.title.as_deref().unwrap_or("");
        !title.contains('<') && !title.contains("/>")
    }));
    assert!(described().all(|m| m.categories.iter().all(|c| !c.contains("&amp;"))));
    Ok(())
}

#[test]
fn magazine_five_core_pairs_are_all_in_the_ratings_csv() -> Result<()> {
    let dir = "mcauley2018-magazine-subscriptions";
    let paths = [
        data(&format!("{dir}/Magazine_Subscriptions_5.json.gz")),
        data(&format!("{dir}/Magazine_Subscriptions.csv")),
    ];
    let dataset = Dataset::read(&paths, None)?;
    assert_eq!(dataset.name, dir);
    assert_eq!((dataset.n_users(), dataset.n_items()), (72_098, 2_428));
    assert_eq!(dataset.interactions.len(), 89_689 - 1_371);
    Ok(())
}

#[test]
fn kaggle_beauty_head_with_spreadsheet_damage() -> Result<()> {
    let path = data("kaggle-ratings-beauty-head/ratings_Beauty.csv");
    assert_eq!(detect_format(&path)?, Format::KaggleCsv);
    let dataset = Dataset::read(&[path], None)?;
    let file = &dataset.report.files[0];
    // 1 header + 29,999 rows, CRLF, an unnamed trailing column: empty, or (not in
    // SOURCE.md) the spreadsheet note `Delete` on lines 15..=3660, next to intact ratings.
    assert_eq!(
        (file.lines, file.records, file.malformed),
        (30_000, 29_999, 0)
    );
    // 6 ProductIds lost their leading zeros and get them back.
    assert_eq!(file.repaired, 6);
    for asin in [
        "0205616461",
        "0558925278",
        "0733001998",
        "0737104473",
        "0762451459",
    ] {
        assert!(dataset.items.get(asin).is_some(), "{asin}");
    }
    assert!(dataset.items.iter().all(|(_, asin)| asin.len() == 10));
    assert_eq!(dataset.report.duplicates_collapsed, 1);
    assert_eq!(dataset.interactions.len(), 29_998);
    assert_eq!((dataset.n_users(), dataset.n_items()), (28_456, 1_858));
    assert_eq!(
        time_range(&dataset.interactions),
        (908_755_200, 1_406_073_600)
    );
    // Counts per star before de-duplication: 1★ 3,006, 2★ 1,688, 3★ 2,331, 4★ 4,460, 5★ 18,514;
    // the one duplicate ("Delete", B00007M0CP) was rated 1 then 2, and 2 is kept.
    assert_eq!(
        stars(&dataset.interactions),
        [3_005, 1_688, 2_331, 4_460, 18_514]
    );
    let last = dataset.interactions.last().unwrap();
    assert_eq!(dataset.items.id(last.item), "B00007M0CP");
    Ok(())
}

#[test]
fn files_in_other_formats_are_rejected_by_name() -> Result<()> {
    let out_of_scope = [
        "s3rec-amazon2014-beauty-sports-toys-5core/Beauty.txt.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Sports_and_Outdoors.txt.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Toys_and_Games.txt.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Beauty_item2attributes.json.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Sports_and_Outdoors_item2attributes.json.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Toys_and_Games_item2attributes.json.gz",
        "p5-amazon2014-beauty-sports-toys-idmaps/beauty/datamaps.json.gz",
        "p5-amazon2014-beauty-sports-toys-idmaps/sports/datamaps.json.gz",
        "p5-amazon2014-beauty-sports-toys-idmaps/toys/datamaps.json.gz",
        "p5-amazon2014-beauty-sports-toys-idmaps/toys/sequential.txt.gz",
        "sasrec-amazon2014-video-games/Video.txt.gz",
    ];
    for relative in out_of_scope {
        let path = data(relative);
        match detect_format(&path) {
            Err(DatasetError::UnknownFormat { path: named, .. }) => assert_eq!(named, path),
            other => panic!("{relative}: expected an unknown format, got {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn every_data_file_is_covered() -> Result<()> {
    // A new file in the data folder should get its own test above.
    let mut seen = BTreeMap::new();
    let mut stack = vec![data("")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) != Some("md") {
                let format = detect_format(&path).ok();
                seen.insert(
                    path.strip_prefix(data(""))?.to_string_lossy().into_owned(),
                    format,
                );
            }
        }
    }
    let readable: HashSet<&str> = seen
        .iter()
        .filter(|(_, format)| format.is_some())
        .map(|(path, _)| path.as_str())
        .collect();
    let expected: HashSet<&str> = [
        "kaggle-ratings-beauty-head/ratings_Beauty.csv",
        "mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz",
        "mcauley2018-gift-cards/Gift_Cards_5.json.gz",
        "mcauley2018-gift-cards/meta_Gift_Cards.json.gz",
        "mcauley2018-magazine-subscriptions/Magazine_Subscriptions.csv",
        "mcauley2018-magazine-subscriptions/Magazine_Subscriptions_5.json.gz",
        "mcauley2018-magazine-subscriptions/meta_Magazine_Subscriptions.json.gz",
    ]
    .into();
    assert_eq!(readable, expected);
    assert_eq!(seen.len(), expected.len() + 11);
    Ok(())
}
