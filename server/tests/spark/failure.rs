//! A file the Spark job cannot read fails its run: the run is recorded as `failed`, with an
//! error that names the file and gives the cause in one line (not a Java stack trace), and the
//! job exits with that line.

use std::io::Write;

use mongodb::bson::Bson;

use crate::{spark_job, spark_python};

#[test]
fn a_truncated_gzip_fails_the_run_naming_the_file() {
    let Some(python) = spark_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..3000)
        .map(|i| {
            format!(
                "{{\"reviewerID\": \"A{i}\", \"asin\": \"B{}\", \"overall\": 4.0, \"unixReviewTime\": {}}}\n",
                i % 50,
                1_400_000_000 + i
            )
        })
        .collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(lines.as_bytes()).unwrap();
    let gz = encoder.finish().unwrap();
    let file = dir.path().join("cut.json.gz");
    std::fs::write(&file, &gz[..gz.len() / 2]).unwrap();
    let dump = dir.path().join("dump");
    let mut dump_arg = std::ffi::OsString::from("--dump=");
    dump_arg.push(&dump);

    let output = spark_job(
        &python,
        &[dump_arg.to_str().unwrap(), "--format", "reviews"],
        std::slice::from_ref(&file),
    );
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let cause = format!("{}: java.io.EOFException", file.display());
    assert!(
        last.contains("failed, and is not finished") && last.contains(&cause),
        "the last line names the file and the cause: {last}"
    );

    let run = std::fs::read_to_string(dump.join("ingest_runs.jsonl")).unwrap();
    let run: serde_json::Value = serde_json::from_str(run.trim()).unwrap();
    let run = match Bson::try_from(run).unwrap() {
        Bson::Document(run) => run,
        other => panic!("a run record is a document, not {other}"),
    };
    assert_eq!(run.get_str("status").unwrap(), "failed");
    let error = run.get_str("error").unwrap();
    assert!(
        error.starts_with(&cause) && !error.contains('\n') && error.len() < 300,
        "one line naming the file: {error}"
    );
}
