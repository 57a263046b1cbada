//! Building an [`Engine`]: where plugins come from, which ones, with what parameters and
//! weights.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use recsys_plugin_api::{Capability, Params};

use super::{Catalogue, Engine, Member};
use crate::dataset::Dataset;
use crate::eval::{
    evaluate, EnsembleMember, EnsembleOptions, EnsembleSpec, EvalOptions, EvalReport, Split,
    TrainSet,
};
use crate::plugins::{listed, LoadedPlugin, PluginRegistry, TrainedModel};
use crate::{Error, Result};

/// The rank constant used when no tuned ensemble is given (as in the reciprocal-rank fusion
/// literature's small-list setting; tuning picks its own).
const DEFAULT_RANK_CONSTANT: f64 = 10.0;
/// How many items each member ranks before fusion when no ensemble is given.
const DEFAULT_DEPTH: usize = 100;

/// Builds an [`Engine`]; see [`Engine::builder`].
#[derive(Debug, Default)]
pub struct EngineBuilder {
    registry: PluginRegistry,
    selection: Option<String>,
    params: BTreeMap<String, Params>,
    spec: Option<EnsembleSpec>,
    search: bool,
}

impl EngineBuilder {
    /// A builder with no plugins.
    pub fn new() -> Self {
        EngineBuilder {
            search: true,
            ..Default::default()
        }
    }

    /// Loads every plugin library in `dir`. Files that fail to load are kept in
    /// [`EngineBuilder::registry`]'s errors; only an unreadable directory is an error.
    pub fn plugin_dir(mut self, dir: impl AsRef<Path>) -> Result<Self> {
        let loaded = PluginRegistry::load_dir(dir.as_ref())?;
        for plugin in loaded.plugins() {
            self.registry.add(plugin.clone());
        }
        self.registry.extend_errors(loaded.errors().iter().cloned());
        Ok(self)
    }

    /// Registers a plugin: a statically linked one ([`LoadedPlugin::from_static`]) or one
    /// loaded by hand. A second plugin of the same name is refused (see the registry errors).
    pub fn register(mut self, plugin: LoadedPlugin) -> Self {
        self.registry.add(plugin);
        self
    }

    /// Uses these plugins (comma-separated names, or `all`, the default) with equal weights,
    /// unless an [`EngineBuilder::ensemble`] is given.
    pub fn plugins(mut self, selection: &str) -> Self {
        self.selection = Some(selection.to_string());
        self
    }

    /// Training parameters for plugin `name` (when no ensemble gives them).
    pub fn params(mut self, name: &str, params: Params) -> Self {
        self.params.insert(name.to_string(), params);
        self
    }

    /// Training parameters for every plugin, by name.
    pub fn all_params(mut self, params: BTreeMap<String, Params>) -> Self {
        self.params.extend(params);
        self
    }

    /// Uses a tuned ensemble (as `recsys evaluate --ensemble` writes it): its members with a
    /// weight above zero, their parameters and weights, its rank constant and depth.
    pub fn ensemble(mut self, spec: EnsembleSpec) -> Self {
        self.spec = Some(spec);
        self
    }

    /// Whether to also train a search-capable plugin that is not a member, so that
    /// [`Engine::search`] works (default true).
    pub fn search(mut self, enabled: bool) -> Self {
        self.search = enabled;
        self
    }

    /// The plugins loaded or registered so far, and the files that failed.
    pub fn registry(&self) -> &PluginRegistry {
        &self.registry
    }

    /// What is wrong with `spec` for these plugins, one sentence per problem naming the member
    /// (`members[1] (cf:nopreset)`) and the bad value; empty when it can be trained. Weights
    /// must be finite and not negative with at least one above 0, the rank constant finite and
    /// not negative, every member with a weight above 0 loaded, and every preset one its
    /// plugin declares. [`EngineBuilder::train`] refuses an ensemble with problems; a caller
    /// that read it from a file can check first and name the file.
    pub fn ensemble_problems(&self, spec: &EnsembleSpec) -> Vec<String> {
        let mut problems = Vec::new();
        if !(spec.rank_constant.is_finite() && spec.rank_constant >= 0.0) {
            problems.push(format!(
                "rank_constant {} must be a finite number of 0 or more",
                spec.rank_constant
            ));
        }
        for (i, m) in spec.members.iter().enumerate() {
            let member = format!("members[{i}] ({})", m.label());
            if !m.weight.is_finite() {
                problems.push(format!(
                    "{member}: weight {} is not a finite number",
                    m.weight
                ));
            } else if m.weight < 0.0 {
                problems.push(format!(
                    "{member}: weight {} is negative (0 leaves a member out)",
                    m.weight
                ));
            }
            let Some(plugin) = self.registry.get(&m.plugin) else {
                if m.weight > 0.0 {
                    problems.push(format!(
                        "{member}: plugin `{}` is not loaded (loaded: {})",
                        m.plugin,
                        self.registry.names()
                    ));
                }
                continue;
            };
            if let Some(preset) = &m.preset {
                if plugin.info().preset_named(preset).is_none() {
                    problems.push(format!(
                        "{member}: plugin `{}` declares no preset `{preset}` (its presets: {})",
                        m.plugin,
                        listed(plugin.info().presets.iter().map(|p| p.name.as_str()))
                    ));
                }
            }
        }
        if spec.members.is_empty() {
            problems.push("it has no members".into());
        } else if !spec
            .members
            .iter()
            .any(|m| m.weight.is_finite() && m.weight > 0.0)
        {
            problems.push("no member has a weight above 0, so none would be used".into());
        }
        problems
    }

    fn selected(&self) -> Result<Vec<LoadedPlugin>> {
        self.registry
            .select(self.selection.as_deref().unwrap_or("all"))
    }

    /// Tunes an ensemble of the selected plugins on `dataset` as `recsys evaluate --ensemble`
    /// does (validation folds carved from the training data, never the test items), and
    /// returns the evaluation report, whose `ensemble` holds the tuned ensemble with its test
    /// metrics. Pass that to [`EngineBuilder::ensemble`].
    pub fn tune(&self, dataset: &Dataset, k: usize, progress: bool) -> Result<EvalReport> {
        let plugins = self.selected()?;
        let options = EvalOptions {
            k,
            params: self.params.clone(),
            progress,
            ensemble: Some(EnsembleOptions::default()),
            ..EvalOptions::default()
        };
        let report = evaluate(dataset, &plugins, &options)?;
        if report.ensemble.is_none() {
            return Err(Error::Usage(
                "evaluation produced no ensemble (no plugin succeeded)".into(),
            ));
        }
        Ok(report)
    }

    /// The ensemble to train: the given one, or the selected plugins with equal weights.
    fn spec(&self, dataset: &Dataset) -> Result<EnsembleSpec> {
        if let Some(spec) = &self.spec {
            return Ok(spec.clone());
        }
        let members = self
            .selected()?
            .iter()
            .map(|p| EnsembleMember {
                plugin: p.name().to_string(),
                preset: p.preset.clone(),
                version: p.info().version.clone(),
                params: p.params(&self.params),
                weight: 1.0,
                validation_ndcg: 0.0,
            })
            .collect();
        Ok(EnsembleSpec {
            fusion: "weighted-reciprocal-rank".into(),
            rank_constant: DEFAULT_RANK_CONSTANT,
            depth: DEFAULT_DEPTH,
            members,
            k: 10,
            validation_users: 0,
            validation_ndcg: 0.0,
            dataset: dataset.name.clone(),
            test_metrics: None,
        })
    }

    /// Trains every member (weight > 0) on all of `dataset`'s interactions.
    ///
    /// # Errors
    ///
    /// A member that is not loaded, or that fails to train; an empty dataset.
    pub fn train(self, dataset: &Dataset) -> Result<Engine> {
        if dataset.interactions.is_empty() {
            return Err(Error::Usage(format!(
                "dataset {} has no interactions to train on",
                dataset.name
            )));
        }
        let spec = self.spec(dataset)?;
        let problems = self.ensemble_problems(&spec);
        if !problems.is_empty() {
            return Err(Error::Usage(format!(
                "the ensemble cannot be trained: {}",
                problems.join("; ")
            )));
        }
        let mut all = dataset.interactions.clone();
        all.sort_unstable_by_key(|i| (i.user, i.timestamp, i.order));
        let set = TrainSet::new(
            dataset,
            Split {
                train: all,
                test: Vec::new(),
            },
        );
        let data = set.train_data();
        let mut members = Vec::new();
        for m in spec.members.iter().filter(|m| m.weight > 0.0) {
            let plugin = self.registry.get(&m.plugin).ok_or_else(|| {
                Error::Usage(format!(
                    "the ensemble needs plugin `{}`, which is not loaded",
                    m.plugin
                ))
            })?;
            let model = TrainedModel::train(plugin, &data, &m.params)?;
            let caps = &plugin.info().capabilities;
            members.push(Member {
                model,
                label: m.label(),
                weight: m.weight,
                similar: caps.contains(&Capability::SimilarItems),
                explain: caps.contains(&Capability::Explain),
            });
        }
        members.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let searcher = if self.search
            && !members
                .iter()
                .any(|m| m.model.capabilities().contains(&Capability::Search))
        {
            self.registry
                .plugins()
                .iter()
                .filter(|p| p.info().capabilities.contains(&Capability::Search))
                .find_map(|p| {
                    let params = p.params(&self.params);
                    TrainedModel::train(p, &data, &params).ok()
                })
        } else {
            None
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        dataset.name.hash(&mut hasher);
        dataset.interactions.len().hash(&mut hasher);
        for m in &spec.members {
            m.plugin.hash(&mut hasher);
            m.version.hash(&mut hasher);
            m.weight.to_bits().hash(&mut hasher);
        }
        let trained_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(Engine {
            catalogue: Catalogue::new(dataset),
            members,
            searcher,
            version: format!("{:016x}-{trained_at}", hasher.finish()),
            spec,
        })
    }
}

#[cfg(test)]
mod tests {
    use recsys_plugin_api::ffi::PluginDeclaration;
    use recsys_plugin_api::{PluginError, PluginInfo, Query, Recommender, Scored, TrainData};

    use super::*;

    /// A plugin with one preset, linked into the test.
    struct Presetted;

    impl Recommender for Presetted {
        fn info() -> PluginInfo {
            PluginInfo::new("presetted", "1.0.0").preset("fast", "", Params::new())
        }
        fn train(_: &TrainData<'_>, _: &Params) -> std::result::Result<Self, PluginError> {
            Ok(Presetted)
        }
        fn recommend(&self, _: &Query<'_>) -> std::result::Result<Vec<Scored>, PluginError> {
            Ok(Vec::new())
        }
    }

    static PRESETTED: PluginDeclaration = PluginDeclaration::of::<Presetted>();

    fn builder() -> EngineBuilder {
        Engine::builder().register(LoadedPlugin::from_static(&PRESETTED).unwrap())
    }

    fn member(plugin: &str, preset: Option<&str>, weight: f64) -> EnsembleMember {
        EnsembleMember {
            plugin: plugin.into(),
            preset: preset.map(str::to_string),
            version: "1.0.0".into(),
            params: Params::new(),
            weight,
            validation_ndcg: 0.0,
        }
    }

    fn spec(members: Vec<EnsembleMember>) -> EnsembleSpec {
        EnsembleSpec {
            fusion: "weighted-reciprocal-rank".into(),
            rank_constant: 10.0,
            depth: 100,
            members,
            k: 10,
            validation_users: 0,
            validation_ndcg: 0.0,
            dataset: "test".into(),
            test_metrics: None,
        }
    }

    #[test]
    fn a_usable_ensemble_has_no_problems() {
        let b = builder();
        let good = spec(vec![
            member("presetted", None, 1.5),
            member("presetted", Some("fast"), 0.0),
            // Left out with weight 0: need not be loaded.
            member("absent", None, 0.0),
        ]);
        assert_eq!(b.ensemble_problems(&good), Vec::<String>::new());
    }

    #[test]
    fn bad_weights_presets_and_plugins_are_named_with_their_values() {
        let b = builder();
        let problems = |members| b.ensemble_problems(&spec(members)).join("\n");

        let negative = problems(vec![
            member("presetted", None, 1.0),
            member("presetted", Some("fast"), -3.0),
        ]);
        assert!(
            negative.contains("members[1] (presetted:fast): weight -3 is negative"),
            "{negative}"
        );

        let infinite = problems(vec![member("presetted", None, f64::INFINITY)]);
        assert!(
            infinite.contains("members[0] (presetted): weight inf is not a finite number"),
            "{infinite}"
        );
        assert!(
            infinite.contains("no member has a weight above 0"),
            "{infinite}"
        );
        let nan = problems(vec![member("presetted", None, f64::NAN)]);
        assert!(nan.contains("weight NaN is not a finite number"), "{nan}");

        let zeros = problems(vec![
            member("presetted", None, 0.0),
            member("presetted", Some("fast"), 0.0),
        ]);
        assert_eq!(
            zeros,
            "no member has a weight above 0, so none would be used"
        );
        assert_eq!(problems(vec![]), "it has no members");

        let preset = problems(vec![member("presetted", Some("nopreset"), 1.0)]);
        assert_eq!(
            preset,
            "members[0] (presetted:nopreset): plugin `presetted` declares no preset \
             `nopreset` (its presets: fast)"
        );
        // An unknown preset is refused even on a member left out with weight 0.
        let unused = problems(vec![
            member("presetted", None, 1.0),
            member("presetted", Some("nopreset"), 0.0),
        ]);
        assert!(unused.contains("members[1]"), "{unused}");

        let absent = problems(vec![member("absent", None, 2.0)]);
        assert_eq!(
            absent,
            "members[0] (absent): plugin `absent` is not loaded (loaded: presetted)"
        );

        let mut bad_constant = spec(vec![member("presetted", None, 1.0)]);
        bad_constant.rank_constant = -1.0;
        assert_eq!(
            b.ensemble_problems(&bad_constant),
            vec!["rank_constant -1 must be a finite number of 0 or more".to_string()]
        );
    }

    #[test]
    fn training_refuses_an_ensemble_with_problems() {
        let dir = tempfile::tempdir().unwrap();
        let ratings = dir.path().join("ratings.csv");
        std::fs::write(&ratings, "A1,u1,5,100\nA2,u1,4,101\nA1,u2,3,102\n").unwrap();
        let dataset = Dataset::read(&[ratings], None).unwrap();
        let err = builder()
            .ensemble(spec(vec![member("presetted", None, -3.0)]))
            .train(&dataset)
            .unwrap_err();
        assert!(err.to_string().contains("weight -3 is negative"), "{err}");
    }
}
