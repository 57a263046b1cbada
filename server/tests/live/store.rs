//! The `PreferenceStore` conformance suite: every behaviour is one generic `async fn` on
//! `&dyn PreferenceStore`, run against the embedded store in a temporary file, the embedded
//! store in memory, and MongoDB at `RECSYS_TEST_MONGODB_URI` (each test in a database of its
//! own, dropped at the end; skipped with a notice when the variable is unset, failing under CI).
//! Then what only one backend has: reopening the embedded file, opening it twice, and a MongoDB
//! server that cannot be reached or goes away and comes back.

#[cfg(feature = "mongodb")]
use mongo_support::TestDb;
use recsys::engine::{Recommendation, Source};
use recsys::live::{
    Change, EmbeddedStore, Preference, PreferenceEvent, PreferenceKind, PreferenceStore,
    StoreError, StoredRecommendations, User,
};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// What the MongoDB tests need: the server's URI and a database of their own.
#[cfg(feature = "mongodb")]
mod mongo_support {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use recsys::live::MongoPreferenceStore;

    /// The URI of the MongoDB server under test, from `RECSYS_TEST_MONGODB_URI`; skipped
    /// (or, under CI, failed) when unset.
    pub fn mongodb_uri() -> Option<String> {
        crate::support::required_env("RECSYS_TEST_MONGODB_URI")
    }

    /// A MongoDB store on a database of the test's own, empty; dropped by [`TestDb::drop_now`].
    pub struct TestDb {
        pub store: MongoPreferenceStore,
    }

    impl TestDb {
        /// A fresh database named after `test` on the server under test; `None` when the MongoDB
        /// tests are skipped.
        pub async fn new(test: &str) -> Option<TestDb> {
            let uri = mongodb_uri()?;
            Some(Self::at(&uri, test).await)
        }

        /// A fresh database named after `test` on the server at `uri`.
        pub async fn at(uri: &str, test: &str) -> TestDb {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            // Database names have at most 63 bytes; the process id and counter keep them unique.
            let mut name = format!("rtlive_{}_{n}_{test}", std::process::id());
            name.truncate(63);
            let store = MongoPreferenceStore::connect(uri, &name)
                .await
                .expect("the MongoDB server under test answers");
            store
                .database()
                .drop()
                .await
                .expect("drop the test database");
            // Dropping the database dropped the index that connect made; make it again.
            let store = MongoPreferenceStore::connect(uri, &name)
                .await
                .expect("the MongoDB server under test answers");
            TestDb { store }
        }

        pub async fn drop_now(self) {
            self.store
                .database()
                .drop()
                .await
                .expect("drop the test database");
        }
    }
}

/// An embedded store in a file of a temporary directory (in a subdirectory that does not exist
/// yet: `open` creates it). The directory lives as long as the returned guard.
fn file_store() -> (EmbeddedStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("data/live.redb")).unwrap();
    (store, dir)
}

fn user(id: &str, name: &str, created: i64) -> User {
    User {
        id: id.into(),
        name: name.into(),
        created,
    }
}

fn like(asin: &str, at: i64) -> Preference {
    Preference {
        asin: asin.into(),
        kind: PreferenceKind::Like,
        value: None,
        at,
    }
}

fn dislike(asin: &str, at: i64) -> Preference {
    Preference {
        kind: PreferenceKind::Dislike,
        ..like(asin, at)
    }
}

fn rating(asin: &str, stars: f32, at: i64) -> Preference {
    Preference {
        kind: PreferenceKind::Rating,
        value: Some(stars),
        ..like(asin, at)
    }
}

fn asins(preferences: &[Preference]) -> Vec<&str> {
    preferences.iter().map(|p| p.asin.as_str()).collect()
}

/// Recommendations with full explanations and scores that a lossy float encoding would
/// change (shortest round-trip representations of 17 significant digits, tiny and huge
/// magnitudes).
fn recommendations(user: &str, event_id: Option<&str>) -> StoredRecommendations {
    let item = |asin: &str, score: f64, share: f64| Recommendation {
        asin: asin.into(),
        score,
        sources: vec![
            Source {
                plugin: "cf-item".into(),
                rank: 1,
                share,
            },
            Source {
                plugin: "content".into(),
                rank: 17,
                share: 1.0 - share,
            },
        ],
        because: format!(
            "Because you liked \u{201c}Über Gitarre\u{201d} \u{2605}\u{2605} ({asin})"
        ),
        because_items: vec!["B00KV30IHG".into(), "B0002CZVXM".into()],
        because_terms: vec!["strings".into(), "nylon".into()],
    };
    StoredRecommendations {
        user: user.into(),
        items: vec![
            item("B000000001", 0.009906820319342497, 0.015425372669422517),
            item("B000000002", 1.0 / 3.0, 0.1 + 0.2),
            item("B000000003", 1e-300, 2.0f64.sqrt() / 2.0),
            item("B000000004", 12345.678901234567, f64::MIN_POSITIVE),
            Recommendation {
                asin: "B000000005".into(),
                score: 0.0,
                sources: vec![],
                because: String::new(),
                because_items: vec![],
                because_terms: vec![],
            },
        ],
        model_version: "ensemble-20261127T104307662Z".into(),
        event_id: event_id.map(Into::into),
        at: 1_764_240_000_123,
    }
}

// ---------------------------------------------------------------------------------------------
// The behaviours, one per backend-independent `async fn`
// ---------------------------------------------------------------------------------------------

/// Upserting an existing user updates its name and keeps its creation time.
async fn user_upsert_keeps_created_and_updates_name(store: &dyn PreferenceStore) {
    store.ping().await.unwrap();
    let ann = user("ann", "Ann", 1_000);
    assert_eq!(store.upsert_user(&ann).await.unwrap(), ann);
    assert_eq!(store.user("ann").await.unwrap(), Some(ann.clone()));

    let renamed = store
        .upsert_user(&user("ann", "Ann Bell", 2_000))
        .await
        .unwrap();
    let expected = user("ann", "Ann Bell", 1_000);
    assert_eq!(renamed, expected, "the name changes, `created` does not");
    assert_eq!(store.user("ann").await.unwrap(), Some(expected));

    let bob = user("bob", "Bob", 3_000);
    store.upsert_user(&bob).await.unwrap();
    assert_eq!(store.user("bob").await.unwrap(), Some(bob));
    assert_eq!(
        store.user("ann").await.unwrap().unwrap().name,
        "Ann Bell",
        "other users are untouched"
    );
}

/// Users, preferences, recommendations and events that were never written are absent.
async fn unknown_ids_are_absent(store: &dyn PreferenceStore) {
    assert_eq!(store.user("nobody").await.unwrap(), None);
    store.upsert_user(&user("ann", "Ann", 1)).await.unwrap();
    assert_eq!(store.user("an").await.unwrap(), None);
    assert_eq!(store.user("anne").await.unwrap(), None);
    assert_eq!(store.preferences("nobody").await.unwrap(), vec![]);
    assert_eq!(store.recommendations("nobody").await.unwrap(), None);
    assert!(!store.is_processed("no-such-event").await.unwrap());
    assert!(!store.remove_preference("nobody", "B1").await.unwrap());
}

/// Setting, replacing and removing preferences; they come back oldest first, ties by ASIN.
async fn preferences_set_replace_remove_oldest_first(store: &dyn PreferenceStore) {
    let u = "ann";
    store.set_preference(u, &like("B3", 300)).await.unwrap();
    store.set_preference(u, &like("B1", 100)).await.unwrap();
    store.set_preference(u, &dislike("B4", 200)).await.unwrap();
    store
        .set_preference(u, &rating("B2", 4.5, 200))
        .await
        .unwrap();
    assert_eq!(
        store.preferences(u).await.unwrap(),
        vec![
            like("B1", 100),
            rating("B2", 4.5, 200),
            dislike("B4", 200),
            like("B3", 300),
        ],
        "oldest first, ties by ASIN, every field kept"
    );

    // A new preference for an item replaces the old one (and moves with its time).
    store
        .set_preference(u, &rating("B1", 2.0, 400))
        .await
        .unwrap();
    let preferences = store.preferences(u).await.unwrap();
    assert_eq!(asins(&preferences), ["B2", "B4", "B3", "B1"]);
    assert_eq!(preferences[3], rating("B1", 2.0, 400));

    assert!(store.remove_preference(u, "B4").await.unwrap());
    assert!(
        !store.remove_preference(u, "B4").await.unwrap(),
        "already removed"
    );
    assert!(
        !store.remove_preference(u, "B9").await.unwrap(),
        "never set"
    );
    assert_eq!(
        store.preferences(u).await.unwrap(),
        vec![
            rating("B2", 4.5, 200),
            like("B3", 300),
            rating("B1", 2.0, 400)
        ]
    );

    for asin in ["B1", "B2", "B3"] {
        assert!(store.remove_preference(u, asin).await.unwrap());
    }
    assert_eq!(store.preferences(u).await.unwrap(), vec![]);
}

/// The preferences of different users never mix, also when one id is a prefix of another.
async fn preferences_of_users_do_not_mix(store: &dyn PreferenceStore) {
    let users = ["a", "ab", "abc", "ab.c", "ab-", "b"];
    for (i, u) in users.iter().enumerate() {
        let at = i as i64 * 10;
        store.set_preference(u, &like("B1", at)).await.unwrap();
        store
            .set_preference(u, &like(&format!("B-{u}"), at + 1))
            .await
            .unwrap();
    }
    store
        .set_preference("ab", &dislike("B1", 99))
        .await
        .unwrap();
    assert!(store.remove_preference("abc", "B-abc").await.unwrap());
    assert!(
        !store.remove_preference("ab", "B-abc").await.unwrap(),
        "another user's item"
    );

    for (i, u) in users.iter().enumerate() {
        let at = i as i64 * 10;
        let expected = match *u {
            "ab" => vec![like("B-ab", at + 1), dislike("B1", 99)],
            "abc" => vec![like("B1", at)],
            _ => vec![like("B1", at), like(&format!("B-{u}"), at + 1)],
        };
        assert_eq!(store.preferences(u).await.unwrap(), expected, "user {u}");
    }
}

/// Saved recommendations read back exactly (explanations, sources, f64 scores), and saving
/// again replaces them.
async fn recommendations_round_trip_exactly(store: &dyn PreferenceStore) {
    assert_eq!(store.recommendations("ann").await.unwrap(), None);
    let first = recommendations("ann", Some("event-1"));
    store.save_recommendations(&first).await.unwrap();
    let read = store.recommendations("ann").await.unwrap().unwrap();
    for (read, saved) in read.items.iter().zip(&first.items) {
        assert_eq!(
            read.score.to_bits(),
            saved.score.to_bits(),
            "score of {} read back bit for bit (a JSON encoding needs serde_json's \
             `float_roundtrip` feature)",
            saved.asin
        );
    }
    assert_eq!(read, first);

    let mut second = recommendations("ann", None);
    second.items.truncate(2);
    second.items.reverse();
    second.model_version = "ensemble-2".into();
    second.at += 1;
    store.save_recommendations(&second).await.unwrap();
    assert_eq!(store.recommendations("ann").await.unwrap(), Some(second));

    let empty = StoredRecommendations {
        items: vec![],
        ..recommendations("bob", Some("event-2"))
    };
    store.save_recommendations(&empty).await.unwrap();
    assert_eq!(store.recommendations("bob").await.unwrap(), Some(empty));
    assert_eq!(store.recommendations("an").await.unwrap(), None);
}

/// An event is processed once: the first mark says true, later ones false.
async fn mark_processed_is_true_once(store: &dyn PreferenceStore) {
    assert!(!store.is_processed("e1").await.unwrap());
    assert!(store.mark_processed("e1").await.unwrap());
    assert!(store.is_processed("e1").await.unwrap());
    assert!(!store.mark_processed("e1").await.unwrap());
    assert!(!store.mark_processed("e1").await.unwrap());
    assert!(store.is_processed("e1").await.unwrap());
    assert!(
        !store.is_processed("e2").await.unwrap(),
        "other ids unaffected"
    );
    assert!(store.mark_processed("e2").await.unwrap());
}

/// Eight callers marking the same event at once: exactly one is told it is the first. The
/// calls are in flight together (joined futures: the embedded store runs each on its own
/// blocking thread, the MongoDB driver on its own connection).
async fn concurrent_mark_processed_has_one_winner(store: &dyn PreferenceStore) {
    for round in 0..5 {
        let event_id = format!("event-{round}");
        let calls = (0..8).map(|_| store.mark_processed(&event_id));
        let results = futures_util::future::join_all(calls).await;
        let firsts = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(firsts, 1, "{event_id}: exactly one caller marks it first");
        assert!(store.is_processed(&event_id).await.unwrap());
    }
}

/// Marks older than a time are forgotten, newer ones kept, and forgetting twice finds nothing.
async fn forget_processed_drops_old_marks_only(store: &dyn PreferenceStore) {
    assert!(store.mark_processed("old").await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let cut = recsys::live::now_millis();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(store.mark_processed("new").await.unwrap());
    assert_eq!(store.forget_processed(cut).await.unwrap(), 1);
    assert!(!store.is_processed("old").await.unwrap());
    assert!(store.is_processed("new").await.unwrap());
    assert_eq!(store.forget_processed(cut).await.unwrap(), 0);
}

fn event(id: &str, user: &str, change: Change, at: i64) -> PreferenceEvent {
    PreferenceEvent {
        event_id: id.into(),
        user: user.into(),
        change,
        at,
    }
}

/// The outbox keeps events until removed, gives those recorded at or before a time oldest
/// first (ties by id) up to a limit, round-trips both kinds of change exactly, and treats a
/// second recording of an event and the removal of an absent one as no-ops.
async fn outbox_keeps_events_until_removed(store: &dyn PreferenceStore) {
    assert_eq!(store.outbox(i64::MAX, 10).await.unwrap(), vec![]);
    let set = |asin: &str, at| Change::Set {
        preference: rating(asin, 4.5, at),
    };
    let late = event("e3", "bob", set("B3", 30), 30);
    let tie_b = event("e2b", "ann", Change::Remove { asin: "B1".into() }, 20);
    let tie_a = event("e2a", "ann", set("B2", 20), 20);
    let first = event(
        "e1",
        "ann",
        Change::Set {
            preference: like("B1", 10),
        },
        10,
    );
    for e in [&late, &tie_b, &tie_a, &first] {
        store.add_to_outbox(e).await.unwrap();
    }
    store.add_to_outbox(&tie_a).await.unwrap();
    assert_eq!(
        store.outbox(i64::MAX, 10).await.unwrap(),
        vec![first.clone(), tie_a.clone(), tie_b.clone(), late.clone()]
    );
    assert_eq!(
        store.outbox(20, 10).await.unwrap(),
        vec![first.clone(), tie_a.clone(), tie_b.clone()]
    );
    assert_eq!(
        store.outbox(29, 2).await.unwrap(),
        vec![first.clone(), tie_a.clone()]
    );
    assert_eq!(store.outbox(9, 10).await.unwrap(), vec![]);
    store.remove_from_outbox("e2a").await.unwrap();
    store.remove_from_outbox("e2a").await.unwrap();
    store.remove_from_outbox("never").await.unwrap();
    assert_eq!(
        store.outbox(i64::MAX, 10).await.unwrap(),
        vec![first, tie_b, late]
    );
}

/// Runs every behaviour above against each backend: one test per (backend, behaviour).
macro_rules! conformance {
    ($($behaviour:ident),* $(,)?) => {
        /// The embedded store in a temporary file.
        mod embedded_file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    let (store, _dir) = super::file_store();
                    super::$behaviour(&store).await;
                }
            )*
        }

        /// The embedded store in memory.
        mod embedded_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    let store = recsys::live::EmbeddedStore::in_memory().unwrap();
                    super::$behaviour(&store).await;
                }
            )*
        }

        /// MongoDB at `RECSYS_TEST_MONGODB_URI`, a fresh database per test.
        #[cfg(feature = "mongodb")]
        mod mongodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    let Some(db) = super::TestDb::new(stringify!($behaviour)).await else {
                        return;
                    };
                    super::$behaviour(&db.store).await;
                    db.drop_now().await;
                }
            )*
        }
    };
}

conformance!(
    user_upsert_keeps_created_and_updates_name,
    unknown_ids_are_absent,
    preferences_set_replace_remove_oldest_first,
    preferences_of_users_do_not_mix,
    recommendations_round_trip_exactly,
    mark_processed_is_true_once,
    concurrent_mark_processed_has_one_winner,
    outbox_keeps_events_until_removed,
    forget_processed_drops_old_marks_only,
);

// ---------------------------------------------------------------------------------------------
// The embedded store's file
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_data_persists_across_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/live.redb");
    let recs = recommendations("ann", Some("event-1"));
    {
        let store = EmbeddedStore::open(&path).unwrap();
        assert_eq!(store.backend(), "embedded");
        store.upsert_user(&user("ann", "Ann", 7)).await.unwrap();
        store.set_preference("ann", &like("B2", 2)).await.unwrap();
        store
            .set_preference("ann", &rating("B1", 5.0, 1))
            .await
            .unwrap();
        store.save_recommendations(&recs).await.unwrap();
        assert!(store.mark_processed("event-1").await.unwrap());
        let removal = Change::Remove { asin: "B3".into() };
        store
            .add_to_outbox(&event("event-2", "ann", removal, 3))
            .await
            .unwrap();
    }
    assert!(path.is_file(), "the file and its directories were created");

    let store = EmbeddedStore::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    assert_eq!(
        store.user("ann").await.unwrap(),
        Some(user("ann", "Ann", 7))
    );
    assert_eq!(
        store.preferences("ann").await.unwrap(),
        vec![rating("B1", 5.0, 1), like("B2", 2)]
    );
    assert_eq!(store.recommendations("ann").await.unwrap(), Some(recs));
    assert!(store.is_processed("event-1").await.unwrap());
    assert!(!store.mark_processed("event-1").await.unwrap());
    let removal = Change::Remove { asin: "B3".into() };
    assert_eq!(
        store.outbox(i64::MAX, 10).await.unwrap(),
        vec![event("event-2", "ann", removal, 3)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_file_open_twice_is_a_clear_error() {
    let (store, dir) = file_store();
    let path = dir.path().join("data/live.redb");
    let error = EmbeddedStore::open(&path).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    assert!(
        message.contains(&path.display().to_string()) && message.contains("already open"),
        "the message names the file and says why: {message}"
    );
    // The first store is unaffected, and once it is closed the file opens again.
    store.upsert_user(&user("ann", "Ann", 1)).await.unwrap();
    drop(store);
    let again = EmbeddedStore::open(&path).unwrap();
    assert_eq!(
        again.user("ann").await.unwrap(),
        Some(user("ann", "Ann", 1))
    );
}

#[test]
fn embedded_file_that_cannot_be_created_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let path = blocker.join("live.redb");
    let message = EmbeddedStore::open(&path).unwrap_err().to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");

    let not_redb = dir.path().join("not-redb.redb");
    std::fs::write(&not_redb, vec![b'x'; 4096]).unwrap();
    let message = EmbeddedStore::open(&not_redb).unwrap_err().to_string();
    assert!(
        message.contains(&not_redb.display().to_string()),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------------
// A MongoDB server that cannot be reached, or goes away and comes back
// ---------------------------------------------------------------------------------------------
#[cfg(feature = "mongodb")]
mod mongodb_server {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use recsys::live::{MongoPreferenceStore, PreferenceStore, StoreError};

    use super::like;
    use super::mongo_support::{mongodb_uri, TestDb};

    /// A local port with nothing listening on it.
    fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mongodb_unreachable_is_unavailable_quickly() {
        let uris = [
            // As the brief's example: the timeout set in the URI.
            "mongodb://ann:secret@127.0.0.1:1/?serverSelectionTimeoutMS=500".to_owned(),
            // No timeout in the URI: the store's own default (2 s) applies, not the driver's 30 s.
            format!(
                "mongodb://ann:secret@127.0.0.1:{}/?directConnection=true",
                closed_port()
            ),
        ];
        for uri in uris {
            let started = Instant::now();
            let error = MongoPreferenceStore::connect(&uri, "recsys_test_unreachable")
                .await
                .unwrap_err();
            let elapsed = started.elapsed();
            assert!(
                matches!(error, StoreError::Unavailable(_)),
                "{uri}: {error:?}"
            );
            assert!(
                elapsed < Duration::from_secs(5),
                "{uri}: gave up after {elapsed:?}"
            );
            let message = error.to_string();
            assert!(
                message.contains("ann:***@127.0.0.1"),
                "names the server: {message}"
            );
            assert!(!message.contains("secret"), "password masked: {message}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mongodb_invalid_uri_is_a_backend_error() {
        let error = MongoPreferenceStore::connect("postgres://ann:secret@h/", "db")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    /// A TCP proxy to the server under test that can be switched off (every open connection cut,
    /// new ones closed at once) and on again, on the same port.
    struct SwitchProxy {
        port: u16,
        up: Arc<AtomicBool>,
        open: Arc<Mutex<Vec<TcpStream>>>,
    }

    impl SwitchProxy {
        fn start(server: &str) -> SwitchProxy {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = server.to_owned();
            let up = Arc::new(AtomicBool::new(true));
            let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
            let (accept_up, accept_open) = (up.clone(), open.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    if !accept_up.load(Ordering::SeqCst) {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    }
                    let Ok(upstream) = TcpStream::connect(&server) else {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    };
                    let mut open = accept_open.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(upstream.try_clone().unwrap());
                    for (mut from, mut to) in [
                        (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                        (upstream, client),
                    ] {
                        std::thread::spawn(move || {
                            let mut buffer = [0u8; 16 << 10];
                            while let Ok(n) = from.read(&mut buffer) {
                                if n == 0 || to.write_all(&buffer[..n]).is_err() {
                                    break;
                                }
                            }
                            let _ = to.shutdown(Shutdown::Both);
                        });
                    }
                }
            });
            SwitchProxy { port, up, open }
        }

        /// Cuts every connection and refuses new ones.
        fn down(&self) {
            self.up.store(false, Ordering::SeqCst);
            for stream in self.open.lock().unwrap().drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }

        /// Forwards new connections again.
        fn up(&self) {
            self.up.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mongodb_store_recovers_when_the_server_comes_back() {
        let Some(uri) = mongodb_uri() else {
            return;
        };
        // host:port of the server under test, for the proxy.
        let authority = uri
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', '?']).next())
            .and_then(|hosts| hosts.rsplit('@').next())
            .expect("RECSYS_TEST_MONGODB_URI is mongodb://[user@]host:port/...")
            .to_owned();
        assert!(
            !authority.contains(','),
            "this test proxies a single server, not {authority}"
        );
        let proxy = SwitchProxy::start(&authority);
        let proxied = format!("mongodb://127.0.0.1:{}/?directConnection=true", proxy.port);
        let db = TestDb::at(&proxied, "recovers").await;
        let store = &db.store;
        store.set_preference("ann", &like("B1", 1)).await.unwrap();

        proxy.down();
        let started = Instant::now();
        let error = store.preferences("ann").await.unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "gave up after {:?}",
            started.elapsed()
        );
        let error = store.ping().await.unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");

        // The same store answers again once the server is back (the driver reconnects).
        proxy.up();
        let deadline = Instant::now() + Duration::from_secs(30);
        let preferences = loop {
            match store.preferences("ann").await {
                Ok(preferences) => break preferences,
                Err(StoreError::Unavailable(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("the store did not recover: {error:?}"),
            }
        };
        assert_eq!(preferences, vec![like("B1", 1)]);
        assert!(store.mark_processed("after-recovery").await.unwrap());
        db.drop_now().await;
    }
}
