//! # Embedding recsys
//!
//! The recsys engine used as a library by a program of its own: no HTTP server, Kafka or
//! MongoDB (`recsys` with `default-features = false`), and the three bundled plugins linked
//! into the binary instead of loaded from a directory.
//!
//! The plugin crates are plain dependencies with `default-features = false`, which leaves out
//! their `recsys_plugin_entry` symbol (three of them could not be linked into one binary);
//! each still defines `plugin_declaration()`, which [`LoadedPlugin::from_static`] checks exactly
//! as the loader checks a library's. From there on, both kinds of plugin are the same to the
//! engine, which `tests/static_and_dynamic.rs` proves by comparing their recommendations.
//!
//! `src/main.rs` is the program; the steps it takes are here so that the test takes the same.

use std::path::Path;

use anyhow::Context;
use recsys::dataset::Dataset;
use recsys::engine::{Engine, Interest};
use recsys::plugins::LoadedPlugin;
use recsys::synth::{generate, SynthOptions};
use recsys_plugin_api::{ParamValue, Params};

/// The catalogue: small enough to train in a few seconds, large enough to be interesting.
pub const SYNTH: SynthOptions = SynthOptions {
    users: 2_000,
    items: 500,
    interactions: 40_000,
    seed: 2026,
    gzip: false,
};

/// The plugins the engine uses, in order.
pub const PLUGINS: &str = "cf,mf,content";

/// Generates the catalogue (reviews and metadata in the Amazon format) into `dir` and reads it
/// back, as a program would read real files.
pub fn catalogue(dir: &Path) -> anyhow::Result<Dataset> {
    let written = generate(&SYNTH, dir).context("generating the catalogue")?;
    let dataset = Dataset::read(&[written.reviews, written.metadata], None)
        .context("reading the generated catalogue")?;
    Ok(dataset)
}

/// The bundled plugins, linked into this program.
pub fn static_plugins() -> anyhow::Result<Vec<LoadedPlugin>> {
    Ok(vec![
        LoadedPlugin::from_static(recsys_cf::plugin_declaration())?,
        LoadedPlugin::from_static(recsys_mf::plugin_declaration())?,
        LoadedPlugin::from_static(recsys_content::plugin_declaration())?,
    ])
}

/// Trains an engine of `plugins` on `dataset`: the three bundled plugins with equal weights,
/// matrix factorization with a fixed seed so that every run gives the same model.
pub fn engine(plugins: Vec<LoadedPlugin>, dataset: &Dataset) -> anyhow::Result<Engine> {
    let mut builder = Engine::builder();
    for plugin in plugins {
        builder = builder.register(plugin);
    }
    let engine = builder
        .plugins(PLUGINS)
        .params("mf", Params::new().with("seed", ParamValue::Int(7)))
        .train(dataset)
        .context("training the engine")?;
    Ok(engine)
}

/// A shopper's history: the first four items of the first user with at least six, as likes.
pub fn history(dataset: &Dataset) -> Vec<Interest> {
    let mut by_user: Vec<Vec<u32>> = vec![Vec::new(); dataset.users.len()];
    for interaction in &dataset.interactions {
        by_user[interaction.user as usize].push(interaction.item);
    }
    by_user
        .into_iter()
        .find(|items| items.len() >= 6)
        .unwrap_or_default()
        .into_iter()
        .take(4)
        .map(|item| Interest::like(dataset.items.id(item)))
        .collect()
}
