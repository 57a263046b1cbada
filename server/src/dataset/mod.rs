//! Reading the Amazon review datasets (McAuley/UCSD 2014 and 2018 releases,
//! the Kaggle ratings CSV, and the S3-Rec / P5 / SASRec sequence versions)
//! into interactions and item metadata.
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
//! Sequence files (`user item item …` per line, or `user item`) have no
//! ratings or times: each item gets rating 1 and its position in the user's
//! sequence as timestamp, so that leave-last-out holds out the last item. An
//! S3-Rec `item2attributes` file adds item attributes as text, and a P5
//! `datamaps.json` turns the numeric ids back into ASINs and reviewer ids.
//!
//! Formats are told apart by content, not by file name (see [`Format`] and
//! [`detect_format`]). Malformed input never aborts a read: each bad line is
//! counted and kept with its reason, as the data's own quirks are handled:
//! HTML in titles and descriptions, prices like `"$12.99"` next to CSS junk,
//! `rank` as a string or a list, `vote` as a string with thousands
//! separators, and ASINs whose leading zeros a spreadsheet stripped.
//!
//! ```
//! use recsys::dataset::{Dataset, Format};
//!
//! let dir = tempfile::tempdir()?;
//! let reviews = dir.path().join("Gift_Cards_5.json"); // gzip or plain, whatever the name
//! std::fs::write(
//!     &reviews,
//!     concat!(
//!         r#"{"reviewerID": "A1", "asin": "B004LLIKVU", "overall": 5.0, "unixReviewTime": 1529193600}"#,
//!         "\n",
//!         r#"{"reviewerID": "A2", "asin": "B004LLIKVU", "overall": "five", "unixReviewTime": 1528934400}"#,
//!         "\n",
//!     ),
//! )?;
//! let dataset = Dataset::read(&[reviews], None)?;
//! assert_eq!(dataset.report.files[0].format, Format::ReviewsJson);
//! assert_eq!((dataset.n_users(), dataset.n_items()), (1, 1));
//! let problem = &dataset.report.problems[0];
//! assert_eq!((problem.line, problem.reason.as_str()), (2, r#"rating not a number: "five""#));
//! let ratings = dataset.ratings(); // the user × item CSR matrix
//! assert_eq!(ratings.row(0), (&[0][..], &[5.0][..]));
//!
//! // An S3-Rec sequence file, with the P5 map from its ids to ASINs.
//! let sequences = dir.path().join("Beauty.txt");
//! std::fs::write(&sequences, "1 1 2 3\n2 2 3\n")?;
//! let datamaps = dir.path().join("datamaps.json");
//! std::fs::write(&datamaps, r#"{"id2item": {"1": "B004756YJA", "2": "B004ZT0SSG", "3": "B0020YLEYK"}}"#)?;
//! let dataset = Dataset::read(&[datamaps, sequences], None)?;
//! assert_eq!(dataset.report.files[1].format, Format::Sequence);
//! let last = dataset.interactions.iter().filter(|i| i.user == 0).max_by_key(|i| i.timestamp);
//! assert_eq!(dataset.items.id(last.unwrap().item), "B0020YLEYK");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attributes;
mod batch;
mod csr;
mod csv;
mod datamaps;
mod error;
mod fields;
mod format;
mod html;
mod idmap;
mod input;
mod json;
mod jsondoc;
mod load;
mod parse;
mod problem;
mod reader;
mod record;
mod report;
mod sequence;

pub use csr::Csr;
pub use datamaps::Datamaps;
pub use error::{DatasetError, Result};
pub use format::{detect_format, Format};
pub use idmap::IdMap;
pub use load::{Dataset, Interaction};
pub use problem::{Problem, MAX_RAW};
pub use reader::RecordReader;
pub use record::{ItemAttributes, ItemMeta, Product, Record, Review, Sequence};
pub use report::{
    AttributeNaming, AttributesReport, DatamapsReport, FileReport, ReadReport, MAX_KEPT_PROBLEMS,
};
