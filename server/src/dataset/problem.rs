//! A malformed line, kept with its reason.

use std::fmt;
use std::path::{Path, PathBuf};

/// At most this many bytes of a malformed line are kept in [`Problem::raw`].
pub const MAX_RAW: usize = 64 << 10;

/// A line that could not be turned into a record.
///
/// Bad input is data: the line is skipped, counted and kept here with the
/// reason, and reading goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the line comes from.
    pub file: PathBuf,
    /// 1-based line number (counting every line, blank ones included).
    pub line: u64,
    /// What is wrong, specifically (for example ``missing field `asin` ``).
    pub reason: String,
    /// The line as read (invalid UTF-8 replaced), cut to [`MAX_RAW`] bytes
    /// with a marker saying how long it was.
    pub raw: String,
}

impl Problem {
    /// Builds a problem for line `line` of `file`, whose first bytes are `raw`
    /// and whose full length is `len` bytes.
    pub(crate) fn new(file: &Path, line: u64, reason: String, raw: &[u8], len: u64) -> Self {
        let keep = raw.len().min(MAX_RAW);
        let mut text = String::from_utf8_lossy(&raw[..keep]).into_owned();
        if len > keep as u64 {
            text.push_str(&format!(" …[truncated, {len} bytes in all]"));
        }
        Self {
            file: file.to_path_buf(),
            line,
            reason,
            raw: text,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_raw_line_is_truncated_with_a_marker() {
        let raw = vec![b'a'; MAX_RAW + 10];
        let problem = Problem::new(Path::new("f"), 3, "bad".into(), &raw, raw.len() as u64);
        assert!(problem.raw.len() < MAX_RAW + 100);
        assert!(problem
            .raw
            .ends_with(&format!("[truncated, {} bytes in all]", MAX_RAW + 10)));
        assert_eq!(problem.to_string(), "f:3: bad");
    }

    #[test]
    fn short_raw_line_is_kept_whole() {
        let problem = Problem::new(Path::new("f"), 1, "bad".into(), b"{\"x\": 1}", 8);
        assert_eq!(problem.raw, "{\"x\": 1}");
    }
}
