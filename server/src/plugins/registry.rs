use std::path::{Path, PathBuf};

use super::{load_file, LoadError, LoadedPlugin};
use crate::{Error, Result};

/// The plugins available to this process, and the files that failed to load.
#[derive(Debug, Default, Clone)]
pub struct PluginRegistry {
    plugins: Vec<LoadedPlugin>,
    errors: Vec<LoadError>,
}

fn is_library(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
}

impl PluginRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every shared library in `dir` (sorted by file name). Files that fail are kept as
    /// [`PluginRegistry::errors`]; only an unreadable directory is an error.
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::Config(format!(
                "cannot read plugin directory {}: {e}",
                dir.display()
            ))
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_library(p))
            .collect();
        files.sort();
        let mut registry = Self::new();
        for file in files {
            match load_file(&file) {
                Ok(plugin) => registry.add(plugin),
                Err(e) => registry.errors.push(e),
            }
        }
        Ok(registry)
    }

    /// Adds a loaded (or statically linked) plugin; a second plugin of the same name is
    /// refused and recorded as an error.
    pub fn add(&mut self, plugin: LoadedPlugin) {
        if let Some(first) = self.get(plugin.name()) {
            self.errors.push(LoadError::Duplicate {
                name: plugin.name().to_string(),
                path: plugin.path.clone().unwrap_or_default(),
                first: first.origin(),
            });
        } else {
            self.plugins.push(plugin);
        }
    }

    /// Records load errors met elsewhere (e.g. another directory).
    pub fn extend_errors(&mut self, errors: impl IntoIterator<Item = LoadError>) {
        self.errors.extend(errors);
    }

    /// The loaded plugins.
    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// The files that could not be loaded, with the reason.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }

    /// The loaded plugins' names, `a, b, c` (or `none`), for messages.
    pub fn names(&self) -> String {
        listed(self.plugins.iter().map(LoadedPlugin::name))
    }

    /// The plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&LoadedPlugin> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// Resolves a selection: `all`, or a comma-separated list of names (in that order), each
    /// optionally with one of the plugin's presets (`cf:implicit-bm25`).
    pub fn select(&self, selection: &str) -> Result<Vec<LoadedPlugin>> {
        if selection.trim() == "all" {
            if self.plugins.is_empty() {
                return Err(Error::Usage("no plugins are loaded".into()));
            }
            return Ok(self.plugins.clone());
        }
        let selected: Vec<LoadedPlugin> = selection
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| {
                let (name, preset) = match entry.split_once(':') {
                    Some((name, preset)) => (name.trim(), Some(preset.trim())),
                    None => (entry, None),
                };
                let plugin = self.get(name).ok_or_else(|| {
                    let known = self.names();
                    Error::Usage(format!("unknown plugin `{name}`; loaded plugins: {known}"))
                })?;
                let Some(preset) = preset else {
                    return Ok(plugin.clone());
                };
                plugin.with_preset(preset).ok_or_else(|| {
                    let known = listed(plugin.info().presets.iter().map(|p| p.name.as_str()));
                    Error::Usage(format!(
                        "plugin `{name}` has no preset `{preset}`; its presets: {known}"
                    ))
                })
            })
            .collect::<Result<_>>()?;
        if selected.is_empty() {
            let known = self.names();
            return Err(Error::Usage(format!(
                "no plugin selected: give `all` or names from: {known}"
            )));
        }
        for (i, plugin) in selected.iter().enumerate() {
            if selected[..i].iter().any(|p| p.label() == plugin.label()) {
                return Err(Error::Usage(format!(
                    "`{}` is selected twice (its results and ensemble weights could not be \
                     told apart)",
                    plugin.label()
                )));
            }
        }
        Ok(selected)
    }

    /// Refuses parameters for a plugin that is not loaded: `cff.neighbours=8` would otherwise
    /// be silently ignored and `cf` trained with its default. `names` are the plugin names the
    /// parameters are given for; `source` says where they come from (`--param`, a config
    /// file), for the message.
    pub fn check_param_plugins<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
        source: &str,
    ) -> Result<()> {
        for name in names {
            if self.get(name).is_none() {
                let known = self.names();
                return Err(Error::Usage(format!(
                    "{source} names plugin `{name}`, which is not loaded; loaded plugins: {known}"
                )));
            }
        }
        Ok(())
    }
}

/// `a, b, c`, or `none`.
pub(crate) fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
