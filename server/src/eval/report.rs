use std::fmt::Write;

use recsys_plugin_api::Params;
use serde::{Deserialize, Serialize};

use super::{EnsembleSpec, Metrics, Tuning};

/// One plugin's evaluation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginResult {
    /// Plugin name.
    pub plugin: String,
    /// Plugin version.
    pub version: String,
    /// Training parameters used (only those set; the rest are the plugin's defaults).
    pub params: Params,
    /// Wall-clock training time.
    pub fit_seconds: f64,
    /// Wall-clock time to rank the catalogue for every test user.
    pub eval_seconds: f64,
    /// The metrics, when training and every recommendation succeeded.
    pub metrics: Option<Metrics>,
    /// Why there are no metrics.
    pub error: Option<String>,
}

/// One result's NDCG@k against another's on the same test users: the mean of the per-user
/// differences and its standard error. A difference within about two standard errors is one
/// that another draw of users could reverse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The result compared.
    pub plugin: String,
    /// The result it is compared with (the best NDCG of the run, or the `--baseline`).
    pub against: String,
    /// Mean of `ndcg(plugin) - ndcg(against)` over the test users.
    pub difference: f64,
    /// Standard error of that mean; NaN (`null` in JSON) with one test user, where it does
    /// not exist.
    #[serde(with = "super::metrics::nan_as_null")]
    pub standard_error: f64,
}

/// What reading the data files met, as the `--json` report keeps it: nothing the readers
/// skipped goes unrecorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadSummary {
    /// One entry per file, in the order given.
    pub files: Vec<FileSummary>,
    /// Malformed lines in all the files.
    pub malformed: u64,
    /// The malformed lines with their reasons, in reading order (the first
    /// [`MAX_KEPT_PROBLEMS`](crate::dataset::MAX_KEPT_PROBLEMS)).
    pub problems: Vec<ProblemSummary>,
    /// Interactions dropped because a later one had the same (user, item).
    pub duplicates_collapsed: u64,
}

/// One data file's counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    /// The file, as given.
    pub path: String,
    /// Its format (given or detected).
    pub format: String,
    /// Lines read.
    pub lines: u64,
    /// Records read.
    pub records: u64,
    /// Lines that could not be used.
    pub malformed: u64,
    /// Records accepted after a documented repair.
    pub repaired: u64,
}

/// One malformed line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemSummary {
    /// The file it is in.
    pub file: String,
    /// Its 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

impl From<&crate::dataset::ReadReport> for ReadSummary {
    fn from(report: &crate::dataset::ReadReport) -> Self {
        ReadSummary {
            files: report
                .files
                .iter()
                .map(|f| FileSummary {
                    path: f.path.display().to_string(),
                    format: f.format.to_string(),
                    lines: f.lines,
                    records: f.records,
                    malformed: f.malformed,
                    repaired: f.repaired,
                })
                .collect(),
            malformed: report.problem_count(),
            problems: report
                .problems
                .iter()
                .map(|p| ProblemSummary {
                    file: p.file.display().to_string(),
                    line: p.line,
                    reason: p.reason.clone(),
                })
                .collect(),
            duplicates_collapsed: report.duplicates_collapsed,
        }
    }
}

/// A whole evaluation run, as printed and as written with `--json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalReport {
    /// Dataset name (file names).
    pub dataset: String,
    /// Hold-out protocol.
    pub protocol: String,
    /// List length.
    pub k: usize,
    /// Users with test items.
    pub users_evaluated: usize,
    /// Users in the dataset.
    pub n_users: usize,
    /// Items in the catalogue.
    pub n_items: usize,
    /// Training interactions.
    pub train_interactions: usize,
    /// One entry per plugin, in the order evaluated (then the ensemble, if tuned).
    pub results: Vec<PluginResult>,
    /// What `--tune` tried and chose, per plugin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tuning: Vec<Tuning>,
    /// Every other result's NDCG against the best one's, paired user by user on the test items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comparisons: Vec<Comparison>,
    /// The tuned ensemble, with `--ensemble`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<EnsembleSpec>,
    /// What reading the data met (absent in reports written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<ReadSummary>,
}

impl EvalReport {
    /// A fixed-width table for terminals.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} | {} | k = {} | {} users x {} items | {} training interactions | {} test users",
            self.dataset,
            self.protocol,
            self.k,
            self.n_users,
            self.n_items,
            self.train_interactions,
            self.users_evaluated
        );
        let k = self.k;
        for tuning in &self.tuning {
            let _ = writeln!(out, "{}", tuning.summary(k));
        }
        // The label column fits the longest label (`cf:implicit-cosine`).
        let width = self
            .results
            .iter()
            .map(|r| r.plugin.chars().count())
            .fold(14, usize::max);
        let _ = writeln!(
            out,
            "{:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8}",
            "plugin",
            "fit_s",
            "eval_s",
            format!("P@{k}"),
            format!("R@{k}"),
            format!("F1@{k}"),
            format!("NDCG@{k}"),
            "±se",
            format!("MAP@{k}"),
            format!("MRR@{k}"),
            format!("HR@{k}"),
            "coverage"
        );
        for r in &self.results {
            match (&r.metrics, &r.error) {
                (Some(m), _) => {
                    let _ = writeln!(
                        out,
                        "{:<width$} {:>8.3} {:>8.3} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>7} {:>8.4} {:>8.4} {:>8.4} {:>8.4}",
                        r.plugin,
                        r.fit_seconds,
                        r.eval_seconds,
                        m.precision,
                        m.recall,
                        m.f1,
                        m.ndcg,
                        super::metrics::fmt_se(m.ndcg_se),
                        m.map,
                        m.mrr,
                        m.hit_rate,
                        m.coverage
                    );
                }
                (None, error) => {
                    let why = error.as_deref().unwrap_or("no result");
                    let _ = writeln!(out, "{:<width$} FAILED: {why}", r.plugin);
                }
            }
        }
        if let Some(best) = self.comparisons.first().map(|c| &c.against) {
            let _ = writeln!(
                out,
                "NDCG@{k} minus {best}'s, paired per test user (mean ± standard error):"
            );
            let w = width;
            for c in &self.comparisons {
                let note = if c.standard_error.is_nan() {
                    "  (one test user: no standard error)"
                } else if c.difference.abs() <= 2.0 * c.standard_error {
                    "  (within two standard errors)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {:<w$} {:+.4} ± {}{note}",
                    c.plugin,
                    c.difference,
                    super::metrics::fmt_se(c.standard_error),
                );
            }
        }
        out
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report always serializes")
    }
}
