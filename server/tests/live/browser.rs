//! The whole product, end to end: the `recsys serve` binary on a generated catalogue with the
//! real Kafka-protocol broker (`RECSYS_TEST_KAFKA_BROKERS`), driven by headless Chromium
//! (`scripts/browser/live-e2e.js`, playwright-core and `/usr/bin/chromium`): a user's page,
//! two likes, and the recommendations panel changes without a reload within 2 seconds. The
//! screenshot is written to `target/test-artifacts/live-e2e.png`.

use std::path::Path;
use std::process::Command;

use crate::support::{free_port, repo_root, required_env, ServerProcess};

/// Whether the browser tools are installed (`scripts/dev-setup.sh` installs them).
fn browser_ready(root: &Path) -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!("{chromium} is missing (apt-get install chromium)"));
    }
    if !root
        .join("scripts/browser/node_modules/playwright-core")
        .is_dir()
    {
        return Err("playwright-core is missing (scripts/dev-setup.sh installs it)".into());
    }
    Ok(())
}

#[test]
fn liking_two_products_updates_the_page_through_kafka_without_a_reload() {
    let root = repo_root();
    if let Err(why) = browser_ready(&root) {
        if std::env::var_os("CI").is_some() {
            panic!("the browser test cannot run: {why}");
        }
        eprintln!("skipped: {why}");
        return;
    }
    let Some(brokers) = required_env("RECSYS_TEST_KAFKA_BROKERS") else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let run = format!("{}-{}", std::process::id(), port);
    let server = ServerProcess::start(
        &[
            ("RECSYS__KAFKA__BROKERS", brokers.as_str()),
            ("RECSYS__KAFKA__EVENTS_TOPIC", &format!("e2e.events.{run}")),
            (
                "RECSYS__KAFKA__RECOMMENDATIONS_TOPIC",
                &format!("e2e.recommendations.{run}"),
            ),
            ("RECSYS__KAFKA__GROUP", &format!("e2e-worker-{run}")),
        ],
        port,
        state.path(),
    );
    let artifacts = root.join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("live-e2e.png");
    let _ = std::fs::remove_file(&shot);
    let output = Command::new("node")
        .arg(root.join("scripts/browser/live-e2e.js"))
        .arg(server.base_url())
        .arg(&shot)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let log = server.stop();
    assert!(
        output.status.success(),
        "browser test failed:\n{stdout}\n{stderr}\n--- server log ---\n{log}"
    );
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["reloaded"], false, "{result}");
    assert!(result["updates"].as_u64().unwrap() >= 2, "{result}");
    for t in result["like_to_update_ms"].as_array().unwrap() {
        assert!(t.as_u64().unwrap() <= 2000, "{result}");
    }
    assert_ne!(result["before"], result["after"], "{result}");
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
    assert!(log.contains("event bus: kafka"), "{log}");
}
