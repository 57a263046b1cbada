//! The documents recsys keeps in MongoDB, built as raw BSON in one place.
//!
//! `docs/schema.md` describes the same collections for people (and for the Spark job, which must
//! build identical documents); a change here is a change there.

use mongodb::bson::{DateTime, RawArrayBuf, RawBsonRef, RawDocument, RawDocumentBuf};

use crate::dataset::{Problem, Product, Review, MAX_RAW};

/// Collection of products, `_id` = ASIN.
pub const PRODUCTS: &str = "products";
/// Collection of reviews and bare ratings, `_id` = [`review_id`].
pub const REVIEWS: &str = "reviews";
/// Collection of the records a run set aside, with their raw text and reason.
pub const QUARANTINE: &str = "quarantine";
/// Collection of ingest runs and their counts.
pub const INGEST_RUNS: &str = "ingest_runs";

/// MongoDB's limit on a document's size.
pub const MAX_DOCUMENT: usize = 16 << 20;

/// A document larger than this is quarantined instead of sent: the rest is headroom for the
/// fields added at write time and for the command that carries it.
pub(crate) const MAX_SENT_DOCUMENT: usize = MAX_DOCUMENT - (64 << 10);

/// The `_id` of a review: `user|asin|unix seconds`, for example `A1|B004LLIKVU|1529193600`.
///
/// Deterministic, so that ingesting the same review twice finds the first copy, and readable,
/// so that a review is found by hand and the Spark job rebuilds the same id with one `concat`.
/// Amazon user ids and ASINs are alphanumeric, so the `|` separators cannot be ambiguous.
pub fn review_id(user: &str, asin: &str, unix_seconds: i64) -> String {
    format!("{user}|{asin}|{unix_seconds}")
}

/// The fields of a review document, without `_id`, `unknown_product` and `ingest` (see
/// [`insert_document`]).
///
/// Optional fields that the record does not have are left out rather than set to null, so that
/// a bare rating (from a CSV) merged into a stored review never erases its text.
pub fn review_fields(review: &Review) -> RawDocumentBuf {
    let mut doc = RawDocumentBuf::new();
    append_review_fields(&mut doc, review);
    doc
}

/// The document inserted for a new review: `_id`, [`review_fields`] and `ingest` (as
/// [`insert_document`] builds it, without the intermediate copy). `unknown_product` is
/// appended at write time.
pub fn review_document(id: &str, review: &Review, provenance: &RawDocumentBuf) -> RawDocumentBuf {
    let mut doc = RawDocumentBuf::new();
    doc.append_ref("_id", id);
    append_review_fields(&mut doc, review);
    doc.append_ref("ingest", provenance);
    doc
}

fn append_review_fields(doc: &mut RawDocumentBuf, review: &Review) {
    doc.append_ref("user", review.user.as_str());
    doc.append_ref("asin", review.asin.as_str());
    doc.append_ref("rating", f64::from(review.rating));
    doc.append_ref("time", DateTime::from_millis(review.timestamp * 1000));
    if let Some(verified) = review.verified {
        doc.append_ref("verified", verified);
    }
    // `votes` is the number of helpful votes in both releases (2018 `vote`, 2014 `helpful[0]`);
    // 2014 also says how many votes there were in all.
    let votes = review.votes.or(review.helpful.map(|(helpful, _)| helpful));
    if let Some(votes) = votes {
        doc.append_ref("votes", i64::from(votes));
    }
    if let Some((_, total)) = review.helpful {
        doc.append_ref("votes_total", i64::from(total));
    }
    append_opt(doc, "text", review.text.as_deref());
    append_opt(doc, "summary", review.summary.as_deref());
    append_opt(doc, "reviewer_name", review.reviewer_name.as_deref());
}

/// The fields of a product document, without `_id` and `ingest`.
///
/// Every field is present (null or an empty array when the line lacks it), so that a later line
/// for the same ASIN replaces the whole product.
pub fn product_fields(product: &Product) -> RawDocumentBuf {
    let mut doc = RawDocumentBuf::new();
    append_or_null(&mut doc, "title", product.title.as_deref());
    append_or_null(&mut doc, "brand", product.brand.as_deref());
    doc.append("categories", string_array(&product.categories));
    append_or_null(&mut doc, "description", product.description.as_deref());
    match product.price {
        Some(price) => doc.append_ref("price", price),
        None => doc.append_ref("price", RawBsonRef::Null),
    }
    let raw = product.price_raw.as_deref();
    // Keep the raw price only where cleaning changed it: junk (price null) or a value that is
    // not the plain "$12.99" the number gives back (a range, thousands separators).
    let changed = match (product.price, raw) {
        (Some(price), Some(raw)) => raw != format!("${price:.2}"),
        (None, Some(_)) => true,
        (_, None) => false,
    };
    append_or_null(&mut doc, "price_raw", raw.filter(|_| changed));
    doc.append_ref("price_invalid", product.price.is_none() && raw.is_some());
    doc.append("also_buy", string_array(&product.also_buy));
    doc.append("also_view", string_array(&product.also_view));
    append_or_null(&mut doc, "main_cat", product.main_cat.as_deref());
    match &product.rank {
        Some((rank, category)) => {
            doc.append_ref("rank", i64::try_from(*rank).unwrap_or(i64::MAX));
            append_or_null(&mut doc, "rank_category", category.as_deref());
        }
        None => {
            doc.append_ref("rank", RawBsonRef::Null);
            doc.append_ref("rank_category", RawBsonRef::Null);
        }
    }
    doc
}

/// The [`Review`] a review document holds: the inverse of [`review_fields`] (`_id`, `ingest` and
/// `unknown_product` are ignored). `votes` with `votes_total` gives back the 2014
/// `helpful: [votes, total]`, `votes` alone the 2018 `vote`.
///
/// # Errors
///
/// A message naming the field when a required one (`user`, `asin`, `rating`, `time`) is missing
/// or a field has another type than [`review_fields`] writes (numbers of any BSON type pass).
pub fn review_from_document(doc: &RawDocument) -> Result<Review, String> {
    let votes = opt_count(doc, "votes")?;
    let total = opt_count(doc, "votes_total")?;
    let (votes, helpful) = match (votes, total) {
        (Some(votes), Some(total)) => (None, Some((votes, total))),
        (votes, _) => (votes, None),
    };
    let time = match doc.get("time") {
        Ok(Some(RawBsonRef::DateTime(time))) => time.timestamp_millis().div_euclid(1000),
        Ok(Some(_)) => return Err("field `time` is not a date".to_owned()),
        _ => return Err("missing field `time`".to_owned()),
    };
    Ok(Review {
        user: required_str(doc, "user")?,
        asin: required_str(doc, "asin")?,
        rating: required_number(doc, "rating")? as f32,
        timestamp: time,
        verified: opt_bool(doc, "verified")?,
        votes,
        helpful,
        text: opt_str(doc, "text")?,
        summary: opt_str(doc, "summary")?,
        reviewer_name: opt_str(doc, "reviewer_name")?,
    })
}

/// The [`Product`] a product document holds: the inverse of [`product_fields`], with the ASIN
/// from `_id`. A `price_raw` that [`product_fields`] left null because it was the plain
/// `"$12.99"` of the price is given back as that text.
///
/// # Errors
///
/// A message naming the field when `_id` is missing or a field has another type than
/// [`product_fields`] writes.
pub fn product_from_document(doc: &RawDocument) -> Result<Product, String> {
    let price = opt_number(doc, "price")?;
    let price_raw = opt_str(doc, "price_raw")?.or_else(|| price.map(|p| format!("${p:.2}")));
    let rank = match opt_number(doc, "rank")? {
        Some(rank) if rank >= 0.0 => Some((rank as u64, opt_str(doc, "rank_category")?)),
        Some(_) => return Err("field `rank` is negative".to_owned()),
        None => None,
    };
    Ok(Product {
        asin: required_str(doc, "_id")?,
        title: opt_str(doc, "title")?,
        brand: opt_str(doc, "brand")?,
        categories: str_array(doc, "categories")?,
        description: opt_str(doc, "description")?,
        price,
        price_raw,
        also_buy: str_array(doc, "also_buy")?,
        also_view: str_array(doc, "also_view")?,
        main_cat: opt_str(doc, "main_cat")?,
        rank,
    })
}

/// The value of `key`; `None` when absent or null.
fn field<'a>(doc: &'a RawDocument, key: &str) -> Result<Option<RawBsonRef<'a>>, String> {
    match doc.get(key) {
        Ok(Some(RawBsonRef::Null)) | Ok(None) => Ok(None),
        Ok(Some(value)) => Ok(Some(value)),
        Err(error) => Err(format!("field `{key}` is unreadable: {error}")),
    }
}

fn wrong_type(key: &str, expected: &str) -> String {
    format!("field `{key}` is not {expected}")
}

fn opt_str(doc: &RawDocument, key: &str) -> Result<Option<String>, String> {
    match field(doc, key)? {
        Some(RawBsonRef::String(value)) => Ok(Some(value.to_owned())),
        Some(_) => Err(wrong_type(key, "a string")),
        None => Ok(None),
    }
}

fn required_str(doc: &RawDocument, key: &str) -> Result<String, String> {
    opt_str(doc, key)?.ok_or_else(|| format!("missing field `{key}`"))
}

fn opt_number(doc: &RawDocument, key: &str) -> Result<Option<f64>, String> {
    match field(doc, key)? {
        Some(value @ (RawBsonRef::Int32(_) | RawBsonRef::Int64(_) | RawBsonRef::Double(_))) => {
            Ok(Some(float(value)))
        }
        Some(_) => Err(wrong_type(key, "a number")),
        None => Ok(None),
    }
}

fn required_number(doc: &RawDocument, key: &str) -> Result<f64, String> {
    opt_number(doc, key)?.ok_or_else(|| format!("missing field `{key}`"))
}

fn opt_count(doc: &RawDocument, key: &str) -> Result<Option<u32>, String> {
    match field(doc, key)? {
        Some(value) => match integer(value).map(u32::try_from) {
            Some(Ok(count)) => Ok(Some(count)),
            _ => Err(wrong_type(key, "a count")),
        },
        None => Ok(None),
    }
}

fn opt_bool(doc: &RawDocument, key: &str) -> Result<Option<bool>, String> {
    match field(doc, key)? {
        Some(RawBsonRef::Boolean(value)) => Ok(Some(value)),
        Some(_) => Err(wrong_type(key, "a boolean")),
        None => Ok(None),
    }
}

fn str_array(doc: &RawDocument, key: &str) -> Result<Vec<String>, String> {
    let array = match field(doc, key)? {
        Some(RawBsonRef::Array(array)) => array,
        Some(_) => return Err(wrong_type(key, "an array")),
        None => return Ok(Vec::new()),
    };
    array
        .into_iter()
        .map(|value| match value {
            Ok(RawBsonRef::String(value)) => Ok(value.to_owned()),
            _ => Err(wrong_type(key, "an array of strings")),
        })
        .collect()
}

/// Where a document came from: `{run, file, line}`, written only when the document is first
/// inserted, so that re-ingesting leaves stored documents unchanged.
pub fn provenance(run_id: &str, file_name: &str, line: u64) -> RawDocumentBuf {
    let mut doc = RawDocumentBuf::new();
    doc.append_ref("run", run_id);
    doc.append_ref("file", file_name);
    doc.append_ref("line", line_number(line));
    doc
}

/// The document inserted for a new record: `_id`, its fields, `extra` fields decided at write
/// time (a review's `unknown_product`) and its provenance under `ingest`.
pub fn insert_document(
    id: &str,
    fields: &RawDocumentBuf,
    extra: &[(&str, RawBsonRef<'_>)],
    provenance: &RawDocumentBuf,
) -> RawDocumentBuf {
    let mut doc = RawDocumentBuf::new();
    doc.append_ref("_id", id);
    append_all(&mut doc, fields, extra);
    doc.append_ref("ingest", provenance);
    doc
}

/// The two parts of the update applied to a record whose `_id` is already stored, taken from its
/// [`insert_document`]: `$set` gets every field but `_id` and `ingest`, so that identical content
/// is a no-op; `$setOnInsert` gets `ingest`, used only if the stored copy has gone meanwhile.
pub fn update_parts(insert: &RawDocumentBuf) -> (RawDocumentBuf, RawDocumentBuf) {
    let mut set = RawDocumentBuf::new();
    let mut on_insert = RawDocumentBuf::new();
    for element in insert.iter_elements() {
        // The documents come from the builders above, so they are valid.
        let Ok(element) = element else { continue };
        let Ok(value) = element.value() else { continue };
        match element.key() {
            "_id" => {}
            "ingest" => on_insert.append_ref("ingest", value),
            key => set.append_ref(key, value),
        }
    }
    (set, on_insert)
}

/// Whether `stored` already holds every field of `set` with an equal value, so that applying
/// `set` would change nothing. Numbers compare by value whatever their BSON type (a server may
/// give back an `int64` as an `int32`); documents compare whatever their field order.
pub fn covers(stored: &RawDocument, set: &RawDocument) -> bool {
    set.iter().all(|element| match element {
        Ok((key, value)) => matches!(stored.get(key), Ok(Some(current)) if same(value, current)),
        Err(_) => false,
    })
}

/// Whether two BSON values are equal as MongoDB compares them for a no-op update.
fn same(a: RawBsonRef<'_>, b: RawBsonRef<'_>) -> bool {
    use RawBsonRef::{Array, Document, Double, Int32, Int64};
    match (a, b) {
        (Int32(_) | Int64(_) | Double(_), Int32(_) | Int64(_) | Double(_)) => {
            match (integer(a), integer(b)) {
                (Some(x), Some(y)) => x == y,
                _ => float(a) == float(b),
            }
        }
        (Document(x), Document(y)) => x.iter().count() == y.iter().count() && covers(y, x),
        (Array(x), Array(y)) => {
            let (mut x, mut y) = (x.into_iter(), y.into_iter());
            loop {
                match (x.next(), y.next()) {
                    (None, None) => return true,
                    (Some(Ok(u)), Some(Ok(v))) if same(u, v) => {}
                    _ => return false,
                }
            }
        }
        _ => a == b,
    }
}

fn integer(value: RawBsonRef<'_>) -> Option<i64> {
    match value {
        RawBsonRef::Int32(n) => Some(i64::from(n)),
        RawBsonRef::Int64(n) => Some(n),
        _ => None,
    }
}

fn float(value: RawBsonRef<'_>) -> f64 {
    match value {
        RawBsonRef::Int32(n) => f64::from(n),
        RawBsonRef::Int64(n) => n as f64,
        RawBsonRef::Double(n) => n,
        _ => f64::NAN,
    }
}

/// What a quarantined record says about itself.
#[derive(Debug, Clone, Copy)]
pub struct QuarantineEntry<'a> {
    /// The run that set it aside.
    pub run_id: &'a str,
    /// The position of its file among the run's files, for a unique `_id`.
    pub file_index: usize,
    /// The file as given to the run.
    pub file: &'a str,
    /// The file's format name, or `unknown`.
    pub format: &'a str,
    /// 1-based line number.
    pub line: u64,
    /// Why it was set aside.
    pub reason: &'a str,
    /// The line as read (cut to [`MAX_RAW`] bytes with a marker).
    pub raw: &'a str,
    /// `parse` (the line could not be read as a record) or `write` (MongoDB refused it).
    pub stage: &'a str,
}

/// The quarantine document of one record; `_id` is `run:file index:line`, unique per run.
pub fn quarantine_document(entry: &QuarantineEntry<'_>, at: DateTime) -> RawDocumentBuf {
    let mut doc = RawDocumentBuf::new();
    doc.append(
        "_id",
        format!("{}:{}:{}", entry.run_id, entry.file_index, entry.line),
    );
    doc.append_ref("run_id", entry.run_id);
    doc.append_ref("file", entry.file);
    doc.append_ref("file_name", file_name(entry.file));
    doc.append_ref("format", entry.format);
    doc.append_ref("line", line_number(entry.line));
    doc.append_ref("reason", entry.reason);
    doc.append_ref("raw", entry.raw);
    doc.append_ref("stage", entry.stage);
    doc.append_ref("at", at);
    doc
}

/// A quarantine entry for a [`Problem`] met while parsing.
pub fn problem_entry<'a>(
    run_id: &'a str,
    file_index: usize,
    format: &'a str,
    file: &'a str,
    problem: &'a Problem,
) -> QuarantineEntry<'a> {
    QuarantineEntry {
        run_id,
        file_index,
        file,
        format,
        line: problem.line,
        reason: &problem.reason,
        raw: &problem.raw,
        stage: "parse",
    }
}

/// The text kept as `raw` for a record refused after parsing: the document as relaxed extended
/// JSON, cut to [`MAX_RAW`] bytes with a marker giving the full length.
pub fn document_text(doc: &RawDocumentBuf) -> String {
    let text = match doc.to_document() {
        Ok(doc) => mongodb::bson::Bson::Document(doc)
            .into_relaxed_extjson()
            .to_string(),
        Err(error) => format!("(unreadable BSON: {error})"),
    };
    if text.len() <= MAX_RAW {
        return text;
    }
    let mut cut = MAX_RAW;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} …[truncated, {} bytes in all]", &text[..cut], text.len())
}

/// The last component of a path as given (the whole string if it has none).
pub fn file_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or(path)
}

fn line_number(line: u64) -> i64 {
    i64::try_from(line).unwrap_or(i64::MAX)
}

fn append_all(doc: &mut RawDocumentBuf, fields: &RawDocumentBuf, extra: &[(&str, RawBsonRef<'_>)]) {
    for element in fields.iter_elements() {
        // The documents come from the builders above, so they are valid.
        let Ok(element) = element else { continue };
        if let Ok(value) = element.value() {
            doc.append_ref(element.key(), value);
        }
    }
    for (key, value) in extra {
        doc.append_ref(*key, *value);
    }
}

fn append_opt(doc: &mut RawDocumentBuf, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        doc.append_ref(key, value);
    }
}

fn append_or_null(doc: &mut RawDocumentBuf, key: &str, value: Option<&str>) {
    match value {
        Some(value) => doc.append_ref(key, value),
        None => doc.append_ref(key, RawBsonRef::Null),
    }
}

fn string_array(values: &[String]) -> RawArrayBuf {
    let mut array = RawArrayBuf::new();
    for value in values {
        array.push(value.as_str());
    }
    array
}

/// Whether `doc` holds `key` as a non-null value (for tests and checks).
#[cfg(test)]
fn has(doc: &RawDocumentBuf, key: &str) -> bool {
    use mongodb::bson::spec::ElementType;
    matches!(doc.get(key), Ok(Some(value)) if value.element_type() != ElementType::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review() -> Review {
        Review {
            user: "A1".into(),
            asin: "B004LLIKVU".into(),
            rating: 5.0,
            timestamp: 1_529_193_600,
            verified: Some(true),
            votes: None,
            helpful: Some((3, 4)),
            text: Some("great".into()),
            summary: None,
            reviewer_name: None,
        }
    }

    #[test]
    fn documents_convert_back_to_records() {
        let mut doc = review_document("id", &review(), &provenance("run1", "f", 1));
        doc.append_ref("unknown_product", false);
        assert_eq!(review_from_document(&doc).unwrap(), review());
        let rating_2018 = Review {
            votes: Some(7),
            helpful: None,
            verified: None,
            text: None,
            ..review()
        };
        let doc = review_fields(&rating_2018);
        assert_eq!(review_from_document(&doc).unwrap(), rating_2018);
        let mut bad = RawDocumentBuf::new();
        bad.append_ref("user", "A1");
        bad.append_ref("asin", "B1");
        bad.append_ref("rating", "five");
        bad.append_ref("time", DateTime::from_millis(0));
        assert_eq!(
            review_from_document(&bad).unwrap_err(),
            "field `rating` is not a number"
        );

        let product = Product {
            asin: "B1".into(),
            title: Some("Card".into()),
            categories: vec!["Gift Cards".into(), "Cards".into()],
            price: Some(12.99),
            price_raw: Some("$12.99".into()),
            rank: Some((742, Some("Magazine Subscriptions".into()))),
            also_buy: vec!["B2".into()],
            ..Product::default()
        };
        let fields = product_fields(&product);
        let doc = insert_document("B1", &fields, &[], &provenance("run1", "f", 1));
        assert_eq!(product_from_document(&doc).unwrap(), product);
        assert_eq!(
            product_from_document(&fields).unwrap_err(),
            "missing field `_id`"
        );
    }

    #[test]
    fn review_ids_are_user_asin_time() {
        assert_eq!(
            review_id("A1", "B004LLIKVU", 1_529_193_600),
            "A1|B004LLIKVU|1529193600"
        );
    }

    #[test]
    fn review_fields_leave_out_what_is_missing() {
        let doc = review_fields(&review());
        let time = doc.get_datetime("time").unwrap();
        assert_eq!(time.timestamp_millis(), 1_529_193_600_000);
        assert_eq!(doc.get_f64("rating").unwrap(), 5.0);
        assert_eq!(doc.get_i64("votes").unwrap(), 3);
        assert_eq!(doc.get_i64("votes_total").unwrap(), 4);
        assert!(doc.get_bool("verified").unwrap());
        assert!(has(&doc, "text"));
        assert!(!has(&doc, "summary") && doc.get("summary").unwrap().is_none());
    }

    #[test]
    fn product_fields_are_all_present() {
        let product = Product {
            asin: "B1".into(),
            title: Some("Card".into()),
            price: None,
            price_raw: Some(".a-box{color:#fff}".into()),
            rank: Some((742, Some("Magazine Subscriptions".into()))),
            categories: vec!["Gift Cards".into()],
            ..Product::default()
        };
        let doc = product_fields(&product);
        for key in [
            "title",
            "brand",
            "categories",
            "description",
            "price",
            "price_raw",
            "price_invalid",
            "also_buy",
            "also_view",
            "main_cat",
            "rank",
            "rank_category",
        ] {
            assert!(doc.get(key).unwrap().is_some(), "{key}");
        }
        assert!(!has(&doc, "price") && !has(&doc, "brand"));
        assert!(doc.get_bool("price_invalid").unwrap());
        assert_eq!(doc.get_str("price_raw").unwrap(), ".a-box{color:#fff}");
        assert_eq!(doc.get_i64("rank").unwrap(), 742);
        let categories = doc.get_array("categories").unwrap();
        assert_eq!(categories.get_str(0).unwrap(), "Gift Cards");
    }

    #[test]
    fn the_raw_price_is_kept_only_where_cleaning_changed_it() {
        let priced = |raw: &str, price: f64| Product {
            asin: "B1".into(),
            price: Some(price),
            price_raw: Some(raw.into()),
            ..Product::default()
        };
        let plain = product_fields(&priced("$12.99", 12.99));
        assert!(!has(&plain, "price_raw"));
        assert!(!plain.get_bool("price_invalid").unwrap());
        let range = product_fields(&priced("$5.99 - $12.99", 5.99));
        assert_eq!(range.get_str("price_raw").unwrap(), "$5.99 - $12.99");
    }

    #[test]
    fn insert_and_set_documents_wrap_the_fields() {
        let fields = review_fields(&review());
        let origin = provenance("run1", "Gift_Cards_5.json.gz", 7);
        let extra = [("unknown_product", RawBsonRef::Boolean(true))];
        let insert = insert_document("A1|B004LLIKVU|1529193600", &fields, &extra, &origin);
        assert_eq!(insert.get_str("_id").unwrap(), "A1|B004LLIKVU|1529193600");
        assert!(insert.get_bool("unknown_product").unwrap());
        assert_eq!(
            insert
                .get_document("ingest")
                .unwrap()
                .get_i64("line")
                .unwrap(),
            7
        );
        let (set, on_insert) = update_parts(&insert);
        assert!(set.get("_id").unwrap().is_none() && set.get("ingest").unwrap().is_none());
        assert_eq!(set.get_str("user").unwrap(), "A1");
        assert!(set.get_bool("unknown_product").unwrap());
        assert_eq!(on_insert.get_document("ingest").unwrap(), origin.as_ref());
        let direct = review_document("A1|B004LLIKVU|1529193600", &review(), &origin);
        assert_eq!(
            direct,
            insert_document("A1|B004LLIKVU|1529193600", &fields, &[], &origin)
        );
    }

    #[test]
    fn covers_tells_a_no_op_update() {
        let fields = review_fields(&review());
        let origin = provenance("run1", "f", 1);
        let insert = insert_document("id", &fields, &[], &origin);
        let (set, _) = update_parts(&insert);
        assert!(covers(&insert, &set));

        // Numbers by value, whatever the type; fields the stored document has in addition
        // (a review's text when a bare rating arrives) do not matter.
        let mut stored = RawDocumentBuf::new();
        stored.append_ref("votes", 3_i32);
        stored.append_ref("text", "kept");
        let mut rating = RawDocumentBuf::new();
        rating.append_ref("votes", 3_i64);
        assert!(covers(&stored, &rating));
        rating.append_ref("rating", 4.0);
        assert!(!covers(&stored, &rating));

        let mut a = RawDocumentBuf::new();
        a.append("list", string_array(&["x".into(), "y".into()]));
        let mut b = RawDocumentBuf::new();
        b.append("list", string_array(&["x".into()]));
        assert!(!covers(&a, &b) && !covers(&b, &a) && covers(&a, &a));
    }

    #[test]
    fn long_document_text_is_cut_with_a_marker() {
        let mut doc = RawDocumentBuf::new();
        doc.append_ref("text", "é".repeat(MAX_RAW).as_str());
        let text = document_text(&doc);
        assert!(text.len() < MAX_RAW + 100);
        assert!(
            text.ends_with("bytes in all]"),
            "{}",
            &text[text.len() - 50..]
        );
    }

    #[test]
    fn quarantine_ids_are_unique_per_run_file_and_line() {
        let problem = Problem {
            file: "r.json".into(),
            line: 3,
            reason: "missing field `asin`".into(),
            raw: "{}".into(),
        };
        let entry = problem_entry("run1", 2, "reviews", "dir/r.json", &problem);
        let doc = quarantine_document(&entry, DateTime::from_millis(0));
        assert_eq!(doc.get_str("_id").unwrap(), "run1:2:3");
        assert_eq!(doc.get_str("file_name").unwrap(), "r.json");
        assert_eq!(doc.get_str("reason").unwrap(), "missing field `asin`");
    }
}
