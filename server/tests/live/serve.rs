//! The `recsys serve` binary with zero external services (embedded store, in-process bus): a
//! generated catalogue, an ensemble tuned at the first start and re-used at the next.

use crate::support::{free_port, http, ServerProcess};

#[test]
fn a_restart_reuses_the_catalogue_and_the_tuned_ensemble() {
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let first = ServerProcess::start(&[("RECSYS__SERVER__API_KEY", "k")], port, state.path());
    let (status, body) = http(port, "GET", "/api/evaluation", "", None).unwrap();
    assert_eq!(status, 200, "{body}");
    let evaluation: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(evaluation["ensemble"]["members"].is_array(), "{evaluation}");
    let (status, body) = http(
        port,
        "PUT",
        "/api/users/ann",
        "k",
        Some(r#"{"name":"Ann"}"#),
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let log = first.stop();
    assert!(log.contains("tuning an ensemble"), "{log}");
    assert!(state.path().join("ensemble.json").is_file());

    let port = free_port();
    let second = ServerProcess::start(&[("RECSYS__SERVER__API_KEY", "k")], port, state.path());
    // The same evaluation, and the user kept in the embedded store.
    let (status, again) = http(port, "GET", "/api/evaluation", "", None).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again).unwrap(),
        evaluation
    );
    let (status, body) = http(port, "GET", "/api/users/ann", "k", None).unwrap();
    assert_eq!(status, 200, "{body}");
    let log = second.stop();
    assert!(log.contains("using the ensemble tuned earlier"), "{log}");
    assert!(!log.contains("generating a catalogue"), "{log}");
}
