//! The crate's error type and its mapping onto the plugin API's [`PluginError`].

use recsys_plugin_api::PluginError;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum MfError {
    /// A training parameter is out of range or of the wrong kind.
    #[error("parameter `{name}` {reason}")]
    InvalidParam {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it and what would be accepted.
        reason: String,
    },
    /// A query or the training data cannot be used.
    #[error("{0}")]
    InvalidInput(String),
    /// Model bytes given to `load` are truncated, corrupt or of another format.
    #[error("cannot load mf model: {0}")]
    Corrupt(String),
    /// A failure of our own (a thread pool that cannot start, say).
    #[error("{0}")]
    Internal(String),
    /// An error reported by the plugin API (parameter getters, query validation).
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// `Result` with [`MfError`] as the default error.
pub type Result<T, E = MfError> = std::result::Result<T, E>;

impl From<MfError> for PluginError {
    fn from(e: MfError) -> Self {
        match e {
            MfError::InvalidParam { .. } => PluginError::invalid_params(e.to_string()),
            MfError::InvalidInput(_) | MfError::Corrupt(_) => {
                PluginError::invalid_input(e.to_string())
            }
            MfError::Internal(_) => PluginError::internal(e.to_string()),
            MfError::Plugin(inner) => inner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recsys_plugin_api::ErrorKind;

    #[test]
    fn maps_onto_plugin_error_kinds() {
        let e: PluginError = MfError::InvalidParam {
            name: "factors",
            reason: "must be at least 1, got 0".into(),
        }
        .into();
        assert_eq!(e.kind, ErrorKind::InvalidParams);
        assert_eq!(e.message, "parameter `factors` must be at least 1, got 0");
        let e: PluginError = MfError::Corrupt("bad magic".into()).into();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        let e: PluginError = MfError::from(PluginError::unsupported("search")).into();
        assert_eq!(e.kind, ErrorKind::Unsupported);
    }
}
