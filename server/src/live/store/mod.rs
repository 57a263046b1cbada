//! Where users, their preferences and their latest recommendations live.

mod embedded;
#[cfg(feature = "mongodb")]
mod mongo;

pub use embedded::EmbeddedStore;
#[cfg(feature = "mongodb")]
pub use mongo::MongoPreferenceStore;

use super::{Preference, PreferenceEvent, StoredRecommendations, User};

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

    /// Forgets the events marked handled before `before` (Unix milliseconds), so that the
    /// marks do not grow without end; how many were forgotten. An event is redelivered only
    /// while the bus keeps it, so marks older than its retention guard nothing.
    async fn forget_processed(&self, before: i64) -> StoreResult<u64>;

    /// Records `event` in the outbox: the events to produce, kept until they are handled, so
    /// that one a stopped process never got to the bus is produced again by the next (see
    /// [`Live::relay_outbox`](crate::live::Live::relay_outbox)). Recording an event again
    /// replaces it.
    async fn add_to_outbox(&self, event: &PreferenceEvent) -> StoreResult<()>;

    /// Up to `limit` outbox events recorded at or before `before` (their `at`, Unix
    /// milliseconds), oldest first (ties by event id).
    async fn outbox(&self, before: i64, limit: usize) -> StoreResult<Vec<PreferenceEvent>>;

    /// Removes event `event_id` from the outbox; nothing happens when it is not there.
    async fn remove_from_outbox(&self, event_id: &str) -> StoreResult<()>;
}

/// A store whose every call gives up after `limit`, as [`StoreError::Unavailable`]. The MongoDB
/// driver has no socket timeout: against a server that accepts connections but does not answer
/// (hung, paused, a half-open network), a call waits until the driver's monitor gives the server
/// up, about 14 s in tests. Behind this, such a call answers 503 within `limit` like any other
/// outage. A write that gave up may still be applied later; every write here is idempotent.
#[derive(Debug)]
pub struct Bounded<S> {
    inner: S,
    limit: std::time::Duration,
}

impl<S: PreferenceStore> Bounded<S> {
    /// `inner`, each call limited to `limit`.
    pub fn new(inner: S, limit: std::time::Duration) -> Self {
        Bounded { inner, limit }
    }

    async fn within<T>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        match tokio::time::timeout(self.limit, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(format!(
                "{} store: no answer within {:?} ({what})",
                self.inner.backend(),
                self.limit
            ))),
        }
    }
}

#[async_trait::async_trait]
impl<S: PreferenceStore> PreferenceStore for Bounded<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn ping(&self) -> StoreResult<()> {
        self.within("ping", self.inner.ping()).await
    }
    async fn upsert_user(&self, user: &User) -> StoreResult<User> {
        self.within("saving a user", self.inner.upsert_user(user))
            .await
    }
    async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        self.within("reading a user", self.inner.user(id)).await
    }
    async fn set_preference(&self, user: &str, preference: &Preference) -> StoreResult<()> {
        self.within(
            "saving a preference",
            self.inner.set_preference(user, preference),
        )
        .await
    }
    async fn remove_preference(&self, user: &str, asin: &str) -> StoreResult<bool> {
        self.within(
            "removing a preference",
            self.inner.remove_preference(user, asin),
        )
        .await
    }
    async fn preferences(&self, user: &str) -> StoreResult<Vec<Preference>> {
        self.within("reading preferences", self.inner.preferences(user))
            .await
    }
    async fn save_recommendations(&self, recs: &StoredRecommendations) -> StoreResult<()> {
        self.within(
            "saving recommendations",
            self.inner.save_recommendations(recs),
        )
        .await
    }
    async fn recommendations(&self, user: &str) -> StoreResult<Option<StoredRecommendations>> {
        self.within("reading recommendations", self.inner.recommendations(user))
            .await
    }
    async fn mark_processed(&self, event_id: &str) -> StoreResult<bool> {
        self.within("marking an event", self.inner.mark_processed(event_id))
            .await
    }
    async fn is_processed(&self, event_id: &str) -> StoreResult<bool> {
        self.within("reading an event", self.inner.is_processed(event_id))
            .await
    }
    async fn forget_processed(&self, before: i64) -> StoreResult<u64> {
        self.within("forgetting old events", self.inner.forget_processed(before))
            .await
    }
    async fn add_to_outbox(&self, event: &PreferenceEvent) -> StoreResult<()> {
        self.within("recording an event", self.inner.add_to_outbox(event))
            .await
    }
    async fn outbox(&self, before: i64, limit: usize) -> StoreResult<Vec<PreferenceEvent>> {
        self.within("reading the outbox", self.inner.outbox(before, limit))
            .await
    }
    async fn remove_from_outbox(&self, event_id: &str) -> StoreResult<()> {
        self.within(
            "removing an event from the outbox",
            self.inner.remove_from_outbox(event_id),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A backend that accepted the call and never answers.
    #[derive(Debug)]
    struct Hung;

    #[async_trait::async_trait]
    impl PreferenceStore for Hung {
        fn backend(&self) -> &'static str {
            "hung"
        }
        async fn ping(&self) -> StoreResult<()> {
            std::future::pending().await
        }
        async fn upsert_user(&self, _: &User) -> StoreResult<User> {
            std::future::pending().await
        }
        async fn user(&self, _: &str) -> StoreResult<Option<User>> {
            std::future::pending().await
        }
        async fn set_preference(&self, _: &str, _: &Preference) -> StoreResult<()> {
            std::future::pending().await
        }
        async fn remove_preference(&self, _: &str, _: &str) -> StoreResult<bool> {
            std::future::pending().await
        }
        async fn preferences(&self, _: &str) -> StoreResult<Vec<Preference>> {
            std::future::pending().await
        }
        async fn save_recommendations(&self, _: &StoredRecommendations) -> StoreResult<()> {
            std::future::pending().await
        }
        async fn recommendations(&self, _: &str) -> StoreResult<Option<StoredRecommendations>> {
            std::future::pending().await
        }
        async fn mark_processed(&self, _: &str) -> StoreResult<bool> {
            std::future::pending().await
        }
        async fn is_processed(&self, _: &str) -> StoreResult<bool> {
            std::future::pending().await
        }
        async fn forget_processed(&self, _: i64) -> StoreResult<u64> {
            std::future::pending().await
        }
        async fn add_to_outbox(&self, _: &PreferenceEvent) -> StoreResult<()> {
            std::future::pending().await
        }
        async fn outbox(&self, _: i64, _: usize) -> StoreResult<Vec<PreferenceEvent>> {
            std::future::pending().await
        }
        async fn remove_from_outbox(&self, _: &str) -> StoreResult<()> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn a_backend_that_never_answers_is_unavailable_after_the_limit() {
        let store = Bounded::new(Hung, Duration::from_millis(50));
        let start = Instant::now();
        let err = store.preferences("ann").await.unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(&err, StoreError::Unavailable(m) if m.contains("hung store: no answer within 50ms (reading preferences)")),
            "{err}"
        );
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(store.backend(), "hung");
    }

    #[tokio::test]
    async fn a_backend_that_answers_is_passed_through() {
        let store = Bounded::new(EmbeddedStore::in_memory().unwrap(), Duration::from_secs(5));
        let user = User {
            id: "ann".into(),
            name: "Ann".into(),
            created: 1,
        };
        store.upsert_user(&user).await.unwrap();
        assert_eq!(
            store.user("ann").await.unwrap().map(|u| u.name),
            Some("Ann".into())
        );
        assert!(store.user("bob").await.unwrap().is_none());
    }
}
