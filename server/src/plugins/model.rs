use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use recsys_plugin_api::host::Model;
use recsys_plugin_api::{ErrorKind, Explanation, Params, PluginError, Query, Scored, TrainData};

use super::LoadedPlugin;
use crate::{Error, Result};

/// A model trained by one plugin. A panic inside the plugin marks the model failed: it is
/// not called again, and the host goes on with the other plugins.
#[derive(Debug)]
pub struct TrainedModel {
    name: String,
    model: Model,
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
    capabilities: Vec<recsys_plugin_api::Capability>,
}

impl TrainedModel {
    /// Trains `plugin` on `data` (blocking).
    pub fn train(plugin: &LoadedPlugin, data: &TrainData<'_>, params: &Params) -> Result<Self> {
        let model = plugin
            .plugin
            .train(data, params)
            .map_err(|e| Error::plugin(plugin.name(), e))?;
        Ok(TrainedModel {
            name: plugin.name().to_string(),
            model,
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            capabilities: plugin.info().capabilities.clone(),
        })
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The optional capabilities the plugin declares.
    pub fn capabilities(&self) -> &[recsys_plugin_api::Capability] {
        &self.capabilities
    }

    /// Whether a panic has disabled this model.
    pub fn is_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Why it was disabled.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().map(|f| f.clone()).unwrap_or(None)
    }

    fn call<T>(&self, f: impl FnOnce(&Model) -> std::result::Result<T, PluginError>) -> Result<T> {
        if self.is_failed() {
            let why = self.failure().unwrap_or_default();
            return Err(Error::plugin(
                &self.name,
                PluginError::internal(format!("model disabled after an earlier panic: {why}")),
            ));
        }
        f(&self.model).map_err(|e| {
            if e.kind == ErrorKind::Panic {
                self.failed.store(true, Ordering::Relaxed);
                if let Ok(mut failure) = self.failure.lock() {
                    failure.get_or_insert_with(|| e.message.clone());
                }
            }
            Error::plugin(&self.name, e)
        })
    }

    /// Recommends for `query`.
    pub fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>> {
        self.call(|m| m.recommend(query))
    }

    /// One list per query, in order (API 1.3; older plugins are asked one query at a time).
    pub fn recommend_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Scored>>> {
        self.call(|m| m.recommend_many(queries))
    }

    /// Items similar to `item`.
    pub fn similar_items(&self, item: u32, k: usize) -> Result<Vec<Scored>> {
        self.call(|m| m.similar_items(item, k))
    }

    /// Why `item` is recommended for `query`.
    pub fn explain(&self, query: &Query<'_>, item: u32) -> Result<Explanation> {
        self.call(|m| m.explain(query, item))
    }

    /// Scores of `items` for `query`, in the order given (API 1.1 capability).
    pub fn score_items(&self, query: &Query<'_>, items: &[u32]) -> Result<Vec<f32>> {
        self.call(|m| m.score_items(query, items))
    }

    /// Full-text search.
    pub fn search(&self, text: &str, k: usize) -> Result<Vec<Scored>> {
        self.call(|m| m.search(text, k))
    }

    /// The model's bytes.
    pub fn save(&self) -> Result<Vec<u8>> {
        self.call(|m| m.save())
    }
}
