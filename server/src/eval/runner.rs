use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use recsys_plugin_api::{Params, Query};

use super::{EvalReport, MetricsAccumulator, PluginResult, Protocol, Split, TrainSet};
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
        let every = if std::io::stderr().is_terminal() { 1 } else { 10 };
        Progress {
            name,
            total,
            done: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
            every: Duration::from_secs(every),
            enabled,
        }
    }
    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !self.enabled {
            return;
        }
        if let Ok(mut last) = self.last.try_lock() {
            if last.elapsed() >= self.every {
                *last = Instant::now();
                let pct = 100.0 * done as f64 / self.total.max(1) as f64;
                eprintln!("  {}: ranked {done}/{} users ({pct:.0}%)", self.name, self.total);
            }
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
    let mut result = PluginResult {
        plugin: plugin.name().to_string(),
        version: plugin.info().version.clone(),
        params: params.clone(),
        fit_seconds: 0.0,
        eval_seconds: 0.0,
        metrics: None,
        error: None,
    };
    if progress {
        eprintln!("{}: training on {} interactions", plugin.name(), set.csr.nnz());
    }
    let start = Instant::now();
    let model = match TrainedModel::train(plugin, &set.train_data(), params) {
        Ok(model) => model,
        Err(e) => {
            result.error = Some(e.to_string());
            return result;
        }
    };
    result.fit_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let ticker = Progress::new(plugin.name(), set.test.len(), progress);
    let n_items = set.n_items();
    let scored = set
        .test
        .par_iter()
        .try_fold(
            || MetricsAccumulator::new(n_items),
            |mut acc, (user, relevant)| {
                let query = Query {
                    user: Some(*user),
                    history: set.history(*user),
                    weights: None,
                    exclude: set.seen(*user),
                    k,
                };
                let ranked = model.recommend(&query)?;
                let items: Vec<u32> = ranked.iter().map(|s| s.item).collect();
                acc.add(k, &items, relevant);
                ticker.tick();
                Ok::<_, crate::Error>(acc)
            },
        )
        .try_reduce(|| MetricsAccumulator::new(n_items), |a, b| Ok(a.merge(b)));
    result.eval_seconds = start.elapsed().as_secs_f64();
    match scored {
        Ok(acc) => result.metrics = Some(acc.finish()),
        Err(e) => result.error = Some(e.to_string()),
    }
    if progress {
        eprintln!(
            "{}: fit {:.2}s, ranked {} users in {:.2}s",
            plugin.name(),
            result.fit_seconds,
            set.test.len(),
            result.eval_seconds
        );
    }
    result
}

/// Splits `dataset` with the protocol and evaluates every plugin on the same split.
pub fn evaluate(
    dataset: &Dataset,
    plugins: &[LoadedPlugin],
    options: &EvalOptions,
) -> Result<EvalReport> {
    let split = Split::new(&dataset.interactions, options.protocol);
    let set = TrainSet::new(dataset, split);
    let results = plugins
        .iter()
        .map(|plugin| {
            let params = options.params.get(plugin.name()).cloned().unwrap_or_default();
            evaluate_plugin(&set, plugin, &params, options.k, options.progress)
        })
        .collect();
    Ok(EvalReport {
        dataset: dataset.name.clone(),
        protocol: options.protocol.to_string(),
        k: options.k,
        users_evaluated: set.test.len(),
        n_users: dataset.n_users(),
        n_items: dataset.n_items(),
        train_interactions: set.csr.nnz(),
        results,
    })
}
