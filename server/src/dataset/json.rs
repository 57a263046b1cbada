//! Parsing JSON-lines reviews (2014 and 2018) and 2018 product metadata.
//!
//! Lines are deserialized into borrowed structs: strings without escapes are
//! not copied, and fields that are not needed are skipped by serde without
//! being built. Every field is read leniently (as a [`Scalar`] or a
//! [`StrList`]) and checked afterwards, so a wrong type is reported with the
//! field's name instead of failing the whole line with a generic serde error.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::fields;
use super::html;
use super::parse::Rating;
use super::record::{ItemMeta, Product, Review};

/// A JSON value read without allocating for nested containers: strings are
/// kept (borrowed where possible), arrays and objects only noted.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Array,
    Object,
}

impl Scalar<'_> {
    /// The value's JSON type, for messages ("a number").
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "a string",
            Scalar::Int(_) | Scalar::Float(_) => "a number",
            Scalar::Bool(_) => "a boolean",
            Scalar::Null => "null",
            Scalar::Array => "an array",
            Scalar::Object => "an object",
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

/// The strings of a field that should be a list of strings. A lone string
/// counts as a one-element list; other values and non-string elements are ignored.
#[derive(Debug, Default, Clone, PartialEq)]
struct StrList<'a>(Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for StrList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrListVisitor)
    }
}

struct StrListVisitor;

impl<'de> Visitor<'de> for StrListVisitor {
    type Value = StrList<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Scalar<'de>>()? {
            if let Scalar::Str(s) = item {
                items.push(s);
            }
        }
        Ok(StrList(items))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(StrList(vec![Cow::Borrowed(v)]))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(StrList(vec![Cow::Owned(v.to_owned())]))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(StrList::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
}

/// The 2014 `helpful: [helpful_votes, total_votes]` pair; any other value gives `None`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HelpfulPair(Option<(u32, u32)>);

impl<'de> Deserialize<'de> for HelpfulPair {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HelpfulVisitor)
    }
}

struct HelpfulVisitor;

impl<'de> Visitor<'de> for HelpfulVisitor {
    type Value = HelpfulPair;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pair of vote counts")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut counts = [None; 2];
        let mut len = 0;
        while let Some(item) = seq.next_element::<Scalar<'de>>()? {
            if let (Some(slot), Scalar::Int(v)) = (counts.get_mut(len), item) {
                *slot = u32::try_from(v).ok();
            }
            len += 1;
        }
        Ok(HelpfulPair(match (len, counts) {
            (2, [Some(helpful), Some(total)]) => Some((helpful, total)),
            _ => None,
        }))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(HelpfulPair(None))
    }
    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
        Ok(HelpfulPair(None))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(HelpfulPair(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(HelpfulPair(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(HelpfulPair(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(HelpfulPair(None))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(HelpfulPair(None))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(HelpfulPair(None))
    }
}

/// The fields of a review line needed for an interaction.
#[derive(Deserialize)]
struct ReviewKeys<'a> {
    #[serde(rename = "reviewerID", borrow)]
    user: Option<Scalar<'a>>,
    #[serde(borrow)]
    asin: Option<Scalar<'a>>,
    #[serde(borrow)]
    overall: Option<Scalar<'a>>,
    #[serde(rename = "unixReviewTime", borrow)]
    unix_time: Option<Scalar<'a>>,
    #[serde(rename = "reviewTime", borrow)]
    date: Option<Scalar<'a>>,
}

/// Every field of a review line that a [`Review`] keeps.
#[derive(Deserialize)]
struct ReviewLine<'a> {
    #[serde(rename = "reviewerID", borrow)]
    user: Option<Scalar<'a>>,
    #[serde(borrow)]
    asin: Option<Scalar<'a>>,
    #[serde(borrow)]
    overall: Option<Scalar<'a>>,
    #[serde(rename = "unixReviewTime", borrow)]
    unix_time: Option<Scalar<'a>>,
    #[serde(rename = "reviewTime", borrow)]
    date: Option<Scalar<'a>>,
    #[serde(borrow)]
    verified: Option<Scalar<'a>>,
    #[serde(borrow)]
    vote: Option<Scalar<'a>>,
    helpful: Option<HelpfulPair>,
    #[serde(rename = "reviewText", borrow)]
    text: Option<Scalar<'a>>,
    #[serde(borrow)]
    summary: Option<Scalar<'a>>,
    #[serde(rename = "reviewerName", borrow)]
    reviewer_name: Option<Scalar<'a>>,
}

/// The fields of a 2018 metadata line that a [`Product`] keeps.
#[derive(Deserialize)]
pub(crate) struct ProductLine<'a> {
    #[serde(borrow)]
    asin: Option<Scalar<'a>>,
    #[serde(borrow)]
    title: Option<Scalar<'a>>,
    #[serde(borrow)]
    brand: Option<Scalar<'a>>,
    #[serde(borrow)]
    category: Option<StrList<'a>>,
    #[serde(borrow)]
    description: Option<StrList<'a>>,
    #[serde(borrow)]
    also_buy: Option<StrList<'a>>,
    #[serde(borrow)]
    also_view: Option<StrList<'a>>,
    #[serde(borrow)]
    rank: Option<StrList<'a>>,
    #[serde(borrow)]
    main_cat: Option<Scalar<'a>>,
    #[serde(borrow)]
    price: Option<Scalar<'a>>,
}

/// The keys that tell a review line from a metadata line.
#[derive(Deserialize)]
struct SniffKeys {
    #[serde(rename = "reviewerID")]
    reviewer: Option<IgnoredAny>,
    asin: Option<IgnoredAny>,
}

/// What a JSON line holds, as far as format detection is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonKind {
    /// An object with `reviewerID`.
    Review,
    /// An object with `asin` but no `reviewerID`.
    Product,
    /// Something else.
    Other,
}

/// Classifies a line for format detection.
pub(crate) fn sniff(line: &[u8]) -> JsonKind {
    if line.trim_ascii_start().first() != Some(&b'{') {
        return JsonKind::Other;
    }
    match serde_json::from_slice::<SniffKeys>(line) {
        Ok(SniffKeys {
            reviewer: Some(_), ..
        }) => JsonKind::Review,
        Ok(SniffKeys { asin: Some(_), .. }) => JsonKind::Product,
        _ => JsonKind::Other,
    }
}

/// Deserializes one JSON object line, explaining failures. A line that is not UTF-8 is not
/// JSON, whichever field the bad bytes are in: every reader (evaluation, EDA, ingest) gives
/// it the same verdict, even those that skip the field.
fn from_line<'a, T: Deserialize<'a>>(line: &'a [u8]) -> Result<T, String> {
    // Validated once here, so serde_json reads it as text and does not check it again.
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("not UTF-8: invalid byte at offset {}", e.valid_up_to()))?;
    let first = line.trim_ascii_start().first().copied();
    if first != Some(b'{') {
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => format!("JSON but not an object ({})", json_kind(first)),
            Err(e) => format!("not JSON: {e}"),
        });
    }
    serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))
}

fn json_kind(first: Option<u8>) -> &'static str {
    match first {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// A required, non-empty string field.
fn required<'a>(value: Option<Scalar<'a>>, name: &str) -> Result<Cow<'a, str>, String> {
    match value {
        None | Some(Scalar::Null) => Err(format!("missing field `{name}`")),
        Some(Scalar::Str(s)) if s.trim().is_empty() => Err(format!("empty field `{name}`")),
        Some(Scalar::Str(s)) => Ok(s),
        Some(other) => Err(format!(
            "field `{name}` is {}, expected a string",
            other.kind()
        )),
    }
}

/// An optional string field; blank or non-string values are `None`.
fn optional<'a>(value: &'a Option<Scalar<'_>>) -> Option<&'a str> {
    value
        .as_ref()
        .and_then(Scalar::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Checks the fields shared by both review layouts.
fn rating_from<'a>(
    user: Option<Scalar<'a>>,
    asin: Option<Scalar<'a>>,
    overall: Option<Scalar<'_>>,
    unix_time: Option<Scalar<'_>>,
    date: Option<Scalar<'_>>,
) -> Result<Rating<'a>, String> {
    let user = required(user, "reviewerID")?;
    let item = required(asin, "asin")?;
    let rating = match overall {
        None | Some(Scalar::Null) => return Err("missing field `overall`".into()),
        Some(Scalar::Int(v)) => fields::rating(v as f64)?,
        Some(Scalar::Float(v)) => fields::rating(v)?,
        Some(Scalar::Str(s)) => fields::parse_rating(&s)?,
        Some(other) => return Err(format!("rating not a number: {}", other.kind())),
    };
    let unix = match unix_time {
        None | Some(Scalar::Null) => Err("missing field `unixReviewTime`".to_owned()),
        Some(Scalar::Int(v)) => fields::timestamp(v),
        Some(Scalar::Float(v)) => fields::timestamp_from_f64(v),
        Some(Scalar::Str(s)) => fields::parse_timestamp(&s),
        Some(other) => Err(format!(
            "bad timestamp: `unixReviewTime` is {}",
            other.kind()
        )),
    };
    // Without a usable unixReviewTime, the day in reviewTime is as precise (2014/2018 times are days).
    let (timestamp, repaired) = match unix {
        Ok(t) => (t, false),
        Err(reason) => match optional(&date).and_then(fields::parse_review_date) {
            Some(t) => (t, true),
            None => return Err(reason),
        },
    };
    Ok(Rating {
        user,
        item,
        rating,
        timestamp,
        repaired,
    })
}

/// Parses a review line into the fields of an interaction.
pub(crate) fn parse_rating(line: &[u8]) -> Result<Rating<'_>, String> {
    let keys: ReviewKeys<'_> = from_line(line)?;
    rating_from(
        keys.user,
        keys.asin,
        keys.overall,
        keys.unix_time,
        keys.date,
    )
}

/// Parses a review line into a full [`Review`]; the flag tells whether the
/// timestamp had to be taken from `reviewTime`.
pub(crate) fn parse_review(line: &[u8]) -> Result<(Review, bool), String> {
    let fields: ReviewLine<'_> = from_line(line)?;
    let verified = match fields.verified {
        Some(Scalar::Bool(b)) => Some(b),
        _ => None,
    };
    let votes = match &fields.vote {
        Some(Scalar::Int(v)) => u32::try_from(*v).ok(),
        Some(Scalar::Str(s)) => fields::parse_votes(s),
        _ => None,
    };
    let text = optional(&fields.text).and_then(html::clean_plain);
    let summary = optional(&fields.summary).and_then(html::clean_plain);
    let reviewer_name = optional(&fields.reviewer_name).and_then(html::clean_plain);
    let helpful = fields.helpful.and_then(|h| h.0);
    let rating = rating_from(
        fields.user,
        fields.asin,
        fields.overall,
        fields.unix_time,
        fields.date,
    )?;
    let review = Review {
        user: rating.user.into_owned(),
        asin: rating.item.into_owned(),
        rating: rating.rating,
        timestamp: rating.timestamp,
        verified,
        votes,
        helpful,
        text,
        summary,
        reviewer_name,
    };
    Ok((review, rating.repaired))
}

impl<'a> ProductLine<'a> {
    /// Parses a metadata line; only the ASIN is checked here.
    pub(crate) fn parse(line: &'a [u8]) -> Result<Self, String> {
        let mut product: Self = from_line(line)?;
        let asin = required(product.asin.take(), "asin")?;
        product.asin = Some(Scalar::Str(asin));
        Ok(product)
    }

    /// The product's ASIN (checked by [`ProductLine::parse`]).
    pub(crate) fn asin(&self) -> &str {
        optional(&self.asin).unwrap_or_default()
    }

    /// The cleaned fields that a dataset keeps for an item.
    pub(crate) fn item_meta(&self) -> ItemMeta {
        let price = optional(&self.price).and_then(fields::parse_price);
        ItemMeta {
            title: optional(&self.title).and_then(html::clean),
            brand: optional(&self.brand).and_then(html::clean),
            categories: clean_list(&self.category),
            description: paragraphs(&self.description),
            price,
        }
    }

    /// The cleaned product.
    pub(crate) fn product(&self) -> Product {
        let meta = self.item_meta();
        let rank = self
            .rank
            .as_ref()
            .and_then(|ranks| ranks.0.iter().find_map(|r| fields::parse_rank(r)));
        Product {
            asin: self.asin().to_owned(),
            title: meta.title,
            brand: meta.brand,
            categories: meta.categories,
            description: meta.description,
            price: meta.price,
            price_raw: optional(&self.price).map(|p| p.trim().to_owned()),
            also_buy: ids(&self.also_buy),
            also_view: ids(&self.also_view),
            main_cat: optional(&self.main_cat).and_then(html::clean_label),
            rank,
        }
    }
}

/// Cleans each string of a list, dropping those left blank.
fn clean_list(list: &Option<StrList<'_>>) -> Vec<String> {
    list.iter()
        .flat_map(|l| &l.0)
        .filter_map(|s| html::clean(s))
        .collect()
}

/// Cleans description paragraphs and joins them with newlines.
fn paragraphs(list: &Option<StrList<'_>>) -> Option<String> {
    let paragraphs = clean_list(list);
    (!paragraphs.is_empty()).then(|| paragraphs.join("\n"))
}

/// Trimmed, non-empty ids of a list.
fn ids(list: &Option<StrList<'_>>) -> Vec<String> {
    list.iter()
        .flat_map(|l| &l.0)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REVIEW_2014: &str = r#"{"reviewerID": "A2IBPI20UZIR0U", "asin": "1384719342", "reviewerName": "cassandra tu \"Yeah\"", "helpful": [13, 14], "reviewText": "Not much to write &#34;about&#34;", "overall": 5.0, "summary": "good", "unixReviewTime": 1393545600, "reviewTime": "02 28, 2014"}"#;
    const REVIEW_2018: &str = r#"{"overall": 4.0, "verified": true, "reviewTime": "06 14, 2018", "reviewerID": "A2MN5JQMIY0FQ2", "asin": "B004LLIKVU", "style": {"Gift Amount:": " 50"}, "reviewerName": "Amazon Customer", "reviewText": "Gift card for my daughter", "summary": "Ease of use", "unixReviewTime": 1528934400, "vote": "1,341", "image": ["https://x/y.jpg"]}"#;
    const PRODUCT_2018: &str = r#"{"category": ["Gift Cards", "Gift Cards"], "tech1": "", "description": ["<div class=\"aplus\"> <br>Gift cards &amp; more.</div>", ""], "fit": "", "title": "P.F. Chang&#39;s Gift Cards", "also_buy": ["B1", " "], "image": [], "tech2": "", "brand": "P.F. Chang's", "feature": [], "rank": ">#2,893,775 in Toys & Games (See Top 100 in Toys & Games)", "also_view": ["B2", "B3"], "details": {"ASIN: ": "B001BKEWF2"}, "main_cat": "Grocery", "similar_item": "", "date": "", "price": "$25.00", "asin": "B001BKEWF2"}"#;

    fn review(line: &str) -> Result<Review, String> {
        parse_review(line.as_bytes()).map(|(review, _)| review)
    }

    #[test]
    fn reads_a_2014_review() {
        let review = review(REVIEW_2014).unwrap();
        assert_eq!(review.user, "A2IBPI20UZIR0U");
        assert_eq!(review.asin, "1384719342");
        assert_eq!(review.rating, 5.0);
        assert_eq!(review.timestamp, 1_393_545_600);
        assert_eq!(review.helpful, Some((13, 14)));
        assert_eq!(review.text.as_deref(), Some("Not much to write \"about\""));
        assert_eq!(review.summary.as_deref(), Some("good"));
        assert_eq!(
            review.reviewer_name.as_deref(),
            Some("cassandra tu \"Yeah\"")
        );
        assert_eq!((review.verified, review.votes), (None, None));
    }

    #[test]
    fn reads_a_2018_review() {
        let review = review(REVIEW_2018).unwrap();
        assert_eq!(
            (review.user.as_str(), review.asin.as_str()),
            ("A2MN5JQMIY0FQ2", "B004LLIKVU")
        );
        assert_eq!((review.rating, review.timestamp), (4.0, 1_528_934_400));
        assert_eq!(review.verified, Some(true));
        assert_eq!(review.votes, Some(1341));
        assert_eq!(review.helpful, None);
    }

    #[test]
    fn the_interaction_view_agrees_with_the_full_review() {
        for line in [REVIEW_2014, REVIEW_2018] {
            let rating = parse_rating(line.as_bytes()).unwrap();
            let review = review(line).unwrap();
            assert_eq!(rating.user, review.user);
            assert_eq!(rating.item, review.asin);
            assert_eq!(
                (rating.rating, rating.timestamp),
                (review.rating, review.timestamp)
            );
            assert!(!rating.repaired);
        }
    }

    #[test]
    fn ids_without_escapes_are_borrowed() {
        let rating = parse_rating(REVIEW_2018.as_bytes()).unwrap();
        assert!(matches!(rating.user, Cow::Borrowed(_)));
        assert!(matches!(rating.item, Cow::Borrowed(_)));
        let escaped =
            r#"{"reviewerID": "A\u0031", "asin": "B1", "overall": 1, "unixReviewTime": 5}"#;
        assert_eq!(parse_rating(escaped.as_bytes()).unwrap().user, "A1");
    }

    #[test]
    fn optional_fields_may_be_missing_blank_or_odd() {
        let line = r#"{"reviewerID": "A", "asin": "B", "overall": 3, "unixReviewTime": 5, "reviewText": "", "summary": null, "vote": "lots", "helpful": [1], "verified": "yes"}"#;
        let review = review(line).unwrap();
        assert_eq!(review.rating, 3.0);
        assert_eq!(
            (review.text, review.summary, review.reviewer_name),
            (None, None, None)
        );
        assert_eq!(
            (review.votes, review.helpful, review.verified),
            (None, None, None)
        );
    }

    #[test]
    fn review_time_stands_in_for_a_missing_unix_time() {
        let line =
            r#"{"reviewerID": "A", "asin": "B", "overall": 5.0, "reviewTime": "02 28, 2014"}"#;
        let rating = parse_rating(line.as_bytes()).unwrap();
        assert_eq!(rating.timestamp, 1_393_545_600);
        assert!(rating.repaired);
        let line = r#"{"reviewerID": "A", "asin": "B", "overall": 5.0, "unixReviewTime": "soon", "reviewTime": "02 28, 2014"}"#;
        assert_eq!(
            parse_rating(line.as_bytes()).unwrap().timestamp,
            1_393_545_600
        );
    }

    fn reason(line: &str) -> String {
        parse_rating(line.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_line_that_is_not_utf8_is_malformed_for_every_reader() {
        // The bad byte is in `summary`, which the interaction reader skips: it must still
        // refuse the line, as the full review reader (EDA, ingest) does.
        let mut line = br#"{"reviewerID": "A", "asin": "B", "overall": 5.0, "unixReviewTime": 1, "summary": "caf"#.to_vec();
        line.extend_from_slice(b"\xe9\"}");
        let expected = format!("not UTF-8: invalid byte at offset {}", line.len() - 3);
        assert_eq!(parse_rating(&line).unwrap_err(), expected);
        assert_eq!(parse_review(&line).unwrap_err(), expected);
        let mut product = br#"{"asin": "B", "title": "caf"#.to_vec();
        product.extend_from_slice(b"\xe9\"}");
        let refused = ProductLine::parse(&product).err();
        assert!(refused.is_some_and(|reason| reason.starts_with("not UTF-8")));
    }

    #[test]
    fn malformed_reviews_say_what_is_wrong() {
        assert!(reason("this is not json").starts_with("not JSON"));
        assert!(reason(r#"{"reviewerID": "A", "asin": "#).starts_with("not valid JSON"));
        assert_eq!(
            reason(r#"[{"reviewerID": "A"}]"#),
            "JSON but not an object (an array)"
        );
        assert_eq!(reason("42"), "JSON but not an object (a number)");
        assert_eq!(reason(r#""text""#), "JSON but not an object (a string)");
        assert_eq!(
            reason(r#"{"reviewerID": "A", "overall": 5.0, "unixReviewTime": 1}"#),
            "missing field `asin`"
        );
        assert_eq!(
            reason(r#"{"asin": "B", "overall": 5.0, "unixReviewTime": 1}"#),
            "missing field `reviewerID`"
        );
        assert_eq!(
            reason(r#"{"reviewerID": "A", "asin": " ", "overall": 5.0, "unixReviewTime": 1}"#),
            "empty field `asin`"
        );
        assert_eq!(
            reason(r#"{"reviewerID": "A", "asin": 42, "overall": 5.0, "unixReviewTime": 1}"#),
            "field `asin` is a number, expected a string"
        );
        assert_eq!(
            reason(r#"{"reviewerID": "A", "asin": "B", "overall": 7, "unixReviewTime": 1}"#),
            "rating 7 out of range 1..=5"
        );
        assert_eq!(
            reason(r#"{"reviewerID": "A", "asin": "B", "overall": "five", "unixReviewTime": 1}"#),
            "rating not a number: \"five\""
        );
        assert_eq!(
            reason(r#"{"reviewerID": "A", "asin": "B", "overall": [5], "unixReviewTime": 1}"#),
            "rating not a number: an array"
        );
        assert_eq!(
            reason(r#"{"reviewerID": "A", "asin": "B", "unixReviewTime": 1}"#),
            "missing field `overall`"
        );
        assert_eq!(
            reason(r#"{"reviewerID": "A", "asin": "B", "overall": 5}"#),
            "missing field `unixReviewTime`"
        );
        assert!(
            reason(r#"{"reviewerID": "A", "asin": "B", "overall": 5, "unixReviewTime": -3}"#)
                .starts_with("bad timestamp")
        );
        assert!(reason(r#"{"reviewerID": "A", "asin": "B", "overall": 5, "unixReviewTime": "x", "reviewTime": "13 45, 2014"}"#)
            .starts_with("bad timestamp"));
        assert!(reason(r#"{"reviewerID": "A", "reviewerID": "B"}"#).contains("duplicate field"));
    }

    #[test]
    fn reads_a_2018_product_and_cleans_it() {
        let product = ProductLine::parse(PRODUCT_2018.as_bytes())
            .unwrap()
            .product();
        assert_eq!(product.asin, "B001BKEWF2");
        assert_eq!(product.title.as_deref(), Some("P.F. Chang's Gift Cards"));
        assert_eq!(product.brand.as_deref(), Some("P.F. Chang's"));
        assert_eq!(product.categories, ["Gift Cards", "Gift Cards"]);
        assert_eq!(product.description.as_deref(), Some("Gift cards & more."));
        assert_eq!(product.price, Some(25.0));
        assert_eq!(product.price_raw.as_deref(), Some("$25.00"));
        assert_eq!(product.also_buy, ["B1"]);
        assert_eq!(product.also_view, ["B2", "B3"]);
        assert_eq!(product.main_cat.as_deref(), Some("Grocery"));
        assert_eq!(product.rank, Some((2_893_775, Some("Toys & Games".into()))));
    }

    #[test]
    fn product_quirks_are_absorbed() {
        let line = r#"{"asin": "B1", "title": "<span class=\"a-size-medium a-color-secondary\"", "brand": "", "category": [], "description": "One string, not a list", "rank": [], "price": ".a-box-inner{background-color:#fff}", "main_cat": "<img src=\"x.png\" class=\"nav-categ-image\" alt=\"AMAZON FASHION\"/>"}"#;
        let product = ProductLine::parse(line.as_bytes()).unwrap().product();
        assert_eq!(product.title, None);
        assert_eq!(product.brand, None);
        assert!(product.categories.is_empty());
        assert_eq!(
            product.description.as_deref(),
            Some("One string, not a list")
        );
        assert_eq!(product.rank, None);
        assert_eq!(product.price, None);
        assert_eq!(
            product.price_raw.as_deref(),
            Some(".a-box-inner{background-color:#fff}")
        );
        assert_eq!(product.main_cat.as_deref(), Some("AMAZON FASHION"));

        let rank_list = r#"{"asin": "B1", "rank": ["junk", ">#19 in Gift Cards > Departments"]}"#;
        let product = ProductLine::parse(rank_list.as_bytes()).unwrap().product();
        assert_eq!(
            product.rank,
            Some((19, Some("Gift Cards > Departments".into())))
        );
    }

    #[test]
    fn item_meta_matches_the_product() {
        let line = ProductLine::parse(PRODUCT_2018.as_bytes()).unwrap();
        assert_eq!(line.asin(), "B001BKEWF2");
        assert_eq!(line.item_meta(), ItemMeta::from(line.product()));
    }

    #[test]
    fn malformed_products_say_what_is_wrong() {
        let reason = |line: &str| ProductLine::parse(line.as_bytes()).err().unwrap();
        assert_eq!(reason(r#"{"title": "x"}"#), "missing field `asin`");
        assert_eq!(reason(r#"["B1"]"#), "JSON but not an object (an array)");
        assert!(reason("{'asin': 'B1'}").starts_with("not valid JSON"));
    }

    #[test]
    fn sniffs_reviews_and_products() {
        assert_eq!(sniff(REVIEW_2014.as_bytes()), JsonKind::Review);
        assert_eq!(sniff(REVIEW_2018.as_bytes()), JsonKind::Review);
        assert_eq!(sniff(PRODUCT_2018.as_bytes()), JsonKind::Product);
        assert_eq!(sniff(b"{\"x\": 1}"), JsonKind::Other);
        assert_eq!(sniff(b"{broken"), JsonKind::Other);
    }
}
