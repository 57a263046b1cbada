//! Training parameters: their declarations ([`ParamSpec`]s), defaults and range checks.

use recsys_plugin_api::{ParamSpec, Params};

use crate::error::{ContentError, Result};
use crate::text::TextField;

/// Upper bound of `max_terms` (a more-like-this query with more clauses is only slower).
pub const MAX_TERMS_LIMIT: usize = 1024;
/// Upper bound of `max_history`.
pub const MAX_HISTORY_LIMIT: usize = 10_000;

/// The checked training parameters of a content model.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Directory of an on-disk index; empty = the index lives in RAM.
    pub index_dir: String,
    /// Only the last `max_history` history items build the more-like-this query.
    pub max_history: usize,
    /// Weight of a history item `s` steps before the newest one: `recency_decay^s`.
    pub recency_decay: f32,
    /// Number of terms in the more-like-this query.
    pub max_terms: usize,
    /// Terms found in fewer items than this are not used in more-like-this queries.
    pub min_doc_freq: u64,
    /// Weight of the popularity prior blended into recommendation scores.
    pub popularity_weight: f32,
    /// Weight of each text field, in [`TextField::ALL`] order.
    pub field_weights: [f32; 4],
}

impl Default for Config {
    fn default() -> Self {
        Config {
            index_dir: String::new(),
            max_history: 20,
            recency_decay: 0.9,
            max_terms: 40,
            min_doc_freq: 2,
            popularity_weight: 0.3,
            field_weights: [2.0, 1.0, 1.0, 0.5],
        }
    }
}

impl Config {
    /// The parameter declarations, with this type's defaults.
    pub fn specs() -> Vec<ParamSpec> {
        let d = Config::default();
        let mut specs = vec![
            ParamSpec::string(
                "index_dir",
                &d.index_dir,
                "directory for an on-disk tantivy index (created if missing; a content index \
                 already there is emptied and rebuilt; one model per directory); empty = \
                 build the index in RAM",
            ),
            ParamSpec::int(
                "max_history",
                d.max_history as i64,
                "only the user's last N history items build the more-like-this query (1 to 10000)",
            )
            .search([5, 20, 100]),
            ParamSpec::float(
                "recency_decay",
                decimal(d.recency_decay),
                "a history item s steps before the newest weighs recency_decay^s (0 < d <= 1; \
                 1 = all equal)",
            )
            .search([1.0, 0.8, 0.5]),
            ParamSpec::int(
                "max_terms",
                d.max_terms as i64,
                "number of top tf-idf terms in the more-like-this query (1 to 1024)",
            ),
            ParamSpec::int(
                "min_doc_freq",
                d.min_doc_freq as i64,
                "terms found in fewer items are left out of more-like-this queries (>= 1)",
            ),
            ParamSpec::float(
                "popularity_weight",
                decimal(d.popularity_weight),
                "weight of the popularity prior in recommend: score = bm25 / best bm25 + w * \
                 count / highest count (>= 0; 0 = pure content, popularity only breaks ties \
                 and fills up short lists)",
            )
            .search([0.0, 0.1, 0.3, 1.0]),
        ];
        for field in TextField::ALL {
            specs.push(ParamSpec::float(
                field.weight_param(),
                decimal(d.field_weights[field as usize]),
                &format!(
                    "weight of the {} field in more-like-this queries and search (>= 0)",
                    field.name()
                ),
            ));
        }
        specs
    }

    /// Reads and checks the parameters (absent ones take their defaults).
    pub fn from_params(params: &Params) -> Result<Config> {
        let d = Config::default();
        let p = |e: recsys_plugin_api::PluginError| ContentError::InvalidParams(e.message);
        let mut field_weights = d.field_weights;
        for field in TextField::ALL {
            let w = &mut field_weights[field as usize];
            *w = params
                .f64_or(field.weight_param(), f64::from(*w))
                .map_err(p)? as f32;
        }
        let config = Config {
            index_dir: params
                .str_or("index_dir", &d.index_dir)
                .map_err(p)?
                .to_string(),
            max_history: params.usize_or("max_history", d.max_history).map_err(p)?,
            recency_decay: params
                .f64_or("recency_decay", d.recency_decay.into())
                .map_err(p)? as f32,
            max_terms: params.usize_or("max_terms", d.max_terms).map_err(p)?,
            min_doc_freq: params
                .usize_or("min_doc_freq", d.min_doc_freq as usize)
                .map_err(p)? as u64,
            popularity_weight: params
                .f64_or("popularity_weight", d.popularity_weight.into())
                .map_err(p)? as f32,
            field_weights,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks every value's range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ContentError::InvalidParams(m));
        if !(1..=MAX_HISTORY_LIMIT).contains(&self.max_history) {
            return bad(format!(
                "max_history must be between 1 and {MAX_HISTORY_LIMIT}, got {}",
                self.max_history
            ));
        }
        if !(self.recency_decay > 0.0 && self.recency_decay <= 1.0) {
            return bad(format!(
                "recency_decay must be in (0, 1], got {}",
                self.recency_decay
            ));
        }
        if !(1..=MAX_TERMS_LIMIT).contains(&self.max_terms) {
            return bad(format!(
                "max_terms must be between 1 and {MAX_TERMS_LIMIT}, got {}",
                self.max_terms
            ));
        }
        if self.min_doc_freq < 1 {
            return bad("min_doc_freq must be >= 1".into());
        }
        if !(self.popularity_weight.is_finite() && self.popularity_weight >= 0.0) {
            return bad(format!(
                "popularity_weight must be a finite number >= 0, got {}",
                self.popularity_weight
            ));
        }
        for field in TextField::ALL {
            let w = self.field_weights[field as usize];
            if !(w.is_finite() && w >= 0.0) {
                return bad(format!(
                    "{} must be a finite number >= 0, got {w}",
                    field.weight_param()
                ));
            }
        }
        if self.field_weights.iter().all(|&w| w == 0.0) {
            return bad("at least one field weight must be > 0".into());
        }
        Ok(())
    }

    /// The weight of one field.
    pub fn field_weight(&self, field: TextField) -> f32 {
        self.field_weights[field as usize]
    }
}

/// `x` as the `f64` with the same shortest decimal form (0.3f32 -> 0.3, not
/// 0.30000001192092896), so that declared defaults read as written.
fn decimal(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::ParamValue;

    #[test]
    fn defaults_parse_and_every_spec_is_described() {
        assert_eq!(
            Config::from_params(&Params::new()).unwrap(),
            Config::default()
        );
        let specs = Config::specs();
        assert_eq!(specs.len(), 10);
        assert!(specs.iter().all(|s| !s.description.is_empty()));
        let pw = specs
            .iter()
            .find(|s| s.name == "popularity_weight")
            .unwrap();
        assert_eq!(pw.default, ParamValue::Float(0.3));
        // Every declared default parses back to the same config.
        let mut params = Params::new();
        for s in &specs {
            params.set(&s.name, s.default.clone());
        }
        assert_eq!(Config::from_params(&params).unwrap(), Config::default());
    }

    #[test]
    fn rejects_out_of_range_values() {
        for (name, value) in [
            ("max_history", ParamValue::Int(0)),
            ("recency_decay", ParamValue::Float(0.0)),
            ("recency_decay", ParamValue::Float(1.5)),
            ("max_terms", ParamValue::Int(0)),
            ("max_terms", ParamValue::Int(5000)),
            ("min_doc_freq", ParamValue::Int(0)),
            ("popularity_weight", ParamValue::Float(-1.0)),
            ("title_weight", ParamValue::Float(-0.5)),
            ("index_dir", ParamValue::Int(3)),
        ] {
            let err = Config::from_params(&Params::new().with(name, value)).unwrap_err();
            assert!(
                matches!(err, ContentError::InvalidParams(_)),
                "{name}: {err}"
            );
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        let mut all_zero = Params::new();
        for field in TextField::ALL {
            all_zero.set(field.weight_param(), ParamValue::Float(0.0));
        }
        assert!(Config::from_params(&all_zero).is_err());
    }
}
