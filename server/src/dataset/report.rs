//! What reading a dataset found: per-file counts and the problems met.

use std::path::{Path, PathBuf};

use super::format::Format;
use super::problem::Problem;

/// At most this many problems are kept in a [`ReadReport`]; all are counted.
pub const MAX_KEPT_PROBLEMS: usize = 10_000;

/// Counts for one file read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its format (given or detected).
    pub format: Format,
    /// Lines read, blank ones and headers included.
    pub lines: u64,
    /// Records read, before any de-duplication: reviews, ratings or products;
    /// for sequence and pairs files, interactions (items); for
    /// `item2attributes` files, items; for `datamaps.json`, table entries.
    pub records: u64,
    /// Lines that gave a [`Problem`] (including an unreadable end of file).
    pub malformed: u64,
    /// Records accepted after a documented repair: a timestamp taken from
    /// `reviewTime`, or leading zeros restored to a spreadsheet-mangled ASIN.
    pub repaired: u64,
}

impl FileReport {
    /// An empty report for `path`.
    pub(crate) fn new(path: &Path, format: Format) -> Self {
        Self {
            path: path.to_path_buf(),
            format,
            lines: 0,
            records: 0,
            malformed: 0,
            repaired: 0,
        }
    }
}

/// What [`Dataset::read`](super::Dataset::read) found besides the data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadReport {
    /// One report per file, in the order the files were given.
    pub files: Vec<FileReport>,
    /// The first [`MAX_KEPT_PROBLEMS`] problems, in reading order; see
    /// [`ReadReport::problem_count`] for the total.
    pub problems: Vec<Problem>,
    /// Interactions dropped because a later one had the same (user, item).
    pub duplicates_collapsed: u64,
    /// Distinct metadata ASINs, and `item2attributes` entries, that match no
    /// item with an interaction.
    pub products_without_interactions: u64,
    /// Metadata lines whose ASIN had already been read (the first one is kept).
    pub duplicate_products: u64,
    /// What the `datamaps.json` files given did to the ids, if any was given.
    pub datamaps: Option<DatamapsReport>,
    /// One report per `item2attributes` file, in the order the files were given.
    pub attributes: Vec<AttributesReport>,
}

/// How `datamaps.json` files renamed the numeric ids of sequence files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatamapsReport {
    /// Users of sequence files now named by their reviewer id.
    pub users_renamed: u64,
    /// Items of sequence files now named by their ASIN.
    pub items_renamed: u64,
    /// Users of sequence files the maps do not name (they keep their number).
    pub users_unmapped: u64,
    /// Items of sequence files the maps do not name (they keep their number).
    pub items_unmapped: u64,
    /// Ids not renamed because the new name was taken (by another id the maps
    /// give the same name, or an id read from another file).
    pub collisions: u64,
}

/// How an `item2attributes` file was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributesReport {
    /// The file.
    pub path: PathBuf,
    /// Items the file lists.
    pub items: u64,
    /// Of those, items with interactions (they now have [`ItemMeta`](super::ItemMeta)).
    pub described: u64,
    /// Distinct attribute ids in the file.
    pub attributes: u64,
    /// Attribute ids repeated within an item's list (kept once).
    pub repeats: u64,
    /// How attribute ids were turned into text.
    pub naming: AttributeNaming,
}

/// How the attribute ids of an `item2attributes` file became text in
/// [`ItemMeta::categories`](super::ItemMeta::categories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeNaming {
    /// No `datamaps.json` with attribute names was given: attribute *k* is `attr_<k>`.
    Ids,
    /// Named by a `datamaps.json`: attribute *k* is the *k*-th of its attributes
    /// (in id order) among those on at least `min_items` items, and every
    /// attribute is on as many items in both files. Blank names are left out.
    Names {
        /// The smallest `attributeid2num` of the attributes used.
        min_items: u64,
    },
    /// A `datamaps.json` names attributes, but not these: attribute *k* is `attr_<k>`.
    Unaligned {
        /// Why the datamaps attributes do not match the file's.
        reason: String,
    },
}

impl ReadReport {
    /// The number of problems met, including those not kept.
    pub fn problem_count(&self) -> u64 {
        self.files.iter().map(|file| file.malformed).sum()
    }

    /// Keeps `problem` unless [`MAX_KEPT_PROBLEMS`] are already kept.
    pub(crate) fn keep(&mut self, problem: Problem) {
        if self.problems.len() < MAX_KEPT_PROBLEMS {
            self.problems.push(problem);
        }
    }
}
