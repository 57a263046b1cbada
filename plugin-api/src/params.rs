use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::PluginError;

/// One parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A string.
    Str(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Str(v) => write!(f, "{v:?}"),
        }
    }
}

impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        ParamValue::Bool(v)
    }
}

impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        ParamValue::Int(v)
    }
}

impl From<i32> for ParamValue {
    fn from(v: i32) -> Self {
        ParamValue::Int(v.into())
    }
}

impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Float(v)
    }
}

impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Str(v.into())
    }
}

/// Training parameters: a flat map from name to value, crossing the boundary as a JSON object.
///
/// Typed getters take the default to use when the parameter is absent and fail with
/// [`crate::ErrorKind::InvalidParams`] when it has the wrong type or range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<String, ParamValue>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }
    /// Parses a JSON object of scalars, e.g. `{"neighbours": 100, "shrinkage": 10.0}`.
    pub fn from_json(json: &str) -> Result<Self, PluginError> {
        if json.trim().is_empty() {
            return Ok(Self::new());
        }
        serde_json::from_str(json).map_err(|e| {
            PluginError::invalid_params(format!(
                "parameters must be a JSON object of booleans, numbers and strings: {e}"
            ))
        })
    }
    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a map of scalars always serializes")
    }
    /// Sets a parameter (builder style).
    pub fn with(mut self, name: &str, value: ParamValue) -> Self {
        self.0.insert(name.into(), value);
        self
    }
    /// These parameters with every value of `other` set over them.
    pub fn overlaid(mut self, other: &Params) -> Self {
        for (name, value) in other.iter() {
            self.set(name, value.clone());
        }
        self
    }
    /// Sets a parameter.
    pub fn set(&mut self, name: &str, value: ParamValue) {
        self.0.insert(name.into(), value);
    }
    /// The raw value of a parameter.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }
    /// All parameters, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
    /// Whether no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn wrong(name: &str, want: &str, got: &ParamValue) -> PluginError {
        PluginError::invalid_params(format!("parameter `{name}` must be {want}, got {got}"))
    }

    /// A number, or `default` when absent.
    pub fn f64_or(&self, name: &str, default: f64) -> Result<f64, PluginError> {
        match self.get(name) {
            None => Ok(default),
            Some(ParamValue::Float(v)) if v.is_finite() => Ok(*v),
            Some(ParamValue::Int(v)) => Ok(*v as f64),
            Some(other) => Err(Self::wrong(name, "a finite number", other)),
        }
    }
    /// An integer, or `default` when absent.
    pub fn i64_or(&self, name: &str, default: i64) -> Result<i64, PluginError> {
        match self.get(name) {
            None => Ok(default),
            Some(ParamValue::Int(v)) => Ok(*v),
            Some(other) => Err(Self::wrong(name, "an integer", other)),
        }
    }
    /// A non-negative integer, or `default` when absent.
    pub fn usize_or(&self, name: &str, default: usize) -> Result<usize, PluginError> {
        match self.get(name) {
            None => Ok(default),
            Some(ParamValue::Int(v)) if *v >= 0 => Ok(*v as usize),
            Some(other) => Err(Self::wrong(name, "a non-negative integer", other)),
        }
    }
    /// A boolean, or `default` when absent.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, PluginError> {
        match self.get(name) {
            None => Ok(default),
            Some(ParamValue::Bool(v)) => Ok(*v),
            Some(other) => Err(Self::wrong(name, "true or false", other)),
        }
    }
    /// A string, or `default` when absent.
    pub fn str_or<'a>(&'a self, name: &str, default: &'a str) -> Result<&'a str, PluginError> {
        match self.get(name) {
            None => Ok(default),
            Some(ParamValue::Str(v)) => Ok(v),
            Some(other) => Err(Self::wrong(name, "a string", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reads_typed_values() {
        let p = Params::from_json(r#"{"k": 100, "alpha": 0.5, "on": true, "name": "x"}"#).unwrap();
        assert_eq!(p.usize_or("k", 1).unwrap(), 100);
        assert_eq!(p.f64_or("k", 1.0).unwrap(), 100.0);
        assert_eq!(p.f64_or("alpha", 1.0).unwrap(), 0.5);
        assert!(p.bool_or("on", false).unwrap());
        assert_eq!(p.str_or("name", "").unwrap(), "x");
        assert_eq!(p.f64_or("missing", 2.5).unwrap(), 2.5);
        assert!(p.usize_or("alpha", 1).is_err());
        assert_eq!(Params::from_json(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn rejects_non_objects() {
        assert!(Params::from_json("[1,2]").is_err());
        assert!(Params::from_json(r#"{"a": [1]}"#).is_err());
        assert!(Params::from_json("").unwrap().is_empty());
    }
}
