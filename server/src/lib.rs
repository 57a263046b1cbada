//! # recsys
//!
//! A plugin-based, embeddable recommendation server. This library holds everything the
//! `recsys` binary does, so that other programs can embed it:
//!
//! * [`dataset`]: streaming readers for the Amazon review, rating and metadata formats, with
//!   every malformed line counted and kept with its reason;
//! * [`plugins`]: the plugin host, loading recommenders built against `recsys-plugin-api`;
//! * [`eval`]: hold-out protocols, ranking metrics and the evaluation runner;
//! * [`config`]: layered settings (embedded defaults, a file, `RECSYS__SECTION__KEY`).
#![warn(missing_docs)]

pub mod config;
pub mod dataset;
mod error;
pub mod eval;
pub mod plugins;
pub mod synth;

pub use error::{Error, Result};
