//! Content-based recommender plugin (tantivy BM25 more-like-this over title, brand,
//! categories and description). Not implemented yet: it loads, declares itself, and answers
//! every training request with an `Unsupported` error through the API's error path.
#![warn(missing_docs)]

use recsys_plugin_api::{
    export_plugin, Capability, Params, PluginError, PluginInfo, Query, Recommender, Scored,
    TrainData,
};

/// The (future) content model.
#[derive(Debug)]
pub struct Content;

impl Recommender for Content {
    fn info() -> PluginInfo {
        PluginInfo::new("content", env!("CARGO_PKG_VERSION"))
            .description("content-based filtering over item text (not implemented yet)")
            .capability(Capability::ItemText)
    }
    fn train(_data: &TrainData<'_>, _params: &Params) -> Result<Self, PluginError> {
        Err(PluginError::unsupported("content-based training (not implemented yet)"))
    }
    fn recommend(&self, _query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        Err(PluginError::unsupported("recommend"))
    }
}

export_plugin!(Content);
