//! The crate's error type and its mapping onto the plugin API's [`PluginError`].

use recsys_plugin_api::PluginError;

/// What the content plugin reports when training data has no item text at all.
pub const NO_ITEM_TEXT: &str =
    "the content plugin needs item text (product metadata); this dataset has none";

/// Everything that can go wrong in the content plugin.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The training data has no item text, or every item's text is empty.
    #[error("{NO_ITEM_TEXT}")]
    NoItemText,
    /// A parameter is out of range.
    #[error("{0}")]
    InvalidParams(String),
    /// A request names something the model does not have (an item out of range, say).
    #[error("{0}")]
    InvalidInput(String),
    /// Model bytes that are truncated, corrupt or of another format.
    #[error("content model bytes are not valid: {0}")]
    Corrupt(String),
    /// The on-disk index directory could not be prepared.
    #[error("index directory {path}: {source}")]
    IndexDir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The search engine failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// The crate's result type.
pub type Result<T, E = ContentError> = std::result::Result<T, E>;

impl From<ContentError> for PluginError {
    fn from(e: ContentError) -> Self {
        let message = e.to_string();
        match e {
            ContentError::NoItemText | ContentError::InvalidInput(_) | ContentError::Corrupt(_) => {
                PluginError::invalid_input(message)
            }
            ContentError::InvalidParams(_) => PluginError::invalid_params(message),
            ContentError::IndexDir { .. } | ContentError::Index(_) => {
                PluginError::internal(message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::ErrorKind;

    #[test]
    fn maps_onto_plugin_error_kinds() {
        let e = PluginError::from(ContentError::NoItemText);
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(e.message, NO_ITEM_TEXT);
        let e = PluginError::from(ContentError::InvalidParams("max_terms must be >= 1".into()));
        assert_eq!(e.kind, ErrorKind::InvalidParams);
        let e = PluginError::from(ContentError::Corrupt("truncated".into()));
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("truncated"));
    }
}
