//! A MongoDB server that does not answer, or goes away part-way: a clear error naming the
//! server, a non-zero exit, and never a run reported (or recorded) as finished.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::bson::doc;
use recsys::ingest::{self, Target};
use recsys::store::{MongoConfig, MongoStore, StoreError};
use recsys::Error;

use crate::support::{data, mongodb_uri, options, write, TestDb};

/// A local port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn an_unreachable_server_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "r.json",
        br#"{"reviewerID": "A1", "asin": "B1", "overall": 5, "unixReviewTime": 1}"#,
    );
    let uri = format!(
        "mongodb://ann:secret@127.0.0.1:{}/?directConnection=true",
        closed_port()
    );
    let mut config = MongoConfig::new(&uri, "recsys_test_unreachable");
    config.server_selection_timeout = Duration::from_millis(500);
    let error = ingest::run(
        &Target::MongoDb(config),
        &options(std::slice::from_ref(&file)),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Store(StoreError::Unreachable { .. })),
        "{error:?}"
    );
    let message = error.to_string();
    let shown = uri.replace("secret", "***");
    assert!(
        message.contains(&format!("cannot reach MongoDB at {shown}")),
        "{message}"
    );
    assert!(
        !message.contains("secret"),
        "the password is masked: {message}"
    );

    // The command line: a non-zero exit and the same message.
    let output = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args([
            "ingest",
            "--mongodb-uri",
            &uri,
            "--server-timeout",
            "0.5",
            "-q",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach MongoDB at mongodb://ann:***@127.0.0.1"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).is_empty(),
        "no summary printed"
    );
}

/// A TCP proxy to the server under test that cuts every connection, and refuses new ones, once
/// `limit` bytes have gone from the client to the server.
struct FlakyProxy {
    port: u16,
}

impl FlakyProxy {
    fn start(server: &str, limit: u64) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = server.to_owned();
        let sent = Arc::new(AtomicU64::new(0));
        let broken = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if broken.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(&server) else {
                    continue;
                };
                open.lock().unwrap().push(client.try_clone().unwrap());
                open.lock().unwrap().push(upstream.try_clone().unwrap());
                let pump = |mut from: TcpStream, mut to: TcpStream, count: bool| {
                    let (sent, broken, open) = (sent.clone(), broken.clone(), open.clone());
                    std::thread::spawn(move || {
                        let mut buffer = [0u8; 16 << 10];
                        while let Ok(n) = from.read(&mut buffer) {
                            if n == 0 || to.write_all(&buffer[..n]).is_err() {
                                break;
                            }
                            if count
                                && sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > limit
                            {
                                broken.store(true, Ordering::SeqCst);
                                for stream in open.lock().unwrap().iter() {
                                    let _ = stream.shutdown(Shutdown::Both);
                                }
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                };
                pump(
                    client.try_clone().unwrap(),
                    upstream.try_clone().unwrap(),
                    true,
                );
                pump(upstream, client, false);
            }
        });
        FlakyProxy { port }
    }
}

#[tokio::test]
async fn a_server_that_goes_away_mid_run_leaves_the_run_unfinished() {
    let Some(db) = TestDb::new("goes_away").await else {
        return;
    };
    let uri = mongodb_uri().unwrap();
    // host:port of the server under test, for the proxy.
    let authority = uri
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?']).next())
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_owned();
    let proxy = FlakyProxy::start(&authority, 1 << 20);
    let mut config = MongoConfig::new(
        format!("mongodb://127.0.0.1:{}/?directConnection=true", proxy.port),
        &db.name,
    );
    config.server_selection_timeout = Duration::from_millis(1500);
    let store = MongoStore::connect(&config).await.unwrap();
    let files = [data(
        "mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz",
    )];
    let error = ingest::ingest(&store, &options(&files)).await.unwrap_err();
    let Error::IngestFailed { run_id, read, .. } = &error else {
        panic!("expected a failed run, got {error:?}");
    };
    assert!(*read < 10_261, "failed part-way");
    assert!(error.to_string().contains("not finished"), "{error}");

    // Seen directly: the run exists and is not finished.
    let run = db.one("ingest_runs", doc! { "_id": run_id.as_str() }).await;
    let status = run.get_str("status").unwrap();
    assert!(status == "running" || status == "failed", "{run}");
    assert!(run.is_null("finished"), "{run}");
    db.drop_now().await;
}
