//! The live loop: a preference change is written to the store and produced to the events
//! topic; the worker consumes it, folds the user's history into the ensemble (no retraining),
//! stores the recommendations and produces them to the recommendations topic; the web side
//! consumes that topic and pushes to the user's open pages.
//!
//! At-least-once: the worker commits an event's offset only after the recommendations are
//! stored (and produced). Handling is idempotent by `event_id`: an event already marked
//! processed is skipped, and recomputing from the store's current preferences gives the same
//! answer anyway.
//!
//! Nothing is lost between the store and the bus either: an event is recorded in the store's
//! outbox before the change it describes, and leaves it only once handled. A process stopped
//! before its events reached the bus (the broker away, the producer's queue in memory) leaves
//! them there, and [`Live::run_outbox_relay`] in the next process produces them again.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use super::{
    now_millis, BusError, BusMessage, Change, EventBus, PreferenceEvent, PreferenceStore, StartAt,
    StoreError, StoredRecommendations,
};
use crate::engine::Engine;

/// Why a live operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bus failed.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The engine refused (unknown product, all plugins failed).
    #[error(transparent)]
    Engine(#[from] crate::Error),
}

impl LiveError {
    /// Whether retrying later may succeed (a dependency is away).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            LiveError::Store(StoreError::Unavailable(_)) | LiveError::Bus(BusError::Unavailable(_))
        )
    }
}

/// Topic names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// Preference events (key = user id).
    pub events: String,
    /// Fresh recommendations (key = user id).
    pub recommendations: String,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            events: "recsys.events".into(),
            recommendations: "recsys.recommendations".into(),
        }
    }
}

/// Counters of the live loop, exported on `/metrics`.
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Preference events produced by this process.
    pub events_published: AtomicU64,
    /// Events handled by this process's worker (recommendations stored and produced).
    pub events_handled: AtomicU64,
    /// Events skipped because their `event_id` was already handled.
    pub events_duplicate: AtomicU64,
    /// Events that could not be parsed (skipped, logged, committed).
    pub events_malformed: AtomicU64,
    /// Events the engine refused (logged, committed).
    pub events_failed: AtomicU64,
    /// Retries while the store or bus was away.
    pub retries: AtomicU64,
    /// Recommendation messages received from the bus and pushed to open streams.
    pub recommendations_pushed: AtomicU64,
    /// Sum of event age at handling (ms), for the mean.
    pub event_age_ms_sum: AtomicU64,
    /// Set when consuming met an error since the bus watch last checked the topics.
    pub bus_trouble: std::sync::atomic::AtomicBool,
}

/// Everything the live loop needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    /// The trained ensemble.
    pub engine: Arc<Engine>,
    /// Users, preferences and recommendations.
    pub store: Arc<dyn PreferenceStore>,
    /// Events and recommendations in flight.
    pub bus: Arc<dyn EventBus>,
    /// Topic names.
    pub topics: Topics,
    /// Recommendation list length.
    pub k: usize,
    /// Counters.
    pub counters: Arc<LiveCounters>,
}

static EVENT_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How old an unhandled outbox event must be before a running process produces it again:
/// handling takes milliseconds, so one this old was lost on the way (or its worker is waiting
/// for the store).
pub const OUTBOX_AGE: Duration = Duration::from_secs(30);
/// How often the outbox is looked at.
pub const OUTBOX_INTERVAL: Duration = Duration::from_secs(10);
/// Most events produced again per look.
pub const OUTBOX_BATCH: usize = 1000;
/// How long an event stays marked handled: Kafka's default retention (7 days), past which the
/// bus cannot deliver it again. The relay forgets older marks once an hour.
pub const PROCESSED_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often the relay forgets old marks.
const FORGET_INTERVAL: Duration = Duration::from_secs(3600);

/// Pause after a consuming error. The Kafka client queues one report per connection problem
/// while the broker is away; a short pause drains them quickly once it is back, without
/// spinning if one repeats.
const CONSUME_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Logs a consuming error unless it repeats the previous one, and tells the bus watch.
fn log_consume_error(
    counters: &LiveCounters,
    last: &mut String,
    who: &str,
    topic: &str,
    error: &BusError,
) {
    counters.bus_trouble.store(true, Ordering::Relaxed);
    let text = error.to_string();
    if *last != text {
        eprintln!("{who}: consuming {topic}: {text}");
        *last = text;
    }
}

/// A new unique event id: time, a per-process random part and a counter.
pub fn new_event_id() -> String {
    static PROCESS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let process = *PROCESS.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_i64(now_millis());
        h.finish()
    });
    let n = EVENT_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:x}-{process:016x}-{n}", now_millis())
}

impl Live {
    /// The top `k` recommendations for `user` from the store's current preferences (blocking
    /// engine work runs off the async threads).
    pub async fn compute(
        &self,
        user: &str,
        k: usize,
        event_id: Option<String>,
    ) -> Result<StoredRecommendations, LiveError> {
        let preferences = self.store.preferences(user).await?;
        // Preferences for products the current catalogue lacks (the models were retrained on
        // other data since) are kept in the store but cannot be folded in.
        let catalogue = self.engine.catalogue();
        let history: Vec<_> = preferences
            .iter()
            .filter(|p| catalogue.index(&p.asin).is_some())
            .map(|p| p.interest())
            .collect();
        let engine = Arc::clone(&self.engine);
        let items = tokio::task::spawn_blocking(move || engine.recommend(&history, k))
            .await
            .map_err(|e| crate::Error::Usage(format!("recommendation task failed: {e}")))??;
        Ok(StoredRecommendations {
            user: user.to_string(),
            items,
            model_version: self.engine.version().to_string(),
            event_id,
            at: now_millis(),
        })
    }

    /// Records a preference change for `user` in the store, then produces the event. The
    /// event goes into the store's outbox first, then the change: a process stopped at any
    /// point leaves either nothing or an event the next process produces again (an event whose
    /// change was never written recomputes the same recommendations, harmless). The store is
    /// the system of record: if producing fails the change is kept and the error returned (the
    /// caller answers 503; the outbox produces the event later).
    pub async fn apply(&self, user: &str, change: Change) -> Result<PreferenceEvent, LiveError> {
        let event = PreferenceEvent {
            event_id: new_event_id(),
            user: user.to_string(),
            change,
            at: now_millis(),
        };
        self.store.add_to_outbox(&event).await?;
        match &event.change {
            Change::Set { preference } => self.store.set_preference(user, preference).await?,
            Change::Remove { asin } => {
                self.store.remove_preference(user, asin).await?;
            }
        }
        self.produce(&event).await?;
        Ok(event)
    }

    /// Produces `event` to the events topic.
    async fn produce(&self, event: &PreferenceEvent) -> Result<(), LiveError> {
        let value = serde_json::to_vec(event).expect("events serialize");
        self.bus
            .publish(&self.topics.events, &event.user, &value)
            .await?;
        self.counters
            .events_published
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Produces again the outbox events recorded at or before `before` (Unix milliseconds)
    /// that are not handled yet, except those in `skip`; drops the handled ones from the
    /// outbox. Returns the ids produced. At most [`OUTBOX_BATCH`] events per call.
    pub async fn relay_outbox(
        &self,
        before: i64,
        skip: &std::collections::HashSet<String>,
    ) -> Result<Vec<String>, LiveError> {
        let mut produced = Vec::new();
        for event in self.store.outbox(before, OUTBOX_BATCH).await? {
            if self.store.is_processed(&event.event_id).await? {
                self.store.remove_from_outbox(&event.event_id).await?;
            } else if !skip.contains(&event.event_id) {
                self.produce(&event).await?;
                produced.push(event.event_id);
            }
        }
        Ok(produced)
    }

    /// Relays the outbox until `shutdown`: at start, every event recorded before this process
    /// started (left by a process that stopped before they were handled); then, every
    /// [`OUTBOX_INTERVAL`], those older than [`OUTBOX_AGE`] (produced but lost on the way). An
    /// event is produced again at most once per [`OUTBOX_AGE`] by one process, and only while
    /// the bus answers (the producer would only queue it in memory otherwise). Once an hour it
    /// also forgets the handled-event marks older than [`PROCESSED_RETENTION`].
    pub async fn run_outbox_relay(&self, mut shutdown: watch::Receiver<bool>) {
        let started = now_millis();
        let mut swept_start = false;
        let mut forgotten_at: Option<std::time::Instant> = None;
        // Produced by this relay, by id, with when: not produced again before OUTBOX_AGE.
        let mut recent: std::collections::HashMap<String, std::time::Instant> = Default::default();
        let mut last_error = String::new();
        loop {
            if forgotten_at.is_none_or(|at| at.elapsed() >= FORGET_INTERVAL) {
                let before = now_millis() - PROCESSED_RETENTION.as_millis() as i64;
                match self.store.forget_processed(before).await {
                    Ok(_) => forgotten_at = Some(std::time::Instant::now()),
                    Err(e) => eprintln!("outbox: forgetting old handled events: {e}"),
                }
            }
            if self.bus.ping().await.is_ok() {
                recent.retain(|_, at| at.elapsed() < OUTBOX_AGE);
                let skip = recent.keys().cloned().collect();
                let before = if swept_start {
                    now_millis() - OUTBOX_AGE.as_millis() as i64
                } else {
                    started
                };
                match self.relay_outbox(before, &skip).await {
                    Ok(produced) => {
                        if !produced.is_empty() {
                            eprintln!(
                                "outbox: produced {} event(s) again that were not handled",
                                produced.len()
                            );
                        }
                        let now = std::time::Instant::now();
                        recent.extend(produced.into_iter().map(|id| (id, now)));
                        swept_start = true;
                        last_error.clear();
                    }
                    Err(e) => {
                        let text = e.to_string();
                        if text != last_error {
                            eprintln!("outbox: {text}; trying again in {OUTBOX_INTERVAL:?}");
                            last_error = text;
                        }
                    }
                }
            }
            let pause = if swept_start {
                OUTBOX_INTERVAL
            } else {
                Duration::from_secs(1)
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Handles one event: skipped when its id was handled already; otherwise recomputes the
    /// user's recommendations, stores them, produces them, and marks the event handled.
    pub async fn handle_event(
        &self,
        event: &PreferenceEvent,
    ) -> Result<Option<StoredRecommendations>, LiveError> {
        if self.store.is_processed(&event.event_id).await? {
            self.store.remove_from_outbox(&event.event_id).await?;
            self.counters
                .events_duplicate
                .fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let recs = self
            .compute(&event.user, self.k, Some(event.event_id.clone()))
            .await?;
        self.store.save_recommendations(&recs).await?;
        let value = serde_json::to_vec(&recs).expect("recommendations serialize");
        self.bus
            .publish(&self.topics.recommendations, &recs.user, &value)
            .await?;
        if !self.store.mark_processed(&event.event_id).await? {
            // Another worker handled it meanwhile; both results are the same.
            self.counters
                .events_duplicate
                .fetch_add(1, Ordering::Relaxed);
        }
        self.store.remove_from_outbox(&event.event_id).await?;
        self.counters.events_handled.fetch_add(1, Ordering::Relaxed);
        self.counters
            .event_age_ms_sum
            .fetch_add((now_millis() - event.at).max(0) as u64, Ordering::Relaxed);
        Ok(Some(recs))
    }

    /// Handles one consumed message until it is done or cannot be done: retries (with
    /// backoff, up to a minute between tries) while the store or bus is away, so nothing is
    /// committed before it is handled.
    async fn handle_message(&self, message: &BusMessage, shutdown: &mut watch::Receiver<bool>) {
        let event: PreferenceEvent = match serde_json::from_slice(&message.value) {
            Ok(e) => e,
            Err(e) => {
                self.counters
                    .events_malformed
                    .fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "worker: skipping malformed event at {}[{}]@{}: {e}",
                    message.topic, message.partition, message.offset
                );
                return;
            }
        };
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.handle_event(&event).await {
                Ok(_) => return,
                Err(e) if e.is_unavailable() => {
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    eprintln!(
                        "worker: event {} waits ({e}); retrying in {backoff:?}",
                        event.event_id
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
                Err(e) => {
                    self.counters.events_failed.fetch_add(1, Ordering::Relaxed);
                    eprintln!("worker: event {} failed, skipped: {e}", event.event_id);
                    // Producing it again would fail the same way: out of the outbox too (if
                    // the store is away now, the next relay produces it once more and it lands
                    // here again).
                    let _ = self.store.remove_from_outbox(&event.event_id).await;
                    return;
                }
            }
        }
    }

    /// Makes sure the topics exist, so that a broker that came back without them (a restarted
    /// in-memory broker, a wiped cluster) gets them again and the events queued in the producer
    /// meanwhile can be delivered. Errors are ignored: the broker may be away again.
    async fn recreate_topics(&self) {
        let topics = [
            self.topics.events.as_str(),
            self.topics.recommendations.as_str(),
        ];
        let _ = self.bus.ensure_topics(&topics).await;
    }

    /// Watches the bus every second until `shutdown`: when it answers again after being away,
    /// re-creates the topics (a broker that lost them, like a restarted in-memory one, gets
    /// them back, and the events queued in the producer meanwhile are delivered).
    pub async fn run_bus_watch(&self, mut shutdown: watch::Receiver<bool>) {
        let mut was_down = false;
        loop {
            match self.bus.ping().await {
                Ok(()) => {
                    // An outage shorter than a ping is seen only by the consumers' errors.
                    let trouble = self.counters.bus_trouble.swap(false, Ordering::Relaxed);
                    if was_down || trouble {
                        eprintln!("event bus: answering; making sure the topics exist");
                        self.recreate_topics().await;
                        was_down = false;
                    }
                }
                Err(e) => {
                    if !was_down {
                        eprintln!("event bus: away ({e})");
                    }
                    was_down = true;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Subscribes to `topic` in `group`, trying again every second while the bus is away
    /// (a worker or fanout that met an outage as it started would otherwise be gone for good);
    /// `None` when `shutdown` turns true first. Other errors are returned. (A standby worker
    /// does not wait here: its subscription returns without a partition and gets one when the
    /// active member leaves.)
    async fn subscribe_retrying(
        &self,
        topic: &str,
        group: &str,
        start: StartAt,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<Box<dyn super::Subscription>>, LiveError> {
        let mut waiting = false;
        loop {
            let attempt = tokio::select! {
                s = self.bus.subscribe(topic, group, start) => s,
                _ = shutdown.changed() => return Ok(None),
            };
            match attempt {
                Ok(subscription) => {
                    if waiting {
                        eprintln!("{group}: consuming {topic}");
                    }
                    return Ok(Some(subscription));
                }
                Err(BusError::Unavailable(why)) => {
                    if !waiting {
                        eprintln!("{group}: waiting to consume {topic} ({why})");
                        waiting = true;
                    }
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return Ok(None),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Consumes the events topic in consumer group `group` until `shutdown` turns true,
    /// committing each event after it is handled.
    pub async fn run_worker(
        &self,
        group: &str,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), LiveError> {
        let Some(mut subscription) = self
            .subscribe_retrying(&self.topics.events, group, StartAt::Earliest, &mut shutdown)
            .await?
        else {
            return Ok(());
        };
        let mut last_error = String::new();
        loop {
            let message = tokio::select! {
                m = subscription.next() => m,
                _ = shutdown.changed() => return Ok(()),
            };
            let message = match message {
                Ok(m) => {
                    last_error.clear();
                    m
                }
                Err(e) => {
                    // The client reconnects by itself; these are reports of what it meets.
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    log_consume_error(
                        &self.counters,
                        &mut last_error,
                        "worker",
                        &self.topics.events,
                        &e,
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(CONSUME_ERROR_PAUSE) => continue,
                        _ = shutdown.changed() => return Ok(()),
                    }
                }
            };
            self.handle_message(&message, &mut shutdown).await;
            if *shutdown.borrow() {
                return Ok(());
            }
            if let Err(e) = subscription.commit(&message).await {
                // Not committed: the event is handled again after a restart (idempotent).
                eprintln!("worker: commit failed (will be redelivered): {e}");
            }
        }
    }

    /// Consumes the recommendations topic (a group of this process alone, from the latest
    /// message) and sends each to `sink`, where the open streams pick their user's. Runs
    /// until `shutdown` turns true.
    pub async fn run_fanout(
        &self,
        sink: broadcast::Sender<Arc<StoredRecommendations>>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), LiveError> {
        let group = format!("recsys-web-{}", new_event_id());
        let Some(mut subscription) = self
            .subscribe_retrying(
                &self.topics.recommendations,
                &group,
                StartAt::Latest,
                &mut shutdown,
            )
            .await?
        else {
            return Ok(());
        };
        let mut last_error = String::new();
        loop {
            let message = tokio::select! {
                m = subscription.next() => m,
                _ = shutdown.changed() => return Ok(()),
            };
            if message.is_ok() {
                last_error.clear();
            }
            match message {
                Ok(m) => match serde_json::from_slice::<StoredRecommendations>(&m.value) {
                    Ok(recs) => {
                        self.counters
                            .recommendations_pushed
                            .fetch_add(1, Ordering::Relaxed);
                        // No open stream is not an error.
                        let _ = sink.send(Arc::new(recs));
                    }
                    Err(e) => eprintln!(
                        "web: skipping malformed recommendations at {}@{}: {e}",
                        m.topic, m.offset
                    ),
                },
                Err(e) => {
                    log_consume_error(
                        &self.counters,
                        &mut last_error,
                        "web",
                        &self.topics.recommendations,
                        &e,
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(CONSUME_ERROR_PAUSE) => {}
                        _ = shutdown.changed() => return Ok(()),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_unique() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_event_id()).collect();
        assert_eq!(ids.len(), 1000);
    }
}
