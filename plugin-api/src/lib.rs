//! # recsys-plugin-api
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
//! reads only the functions the declaration's size covers and treats the others as
//! unsupported, so a plugin built against 1.0 (whose declaration is
//! [`ffi::DECLARATION_SIZE_1_0`] bytes) loads in any later 1.x host.
//!
//! **Ownership.** Data crosses as borrowed views: the host keeps the training data alive for the
//! duration of a call, and results go back into host-owned buffers (a fixed-capacity scored
//! buffer, a byte sink the plugin writes into). Nothing allocated on one side is freed on the
//! other: a model is an opaque handle, created by the plugin and dropped by the plugin's own
//! `drop_model`.
//!
//! **Panics.** Every exported function runs the plugin code inside `catch_unwind`; a panic
//! becomes an error with status [`ffi::Status::PANIC`] and the panic message, and the host marks
//! that model failed. A plugin must be built with `panic = "unwind"` (the default): the export
//! glue records the plugin's panic strategy in its info, and hosts refuse a plugin built with
//! `panic = "abort"` (its first panic would abort the host too).
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
//!
//! The promise is tested: the workspace keeps a frozen copy of the 1.0 crate
//! (`test-plugins/api-1.0`) and a plugin built against it (`test-plugins/old-minor`), which the
//! current host loads, reports as API 1.0 and runs the compliance suite on.
//!
//! | API | Added |
//! |-----|-------|
//! | 1.0 | `info`, `train`, `recommend`; optional `similar_items`, `explain`, `search`, `save`/`load` |
//! | 1.1 | optional [`Recommender::score_items`] ([`Capability::ScoreItems`]): scores given candidates for a history; [`declare_plugin!`] for static linking |
//! | 1.2 | [`ParamSpec::search`]: values a host may try when tuning the parameter on validation data (plugin info only; no new function) |
//! | 1.3 | [`Recommender::recommend_many`]: a block of queries in one call, so that a plugin can share work across users (a default loops over `recommend`; hosts ask older plugins one query at a time) |
//! | 1.4 | [`PluginInfo::presets`]: named sets of parameter values meant to be used together, which hosts may try when tuning and evaluate by name; [`ParamSpec::applies_when`]: a parameter that matters only for some values of another, which tuners then skip (plugin info only; no new function) |
//!
//! ## Static linking
//!
//! A host may also link a plugin crate into its own binary and register the declaration
//! directly, with no dynamic loading (`recsys::plugins::LoadedPlugin::from_static`). The
//! plugin code and the checks are the same; only the way the host finds the declaration
//! differs. [`export_plugin!`] defines the `#[no_mangle]` entry symbol, and two such symbols
//! cannot be linked into one binary, so a plugin crate that wants to be linkable beside others
//! puts the symbol behind a cargo feature that is on by default:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib", "rlib"]   # the cdylib for hosts that load it, the rlib for linking
//!
//! [features]
//! default = ["dylib-entry"]
//! # The `recsys_plugin_entry` symbol of the cdylib. Embedders linking several plugins
//! # statically depend on this crate with `default-features = false`.
//! dylib-entry = []
//! ```
//!
//! and ends its `lib.rs` with
//!
//! ```ignore
//! #[cfg(feature = "dylib-entry")]
//! recsys_plugin_api::export_plugin!(MyModel);
//! #[cfg(not(feature = "dylib-entry"))]
//! recsys_plugin_api::declare_plugin!(MyModel);
//! ```
//!
//! Both macros define `pub static RECSYS_PLUGIN_DECLARATION` and `pub fn plugin_declaration()`,
//! which an embedder registers: `LoadedPlugin::from_static(my_plugin::plugin_declaration())`.
//! Cargo unifies features across one build, so the embedder must be built in its own workspace
//! (or at least not together with a crate that enables the feature), as the recsys repository's
//! `examples/embed` is.
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
pub use info::{Capability, Condition, ParamKind, ParamSpec, PluginInfo, Preset};
pub use params::{ParamValue, Params};
pub use recommender::{Contribution, Explanation, Recommender};
pub use topk::{top_k, top_k_iter, Scored, TopK};

/// Major version of the plugin ABI. Plugins of another major version are refused.
pub const API_MAJOR: u32 = 1;
/// Minor version of the plugin ABI. Minor versions only add; see the crate docs.
pub const API_MINOR: u32 = 4;
/// Name of the symbol every plugin library exports (it never changes, across all versions).
pub const ENTRY_SYMBOL: &str = "recsys_plugin_entry";

/// Declares a [`Recommender`] type as a recsys plugin, without the entry symbol: for plugin
/// crates that hosts link statically (see [Static linking](crate#static-linking)).
///
/// Expands to a `static` [`ffi::PluginDeclaration`] named `RECSYS_PLUGIN_DECLARATION` and a
/// function `plugin_declaration()` returning it, which a host passes to
/// [`host::Plugin::from_static`]. Use it, or [`export_plugin!`], once per crate.
#[macro_export]
macro_rules! declare_plugin {
    ($ty:ty) => {
        /// This plugin's declaration: what the host checks and calls.
        pub static RECSYS_PLUGIN_DECLARATION: $crate::ffi::PluginDeclaration =
            $crate::ffi::PluginDeclaration::of::<$ty>();

        /// This plugin's declaration, for hosts that link the plugin statically.
        pub fn plugin_declaration() -> &'static $crate::ffi::PluginDeclaration {
            &RECSYS_PLUGIN_DECLARATION
        }
    };
}

/// Exports a [`Recommender`] type as a recsys plugin.
///
/// Expands to [`declare_plugin!`] (a `static` [`ffi::PluginDeclaration`] named
/// `RECSYS_PLUGIN_DECLARATION` and `plugin_declaration()`) and the `extern "C"` entry function
/// [`ENTRY_SYMBOL`] that returns it. Use it once per `cdylib`; a plugin that hosts may also
/// link statically beside other plugins puts it behind a cargo feature (see
/// [Static linking](crate#static-linking)).
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty) => {
        $crate::declare_plugin!($ty);

        /// The plugin entry point: returns this library's declaration.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn recsys_plugin_entry() -> *const $crate::ffi::PluginDeclaration {
            &RECSYS_PLUGIN_DECLARATION
        }
    };
}
