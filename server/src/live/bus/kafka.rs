//! The Kafka bus (feature `kafka`): rdkafka's `FutureProducer` and one `StreamConsumer` per
//! subscription, against Apache Kafka or any broker that speaks its protocol (Tansu in tests).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use tokio::sync::Notify;

use super::{BusError, BusMessage, BusResult, EventBus, StartAt, Subscription};

/// The consumers' `session.timeout.ms` (see [`KafkaBus::subscribe`](EventBus::subscribe)).
const SESSION_TIMEOUT_MS: &str = "10000";

/// How to reach Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated (`host:port,host:port`).
    pub brokers: String,
    /// The client id the brokers see (in their logs and quotas).
    pub client_id: String,
    /// How long [`KafkaBus::connect`] and [`EventBus::ping`] wait for a metadata answer.
    pub connect_timeout: Duration,
    /// How long [`EventBus::subscribe`] waits for the group to assign it a partition.
    pub subscribe_timeout: Duration,
    /// Partitions of the topics that [`EventBus::ensure_topics`] creates.
    pub topic_partitions: i32,
    /// Replication factor of the topics that [`EventBus::ensure_topics`] creates.
    pub topic_replication: i32,
    /// Most messages the producer puts in one record batch (`batch.num.messages`). 1 by
    /// default, because Tansu 0.6 (the test broker) answers a fetch only with batches that
    /// start at or after the requested offset: a group resuming from a commit in the middle of
    /// a batch would skip the rest of that batch. On Apache Kafka, raise it (librdkafka's
    /// default is 10 000) for throughput.
    pub max_batch_messages: u32,
}

impl KafkaConfig {
    /// Settings for `brokers` with the defaults: client id `recsys`, 3 s to connect, 30 s to
    /// join a group, new topics with 1 partition and 1 replica, one message per batch (see
    /// [`KafkaConfig::max_batch_messages`]).
    pub fn new(brokers: impl Into<String>) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            client_id: "recsys".into(),
            connect_timeout: Duration::from_secs(3),
            subscribe_timeout: Duration::from_secs(30),
            topic_partitions: 1,
            topic_replication: 1,
            max_batch_messages: 1,
        }
    }

    fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id);
        config
    }
}

/// The Kafka [`EventBus`]. Cloning
/// gives another handle on the same producer.
///
/// Semantics:
///
/// - **Publishing never waits for the broker.** [`EventBus::publish`] returns `Ok` as soon as
///   the message is in the producer's local queue. Messages never expire there
///   (`message.timeout.ms=0`): produced while the broker is away, they are delivered when it
///   returns, none lost. Only a full local queue (`queue.buffering.max.messages`, 100 000 by
///   default) gives [`BusError::Unavailable`], which the web layer answers with 503. A delivery
///   that fails for good afterwards (a permanent broker error, say a message too large) is
///   written to stderr and counted in [`KafkaBus::failed_deliveries`].
/// - **Per-key order.** The key picks the partition; at most one produce request is in flight
///   per broker connection, so retries after a broker outage cannot reorder (they may
///   duplicate: delivery is at-least-once, and consumers are idempotent by event id).
/// - **Consumer groups.** Offsets are committed only by [`Subscription::commit`]
///   (`enable.auto.commit=false`), synchronously, as the message offset + 1 (what rdkafka's
///   `commit_message` does). [`EventBus::subscribe`] returns once the partition assignment is
///   received (or, from the earliest offset, once it has waited `subscribe_timeout`), so
///   nothing published afterwards is missed. A group's start point is fixed on
///   its first subscription: with [`StartAt::Latest`], the current end of each partition is
///   committed for the group before joining, so a group that never commits resumes from
///   there (as [`MemoryBus`](super::MemoryBus) does).
///   `subscribe` creates the topic if it is missing (as `publish` does through the broker's
///   auto-creation, and as the memory bus does).
/// - **Record batches.** One message per batch by default
///   ([`KafkaConfig::max_batch_messages`]): Tansu 0.6 skips the rest of a batch when a group
///   resumes from an offset inside it.
/// - **Several subscriptions of one group** share the topic's partitions, as Kafka does: with
///   one partition, one member gets everything. Another one's `subscribe` (from
///   [`StartAt::Earliest`]) returns after [`KafkaConfig::subscribe_timeout`] without a
///   partition, and that member gets messages once the first leaves the group (or its session
///   times out): a standby. (A [`StartAt::Latest`] subscription still fails then.)
/// - **Fetch latency.** `fetch.wait.max.ms=10`: Tansu answers a fetch only when that wait
///   expires (see `SERVICES.md`), and Kafka answers as soon as data arrives anyway.
#[derive(Clone)]
pub struct KafkaBus {
    config: KafkaConfig,
    producer: FutureProducer,
    admin: Arc<AdminClient<DefaultClientContext>>,
    failed_deliveries: Arc<AtomicU64>,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBus")
            .field("brokers", &self.config.brokers)
            .field("client_id", &self.config.client_id)
            .field("failed_deliveries", &self.failed_deliveries())
            .finish_non_exhaustive()
    }
}

impl KafkaBus {
    /// Creates the producer and checks that a broker answers a metadata request within
    /// [`KafkaConfig::connect_timeout`] ([`BusError::Unavailable`] otherwise).
    pub async fn connect(config: &KafkaConfig) -> BusResult<Self> {
        let producer: FutureProducer = config
            .client_config()
            // Never expire a queued message: it waits for the broker to come back.
            .set("message.timeout.ms", "0")
            .set("linger.ms", "5")
            .set("batch.num.messages", config.max_batch_messages.to_string())
            // One request in flight per connection: retries cannot reorder a key's messages.
            .set("max.in.flight.requests.per.connection", "1")
            .set("acks", "all")
            .create()
            .map_err(backend)?;
        let admin = config
            .client_config()
            .create::<AdminClient<DefaultClientContext>>()
            .map_err(backend)?;
        let bus = KafkaBus {
            config: config.clone(),
            producer,
            admin: Arc::new(admin),
            failed_deliveries: Arc::new(AtomicU64::new(0)),
        };
        bus.ping().await?;
        Ok(bus)
    }

    /// The settings it was connected with.
    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    /// How many published messages the broker refused for good since [`KafkaBus::connect`].
    pub fn failed_deliveries(&self) -> u64 {
        self.failed_deliveries.load(Ordering::Relaxed)
    }

    /// Waits until every queued message is delivered, or `timeout` passes
    /// ([`BusError::Unavailable`]). For an orderly shutdown.
    pub async fn flush(&self, timeout: Duration) -> BusResult<()> {
        let producer = self.producer.clone();
        blocking(move || producer.flush(timeout))
            .await?
            .map_err(unavailable)
    }

    /// Commits the current end of each partition of `topic` that has no committed offset for
    /// the consumer's group yet: a `Latest` start is fixed by the group's first subscription
    /// (see [`KafkaBus`]). Blocking.
    fn pin_latest(
        consumer: &StreamConsumer<GroupContext>,
        topic: &str,
        timeout: Duration,
    ) -> BusResult<()> {
        let metadata = consumer
            .fetch_metadata(Some(topic), timeout)
            .map_err(unavailable)?;
        let mut partitions = TopicPartitionList::new();
        for t in metadata.topics().iter().filter(|t| t.name() == topic) {
            for p in t.partitions() {
                partitions.add_partition(topic, p.id());
            }
        }
        if partitions.count() == 0 {
            return Err(BusError::Backend(format!(
                "topic {topic} has no partitions"
            )));
        }
        let committed = consumer
            .committed_offsets(partitions, timeout)
            .map_err(unavailable)?;
        let mut start = TopicPartitionList::new();
        for element in committed.elements() {
            if let Offset::Offset(_) = element.offset() {
                continue;
            }
            let (_, high) = consumer
                .fetch_watermarks(topic, element.partition(), timeout)
                .map_err(unavailable)?;
            start
                .add_partition_offset(topic, element.partition(), Offset::Offset(high))
                .map_err(backend)?;
        }
        if start.count() > 0 {
            // Refused when other members of the group are active (their generation owns the
            // offsets): then `auto.offset.reset=latest` decides, as in plain Kafka.
            let _ = consumer.commit(&start, CommitMode::Sync);
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventBus for KafkaBus {
    fn backend(&self) -> &'static str {
        "kafka"
    }

    async fn ping(&self) -> BusResult<()> {
        let producer = self.producer.clone();
        let timeout = self.config.connect_timeout;
        blocking(move || producer.client().fetch_metadata(None, timeout))
            .await?
            .map(drop)
            .map_err(|e| {
                BusError::Unavailable(format!("no answer from {}: {e}", self.config.brokers))
            })
    }

    async fn flush(&self, timeout: Duration) -> BusResult<()> {
        KafkaBus::flush(self, timeout).await
    }

    async fn ensure_topics(&self, topics: &[&str]) -> BusResult<()> {
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|t| {
                let replication = TopicReplication::Fixed(self.config.topic_replication);
                NewTopic::new(t, self.config.topic_partitions, replication)
            })
            .collect();
        let options = AdminOptions::new()
            .request_timeout(Some(self.config.connect_timeout))
            .operation_timeout(Some(self.config.connect_timeout));
        let results = self
            .admin
            .create_topics(&new, &options)
            .await
            .map_err(unavailable)?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(BusError::Backend(format!("creating topic {topic}: {code}")))
                }
            }
        }
        Ok(())
    }

    async fn publish(&self, topic: &str, key: &str, value: &[u8]) -> BusResult<()> {
        let record = FutureRecord::to(topic).key(key).payload(value);
        let delivery = match self.producer.send_result(record) {
            Ok(delivery) => delivery,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                return Err(BusError::Unavailable(
                    "the Kafka producer's queue is full (is the broker away?)".into(),
                ))
            }
            Err((error, _)) => return Err(backend(error)),
        };
        // The delivery report only matters when it is a permanent failure: watch it in the
        // background instead of making the caller wait for a broker that may be away.
        let failed = Arc::clone(&self.failed_deliveries);
        let topic = topic.to_owned();
        tokio::spawn(async move {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((error, _))) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    eprintln!("kafka: a message to {topic} was not delivered: {error}");
                }
                // The producer was dropped with the message still queued.
                Err(_) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Ok(())
    }

    async fn subscribe(
        &self,
        topic: &str,
        group: &str,
        start: StartAt,
    ) -> BusResult<Box<dyn Subscription>> {
        self.ensure_topics(&[topic]).await?;
        let assigned = Arc::new(Notify::new());
        let reset = match start {
            StartAt::Earliest => "earliest",
            StartAt::Latest => "latest",
        };
        let consumer: StreamConsumer<GroupContext> = self
            .config
            .client_config()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", reset)
            .set("fetch.wait.max.ms", "10")
            // A member that stops without leaving the group (killed, or cut off) keeps its
            // partitions until this expires: 10 s rather than librdkafka's 45 s, so a standby
            // worker or a restarted process takes over sooner (brokers accept 6 s and up).
            .set("session.timeout.ms", SESSION_TIMEOUT_MS)
            .create_with_context(GroupContext {
                assigned: Arc::clone(&assigned),
            })
            .map_err(backend)?;
        let consumer = Arc::new(consumer);
        if start == StartAt::Latest {
            let (consumer, topic) = (Arc::clone(&consumer), topic.to_owned());
            let timeout = self.config.connect_timeout;
            blocking(move || KafkaBus::pin_latest(&consumer, &topic, timeout)).await??;
        }
        consumer.subscribe(&[topic]).map_err(backend)?;

        // Rebalance callbacks run while the consumer is polled: poll until the assignment
        // arrives, keeping a message that comes first (it comes after the assignment anyway).
        let mut pending = None;
        let joined = tokio::time::timeout(self.config.subscribe_timeout, async {
            loop {
                tokio::select! {
                    () = assigned.notified() => return Ok(()),
                    received = consumer.recv() => match received {
                        Ok(message) => {
                            pending = Some(to_bus_message(&message));
                            return Ok(());
                        }
                        Err(error) if is_transient(&error) => {}
                        Err(error) => return Err(backend(error)),
                    },
                }
            }
        })
        .await;
        match joined {
            Ok(result) => result?,
            // Another member holds the partitions (a standby worker), or the group is slow to
            // settle: the consumer stays a member and gets its messages once it is assigned a
            // partition, from the group's committed offsets (or the start point fixed above).
            // Dropping it and joining again would leave a member behind that never rejoins
            // until its session expires, and on a busy group the next rebalance would wait for
            // it, again and again.
            Err(_) if start == StartAt::Earliest => {}
            Err(_) => {
                return Err(BusError::Unavailable(format!(
                    "group {group} got no partition of {topic} within {:?}",
                    self.config.subscribe_timeout
                )))
            }
        }
        Ok(Box::new(KafkaSubscription { consumer, pending }))
    }
}

/// Signals when the group assigns the consumer partitions.
struct GroupContext {
    assigned: Arc<Notify>,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            if partitions.count() > 0 {
                self.assigned.notify_one();
            }
        }
    }
}

/// A group member's consumer.
struct KafkaSubscription {
    consumer: Arc<StreamConsumer<GroupContext>>,
    /// A message received while waiting for the assignment.
    pending: Option<BusMessage>,
}

impl std::fmt::Debug for KafkaSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSubscription")
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Subscription for KafkaSubscription {
    async fn next(&mut self) -> BusResult<BusMessage> {
        if let Some(message) = self.pending.take() {
            return Ok(message);
        }
        match self.consumer.recv().await {
            Ok(message) => Ok(to_bus_message(&message)),
            Err(error) if is_transient(&error) => Err(unavailable(error)),
            Err(error) => Err(backend(error)),
        }
    }

    async fn commit(&mut self, message: &BusMessage) -> BusResult<()> {
        // What `commit_message` does: the committed offset is the next one to read.
        let mut offsets = TopicPartitionList::new();
        offsets
            .add_partition_offset(
                &message.topic,
                message.partition,
                Offset::Offset(message.offset + 1),
            )
            .map_err(backend)?;
        let consumer = Arc::clone(&self.consumer);
        blocking(move || consumer.commit(&offsets, CommitMode::Sync))
            .await?
            .map_err(|e| match e {
                KafkaError::ConsumerCommit(code) if is_transient_code(code) => unavailable(e),
                e => backend(e),
            })
    }
}

fn to_bus_message(message: &impl Message) -> BusMessage {
    BusMessage {
        topic: message.topic().to_owned(),
        key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
        value: message.payload().unwrap_or_default().to_vec(),
        partition: message.partition(),
        offset: message.offset(),
    }
}

/// Errors that a broker coming back cures.
fn is_transient(error: &KafkaError) -> bool {
    match error {
        KafkaError::MessageConsumption(code) | KafkaError::Global(code) => is_transient_code(*code),
        _ => false,
    }
}

fn is_transient_code(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::NetworkException
            | RDKafkaErrorCode::CoordinatorNotAvailable
            | RDKafkaErrorCode::NotCoordinator
            | RDKafkaErrorCode::CoordinatorLoadInProgress
            | RDKafkaErrorCode::LeaderNotAvailable
            | RDKafkaErrorCode::NotLeaderForPartition
    )
}

/// Runs rdkafka's blocking calls off the async worker threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> BusResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BusError::Backend(format!("kafka client task failed: {e}")))
}

fn backend(error: KafkaError) -> BusError {
    BusError::Backend(error.to_string())
}

fn unavailable(error: KafkaError) -> BusError {
    BusError::Unavailable(error.to_string())
}
