//! Feeding a [`StatsBuilder`] from dataset files, with progress on stderr.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

use super::progress::Progress;
use super::report::{EdaReport, InputSummary};
use super::stats::{StatsBuilder, StatsOptions};
use crate::dataset::{detect_format, DatasetError, Format, RecordReader};
use crate::{Error, Result};

const BUFFER_SIZE: usize = 256 << 10;
/// Progress is checked every this many records.
const PROGRESS_EVERY: u64 = 8192;

/// How to read the files of an analysis.
#[derive(Debug, Clone, Default)]
pub struct EdaOptions {
    /// Force the format of every file (detected from the content otherwise).
    pub format: Option<Format>,
    /// Show progress on stderr (only for runs longer than a second).
    pub progress: bool,
    /// Settings of the statistics.
    pub stats: StatsOptions,
}

/// Reads `paths` (reviews, ratings, metadata, sequence files; plain or gzip, any order) in one
/// streaming pass and computes the report. Malformed lines are counted by reason, never fatal.
///
/// # Errors
///
/// If `paths` is empty, or a file cannot be opened or its format detected (checked for every
/// file before any is read).
pub fn analyze_files(paths: &[PathBuf], options: &EdaOptions) -> Result<EdaReport> {
    if paths.is_empty() {
        return Err(DatasetError::NoInput.into());
    }
    let formats = paths
        .iter()
        .map(|path| options.format.map_or_else(|| detect_format(path), Ok))
        .collect::<std::result::Result<Vec<Format>, DatasetError>>()?;
    let total_bytes = paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let bytes = Arc::new(AtomicU64::new(0));
    let mut progress = Progress::new(options.progress, total_bytes);
    let mut stats = StatsBuilder::new(options.stats.clone());
    let mut inputs = Vec::with_capacity(paths.len());
    let mut records = 0u64;
    for (path, &format) in paths.iter().zip(&formats) {
        let reader = open(path, format, &bytes)?;
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut reader = reader;
        for item in reader.by_ref() {
            match item {
                Ok((_, record)) => stats.add_record(&record),
                Err(problem) => {
                    let at = format!("{file_name}:{}", problem.line);
                    stats.add_problem(&problem.reason, Some(&at));
                }
            }
            records += 1;
            if records % PROGRESS_EVERY == 0 {
                progress.update(bytes.load(Ordering::Relaxed), records);
            }
        }
        inputs.push(InputSummary {
            source: path.display().to_string(),
            format: format.name().to_owned(),
            lines: reader.lines(),
            records: reader.records(),
            malformed: reader.malformed(),
        });
    }
    progress.finish(bytes.load(Ordering::Relaxed), records);
    Ok(stats.finish(&dataset_name(paths), inputs))
}

/// A reader that counts the bytes read through it (compressed bytes, for progress).
struct Counted<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a file, gzip or plain (by its magic bytes), counting the bytes read from disk.
fn open(path: &Path, format: Format, bytes: &Arc<AtomicU64>) -> Result<RecordReader> {
    let error = |source| {
        Error::Dataset(DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let counted = Counted {
        inner: File::open(path).map_err(error)?,
        bytes: Arc::clone(bytes),
    };
    let mut input = BufReader::with_capacity(BUFFER_SIZE, counted);
    let gzip = input.fill_buf().map_err(error)?.starts_with(&[0x1f, 0x8b]);
    let input: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            BUFFER_SIZE,
            MultiGzDecoder::new(input),
        ))
    } else {
        Box::new(input)
    };
    Ok(RecordReader::from_reader(path, format, input))
}

/// The directory holding the files, or for a single file its name without extensions.
fn dataset_name(paths: &[PathBuf]) -> String {
    let stem = |path: &Path| {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut stem = name.as_str();
        while let Some((rest, ext)) = stem.rsplit_once('.') {
            if rest.is_empty() || !matches!(ext, "gz" | "json" | "jsonl" | "csv" | "txt") {
                break;
            }
            stem = rest;
        }
        stem.to_owned()
    };
    match paths {
        [single] => stem(single),
        [first, ..] => first
            .parent()
            .and_then(Path::file_name)
            .map(|dir| dir.to_string_lossy().into_owned())
            .unwrap_or_else(|| stem(first)),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_dataset_after_its_file_or_folder() {
        assert_eq!(
            dataset_name(&[PathBuf::from("d/reviews_Musical_Instruments_5.json.gz")]),
            "reviews_Musical_Instruments_5"
        );
        assert_eq!(
            dataset_name(&[PathBuf::from("gift/a.json"), PathBuf::from("gift/b.json")]),
            "gift"
        );
    }

    #[test]
    fn reads_files_and_keeps_bad_lines_as_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(
            &path,
            concat!(
                r#"{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1393545600}"#,
                "\n",
                r#"{"reviewerID": "A2", "asin": "B1", "overall": "five", "unixReviewTime": 1393545600}"#,
                "\n",
            ),
        )
        .unwrap();
        let report = analyze_files(&[path], &EdaOptions::default()).unwrap();
        assert_eq!(report.overview.interactions, 1);
        assert_eq!(report.inputs[0].malformed, 1);
        assert_eq!(report.quarantine.reasons[0].examples, ["r.json:2"]);
        assert!(analyze_files(&[], &EdaOptions::default()).is_err());
    }
}
