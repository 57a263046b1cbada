//! Test plugin: a working recommender whose declaration claims the *next* major API version,
//! as a plugin built against a future, incompatible `recsys-plugin-api` would. Hosts must
//! refuse it at the handshake, before calling anything, with a message naming both versions.
#![warn(missing_docs)]

use recsys_plugin_api::ffi::PluginDeclaration;
use recsys_plugin_api::{
    top_k, Params, PluginError, PluginInfo, Query, Recommender, Scored, TrainData, API_MAJOR,
};

/// A trivial model.
#[derive(Debug)]
pub struct FutureVersion(Vec<f32>);

impl Recommender for FutureVersion {
    fn info() -> PluginInfo {
        PluginInfo::new("future-version", env!("CARGO_PKG_VERSION"))
    }
    fn train(data: &TrainData<'_>, _params: &Params) -> Result<Self, PluginError> {
        Ok(FutureVersion(vec![0.0; data.n_items()]))
    }
    fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
        Ok(top_k(&self.0, query.k, query.exclude))
    }
}

/// The declaration, claiming the first release of the next major version (`2.0`).
pub static DECLARATION: PluginDeclaration = {
    let mut decl = PluginDeclaration::of::<FutureVersion>();
    decl.header.api_major = API_MAJOR + 1;
    decl.header.api_minor = 0;
    decl
};

/// The entry point, as `export_plugin!` would write it.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn recsys_plugin_entry() -> *const PluginDeclaration {
    &DECLARATION
}
