use serde::{Deserialize, Serialize};

use crate::{ParamValue, Params, PluginError};

/// An optional capability a plugin declares. Hosts use it to decide what to offer; a call to a
/// capability the plugin lacks fails with [`crate::ErrorKind::Unsupported`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// `recommend` for a user history (every plugin has it).
    Recommend,
    /// `similar_items` for one item.
    SimilarItems,
    /// `explain` why an item is recommended.
    Explain,
    /// Full-text `search` over the catalogue.
    Search,
    /// `save` a trained model to bytes and `load` it back.
    SaveLoad,
    /// Uses the per-item text fields (title, brand, categories, description).
    ItemText,
    /// Uses the per-interaction timestamps.
    Timestamps,
    /// Recommends for a history that was not seen in training without retraining (fold-in).
    FoldIn,
    /// `score_items`: scores given candidate items for a history (API 1.1).
    ScoreItems,
    /// A capability this host version does not know (from a plugin built for a newer minor).
    #[serde(other)]
    Unknown,
}

impl Capability {
    /// The name used in listings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Recommend => "recommend",
            Capability::SimilarItems => "similar_items",
            Capability::Explain => "explain",
            Capability::Search => "search",
            Capability::SaveLoad => "save_load",
            Capability::ItemText => "item_text",
            Capability::Timestamps => "timestamps",
            Capability::FoldIn => "fold_in",
            Capability::ScoreItems => "score_items",
            Capability::Unknown => "unknown",
        }
    }
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// A boolean.
    Bool,
    /// An integer.
    Int,
    /// A floating point number (integers are accepted).
    Float,
    /// A string.
    String,
}

/// One training parameter a plugin accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Parameter name, as given in configuration.
    pub name: String,
    /// Its type.
    pub kind: ParamKind,
    /// The value used when it is not given.
    pub default: ParamValue,
    /// What it does.
    pub description: String,
    /// Values worth trying when tuning (API 1.2): `recsys evaluate --tune` searches them on a
    /// validation split carved out of the training data. Empty: the parameter is not tuned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<ParamValue>,
    /// When set, the parameter has an effect only while another parameter takes one of some
    /// values (API 1.4), e.g. a learning rate only for the algorithm that has one: tuners do not
    /// search it otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_when: Option<Condition>,
}

/// The values of another parameter under which a parameter has an effect (API 1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The other parameter.
    pub param: String,
    /// Its values that make the parameter matter.
    pub values: Vec<ParamValue>,
}

impl ParamSpec {
    fn new(name: &str, kind: ParamKind, default: ParamValue, description: &str) -> Self {
        ParamSpec {
            name: name.into(),
            kind,
            default,
            description: description.into(),
            search: Vec::new(),
            applies_when: None,
        }
    }
    /// Declares that the parameter has an effect only while parameter `param` takes one of
    /// `values` (API 1.4), e.g. `ParamSpec::float("learning_rate", ..).applies_when("algorithm",
    /// ["bpr"])`. `recsys evaluate --tune` then does not spend trials on it otherwise.
    /// [`PluginInfo::param`] checks that `param` is declared before it and accepts `values`.
    pub fn applies_when<V: Into<ParamValue>>(
        mut self,
        param: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.applies_when = Some(Condition {
            param: param.into(),
            values: values.into_iter().map(Into::into).collect(),
        });
        self
    }
    /// The values `recsys evaluate --tune` tries for this parameter (API 1.2), e.g.
    /// `ParamSpec::int("neighbours", 100, "...").search([50, 100, 200])`. A value of another
    /// type than the parameter's is a programming error and panics.
    pub fn search<V: Into<ParamValue>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.search = values.into_iter().map(Into::into).collect();
        for value in &self.search {
            assert!(
                self.accepts(value),
                "search value {value} of parameter `{}` is not a {:?}",
                self.name,
                self.kind
            );
        }
        self
    }
    /// A boolean parameter.
    pub fn bool(name: &str, default: bool, description: &str) -> Self {
        Self::new(
            name,
            ParamKind::Bool,
            ParamValue::Bool(default),
            description,
        )
    }
    /// An integer parameter.
    pub fn int(name: &str, default: i64, description: &str) -> Self {
        Self::new(name, ParamKind::Int, ParamValue::Int(default), description)
    }
    /// A floating point parameter.
    pub fn float(name: &str, default: f64, description: &str) -> Self {
        Self::new(
            name,
            ParamKind::Float,
            ParamValue::Float(default),
            description,
        )
    }
    /// A string parameter.
    pub fn string(name: &str, default: &str, description: &str) -> Self {
        Self::new(
            name,
            ParamKind::String,
            ParamValue::Str(default.into()),
            description,
        )
    }

    fn accepts(&self, value: &ParamValue) -> bool {
        matches!(
            (self.kind, value),
            (ParamKind::Bool, ParamValue::Bool(_))
                | (ParamKind::Int, ParamValue::Int(_))
                | (ParamKind::Float, ParamValue::Int(_) | ParamValue::Float(_))
                | (ParamKind::String, ParamValue::Str(_))
        )
    }
}

/// What a plugin says about itself: name, version, API version, capabilities and parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Unique plugin name (lowercase, no spaces), used to select it.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The API major version the plugin was built against (filled in by the export glue).
    #[serde(default)]
    pub api_major: u32,
    /// The API minor version the plugin was built against (filled in by the export glue).
    #[serde(default)]
    pub api_minor: u32,
    /// One line on what the plugin does.
    #[serde(default)]
    pub description: String,
    /// The optional capabilities it implements.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// The training parameters it accepts.
    #[serde(default)]
    pub params: Vec<ParamSpec>,
    /// Named sets of parameter values meant to be used together (API 1.4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presets: Vec<Preset>,
    /// Whether the plugin was built to unwind on a panic (filled in by the export glue from
    /// the plugin's own build). A plugin built with `panic = "abort"` would take the host down
    /// with it on its first panic, so hosts refuse it; absent in the info of plugins built
    /// before the glue filled it in, and then assumed.
    #[serde(default = "unwinds_by_default")]
    pub unwinds: bool,
}

fn unwinds_by_default() -> bool {
    true
}

/// A named set of parameter values meant to be used together (API 1.4), e.g. the settings that
/// reproduce a well-known model. `recsys evaluate --tune` tries each preset as a starting point
/// (tuning one parameter at a time cannot reach a point that differs in several at once), and
/// `recsys evaluate --plugins cf:NAME` evaluates the plugin with it as a separate row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    /// Its name (lowercase, no spaces or colons), unique within the plugin.
    pub name: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// The values it sets; the parameters it leaves out keep their defaults.
    pub params: Params,
}

impl PluginInfo {
    /// Info for a plugin with the given name and version (usually `env!("CARGO_PKG_VERSION")`).
    pub fn new(name: &str, version: &str) -> Self {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            api_major: crate::API_MAJOR,
            api_minor: crate::API_MINOR,
            description: String::new(),
            capabilities: vec![Capability::Recommend],
            params: Vec::new(),
            presets: Vec::new(),
            unwinds: true,
        }
    }
    /// Sets the description.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }
    /// Adds a capability.
    pub fn capability(mut self, capability: Capability) -> Self {
        if !self.capabilities.contains(&capability) {
            self.capabilities.push(capability);
        }
        self
    }
    /// Adds a parameter. A condition ([`ParamSpec::applies_when`]) on a parameter not declared
    /// before it, or with values that parameter does not accept, is a programming error and
    /// panics.
    pub fn param(mut self, spec: ParamSpec) -> Self {
        if let Some(condition) = &spec.applies_when {
            let Some(other) = self.params.iter().find(|p| p.name == condition.param) else {
                panic!(
                    "parameter `{}` applies when `{}` ..., which is not declared before it",
                    spec.name, condition.param
                );
            };
            for value in &condition.values {
                assert!(
                    other.accepts(value),
                    "parameter `{}` applies when `{}` = {value}, which is not a {:?}",
                    spec.name,
                    condition.param,
                    other.kind
                );
            }
        }
        self.params.push(spec);
        self
    }
    /// Whether parameter `name` has an effect with `params` (the defaults for the rest): false
    /// only when it declares a condition ([`ParamSpec::applies_when`]) that does not hold.
    pub fn applies(&self, name: &str, params: &Params) -> bool {
        let spec = self.params.iter().find(|p| p.name == name);
        let Some(condition) = spec.and_then(|s| s.applies_when.as_ref()) else {
            return true;
        };
        let Some(other) = self.params.iter().find(|p| p.name == condition.param) else {
            return true;
        };
        let value = params.get(&condition.param).unwrap_or(&other.default);
        condition.values.iter().any(|v| same_value(v, value))
    }
    /// Adds a preset (API 1.4). A name that is empty, holds a space or a colon, or is declared
    /// twice, and values the declared parameters do not accept, are programming errors and
    /// panic (declare the parameters first).
    pub fn preset(mut self, name: &str, description: &str, params: Params) -> Self {
        self.presets.push(Preset {
            name: name.into(),
            description: description.into(),
            params,
        });
        if let Err(problem) = self.check_presets() {
            panic!("{problem}");
        }
        self
    }
    /// Checks the presets: names non-empty, without spaces or colons (`plugin:preset` selects
    /// one), unique, and values the declared parameters accept. Hosts check the info of a
    /// plugin they load with it; [`PluginInfo::preset`] panics on what it finds.
    pub fn check_presets(&self) -> Result<(), String> {
        for (i, preset) in self.presets.iter().enumerate() {
            let name = &preset.name;
            if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == ':') {
                return Err(format!(
                    "preset name `{name}` must be non-empty, without spaces or colons"
                ));
            }
            if self.presets[..i].iter().any(|p| &p.name == name) {
                return Err(format!("preset `{name}` is declared twice"));
            }
            self.validate_params(&preset.params)
                .map_err(|e| format!("preset `{name}`: {}", e.message))?;
        }
        Ok(())
    }
    /// Checks the name: non-empty, ASCII lowercase letters, digits, `-` and `_` only, since it
    /// is what `--plugins a,b:preset` and `--param name.x=1` select it by. Hosts refuse a
    /// plugin whose name fails this.
    pub fn check_name(&self) -> Result<(), String> {
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if self.name.is_empty() || !self.name.chars().all(allowed) {
            return Err(format!(
                "plugin name `{}` must be non-empty and use only a-z, 0-9, `-` and `_` (it is \
                 how `--plugins` and `--param` select the plugin)",
                self.name
            ));
        }
        Ok(())
    }
    /// The preset called `name`.
    pub fn preset_named(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name == name)
    }
    /// Whether the plugin declares `capability`.
    pub fn has(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// Checks that every given parameter is declared and has the declared type.
    pub fn validate_params(&self, params: &Params) -> Result<(), PluginError> {
        for (name, value) in params.iter() {
            let Some(spec) = self.params.iter().find(|s| s.name == name) else {
                let known: Vec<&str> = self.params.iter().map(|s| s.name.as_str()).collect();
                return Err(PluginError::invalid_params(format!(
                    "unknown parameter `{name}` for plugin `{}`; known parameters: {}",
                    self.name,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            if !spec.accepts(value) {
                return Err(PluginError::invalid_params(format!(
                    "parameter `{name}` of plugin `{}` must be {:?}, got {value}",
                    self.name, spec.kind
                )));
            }
        }
        Ok(())
    }
}

/// Equal values, an integer equal to a float of the same value (`1` and `1.0`) included.
fn same_value(a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b) {
        (ParamValue::Int(x), ParamValue::Float(y)) | (ParamValue::Float(y), ParamValue::Int(x)) => {
            *x as f64 == *y
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_values_round_trip_and_are_optional_in_older_info() {
        let info = PluginInfo::new("t", "1.0.0")
            .param(ParamSpec::int("neighbours", 100, "n").search([50, 100, 200]))
            .param(ParamSpec::float("alpha", 1.0, "a"));
        let json = serde_json::to_string(&info).unwrap();
        // A parameter without search values does not write the field (1.1 hosts read it as
        // before).
        assert_eq!(json.matches("\"search\"").count(), 1, "{json}");
        let back: PluginInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
        assert_eq!(
            back.params[0].search,
            vec![
                ParamValue::Int(50),
                ParamValue::Int(100),
                ParamValue::Int(200)
            ]
        );
        assert!(back.params[1].search.is_empty());
    }

    #[test]
    fn presets_round_trip_and_are_optional_in_older_info() {
        let info = PluginInfo::new("t", "1.0.0")
            .param(ParamSpec::int("neighbours", 100, "n"))
            .param(ParamSpec::string("weighting", "none", "w"))
            .preset(
                "wide",
                "many neighbours, BM25",
                Params::new()
                    .with("neighbours", 400.into())
                    .with("weighting", "bm25".into()),
            );
        let json = serde_json::to_string(&info).unwrap();
        let back: PluginInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
        assert_eq!(
            back.preset_named("wide").unwrap().params.get("neighbours"),
            Some(&ParamValue::Int(400))
        );
        // Info without presets does not write the field, and info from a 1.3 plugin reads.
        let plain = PluginInfo::new("t", "1.0.0");
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("presets"), "{json}");
        assert!(serde_json::from_str::<PluginInfo>(&json)
            .unwrap()
            .presets
            .is_empty());
    }

    #[test]
    fn a_conditional_parameter_applies_only_under_its_condition() {
        let info = PluginInfo::new("t", "1.0.0")
            .param(ParamSpec::string("algorithm", "als", "a"))
            .param(ParamSpec::int("depth", 2, "d"))
            .param(ParamSpec::float("rate", 0.1, "r").applies_when("algorithm", ["bpr", "sgd"]))
            .param(ParamSpec::float("width", 1.0, "w").applies_when("depth", [2]));
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(json.matches("applies_when").count(), 2, "{json}");
        assert_eq!(serde_json::from_str::<PluginInfo>(&json).unwrap(), info);
        // The default algorithm is als: the rate does not apply.
        assert!(!info.applies("rate", &Params::new()));
        assert!(info.applies("rate", &Params::new().with("algorithm", "sgd".into())));
        assert!(!info.applies("rate", &Params::new().with("algorithm", "als".into())));
        // Unconditional and unknown parameters always apply; 2 and 2.0 are the same value.
        assert!(info.applies("depth", &Params::new()));
        assert!(info.applies("nope", &Params::new()));
        assert!(info.applies("width", &Params::new()));
        assert!(info.applies("width", &Params::new().with("depth", 2.0.into())));
        assert!(!info.applies("width", &Params::new().with("depth", 3.into())));
    }

    #[test]
    #[should_panic(expected = "which is not declared before it")]
    fn a_condition_names_a_parameter_declared_before() {
        let _ = PluginInfo::new("t", "1.0.0")
            .param(ParamSpec::float("rate", 0.1, "r").applies_when("algorithm", ["bpr"]))
            .param(ParamSpec::string("algorithm", "als", "a"));
    }

    #[test]
    #[should_panic(expected = "preset `bad`: unknown parameter `nope`")]
    fn preset_values_must_be_declared_parameters() {
        let _ = PluginInfo::new("t", "1.0.0")
            .param(ParamSpec::int("neighbours", 100, "n"))
            .preset("bad", "", Params::new().with("nope", 1.into()));
    }

    #[test]
    fn check_presets_finds_what_a_hand_built_info_gets_wrong() {
        let preset = |name: &str, params: Params| Preset {
            name: name.into(),
            description: String::new(),
            params,
        };
        let mut info = PluginInfo::new("t", "1.0.0").param(ParamSpec::int("n", 1, "n"));
        assert_eq!(info.check_presets(), Ok(()));
        info.presets = vec![preset("a", Params::new()), preset("a", Params::new())];
        assert!(info.check_presets().unwrap_err().contains("declared twice"));
        info.presets = vec![preset("has space", Params::new())];
        assert!(info.check_presets().unwrap_err().contains("without spaces"));
        info.presets = vec![preset("x", Params::new().with("n", "many".into()))];
        assert!(info
            .check_presets()
            .unwrap_err()
            .starts_with("preset `x`: parameter `n`"));
    }

    #[test]
    #[should_panic(expected = "without spaces or colons")]
    fn preset_names_cannot_hold_a_colon() {
        let _ = PluginInfo::new("t", "1.0.0").preset("a:b", "", Params::new());
    }

    #[test]
    #[should_panic(expected = "is not a Int")]
    fn search_values_must_have_the_parameter_type() {
        let _ = ParamSpec::int("neighbours", 100, "n").search(["many"]);
    }
}
