//! [`EmbeddedStore`]: the [`PreferenceStore`] in one redb file (or in memory), for a server that
//! needs no setup.
//!
//! Five tables, all keyed by strings:
//!
//! | table | key | value |
//! |---|---|---|
//! | `users` | user id | [`User`] as JSON |
//! | `preferences` | `user` `\0` `asin` | [`Preference`] as JSON |
//! | `recommendations` | user id | [`StoredRecommendations`] as JSON |
//! | `processed_events` | event id | when it was marked, Unix milliseconds |
//! | `outbox` | event id | [`PreferenceEvent`] as JSON, until it is handled |
//!
//! A user's preferences are the key range `user\0` .. `user\x01`: user ids never contain `\0`,
//! so the preferences of `ab` and `abc` never mix.
//!
//! redb is blocking: every call runs on tokio's blocking pool (`spawn_blocking`) with the
//! database behind an [`Arc`]. Every write is one redb write transaction, so it is atomic and
//! writes are serialised: [`PreferenceStore::mark_processed`] checks and inserts in one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::backends::InMemoryBackend;
use redb::{Database, DatabaseError, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{PreferenceStore, StoreError, StoreResult};
use crate::live::{now_millis, Preference, PreferenceEvent, StoredRecommendations, User};

/// User id -> [`User`] (JSON).
const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
/// `user\0asin` -> [`Preference`] (JSON).
const PREFERENCES: TableDefinition<&str, &[u8]> = TableDefinition::new("preferences");
/// User id -> [`StoredRecommendations`] (JSON).
const RECOMMENDATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("recommendations");
/// Event id -> when it was marked processed (Unix milliseconds).
const PROCESSED_EVENTS: TableDefinition<&str, i64> = TableDefinition::new("processed_events");
/// Event id -> [`PreferenceEvent`] (JSON), from when it is recorded until it is handled.
const OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("outbox");

/// The [`PreferenceStore`] on redb: a single file ([`EmbeddedStore::open`]) or memory
/// ([`EmbeddedStore::in_memory`]). Cheap to clone; clones share the database.
///
/// ```
/// # async fn example() -> recsys::live::StoreResult<()> {
/// use recsys::live::{EmbeddedStore, PreferenceStore, User};
///
/// let store = EmbeddedStore::in_memory()?;
/// let ann = User { id: "ann".into(), name: "Ann".into(), created: 1 };
/// store.upsert_user(&ann).await?;
/// assert_eq!(store.user("ann").await?, Some(ann));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// The file, or `None` in memory; for messages.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens the store in the file at `path`, creating the file and its parent directories
    /// when missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] naming the file when it cannot be created or opened: a directory
    /// that cannot be made, a file that is not a redb database, or one that another process
    /// (or another `EmbeddedStore` of this process) already has open.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let shown = path.display();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Backend(format!(
                    "cannot create the directory of the embedded store {shown}: {e}"
                ))
            })?;
        }
        let db = Database::create(path).map_err(|e| match e {
            DatabaseError::DatabaseAlreadyOpen => StoreError::Backend(format!(
                "the embedded store {shown} is already open in another process \
                 (or elsewhere in this one): stop it or use another file"
            )),
            e => StoreError::Backend(format!("cannot open the embedded store {shown}: {e}")),
        })?;
        Self::init(db, Some(path.to_path_buf()))
    }

    /// A store in memory, empty, gone when the last clone is dropped (for tests and demos).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if redb cannot set up its tables.
    pub fn in_memory() -> StoreResult<Self> {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .map_err(|e| StoreError::Backend(format!("cannot create the in-memory store: {e}")))?;
        Self::init(db, None)
    }

    /// The file of the store, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Creates the tables that do not exist yet, so that reads never meet a missing table.
    fn init(db: Database, path: Option<PathBuf>) -> StoreResult<Self> {
        let store = Self {
            db: Arc::new(db),
            path,
        };
        let fail = |e: &dyn std::fmt::Display| store.error("creating the tables", e);
        let txn = store.db.begin_write().map_err(|e| fail(&e))?;
        txn.open_table(USERS).map_err(|e| fail(&e))?;
        txn.open_table(PREFERENCES).map_err(|e| fail(&e))?;
        txn.open_table(RECOMMENDATIONS).map_err(|e| fail(&e))?;
        txn.open_table(PROCESSED_EVENTS).map_err(|e| fail(&e))?;
        txn.open_table(OUTBOX).map_err(|e| fail(&e))?;
        txn.commit().map_err(|e| fail(&e))?;
        Ok(store)
    }

    /// `memory` or the file's path, for messages.
    fn location(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => "memory".to_owned(),
        }
    }

    fn error(&self, operation: &str, e: &dyn std::fmt::Display) -> StoreError {
        StoreError::Backend(format!(
            "embedded store ({}): {operation}: {e}",
            self.location()
        ))
    }

    /// Runs `f` on the blocking pool with the database; its redb errors (any `Display`) are
    /// reported as [`StoreError::Backend`] saying what was being done.
    async fn run<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, Failure> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        match tokio::task::spawn_blocking(move || f(&db)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(failure)) => Err(self.error(operation, &failure.0)),
            Err(e) => Err(self.error(operation, &e)),
        }
    }
}

/// A failure inside a blocking call: redb's or serde_json's message.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// The key of `user`'s preference for `asin`.
fn preference_key(user: &str, asin: &str) -> String {
    format!("{user}\0{asin}")
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Failure> {
    Ok(serde_json::to_vec(value)?)
}

fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    Ok(serde_json::from_slice(bytes)?)
}

#[async_trait::async_trait]
impl PreferenceStore for EmbeddedStore {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.run("ping", |db| {
            let txn = db.begin_read()?;
            txn.open_table(USERS)?;
            Ok(())
        })
        .await
    }

    async fn upsert_user(&self, user: &User) -> StoreResult<User> {
        let user = user.clone();
        self.run("saving a user", move |db| {
            let txn = db.begin_write()?;
            let stored = {
                let mut table = txn.open_table(USERS)?;
                let created = match table.get(user.id.as_str())? {
                    Some(old) => from_json::<User>(old.value())?.created,
                    None => user.created,
                };
                let stored = User { created, ..user };
                table.insert(stored.id.as_str(), to_json(&stored)?.as_slice())?;
                stored
            };
            txn.commit()?;
            Ok(stored)
        })
        .await
    }

    async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        let id = id.to_owned();
        self.run("reading a user", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(USERS)?;
            let user = table.get(id.as_str())?;
            user.map(|u| from_json(u.value())).transpose()
        })
        .await
    }

    async fn set_preference(&self, user: &str, preference: &Preference) -> StoreResult<()> {
        let key = preference_key(user, &preference.asin);
        let value = to_json(preference).map_err(|f| self.error("saving a preference", &f.0))?;
        self.run("saving a preference", move |db| {
            let txn = db.begin_write()?;
            txn.open_table(PREFERENCES)?
                .insert(key.as_str(), value.as_slice())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn remove_preference(&self, user: &str, asin: &str) -> StoreResult<bool> {
        let key = preference_key(user, asin);
        self.run("removing a preference", move |db| {
            let txn = db.begin_write()?;
            let removed = txn.open_table(PREFERENCES)?.remove(key.as_str())?.is_some();
            txn.commit()?;
            Ok(removed)
        })
        .await
    }

    async fn preferences(&self, user: &str) -> StoreResult<Vec<Preference>> {
        let (start, end) = (format!("{user}\0"), format!("{user}\u{1}"));
        self.run("reading preferences", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(PREFERENCES)?;
            let mut preferences = Vec::new();
            // In key order, that is by ASIN; the stable sort then keeps ties by ASIN.
            for entry in table.range(start.as_str()..end.as_str())? {
                let (_, value) = entry?;
                preferences.push(from_json::<Preference>(value.value())?);
            }
            preferences.sort_by_key(|p| p.at);
            Ok(preferences)
        })
        .await
    }

    async fn save_recommendations(&self, recs: &StoredRecommendations) -> StoreResult<()> {
        let user = recs.user.clone();
        let value = to_json(recs).map_err(|f| self.error("saving recommendations", &f.0))?;
        self.run("saving recommendations", move |db| {
            let txn = db.begin_write()?;
            txn.open_table(RECOMMENDATIONS)?
                .insert(user.as_str(), value.as_slice())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn recommendations(&self, user: &str) -> StoreResult<Option<StoredRecommendations>> {
        let user = user.to_owned();
        self.run("reading recommendations", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(RECOMMENDATIONS)?;
            let recs = table.get(user.as_str())?;
            recs.map(|r| from_json(r.value())).transpose()
        })
        .await
    }

    async fn mark_processed(&self, event_id: &str) -> StoreResult<bool> {
        let event_id = event_id.to_owned();
        self.run("marking an event processed", move |db| {
            // One write transaction: redb runs one at a time, so check-then-insert is atomic.
            let txn = db.begin_write()?;
            let first = {
                let mut table = txn.open_table(PROCESSED_EVENTS)?;
                let first = table.get(event_id.as_str())?.is_none();
                if first {
                    table.insert(event_id.as_str(), now_millis())?;
                }
                first
            };
            txn.commit()?;
            Ok(first)
        })
        .await
    }

    async fn is_processed(&self, event_id: &str) -> StoreResult<bool> {
        let event_id = event_id.to_owned();
        self.run("reading processed events", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(PROCESSED_EVENTS)?;
            let found = table.get(event_id.as_str())?.is_some();
            Ok(found)
        })
        .await
    }

    async fn forget_processed(&self, before: i64) -> StoreResult<u64> {
        self.run("forgetting old events", move |db| {
            let txn = db.begin_write()?;
            let mut forgotten = 0;
            txn.open_table(PROCESSED_EVENTS)?.retain(|_, marked| {
                let keep = marked >= before;
                forgotten += u64::from(!keep);
                keep
            })?;
            txn.commit()?;
            Ok(forgotten)
        })
        .await
    }

    async fn add_to_outbox(&self, event: &PreferenceEvent) -> StoreResult<()> {
        let id = event.event_id.clone();
        let value = to_json(event).map_err(|f| self.error("recording an event", &f.0))?;
        self.run("recording an event", move |db| {
            let txn = db.begin_write()?;
            txn.open_table(OUTBOX)?
                .insert(id.as_str(), value.as_slice())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn outbox(&self, before: i64, limit: usize) -> StoreResult<Vec<PreferenceEvent>> {
        self.run("reading the outbox", move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(OUTBOX)?;
            // The outbox holds the events not handled yet: a handful, unless the bus has been
            // away for long. A scan is simpler than a second table keyed by time.
            let mut events = Vec::new();
            for entry in table.iter()? {
                let (_, value) = entry?;
                let event: PreferenceEvent = from_json(value.value())?;
                if event.at <= before {
                    events.push(event);
                }
            }
            events.sort_by(|a, b| (a.at, &a.event_id).cmp(&(b.at, &b.event_id)));
            events.truncate(limit);
            Ok(events)
        })
        .await
    }

    async fn remove_from_outbox(&self, event_id: &str) -> StoreResult<()> {
        let event_id = event_id.to_owned();
        self.run("removing an event from the outbox", move |db| {
            let txn = db.begin_write()?;
            txn.open_table(OUTBOX)?.remove(event_id.as_str())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_keys_of_a_user_sort_inside_its_range() {
        let (start, end) = ("ab\0".to_owned(), "ab\u{1}".to_owned());
        let own = preference_key("ab", "B000");
        let other = preference_key("abc", "B000");
        assert!(start.as_str() <= own.as_str() && own.as_str() < end.as_str());
        assert!(!(start.as_str() <= other.as_str() && other.as_str() < end.as_str()));
    }
}
