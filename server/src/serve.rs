//! `recsys serve`, `recsys demo` and `recsys worker`: everything wired from [`Settings`]:
//! the data (configured files or a generated catalogue), the ensemble (a saved one or one
//! tuned at start-up), the store and bus (MongoDB and Kafka when configured, the embedded
//! ones otherwise), the worker, the fan-out to open pages, and the HTTP server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::config::Settings;
use crate::dataset::Dataset;
use crate::engine::{Engine, EngineBuilder};
use crate::eval::{EnsembleMember, EnsembleSpec, EvalReport};
use crate::live::{
    EmbeddedStore, EventBus, Live, LiveCounters, MemoryBus, PreferenceStore, Topics,
};
use crate::synth::SynthOptions;
use crate::web::{router, AppState, WebConfig};
use crate::{Error, Result};

/// Which parts a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The web server and the worker (the default, and what `recsys demo` runs).
    All,
    /// Only the worker (`recsys worker`), scaling out in one consumer group.
    Worker,
}

/// The data to train on: the configured files, or a catalogue generated into the state
/// directory (re-used when it is already there with the same sizes and seed).
pub fn load_data(settings: &Settings, progress: bool) -> Result<Dataset> {
    let files: Vec<PathBuf> = if settings.server.data.is_empty() {
        generated_catalogue(settings, progress)?
    } else {
        settings.server.data.clone()
    };
    if progress {
        eprintln!("reading {}", display_paths(&files));
    }
    let dataset = Dataset::read(&files, None)?;
    if progress {
        eprintln!(
            "  {} users, {} items, {} interactions ({} malformed lines skipped and counted)",
            dataset.n_users(),
            dataset.n_items(),
            dataset.interactions.len(),
            dataset
                .report
                .files
                .iter()
                .map(|f| f.malformed)
                .sum::<u64>()
        );
    }
    Ok(dataset)
}

fn display_paths(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The generated demo catalogue's files (generated on first use).
pub fn generated_catalogue(settings: &Settings, progress: bool) -> Result<Vec<PathBuf>> {
    let d = &settings.demo;
    let dir = settings.server.state_dir().join(format!(
        "catalogue-{}u-{}i-{}r-seed{}",
        d.users, d.items, d.interactions, d.seed
    ));
    let reviews = dir.join("reviews.json.gz");
    let metadata = dir.join("meta.json.gz");
    if reviews.is_file() && metadata.is_file() {
        return Ok(vec![reviews, metadata]);
    }
    if progress {
        eprintln!(
            "generating a catalogue ({} users, {} items, {} reviews) in {}",
            d.users,
            d.items,
            d.interactions,
            dir.display()
        );
    }
    let written = crate::synth::generate(
        &SynthOptions {
            users: d.users,
            items: d.items,
            interactions: d.interactions,
            seed: d.seed,
            gzip: true,
        },
        &dir,
    )?;
    Ok(vec![written.reviews, written.metadata])
}

/// A trained engine and how it came to be.
#[derive(Debug)]
pub struct Built {
    /// The engine.
    pub engine: Engine,
    /// The evaluation that chose its ensemble, when it was tuned now.
    pub report: Option<EvalReport>,
    /// Plugin files that failed to load, with the reason.
    pub plugin_errors: Vec<String>,
}

/// The trained engine, and the evaluation that chose its ensemble when it was tuned now.
///
/// The ensemble comes from `server.ensemble` when that file exists; otherwise it is tuned on
/// `dataset` (as `recsys evaluate --ensemble` does) and written to
/// `<state_dir>/ensemble.json`, with the evaluation report next to it.
///
/// # Errors
///
/// An ensemble file that cannot be read or does not fit the loaded plugins (a negative or
/// non-finite weight, all weights 0, a preset its plugin does not declare, a plugin that is
/// not loaded), naming the file, the member and the value; tuning or training failures.
pub fn build_engine(settings: &Settings, dataset: &Dataset, progress: bool) -> Result<Built> {
    Setup::new(settings, progress)?.build(settings, dataset, progress)
}

/// What start-up can check before it reads the data: the plugins loaded, and the configured
/// ensemble file read and checked against them.
struct Setup {
    builder: EngineBuilder,
    plugin_errors: Vec<String>,
    /// The configured ensemble file and what it holds, when it exists.
    configured: Option<(PathBuf, EnsembleSpec)>,
}

impl Setup {
    fn new(settings: &Settings, progress: bool) -> Result<Setup> {
        let builder = Engine::builder()
            .plugin_dir(settings.plugin_dir())?
            .plugins(&settings.server.plugins)
            .all_params(settings.plugins.params.clone());
        let plugin_errors: Vec<String> = builder
            .registry()
            .errors()
            .iter()
            .map(|e| e.to_string())
            .collect();
        for e in &plugin_errors {
            eprintln!("warning: plugin not loaded: {e}");
        }
        builder.registry().check_param_plugins(
            settings.plugins.params.keys().map(String::as_str),
            "the configuration's [plugins.params]",
        )?;
        let path = PathBuf::from(&settings.server.ensemble);
        let configured = if !settings.server.ensemble.is_empty() && path.is_file() {
            if progress {
                eprintln!("using the ensemble in {}", path.display());
            }
            let spec = read_ensemble(&path)?;
            let problems = builder.ensemble_problems(&spec);
            if !problems.is_empty() {
                return Err(Error::Config(format!(
                    "the ensemble file {} cannot be served: {}",
                    path.display(),
                    problems.join("; ")
                )));
            }
            Some((path, spec))
        } else {
            None
        };
        Ok(Setup {
            builder,
            plugin_errors,
            configured,
        })
    }

    fn build(self, settings: &Settings, dataset: &Dataset, progress: bool) -> Result<Built> {
        let Setup {
            builder,
            plugin_errors,
            configured,
        } = self;
        let earlier = settings.server.state_dir().join("ensemble.json");
        let (spec, report) = if let Some((path, spec)) = configured {
            let report = read_report(&path);
            (spec, report)
        } else if let Some(spec) = settings
            .server
            .ensemble
            .is_empty()
            .then(|| tuned_earlier(&earlier, dataset, &settings.server.plugins, &builder))
            .flatten()
        {
            if progress {
                eprintln!(
                    "using the ensemble tuned earlier on {} in {} (delete it to tune again)",
                    dataset.name,
                    earlier.display()
                );
            }
            (spec, read_report(&earlier))
        } else {
            let start = Instant::now();
            if progress {
                eprintln!(
                    "tuning an ensemble of {} on {} (leave-last-out validation)",
                    settings.server.plugins, dataset.name
                );
            }
            let report = builder.tune(dataset, settings.evaluate.k, progress)?;
            let spec = report.ensemble.clone().expect("tune returns an ensemble");
            let dir = settings.server.state_dir();
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            let path = if settings.server.ensemble.is_empty() {
                dir.join("ensemble.json")
            } else {
                PathBuf::from(&settings.server.ensemble)
            };
            write_json(&path, &spec)?;
            write_json(&report_path(&path), &report)?;
            if progress {
                eprintln!(
                    "  tuned in {:.1}s, weights {}; written to {}",
                    start.elapsed().as_secs_f64(),
                    spec.members
                        .iter()
                        .map(|m| format!("{} {:.2}", m.label(), m.weight))
                        .collect::<Vec<_>>()
                        .join(", "),
                    path.display()
                );
            }
            (spec, Some(report))
        };
        let start = Instant::now();
        let engine = builder.ensemble(spec).train(dataset)?;
        if progress {
            eprintln!(
                "trained {} on all {} interactions in {:.1}s",
                engine
                    .members()
                    .iter()
                    .map(|m| m.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                dataset.interactions.len(),
                start.elapsed().as_secs_f64()
            );
        }
        Ok(Built {
            engine,
            report,
            plugin_errors,
        })
    }
}

fn report_path(ensemble: &Path) -> PathBuf {
    ensemble.with_extension("report.json")
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("serializable");
    std::fs::write(path, text).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

fn read_ensemble(path: &Path) -> Result<EnsembleSpec> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Config(format!(
            "{} is not an ensemble file written by `recsys evaluate --ensemble`: {e}",
            path.display()
        ))
    })
}

/// The evaluation report saved next to an ensemble file, when there is one (only what
/// `serve` itself tuned has one; `/api/evaluation` then falls back to the ensemble's metrics).
fn read_report(ensemble: &Path) -> Option<EvalReport> {
    let text = std::fs::read_to_string(report_path(ensemble)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The ensemble an earlier start tuned into the state directory, when it was tuned on the
/// same dataset (by name and size) with the same plugins and still fits them: a restart does
/// not tune again.
fn tuned_earlier(
    path: &Path,
    dataset: &Dataset,
    plugins: &str,
    builder: &EngineBuilder,
) -> Option<EnsembleSpec> {
    let spec = read_ensemble(path).ok()?;
    if !builder.ensemble_problems(&spec).is_empty() {
        return None;
    }
    let mut wanted: Vec<&str> = plugins.split(',').map(str::trim).collect();
    let labels: Vec<String> = spec.members.iter().map(EnsembleMember::label).collect();
    let mut members: Vec<&str> = labels.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    members.sort_unstable();
    let report = read_report(path);
    let same_size = report
        .as_ref()
        .is_some_and(|r| r.n_users == dataset.n_users() && r.n_items == dataset.n_items());
    (spec.dataset == dataset.name && wanted == members && same_size).then_some(spec)
}

/// The longest a MongoDB store call may take before it is answered as unavailable.
#[cfg(feature = "mongodb")]
const MONGODB_CALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The store: MongoDB when `mongodb.uri` is set, else the embedded store in the state dir.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn PreferenceStore>> {
    if !settings.mongodb.uri.is_empty() {
        #[cfg(feature = "mongodb")]
        {
            let store = crate::live::MongoPreferenceStore::connect(
                &settings.mongodb.uri,
                &settings.mongodb.db,
            )
            .await
            .map_err(|e| Error::Config(format!("mongodb.uri: {e}")))?;
            // A server that stops answering without closing its connections gives 503 in
            // seconds, like one that is down.
            return Ok(Arc::new(crate::live::Bounded::new(
                store,
                MONGODB_CALL_LIMIT,
            )));
        }
        #[cfg(not(feature = "mongodb"))]
        return Err(Error::Config(
            "mongodb.uri is set but this build has no MongoDB support (feature `mongodb`)".into(),
        ));
    }
    let path = settings.server.state_dir().join("store.redb");
    let store = EmbeddedStore::open(&path).map_err(|e| Error::Config(e.to_string()))?;
    Ok(Arc::new(store))
}

/// The bus: Kafka when `kafka.brokers` is set, else the in-process bus.
pub async fn open_bus(settings: &Settings) -> Result<Arc<dyn EventBus>> {
    let bus: Arc<dyn EventBus> = if settings.kafka.brokers.is_empty() {
        Arc::new(MemoryBus::new())
    } else {
        #[cfg(feature = "kafka")]
        {
            let config = crate::live::KafkaConfig::new(&settings.kafka.brokers);
            Arc::new(
                crate::live::KafkaBus::connect(&config)
                    .await
                    .map_err(|e| Error::Config(format!("kafka.brokers: {e}")))?,
            )
        }
        #[cfg(not(feature = "kafka"))]
        return Err(Error::Config(
            "kafka.brokers is set but this build has no Kafka support (feature `kafka`)".into(),
        ));
    };
    let topics = topics(settings);
    bus.ensure_topics(&[&topics.events, &topics.recommendations])
        .await
        .map_err(|e| Error::Config(e.to_string()))?;
    Ok(bus)
}

fn topics(settings: &Settings) -> Topics {
    Topics {
        events: settings.kafka.events_topic.clone(),
        recommendations: settings.kafka.recommendations_topic.clone(),
    }
}

/// What the command prepared for [`run`] besides the settings.
#[derive(Debug, Default)]
pub struct Extras {
    /// The EDA report page (`recsys eda`'s index.html), served at `/eda`.
    pub eda_html: Option<String>,
    /// The listener [`bind`] gave, for a command that does slow work of its own before
    /// [`run`] (`recsys demo` writes the EDA report) and binds first so that a bad or busy
    /// address fails at once; `None`: [`run`] binds `server.bind` before anything else.
    pub listener: Option<std::net::TcpListener>,
}

/// Parses and binds `server.bind`, before any slow start-up work (reading the data, tuning
/// and training take minutes on big data), so that a bad or busy address fails at once.
///
/// # Errors
///
/// `server.bind` is not an address such as `127.0.0.1:8080`, or it cannot be bound (in use,
/// not an address of this machine, a privileged port).
pub fn bind(settings: &Settings) -> Result<std::net::TcpListener> {
    let bind = &settings.server.bind;
    let addr: SocketAddr = bind.trim().parse().map_err(|e| {
        Error::Config(format!(
            "server.bind `{bind}` is not an address such as 127.0.0.1:8080 or [::1]:8080: {e}"
        ))
    })?;
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| Error::io(format!("cannot listen on {addr} (server.bind)"), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io(format!("cannot listen on {addr} (server.bind)"), e))?;
    Ok(listener)
}

/// Runs `role` until Ctrl-C (or SIGTERM): for [`Role::All`] binds `server.bind` first (unless
/// `extras` holds a listener), then builds the engine, opens the store and bus, and starts the
/// worker, the fan-out and the HTTP server; for [`Role::Worker`], the worker only.
pub async fn run(settings: Settings, role: Role, mut extras: Extras) -> Result<()> {
    if role == Role::Worker
        && (settings.kafka.brokers.is_empty() || settings.mongodb.uri.is_empty())
    {
        return Err(Error::Usage(
            "`recsys worker` runs beside `recsys serve` processes, so it needs the shared \
             backends: set mongodb.uri and kafka.brokers (RECSYS__MONGODB__URI, \
             RECSYS__KAFKA__BROKERS); with the embedded ones, `recsys serve` runs its own worker"
                .into(),
        ));
    }
    let listener = match (role, extras.listener.take()) {
        (Role::Worker, _) => None,
        (Role::All, Some(listener)) => Some(listener),
        (Role::All, None) => Some(bind(&settings)?),
    };
    // The backends are reached before the slow work too: an unreachable MongoDB or broker
    // fails the start at once (once running, either may go away and come back).
    let store = open_store(&settings).await?;
    let bus = open_bus(&settings).await?;
    let data_settings = settings.clone();
    let (dataset_name, built) = tokio::task::spawn_blocking(move || {
        let setup = Setup::new(&data_settings, true)?;
        let dataset = load_data(&data_settings, true)?;
        let built = setup.build(&data_settings, &dataset, true)?;
        Ok::<_, Error>((dataset.name, built))
    })
    .await
    .map_err(|e| Error::Usage(format!("start-up task failed: {e}")))??;
    eprintln!(
        "store: {}, event bus: {}, catalogue: {} ({} products)",
        store.backend(),
        bus.backend(),
        dataset_name,
        built.engine.catalogue().len()
    );
    let live = Live {
        engine: Arc::new(built.engine),
        store,
        bus,
        topics: topics(&settings),
        k: settings.server.k,
        counters: Arc::new(LiveCounters::default()),
    };
    let (stop, stopped) = watch::channel(false);
    let worker = {
        let live = live.clone();
        let group = settings.kafka.group.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move { live.run_worker(&group, stopped).await })
    };
    let watch = {
        let live = live.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move { live.run_bus_watch(stopped).await })
    };
    let relay = {
        let live = live.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move { live.run_outbox_relay(stopped).await })
    };
    if role == Role::Worker {
        eprintln!(
            "worker running in group {}; Ctrl-C stops it",
            settings.kafka.group
        );
        shutdown_signal().await;
        let _ = stop.send(true);
        let _ = relay.await;
        return worker
            .await
            .map_err(|e| Error::Usage(format!("worker task failed: {e}")))?
            .map_err(|e| Error::Usage(e.to_string()));
    }
    let mut config = WebConfig::from_settings(&settings.server);
    config.evaluation = built.report.map(Arc::new);
    config.eda_html = extras.eda_html.map(Arc::new);
    config.plugin_errors = built.plugin_errors;
    let state = AppState::new(live.clone(), config);
    let fanout = {
        let live = live.clone();
        let sink = state.recommendations_sender();
        let stopped = stopped.clone();
        tokio::spawn(async move { live.run_fanout(sink, stopped).await })
    };
    let listener = listener.expect("bound above for Role::All");
    let listener = listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
        .map_err(|e| Error::io("cannot serve on the bound address", e))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?;
    eprintln!("recsys is serving at http://{local}/ (Ctrl-C stops it)");
    let close = state.clone();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
            close.close_streams();
        })
        .await
        .map_err(|e| Error::io("HTTP server", e))?;
    let _ = fanout.await;
    let _ = worker.await;
    let _ = watch.await;
    let _ = relay.await;
    if let Err(e) = live.bus.flush(std::time::Duration::from_secs(5)).await {
        eprintln!("event bus: events still queued at shutdown: {e}");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(env: &[(&str, &str)]) -> Settings {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load_with_env(None, env).unwrap()
    }

    #[test]
    fn bind_refuses_a_bad_or_busy_address_and_keeps_a_good_one() {
        let err = bind(&settings(&[("RECSYS__SERVER__BIND", "notanaddress")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("server.bind `notanaddress` is not an address such as"),
            "{err}"
        );
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = busy.local_addr().unwrap().to_string();
        let err = bind(&settings(&[("RECSYS__SERVER__BIND", &addr)])).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("cannot listen on {addr} (server.bind)")),
            "{err}"
        );
        drop(busy);
        let listener = bind(&settings(&[("RECSYS__SERVER__BIND", "127.0.0.1:0")])).unwrap();
        // Bound now: a client can connect before anything serves.
        std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    }

    #[test]
    fn an_ensemble_file_that_does_not_fit_the_plugins_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ensemble.json");
        let spec = serde_json::json!({
            "fusion": "weighted-reciprocal-rank", "rank_constant": 10.0, "depth": 100,
            "members": [{"plugin": "cf", "version": "1", "params": {}, "weight": -3.0,
                         "validation_ndcg": 0.0}],
            "k": 10, "validation_users": 0, "validation_ndcg": 0.0, "dataset": "d",
            "test_metrics": null
        });
        std::fs::write(&path, spec.to_string()).unwrap();
        let empty = tempfile::tempdir().unwrap();
        let settings = settings(&[
            ("RECSYS__SERVER__ENSEMBLE", path.to_str().unwrap()),
            ("RECSYS__PLUGINS__DIR", empty.path().to_str().unwrap()),
        ]);
        let err = Setup::new(&settings, false)
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(
            err.contains("members[0] (cf): weight -3 is negative"),
            "{err}"
        );
    }
}
