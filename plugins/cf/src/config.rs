//! Training parameters: their specs, defaults, parsing and validation.

use recsys_plugin_api::{ParamSpec, Params, PluginError};

use crate::{Similarity, Weighting};

/// Which side the neighbourhoods are built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Item-kNN: items similar to the history items (parameter value `item`, the default).
    Item,
    /// User-kNN: the items of the users most similar to the history (parameter value `user`).
    User,
}

impl Mode {
    /// The parameter value naming this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Item => "item",
            Mode::User => "user",
        }
    }
}

/// The validated training parameters of the cf plugin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Item- or user-kNN (`mode`).
    pub mode: Mode,
    /// Neighbours kept per item (item mode) or used per query (user mode) (`neighbours`).
    pub neighbours: usize,
    /// Cosine shrinkage: `dot / (|a| |b| + shrinkage)` (`shrinkage`); unused by the `dot` and
    /// `rp3beta` similarities.
    pub shrinkage: f32,
    /// Interaction weighting before similarity (`weighting`, `bm25_k1`, `bm25_b`).
    pub weighting: Weighting,
    /// Treat every stored interaction value and query weight as 1 (`binary`).
    pub binary: bool,
    /// Weight `recency_decay^s` of a history item `s` steps before the newest.
    pub recency_decay: f32,
    /// Cosine (with `shrinkage`) or dot product of the weighted vectors, or RP3beta (item
    /// mode only) on them (`similarity`, `rp3_alpha`, `rp3_beta`).
    pub similarity: Similarity,
    /// Weight of the ordered co-occurrence ("taken after") added to the neighbour scores;
    /// 0 turns it off (`sequence_weight`).
    pub sequence_weight: f32,
    /// How many steps after an item count as following it (`sequence_window`).
    pub sequence_window: usize,
    /// Shrinkage of the ordered co-occurrence's normalisation (`sequence_shrinkage`).
    pub sequence_shrinkage: f32,
}

/// Defaults, shared by [`Config::default`] and the parameter specs.
const MODE: &str = "item";
const NEIGHBOURS: usize = 100;
const SHRINKAGE: f64 = 50.0;
const WEIGHTING: &str = "none";
const BM25_K1: f64 = 1.2;
const BM25_B: f64 = 0.75;
const BINARY: bool = true;
const RECENCY_DECAY: f64 = 0.5;
const SIMILARITY: &str = "cosine";
/// RP3beta's defaults, like `SHRINKAGE` and `RECENCY_DECAY`, are the best point on a
/// validation split of Beauty (each user's second-to-last item held out of the training part;
/// alpha 0.5, 0.75, 1, 1.5 x beta 0, 0.1, 0.25, 0.5, 0.75), never on test items.
const RP3_ALPHA: f64 = 0.5;
const RP3_BETA: f64 = 0.1;
/// The ordered co-occurrence's defaults: the best point on the validation folds `--tune` carves
/// from Beauty's training part (the other defaults fixed; weight 0.5 to 50 x shrinkage 20 to
/// 200 at window 5, then the window), never on test items.
const SEQUENCE_WEIGHT: f64 = 10.0;
const SEQUENCE_WINDOW: usize = 5;
const SEQUENCE_SHRINKAGE: f64 = 100.0;

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Item,
            neighbours: NEIGHBOURS,
            shrinkage: SHRINKAGE as f32,
            weighting: Weighting::None,
            binary: BINARY,
            recency_decay: RECENCY_DECAY as f32,
            similarity: Similarity::Cosine,
            sequence_weight: SEQUENCE_WEIGHT as f32,
            sequence_window: SEQUENCE_WINDOW,
            sequence_shrinkage: SEQUENCE_SHRINKAGE as f32,
        }
    }
}

impl Config {
    /// The parameter specs, with defaults and descriptions, as listed in the plugin info.
    pub fn specs() -> Vec<ParamSpec> {
        vec![
            ParamSpec::string(
                "mode",
                MODE,
                "`item` for item-kNN (scores are summed similarities of the history items' \
                 neighbours) or `user` for user-kNN (sums the interactions of the users most \
                 similar to the history)",
            )
            .search(["item", "user"]),
            ParamSpec::int(
                "neighbours",
                NEIGHBOURS as i64,
                "neighbours kept per item (item mode) or similar users used per query (user \
                 mode); at least 1",
            )
            .search([20, 50, 100, 200]),
            ParamSpec::string(
                "weighting",
                WEIGHTING,
                "interaction weighting before similarity: `none`, `tfidf` or `bm25` (as in \
                 implicit's nearest_neighbours)",
            )
            .search(["none", "tfidf", "bm25"]),
            ParamSpec::float(
                "bm25_k1",
                BM25_K1,
                "BM25 term-frequency saturation (weighting = bm25); at least 0",
            )
            .search([1.2, 100.0])
            .applies_when("weighting", ["bm25"]),
            ParamSpec::float(
                "bm25_b",
                BM25_B,
                "BM25 length normalisation, from 0 (none) to 1 (full) (weighting = bm25)",
            )
            .applies_when("weighting", ["bm25"]),
            ParamSpec::bool(
                "binary",
                BINARY,
                "treat every interaction value (e.g. a 1..5 rating) and query weight as 1; \
                 false uses the values as strengths",
            ),
            ParamSpec::float(
                "recency_decay",
                RECENCY_DECAY,
                "weight of a history item s steps before the newest: recency_decay^s, in (0, 1]; \
                 1 weighs the whole history equally",
            )
            .search([1.0, 0.8, 0.5, 0.25]),
            ParamSpec::string(
                "similarity",
                SIMILARITY,
                "`cosine` (dot / (|a| |b| + shrinkage)), `dot` (the raw dot product of the \
                 weighted vectors, as implicit's BM25Recommender ranks) or `rp3beta` (item \
                 mode only: W[i, j] = sum over users u of P(u|i)^rp3_alpha P(j|u)^rp3_alpha, \
                 divided by pop(j)^rp3_beta, the number of users of j; Paudel et al. 2017)",
            )
            .search(["cosine", "dot", "rp3beta"]),
            ParamSpec::float(
                "shrinkage",
                SHRINKAGE,
                "cosine shrinkage, similarity = dot / (|a| |b| + shrinkage); damps \
                 similarities resting on few co-occurrences (unused by the `dot` and `rp3beta` \
                 similarities); at least 0",
            )
            .search([0.0, 10.0, 50.0, 200.0])
            .applies_when("similarity", ["cosine"]),
            ParamSpec::float(
                "rp3_alpha",
                RP3_ALPHA,
                "RP3beta exponent of the transition probabilities P(u|i) and P(j|u) \
                 (similarity = rp3beta); greater than 0",
            )
            .search([0.25, 0.5, 1.0])
            .applies_when("similarity", ["rp3beta"]),
            ParamSpec::float(
                "rp3_beta",
                RP3_BETA,
                "RP3beta popularity penalty: W[i, j] is divided by pop(j)^rp3_beta \
                 (similarity = rp3beta); 0 gives P3alpha; at least 0",
            )
            .search([0.0, 0.1, 0.25, 0.5])
            .applies_when("similarity", ["rp3beta"]),
            ParamSpec::float(
                "sequence_weight",
                SEQUENCE_WEIGHT,
                "weight of what users took next, added to the neighbour scores: score(j) += \
                 sequence_weight * sum over history items h of w_h T[h, j], where T[h, j] counts \
                 the users who took j within `sequence_window` steps after h (from the training \
                 timestamps; normalised like a cosine, with `sequence_shrinkage`); 0 turns it \
                 off, and so does training data without timestamps; at least 0",
            )
            .search([0.0, 1.0, 3.0, 10.0, 30.0]),
            ParamSpec::int(
                "sequence_window",
                SEQUENCE_WINDOW as i64,
                "how many steps after an item count as taking another after it (a step is a \
                 distinct timestamp; d steps weigh 1/d, and items with the same timestamp \
                 count half in each direction); from 1 to 100",
            )
            .search([1, 3, 5, 10]),
            ParamSpec::float(
                "sequence_shrinkage",
                SEQUENCE_SHRINKAGE,
                "shrinkage of the ordered co-occurrence: T[h, j] = count / (sqrt(out(h) in(j)) \
                 + sequence_shrinkage), damping pairs that rest on a few users; at least 0",
            )
            .search([10.0, 50.0, 100.0, 200.0]),
        ]
    }

    /// The presets (name, description, values): RP3beta, and the models of `implicit`'s
    /// `nearest_neighbours` module with its default hyperparameters, so that `--tune` can start
    /// from them and `recsys evaluate --plugins cf:implicit-bm25` compares against them.
    pub fn presets() -> Vec<(&'static str, &'static str, Params)> {
        let plain = || {
            Params::new()
                .with("mode", "item".into())
                .with("neighbours", 100.into())
                .with("shrinkage", 0.0.into())
                .with("recency_decay", 1.0.into())
                .with("sequence_weight", 0.0.into())
        };
        vec![
            (
                "rp3beta",
                "item-kNN by RP3beta (the defaults of rp3_alpha and rp3_beta), the rest of the \
                 defaults",
                Params::new()
                    .with("mode", "item".into())
                    .with("similarity", "rp3beta".into()),
            ),
            (
                "implicit-cosine",
                "item-kNN by plain cosine, 100 neighbours, whole history weighed equally \
                 (implicit's CosineRecommender)",
                plain()
                    .with("weighting", "none".into())
                    .with("similarity", "cosine".into()),
            ),
            (
                "implicit-bm25",
                "item-kNN on BM25 weights (K1 1.2, B 0.75) ranked by dot product, 100 \
                 neighbours, whole history weighed equally (implicit's BM25Recommender)",
                plain()
                    .with("weighting", "bm25".into())
                    .with("bm25_k1", 1.2.into())
                    .with("bm25_b", 0.75.into())
                    .with("similarity", "dot".into()),
            ),
        ]
    }

    /// Reads and validates the parameters; absent ones take their defaults.
    pub fn from_params(params: &Params) -> Result<Self, PluginError> {
        let mode = match params.str_or("mode", MODE)? {
            "item" => Mode::Item,
            "user" => Mode::User,
            other => {
                return Err(PluginError::invalid_params(format!(
                    "parameter `mode` must be \"item\" or \"user\", got {other:?}"
                )))
            }
        };
        let k1 = params.f64_or("bm25_k1", BM25_K1)? as f32;
        let b = params.f64_or("bm25_b", BM25_B)? as f32;
        let name = params.str_or("weighting", WEIGHTING)?;
        let weighting = Weighting::parse(name, k1, b).ok_or_else(|| {
            PluginError::invalid_params(format!(
                "parameter `weighting` must be \"none\", \"tfidf\" or \"bm25\", got {name:?}"
            ))
        })?;
        let alpha = params.f64_or("rp3_alpha", RP3_ALPHA)? as f32;
        let beta = params.f64_or("rp3_beta", RP3_BETA)? as f32;
        let name = params.str_or("similarity", SIMILARITY)?;
        let similarity = Similarity::parse(name, alpha, beta).ok_or_else(|| {
            PluginError::invalid_params(format!(
                "parameter `similarity` must be \"cosine\" or \"dot\" (or \"rp3beta\" in item \
                 mode), got {name:?}"
            ))
        })?;
        let config = Config {
            mode,
            similarity,
            neighbours: params.usize_or("neighbours", NEIGHBOURS)?,
            shrinkage: params.f64_or("shrinkage", SHRINKAGE)? as f32,
            weighting,
            binary: params.bool_or("binary", BINARY)?,
            recency_decay: params.f64_or("recency_decay", RECENCY_DECAY)? as f32,
            sequence_weight: params.f64_or("sequence_weight", SEQUENCE_WEIGHT)? as f32,
            sequence_window: params.usize_or("sequence_window", SEQUENCE_WINDOW)?,
            sequence_shrinkage: params.f64_or("sequence_shrinkage", SEQUENCE_SHRINKAGE)? as f32,
        };
        // BM25 and RP3beta parameters are checked even when another weighting or similarity is
        // chosen: a bad value in a configuration is a mistake either way.
        check_bm25(k1, b)?;
        check_rp3(alpha, beta)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the ranges (also used on loaded models).
    pub fn validate(&self) -> Result<(), PluginError> {
        if self.neighbours == 0 {
            return Err(PluginError::invalid_params(
                "parameter `neighbours` must be at least 1, got 0",
            ));
        }
        if !(self.shrinkage.is_finite() && self.shrinkage >= 0.0) {
            return Err(PluginError::invalid_params(format!(
                "parameter `shrinkage` must be a finite number >= 0, got {}",
                self.shrinkage
            )));
        }
        if let Weighting::Bm25 { k1, b } = self.weighting {
            check_bm25(k1, b)?;
        }
        if let Similarity::Rp3Beta { alpha, beta } = self.similarity {
            check_rp3(alpha, beta)?;
            if self.mode == Mode::User {
                return Err(PluginError::invalid_params(
                    "parameter `similarity` = \"rp3beta\" needs `mode` = \"item\": RP3beta is \
                     an item-item similarity, while user mode compares users",
                ));
            }
        }
        if !(self.recency_decay > 0.0 && self.recency_decay <= 1.0) {
            return Err(PluginError::invalid_params(format!(
                "parameter `recency_decay` must be in (0, 1], got {}",
                self.recency_decay
            )));
        }
        if !(self.sequence_weight.is_finite() && self.sequence_weight >= 0.0) {
            return Err(PluginError::invalid_params(format!(
                "parameter `sequence_weight` must be a finite number >= 0, got {}",
                self.sequence_weight
            )));
        }
        if !(self.sequence_shrinkage.is_finite() && self.sequence_shrinkage >= 0.0) {
            return Err(PluginError::invalid_params(format!(
                "parameter `sequence_shrinkage` must be a finite number >= 0, got {}",
                self.sequence_shrinkage
            )));
        }
        if !(1..=MAX_SEQUENCE_WINDOW).contains(&self.sequence_window) {
            return Err(PluginError::invalid_params(format!(
                "parameter `sequence_window` must be from 1 to {MAX_SEQUENCE_WINDOW}, got {}",
                self.sequence_window
            )));
        }
        Ok(())
    }
}

/// Pairs further apart than this many steps are not counted anyway
/// ([`MAX_FOLLOWERS`](crate::sequence::MAX_FOLLOWERS) later entries at most).
const MAX_SEQUENCE_WINDOW: usize = crate::sequence::MAX_FOLLOWERS;

fn check_bm25(k1: f32, b: f32) -> Result<(), PluginError> {
    if !(k1.is_finite() && k1 >= 0.0) {
        return Err(PluginError::invalid_params(format!(
            "parameter `bm25_k1` must be a finite number >= 0, got {k1}"
        )));
    }
    if !(0.0..=1.0).contains(&b) {
        return Err(PluginError::invalid_params(format!(
            "parameter `bm25_b` must be between 0 and 1, got {b}"
        )));
    }
    Ok(())
}

fn check_rp3(alpha: f32, beta: f32) -> Result<(), PluginError> {
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(PluginError::invalid_params(format!(
            "parameter `rp3_alpha` must be a finite number > 0, got {alpha}"
        )));
    }
    if !(beta.is_finite() && beta >= 0.0) {
        return Err(PluginError::invalid_params(format!(
            "parameter `rp3_beta` must be a finite number >= 0, got {beta}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::ErrorKind;

    fn parse(json: &str) -> Result<Config, PluginError> {
        Config::from_params(&Params::from_json(json).unwrap())
    }

    /// Each parameter set is refused as invalid with a message holding its needle.
    fn assert_refused(cases: &[(&str, &str)]) {
        for (json, needle) in cases {
            let err = parse(json).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidParams, "{json}");
            assert!(err.message.contains(needle), "{json}: {}", err.message);
        }
    }

    #[test]
    fn defaults_match_the_specs() {
        assert_eq!(parse("{}").unwrap(), Config::default());
        let specs = Config::specs();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "mode",
                "neighbours",
                "weighting",
                "bm25_k1",
                "bm25_b",
                "binary",
                "recency_decay",
                "similarity",
                "shrinkage",
                "rp3_alpha",
                "rp3_beta",
                "sequence_weight",
                "sequence_window",
                "sequence_shrinkage"
            ]
        );
        // What matters only for one weighting or similarity says so (the tuner skips it
        // otherwise).
        let info = specs
            .iter()
            .cloned()
            .fold(recsys_plugin_api::PluginInfo::new("cf", "0"), |i, s| {
                i.param(s)
            });
        let defaults = Params::new();
        for (name, applies) in [
            ("shrinkage", true),
            ("bm25_k1", false),
            ("bm25_b", false),
            ("rp3_alpha", false),
            ("rp3_beta", false),
            ("neighbours", true),
        ] {
            assert_eq!(info.applies(name, &defaults), applies, "{name}");
        }
        let rp3 = Params::new().with("similarity", "rp3beta".into());
        assert!(info.applies("rp3_beta", &rp3) && !info.applies("shrinkage", &rp3));
        assert!(specs.iter().all(|s| !s.description.is_empty()));
        // Every spec's default parses back to the default config.
        let mut params = Params::new();
        for s in &specs {
            params.set(&s.name, s.default.clone());
        }
        assert_eq!(Config::from_params(&params).unwrap(), Config::default());
    }

    #[test]
    fn reads_every_parameter() {
        let c = parse(
            r#"{"mode": "user", "neighbours": 7, "shrinkage": 2, "weighting": "bm25",
                "bm25_k1": 0.9, "bm25_b": 0.4, "binary": false}"#,
        )
        .unwrap();
        assert_eq!(c.mode, Mode::User);
        assert_eq!(c.neighbours, 7);
        assert_eq!(c.shrinkage, 2.0);
        assert_eq!(c.weighting, Weighting::Bm25 { k1: 0.9, b: 0.4 });
        assert!(!c.binary);
    }

    #[test]
    fn rejects_bad_values_with_clear_messages() {
        assert_refused(&[
            (r#"{"neighbours": 0}"#, "`neighbours` must be at least 1"),
            (
                r#"{"neighbours": -3}"#,
                "`neighbours` must be a non-negative integer",
            ),
            (
                r#"{"shrinkage": -1.0}"#,
                "`shrinkage` must be a finite number >= 0",
            ),
            (
                r#"{"mode": "items"}"#,
                "`mode` must be \"item\" or \"user\"",
            ),
            (
                r#"{"weighting": "idf"}"#,
                "`weighting` must be \"none\", \"tfidf\" or \"bm25\"",
            ),
            (r#"{"bm25_b": 1.5}"#, "`bm25_b` must be between 0 and 1"),
            (
                r#"{"bm25_k1": -0.1}"#,
                "`bm25_k1` must be a finite number >= 0",
            ),
            (r#"{"binary": 1}"#, "`binary` must be true or false"),
            (
                r#"{"similarity": "jaccard"}"#,
                "`similarity` must be \"cosine\" or \"dot\"",
            ),
            (
                r#"{"sequence_weight": -0.5}"#,
                "`sequence_weight` must be a finite number >= 0",
            ),
            (
                r#"{"sequence_shrinkage": -1}"#,
                "`sequence_shrinkage` must be a finite number >= 0",
            ),
            (
                r#"{"sequence_window": 0}"#,
                "`sequence_window` must be from 1 to 100",
            ),
            (
                r#"{"sequence_window": 101}"#,
                "`sequence_window` must be from 1 to 100",
            ),
        ]);
    }

    #[test]
    fn reads_rp3beta_and_its_parameters() {
        let c = parse(r#"{"similarity": "rp3beta", "rp3_alpha": 1.5, "rp3_beta": 0.25}"#).unwrap();
        assert_eq!(
            c.similarity,
            Similarity::Rp3Beta {
                alpha: 1.5,
                beta: 0.25
            }
        );
        assert_eq!(c.similarity.as_str(), "rp3beta");
        let defaults = parse(r#"{"similarity": "rp3beta"}"#).unwrap();
        assert_eq!(
            defaults.similarity,
            Similarity::Rp3Beta {
                alpha: 0.5,
                beta: 0.1
            }
        );
        // Beta 0 is P3alpha; the other parameters keep their defaults.
        let p3 = parse(r#"{"similarity": "rp3beta", "rp3_beta": 0}"#).unwrap();
        assert_eq!(
            p3,
            Config {
                similarity: Similarity::Rp3Beta {
                    alpha: 0.5,
                    beta: 0.0
                },
                ..Config::default()
            }
        );
        // The tuner may pick every combination of the declared search values in item mode.
        let specs = Config::specs();
        let search = |name: &str| {
            specs
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.search.clone())
                .unwrap()
        };
        assert!(search("similarity").contains(&"rp3beta".into()));
        assert_eq!(search("rp3_alpha"), [0.25.into(), 0.5.into(), 1.0.into()]);
        assert_eq!(
            search("rp3_beta"),
            [0.0.into(), 0.1.into(), 0.25.into(), 0.5.into()]
        );
        for alpha in search("rp3_alpha") {
            for beta in search("rp3_beta") {
                let params = Params::new()
                    .with("similarity", "rp3beta".into())
                    .with("rp3_alpha", alpha.clone())
                    .with("rp3_beta", beta);
                assert!(Config::from_params(&params).is_ok(), "{params:?}");
            }
        }
    }

    #[test]
    fn rejects_bad_rp3beta_settings_with_clear_messages() {
        assert_refused(&[
            (
                r#"{"similarity": "rp3beta", "rp3_alpha": 0}"#,
                "`rp3_alpha` must be a finite number > 0, got 0",
            ),
            (
                r#"{"similarity": "rp3beta", "rp3_alpha": -1.0}"#,
                "`rp3_alpha` must be a finite number > 0, got -1",
            ),
            (
                r#"{"similarity": "rp3beta", "rp3_beta": -0.5}"#,
                "`rp3_beta` must be a finite number >= 0, got -0.5",
            ),
            // Checked whatever the similarity, like the BM25 parameters.
            (
                r#"{"rp3_alpha": -2}"#,
                "`rp3_alpha` must be a finite number > 0",
            ),
            (
                r#"{"rp3_beta": "high"}"#,
                "`rp3_beta` must be a finite number",
            ),
            (
                r#"{"similarity": "rp3"}"#,
                "`similarity` must be \"cosine\" or \"dot\" (or \"rp3beta\" in item mode)",
            ),
            (
                r#"{"mode": "user", "similarity": "rp3beta"}"#,
                "parameter `similarity` = \"rp3beta\" needs `mode` = \"item\"",
            ),
        ]);
        // Loaded models are validated the same way.
        let user_rp3 = Config {
            mode: Mode::User,
            similarity: Similarity::Rp3Beta {
                alpha: 1.0,
                beta: 0.5,
            },
            ..Config::default()
        };
        assert!(user_rp3.validate().is_err());
        let nan_alpha = Config {
            similarity: Similarity::Rp3Beta {
                alpha: f32::NAN,
                beta: 0.5,
            },
            ..Config::default()
        };
        assert!(nan_alpha.validate().is_err());
    }
}
