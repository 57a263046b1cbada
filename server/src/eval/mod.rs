//! Offline evaluation: hold out test items, train every plugin on the rest, rank the full
//! catalogue for each test user (training items excluded) and score the top k.

mod ensemble;
mod metrics;
mod protocol;
mod report;
mod runner;
mod trainset;
mod tune;

pub use ensemble::{EnsembleMember, EnsembleSpec, Fusion, FusionInput};
pub use metrics::{Metrics, MetricsAccumulator};
pub use protocol::{without_latest, Protocol, Split};
pub use report::{Comparison, EvalReport, FileSummary, PluginResult, ProblemSummary, ReadSummary};
pub use runner::{
    evaluate, evaluate_plugin, EnsembleOptions, EvalOptions, TuneOptions, ValidationOptions,
};
pub use trainset::TrainSet;
pub use tune::{SearchOverrides, Trial, Tuning};
