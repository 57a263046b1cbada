//! [`Dataset`]: interactions and item metadata loaded from a set of files.

use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashSet};

use super::batch::{self, Batch, Item};
use super::csr::Csr;
use super::error::{DatasetError, Result};
use super::format::{detect_format, Format};
use super::idmap::IdMap;
use super::input;
use super::json::ProductLine;
use super::parse::{self, Parsed, Rating};
use super::problem::Problem;
use super::record::ItemMeta;
use super::report::{FileReport, ReadReport};

/// Lines are parsed in parallel in chunks of at least this many.
const PARALLEL_CHUNK: usize = 256;

/// One rating of an item by a user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// Index of the user in [`Dataset::users`].
    pub user: u32,
    /// Index of the item in [`Dataset::items`].
    pub item: u32,
    /// The star rating, in `1.0..=5.0`.
    pub rating: f32,
    /// Unix seconds.
    pub timestamp: i64,
    /// Position of the record among all interaction records read, in file
    /// then line order: breaks timestamp ties (Amazon timestamps are days).
    pub order: u64,
}

/// Interactions and item metadata read from one or more files.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// A name for the dataset: the directory holding the files, or for a
    /// single file its name without extensions.
    pub name: String,
    /// User ids, indexed in first-seen order.
    pub users: IdMap,
    /// Item ASINs, indexed in first-seen order.
    pub items: IdMap,
    /// The interactions in reading order, one per (user, item).
    pub interactions: Vec<Interaction>,
    /// Metadata per item index (`len() == items.len()`); `None` for items no
    /// metadata file describes.
    pub item_meta: Vec<Option<ItemMeta>>,
    /// Counts and problems met while reading.
    pub report: ReadReport,
}

impl Dataset {
    /// Reads review and rating files into interactions, and metadata files
    /// into [`Dataset::item_meta`], detecting each file's format unless
    /// `format` is given (it then applies to every file).
    ///
    /// * Users and items are indexed in the order they are first met; only
    ///   items with an interaction are indexed (metadata for other ASINs is
    ///   counted in [`ReadReport::products_without_interactions`]).
    /// * Interactions with the same (user, item) collapse to the latest one
    ///   (largest timestamp, then latest read), counted in
    ///   [`ReadReport::duplicates_collapsed`]. Of duplicate metadata lines the first is kept.
    /// * Malformed lines are skipped and reported, never fatal.
    ///
    /// # Errors
    ///
    /// If `paths` is empty, a file cannot be opened, or a format cannot be
    /// detected (checked for every file before any is read).
    pub fn read(paths: &[PathBuf], format: Option<Format>) -> Result<Dataset> {
        if paths.is_empty() {
            return Err(DatasetError::NoInput);
        }
        let formats = paths
            .iter()
            .map(|path| format.map_or_else(|| detect_format(path), Ok))
            .collect::<Result<Vec<Format>>>()?;
        let mut builder = Builder::default();
        let mut files: Vec<Option<FileReport>> = vec![None; paths.len()];
        // Interactions first, so that metadata for unknown items can be dropped as it is read.
        for (i, path) in paths.iter().enumerate() {
            if formats[i].has_interactions() {
                files[i] = Some(builder.read_interactions(path, formats[i])?);
            }
        }
        builder.collapse_duplicates();
        builder.item_meta = vec![None; builder.items.len()];
        for (i, path) in paths.iter().enumerate() {
            if !formats[i].has_interactions() {
                files[i] = Some(builder.read_metadata(path)?);
            }
        }
        builder.report.files = files.into_iter().flatten().collect();
        Ok(builder.finish(dataset_name(paths)))
    }

    /// The number of users.
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    /// The number of items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// The user × item rating matrix.
    pub fn ratings(&self) -> Csr {
        Csr::from_triplets(
            self.n_users(),
            self.n_items(),
            self.interactions.iter().map(|i| (i.user, i.item, i.rating)),
        )
    }
}

/// The dataset state while files are read.
#[derive(Default)]
struct Builder {
    users: IdMap,
    items: IdMap,
    interactions: Vec<Interaction>,
    item_meta: Vec<Option<ItemMeta>>,
    /// Fingerprints of metadata ASINs with no interaction, to count them once.
    unmatched_products: FxHashSet<u64>,
    report: ReadReport,
}

impl Builder {
    fn read_interactions(&mut self, path: &Path, format: Format) -> Result<FileReport> {
        let mut file = FileReport::new(path, format);
        file.lines = batch::for_each_batch(path, input::open(path)?, |batch| {
            // Ids already known are looked up in parallel too; only new ones wait for the sequential pass.
            let (users, items) = (&self.users, &self.items);
            let parsed = parse_batch(batch, |line| {
                Ok(parse::rating(format, line)?.map(|rating| Known {
                    user: users.get(&rating.user),
                    item: items.get(&rating.item),
                    rating,
                }))
            });
            for (item, parsed) in batch.items.iter().zip(parsed) {
                if let Some(known) = self.outcome(path, batch, item, parsed, &mut file) {
                    self.add_interaction(path, known, &mut file)?;
                }
            }
            Ok(())
        })?;
        Ok(file)
    }

    fn add_interaction(
        &mut self,
        path: &Path,
        known: Known<'_>,
        file: &mut FileReport,
    ) -> Result<()> {
        let too_many = || DatasetError::TooManyIds {
            path: path.to_path_buf(),
            max: IdMap::MAX_LEN as u64,
        };
        let Known { user, item, rating } = known;
        let user = match user {
            Some(user) => user,
            None => self
                .users
                .try_get_or_insert(&rating.user)
                .ok_or_else(too_many)?,
        };
        let item = match item {
            Some(item) => item,
            None => self
                .items
                .try_get_or_insert(&rating.item)
                .ok_or_else(too_many)?,
        };
        self.interactions.push(Interaction {
            user,
            item,
            rating: rating.rating,
            timestamp: rating.timestamp,
            order: self.interactions.len() as u64,
        });
        file.records += 1;
        file.repaired += u64::from(rating.repaired);
        Ok(())
    }

    /// Keeps the latest interaction of each (user, item) and restores reading order.
    fn collapse_duplicates(&mut self) {
        let interactions = &mut self.interactions;
        // `order` equals the position before this first sort, so it can be used after.
        interactions.par_sort_unstable_by(|a, b| {
            (a.user, a.item)
                .cmp(&(b.user, b.item))
                .then(b.timestamp.cmp(&a.timestamp))
                .then(b.order.cmp(&a.order))
        });
        let before = interactions.len();
        interactions.dedup_by_key(|i| (i.user, i.item));
        self.report.duplicates_collapsed += (before - interactions.len()) as u64;
        interactions.par_sort_unstable_by_key(|i| i.order);
    }

    fn read_metadata(&mut self, path: &Path) -> Result<FileReport> {
        let mut file = FileReport::new(path, Format::MetadataJson);
        file.lines = batch::for_each_batch(path, input::open(path)?, |batch| {
            let (items, item_meta) = (&self.items, &self.item_meta);
            let parsed = parse_batch(batch, |line| {
                let product = ProductLine::parse(line)?;
                Ok(Some(match items.get(product.asin()) {
                    // Cleaning HTML is the costly part: done only for wanted, new items.
                    Some(item) if item_meta[item as usize].is_none() => {
                        Matched::First(item, product.item_meta())
                    }
                    Some(_) => Matched::Again,
                    None => Matched::NoItem(fingerprint(product.asin())),
                }))
            });
            for (item, parsed) in batch.items.iter().zip(parsed) {
                let Some(matched) = self.outcome(path, batch, item, parsed, &mut file) else {
                    continue;
                };
                file.records += 1;
                match matched {
                    Matched::First(item, meta) => match &mut self.item_meta[item as usize] {
                        Some(_) => self.report.duplicate_products += 1,
                        slot => *slot = Some(meta),
                    },
                    Matched::Again => self.report.duplicate_products += 1,
                    Matched::NoItem(asin) => {
                        if self.unmatched_products.insert(asin) {
                            self.report.products_without_interactions += 1;
                        } else {
                            self.report.duplicate_products += 1;
                        }
                    }
                }
            }
            Ok(())
        })?;
        Ok(file)
    }

    /// Sorts out one parsed batch entry: the value of a good line, or `None`
    /// after recording a problem (or for a line with nothing to read).
    fn outcome<T>(
        &mut self,
        path: &Path,
        batch: &Batch,
        item: &Item,
        parsed: Parsed<T>,
        file: &mut FileReport,
    ) -> Option<T> {
        let problem = match (item, parsed) {
            (Item::Problem(problem), _) => problem.clone(),
            (Item::Line { .. }, Ok(value)) => return value,
            (Item::Line { number, range }, Err(reason)) => {
                let line = batch.line(range);
                Problem::new(path, *number, reason, line, line.len() as u64)
            }
        };
        file.malformed += 1;
        self.report.keep(problem);
        None
    }

    fn finish(self, name: String) -> Dataset {
        Dataset {
            name,
            users: self.users,
            items: self.items,
            interactions: self.interactions,
            item_meta: self.item_meta,
            report: self.report,
        }
    }
}

/// A parsed interaction with the indices of its ids, if they were known
/// before its batch (maps only grow, so those stay valid).
struct Known<'a> {
    user: Option<u32>,
    item: Option<u32>,
    rating: Rating<'a>,
}

/// What a metadata line is to the dataset.
enum Matched {
    /// Metadata for an item with interactions, not described by an earlier batch.
    First(u32, ItemMeta),
    /// Metadata for an item already described.
    Again,
    /// Metadata for an ASIN without interactions, by fingerprint.
    NoItem(u64),
}

/// Parses the lines of a batch in parallel; entries that are problems already give `Ok(None)`.
fn parse_batch<'b, T: Send>(
    batch: &'b Batch,
    parse: impl Fn(&'b [u8]) -> Parsed<T> + Sync,
) -> Vec<Parsed<T>> {
    batch
        .items
        .par_iter()
        .with_min_len(PARALLEL_CHUNK)
        .map(|item| match item {
            Item::Line { range, .. } => parse(batch.line(range)),
            Item::Problem(_) => Ok(None),
        })
        .collect()
}

/// A 64-bit fingerprint of an ASIN. Counting distinct ASINs by fingerprint
/// keeps memory small; a collision (odds about 1e-5 among 15 million ASINs)
/// would under-count by one.
fn fingerprint(asin: &str) -> u64 {
    FxBuildHasher.hash_one(asin)
}

/// The directory holding the files, or for a single file its name without extensions.
fn dataset_name(paths: &[PathBuf]) -> String {
    let file_stem = |path: &Path| {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let mut stem = name.as_str();
        while let Some((rest, ext)) = stem.rsplit_once('.') {
            if !matches!(ext, "gz" | "json" | "jsonl" | "csv" | "txt") || rest.is_empty() {
                break;
            }
            stem = rest;
        }
        stem.to_owned()
    };
    match paths {
        [single] => file_stem(single),
        [first, ..] => first
            .parent()
            .and_then(Path::file_name)
            .map(|dir| dir.to_string_lossy().into_owned())
            .unwrap_or_else(|| file_stem(first)),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::MAX_KEPT_PROBLEMS;

    fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn review(user: &str, asin: &str, rating: f32, time: i64) -> String {
        format!(
            r#"{{"reviewerID": "{user}", "asin": "{asin}", "overall": {rating:.1}, "unixReviewTime": {time}}}"#
        ) + "\n"
    }

    fn product(asin: &str, title: &str) -> String {
        format!(
            r#"{{"asin": "{asin}", "title": "{title}", "category": ["Books"], "price": "$1.50"}}"#
        ) + "\n"
    }

    #[test]
    fn indexes_users_and_items_in_first_seen_order() {
        let dir = tempfile::tempdir().unwrap();
        let reviews = [
            review("u1", "i1", 5.0, 10),
            review("u2", "i2", 4.0, 20),
            review("u1", "i2", 3.0, 30),
        ]
        .concat();
        let path = write(dir.path(), "reviews.json", &reviews);
        let dataset = Dataset::read(&[path], None).unwrap();
        assert_eq!(dataset.name, "reviews");
        assert_eq!((dataset.n_users(), dataset.n_items()), (2, 2));
        assert_eq!(
            dataset.users.iter().map(|(_, id)| id).collect::<Vec<_>>(),
            ["u1", "u2"]
        );
        let pairs: Vec<_> = dataset
            .interactions
            .iter()
            .map(|i| (i.user, i.item, i.rating, i.order))
            .collect();
        assert_eq!(pairs, [(0, 0, 5.0, 0), (1, 1, 4.0, 1), (0, 1, 3.0, 2)]);
        assert_eq!(dataset.item_meta, [None, None]);
        let ratings = dataset.ratings();
        assert_eq!(ratings.row(0), (&[0, 1][..], &[5.0, 3.0][..]));
    }

    #[test]
    fn duplicates_collapse_to_the_latest() {
        let dir = tempfile::tempdir().unwrap();
        let first = [
            review("u1", "i1", 1.0, 50),  // older than the one below: dropped
            review("u1", "i1", 2.0, 100), // same time as in the second file: dropped
            review("u2", "i1", 3.0, 100),
            review("u2", "i1", 3.0, 100), // byte-identical duplicate
        ]
        .concat();
        let second = [review("u1", "i1", 4.0, 100), review("u3", "i1", 5.0, 1)].concat();
        let paths = [
            write(dir.path(), "a.json", &first),
            write(dir.path(), "b.json", &second),
        ];
        let dataset = Dataset::read(&paths, None).unwrap();
        assert_eq!(dataset.report.duplicates_collapsed, 3);
        let kept: Vec<_> = dataset
            .interactions
            .iter()
            .map(|i| (i.user, i.rating, i.order))
            .collect();
        assert_eq!(kept, [(1, 3.0, 3), (0, 4.0, 4), (2, 5.0, 5)]);
        assert_eq!(
            dataset.name,
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let files: Vec<_> = dataset
            .report
            .files
            .iter()
            .map(|f| (f.lines, f.records))
            .collect();
        assert_eq!(files, [(4, 4), (2, 2)]);
    }

    #[test]
    fn metadata_joins_items_whichever_file_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let meta = [
            product("i2", "Second &amp; more"),
            product("x9", "No interactions"),
            product("i2", "Second again"),
            product("x9", "No interactions"),
            "{\"title\": \"no asin\"}\n".to_owned(),
        ]
        .concat();
        let reviews = [review("u1", "i1", 5.0, 1), review("u1", "i2", 4.0, 2)].concat();
        let paths = [
            write(dir.path(), "meta.json", &meta),
            write(dir.path(), "reviews.json", &reviews),
        ];
        let dataset = Dataset::read(&paths, None).unwrap();
        assert_eq!(dataset.n_items(), 2);
        assert_eq!(dataset.item_meta.len(), 2);
        assert_eq!(dataset.item_meta[0], None);
        let meta = dataset.item_meta[1].as_ref().unwrap();
        assert_eq!(meta.title.as_deref(), Some("Second & more"));
        assert_eq!(
            (meta.categories.as_slice(), meta.price),
            (&["Books".to_owned()][..], Some(1.5))
        );
        let report = &dataset.report;
        assert_eq!(report.products_without_interactions, 1);
        assert_eq!(report.duplicate_products, 2);
        assert_eq!(report.files[0].format, Format::MetadataJson);
        assert_eq!((report.files[0].records, report.files[0].malformed), (4, 1));
        assert_eq!(report.problems.len(), 1);
        assert_eq!(
            (report.problems[0].line, report.problems[0].reason.as_str()),
            (5, "missing field `asin`")
        );
    }

    #[test]
    fn mixed_formats_share_one_id_space() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [
            write(dir.path(), "r.json", &review("u1", "0205616461", 5.0, 1)),
            write(
                dir.path(),
                "k.csv",
                "UserId,ProductId,Rating,Timestamp,\r\nu2,205616461,4,2,\r\n",
            ),
            write(dir.path(), "c.csv", "0205616461,u3,3.0,3\n"),
        ];
        let dataset = Dataset::read(&paths, None).unwrap();
        assert_eq!((dataset.n_users(), dataset.n_items()), (3, 1));
        assert_eq!(dataset.report.files[1].repaired, 1);
        assert_eq!(dataset.report.problem_count(), 0);
    }

    #[test]
    fn problems_are_counted_and_kept_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut content = review("u1", "i1", 5.0, 1);
        content.push_str(&"B1,A1,seven,1\n".repeat(MAX_KEPT_PROBLEMS + 5));
        let path = write(dir.path(), "r.json", &content);
        let dataset = Dataset::read(&[path], None).unwrap();
        assert_eq!(dataset.interactions.len(), 1);
        assert_eq!(dataset.report.problem_count(), MAX_KEPT_PROBLEMS as u64 + 5);
        assert_eq!(dataset.report.problems.len(), MAX_KEPT_PROBLEMS);
        assert_eq!(dataset.report.problems[0].line, 2);
        assert!(dataset.report.problems[0].reason.starts_with("not JSON"));
    }

    #[test]
    fn an_explicit_format_applies_to_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "r.csv", "B1,A1,5.0,1\n");
        let dataset = Dataset::read(&[path], Some(Format::KaggleCsv)).unwrap();
        assert_eq!(dataset.users.id(0), "B1");
        assert_eq!(dataset.report.files[0].format, Format::KaggleCsv);
    }

    #[test]
    fn fails_before_reading_when_a_format_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [
            write(dir.path(), "r.json", &review("u1", "i1", 5.0, 1)),
            write(dir.path(), "Video.txt", "1 1\n1 2\n"),
        ];
        let error = Dataset::read(&paths, None).unwrap_err();
        assert!(error.to_string().contains("Video.txt"), "{error}");
        assert!(matches!(
            Dataset::read(&[], None),
            Err(DatasetError::NoInput)
        ));
    }

    #[test]
    fn names_come_from_the_directory_or_the_file() {
        let name =
            |paths: &[&str]| dataset_name(&paths.iter().map(PathBuf::from).collect::<Vec<_>>());
        assert_eq!(
            name(&["d/reviews_Musical_Instruments_5.json.gz"]),
            "reviews_Musical_Instruments_5"
        );
        assert_eq!(name(&["d/x.y.csv"]), "x.y");
        assert_eq!(
            name(&["data/gift/a.json.gz", "data/gift/b.json.gz"]),
            "gift"
        );
    }
}
