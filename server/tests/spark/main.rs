//! The Spark job (`examples/spark/ingest.py`) against `recsys ingest`: both must build and store
//! exactly the same documents from the same files. Two tests:
//!
//! * [`sample`]: both write a sample of every ingested format (heads of the shared files plus
//!   malformed lines of each kind), each into a database of its own on the MongoDB server under
//!   test (`RECSYS_TEST_MONGODB_URI`); the stored `products`, `reviews` (BSON types included;
//!   only `ingest.run`, the run id, differs), quarantined lines (reasons and raw text) and
//!   `ingest_runs` counts must be equal. This proves that what each writer stores is what it
//!   built, merges and counts included.
//! * [`full`]: both dump every document they would write (`recsys ingest --dry-run --dump`,
//!   `ingest.py --dump`) for EVERY file of the shared data (`../shared/data/amazon`) that
//!   `recsys ingest` accepts, plus the sample; the dumps must be equal document by document,
//!   with the same quarantine reasons and counts. Writing the 140,000 records into the test
//!   server and reading them back would take about seven minutes on the emulator (measured:
//!   26 s for `recsys ingest`, 116 s for the Spark job, 135 s or more to read each database's
//!   reviews back); the dumps take under a minute.
//! * [`failure`]: a file the job cannot read (a truncated `.gz`) fails its run with an error
//!   that names the file, in one line.
//!
//! The job runs with the Python of `RECSYS_SPARK_PYTHON`, or of the virtualenv that
//! `scripts/dev-setup.sh` makes (`~/.cache/recsys-services/spark-venv`), in `local[2]`, one
//! job at a time. Without it (or, for [`sample`], without a server) a test is skipped with a
//! notice, except under CI, where it fails instead.

mod compare;
mod failure;
mod full;
mod sample;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// Skips (returns `None`) with a notice, or fails under CI.
fn required<T>(value: Option<T>, what: &str) -> Option<T> {
    if value.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what}; tests that need it are never skipped in CI (scripts/test.sh sets it up)"
        );
        eprintln!("skipped: {what}");
    }
    value
}

fn mongodb_uri() -> Option<String> {
    let uri = std::env::var("RECSYS_TEST_MONGODB_URI")
        .ok()
        .filter(|uri| !uri.trim().is_empty());
    required(
        uri,
        "RECSYS_TEST_MONGODB_URI is not set: run `eval \"$(scripts/test-services.sh up)\"`",
    )
}

/// The Python that has pyspark and pymongo.
fn spark_python() -> Option<PathBuf> {
    let python = std::env::var_os("RECSYS_SPARK_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("RECSYS_SERVICES_HOME")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .map(|h| PathBuf::from(h).join(".cache/recsys-services"))
                })?;
            Some(home.join("spark-venv/bin/python"))
        })
        .filter(|python| python.exists());
    required(
        python,
        "no Python with pyspark: run scripts/dev-setup.sh or set RECSYS_SPARK_PYTHON",
    )
}

/// The shared Amazon data (`../shared/data/amazon` from the repository's root).
fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/amazon")
}

fn data(relative: &str) -> PathBuf {
    data_dir().join(relative)
}

/// Runs the Spark job with `args` then `files`, one job at a time (two would share two cores),
/// and returns what it did, failed or not.
fn spark_job(python: &Path, args: &[&str], files: &[PathBuf]) -> Output {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let job = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/spark/ingest.py");
    Command::new(python)
        .env("PYTHONDONTWRITEBYTECODE", "1") // no __pycache__ in examples/spark
        .arg(&job)
        .args(args)
        .args(["--master", "local[2]"])
        .args(files)
        .output()
        .expect("start the Spark job")
}

/// Runs the Spark job with `args` then `files` ([`spark_job`]); fails the test, with the job's
/// output, if it fails.
fn run_spark(python: &Path, args: &[&str], files: &[PathBuf]) -> Output {
    let output = spark_job(python, args, files);
    assert!(
        output.status.success(),
        "the Spark job failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
