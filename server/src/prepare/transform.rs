//! The cleaning and feature steps of `recsys prepare`, on in-memory rows: no database here.
//!
//! Reviews are held as compact [`Row`]s (dense user and item ids, numbers, no text), so that
//! memory grows with the number of interactions, not with the size of the review documents.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use crate::dataset::{Product, Review};

/// Dense ids for strings (users, items, runs), in first-seen order.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Interner {
    /// The id of `name`, given the next free one if it is new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.names.push(Arc::clone(&name));
        self.ids.insert(name, id);
        id
    }

    /// The id of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The name of `id`.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// How many names have ids.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name has an id.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// For each id, its rank among the names in string order.
    pub fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut ranks = vec![0; order.len()];
        for (rank, id) in order.into_iter().enumerate() {
            ranks[id as usize] = rank as u32;
        }
        ranks
    }
}

/// Where a review was first read from, for a stable order: run, file position in the run,
/// line, then `_id`. Reviews without provenance sort last, by `_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The run, as an id of the runs' [`Interner`] (compared by the runs' string order).
    pub run: u32,
    /// The file's position among the files of its run (`u32::MAX` when unknown).
    pub file: u32,
    /// The line in the file (`i64::MAX` when unknown).
    pub line: i64,
    /// The `_id`, when it is not the usual `user|asin|seconds` of the row (which is then rebuilt
    /// for comparisons).
    pub id: Option<Box<str>>,
}

/// One usable review, compact: what preparing needs, the text reduced to its length.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// User id (of the users' [`Interner`]).
    pub user: u32,
    /// Item id (of the items' [`Interner`]).
    pub item: u32,
    /// Star rating, 1 to 5.
    pub rating: f32,
    /// Unix seconds.
    pub time: i64,
    /// Characters of review text (0 when there is none).
    pub review_length: u32,
    /// Helpful votes (2018 `vote`, else 2014 `helpful[0]`; 0 when unknown).
    pub votes: u32,
    /// Helpful votes and votes in all (2014 `helpful`), when known.
    pub helpful: Option<(u32, u32)>,
    /// Whether the purchase was verified, when known.
    pub verified: Option<bool>,
    /// Where it was read from.
    pub position: Position,
}

impl Row {
    /// The compact row of `review` (whose user and item already have ids).
    pub fn new(review: &Review, user: u32, item: u32, position: Position) -> Self {
        let votes = review.votes.or(review.helpful.map(|(helpful, _)| helpful));
        Self {
            user,
            item,
            rating: review.rating,
            time: review.timestamp,
            review_length: review
                .text
                .as_deref()
                .map_or(0, |t| u32::try_from(t.chars().count()).unwrap_or(u32::MAX)),
            votes: votes.unwrap_or(0),
            helpful: review.helpful,
            verified: review.verified,
            position,
        }
    }
}

/// One cleaned interaction with its features.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// User id (of the users' [`Interner`]).
    pub user: u32,
    /// Item id (of the items' [`Interner`]).
    pub item: u32,
    /// Star rating, 1 to 5.
    pub rating: f32,
    /// Rating minus the user's mean rating (over the prepared interactions).
    pub rating_centred: f64,
    /// Implicit-feedback confidence, `1 + alpha * rating / 5`.
    pub confidence: f64,
    /// Unix seconds.
    pub time: i64,
    /// Characters of review text (0 when there is none).
    pub review_length: u64,
    /// Helpful votes (0 when unknown).
    pub helpful_votes: u64,
    /// `votes / votes_total` when the total is known and positive, else `None`.
    pub helpful_ratio: Option<f64>,
    /// Whether the purchase was verified, when known.
    pub verified: Option<bool>,
}

/// Encoded features of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFeatures {
    /// ASIN.
    pub asin: String,
    /// Brand id, 0 = unknown (no metadata, or no brand).
    pub brand_id: u32,
    /// Id of the full category path, 0 = unknown.
    pub category_id: u32,
    /// Id of the root category, 0 = unknown.
    pub top_category_id: u32,
    /// The price in dollars as stored, when there is one.
    pub price: Option<f64>,
    /// `log1p(price)` (imputed where missing), z-scored over the items with a known price.
    pub price_norm: f64,
    /// The price was missing and imputed.
    pub price_imputed: bool,
    /// No brand was known.
    pub brand_missing: bool,
    /// No category was known.
    pub category_missing: bool,
    /// A product document exists for the ASIN.
    pub has_metadata: bool,
}

/// Dense ids of brands and category paths: index `i` holds the name of id `i + 1` (id 0 is
/// "unknown").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    /// Brand names, sorted.
    pub brands: Vec<String>,
    /// Category paths joined by `" > "`, sorted.
    pub categories: Vec<String>,
}

/// Separator of category path levels in [`Vocabulary::categories`].
pub const PATH_SEPARATOR: &str = " > ";

/// Sorts `rows` by [`Position`]: run (by `run_ranks`, the runs' string order), file, line, then
/// `_id` (rebuilt by `id` for rows that do not carry theirs). The sort is stable.
pub fn sort_by_position(rows: &mut [Row], run_ranks: &[u32], id: impl Fn(&Row) -> String) {
    rows.sort_by(|a, b| {
        let (pa, pb) = (&a.position, &b.position);
        (run_ranks[pa.run as usize], pa.file, pa.line)
            .cmp(&(run_ranks[pb.run as usize], pb.file, pb.line))
            .then_with(|| match (&pa.id, &pb.id) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(x), None) => (**x).cmp(id(b).as_str()),
                (None, Some(y)) => id(a).as_str().cmp(y),
                (None, None) => id(a).cmp(&id(b)),
            })
    });
}

/// Keeps one row per (user, item): the latest (largest time, then the last in order), at its
/// own place; `rows` are in [`Position`] order ([`sort_by_position`]) and stay so. Returns how
/// many were dropped.
pub fn deduplicate(rows: Vec<Row>) -> (Vec<Row>, u64) {
    let mut latest: HashMap<(u32, u32), usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        match latest.get(&(r.user, r.item)) {
            Some(&j) if rows[j].time > r.time => {}
            _ => {
                latest.insert((r.user, r.item), i);
            }
        }
    }
    let mut keep = vec![false; rows.len()];
    for i in latest.into_values() {
        keep[i] = true;
    }
    let dropped = keep.iter().filter(|&&k| !k).count() as u64;
    let mut keep = keep.into_iter();
    let mut rows = rows;
    rows.retain(|_| keep.next().unwrap_or(false));
    (rows, dropped)
}

fn counts<K: Copy + Eq + Hash>(keys: impl Iterator<Item = K>) -> HashMap<K, usize> {
    let mut counts = HashMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    counts
}

/// Drops users and items with fewer than `k` interactions, again and again until every one
/// left has at least `k` (the k-core). Order is kept. `k <= 1` changes nothing.
pub fn k_core(mut rows: Vec<Row>, k: usize) -> Vec<Row> {
    loop {
        let users = counts(rows.iter().map(|r| r.user));
        let items = counts(rows.iter().map(|r| r.item));
        let keep: Vec<bool> = rows
            .iter()
            .map(|r| users[&r.user] >= k && items[&r.item] >= k)
            .collect();
        if keep.iter().all(|&k| k) {
            return rows;
        }
        let mut keep = keep.into_iter();
        rows.retain(|_| keep.next().unwrap_or(false));
    }
}

/// The interactions with their features, in the order of `rows`: per-user mean-centred rating,
/// confidence `1 + alpha * rating / 5`, review length and helpfulness.
pub fn interactions(rows: &[Row], alpha: f64) -> impl Iterator<Item = Prepared> + '_ {
    let mut sums: HashMap<u32, (f64, f64)> = HashMap::new();
    for r in rows {
        let entry = sums.entry(r.user).or_default();
        entry.0 += f64::from(r.rating);
        entry.1 += 1.0;
    }
    rows.iter().map(move |r| {
        let rating = f64::from(r.rating);
        let (sum, n) = sums[&r.user];
        Prepared {
            user: r.user,
            item: r.item,
            rating: r.rating,
            rating_centred: rating - sum / n,
            confidence: 1.0 + alpha * rating / 5.0,
            time: r.time,
            review_length: u64::from(r.review_length),
            helpful_votes: u64::from(r.votes),
            helpful_ratio: match r.helpful {
                Some((h, total)) if total > 0 => Some(f64::from(h) / f64::from(total)),
                _ => None,
            },
            verified: r.verified,
        }
    })
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

fn brand_of(product: Option<&Product>) -> Option<&str> {
    product
        .and_then(|p| p.brand.as_deref())
        .map(str::trim)
        .filter(|b| !b.is_empty())
}

fn path_of(product: Option<&Product>) -> Option<String> {
    product
        .filter(|p| !p.categories.is_empty())
        .map(|p| p.categories.join(PATH_SEPARATOR))
}

fn known_price(product: Option<&Product>) -> Option<f64> {
    product
        .and_then(|p| p.price)
        .filter(|p| p.is_finite() && *p >= 0.0)
}

/// Encodes the items `asins` (in that order) from their products: brand and category path to
/// dense ids (sorted names, 0 = unknown), price imputed (median `log1p` price of the same
/// category path, else of the same root category, else of all items) and z-scored.
pub fn item_features(
    asins: &[String],
    products: &HashMap<String, Product>,
) -> (Vec<ItemFeatures>, Vocabulary) {
    let lookup = |asin: &String| products.get(asin);
    let brands: BTreeSet<&str> = asins.iter().filter_map(|a| brand_of(lookup(a))).collect();
    let paths: BTreeSet<String> = asins.iter().filter_map(|a| path_of(lookup(a))).collect();
    let roots: BTreeSet<String> = asins
        .iter()
        .filter_map(|a| lookup(a).and_then(|p| p.categories.first().cloned()))
        .collect();
    let mut categories: BTreeSet<String> = paths;
    categories.extend(roots);
    let vocabulary = Vocabulary {
        brands: brands.iter().map(|b| b.to_string()).collect(),
        categories: categories.into_iter().collect(),
    };
    let brand_ids: HashMap<&str, u32> = vocabulary
        .brands
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_str(), i as u32 + 1))
        .collect();
    let category_ids: HashMap<&str, u32> = vocabulary
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32 + 1))
        .collect();

    // log1p prices per category path and root, for the imputation.
    let mut by_path: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_root: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut all = Vec::new();
    for asin in asins {
        let product = lookup(asin);
        if let Some(price) = known_price(product) {
            let value = price.ln_1p();
            if let Some(path) = path_of(product) {
                by_path.entry(path).or_default().push(value);
            }
            if let Some(root) = product.and_then(|p| p.categories.first()) {
                by_root.entry(root.clone()).or_default().push(value);
            }
            all.push(value);
        }
    }
    let (mean, std) = if all.is_empty() {
        (0.0, 0.0)
    } else {
        let n = all.len() as f64;
        let mean = all.iter().sum::<f64>() / n;
        let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    };
    let path_median: HashMap<String, f64> = by_path
        .into_iter()
        .filter_map(|(k, mut v)| median(&mut v).map(|m| (k, m)))
        .collect();
    let root_median: HashMap<String, f64> = by_root
        .into_iter()
        .filter_map(|(k, mut v)| median(&mut v).map(|m| (k, m)))
        .collect();
    let global_median = median(&mut all.clone()).unwrap_or(0.0);

    let features = asins
        .iter()
        .map(|asin| {
            let product = lookup(asin);
            let brand = brand_of(product);
            let path = path_of(product);
            let root = product.and_then(|p| p.categories.first());
            let price = known_price(product);
            let log_price = match price {
                Some(p) => p.ln_1p(),
                None => path
                    .as_ref()
                    .and_then(|p| path_median.get(p))
                    .or_else(|| root.and_then(|r| root_median.get(r)))
                    .copied()
                    .unwrap_or(global_median),
            };
            ItemFeatures {
                asin: asin.clone(),
                brand_id: brand.map_or(0, |b| brand_ids[b]),
                category_id: path.as_deref().map_or(0, |p| category_ids[p]),
                top_category_id: root.map_or(0, |r| category_ids[r.as_str()]),
                price,
                price_norm: if std > 0.0 {
                    (log_price - mean) / std
                } else {
                    0.0
                },
                price_imputed: price.is_none(),
                brand_missing: brand.is_none(),
                category_missing: path.is_none(),
                has_metadata: product.is_some(),
            }
        })
        .collect();
    (features, vocabulary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare(user: &str, asin: &str, rating: f32, time: i64) -> Review {
        Review::rating(user, asin, rating, time)
    }

    /// Rows of one run, at the lines given, with their users and items.
    #[derive(Default)]
    struct Rows {
        users: Interner,
        items: Interner,
        rows: Vec<Row>,
    }

    impl Rows {
        fn add(&mut self, review: &Review, line: i64) {
            let (user, item) = (
                self.users.intern(&review.user),
                self.items.intern(&review.asin),
            );
            let position = Position {
                run: 0,
                file: 0,
                line,
                id: None,
            };
            self.rows.push(Row::new(review, user, item, position));
        }

        fn of(reviews: &[(&str, &str, f32, i64, i64)]) -> Self {
            let mut rows = Self::default();
            for &(user, asin, rating, time, line) in reviews {
                rows.add(&bare(user, asin, rating, time), line);
            }
            rows
        }

        fn id(&self, row: &Row) -> String {
            let (user, asin) = (self.users.name(row.user), self.items.name(row.item));
            format!("{user}|{asin}|{}", row.time)
        }
    }

    fn product(
        asin: &str,
        brand: Option<&str>,
        categories: &[&str],
        price: Option<f64>,
    ) -> Product {
        Product {
            asin: asin.into(),
            title: None,
            brand: brand.map(Into::into),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            description: None,
            price,
            price_raw: None,
            also_buy: vec![],
            also_view: vec![],
            main_cat: None,
            rank: None,
        }
    }

    #[test]
    fn duplicates_keep_the_latest_at_its_own_position() {
        let mut rows = Rows::of(&[
            ("u", "a", 1.0, 20, 3),
            ("u", "a", 5.0, 10, 1),
            ("v", "a", 3.0, 5, 2),
        ]);
        let ids = |row: &Row| format!("{}|{}", row.user, row.time);
        sort_by_position(&mut rows.rows, &[0], ids);
        let (kept, dropped) = deduplicate(rows.rows);
        assert_eq!(dropped, 1);
        let got: Vec<(&str, f32)> = kept
            .iter()
            .map(|r| (rows.users.name(r.user), r.rating))
            .collect();
        assert_eq!(got, [("v", 3.0), ("u", 1.0)]);
    }

    #[test]
    fn positions_sort_by_run_name_file_line_then_id() {
        let mut runs = Interner::default();
        let (late, early) = (runs.intern("b-run"), runs.intern("a-run"));
        let mut rows = Rows::of(&[
            ("u1", "x", 5.0, 1, 7),
            ("u2", "x", 5.0, 1, 1),
            ("u3", "x", 5.0, 1, i64::MAX),
            ("u4", "x", 5.0, 1, i64::MAX),
            ("u5", "x", 5.0, 1, 2),
        ]);
        rows.rows[0].position.run = early;
        rows.rows[1].position.run = late;
        // Two without provenance: by `_id`, a stored one against a rebuilt one.
        for row in &mut rows.rows[2..4] {
            row.position.run = runs.intern("\u{10ffff}");
            row.position.file = u32::MAX;
        }
        rows.rows[2].position.id = Some("zzz".into());
        rows.rows[4].position.run = early;
        rows.rows[4].position.file = 1;
        let mut sorted = rows.rows.clone();
        sort_by_position(&mut sorted, &runs.ranks(), |row| rows.id(row));
        let users: Vec<&str> = sorted.iter().map(|r| rows.users.name(r.user)).collect();
        assert_eq!(users, ["u1", "u5", "u2", "u4", "u3"]);
    }

    #[test]
    fn k_core_iterates_until_stable() {
        // c has one rating: it goes, then u3 has one and goes; the 2-core is u1, u2 x a, b.
        let fixture = Rows::of(&[
            ("u1", "a", 5.0, 1, 1),
            ("u1", "b", 5.0, 1, 2),
            ("u2", "a", 5.0, 1, 3),
            ("u2", "b", 5.0, 1, 4),
            ("u3", "a", 5.0, 1, 5),
            ("u3", "c", 5.0, 1, 6),
        ]);
        let rows = fixture.rows.clone();
        let core = k_core(rows.clone(), 2);
        assert_eq!(core.len(), 4);
        assert!(core.iter().all(|r| fixture.users.name(r.user) != "u3"));
        // A chain that unravels completely at k = 3.
        assert!(k_core(rows.clone(), 3).is_empty());
        assert_eq!(k_core(rows, 1).len(), 6);
    }

    #[test]
    fn ratings_are_centred_per_user_and_weighted() {
        let mut first = bare("u", "a", 5.0, 1);
        first.text = Some("héllo".into());
        first.helpful = Some((3, 4));
        let mut second = bare("u", "b", 3.0, 2);
        second.votes = Some(7);
        let mut rows = Rows::default();
        rows.add(&first, 1);
        rows.add(&second, 2);
        let got: Vec<Prepared> = interactions(&rows.rows, 4.0).collect();
        assert_eq!((got[0].rating_centred, got[1].rating_centred), (1.0, -1.0));
        assert_eq!(
            (got[0].confidence, got[1].confidence),
            (5.0, 1.0 + 4.0 * 0.6)
        );
        assert_eq!((got[0].review_length, got[1].review_length), (5, 0));
        assert_eq!(
            (got[0].helpful_votes, got[0].helpful_ratio),
            (3, Some(0.75))
        );
        assert_eq!((got[1].helpful_votes, got[1].helpful_ratio), (7, None));
    }

    #[test]
    fn missing_values_are_imputed_and_flagged() {
        let products: HashMap<String, Product> = [
            product("a", Some("Acme"), &["Music", "Guitars"], Some(9.0)),
            product("b", Some(" "), &["Music", "Guitars"], None),
            product("c", Some("Zed"), &["Music", "Drums"], Some(99.0)),
            product("d", None, &[], None),
        ]
        .into_iter()
        .map(|p| (p.asin.clone(), p))
        .collect();
        let asins: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let (features, vocabulary) = item_features(&asins, &products);
        assert_eq!(vocabulary.brands, ["Acme", "Zed"]);
        assert_eq!(
            vocabulary.categories,
            ["Music", "Music > Drums", "Music > Guitars"]
        );
        let ids: Vec<(u32, u32, u32)> = features
            .iter()
            .map(|f| (f.brand_id, f.category_id, f.top_category_id))
            .collect();
        assert_eq!(ids, [(1, 3, 1), (0, 3, 1), (2, 2, 1), (0, 0, 0), (0, 0, 0)]);
        // b takes the median of its path (a's price); d and e the median of all known prices.
        assert_eq!(features[1].price_norm, features[0].price_norm);
        assert!(features[1].price_imputed && !features[0].price_imputed);
        assert!((features[0].price_norm + features[2].price_norm).abs() < 1e-12);
        assert!(features[3].price_norm.abs() < 1e-12);
        assert!(features[3].category_missing && features[3].brand_missing);
        assert!(features[3].has_metadata && !features[4].has_metadata);
    }
}
