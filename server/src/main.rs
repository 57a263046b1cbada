//! The `recsys` command line: parses arguments and calls the library.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use recsys::config::Settings;
use recsys::dataset::{Dataset, Format};
use recsys::eval::{
    evaluate, EnsembleOptions, EvalOptions, Protocol, SearchOverrides, TuneOptions,
    ValidationOptions,
};
use recsys::plugins::PluginRegistry;
use recsys::synth::SynthOptions;
use recsys_plugin_api::ParamValue;

/// recsys: a plugin-based, embeddable recommendation server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file layered over the defaults (see config/default.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the plugins in the plugin directory and the files that failed to load.
    Plugins {
        /// Plugin directory (overrides plugins.dir).
        #[arg(long, value_name = "DIR")]
        plugin_dir: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train plugins on held-out data and compare ranking metrics.
    Evaluate(Box<EvaluateArgs>),
    /// Load review, rating and metadata files into MongoDB; malformed records are quarantined
    /// with their reason, and read = inserted + updated + duplicates + quarantined.
    #[cfg(feature = "mongodb")]
    Ingest(IngestArgs),
    /// Prepare a training set from MongoDB: deduplicate, k-core, encode, normalise; write the
    /// `interactions` and `item_features` collections and optionally a versioned snapshot.
    #[cfg(feature = "mongodb")]
    Prepare(PrepareArgs),
    /// Explore a dataset: write DIR/index.html (charts, each with a finding) and DIR/stats.json
    /// (every number shown), in one streaming pass.
    Eda(EdaArgs),
    /// Serve the REST API and the web app: train (or load) the ensemble, store preferences,
    /// stream fresh recommendations to open pages. MongoDB and Kafka when configured
    /// (mongodb.uri, kafka.brokers), the embedded store and in-process bus otherwise.
    #[cfg(feature = "server")]
    Serve(ServeArgs),
    /// The zero-setup demo: generate a catalogue (or take --data files), write the EDA report,
    /// tune and train the ensemble, and serve the web app at http://127.0.0.1:8080.
    #[cfg(feature = "server")]
    Demo(ServeArgs),
    /// Run only the worker (consume preference events, store and produce recommendations),
    /// beside `recsys serve` processes (a standby while the events topic has one partition);
    /// needs mongodb.uri and kafka.brokers.
    #[cfg(feature = "server")]
    Worker(ServeArgs),
    /// Plugin author tools.
    Plugin {
        #[command(subcommand)]
        action: PluginAction,
    },
    /// Generate an Amazon-format dataset (reviews + metadata JSON lines) of any size.
    ///
    /// Limits: at least 1 user and 8 items (one per category); every user writes at least one
    /// review and at most half of the items (so that popularity and taste still decide which),
    /// so --interactions must be between USERS and USERS x (ITEMS / 2, rounded down). Outside
    /// them the command stops with an error rather than change the sizes.
    Synth {
        /// Number of users (at least 1).
        #[arg(long, default_value_t = 10_000)]
        users: usize,
        /// Number of items (at least 8, one per category).
        #[arg(long, default_value_t = 2_000)]
        items: usize,
        /// Number of interactions (reviews), written exactly: from USERS to USERS x (ITEMS / 2).
        #[arg(long, default_value_t = 200_000)]
        interactions: usize,
        /// Random seed; the same options give the same files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output directory (created if needed).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write gzip-compressed files (.json.gz).
        #[arg(long)]
        gz: bool,
    },
}

#[cfg(feature = "server")]
#[derive(Debug, Args)]
struct ServeArgs {
    /// Listen address (overrides server.bind).
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Train on these Amazon files (reviews / ratings + metadata) instead of a generated
    /// catalogue (overrides server.data); repeat for several.
    #[arg(long, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// The ensemble file written by `recsys evaluate --ensemble` (overrides server.ensemble).
    #[arg(long, value_name = "FILE")]
    ensemble: Option<PathBuf>,
    /// Plugin directory (overrides plugins.dir).
    #[arg(long, value_name = "DIR")]
    plugin_dir: Option<PathBuf>,
    /// Where the embedded store and generated files live (overrides server.state_dir).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Serve the EDA report in DIR/index.html (written by `recsys eda`) at /eda.
    #[arg(long, value_name = "DIR")]
    eda: Option<PathBuf>,
}

#[cfg(feature = "server")]
fn run_serve(
    mut settings: Settings,
    args: ServeArgs,
    role: recsys::serve::Role,
    demo: bool,
) -> anyhow::Result<()> {
    if role == recsys::serve::Role::Worker && (args.bind.is_some() || args.eda.is_some()) {
        bail!("`recsys worker` serves no HTTP, so --bind and --eda do not apply to it");
    }
    if let Some(bind) = args.bind {
        settings.server.bind = bind;
    }
    if !args.data.is_empty() {
        settings.server.data = args.data;
    }
    if let Some(e) = args.ensemble {
        settings.server.ensemble = e.display().to_string();
    }
    if let Some(d) = args.plugin_dir {
        settings.plugins.dir = d.display().to_string();
    }
    if let Some(d) = args.state_dir {
        settings.server.state_dir = d.display().to_string();
    }
    let mut extras = recsys::serve::Extras::default();
    if role == recsys::serve::Role::All {
        // Before the demo's EDA report: a bad or busy address fails at once.
        extras.listener = Some(recsys::serve::bind(&settings)?);
    }
    let eda_dir = match args.eda {
        Some(dir) => Some(dir),
        None if demo => Some(write_demo_eda(&settings)?),
        None => None,
    };
    if let Some(dir) = eda_dir {
        let page = dir.join("index.html");
        extras.eda_html = Some(
            std::fs::read_to_string(&page)
                .with_context(|| format!("cannot read the EDA report {}", page.display()))?,
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(recsys::serve::run(settings, role, extras))?;
    Ok(())
}

/// `recsys demo`: the EDA report of the demo data, written once into the state directory.
#[cfg(feature = "server")]
fn write_demo_eda(settings: &Settings) -> anyhow::Result<PathBuf> {
    use recsys::eda::{analyze_files, write_report, EdaOptions};
    let files = if settings.server.data.is_empty() {
        recsys::serve::generated_catalogue(settings, true)?
    } else {
        settings.server.data.clone()
    };
    let dir = settings.server.state_dir().join("eda");
    if !dir.join("index.html").is_file() || !settings.server.data.is_empty() {
        eprintln!("writing the EDA report to {}", dir.display());
        let report = analyze_files(&files, &EdaOptions::default())?;
        write_report(&report, &dir)?;
    }
    Ok(dir)
}

#[derive(Debug, Subcommand)]
enum PluginAction {
    /// Load one plugin library, print its info and run the compliance suite against it on a
    /// generated dataset: what a plugin author runs before shipping.
    Check {
        /// The plugin library (lib<name>.so / .dylib / .dll).
        path: PathBuf,
        /// A training parameter, NAME=VALUE; repeatable.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// Dataset file (Amazon reviews / ratings / metadata, plain or .gz); repeat for several.
    #[arg(long, value_name = "FILE")]
    #[cfg_attr(not(feature = "mongodb"), arg(required = true))]
    #[cfg_attr(feature = "mongodb", arg(required_unless_present = "source"))]
    data: Vec<PathBuf>,
    /// `mongodb`: train from the latest snapshot `recsys prepare --snapshot` recorded in the
    /// database (instead of --data).
    #[cfg(feature = "mongodb")]
    #[arg(long, value_parser = ["mongodb"], conflicts_with = "data", requires = "source_uri")]
    source: Option<String>,
    /// MongoDB connection string (with --source mongodb).
    #[cfg(feature = "mongodb")]
    #[arg(long = "mongodb-uri", value_name = "URI", requires = "source")]
    source_uri: Option<String>,
    /// Database name (with --source mongodb).
    #[cfg(feature = "mongodb")]
    #[arg(long = "db", value_name = "NAME", default_value = "recsys")]
    source_db: String,
    /// Force the format of every file: reviews, metadata, ratings-csv, kaggle-csv, seq, pairs,
    /// item2attributes or datamaps (detected from the content otherwise).
    #[arg(long)]
    format: Option<Format>,
    /// `all` or a comma-separated list of plugin names.
    #[arg(long, default_value = "all")]
    plugins: String,
    /// List length k (default: evaluate.k).
    #[arg(long)]
    k: Option<usize>,
    /// leave-last-out or random-holdout (default: evaluate.protocol).
    #[arg(long)]
    protocol: Option<String>,
    /// random-holdout: share of each user's interactions held out.
    #[arg(long)]
    holdout_fraction: Option<f64>,
    /// random-holdout: shuffle seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "OUT.json")]
    json: Option<PathBuf>,
    /// Plugin directory (overrides plugins.dir).
    #[arg(long, value_name = "DIR")]
    plugin_dir: Option<PathBuf>,
    /// A training parameter, PLUGIN.NAME=VALUE (e.g. cf.neighbours=50); repeatable.
    #[arg(long = "param", value_name = "PLUGIN.NAME=VALUE")]
    params: Vec<String>,
    /// Also tune an ensemble of the selected plugins on a validation split carved out of the
    /// training data, report it next to the plugins and write it to --ensemble-out.
    #[arg(long)]
    ensemble: bool,
    /// Where to write the chosen ensemble (plugins, params, weights, metrics).
    #[arg(long, value_name = "FILE", default_value = "ensemble.json")]
    ensemble_out: PathBuf,
    /// How many items each plugin ranks before fusion.
    #[arg(long, default_value_t = 100)]
    ensemble_depth: usize,
    /// At most this many validation folds for --ensemble and --tune (each one more of each
    /// user's latest training interactions; added until they hold 2,000 users).
    #[arg(long, default_value_t = 3)]
    folds: usize,
    /// At most this many validation users for --ensemble and --tune, spread evenly over the
    /// folds (more: a more precise choice, slower tuning).
    #[arg(long, default_value_t = ValidationOptions::default().max_users)]
    validation_users: usize,
    /// Pair every result's per-user NDCG against this one (a plugin, plugin:preset or
    /// `ensemble`) instead of the best one's.
    #[arg(long, value_name = "RESULT")]
    baseline: Option<String>,
    /// First tune each plugin's parameters (the values it declares worth searching, or those
    /// of --search) on validation folds carved out of the training data, then evaluate the
    /// chosen ones on the test items. Parameters fixed with --param are not searched.
    #[arg(long)]
    tune: bool,
    /// Values to search for one parameter with --tune, PLUGIN.NAME=V1,V2,... (e.g.
    /// cf.neighbours=50,100,200); replaces the plugin's own search values; repeatable.
    #[arg(long = "search", value_name = "PLUGIN.NAME=V1,V2", requires = "tune")]
    search: Vec<String>,
    /// Set aside each user's N latest interactions, unread, before the split: the evaluation
    /// then holds out the ones before them. With 1 it scores on the validation split instead
    /// of the test items, for choosing settings (or comparing methods) without seeing the test.
    #[arg(long, value_name = "N", default_value_t = 0)]
    set_aside_latest: usize,
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_param(spec: &str) -> anyhow::Result<(String, String, ParamValue)> {
    let (key, value) = spec.split_once('=').context("expected PLUGIN.NAME=VALUE")?;
    let (plugin, name) = key.split_once('.').context("expected PLUGIN.NAME=VALUE")?;
    let value = match serde_json::from_str::<ParamValue>(value) {
        Ok(v) => v,
        Err(_) => ParamValue::Str(value.to_string()),
    };
    Ok((plugin.to_string(), name.to_string(), value))
}

/// `PLUGIN.NAME=V1,V2,...` -> (plugin, name, values), each value read as `--param` reads it.
fn parse_search(spec: &str) -> anyhow::Result<(String, String, Vec<ParamValue>)> {
    let (key, values) = spec
        .split_once('=')
        .context("expected PLUGIN.NAME=V1,V2,...")?;
    let mut parsed = Vec::new();
    for value in values.split(',') {
        let (plugin, name, value) = parse_param(&format!("{key}={value}"))?;
        if plugin.is_empty() || name.is_empty() || value == ParamValue::Str(String::new()) {
            bail!("expected PLUGIN.NAME=V1,V2,...");
        }
        parsed.push((plugin, name, value));
    }
    let (plugin, name, _) = parsed[0].clone();
    Ok((
        plugin,
        name,
        parsed.into_iter().map(|(_, _, v)| v).collect(),
    ))
}

fn registry(settings: &Settings, dir: Option<PathBuf>) -> anyhow::Result<PluginRegistry> {
    let dir = dir.unwrap_or_else(|| settings.plugin_dir());
    let registry = PluginRegistry::load_dir(&dir)?;
    for error in registry.errors() {
        eprintln!("warning: {error}");
    }
    Ok(registry)
}

fn plugins(settings: &Settings, dir: Option<PathBuf>, json: bool) -> anyhow::Result<()> {
    let registry = registry(settings, dir)?;
    if json {
        let list: Vec<_> = registry
            .plugins()
            .iter()
            .map(|p| serde_json::json!({"info": p.info(), "file": p.origin()}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let capabilities = |p: &recsys::plugins::LoadedPlugin| {
        let caps: Vec<&str> = p.info().capabilities.iter().map(|c| c.as_str()).collect();
        caps.join(",")
    };
    // Each column as wide as its longest entry, so that no two run together.
    let width = |header: &str, cell: &dyn Fn(&recsys::plugins::LoadedPlugin) -> usize| {
        registry
            .plugins()
            .iter()
            .map(cell)
            .max()
            .unwrap_or(0)
            .max(header.len())
    };
    let name_w = width("NAME", &|p| p.info().name.len());
    let version_w = width("VERSION", &|p| p.info().version.len());
    let caps_w = width("CAPABILITIES", &|p| capabilities(p).len());
    println!(
        "{:<name_w$} {:<version_w$} {:<5} {:<caps_w$} FILE",
        "NAME", "VERSION", "API", "CAPABILITIES"
    );
    for p in registry.plugins() {
        let info = p.info();
        let api = format!("{}.{}", info.api_major, info.api_minor);
        println!(
            "{:<name_w$} {:<version_w$} {:<5} {:<caps_w$} {}",
            info.name,
            info.version,
            api,
            capabilities(p),
            p.origin()
        );
        for param in &info.params {
            let search: Vec<String> = param.search.iter().map(ToString::to_string).collect();
            let search = if search.is_empty() {
                String::new()
            } else {
                format!(", --tune tries {}", search.join(" "))
            };
            let only = param.applies_when.as_ref().map_or_else(String::new, |c| {
                let values: Vec<String> = c.values.iter().map(ToString::to_string).collect();
                format!(", only with {} = {}", c.param, values.join(" or "))
            });
            println!(
                "    {} ({:?}, default {}{search}{only}): {}",
                param.name, param.kind, param.default, param.description
            );
        }
        for preset in &info.presets {
            let values: Vec<String> = preset
                .params
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            println!(
                "    preset {}:{} ({}): {}",
                info.name,
                preset.name,
                values.join(" "),
                preset.description
            );
        }
    }
    if registry.plugins().is_empty() {
        bail!("no plugins found; build them with `cargo build --release` or set plugins.dir");
    }
    Ok(())
}

fn plugin_check(path: &std::path::Path, specs: &[String]) -> anyhow::Result<()> {
    let plugin = recsys::plugins::load_file(path)?;
    let info = plugin.info();
    let caps: Vec<&str> = info.capabilities.iter().map(|c| c.as_str()).collect();
    println!(
        "{} {} (API {}.{}) from {}",
        info.name,
        info.version,
        info.api_major,
        info.api_minor,
        plugin.origin()
    );
    println!("  {}", info.description);
    println!("  capabilities: {}", caps.join(", "));
    let mut params = recsys_plugin_api::Params::new();
    for spec in specs {
        let (name, value) = parse_param(&format!("{}.{spec}", info.name))
            .map(|(_, name, value)| (name, value))
            .with_context(|| format!("bad --param `{spec}`: expected NAME=VALUE"))?;
        params.set(&name, value);
    }
    if let Some(message) = recsys::plugins::compliance::refused_params(&plugin, &params) {
        bail!(
            "`{}` refuses the given --param values, so the suite cannot run with them: {message}",
            info.name
        );
    }
    let report = recsys::plugins::compliance::run(&plugin, &params);
    print!("{}", report.render());
    if !report.passed() {
        bail!("plugin `{}` fails the compliance suite", info.name);
    }
    Ok(())
}

fn run_evaluate(settings: &Settings, args: EvaluateArgs) -> anyhow::Result<()> {
    let data = evaluation_files(&args)?;
    let registry = registry(settings, args.plugin_dir)?;
    let selected = registry.select(&args.plugins)?;
    registry.check_param_plugins(
        settings.plugins.params.keys().map(String::as_str),
        "the configuration's [plugins.params]",
    )?;
    let mut params = settings.plugins.params.clone();
    for spec in &args.params {
        let (plugin, name, value) =
            parse_param(spec).with_context(|| format!("bad --param `{spec}`"))?;
        registry.check_param_plugins([plugin.as_str()], &format!("--param `{spec}`"))?;
        params.entry(plugin).or_default().set(&name, value);
    }
    // Checked before the data are read: a long run must not end in a path that cannot be
    // written.
    if let Some(path) = &args.json {
        writable(path, "--json")?;
    }
    if args.ensemble {
        writable(&args.ensemble_out, "--ensemble-out")?;
    }
    let e = &settings.evaluate;
    let protocol = Protocol::parse(
        args.protocol.as_deref().unwrap_or(&e.protocol),
        args.holdout_fraction.unwrap_or(e.holdout_fraction),
        args.seed.unwrap_or(e.seed),
    )?;
    if matches!(protocol, Protocol::LeaveLastOut)
        && (args.holdout_fraction.is_some() || args.seed.is_some())
    {
        bail!(
            "--holdout-fraction and --seed shape the random-holdout protocol, and this run is \
             leave-last-out (it holds out each user's latest interaction): add --protocol \
             random-holdout, or leave them out"
        );
    }
    if args.ensemble && selected.len() < 2 {
        bail!(
            "--ensemble fuses several plugins, and only `{}` is selected: select two or more \
             with --plugins",
            args.plugins
        );
    }
    let ensemble = args.ensemble.then_some(EnsembleOptions {
        depth: args.ensemble_depth,
    });
    let tune = if args.tune {
        let mut search = SearchOverrides::new();
        for spec in &args.search {
            let (plugin, name, values) =
                parse_search(spec).with_context(|| format!("bad --search `{spec}`"))?;
            registry.check_param_plugins([plugin.as_str()], &format!("--search `{spec}`"))?;
            search.entry(plugin).or_default().insert(name, values);
        }
        Some(TuneOptions { search })
    } else {
        None
    };
    let options = EvalOptions {
        k: args.k.unwrap_or(e.k),
        protocol,
        params,
        progress: !args.quiet,
        ensemble,
        tune,
        validation: ValidationOptions {
            max_folds: args.folds,
            max_users: args.validation_users,
            ..ValidationOptions::default()
        },
        baseline: args.baseline,
        set_aside_latest: args.set_aside_latest,
    };
    options.check()?;
    let dataset = Dataset::read(&data, args.format)?;
    if args.quiet {
        // Quiet hides progress, not lost records.
        let malformed = dataset.report.problem_count();
        if malformed > 0 {
            eprintln!(
                "warning: {malformed} malformed line(s) skipped (the first five are listed \
                 without -q, every one with its reason in the --json report)"
            );
        }
    } else {
        print_read_summary(&dataset);
    }
    if dataset.interactions.is_empty() {
        bail!("the data files hold no interactions (metadata alone cannot be evaluated)");
    }
    let report = evaluate(&dataset, &selected, &options)?;
    // A closed stdout (`| head`) still leaves the files written.
    let printed = print_out(&report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(spec) = &report.ensemble {
        let json = serde_json::to_string_pretty(spec)?;
        std::fs::write(&args.ensemble_out, json)
            .with_context(|| format!("cannot write {}", args.ensemble_out.display()))?;
        let weights: Vec<String> = spec
            .members
            .iter()
            .map(|m| format!("{}={}", m.label(), m.weight))
            .collect();
        eprintln!(
            "ensemble written to {} (weights {}, rank constant {})",
            args.ensemble_out.display(),
            weights.join(", "),
            spec.rank_constant
        );
    }
    if report.results.iter().all(|r| r.metrics.is_none()) {
        bail!("every plugin failed");
    }
    printed
}

/// Fails unless `path`'s directory exists (the file itself is written at the end).
fn writable(path: &std::path::Path, flag: &str) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!("{flag} {}: is a directory", path.display());
    }
    Ok(())
}

fn print_read_summary(dataset: &Dataset) {
    let r = &dataset.report;
    for f in &r.files {
        eprintln!(
            "read {} ({}): {} lines, {} records, {} malformed, {} repaired",
            f.path.display(),
            f.format,
            f.lines,
            f.records,
            f.malformed,
            f.repaired
        );
    }
    eprintln!(
        "dataset {}: {} interactions, {} users, {} items; {} duplicate (user, item) pairs \
         collapsed to the latest",
        dataset.name,
        dataset.interactions.len(),
        dataset.n_users(),
        dataset.n_items(),
        r.duplicates_collapsed
    );
    for p in r.problems.iter().take(5) {
        eprintln!("  skipped {}:{}: {}", p.file.display(), p.line, p.reason);
    }
    if r.problem_count() > 5 {
        eprintln!(
            "  ... {} malformed lines in all (each with its reason in the --json report)",
            r.problem_count()
        );
    }
}

#[cfg(feature = "mongodb")]
#[derive(Debug, Args)]
struct IngestArgs {
    /// Review, rating or metadata files (plain or .gz), in any order: metadata is read first.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// MongoDB connection string, e.g. mongodb://127.0.0.1:27017/?directConnection=true
    /// (or --dry-run, without a database).
    #[arg(long, value_name = "URI", conflicts_with = "dry_run")]
    mongodb_uri: Option<String>,
    /// Database name.
    #[arg(long, value_name = "NAME", default_value = "recsys")]
    db: String,
    /// Parse, clean and build every document without a database, and print the rate (instead
    /// of --mongodb-uri).
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run: also write every document built under DIR, a new or empty directory,
    /// as canonical extended JSON lines (DIR/<collection>/file-<i>.jsonl,
    /// DIR/ingest_runs.jsonl; see docs/schema.md).
    #[arg(long, value_name = "DIR")]
    dump: Option<PathBuf>,
    /// Records per write.
    #[arg(long, value_name = "N", default_value_t = recsys::ingest::DEFAULT_BATCH_SIZE)]
    batch_size: usize,
    /// Force the format of every file: reviews, metadata, ratings-csv or kaggle-csv.
    #[arg(long)]
    format: Option<Format>,
    /// Seconds to wait for a MongoDB server before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    server_timeout: f64,
    /// No progress on stderr (the summary is still printed).
    #[arg(long, short)]
    quiet: bool,
}

#[cfg(feature = "mongodb")]
fn run_ingest(args: IngestArgs) -> anyhow::Result<()> {
    use recsys::ingest::{IngestOptions, ProgressMode, Target};
    use recsys::store::MongoConfig;

    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if args.dump.is_some() && !args.dry_run {
        bail!(
            "--dump DIR writes the documents of a dry run instead of a database: add --dry-run \
             (and no --mongodb-uri)"
        );
    }
    let mut options = IngestOptions::new(args.files);
    options.format = args.format;
    options.batch_size = args.batch_size;
    options.dump = args.dump;
    if args.quiet {
        options.progress = ProgressMode::Quiet;
    }
    let target = match args.mongodb_uri {
        _ if args.dry_run => Target::DryRun,
        Some(uri) => {
            let mut config = MongoConfig::new(uri, args.db);
            config.server_selection_timeout =
                std::time::Duration::try_from_secs_f64(args.server_timeout)
                    .context("--server-timeout must be a number of seconds")?;
            Target::MongoDb(config)
        }
        None => bail!(
            "give --mongodb-uri URI to load the files into MongoDB, or --dry-run to read, check \
             and count them without a database"
        ),
    };
    let report = recsys::ingest::run(&target, &options)?;
    print_out(&format!("{report}\n"))
}

/// The files `recsys evaluate` reads: --data, or the latest snapshot of --source mongodb.
#[cfg(feature = "mongodb")]
fn evaluation_files(args: &EvaluateArgs) -> anyhow::Result<Vec<PathBuf>> {
    match &args.source_uri {
        Some(uri) => {
            let config = recsys::store::MongoConfig::new(uri, &args.source_db);
            Ok(recsys::prepare::latest_snapshot_files(&config)?)
        }
        None => Ok(args.data.clone()),
    }
}

/// The files `recsys evaluate` reads: --data.
#[cfg(not(feature = "mongodb"))]
fn evaluation_files(args: &EvaluateArgs) -> anyhow::Result<Vec<PathBuf>> {
    Ok(args.data.clone())
}

#[cfg(feature = "mongodb")]
#[derive(Debug, Args)]
struct PrepareArgs {
    /// MongoDB connection string, e.g. mongodb://127.0.0.1:27017/?directConnection=true.
    #[arg(long, value_name = "URI")]
    mongodb_uri: String,
    /// Database name.
    #[arg(long, value_name = "NAME", default_value = "recsys")]
    db: String,
    /// Keep only users and items with at least N interactions (iterated until stable).
    #[arg(long, value_name = "N")]
    k_core: Option<usize>,
    /// Confidence weight 1 + ALPHA * rating / 5.
    #[arg(long, value_name = "ALPHA", default_value_t = recsys::prepare::DEFAULT_ALPHA)]
    alpha: f64,
    /// Write a versioned snapshot under DIR (DIR/VERSION/{manifest.json,reviews.json,meta.json}).
    #[arg(long, value_name = "DIR")]
    snapshot: Option<PathBuf>,
    /// Seconds to wait for a MongoDB server before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    server_timeout: f64,
}

#[cfg(feature = "mongodb")]
fn run_prepare(args: PrepareArgs) -> anyhow::Result<()> {
    use recsys::prepare::PrepareOptions;
    use recsys::store::MongoConfig;

    let mut config = MongoConfig::new(args.mongodb_uri, args.db);
    config.server_selection_timeout = std::time::Duration::try_from_secs_f64(args.server_timeout)
        .context("--server-timeout must be a number of seconds")?;
    let options = PrepareOptions {
        k_core: args.k_core,
        alpha: args.alpha,
        snapshot: args.snapshot,
    };
    let report = recsys::prepare::run(&config, &options)?;
    let mut text = format!("{report}\n");
    for (reason, count) in &report.dropped {
        text += &format!("  dropped {count}: {reason}\n");
    }
    print_out(&text)
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true)))]
struct EdaArgs {
    /// Dataset files (reviews, ratings, metadata, sequences; plain or .gz), in any order.
    #[arg(long, group = "source", num_args = 1.., value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Read the collections `recsys ingest` wrote (products, reviews, quarantine) from this
    /// MongoDB server instead of files, e.g. mongodb://127.0.0.1:27017/?directConnection=true.
    #[cfg(feature = "mongodb")]
    #[arg(long, group = "source", value_name = "URI")]
    mongodb_uri: Option<String>,
    /// Database name (with --mongodb-uri).
    #[cfg(feature = "mongodb")]
    #[arg(
        long,
        value_name = "NAME",
        default_value = "recsys",
        requires = "mongodb_uri"
    )]
    db: String,
    /// Seconds to wait for a MongoDB server before giving up (with --mongodb-uri).
    #[cfg(feature = "mongodb")]
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10.0,
        requires = "mongodb_uri"
    )]
    server_timeout: f64,
    /// Force the format of every file (detected from the content otherwise).
    #[arg(long)]
    #[cfg_attr(feature = "mongodb", arg(conflicts_with = "mongodb_uri"))]
    format: Option<Format>,
    /// Output directory for index.html and stats.json (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Most reviews in the uniform sample Spearman's rho is computed on.
    #[arg(long, value_name = "N", default_value_t = recsys::eda::StatsOptions::default().sample_size)]
    sample_size: usize,
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn run_eda(args: EdaArgs) -> anyhow::Result<()> {
    use recsys::eda::{analyze_files, write_report, EdaOptions, StatsOptions};

    let options = EdaOptions {
        format: args.format,
        progress: !args.quiet,
        stats: StatsOptions {
            sample_size: args.sample_size,
            ..StatsOptions::default()
        },
    };
    #[cfg(feature = "mongodb")]
    let report = match args.mongodb_uri {
        Some(uri) => {
            let mut config = recsys::store::MongoConfig::new(uri, args.db);
            config.server_selection_timeout =
                std::time::Duration::try_from_secs_f64(args.server_timeout)
                    .context("--server-timeout must be a number of seconds")?;
            recsys::eda::analyze_mongodb(&config, &options)?
        }
        None => analyze_files(&args.data, &options)?,
    };
    #[cfg(not(feature = "mongodb"))]
    let report = analyze_files(&args.data, &options)?;
    let written = write_report(&report, &args.out)?;
    let mut text = String::new();
    for (section, finding) in report.findings() {
        text += &format!("{section}: {finding}\n");
    }
    text += &format!(
        "wrote {} and {}\n",
        written.html.display(),
        written.json.display()
    );
    print_out(&text)
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Plugins { plugin_dir, json } => plugins(&settings, plugin_dir, json),
        Command::Evaluate(args) => run_evaluate(&settings, *args),
        Command::Plugin {
            action: PluginAction::Check { path, params },
        } => plugin_check(&path, &params),
        #[cfg(feature = "mongodb")]
        Command::Ingest(args) => run_ingest(args),
        #[cfg(feature = "mongodb")]
        Command::Prepare(args) => run_prepare(args),
        Command::Eda(args) => run_eda(args),
        #[cfg(feature = "server")]
        Command::Serve(args) => run_serve(settings, args, recsys::serve::Role::All, false),
        #[cfg(feature = "server")]
        Command::Demo(args) => run_serve(settings, args, recsys::serve::Role::All, true),
        #[cfg(feature = "server")]
        Command::Worker(args) => run_serve(settings, args, recsys::serve::Role::Worker, false),
        Command::Synth {
            users,
            items,
            interactions,
            seed,
            out,
            gz,
        } => {
            let options = SynthOptions {
                users,
                items,
                interactions,
                seed,
                gzip: gz,
            };
            let written = recsys::synth::generate(&options, &out)?;
            print_out(&format!(
                "wrote {} reviews to {} and {} products to {}\n",
                written.interactions,
                written.reviews.display(),
                items,
                written.metadata.display()
            ))
        }
    }
}

/// Standard output was closed before everything was printed (`recsys eda ... | head -1`): the
/// reader has what it wanted, so the command ends quietly.
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
struct StdoutClosed;

/// Prints a command's results on stdout. Unlike `print!`, which panics when stdout is a closed
/// pipe, it returns [`StdoutClosed`], which `main` turns into a quiet exit.
fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is::<StdoutClosed>() => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `outer: inner`, leaving out a cause whose text the message
/// already holds (the library's errors name their source in their own text).
fn message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_each_cause_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let error = anyhow::Error::from(recsys::Error::io("reading x.json", io()));
        assert_eq!(message(&error), "reading x.json: No such file");
        let error = anyhow::Error::from(io()).context("cannot write r.json");
        assert_eq!(message(&error), "cannot write r.json: No such file");
    }
}
