//! The versioned snapshot directory: files [`Dataset::read`](crate::dataset::Dataset::read)
//! loads as they are, and a manifest.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{PrepareError, PrepareOptions, PrepareReport, Vocabulary};
use crate::dataset::Product;
use crate::eda::calendar::civil_from_days;

/// The files of a snapshot to give `recsys evaluate --data`: interactions in the Amazon 2018
/// reviews format, then item metadata in the 2018 metadata format.
pub const SNAPSHOT_FILES: [&str; 2] = ["reviews.json", "meta.json"];

/// Version of the snapshot layout, in the manifest.
const FORMAT_VERSION: u32 = 1;

/// `manifest.json` of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version (1).
    pub format_version: u32,
    /// The snapshot's version: its directory name, from its creation time.
    pub version: String,
    /// When it was created (RFC 3339).
    pub created: String,
    /// The database it was prepared from.
    pub database: String,
    /// `k_core` and `alpha`.
    pub parameters: serde_json::Value,
    /// The counts of the run.
    pub counts: PrepareReport,
    /// The data files, to read in this order.
    pub files: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PrepareError + '_ {
    move |source| PrepareError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The latest snapshot under `dir` (named in `dir/LATEST`): the data files to read.
///
/// # Errors
///
/// [`PrepareError::NoSnapshot`] when `dir` holds none.
pub fn latest_snapshot(dir: &Path) -> Result<Vec<PathBuf>, PrepareError> {
    let version = std::fs::read_to_string(dir.join("LATEST"))
        .map_err(|_| PrepareError::NoSnapshot(dir.to_owned()))?;
    let snapshot = dir.join(version.trim());
    Ok(SNAPSHOT_FILES.iter().map(|f| snapshot.join(f)).collect())
}

/// The parts of a time in UTC: year, month, day, hour, minute, second, millisecond.
fn utc_parts(time: DateTime) -> (i64, u32, u32, i64, i64, i64, i64) {
    let millis = time.timestamp_millis();
    let (seconds, milli) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second = seconds.rem_euclid(86_400);
    (
        year,
        month,
        day,
        second / 3600,
        second / 60 % 60,
        second % 60,
        milli,
    )
}

/// The version of a snapshot created at `time`: UTC, fixed width with three millisecond
/// digits (`20261127T104307062Z`), so that versions sort as their times do.
fn version_stamp(time: DateTime) -> String {
    let (y, mo, d, h, mi, s, ms) = utc_parts(time);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}{ms:03}Z")
}

/// `time` in RFC 3339, UTC, with three millisecond digits (`2026-11-27T10:43:07.062Z`).
fn rfc3339(time: DateTime) -> String {
    let (y, mo, d, h, mi, s, ms) = utc_parts(time);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// One interaction of the snapshot's `reviews.json`.
pub(super) struct Line<'a> {
    pub(super) user: &'a str,
    pub(super) asin: &'a str,
    pub(super) rating: f32,
    pub(super) time: i64,
}

/// Writes the snapshot in a new directory under `dir`; returns it.
#[allow(clippy::too_many_arguments)]
pub(super) fn write<'a>(
    dir: &Path,
    created: DateTime,
    database: &str,
    options: &PrepareOptions,
    report: &PrepareReport,
    prepared: impl Iterator<Item = Line<'a>>,
    products: &HashMap<String, Product>,
    asins: &[String],
    vocabulary: &Vocabulary,
) -> Result<PathBuf, PrepareError> {
    let created_text = rfc3339(created);
    let stamp = version_stamp(created);
    let mut version = stamp.clone();
    let mut n = 1;
    while dir.join(&version).exists() {
        n += 1;
        version = format!("{stamp}-{n}");
    }
    let target = dir.join(&version);
    std::fs::create_dir_all(&target).map_err(io(&target))?;

    let path = target.join(SNAPSHOT_FILES[0]);
    let mut out = BufWriter::new(std::fs::File::create(&path).map_err(io(&path))?);
    for p in prepared {
        let line = json!({
            "reviewerID": p.user,
            "asin": p.asin,
            "overall": p.rating,
            "unixReviewTime": p.time,
        });
        writeln!(out, "{line}").map_err(io(&path))?;
    }
    out.flush().map_err(io(&path))?;

    let path = target.join(SNAPSHOT_FILES[1]);
    let mut out = BufWriter::new(std::fs::File::create(&path).map_err(io(&path))?);
    for product in asins.iter().filter_map(|a| products.get(a)) {
        let mut line = json!({ "asin": product.asin, "category": product.categories });
        if let Some(title) = &product.title {
            line["title"] = json!(title);
        }
        if let Some(brand) = &product.brand {
            line["brand"] = json!(brand);
        }
        if let Some(description) = &product.description {
            line["description"] = json!([description]);
        }
        if let Some(price) = product.price {
            line["price"] = json!(format!("${price:.2}"));
        }
        writeln!(out, "{line}").map_err(io(&path))?;
    }
    out.flush().map_err(io(&path))?;

    let path = target.join("vocabulary.json");
    let text = json!({ "brands": vocabulary.brands, "categories": vocabulary.categories });
    std::fs::write(&path, format!("{text:#}\n")).map_err(io(&path))?;

    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        version: version.clone(),
        created: created_text,
        database: database.to_owned(),
        parameters: json!({ "k_core": options.k_core, "alpha": options.alpha }),
        counts: report.clone(),
        files: SNAPSHOT_FILES.iter().map(|f| f.to_string()).collect(),
    };
    let path = target.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| PrepareError::Io {
        path: path.clone(),
        source: e.into(),
    })?;
    std::fs::write(&path, text + "\n").map_err(io(&path))?;
    let path = dir.join("LATEST");
    std::fs::write(&path, format!("{version}\n")).map_err(io(&path))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_fixed_width_and_sort_in_time_order() {
        let at = |millis| DateTime::from_millis(millis);
        // 2026-11-28T06:27:17.130Z: the trailing zero of the milliseconds is kept.
        let time = 1_795_847_237_130;
        assert_eq!(version_stamp(at(time)), "20261128T062717130Z");
        assert_eq!(rfc3339(at(time)), "2026-11-28T06:27:17.130Z");
        assert_eq!(version_stamp(at(time - 130)), "20261128T062717000Z");
        assert_eq!(version_stamp(at(0)), "19700101T000000000Z");
        let mut versions: Vec<String> = [time, time + 5, time + 70, time + 870, time + 1_000]
            .into_iter()
            .map(|t| version_stamp(at(t)))
            .collect();
        let in_time_order = versions.clone();
        versions.sort();
        assert_eq!(versions, in_time_order);
        assert!(in_time_order.iter().all(|v| v.len() == 19));
    }
}
