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
    let created_text = created
        .try_to_rfc3339_string()
        .unwrap_or_else(|_| created.timestamp_millis().to_string());
    let stamp: String = created_text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
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
