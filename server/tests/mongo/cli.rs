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
