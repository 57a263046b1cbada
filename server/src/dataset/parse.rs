//! Turning one line into a record, whatever its format.

use std::borrow::Cow;

use super::csv;
use super::format::Format;
use super::json::{self, ProductLine};
use super::record::{Record, Review};
use super::sequence;

/// The fields of an interaction, borrowed from the line where possible.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rating<'a> {
    pub(crate) user: Cow<'a, str>,
    pub(crate) item: Cow<'a, str>,
    pub(crate) rating: f32,
    pub(crate) timestamp: i64,
    /// Whether a documented repair was needed (a timestamp taken from
    /// `reviewTime`, zeros restored to a mangled ASIN).
    pub(crate) repaired: bool,
}

/// A line's outcome: `Ok(None)` for a line with nothing to read (blank, or a
/// header), `Err` with the reason for a malformed one.
pub(crate) type Parsed<T> = Result<Option<T>, String>;

/// Whether a line holds nothing but whitespace.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.trim_ascii().is_empty()
}

/// Whether line `number` of a file of `format` is a header to skip: the first line of a
/// ratings CSV may name its columns, `item,user,rating,timestamp`. (A Kaggle header,
/// `UserId,ProductId,…`, is recognised on any line by [`csv::parse_kaggle_row`].)
pub(crate) fn is_header(format: Format, number: u64, line: &[u8]) -> bool {
    number == 1 && format == Format::RatingsCsv && csv::is_ratings_header(line)
}

/// Parses an interaction line of a rating format (reviews or CSV).
///
/// # Panics
///
/// If `format` is not one: metadata and JSON documents hold no interactions,
/// and a sequence line holds several (see [`sequence::parse_line`]).
pub(crate) fn rating(format: Format, line: &[u8]) -> Parsed<Rating<'_>> {
    if is_blank(line) {
        return Ok(None);
    }
    match format {
        Format::ReviewsJson => json::parse_rating(line).map(Some),
        Format::RatingsCsv => csv::parse_ratings_row(line).map(Some),
        Format::KaggleCsv => csv::parse_kaggle_row(line),
        Format::MetadataJson
        | Format::Sequence
        | Format::Pairs
        | Format::Item2Attributes
        | Format::Datamaps => panic!("{format} lines are not rating lines"),
    }
}

/// Parses any line of a line format into a full record; the flag tells
/// whether it was repaired. JSON documents are not read line by line: their
/// lines are rejected.
pub(crate) fn record(format: Format, line: &[u8]) -> Parsed<(Record, bool)> {
    if is_blank(line) {
        return Ok(None);
    }
    match format {
        Format::ReviewsJson => json::parse_review(line)
            .map(|(review, repaired)| Some((Record::Review(review), repaired))),
        Format::MetadataJson => ProductLine::parse(line)
            .map(|product| Some((Record::Product(product.product()), false))),
        Format::RatingsCsv | Format::KaggleCsv => Ok(rating(format, line)?.map(|rating| {
            let review = Review::rating(
                rating.user.into_owned(),
                rating.item.into_owned(),
                rating.rating,
                rating.timestamp,
            );
            (Record::Review(review), rating.repaired)
        })),
        Format::Sequence | Format::Pairs => {
            Ok(sequence::parse_line(format, line)?
                .map(|sequence| (Record::Sequence(sequence), false)))
        }
        Format::Item2Attributes | Format::Datamaps => Err(format!(
            "{format} files are read as one JSON document, not line by line"
        )),
    }
}
