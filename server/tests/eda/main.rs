//! `recsys eda` end to end: the report renders for every dataset in `shared/data/amazon`, and
//! its numbers agree with values computed here independently (from the raw JSON, from the
//! parallel dataset loader and the evaluation split, or by hand).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::Result;
use recsys::dataset::Dataset;
use recsys::eda::{analyze_files, render_html, write_report, EdaOptions, EdaReport};
use recsys::eval::{Protocol, Split};

fn amazon() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/amazon")
}

/// Every dataset of `shared/data/amazon`, as the files analysed together. Files of one
/// category go together; unrelated releases in one folder (the 5-core reviews and the full
/// ratings of Magazine Subscriptions, the three S3-Rec categories) are analysed apart.
const DATASETS: &[&[&str]] = &[
    &["mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz"],
    &[
        "mcauley2018-gift-cards/Gift_Cards_5.json.gz",
        "mcauley2018-gift-cards/meta_Gift_Cards.json.gz",
    ],
    &[
        "mcauley2018-magazine-subscriptions/Magazine_Subscriptions_5.json.gz",
        "mcauley2018-magazine-subscriptions/meta_Magazine_Subscriptions.json.gz",
    ],
    &[
        "mcauley2018-magazine-subscriptions/Magazine_Subscriptions.csv",
        "mcauley2018-magazine-subscriptions/meta_Magazine_Subscriptions.json.gz",
    ],
    &["kaggle-ratings-beauty-head/ratings_Beauty.csv"],
    &[
        "s3rec-amazon2014-beauty-sports-toys-5core/Beauty.txt.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Beauty_item2attributes.json.gz",
    ],
    &[
        "s3rec-amazon2014-beauty-sports-toys-5core/Sports_and_Outdoors.txt.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Sports_and_Outdoors_item2attributes.json.gz",
    ],
    &[
        "s3rec-amazon2014-beauty-sports-toys-5core/Toys_and_Games.txt.gz",
        "s3rec-amazon2014-beauty-sports-toys-5core/Toys_and_Games_item2attributes.json.gz",
    ],
    &[
        "p5-amazon2014-beauty-sports-toys-idmaps/toys/datamaps.json.gz",
        "p5-amazon2014-beauty-sports-toys-idmaps/toys/sequential.txt.gz",
    ],
    // Id maps alone: no interactions, and the report must still render.
    &["p5-amazon2014-beauty-sports-toys-idmaps/beauty/datamaps.json.gz"],
    &["p5-amazon2014-beauty-sports-toys-idmaps/sports/datamaps.json.gz"],
    &["sasrec-amazon2014-video-games/Video.txt.gz"],
];

fn quiet() -> EdaOptions {
    EdaOptions::default()
}

/// Every data file under `dir` (documentation left out).
fn data_files(dir: &Path, found: &mut BTreeSet<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            data_files(&path, found);
        } else if path.extension().is_none_or(|e| e != "md") {
            found.insert(path);
        }
    }
}

#[test]
fn the_dataset_list_covers_every_file() {
    let mut found = BTreeSet::new();
    data_files(&amazon(), &mut found);
    let listed: BTreeSet<PathBuf> = DATASETS
        .iter()
        .flat_map(|files| files.iter().map(|f| amazon().join(f)))
        .collect();
    let missing: Vec<_> = found.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "datasets not analysed by this test: {missing:?}"
    );
}

/// Checks that hold for any report: it renders, and its numbers agree with the loader's.
fn check_report(files: &[PathBuf], report: &EdaReport) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let written = write_report(report, dir.path())?;
    let html = std::fs::read_to_string(&written.html)?;
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&written.json)?)?;
    assert_eq!(
        json["overview"]["interactions"].as_u64(),
        Some(report.overview.interactions)
    );
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("<script"), "the page has no scripts");
    assert!(!html.contains("Chart unavailable"), "every chart draws");
    for (section, finding) in report.findings() {
        assert!(!finding.is_empty(), "{section} has no finding");
    }
    let charts = html.matches("<svg").count();
    if report.overview.rated > 0 {
        // Ratings, two over time, activity, Lorenz, cold start at least.
        assert!(charts >= 6, "{charts} charts");
    } else if report.overview.interactions > 0 {
        assert!(charts >= 3, "{charts} charts"); // activity, Lorenz, cold start
    }

    // The parallel loader, a separate code path, counts the same users, items and
    // interactions: both collapse the records of a (user, item) pair into one.
    let dataset = Dataset::read(files, None)?;
    let o = &report.overview;
    assert_eq!(o.users, dataset.n_users() as u64);
    assert_eq!(o.items, dataset.n_items() as u64);
    assert_eq!(o.interactions, dataset.interactions.len() as u64);
    assert_eq!(o.duplicates, dataset.report.duplicates_collapsed);
    assert_eq!(o.rated + o.unrated, o.interactions + o.duplicates);
    assert!(o.density <= 1.0 && o.sparsity >= 0.0, "{o:?}");
    assert_eq!(report.quarantine.total, dataset.report.problem_count());
    assert_eq!(
        report.overview.items_with_metadata,
        dataset.item_meta.iter().flatten().count() as u64
    );

    // Cold start, against the evaluation protocol's own split.
    if !dataset.interactions.is_empty() {
        let split = Split::new(&dataset.interactions, Protocol::LeaveLastOut);
        let mut training_per_user = BTreeMap::new();
        let mut training_per_item = vec![0u64; dataset.n_items()];
        for i in &split.train {
            *training_per_user.entry(i.user).or_insert(0u64) += 1;
            training_per_item[i.item as usize] += 1;
        }
        assert_eq!(report.cold_start.test_users, split.test.len() as u64);
        for row in &report.cold_start.rows {
            let n = row.fewer_than;
            let users = split
                .test
                .iter()
                .filter(|(user, _)| training_per_user.get(user).copied().unwrap_or(0) < n)
                .count() as u64;
            let cases = split
                .test
                .iter()
                .filter(|(_, items)| training_per_item[items[0] as usize] < n)
                .count() as u64;
            assert_eq!(
                (row.users, row.test_cases),
                (users, cases),
                "fewer than {n}"
            );
        }
    }
    Ok(())
}

#[test]
fn every_dataset_renders_and_agrees_with_the_loader() -> Result<()> {
    for files in DATASETS {
        let files: Vec<PathBuf> = files.iter().map(|f| amazon().join(f)).collect();
        let report = analyze_files(&files, &quiet())?;
        check_report(&files, &report).map_err(|e| anyhow::anyhow!("{files:?}: {e}"))?;
    }
    Ok(())
}

/// The rating, user and item of every line of a review JSON file, parsed here with serde_json.
fn raw_reviews(path: &Path) -> Result<Vec<(f64, String, String)>> {
    let input = flate2::read::MultiGzDecoder::new(std::fs::File::open(path)?);
    let mut rows = Vec::new();
    for line in BufReader::new(input).lines() {
        let value: serde_json::Value = serde_json::from_str(&line?)?;
        rows.push((
            value["overall"].as_f64().unwrap(),
            value["reviewerID"].as_str().unwrap().to_owned(),
            value["asin"].as_str().unwrap().to_owned(),
        ));
    }
    Ok(rows)
}

/// Gini by its definition, the mean absolute difference over twice the mean.
fn gini_by_definition(counts: &[u64]) -> f64 {
    let n = counts.len() as f64;
    let mean = counts.iter().sum::<u64>() as f64 / n;
    let mut differences = 0.0;
    for &a in counts {
        for &b in counts {
            differences += (a as f64 - b as f64).abs();
        }
    }
    differences / (n * n) / (2.0 * mean)
}

#[test]
fn musical_instruments_numbers_match_its_source_and_the_raw_json() -> Result<()> {
    let path = amazon()
        .join("mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz");
    let report = analyze_files(std::slice::from_ref(&path), &quiet())?;
    // SOURCE.md: 1★ 217, 2★ 250, 3★ 772, 4★ 2,084, 5★ 6,938; 1,429 users, 900 items.
    assert_eq!(report.ratings.histogram, [217, 250, 772, 2_084, 6_938]);
    let o = &report.overview;
    assert_eq!((o.interactions, o.users, o.items), (10_261, 1_429, 900));
    assert_eq!(o.first_date.as_deref(), Some("2004-09-18"));
    assert_eq!(o.last_date.as_deref(), Some("2014-07-22"));
    assert_eq!(
        (report.activity.users.max, report.activity.items.max),
        (42, 163)
    );

    let raw = raw_reviews(&path)?;
    let users: BTreeSet<&str> = raw.iter().map(|r| r.1.as_str()).collect();
    let mut per_item: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &raw {
        *per_item.entry(r.2.as_str()).or_default() += 1;
    }
    assert_eq!(users.len() as u64, o.users);
    let mean = raw.iter().map(|r| r.0).sum::<f64>() / raw.len() as f64;
    assert!((report.ratings.mean.unwrap() - mean).abs() < 1e-9);
    let counts: Vec<u64> = per_item.values().copied().collect();
    let gini = gini_by_definition(&counts);
    assert!(
        (report.long_tail.gini.unwrap() - gini).abs() < 1e-9,
        "{gini}"
    );
    assert!(
        report.ratings.finding.contains("68 % are 5 stars"),
        "{}",
        report.ratings.finding
    );
    // Small enough to be sampled whole: Spearman covers every review.
    assert_eq!(report.correlation.sample_size, 10_261);
    Ok(())
}

/// Writes JSON-lines reviews `(user, item, rating, words, verified)` and returns the path.
fn write_reviews(dir: &Path, rows: &[(&str, &str, u8, usize, Option<bool>)]) -> PathBuf {
    let path = dir.join("reviews.json");
    let mut text = String::new();
    for (k, (user, item, rating, words, verified)) in rows.iter().enumerate() {
        let mut review = serde_json::json!({
            "reviewerID": user, "asin": item, "overall": f64::from(*rating),
            "unixReviewTime": 1_400_000_000 + 86_400 * k as i64,
            "reviewText": vec!["word"; *words].join(" "),
        });
        if let Some(verified) = verified {
            review["verified"] = serde_json::json!(verified);
        }
        text += &review.to_string();
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn repeated_pairs_are_one_interaction_and_the_reviews_still_count() -> Result<()> {
    // Five rating rows of two (user, item) pairs: one interaction each, never a density above 1.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dens.csv");
    std::fs::write(
        &path,
        "B1,A1,5.0,1369699200\nB1,A1,4.0,1369785600\nB1,A1,3.0,1369872000\n\
         B2,A2,5.0,1369699200\nB1,A1,2.0,1369958400\n",
    )?;
    let report = analyze_files(std::slice::from_ref(&path), &quiet())?;
    let o = &report.overview;
    assert_eq!((o.interactions, o.duplicates, o.rated), (2, 3, 5));
    assert_eq!((o.users, o.items), (2, 2));
    assert!((o.density - 0.5).abs() < 1e-12 && (o.sparsity - 0.5).abs() < 1e-12);
    assert!(
        o.finding
            .contains("50.00 % of the user × item matrix is empty")
            && o.finding.contains("3 records repeat a pair"),
        "{}",
        o.finding
    );
    // The ratings are the reviews': every record.
    assert_eq!(report.ratings.histogram, [0, 1, 1, 1, 2]);
    assert_eq!(report.activity.users.max, 1);
    // The same file twice: the same interactions, every record a repeat.
    let twice = analyze_files(&[path.clone(), path], &quiet())?;
    let o = &twice.overview;
    assert_eq!((o.interactions, o.duplicates, o.rated), (2, 8, 10));
    assert!((o.density - 0.5).abs() < 1e-12);
    // As the loader evaluation trains on counts them.
    let dataset = Dataset::read(&[dir.path().join("dens.csv")], None)?;
    assert_eq!(dataset.interactions.len(), 2);
    assert_eq!(dataset.report.duplicates_collapsed, 3);
    Ok(())
}

#[test]
fn gini_of_a_tiny_hand_made_dataset() -> Result<()> {
    // Items a, b, c, d with 1, 1, 2 and 4 reviews. By hand: mean 2, the 16 ordered pairs'
    // absolute differences sum to 20, G = 20 / 16 / (2 × 2) = 0.3125.
    let dir = tempfile::tempdir()?;
    let rows: Vec<(&str, &str, u8, usize, Option<bool>)> = [
        ("u1", "a"),
        ("u1", "b"),
        ("u1", "c"),
        ("u2", "c"),
        ("u1", "d"),
        ("u2", "d"),
        ("u3", "d"),
        ("u4", "d"),
    ]
    .iter()
    .map(|&(u, i)| (u, i, 5, 3, None))
    .collect();
    let report = analyze_files(&[write_reviews(dir.path(), &rows)], &quiet())?;
    assert!((report.long_tail.gini.unwrap() - 0.3125).abs() < 1e-12);
    assert!((gini_by_definition(&[1, 1, 2, 4]) - 0.3125).abs() < 1e-12);
    // The most popular item (1 of 4, so the top 1 %, 10 % and 20 %) has half the reviews.
    assert!((report.long_tail.top_1pct_share - 0.5).abs() < 1e-12);
    let lorenz = &report.long_tail.lorenz;
    assert_eq!(
        (lorenz[0], *lorenz.last().unwrap()),
        ([0.0, 0.0], [1.0, 1.0])
    );
    Ok(())
}

#[test]
fn correlations_and_chi_square_on_known_data() -> Result<()> {
    // Ratings and review lengths chosen so that Pearson r and Spearman ρ are known:
    // lengths 10, 20, 30, 40, 100 for ratings 1..5 give r = 200 / √(10 × 5000) = 0.8944 and
    // ρ = 1.
    let dir = tempfile::tempdir()?;
    let lengths = [10usize, 20, 30, 40, 100];
    let users: Vec<String> = (0..40).map(|u| format!("u{u}")).collect();
    let mut rows = Vec::new();
    for (k, user) in users.iter().enumerate() {
        let star = k % 5;
        // Verified purchases rate higher: 1-2 stars unverified, 4-5 stars verified, 3 mixed.
        let verified = match star {
            0 | 1 => false,
            2 => k % 2 == 0,
            _ => true,
        };
        rows.push((
            user.as_str(),
            "item",
            star as u8 + 1,
            lengths[star],
            Some(verified),
        ));
    }
    let report = analyze_files(&[write_reviews(dir.path(), &rows)], &quiet())?;

    let xs: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
    let ys: Vec<f64> = rows.iter().map(|r| r.3 as f64).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mx, my) = (mean(&xs), mean(&ys));
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let expected = cov / (vx * vy).sqrt();
    assert!((expected - 0.894_43).abs() < 1e-4, "{expected}");

    let c = &report.correlation;
    let feature = |name: &str| c.features.iter().position(|f| f.starts_with(name)).unwrap();
    let (rating, length) = (feature("rating"), feature("review length"));
    let find = |pairs: &[recsys::eda::FeaturePair]| {
        pairs
            .iter()
            .find(|p| (p.a, p.b) == (rating, length))
            .and_then(|p| p.value)
            .unwrap()
    };
    let pearson = find(&c.pearson);
    assert!((pearson.r - expected).abs() < 1e-9, "{pearson:?}");
    assert_eq!(pearson.n, 40);
    assert!(pearson.p_value < 1e-6 && pearson.ci_low < pearson.r && pearson.r < pearson.ci_high);
    let spearman = find(&c.spearman);
    assert!((spearman.r - 1.0).abs() < 1e-12, "{spearman:?}");

    // Chi-square by hand: rows are stars (8 reviews each), columns verified / unverified.
    // Observed: 1★ [0, 8], 2★ [0, 8], 3★ [4, 4], 4★ [8, 0], 5★ [8, 0]; 20 verified of 40, so
    // every expected count is 4: χ² = Σ (o − 4)² / 4 = 4 rows × 2 cells × 16 / 4 + 0 = 32, df 4.
    let test = report.verified.chi_square.unwrap();
    assert!((test.statistic - 32.0).abs() < 1e-9, "{test:?}");
    assert_eq!((test.df, test.n), (4, 40));
    assert!(test.p_value < 1e-5);
    assert!((test.cramers_v - (32.0f64 / 40.0).sqrt()).abs() < 1e-9);
    Ok(())
}

#[test]
fn data_derived_text_is_escaped() -> Result<()> {
    // The reader strips most markup from metadata; the page must not rely on that, so the
    // records are built here with hostile text left in.
    use recsys::dataset::{Product, Review};
    use recsys::eda::{StatsBuilder, StatsOptions};

    let mut stats = StatsBuilder::new(StatsOptions::default());
    for user in ["u1", "u2"] {
        stats.add_review(&Review::rating(user, "B1", 5.0, 1_400_000_000));
    }
    stats.add_product(&Product {
        asin: "B1".into(),
        brand: Some("<script>alert('brand')</script>".into()),
        categories: vec!["Root".into(), "\"><img src=x onerror=alert(1)>".into()],
        price: Some(3.5),
        ..Product::default()
    });
    stats.add_problem("bad <b>line</b>", Some("<i>file</i>:3"));
    let report = stats.finish("<h1>name</h1>", Vec::new());
    assert_eq!(
        report.brands.by_volume[0].name,
        "<script>alert('brand')</script>"
    );
    assert!(
        report.brands.finding.contains("<script>"),
        "findings quote names as they are"
    );
    let html = render_html(&report);
    for raw in ["<script", "<img", "<b>", "<i>", "<h1>name"] {
        assert!(!html.contains(raw), "unescaped {raw}");
    }
    assert!(html.contains("&lt;script&gt;alert(&#39;brand&#39;)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;h1&gt;name&lt;/h1&gt;"));
    Ok(())
}

#[test]
fn synthetic_data_fills_every_section() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let options = recsys::synth::SynthOptions {
        users: 300,
        items: 120,
        interactions: 4_000,
        seed: 7,
        gzip: true,
    };
    let written = recsys::synth::generate(&options, dir.path())?;
    let files = [written.reviews, written.metadata];
    let report = analyze_files(&files, &quiet())?;
    assert_eq!(report.overview.rated, 4_000);
    assert_eq!(report.overview.metadata_coverage, 1.0);
    assert!(!report.price.bands.is_empty());
    assert_eq!(report.price.reviews, 4_000);
    assert_eq!(report.verified.groups.len(), 2);
    assert!(!report.categories.by_volume.is_empty() && !report.brands.by_volume.is_empty());
    let html = render_html(&report);
    assert_eq!(html.matches("<svg").count(), 10, "every chart");
    check_report(&files, &report)
}

#[test]
fn the_command_writes_the_page_and_the_statistics() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = amazon().join("mcauley2018-gift-cards");
    let out = dir.path().join("report");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_recsys"))
        .arg("eda")
        .arg("--quiet")
        .arg("--data")
        .arg(data.join("Gift_Cards_5.json.gz"))
        .arg(data.join("meta_Gift_Cards.json.gz"))
        .arg("--out")
        .arg(&out)
        .output()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout)?;
    assert!(stdout.contains("Ratings: "), "{stdout}");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json"))?)?;
    // 2,972 reviews, of which 7 repeat a (user, item) pair (evaluation counts 2,965 too).
    assert_eq!(stats["overview"]["interactions"], 2_965);
    assert_eq!(stats["overview"]["rated"], 2_972);
    assert!(std::fs::read_to_string(out.join("index.html"))?.contains("<svg"));
    Ok(())
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() -> Result<()> {
    // `recsys eda ... | head -1`: the reader stops reading; recsys must not panic.
    let dir = tempfile::tempdir()?;
    let data = amazon().join("mcauley2018-gift-cards/Gift_Cards_5.json.gz");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["eda", "--quiet", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    drop(child.stdout.take());
    let output = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && !stderr.contains("panicked"),
        "{output:?}"
    );
    assert!(
        dir.path().join("stats.json").is_file(),
        "the report is written"
    );
    Ok(())
}
