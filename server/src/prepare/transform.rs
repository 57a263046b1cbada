//! The cleaning and feature steps of `recsys prepare`, on in-memory rows: no database here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::dataset::{Product, Review};

/// A review read from the store, with the place it was first read from (for a stable order).
#[derive(Debug, Clone)]
pub struct SourceReview {
    /// The review's fields.
    pub review: Review,
    /// Sort key giving the order the reviews were ingested in: run, file position in the run,
    /// line. Reviews without provenance sort last, by `_id`.
    pub position: (String, usize, i64, String),
}

/// One cleaned interaction with its features.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Reviewer id.
    pub user: String,
    /// ASIN.
    pub asin: String,
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

/// Keeps one review per (user, item): the latest (largest time, then the last in `position`
/// order), at its own position; returns them in `position` order and how many were dropped.
pub fn deduplicate(mut reviews: Vec<SourceReview>) -> (Vec<SourceReview>, u64) {
    reviews.sort_by(|a, b| a.position.cmp(&b.position));
    let mut latest: HashMap<(String, String), usize> = HashMap::new();
    for (i, r) in reviews.iter().enumerate() {
        let key = (r.review.user.clone(), r.review.asin.clone());
        match latest.get(&key) {
            Some(&j) if reviews[j].review.timestamp > r.review.timestamp => {}
            _ => {
                latest.insert(key, i);
            }
        }
    }
    let keep: BTreeSet<usize> = latest.into_values().collect();
    let dropped = (reviews.len() - keep.len()) as u64;
    let kept = reviews
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, r)| r)
        .collect();
    (kept, dropped)
}

/// Drops users and items with fewer than `k` interactions, again and again until every one
/// left has at least `k` (the k-core). Order is kept. `k <= 1` changes nothing.
pub fn k_core(mut reviews: Vec<SourceReview>, k: usize) -> Vec<SourceReview> {
    loop {
        let mut users: HashMap<&str, usize> = HashMap::new();
        let mut items: HashMap<&str, usize> = HashMap::new();
        for r in &reviews {
            *users.entry(r.review.user.as_str()).or_default() += 1;
            *items.entry(r.review.asin.as_str()).or_default() += 1;
        }
        let keep: Vec<bool> = reviews
            .iter()
            .map(|r| users[r.review.user.as_str()] >= k && items[r.review.asin.as_str()] >= k)
            .collect();
        if keep.iter().all(|&k| k) {
            return reviews;
        }
        let mut keep = keep.into_iter();
        reviews.retain(|_| keep.next().unwrap_or(false));
    }
}

/// The interactions with their features: per-user mean-centred rating, confidence
/// `1 + alpha * rating / 5`, review length and helpfulness.
pub fn interactions(reviews: &[SourceReview], alpha: f64) -> Vec<Prepared> {
    let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
    for r in reviews {
        let entry = sums.entry(r.review.user.as_str()).or_default();
        entry.0 += f64::from(r.review.rating);
        entry.1 += 1.0;
    }
    reviews
        .iter()
        .map(|r| {
            let review = &r.review;
            let rating = f64::from(review.rating);
            let (sum, n) = sums[review.user.as_str()];
            let votes = review.votes.or(review.helpful.map(|(h, _)| h));
            let helpful_ratio = match review.helpful {
                Some((h, total)) if total > 0 => Some(f64::from(h) / f64::from(total)),
                _ => None,
            };
            Prepared {
                user: review.user.clone(),
                asin: review.asin.clone(),
                rating: review.rating,
                rating_centred: rating - sum / n,
                confidence: 1.0 + alpha * rating / 5.0,
                time: review.timestamp,
                review_length: review
                    .text
                    .as_deref()
                    .map_or(0, |t| t.chars().count() as u64),
                helpful_votes: votes.map_or(0, u64::from),
                helpful_ratio,
                verified: review.verified,
            }
        })
        .collect()
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

    fn review(user: &str, asin: &str, rating: f32, time: i64, line: i64) -> SourceReview {
        SourceReview {
            review: Review {
                user: user.into(),
                asin: asin.into(),
                rating,
                timestamp: time,
                verified: None,
                votes: None,
                helpful: None,
                text: None,
                summary: None,
                reviewer_name: None,
            },
            position: ("run".into(), 0, line, String::new()),
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
        let rows = vec![
            review("u", "a", 1.0, 20, 3),
            review("u", "a", 5.0, 10, 1),
            review("v", "a", 3.0, 5, 2),
        ];
        let (kept, dropped) = deduplicate(rows);
        assert_eq!(dropped, 1);
        let got: Vec<(&str, f32)> = kept
            .iter()
            .map(|r| (r.review.user.as_str(), r.review.rating))
            .collect();
        assert_eq!(got, [("v", 3.0), ("u", 1.0)]);
    }

    #[test]
    fn k_core_iterates_until_stable() {
        // c has one rating: it goes, then u3 has one and goes; the 2-core is u1, u2 x a, b.
        let rows = vec![
            review("u1", "a", 5.0, 1, 1),
            review("u1", "b", 5.0, 1, 2),
            review("u2", "a", 5.0, 1, 3),
            review("u2", "b", 5.0, 1, 4),
            review("u3", "a", 5.0, 1, 5),
            review("u3", "c", 5.0, 1, 6),
        ];
        let core = k_core(rows.clone(), 2);
        assert_eq!(core.len(), 4);
        assert!(core.iter().all(|r| r.review.user != "u3"));
        // A chain that unravels completely at k = 3.
        assert!(k_core(rows.clone(), 3).is_empty());
        assert_eq!(k_core(rows, 1).len(), 6);
    }

    #[test]
    fn ratings_are_centred_per_user_and_weighted() {
        let mut rows = vec![review("u", "a", 5.0, 1, 1), review("u", "b", 3.0, 2, 2)];
        rows[0].review.text = Some("héllo".into());
        rows[0].review.helpful = Some((3, 4));
        rows[1].review.votes = Some(7);
        let got = interactions(&rows, 4.0);
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
