//! # recsys
//!
//! A plugin-based, embeddable recommendation server. This library holds everything the
//! `recsys` binary does, so that other programs can embed it:
//!
//! * [`dataset`]: streaming readers for the Amazon review, rating and metadata formats, with
//!   every malformed line counted and kept with its reason;
//! * [`plugins`]: the plugin host, loading recommenders built against `recsys-plugin-api`;
//! * [`engine`]: the embeddable engine: plugins trained on a catalogue and fused, answering
//!   recommend / similar / search / explain for ASINs, with fold-in of new histories;
//! * [`eval`]: hold-out protocols, ranking metrics and the evaluation runner;
//! * [`config`]: layered settings (embedded defaults, a file, `RECSYS__SECTION__KEY`);
//! * [`eda`]: the exploratory report (statistics, correlations, charts) from files or MongoDB;
//! * [`synth`]: Amazon-format datasets of any size with learnable structure;
//! * `store`, `ingest` and `prepare` (cargo feature `mongodb`, on by default): MongoDB as the
//!   system of record, `recsys ingest` loading the Amazon files into it with nothing lost, and
//!   `recsys prepare` turning it into a training set and a versioned snapshot;
//! * `live`, `web` and `serve` (cargo feature `server`, on by default; Kafka with feature
//!   `kafka`): the preference store and event bus with their embedded and production backends,
//!   the worker, the REST API and web pages, and `recsys serve` / `demo` / `worker`.
#![warn(missing_docs)]

pub mod config;
pub mod dataset;
pub mod eda;
pub mod engine;
mod error;
pub mod eval;
#[cfg(feature = "mongodb")]
pub mod ingest;
#[cfg(feature = "server")]
pub mod live;
pub mod plugins;
#[cfg(feature = "mongodb")]
pub mod prepare;
#[cfg(feature = "server")]
pub mod serve;
#[cfg(feature = "mongodb")]
pub mod store;
pub mod synth;
#[cfg(feature = "server")]
pub mod web;

pub use error::{Error, Result};
