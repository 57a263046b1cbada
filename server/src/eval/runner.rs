use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use recsys_plugin_api::{Params, Query};

use super::ensemble::{EnsembleMember, EnsembleSpec, Fusion, FusionInput};
use super::tune::{paired_difference, per_user_ndcg, search_space, Search, SearchOverrides};
use super::{
    without_latest, Comparison, EvalReport, Metrics, MetricsAccumulator, PluginResult, Protocol,
    Split, TrainSet,
};
use crate::dataset::Dataset;
use crate::plugins::{LoadedPlugin, TrainedModel};
use crate::Result;

/// What to evaluate and how.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// List length k.
    pub k: usize,
    /// Hold-out protocol.
    pub protocol: Protocol,
    /// Training parameters per plugin name.
    pub params: BTreeMap<String, Params>,
    /// Print progress on stderr.
    pub progress: bool,
    /// Also tune and evaluate an ensemble of the plugins.
    pub ensemble: Option<EnsembleOptions>,
    /// First tune each plugin's parameters on the validation folds.
    pub tune: Option<TuneOptions>,
    /// The validation folds of `ensemble` and `tune`.
    pub validation: ValidationOptions,
    /// The result every other one is paired against (a label such as `cf`,
    /// `cf:implicit-bm25` or `ensemble`); `None`: the one with the best NDCG.
    pub baseline: Option<String>,
    /// Each user's this many latest interactions are set aside unread before the split (see
    /// [`without_latest`]): 1 evaluates on the validation split instead of the test items.
    pub set_aside_latest: usize,
}

/// k = 10, leave-last-out, default parameters, no progress, no ensemble, no tuning.
impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            k: 10,
            protocol: Protocol::LeaveLastOut,
            params: BTreeMap::new(),
            progress: false,
            ensemble: None,
            tune: None,
            validation: ValidationOptions::default(),
            baseline: None,
            set_aside_latest: 0,
        }
    }
}

impl EvalOptions {
    /// Refuses values that would silently mean something else: k = 0 (an all-zero table), an
    /// ensemble depth below k, no validation fold or no validation user.
    pub fn check(&self) -> Result<()> {
        let usage = |message: String| Err(crate::Error::Usage(message));
        if self.k == 0 {
            return usage("k must be at least 1".into());
        }
        if let Some(ensemble) = &self.ensemble {
            if ensemble.depth < self.k {
                return usage(format!(
                    "the ensemble depth ({}) must be at least k ({}): each member ranks that \
                     many items before fusion",
                    ensemble.depth, self.k
                ));
            }
        }
        if self.ensemble.is_some() || self.tune.is_some() {
            if self.validation.max_folds == 0 {
                return usage("at least 1 validation fold is needed".into());
            }
            if self.validation.max_users == 0 {
                return usage("at least 1 validation user is needed".into());
            }
        }
        Ok(())
    }
}

/// How plugin parameters are tuned (`recsys evaluate --tune`).
#[derive(Debug, Clone, Default)]
pub struct TuneOptions {
    /// Search values that replace a plugin's declared ones: plugin -> parameter -> values.
    pub search: SearchOverrides,
}

/// How the ensemble is built.
#[derive(Debug, Clone)]
pub struct EnsembleOptions {
    /// How many items each plugin ranks before fusion.
    pub depth: usize,
}

impl Default for EnsembleOptions {
    fn default() -> Self {
        EnsembleOptions { depth: 100 }
    }
}

/// The validation folds that `--ensemble` and `--tune` score on, carved out of the training
/// data.
#[derive(Debug, Clone)]
pub struct ValidationOptions {
    /// At most this many validation users are used (spread evenly over the folds).
    pub max_users: usize,
    /// Folds are added (up to `max_folds`) until they hold this many users.
    pub min_users: usize,
    /// At most this many folds.
    pub max_folds: usize,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            max_users: 50_000,
            min_users: 2_000,
            max_folds: 3,
        }
    }
}

/// Prints "name: done/total users" on stderr every few seconds.
struct Progress<'a> {
    name: &'a str,
    total: usize,
    done: AtomicUsize,
    last: Mutex<Instant>,
    every: Duration,
    enabled: bool,
}

impl<'a> Progress<'a> {
    fn new(name: &'a str, total: usize, enabled: bool) -> Self {
        let every = if std::io::stderr().is_terminal() {
            1
        } else {
            10
        };
        Progress {
            name,
            total,
            done: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
            every: Duration::from_secs(every),
            enabled,
        }
    }
    fn tick(&self, users: usize) {
        let done = self.done.fetch_add(users, Ordering::Relaxed) + users;
        if !self.enabled {
            return;
        }
        if let Ok(mut last) = self.last.try_lock() {
            if last.elapsed() >= self.every {
                *last = Instant::now();
                let pct = 100.0 * done as f64 / self.total.max(1) as f64;
                eprintln!(
                    "  {}: ranked {done}/{} users ({pct:.0}%)",
                    self.name, self.total
                );
            }
        }
    }
}

/// Users per chunk when metrics are summed in parallel.
pub(crate) const METRICS_CHUNK: usize = 1024;

/// One top list per user, in the order of the users.
type RankedLists = Vec<Vec<u32>>;

/// Users per plugin call when ranking: enough for a plugin to share work across them (one
/// matrix product per block), few enough to keep both cores busy on the small sets.
const RANK_BLOCK: usize = 256;

/// Ranks the top `depth` items for each of `users` (in order): blocks of users in parallel,
/// each block in one `recommend_many` call.
fn rank_users(
    set: &TrainSet,
    model: &TrainedModel,
    users: &[(u32, Vec<u32>)],
    depth: usize,
    ticker: &Progress<'_>,
) -> Result<Vec<Vec<u32>>> {
    let blocks = users
        .par_chunks(RANK_BLOCK)
        .map(|block| {
            let queries: Vec<Query<'_>> = block
                .iter()
                .map(|&(user, _)| Query {
                    user: Some(user),
                    history: set.history(user),
                    weights: None,
                    exclude: set.seen(user),
                    k: depth,
                })
                .collect();
            let ranked = model.recommend_many(&queries)?;
            ticker.tick(block.len());
            Ok(ranked
                .iter()
                .map(|list| list.iter().map(|s| s.item).collect())
                .collect::<Vec<Vec<u32>>>())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(blocks.into_iter().flatten().collect())
}

/// Metrics at k of ranked lists against each user's relevant items.
fn score_lists(lists: &[Vec<u32>], users: &[(u32, Vec<u32>)], k: usize, n_items: usize) -> Metrics {
    // Fixed chunks merged in order: the same sums in the same order on every run (a parallel
    // fold would add the floats in a varying order and change the last digits).
    lists
        .par_chunks(METRICS_CHUNK)
        .zip(users.par_chunks(METRICS_CHUNK))
        .map(|(lists, users)| {
            let mut acc = MetricsAccumulator::new(n_items);
            for (list, (_, relevant)) in lists.iter().zip(users) {
                acc.add(k, &list[..list.len().min(k)], relevant);
            }
            acc
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold(MetricsAccumulator::new(n_items), MetricsAccumulator::merge)
        .finish()
}

/// Trains `plugin` on `set` and ranks the top `depth` items for each of `users`.
fn train_and_rank(
    set: &TrainSet,
    plugin: &LoadedPlugin,
    params: &Params,
    users: &[(u32, Vec<u32>)],
    depth: usize,
    progress: bool,
) -> Result<(f64, f64, Vec<Vec<u32>>)> {
    let label = plugin.label();
    if progress {
        eprintln!("{label}: training on {} interactions", set.csr.nnz());
    }
    let start = Instant::now();
    let model = TrainedModel::train(plugin, &set.train_data(), params)?;
    let fit = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let ticker = Progress::new(&label, users.len(), progress);
    let lists = rank_users(set, &model, users, depth, &ticker)?;
    let ranked = start.elapsed().as_secs_f64();
    if progress {
        eprintln!(
            "{label}: fit {fit:.2}s, ranked {} users in {ranked:.2}s",
            users.len()
        );
    }
    Ok((fit, ranked, lists))
}

/// Trains `plugin` on `set`, ranks the top `depth` (>= k) items for every test user and scores
/// the top k. A failure (training error, a panic, a malformed result) becomes the result's
/// `error`; the lists are returned for fusion.
fn run_plugin(
    set: &TrainSet,
    plugin: &LoadedPlugin,
    params: &Params,
    k: usize,
    depth: usize,
    progress: bool,
) -> (PluginResult, Option<Vec<Vec<u32>>>) {
    let mut result = PluginResult {
        plugin: plugin.label(),
        version: plugin.info().version.clone(),
        params: params.clone(),
        fit_seconds: 0.0,
        eval_seconds: 0.0,
        metrics: None,
        error: None,
    };
    match train_and_rank(set, plugin, params, &set.test, depth.max(k), progress) {
        Ok((fit, ranked, lists)) => {
            result.fit_seconds = fit;
            result.eval_seconds = ranked;
            result.metrics = Some(score_lists(&lists, &set.test, k, set.n_items()));
            (result, Some(lists))
        }
        Err(e) => {
            result.error = Some(e.to_string());
            (result, None)
        }
    }
}

/// Trains `plugin` on `set` and scores its top-k lists for every test user. A failure
/// (training error, a panic, a malformed result) becomes the result's `error`.
pub fn evaluate_plugin(
    set: &TrainSet,
    plugin: &LoadedPlugin,
    params: &Params,
    k: usize,
    progress: bool,
) -> PluginResult {
    run_plugin(set, plugin, params, k, k, progress).0
}

/// Validation folds carved out of the training interactions only: fold 1 holds out what the
/// protocol would hold out of the training data (under leave-last-out, each user's latest
/// training interaction), fold 2 the same of fold 1's training part, and so on, until
/// `min_users` users are covered or `max_folds` folds are made. Small datasets get more
/// validation evidence this way; the test items are never seen.
fn validation_folds(
    dataset: &Dataset,
    split: &Split,
    protocol: Protocol,
    options: &ValidationOptions,
) -> Vec<TrainSet> {
    let mut folds = Vec::new();
    let mut remaining = split.train.clone();
    let mut covered = 0;
    while folds.len() < options.max_folds && covered < options.min_users {
        let fold = Split::new(&remaining, protocol);
        if fold.test.is_empty() {
            break;
        }
        covered += fold.test.len();
        remaining = fold.train.clone();
        folds.push(TrainSet::new(dataset, fold));
    }
    folds
}

/// Splits `dataset` with the protocol and evaluates every plugin on the same split; with
/// [`EvalOptions::tune`], first tunes each plugin's parameters on validation folds carved out
/// of the training data; with [`EvalOptions::ensemble`], also tunes and evaluates their fusion.
pub fn evaluate(
    dataset: &Dataset,
    plugins: &[LoadedPlugin],
    options: &EvalOptions,
) -> Result<EvalReport> {
    options.check()?;
    let k = options.k;
    if let Some(baseline) = &options.baseline {
        let mut labels: Vec<String> = plugins.iter().map(LoadedPlugin::label).collect();
        if options.ensemble.is_some() {
            labels.push("ensemble".into());
        }
        if !labels.contains(baseline) {
            return Err(crate::Error::Usage(format!(
                "--baseline `{baseline}` is not one of the evaluated results: {}",
                labels.join(", ")
            )));
        }
    }
    let kept;
    let interactions = if options.set_aside_latest > 0 {
        kept = without_latest(&dataset.interactions, options.set_aside_latest);
        &kept
    } else {
        &dataset.interactions
    };
    let split = Split::new(interactions, options.protocol);
    if split.test.is_empty() {
        let after = match options.set_aside_latest {
            0 => String::new(),
            n => format!(" after setting aside each user's {n} latest"),
        };
        return Err(crate::Error::Usage(format!(
            "no user has an interaction to hold out{after} (users need at least 2 interactions)"
        )));
    }
    let validation = options.ensemble.is_some() || options.tune.is_some();
    let folds = if validation {
        validation_folds(dataset, &split, options.protocol, &options.validation)
    } else {
        Vec::new()
    };
    let set = TrainSet::new(dataset, split);
    let depth = options.ensemble.as_ref().map_or(k, |e| e.depth);
    // Per fold, a deterministic, evenly spread sample of its validation users.
    let per_fold = options
        .validation
        .max_users
        .max(1)
        .div_ceil(folds.len().max(1));
    let fold_users: Vec<Vec<(u32, Vec<u32>)>> = folds
        .iter()
        .map(|fold| {
            let step = fold.test.len().div_ceil(per_fold).max(1);
            fold.test.iter().step_by(step).cloned().collect()
        })
        .collect();
    let tuning_users: Vec<(u32, Vec<u32>)> = fold_users.concat();
    let relevant: Vec<&[u32]> = tuning_users.iter().map(|(_, r)| r.as_slice()).collect();
    if validation && tuning_users.is_empty() {
        return Err(crate::Error::Usage(
            "no user has validation items (users need at least 3 interactions): nothing to tune"
                .into(),
        ));
    }
    // Trains on every validation fold and ranks its users: (fit seconds, one list per user).
    let validate = |plugin: &LoadedPlugin, params: &Params| -> Result<(f64, RankedLists)> {
        let mut fit_seconds = 0.0;
        let mut lists = Vec::with_capacity(tuning_users.len());
        for (fold, users) in folds.iter().zip(&fold_users) {
            let (fit, _, fold_lists) = train_and_rank(fold, plugin, params, users, depth, false)?;
            fit_seconds += fit;
            lists.extend(fold_lists);
        }
        Ok((fit_seconds, lists))
    };

    let test_relevant: Vec<&[u32]> = set.test.iter().map(|(_, r)| r.as_slice()).collect();
    let mut results = Vec::new();
    // Per result, each test user's NDCG@k (for the paired comparisons).
    let mut per_user: Vec<Option<Vec<f64>>> = Vec::new();
    let mut test_lists: Vec<Option<RankedLists>> = Vec::new();
    let mut validation_lists: Vec<Option<RankedLists>> = Vec::new();
    let mut tunings = Vec::new();
    for plugin in plugins {
        let mut params = plugin.params(&options.params);
        let mut lists = None;
        if let Some(tune) = &options.tune {
            // The parameters given with `--param` stay fixed, and so do a selected preset's
            // (`cf:implicit-bm25` stays the model it names; the search covers the rest). A
            // plugin's own row also starts from each of its presets.
            let given = plugin.params(&options.params);
            let space = search_space(plugin.info(), &given, tune.search.get(plugin.name()))?;
            let presets: Vec<(String, Params)> = match plugin.preset {
                Some(_) => Vec::new(),
                None => plugin
                    .info()
                    .presets
                    .iter()
                    .map(|p| (p.name.clone(), p.params.clone().overlaid(&given)))
                    .collect(),
            };
            if options.progress {
                eprintln!(
                    "{}: tuning {} parameter(s) and {} preset(s) on {} validation users",
                    plugin.label(),
                    space.len(),
                    presets.len(),
                    tuning_users.len()
                );
            }
            let search = Search {
                space,
                presets,
                info: Some(plugin.info()),
            };
            let (tuning, chosen_lists) =
                super::tune::tune(&plugin.label(), &params, search, &relevant, k, |p| {
                    validate(plugin, p).map(|(_, lists)| lists)
                });
            params = tuning.chosen().clone();
            lists = chosen_lists;
            tunings.push(tuning);
        }
        let (result, lists_on_test) = run_plugin(&set, plugin, &params, k, depth, options.progress);
        results.push(result);
        per_user.push(
            lists_on_test
                .as_ref()
                .map(|lists| per_user_ndcg(lists, &test_relevant, k)),
        );
        test_lists.push(lists_on_test);
        validation_lists.push(lists);
    }
    let mut ensemble = None;
    if options.ensemble.is_some() {
        let start = Instant::now();
        // Members: the plugins that succeeded on the test run.
        let members: Vec<usize> = (0..plugins.len())
            .filter(|&i| test_lists[i].is_some())
            .collect();
        let mut val_lists = Vec::new();
        let mut member_specs = Vec::new();
        let mut fit_seconds = 0.0;
        for &i in &members {
            let plugin = &plugins[i];
            let params = results[i].params.clone();
            let lists = match validation_lists[i].take() {
                Some(lists) => lists,
                None => {
                    let (fit, lists) = validate(plugin, &params)?;
                    fit_seconds += fit;
                    lists
                }
            };
            fit_seconds += results[i].fit_seconds;
            let alone = score_lists(&lists, &tuning_users, k, set.n_items()).ndcg;
            member_specs.push(EnsembleMember {
                plugin: plugin.name().to_string(),
                preset: plugin.preset.clone(),
                version: plugin.info().version.clone(),
                params,
                weight: 0.0,
                validation_ndcg: alone,
            });
            val_lists.push(lists);
        }
        if member_specs.is_empty() {
            return Err(crate::Error::Usage(
                "no plugin succeeded: nothing to ensemble".into(),
            ));
        }
        let (fusion, val_ndcg) = Fusion::tune_guarded(&val_lists, &relevant, k);
        for (m, w) in member_specs.iter_mut().zip(&fusion.weights) {
            m.weight = *w;
        }
        let member_lists: Vec<Vec<Vec<u32>>> = members
            .iter()
            .map(|&i| test_lists[i].take().unwrap_or_default())
            .collect();
        let input = FusionInput::new(&member_lists, k);
        let metrics = fusion.score(&input, &test_relevant, k, set.n_items());
        per_user.push(Some(fusion.per_user_ndcg(&input, &test_relevant, k)));
        if options.progress {
            eprintln!(
                "ensemble: tuned on {} validation users (NDCG@{k} {val_ndcg:.4}), weights {:?}, c = {}",
                tuning_users.len(),
                fusion.weights,
                fusion.rank_constant
            );
        }
        results.push(PluginResult {
            plugin: "ensemble".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            params: Params::new(),
            fit_seconds,
            eval_seconds: start.elapsed().as_secs_f64(),
            metrics: Some(metrics),
            error: None,
        });
        ensemble = Some(EnsembleSpec {
            fusion: "weighted-reciprocal-rank".into(),
            rank_constant: fusion.rank_constant,
            depth,
            members: member_specs,
            k,
            validation_users: tuning_users.len(),
            validation_ndcg: val_ndcg,
            dataset: dataset.name.clone(),
            test_metrics: Some(metrics),
        });
    }
    let comparisons = compare(&results, &per_user, options.baseline.as_deref());
    Ok(EvalReport {
        dataset: dataset.name.clone(),
        protocol: match options.set_aside_latest {
            0 => options.protocol.to_string(),
            n => format!(
                "{}, each user's {n} latest interaction(s) set aside",
                options.protocol
            ),
        },
        k,
        users_evaluated: set.test.len(),
        n_users: dataset.n_users(),
        n_items: dataset.n_items(),
        train_interactions: set.csr.nnz(),
        results,
        tuning: tunings,
        comparisons,
        ensemble,
        read: Some((&dataset.report).into()),
    })
}

/// Every result with per-user NDCG against `baseline` (by label), or else the one with the
/// best mean NDCG (the first of equals), paired by test user. Nothing when the baseline failed.
fn compare(
    results: &[PluginResult],
    per_user: &[Option<Vec<f64>>],
    baseline: Option<&str>,
) -> Vec<Comparison> {
    let scored: Vec<(&PluginResult, &Vec<f64>)> = results
        .iter()
        .zip(per_user)
        .filter_map(|(r, p)| Some((r, p.as_ref()?)))
        .filter(|(r, _)| r.metrics.is_some())
        .collect();
    let ndcg = |r: &PluginResult| r.metrics.map_or(f64::MIN, |m| m.ndcg);
    let reference = match baseline {
        Some(label) => scored.iter().find(|(r, _)| r.plugin == label),
        None => scored
            .iter()
            .reduce(|a, b| if ndcg(b.0) > ndcg(a.0) { b } else { a }),
    };
    let Some(&(best, best_users)) = reference else {
        return Vec::new();
    };
    scored
        .iter()
        .filter(|(r, _)| !std::ptr::eq(*r, best))
        .map(|(r, users)| {
            let (difference, standard_error) = paired_difference(users, best_users);
            Comparison {
                plugin: r.plugin.clone(),
                against: best.plugin.clone(),
                difference,
                standard_error,
            }
        })
        .collect()
}
