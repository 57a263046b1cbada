//! Comparing what the two writers produced, with messages that name the first difference: the
//! collection, the `_id` and the field, with both values.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mongodb::bson::{Bson, Document};

/// The first difference between two values, as `path: left != right`; `None` if they are equal
/// (fields in any order, BSON types included).
pub fn first_difference(path: &str, left: &Bson, right: &Bson) -> Option<String> {
    match (left, right) {
        (Bson::Document(l), Bson::Document(r)) => {
            let join = |key: &str| {
                if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                }
            };
            for (key, value) in l {
                let at = join(key);
                match r.get(key) {
                    Some(other) => {
                        if let Some(found) = first_difference(&at, value, other) {
                            return Some(found);
                        }
                    }
                    None => return Some(format!("`{at}`: {value} != (missing)")),
                }
            }
            r.keys()
                .find(|key| !l.contains_key(*key))
                .map(|key| format!("`{}`: (missing) != {}", join(key), r.get(key).unwrap()))
        }
        (Bson::Array(l), Bson::Array(r)) => {
            for (i, (a, b)) in l.iter().zip(r).enumerate() {
                if let Some(found) = first_difference(&format!("{path}[{i}]"), a, b) {
                    return Some(found);
                }
            }
            (l.len() != r.len()).then(|| format!("`{path}`: {} elements != {}", l.len(), r.len()))
        }
        _ if left == right => None,
        _ => Some(format!(
            "`{path}`: {left} ({:?}) != {right} ({:?})",
            left.element_type(),
            right.element_type()
        )),
    }
}

/// Asserts that both sides hold the same documents under the same keys, naming the first key
/// only one side has, or the first differing document and field (and how many more differ).
pub fn assert_same_documents<K: Ord + std::fmt::Debug>(
    what: &str,
    rust: &BTreeMap<K, Document>,
    spark: &BTreeMap<K, Document>,
) {
    let only_rust: Vec<_> = rust.keys().filter(|k| !spark.contains_key(*k)).collect();
    let only_spark: Vec<_> = spark.keys().filter(|k| !rust.contains_key(*k)).collect();
    assert!(
        only_rust.is_empty() && only_spark.is_empty(),
        "{what}: {} keys only from recsys ingest (first {:?}), {} only from Spark (first {:?})",
        only_rust.len(),
        only_rust.first(),
        only_spark.len(),
        only_spark.first()
    );
    let mut differing = rust.iter().filter_map(|(key, document)| {
        let left = Bson::Document(document.clone());
        let right = Bson::Document(spark[key].clone());
        first_difference("", &left, &right).map(|field| (key, field))
    });
    if let Some((key, field)) = differing.next() {
        let more = differing.count();
        let mut message =
            format!("{what} {key:?}: recsys ingest (left) and Spark (right) differ at {field}");
        if more > 0 {
            let _ = write!(message, " ({more} more documents differ)");
        }
        panic!("{message}");
    }
}

/// A quarantine document as compared: file, line, format, stage, raw text, file name, reason and
/// the position part of its `_id` (`file index:line`). serde_json and Python word the detail of
/// a JSON syntax error differently, so such a reason is compared up to its colon (`not JSON`,
/// `not valid JSON`).
pub fn quarantine_key(q: &Document) -> ((String, i64), Document) {
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
    let position = id.split_once(':').map_or("", |(_, rest)| rest);
    let mut value = Document::new();
    for field in ["format", "stage", "raw", "file_name"] {
        value.insert(field, q.get_str(field).unwrap());
    }
    value.insert("reason", reason);
    value.insert("position", position);
    (key, value)
}

/// The counts of a run's record (`ingest_runs`): in all, per file, and reviews linked.
pub fn run_counts(run: &Document) -> Vec<(String, Vec<i64>)> {
    let counts = |doc: &Document| -> Vec<i64> {
        [
            "read",
            "inserted",
            "updated",
            "duplicates",
            "quarantined",
            "repaired",
        ]
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

/// Removes the run id from a document's `ingest` provenance (it differs by construction).
pub fn without_run(mut document: Document) -> Document {
    if let Ok(origin) = document.get_document_mut("ingest") {
        origin.remove("run");
    }
    document
}

#[test]
fn the_first_difference_names_the_field_and_both_values() {
    use mongodb::bson::doc;
    let left = Bson::Document(doc! { "a": 1, "b": { "c": [1.0, 2.0] }, "d": "x" });
    let same = Bson::Document(doc! { "d": "x", "a": 1, "b": { "c": [1.0, 2.0] } });
    assert_eq!(first_difference("", &left, &same), None);
    let other = Bson::Document(doc! { "a": 1, "b": { "c": [1.0, 2.5] }, "d": "x" });
    let found = first_difference("", &left, &other).unwrap();
    assert!(found.starts_with("`b.c[1]`: 2 (Double) != 2.5"), "{found}");
    let typed = Bson::Document(doc! { "a": 1_i64, "b": { "c": [1.0, 2.0] }, "d": "x" });
    let found = first_difference("", &left, &typed).unwrap();
    assert!(
        found.contains("Int32") && found.contains("Int64"),
        "{found}"
    );
    let extra = Bson::Document(doc! { "a": 1, "b": { "c": [1.0, 2.0] }, "d": "x", "e": true });
    assert!(first_difference("", &left, &extra)
        .unwrap()
        .contains("`e`: (missing)"));
}
