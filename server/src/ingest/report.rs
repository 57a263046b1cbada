//! What an ingest run did: counts per file and in all.

use std::fmt;
use std::ops::AddAssign;
use std::path::PathBuf;
use std::time::Duration;

use mongodb::bson::{doc, Document};

use crate::dataset::Format;

/// Records set aside that the summary lists (the rest are counted).
pub const MAX_EXAMPLES: usize = 5;

/// The counts of a run, or of one file of a run.
///
/// Nothing is lost: every record read ends in exactly one of the four other counts, so
/// `read == inserted + updated + duplicates + quarantined` ([`Counts::is_balanced`]).
/// `repaired` is not one of them: it says how many of the records read needed a repair.
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
    /// Records read that needed a documented repair before being built (a timestamp taken from
    /// `reviewTime` when `unixReviewTime` is missing or broken, leading zeros restored to an
    /// ASIN a spreadsheet shortened), as `recsys evaluate` counts them. They are inserted,
    /// updated or duplicates like the others.
    pub repaired: u64,
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
            "repaired": number(self.repaired),
        }
    }

    /// ` (N repaired)` when some records were repaired, nothing otherwise.
    pub(crate) fn repaired_note(self) -> String {
        if self.repaired == 0 {
            String::new()
        } else {
            format!(" ({} repaired)", self.repaired)
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
        self.repaired += other.repaired;
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {} = inserted {} + updated {} + duplicates {} + quarantined {}{}",
            self.read,
            self.inserted,
            self.updated,
            self.duplicates,
            self.quarantined,
            self.repaired_note()
        )
    }
}

/// A record a run set aside, as the summary lists the first few.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// The file, as given.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Why it was set aside.
    pub reason: String,
}

/// Where a run keeps the records it set aside, each with its raw text and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuarantineKept {
    /// In the `quarantine` collection of this database, under the run's id.
    Database(String),
    /// In `DIR/quarantine/` of a dry run's dump.
    Dump(PathBuf),
    /// Nowhere: a dry run without a dump writes nothing.
    Nowhere,
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
    /// The first records set aside ([`MAX_EXAMPLES`]), in reading order.
    pub quarantined: Vec<Quarantined>,
    /// Where every record set aside is kept.
    pub quarantine_kept: QuarantineKept,
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

impl IngestReport {
    /// The first records set aside, and where all of them are.
    fn fmt_quarantined(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.totals.quarantined;
        if total == 0 {
            return Ok(());
        }
        for q in &self.quarantined {
            writeln!(f, "  quarantined {}:{}: {}", q.file, q.line, q.reason)?;
        }
        let all = if total > self.quarantined.len() as u64 {
            format!("{total} records quarantined in all")
        } else if total == 1 {
            "the record quarantined".to_owned()
        } else {
            format!("the {total} records quarantined")
        };
        match &self.quarantine_kept {
            QuarantineKept::Database(database) => writeln!(
                f,
                "  {all}: each with its raw line and reason in {database}.quarantine \
                 (run_id \"{}\")",
                self.run_id
            ),
            QuarantineKept::Dump(dir) => writeln!(
                f,
                "  {all}: each with its raw line and reason in {}",
                dir.join("quarantine").display()
            ),
            QuarantineKept::Nowhere => writeln!(
                f,
                "  {all}: a dry run keeps none of them (add --dump DIR to keep each with its \
                 raw line and reason in DIR/quarantine)"
            ),
        }
    }
}

impl fmt::Display for IngestReport {
    /// The summary printed at the end of a run: one line per file, the first records set aside
    /// and where all of them are, the totals, the rate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            let c = file.counts;
            if self.dry_run {
                writeln!(
                    f,
                    "{} ({}): read {} = built {} + duplicates {} + quarantined {}{}",
                    file.path.display(),
                    file.format,
                    c.read,
                    c.inserted,
                    c.duplicates,
                    c.quarantined,
                    c.repaired_note()
                )?;
            } else {
                writeln!(f, "{} ({}): {c}", file.path.display(), file.format)?;
            }
        }
        self.fmt_quarantined(f)?;
        let t = self.totals;
        let seconds = self.elapsed.as_secs_f64();
        if t.repaired > 0 {
            writeln!(
                f,
                "{} repaired: records that needed a documented repair (a timestamp taken \
                 from reviewTime, leading zeros restored to an ASIN)",
                t.repaired
            )?;
        }
        if self.dry_run {
            writeln!(
                f,
                "dry run {}: read {} = built {} + duplicates {} + quarantined {}{}; nothing \
                 written",
                self.run_id,
                t.read,
                t.inserted,
                t.duplicates,
                t.quarantined,
                t.repaired_note()
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
            repaired: 0,
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
            quarantined: Vec::new(),
            quarantine_kept: QuarantineKept::Database("recsys".into()),
            bson_bytes: 0,
            elapsed: Duration::from_secs(1),
        };
        assert!(report.nothing_new());
        assert!(report.to_string().contains("nothing new"), "{report}");
    }

    #[test]
    fn the_summary_counts_repairs_and_lists_the_first_records_set_aside() {
        let quarantined = |line| Quarantined {
            file: "r.json".into(),
            line,
            reason: "rating not a number: \"five\"".into(),
        };
        let mut report = IngestReport {
            run_id: "r1".into(),
            dry_run: false,
            files: Vec::new(),
            totals: Counts {
                read: 9,
                inserted: 2,
                quarantined: 7,
                repaired: 2,
                ..Counts::default()
            },
            reviews_linked: 0,
            quarantined: (1..=5).map(quarantined).collect(),
            quarantine_kept: QuarantineKept::Database("shop".into()),
            bson_bytes: 0,
            elapsed: Duration::from_secs(1),
        };
        let text = report.to_string();
        assert!(
            text.contains(
                "read 9 = inserted 2 + updated 0 + duplicates 0 + quarantined 7 (2 repaired)"
            ),
            "{text}"
        );
        assert!(text.contains("\n2 repaired: "), "{text}");
        assert!(
            text.contains("  quarantined r.json:5: rating not a number: \"five\"\n"),
            "{text}"
        );
        assert!(
            text.contains("7 records quarantined in all: each with its raw line and reason in shop.quarantine (run_id \"r1\")"),
            "{text}"
        );
        report.dry_run = true;
        report.quarantine_kept = QuarantineKept::Nowhere;
        assert!(report.to_string().contains("add --dump DIR"), "{report}");
        report.quarantine_kept = QuarantineKept::Dump(PathBuf::from("d"));
        assert!(report.to_string().contains("in d/quarantine\n"), "{report}");
    }
}
