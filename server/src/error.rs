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
        Error::Plugin { plugin: plugin.to_string(), source }
    }
    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

/// Result of the recsys library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
