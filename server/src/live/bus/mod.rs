//! Preference events and fresh recommendations in flight.

#[cfg(feature = "kafka")]
mod kafka;
mod memory;

#[cfg(feature = "kafka")]
pub use kafka::{KafkaBus, KafkaConfig};
pub use memory::MemoryBus;

/// Why a bus call failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker cannot be reached (the web layer answers 503).
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    /// The broker or client reported an error.
    #[error("event bus: {0}")]
    Backend(String),
}

/// Result of a bus call.
pub type BusResult<T> = Result<T, BusError>;

/// One message read from a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct BusMessage {
    /// The topic.
    pub topic: String,
    /// The key (a user id).
    pub key: String,
    /// The value (JSON).
    pub value: Vec<u8>,
    /// The partition it was read from.
    pub partition: i32,
    /// Its offset in the partition.
    pub offset: i64,
}

/// Where a consumer group with no committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest retained message.
    Earliest,
    /// Only messages produced after the subscription is ready.
    Latest,
}

/// A topic log with consumer groups, with Kafka's delivery guarantees: per-key order, and
/// at-least-once for a group that commits after handling (uncommitted messages are delivered
/// again to the group's next subscription). Cheap to share (`Arc<dyn EventBus>`).
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + std::fmt::Debug + 'static {
    /// A short name of the backend ("memory", "kafka").
    fn backend(&self) -> &'static str;

    /// Checks that the broker answers.
    async fn ping(&self) -> BusResult<()>;

    /// Creates `topics` if they do not exist.
    async fn ensure_topics(&self, topics: &[&str]) -> BusResult<()>;

    /// Appends a message. Returns once the bus has accepted it (for Kafka: queued in the
    /// producer, which retries while the broker is away; an error only when it cannot even
    /// queue it).
    async fn publish(&self, topic: &str, key: &str, value: &[u8]) -> BusResult<()>;

    /// Waits until every message accepted by [`EventBus::publish`] is stored by the broker, or
    /// `timeout` passes ([`BusError::Unavailable`]). For an orderly shutdown, and for callers
    /// that need "published" to mean "stored" (the in-process bus stores at once).
    async fn flush(&self, timeout: std::time::Duration) -> BusResult<()> {
        let _ = timeout;
        Ok(())
    }

    /// Joins consumer group `group` on `topic`. Returns once the subscription is ready: with
    /// [`StartAt::Latest`], everything published after this returns is delivered.
    async fn subscribe(
        &self,
        topic: &str,
        group: &str,
        start: StartAt,
    ) -> BusResult<Box<dyn Subscription>>;
}

/// A consumer in a group.
#[async_trait::async_trait]
pub trait Subscription: Send + std::fmt::Debug {
    /// The next message (waits for one).
    async fn next(&mut self) -> BusResult<BusMessage>;

    /// Commits `message`: the group's next subscription starts after it.
    async fn commit(&mut self, message: &BusMessage) -> BusResult<()>;
}
