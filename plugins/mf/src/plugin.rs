//! The [`Recommender`] implementation: what the host sees of this crate.

use recsys_plugin_api::{
    Capability, Explanation, PluginError, PluginInfo, Query, Recommender, Scored, TrainData,
};

use crate::model::MatrixFactorization;
use crate::params::MfParams;

impl Recommender for MatrixFactorization {
    fn info() -> PluginInfo {
        let mut info = PluginInfo::new("mf", env!("CARGO_PKG_VERSION"))
            .description(
                "Matrix factorization: implicit-feedback ALS (conjugate gradient) or BPR; \
                 folds in unseen users' histories without retraining.",
            )
            .capability(Capability::Recommend)
            .capability(Capability::SimilarItems)
            .capability(Capability::Explain)
            .capability(Capability::SaveLoad)
            .capability(Capability::FoldIn);
        for spec in MfParams::specs() {
            info = info.param(spec);
        }
        info
    }

    fn train(
        data: &TrainData<'_>,
        params: &recsys_plugin_api::Params,
    ) -> Result<Self, PluginError> {
        let params = MfParams::from_params(params)?;
        Ok(crate::train::train(data, &params)?)
    }

    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        Ok(MatrixFactorization::recommend(self, query)?)
    }

    fn recommend_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Scored>>, PluginError> {
        Ok(MatrixFactorization::recommend_many(self, queries)?)
    }

    fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>, PluginError> {
        Ok(MatrixFactorization::similar_items(self, item, k)?)
    }

    fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation, PluginError> {
        Ok(MatrixFactorization::explain(self, query, item)?)
    }

    fn save(&self) -> Result<Vec<u8>, PluginError> {
        Ok(crate::io::save(self))
    }

    fn load(bytes: &[u8]) -> Result<Self, PluginError> {
        Ok(crate::io::load(bytes)?)
    }
}
