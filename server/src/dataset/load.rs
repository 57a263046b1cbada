//! [`Dataset`]: interactions and item metadata loaded from a set of files.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use super::attributes::{self, AttributeNames};
use super::batch::{self, Batch, Item};
use super::csr::Csr;
use super::datamaps::{self, Datamaps};
use super::error::{DatasetError, Result};
use super::format::{detect_format, Format};
use super::idmap::IdMap;
use super::input;
use super::json::ProductLine;
use super::parse::{self, Parsed, Rating};
use super::problem::Problem;
use super::record::{ItemMeta, Sequence};
use super::report::{AttributesReport, DatamapsReport, FileReport, ReadReport};
use super::sequence;

/// Lines are parsed in parallel in chunks of at least this many.
const PARALLEL_CHUNK: usize = 256;

/// One rating of an item by a user.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// Index of the user in [`Dataset::users`].
    pub user: u32,
    /// Index of the item in [`Dataset::items`].
    pub item: u32,
    /// The star rating, in `1.0..=5.0`; 1 for sequence files, which have none.
    pub rating: f32,
    /// Unix seconds; for sequence files, which have no times, the position
    /// in the user's sequence (0, 1, 2, …).
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
    /// Item ASINs, indexed in first-seen order. Ids of sequence files are
    /// their numbers, or the ASINs and reviewer ids a `datamaps.json` gives.
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
    /// Reads review, rating and sequence files into interactions, and
    /// metadata and `item2attributes` files into [`Dataset::item_meta`],
    /// detecting each file's format unless `format` is given (it then applies
    /// to every file). The order of the files does not matter beyond the
    /// order of interactions: files of interactions are read first, then
    /// `datamaps.json` files, metadata and `item2attributes` files.
    ///
    /// * Users and items are indexed in the order they are first met; only
    ///   items with an interaction are indexed (metadata for other ASINs is
    ///   counted in [`ReadReport::products_without_interactions`]).
    /// * Interactions with the same (user, item) collapse to the latest one
    ///   (largest timestamp, then latest read), counted in
    ///   [`ReadReport::duplicates_collapsed`]. Of duplicate metadata lines the first is kept.
    /// * Sequence (`seq`) and `pairs` files give each item rating 1 and, as
    ///   timestamp, its position among the user's interactions read from such
    ///   files (continuing across lines and files), so leave-last-out holds out
    ///   each user's last item.
    /// * A `datamaps.json` renames the users and items of sequence files to
    ///   their reviewer ids and ASINs (see [`ReadReport::datamaps`]); metadata
    ///   files then join on the ASINs. Nothing checks that the maps belong to
    ///   the sequence file: the P5 Toys map does not fit the S3-Rec Toys file.
    /// * An `item2attributes` file gives the items of sequence files their
    ///   attributes as [`ItemMeta::categories`], named as
    ///   [`ReadReport::attributes`] tells.
    /// * Malformed lines and entries are skipped and reported, never fatal.
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
        // The indices of the files of some formats.
        let of_format = |wanted: fn(Format) -> bool| -> Vec<usize> {
            (0..paths.len()).filter(|&i| wanted(formats[i])).collect()
        };
        // Interactions first, so that metadata for unknown items can be dropped as it is read.
        for i in of_format(Format::has_interactions) {
            files[i] = Some(match formats[i] {
                Format::Sequence | Format::Pairs => {
                    builder.read_sequences(&paths[i], formats[i])?
                }
                format => builder.read_interactions(&paths[i], format)?,
            });
        }
        builder.collapse_duplicates();
        builder.item_meta = vec![None; builder.items.len()];
        // Then the real ids, which metadata files join on.
        let mut maps: Option<Datamaps> = None;
        for i in of_format(|f| f == Format::Datamaps) {
            let (file, read) = builder.read_datamaps(&paths[i])?;
            files[i] = Some(file);
            maps.get_or_insert_with(Datamaps::default).merge(read);
        }
        if let Some(maps) = &maps {
            builder.report.datamaps = Some(builder.rename(maps));
        }
        for i in of_format(|f| f == Format::MetadataJson) {
            files[i] = Some(builder.read_metadata(&paths[i])?);
        }
        for i in of_format(|f| f == Format::Item2Attributes) {
            files[i] = Some(builder.read_attributes(&paths[i], maps.as_ref())?);
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
    /// The index of each numeric user id of sequence files.
    sequence_users: FxHashMap<u64, u32>,
    /// The index of each numeric item id of sequence files.
    sequence_items: FxHashMap<u64, u32>,
    /// Per user index, the position of the user's next sequence interaction.
    positions: Vec<i64>,
    report: ReadReport,
}

/// The error for a file with more distinct ids than an [`IdMap`] holds.
fn too_many(path: &Path) -> DatasetError {
    DatasetError::TooManyIds {
        path: path.to_path_buf(),
        max: IdMap::MAX_LEN as u64,
    }
}

/// The index of numeric id `id`, assigning one (to its decimal string) if it is new.
fn numeric_index(ids: &mut IdMap, numeric: &mut FxHashMap<u64, u32>, id: u64) -> Option<u32> {
    if let Some(&index) = numeric.get(&id) {
        return Some(index);
    }
    let index = ids.try_get_or_insert(&id.to_string())?;
    numeric.insert(id, index);
    Some(index)
}

/// How [`rename`] went for one id space.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Renamed {
    renamed: u64,
    unmapped: u64,
    collisions: u64,
}

/// Renames the ids in `numeric` (sequence-file ids and their indices in
/// `ids`) to their names in `names`, keeping every index. A name already taken
/// is not used, and an old id that a new name took gets a `#` appended.
fn rename(
    ids: &mut IdMap,
    numeric: &FxHashMap<u64, u32>,
    names: &BTreeMap<u64, String>,
) -> Renamed {
    let mut outcome = Renamed::default();
    let mut wanted: Vec<Option<&str>> = vec![None; ids.len()];
    for (id, &index) in numeric {
        match names.get(id) {
            Some(name) => wanted[index as usize] = Some(name),
            None => outcome.unmapped += 1,
        }
    }
    if wanted.iter().all(Option::is_none) {
        return outcome;
    }
    let mut renamed = IdMap::new();
    for (index, old) in ids.iter() {
        let mut id = Cow::Borrowed(old);
        let mut collided = false;
        if let Some(name) = wanted[index as usize] {
            if renamed.get(name).is_none() {
                id = Cow::Borrowed(name);
                outcome.renamed += 1;
            } else {
                collided = true;
            }
        }
        while renamed.get(&id).is_some() {
            collided = true;
            id = Cow::Owned(format!("{id}#"));
        }
        outcome.collisions += u64::from(collided);
        let new_index = renamed.get_or_insert(&id);
        debug_assert_eq!(new_index, index);
    }
    *ids = renamed;
    outcome
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
                if let Item::Line { number, range } = item {
                    if parse::is_header(format, *number, batch.line(range)) {
                        continue;
                    }
                }
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
        let too_many = || too_many(path);
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

    fn read_sequences(&mut self, path: &Path, format: Format) -> Result<FileReport> {
        let mut file = FileReport::new(path, format);
        file.lines = batch::for_each_batch(path, input::open(path)?, |batch| {
            let parsed = parse_batch(batch, |line| sequence::parse_line(format, line));
            for (item, parsed) in batch.items.iter().zip(parsed) {
                if let Some(sequence) = self.outcome(path, batch, item, parsed, &mut file) {
                    self.add_sequence(path, &sequence, &mut file)?;
                }
            }
            Ok(())
        })?;
        Ok(file)
    }

    fn add_sequence(
        &mut self,
        path: &Path,
        sequence: &Sequence,
        file: &mut FileReport,
    ) -> Result<()> {
        let user = numeric_index(&mut self.users, &mut self.sequence_users, sequence.user)
            .ok_or_else(|| too_many(path))?;
        let user_slot = user as usize;
        if self.positions.len() <= user_slot {
            self.positions.resize(user_slot + 1, 0);
        }
        for &item in &sequence.items {
            let item = numeric_index(&mut self.items, &mut self.sequence_items, item)
                .ok_or_else(|| too_many(path))?;
            self.interactions.push(Interaction {
                user,
                item,
                rating: 1.0,
                timestamp: self.positions[user_slot],
                order: self.interactions.len() as u64,
            });
            self.positions[user_slot] += 1;
        }
        file.records += sequence.items.len() as u64;
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

    fn read_datamaps(&mut self, path: &Path) -> Result<(FileReport, Datamaps)> {
        let mut file = FileReport::new(path, Format::Datamaps);
        let read = datamaps::read(path, input::open(path)?);
        file.lines = read.lines;
        file.records = read.entries;
        file.malformed = read.problems.len() as u64;
        for problem in read.problems {
            self.report.keep(problem);
        }
        Ok((file, read.maps))
    }

    /// Gives the users and items of sequence files the names in `maps`.
    fn rename(&mut self, maps: &Datamaps) -> DatamapsReport {
        let users = rename(&mut self.users, &self.sequence_users, &maps.users);
        let items = rename(&mut self.items, &self.sequence_items, &maps.items);
        DatamapsReport {
            users_renamed: users.renamed,
            items_renamed: items.renamed,
            users_unmapped: users.unmapped,
            items_unmapped: items.unmapped,
            collisions: users.collisions + items.collisions,
        }
    }

    fn read_attributes(&mut self, path: &Path, maps: Option<&Datamaps>) -> Result<FileReport> {
        let mut file = FileReport::new(path, Format::Item2Attributes);
        let read = attributes::read(path, input::open(path)?);
        file.lines = read.lines;
        let mut entries = Vec::with_capacity(read.entries.len());
        for entry in read.entries {
            match entry {
                Ok((_, attributes)) => entries.push(attributes),
                Err(problem) => {
                    file.malformed += 1;
                    self.report.keep(problem);
                }
            }
        }
        file.records = entries.len() as u64;
        let names = AttributeNames::new(&entries, maps);
        let distinct: FxHashSet<u64> = entries
            .iter()
            .flat_map(|e| e.attributes.iter().copied())
            .collect();
        let mut report = AttributesReport {
            path: path.to_path_buf(),
            items: entries.len() as u64,
            described: 0,
            attributes: distinct.len() as u64,
            repeats: 0,
            naming: names.naming.clone(),
        };
        for entry in &entries {
            let (texts, repeats) = names.texts(&entry.attributes);
            report.repeats += repeats;
            let Some(&item) = self.sequence_items.get(&entry.item) else {
                self.report.products_without_interactions += 1;
                continue;
            };
            report.described += 1;
            let meta = self.item_meta[item as usize].get_or_insert_with(ItemMeta::default);
            for text in texts {
                if !meta.categories.contains(&text) {
                    meta.categories.push(text);
                }
            }
        }
        self.report.attributes.push(report);
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
    use crate::dataset::{AttributeNaming, MAX_KEPT_PROBLEMS};

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
            write(dir.path(), "Video.txt", "u1 i1\nu1 i2\n"),
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

    /// `(user id, item id, timestamp, order)` of every interaction.
    fn rows(dataset: &Dataset) -> Vec<(String, String, i64, u64)> {
        dataset
            .interactions
            .iter()
            .map(|i| {
                assert_eq!(i.rating, 1.0);
                let user = dataset.users.id(i.user).to_owned();
                (
                    user,
                    dataset.items.id(i.item).to_owned(),
                    i.timestamp,
                    i.order,
                )
            })
            .collect()
    }

    fn row(user: &str, item: &str, timestamp: i64, order: u64) -> (String, String, i64, u64) {
        (user.into(), item.into(), timestamp, order)
    }

    #[test]
    fn sequence_items_are_interactions_timed_by_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "Beauty.txt", "1 1 2 3\n2 4 2\n\n3 3\n");
        let dataset = Dataset::read(&[path], None).unwrap();
        assert_eq!(dataset.name, "Beauty");
        assert_eq!(
            rows(&dataset),
            [
                row("1", "1", 0, 0),
                row("1", "2", 1, 1),
                row("1", "3", 2, 2),
                row("2", "4", 0, 3),
                row("2", "2", 1, 4),
                row("3", "3", 0, 5),
            ]
        );
        let file = &dataset.report.files[0];
        assert_eq!(file.format, Format::Sequence);
        assert_eq!((file.lines, file.records, file.malformed), (4, 6, 0));
        assert_eq!(dataset.item_meta, [None, None, None, None]);
    }

    #[test]
    fn pairs_are_timed_by_position_within_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "Video.txt", "1 10\n1 11\n2 10\n1 12\n");
        let dataset = Dataset::read(&[path], None).unwrap();
        assert_eq!(dataset.report.files[0].format, Format::Pairs);
        // A user whose lines are not contiguous goes on from where it was.
        assert_eq!(
            rows(&dataset),
            [
                row("1", "10", 0, 0),
                row("1", "11", 1, 1),
                row("2", "10", 0, 2),
                row("1", "12", 2, 3),
            ]
        );
    }

    #[test]
    fn a_repeated_item_keeps_its_last_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "s.txt", "1 5 6 5 7\n");
        let dataset = Dataset::read(&[path], None).unwrap();
        assert_eq!(dataset.report.duplicates_collapsed, 1);
        assert_eq!(
            rows(&dataset),
            [
                row("1", "6", 1, 1),
                row("1", "5", 2, 2),
                row("1", "7", 3, 3)
            ]
        );
    }

    #[test]
    fn malformed_sequence_lines_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let seq = write(dir.path(), "s.txt", "1 1 2 3\n2 4 x 5\n3\n4 1 2\n");
        let dataset = Dataset::read(std::slice::from_ref(&seq), None).unwrap();
        assert_eq!(dataset.n_users(), 2);
        assert_eq!(dataset.interactions.len(), 5);
        let problems: Vec<(&Path, u64, &str, &str)> = dataset
            .report
            .problems
            .iter()
            .map(|p| (p.file.as_path(), p.line, p.reason.as_str(), p.raw.as_str()))
            .collect();
        assert_eq!(
            problems,
            [
                (
                    seq.as_path(),
                    2,
                    r#"item 2 ("x") is not a non-negative integer id"#,
                    "2 4 x 5"
                ),
                (seq.as_path(), 3, "user 3 has no items", "3"),
            ]
        );
        assert_eq!(dataset.report.files[0].malformed, 2);

        let pairs = write(dir.path(), "p.txt", "1 1\n1 2 3\n1 3\n");
        let dataset = Dataset::read(&[pairs], Some(Format::Pairs)).unwrap();
        assert_eq!(dataset.interactions.len(), 2);
        let problem = &dataset.report.problems[0];
        assert_eq!(
            (problem.line, problem.reason.as_str()),
            (2, "3 fields, expected 2 (user item)")
        );
        // Positions skip nothing for a rejected line.
        assert_eq!(dataset.interactions[1].timestamp, 1);
    }

    const DATAMAPS: &str = concat!(
        r#"{"id2user": {"1": "A1YJEY40YUW4SE", "2": "A60XNB876KYML"}, "#,
        r#""id2item": {"1": "B004756YJA", "2": "1881509818", "3": "B0020YLEYK"}, "#,
        r#""id2attribute": {"1": "COKA", "2": "Makeup", "3": "Face", "4": ""}, "#,
        r#""attributeid2num": {"1": 1, "2": 3, "3": 3, "4": 1}}"#
    );

    #[test]
    fn datamaps_and_attributes_apply_whichever_file_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let seq = write(dir.path(), "Beauty.txt", "1 1 2\n2 2 3\n3 4\n");
        let maps = write(dir.path(), "datamaps.json", DATAMAPS);
        let attributes = write(
            dir.path(),
            "Beauty_item2attributes.json",
            r#"{"1": [1, 2], "2": [2, 1, 2], "3": [], "9": [1]}"#,
        );
        let orders = [
            [seq.clone(), maps.clone(), attributes.clone()],
            [attributes.clone(), maps.clone(), seq.clone()],
            [maps.clone(), attributes.clone(), seq.clone()],
        ];
        let datasets: Vec<Dataset> = orders
            .iter()
            .map(|paths| Dataset::read(paths, None).unwrap())
            .collect();
        for dataset in &datasets {
            assert_eq!(
                rows(dataset)[..3],
                [
                    row("A1YJEY40YUW4SE", "B004756YJA", 0, 0),
                    row("A1YJEY40YUW4SE", "1881509818", 1, 1),
                    row("A60XNB876KYML", "1881509818", 0, 2),
                ]
            );
            // User 3 and item 4 are not in the maps: they keep their numbers.
            assert_eq!(dataset.users.get("3"), Some(2));
            assert_eq!(dataset.items.id(3), "4");
            let report = &dataset.report;
            assert_eq!(
                report.datamaps,
                Some(DatamapsReport {
                    users_renamed: 2,
                    items_renamed: 3,
                    users_unmapped: 1,
                    items_unmapped: 1,
                    collisions: 0,
                })
            );
            // File ids 1 and 2 are the datamaps attributes on at least 3 items: Makeup and Face.
            let categories: Vec<Option<Vec<String>>> = dataset
                .item_meta
                .iter()
                .map(|m| m.as_ref().map(|m| m.categories.clone()))
                .collect();
            assert_eq!(
                categories,
                [
                    Some(vec!["Makeup".to_owned(), "Face".to_owned()]),
                    Some(vec!["Face".to_owned(), "Makeup".to_owned()]),
                    Some(vec![]),
                    None,
                ]
            );
            assert!(dataset
                .item_meta
                .iter()
                .flatten()
                .all(|m| m.title.is_none() && m.description.is_none()));
            let applied = &report.attributes[0];
            assert_eq!(
                (
                    applied.items,
                    applied.described,
                    applied.attributes,
                    applied.repeats
                ),
                (4, 3, 2, 1)
            );
            assert_eq!(applied.naming, AttributeNaming::Names { min_items: 3 });
            assert_eq!(report.products_without_interactions, 1);
            assert_eq!(report.problem_count(), 0);
        }
        let formats: Vec<Format> = datasets[1].report.files.iter().map(|f| f.format).collect();
        assert_eq!(
            formats,
            [Format::Item2Attributes, Format::Datamaps, Format::Sequence]
        );
    }

    #[test]
    fn attributes_without_datamaps_are_numbered() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [
            write(dir.path(), "a.json", r#"{"2": [3, 1, 3]}"#),
            write(dir.path(), "s.txt", "1 1 2\n"),
        ];
        let dataset = Dataset::read(&paths, None).unwrap();
        assert_eq!(dataset.item_meta[0], None);
        let meta = dataset.item_meta[1].as_ref().unwrap();
        assert_eq!(meta.categories, ["attr_3", "attr_1"]);
        assert_eq!(dataset.report.attributes[0].naming, AttributeNaming::Ids);
        assert_eq!(dataset.report.datamaps, None);
    }

    #[test]
    fn clashing_names_keep_their_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [
            write(dir.path(), "s.txt", "1 1 2 3\n"),
            write(
                dir.path(),
                "d.json",
                r#"{"id2item": {"1": "B1", "2": "B1", "3": "4"}}"#,
            ),
        ];
        let dataset = Dataset::read(&paths, None).unwrap();
        let items: Vec<&str> = dataset.items.iter().map(|(_, id)| id).collect();
        assert_eq!(items, ["B1", "2", "4"]);
        let report = dataset.report.datamaps.unwrap();
        assert_eq!((report.items_renamed, report.collisions), (2, 1));
        assert_eq!(rows_len(&paths), 3);
    }

    fn rows_len(paths: &[PathBuf]) -> usize {
        Dataset::read(paths, None).unwrap().interactions.len()
    }

    #[test]
    fn malformed_documents_are_problems_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [
            write(dir.path(), "s.txt", "1 1 2\n"),
            write(
                dir.path(),
                "a.json",
                "{\"1\": [1],\n\"2\": [\"a\"],\n\"3\": [2]}",
            ),
            write(
                dir.path(),
                "d.json",
                r#"{"id2item": {"1": "B1"}, "id2user": {"#,
            ),
        ];
        let formats = [None, Some(Format::Item2Attributes), Some(Format::Datamaps)];
        for (path, format) in paths.iter().zip(formats) {
            if let Some(format) = format {
                assert_eq!(detect_format(path).unwrap(), format);
            }
        }
        let dataset = Dataset::read(&paths, None).unwrap();
        assert_eq!(dataset.items.id(0), "B1");
        assert_eq!(
            dataset.item_meta[0].as_ref().unwrap().categories,
            ["attr_1"]
        );
        let problems: Vec<(u64, &str)> = dataset
            .report
            .problems
            .iter()
            .map(|p| (p.line, p.reason.as_str()))
            .collect();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].1.starts_with("not valid JSON"), "{problems:?}");
        assert_eq!(
            problems[1],
            (2, r#"attribute 1 is "a", expected an integer id"#)
        );
        let malformed: Vec<u64> = dataset.report.files.iter().map(|f| f.malformed).collect();
        assert_eq!(malformed, [0, 1, 1]);
    }
}
