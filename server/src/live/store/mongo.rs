//! [`MongoPreferenceStore`]: the [`PreferenceStore`] in MongoDB, for a server with several
//! replicas or workers. The collections are described in `docs/schema.md` ("Live
//! collections").
//!
//! The store holds only the driver's [`Client`], which reconnects by itself: a store created
//! while the server was up answers again once the server is back. Errors that say the server
//! cannot be reached (server selection, I/O, a shutting-down or stepped-down server) are
//! [`StoreError::Unavailable`]; the others are [`StoreError::Backend`].

use std::time::Duration;

use mongodb::bson::{doc, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use super::{PreferenceStore, StoreError, StoreResult};
use crate::engine::Recommendation;
use crate::live::{
    now_millis, Change, Preference, PreferenceEvent, PreferenceKind, StoredRecommendations, User,
};
use crate::store::redact_uri;

/// Collection of [`User`]s, `_id` = user id.
const USERS: &str = "users";
/// Collection of [`Preference`]s, `_id` = `user|asin`.
const PREFERENCES: &str = "preferences";
/// Collection of [`StoredRecommendations`], `_id` = user id.
const RECOMMENDATIONS: &str = "recommendations";
/// Collection of handled event ids, `_id` = event id.
const PROCESSED_EVENTS: &str = "processed_events";
/// Collection of the events to produce until they are handled, `_id` = event id.
const OUTBOX: &str = "outbox";

/// MongoDB's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// Server error codes that mean "not reachable right now, try again": host unreachable or not
/// found, network timeout, shutdown in progress, not primary, node recovering, stepped down,
/// socket exception, exceeded time limit, and the like (the driver's retryable-read codes).
const UNAVAILABLE_CODES: [i32; 13] = [
    6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
];

/// How long to look for a server when the URI does not say (`serverSelectionTimeoutMS`): an
/// unreachable server is reported as [`StoreError::Unavailable`] after this long.
const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// A user, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct UserDoc {
    #[serde(rename = "_id")]
    id: String,
    name: String,
    created: i64,
}

/// A preference, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct PreferenceDoc {
    /// `user|asin`.
    #[serde(rename = "_id")]
    id: String,
    user: String,
    asin: String,
    kind: PreferenceKind,
    value: Option<f32>,
    at: i64,
}

/// A user's latest recommendations, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct RecommendationsDoc {
    /// The user.
    #[serde(rename = "_id")]
    user: String,
    items: Vec<Recommendation>,
    model_version: String,
    event_id: Option<String>,
    at: i64,
}

/// An event in the outbox, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct OutboxDoc {
    /// The event id.
    #[serde(rename = "_id")]
    event_id: String,
    user: String,
    change: Change,
    at: i64,
}

/// The [`PreferenceStore`] in a MongoDB database. Cheap to clone; clones share the connections.
///
/// ```no_run
/// # async fn example() -> recsys::live::StoreResult<()> {
/// use recsys::live::{MongoPreferenceStore, PreferenceStore};
///
/// let store =
///     MongoPreferenceStore::connect("mongodb://127.0.0.1:27017/?directConnection=true", "recsys")
///         .await?;
/// assert_eq!(store.preferences("ann").await?, vec![]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MongoPreferenceStore {
    database: Database,
    /// The URI, password masked, for messages.
    uri: String,
}

impl MongoPreferenceStore {
    /// Connects to database `db` of the server at `uri`, checks that it answers and creates the
    /// indexes (preferences by (user, at), the outbox by time). Without `serverSelectionTimeoutMS` in the URI, an
    /// unreachable server is given up after 2 s.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when no server answers in time, [`StoreError::Backend`] for
    /// an invalid URI or a server that refuses. Messages name the URI, password masked.
    pub async fn connect(uri: &str, db: &str) -> StoreResult<Self> {
        let shown = redact_uri(uri);
        let mut options = ClientOptions::parse(uri)
            .await
            .map_err(|e| StoreError::Backend(format!("invalid MongoDB URI {shown}: {e}")))?;
        let timeout = *options
            .server_selection_timeout
            .get_or_insert(DEFAULT_SERVER_SELECTION_TIMEOUT);
        options
            .connect_timeout
            .get_or_insert(timeout.min(Duration::from_secs(10)));
        options.app_name.get_or_insert_with(|| "recsys".to_owned());
        let client = Client::with_options(options)
            .map_err(|e| StoreError::Backend(format!("invalid MongoDB URI {shown}: {e}")))?;
        let store = Self {
            database: client.database(db),
            uri: shown,
        };
        store.ping().await?;
        let index = IndexModel::builder()
            .keys(doc! { "user": 1, "at": 1 })
            .options(IndexOptions::builder().name("user_at".to_owned()).build())
            .build();
        store
            .preferences_collection()
            .create_index(index)
            .await
            .map_err(store.error("creating the index of preferences"))?;
        let index = IndexModel::builder()
            .keys(doc! { "at": 1 })
            .options(IndexOptions::builder().name("at".to_owned()).build())
            .build();
        store
            .outbox_collection()
            .create_index(index)
            .await
            .map_err(store.error("creating the index of the outbox"))?;
        Ok(store)
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    fn users(&self) -> Collection<UserDoc> {
        self.database.collection(USERS)
    }

    fn preferences_collection(&self) -> Collection<PreferenceDoc> {
        self.database.collection(PREFERENCES)
    }

    fn recommendations_collection(&self) -> Collection<RecommendationsDoc> {
        self.database.collection(RECOMMENDATIONS)
    }

    fn processed_events(&self) -> Collection<Document> {
        self.database.collection(PROCESSED_EVENTS)
    }

    fn outbox_collection(&self) -> Collection<OutboxDoc> {
        self.database.collection(OUTBOX)
    }

    /// Maps a driver error met while doing `operation` to a [`StoreError`].
    fn error(&self, operation: &str) -> impl Fn(mongodb::error::Error) -> StoreError + '_ {
        let operation = operation.to_owned();
        move |e| {
            let message = format!("MongoDB at {}: {operation}: {e}", self.uri);
            if is_unavailable(&e) {
                StoreError::Unavailable(message)
            } else {
                StoreError::Backend(message)
            }
        }
    }
}

/// Whether `e` says the server cannot be reached right now (as opposed to refusing the request).
fn is_unavailable(e: &mongodb::error::Error) -> bool {
    let code = match e.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => return true,
        ErrorKind::Command(command) => command.code,
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => concern.code,
        _ => return false,
    };
    UNAVAILABLE_CODES.contains(&code)
}

/// Whether `e` is a duplicate-key error.
fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == DUPLICATE_KEY,
        ErrorKind::Command(command) => command.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// The `_id` of `user`'s preference for `asin`.
fn preference_id(user: &str, asin: &str) -> String {
    format!("{user}|{asin}")
}

#[async_trait::async_trait]
impl PreferenceStore for MongoPreferenceStore {
    fn backend(&self) -> &'static str {
        "mongodb"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map(|_| ())
            .map_err(self.error("ping"))
    }

    async fn upsert_user(&self, user: &User) -> StoreResult<User> {
        let users = self.users();
        let upsert = || {
            users
                .find_one_and_update(
                    doc! { "_id": &user.id },
                    doc! {
                        "$set": { "name": &user.name },
                        "$setOnInsert": { "created": user.created },
                    },
                )
                .upsert(true)
                .return_document(ReturnDocument::After)
        };
        // Two concurrent upserts of a new user may both try to insert; the loser retries
        // once and then finds the winner's document.
        let stored = match upsert().await {
            Err(e) if is_duplicate_key(&e) => upsert().await,
            result => result,
        }
        .map_err(self.error("saving a user"))?;
        let stored = stored.ok_or_else(|| {
            StoreError::Backend(format!(
                "MongoDB at {}: saving user {}: the upsert returned no document",
                self.uri, user.id
            ))
        })?;
        Ok(User {
            id: stored.id,
            name: stored.name,
            created: stored.created,
        })
    }

    async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        let found = self
            .users()
            .find_one(doc! { "_id": id })
            .await
            .map_err(self.error("reading a user"))?;
        Ok(found.map(|u| User {
            id: u.id,
            name: u.name,
            created: u.created,
        }))
    }

    async fn set_preference(&self, user: &str, preference: &Preference) -> StoreResult<()> {
        let id = preference_id(user, &preference.asin);
        let document = PreferenceDoc {
            id: id.clone(),
            user: user.to_owned(),
            asin: preference.asin.clone(),
            kind: preference.kind,
            value: preference.value,
            at: preference.at,
        };
        self.preferences_collection()
            .replace_one(doc! { "_id": id }, document)
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(self.error("saving a preference"))
    }

    async fn remove_preference(&self, user: &str, asin: &str) -> StoreResult<bool> {
        let result = self
            .preferences_collection()
            .delete_one(doc! { "_id": preference_id(user, asin) })
            .await
            .map_err(self.error("removing a preference"))?;
        Ok(result.deleted_count > 0)
    }

    async fn preferences(&self, user: &str) -> StoreResult<Vec<Preference>> {
        let error = self.error("reading preferences");
        let mut cursor = self
            .preferences_collection()
            .find(doc! { "user": user })
            .sort(doc! { "at": 1, "asin": 1 })
            .await
            .map_err(&error)?;
        let mut preferences = Vec::new();
        while cursor.advance().await.map_err(&error)? {
            let p = cursor.deserialize_current().map_err(&error)?;
            preferences.push(Preference {
                asin: p.asin,
                kind: p.kind,
                value: p.value,
                at: p.at,
            });
        }
        Ok(preferences)
    }

    async fn save_recommendations(&self, recs: &StoredRecommendations) -> StoreResult<()> {
        let document = RecommendationsDoc {
            user: recs.user.clone(),
            items: recs.items.clone(),
            model_version: recs.model_version.clone(),
            event_id: recs.event_id.clone(),
            at: recs.at,
        };
        self.recommendations_collection()
            .replace_one(doc! { "_id": &recs.user }, document)
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(self.error("saving recommendations"))
    }

    async fn recommendations(&self, user: &str) -> StoreResult<Option<StoredRecommendations>> {
        let found = self
            .recommendations_collection()
            .find_one(doc! { "_id": user })
            .await
            .map_err(self.error("reading recommendations"))?;
        Ok(found.map(|r| StoredRecommendations {
            user: r.user,
            items: r.items,
            model_version: r.model_version,
            event_id: r.event_id,
            at: r.at,
        }))
    }

    async fn mark_processed(&self, event_id: &str) -> StoreResult<bool> {
        // The unique `_id` makes the insert the atomic check.
        match self
            .processed_events()
            .insert_one(doc! { "_id": event_id, "at": now_millis() })
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(self.error("marking an event processed")(e)),
        }
    }

    async fn is_processed(&self, event_id: &str) -> StoreResult<bool> {
        let found = self
            .processed_events()
            .find_one(doc! { "_id": event_id })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(self.error("reading processed events"))?;
        Ok(found.is_some())
    }

    async fn forget_processed(&self, before: i64) -> StoreResult<u64> {
        self.processed_events()
            .delete_many(doc! { "at": { "$lt": before } })
            .await
            .map(|result| result.deleted_count)
            .map_err(self.error("forgetting old events"))
    }

    async fn add_to_outbox(&self, event: &PreferenceEvent) -> StoreResult<()> {
        let document = OutboxDoc {
            event_id: event.event_id.clone(),
            user: event.user.clone(),
            change: event.change.clone(),
            at: event.at,
        };
        self.outbox_collection()
            .replace_one(doc! { "_id": &event.event_id }, document)
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(self.error("recording an event"))
    }

    async fn outbox(&self, before: i64, limit: usize) -> StoreResult<Vec<PreferenceEvent>> {
        let error = self.error("reading the outbox");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut cursor = self
            .outbox_collection()
            .find(doc! { "at": { "$lte": before } })
            .sort(doc! { "at": 1, "_id": 1 })
            .limit(limit)
            .await
            .map_err(&error)?;
        let mut events = Vec::new();
        while cursor.advance().await.map_err(&error)? {
            let d = cursor.deserialize_current().map_err(&error)?;
            events.push(PreferenceEvent {
                event_id: d.event_id,
                user: d.user,
                change: d.change,
                at: d.at,
            });
        }
        Ok(events)
    }

    async fn remove_from_outbox(&self, event_id: &str) -> StoreResult<()> {
        self.outbox_collection()
            .delete_one(doc! { "_id": event_id })
            .await
            .map(|_| ())
            .map_err(self.error("removing an event from the outbox"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_ids_join_user_and_asin() {
        assert_eq!(preference_id("ann", "B000123"), "ann|B000123");
    }
}
