//! Where users, their preferences and their latest recommendations live.

mod embedded;
#[cfg(feature = "mongodb")]
mod mongo;

pub use embedded::EmbeddedStore;
#[cfg(feature = "mongodb")]
pub use mongo::MongoPreferenceStore;

use super::{Preference, StoredRecommendations, User};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached (the web layer answers 503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The backend answered with an error.
    #[error("store: {0}")]
    Backend(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users, preferences and recommendations. Implementations are cheap to share
/// (`Arc<dyn PreferenceStore>`) and safe to call concurrently.
#[async_trait::async_trait]
pub trait PreferenceStore: Send + Sync + std::fmt::Debug + 'static {
    /// A short name of the backend ("embedded", "mongodb").
    fn backend(&self) -> &'static str;

    /// Checks that the backend answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates `user`, or updates its name when it exists (keeping `created`).
    async fn upsert_user(&self, user: &User) -> StoreResult<User>;

    /// The user `id`.
    async fn user(&self, id: &str) -> StoreResult<Option<User>>;

    /// Sets the user's preference for `preference.asin`, replacing any earlier one.
    async fn set_preference(&self, user: &str, preference: &Preference) -> StoreResult<()>;

    /// Removes the user's preference for `asin`; false when there was none.
    async fn remove_preference(&self, user: &str, asin: &str) -> StoreResult<bool>;

    /// The user's preferences, oldest first (ties by ASIN).
    async fn preferences(&self, user: &str) -> StoreResult<Vec<Preference>>;

    /// Replaces the user's latest recommendations.
    async fn save_recommendations(&self, recs: &StoredRecommendations) -> StoreResult<()>;

    /// The user's latest recommendations.
    async fn recommendations(&self, user: &str) -> StoreResult<Option<StoredRecommendations>>;

    /// Records that event `event_id` was handled: true the first time, false after.
    async fn mark_processed(&self, event_id: &str) -> StoreResult<bool>;

    /// Whether event `event_id` was handled.
    async fn is_processed(&self, event_id: &str) -> StoreResult<bool>;
}
