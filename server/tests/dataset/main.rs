//! Reads every Amazon file in `shared/data/amazon` and checks the counts that
//! the folders' `SOURCE.md` files state: reviews, ratings and metadata, and
//! the S3-Rec / P5 / SASRec sequence files with their attribute and id maps.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Result;
use recsys::dataset::{
    detect_format, AttributeNaming, AttributesReport, DatamapsReport, Dataset, Format, Interaction,
    ItemMeta, Product, Record, RecordReader, Review, Sequence,
};
use recsys::eval::{Protocol, Split};

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
            other => anyhow::bail!("unexpected record {other:?}"),
        }
    }
    Ok(reviews)
}

fn products(path: &PathBuf) -> Result<Vec<Product>> {
    let mut products = Vec::new();
    for item in RecordReader::open(path, None)? {
        match item?.1 {
            Record::Product(product) => products.push(product),
            other => anyhow::bail!("unexpected record {other:?}"),
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
fn every_data_file_is_detected() -> Result<()> {
    // A new file in the data folder should get its own test above.
    let mut seen = BTreeMap::new();
    let mut stack = vec![data("")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) != Some("md") {
                let relative = path.strip_prefix(data(""))?.to_string_lossy().into_owned();
                seen.insert(relative, detect_format(&path)?);
            }
        }
    }
    let s3rec = "s3rec-amazon2014-beauty-sports-toys-5core";
    let p5 = "p5-amazon2014-beauty-sports-toys-idmaps";
    let expected: BTreeMap<String, Format> = [
        (
            "kaggle-ratings-beauty-head/ratings_Beauty.csv",
            Format::KaggleCsv,
        ),
        (
            "mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz",
            Format::ReviewsJson,
        ),
        (
            "mcauley2018-gift-cards/Gift_Cards_5.json.gz",
            Format::ReviewsJson,
        ),
        (
            "mcauley2018-gift-cards/meta_Gift_Cards.json.gz",
            Format::MetadataJson,
        ),
        (
            "mcauley2018-magazine-subscriptions/Magazine_Subscriptions.csv",
            Format::RatingsCsv,
        ),
        (
            "mcauley2018-magazine-subscriptions/Magazine_Subscriptions_5.json.gz",
            Format::ReviewsJson,
        ),
        (
            "mcauley2018-magazine-subscriptions/meta_Magazine_Subscriptions.json.gz",
            Format::MetadataJson,
        ),
        (&format!("{s3rec}/Beauty.txt.gz"), Format::Sequence),
        (
            &format!("{s3rec}/Sports_and_Outdoors.txt.gz"),
            Format::Sequence,
        ),
        (&format!("{s3rec}/Toys_and_Games.txt.gz"), Format::Sequence),
        (
            &format!("{s3rec}/Beauty_item2attributes.json.gz"),
            Format::Item2Attributes,
        ),
        (
            &format!("{s3rec}/Sports_and_Outdoors_item2attributes.json.gz"),
            Format::Item2Attributes,
        ),
        (
            &format!("{s3rec}/Toys_and_Games_item2attributes.json.gz"),
            Format::Item2Attributes,
        ),
        (&format!("{p5}/beauty/datamaps.json.gz"), Format::Datamaps),
        (&format!("{p5}/sports/datamaps.json.gz"), Format::Datamaps),
        // Pretty-printed over 31,342 lines.
        (&format!("{p5}/toys/datamaps.json.gz"), Format::Datamaps),
        (&format!("{p5}/toys/sequential.txt.gz"), Format::Sequence),
        ("sasrec-amazon2014-video-games/Video.txt.gz", Format::Pairs),
    ]
    .into_iter()
    .map(|(path, format)| (path.to_owned(), format))
    .collect();
    assert_eq!(seen, expected);
    Ok(())
}

fn s3rec(name: &str) -> PathBuf {
    data(&format!("s3rec-amazon2014-beauty-sports-toys-5core/{name}"))
}

fn p5(name: &str) -> PathBuf {
    data(&format!("p5-amazon2014-beauty-sports-toys-idmaps/{name}"))
}

/// Each user's interactions, oldest first.
fn histories(dataset: &Dataset) -> Vec<Vec<Interaction>> {
    let mut histories = vec![Vec::new(); dataset.n_users()];
    for interaction in &dataset.interactions {
        histories[interaction.user as usize].push(*interaction);
    }
    for history in &mut histories {
        history.sort_by_key(|i| (i.timestamp, i.order));
    }
    histories
}

/// Checks what every sequence dataset shares: no problem, no duplicate,
/// rating 1, and each user's timestamps are the positions 0, 1, 2, … in file
/// order. Returns the smallest and largest number of items per user.
fn check_sequences(dataset: &Dataset) -> (usize, usize) {
    let report = &dataset.report;
    assert_eq!(report.problem_count(), 0);
    assert_eq!(report.duplicates_collapsed, 0);
    assert!(dataset.interactions.iter().all(|i| i.rating == 1.0));
    let histories = histories(dataset);
    for history in &histories {
        let times: Vec<i64> = history.iter().map(|i| i.timestamp).collect();
        assert!(
            times.iter().copied().eq(0..history.len() as i64),
            "{times:?}"
        );
        assert!(history.windows(2).all(|w| w[0].order < w[1].order));
    }
    let lengths = histories.iter().map(Vec::len);
    (lengths.clone().min().unwrap(), lengths.max().unwrap())
}

/// The smallest number of interactions of an item.
fn min_per_item(dataset: &Dataset) -> usize {
    let mut counts = vec![0; dataset.n_items()];
    for interaction in &dataset.interactions {
        counts[interaction.item as usize] += 1;
    }
    counts.into_iter().min().unwrap()
}

#[test]
fn s3rec_sequences_match_source_counts() -> Result<()> {
    // (file, interactions, users, items, longest sequence), from SOURCE.md.
    let sets = [
        ("Beauty.txt.gz", 198_502, 22_363, 12_101, 204),
        ("Sports_and_Outdoors.txt.gz", 296_337, 35_598, 18_357, 296),
        ("Toys_and_Games.txt.gz", 167_597, 19_412, 11_924, 550),
    ];
    for (name, interactions, users, items, longest) in sets {
        let path = s3rec(name);
        let dataset = Dataset::read(std::slice::from_ref(&path), None)?;
        assert_eq!(dataset.interactions.len(), interactions, "{name}");
        assert_eq!(
            (dataset.n_users(), dataset.n_items()),
            (users, items),
            "{name}"
        );
        let file = &dataset.report.files[0];
        assert_eq!(file.format, Format::Sequence);
        assert_eq!(
            (file.lines, file.records, file.malformed),
            (users as u64, interactions as u64, 0)
        );
        // Exact 5-core.
        assert_eq!(check_sequences(&dataset), (5, longest), "{name}");
        assert_eq!(min_per_item(&dataset), 5, "{name}");
        // Users are 1..U in line order, items numbered by first appearance.
        assert!(dataset
            .users
            .iter()
            .all(|(i, id)| id == (i + 1).to_string()));
        assert!(dataset
            .items
            .iter()
            .all(|(i, id)| id == (i + 1).to_string()));
        assert!(dataset.item_meta.iter().all(Option::is_none));
    }
    Ok(())
}

#[test]
fn sasrec_video_games_pairs() -> Result<()> {
    let path = data("sasrec-amazon2014-video-games/Video.txt.gz");
    let dataset = Dataset::read(&[path], None)?;
    assert_eq!(dataset.name, "Video");
    let file = &dataset.report.files[0];
    assert_eq!(file.format, Format::Pairs);
    assert_eq!((file.lines, file.records), (287_107, 287_107));
    assert_eq!(dataset.interactions.len(), 287_107);
    assert_eq!((dataset.n_users(), dataset.n_items()), (31_013, 23_715));
    // Not a k-core: 30 users have a single interaction, some items one.
    assert_eq!(check_sequences(&dataset), (1, 860));
    let singles = histories(&dataset).iter().filter(|h| h.len() == 1).count();
    assert_eq!(singles, 30);
    assert_eq!(min_per_item(&dataset), 1);
    // Those 30 users only train: 30,983 users get a test item.
    let split = Split::new(&dataset.interactions, Protocol::LeaveLastOut);
    assert_eq!(split.test.len(), 30_983);
    assert_eq!(split.train.len(), 287_107 - 30_983);
    Ok(())
}

#[test]
fn leave_last_out_holds_out_the_last_item_of_a_tiny_sequence_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let seq = dir.path().join("tiny.txt");
    // Item 12 comes last for user 1 though other users saw it earlier; user 3 has one item.
    std::fs::write(&seq, "1 10 11 12\n2 12 10\n3 11\n4 13 10 11 12\n")?;
    let pairs = dir.path().join("tiny_pairs.txt");
    std::fs::write(
        &pairs,
        "1 10\n1 11\n1 12\n2 12\n2 10\n3 11\n4 13\n4 10\n4 11\n4 12\n",
    )?;
    for (path, format) in [(seq, Format::Sequence), (pairs, Format::Pairs)] {
        let dataset = Dataset::read(&[path], None)?;
        assert_eq!(dataset.report.files[0].format, format);
        let split = Split::new(&dataset.interactions, Protocol::LeaveLastOut);
        let test: Vec<(&str, Vec<&str>)> = split
            .test
            .iter()
            .map(|(user, items)| {
                let items = items.iter().map(|&i| dataset.items.id(i)).collect();
                (dataset.users.id(*user), items)
            })
            .collect();
        assert_eq!(
            test,
            [("1", vec!["12"]), ("2", vec!["10"]), ("4", vec!["12"])]
        );
        let train: Vec<(&str, &str)> = split
            .train
            .iter()
            .map(|i| (dataset.users.id(i.user), dataset.items.id(i.item)))
            .collect();
        assert_eq!(
            train,
            [
                ("1", "10"),
                ("1", "11"),
                ("2", "12"),
                ("3", "11"),
                ("4", "13"),
                ("4", "10"),
                ("4", "11")
            ]
        );
    }
    Ok(())
}

/// The last item id of each line of a sequence file.
fn last_items(path: &PathBuf) -> Result<Vec<String>> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut text)?;
    Ok(text
        .lines()
        .map(|line| line.rsplit(' ').next().unwrap_or_default().to_owned())
        .collect())
}

#[test]
fn leave_last_out_on_beauty_holds_out_each_lines_last_item() -> Result<()> {
    let path = s3rec("Beauty.txt.gz");
    let dataset = Dataset::read(std::slice::from_ref(&path), None)?;
    let split = Split::new(&dataset.interactions, Protocol::LeaveLastOut);
    assert_eq!(split.test.len(), 22_363);
    let held_out: Vec<String> = split
        .test
        .iter()
        .map(|(_, items)| {
            assert_eq!(items.len(), 1);
            dataset.items.id(items[0]).to_owned()
        })
        .collect();
    assert_eq!(held_out, last_items(&path)?);
    assert_eq!(split.train.len(), 198_502 - 22_363);
    Ok(())
}

#[test]
fn beauty_with_asins_and_named_attributes_in_any_file_order() -> Result<()> {
    let paths = [
        s3rec("Beauty_item2attributes.json.gz"),
        p5("beauty/datamaps.json.gz"),
        s3rec("Beauty.txt.gz"),
    ];
    let dataset = Dataset::read(&paths, None)?;
    let report = &dataset.report;
    assert_eq!(report.problem_count(), 0);
    assert_eq!(dataset.interactions.len(), 198_502);
    assert_eq!((dataset.n_users(), dataset.n_items()), (22_363, 12_101));
    // Ids are now the real ones: user 1 and item 1 of `Beauty.txt`.
    assert_eq!(dataset.users.id(0), "A1YJEY40YUW4SE");
    assert_eq!(dataset.items.id(0), "B004756YJA");
    // Item 4 has an ISBN-like ASIN, kept as a string.
    assert_eq!(dataset.items.get("7806397051"), Some(3));
    assert_eq!(
        report.datamaps,
        Some(DatamapsReport {
            users_renamed: 22_363,
            items_renamed: 12_101,
            ..DatamapsReport::default()
        })
    );
    // 4 tables of ids plus 3 of attributes (2,320 each).
    let datamaps = &report.files[1];
    assert_eq!(datamaps.format, Format::Datamaps);
    assert_eq!(
        (datamaps.lines, datamaps.records),
        (1, 2 * 22_363 + 2 * 12_101 + 3 * 2_320)
    );

    // Every item is described; S3-Rec attribute k is the k-th P5 attribute on at least 5 items.
    assert_eq!(
        report.attributes,
        [AttributesReport {
            path: paths[0].clone(),
            items: 12_101,
            described: 12_101,
            attributes: 637,
            repeats: 5,
            naming: AttributeNaming::Names { min_items: 5 },
        }]
    );
    let metas: Vec<&ItemMeta> = dataset.item_meta.iter().flatten().collect();
    assert_eq!(metas.len(), 12_101);
    assert!(metas
        .iter()
        .all(|m| m.title.is_none() && m.description.is_none() && !m.categories.is_empty()));
    // 45,014 names in all: repeats and the one blank name (a missing brand) are left out.
    assert_eq!(
        metas.iter().map(|m| m.categories.len()).sum::<usize>(),
        45_014
    );
    assert!(metas
        .iter()
        .all(|m| m.categories.iter().all(|c| !c.trim().is_empty())));
    assert_eq!(
        dataset.item_meta[0].as_ref().unwrap().categories,
        ["OPI", "Makeup", "Nails", "Nail Polish"]
    );
    let item4 = dataset.item_meta[3].as_ref().unwrap();
    assert_eq!(
        item4.categories,
        ["Makeup", "Face", "Concealers & Neutralizers"]
    );

    // The file order does not matter.
    let reordered = Dataset::read(
        &[paths[2].clone(), paths[0].clone(), paths[1].clone()],
        None,
    )?;
    assert_eq!(reordered.item_meta, dataset.item_meta);
    assert_eq!(reordered.interactions, dataset.interactions);
    assert_eq!(
        reordered.items.iter().collect::<Vec<_>>(),
        dataset.items.iter().collect::<Vec<_>>()
    );
    Ok(())
}

#[test]
fn sports_asins_apply_but_attribute_names_do_not() -> Result<()> {
    let paths = [
        s3rec("Sports_and_Outdoors.txt.gz"),
        s3rec("Sports_and_Outdoors_item2attributes.json.gz"),
        p5("sports/datamaps.json.gz"),
    ];
    let dataset = Dataset::read(&paths, None)?;
    let report = &dataset.report;
    assert_eq!(report.problem_count(), 0);
    assert_eq!(dataset.interactions.len(), 296_337);
    assert_eq!((dataset.n_users(), dataset.n_items()), (35_598, 18_357));
    assert_eq!(dataset.items.id(0), "1881509818");
    assert_eq!(dataset.users.id(0), "AIXZKN4ACSKI");
    let renamed = report.datamaps.as_ref().unwrap();
    assert_eq!(
        (renamed.users_renamed, renamed.items_renamed),
        (35_598, 18_357)
    );
    // SOURCE.md: the S3-Rec Sports attributes do not align with the P5 ones
    // (1,749 P5 attributes are on at least 3 items, 2,267 on at least 2; the file has 2,277).
    let attributes = &report.attributes[0];
    assert_eq!(
        (
            attributes.items,
            attributes.described,
            attributes.attributes,
            attributes.repeats
        ),
        (18_357, 18_357, 2_277, 4_018)
    );
    let AttributeNaming::Unaligned { reason } = &attributes.naming else {
        panic!("{:?}", attributes.naming);
    };
    assert!(
        reason.contains("selects 2277 of the datamaps' 3822"),
        "{reason}"
    );
    let metas: Vec<&ItemMeta> = dataset.item_meta.iter().flatten().collect();
    assert_eq!(metas.len(), 18_357);
    assert!(metas
        .iter()
        .all(|m| m.categories.iter().all(|c| c.starts_with("attr_"))));
    // Attribute 2 (apparently the top-level category) is on every item.
    assert!(metas
        .iter()
        .all(|m| m.categories.contains(&"attr_2".to_owned())));
    Ok(())
}

#[test]
fn toys_attributes_are_numbered_and_p5_toys_map_to_asins() -> Result<()> {
    let dataset = Dataset::read(
        &[
            s3rec("Toys_and_Games_item2attributes.json.gz"),
            s3rec("Toys_and_Games.txt.gz"),
        ],
        None,
    )?;
    let attributes = &dataset.report.attributes[0];
    assert_eq!(attributes.naming, AttributeNaming::Ids);
    assert_eq!(
        (
            attributes.described,
            attributes.attributes,
            attributes.repeats
        ),
        (11_924, 1_027, 146)
    );
    assert_eq!(dataset.item_meta.iter().flatten().count(), 11_924);

    // The P5 Toys sequences are the same data numbered differently; their map names them.
    let map = p5("toys/datamaps.json.gz");
    let dataset = Dataset::read(&[map.clone(), p5("toys/sequential.txt.gz")], None)?;
    let report = &dataset.report;
    assert_eq!(report.problem_count(), 0);
    // SOURCE.md's 31,341 lines are line ends; the closing brace has none after it.
    assert_eq!(report.files[0].lines, 31_342);
    assert_eq!(report.files[0].records, 19_412 + 11_924);
    assert_eq!(dataset.interactions.len(), 167_597);
    assert_eq!((dataset.n_users(), dataset.n_items()), (19_412, 11_924));
    assert_eq!(check_sequences(&dataset), (5, 550));
    assert_eq!(dataset.items.id(0), "B001RNFQNK");
    assert_eq!(dataset.users.id(0), "AQW172A5SG5OC");
    let renamed = report.datamaps.as_ref().unwrap();
    assert_eq!(
        (
            renamed.users_renamed,
            renamed.items_renamed,
            renamed.collisions
        ),
        (19_412, 11_924, 0)
    );
    let digits = dataset
        .items
        .iter()
        .filter(|(_, asin)| asin.starts_with(|c: char| c.is_ascii_digit()))
        .count();
    assert_eq!(digits, 166);

    // Read as records, the map is one record.
    let records: Vec<_> = RecordReader::open(&map, None)?.collect();
    let [Ok((1, Record::Datamaps(maps)))] = &records[..] else {
        panic!("expected one datamaps record");
    };
    assert_eq!((maps.users.len(), maps.items.len()), (19_412, 11_924));
    assert!(maps.attributes.is_empty());
    Ok(())
}

#[test]
fn sequence_records_stream_line_by_line() -> Result<()> {
    let mut reader = RecordReader::open(s3rec("Beauty.txt.gz"), None)?;
    let Some(Ok((1, Record::Sequence(first)))) = reader.next() else {
        panic!("expected a sequence");
    };
    assert_eq!(
        first,
        Sequence {
            user: 1,
            items: vec![1, 2, 3, 4, 5]
        }
    );
    assert_eq!(reader.by_ref().count(), 22_362);
    assert_eq!((reader.records(), reader.malformed()), (22_363, 0));

    let attributes: Vec<_> =
        RecordReader::open(s3rec("Beauty_item2attributes.json.gz"), None)?.collect();
    assert_eq!(attributes.len(), 12_101);
    let Ok((1, Record::Attributes(first))) = &attributes[0] else {
        panic!("expected attributes");
    };
    assert_eq!(
        (first.item, first.attributes.as_slice()),
        (4, &[1, 2, 3][..])
    );
    Ok(())
}
