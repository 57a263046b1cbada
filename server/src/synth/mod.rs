//! `recsys synth`: an Amazon-format dataset of any size with the structure recommenders feed on.
//!
//! Items belong to categories and brands and have power-law popularity; users have power-law
//! activity, a main and a second category and a favourite brand in each, so their choices are
//! predictable from their history (collaborative signal) and from item text (content signal).
//! Output: 2018-format review JSON lines and metadata JSON lines, plain or gzip.

mod vocab;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::eda::calendar::civil_from_days;
use crate::{Error, Result};
use vocab::{Category, CATEGORIES, SUMMARIES};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Number of interactions (reviews), from `users` to `users * (items / 2)` (every user
    /// reviews at least one item and at most half of them): the output has exactly this many.
    pub interactions: usize,
    /// Seed: the same options give the same files.
    pub seed: u64,
    /// Write `.json.gz` instead of `.json`.
    pub gzip: bool,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct SynthOutput {
    /// The review file.
    pub reviews: PathBuf,
    /// The metadata file.
    pub metadata: PathBuf,
    /// Reviews written.
    pub interactions: usize,
}

/// xoshiro256** seeded through SplitMix64: fast, small, repeatable.
#[derive(Debug, Clone)]
pub struct Rng([u64; 4]);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        let mut s = seed;
        let mut next = || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A discrete distribution sampled by binary search over its cumulative weights.
#[derive(Debug, Clone)]
struct Cdf(Vec<f64>);

impl Cdf {
    fn new(weights: impl IntoIterator<Item = f64>) -> Cdf {
        let mut total = 0.0;
        Cdf(weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect())
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let x = rng.f64() * self.0.last().copied().unwrap_or(0.0);
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }
}

/// The chances of 1 to 5 stars for an item of a favourite brand in one of the user's two
/// categories, and for any other item. Amazon's ratings are J-shaped: mostly 5 stars, then 4,
/// and more 1s than 2s or 3s (Musical Instruments: 68 % 5, 20 % 4, 7.5 % 3, 2.4 % 2, 2.1 % 1;
/// larger categories have more 1s). Liking moves the mass up, so ratings still carry the
/// taste; together they give about 57 % 5, 21 % 4, 9 % 3, 5 % 2 and 8 % 1 star.
const LIKED: [f64; 5] = [0.03, 0.02, 0.05, 0.18, 0.72];
const OTHER: [f64; 5] = [0.13, 0.08, 0.13, 0.24, 0.42];

/// The star at which the cumulative chances pass `u` (uniform in [0, 1)).
fn stars(chances: &[f64; 5], u: f64) -> f32 {
    let mut total = 0.0;
    for (star, chance) in (1u8..).zip(chances) {
        total += chance;
        if u < total {
            return f32::from(star);
        }
    }
    5.0
}

struct Item {
    category: usize,
    brand: usize,
}

/// Items of one (category, brand) and of one category, with popularity-weighted samplers.
struct Pools {
    by_category: Vec<(Vec<u32>, Cdf)>,
    by_brand: Vec<Vec<(Vec<u32>, Cdf)>>,
}

fn pools(items: &[Item], popularity: &[f64]) -> Pools {
    let make = |members: Vec<u32>| {
        let cdf = Cdf::new(members.iter().map(|&i| popularity[i as usize]));
        (members, cdf)
    };
    let by_category = (0..CATEGORIES.len())
        .map(|c| {
            make(
                (0..items.len() as u32)
                    .filter(|&i| items[i as usize].category == c)
                    .collect(),
            )
        })
        .collect();
    let by_brand = CATEGORIES
        .iter()
        .enumerate()
        .map(|(c, cat)| {
            (0..cat.brands.len())
                .map(|b| {
                    make(
                        (0..items.len() as u32)
                            .filter(|&i| {
                                items[i as usize].category == c && items[i as usize].brand == b
                            })
                            .collect(),
                    )
                })
                .collect()
        })
        .collect();
    Pools {
        by_category,
        by_brand,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReviewLine<'a> {
    overall: f32,
    verified: bool,
    review_time: String,
    #[serde(rename = "reviewerID")]
    reviewer_id: &'a str,
    asin: &'a str,
    reviewer_name: String,
    review_text: String,
    summary: &'a str,
    unix_review_time: i64,
}

#[derive(Serialize)]
struct MetaLine<'a> {
    asin: &'a str,
    title: String,
    brand: &'a str,
    category: [&'a str; 3],
    description: [String; 1],
    price: String,
    main_cat: &'a str,
}

fn writer(path: &Path, gzip: bool) -> Result<Box<dyn Write>> {
    let file = File::create(path)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    Ok(if gzip {
        Box::new(BufWriter::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        )))
    } else {
        Box::new(BufWriter::new(file))
    })
}

fn asin(i: usize) -> String {
    format!("B{:09}", i + 1)
}

fn user_id(u: usize) -> String {
    format!("U{:09}", u + 1)
}

/// Generates a dataset into `dir` (created if needed): `reviews.json[.gz]`, `meta.json[.gz]`.
pub fn generate(options: &SynthOptions, dir: &Path) -> Result<SynthOutput> {
    let SynthOptions {
        users,
        items,
        seed,
        gzip,
        ..
    } = *options;
    if users == 0 || items < CATEGORIES.len() {
        return Err(Error::Usage(format!(
            "synth needs at least 1 user and {} items",
            CATEGORIES.len()
        )));
    }
    // Every user writes at least one review and reviews at most half of the items (so that
    // the popularity and taste structure still decide which): a target outside is refused
    // rather than quietly changed.
    let most = users.saturating_mul(items / 2);
    let target = options.interactions;
    if target < users || target > most {
        return Err(Error::Usage(format!(
            "synth cannot write {target} reviews for {users} users and {items} items: every \
             user writes at least one and reviews at most half of the items ({}), so \
             --interactions must be between {users} and {most}",
            items / 2
        )));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let mut rng = Rng::new(seed);

    // Items: categories round-robin, brands at random; popularity ~ 1 / rank^1.05, shuffled.
    let catalogue: Vec<Item> = (0..items)
        .map(|i| {
            let category = i % CATEGORIES.len();
            Item {
                category,
                brand: rng.below(CATEGORIES[category].brands.len()),
            }
        })
        .collect();
    let mut popularity: Vec<f64> = (0..items)
        .map(|r| 1.0 / ((r + 1) as f64).powf(1.05))
        .collect();
    for i in (1..items).rev() {
        popularity.swap(i, rng.below(i + 1));
    }
    let pools = pools(&catalogue, &popularity);

    // Users: activity ~ 1 / rank^0.7, scaled to the target, at least 1 each.
    let weights: Vec<f64> = (0..users)
        .map(|r| 1.0 / ((r + 1) as f64).powf(0.7))
        .collect();
    let total: f64 = weights.iter().sum();
    let cap = items / 2;
    let mut activity: Vec<usize> = weights
        .iter()
        .map(|w| ((w / total * target as f64).round() as usize).clamp(1, cap))
        .collect();
    // Rounding and the cap move the sum off the target: spread the difference evenly.
    let mut sum: usize = activity.iter().sum();
    while sum != target {
        for a in activity.iter_mut() {
            if sum < target && *a < cap {
                *a += 1;
                sum += 1;
            } else if sum > target && *a > 1 {
                *a -= 1;
                sum -= 1;
            }
        }
    }
    for i in (1..users).rev() {
        activity.swap(i, rng.below(i + 1));
    }

    let ext = if gzip { "json.gz" } else { "json" };
    let reviews_path = dir.join(format!("reviews.{ext}"));
    let meta_path = dir.join(format!("meta.{ext}"));
    let mut out = writer(&reviews_path, gzip)?;
    let io = |e: std::io::Error| Error::io("cannot write the synthetic reviews", e);
    let start_day = 16_436i64; // 2015-01-01
    let span_days = 5 * 365;
    let mut written = 0usize;
    let mut chosen = std::collections::HashSet::new();
    for (u, &n) in activity.iter().enumerate() {
        let main = rng.below(CATEGORIES.len());
        let second = rng.below(CATEGORIES.len());
        let favourite = |c: usize, rng: &mut Rng| rng.below(CATEGORIES[c].brands.len());
        let (fav_main, fav_second) = (favourite(main, &mut rng), favourite(second, &mut rng));
        let uid = user_id(u);
        // A user's reviews start in the first half of the span and are spread so that even the
        // heaviest user stays within it.
        let half_span = (span_days / 2 * 86_400) as usize;
        let mut time = start_day * 86_400 + rng.below(half_span) as i64;
        let mean_gap = (half_span / n.max(1)).max(1);
        chosen.clear();
        for _ in 0..n {
            let mut item = None;
            for _attempt in 0..8 {
                let roll = rng.f64();
                let (c, fav) = if roll < 0.75 {
                    (main, Some(fav_main))
                } else if roll < 0.93 {
                    (second, Some(fav_second))
                } else {
                    (rng.below(CATEGORIES.len()), None)
                };
                let pool = match fav {
                    Some(b) if rng.f64() < 0.6 && !pools.by_brand[c][b].0.is_empty() => {
                        &pools.by_brand[c][b]
                    }
                    _ => &pools.by_category[c],
                };
                let candidate = pool.0[pool.1.sample(&mut rng)];
                if chosen.insert(candidate) {
                    item = Some(candidate);
                    break;
                }
            }
            // A heavy user may exhaust their favourite pools: any unchosen item will do.
            let item = item.unwrap_or_else(|| loop {
                let candidate = rng.below(items) as u32;
                if chosen.insert(candidate) {
                    break candidate;
                }
            });
            let it = &catalogue[item as usize];
            let liked = (it.category == main && it.brand == fav_main)
                || (it.category == second && it.brand == fav_second);
            let rating = stars(if liked { &LIKED } else { &OTHER }, rng.f64());
            time += 1 + rng.below(2 * mean_gap) as i64;
            let (y, m, d) = civil_from_days(time.div_euclid(86_400));
            let cat = &CATEGORIES[it.category];
            let summary = *rng.pick(SUMMARIES[rating as usize - 1]);
            let line = ReviewLine {
                overall: rating,
                verified: rng.f64() < 0.8,
                review_time: format!("{m:02} {d}, {y}"),
                reviewer_id: &uid,
                asin: &asin(item as usize),
                reviewer_name: format!("Shopper {}", u + 1),
                review_text: format!(
                    "{summary}. The {} from {}: {}.",
                    rng.pick(cat.nouns),
                    cat.brands[it.brand],
                    rng.pick(cat.features)
                ),
                summary,
                unix_review_time: time,
            };
            serde_json::to_writer(&mut out, &line).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
            written += 1;
        }
    }
    out.flush().map_err(io)?;
    drop(out);

    let mut meta = writer(&meta_path, gzip)?;
    for (i, it) in catalogue.iter().enumerate() {
        let cat: &Category = &CATEGORIES[it.category];
        let noun = rng.pick(cat.nouns);
        let adjective = rng.pick(cat.adjectives);
        let brand = cat.brands[it.brand];
        let price = cat.price.0 + (cat.price.1 - cat.price.0) * rng.f64().powi(2);
        let line = MetaLine {
            asin: &asin(i),
            title: format!("{brand} {adjective} {noun}"),
            brand,
            category: [cat.name, *rng.pick(cat.subcategories), noun],
            description: [format!(
                "The {brand} {noun} is {adjective}, with {} and {}.",
                rng.pick(cat.features),
                rng.pick(cat.features)
            )],
            price: format!("${price:.2}"),
            main_cat: cat.name,
        };
        serde_json::to_writer(&mut meta, &line).map_err(|e| io(e.into()))?;
        meta.write_all(b"\n").map_err(io)?;
    }
    meta.flush().map_err(io)?;
    Ok(SynthOutput {
        reviews: reviews_path,
        metadata: meta_path,
        interactions: written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;

    #[test]
    fn dates_convert() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(16_436), (2015, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn a_size_it_cannot_write_is_refused_not_changed() {
        let dir = tempfile::tempdir().unwrap();
        let options = |users, items, interactions| SynthOptions {
            users,
            items,
            interactions,
            seed: 1,
            gzip: false,
        };
        // 5 users and 9 items: each user reviews at most 4 items, so 20 in all (not 22).
        for (users, items, interactions) in [(10, 8, 0), (10, 8, 9), (5, 8, 21), (5, 9, 21)] {
            let error = generate(&options(users, items, interactions), dir.path())
                .unwrap_err()
                .to_string();
            let range = format!("between {users} and {}", users * (items / 2));
            assert!(
                error.contains(&format!("cannot write {interactions} reviews"))
                    && error.contains(&range),
                "{error}"
            );
        }
        let out = generate(&options(5, 8, 20), dir.path()).unwrap();
        assert_eq!(out.interactions, 20);
    }

    #[test]
    fn generates_a_readable_dataset_repeatably() {
        let dir = tempfile::tempdir().unwrap();
        let options = SynthOptions {
            users: 200,
            items: 120,
            interactions: 3000,
            seed: 7,
            gzip: true,
        };
        let out = generate(&options, dir.path()).unwrap();
        let data = Dataset::read(&[out.reviews.clone(), out.metadata.clone()], None).unwrap();
        assert_eq!(data.report.problem_count(), 0);
        assert_eq!(data.interactions.len(), out.interactions);
        assert_eq!(out.interactions, 3000);
        assert_eq!(data.n_users(), 200);
        assert!(data.item_meta.iter().all(Option::is_some));
        let again = tempfile::tempdir().unwrap();
        let out2 = generate(&options, again.path()).unwrap();
        let read = |p: &Path| std::fs::read(p).unwrap();
        assert_eq!(read(&out.reviews), read(&out2.reviews));
        assert_eq!(read(&out.metadata), read(&out2.metadata));
    }

    /// 40,000 reviews of 1,000 items by 2,000 users (seed 1), read back.
    fn sample() -> Dataset {
        let dir = tempfile::tempdir().unwrap();
        let options = SynthOptions {
            users: 2000,
            items: 1000,
            interactions: 40_000,
            seed: 1,
            gzip: false,
        };
        let out = generate(&options, dir.path()).unwrap();
        Dataset::read(&[out.reviews], None).unwrap()
    }

    #[test]
    fn ratings_are_j_shaped_and_follow_taste() {
        let data = sample();
        let mut histogram = [0usize; 5];
        for i in &data.interactions {
            histogram[i.rating as usize - 1] += 1;
        }
        let share = |star: usize| histogram[star - 1] as f64 / data.interactions.len() as f64;
        // Mostly 5 stars, then 4; every star occurs, and 1 star more often than 2.
        assert!(share(5) > 0.5 && share(4) > share(3), "{histogram:?}");
        assert!(share(1) > share(2) && share(2) > 0.02, "{histogram:?}");
        assert!((0.04..0.15).contains(&share(1)), "{histogram:?}");
        assert_eq!(stars(&LIKED, 0.0), 1.0);
        assert_eq!(stars(&LIKED, 0.999_999), 5.0);
        assert_eq!(stars(&OTHER, 0.2), 2.0);
    }

    #[test]
    fn popularity_has_a_long_tail() {
        let data = sample();
        let mut counts = vec![0usize; data.n_items()];
        data.interactions
            .iter()
            .for_each(|i| counts[i.item as usize] += 1);
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top_decile: usize = counts[..counts.len() / 10].iter().sum();
        assert!(
            top_decile as f64 > 0.35 * data.interactions.len() as f64,
            "top 10% hold {top_decile}"
        );
    }

    #[test]
    fn heavy_users_stay_inside_the_time_span() {
        let dir = tempfile::tempdir().unwrap();
        let options = SynthOptions {
            users: 4,
            items: 4000,
            interactions: 8000,
            seed: 3,
            gzip: false,
        };
        let out = generate(&options, dir.path()).unwrap();
        let data = Dataset::read(&[out.reviews], None).unwrap();
        assert_eq!(
            data.report.problem_count(),
            0,
            "{:?}",
            data.report.problems.first()
        );
        assert_eq!(data.interactions.len(), 8000);
        let last = data.interactions.iter().map(|i| i.timestamp).max().unwrap();
        assert!(
            last < (16_436 + 5 * 365) * 86_400,
            "{last} is past the 5-year span"
        );
    }
}
