use std::fmt;

/// What went wrong in a plugin call; decides how the host reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The parameters are not valid for this plugin (unknown name, wrong type, out of range).
    InvalidParams,
    /// The input is not valid (an item index out of range, data the plugin cannot use).
    InvalidInput,
    /// The plugin does not implement this optional capability.
    Unsupported,
    /// The plugin failed for a reason of its own.
    Internal,
    /// The plugin panicked; the host marks the model failed.
    Panic,
}

/// An error returned by a plugin, or by the host about a plugin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// The category of the error.
    pub kind: ErrorKind,
    /// A human-readable message saying what is wrong.
    pub message: String,
}

impl PluginError {
    /// An error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: message.into(),
        }
    }
    /// An [`ErrorKind::InvalidParams`] error.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParams, message)
    }
    /// An [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    /// An [`ErrorKind::Unsupported`] error for the named capability.
    pub fn unsupported(capability: &str) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            format!("`{capability}` is not supported by this plugin"),
        )
    }
    /// An [`ErrorKind::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::InvalidParams => "invalid parameters",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Internal => "plugin error",
            ErrorKind::Panic => "plugin panicked",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for PluginError {}
