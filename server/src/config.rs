//! Layered configuration: the embedded `config/default.toml`, an optional file, then
//! environment variables `RECSYS__SECTION__KEY`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use recsys_plugin_api::Params;
use serde::Deserialize;

use crate::eval::Protocol;
use crate::{Error, Result};

/// The shipped defaults, every key documented.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// All settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Plugin loading.
    pub plugins: PluginSettings,
    /// Evaluation defaults.
    pub evaluate: EvaluateSettings,
    /// `recsys serve`.
    pub server: ServerSettings,
    /// The generated demo catalogue.
    pub demo: DemoSettings,
    /// MongoDB (empty URI = embedded store).
    pub mongodb: MongoSettings,
    /// Kafka (empty brokers = in-process bus).
    pub kafka: KafkaSettings,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub bind: String,
    /// Bearer key for clients acting for any user; empty = none.
    pub api_key: String,
    /// Session cookie signing secret; empty = random per process.
    pub session_secret: String,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Ensemble file; empty = tuned at start-up.
    pub ensemble: String,
    /// Data files to train on; empty = generated catalogue.
    pub data: Vec<PathBuf>,
    /// Embedded store and generated files; empty = `.recsys`.
    pub state_dir: String,
    /// Recommendation list length.
    pub k: usize,
    /// Plugins tuned at start-up when no ensemble file is given.
    pub plugins: String,
}

impl ServerSettings {
    /// The state directory, resolving the empty default.
    pub fn state_dir(&self) -> PathBuf {
        if self.state_dir.is_empty() {
            PathBuf::from(".recsys")
        } else {
            PathBuf::from(&self.state_dir)
        }
    }
}

/// `[demo]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Generated users.
    pub users: usize,
    /// Generated items.
    pub items: usize,
    /// Generated interactions.
    pub interactions: usize,
    /// Generator seed.
    pub seed: u64,
}

/// `[mongodb]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MongoSettings {
    /// Connection string; empty = embedded store.
    pub uri: String,
    /// Database name.
    pub db: String,
}

/// `[kafka]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    /// Bootstrap servers; empty = in-process bus.
    pub brokers: String,
    /// Preference events topic.
    pub events_topic: String,
    /// Recommendations topic.
    pub recommendations_topic: String,
    /// Worker consumer group.
    pub group: String,
}

/// `[plugins]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSettings {
    /// Directory scanned for plugin libraries; empty = the executable's directory.
    pub dir: String,
    /// Training parameters per plugin name.
    #[serde(default)]
    pub params: BTreeMap<String, Params>,
}

/// `[evaluate]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateSettings {
    /// List length k.
    pub k: usize,
    /// Hold-out protocol name.
    pub protocol: String,
    /// random-holdout: share held out per user.
    pub holdout_fraction: f64,
    /// random-holdout: shuffle seed.
    pub seed: u64,
}

impl Settings {
    /// Defaults, then `file` (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings> {
        Self::load_with_env(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given explicitly (for tests).
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(Error::Config(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("RECSYS__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("RECSYS")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.data")
                .source(Some(env)),
        );
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| Error::Config(e.to_string()))?;
        settings.protocol()?;
        Ok(settings)
    }

    /// The plugin directory, resolving the empty default to the executable's directory.
    pub fn plugin_dir(&self) -> PathBuf {
        if self.plugins.dir.is_empty() {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from("."))
        } else {
            PathBuf::from(&self.plugins.dir)
        }
    }

    /// The configured evaluation protocol.
    pub fn protocol(&self) -> Result<Protocol> {
        Protocol::parse(
            &self.evaluate.protocol,
            self.evaluate.holdout_fraction,
            self.evaluate.seed,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn shipped_defaults_parse() {
        let s = Settings::load_with_env(None, env(&[])).unwrap();
        assert_eq!(s.evaluate.k, 10);
        assert_eq!(s.protocol().unwrap(), Protocol::LeaveLastOut);
        assert!(s.plugins.dir.is_empty() && s.plugins.params.is_empty());
        assert!(s.plugin_dir().is_dir());
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert!(s.mongodb.uri.is_empty() && s.kafka.brokers.is_empty());
        assert_eq!(s.kafka.events_topic, "recsys.events");
    }

    #[test]
    fn file_then_environment_override() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("recsys.toml");
        std::fs::write(
            &file,
            "[plugins]\ndir = \"/opt/p\"\n[plugins.params.cf]\nneighbours = 50\n[evaluate]\nk = 5\n",
        )
        .unwrap();
        let s =
            Settings::load_with_env(Some(&file), env(&[("RECSYS__EVALUATE__K", "20")])).unwrap();
        assert_eq!(s.plugin_dir(), PathBuf::from("/opt/p"));
        assert_eq!(s.evaluate.k, 20);
        let server = Settings::load_with_env(
            None,
            env(&[
                ("RECSYS__SERVER__BIND", "0.0.0.0:9000"),
                ("RECSYS__SERVER__API_KEY", "k3y"),
                ("RECSYS__SERVER__DATA", "a.json.gz,b.json.gz"),
            ]),
        )
        .unwrap()
        .server;
        assert_eq!(
            (server.bind.as_str(), server.api_key.as_str()),
            ("0.0.0.0:9000", "k3y")
        );
        assert_eq!(
            server.data,
            vec![PathBuf::from("a.json.gz"), PathBuf::from("b.json.gz")]
        );
        assert_eq!(
            s.plugins.params["cf"].usize_or("neighbours", 0).unwrap(),
            50
        );
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[evaluate]\nkk = 5\n").unwrap();
        let err = Settings::load_with_env(Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("kk"), "{err}");
        let err = Settings::load_with_env(None, env(&[("RECSYS__EVALUATE__PROTOCOL", "nope")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
        assert!(Settings::load_with_env(Some(Path::new("/no/such.toml")), env(&[])).is_err());
    }
}
