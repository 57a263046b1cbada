//! The error type of the dataset reader.
//!
//! Only failures that stop a whole file end up here (the file cannot be
//! opened, its format cannot be recognised). A malformed line is not an
//! error: it becomes a [`Problem`](super::Problem) and reading goes on.

use std::io;
use std::path::PathBuf;

/// Why a dataset file, or a whole dataset, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be opened or its first bytes could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The file's format was not given and could not be recognised.
    #[error("cannot recognise the format of {}: {reason}", path.display())]
    UnknownFormat {
        /// The file concerned.
        path: PathBuf,
        /// What was found instead of a known format.
        reason: String,
    },
    /// A format name (for example from the command line) is not one of the known names.
    #[error("unknown dataset format {name:?}; expected one of: {expected}")]
    InvalidFormatName {
        /// The name that was given.
        name: String,
        /// The accepted names, comma-separated.
        expected: String,
    },
    /// [`Dataset::read`](super::Dataset::read) was given no file.
    #[error("no dataset file given")]
    NoInput,
    /// More distinct users or items than a `u32` index can hold.
    #[error("too many distinct ids (more than {max}) in {}", path.display())]
    TooManyIds {
        /// The file being read when the limit was reached.
        path: PathBuf,
        /// The largest number of ids supported.
        max: u64,
    },
}

/// Result alias of the dataset reader.
pub type Result<T> = std::result::Result<T, DatasetError>;
