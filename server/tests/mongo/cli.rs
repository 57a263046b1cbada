//! `recsys ingest` as a user runs it: the summary on stdout, the exit code.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{mongodb_uri, write, TestDb};

fn recsys(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recsys"))
        .arg("ingest")
        .args(args)
        .arg(file)
        .output()
        .expect("run recsys")
}

fn fixture(dir: &Path) -> std::path::PathBuf {
    let lines = [
        r#"{"asin": "B1", "title": "A <b>card</b>", "price": "$12.99", "category": ["Gift Cards"]}"#,
        r#"{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1500000000}"#,
        r#"{"reviewerID": "A2", "asin": "B1", "overall": "five", "unixReviewTime": 1500000000}"#,
    ];
    // One file mixing metadata and reviews is not a format: two files.
    write(dir, "meta.json", lines[0].as_bytes());
    write(dir, "reviews.json", lines[1..].join("\n").as_bytes())
}

#[test]
fn a_dry_run_needs_no_server_and_prints_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = fixture(dir.path());
    let output = recsys(&["--dry-run", "-q"], &reviews);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("read 2 = built 1 + duplicates 0 + quarantined 1; nothing written"),
        "{stdout}"
    );
    assert!(stdout.contains("records/s"), "{stdout}");
    // The line set aside is shown, and where it would be kept.
    assert!(
        stdout.contains(&format!(
            "  quarantined {}:2: rating not a number: \"five\"\n",
            reviews.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("the record quarantined: a dry run keeps none of them (add --dump DIR"),
        "{stdout}"
    );

    // The same review twice: the equation still adds up, with the second as a duplicate.
    let twice = write(
        dir.path(),
        "twice.json",
        [&fixture_line(), "\n", &fixture_line()].concat().as_bytes(),
    );
    let output = recsys(&["--dry-run", "-q"], &twice);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("read 2 = built 1 + duplicates 1 + quarantined 0; nothing written"),
        "{stdout}"
    );
}

fn fixture_line() -> String {
    r#"{"reviewerID": "A1", "asin": "B1", "overall": 5.0, "unixReviewTime": 1500000000}"#.into()
}

#[tokio::test]
async fn ingest_prints_the_counts_and_a_second_run_says_nothing_is_new() {
    let Some(db) = TestDb::new("cli").await else {
        return;
    };
    let uri = mongodb_uri().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let reviews = fixture(dir.path());
    let meta = dir.path().join("meta.json");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_recsys"))
            .args(["ingest", "-q", "--mongodb-uri", &uri, "--db", &db.name])
            .arg(&reviews)
            .arg(&meta)
            .output()
            .expect("run recsys")
    };
    let first = run();
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("read 3 = inserted 2 + updated 0 + duplicates 0 + quarantined 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  the record quarantined: each with its raw line and reason in {}.quarantine",
            db.name
        )),
        "{stdout}"
    );
    let second = run();
    assert!(second.status.success(), "{second:?}");
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("read 3 = inserted 0 + updated 0 + duplicates 2 + quarantined 1"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing new"), "{stdout}");
    db.drop_now().await;
}

#[test]
fn a_ratings_header_on_the_first_line_is_not_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = write(
        dir.path(),
        "ratings.csv",
        b"item,user,rating,timestamp\nB1,A1,5.0,1369699200\nB2,A1,4.0,1369699200\n",
    );
    let output = recsys(&["--dry-run", "-q"], &ratings);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("read 2 = built 2 + duplicates 0 + quarantined 0; nothing written"),
        "{stdout}"
    );
}

#[test]
fn the_command_line_says_what_is_missing_and_refuses_what_it_would_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = fixture(dir.path());
    let stderr = |output: Output| {
        assert!(!output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // No target: both ways are named.
    let message = stderr(recsys(&[], &reviews));
    assert!(
        message.contains("--mongodb-uri URI") && message.contains("--dry-run"),
        "{message}"
    );
    // A dump is a dry run's: what is missing is --dry-run alone.
    let dump = dir.path().join("dump");
    let message = stderr(recsys(&["--dump", dump.to_str().unwrap()], &reviews));
    assert!(
        message.contains("add --dry-run") && !message.contains("required"),
        "{message}"
    );
    // A dry run writes nowhere: a URI given with it would be ignored, so it is refused.
    let message = stderr(recsys(
        &["--dry-run", "--mongodb-uri", "mongodb://127.0.0.1:1"],
        &reviews,
    ));
    assert!(
        message.contains("--dry-run") && message.contains("cannot be used with"),
        "{message}"
    );
    // A dump never mixes two runs: a directory that holds anything is refused.
    std::fs::create_dir(&dump).unwrap();
    std::fs::write(dump.join("old.jsonl"), "{}\n").unwrap();
    let message = stderr(recsys(
        &["--dry-run", "-q", "--dump", dump.to_str().unwrap()],
        &reviews,
    ));
    assert!(message.contains("is not empty"), "{message}");
    assert_eq!(std::fs::read_dir(&dump).unwrap().count(), 1);
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = fixture(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["ingest", "--dry-run", "-q"])
        .arg(&reviews)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run recsys");
    drop(child.stdout.take()); // as `| head -0` would
    let output = child.wait_with_output().expect("wait for recsys");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && !stderr.contains("panicked"),
        "{output:?}"
    );
}
