//! [`RecordReader`]: streaming the records of one file.

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::attributes;
use super::datamaps;
use super::error::Result;
use super::format::{detect_format, Format};
use super::input::{self, LineReader};
use super::parse;
use super::problem::Problem;
use super::record::Record;

/// Streams the records of one dataset file, gzip or plain, in constant memory.
///
/// Each item is a record with its 1-based line number, or a [`Problem`] for
/// a line that could not be read; malformed lines never stop the iteration.
/// A truncated or corrupt gzip stream gives one last problem for the
/// unreadable rest. Blank lines and CSV headers yield nothing.
///
/// A sequence or pairs line gives a [`Record::Sequence`]. The JSON-document
/// formats are read whole when the reader is created: an `item2attributes`
/// file gives a [`Record::Attributes`] per item, a `datamaps.json` one
/// [`Record::Datamaps`] (on line 1), each followed by the problems met.
///
/// ```no_run
/// use recsys::dataset::{Record, RecordReader};
///
/// let reader = RecordReader::open("reviews_Musical_Instruments_5.json.gz", None)?;
/// for item in reader {
///     match item {
///         Ok((_line, Record::Review(review))) => println!("{} rated {}", review.user, review.asin),
///         Ok((_line, Record::Product(product))) => println!("product {}", product.asin),
///         Ok((_line, other)) => println!("{other:?}"), // sequence files, attributes, id maps
///         Err(problem) => eprintln!("skipped {problem}"),
///     }
/// }
/// # Ok::<(), recsys::dataset::DatasetError>(())
/// ```
pub struct RecordReader {
    path: PathBuf,
    format: Format,
    source: Source,
    records: u64,
    malformed: u64,
    repaired: u64,
    refuse: Option<fn(&Record) -> Option<String>>,
}

impl RecordReader {
    /// Opens `path`, detecting its format unless `format` is given.
    ///
    /// # Errors
    ///
    /// If the file cannot be opened, or its format is not given and cannot be detected.
    pub fn open(path: impl AsRef<Path>, format: Option<Format>) -> Result<Self> {
        let path = path.as_ref();
        let format = match format {
            Some(format) => format,
            None => detect_format(path)?,
        };
        Ok(Self::from_reader(path, format, input::open(path)?))
    }

    /// Reads already-opened, uncompressed input; `name` is used in problems.
    pub fn from_reader(
        name: impl Into<PathBuf>,
        format: Format,
        input: impl BufRead + Send + 'static,
    ) -> Self {
        let path = name.into();
        let source = match format {
            Format::Item2Attributes => {
                let file = attributes::read(&path, input);
                let items = file.entries.into_iter().map(|entry| {
                    entry.map(|(line, attributes)| (line, Record::Attributes(attributes)))
                });
                Source::Document {
                    items: items.collect::<Vec<_>>().into_iter(),
                    lines: file.lines,
                }
            }
            Format::Datamaps => {
                let file = datamaps::read(&path, input);
                let maps = std::iter::once(Ok((1, Record::Datamaps(file.maps))));
                Source::Document {
                    items: maps
                        .chain(file.problems.into_iter().map(Err))
                        .collect::<Vec<_>>()
                        .into_iter(),
                    lines: file.lines,
                }
            }
            _ => Source::Lines(LineReader::new(Box::new(input))),
        };
        Self {
            path,
            format,
            source,
            records: 0,
            malformed: 0,
            repaired: 0,
            refuse: None,
        }
    }

    /// Also refuses the records of a line format for which `check` gives a reason: each
    /// becomes a [`Problem`] with that reason and its line as read, as a line that does not
    /// parse does. For a reader with rules of its own (`recsys ingest` refuses ids that would
    /// make its `_id`s ambiguous).
    pub fn refusing(mut self, check: fn(&Record) -> Option<String>) -> Self {
        self.refuse = Some(check);
        self
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Lines read so far, blank ones included (for a JSON document, all its lines).
    pub fn lines(&self) -> u64 {
        match &self.source {
            Source::Lines(lines) => lines.lines(),
            Source::Document { lines, .. } => *lines,
        }
    }

    /// Records yielded so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Problems yielded so far.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Records yielded so far that needed a documented repair (a timestamp
    /// taken from `reviewTime`, leading zeros restored to an ASIN).
    pub fn repaired(&self) -> u64 {
        self.repaired
    }
}

impl Iterator for RecordReader {
    type Item = std::result::Result<(u64, Record), Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        let lines = match &mut self.source {
            Source::Lines(lines) => lines,
            Source::Document { items, .. } => {
                let item = items.next()?;
                match item {
                    Ok(_) => self.records += 1,
                    Err(_) => self.malformed += 1,
                }
                return Some(item);
            }
        };
        loop {
            let (number, line) = match lines.next()?.into_line(&self.path) {
                Ok(line) => line,
                Err(problem) => {
                    self.malformed += 1;
                    return Some(Err(problem));
                }
            };
            if parse::is_header(self.format, number, line) {
                continue;
            }
            let refused = |(record, repaired)| match self.refuse.and_then(|check| check(&record)) {
                Some(reason) => Err(reason),
                None => Ok(Some((record, repaired))),
            };
            match parse::record(self.format, line)
                .and_then(|parsed| parsed.map_or(Ok(None), refused))
            {
                Ok(None) => continue,
                Ok(Some((record, repaired))) => {
                    self.records += 1;
                    self.repaired += u64::from(repaired);
                    return Some(Ok((number, record)));
                }
                Err(reason) => {
                    self.malformed += 1;
                    let len = line.len() as u64;
                    return Some(Err(Problem::new(&self.path, number, reason, line, len)));
                }
            }
        }
    }
}

/// Where the records come from.
enum Source {
    /// A line format, read as it goes.
    Lines(LineReader<Box<dyn BufRead + Send>>),
    /// A JSON document, read whole.
    Document {
        items: std::vec::IntoIter<std::result::Result<(u64, Record), Problem>>,
        lines: u64,
    },
}

impl fmt::Debug for RecordReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordReader")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("lines", &self.lines())
            .field("records", &self.records)
            .field("malformed", &self.malformed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::DatasetError;
    use std::io::Write;

    fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn gzip(content: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(content).unwrap();
        encoder.finish().unwrap()
    }

    fn review(record: Record) -> crate::dataset::Review {
        match record {
            Record::Review(review) => review,
            other => panic!("expected a review, got {other:?}"),
        }
    }

    #[test]
    fn reads_gzipped_2014_reviews() {
        let dir = tempfile::tempdir().unwrap();
        let lines = concat!(
            r#"{"reviewerID": "A1", "asin": "0000031887", "reviewerName": "x", "helpful": [0, 0], "reviewText": "t", "overall": 5.0, "summary": "s", "unixReviewTime": 1393545600, "reviewTime": "02 28, 2014"}"#,
            "\n",
            r#"{"reviewerID": "A2", "asin": "0000031887", "helpful": [1, 2], "reviewText": "", "overall": 2.0, "summary": "s", "unixReviewTime": 1363392000, "reviewTime": "03 16, 2013"}"#,
            "\n"
        );
        let path = write(dir.path(), "reviews.json.gz", &gzip(lines.as_bytes()));
        let mut reader = RecordReader::open(&path, None).unwrap();
        assert_eq!(reader.format(), Format::ReviewsJson);
        let (line, first) = reader.next().unwrap().unwrap();
        assert_eq!(line, 1);
        let first = review(first);
        assert_eq!(
            (first.user.as_str(), first.asin.as_str()),
            ("A1", "0000031887")
        );
        let (line, second) = reader.next().unwrap().unwrap();
        let second = review(second);
        assert_eq!(
            (line, second.helpful, second.text, second.reviewer_name),
            (2, Some((1, 2)), None, None)
        );
        assert!(reader.next().is_none());
        assert_eq!(
            (reader.lines(), reader.records(), reader.malformed()),
            (2, 2, 0)
        );
    }

    #[test]
    fn reads_2018_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let line = br#"{"category": ["Magazine Subscriptions"], "description": ["MAXIMUM PC &amp; more", "Designed for <i>Maximum PC</i>"], "title": "<span class=\"a-size-medium a-color-secondary\"", "also_buy": [], "brand": "Future US, Inc.", "rank": "742 in Magazine Subscriptions (", "also_view": [], "main_cat": "Magazine Subscriptions", "price": "", "asin": "B00005N7P0"}"#;
        let path = write(dir.path(), "meta.json", line);
        let records: Vec<_> = RecordReader::open(&path, None).unwrap().collect();
        let [Ok((1, Record::Product(product)))] = &records[..] else {
            panic!("expected one product, got {records:?}");
        };
        assert_eq!(product.asin, "B00005N7P0");
        assert_eq!(product.title, None);
        assert_eq!(product.brand.as_deref(), Some("Future US, Inc."));
        assert_eq!(
            product.description.as_deref(),
            Some("MAXIMUM PC & more\nDesigned for Maximum PC")
        );
        assert_eq!((product.price, product.price_raw.as_deref()), (None, None));
        assert_eq!(
            product.rank,
            Some((742, Some("Magazine Subscriptions".into())))
        );
    }

    #[test]
    fn reads_ratings_csv_and_kaggle_csv() {
        let dir = tempfile::tempdir().unwrap();
        let ratings = write(
            dir.path(),
            "r.csv",
            b"B00005N7P0,AH2IFH762VY5U,5.0,1005177600\nB00005N7OJ,A3JPFWKS83R49V,3.0,1174694400\n",
        );
        let reviews: Vec<_> = RecordReader::open(&ratings, None)
            .unwrap()
            .map(|r| review(r.unwrap().1))
            .collect();
        assert_eq!(reviews.len(), 2);
        assert_eq!(
            (reviews[1].user.as_str(), reviews[1].asin.as_str()),
            ("A3JPFWKS83R49V", "B00005N7OJ")
        );
        assert_eq!(reviews[1].text, None);

        let kaggle = write(dir.path(), "k.csv", b"UserId,ProductId,Rating,Timestamp,\r\nA39HTATAQ9V7YF,205616461,5,1369699200,\r\nA1,B00007M0CP,1,1300665600,\r\n");
        let mut reader = RecordReader::open(&kaggle, None).unwrap();
        assert_eq!(reader.format(), Format::KaggleCsv);
        let lines: Vec<_> = reader.by_ref().map(|r| r.unwrap()).collect();
        assert_eq!(
            lines.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            [2, 3]
        );
        assert_eq!(review(lines[0].1.clone()).asin, "0205616461");
        assert_eq!((reader.records(), reader.repaired()), (2, 1));
    }

    #[test]
    fn every_malformed_line_is_a_problem_with_its_line_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let content = concat!(
            r#"{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1}"#,
            "\n",
            "not json at all\n",
            r#"[{"reviewerID": "A1", "asin": "B1", "overall": 5.0}]"#,
            "\n",
            "\n",
            r#"{"reviewerID": "A2", "overall": 5.0, "unixReviewTime": 1}"#,
            "\n",
            r#"{"reviewerID": "A3", "asin": "B1", "overall": 7, "unixReviewTime": 1}"#,
            "\n",
            r#"{"reviewerID": "A4", "asin": "B1", "overall": "five", "unixReviewTime": 1}"#,
            "\n",
            r#"{"reviewerID": "A5", "asin": "B1", "overall": 4, "unixReviewTime": "noon"}"#,
            "\n",
            r#"{"reviewerID": "A6", "asin": "B1", "overall": 4, "reviewTime": "01 2, 2003"}"#,
            "\n",
        );
        let path = write(dir.path(), "mixed.json", content.as_bytes());
        let mut reader = RecordReader::open(&path, None).unwrap();
        let items: Vec<_> = reader.by_ref().collect();
        let problems: Vec<(u64, &str)> = items
            .iter()
            .filter_map(|item| item.as_ref().err())
            .map(|p| (p.line, p.reason.as_str()))
            .collect();
        assert_eq!(problems.len(), 6);
        assert!(problems[0].0 == 2 && problems[0].1.starts_with("not JSON"));
        assert_eq!(problems[1], (3, "JSON but not an object (an array)"));
        assert_eq!(problems[2], (5, "missing field `asin`"));
        assert_eq!(problems[3], (6, "rating 7 out of range 1..=5"));
        assert_eq!(problems[4], (7, "rating not a number: \"five\""));
        assert!(problems[5].0 == 8 && problems[5].1.starts_with("bad timestamp"));
        let problem = items[1].as_ref().unwrap_err();
        assert_eq!(
            (problem.file.as_path(), problem.raw.as_str()),
            (path.as_path(), "not json at all")
        );
        let (line, last) = items.last().unwrap().clone().unwrap();
        assert_eq!((line, review(last).timestamp), (9, 1_041_465_600));
        assert_eq!(
            (
                reader.lines(),
                reader.records(),
                reader.malformed(),
                reader.repaired()
            ),
            (9, 2, 6, 1)
        );
    }

    #[test]
    fn truncated_gzip_ends_with_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let mut content = Vec::new();
        for i in 0..20_000 {
            let line = format!(
                r#"{{"reviewerID": "A{i}", "asin": "B{}", "overall": 4.0, "unixReviewTime": {i}}}"#,
                i % 97
            );
            content.extend_from_slice(line.as_bytes());
            content.push(b'\n');
        }
        let gz = gzip(&content);
        let path = write(dir.path(), "cut.json.gz", &gz[..gz.len() / 2]);
        let items: Vec<_> = RecordReader::open(&path, None).unwrap().collect();
        let (last, good) = items.split_last().unwrap();
        assert!(good.len() > 1_000 && good.len() < 20_000, "{}", good.len());
        assert!(good.iter().all(|item| item.is_ok()));
        let problem = last.as_ref().unwrap_err();
        assert_eq!(problem.line, good.len() as u64 + 1);
        assert!(
            problem
                .reason
                .starts_with("input unreadable from this line on"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn corrupt_gzip_ends_with_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = gzip(
            b"{\"reviewerID\": \"A\", \"asin\": \"B\", \"overall\": 1, \"unixReviewTime\": 1}\n",
        );
        let middle = gz.len() / 2;
        gz[middle..].iter_mut().for_each(|b| *b = !*b);
        let path = write(dir.path(), "bad.gz", &gz);
        let items: Vec<_> = RecordReader::open(&path, Some(Format::ReviewsJson))
            .unwrap()
            .collect();
        assert!(items.last().unwrap().is_err());
    }

    #[test]
    fn a_five_megabyte_line_is_parsed_or_rejected_never_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let text = "lorem ipsum ".repeat((5 << 20) / 12);
        let mut content = format!(r#"{{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1, "reviewText": "{text}"}}"#).into_bytes();
        content.push(b'\n');
        content.extend(std::iter::repeat_n(b'x', 5 << 20));
        content.extend_from_slice(b"\n{\"reviewerID\": \"A2\", \"asin\": \"B1\", \"overall\": 4.0, \"unixReviewTime\": 2}\n");
        let path = write(dir.path(), "big.json", &content);
        let items: Vec<_> = RecordReader::open(&path, None).unwrap().collect();
        assert_eq!(items.len(), 3);
        let (_, big) = items[0].clone().unwrap();
        assert_eq!(review(big).text.unwrap().len(), text.len());
        let problem = items[1].as_ref().unwrap_err();
        assert_eq!(problem.line, 2);
        assert!(problem.reason.starts_with("not JSON"));
        assert!(problem.raw.len() < crate::dataset::MAX_RAW + 100);
        assert!(problem
            .raw
            .ends_with(&format!("[truncated, {} bytes in all]", 5 << 20)));
        assert!(items[2].is_ok());
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_in_bounded_memory() {
        let mut content = vec![b'{'; input::MAX_LINE + 1];
        content.extend_from_slice(b"\n{\"reviewerID\": \"A2\", \"asin\": \"B1\", \"overall\": 4.0, \"unixReviewTime\": 2}\n");
        let reader = RecordReader::from_reader(
            "huge.json",
            Format::ReviewsJson,
            std::io::Cursor::new(content),
        );
        let items: Vec<_> = reader.collect();
        let problem = items[0].as_ref().unwrap_err();
        assert!(
            problem.reason.contains("longer than the limit"),
            "{}",
            problem.reason
        );
        assert!(items[1].is_ok());
    }

    #[test]
    fn an_explicit_format_overrides_detection() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "r.csv", b"B1,A1,5.0,1\n");
        let mut reader = RecordReader::open(&path, Some(Format::KaggleCsv)).unwrap();
        assert_eq!(reader.format(), Format::KaggleCsv);
        let review = review(reader.next().unwrap().unwrap().1);
        assert_eq!((review.user.as_str(), review.asin.as_str()), ("B1", "A1"));
    }

    #[test]
    fn an_unknown_format_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "Beauty.txt", b"A1 B1 B2\nA2 B3\n");
        let error = RecordReader::open(&path, None).unwrap_err();
        assert!(matches!(error, DatasetError::UnknownFormat { .. }));
        assert!(error.to_string().contains("Beauty.txt"), "{error}");
    }

    #[test]
    fn reads_sequence_and_pairs_lines() {
        use crate::dataset::Sequence;
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "Beauty.txt", &gzip(b"1 1 2 3\n2 4 x\n\n3 2\n"));
        let mut reader = RecordReader::open(&path, None).unwrap();
        assert_eq!(reader.format(), Format::Sequence);
        let items: Vec<_> = reader.by_ref().collect();
        assert_eq!(
            items[0],
            Ok((
                1,
                Record::Sequence(Sequence {
                    user: 1,
                    items: vec![1, 2, 3]
                })
            ))
        );
        let problem = items[1].as_ref().unwrap_err();
        assert_eq!((problem.line, problem.raw.as_str()), (2, "2 4 x"));
        assert_eq!(
            items[2],
            Ok((
                4,
                Record::Sequence(Sequence {
                    user: 3,
                    items: vec![2]
                })
            ))
        );
        assert_eq!(
            (reader.lines(), reader.records(), reader.malformed()),
            (4, 2, 1)
        );

        let path = write(dir.path(), "Video.txt", b"1 6393\n1 13504 7\n");
        let items: Vec<_> = RecordReader::open(&path, Some(Format::Pairs))
            .unwrap()
            .collect();
        assert!(matches!(&items[0], Ok((1, Record::Sequence(s))) if s.items == [6393]));
        assert_eq!(
            items[1].as_ref().unwrap_err().reason,
            "3 fields, expected 2 (user item)"
        );
    }

    #[test]
    fn reads_json_documents_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "attributes.json",
            br#"{"4": [1, 2], "x": [3], "5": [3]}"#,
        );
        let mut reader = RecordReader::open(&path, None).unwrap();
        assert_eq!(reader.format(), Format::Item2Attributes);
        let items: Vec<_> = reader.by_ref().collect();
        assert_eq!(items.len(), 3);
        assert!(
            matches!(&items[0], Ok((1, Record::Attributes(a))) if a.item == 4 && a.attributes == [1, 2])
        );
        assert!(items[1].is_err());
        assert_eq!(
            (reader.lines(), reader.records(), reader.malformed()),
            (1, 2, 1)
        );

        let path = write(
            dir.path(),
            "datamaps.json",
            b"{\n\"id2item\": {\"1\": \"B004756YJA\"},\n\"id2user\": {\"1\": 5}\n}\n",
        );
        let items: Vec<_> = RecordReader::open(&path, None).unwrap().collect();
        let Ok((1, Record::Datamaps(maps))) = &items[0] else {
            panic!("{items:?}");
        };
        assert_eq!(maps.items[&1], "B004756YJA");
        assert_eq!(items[1].as_ref().unwrap_err().line, 3);
    }

    #[test]
    fn a_ratings_header_is_skipped_on_the_first_line_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "ratings.csv",
            b"item,user,rating,timestamp\nB1,A1,5,1369699200\nitem,user,rating,timestamp\n",
        );
        let mut reader = RecordReader::open(&path, None).unwrap();
        assert_eq!(reader.format(), Format::RatingsCsv);
        let items: Vec<_> = reader.by_ref().collect();
        assert!(matches!(&items[0], Ok((2, Record::Review(r))) if r.user == "A1"));
        let problem = items[1].as_ref().unwrap_err();
        assert_eq!(problem.line, 3);
        assert!(
            problem.reason.starts_with("rating not a number"),
            "{problem}"
        );
        assert_eq!((reader.records(), reader.malformed()), (1, 1));
        let dataset = crate::dataset::Dataset::read(&[path], None).unwrap();
        assert_eq!(dataset.interactions.len(), 1);
        assert_eq!(dataset.report.problem_count(), 1);
    }

    #[test]
    fn a_refusing_reader_keeps_the_refused_line_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "r.csv",
            b"B1,A1,5,1369699200\nB2,A2,4,1369699200\n",
        );
        let refuse_a2 = |record: &Record| match record {
            Record::Review(review) if review.user == "A2" => Some("no A2 here".to_owned()),
            _ => None,
        };
        let mut reader = RecordReader::open(&path, None).unwrap().refusing(refuse_a2);
        let items: Vec<_> = reader.by_ref().collect();
        assert!(items[0].is_ok());
        let problem = items[1].as_ref().unwrap_err();
        assert_eq!(
            (problem.line, problem.reason.as_str(), problem.raw.as_str()),
            (2, "no A2 here", "B2,A2,4,1369699200")
        );
        assert_eq!((reader.records(), reader.malformed()), (1, 1));
    }
}
