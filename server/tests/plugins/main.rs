//! The plugin host through the real dynamic-loading path: the compliance suite for every
//! bundled plugin, and a clear error for every way a plugin file can be wrong.
//!
//! The libraries are the workspace's cdylibs next to this test binary (target/<profile>);
//! `scripts/test.sh` builds them with `cargo build --workspace` before `cargo test`.

mod compat;

use std::path::{Path, PathBuf};

use recsys::dataset::Dataset;
use recsys::eval::{evaluate, EvalOptions};
use recsys::plugins::{
    compliance, load_file, LoadError, LoadedPlugin, PluginRegistry, TrainedModel,
};
use recsys::Error;
use recsys_plugin_api::host::HandshakeError;
use recsys_plugin_api::{ErrorKind, ParamValue, Params, Query};

/// target/<profile>, where cargo puts the workspace's cdylibs.
fn artifact_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

fn library(crate_name: &str) -> PathBuf {
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        crate_name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    let path = artifact_dir().join(file);
    assert!(
        path.is_file(),
        "{} is missing: build the workspace's plugins first (`cargo build --workspace`, which \
         scripts/test.sh does)",
        path.display()
    );
    path
}

fn load(crate_name: &str) -> LoadedPlugin {
    let path = library(crate_name);
    load_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

const BUNDLED: [&str; 4] = [
    "recsys-plugin-popularity",
    "recsys-cf",
    "recsys-mf",
    "recsys-content",
];

#[test]
fn every_bundled_plugin_passes_the_compliance_suite() {
    for crate_name in BUNDLED {
        let plugin = load(crate_name);
        let report = compliance::run(&plugin, &Params::new());
        println!("{}", report.render());
        assert!(report.passed(), "{}", report.render());
        assert!(
            report.checks.len() >= 8,
            "too few checks ran:\n{}",
            report.render()
        );
    }
}

#[test]
fn a_plugin_built_against_another_major_version_is_refused_by_name() {
    let path = library("recsys-test-abi-mismatch");
    match load_file(&path) {
        Err(LoadError::Handshake {
            path: p,
            error: HandshakeError::ApiVersion { expected, found },
        }) => {
            assert_eq!(p, path);
            assert_eq!(expected.0, recsys_plugin_api::API_MAJOR);
            assert_eq!(found.0, recsys_plugin_api::API_MAJOR + 1);
        }
        other => panic!("expected an API version error, got {other:?}"),
    }
    let message = load_file(&path).unwrap_err().to_string();
    assert!(message.contains("librecsys_test_abi_mismatch"), "{message}");
    assert!(
        message.contains("1.x") && message.contains("2.0"),
        "{message}"
    );
}

#[test]
fn a_library_without_the_entry_symbol_is_refused_by_name() {
    let path = library("recsys-test-no-entry");
    let err = load_file(&path).unwrap_err();
    assert!(matches!(err, LoadError::NoEntrySymbol { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("librecsys_test_no_entry") && message.contains("recsys_plugin_entry"));
}

#[test]
fn a_file_that_is_not_a_library_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir
        .path()
        .join(format!("libfake{}", std::env::consts::DLL_SUFFIX));
    std::fs::write(&fake, "this is a text file, not ELF").unwrap();
    let err = load_file(&fake).unwrap_err();
    assert!(matches!(err, LoadError::NotALibrary { .. }), "{err:?}");
    assert!(err.to_string().contains("libfake"), "{err}");
}

#[test]
fn a_directory_scan_keeps_the_good_plugins_and_lists_the_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let suffix = std::env::consts::DLL_SUFFIX;
    std::fs::copy(
        library("recsys-plugin-popularity"),
        dir.path().join(format!("libpop{suffix}")),
    )
    .unwrap();
    std::fs::copy(
        library("recsys-test-no-entry"),
        dir.path().join(format!("libnoentry{suffix}")),
    )
    .unwrap();
    std::fs::write(dir.path().join(format!("libjunk{suffix}")), "junk").unwrap();
    std::fs::write(
        dir.path().join("README.txt"),
        "not a library, not even looked at",
    )
    .unwrap();
    let registry = PluginRegistry::load_dir(dir.path()).unwrap();
    let names: Vec<&str> = registry.plugins().iter().map(|p| p.name()).collect();
    assert_eq!(names, vec!["popularity"]);
    let mut bad: Vec<String> = registry
        .errors()
        .iter()
        .map(|e| e.path().file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    bad.sort();
    assert_eq!(
        bad,
        vec![format!("libjunk{suffix}"), format!("libnoentry{suffix}")]
    );
    assert!(registry
        .select("popularity,nope")
        .unwrap_err()
        .to_string()
        .contains("nope"));
    assert!(PluginRegistry::load_dir(&dir.path().join("missing")).is_err());
}

#[test]
fn a_panic_in_train_names_the_plugin_and_the_others_keep_working() {
    let panicky = load("recsys-test-panicky");
    let popularity = load("recsys-plugin-popularity");
    let fixture = compliance::Fixture::new();
    let data = fixture.train_data();
    let params = Params::new().with("panic_in", ParamValue::Str("train".into()));
    match TrainedModel::train(&panicky, &data, &params) {
        Err(Error::Plugin { plugin, source }) => {
            assert_eq!(plugin, "panicky");
            assert_eq!(source.kind, ErrorKind::Panic);
            assert!(
                source.message.contains("deliberate panic in train"),
                "{}",
                source.message
            );
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    let model = TrainedModel::train(&popularity, &data, &Params::new()).unwrap();
    assert_eq!(model.recommend(&Query::new(&[], 3)).unwrap().len(), 3);
}

#[test]
fn a_panic_in_recommend_disables_that_model_only() {
    let panicky = load("recsys-test-panicky");
    let fixture = compliance::Fixture::new();
    let data = fixture.train_data();
    let params = Params::new().with("panic_in", ParamValue::Str("recommend".into()));
    let model = TrainedModel::train(&panicky, &data, &params).unwrap();
    let err = model
        .recommend(&Query::new(&[1], 3))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("panicky") && err.contains("deliberate panic in recommend"),
        "{err}"
    );
    assert!(model.is_failed());
    let again = model
        .recommend(&Query::new(&[1], 3))
        .unwrap_err()
        .to_string();
    assert!(again.contains("disabled"), "{again}");

    // In an evaluation, the panicking plugin gets an error row; the others get metrics.
    let dataset = Dataset::read(&[musical_instruments()], None).unwrap();
    let mut all = PluginRegistry::new();
    all.add(panicky);
    all.add(load("recsys-plugin-popularity"));
    let options = EvalOptions {
        params: [("panicky".to_string(), params)].into(),
        ..EvalOptions::default()
    };
    let report = evaluate(&dataset, all.plugins(), &options).unwrap();
    let panicked = &report.results[0];
    assert!(panicked.metrics.is_none());
    assert!(
        panicked
            .error
            .as_deref()
            .unwrap()
            .contains("deliberate panic"),
        "{panicked:?}"
    );
    assert!(
        report.results[1].metrics.is_some(),
        "{:?}",
        report.results[1]
    );
}

fn musical_instruments() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/amazon/mcauley2014-musical-instruments-5core/reviews_Musical_Instruments_5.json.gz")
}

/// Reference figures (issue 2) computed with an independent implementation on this file:
/// popularity NDCG@10 0.0437, HR@10 0.0777, P@10 0.0078; item-kNN cosine K=100 NDCG@10 0.0536.
#[test]
fn musical_instruments_reference_figures() {
    let dataset = Dataset::read(&[musical_instruments()], None).unwrap();
    let mut registry = PluginRegistry::new();
    registry.add(load("recsys-plugin-popularity"));
    registry.add(load("recsys-cf"));
    let options = EvalOptions::default();
    let report = evaluate(&dataset, registry.plugins(), &options).unwrap();
    println!("{}", report.table());
    assert_eq!(report.users_evaluated, 1429);
    assert_eq!(report.n_items, 900);
    let pop = report.results[0].metrics.expect("popularity metrics");
    let within = |got: f64, want: f64| (got - want).abs() <= 0.1 * want;
    assert!(within(pop.ndcg, 0.0437), "popularity NDCG@10 {}", pop.ndcg);
    assert!(
        within(pop.hit_rate, 0.0777),
        "popularity HR@10 {}",
        pop.hit_rate
    );
    assert!(
        within(pop.precision, 0.0078),
        "popularity P@10 {}",
        pop.precision
    );
    let cf = report.results[1].metrics.expect("cf metrics");
    assert!(cf.ndcg >= 0.050, "cf NDCG@10 {} is below 0.050", cf.ndcg);
}

/// `set_aside_latest: 1` (`recsys evaluate --set-aside-latest 1`) scores on the validation
/// split: each user's latest interaction is never read and the one before it is held out;
/// setting aside more than any user has is a clear error, not a table of zeros.
#[test]
fn setting_aside_the_latest_interactions_evaluates_on_the_validation_split() {
    let dataset = Dataset::read(&[musical_instruments()], None).unwrap();
    let mut registry = PluginRegistry::new();
    registry.add(load("recsys-plugin-popularity"));
    let test = evaluate(&dataset, registry.plugins(), &EvalOptions::default()).unwrap();
    let options = EvalOptions {
        set_aside_latest: 1,
        ..EvalOptions::default()
    };
    let validation = evaluate(&dataset, registry.plugins(), &options).unwrap();
    // A 5-core file: every user keeps at least 2 interactions, so all are evaluated again,
    // each with one training interaction fewer (the held-out one of the test run is gone).
    assert_eq!(validation.users_evaluated, test.users_evaluated);
    assert_eq!(
        validation.train_interactions,
        test.train_interactions - test.users_evaluated
    );
    assert!(
        validation
            .protocol
            .ends_with("each user's 1 latest interaction(s) set aside"),
        "{}",
        validation.protocol
    );
    let ndcg = |r: &recsys::eval::EvalReport| r.results[0].metrics.unwrap().ndcg;
    assert_ne!(ndcg(&validation), ndcg(&test));
    let too_many = EvalOptions {
        set_aside_latest: 10_000,
        ..EvalOptions::default()
    };
    let error = evaluate(&dataset, registry.plugins(), &too_many)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no user has an interaction to hold out after setting aside"),
        "{error}"
    );
}

/// Options that would silently mean something else are refused before anything is trained: k
/// = 0, an ensemble depth below k, no validation fold or user; and a selection must name each
/// result once, and parameters only plugins that are loaded.
#[test]
fn options_and_selections_that_mean_nothing_are_refused() {
    let dataset = Dataset::read(&[musical_instruments()], None).unwrap();
    let mut registry = PluginRegistry::new();
    registry.add(load("recsys-cf"));
    let refused = |options: EvalOptions| {
        evaluate(&dataset, registry.plugins(), &options)
            .unwrap_err()
            .to_string()
    };
    let validation = |max_folds, max_users| recsys::eval::ValidationOptions {
        max_folds,
        max_users,
        ..Default::default()
    };
    let ensemble = |depth| Some(recsys::eval::EnsembleOptions { depth });
    for (options, expected) in [
        (
            EvalOptions {
                k: 0,
                ..EvalOptions::default()
            },
            "k must be at least 1",
        ),
        (
            EvalOptions {
                ensemble: ensemble(5),
                ..EvalOptions::default()
            },
            "the ensemble depth (5) must be at least k (10)",
        ),
        (
            EvalOptions {
                ensemble: ensemble(100),
                validation: validation(0, 100),
                ..EvalOptions::default()
            },
            "at least 1 validation fold",
        ),
        (
            EvalOptions {
                tune: Some(Default::default()),
                validation: validation(3, 0),
                ..EvalOptions::default()
            },
            "at least 1 validation user",
        ),
    ] {
        let error = refused(options);
        assert!(error.contains(expected), "{error}");
    }

    let error = registry.select(" , ").unwrap_err().to_string();
    assert!(
        error.contains("no plugin selected") && error.contains("cf"),
        "{error}"
    );
    let error = registry.select("cf,cf").unwrap_err().to_string();
    assert!(error.contains("`cf` is selected twice"), "{error}");
    assert_eq!(registry.select("cf, cf:rp3beta").unwrap().len(), 2);
    let error = registry
        .check_param_plugins(["cf", "cff"], "--param `cff.neighbours=8`")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`cff`, which is not loaded") && error.contains("loaded plugins: cf"),
        "{error}"
    );
    registry.check_param_plugins(["cf"], "--param").unwrap();
}

/// The ensemble is tuned on validation users carved from the training data and must match its
/// best member on the test items (not fall below it by two standard errors of the paired
/// difference: the guard keeps a blend only when it wins on validation, and 1,429 test users
/// cannot tell finer gaps apart); its spec names every member with its weight.
#[test]
fn the_ensemble_matches_its_best_member_on_musical_instruments() {
    let dataset = Dataset::read(&[musical_instruments()], None).unwrap();
    let mut registry = PluginRegistry::new();
    for name in ["recsys-plugin-popularity", "recsys-cf", "recsys-mf"] {
        registry.add(load(name));
    }
    let options = EvalOptions {
        ensemble: Some(recsys::eval::EnsembleOptions::default()),
        ..EvalOptions::default()
    };
    let report = evaluate(&dataset, registry.plugins(), &options).unwrap();
    println!("{}", report.table());
    let ndcg = |name: &str| {
        let r = report.results.iter().find(|r| r.plugin == name).unwrap();
        r.metrics
            .unwrap_or_else(|| panic!("{name}: {:?}", r.error))
            .ndcg
    };
    let best = ["popularity", "cf", "mf", "ensemble"]
        .into_iter()
        .max_by(|a, b| ndcg(a).total_cmp(&ndcg(b)))
        .unwrap();
    // Every other result is compared with the best one, user by user: the mean of the paired
    // differences is the difference of the means.
    assert_eq!(report.comparisons.len(), 3);
    for c in &report.comparisons {
        assert_eq!(c.against, best);
        let gap = ndcg(&c.plugin) - ndcg(best);
        assert!((c.difference - gap).abs() < 1e-9, "{c:?} vs {gap}");
        assert!(c.standard_error > 0.0, "{c:?}");
    }
    if best != "ensemble" {
        let c = report
            .comparisons
            .iter()
            .find(|c| c.plugin == "ensemble")
            .unwrap();
        assert!(
            c.difference >= -2.0 * c.standard_error,
            "the ensemble is below {best} by more than two standard errors: {c:?}"
        );
    }
    let popularity = report.results.iter().find(|r| r.plugin == "popularity");
    let se = popularity
        .and_then(|r| r.metrics)
        .map(|m| m.ndcg_se)
        .unwrap();
    assert!(
        se > 0.0 && se < 0.01,
        "NDCG standard error {se} over 1,429 users"
    );
    let spec = report.ensemble.expect("ensemble spec");
    assert_eq!(spec.members.len(), 3);
    assert!(spec.members.iter().any(|m| m.weight > 0.0));
    // Two validation folds of all 1,429 users reach the 2,000-user minimum: in this 5-core set
    // every user has at least 4 training interactions to carve them from.
    assert_eq!(spec.validation_users, 2 * 1429);
    let roundtrip: recsys::eval::EnsembleSpec =
        serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(roundtrip.fusion(), spec.fusion());
}

/// `--tune` searches on validation folds carved from the training data: the test items cannot
/// sway it (replacing every user's test item changes no trial's score), the chosen parameters
/// are the ones evaluated on the test items, and the ensemble is built from them.
#[test]
fn tuning_never_sees_the_test_items_and_evaluates_its_choice() {
    let dataset = Dataset::read(&[musical_instruments()], None).unwrap();
    let mut registry = PluginRegistry::new();
    registry.add(load("recsys-cf"));
    registry.add(load("recsys-plugin-popularity"));
    let search: recsys::eval::SearchOverrides = [(
        "cf".to_string(),
        [
            ("neighbours".to_string(), vec![5.into(), 100.into()]),
            ("recency_decay".to_string(), vec![1.0.into(), 0.5.into()]),
        ]
        .into(),
    )]
    .into();
    let options = EvalOptions {
        params: [(
            "cf".to_string(),
            recsys_plugin_api::Params::new()
                .with("shrinkage", 0.0.into())
                .with("mode", "item".into())
                .with("weighting", "none".into())
                .with("bm25_k1", 1.2.into())
                .with("rp3_alpha", 1.0.into())
                .with("rp3_beta", 0.5.into())
                .with("similarity", "cosine".into())
                .with("sequence_weight", 10.0.into())
                .with("sequence_window", 5.into())
                .with("sequence_shrinkage", 100.0.into()),
        )]
        .into(),
        ensemble: Some(recsys::eval::EnsembleOptions::default()),
        tune: Some(recsys::eval::TuneOptions { search }),
        ..EvalOptions::default()
    };
    let report = evaluate(&dataset, registry.plugins(), &options).unwrap();
    println!("{}", report.table());
    let cf = &report.tuning[0];
    assert_eq!(cf.plugin, "cf");
    assert_eq!(cf.validation_users, 2 * 1429);
    // The fixed parameters are not searched (unless --search names them); they stay in every
    // trial.
    assert_eq!(
        cf.space.keys().collect::<Vec<_>>(),
        ["neighbours", "recency_decay"]
    );
    assert!(cf.trials.len() >= 3, "{:?}", cf.trials);
    for trial in &cf.trials {
        assert_eq!(trial.params.get("shrinkage"), Some(&0.0.into()));
        assert!(trial.validation_ndcg.is_some(), "{trial:?}");
    }
    assert_eq!(&report.results[0].params, cf.chosen());
    let member = &report.ensemble.as_ref().unwrap().members[0];
    assert_eq!(&member.params, cf.chosen());
    // Popularity declares nothing to search: one trial, its start.
    assert!(report.tuning[1].space.is_empty());
    assert_eq!(report.tuning[1].trials.len(), 1);

    // Every user's test item (the latest interaction) replaced by another item: the test
    // metrics change, the tuning does not.
    let mut other = dataset.clone();
    let n_items = other.n_items() as u32;
    let mut latest: std::collections::HashMap<u32, usize> = Default::default();
    for (i, x) in other.interactions.iter().enumerate() {
        let best = latest.entry(x.user).or_insert(i);
        let b = &other.interactions[*best];
        if (x.timestamp, x.order) > (b.timestamp, b.order) {
            *best = i;
        }
    }
    for &i in latest.values() {
        let x = &mut other.interactions[i];
        x.item = (x.item + 7) % n_items;
    }
    let moved = evaluate(&other, registry.plugins(), &options).unwrap();
    let scores = |r: &recsys::eval::EvalReport| -> Vec<Option<f64>> {
        r.tuning[0]
            .trials
            .iter()
            .map(|t| t.validation_ndcg)
            .collect()
    };
    assert_eq!(scores(&report), scores(&moved));
    assert_ne!(
        report.results[0].metrics.unwrap().ndcg,
        moved.results[0].metrics.unwrap().ndcg
    );
}

/// With one test user the paired difference is that user's own, and no standard error exists:
/// the table and the comparison say `n/a` (and make no claim about two standard errors), the
/// JSON report `null`, and the report reads back.
#[test]
fn one_test_user_has_a_difference_and_no_standard_error() {
    let dir = tempfile::tempdir().unwrap();
    let reviews = dir.path().join("reviews.json");
    let meta = dir.path().join("meta.json");
    let json = dir.path().join("report.json");
    // Only u1 has two interactions: A, then D (held out). Popularity ranks C, B, then D
    // (NDCG 1/2); content ranks D, A's twin, first (NDCG 1).
    std::fs::write(
        &reviews,
        [
            r#"{"reviewerID":"u1","asin":"A","overall":5,"unixReviewTime":100}"#,
            r#"{"reviewerID":"u1","asin":"D","overall":4,"unixReviewTime":200}"#,
            r#"{"reviewerID":"u2","asin":"C","overall":5,"unixReviewTime":100}"#,
            r#"{"reviewerID":"u3","asin":"C","overall":5,"unixReviewTime":50}"#,
            r#"{"reviewerID":"u4","asin":"B","overall":5,"unixReviewTime":50}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    std::fs::write(
        &meta,
        [
            r#"{"asin":"A","title":"red electric guitar strings","brand":"Acme"}"#,
            r#"{"asin":"D","title":"blue electric guitar strings","brand":"Acme"}"#,
            r#"{"asin":"C","title":"paper notebook","brand":"Other"}"#,
            r#"{"asin":"B","title":"coffee mug","brand":"Zed"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let (ok, text) = recsys(&[
        "evaluate",
        "-q",
        "--data",
        reviews.to_str().unwrap(),
        "--data",
        meta.to_str().unwrap(),
        "--plugins",
        "popularity,content",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("popularity     -0.5000 ± n/a  (one test user: no standard error)"),
        "{text}"
    );
    assert!(!text.contains("within two standard errors"), "{text}");
    let report: recsys::eval::EvalReport =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report.comparisons.len(), 1);
    assert_eq!(report.comparisons[0].difference, -0.5);
    assert!(report.comparisons[0].standard_error.is_nan());
    assert!(report.results[0].metrics.unwrap().ndcg_se.is_nan());
}

fn recsys(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run recsys");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn plugin_check_passes_bundled_plugins_and_reports_broken_ones() {
    for crate_name in BUNDLED {
        let path = library(crate_name);
        let (ok, text) = recsys(&["plugin", "check", path.to_str().unwrap()]);
        assert!(ok, "{text}");
        assert!(text.contains(", 0 failed"), "{text}");
    }
    let (ok, text) = recsys(&[
        "plugin",
        "check",
        library("recsys-test-abi-mismatch").to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("API version mismatch") && !text.contains("stack backtrace"),
        "{text}"
    );
    let (ok, text) = recsys(&[
        "plugin",
        "check",
        library("recsys-test-no-entry").to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("recsys_plugin_entry"), "{text}");
    let panicky = library("recsys-test-panicky");
    let (ok, text) = recsys(&[
        "plugin",
        "check",
        panicky.to_str().unwrap(),
        "--param",
        "panic_in=recommend",
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("FAIL") && text.contains("deliberate panic in recommend"),
        "{text}"
    );
    assert!(text.contains("fails the compliance suite"), "{text}");
    // A bare file name is the file in the current directory (dlopen alone would search the
    // system's library path).
    let cf = library("recsys-cf");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["plugin", "check"])
        .arg(cf.file_name().unwrap())
        .current_dir(cf.parent().unwrap())
        .output()
        .expect("run recsys");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("0 failed"), "{out:?}");
    // A parameter the plugin refuses is the caller's mistake, not the plugin's failure.
    let (ok, text) = recsys(&[
        "plugin",
        "check",
        cf.to_str().unwrap(),
        "--param",
        "neighbours=0",
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("`cf` refuses the given --param values")
            && text.contains("`neighbours` must be at least 1")
            && !text.contains("fails the compliance suite"),
        "{text}"
    );
}

/// `recsys evaluate --quiet --plugins PLUGINS` on musical instruments with the workspace's
/// plugins, then `extra`.
fn evaluate_musical_instruments(plugins: &str, extra: &[&str]) -> (bool, String) {
    let (data, dir) = (musical_instruments(), artifact_dir());
    let base = [
        "evaluate",
        "--quiet",
        "--plugins",
        plugins,
        "--plugin-dir",
        dir.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ];
    recsys(&[&base[..], extra].concat())
}

/// Nothing the readers skip goes unrecorded: with `--quiet` a malformed line still gets a
/// warning, and the `--json` report lists each one with its file, line and reason (here a
/// truncated line, a line that is not UTF-8 and a review without its reviewer).
#[test]
fn skipped_lines_are_counted_under_quiet_and_listed_in_the_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("reviews.json");
    let mut text = Vec::new();
    for user in 0..6 {
        for item in 0..4 {
            let line = format!(
                r#"{{"reviewerID": "U{user}", "asin": "I{}", "overall": 5.0, "unixReviewTime": {}}}"#,
                (user + item) % 5,
                1_000 + item
            );
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
    }
    text.extend_from_slice(b"{\"reviewerID\": \"U9\", \"asin\n");
    text.extend_from_slice(b"{\"reviewerID\": \"U9\", \"asin\": \"I1\", \"overall\": 4.0, \"unixReviewTime\": 5, \"summary\": \"\xff\"}\n");
    text.extend_from_slice(b"{\"asin\": \"I1\", \"overall\": 4.0, \"unixReviewTime\": 5}\n");
    std::fs::write(&data, text).unwrap();
    let json = dir.path().join("report.json");
    let plugin_dir = artifact_dir();
    let (ok, out) = recsys(&[
        "evaluate",
        "--quiet",
        "--plugins",
        "popularity",
        "--plugin-dir",
        plugin_dir.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("warning: 3 malformed line(s) skipped"),
        "{out}"
    );
    let report: recsys::eval::EvalReport =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let read = report.read.expect("the report records the reading");
    assert_eq!((read.malformed, read.files[0].records), (3, 24));
    let problems: Vec<(u64, &str)> = read
        .problems
        .iter()
        .map(|p| (p.line, p.reason.as_str()))
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(problems[0].0, 25);
    assert!(problems[0].1.starts_with("not valid JSON"), "{problems:?}");
    assert_eq!(problems[1], (26, "not UTF-8: invalid byte at offset 84"));
    assert_eq!(problems[2], (27, "missing field `reviewerID`"));
    assert!(read
        .problems
        .iter()
        .all(|p| p.file.ends_with("reviews.json")));
}

/// The command line refuses, before reading any data, an ensemble of one plugin and an output
/// file in a directory that does not exist (a long run must not end there).
#[test]
fn the_command_line_refuses_what_would_fail_late() {
    let (ok, text) = evaluate_musical_instruments("cf", &["--ensemble"]);
    assert!(
        !ok && text.contains("--ensemble fuses several plugins"),
        "{text}"
    );
    let (ok, text) = evaluate_musical_instruments("cf", &["--json", "/nonexistent/dir/r.json"]);
    assert!(
        !ok && text.contains("the directory /nonexistent/dir does not exist"),
        "{text}"
    );
    let (ok, text) = evaluate_musical_instruments("cf", &["--param", "cff.neighbours=8"]);
    assert!(!ok && text.contains("names plugin `cff`"), "{text}");
    // Random-holdout's options under leave-last-out would be ignored: refused instead.
    for option in [["--holdout-fraction", "0.3"], ["--seed", "3"]] {
        let (ok, text) = evaluate_musical_instruments("cf", &option);
        assert!(
            !ok && text.contains("this run is leave-last-out"),
            "{option:?}: {text}"
        );
    }
}

/// `--search` values are checked against the plugin's parameters before anything is trained,
/// and need `--tune`.
#[test]
fn bad_search_values_are_refused_with_the_parameter_named() {
    let run = |extra: &[&str]| evaluate_musical_instruments("cf", extra);
    let (ok, text) = run(&["--tune", "--search", "cf.nope=1,2"]);
    assert!(!ok && text.contains("no parameter `nope`"), "{text}");
    let (ok, text) = run(&["--tune", "--search", "cf.neighbours=10,many"]);
    assert!(!ok && text.contains("neighbours"), "{text}");
    let (ok, text) = run(&["--tune", "--search", "neighbours=10,20"]);
    assert!(!ok && text.contains("PLUGIN.NAME"), "{text}");
    let (ok, text) = run(&["--search", "cf.neighbours=10,20"]);
    assert!(!ok && text.contains("--tune"), "{text}");
}

/// A preset (API 1.4) selected as `cf:implicit-bm25` is a row of its own, trained with the
/// preset's values and the plugin's `--param` values over them, and compared with the best row
/// user by user; `--tune` tries the presets as starting points for the plugin's own row,
/// keeping the fixed parameters, and tunes a preset row without changing the preset's values.
#[test]
fn a_preset_is_a_row_of_its_own_and_a_start_for_tuning() {
    let dataset = Dataset::read(&[musical_instruments()], None).unwrap();
    let mut registry = PluginRegistry::new();
    registry.add(load("recsys-cf"));
    let cf = registry.get("cf").unwrap();
    let bm25 = cf
        .info()
        .preset_named("implicit-bm25")
        .expect("cf declares implicit-bm25");
    assert!(cf.info().preset_named("implicit-cosine").is_some());

    let selected = registry.select("cf, cf:implicit-bm25").unwrap();
    let options = EvalOptions::default();
    let report = evaluate(&dataset, &selected, &options).unwrap();
    println!("{}", report.table());
    let labels: Vec<&str> = report.results.iter().map(|r| r.plugin.as_str()).collect();
    assert_eq!(labels, ["cf", "cf:implicit-bm25"]);
    assert_eq!(report.results[1].params, bm25.params);
    // The same as giving the preset's values by hand.
    let by_hand = EvalOptions {
        params: [("cf".to_string(), bm25.params.clone())].into(),
        ..options.clone()
    };
    let plain = evaluate(&dataset, &selected[..1], &by_hand).unwrap();
    assert_eq!(plain.results[0].metrics, report.results[1].metrics);
    assert_eq!(report.comparisons.len(), 1);
    assert_eq!(report.comparisons[0].plugin, "cf:implicit-bm25");
    // Paired against the preset instead of the best: the same difference, the other sign.
    let against_bm25 = EvalOptions {
        baseline: Some("cf:implicit-bm25".into()),
        ..options.clone()
    };
    let paired = evaluate(&dataset, &selected, &against_bm25).unwrap();
    let c = &paired.comparisons[0];
    assert_eq!(
        (c.plugin.as_str(), c.against.as_str()),
        ("cf", "cf:implicit-bm25")
    );
    assert!((c.difference + report.comparisons[0].difference).abs() < 1e-12);
    assert_eq!(c.standard_error, report.comparisons[0].standard_error);
    let unknown = EvalOptions {
        baseline: Some("ensemble".into()),
        ..options.clone()
    };
    let err = evaluate(&dataset, &selected, &unknown)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--baseline `ensemble`") && err.contains("cf, cf:implicit-bm25"),
        "{err}"
    );

    // Given values go over the preset's.
    let given = EvalOptions {
        params: [("cf".to_string(), Params::new().with("neighbours", 7.into()))].into(),
        ..options.clone()
    };
    let report = evaluate(&dataset, &selected[1..], &given).unwrap();
    assert_eq!(report.results[0].params.get("neighbours"), Some(&7.into()));
    assert_eq!(
        report.results[0].params.get("weighting"),
        Some(&"bm25".into())
    );

    // Tuning tries each preset, with the fixed parameters kept.
    let tuned = EvalOptions {
        tune: Some(recsys::eval::TuneOptions::default()),
        ..given
    };
    let report = evaluate(&dataset, &selected[..1], &tuned).unwrap();
    let presets: Vec<&str> = report.tuning[0]
        .trials
        .iter()
        .filter_map(|t| t.preset.as_deref())
        .collect();
    assert_eq!(presets, ["rp3beta", "implicit-cosine", "implicit-bm25"]);
    for trial in &report.tuning[0].trials {
        assert_eq!(trial.params.get("neighbours"), Some(&7.into()), "{trial:?}");
    }
    // A preset row stays the model it names: its values are fixed like given ones, and the
    // search covers only what it leaves open (here: cf:rp3beta's alpha, beta, neighbours...).
    let rp3beta = registry.select("cf:rp3beta").unwrap();
    let preset = &cf.info().preset_named("rp3beta").unwrap().params;
    let report = evaluate(&dataset, &rp3beta, &tuned).unwrap();
    let tuning = &report.tuning[0];
    assert!(tuning.trials.iter().all(|t| t.preset.is_none()));
    assert!(tuning.space.contains_key("rp3_beta"), "{:?}", tuning.space);
    for (name, _) in preset.iter() {
        assert!(!tuning.space.contains_key(name), "{name} searched");
    }
    for trial in &tuning.trials {
        assert_eq!(
            trial.params.clone().overlaid(preset),
            trial.params,
            "{trial:?}"
        );
        assert_eq!(trial.params.get("neighbours"), Some(&7.into()), "{trial:?}");
    }
    assert!(tuning.trials.len() > 1);

    let err = registry.select("cf:nope").unwrap_err().to_string();
    assert!(
        err.contains("no preset `nope`") && err.contains("implicit-bm25"),
        "{err}"
    );
}

/// `recsys plugins` lists the presets as they are selected and the parameters that matter only
/// for some values of another, and `--plugins` refuses a preset the plugin does not declare,
/// naming the ones it does.
#[test]
fn presets_are_listed_and_an_unknown_one_is_refused() {
    let dir = artifact_dir();
    let (ok, text) = recsys(&["plugins", "--plugin-dir", dir.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(
        text.contains("preset cf:implicit-bm25 (") && text.contains("weighting=\"bm25\""),
        "{text}"
    );
    assert!(
        text.contains("only with algorithm = \"bpr\"")
            && text.contains("only with similarity = \"rp3beta\""),
        "{text}"
    );
    // The table's columns line up: every plugin's file starts under FILE, whatever the length
    // of its capability list (content's is the longest).
    let file_at = text.lines().next().and_then(|h| h.find("FILE")).unwrap();
    let rows = text.lines().skip(1);
    for line in rows.filter(|l| !l.starts_with(' ') && !l.starts_with("warning")) {
        if line.contains(".so") {
            assert_eq!(
                line.find(dir.to_str().unwrap()),
                Some(file_at),
                "{line:?} in\n{text}"
            );
        }
    }
    let (ok, text) = evaluate_musical_instruments("cf:bm25", &[]);
    assert!(
        !ok && text.contains("no preset `bm25`") && text.contains("implicit-cosine"),
        "{text}"
    );
}
