//! What an ingest run did: counts per file and in all.

use std::fmt;
use std::ops::AddAssign;
use std::path::PathBuf;
use std::time::Duration;

use mongodb::bson::{doc, Document};

use crate::dataset::Format;

/// The counts of a run, or of one file of a run.
///
/// Nothing is lost: every record read ends in exactly one of the four other counts, so
/// `read == inserted + updated + duplicates + quarantined` ([`Counts::is_balanced`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records read: every review, rating or product line, and every malformed line (blank
    /// lines and CSV headers are not records).
    pub read: u64,
    /// Records stored under a new `_id`. In a dry run: documents built.
    pub inserted: u64,
    /// Records whose `_id` was stored with other content, which they replaced.
    pub updated: u64,
    /// Records whose `_id` was stored with the same content (an exact duplicate line, or a
    /// second run on the same file).
    pub duplicates: u64,
    /// Records set aside in the `quarantine` collection with their raw text and reason.
    pub quarantined: u64,
}

impl Counts {
    /// Whether every record read is accounted for.
    pub fn is_balanced(&self) -> bool {
        self.read == self.inserted + self.updated + self.duplicates + self.quarantined
    }

    /// The counts as top-level fields of a document (as in `ingest_runs`).
    pub(crate) fn to_document(self) -> Document {
        let number = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        doc! {
            "read": number(self.read),
            "inserted": number(self.inserted),
            "updated": number(self.updated),
            "duplicates": number(self.duplicates),
            "quarantined": number(self.quarantined),
        }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.read += other.read;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.duplicates += other.duplicates;
        self.quarantined += other.quarantined;
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {} = inserted {} + updated {} + duplicates {} + quarantined {}",
            self.read, self.inserted, self.updated, self.duplicates, self.quarantined
        )
    }
}

/// The counts of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCounts {
    /// The file, as given.
    pub path: PathBuf,
    /// Its format (given or detected).
    pub format: Format,
    /// What became of its records.
    pub counts: Counts,
}

/// What an ingest run did.
#[derive(Debug, Clone)]
pub struct IngestReport {
    /// The run's id (`_id` in `ingest_runs`, `run_id` in `quarantine`).
    pub run_id: String,
    /// Whether this was a dry run (nothing written; `inserted` counts documents built).
    pub dry_run: bool,
    /// Per file, in the order they were read (metadata first).
    pub files: Vec<FileCounts>,
    /// The sums over the files.
    pub totals: Counts,
    /// Reviews stored by earlier runs whose product this run inserted: their
    /// `unknown_product` flag was cleared. Not records of this run, so not in the counts.
    pub reviews_linked: u64,
    /// Bytes of BSON documents built.
    pub bson_bytes: u64,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
}

impl IngestReport {
    /// Records read per second.
    pub fn rate(&self) -> f64 {
        self.totals.read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Whether the run added nothing: no record inserted or updated.
    pub fn nothing_new(&self) -> bool {
        self.totals.inserted == 0 && self.totals.updated == 0
    }
}

impl fmt::Display for IngestReport {
    /// The summary printed at the end of a run: one line per file, the totals, the rate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            let c = file.counts;
            if self.dry_run {
                writeln!(
                    f,
                    "{} ({}): read {} = built {} + duplicates {} + quarantined {}",
                    file.path.display(),
                    file.format,
                    c.read,
                    c.inserted,
                    c.duplicates,
                    c.quarantined
                )?;
            } else {
                writeln!(f, "{} ({}): {c}", file.path.display(), file.format)?;
            }
        }
        let t = self.totals;
        let seconds = self.elapsed.as_secs_f64();
        if self.dry_run {
            writeln!(
                f,
                "dry run {}: read {} = built {} + duplicates {} + quarantined {}; nothing written",
                self.run_id, t.read, t.inserted, t.duplicates, t.quarantined
            )?;
            write!(
                f,
                "{:.0} records/s ({} records in {seconds:.2} s, {:.1} MB of BSON)",
                self.rate(),
                t.read,
                self.bson_bytes as f64 / 1e6
            )
        } else {
            writeln!(f, "run {}: {t}", self.run_id)?;
            if self.reviews_linked > 0 {
                writeln!(
                    f,
                    "{} reviews stored earlier now have their product",
                    self.reviews_linked
                )?;
            }
            if self.nothing_new() && t.read > 0 {
                writeln!(
                    f,
                    "nothing new: every record was already stored (or quarantined)"
                )?;
            }
            write!(
                f,
                "{:.0} records/s ({} records in {seconds:.2} s)",
                self.rate(),
                t.read
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_balance_and_add_up() {
        let mut total = Counts::default();
        total += Counts {
            read: 5,
            inserted: 2,
            updated: 1,
            duplicates: 1,
            quarantined: 1,
        };
        total += Counts {
            read: 1,
            quarantined: 1,
            ..Counts::default()
        };
        assert!(total.is_balanced());
        assert_eq!(total.read, 6);
        assert!(!Counts {
            read: 1,
            ..Counts::default()
        }
        .is_balanced());
        assert_eq!(
            total.to_string(),
            "read 6 = inserted 2 + updated 1 + duplicates 1 + quarantined 2"
        );
    }

    #[test]
    fn a_second_run_says_nothing_is_new() {
        let report = IngestReport {
            run_id: "r".into(),
            dry_run: false,
            files: Vec::new(),
            totals: Counts {
                read: 3,
                duplicates: 2,
                quarantined: 1,
                ..Counts::default()
            },
            reviews_linked: 0,
            bson_bytes: 0,
            elapsed: Duration::from_secs(1),
        };
        assert!(report.nothing_new());
        assert!(report.to_string().contains("nothing new"), "{report}");
    }
}
