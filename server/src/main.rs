//! The `recsys` command line: parses arguments and calls the library.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use recsys::config::Settings;
use recsys::dataset::{Dataset, Format};
use recsys::eval::{evaluate, EvalOptions, Protocol};
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
    Evaluate(EvaluateArgs),
    /// Generate an Amazon-format dataset (reviews + metadata JSON lines) of any size.
    Synth {
        /// Number of users.
        #[arg(long, default_value_t = 10_000)]
        users: usize,
        /// Number of items.
        #[arg(long, default_value_t = 2_000)]
        items: usize,
        /// Number of interactions (reviews).
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

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// Dataset file (Amazon reviews / ratings / metadata, plain or .gz); repeat for several.
    #[arg(long, required = true, value_name = "FILE")]
    data: Vec<PathBuf>,
    /// Force the format of every file: reviews, metadata, ratings-csv or kaggle-csv.
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
    println!("{:<12} {:<9} {:<5} {:<48} FILE", "NAME", "VERSION", "API", "CAPABILITIES");
    for p in registry.plugins() {
        let info = p.info();
        let caps: Vec<&str> = info.capabilities.iter().map(|c| c.as_str()).collect();
        let api = format!("{}.{}", info.api_major, info.api_minor);
        println!("{:<12} {:<9} {:<5} {:<48} {}", info.name, info.version, api, caps.join(","), p.origin());
        for param in &info.params {
            println!("    {} ({:?}, default {}): {}", param.name, param.kind, param.default, param.description);
        }
    }
    if registry.plugins().is_empty() {
        bail!("no plugins found; build them with `cargo build --release` or set plugins.dir");
    }
    Ok(())
}

fn run_evaluate(settings: &Settings, args: EvaluateArgs) -> anyhow::Result<()> {
    let registry = registry(settings, args.plugin_dir)?;
    let selected = registry.select(&args.plugins)?;
    let mut params = settings.plugins.params.clone();
    for spec in &args.params {
        let (plugin, name, value) =
            parse_param(spec).with_context(|| format!("bad --param `{spec}`"))?;
        params.entry(plugin).or_default().set(&name, value);
    }
    let e = &settings.evaluate;
    let protocol = Protocol::parse(
        args.protocol.as_deref().unwrap_or(&e.protocol),
        args.holdout_fraction.unwrap_or(e.holdout_fraction),
        args.seed.unwrap_or(e.seed),
    )?;
    let dataset = Dataset::read(&args.data, args.format)?;
    if !args.quiet {
        print_read_summary(&dataset);
    }
    if dataset.interactions.is_empty() {
        bail!("the data files hold no interactions (metadata alone cannot be evaluated)");
    }
    let options =
        EvalOptions { k: args.k.unwrap_or(e.k), protocol, params, progress: !args.quiet };
    let report = evaluate(&dataset, &selected, &options)?;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if report.results.iter().all(|r| r.metrics.is_none()) {
        bail!("every plugin failed");
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
        eprintln!("  ... {} malformed lines in all", r.problem_count());
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Plugins { plugin_dir, json } => plugins(&settings, plugin_dir, json),
        Command::Evaluate(args) => run_evaluate(&settings, args),
        Command::Synth { users, items, interactions, seed, out, gz } => {
            let options = SynthOptions { users, items, interactions, seed, gzip: gz };
            let written = recsys::synth::generate(&options, &out)?;
            println!(
                "wrote {} reviews to {} and {} products to {}",
                written.interactions,
                written.reviews.display(),
                items,
                written.metadata.display()
            );
            Ok(())
        }
    }
}
