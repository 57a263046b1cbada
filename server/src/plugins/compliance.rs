//! The compliance suite every plugin must pass: it trains the plugin through the real ABI on
//! a generated fixture and checks the contract of every capability it declares.

use std::fmt::Write;

use recsys_plugin_api::{
    Capability, CsrView, ErrorKind, ItemText, ItemTextTable, ParamValue, Params, Query, Scored,
    TrainData,
};

use super::{LoadedPlugin, TrainedModel};

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

/// All checks run against one plugin.
#[derive(Debug, Clone)]
pub struct ComplianceReport {
    /// The plugin's name.
    pub plugin: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

impl ComplianceReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// A readable report, one line per check.
    pub fn render(&self) -> String {
        let mut out = format!("compliance of plugin `{}`:\n", self.plugin);
        for c in &self.checks {
            let mark = if c.passed { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "  {mark} {:<24} {}", c.name, c.detail);
        }
        let failed = self.checks.iter().filter(|c| !c.passed).count();
        let _ = writeln!(out, "{} checks, {failed} failed", self.checks.len());
        out
    }
}

/// A two-cluster catalogue: items 0..20 are guitars, 20..40 are drums; item 19 (a guitar) and
/// item 39 (a drum) have no interactions (cold start). Users 0..15 like guitars, 15..30 drums.
#[derive(Debug, Clone)]
pub struct Fixture {
    n_users: usize,
    n_items: usize,
    indptr: Vec<u64>,
    indices: Vec<u32>,
    values: Vec<f32>,
    timestamps: Vec<i64>,
    text: Vec<[String; 4]>,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// The fixture.
    pub fn new() -> Fixture {
        let (n_users, n_items) = (30usize, 40usize);
        let (mut indptr, mut indices, mut values, mut timestamps) =
            (vec![0u64], vec![], vec![], vec![]);
        for u in 0..n_users {
            let base = if u < 15 { 0 } else { 20 };
            let mut row: Vec<u32> = (0..6)
                .map(|j| (base + (u * 7 + j * 3) % 19) as u32)
                .collect();
            row.sort_unstable();
            row.dedup();
            for (j, item) in row.iter().enumerate() {
                indices.push(*item);
                values.push(1.0 + (j % 5) as f32);
                timestamps.push(1_400_000_000 + (u * 100 + j) as i64);
            }
            indptr.push(indices.len() as u64);
        }
        let text = (0..n_items)
            .map(|i| {
                let (kind, brand, category) = if i < 20 {
                    ("acoustic guitar", "Fender", "Guitars")
                } else {
                    ("drum kit", "Pearl", "Drums")
                };
                [
                    format!("{brand} {kind} model {i}"),
                    brand.to_string(),
                    format!("Musical Instruments\n{category}"),
                    format!("A {kind} for players of every level, model number {i}."),
                ]
            })
            .collect();
        Fixture {
            n_users,
            n_items,
            indptr,
            indices,
            values,
            timestamps,
            text,
        }
    }

    /// The training data, with timestamps and item text.
    pub fn train_data(&self) -> TrainData<'_> {
        let csr = CsrView::new(
            self.n_users,
            self.n_items,
            &self.indptr,
            &self.indices,
            &self.values,
        )
        .expect("the fixture is a valid matrix");
        let table = ItemTextTable::new(self.text.iter().map(|[t, b, c, d]| ItemText {
            title: t,
            brand: b,
            categories: c,
            description: d,
        }));
        TrainData::new(csr)
            .with_timestamps(&self.timestamps)
            .and_then(|d| d.with_item_text(table))
            .expect("the fixture is consistent")
    }

    /// Every item but the first three (an exclusion list that leaves three to recommend).
    fn all_but_three(&self) -> Vec<u32> {
        (3..self.n_items as u32).collect()
    }

    fn row(&self, u: usize) -> &[u32] {
        &self.indices[self.indptr[u] as usize..self.indptr[u + 1] as usize]
    }
}

struct Checker {
    checks: Vec<Check>,
}

impl Checker {
    fn check(&mut self, name: &'static str, outcome: Result<String, String>) -> bool {
        let passed = outcome.is_ok();
        let detail = outcome.unwrap_or_else(|e| e);
        self.checks.push(Check {
            name,
            passed,
            detail,
        });
        passed
    }
}

fn ids(items: &[Scored]) -> Vec<u32> {
    items.iter().map(|s| s.item).collect()
}

/// A history no training user has.
const NEW_USER: [u32; 3] = [0, 3, 6];

/// How far a score from `recommend_many` may be from `recommend`'s for the same query, relative
/// to the largest score of the list: a plugin may compute a block of queries in another order of
/// floating-point operations (one matrix product instead of many dot products).
const BATCH_TOLERANCE: f32 = 1e-4;

/// `recommend_many` on every user's query plus the edge cases (empty and unseen histories, an
/// almost complete exclusion list) gives, query by query, what `recommend` gives: the same
/// length, the same items with scores equal within [`BATCH_TOLERANCE`], where two items may swap
/// places only when their scores are that close.
fn batch_agrees(fixture: &Fixture, model: &TrainedModel, k: usize) -> Result<String, String> {
    let new_user = NEW_USER;
    let all_but_three = fixture.all_but_three();
    let mut queries: Vec<Query<'_>> = (0..fixture.n_users)
        .map(|u| user_query(fixture, u, k))
        .collect();
    queries.push(Query::new(&[], k));
    queries.push(Query {
        exclude: &new_user,
        ..Query::new(&new_user, k)
    });
    queries.push(Query {
        exclude: &all_but_three,
        ..Query::new(&new_user, k)
    });
    queries.push(Query::new(&new_user, fixture.n_items + 3));
    let batch = model.recommend_many(&queries).map_err(|e| e.to_string())?;
    if batch.len() != queries.len() {
        return Err(format!(
            "{} lists for {} queries",
            batch.len(),
            queries.len()
        ));
    }
    for (i, (q, got)) in queries.iter().zip(&batch).enumerate() {
        let want = model
            .recommend(q)
            .map_err(|e| format!("query {i}: recommend: {e}"))?;
        let scale = want.iter().map(|s| s.score.abs()).fold(1.0f32, f32::max);
        let close = |a: f32, b: f32| (a - b).abs() <= BATCH_TOLERANCE * scale;
        let agrees = got.len() == want.len()
            && got.iter().zip(&want).all(|(g, w)| {
                close(g.score, w.score)
                    && (g.item == w.item
                        || want
                            .iter()
                            .find(|s| s.item == g.item)
                            .map_or(close(g.score, want[want.len() - 1].score), |s| {
                                close(s.score, g.score)
                            }))
            });
        if !agrees {
            return Err(format!(
                "query {i}: recommend_many gave {got:?}, recommend {want:?}"
            ));
        }
    }
    Ok(format!(
        "{} queries in one call, each as recommend answers it",
        queries.len()
    ))
}

/// Every preset (API 1.4) is well formed ([`recsys_plugin_api::PluginInfo::check_presets`]) and
/// trains on the fixture with `params` over it.
fn presets_train(
    plugin: &LoadedPlugin,
    fixture: &Fixture,
    params: &Params,
) -> Result<String, String> {
    let info = plugin.info();
    if info.presets.is_empty() {
        return Ok("none declared".into());
    }
    info.check_presets()?;
    for preset in &info.presets {
        let merged = preset.params.clone().overlaid(params);
        TrainedModel::train(plugin, &fixture.train_data(), &merged)
            .map_err(|e| format!("preset `{}`: {e}", preset.name))?;
    }
    let names: Vec<&str> = info.presets.iter().map(|p| p.name.as_str()).collect();
    Ok(format!("{} train: {}", names.len(), names.join(", ")))
}

/// Fixture user `u`'s query: its row as history, excluded, and its training index.
fn user_query(fixture: &Fixture, u: usize, k: usize) -> Query<'_> {
    let row = fixture.row(u);
    Query {
        user: Some(u as u32),
        exclude: row,
        ..Query::new(row, k)
    }
}

/// Every fixture user's top `k` unseen items, or what went wrong.
fn user_lists(fixture: &Fixture, model: &TrainedModel, k: usize) -> Result<Vec<Vec<u32>>, String> {
    (0..fixture.n_users)
        .map(|u| {
            model
                .recommend(&user_query(fixture, u, k))
                .map_err(|e| format!("user {u}: {e}"))
                .and_then(|r| {
                    if r.len() == k {
                        Ok(ids(&r))
                    } else {
                        Err(format!(
                            "user {u}: {} items for k = {k} with 34 unseen items",
                            r.len()
                        ))
                    }
                })
        })
        .collect()
}

/// Each declared default, given explicitly, trains the model its absence does (`lists`): the
/// default `recsys plugins` shows and `--tune` starts from is the one the plugin applies.
fn defaults_agree(
    plugin: &LoadedPlugin,
    fixture: &Fixture,
    params: &Params,
    lists: &[Vec<u32>],
    k: usize,
) -> Result<String, String> {
    let data = fixture.train_data();
    let mut checked = 0;
    for spec in &plugin.info().params {
        if params.get(&spec.name).is_some() {
            continue;
        }
        let explicit = params.clone().with(&spec.name, spec.default.clone());
        let model = TrainedModel::train(plugin, &data, &explicit)
            .map_err(|e| format!("`{}` = its default {}: {e}", spec.name, spec.default))?;
        if user_lists(fixture, &model, k)? != lists {
            return Err(format!(
                "`{}` given as its declared default {} recommends otherwise than leaving it out: \
                 the plugin applies another default than it declares",
                spec.name, spec.default
            ));
        }
        checked += 1;
    }
    Ok(format!(
        "{checked} parameter(s) given their declared default train the same model"
    ))
}

/// Whether `plugin` accepts `params`: the plugin's own invalid-parameters message when it
/// refuses them on the suite's fixture, so that a bad `--param` is not reported as the
/// plugin failing the suite.
pub fn refused_params(plugin: &LoadedPlugin, params: &Params) -> Option<String> {
    let fixture = Fixture::new();
    match TrainedModel::train(plugin, &fixture.train_data(), params) {
        Err(crate::Error::Plugin { source, .. }) if source.kind == ErrorKind::InvalidParams => {
            Some(source.message)
        }
        _ => None,
    }
}

/// Runs the suite against `plugin` with `params` (default parameters when empty).
pub fn run(plugin: &LoadedPlugin, params: &Params) -> ComplianceReport {
    let mut c = Checker { checks: Vec::new() };
    let info = plugin.info().clone();
    c.check(
        "info",
        info.check_name().map(|()| {
            format!(
                "{} {} (API {}.{})",
                info.name, info.version, info.api_major, info.api_minor
            )
        }),
    );
    let fixture = Fixture::new();
    let data = fixture.train_data();

    let bogus = Params::new().with("no_such_parameter_xyz", ParamValue::Int(1));
    c.check(
        "rejects unknown params",
        match TrainedModel::train(plugin, &data, &bogus) {
            Err(crate::Error::Plugin { source, .. }) if source.kind == ErrorKind::InvalidParams => {
                Ok(source.message)
            }
            Err(e) => Err(format!("expected an invalid-parameters error, got: {e}")),
            Ok(_) => Err("trained with an unknown parameter".into()),
        },
    );

    let model = match TrainedModel::train(plugin, &data, params) {
        Ok(model) => {
            c.check(
                "train",
                Ok(format!(
                    "{} users x {} items",
                    fixture.n_users, fixture.n_items
                )),
            );
            model
        }
        Err(e) => {
            c.check("train", Err(e.to_string()));
            return ComplianceReport {
                plugin: info.name,
                checks: c.checks,
            };
        }
    };

    c.check("presets", presets_train(plugin, &fixture, params));

    let k = 5;
    let per_user = user_lists(&fixture, &model, k);
    if let Ok(lists) = &per_user {
        c.check(
            "declared defaults",
            defaults_agree(plugin, &fixture, params, lists, k),
        );
    }
    c.check(
        "k distinct unseen items",
        per_user
            .as_ref()
            .map(|_| format!("{} users, k = {k}", fixture.n_users))
            .map_err(Clone::clone),
    );

    c.check(
        "empty history",
        model
            .recommend(&Query::new(&[], k))
            .map_err(|e| e.to_string())
            .and_then(|r| {
                if r.is_empty() {
                    Err("no items".into())
                } else {
                    Ok(format!("{} items", r.len()))
                }
            }),
    );

    let new_user = NEW_USER;
    c.check(
        "unseen history",
        model
            .recommend(&Query {
                exclude: &new_user,
                ..Query::new(&new_user, k)
            })
            .map(|r| format!("top items {:?}", ids(&r)))
            .map_err(|e| e.to_string()),
    );

    let unknown = [fixture.n_items as u32 + 5];
    c.check(
        "unknown item refused",
        match model.recommend(&Query::new(&unknown, k)) {
            Err(crate::Error::Plugin { source, .. }) if source.kind == ErrorKind::InvalidInput => {
                match model.recommend(&Query::new(&new_user, k)) {
                    Ok(_) => Ok("invalid-input error, model still serves".into()),
                    Err(e) => Err(format!("model broken after the error: {e}")),
                }
            }
            Err(e) => Err(format!("expected an invalid-input error, got: {e}")),
            Ok(_) => Err("accepted an item outside the catalogue".into()),
        },
    );

    let all_but_three = fixture.all_but_three();
    c.check(
        "exclusion",
        model
            .recommend(&Query {
                exclude: &all_but_three,
                ..Query::new(&new_user, k)
            })
            .map_err(|e| e.to_string())
            .and_then(|r| {
                if r.iter().all(|s| s.item < 3) {
                    Ok(format!("{} items, none excluded", r.len()))
                } else {
                    Err(format!("returned {:?}", ids(&r)))
                }
            }),
    );

    if let Ok(sequential) = &per_user {
        let parallel: Vec<Vec<u32>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let (model, fixture) = (&model, &fixture);
                    s.spawn(move || {
                        (0..fixture.n_users)
                            .filter(|u| u % 4 == t)
                            .map(|u| {
                                let q = user_query(fixture, u, k);
                                (u, model.recommend(&q).map(|r| ids(&r)).unwrap_or_default())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<(usize, Vec<u32>)> = handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect();
            all.sort_by_key(|(u, _)| *u);
            all.into_iter().map(|(_, r)| r).collect()
        });
        c.check(
            "concurrent calls",
            if &parallel == sequential {
                Ok("4 threads give the sequential results".into())
            } else {
                Err("results differ when called from 4 threads".into())
            },
        );
    }

    c.check("recommend_many", batch_agrees(&fixture, &model, k));

    if info.has(Capability::SimilarItems) {
        c.check(
            "similar_items",
            model
                .similar_items(2, k)
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    if r.is_empty() {
                        Err("no similar items".into())
                    } else {
                        Ok(format!("similar to 2: {:?}", ids(&r)))
                    }
                }),
        );
    }
    if info.has(Capability::ScoreItems) {
        let candidates = [1u32, 2, 4, 5];
        c.check(
            "score_items",
            model
                .score_items(&Query::new(&new_user, k), &candidates)
                .map_err(|e| e.to_string())
                .and_then(|scores| {
                    if scores.len() != candidates.len() {
                        Err(format!(
                            "{} scores for {} items",
                            scores.len(),
                            candidates.len()
                        ))
                    } else if scores.iter().any(|s| !s.is_finite()) {
                        Err(format!("non-finite scores {scores:?}"))
                    } else {
                        Ok(format!("items {candidates:?}: {scores:?}"))
                    }
                }),
        );
    }
    if info.has(Capability::Explain) {
        let outcome = model
            .recommend(&Query {
                exclude: &new_user,
                ..Query::new(&new_user, 1)
            })
            .map_err(|e| e.to_string())
            .and_then(|r| {
                r.first()
                    .map(|s| s.item)
                    .ok_or_else(|| "nothing to explain".to_string())
            })
            .and_then(|item| {
                model
                    .explain(&Query::new(&new_user, k), item)
                    .map(|e| format!("item {item}: {}", e.text))
                    .map_err(|e| e.to_string())
            });
        c.check("explain", outcome);
    }
    if info.has(Capability::Search) {
        c.check(
            "search",
            model
                .search("guitar", k)
                .map(|r| format!("{} hits", r.len()))
                .map_err(|e| e.to_string()),
        );
    }
    if info.has(Capability::SaveLoad) {
        let q = Query {
            exclude: &new_user,
            ..Query::new(&new_user, k)
        };
        let outcome = model
            .save()
            .and_then(|bytes| {
                plugin
                    .plugin
                    .load(&bytes, Some(fixture.n_items))
                    .map_err(|e| crate::Error::plugin(plugin.name(), e))
                    .map(|m| (bytes.len(), m))
            })
            .map_err(|e| e.to_string())
            .and_then(|(len, restored)| {
                let before = model.recommend(&q).map_err(|e| e.to_string())?;
                let after = restored.recommend(&q).map_err(|e| e.to_string())?;
                if ids(&before) == ids(&after) {
                    Ok(format!("{len} bytes, same recommendations"))
                } else {
                    Err(format!(
                        "before {:?}, after {:?}",
                        ids(&before),
                        ids(&after)
                    ))
                }
            });
        c.check("save and load", outcome);
        c.check(
            "corrupt bytes refused",
            match plugin
                .plugin
                .load(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3], Some(fixture.n_items))
            {
                Err(e) if e.kind != ErrorKind::Panic => Ok(e.message),
                Err(e) => Err(format!("panicked: {}", e.message)),
                Ok(_) => Err("loaded garbage bytes".into()),
            },
        );
    }
    ComplianceReport {
        plugin: info.name,
        checks: c.checks,
    }
}

#[cfg(test)]
mod tests {
    use recsys_plugin_api::ffi::PluginDeclaration;
    use recsys_plugin_api::{
        top_k, ParamSpec, PluginError, PluginInfo, Recommender, Scored, TrainData,
    };

    use super::*;

    /// Declares `shift` with default 0 but applies 1 when it is not given: its items move.
    struct Liar(usize);

    impl Recommender for Liar {
        fn info() -> PluginInfo {
            PluginInfo::new("liar", "1.0.0").param(ParamSpec::int("shift", 0, "rotates the items"))
        }
        fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError> {
            let shift = params.i64_or("shift", 1)? as usize;
            Ok(Liar(shift % data.n_items()))
        }
        fn recommend(&self, q: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
            let n = 40;
            let scores: Vec<f32> = (0..n).map(|i| ((i + n - self.0) % n) as f32).collect();
            Ok(top_k(&scores, q.k, q.exclude))
        }
    }

    static LIAR: PluginDeclaration = PluginDeclaration::of::<Liar>();

    #[test]
    fn a_declared_default_the_plugin_does_not_apply_fails_the_suite() {
        let plugin = LoadedPlugin::from_static(&LIAR).unwrap();
        let report = run(&plugin, &Params::new());
        let check = report
            .checks
            .iter()
            .find(|c| c.name == "declared defaults")
            .expect("the check ran");
        assert!(!check.passed);
        assert!(
            check
                .detail
                .contains("`shift` given as its declared default 0 recommends otherwise"),
            "{check:?}"
        );
        // Given explicitly, the parameter is the caller's: nothing to compare.
        let report = run(&plugin, &Params::new().with("shift", 2.into()));
        let check = report.checks.iter().find(|c| c.name == "declared defaults");
        assert!(check.is_some_and(|c| c.passed), "{check:?}");
    }
}
