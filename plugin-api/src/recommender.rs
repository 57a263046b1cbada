use serde::{Deserialize, Serialize};

use crate::{PluginError, PluginInfo, Query, Scored, TrainData};

/// Why an item was recommended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// One sentence for people, e.g. "because you liked B00X".
    pub text: String,
    /// What contributed to the score, largest first.
    pub contributions: Vec<Contribution>,
}

/// One contribution to a score: a history item, a matching term, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// A history item that contributed.
    pub item: Option<u32>,
    /// A term that matched (content-based plugins).
    pub term: Option<String>,
    /// How much it contributed, in the plugin's score units.
    pub weight: f32,
}

/// A recommendation algorithm and its trained model.
///
/// Three methods are required: [`info`](Recommender::info), [`train`](Recommender::train) and
/// [`recommend`](Recommender::recommend). The others are optional capabilities with defaults
/// that report [`crate::ErrorKind::Unsupported`]; declare the ones you implement in
/// [`PluginInfo::capability`].
///
/// Item indices are the columns of the training matrix. The host guarantees that queries only
/// name items in range and that `exclude` is sorted; results must hold at most `k` distinct
/// items, none excluded, best first, with finite scores.
pub trait Recommender: Sized + Send + Sync + 'static {
    /// Name, version, capabilities and parameters of the plugin.
    fn info() -> PluginInfo;

    /// Trains a model. `params` have been checked against [`PluginInfo::params`].
    fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError>;

    /// The best `query.k` items for a user history, best first.
    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError>;

    /// One list per query, in the order given, each what [`recommend`](Recommender::recommend)
    /// returns for that query. Hosts that rank many users at once (evaluation, batch jobs) call
    /// it with blocks of queries; override it when queries can share work (one matrix product
    /// for a block of users instead of one matrix-vector product per user). The default calls
    /// `recommend` for each query. If any query fails, the call fails.
    ///
    /// Added in API 1.3: hosts call `recommend` per query for plugins built against older
    /// versions.
    fn recommend_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Scored>>, PluginError> {
        queries.iter().map(|q| self.recommend(q)).collect()
    }

    /// The `k` items most similar to `item`, best first, without `item` itself.
    fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>, PluginError> {
        let _ = (item, k);
        Err(PluginError::unsupported("similar_items"))
    }

    /// Why `item` is recommended for `query`'s history.
    fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation, PluginError> {
        let _ = (query, item);
        Err(PluginError::unsupported("explain"))
    }

    /// Full-text search over the catalogue, best first.
    fn search(&self, text: &str, k: usize) -> Result<Vec<Scored>, PluginError> {
        let _ = (text, k);
        Err(PluginError::unsupported("search"))
    }

    /// Scores the candidate `items` for `query`'s history: one finite score per item, in the
    /// order given (higher is better). Hosts use it to re-rank a list they already have (search
    /// results, a category page) for a user; `query.k` and `query.exclude` do not apply.
    /// Declare [`crate::Capability::ScoreItems`] when you implement it.
    ///
    /// Added in API 1.1: hosts treat plugins built against 1.0 as not having it.
    fn score_items(&self, query: &Query<'_>, items: &[u32]) -> Result<Vec<f32>, PluginError> {
        let _ = (query, items);
        Err(PluginError::unsupported("score_items"))
    }

    /// Serializes the trained model.
    fn save(&self) -> Result<Vec<u8>, PluginError> {
        Err(PluginError::unsupported("save"))
    }

    /// Restores a model written by [`save`](Recommender::save).
    fn load(bytes: &[u8]) -> Result<Self, PluginError> {
        let _ = bytes;
        Err(PluginError::unsupported("load"))
    }
}

use crate::Params;
