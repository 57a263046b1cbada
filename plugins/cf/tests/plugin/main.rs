//! The cf plugin through the real ABI (the declaration `export_plugin!` emits, checked and
//! called by the host side of `recsys-plugin-api`), minus `dlopen`.

use recsys_cf::RECSYS_PLUGIN_DECLARATION;
use recsys_plugin_api::host::Plugin;
use recsys_plugin_api::{Capability, CsrView, ErrorKind, Params, Query, TrainData};

fn plugin() -> Plugin {
    Plugin::from_static(&RECSYS_PLUGIN_DECLARATION).expect("the declaration passes the handshake")
}

/// Four users, six items: 0-1-2 go together, 3-4 go together, 5 is never taken.
fn data() -> TrainData<'static> {
    static INDPTR: [u64; 5] = [0, 3, 5, 7, 9];
    static INDICES: [u32; 9] = [0, 1, 2, 0, 1, 3, 4, 2, 3];
    static VALUES: [f32; 9] = [5.0, 4.0, 3.0, 1.0, 2.0, 5.0, 5.0, 4.0, 4.0];
    TrainData::new(CsrView::new(4, 6, &INDPTR, &INDICES, &VALUES).unwrap())
}

#[test]
fn handshake_reports_info() {
    let p = plugin();
    assert_eq!(p.name(), "cf");
    let info = p.info();
    assert!(info.has(Capability::SimilarItems) && info.has(Capability::FoldIn));
    let names: Vec<&str> = info.params.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"neighbours") && names.contains(&"weighting"));
}

#[test]
fn trains_recommends_explains_and_reloads_through_the_abi() {
    let p = plugin();
    for params in [
        r#"{"neighbours": 50}"#,
        r#"{"mode": "user", "shrinkage": 1}"#,
        r#"{"similarity": "rp3beta", "rp3_alpha": 0.5}"#,
    ] {
        let model = p
            .train(&data(), &Params::from_json(params).unwrap())
            .unwrap();
        let query = Query {
            exclude: &[0],
            ..Query::new(&[0], 3)
        };
        let recs = model.recommend(&query).unwrap();
        assert_eq!(recs.len(), 3, "{params}");
        assert!([1, 2].contains(&recs[0].item), "{params}: {recs:?}");
        let similar = model.similar_items(3, 2).unwrap();
        assert_eq!(similar[0].item, 4, "{params}");
        let why = model.explain(&query, recs[0].item).unwrap();
        assert_eq!(why.contributions[0].item, Some(0), "{params}");
        assert!(why.text.starts_with("because you interacted with item 0"));
        // Empty history: popular items, never an error.
        assert_eq!(model.recommend(&Query::new(&[], 6)).unwrap().len(), 6);

        let bytes = model.save().unwrap();
        let loaded = p.load(&bytes, Some(6)).unwrap();
        assert_eq!(loaded.recommend(&query).unwrap(), recs);
        let err = p.load(&bytes[..bytes.len() - 1], None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        // Without n_items the host does not check queries; the plugin does.
        let unchecked = p.load(&bytes, None).unwrap();
        let err = unchecked.recommend(&Query::new(&[60], 3)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
    }
}

#[test]
fn bad_params_are_reported_not_panicked() {
    let p = plugin();
    for (json, needle) in [
        (r#"{"neighbours": 0}"#, "neighbours"),
        (r#"{"mode": "both"}"#, "mode"),
        (r#"{"weighting": "okapi"}"#, "weighting"),
        (r#"{"shrinkage": -2}"#, "shrinkage"),
        (r#"{"neighbors": 10}"#, "unknown parameter"),
        (r#"{"rp3_alpha": 0}"#, "rp3_alpha"),
        (r#"{"rp3_beta": -1}"#, "rp3_beta"),
        (r#"{"mode": "user", "similarity": "rp3beta"}"#, "rp3beta"),
    ] {
        let err = p
            .train(&data(), &Params::from_json(json).unwrap())
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidParams, "{json}");
        assert!(err.message.contains(needle), "{json}: {}", err.message);
    }
}

#[test]
fn concurrent_queries_give_the_sequential_answers() {
    let p = plugin();
    for params in ["{}", r#"{"mode": "user"}"#, r#"{"similarity": "rp3beta"}"#] {
        let model = p
            .train(&data(), &Params::from_json(params).unwrap())
            .unwrap();
        let histories: Vec<Vec<u32>> = (0..6u32)
            .flat_map(|a| (0..6u32).map(move |b| vec![a, b]))
            .collect();
        let ask = |h: &[u32]| {
            let q = Query {
                exclude: &[],
                ..Query::new(h, 4)
            };
            model.recommend(&q).unwrap()
        };
        let sequential: Vec<_> = histories.iter().map(|h| ask(h)).collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let (histories, ask) = (&histories, &ask);
                    s.spawn(move || {
                        (0..histories.len())
                            .filter(|i| i % 4 == t)
                            .map(|i| (i, ask(&histories[i])))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                for (i, recs) in h.join().unwrap() {
                    assert_eq!(recs, sequential[i], "{params}: history {:?}", histories[i]);
                    assert_eq!(recs.len(), 4);
                }
            }
        });
    }
}
