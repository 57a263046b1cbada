//! The records the store keeps and the bus carries.

use serde::{Deserialize, Serialize};

use crate::engine::{Interest, Recommendation};

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A person using the web app (or a client acting for them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Unique id: 1 to 64 characters of `[A-Za-z0-9_.-]`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time, Unix milliseconds.
    pub created: i64,
}

/// What a preference says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreferenceKind {
    /// The user likes the item.
    Like,
    /// The user does not want to see the item.
    Dislike,
    /// A star rating (1 to 5) in `value`.
    Rating,
}

/// One preference of a user for an item. A user has at most one per item: setting a new one
/// replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preference {
    /// The item.
    pub asin: String,
    /// Like, dislike or rating.
    pub kind: PreferenceKind,
    /// The stars of a rating (1 to 5); `None` for likes and dislikes.
    pub value: Option<f32>,
    /// When it was expressed, Unix milliseconds.
    pub at: i64,
}

impl Preference {
    /// The signal the engine folds in.
    pub fn interest(&self) -> Interest {
        match self.kind {
            PreferenceKind::Like => Interest::like(&self.asin),
            PreferenceKind::Dislike => Interest::dislike(&self.asin),
            PreferenceKind::Rating => Interest::rating(&self.asin, self.value.unwrap_or(0.0)),
        }
    }
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Change {
    /// A preference was set (added or replaced).
    Set {
        /// The new preference.
        preference: Preference,
    },
    /// The preference for `asin` was removed.
    Remove {
        /// The item.
        asin: String,
    },
}

/// A preference change, as produced to the events topic (key = user id). The store already
/// holds the change when the event is produced; the worker recomputes from the store, so
/// handling an event twice gives the same result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferenceEvent {
    /// Unique id; handling is idempotent by it.
    pub event_id: String,
    /// The user.
    pub user: String,
    /// The change.
    pub change: Change,
    /// When it happened, Unix milliseconds.
    pub at: i64,
}

/// A user's latest recommendations, as stored (and as produced to the recommendations topic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecommendations {
    /// The user.
    pub user: String,
    /// The items, best first, with explanations and contributing plugins.
    pub items: Vec<Recommendation>,
    /// The engine version that computed them ([`crate::engine::Engine::version`]).
    pub model_version: String,
    /// The event that caused them (`None` when computed on request).
    pub event_id: Option<String>,
    /// When they were computed, Unix milliseconds.
    pub at: i64,
}

/// The value produced to the recommendations topic (key = user id).
pub type RecommendationsMessage = StoredRecommendations;
