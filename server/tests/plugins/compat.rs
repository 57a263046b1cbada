//! The compatibility promise of `recsys-plugin-api`: a plugin built against the previous API
//! minor version (the frozen 1.0 crate in `test-plugins/api-1.0`, used by
//! `test-plugins/old-minor`) loads through the real loader, says which version it was built
//! against, passes the compliance suite, and only lacks the functions added since.

use recsys::plugins::compliance::{self, Fixture};
use recsys_plugin_api::{Capability, ErrorKind, Params, Query, API_MAJOR, API_MINOR};

use super::load;

// The host must be of a newer minor version than the frozen 1.0 API for the test to mean much.
const _: () = assert!(API_MINOR >= 1);

#[test]
fn a_plugin_built_against_the_previous_minor_version_loads_and_passes_the_compliance_suite() {
    let plugin = load("recsys-test-old-minor");
    let info = plugin.info();
    assert_eq!(plugin.name(), "old-minor");
    assert_eq!((info.api_major, info.api_minor), (API_MAJOR, 0));

    let report = compliance::run(&plugin, &Params::new());
    println!("{}", report.render());
    assert!(report.passed(), "{}", report.render());
    // Every 1.0 capability it declares was exercised through its (shorter) declaration.
    for check in ["similar_items", "explain", "save and load"] {
        assert!(
            report.checks.iter().any(|c| c.name == check),
            "`{check}` did not run:\n{}",
            report.render()
        );
    }
}

#[test]
fn a_function_added_after_the_plugins_minor_version_is_unsupported_not_called() {
    let fixture = Fixture::new();
    let old = load("recsys-test-old-minor");
    assert!(!old.info().has(Capability::ScoreItems));
    let model = old
        .plugin
        .train(&fixture.train_data(), &Params::new())
        .unwrap();
    let err = model
        .score_items(&Query::new(&[0], 0), &[1, 2])
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert!(err.message.contains("1.1"), "{err}");
    // The model still serves after the refused call.
    assert_eq!(model.recommend(&Query::new(&[0], 3)).unwrap().len(), 3);

    // A plugin of the current minor version has it.
    let current = load("recsys-plugin-popularity");
    assert_eq!(current.info().api_minor, API_MINOR);
    assert!(current.info().has(Capability::ScoreItems));
    let model = current
        .plugin
        .train(&fixture.train_data(), &Params::new())
        .unwrap();
    let top = model.recommend(&Query::new(&[], 2)).unwrap();
    let candidates = [top[1].item, top[0].item];
    let scores = model.score_items(&Query::new(&[], 0), &candidates).unwrap();
    assert_eq!(scores, vec![top[1].score, top[0].score]);
}
