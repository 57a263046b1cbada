//! Both writers dump every document they would write for every file of the shared data that
//! `recsys ingest` accepts, plus the sample with its malformed lines: the dumps must be equal,
//! document by document, with the same quarantine reasons and counts.
//!
//! A dump is what a run would write into an empty database, each file on its own (see
//! `docs/schema.md`). Where one file repeats an `_id` far enough apart that `recsys ingest`
//! sends the two records in different batches, its dump holds both and the later line is
//! compared: the one Spark keeps, and the fields MongoDB ends with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mongodb::bson::{Bson, Document};
use recsys::dataset::{detect_format, Format};
use serde_json::Value;

use crate::compare::{assert_same_documents, first_difference, quarantine_key, run_counts};
use crate::sample::sample;
use crate::{data_dir, run_spark, spark_python};

/// The formats `recsys ingest` accepts.
const INGESTED: [Format; 4] = [
    Format::ReviewsJson,
    Format::MetadataJson,
    Format::RatingsCsv,
    Format::KaggleCsv,
];

/// Every data file of the shared folder, sorted: those `recsys ingest` accepts, and the others
/// (sequence files, id maps, item attributes: numeric ids without ASINs, ratings or times).
fn shared_files() -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut files = Vec::new();
    let mut folders = vec![data_dir()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("the shared data {}: {e}", folder.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_none_or(|ext| ext != "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .partition(|path| detect_format(path).is_ok_and(|format| INGESTED.contains(&format)))
}

/// A dump read back. Documents are kept as their JSON text without the run id, by (file index,
/// `_id`), with their line.
struct Dump {
    products: BTreeMap<(usize, String), (i64, String)>,
    reviews: BTreeMap<(usize, String), (i64, String)>,
    quarantine: BTreeMap<(String, i64), Document>,
    run: Document,
}

fn document(value: Value) -> Document {
    match Bson::try_from(value).expect("canonical extended JSON") {
        Bson::Document(document) => document,
        other => panic!("a dump line is a document, not {other}"),
    }
}

/// The dump files of a collection: (file index, path), from `file-<i>.jsonl` (recsys) or
/// `file-<i>-part-<p>.jsonl` (Spark).
fn dump_files(dir: &Path, collection: &str) -> Vec<(usize, PathBuf)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir.join(collection)).expect("a dump folder") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        let index = name
            .strip_prefix("file-")
            .and_then(|rest| rest.split(['-', '.']).next())
            .and_then(|index| index.parse().ok())
            .unwrap_or_else(|| panic!("unexpected dump file {}", path.display()));
        found.push((index, path));
    }
    found
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("read a dump file")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn records(dir: &Path, collection: &str) -> BTreeMap<(usize, String), (i64, String)> {
    let mut records = BTreeMap::new();
    for (index, path) in dump_files(dir, collection) {
        for mut value in lines(&path) {
            let id = value["_id"].as_str().expect("a string _id").to_owned();
            let origin = value["ingest"].as_object_mut().expect("ingest");
            origin.remove("run").expect("ingest.run");
            let line: i64 = origin["line"]["$numberLong"]
                .as_str()
                .and_then(|line| line.parse().ok())
                .expect("ingest.line");
            let text = value.to_string();
            let entry = records.entry((index, id)).or_insert((line, String::new()));
            if line >= entry.0 {
                *entry = (line, text);
            }
        }
    }
    records
}

fn read_dump(dir: &Path) -> Dump {
    let mut quarantine = BTreeMap::new();
    for (_, path) in dump_files(dir, "quarantine") {
        for value in lines(&path) {
            let (key, value) = quarantine_key(&document(value));
            assert!(
                quarantine.insert(key, value).is_none(),
                "a line quarantined twice"
            );
        }
    }
    let mut runs = lines(&dir.join("ingest_runs.jsonl"));
    assert_eq!(runs.len(), 1, "one run record");
    Dump {
        products: records(dir, "products"),
        reviews: records(dir, "reviews"),
        quarantine,
        run: document(runs.remove(0)),
    }
}

/// Asserts that both dumps hold the same documents: equal text, or else equal fields (in any
/// order); the message names the first differing file index, `_id` and field.
fn assert_same_records(
    collection: &str,
    rust: &BTreeMap<(usize, String), (i64, String)>,
    spark: &BTreeMap<(usize, String), (i64, String)>,
) {
    let only_rust: Vec<_> = rust.keys().filter(|k| !spark.contains_key(*k)).collect();
    let only_spark: Vec<_> = spark.keys().filter(|k| !rust.contains_key(*k)).collect();
    assert!(
        only_rust.is_empty() && only_spark.is_empty(),
        "{collection}: {} (file index, _id) only from recsys ingest (first {:?}), {} only from \
         Spark (first {:?})",
        only_rust.len(),
        only_rust.first(),
        only_spark.len(),
        only_spark.first()
    );
    let parse = |text: &str| Bson::Document(document(serde_json::from_str(text).unwrap()));
    let mut differing = rust.iter().filter_map(|(key, (_, left))| {
        let right = &spark[key].1;
        if left == right {
            return None;
        }
        first_difference("", &parse(left), &parse(right)).map(|field| (key, field))
    });
    if let Some(((index, id), field)) = differing.next() {
        let more = differing.count();
        panic!(
            "{collection}: file {index}, _id {id:?}: recsys ingest --dump (left) and Spark \
             --dump (right) differ at {field} ({more} more documents differ)"
        );
    }
}

#[test]
fn spark_job_builds_what_recsys_ingest_builds_from_every_shared_file() {
    let Some(python) = spark_python() else { return };
    let (mut files, refused) = shared_files();
    for format in INGESTED {
        assert!(
            files
                .iter()
                .any(|path| detect_format(path).is_ok_and(|f| f == format)),
            "no shared file of format {format:?} under {}",
            data_dir().display()
        );
    }
    eprintln!(
        "{} shared files ingested; {} not ingestible (sequence, pairs, id-map and attribute \
         files): recsys ingest refuses them",
        files.len(),
        refused.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let sample_dir = dir.path().join("sample");
    std::fs::create_dir(&sample_dir).unwrap();
    files.extend(sample(&sample_dir));
    let (rust_dump, spark_dump) = (dir.path().join("rust"), dir.path().join("spark"));

    let output = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["ingest", "--dry-run", "--quiet", "--dump"])
        .arg(&rust_dump)
        .args(&files)
        .output()
        .expect("start recsys ingest");
    assert!(
        output.status.success(),
        "recsys ingest --dry-run --dump failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut dump_arg = std::ffi::OsString::from("--dump=");
    dump_arg.push(&spark_dump);
    run_spark(&python, &[dump_arg.to_str().unwrap()], &files);

    let rust = read_dump(&rust_dump);
    let spark = read_dump(&spark_dump);
    assert_same_records("products", &rust.products, &spark.products);
    assert_same_records("reviews", &rust.reviews, &spark.reviews);
    assert_same_documents("quarantine", &rust.quarantine, &spark.quarantine);
    assert_eq!(run_counts(&rust.run), run_counts(&spark.run));

    // What was compared: every record of the shared files, malformed lines, both flags.
    let totals = &run_counts(&rust.run)[0].1;
    assert!(totals[0] > 140_000, "records read: {totals:?}");
    assert!(rust.reviews.len() > 130_000 && rust.products.len() > 3_800);
    assert!(rust.quarantine.len() >= 10);
    for flag in ["\"unknown_product\":true", "\"unknown_product\":false"] {
        assert!(rust.reviews.values().any(|(_, text)| text.contains(flag)));
    }
}
