//! The records a dataset file yields: reviews (or bare ratings), products,
//! user sequences, item attributes and id maps.

use super::datamaps::Datamaps;

/// One rating of an item by a user: a review, or a row of a ratings-only CSV
/// (whose optional fields are then all `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// The reviewer's id (`reviewerID`, `UserId` or the CSV's user column).
    pub user: String,
    /// The item's ASIN, always a string (ISBN-like ASINs start with digits).
    pub asin: String,
    /// The star rating, in `1.0..=5.0`.
    pub rating: f32,
    /// When the review was written, in unix seconds (day resolution in the Amazon data).
    pub timestamp: i64,
    /// Whether Amazon verified the purchase (2018 reviews).
    pub verified: Option<bool>,
    /// Helpfulness votes (2018 `vote`, written `"1,341"` in the data).
    pub votes: Option<u32>,
    /// Helpful votes and total votes (2014 `helpful: [a, b]`).
    pub helpful: Option<(u32, u32)>,
    /// The review body, entities decoded; `None` if absent or blank.
    pub text: Option<String>,
    /// The review title, entities decoded; `None` if absent or blank.
    pub summary: Option<String>,
    /// The reviewer's display name.
    pub reviewer_name: Option<String>,
}

impl Review {
    /// A bare rating (a row of a ratings-only CSV): every optional field `None`.
    pub fn rating(
        user: impl Into<String>,
        asin: impl Into<String>,
        rating: f32,
        timestamp: i64,
    ) -> Self {
        Review {
            user: user.into(),
            asin: asin.into(),
            rating,
            timestamp,
            verified: None,
            votes: None,
            helpful: None,
            text: None,
            summary: None,
            reviewer_name: None,
        }
    }
}

/// One product of a metadata file, with scraped HTML already cleaned away.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Product {
    /// The product's ASIN.
    pub asin: String,
    /// The title as plain text; `None` when missing or only markup (as for
    /// most Magazine Subscriptions titles, which are a broken `<span` tag).
    pub title: Option<String>,
    /// The brand (in Magazine Subscriptions, the publisher).
    pub brand: Option<String>,
    /// The category path, root first, blank entries removed.
    pub categories: Vec<String>,
    /// The description paragraphs as plain text, joined by newlines.
    pub description: Option<String>,
    /// The price in dollars: `"$12.99"` gives 12.99, a range `"$5.00 - $9.99"`
    /// gives its lower bound, anything else (empty, CSS, HTML) gives `None`.
    pub price: Option<f64>,
    /// The `price` field as found, trimmed; `None` if blank.
    pub price_raw: Option<String>,
    /// ASINs of products also bought with this one.
    pub also_buy: Vec<String>,
    /// ASINs of products also viewed with this one.
    pub also_view: Vec<String>,
    /// The main category as plain text (for an image-only value, its `alt` text).
    pub main_cat: Option<String>,
    /// Sales rank and the category it is in, from the first rank entry:
    /// `"742 in Magazine Subscriptions ("` gives `(742, Some("Magazine Subscriptions"))`.
    pub rank: Option<(u64, Option<String>)>,
}

/// One line of a sequence file: a user's items, oldest first.
///
/// A line of an S3-Rec / P5 file (`user item item …`) holds a user's whole
/// history; a line of a SASRec file (`user item`) one item of it. The files
/// have no ratings or timestamps: only the order is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// The user's numeric id.
    pub user: u64,
    /// The numeric ids of the items, in time order (never empty).
    pub items: Vec<u64>,
}

/// One entry of an S3-Rec `item2attributes` file: an item's attribute ids
/// (brand and category strings, numbered), as found, repeats included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAttributes {
    /// The item's numeric id, in the id space of the matching sequence file.
    pub item: u64,
    /// The attribute ids.
    pub attributes: Vec<u64>,
}

/// A record read from a dataset file.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A review or a bare rating.
    Review(Review),
    /// A product from a metadata file.
    Product(Product),
    /// A line of a sequence or pairs file.
    Sequence(Sequence),
    /// An entry of an `item2attributes` file.
    Attributes(ItemAttributes),
    /// A whole P5 `datamaps.json` file.
    Datamaps(Datamaps),
}

/// The content features a [`Dataset`](super::Dataset) keeps for an item:
/// the parts of a [`Product`] useful for content-based recommendation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemMeta {
    /// The title as plain text.
    pub title: Option<String>,
    /// The brand.
    pub brand: Option<String>,
    /// The category path, root first; for items described by an
    /// `item2attributes` file, one attribute (brand or category) per entry.
    pub categories: Vec<String>,
    /// The description as plain text.
    pub description: Option<String>,
    /// The price in dollars.
    pub price: Option<f64>,
}

impl From<Product> for ItemMeta {
    fn from(product: Product) -> Self {
        Self {
            title: product.title,
            brand: product.brand,
            categories: product.categories,
            description: product.description,
            price: product.price,
        }
    }
}
