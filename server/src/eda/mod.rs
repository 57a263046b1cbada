//! `recsys eda`: an exploratory analysis of a dataset, as a self-contained HTML page with SVG
//! charts and a `stats.json` holding every number it shows.
//!
//! The pipeline has three parts, each usable alone:
//!
//! * [`StatsBuilder`] takes records one at a time ([`Review`](crate::dataset::Review)s,
//!   [`Product`](crate::dataset::Product)s, sequences, and the reasons of refused records) and
//!   keeps memory bounded by the number of distinct users, items and (user, item) pairs, not
//!   reviews (a pair read twice is one interaction, as evaluation counts it);
//!   [`StatsBuilder::finish`] computes an [`EdaReport`]. Any source can feed it:
//!   [`analyze_files`] reads dataset files with [`RecordReader`](crate::dataset::RecordReader).
//! * [`EdaReport`] is plain data (`serde::Serialize`): overview, rating distribution, monthly
//!   volume and mean rating, activity and popularity, Lorenz curve and Gini, review length,
//!   helpful votes, price and verification against rating, top categories and brands, Pearson
//!   and Spearman correlations with p-values and confidence intervals, a chi-square test of
//!   rating against verification, and cold-start exposure under leave-last-out. Each section
//!   carries a one-line finding generated from its numbers.
//! * [`render_html`] turns a report into the page; the web app serves the same string.
//!
//! Distributions (Student's t, normal, chi-square) come from `statrs`; charts are drawn by
//! `plotters` on its SVG backend.
//!
//! With the `mongodb` feature, [`analyze_mongodb`] (or [`analyze_store`] on a connected
//! [`MongoStore`](crate::store::MongoStore)) streams the `products`, `reviews` and `quarantine`
//! collections that `recsys ingest` wrote into the same builder, documents converted back by
//! [`store::schema`](crate::store::schema), and gives the report of the files ingested.
//!
//! ```
//! use recsys::eda::{analyze_files, render_html, EdaOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let reviews = dir.path().join("reviews.json");
//! std::fs::write(
//!     &reviews,
//!     concat!(
//!         r#"{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1393545600, "verified": true}"#, "\n",
//!         r#"{"reviewerID": "A2", "asin": "B1", "overall": 4.0, "unixReviewTime": 1393632000, "verified": false}"#, "\n",
//!         r#"{"reviewerID": "A2", "asin": "<b>B2</b>", "overall": 1.0, "unixReviewTime": 1393718400}"#, "\n",
//!     ),
//! )?;
//! let report = analyze_files(&[reviews], &EdaOptions::default())?;
//! assert_eq!((report.overview.users, report.overview.items), (2, 2));
//! assert_eq!(report.ratings.histogram, [1, 0, 0, 1, 1]);
//! let html = render_html(&report);
//! assert!(html.contains("<svg") && !html.contains("<b>B2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod calendar;
mod charts;
mod contingency;
mod correlation;
mod distribution;
mod findings;
mod html;
#[cfg(feature = "mongodb")]
mod mongo;
mod numbers;
mod progress;
mod report;
mod sample;
mod source;
mod stats;

use std::path::{Path, PathBuf};

pub use contingency::{chi_square, ChiSquareTest};
pub use correlation::{Correlation, CONFIDENCE};
pub use html::{escape, render_html};
#[cfg(feature = "mongodb")]
pub use mongo::{analyze_mongodb, analyze_store};
pub use report::*;
pub use source::{analyze_files, EdaOptions};
pub use stats::{StatsBuilder, StatsOptions};

use crate::{Error, Result};

/// The files a report was written to.
#[derive(Debug, Clone)]
pub struct EdaOutput {
    /// `DIR/index.html`.
    pub html: PathBuf,
    /// `DIR/stats.json`.
    pub json: PathBuf,
}

/// Writes `report` to `dir/index.html` and `dir/stats.json`, creating `dir` if needed.
///
/// # Errors
///
/// If the directory or a file cannot be written.
pub fn write_report(report: &EdaReport, dir: &Path) -> Result<EdaOutput> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let html = dir.join("index.html");
    let json = dir.join("stats.json");
    std::fs::write(&html, render_html(report))
        .map_err(|e| Error::io(format!("cannot write {}", html.display()), e))?;
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| Error::io("cannot serialise the statistics", e.into()))?;
    std::fs::write(&json, text)
        .map_err(|e| Error::io(format!("cannot write {}", json.display()), e))?;
    Ok(EdaOutput { html, json })
}
