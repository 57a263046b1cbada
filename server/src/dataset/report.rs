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
    /// Records read (reviews, ratings or products), before any de-duplication.
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
    /// Distinct metadata ASINs that match no item with an interaction.
    pub products_without_interactions: u64,
    /// Metadata lines whose ASIN had already been read (the first one is kept).
    pub duplicate_products: u64,
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
