//! The `recsys serve` binary with zero external services (embedded store, in-process bus): a
//! generated catalogue, an ensemble tuned at the first start and re-used at the next.

use crate::support::{artifact_dir, free_port, http, ServerProcess};

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

/// Runs `recsys COMMAND` (`serve` or `demo`) with `args`, the demo sizes and its state in
/// `state`, which must fail: what it wrote on stderr.
fn serve_fails(command: &str, args: &[&str], state: &std::path::Path) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args([command, "--state-dir"])
        .arg(state)
        .args(args)
        .env("RECSYS__PLUGINS__DIR", artifact_dir())
        .env("RECSYS__DEMO__USERS", "1500")
        .env("RECSYS__DEMO__ITEMS", "400")
        .env("RECSYS__DEMO__INTERACTIONS", "30000")
        .output()
        .expect("recsys runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        !output.status.success(),
        "recsys {command} {args:?} started:\n{stderr}"
    );
    stderr
}

#[test]
fn a_bad_or_busy_address_fails_before_any_start_up_work() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = busy.local_addr().unwrap().to_string();
    for (bind, says) in [
        (
            "notanaddress",
            "server.bind `notanaddress` is not an address".to_string(),
        ),
        (
            busy.as_str(),
            format!("cannot listen on {busy} (server.bind)"),
        ),
    ] {
        // The demo writes its EDA report before serving: it binds first too.
        for command in ["serve", "demo"] {
            let state = tempfile::tempdir().unwrap();
            let stderr = serve_fails(command, &["--bind", bind], state.path());
            assert!(stderr.contains(&says), "{command}: {stderr}");
            // Nothing generated, read or tuned first.
            assert!(!stderr.contains("generating a catalogue"), "{stderr}");
            assert!(!stderr.contains("reading"), "{stderr}");
            let left: Vec<_> = std::fs::read_dir(state.path()).unwrap().collect();
            assert!(left.is_empty(), "{command}: {left:?}");
        }
    }
}

/// `recsys worker` listens on nothing: an HTTP flag given to it is a mistake, said at once.
#[test]
fn the_worker_refuses_http_flags() {
    let state = tempfile::tempdir().unwrap();
    for flag in [["--bind", "127.0.0.1:0"], ["--eda", "/tmp"]] {
        let stderr = serve_fails("worker", &flag, state.path());
        assert!(
            stderr.contains("`recsys worker` serves no HTTP, so --bind and --eda do not apply"),
            "{stderr}"
        );
    }
}

/// A MongoDB server that cannot be reached fails the start before the catalogue is generated
/// (once running, the store may go away and come back; see the outage tests).
#[test]
fn an_unreachable_store_fails_the_start_before_the_slow_work() {
    let state = tempfile::tempdir().unwrap();
    let closed = free_port();
    let bind = format!("127.0.0.1:{}", free_port());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["serve", "--bind", &bind, "--state-dir"])
        .arg(state.path())
        .env("RECSYS__PLUGINS__DIR", artifact_dir())
        .env(
            "RECSYS__MONGODB__URI",
            format!("mongodb://127.0.0.1:{closed}/?directConnection=true"),
        )
        .output()
        .expect("recsys runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("mongodb.uri"), "{stderr}");
    assert!(!stderr.contains("generating a catalogue"), "{stderr}");
}

/// Parameters for a plugin that is not loaded (a typo: `cff`) are refused at start-up, as
/// `recsys evaluate` refuses them, instead of `cf` silently training with its defaults.
#[test]
fn parameters_for_a_plugin_that_is_not_loaded_are_refused() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("typo.toml");
    std::fs::write(&config, "[plugins.params.cff]\nneighbours = 8\n").unwrap();
    let port = free_port().to_string();
    let bind = format!("127.0.0.1:{port}");
    let stderr = serve_fails(
        "serve",
        &["--config", config.to_str().unwrap(), "--bind", &bind],
        state.path(),
    );
    assert!(
        stderr.contains("[plugins.params] names plugin `cff`, which is not loaded"),
        "{stderr}"
    );
    assert!(!stderr.contains("generating a catalogue"), "{stderr}");
}

#[test]
fn an_ensemble_file_that_does_not_fit_the_plugins_is_refused_before_reading_the_data() {
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("ensemble.json");
    let member = |preset: Option<&str>, weight: f64| {
        let mut m = serde_json::json!({
            "plugin": "cf", "version": "0", "params": {}, "weight": weight, "validation_ndcg": 0.0
        });
        if let Some(p) = preset {
            m["preset"] = p.into();
        }
        m
    };
    let cases = [
        (
            vec![member(None, 1.0), member(Some("implicit-bm25"), -3.0)],
            "members[1] (cf:implicit-bm25): weight -3 is negative",
        ),
        (
            vec![member(Some("nopreset"), 1.0)],
            "members[0] (cf:nopreset): plugin `cf` declares no preset `nopreset`",
        ),
        (
            vec![member(None, 0.0), member(Some("implicit-bm25"), 0.0)],
            "no member has a weight above 0",
        ),
    ];
    for (members, says) in cases {
        let spec = serde_json::json!({
            "fusion": "weighted-reciprocal-rank", "rank_constant": 10.0, "depth": 100,
            "members": members, "k": 10, "validation_users": 0, "validation_ndcg": 0.0,
            "dataset": "demo", "test_metrics": null
        });
        std::fs::write(&file, spec.to_string()).unwrap();
        let port = free_port().to_string();
        let bind = format!("127.0.0.1:{port}");
        let stderr = serve_fails(
            "serve",
            &["--bind", &bind, "--ensemble", file.to_str().unwrap()],
            state.path(),
        );
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("generating a catalogue"), "{stderr}");
    }
}
