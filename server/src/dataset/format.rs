//! The file formats the reader understands, and their detection.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::csv;
use super::error::{DatasetError, Result};
use super::fields;
use super::input::{self, LineEvent, LineReader};
use super::json::{self, JsonKind};

/// How many non-empty lines detection looks at before giving up: the first
/// recognisable one decides, so one malformed first line does not hide the format.
const SNIFF_LINES: usize = 16;

/// A dataset file format.
///
/// New formats (for example sequence-per-line text) are added as new
/// variants, with a name in [`Format::ALL`] and a case in detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON lines of 2014 or 2018 reviews (`reviewerID`, `asin`, `overall`, …).
    ReviewsJson,
    /// JSON lines of 2018 product metadata (`asin`, `title`, `category`, …).
    MetadataJson,
    /// Headerless 2018 ratings-only CSV: `item,user,rating,timestamp`.
    RatingsCsv,
    /// Kaggle-style CSV with header `UserId,ProductId,Rating,Timestamp`.
    KaggleCsv,
}

impl Format {
    /// Every format, in the order of their names in messages.
    pub const ALL: [Format; 4] = [
        Format::ReviewsJson,
        Format::MetadataJson,
        Format::RatingsCsv,
        Format::KaggleCsv,
    ];

    /// The format's name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Format::ReviewsJson => "reviews",
            Format::MetadataJson => "metadata",
            Format::RatingsCsv => "ratings-csv",
            Format::KaggleCsv => "kaggle-csv",
        }
    }

    /// Whether the format holds interactions (as opposed to item metadata).
    pub fn has_interactions(self) -> bool {
        !matches!(self, Format::MetadataJson)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = DatasetError;

    /// Parses a format name, ignoring case: `reviews`, `metadata`, `ratings-csv`, `kaggle-csv`.
    fn from_str(name: &str) -> Result<Self> {
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| DatasetError::InvalidFormatName {
                name: name.to_owned(),
                expected: Format::ALL.map(Format::name).join(", "),
            })
    }
}

/// Recognises the format of one line, if it is typical of a format.
pub(crate) fn sniff_line(line: &[u8]) -> Option<Format> {
    match json::sniff(line) {
        JsonKind::Review => return Some(Format::ReviewsJson),
        JsonKind::Product => return Some(Format::MetadataJson),
        JsonKind::Other => {}
    }
    if csv::is_kaggle_header(line) {
        return Some(Format::KaggleCsv);
    }
    let text = std::str::from_utf8(line).ok()?;
    let mut columns: Vec<&str> = text.split(',').collect();
    if columns.len() == 5 && columns[4].trim().is_empty() {
        columns.pop();
    }
    match columns[..] {
        [item, user, rating, timestamp]
            if !item.trim().is_empty()
                && !user.trim().is_empty()
                && fields::parse_rating(rating).is_ok()
                && fields::parse_timestamp(timestamp).is_ok() =>
        {
            Some(Format::RatingsCsv)
        }
        _ => None,
    }
}

/// Detects the format of a file (gzip or plain) from its first non-empty lines.
///
/// # Errors
///
/// [`DatasetError::Io`] if the file cannot be read, and
/// [`DatasetError::UnknownFormat`], naming the file, if it is empty or its
/// first lines match no format.
pub fn detect_format(path: &Path) -> Result<Format> {
    let unknown = |reason: String| DatasetError::UnknownFormat {
        path: path.to_path_buf(),
        reason,
    };
    let mut lines = LineReader::new(input::open(path)?);
    let mut first = None;
    let mut seen = 0;
    while seen < SNIFF_LINES {
        match lines.next() {
            None => break,
            Some(LineEvent::Line { bytes, .. }) if bytes.trim_ascii().is_empty() => continue,
            Some(LineEvent::Line { bytes, .. }) => {
                if let Some(format) = sniff_line(bytes) {
                    return Ok(format);
                }
                first.get_or_insert_with(|| preview(bytes));
            }
            Some(LineEvent::TooLong { head, .. }) => {
                first.get_or_insert_with(|| preview(head));
            }
            Some(LineEvent::Failed { error, .. }) => {
                return Err(DatasetError::Io {
                    path: path.to_path_buf(),
                    source: error,
                })
            }
        }
        seen += 1;
    }
    Err(unknown(match first {
        None => "the file has no non-empty line".to_owned(),
        Some(line) => format!(
            "first line {line:?} is neither a JSON review or product nor a ratings CSV row; \
             give the format explicitly ({})",
            Format::ALL.map(Format::name).join(", ")
        ),
    }))
}

/// The start of a line, for messages.
fn preview(line: &[u8]) -> String {
    const PREVIEW: usize = 80;
    let text = String::from_utf8_lossy(&line[..line.len().min(PREVIEW)]);
    if line.len() > PREVIEW {
        format!("{text}…")
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>().unwrap(), format);
        }
        assert_eq!("Kaggle-CSV".parse::<Format>().unwrap(), Format::KaggleCsv);
        let error = "json".parse::<Format>().unwrap_err().to_string();
        assert!(
            error.contains("reviews, metadata, ratings-csv, kaggle-csv"),
            "{error}"
        );
    }

    #[test]
    fn sniffs_each_format_from_one_line() {
        let review = br#"{"reviewerID": "A1", "asin": "B1", "overall": 5.0}"#;
        let product = br#"{"category": [], "title": "x", "asin": "B1"}"#;
        assert_eq!(sniff_line(review), Some(Format::ReviewsJson));
        assert_eq!(sniff_line(product), Some(Format::MetadataJson));
        assert_eq!(
            sniff_line(b"UserId,ProductId,Rating,Timestamp,"),
            Some(Format::KaggleCsv)
        );
        assert_eq!(
            sniff_line(b"B00005N7P0,AH2IFH762VY5U,5.0,1005177600"),
            Some(Format::RatingsCsv)
        );
        assert_eq!(sniff_line(b"A1,B1,5,1005177600,"), Some(Format::RatingsCsv));
    }

    #[test]
    fn sniffs_nothing_from_other_lines() {
        assert_eq!(sniff_line(b"1 2 3 4"), None);
        assert_eq!(sniff_line(b"[1, 2]"), None);
        assert_eq!(sniff_line(br#"{"user": "A1"}"#), None);
        assert_eq!(sniff_line(b"a,b,five,1005177600"), None);
        assert_eq!(sniff_line(b"a,b,5,yesterday"), None);
        assert_eq!(sniff_line(b"a,b,5"), None);
    }

    fn write(dir: &Path, name: &str, content: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(content)
            .unwrap();
        path
    }

    #[test]
    fn detects_past_blank_and_malformed_first_lines() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"\n\n{not json\n{\"reviewerID\": \"A\", \"asin\": \"B\"}\n";
        let path = write(dir.path(), "r.json", content);
        assert_eq!(detect_format(&path).unwrap(), Format::ReviewsJson);
    }

    #[test]
    fn detects_gzip_content() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"UserId,ProductId,Rating,Timestamp\r\nA,B,5,1\r\n")
            .unwrap();
        let path = write(dir.path(), "ratings.txt", &gz.finish().unwrap());
        assert_eq!(detect_format(&path).unwrap(), Format::KaggleCsv);
    }

    #[test]
    fn unknown_format_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "seq.txt", b"1 2 3 4 5\n2 6 7\n");
        let error = detect_format(&path).unwrap_err();
        assert!(matches!(error, DatasetError::UnknownFormat { .. }));
        let message = error.to_string();
        assert!(message.contains("seq.txt"), "{message}");
        assert!(message.contains("1 2 3 4 5"), "{message}");

        let empty = write(dir.path(), "empty.json", b"\n\n");
        let message = detect_format(&empty).unwrap_err().to_string();
        assert!(
            message.contains("empty.json") && message.contains("no non-empty line"),
            "{message}"
        );
    }
}
