//! Reading the Amazon review datasets (McAuley/UCSD 2014 and 2018 releases,
//! and the Kaggle ratings CSV) into interactions and item metadata.
//!
//! Two levels:
//!
//! * [`RecordReader`] streams the records of one file, gzip or plain, in
//!   constant memory: [`Review`]s (or bare ratings) and [`Product`]s, each
//!   with its line number, and a [`Problem`] for each malformed line.
//! * [`Dataset::read`] reads a set of files into dense user and item indices
//!   ([`IdMap`]), de-duplicated [`Interaction`]s and per-item [`ItemMeta`],
//!   with a [`ReadReport`] of what was found. It parses on all cores while a
//!   separate thread decompresses.
//!
//! Formats are told apart by content, not by file name (see [`Format`] and
//! [`detect_format`]). Malformed input never aborts a read: each bad line is
//! counted and kept with its reason, as the data's own quirks are handled:
//! HTML in titles and descriptions, prices like `"$12.99"` next to CSS junk,
//! `rank` as a string or a list, `vote` as a string with thousands
//! separators, and ASINs whose leading zeros a spreadsheet stripped.
//!
//! ```no_run
//! use std::path::PathBuf;
//! use recsys::dataset::Dataset;
//!
//! let dir = PathBuf::from("data/amazon/mcauley2018-gift-cards");
//! let paths = [dir.join("Gift_Cards_5.json.gz"), dir.join("meta_Gift_Cards.json.gz")];
//! let dataset = Dataset::read(&paths, None)?;
//! println!(
//!     "{}: {} users, {} items, {} interactions, {} problems",
//!     dataset.name,
//!     dataset.n_users(),
//!     dataset.n_items(),
//!     dataset.interactions.len(),
//!     dataset.report.problem_count(),
//! );
//! let ratings = dataset.ratings(); // user × item CSR matrix
//! # let _ = ratings;
//! # Ok::<(), recsys::dataset::DatasetError>(())
//! ```

mod batch;
mod csr;
mod csv;
mod error;
mod fields;
mod format;
mod html;
mod idmap;
mod input;
mod json;
mod load;
mod parse;
mod problem;
mod reader;
mod record;
mod report;

pub use csr::Csr;
pub use error::{DatasetError, Result};
pub use format::{detect_format, Format};
pub use idmap::IdMap;
pub use load::{Dataset, Interaction};
pub use problem::{Problem, MAX_RAW};
pub use reader::RecordReader;
pub use record::{ItemMeta, Product, Record, Review};
pub use report::{FileReport, ReadReport, MAX_KEPT_PROBLEMS};
