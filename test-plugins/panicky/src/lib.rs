//! Test plugin: a popularity recommender that panics where its `panic_in` parameter says
//! (`"train"`, `"recommend"`), or in `recommend` for a history containing item 0 when
//! `panic_on_item_0` is set. Hosts must report the panic with the plugin's name and survive.
#![warn(missing_docs)]

use recsys_plugin_api::{
    export_plugin, top_k, ParamSpec, Params, PluginError, PluginInfo, Query, Recommender, Scored,
    TrainData,
};

/// The model: item counts and where to panic.
#[derive(Debug)]
pub struct Panicky {
    counts: Vec<f32>,
    panic_in_recommend: bool,
}

impl Recommender for Panicky {
    fn info() -> PluginInfo {
        PluginInfo::new("panicky", env!("CARGO_PKG_VERSION"))
            .description("test plugin that panics on request")
            .param(ParamSpec::string(
                "panic_in",
                "",
                "\"train\" or \"recommend\": where to panic",
            ))
    }

    fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError> {
        let panic_in = params.str_or("panic_in", "")?;
        if panic_in == "train" {
            panic!("panicky: deliberate panic in train");
        }
        let mut counts = vec![0f32; data.n_items()];
        data.interactions()
            .indices()
            .iter()
            .for_each(|&i| counts[i as usize] += 1.0);
        Ok(Panicky {
            counts,
            panic_in_recommend: panic_in == "recommend",
        })
    }

    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        if self.panic_in_recommend {
            panic!("panicky: deliberate panic in recommend");
        }
        Ok(top_k(&self.counts, query.k, query.exclude))
    }
}

export_plugin!(Panicky);
