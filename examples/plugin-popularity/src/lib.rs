//! # Most-popular recommender: the template for recsys plugin authors
//!
//! Copy this crate to start a plugin. It depends on `recsys-plugin-api` alone, is built as a
//! `cdylib` (for the host to load) and an `rlib` (for its own unit tests, and for programs that
//! link it statically), and has no `unsafe`.
//!
//! It recommends the items with the most interactions in the training data, optionally counting
//! only recent ones (`half_life_days`), which makes it the baseline every other plugin must beat.
#![warn(missing_docs)]

use recsys_plugin_api::{
    top_k, Capability, Contribution, Explanation, ParamSpec, Params, PluginError, PluginInfo,
    Query, Recommender, Scored, TrainData,
};

/// A trained popularity model: one score per item.
#[derive(Debug, Clone, PartialEq)]
pub struct Popularity {
    scores: Vec<f32>,
}

impl Recommender for Popularity {
    fn info() -> PluginInfo {
        PluginInfo::new("popularity", env!("CARGO_PKG_VERSION"))
            .description("Items ranked by number of interactions (optionally time-decayed).")
            .capability(Capability::Explain)
            .capability(Capability::SaveLoad)
            .capability(Capability::FoldIn)
            .capability(Capability::Timestamps)
            .capability(Capability::ScoreItems)
            .param(ParamSpec::float(
                "half_life_days",
                0.0,
                "weight interactions by 0.5^(age / half-life) from the newest one; 0 = no decay",
            ))
    }

    fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError> {
        let half_life = params.f64_or("half_life_days", 0.0)?;
        if half_life < 0.0 {
            return Err(PluginError::invalid_params("half_life_days must be >= 0"));
        }
        let mut scores = vec![0f32; data.n_items()];
        let items = data.interactions().indices();
        match data.timestamps().filter(|_| half_life > 0.0) {
            Some(times) => {
                let newest = times.iter().copied().max().unwrap_or(0);
                for (&item, &t) in items.iter().zip(times) {
                    let age_days = (newest - t) as f64 / 86_400.0;
                    scores[item as usize] += 0.5f64.powf(age_days / half_life) as f32;
                }
            }
            None => items.iter().for_each(|&item| scores[item as usize] += 1.0),
        }
        Ok(Popularity { scores })
    }

    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        Ok(top_k(&self.scores, query.k, query.exclude))
    }

    fn explain(&self, _query: &Query<'_>, item: u32) -> Result<Explanation, PluginError> {
        let score = *self
            .scores
            .get(item as usize)
            .ok_or_else(|| PluginError::invalid_input(format!("item {item} is out of range")))?;
        Ok(Explanation {
            text: format!("popular: {score:.0} interactions"),
            contributions: vec![Contribution {
                item: None,
                term: None,
                weight: score,
            }],
        })
    }

    fn score_items(&self, _query: &Query<'_>, items: &[u32]) -> Result<Vec<f32>, PluginError> {
        Ok(items.iter().map(|&i| self.scores[i as usize]).collect())
    }

    fn save(&self) -> Result<Vec<u8>, PluginError> {
        Ok(self.scores.iter().flat_map(|s| s.to_le_bytes()).collect())
    }

    fn load(bytes: &[u8]) -> Result<Self, PluginError> {
        if bytes.len() % 4 != 0 {
            return Err(PluginError::invalid_input(
                "popularity model bytes must be f32s",
            ));
        }
        let scores = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Popularity { scores })
    }
}

// The entry symbol that hosts loading the cdylib look up, behind the default feature
// `dylib-entry`; without it (`default-features = false`) only the declaration is defined, so
// that a program can link this plugin statically beside others and register
// `plugin_declaration()`.
#[cfg(feature = "dylib-entry")]
recsys_plugin_api::export_plugin!(Popularity);
#[cfg(not(feature = "dylib-entry"))]
recsys_plugin_api::declare_plugin!(Popularity);

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::{CsrView, ParamValue};

    #[test]
    fn ranks_by_count_and_decays_old_interactions() {
        // users x items: u0 {0, 1}, u1 {1}, u2 {1, 2}; item 2 is the newest.
        let (indptr, indices, values) =
            (vec![0u64, 2, 3, 5], vec![0u32, 1, 1, 1, 2], vec![1f32; 5]);
        let csr = CsrView::new(3, 3, &indptr, &indices, &values).unwrap();
        let plain = Popularity::train(&TrainData::new(csr), &Params::new()).unwrap();
        let top = plain.recommend(&Query::new(&[], 3)).unwrap();
        assert_eq!(
            top.iter().map(|s| s.item).collect::<Vec<_>>(),
            vec![1, 0, 2]
        );

        let days = 86_400;
        let times = [0, 0, 0, 0, 100 * days];
        let data = TrainData::new(csr).with_timestamps(&times).unwrap();
        let params = Params::new().with("half_life_days", ParamValue::Float(1.0));
        let decayed = Popularity::train(&data, &params).unwrap();
        assert_eq!(decayed.recommend(&Query::new(&[], 1)).unwrap()[0].item, 2);

        assert_eq!(
            plain.score_items(&Query::new(&[], 0), &[2, 0, 1]).unwrap(),
            vec![1.0, 1.0, 3.0]
        );

        let restored = Popularity::load(&plain.save().unwrap()).unwrap();
        assert_eq!(restored, plain);
        assert!(Popularity::load(&[1, 2, 3]).is_err());
    }
}
