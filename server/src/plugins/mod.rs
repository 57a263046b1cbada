//! The plugin host: loads plugin libraries, keeps them for the life of the process, and calls
//! their models with errors and panics contained.

pub mod compliance;
mod loader;
mod model;
mod registry;

pub use loader::{load_file, LoadError, LoadedPlugin};
pub use model::TrainedModel;
pub(crate) use registry::listed;
pub use registry::PluginRegistry;
