//! The two ways to get a plugin into the engine give the same engine: the bundled plugins
//! linked into this test binary, and the same plugins' libraries loaded with dlopen (the
//! cdylibs the repository's `cargo build --workspace` writes to target/<profile>; this project
//! builds into target/embed).

use std::path::{Path, PathBuf};

use recsys::plugins::{load_file, LoadedPlugin};
use recsys_embed_example::{catalogue, engine, history, static_plugins};

/// The repository's target/<profile>, where its `cargo build --workspace` writes the plugin
/// libraries. This project builds into target/embed (see `.cargo/config.toml`), so this test
/// binary is target/embed/<profile>/deps/<test>.
fn artifact_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/embed/<profile>/deps/<test>");
    let profile = profile_dir.file_name().expect("a profile directory");
    profile_dir
        .parent()
        .and_then(Path::parent)
        .expect("target/embed/<profile>")
        .join(profile)
}

fn dynamic_plugins() -> Vec<LoadedPlugin> {
    ["recsys_cf", "recsys_mf", "recsys_content"]
        .into_iter()
        .map(|name| {
            let file = format!(
                "{}{name}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            );
            let path = artifact_dir().join(file);
            assert!(
                path.is_file(),
                "{} is missing: build the repository's plugins first (`cargo build --workspace` \
                 in the repository root, which scripts/test.sh does); this project must build \
                 into target/embed of the same target directory",
                path.display()
            );
            load_file(&path).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

#[test]
fn statically_linked_and_dynamically_loaded_plugins_recommend_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = catalogue(dir.path()).unwrap();

    let linked = static_plugins().unwrap();
    let loaded = dynamic_plugins();
    assert!(linked.iter().all(|p| p.path.is_none()));
    assert!(loaded.iter().all(|p| p.path.is_some()));
    for (l, d) in linked.iter().zip(&loaded) {
        assert_eq!(l.info(), d.info(), "the same plugin, linked and loaded");
    }

    let linked = engine(linked, &dataset).unwrap();
    let loaded = engine(loaded, &dataset).unwrap();

    let history = history(&dataset);
    assert!(history.len() >= 3, "a history of a few items: {history:?}");
    let from_linked = linked.recommend(&history, 10).unwrap();
    let from_loaded = loaded.recommend(&history, 10).unwrap();
    assert_eq!(from_linked.len(), 10);
    assert_eq!(from_linked, from_loaded);
    // All three plugins took part in the fused ranking.
    for plugin in ["cf", "mf", "content"] {
        assert!(
            from_linked
                .iter()
                .any(|r| r.sources.iter().any(|s| s.plugin == plugin)),
            "no recommendation from {plugin}: {from_linked:#?}"
        );
    }

    let item = &history[0].asin;
    let similar = linked.similar(item, 5).unwrap();
    assert!(!similar.is_empty());
    assert_eq!(similar, loaded.similar(item, 5).unwrap());

    let hits = linked.search("headphones", 5).unwrap();
    assert!(!hits.is_empty());
    assert_eq!(hits, loaded.search("headphones", 5).unwrap());

    // The empty history (a new visitor) too.
    assert_eq!(
        linked.recommend(&[], 10).unwrap(),
        loaded.recommend(&[], 10).unwrap()
    );
}
