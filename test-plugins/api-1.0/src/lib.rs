//! # recsys-plugin-api 1.0.0, frozen
//!
//! **A verbatim copy of `recsys-plugin-api` 1.0.0 (only this paragraph is new), kept to test
//! that plugins built against the previous API minor version still load in the current host
//! (see `test-plugins/old-minor`). Never edit it.**
//!
//! The only crate a recsys plugin author depends on. Write a type that implements
//! [`Recommender`], export it with [`export_plugin!`], build the crate as a `cdylib`, and drop
//! the library into the host's plugin directory. You write no `unsafe`.
//!
//! ```
//! use recsys_plugin_api::{
//!     export_plugin, top_k, Capability, ParamSpec, Params, PluginError, PluginInfo, Query,
//!     Recommender, Scored, TrainData,
//! };
//!
//! /// Recommends the items with the most interactions.
//! pub struct MostPopular {
//!     counts: Vec<f32>,
//! }
//!
//! impl Recommender for MostPopular {
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("most-popular", env!("CARGO_PKG_VERSION"))
//!             .description("Items ranked by their number of interactions.")
//!             .capability(Capability::Recommend)
//!             .param(ParamSpec::float("smoothing", 0.0, "added to every count"))
//!     }
//!
//!     fn train(data: &TrainData<'_>, params: &Params) -> Result<Self, PluginError> {
//!         let smoothing = params.f64_or("smoothing", 0.0)? as f32;
//!         let mut counts = vec![smoothing; data.n_items()];
//!         for &item in data.interactions().indices() {
//!             counts[item as usize] += 1.0;
//!         }
//!         Ok(MostPopular { counts })
//!     }
//!
//!     fn recommend(&self, query: &Query<'_>) -> Result<Vec<Scored>, PluginError> {
//!         Ok(top_k(&self.counts, query.k, query.exclude))
//!     }
//! }
//!
//! export_plugin!(MostPopular);
//! # fn main() {}
//! ```
//!
//! ## Design
//!
//! **Why a hand-rolled, versioned `repr(C)` root and not `abi_stable`.** The boundary is small:
//! one entry symbol returning a table of nine `extern "C"` functions over a handful of
//! `repr(C)` structs (a CSR matrix view, item text, a query, a host-owned result buffer and a
//! byte sink). `abi_stable` would check the same things with a large dependency, a proc-macro
//! build and its own types in our public API; a hand-rolled root keeps this crate at one
//! dependency (serde) that plugin authors already have, and keeps the whole contract readable in
//! [`ffi`].
//!
//! **Handshake.** The entry symbol [`ENTRY_SYMBOL`] returns a pointer to a
//! [`ffi::PluginDeclaration`]. Its first fields (magic number, API major and minor version,
//! layout fingerprint, declaration size) are read and checked before any function in it is
//! called. A plugin built against another major version, or whose `repr(C)` layouts differ
//! (another pointer width, say), is refused with an error that names what was expected and what
//! was found. Minor versions only append functions to the end of the declaration; the host
//! treats a function beyond the declaration's size as unsupported.
//!
//! **Ownership.** Data crosses as borrowed views: the host keeps the training data alive for the
//! duration of a call, and results go back into host-owned buffers (a fixed-capacity scored
//! buffer, a byte sink the plugin writes into). Nothing allocated on one side is freed on the
//! other: a model is an opaque handle, created by the plugin and dropped by the plugin's own
//! `drop_model`.
//!
//! **Panics.** Every exported function runs the plugin code inside `catch_unwind`; a panic
//! becomes an error with status [`ffi::Status::PANIC`] and the panic message, and the host marks
//! that model failed. A plugin must be built with `panic = "unwind"` (the default).
//!
//! **Threads.** The host calls plugins from blocking worker threads, possibly several at once
//! on the same model ([`Recommender`] is `Send + Sync`). Plugins may use rayon; never an async
//! runtime.
//!
//! ## Version policy
//!
//! The API version is [`API_MAJOR`].[`API_MINOR`], separate from this crate's semver only in
//! that it counts ABI changes:
//! * a **minor** version adds optional functions at the end of the declaration, optional
//!   capabilities or parameters kinds. A plugin built against any 1.x loads in any 1.y host; a
//!   capability the host does not know of is ignored, one the plugin does not have is reported
//!   as unsupported.
//! * a **major** version changes a layout or the meaning of a function. Hosts refuse plugins of
//!   another major version with a clear message; the entry symbol never changes, so that
//!   refusal is always possible.
#![deny(missing_docs)]

mod data;
mod error;
pub mod ffi;
pub mod host;
mod info;
mod params;
mod recommender;
mod topk;

pub use data::{CsrView, ItemText, ItemTextTable, Query, TrainData};
pub use error::{ErrorKind, PluginError};
pub use info::{Capability, ParamKind, ParamSpec, PluginInfo};
pub use params::{ParamValue, Params};
pub use recommender::{Contribution, Explanation, Recommender};
pub use topk::{top_k, top_k_iter, Scored};

/// Major version of the plugin ABI. Plugins of another major version are refused.
pub const API_MAJOR: u32 = 1;
/// Minor version of the plugin ABI. Minor versions only add; see the crate docs.
pub const API_MINOR: u32 = 0;
/// Name of the symbol every plugin library exports (it never changes, across all versions).
pub const ENTRY_SYMBOL: &str = "recsys_plugin_entry";

/// Exports a [`Recommender`] type as a recsys plugin.
///
/// Expands to a `static` [`ffi::PluginDeclaration`] named `RECSYS_PLUGIN_DECLARATION` and the
/// `extern "C"` entry function [`ENTRY_SYMBOL`] that returns it. Use it once per `cdylib`.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty) => {
        /// The declaration the host reads through the plugin's entry symbol.
        pub static RECSYS_PLUGIN_DECLARATION: $crate::ffi::PluginDeclaration =
            $crate::ffi::PluginDeclaration::of::<$ty>();

        /// The plugin entry point: returns this library's declaration.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn recsys_plugin_entry() -> *const $crate::ffi::PluginDeclaration {
            &RECSYS_PLUGIN_DECLARATION
        }
    };
}
