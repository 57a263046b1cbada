//! Loading one plugin library through its entry symbol. The only `unsafe` of the host.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use libloading::Library;
use recsys_plugin_api::ffi::PluginDeclaration;
use recsys_plugin_api::host::{HandshakeError, Plugin};
use recsys_plugin_api::{Params, PluginInfo, ENTRY_SYMBOL};

/// A plugin that passed the handshake, with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    /// The checked plugin.
    pub plugin: Plugin,
    /// The library file, or `None` for a statically linked plugin.
    pub path: Option<PathBuf>,
    /// The preset selected with it (`cf:implicit-bm25`), if any (API 1.4).
    pub preset: Option<String>,
}

impl LoadedPlugin {
    /// A plugin linked into this program.
    pub fn from_static(decl: &'static PluginDeclaration) -> Result<Self, HandshakeError> {
        Ok(LoadedPlugin {
            plugin: Plugin::from_static(decl)?,
            path: None,
            preset: None,
        })
    }
    /// Its info.
    pub fn info(&self) -> &PluginInfo {
        self.plugin.info()
    }
    /// Its name.
    pub fn name(&self) -> &str {
        self.plugin.name()
    }
    /// Its name with the selected preset: `cf` or `cf:implicit-bm25`; names its results.
    pub fn label(&self) -> String {
        match &self.preset {
            Some(preset) => format!("{}:{preset}", self.name()),
            None => self.name().to_string(),
        }
    }
    /// The same plugin with its preset `name` selected; `None` if it declares no such preset.
    pub fn with_preset(&self, name: &str) -> Option<LoadedPlugin> {
        self.info().preset_named(name)?;
        Some(LoadedPlugin {
            preset: Some(name.to_string()),
            ..self.clone()
        })
    }
    /// The parameters to train it with: the selected preset's values, with the values given
    /// for the plugin's name (`--param`, configuration) over them.
    pub fn params(&self, given: &BTreeMap<String, Params>) -> Params {
        let preset = self
            .preset
            .as_deref()
            .and_then(|name| self.info().preset_named(name))
            .map(|p| p.params.clone())
            .unwrap_or_default();
        match given.get(self.name()) {
            Some(given) => preset.overlaid(given),
            None => preset,
        }
    }
    /// Where it came from, for messages.
    pub fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "(linked statically)".into(), |p| p.display().to_string())
    }
}

/// Why a plugin file could not be loaded. Every variant names the file.
#[derive(Debug, Clone)]
pub enum LoadError {
    /// The file could not be opened as a shared library.
    NotALibrary {
        /// The file.
        path: PathBuf,
        /// The dynamic loader's message.
        reason: String,
    },
    /// The library has no `recsys_plugin_entry` symbol.
    NoEntrySymbol {
        /// The file.
        path: PathBuf,
    },
    /// The declaration was refused (API version, layout, info).
    Handshake {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        error: HandshakeError,
    },
    /// Two files declare the same plugin name.
    Duplicate {
        /// The plugin name.
        name: String,
        /// The file that was skipped.
        path: PathBuf,
        /// Where the name was first loaded from.
        first: String,
    },
}

impl LoadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::NotALibrary { path, .. }
            | LoadError::NoEntrySymbol { path }
            | LoadError::Handshake { path, .. }
            | LoadError::Duplicate { path, .. } => path,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotALibrary { path, reason } => {
                write!(
                    f,
                    "{}: not a loadable shared library: {reason}",
                    path.display()
                )
            }
            LoadError::NoEntrySymbol { path } => write!(
                f,
                "{}: not a recsys plugin: the library does not export `{ENTRY_SYMBOL}` \
                 (did you forget `export_plugin!`?)",
                path.display()
            ),
            LoadError::Handshake { path, error } => write!(f, "{}: {error}", path.display()),
            LoadError::Duplicate { name, path, first } => write!(
                f,
                "{}: a plugin named `{name}` is already loaded from {first}; skipped",
                path.display()
            ),
        }
    }
}

impl std::error::Error for LoadError {}

type EntryFn = unsafe extern "C" fn() -> *const PluginDeclaration;

/// Loads the plugin library at `path`. The library is never unloaded: a model may outlive
/// every handle to it, and unloading Rust code that registered thread-locals is unsound.
pub fn load_file(path: &Path) -> Result<LoadedPlugin, LoadError> {
    let path = path.to_path_buf();
    // `dlopen` searches the system's library path for a bare file name; the user means the
    // file in the current directory.
    let open = if path.components().count() == 1 {
        Path::new(".").join(&path)
    } else {
        path.clone()
    };
    // SAFETY: loading runs the library's initialisers. The plugin directory is trusted code by
    // configuration (like any program's shared libraries); everything after this is checked.
    let library = unsafe { Library::new(&open) }.map_err(|e| LoadError::NotALibrary {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let library: &'static Library = Box::leak(Box::new(library));
    // SAFETY: every recsys plugin exports the entry symbol with exactly this signature; a
    // library that exports the name with another meaning is outside what can be checked.
    let entry = unsafe { library.get::<EntryFn>(ENTRY_SYMBOL.as_bytes()) }
        .map_err(|_| LoadError::NoEntrySymbol { path: path.clone() })?;
    // SAFETY: calling the entry has no preconditions; it returns a pointer to a static.
    let declaration = unsafe { entry() };
    // SAFETY: the pointer comes from a library that is never unloaded; `from_raw` reads only
    // the fixed header before checking magic, version, layout and size.
    let plugin =
        unsafe { Plugin::from_raw(declaration) }.map_err(|error| LoadError::Handshake {
            path: path.clone(),
            error,
        })?;
    Ok(LoadedPlugin {
        plugin,
        path: Some(path),
        preset: None,
    })
}
