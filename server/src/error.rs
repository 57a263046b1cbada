use recsys_plugin_api::PluginError;

use crate::dataset::DatasetError;
use crate::plugins::LoadError;

/// Everything that can go wrong in the recsys library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// A command was used wrongly (unknown plugin, bad option value).
    #[error("{0}")]
    Usage(String),
    /// An id (product, user, plugin) that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A capability no loaded plugin has (e.g. search without the content plugin).
    #[error("{0}")]
    Unsupported(String),
    /// Reading a dataset failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// A plugin file could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A plugin call failed; names the plugin.
    #[error("plugin `{plugin}`: {source}")]
    Plugin {
        /// The plugin's name.
        plugin: String,
        /// What it reported.
        source: PluginError,
    },
    /// Talking to MongoDB failed; names the server.
    #[cfg(feature = "mongodb")]
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// An ingest run could not account for its records (a bug, never bad input).
    #[error("ingest: {0}")]
    Ingest(String),
    /// An ingest run failed part-way. It is marked `failed` in `ingest_runs` (or left `running`
    /// if the server went away), never `finished`; running it again is safe.
    #[error(
        "ingest run {run_id} failed after {read} records, and is not finished \
         (running it again is safe): {source}"
    )]
    IngestFailed {
        /// The run's id.
        run_id: String,
        /// Records read before the failure.
        read: u64,
        /// What went wrong.
        source: Box<Error>,
    },
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// A plugin call error naming the plugin.
    pub fn plugin(plugin: &str, source: PluginError) -> Self {
        Error::Plugin {
            plugin: plugin.to_string(),
            source,
        }
    }
    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result of the recsys library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
