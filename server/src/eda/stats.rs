//! [`StatsBuilder`]: the statistics of a dataset in one streaming pass over its records.
//!
//! Memory grows with the number of distinct users and items (and categories, brands and
//! months) and with the distinct (user, item) pairs, never with the number of reviews: per
//! user a count and its latest interaction, per item its counts, rating histogram, feature
//! sums and metadata, and one 8-byte key per (user, item) pair, so that a pair read twice is
//! one interaction, as evaluation counts it. Spearman's ρ needs ranks, so it is computed on a
//! uniform reservoir sample of at most [`StatsOptions::sample_size`] reviews.
//!
//! Two units are counted. *Interactions* are distinct (user, item) pairs: the overview, the
//! density, activity and popularity, the long tail and cold start count them. *Reviews* are
//! the review and rating records read, a pair's repeats included: the rating, time, length,
//! vote, price, verification and correlation statistics describe them.
//!
//! Any source can feed it: [`StatsBuilder::add_record`] takes what
//! [`RecordReader`](crate::dataset::RecordReader) yields, [`StatsBuilder::add_problem`] the
//! reason of each refused record (a quarantine entry).

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::calendar::{date_label, fractional_year, month_label, month_of};
use super::contingency::chi_square;
use super::correlation::{spearman_of, Correlation, Moments};
use super::distribution::{degrees, gini, quantile, share};
use super::findings;
use super::report::*;
use super::sample::Reservoir;
use crate::dataset::{IdMap, ItemAttributes, Product, Record, Review, Sequence};

/// Names of the correlated features, review-level first (see [`REVIEW_FEATURES`]).
pub(crate) const FEATURES: [&str; 7] = [
    "rating",
    "review length (words)",
    "helpful votes",
    "verified purchase",
    "review date (year)",
    "item price ($)",
    "item popularity",
];
/// The first features are known when a review is read; the others are joined from its item.
const REVIEW_FEATURES: usize = 5;
const PRICE: usize = 5;
const POPULARITY: usize = 6;

/// Review lengths of this many words or more share the last histogram bin.
const WORD_BINS: usize = 4096;
/// At most this many distinct quarantine reasons are kept; the rest are grouped as "other".
const MAX_REASONS: usize = 200;
/// Examples kept per quarantine reason.
const REASON_EXAMPLES: usize = 3;
/// Price bands: lower bounds in dollars (the last band is open).
const PRICE_EDGES: [f64; 8] = [0.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];
/// The month chart of the mean rating leaves out months with fewer reviews.
const MIN_REVIEWS_FOR_MEAN: u64 = 20;
/// Months from the first to the last are listed, empty ones included, up to this span.
const MAX_FILLED_MONTHS: i64 = 1200;

/// Settings of a [`StatsBuilder`].
#[derive(Debug, Clone)]
pub struct StatsOptions {
    /// Most reviews kept for Spearman's ρ (a uniform reservoir sample).
    pub sample_size: usize,
    /// Seed of the sample.
    pub seed: u64,
    /// Categories and brands listed by volume and by rating.
    pub top_groups: usize,
    /// Fewest reviews for a category or brand to be ranked by mean rating.
    pub min_group_reviews: u64,
    /// Cold-start thresholds N: "fewer than N training interactions".
    pub cold_start_thresholds: Vec<u64>,
}

impl Default for StatsOptions {
    fn default() -> Self {
        Self {
            sample_size: 100_000,
            seed: 0x05ee_deda,
            top_groups: 10,
            min_group_reviews: 20,
            cold_start_thresholds: vec![1, 2, 3, 5, 10, 20],
        }
    }
}

/// Per user: interactions so far and the latest one (the leave-last-out test item).
#[derive(Debug, Clone, Copy)]
struct UserState {
    /// Distinct items.
    count: u32,
    /// Sequence items read, repeats included: the position of the next one.
    sequence_position: u32,
    last_time: i64,
    last_order: u64,
    last_item: u32,
}

/// Count, sum and sum of squares of one feature over an item's reviews.
#[derive(Debug, Clone, Copy, Default)]
struct FeatureSums {
    n: u32,
    sum: f64,
    sum_sq: f64,
}

/// Per item: counts, feature sums over its reviews, and metadata.
#[derive(Debug, Clone, Default)]
struct ItemState {
    /// Distinct users who interacted with it (reviews and sequence items).
    interactions: u32,
    /// Reviews per whole star.
    stars: [u32; 5],
    /// Sums of the review-level features over its reviews.
    features: [FeatureSums; REVIEW_FEATURES],
    /// Whether a metadata record described it.
    described: bool,
    price: Option<f64>,
    brand: Option<u32>,
    categories: Vec<u32>,
}

/// A review kept in the Spearman sample: its item and its review-level features (NaN: missing).
#[derive(Debug, Clone, Copy)]
struct SampleRow {
    item: u32,
    values: [f32; REVIEW_FEATURES],
}

/// Missing-value counters for the fields of one record kind.
#[derive(Debug, Clone)]
struct MissingCounts {
    record: &'static str,
    fields: &'static [&'static str],
    missing: Vec<u64>,
    of: u64,
}

impl MissingCounts {
    fn new(record: &'static str, fields: &'static [&'static str]) -> Self {
        Self {
            record,
            fields,
            missing: vec![0; fields.len()],
            of: 0,
        }
    }

    fn count(&mut self, present: &[bool]) {
        self.of += 1;
        for (missing, &present) in self.missing.iter_mut().zip(present) {
            *missing += u64::from(!present);
        }
    }
}

const REVIEW_FIELDS: &[&str] = &[
    "reviewText",
    "summary",
    "reviewerName",
    "verified",
    "vote / helpful",
];
const PRODUCT_FIELDS: &[&str] = &[
    "title",
    "brand",
    "category",
    "description",
    "price",
    "main_cat",
    "rank",
];

/// Refused records of one (generalised) reason.
#[derive(Debug, Clone, Default)]
struct ReasonCount {
    count: u64,
    examples: Vec<String>,
}

/// Accumulates the statistics of a dataset, one record at a time; [`StatsBuilder::finish`]
/// turns them into an [`EdaReport`].
///
/// ```
/// use recsys::dataset::Review;
/// use recsys::eda::{StatsBuilder, StatsOptions};
///
/// let review = |user: &str, asin: &str, rating: f32| Review {
///     user: user.into(), asin: asin.into(), rating, timestamp: 1_393_545_600,
///     verified: Some(true), votes: None, helpful: None,
///     text: Some("works as described".into()), summary: None, reviewer_name: None,
/// };
/// let mut stats = StatsBuilder::new(StatsOptions::default());
/// stats.add_review(&review("u1", "i1", 5.0));
/// stats.add_review(&review("u2", "i1", 4.0));
/// stats.add_problem("rating not a number: \"five\"", Some("reviews.json:3"));
/// let report = stats.finish("example", Vec::new());
/// assert_eq!((report.overview.users, report.overview.items), (2, 1));
/// assert_eq!(report.ratings.histogram, [0, 0, 0, 1, 1]);
/// assert_eq!(report.quarantine.reasons[0].reason, "rating not a number");
/// ```
#[derive(Debug)]
pub struct StatsBuilder {
    options: StatsOptions,
    users: IdMap,
    user_state: Vec<UserState>,
    items: IdMap,
    item_state: Vec<ItemState>,
    brands: IdMap,
    categories: IdMap,
    /// Interactions read so far: their position breaks timestamp ties, as in evaluation.
    order: u64,
    /// The (user, item) pairs read, as `user << 32 | item`.
    seen: FxHashSet<u64>,
    /// Records of a pair already read.
    duplicates: u64,
    rated: u64,
    unrated: u64,
    products: u64,
    duplicate_products: u64,
    ignored: u64,
    months: BTreeMap<i32, (u64, f64)>,
    time_range: Option<(i64, i64)>,
    review_fields: MissingCounts,
    product_fields: MissingCounts,
    /// Per star, a histogram of review lengths in words.
    words: Vec<[u64; WORD_BINS]>,
    /// Per star: reviews with known votes, their sum, and those with at least one.
    votes: [(u64, u64, u64); 5],
    /// Per verification status (0: unverified, 1: verified), reviews per star.
    verified_stars: [[u64; 5]; 2],
    /// Per verification status: reviews with text and their words.
    verified_words: [(u64, u64); 2],
    /// Per verification status: reviews with known votes and their sum.
    verified_votes: [(u64, u64); 2],
    /// Pearson co-moments of review-level feature pairs, `pairs[a][b]` for a < b.
    pairs: [[Moments; REVIEW_FEATURES]; REVIEW_FEATURES],
    sample: Reservoir<SampleRow>,
    problems: FxHashMap<String, ReasonCount>,
    problem_total: u64,
}

impl StatsBuilder {
    /// An empty builder.
    pub fn new(options: StatsOptions) -> Self {
        let sample = Reservoir::new(options.sample_size, options.seed);
        Self {
            options,
            users: IdMap::new(),
            user_state: Vec::new(),
            items: IdMap::new(),
            item_state: Vec::new(),
            brands: IdMap::new(),
            categories: IdMap::new(),
            order: 0,
            seen: FxHashSet::default(),
            duplicates: 0,
            rated: 0,
            unrated: 0,
            products: 0,
            duplicate_products: 0,
            ignored: 0,
            months: BTreeMap::new(),
            time_range: None,
            review_fields: MissingCounts::new("review", REVIEW_FIELDS),
            product_fields: MissingCounts::new("product", PRODUCT_FIELDS),
            words: vec![[0; WORD_BINS]; 5],
            votes: [(0, 0, 0); 5],
            verified_stars: [[0; 5]; 2],
            verified_words: [(0, 0); 2],
            verified_votes: [(0, 0); 2],
            pairs: [[Moments::default(); REVIEW_FEATURES]; REVIEW_FEATURES],
            sample,
            problems: FxHashMap::default(),
            problem_total: 0,
        }
    }

    /// Adds any record a [`RecordReader`](crate::dataset::RecordReader) yields. `datamaps.json`
    /// id maps are counted as ignored: the analysis keeps the ids of the files.
    pub fn add_record(&mut self, record: &Record) {
        match record {
            Record::Review(review) => self.add_review(review),
            Record::Product(product) => self.add_product(product),
            Record::Sequence(sequence) => self.add_sequence(sequence),
            Record::Attributes(attributes) => self.add_attributes(attributes),
            Record::Datamaps(_) => self.ignored += 1,
        }
    }

    /// Adds a review or rating row.
    pub fn add_review(&mut self, review: &Review) {
        let user = self.user(&review.user);
        let item = self.item(&review.asin);
        self.interact(user, item, review.timestamp);
        self.rated += 1;
        let star = star_of(review.rating);
        let rating = f64::from(review.rating);

        let month = self.months.entry(month_of(review.timestamp)).or_default();
        month.0 += 1;
        month.1 += rating;
        self.time_range = Some(match self.time_range {
            Some((first, last)) => (first.min(review.timestamp), last.max(review.timestamp)),
            None => (review.timestamp, review.timestamp),
        });
        self.review_fields.count(&[
            review.text.is_some(),
            review.summary.is_some(),
            review.reviewer_name.is_some(),
            review.verified.is_some(),
            review.votes.is_some() || review.helpful.is_some(),
        ]);

        let words = review.text.as_deref().map(|t| t.split_whitespace().count());
        // 2014 reviews give [helpful, total]; 2018 reviews leave `vote` out when nobody voted.
        let votes = review
            .helpful
            .map(|(helpful, _)| helpful)
            .or(review.votes)
            .or(review.verified.map(|_| 0));
        if let Some(words) = words {
            self.words[star][words.min(WORD_BINS - 1)] += 1;
        }
        if let Some(votes) = votes {
            let slot = &mut self.votes[star];
            *slot = (
                slot.0 + 1,
                slot.1 + u64::from(votes),
                slot.2 + u64::from(votes > 0),
            );
        }
        if let Some(verified) = review.verified {
            let status = usize::from(verified);
            self.verified_stars[status][star] += 1;
            if let Some(words) = words {
                self.verified_words[status].0 += 1;
                self.verified_words[status].1 += words as u64;
            }
            if let Some(votes) = votes {
                self.verified_votes[status].0 += 1;
                self.verified_votes[status].1 += u64::from(votes);
            }
        }

        let values: [Option<f64>; REVIEW_FEATURES] = [
            Some(rating),
            words.map(|w| w as f64),
            votes.map(f64::from),
            review.verified.map(|v| f64::from(u8::from(v))),
            Some(fractional_year(review.timestamp)),
        ];
        for (a, x) in values.iter().enumerate() {
            let Some(x) = *x else { continue };
            for (b, y) in values.iter().enumerate().skip(a + 1) {
                if let Some(y) = *y {
                    self.pairs[a][b].add(x, y);
                }
            }
        }
        let state = &mut self.item_state[item as usize];
        state.stars[star] += 1;
        for (sums, value) in state.features.iter_mut().zip(values) {
            if let Some(x) = value {
                sums.n += 1;
                sums.sum += x;
                sums.sum_sq += x * x;
            }
        }
        self.sample.offer(SampleRow {
            item,
            values: values.map(|v| v.map_or(f32::NAN, |x| x as f32)),
        });
    }

    /// Adds a user's sequence of items (no ratings or times: only the order is known).
    pub fn add_sequence(&mut self, sequence: &Sequence) {
        let user = self.user(&sequence.user.to_string());
        for &item in &sequence.items {
            let item = self.item(&item.to_string());
            // Like the dataset loader, the position in the user's history stands for the time.
            let state = &mut self.user_state[user as usize];
            let position = i64::from(state.sequence_position);
            state.sequence_position += 1;
            self.interact(user, item, position);
            self.unrated += 1;
        }
    }

    /// Adds a product of a metadata file. Of several records for one ASIN the first is kept.
    pub fn add_product(&mut self, product: &Product) {
        self.products += 1;
        self.product_fields.count(&[
            product.title.is_some(),
            product.brand.is_some(),
            !product.categories.is_empty(),
            product.description.is_some(),
            product.price.is_some(),
            product.main_cat.is_some(),
            product.rank.is_some(),
        ]);
        let item = self.item(&product.asin) as usize;
        if self.item_state[item].described {
            self.duplicate_products += 1;
            return;
        }
        // The root of the path is the store department, the same for a whole file; the level
        // below it is the most specific one that is not polluted by scraped text.
        let category = product.categories.get(1).or(product.categories.first());
        let category = category.map(|c| self.categories.get_or_insert(c));
        let brand = product
            .brand
            .as_deref()
            .map(|b| self.brands.get_or_insert(b));
        let state = &mut self.item_state[item];
        state.described = true;
        state.price = product.price.filter(|p| p.is_finite() && *p >= 0.0);
        state.brand = brand;
        state.categories.extend(category);
    }

    /// Adds an `item2attributes` entry: each attribute id counts as a category of the item.
    pub fn add_attributes(&mut self, attributes: &ItemAttributes) {
        self.products += 1;
        let item = self.item(&attributes.item.to_string()) as usize;
        let mut ids: Vec<u32> = attributes
            .attributes
            .iter()
            .map(|a| self.categories.get_or_insert(&format!("attribute {a}")))
            .collect();
        let state = &mut self.item_state[item];
        state.described = true;
        ids.retain(|id| !state.categories.contains(id));
        ids.dedup();
        state.categories.extend(ids);
    }

    /// Counts a refused record by its reason (e.g. a [`Problem`](crate::dataset::Problem)'s
    /// or a quarantine entry's), with where it was for the first few of each reason.
    pub fn add_problem(&mut self, reason: &str, location: Option<&str>) {
        self.problem_total += 1;
        let mut key = generalise(reason);
        if !self.problems.contains_key(&key) && self.problems.len() >= MAX_REASONS {
            key = "other reasons".to_owned();
        }
        let entry = self.problems.entry(key).or_default();
        entry.count += 1;
        if let Some(location) = location {
            if entry.examples.len() < REASON_EXAMPLES {
                entry.examples.push(location.to_owned());
            }
        }
    }

    /// Interactions added so far: distinct (user, item) pairs, rated or not.
    pub fn interactions(&self) -> u64 {
        self.seen.len() as u64
    }

    fn user(&mut self, id: &str) -> u32 {
        let index = self.users.get_or_insert(id);
        if index as usize == self.user_state.len() {
            self.user_state.push(UserState {
                count: 0,
                sequence_position: 0,
                last_time: i64::MIN,
                last_order: 0,
                last_item: 0,
            });
        }
        index
    }

    fn item(&mut self, id: &str) -> u32 {
        let index = self.items.get_or_insert(id);
        if index as usize == self.item_state.len() {
            self.item_state.push(ItemState::default());
        }
        index
    }

    /// Counts an interaction, once per (user, item) pair, and keeps the user's latest one (by
    /// time, then reading order). Evaluation keeps the latest record of a pair, so the latest
    /// over every record is the latest over the pairs it keeps.
    fn interact(&mut self, user: u32, item: u32, time: i64) {
        let order = self.order;
        self.order += 1;
        let new = self.seen.insert(u64::from(user) << 32 | u64::from(item));
        self.duplicates += u64::from(!new);
        let state = &mut self.user_state[user as usize];
        state.count += u32::from(new);
        if (time, order) >= (state.last_time, state.last_order) {
            state.last_time = time;
            state.last_order = order;
            state.last_item = item;
        }
        let item = &mut self.item_state[item as usize];
        item.interactions = item.interactions.saturating_add(u32::from(new));
    }

    /// Computes every statistic; `name` names the dataset, `inputs` what was read.
    pub fn finish(self, name: &str, inputs: Vec<InputSummary>) -> EdaReport {
        let mut report = EdaReport {
            name: name.to_owned(),
            inputs,
            overview: self.overview(),
            quarantine: self.quarantine(),
            ratings: self.ratings(),
            time: self.time(),
            activity: self.activity(),
            long_tail: self.long_tail(),
            length: self.length(),
            votes: self.votes(),
            price: self.price(),
            verified: self.verified(),
            categories: self.groups(
                "category",
                "the second level of the product's category path (the first is the store \
                 department), or each attribute of an item2attributes file",
                &self.categories,
                |item| &item.categories,
            ),
            brands: self.groups(
                "brand",
                "the product's brand (for magazines, the publisher)",
                &self.brands,
                |item| item.brand.as_slice(),
            ),
            correlation: self.correlation(),
            cold_start: self.cold_start(),
        };
        findings::annotate(&mut report);
        report
    }

    /// Items with at least one interaction.
    fn active_items(&self) -> impl Iterator<Item = &ItemState> {
        self.item_state.iter().filter(|i| i.interactions > 0)
    }

    fn overview(&self) -> Overview {
        let interactions = self.interactions();
        let users = self.user_state.len() as u64;
        let items = self.active_items().count() as u64;
        let items_with_metadata = self.active_items().filter(|i| i.described).count() as u64;
        let described = self.item_state.iter().filter(|i| i.described).count() as u64;
        let cells = users as f64 * items as f64;
        let density = if cells > 0.0 {
            interactions as f64 / cells
        } else {
            0.0
        };
        let mut missing = Vec::new();
        for counts in [&self.review_fields, &self.product_fields] {
            for (field, &count) in counts.fields.iter().zip(&counts.missing) {
                missing.push(MissingField {
                    record: counts.record.to_owned(),
                    field: (*field).to_owned(),
                    missing: count,
                    of: counts.of,
                    share: share(count, counts.of),
                });
            }
        }
        Overview {
            interactions,
            duplicates: self.duplicates,
            rated: self.rated,
            unrated: self.unrated,
            users,
            items,
            density,
            sparsity: 1.0 - density,
            first_date: self.time_range.map(|(first, _)| date_label(first)),
            last_date: self.time_range.map(|(_, last)| date_label(last)),
            products: self.products,
            duplicate_products: self.duplicate_products,
            products_without_interactions: described - items_with_metadata,
            items_with_metadata,
            metadata_coverage: share(items_with_metadata, items),
            quarantined: self.problem_total,
            missing,
            ignored_records: self.ignored,
            finding: String::new(),
        }
    }

    fn quarantine(&self) -> Quarantine {
        let mut reasons: Vec<QuarantineReason> = self
            .problems
            .iter()
            .map(|(reason, count)| QuarantineReason {
                reason: reason.clone(),
                count: count.count,
                examples: count.examples.clone(),
            })
            .collect();
        reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        Quarantine {
            total: self.problem_total,
            reasons,
            finding: String::new(),
        }
    }

    fn ratings(&self) -> Ratings {
        let mut histogram = [0u64; 5];
        let mut sum = 0.0;
        for item in &self.item_state {
            for (total, &count) in histogram.iter_mut().zip(&item.stars) {
                *total += u64::from(count);
            }
            sum += item.features[0].sum;
        }
        let n = self.rated;
        Ratings {
            n,
            histogram,
            shares: histogram.map(|c| share(c, n)),
            mean: (n > 0).then(|| sum / n as f64),
            finding: String::new(),
        }
    }

    fn time(&self) -> TimeSeries {
        let month = |(&m, &(reviews, sum)): (&i32, &(u64, f64))| Month {
            month: month_label(m),
            reviews,
            mean_rating: sum / reviews as f64,
        };
        let months = match (self.months.keys().next(), self.months.keys().last()) {
            (Some(&first), Some(&last))
                if i64::from(last) - i64::from(first) < MAX_FILLED_MONTHS =>
            {
                (first..=last)
                    .map(|m| match self.months.get(&m) {
                        Some(counts) => month((&m, counts)),
                        None => Month {
                            month: month_label(m),
                            reviews: 0,
                            mean_rating: f64::NAN,
                        },
                    })
                    .collect()
            }
            _ => self.months.iter().map(month).collect(),
        };
        TimeSeries {
            months,
            min_reviews_for_mean: MIN_REVIEWS_FOR_MEAN,
            finding: String::new(),
            mean_finding: String::new(),
        }
    }

    fn activity(&self) -> Activity {
        let users: Vec<u32> = self.user_state.iter().map(|u| u.count).collect();
        let items: Vec<u32> = self.active_items().map(|i| i.interactions).collect();
        Activity {
            users: degrees(users),
            items: degrees(items),
            finding: String::new(),
        }
    }

    fn long_tail(&self) -> LongTail {
        let mut counts: Vec<u64> = self
            .active_items()
            .map(|i| u64::from(i.interactions))
            .collect();
        counts.sort_unstable();
        let n = counts.len();
        let total: u64 = counts.iter().sum();
        let mut prefix = Vec::with_capacity(n + 1);
        prefix.push(0u64);
        for &c in &counts {
            prefix.push(prefix.last().copied().unwrap_or(0) + c);
        }
        const POINTS: usize = 200;
        let lorenz = if n == 0 {
            Vec::new()
        } else {
            (0..=POINTS)
                .map(|k| {
                    let i = (k * n + POINTS / 2) / POINTS;
                    [i as f64 / n as f64, prefix[i] as f64 / total as f64]
                })
                .collect()
        };
        // The share of the most popular `fraction` of items (at least one item).
        let top = |fraction: f64| {
            if n == 0 {
                return 0.0;
            }
            let k = ((n as f64 * fraction).ceil() as usize).clamp(1, n);
            (total - prefix[n - k]) as f64 / total as f64
        };
        LongTail {
            gini: gini(&counts),
            lorenz,
            top_1pct_share: top(0.01),
            top_10pct_share: top(0.10),
            top_20pct_share: top(0.20),
            finding: String::new(),
        }
    }

    fn length(&self) -> ByStar<LengthRow> {
        let rows: Vec<LengthRow> = self
            .words
            .iter()
            .enumerate()
            .map(|(star, histogram)| {
                let reviews: u64 = histogram.iter().sum();
                let sum: u64 = histogram
                    .iter()
                    .enumerate()
                    .map(|(words, &c)| words as u64 * c)
                    .sum();
                LengthRow {
                    stars: star as u8 + 1,
                    reviews,
                    mean: if reviews > 0 {
                        sum as f64 / reviews as f64
                    } else {
                        f64::NAN
                    },
                    q1: quantile(histogram, reviews, 0.25),
                    median: quantile(histogram, reviews, 0.5),
                    q3: quantile(histogram, reviews, 0.75),
                }
            })
            .collect();
        ByStar {
            n: rows.iter().map(|r| r.reviews).sum(),
            rows,
            finding: String::new(),
        }
    }

    fn votes(&self) -> ByStar<VotesRow> {
        let rows: Vec<VotesRow> = self
            .votes
            .iter()
            .enumerate()
            .map(|(star, &(reviews, sum, voted))| VotesRow {
                stars: star as u8 + 1,
                reviews,
                mean: if reviews > 0 {
                    sum as f64 / reviews as f64
                } else {
                    f64::NAN
                },
                share_voted: share(voted, reviews),
            })
            .collect();
        ByStar {
            n: rows.iter().map(|r| r.reviews).sum(),
            rows,
            finding: String::new(),
        }
    }

    fn price(&self) -> Price {
        // Per band: items, reviews, rating sum.
        let mut bands = [(0u64, 0u64, 0.0f64); PRICE_EDGES.len()];
        for item in self.active_items() {
            let Some(price) = item.price else { continue };
            let band = PRICE_EDGES.partition_point(|&edge| edge <= price).max(1) - 1;
            let rating = item.features[0];
            bands[band].0 += 1;
            bands[band].1 += u64::from(rating.n);
            bands[band].2 += rating.sum;
        }
        let items_with_price = bands.iter().map(|b| b.0).sum();
        let reviews = bands.iter().map(|b| b.1).sum();
        let bands = bands
            .iter()
            .enumerate()
            .filter(|(_, band)| band.1 > 0)
            .map(|(i, &(items, reviews, sum))| {
                let low = PRICE_EDGES[i];
                let high = PRICE_EDGES.get(i + 1).copied();
                PriceBand {
                    label: match high {
                        Some(high) => format!("${low:.0}–{high:.0}"),
                        None => format!("${low:.0}+"),
                    },
                    low,
                    high,
                    items,
                    reviews,
                    mean_rating: sum / reviews as f64,
                }
            })
            .collect();
        Price {
            items_with_price,
            reviews,
            bands,
            finding: String::new(),
        }
    }

    fn verified(&self) -> Verified {
        let mut groups = Vec::new();
        for status in [1usize, 0] {
            let stars = &self.verified_stars[status];
            let reviews: u64 = stars.iter().sum();
            if reviews == 0 {
                continue;
            }
            let weighted: u64 = stars.iter().zip(1u64..).map(|(c, s)| c * s).sum();
            let (texts, words) = self.verified_words[status];
            let (voted, votes) = self.verified_votes[status];
            groups.push(VerifiedGroup {
                verified: status == 1,
                reviews,
                mean_rating: weighted as f64 / reviews as f64,
                shares: stars.map(|c| share(c, reviews)),
                mean_words: (texts > 0).then(|| words as f64 / texts as f64),
                mean_votes: (voted > 0).then(|| votes as f64 / voted as f64),
            });
        }
        let table: Vec<Vec<u64>> = (0..5)
            .map(|star| vec![self.verified_stars[1][star], self.verified_stars[0][star]])
            .collect();
        Verified {
            known: groups.iter().map(|g| g.reviews).sum(),
            groups,
            chi_square: chi_square(&table),
            finding: String::new(),
        }
    }

    fn groups(
        &self,
        kind: &str,
        definition: &str,
        names: &IdMap,
        of_item: impl Fn(&ItemState) -> &[u32],
    ) -> Groups {
        // Per group: items, interactions, reviews (rated), rating sum.
        let mut totals = vec![(0u64, 0u64, 0u64, 0.0f64); names.len()];
        for item in self.active_items() {
            let rating = item.features[0];
            for &group in of_item(item) {
                let total = &mut totals[group as usize];
                total.0 += 1;
                total.1 += u64::from(item.interactions);
                total.2 += u64::from(rating.n);
                total.3 += rating.sum;
            }
        }
        let mut rows: Vec<GroupRow> = totals
            .iter()
            .enumerate()
            .filter(|(_, t)| t.0 > 0)
            .map(|(id, &(items, interactions, reviews, sum))| GroupRow {
                name: names.id(id as u32).to_owned(),
                items,
                interactions,
                reviews,
                mean_rating: (reviews > 0).then(|| sum / reviews as f64),
            })
            .collect();
        let total = rows.len() as u64;
        let top = self.options.top_groups;
        rows.sort_by(|a, b| {
            b.interactions
                .cmp(&a.interactions)
                .then_with(|| a.name.cmp(&b.name))
        });
        let by_volume = rows.iter().take(top).cloned().collect();
        let min_reviews = self.options.min_group_reviews;
        let mut rated: Vec<&GroupRow> = rows.iter().filter(|r| r.reviews >= min_reviews).collect();
        let mean = |r: &GroupRow| r.mean_rating.unwrap_or(f64::NAN);
        rated.sort_by(|a, b| {
            mean(b)
                .total_cmp(&mean(a))
                .then_with(|| b.reviews.cmp(&a.reviews))
        });
        let by_rating = rated.iter().take(top).map(|r| (*r).clone()).collect();
        let lowest_rated = rated
            .iter()
            .rev()
            .take(top.min(rated.len().saturating_sub(top)));
        Groups {
            kind: kind.to_owned(),
            definition: definition.to_owned(),
            total,
            in_metadata: names.len() as u64,
            by_volume,
            by_rating,
            lowest_rated: lowest_rated.map(|r| (*r).clone()).collect(),
            min_reviews,
            finding: String::new(),
        }
    }

    fn correlation(&self) -> Correlations {
        let features: Vec<String> = FEATURES.iter().map(|f| (*f).to_owned()).collect();
        let mut pearson = Vec::new();
        let mut spearman = Vec::new();
        let sample = self.sample_matrix();
        for a in 0..FEATURES.len() {
            for b in a + 1..FEATURES.len() {
                let moments = self.pair_moments(a, b);
                let value = moments
                    .pearson()
                    .and_then(|r| Correlation::pearson(r, moments.n()));
                pearson.push(FeaturePair { a, b, value });
                spearman.push(FeaturePair {
                    a,
                    b,
                    value: sample_spearman(&sample[a], &sample[b]),
                });
            }
        }
        let sample_size = self.sample.items().len() as u64;
        let sample_of = self.sample.seen();
        let exact = if sample_size == sample_of {
            "here every review".to_owned()
        } else {
            format!(
                "here {sample_size} of {sample_of} reviews, capacity {}",
                self.sample.capacity()
            )
        };
        Correlations {
            features,
            pearson,
            spearman,
            sample_size,
            sample_of,
            method: format!(
                "Each review is a row, with its item's price and popularity (interactions). \
                 Pearson's r is exact over every review that has both features (streaming sums; \
                 item features joined through per-item sums). Spearman's ρ needs ranks, so it \
                 is computed on a uniform reservoir sample of reviews ({exact}). P-values: t test \
                 with n − 2 degrees of freedom; {:.0} % intervals: Fisher z transform (standard \
                 error 1/√(n−3) for r, √(1.06/(n−3)) for ρ). Every review counts, repeats of a \
                 (user, item) pair included; an item's popularity is its distinct users.",
                super::correlation::CONFIDENCE * 100.0
            ),
            finding: String::new(),
        }
    }

    /// Pearson co-moments of features `a < b` over the reviews that have both.
    fn pair_moments(&self, a: usize, b: usize) -> Moments {
        if b < REVIEW_FEATURES {
            return self.pairs[a][b];
        }
        let mut moments = Moments::default();
        for item in self.active_items() {
            let reviews = f64::from(item.features[0].n);
            let popularity = f64::from(item.interactions);
            match (a, b) {
                (PRICE, POPULARITY) => {
                    if let Some(price) = item.price {
                        moments.add_group(
                            reviews,
                            reviews * price,
                            reviews * price * price,
                            popularity,
                        );
                    }
                }
                (x, PRICE) => {
                    if let Some(price) = item.price {
                        let sums = item.features[x];
                        moments.add_group(f64::from(sums.n), sums.sum, sums.sum_sq, price);
                    }
                }
                (x, _) => {
                    let sums = item.features[x];
                    moments.add_group(f64::from(sums.n), sums.sum, sums.sum_sq, popularity);
                }
            }
        }
        moments
    }

    /// The sample as one column per feature (NaN: missing), item features joined in.
    fn sample_matrix(&self) -> Vec<Vec<f64>> {
        let rows = self.sample.items();
        let mut columns = vec![Vec::with_capacity(rows.len()); FEATURES.len()];
        for row in rows {
            for (column, &value) in columns.iter_mut().zip(&row.values) {
                column.push(f64::from(value));
            }
            let item = &self.item_state[row.item as usize];
            columns[PRICE].push(item.price.unwrap_or(f64::NAN));
            columns[POPULARITY].push(f64::from(item.interactions));
        }
        columns
    }

    fn cold_start(&self) -> ColdStart {
        let mut tests = vec![0u32; self.item_state.len()];
        let test_users: Vec<&UserState> = self.user_state.iter().filter(|u| u.count >= 2).collect();
        for user in &test_users {
            tests[user.last_item as usize] += 1;
        }
        let training = |item: usize| u64::from(self.item_state[item].interactions - tests[item]);
        let test_items: Vec<usize> = (0..tests.len()).filter(|&i| tests[i] > 0).collect();
        let cases = test_users.len() as u64;
        let rows = self
            .options
            .cold_start_thresholds
            .iter()
            .map(|&n| {
                let users = test_users
                    .iter()
                    .filter(|u| u64::from(u.count - 1) < n)
                    .count() as u64;
                let test_cases = test_users
                    .iter()
                    .filter(|u| training(u.last_item as usize) < n)
                    .count() as u64;
                let items = test_items.iter().filter(|&&i| training(i) < n).count() as u64;
                ColdStartRow {
                    fewer_than: n,
                    users,
                    user_share: share(users, cases),
                    test_cases,
                    test_case_share: share(test_cases, cases),
                    items,
                    item_share: share(items, test_items.len() as u64),
                }
            })
            .collect();
        ColdStart {
            protocol: "leave-last-out (each user's latest interaction, ties broken by reading \
                       order, is the test case; users with one interaction only train)"
                .to_owned(),
            test_users: cases,
            test_items: test_items.len() as u64,
            rows,
            finding: String::new(),
        }
    }
}

/// The whole star of a rating (rounded, clamped to 1..=5), as an index 0..5.
fn star_of(rating: f32) -> usize {
    (rating.round() as i64).clamp(1, 5) as usize - 1
}

/// A reason with what follows a colon dropped and the numbers that are values replaced by `N`,
/// sign included, so that `rating not a number: "five"` and `rating not a number: "4,5"` count
/// together, and so do `rating -1 out of range 1..=5` and `rating 7 out of range 1..=5`. Digits
/// that belong to a word (`UTF-8`, `x86`, `2nd`) or bound a range (`1..=5`) are not values.
fn generalise(reason: &str) -> String {
    let head = reason.split(": ").next().unwrap_or(reason).trim();
    let chars: Vec<char> = head.chars().collect();
    let mut out = String::with_capacity(head.len());
    let mut i = 0;
    while i < chars.len() {
        match value_end(&chars, i) {
            Some(end) => {
                out.push('N');
                i = end;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    if out.chars().count() > 120 {
        out = out.chars().take(119).collect::<String>() + "…";
    }
    out
}

/// The end of the number starting at `start` (a sign, digits, a fraction, an exponent), if
/// one that stands as a value starts there: not inside a word (`UTF-8`, `x86`, `2nd`, `v1.2`)
/// and not a bound of a range (`1..=5`).
fn value_end(chars: &[char], start: usize) -> Option<usize> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let at = |i: usize| chars.get(i).copied();
    let digit = |i: usize| at(i).is_some_and(|c| c.is_ascii_digit());
    let before = |n: usize| start.checked_sub(n).and_then(at);
    if before(1).is_some_and(word) {
        return None;
    }
    let mut end = start + usize::from(matches!(chars[start], '-' | '+'));
    if !digit(end) {
        return None;
    }
    let hyphenated =
        end == start && matches!(before(1), Some('-' | '.')) && before(2).is_some_and(word);
    let range_end = (before(1) == Some('.') && before(2) == Some('.'))
        || (before(1) == Some('=') && before(2) == Some('.') && before(3) == Some('.'));
    if hyphenated || range_end {
        return None;
    }
    while digit(end) {
        end += 1;
    }
    if at(end) == Some('.') && digit(end + 1) {
        end += 1;
        while digit(end) {
            end += 1;
        }
    }
    if matches!(at(end), Some('e' | 'E')) {
        let sign = usize::from(matches!(at(end + 1), Some('-' | '+')));
        if digit(end + 1 + sign) {
            end += 1 + sign;
            while digit(end) {
                end += 1;
            }
        }
    }
    let range_start = at(end) == Some('.') && at(end + 1) == Some('.');
    if at(end).is_some_and(word) || range_start {
        return None;
    }
    Some(end)
}

/// Spearman's ρ of two sample columns over the rows where both are present.
fn sample_spearman(xs: &[f64], ys: &[f64]) -> Option<Correlation> {
    let (xs, ys): (Vec<f64>, Vec<f64>) = xs
        .iter()
        .zip(ys)
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .map(|(&x, &y)| (x, y))
        .unzip();
    let rho = spearman_of(&xs, &ys)?;
    Correlation::spearman(rho, xs.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eda::correlation::pearson_of;

    /// Pearson's r of two columns over the rows where both are present.
    fn complete_pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
        let (xs, ys): (Vec<f64>, Vec<f64>) = xs
            .iter()
            .zip(ys)
            .filter(|(x, y)| !x.is_nan() && !y.is_nan())
            .map(|(&x, &y)| (x, y))
            .unzip();
        pearson_of(&xs, &ys)
    }

    fn review(user: &str, asin: &str, rating: f32, day: i64) -> Review {
        Review::rating(user, asin, rating, 1_388_534_400 + day * 86_400)
    }

    fn product(asin: &str, price: Option<f64>, brand: &str, categories: &[&str]) -> Product {
        Product {
            asin: asin.into(),
            price,
            brand: Some(brand.into()),
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            ..Product::default()
        }
    }

    #[test]
    fn reasons_are_generalised() {
        assert_eq!(
            generalise("rating not a number: \"five\""),
            "rating not a number"
        );
        assert_eq!(
            generalise("3 fields, expected 2 (user item)"),
            "N fields, expected N (user item)"
        );
        assert_eq!(
            generalise("line of 70000000 bytes is longer than the limit of 67108864 bytes"),
            "line of N bytes is longer than the limit of N bytes"
        );
    }

    #[test]
    fn only_numbers_that_are_values_are_generalised() {
        // Digits of a word stay: the reason of a line that is not UTF-8 keeps its name.
        assert_eq!(
            generalise("not UTF-8: invalid byte at offset 12"),
            "not UTF-8"
        );
        assert_eq!(generalise("bad x86 byte 2nd time"), "bad x86 byte 2nd time");
        // A sign goes with its number, and a range's bounds are part of the message.
        for reason in [
            "rating -1 out of range 1..=5",
            "rating 7 out of range 1..=5",
            "rating 4.5e3 out of range 1..=5",
            "rating +9 out of range 1..=5",
        ] {
            assert_eq!(
                generalise(reason),
                "rating N out of range 1..=5",
                "{reason}"
            );
        }
        assert_eq!(generalise("-3 fields (UTF-8)"), "N fields (UTF-8)");
        assert_eq!(generalise("a - b"), "a - b");
    }

    #[test]
    fn counts_histogram_and_metadata_join() {
        let mut stats = StatsBuilder::new(StatsOptions::default());
        // Metadata may come before or after the reviews.
        stats.add_product(&product(
            "i1",
            Some(7.5),
            "Acme",
            &["Music", "Guitars", "x"],
        ));
        for (user, asin, rating, day) in [
            ("u1", "i1", 5.0, 0),
            ("u1", "i2", 3.0, 40),
            ("u2", "i1", 4.0, 1),
            ("u3", "i1", 1.0, 2),
        ] {
            stats.add_review(&review(user, asin, rating, day));
        }
        stats.add_product(&product("i3", None, "Other", &["Music"]));
        stats.add_product(&product("i1", Some(99.0), "Dup", &[]));
        stats.add_problem("missing field `asin`", Some("f.json:7"));
        let report = stats.finish("t", Vec::new());
        let o = &report.overview;
        assert_eq!((o.interactions, o.users, o.items), (4, 3, 2));
        assert!((o.density - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!((o.products, o.duplicate_products), (3, 1));
        assert_eq!(
            (o.items_with_metadata, o.products_without_interactions),
            (1, 1)
        );
        assert_eq!(o.first_date.as_deref(), Some("2014-01-01"));
        assert_eq!(o.last_date.as_deref(), Some("2014-02-10"));
        assert_eq!(report.ratings.histogram, [1, 0, 1, 1, 1]);
        assert_eq!(report.ratings.mean, Some(13.0 / 4.0));
        assert_eq!(report.time.months.len(), 2);
        assert_eq!(report.time.months[0].reviews, 3);
        assert_eq!(report.price.bands.len(), 1);
        assert_eq!(report.price.bands[0].label, "$5–10");
        assert_eq!(report.price.bands[0].reviews, 3);
        assert_eq!(report.categories.by_volume[0].name, "Guitars");
        assert_eq!(report.brands.by_volume[0].name, "Acme");
        assert_eq!(report.brands.by_volume[0].mean_rating, Some(10.0 / 3.0));
        assert_eq!(report.quarantine.total, 1);
        assert_eq!(report.quarantine.reasons[0].examples, ["f.json:7"]);
        // Item popularity: i1 has 3 of the 4 interactions.
        assert_eq!(report.activity.items.max, 3);
        assert!((report.long_tail.gini.unwrap() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn exact_pearson_matches_the_joined_rows() {
        // Reviews with every feature, and items with prices: the streaming r (through per-item
        // sums) must equal r computed on the explicitly joined rows.
        let mut stats = StatsBuilder::new(StatsOptions {
            sample_size: 3, // tiny: the Pearson values must not depend on it
            ..StatsOptions::default()
        });
        let prices = [Some(3.0), Some(12.0), None, Some(40.0)];
        for (i, price) in prices.iter().enumerate() {
            stats.add_product(&product(&format!("i{i}"), *price, "b", &["c"]));
        }
        let mut rows: Vec<[f64; 7]> = Vec::new();
        let mut popularity = [0.0; 4];
        let mut reviewers = std::collections::HashSet::new();
        for k in 0..40u32 {
            let item = (k * k + k / 3) as usize % 4; // 14, 7, 13 and 6 reviews
            let rating = 1 + (k * 7 + item as u32) % 5;
            let words = (k % 9) * 10 + item as u32;
            let mut r = review(
                &format!("u{}", k % 11),
                &format!("i{item}"),
                rating as f32,
                i64::from(k * 13),
            );
            r.text = Some("w ".repeat(words as usize));
            r.verified = Some(k % 3 != 0);
            r.votes = (k % 4 != 0).then_some(k % 6);
            stats.add_review(&r);
            // An item's popularity is its distinct users: a user's repeat adds nothing.
            if reviewers.insert((k % 11, item)) {
                popularity[item] += 1.0;
            }
            let votes = r.votes.map_or(0.0, f64::from); // 2018 reviews without `vote` have 0
            rows.push([
                f64::from(rating),
                f64::from(words),
                votes,
                f64::from(u8::from(k % 3 != 0)),
                fractional_year(r.timestamp),
                prices[item].unwrap_or(f64::NAN),
                item as f64, // replaced by the popularity below
            ]);
        }
        for row in &mut rows {
            row[6] = popularity[row[6] as usize];
        }
        let report = stats.finish("t", Vec::new());
        for pair in &report.correlation.pearson {
            let xs: Vec<f64> = rows.iter().map(|r| r[pair.a]).collect();
            let ys: Vec<f64> = rows.iter().map(|r| r[pair.b]).collect();
            let expected = complete_pearson(&xs, &ys).expect("every pair varies");
            let got = pair.value.expect("a coefficient").r;
            assert!(
                (got - expected).abs() < 1e-9,
                "{} x {}: {got} vs {expected}",
                FEATURES[pair.a],
                FEATURES[pair.b]
            );
        }
        assert_eq!(report.correlation.sample_size, 3);
        assert_eq!(report.correlation.sample_of, 40);
    }

    #[test]
    fn spearman_uses_the_whole_data_below_the_sample_size() {
        let mut stats = StatsBuilder::new(StatsOptions::default());
        for k in 0..30u32 {
            let mut r = review(&format!("u{k}"), "i", (1 + k % 5) as f32, i64::from(k));
            r.text = Some("w ".repeat((k % 5 * 3 + k % 2) as usize + 1));
            stats.add_review(&r);
        }
        let report = stats.finish("t", Vec::new());
        let c = &report.correlation;
        assert_eq!((c.sample_size, c.sample_of), (30, 30));
        let rating_words = c.spearman.iter().find(|p| (p.a, p.b) == (0, 1)).unwrap();
        assert!(rating_words.value.unwrap().r > 0.9);
        // Votes are unknown (no `verified`, no `vote`): no coefficient.
        assert!(c
            .spearman
            .iter()
            .find(|p| (p.a, p.b) == (0, 2))
            .unwrap()
            .value
            .is_none());
    }

    #[test]
    fn cold_start_follows_leave_last_out() {
        let mut stats = StatsBuilder::new(StatsOptions {
            cold_start_thresholds: vec![1, 2],
            ..StatsOptions::default()
        });
        // u1: a(0) b(5) c(5): tie at day 5, the later record (c) is the test item.
        // u2: a(1) b(0): latest is a. u3: only b (trains only).
        for (user, item, day) in [
            ("u1", "a", 0),
            ("u1", "b", 5),
            ("u1", "c", 5),
            ("u2", "a", 1),
            ("u2", "b", 0),
            ("u3", "b", 3),
        ] {
            stats.add_review(&review(user, item, 5.0, day));
        }
        let cold = stats.finish("t", Vec::new()).cold_start;
        assert_eq!((cold.test_users, cold.test_items), (2, 2));
        // Training: u1 has 2, u2 has 1. Items: c has 0 (its one interaction is a test), a has 1.
        let below1 = &cold.rows[0];
        assert_eq!((below1.users, below1.test_cases, below1.items), (0, 1, 1));
        let below2 = &cold.rows[1];
        assert_eq!((below2.users, below2.test_cases, below2.items), (1, 2, 2));
        assert!((below2.user_share - 0.5).abs() < 1e-12);
    }

    #[test]
    fn sequences_count_as_unrated_interactions_in_order() {
        let mut stats = StatsBuilder::new(StatsOptions::default());
        stats.add_sequence(&Sequence {
            user: 1,
            items: vec![1, 2, 3],
        });
        stats.add_sequence(&Sequence {
            user: 2,
            items: vec![3],
        });
        stats.add_attributes(&ItemAttributes {
            item: 3,
            attributes: vec![7, 7, 8],
        });
        let report = stats.finish("seq", Vec::new());
        assert_eq!((report.overview.rated, report.overview.unrated), (0, 4));
        assert_eq!(report.ratings.mean, None);
        assert_eq!(report.overview.items_with_metadata, 1);
        assert_eq!(report.categories.total, 2);
        assert_eq!(report.categories.by_volume[0].reviews, 0);
        assert_eq!(report.categories.by_volume[0].interactions, 2);
        assert_eq!(report.cold_start.test_users, 1);
        // User 1's test item is 3 (last of the sequence), trained on by user 2.
        assert_eq!(report.cold_start.rows[1].test_cases, 1); // fewer than 2
        assert_eq!(report.cold_start.rows[0].test_cases, 0); // fewer than 1
    }

    #[test]
    fn verified_split_and_chi_square() {
        let mut stats = StatsBuilder::new(StatsOptions::default());
        for k in 0..100u32 {
            let verified = k % 2 == 0;
            // Verified reviews are all 5 stars, unverified ones spread over 1..5.
            let rating = if verified { 5.0 } else { (1 + k % 5) as f32 };
            let mut r = review(&format!("u{k}"), "i", rating, 0);
            r.verified = Some(verified);
            stats.add_review(&r);
        }
        let v = stats.finish("t", Vec::new()).verified;
        assert_eq!(v.known, 100);
        assert!(v.groups[0].verified && v.groups[0].mean_rating == 5.0);
        let test = v.chi_square.unwrap();
        assert_eq!(test.df, 4);
        assert!(test.p_value < 1e-6, "{test:?}");
    }
}
