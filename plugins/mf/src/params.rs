//! Training parameters: their declarations ([`ParamSpec`]s), defaults and validation.

use recsys_plugin_api::{ParamSpec, Params};

use crate::error::{MfError, Result};
use crate::foldin_bpr::{BprSchedule, FOLD_IN_EPOCHS, FOLD_IN_LEARNING_RATE};

/// Which factorization to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Implicit-feedback alternating least squares, solved with conjugate gradient.
    Als,
    /// Bayesian personalised ranking, trained with SGD.
    Bpr,
}

impl Algorithm {
    /// The parameter value naming this algorithm.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Als => "als",
            Algorithm::Bpr => "bpr",
        }
    }
}

/// Every parameter of the plugin, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct MfParams {
    /// `als` or `bpr`.
    pub algorithm: Algorithm,
    /// Number of latent factors.
    pub factors: usize,
    /// L2 regularisation (ALS ridge, BPR weight decay, and the fold-in ridge).
    pub regularization: f32,
    /// Confidence slope: `c = 1 + alpha * r`.
    pub alpha: f32,
    /// Treat every stored value as 1 (its sign kept) when computing confidences.
    pub binary: bool,
    /// ALS sweeps (users then items).
    pub iterations: usize,
    /// Conjugate-gradient steps per user or item and sweep.
    pub cg_steps: usize,
    /// BPR SGD step size of the first pass (it decays linearly to `learning_rate / epochs`).
    pub learning_rate: f32,
    /// BPR passes; one pass draws as many samples as there are positive interactions.
    pub epochs: usize,
    /// Share of BPR negatives drawn in proportion to item popularity (the rest uniformly).
    pub popular_negatives: f32,
    /// Random seed.
    pub seed: u64,
    /// Training threads; 0 uses rayon's global pool.
    pub threads: usize,
}

impl Default for MfParams {
    fn default() -> Self {
        MfParams {
            algorithm: Algorithm::Als,
            factors: 64,
            regularization: 0.05,
            alpha: 1.0,
            binary: true,
            iterations: 15,
            cg_steps: 3,
            learning_rate: 0.2,
            epochs: 100,
            popular_negatives: 0.35,
            seed: 42,
            threads: 0,
        }
    }
}

/// `recsys evaluate --tune` candidates of the BPR step size (the default among them).
const LEARNING_RATES: [f64; 3] = [0.05, 0.2, 0.4];
/// `recsys evaluate --tune` candidates of the popularity share of BPR negatives.
const POPULAR_NEGATIVES: [f64; 3] = [0.2, 0.35, 0.65];

/// Upper bound on `factors`: beyond it the k x k solves dominate and models get huge.
pub const MAX_FACTORS: usize = 1024;

/// Upper bound on `threads`.
pub const MAX_THREADS: usize = 1024;

/// The `f64` with the same shortest decimal form as `v` (`0.05`, not `0.05000000074505806`),
/// so that declared defaults read as written and match the search candidates.
fn decimal(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

fn invalid(name: &'static str, reason: String) -> MfError {
    MfError::InvalidParam { name, reason }
}

impl MfParams {
    /// The declarations reported in [`recsys_plugin_api::PluginInfo`], with the defaults above.
    pub fn specs() -> Vec<ParamSpec> {
        let d = MfParams::default();
        vec![
            ParamSpec::string(
                "algorithm",
                d.algorithm.as_str(),
                "`als` (implicit-feedback ALS with conjugate gradient) or `bpr` (Bayesian \
                 personalised ranking with SGD)",
            )
            .search(["als", "bpr"]),
            ParamSpec::int(
                "factors",
                d.factors as i64,
                "number of latent factors (1 to 1024)",
            )
            .search([32, 64, 128]),
            ParamSpec::float(
                "regularization",
                decimal(d.regularization),
                "L2 regularisation, >= 0: the ALS and fold-in ridge, the BPR weight decay",
            )
            .search([0.01, 0.05, 0.2]),
            ParamSpec::float(
                "alpha",
                decimal(d.alpha),
                "confidence slope, > 0: an interaction of strength r has confidence 1 + alpha * r \
                 (ALS and its fold-in)",
            )
            .search([1.0, 5.0, 20.0])
            .applies_when("algorithm", ["als"]),
            ParamSpec::bool(
                "binary",
                d.binary,
                "treat every stored value as strength 1 (ratings then do not distort \
                 confidences); negative values still mean dislike",
            ),
            ParamSpec::int(
                "iterations",
                d.iterations as i64,
                "ALS sweeps over users then items, >= 1",
            )
            .applies_when("algorithm", ["als"]),
            ParamSpec::int(
                "cg_steps",
                d.cg_steps as i64,
                "ALS conjugate-gradient steps per user or item and sweep, >= 1",
            )
            .applies_when("algorithm", ["als"]),
            ParamSpec::float(
                "learning_rate",
                decimal(d.learning_rate),
                "BPR SGD step size of the first pass, > 0; it decays linearly to \
                 learning_rate / epochs in the last",
            )
            .search(LEARNING_RATES)
            .applies_when("algorithm", ["bpr"]),
            ParamSpec::int(
                "epochs",
                d.epochs as i64,
                "BPR passes, >= 1; each draws as many (user, positive, negative) samples as \
                 there are positive interactions",
            )
            .applies_when("algorithm", ["bpr"]),
            ParamSpec::float(
                "popular_negatives",
                decimal(d.popular_negatives),
                "BPR: share, 0 to 1, of the other items of (user, liked, other) samples drawn in \
                 proportion to their popularity, as implicit does; the rest are drawn uniformly, \
                 as in the BPR paper; the BPR fold-in samples the same way",
            )
            .search(POPULAR_NEGATIVES)
            .applies_when("algorithm", ["bpr"]),
            ParamSpec::int(
                "seed",
                d.seed as i64,
                "random seed of the factor initialisation and of BPR sampling",
            ),
            ParamSpec::int(
                "threads",
                d.threads as i64,
                "training threads; 0 uses the shared rayon pool (one thread per core)",
            ),
        ]
    }

    /// The BPR fold-in schedule of a model trained with these parameters: the training
    /// sampler, with the fold-in's own step size and passes.
    pub fn bpr_schedule(&self) -> BprSchedule {
        BprSchedule {
            learning_rate: FOLD_IN_LEARNING_RATE,
            epochs: FOLD_IN_EPOCHS,
            popular_negatives: self.popular_negatives,
        }
    }

    /// Reads and checks the parameters; absent ones take their defaults.
    pub fn from_params(params: &Params) -> Result<Self> {
        let d = MfParams::default();
        let algorithm = match params.str_or("algorithm", d.algorithm.as_str())? {
            "als" => Algorithm::Als,
            "bpr" => Algorithm::Bpr,
            other => {
                return Err(invalid(
                    "algorithm",
                    format!("must be \"als\" or \"bpr\", got {other:?}"),
                ))
            }
        };
        let p = MfParams {
            algorithm,
            factors: params.usize_or("factors", d.factors)?,
            regularization: params.f64_or("regularization", decimal(d.regularization))? as f32,
            alpha: params.f64_or("alpha", decimal(d.alpha))? as f32,
            binary: params.bool_or("binary", d.binary)?,
            iterations: params.usize_or("iterations", d.iterations)?,
            cg_steps: params.usize_or("cg_steps", d.cg_steps)?,
            learning_rate: params.f64_or("learning_rate", decimal(d.learning_rate))? as f32,
            epochs: params.usize_or("epochs", d.epochs)?,
            popular_negatives: params.f64_or("popular_negatives", decimal(d.popular_negatives))?
                as f32,
            // Any integer is a seed; negative ones wrap.
            seed: params.i64_or("seed", d.seed as i64)? as u64,
            threads: params.usize_or("threads", d.threads)?,
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks the ranges; the messages say what would be accepted.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_FACTORS).contains(&self.factors) {
            return Err(invalid(
                "factors",
                format!("must be between 1 and {MAX_FACTORS}, got {}", self.factors),
            ));
        }
        let finite_at_least = |name, v: f32, min: f32, strict: bool| {
            let ok = v.is_finite() && if strict { v > min } else { v >= min };
            if ok {
                Ok(())
            } else {
                let cmp = if strict { ">" } else { ">=" };
                Err(invalid(
                    name,
                    format!("must be a finite number {cmp} {min}, got {v}"),
                ))
            }
        };
        finite_at_least("regularization", self.regularization, 0.0, false)?;
        finite_at_least("alpha", self.alpha, 0.0, true)?;
        finite_at_least("learning_rate", self.learning_rate, 0.0, true)?;
        if !(0.0..=1.0).contains(&self.popular_negatives) {
            return Err(invalid(
                "popular_negatives",
                format!(
                    "must be a share between 0 and 1, got {}",
                    self.popular_negatives
                ),
            ));
        }
        if self.threads > MAX_THREADS {
            return Err(invalid(
                "threads",
                format!("must be at most {MAX_THREADS}, got {}", self.threads),
            ));
        }
        for (name, v) in [
            ("iterations", self.iterations),
            ("cg_steps", self.cg_steps),
            ("epochs", self.epochs),
        ] {
            if v == 0 {
                return Err(invalid(name, "must be at least 1, got 0".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::{ErrorKind, ParamValue, PluginError};

    fn parse(json: &str) -> Result<MfParams> {
        MfParams::from_params(&Params::from_json(json).unwrap())
    }

    #[test]
    fn defaults_match_the_specs() {
        assert_eq!(parse("{}").unwrap(), MfParams::default());
        let specs = MfParams::specs();
        assert_eq!(specs.len(), 12);
        assert!(specs.iter().all(|s| !s.description.is_empty()));
        // Every searched parameter has its default among the candidates, and the search
        // stays small (coordinate ascent trains once per candidate and fold).
        let searched: Vec<&ParamSpec> = specs.iter().filter(|s| !s.search.is_empty()).collect();
        for s in &searched {
            let default = s.default.to_string();
            assert!(
                s.search.iter().any(|v| v.to_string() == default),
                "{}: {default} not in {:?}",
                s.name,
                s.search
            );
        }
        let names: Vec<&str> = searched.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "algorithm",
                "factors",
                "regularization",
                "alpha",
                "learning_rate",
                "popular_negatives"
            ]
        );
        // A round of coordinate ascent trains once per candidate other than the current value.
        let per_round: usize = searched.iter().map(|s| s.search.len() - 1).sum();
        assert!(per_round <= 12, "{per_round} trainings per round");
        let mut all = Params::new();
        for s in &specs {
            all.set(&s.name, s.default.clone());
        }
        assert_eq!(MfParams::from_params(&all).unwrap(), MfParams::default());
    }

    #[test]
    fn reads_values() {
        let p = parse(
            r#"{"algorithm": "bpr", "factors": 8, "regularization": 0, "alpha": 40,
                "binary": false, "seed": -1, "threads": 2, "learning_rate": 0.1,
                "popular_negatives": 1}"#,
        )
        .unwrap();
        assert_eq!(p.algorithm, Algorithm::Bpr);
        assert_eq!((p.factors, p.threads), (8, 2));
        assert_eq!(
            (p.regularization, p.alpha, p.learning_rate),
            (0.0, 40.0, 0.1)
        );
        assert!(!p.binary);
        assert_eq!(p.seed, u64::MAX);
        assert_eq!(p.popular_negatives, 1.0);
        assert_eq!(
            parse(r#"{"popular_negatives": 0}"#)
                .unwrap()
                .popular_negatives,
            0.0
        );
    }

    #[test]
    fn rejects_out_of_range_values_with_clear_messages() {
        for (json, needle) in [
            (
                r#"{"factors": 0}"#,
                "parameter `factors` must be between 1 and 1024, got 0",
            ),
            (
                r#"{"regularization": -0.1}"#,
                "`regularization` must be a finite number >= 0",
            ),
            (
                r#"{"alpha": 0}"#,
                "`alpha` must be a finite number > 0, got 0",
            ),
            (r#"{"iterations": 0}"#, "`iterations` must be at least 1"),
            (r#"{"cg_steps": 0}"#, "`cg_steps` must be at least 1"),
            (r#"{"epochs": 0}"#, "`epochs` must be at least 1"),
            (
                r#"{"learning_rate": -1}"#,
                "`learning_rate` must be a finite number > 0",
            ),
            (
                r#"{"popular_negatives": 1.5}"#,
                "`popular_negatives` must be a share between 0 and 1, got 1.5",
            ),
            (
                r#"{"popular_negatives": -0.1}"#,
                "`popular_negatives` must be a share between 0 and 1",
            ),
            (r#"{"popular_negatives": "uniform"}"#, "`popular_negatives`"),
            (
                r#"{"algorithm": "svd"}"#,
                r#"must be "als" or "bpr", got "svd""#,
            ),
            (
                r#"{"factors": -3}"#,
                "`factors` must be a non-negative integer",
            ),
            (r#"{"binary": 1}"#, "`binary` must be true or false"),
            (
                r#"{"threads": 5000}"#,
                "`threads` must be at most 1024, got 5000",
            ),
        ] {
            let err = PluginError::from(parse(json).unwrap_err());
            assert_eq!(err.kind, ErrorKind::InvalidParams, "{json}");
            assert!(err.message.contains(needle), "{json}: {}", err.message);
        }
        let huge = Params::new().with("factors", ParamValue::Int(5000));
        assert!(MfParams::from_params(&huge).is_err());
    }
}
