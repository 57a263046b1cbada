//! Hyperparameter tuning on validation folds (`recsys evaluate --tune`).
//!
//! The search space of a plugin is the [`ParamSpec::search`] values it declares (API 1.2),
//! replaced per parameter by `--search PLUGIN.NAME=V1,V2,...`; parameters fixed with `--param`
//! are not searched. The search is coordinate ascent: each parameter in turn takes the
//! candidate value with the best validation NDCG@k, for up to [`ROUNDS`] rounds or until a
//! round changes nothing. It starts from the best of the starting parameters (the given ones,
//! the plugin's defaults for the rest) and the plugin's presets (API 1.4, with the given
//! parameters kept): a preset differs from the defaults in several parameters at once, which
//! one-parameter moves cannot reach when no single move towards it pays. The validation users are those of the ensemble's folds (carved out of the training
//! data); the test items are never seen.
//!
//! The best parameters are kept only if they beat the starting ones on validation by more than
//! one standard error of the paired per-user NDCG difference: on small validation sets the
//! winner of many noisy comparisons is often only lucky, and the defaults are a safer bet.

use std::collections::BTreeMap;
use std::time::Instant;

use recsys_plugin_api::{ParamValue, Params, PluginInfo};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::MetricsAccumulator;
use crate::Result;

/// Passes over the searched parameters.
pub const ROUNDS: usize = 2;

/// Search values given on the command line: plugin name -> parameter name -> values.
pub type SearchOverrides = BTreeMap<String, BTreeMap<String, Vec<ParamValue>>>;

/// One set of parameters tried.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trial {
    /// The full parameters (start values plus the searched ones).
    pub params: Params,
    /// Mean validation NDCG@k, when training and ranking succeeded.
    pub validation_ndcg: Option<f64>,
    /// Why it has no score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The preset this point is, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
}

/// What tuning one plugin did and chose.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tuning {
    /// Plugin name.
    pub plugin: String,
    /// Validation users the NDCG is averaged over.
    pub validation_users: usize,
    /// The searched parameters and their candidate values.
    pub space: BTreeMap<String, Vec<ParamValue>>,
    /// Where the search started.
    pub start: Params,
    /// Its validation NDCG@k (None if it failed).
    pub start_ndcg: Option<f64>,
    /// The best parameters found.
    pub best: Params,
    /// Their validation NDCG@k.
    pub best_ndcg: f64,
    /// Standard error of the paired per-user difference best - start (NaN, `null` in JSON,
    /// with one validation user).
    #[serde(with = "super::metrics::nan_as_null")]
    pub standard_error: f64,
    /// Whether the best parameters were kept (else the start ones are used).
    pub kept: bool,
    /// Every parameter set tried, in order.
    pub trials: Vec<Trial>,
    /// The preset the search started from, if it did not start from the given parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_preset: Option<String>,
    /// Wall-clock seconds of the search.
    pub seconds: f64,
}

impl Tuning {
    /// The parameters evaluated on the test items.
    pub fn chosen(&self) -> &Params {
        if self.kept {
            &self.best
        } else {
            &self.start
        }
    }

    /// One line for the terminal report.
    pub fn summary(&self, k: usize) -> String {
        let changed: Vec<String> = self
            .best
            .iter()
            .filter(|(name, value)| self.start.get(name) != Some(value))
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if let Some(error) = self
            .trials
            .iter()
            .all(|t| t.error.is_some())
            .then(|| self.trials.first().and_then(|t| t.error.as_deref()))
            .flatten()
        {
            return format!("{}: not tuned, every trial failed: {error}", self.plugin);
        }
        if self.space.is_empty() && self.trials.len() < 2 {
            return format!(
                "{}: nothing to tune (no search values or presets)",
                self.plugin
            );
        }
        let start = self
            .start_ndcg
            .map_or_else(|| "failed".to_string(), |v| format!("{v:.4}"));
        let verdict = if !self.kept {
            // A preset row (`cf:implicit-bm25`) starts from its preset's values.
            let start = if self.plugin.contains(':') {
                "the preset's values"
            } else {
                "the defaults"
            };
            if self.standard_error.is_nan() {
                format!("kept {start} (one validation user: no standard error to beat)")
            } else {
                format!("kept {start} (the gain is within one standard error)")
            }
        } else if changed.is_empty() {
            "the defaults are best".to_string()
        } else if let Some(preset) = &self.from_preset {
            format!("chose {} (from preset {preset})", changed.join(", "))
        } else {
            format!("chose {}", changed.join(", "))
        };
        let failed: Vec<&Trial> = self.trials.iter().filter(|t| t.error.is_some()).collect();
        let failures = match failed.first() {
            None => String::new(),
            Some(first) => format!(
                "; {} trial(s) failed, e.g. {}: {}",
                failed.len(),
                first
                    .params
                    .iter()
                    .filter(|(name, value)| self.start.get(name) != Some(value))
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                first.error.as_deref().unwrap_or_default()
            ),
        };
        format!(
            "{}: tuned {} parameter(s) and {} preset(s) in {} trials on {} validation users ({:.1}s): NDCG@{k} {start} -> {:.4} (SE {}), {verdict}{failures}",
            self.plugin,
            self.space.len(),
            self.trials.iter().filter(|t| t.preset.is_some()).count(),
            self.trials.len(),
            self.validation_users,
            self.seconds,
            self.best_ndcg,
            super::metrics::fmt_se(self.standard_error),
        )
    }
}

/// The searched parameters of a plugin: its declared search values, replaced by `overrides`,
/// without the parameters fixed in `fixed` (unless overridden). Each list starts with the
/// starting value when it holds it, so ties keep the start.
pub fn search_space(
    info: &PluginInfo,
    fixed: &Params,
    overrides: Option<&BTreeMap<String, Vec<ParamValue>>>,
) -> Result<BTreeMap<String, Vec<ParamValue>>> {
    let mut space = BTreeMap::new();
    for spec in &info.params {
        let given = overrides.and_then(|o| o.get(&spec.name));
        let values = match given {
            Some(values) => values.clone(),
            None if fixed.get(&spec.name).is_some() => continue,
            None => spec.search.clone(),
        };
        if values.len() > 1 || given.is_some() {
            space.insert(spec.name.clone(), values);
        }
    }
    if let Some(overrides) = overrides {
        if let Some(unknown) = overrides
            .keys()
            .find(|name| info.params.iter().all(|s| &s.name != *name))
        {
            return Err(crate::Error::Usage(format!(
                "--search: plugin `{}` has no parameter `{unknown}`",
                info.name
            )));
        }
        let probe = overrides
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| (name, v)))
            .fold(Params::new(), |p, (name, v)| p.with(name, v.clone()));
        info.validate_params(&probe)
            .map_err(|e| crate::Error::Usage(format!("--search: {}", e.message)))?;
    }
    Ok(space)
}

/// Per-user NDCG@k of ranked lists against each user's relevant items.
pub fn per_user_ndcg(lists: &[Vec<u32>], relevant: &[&[u32]], k: usize) -> Vec<f64> {
    lists
        .iter()
        .zip(relevant)
        .map(|(list, relevant)| {
            let mut acc = MetricsAccumulator::new(0);
            acc.add(k, &list[..list.len().min(k)], relevant);
            acc.finish().ndcg
        })
        .collect()
}

/// Mean and standard error of the paired differences `a - b`. With fewer than two pairs the
/// standard error does not exist and is NaN (so no gain ever beats it), and with none the mean
/// is NaN too.
pub fn paired_difference(a: &[f64], b: &[f64]) -> (f64, f64) {
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    if diffs.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// A scored parameter set: per-user NDCG and the validation lists.
struct Scored {
    per_user: Vec<f64>,
    mean: f64,
    lists: Vec<Vec<u32>>,
}

/// The search's state: the best point so far and every point tried.
struct Ascent {
    best: Params,
    best_ndcg: f64,
    /// The best point's scores when it is not the start.
    best_scored: Option<Scored>,
    /// Every point tried, by its parameters' JSON (None: it failed), so none is trained twice.
    tried: FxHashMap<String, Option<f64>>,
}

impl Ascent {
    /// Scores `params` with `run` unless they were tried before (a point tried before lost to
    /// a best that has only improved since), and makes them the best if they beat it; whether
    /// they did.
    fn consider(&mut self, params: Params, run: impl FnOnce(&Params) -> Option<Scored>) -> bool {
        let key = params.to_json();
        if self.tried.contains_key(&key) {
            return false;
        }
        let scored = run(&params);
        self.tried.insert(key, scored.as_ref().map(|s| s.mean));
        match scored.filter(|s| s.mean > self.best_ndcg + 1e-12) {
            Some(scored) => {
                (self.best, self.best_ndcg) = (params, scored.mean);
                self.best_scored = Some(scored);
                true
            }
            None => false,
        }
    }
}

/// What [`tune`] searches.
#[derive(Debug, Clone, Default)]
pub struct Search<'a> {
    /// Candidate values per parameter (see [`search_space`]).
    pub space: BTreeMap<String, Vec<ParamValue>>,
    /// Starting points besides the start: (preset name, full parameters).
    pub presets: Vec<(String, Params)>,
    /// The plugin's info, whose conditions ([`recsys_plugin_api::ParamSpec::applies_when`]) say
    /// when a parameter has no effect and is not worth a trial; `None`: every one always has.
    pub info: Option<&'a PluginInfo>,
}

/// Coordinate ascent over `search.space` from the best of `start` and the presets, skipping a
/// parameter at a point where it has no effect. `validate(params)` trains on the validation
/// folds and returns one ranked list per validation user (in the order of `relevant`). Returns
/// the tuning record and the validation lists of the chosen parameters.
pub fn tune(
    plugin: &str,
    start: &Params,
    search: Search<'_>,
    relevant: &[&[u32]],
    k: usize,
    mut validate: impl FnMut(&Params) -> Result<Vec<Vec<u32>>>,
) -> (Tuning, Option<Vec<Vec<u32>>>) {
    let clock = Instant::now();
    let mut trials = Vec::new();
    // Only the start and the best so far keep their per-user scores and lists.
    let mut run =
        |params: &Params, preset: Option<&str>, trials: &mut Vec<Trial>| -> Option<Scored> {
            let result = validate(params).map(|lists| {
                let per_user = per_user_ndcg(&lists, relevant, k);
                let mean = per_user.iter().sum::<f64>() / per_user.len().max(1) as f64;
                Scored {
                    per_user,
                    mean,
                    lists,
                }
            });
            let scored = result
                .map_err(|e| e.to_string())
                .inspect_err(|error| {
                    trials.push(Trial {
                        params: params.clone(),
                        validation_ndcg: None,
                        error: Some(error.clone()),
                        preset: preset.map(str::to_string),
                    })
                })
                .ok()?;
            trials.push(Trial {
                params: params.clone(),
                validation_ndcg: Some(scored.mean),
                error: None,
                preset: preset.map(str::to_string),
            });
            Some(scored)
        };
    let start_scored = run(start, None, &mut trials);
    let start_ndcg = start_scored.as_ref().map(|s| s.mean);
    let mut ascent = Ascent {
        best: start.clone(),
        best_ndcg: start_ndcg.unwrap_or(f64::MIN),
        best_scored: None,
        tried: [(start.to_json(), start_ndcg)].into_iter().collect(),
    };
    let Search {
        space,
        presets,
        info,
    } = search;
    let mut from_preset = None;
    for (name, params) in &presets {
        if ascent.consider(params.clone(), |p| run(p, Some(name), &mut trials)) {
            from_preset = Some(name.clone());
        }
    }
    for _round in 0..ROUNDS {
        let mut improved = false;
        for (name, values) in &space {
            if info.is_some_and(|info| !info.applies(name, &ascent.best)) {
                continue;
            }
            for value in values {
                if ascent.best.get(name) == Some(value) {
                    continue;
                }
                let candidate = ascent.best.clone().with(name, value.clone());
                improved |= ascent.consider(candidate, |p| run(p, None, &mut trials));
            }
        }
        if !improved {
            break;
        }
    }
    let Ascent {
        best,
        best_ndcg,
        best_scored,
        ..
    } = ascent;
    let (kept, standard_error) = match (&best_scored, &start_scored) {
        (Some(b), Some(s)) => {
            let (mean, se) = paired_difference(&b.per_user, &s.per_user);
            (mean > se, se)
        }
        // The start failed: anything that worked is better.
        (Some(_), None) => (true, 0.0),
        (None, _) => (false, 0.0),
    };
    let lists = if kept { best_scored } else { start_scored }.map(|s| s.lists);
    let tuning = Tuning {
        plugin: plugin.to_string(),
        validation_users: relevant.len(),
        space,
        start: start.clone(),
        start_ndcg,
        best_ndcg: if best_ndcg == f64::MIN {
            0.0
        } else {
            best_ndcg
        },
        best,
        standard_error,
        kept,
        trials,
        from_preset,
        seconds: clock.elapsed().as_secs_f64(),
    };
    (tuning, lists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_difference_is_the_mean_with_its_standard_error_when_one_exists() {
        let (mean, se) = paired_difference(&[1.0, 0.0, 0.5], &[0.0, 0.0, 0.0]);
        assert!((mean - 0.5).abs() < 1e-12);
        assert!((se - (0.25f64 / 3.0).sqrt()).abs() < 1e-12, "{se}");
        // One pair: the difference itself, and no standard error (no gain beats it).
        let (mean, se) = paired_difference(&[0.5], &[1.0]);
        assert_eq!(mean, -0.5);
        assert!(se.is_nan());
        let (mean, se) = paired_difference(&[], &[]);
        assert!(mean.is_nan() && se.is_nan());
    }
    use recsys_plugin_api::ParamSpec;

    /// The values `space`, no presets, every parameter always in effect.
    fn over(space: BTreeMap<String, Vec<ParamValue>>) -> Search<'static> {
        Search {
            space,
            ..Search::default()
        }
    }

    /// 200 users, relevant item = user id; a "plugin" whose list holds the relevant item at
    /// rank `1 + |a - 3| + |b - 1|` (a: int, b: int), so (3, 1) is best.
    fn fake(params: &Params, users: usize) -> Result<Vec<Vec<u32>>> {
        let a = params.i64_or("a", 0).unwrap();
        let b = params.i64_or("b", 0).unwrap();
        if a < 0 {
            return Err(crate::Error::Usage("a must be >= 0".into()));
        }
        let rank = ((a - 3).abs() + (b - 1).abs()) as usize;
        Ok((0..users as u32)
            .map(|u| {
                let mut list: Vec<u32> = (10_000..10_000 + rank as u32).collect();
                list.push(u);
                list
            })
            .collect())
    }

    #[test]
    fn coordinate_ascent_finds_the_best_point_and_keeps_it() {
        let relevant: Vec<Vec<u32>> = (0..200).map(|u| vec![u]).collect();
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let space: BTreeMap<String, Vec<ParamValue>> = [
            ("a".to_string(), (0..6).map(ParamValue::Int).collect()),
            ("b".to_string(), (-1..3).map(ParamValue::Int).collect()),
        ]
        .into();
        let start = Params::new().with("a", 0.into()).with("b", 0.into());
        let (t, lists) = tune("fake", &start, over(space), &rel, 10, |p| fake(p, 200));
        assert_eq!(t.best.i64_or("a", 0).unwrap(), 3);
        assert_eq!(t.best.i64_or("b", 0).unwrap(), 1);
        assert!((t.best_ndcg - 1.0).abs() < 1e-12);
        assert!(t.kept, "{t:?}");
        assert_eq!(t.chosen(), &t.best);
        assert_eq!(lists.unwrap()[7], vec![7]);
        // Each point is trained once, however often the ascent comes back to it.
        let keys: std::collections::HashSet<String> =
            t.trials.iter().map(|x| x.params.to_json()).collect();
        assert_eq!(keys.len(), t.trials.len());
    }

    #[test]
    fn a_preset_reaches_a_point_no_single_move_improves_towards() {
        // Only (3, 1) is good, and every one-parameter move from the start (0, 0) is worse
        // than the start: coordinate ascent alone stays at the start.
        let relevant: Vec<Vec<u32>> = (0..200).map(|u| vec![u]).collect();
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let space: BTreeMap<String, Vec<ParamValue>> = [
            (
                "a".to_string(),
                vec![ParamValue::Int(0), ParamValue::Int(3)],
            ),
            (
                "b".to_string(),
                vec![ParamValue::Int(0), ParamValue::Int(1)],
            ),
        ]
        .into();
        let rank_of = |p: &Params| match (p.i64_or("a", 0).unwrap(), p.i64_or("b", 0).unwrap()) {
            (3, 1) => 0,
            (0, 0) => 2,
            _ => 5,
        };
        let validate = |p: &Params| -> Result<Vec<Vec<u32>>> {
            Ok((0..200u32)
                .map(|u| (10_000..10_000 + rank_of(p)).chain([u]).collect())
                .collect())
        };
        let start = Params::new().with("a", 0.into()).with("b", 0.into());
        let (alone, _) = tune("p", &start, over(space.clone()), &rel, 10, validate);
        assert_eq!(alone.best, start);
        let preset = Params::new().with("a", 3.into()).with("b", 1.into());
        let search = Search {
            space,
            presets: vec![("joint".to_string(), preset.clone())],
            info: None,
        };
        let (t, lists) = tune("p", &start, search, &rel, 10, validate);
        assert_eq!(t.best, preset);
        assert!(t.kept, "{t:?}");
        assert_eq!(t.from_preset.as_deref(), Some("joint"));
        assert_eq!(t.trials[1].preset.as_deref(), Some("joint"));
        assert_eq!(lists.unwrap()[5], vec![5]);
        assert!(
            t.summary(10).contains("from preset joint"),
            "{}",
            t.summary(10)
        );
    }

    #[test]
    fn the_summary_says_when_trials_failed() {
        let rel: Vec<Vec<u32>> = (0..50u32).map(|u| vec![u]).collect();
        let rel: Vec<&[u32]> = rel.iter().map(Vec::as_slice).collect();
        let space: BTreeMap<String, Vec<ParamValue>> = [(
            "n".to_string(),
            vec![ParamValue::Int(-1), ParamValue::Int(2)],
        )]
        .into();
        let validate = |p: &Params| -> Result<Vec<Vec<u32>>> {
            match p.i64_or("n", 1).unwrap() {
                -1 => Err(crate::Error::Usage("n must not be negative".into())),
                n => Ok((0..50u32)
                    .map(|u| (1000..1000 + n as u32).chain([u]).collect())
                    .collect()),
            }
        };
        let start = Params::new().with("n", 1.into());
        let (t, _) = tune("p", &start, over(space), &rel, 10, validate);
        let summary = t.summary(10);
        assert!(
            summary.contains("1 trial(s) failed, e.g. n=-1: n must not be negative"),
            "{summary}"
        );
    }

    #[test]
    fn a_parameter_without_effect_at_a_point_gets_no_trial() {
        // `rate` matters only with algo = "b"; the start has algo = "a".
        let info = PluginInfo::new("p", "1")
            .param(ParamSpec::string("algo", "a", "").search(["a", "b"]))
            .param(
                ParamSpec::float("rate", 0.1, "")
                    .search([0.1, 0.2])
                    .applies_when("algo", ["b"]),
            );
        let relevant: Vec<Vec<u32>> = (0..50).map(|u| vec![u]).collect();
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let space = search_space(&info, &Params::new(), None).unwrap();
        let run = |better: &str| {
            let search = Search {
                space: space.clone(),
                presets: Vec::new(),
                info: Some(&info),
            };
            let (t, _) = tune("p", &Params::new(), search, &rel, 10, |p| {
                let rank = usize::from(p.str_or("algo", "a").unwrap() != better)
                    + usize::from(p.f64_or("rate", 0.1).unwrap() != 0.2);
                Ok((0..50u32)
                    .map(|u| (10_000..10_000 + rank as u32).chain([u]).collect())
                    .collect())
            });
            t
        };
        // algo stays "a": `rate` is never tried.
        let t = run("a");
        assert!(
            t.trials.iter().all(|x| x.params.get("rate").is_none()),
            "{:?}",
            t.trials
        );
        // algo moves to "b": then `rate` is searched, and its best value chosen.
        let t = run("b");
        assert_eq!(t.best.get("algo"), Some(&"b".into()));
        assert_eq!(t.best.get("rate"), Some(&0.2.into()));
    }

    #[test]
    fn a_failing_candidate_is_recorded_and_skipped() {
        let relevant: Vec<Vec<u32>> = (0..50).map(|u| vec![u]).collect();
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let space = [(
            "a".to_string(),
            vec![ParamValue::Int(-1), ParamValue::Int(3)],
        )]
        .into();
        let start = Params::new().with("a", 1.into()).with("b", 1.into());
        let (t, _) = tune("fake", &start, over(space), &rel, 10, |p| fake(p, 50));
        let failed: Vec<&Trial> = t.trials.iter().filter(|x| x.error.is_some()).collect();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].error.as_deref().unwrap().contains("a must be"));
        assert_eq!(t.chosen().i64_or("a", 0).unwrap(), 3);
    }

    #[test]
    fn a_gain_within_one_standard_error_keeps_the_start() {
        // Users 0 and 1 gain (rank 2 -> 1), user 2 loses its hit: the mean gain is well below
        // its standard error.
        let relevant: Vec<Vec<u32>> = (0..100).map(|u| vec![u]).collect();
        let rel: Vec<&[u32]> = relevant.iter().map(Vec::as_slice).collect();
        let space = [(
            "a".to_string(),
            vec![ParamValue::Int(0), ParamValue::Int(1)],
        )]
        .into();
        let start = Params::new().with("a", 0.into());
        let (t, lists) = tune("noisy", &start, over(space), &rel, 10, |p| {
            let a = p.i64_or("a", 0).unwrap();
            Ok((0..100u32)
                .map(|u| {
                    if u < 2 && a == 1 {
                        vec![u]
                    } else if u == 2 && a == 1 {
                        vec![9999]
                    } else {
                        vec![9999, u]
                    }
                })
                .collect())
        });
        assert!(t.best_ndcg > t.start_ndcg.unwrap());
        assert!(!t.kept, "{t:?}");
        assert_eq!(t.chosen(), &start);
        assert_eq!(lists.unwrap()[0], vec![9999, 0]);
    }

    #[test]
    fn the_space_comes_from_the_plugin_minus_fixed_params_plus_overrides() {
        let info = PluginInfo::new("p", "1")
            .param(ParamSpec::int("n", 10, "").search([5, 10, 20]))
            .param(ParamSpec::float("s", 1.0, "").search([0.0, 1.0]))
            .param(ParamSpec::bool("b", true, ""));
        let fixed = Params::new().with("s", 0.5.into());
        let space = search_space(&info, &fixed, None).unwrap();
        assert_eq!(space.keys().collect::<Vec<_>>(), vec!["n"]);
        let overrides = [("b".to_string(), vec![true.into(), false.into()])].into();
        let space = search_space(&info, &fixed, Some(&overrides)).unwrap();
        assert_eq!(space.keys().collect::<Vec<_>>(), vec!["b", "n"]);
        let bad = [("zz".to_string(), vec![1.into()])].into();
        let err = search_space(&info, &fixed, Some(&bad)).unwrap_err();
        assert!(err.to_string().contains("no parameter `zz`"), "{err}");
        let wrong = [("n".to_string(), vec!["x".into()])].into();
        assert!(search_space(&info, &fixed, Some(&wrong)).is_err());
    }
}
