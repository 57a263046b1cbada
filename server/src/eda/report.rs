//! [`EdaReport`]: every number the report shows, as written to `stats.json`.
//!
//! Each section carries its `finding`, a sentence generated from its numbers.

use serde::Serialize;

use super::contingency::ChiSquareTest;
use super::correlation::Correlation;

/// The exploratory analysis of one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct EdaReport {
    /// The dataset's name.
    pub name: String,
    /// What was read, per input (file or collection).
    pub inputs: Vec<InputSummary>,
    /// Sizes, coverage and data quality.
    pub overview: Overview,
    /// Records refused by the reader, by reason.
    pub quarantine: Quarantine,
    /// The distribution of star ratings.
    pub ratings: Ratings,
    /// Reviews and mean rating per month.
    pub time: TimeSeries,
    /// Interactions per user and per item.
    pub activity: Activity,
    /// How concentrated item popularity is.
    pub long_tail: LongTail,
    /// Review length (words) per star rating.
    pub length: ByStar<LengthRow>,
    /// Helpful votes per star rating.
    pub votes: ByStar<VotesRow>,
    /// Mean rating per price band.
    pub price: Price,
    /// Verified against unverified purchases.
    pub verified: Verified,
    /// Volume and mean rating per category.
    pub categories: Groups,
    /// Volume and mean rating per brand.
    pub brands: Groups,
    /// Pearson and Spearman correlations of the numeric features.
    pub correlation: Correlations,
    /// How many test-time users and items have little training data.
    pub cold_start: ColdStart,
}

impl EdaReport {
    /// Every section's finding with the section's title, in page order.
    pub fn findings(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("Overview", &self.overview.finding),
            ("Refused records", &self.quarantine.finding),
            ("Ratings", &self.ratings.finding),
            ("Reviews over time", &self.time.finding),
            ("Mean rating over time", &self.time.mean_finding),
            ("Activity and popularity", &self.activity.finding),
            ("Long tail", &self.long_tail.finding),
            ("Review length", &self.length.finding),
            ("Helpful votes", &self.votes.finding),
            ("Price", &self.price.finding),
            ("Verified purchases", &self.verified.finding),
            ("Categories", &self.categories.finding),
            ("Brands", &self.brands.finding),
            ("Correlations", &self.correlation.finding),
            ("Cold start", &self.cold_start.finding),
        ]
    }
}

/// What was read from one input.
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    /// The file (or collection).
    pub source: String,
    /// Its format.
    pub format: String,
    /// Lines read.
    pub lines: u64,
    /// Records read.
    pub records: u64,
    /// Records refused (quarantined).
    pub malformed: u64,
}

/// Dataset overview.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// Interactions: distinct (user, item) pairs of the reviews, rating rows and sequence items
    /// read. A pair read again is one interaction, as evaluation counts it.
    pub interactions: u64,
    /// Records of a (user, item) pair already read, collapsed into its interaction:
    /// `rated + unrated - interactions`.
    pub duplicates: u64,
    /// Review and rating records read, repeats of a pair included: what the rating, time,
    /// length, vote, price, verification and correlation statistics count.
    pub rated: u64,
    /// Items of sequence files read (no rating or time), repeats included.
    pub unrated: u64,
    /// Distinct users with an interaction.
    pub users: u64,
    /// Distinct items with an interaction.
    pub items: u64,
    /// interactions / (users × items): the share of (user, item) pairs that interacted.
    pub density: f64,
    /// 1 − density.
    pub sparsity: f64,
    /// The first review's date (`YYYY-MM-DD`), if any review has a time.
    pub first_date: Option<String>,
    /// The last review's date.
    pub last_date: Option<String>,
    /// Metadata records (products) read, duplicates included.
    pub products: u64,
    /// Metadata records for an ASIN already described (the first is kept).
    pub duplicate_products: u64,
    /// Described items without any interaction.
    pub products_without_interactions: u64,
    /// Items with an interaction that have metadata.
    pub items_with_metadata: u64,
    /// items_with_metadata / items.
    pub metadata_coverage: f64,
    /// Records refused by the reader.
    pub quarantined: u64,
    /// Missing values per field.
    pub missing: Vec<MissingField>,
    /// Records the analysis does not use (id maps).
    pub ignored_records: u64,
    /// The finding.
    pub finding: String,
}

/// How often a field is missing.
#[derive(Debug, Clone, Serialize)]
pub struct MissingField {
    /// `review` or `product`.
    pub record: String,
    /// The field, as named in the source data.
    pub field: String,
    /// Records without it.
    pub missing: u64,
    /// Records of that kind.
    pub of: u64,
    /// missing / of.
    pub share: f64,
}

/// Refused records grouped by reason.
#[derive(Debug, Clone, Serialize)]
pub struct Quarantine {
    /// All refused records.
    pub total: u64,
    /// Reasons, most frequent first; numbers in a reason are replaced by `N` to group them.
    pub reasons: Vec<QuarantineReason>,
    /// The finding.
    pub finding: String,
}

/// One reason for refusing records.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineReason {
    /// The reason, generalised (`rating not a number`).
    pub reason: String,
    /// Records refused for it.
    pub count: u64,
    /// Where the first few were (`file:line`).
    pub examples: Vec<String>,
}

/// The star rating histogram.
#[derive(Debug, Clone, Serialize)]
pub struct Ratings {
    /// Ratings counted: every review and rating record, repeats of a (user, item) pair
    /// included ([`Overview::rated`]).
    pub n: u64,
    /// Counts of 1..=5 stars (ratings rounded to whole stars).
    pub histogram: [u64; 5],
    /// Share of each star.
    pub shares: [f64; 5],
    /// The mean rating.
    pub mean: Option<f64>,
    /// The finding.
    pub finding: String,
}

/// One calendar month.
#[derive(Debug, Clone, Serialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Reviews written in the month.
    pub reviews: u64,
    /// Their mean rating.
    pub mean_rating: f64,
}

/// Reviews over time.
#[derive(Debug, Clone, Serialize)]
pub struct TimeSeries {
    /// Months from the first to the last review, empty months included.
    pub months: Vec<Month>,
    /// The mean-rating chart leaves out months with fewer reviews than this.
    pub min_reviews_for_mean: u64,
    /// The finding about volume.
    pub finding: String,
    /// The finding about the mean rating.
    pub mean_finding: String,
}

/// A distribution of interaction counts (per user or per item; distinct pairs).
#[derive(Debug, Clone, Serialize)]
pub struct Degrees {
    /// Users (or items) counted.
    pub count: u64,
    /// The mean count.
    pub mean: f64,
    /// The median count.
    pub median: u64,
    /// The 90th percentile.
    pub p90: u64,
    /// The largest count.
    pub max: u64,
    /// Share with exactly one interaction.
    pub share_single: f64,
    /// `[k, how many have exactly k]`, k ascending.
    pub frequency: Vec<[u64; 2]>,
}

/// User activity and item popularity.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// Interactions per user.
    pub users: Degrees,
    /// Interactions per item.
    pub items: Degrees,
    /// The finding.
    pub finding: String,
}

/// The concentration of item popularity.
#[derive(Debug, Clone, Serialize)]
pub struct LongTail {
    /// Gini coefficient of interactions per item (0: equal, 1: one item has all).
    pub gini: Option<f64>,
    /// Lorenz curve: `[share of items, share of interactions]`, items least popular first.
    pub lorenz: Vec<[f64; 2]>,
    /// Share of interactions on the most popular 1 % of items.
    pub top_1pct_share: f64,
    /// … on the most popular 10 %.
    pub top_10pct_share: f64,
    /// … on the most popular 20 %.
    pub top_20pct_share: f64,
    /// The finding.
    pub finding: String,
}

/// Rows per star rating (1..=5), with a finding.
#[derive(Debug, Clone, Serialize)]
pub struct ByStar<T> {
    /// One row per star, 1 first.
    pub rows: Vec<T>,
    /// Reviews the section covers.
    pub n: u64,
    /// The finding.
    pub finding: String,
}

/// Review length for one star rating.
#[derive(Debug, Clone, Serialize)]
pub struct LengthRow {
    /// The rating.
    pub stars: u8,
    /// Reviews with text.
    pub reviews: u64,
    /// Mean words.
    pub mean: f64,
    /// First quartile of words.
    pub q1: u32,
    /// Median words.
    pub median: u32,
    /// Third quartile of words.
    pub q3: u32,
}

/// Helpful votes for one star rating.
#[derive(Debug, Clone, Serialize)]
pub struct VotesRow {
    /// The rating.
    pub stars: u8,
    /// Reviews whose votes are known.
    pub reviews: u64,
    /// Mean helpful votes.
    pub mean: f64,
    /// Share with at least one vote.
    pub share_voted: f64,
}

/// Mean rating by item price.
#[derive(Debug, Clone, Serialize)]
pub struct Price {
    /// Items with an interaction and a price.
    pub items_with_price: u64,
    /// Reviews of those items.
    pub reviews: u64,
    /// Price bands, cheapest first (empty bands left out).
    pub bands: Vec<PriceBand>,
    /// The finding.
    pub finding: String,
}

/// One price band.
#[derive(Debug, Clone, Serialize)]
pub struct PriceBand {
    /// `$10–20`.
    pub label: String,
    /// Lowest price in the band, inclusive.
    pub low: f64,
    /// Highest price, exclusive (`None`: open).
    pub high: Option<f64>,
    /// Items in the band.
    pub items: u64,
    /// Their reviews.
    pub reviews: u64,
    /// The mean rating of those reviews.
    pub mean_rating: f64,
}

/// Reviews of one verification status.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedGroup {
    /// Verified purchase or not.
    pub verified: bool,
    /// Reviews.
    pub reviews: u64,
    /// Mean rating.
    pub mean_rating: f64,
    /// Share of each star, 1 first.
    pub shares: [f64; 5],
    /// Mean words of those with text.
    pub mean_words: Option<f64>,
    /// Mean helpful votes.
    pub mean_votes: Option<f64>,
}

/// Verified against unverified purchases.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// Reviews with a `verified` field.
    pub known: u64,
    /// Verified first, then unverified (groups without reviews left out).
    pub groups: Vec<VerifiedGroup>,
    /// Chi-square test of rating (1..5) against verification.
    pub chi_square: Option<ChiSquareTest>,
    /// The finding.
    pub finding: String,
}

/// One category or brand.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    /// Its name, as found in the data (untrusted text).
    pub name: String,
    /// Items in it with an interaction.
    pub items: u64,
    /// Interactions with those items (distinct (user, item) pairs): its volume.
    pub interactions: u64,
    /// Reviews and rating records of those items, repeats included.
    pub reviews: u64,
    /// Their mean rating (`None` without rated reviews).
    pub mean_rating: Option<f64>,
}

/// Categories or brands by volume and by mean rating.
#[derive(Debug, Clone, Serialize)]
pub struct Groups {
    /// `category` or `brand`.
    pub kind: String,
    /// How the group of an item is chosen.
    pub definition: String,
    /// Distinct groups with an interaction.
    pub total: u64,
    /// Distinct groups in the metadata read, with or without interactions.
    pub in_metadata: u64,
    /// The largest groups by interactions.
    pub by_volume: Vec<GroupRow>,
    /// The best-rated groups among those with at least `min_reviews` reviews.
    pub by_rating: Vec<GroupRow>,
    /// The worst-rated groups among those with at least `min_reviews` reviews.
    pub lowest_rated: Vec<GroupRow>,
    /// Fewest reviews for a group to be ranked by rating.
    pub min_reviews: u64,
    /// The finding.
    pub finding: String,
}

/// A pair of features and their correlation.
#[derive(Debug, Clone, Serialize)]
pub struct FeaturePair {
    /// Index of the first feature in [`Correlations::features`].
    pub a: usize,
    /// Index of the second.
    pub b: usize,
    /// The correlation, `None` when a feature is constant or too few rows have both.
    pub value: Option<Correlation>,
}

/// Correlations between the numeric features of reviews.
#[derive(Debug, Clone, Serialize)]
pub struct Correlations {
    /// Feature names; a row is a review, with its item's price and popularity.
    pub features: Vec<String>,
    /// Pearson's r over every review having both features.
    pub pearson: Vec<FeaturePair>,
    /// Spearman's ρ over the sample.
    pub spearman: Vec<FeaturePair>,
    /// Reviews in the Spearman sample.
    pub sample_size: u64,
    /// Reviews the sample was drawn from.
    pub sample_of: u64,
    /// How the numbers were computed.
    pub method: String,
    /// The finding.
    pub finding: String,
}

/// Cold-start exposure for one threshold.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStartRow {
    /// The threshold N.
    pub fewer_than: u64,
    /// Test users with fewer than N training interactions.
    pub users: u64,
    /// As a share of test users.
    pub user_share: f64,
    /// Test cases whose held-out item has fewer than N training interactions.
    pub test_cases: u64,
    /// As a share of test cases.
    pub test_case_share: f64,
    /// Distinct held-out items with fewer than N training interactions.
    pub items: u64,
    /// As a share of distinct held-out items.
    pub item_share: f64,
}

/// Cold-start exposure under a hold-out protocol.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    /// The protocol.
    pub protocol: String,
    /// Users with a test item (at least two interactions); one test case each.
    pub test_users: u64,
    /// Distinct held-out items.
    pub test_items: u64,
    /// One row per threshold.
    pub rows: Vec<ColdStartRow>,
    /// The finding.
    pub finding: String,
}
