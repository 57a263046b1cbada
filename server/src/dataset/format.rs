//! The file formats the reader understands, and their detection.

use std::fmt;
use std::io::{self, BufRead};
use std::path::Path;
use std::str::FromStr;

use super::csv;
use super::error::{DatasetError, Result};
use super::fields;
use super::input::{self, LineEvent, LineReader};
use super::json::{self, JsonKind};
use super::jsondoc;
use super::sequence;

/// How many non-empty lines detection looks at before giving up: the first
/// recognisable one decides, so one malformed first line does not hide the
/// format. Lines of integers are all looked at, to tell sequences from pairs.
const SNIFF_LINES: usize = 16;

/// A dataset file format.
///
/// New formats are added as new variants, with a name in [`Format::ALL`] and
/// a case in detection.
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
    /// S3-Rec / P5 sequence per line: `user_id item_id item_id …`, numeric
    /// ids, items oldest first. Each item is an interaction with rating 1 and,
    /// as timestamp, its position in the user's sequence (0, 1, 2, …).
    Sequence,
    /// SASRec interaction per line: `user_id item_id`, numeric ids, each
    /// user's lines oldest first. The timestamp is the position within the user.
    Pairs,
    /// S3-Rec `item2attributes` JSON: `{"item_id": [attr_id, …]}`, item
    /// features for the items of a sequence file.
    Item2Attributes,
    /// P5 `datamaps.json`: the ASINs and reviewer ids behind the numeric ids
    /// of a sequence file (`id2item`, `id2user`, …), and attribute names.
    Datamaps,
}

impl Format {
    /// Every format, in the order of their names in messages.
    pub const ALL: [Format; 8] = [
        Format::ReviewsJson,
        Format::MetadataJson,
        Format::RatingsCsv,
        Format::KaggleCsv,
        Format::Sequence,
        Format::Pairs,
        Format::Item2Attributes,
        Format::Datamaps,
    ];

    /// The format's name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Format::ReviewsJson => "reviews",
            Format::MetadataJson => "metadata",
            Format::RatingsCsv => "ratings-csv",
            Format::KaggleCsv => "kaggle-csv",
            Format::Sequence => "seq",
            Format::Pairs => "pairs",
            Format::Item2Attributes => "item2attributes",
            Format::Datamaps => "datamaps",
        }
    }

    /// Whether the format holds interactions (as opposed to item metadata or id maps).
    pub fn has_interactions(self) -> bool {
        !matches!(
            self,
            Format::MetadataJson | Format::Item2Attributes | Format::Datamaps
        )
    }

    /// Whether a file of this format is one JSON document, read whole,
    /// rather than a sequence of lines.
    pub fn is_document(self) -> bool {
        matches!(self, Format::Item2Attributes | Format::Datamaps)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = DatasetError;

    /// Parses a format name, ignoring case: `reviews`, `metadata`,
    /// `ratings-csv`, `kaggle-csv`, `seq`, `pairs`, `item2attributes`, `datamaps`.
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

/// Detects the format of a file (gzip or plain) from its content.
///
/// * A file that is one JSON object is an `item2attributes` file if its first
///   entries map integer ids to lists of integers, a `datamaps.json` if it has
///   an `id2item` key.
/// * Otherwise the first non-empty lines decide: a JSON review or product, a
///   CSV header or row; or, if they are whitespace-separated integers, a
///   sequence file if any has more than 2, a pairs file if all have 2.
///
/// # Errors
///
/// [`DatasetError::Io`] if the file cannot be read, and
/// [`DatasetError::UnknownFormat`], naming the file, if it is empty or its
/// first lines match no format.
pub fn detect_format(path: &Path) -> Result<Format> {
    let io_error = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    if starts_with_brace(&mut input::open(path)?).map_err(io_error)? {
        if let Some(format) = jsondoc::sniff(input::open(path)?) {
            return Ok(format);
        }
    }
    let mut lines = LineReader::new(input::open(path)?);
    let mut first = None;
    // The most integers on a line of integers, if the lines seen so far are such lines.
    let mut integers: Option<usize> = None;
    let mut seen = 0;
    while seen < SNIFF_LINES {
        match lines.next() {
            None => break,
            Some(LineEvent::Line { bytes, .. }) if bytes.trim_ascii().is_empty() => continue,
            Some(LineEvent::Line { bytes, .. }) => {
                if let Some(count) = sequence::integer_tokens(bytes) {
                    integers = Some(integers.unwrap_or(0).max(count));
                } else if let Some(format) = sniff_line(bytes).filter(|_| integers.is_none()) {
                    return Ok(format);
                }
                first.get_or_insert_with(|| preview(bytes));
            }
            Some(LineEvent::TooLong { head, .. }) => {
                first.get_or_insert_with(|| preview(head));
            }
            Some(LineEvent::Failed { error, .. }) => return Err(io_error(error)),
        }
        seen += 1;
    }
    match integers {
        Some(2) => return Ok(Format::Pairs),
        Some(count) if count > 2 => return Ok(Format::Sequence),
        _ => {}
    }
    Err(DatasetError::UnknownFormat {
        path: path.to_path_buf(),
        reason: match first {
            None => "the file has no non-empty line".to_owned(),
            Some(line) => format!(
                "first line {line:?} matches no known format; give the format explicitly ({})",
                Format::ALL.map(Format::name).join(", ")
            ),
        },
    })
}

/// Whether the first byte that is not whitespace (or a byte-order mark) is `{`.
fn starts_with_brace(input: &mut impl BufRead) -> io::Result<bool> {
    let mut start = true;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut skip = 0;
        if start && buf.starts_with(b"\xef\xbb\xbf") {
            skip = 3;
        }
        start = false;
        match buf[skip..].iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return Ok(buf[skip + i] == b'{'),
            None if buf.is_empty() => return Ok(false),
            None => {
                let used = buf.len();
                input.consume(used);
            }
        }
    }
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
        assert_eq!(sniff_line(b"1 2 3 4"), None); // told by `detect_format`
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
        let path = write(dir.path(), "seq.txt", b"u1 i1 i2\n17\n");
        let error = detect_format(&path).unwrap_err();
        assert!(matches!(error, DatasetError::UnknownFormat { .. }));
        let message = error.to_string();
        assert!(message.contains("seq.txt"), "{message}");
        assert!(message.contains("u1 i1 i2"), "{message}");
        assert!(
            message.contains("seq, pairs, item2attributes, datamaps"),
            "{message}"
        );

        let empty = write(dir.path(), "empty.json", b"\n\n");
        let message = detect_format(&empty).unwrap_err().to_string();
        assert!(
            message.contains("empty.json") && message.contains("no non-empty line"),
            "{message}"
        );
        let other = write(dir.path(), "other.json", br#"{"users": {"1": "A"}}"#);
        assert!(detect_format(&other).is_err());
    }

    #[test]
    fn new_names_parse() {
        for (name, format) in [
            ("seq", Format::Sequence),
            ("pairs", Format::Pairs),
            ("item2attributes", Format::Item2Attributes),
            ("Datamaps", Format::Datamaps),
        ] {
            assert_eq!(name.parse::<Format>().unwrap(), format);
        }
        assert!(Format::Sequence.has_interactions() && Format::Pairs.has_interactions());
        assert!(
            !Format::Item2Attributes.has_interactions() && !Format::Datamaps.has_interactions()
        );
        assert!(Format::Datamaps.is_document() && !Format::Sequence.is_document());
    }

    #[test]
    fn integer_lines_are_sequences_or_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let detect = |name: &str, content: &[u8]| detect_format(&write(dir.path(), name, content));
        assert_eq!(
            detect("s.txt", b"1 1 2 3 4 5\n2 6 7\n").unwrap(),
            Format::Sequence
        );
        // CRLF (the P5 Beauty copy), tabs, a blank first line.
        assert_eq!(
            detect("s.txt", b"\r\n1\t1 2 3\r\n").unwrap(),
            Format::Sequence
        );
        assert_eq!(
            detect("p.txt", b"1 6393\n1 13504\n2 7\n").unwrap(),
            Format::Pairs
        );
        // Any line with more than 2 integers, even after pairs-like lines, makes a sequence file.
        assert_eq!(
            detect("s.txt", b"1 5\n2 6\n3 7 8\n").unwrap(),
            Format::Sequence
        );
        // A malformed line among them does not hide the format.
        assert_eq!(detect("p.txt", b"1 x\n1 2\n").unwrap(), Format::Pairs);
        assert_eq!(detect("p.txt", b"17\n1 2\n").unwrap(), Format::Pairs);
        // Only users without items: nothing to tell.
        assert!(detect("u.txt", b"1\n2\n").is_err());
        // Comma-separated integers are a ratings CSV.
        assert_eq!(detect("c.csv", b"1,2,5,100\n").unwrap(), Format::RatingsCsv);
    }

    #[test]
    fn json_documents_are_item2attributes_or_datamaps() {
        let dir = tempfile::tempdir().unwrap();
        let detect = |name: &str, content: &[u8]| detect_format(&write(dir.path(), name, content));
        let attributes = br#"{"4": [1, 2, 3], "83": [4, 5, 6], "165": [7, 8, 9, 10]}"#;
        assert_eq!(
            detect("a.json", attributes).unwrap(),
            Format::Item2Attributes
        );
        let datamaps = br#"{"user2id": {"A1": "1"}, "item2id": {"B1": "1"}, "id2user": {"1": "A1"}, "id2item": {"1": "B1"}}"#;
        assert_eq!(detect("d.json", datamaps).unwrap(), Format::Datamaps);
        let pretty = b"\xef\xbb\xbf\n{\n    \"id2user\": {\n        \"1\": \"A\"\n    },\n    \"id2item\": {\n        \"1\": \"B\"\n    }\n}";
        assert_eq!(detect("d.json", pretty).unwrap(), Format::Datamaps);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(attributes).unwrap();
        assert_eq!(
            detect("a.gz", &gz.finish().unwrap()).unwrap(),
            Format::Item2Attributes
        );
        // Review lines start with a brace too.
        let review =
            b"{\"reviewerID\": \"A\", \"asin\": \"B\"}\n{\"reviewerID\": \"C\", \"asin\": \"B\"}\n";
        assert_eq!(detect("r.json", review).unwrap(), Format::ReviewsJson);
    }
}
