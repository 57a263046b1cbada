//! The in-process bus: Kafka's guarantees without a broker, for `recsys demo`, embedders and
//! tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::Notify;

use super::{BusError, BusMessage, BusResult, EventBus, StartAt, Subscription};

/// One message in a topic log.
#[derive(Debug)]
struct Record {
    key: String,
    value: Vec<u8>,
}

/// A topic: its log (index = offset) and the signal that something was appended.
#[derive(Debug, Default)]
struct Log {
    records: RwLock<Vec<Arc<Record>>>,
    appended: Notify,
}

impl Log {
    fn len(&self) -> i64 {
        read(&self.records).len() as i64
    }
}

/// Topics and committed offsets, shared by the bus and its subscriptions.
#[derive(Debug, Default)]
struct Shared {
    topics: Mutex<HashMap<String, Arc<Log>>>,
    /// Next offset to deliver per (group, topic).
    committed: Mutex<HashMap<(String, String), i64>>,
}

impl Shared {
    /// The log of `topic`, created empty if it does not exist (as Kafka auto-creates topics).
    fn log(&self, topic: &str) -> Arc<Log> {
        let mut topics = lock(&self.topics);
        Arc::clone(topics.entry(topic.to_owned()).or_default())
    }
}

/// The in-process [`EventBus`]: one single-partition log per topic and consumer groups with
/// committed offsets, all in memory. Cloning gives another handle on the same bus.
///
/// Each topic is one append-only log (a single partition, offsets from 0). Consumer groups keep
/// their committed offsets in the bus, so a group's next subscription resumes after its last
/// commit and a message handled but not committed is delivered again (at-least-once).
///
/// Semantics, chosen to match [`KafkaBus`](super::KafkaBus) where a single process can:
///
/// - **Start point.** A group with no committed offset starts at the beginning of the log
///   ([`StartAt::Earliest`]) or at its current end ([`StartAt::Latest`]). That start point is
///   recorded as the group's committed offset when it first subscribes, so a group that
///   subscribed with `Latest` and never committed resumes from that first subscription, not
///   from the end of the log at its next one (the Kafka bus does the same).
/// - **Several subscriptions of one group at once** each deliver every message from the
///   group's committed offset at the time they subscribed, independently (Kafka would instead
///   give the single partition to one member). Commits from any of them set the group's offset
///   (the last commit wins, as in Kafka). Use one subscription per group.
/// - **Retention.** Everything is kept for the life of the bus (nothing is trimmed): memory
///   grows with the number of messages published, which suits development, demos and tests,
///   not long-running production traffic (use Kafka there).
/// - **Waiting.** A subscription with nothing to read waits on a [`Notify`] that `publish`
///   signals; there is no polling.
#[derive(Debug, Clone, Default)]
pub struct MemoryBus {
    shared: Arc<Shared>,
}

impl MemoryBus {
    /// An empty bus: no topics, no groups.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> BusResult<()> {
        Ok(())
    }

    async fn ensure_topics(&self, topics: &[&str]) -> BusResult<()> {
        for topic in topics {
            self.shared.log(topic);
        }
        Ok(())
    }

    async fn publish(&self, topic: &str, key: &str, value: &[u8]) -> BusResult<()> {
        let log = self.shared.log(topic);
        write(&log.records).push(Arc::new(Record {
            key: key.to_owned(),
            value: value.to_vec(),
        }));
        log.appended.notify_waiters();
        Ok(())
    }

    async fn subscribe(
        &self,
        topic: &str,
        group: &str,
        start: StartAt,
    ) -> BusResult<Box<dyn Subscription>> {
        let log = self.shared.log(topic);
        let position = {
            let mut committed = lock(&self.shared.committed);
            *committed
                .entry((group.to_owned(), topic.to_owned()))
                .or_insert_with(|| match start {
                    StartAt::Earliest => 0,
                    StartAt::Latest => log.len(),
                })
        };
        Ok(Box::new(MemorySubscription {
            shared: Arc::clone(&self.shared),
            topic: topic.to_owned(),
            group: group.to_owned(),
            log,
            position,
        }))
    }
}

/// A subscription of a [`MemoryBus`] consumer group to one topic.
#[derive(Debug)]
struct MemorySubscription {
    shared: Arc<Shared>,
    topic: String,
    group: String,
    log: Arc<Log>,
    /// Offset of the next message to deliver.
    position: i64,
}

impl MemorySubscription {
    fn message_at(&self, offset: i64) -> Option<BusMessage> {
        let records = read(&self.log.records);
        let record = records.get(usize::try_from(offset).ok()?)?;
        Some(BusMessage {
            topic: self.topic.clone(),
            key: record.key.clone(),
            value: record.value.clone(),
            partition: 0,
            offset,
        })
    }
}

#[async_trait::async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> BusResult<BusMessage> {
        loop {
            // Register for the wake-up before looking, so an append between the look and the
            // wait is not missed.
            let mut appended = std::pin::pin!(self.log.appended.notified());
            appended.as_mut().enable();
            if let Some(message) = self.message_at(self.position) {
                self.position += 1;
                return Ok(message);
            }
            appended.await;
        }
    }

    async fn commit(&mut self, message: &BusMessage) -> BusResult<()> {
        if message.topic != self.topic || message.partition != 0 {
            return Err(BusError::Backend(format!(
                "cannot commit {}/{}@{} on a subscription to {}",
                message.topic, message.partition, message.offset, self.topic
            )));
        }
        if message.offset < 0 || message.offset >= self.log.len() {
            return Err(BusError::Backend(format!(
                "cannot commit offset {} of {}: no such message",
                message.offset, self.topic
            )));
        }
        lock(&self.shared.committed)
            .insert((self.group.clone(), self.topic.clone()), message.offset + 1);
        Ok(())
    }
}

// The locks guard plain data that every writer leaves consistent (a push, an insert), so a
// panic elsewhere while one was held does not invalidate it: recover from poisoning.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiting_subscription_is_woken_by_publish() {
        let bus = MemoryBus::new();
        let mut subscription = bus.subscribe("t", "g", StartAt::Latest).await.unwrap();
        let publisher = bus.clone();
        let handle = tokio::spawn(async move {
            tokio::task::yield_now().await;
            publisher.publish("t", "k", b"v").await.unwrap();
        });
        let message = subscription.next().await.unwrap();
        handle.await.unwrap();
        assert_eq!((message.key.as_str(), message.offset), ("k", 0));
    }

    #[tokio::test]
    async fn commit_rejects_a_message_of_another_topic() {
        let bus = MemoryBus::new();
        bus.publish("a", "k", b"v").await.unwrap();
        let mut subscription = bus.subscribe("b", "g", StartAt::Earliest).await.unwrap();
        let mut other = bus.subscribe("a", "g", StartAt::Earliest).await.unwrap();
        let message = other.next().await.unwrap();
        assert!(subscription.commit(&message).await.is_err());
    }
}
