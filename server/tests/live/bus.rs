//! `EventBus` conformance: the same behaviours, checked against every backend.
//!
//! Each behaviour is an async fn over `&dyn EventBus`, run against `MemoryBus` and against
//! Kafka at `RECSYS_TEST_KAFKA_BROKERS` (scripts/test-services.sh starts Tansu there). Without
//! that variable the Kafka runs print that they are skipped, except when `CI` is set: then they
//! fail. Every test uses fresh topic and group names, so runs never see each other's messages.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use recsys::live::{BusMessage, EventBus, StartAt, Subscription};

/// How long a test waits for a message that should come.
const WAIT: Duration = Duration::from_secs(20);

/// A name no other test (in this run or another) uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos:x}-{n}", std::process::id())
}

async fn next(subscription: &mut Box<dyn Subscription>) -> BusMessage {
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .expect("no message within the wait")
        .expect("next failed")
}

/// Asserts that nothing arrives for a while (for "does not see" checks).
async fn assert_nothing_more(subscription: &mut Box<dyn Subscription>) {
    let got = tokio::time::timeout(Duration::from_millis(700), subscription.next()).await;
    assert!(got.is_err(), "unexpected message: {got:?}");
}

fn text(message: &BusMessage) -> &str {
    std::str::from_utf8(&message.value).expect("UTF-8 value")
}

async fn publish_all(bus: &dyn EventBus, topic: &str, key: &str, values: &[&str]) {
    for value in values {
        bus.publish(topic, key, value.as_bytes()).await.unwrap();
    }
}

// --- the behaviours -------------------------------------------------------------------------

async fn ping_and_ensure_topics_twice(bus: &dyn EventBus) {
    bus.ping().await.unwrap();
    let (a, b) = (unique("ensure-a"), unique("ensure-b"));
    bus.ensure_topics(&[&a, &b]).await.unwrap();
    bus.ensure_topics(&[&a]).await.unwrap();
    // An existing empty topic: a Latest subscription then sees what is published.
    let mut subscription = bus
        .subscribe(&a, &unique("g"), StartAt::Latest)
        .await
        .unwrap();
    bus.publish(&a, "u", b"x").await.unwrap();
    assert_eq!(text(&next(&mut subscription).await), "x");
}

async fn earliest_gets_an_earlier_message_with_key_and_value(bus: &dyn EventBus) {
    let topic = unique("earliest");
    bus.ensure_topics(&[&topic]).await.unwrap();
    bus.publish(&topic, "user-1", br#"{"asin":"B001"}"#)
        .await
        .unwrap();
    let mut subscription = bus
        .subscribe(&topic, &unique("g"), StartAt::Earliest)
        .await
        .unwrap();
    let message = next(&mut subscription).await;
    assert_eq!(message.topic, topic);
    assert_eq!(message.key, "user-1");
    assert_eq!(message.value, br#"{"asin":"B001"}"#);
    assert_eq!((message.partition, message.offset), (0, 0));
}

async fn publish_creates_an_unknown_topic(bus: &dyn EventBus) {
    let topic = unique("autocreate");
    bus.publish(&topic, "u", b"first").await.unwrap();
    let mut subscription = bus
        .subscribe(&topic, &unique("g"), StartAt::Earliest)
        .await
        .unwrap();
    assert_eq!(text(&next(&mut subscription).await), "first");
}

async fn latest_skips_older_messages_and_gets_newer_ones(bus: &dyn EventBus) {
    let topic = unique("latest");
    bus.ensure_topics(&[&topic]).await.unwrap();
    publish_all(bus, &topic, "u", &["old-1", "old-2"]).await;
    // "Older" means stored before the subscription: publish only queues them in a producer.
    bus.flush(Duration::from_secs(10)).await.unwrap();
    let mut subscription = bus
        .subscribe(&topic, &unique("g"), StartAt::Latest)
        .await
        .unwrap();
    publish_all(bus, &topic, "u", &["new-1", "new-2"]).await;
    assert_eq!(text(&next(&mut subscription).await), "new-1");
    assert_eq!(text(&next(&mut subscription).await), "new-2");
    assert_nothing_more(&mut subscription).await;
}

async fn keeps_per_key_order(bus: &dyn EventBus) {
    let topic = unique("order");
    bus.ensure_topics(&[&topic]).await.unwrap();
    let keys = ["alice", "bob", "carol"];
    for i in 0..50 {
        for key in keys {
            bus.publish(&topic, key, i.to_string().as_bytes())
                .await
                .unwrap();
        }
    }
    let mut subscription = bus
        .subscribe(&topic, &unique("g"), StartAt::Earliest)
        .await
        .unwrap();
    let mut seen: HashMap<String, Vec<u32>> = HashMap::new();
    for _ in 0..50 * keys.len() {
        let message = next(&mut subscription).await;
        seen.entry(message.key.clone())
            .or_default()
            .push(text(&message).parse().unwrap());
    }
    let expected: Vec<u32> = (0..50).collect();
    for key in keys {
        assert_eq!(seen[key], expected, "order of {key}");
    }
}

async fn every_group_gets_every_message(bus: &dyn EventBus) {
    let topic = unique("groups");
    bus.ensure_topics(&[&topic]).await.unwrap();
    publish_all(bus, &topic, "u", &["a", "b", "c"]).await;
    for group in [unique("g1"), unique("g2")] {
        let mut subscription = bus
            .subscribe(&topic, &group, StartAt::Earliest)
            .await
            .unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(text(&next(&mut subscription).await).to_owned());
        }
        assert_eq!(got, ["a", "b", "c"], "group {group}");
    }
}

async fn a_group_resumes_after_its_last_commit(bus: &dyn EventBus) {
    let topic = unique("resume");
    let group = unique("g");
    bus.ensure_topics(&[&topic]).await.unwrap();
    publish_all(bus, &topic, "u", &["0", "1", "2", "3", "4"]).await;
    {
        let mut subscription = bus
            .subscribe(&topic, &group, StartAt::Earliest)
            .await
            .unwrap();
        for expected in ["0", "1", "2"] {
            let message = next(&mut subscription).await;
            assert_eq!(text(&message), expected);
            subscription.commit(&message).await.unwrap();
        }
    }
    // Also with Latest: the committed offset wins over the start point.
    let mut subscription = bus
        .subscribe(&topic, &group, StartAt::Latest)
        .await
        .unwrap();
    let message = next(&mut subscription).await;
    assert_eq!((text(&message), message.offset), ("3", 3));
}

async fn an_uncommitted_message_is_delivered_again(bus: &dyn EventBus) {
    let topic = unique("redeliver");
    let group = unique("g");
    bus.ensure_topics(&[&topic]).await.unwrap();
    publish_all(bus, &topic, "u", &["0", "1", "2"]).await;
    {
        let mut subscription = bus
            .subscribe(&topic, &group, StartAt::Earliest)
            .await
            .unwrap();
        let first = next(&mut subscription).await;
        subscription.commit(&first).await.unwrap();
        let second = next(&mut subscription).await;
        assert_eq!(text(&second), "1");
        // Handled, not committed: the subscription ends (a crash, a restart).
    }
    let mut subscription = bus
        .subscribe(&topic, &group, StartAt::Earliest)
        .await
        .unwrap();
    assert_eq!(text(&next(&mut subscription).await), "1");
    assert_eq!(text(&next(&mut subscription).await), "2");
}

async fn a_latest_start_is_fixed_by_the_first_subscription(bus: &dyn EventBus) {
    let topic = unique("fixed");
    let group = unique("g");
    bus.ensure_topics(&[&topic]).await.unwrap();
    publish_all(bus, &topic, "u", &["before"]).await;
    // `publish` returns once the message is queued: "before" must be on the broker before
    // the subscription fixes the start.
    bus.flush(WAIT).await.unwrap();
    {
        let _subscription = bus
            .subscribe(&topic, &group, StartAt::Latest)
            .await
            .unwrap();
        publish_all(bus, &topic, "u", &["while-away"]).await;
        // Ends without reading or committing anything.
    }
    let mut subscription = bus
        .subscribe(&topic, &group, StartAt::Latest)
        .await
        .unwrap();
    assert_eq!(text(&next(&mut subscription).await), "while-away");
}

// --- the runs -------------------------------------------------------------------------------

macro_rules! conformance {
    ($($behaviour:ident),* $(,)?) => {
        mod memory_bus {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    super::$behaviour(&recsys::live::MemoryBus::new()).await;
                }
            )*
        }

        #[cfg(feature = "kafka")]
        mod kafka_bus {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    if let Some(bus) = super::kafka::bus(stringify!($behaviour)).await {
                        super::$behaviour(&bus).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    ping_and_ensure_topics_twice,
    earliest_gets_an_earlier_message_with_key_and_value,
    publish_creates_an_unknown_topic,
    latest_skips_older_messages_and_gets_newer_ones,
    keeps_per_key_order,
    every_group_gets_every_message,
    a_group_resumes_after_its_last_commit,
    an_uncommitted_message_is_delivered_again,
    a_latest_start_is_fixed_by_the_first_subscription,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_bus_subscribe_waits_without_a_broker() {
    use recsys::live::MemoryBus;
    // Several subscriptions of one group each deliver from the group's committed offset.
    let bus = MemoryBus::new();
    bus.publish("t", "u", b"m").await.unwrap();
    let mut a = bus.subscribe("t", "g", StartAt::Earliest).await.unwrap();
    let mut b = bus.subscribe("t", "g", StartAt::Earliest).await.unwrap();
    assert_eq!(text(&next(&mut a).await), "m");
    assert_eq!(text(&next(&mut b).await), "m");
}

#[cfg(feature = "kafka")]
mod kafka {
    use std::time::{Duration, Instant};

    use recsys::live::{EventBus, KafkaBus, KafkaConfig, StartAt};

    use super::{next, unique};

    /// The bus at `RECSYS_TEST_KAFKA_BROKERS`, or `None` (skipped) when it is not set, unless
    /// `CI` is set.
    pub(super) async fn bus(test: &str) -> Option<KafkaBus> {
        match std::env::var("RECSYS_TEST_KAFKA_BROKERS") {
            Ok(brokers) if !brokers.is_empty() => Some(
                KafkaBus::connect(&KafkaConfig::new(brokers))
                    .await
                    .expect("connect to RECSYS_TEST_KAFKA_BROKERS"),
            ),
            _ if std::env::var_os("CI").is_some() => {
                panic!("CI is set but RECSYS_TEST_KAFKA_BROKERS is not: start Kafka with scripts/test-services.sh up")
            }
            _ => {
                eprintln!("skipped {test}: RECSYS_TEST_KAFKA_BROKERS is not set");
                None
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connect_fails_fast_when_no_broker_answers() {
        // A port nothing listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = Instant::now();
        let result = KafkaBus::connect(&KafkaConfig::new(format!("127.0.0.1:{port}"))).await;
        assert!(
            matches!(result, Err(recsys::live::BusError::Unavailable(_))),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// Messages published while the broker is away are queued and delivered, in order and
    /// none lost, when it comes back. The broker goes away behind a [`Proxy`] (connections
    /// cut, new ones refused) and keeps its state, as a Kafka restart does. (Restarting Tansu
    /// itself is no such test: its `memory://` storage comes back empty, and Tansu 0.6 writes
    /// two batches at one offset when a `CreateTopics` races the queued produce requests.)
    ///
    /// [`Proxy`]: crate::support::Proxy
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_published_while_the_broker_is_away_are_delivered() {
        use crate::support::{free_port, Proxy, Tansu};
        if bus("messages_published_while_the_broker_is_away_are_delivered")
            .await
            .is_none()
        {
            return;
        }
        let (broker_port, proxy_port) = (free_port(), free_port());
        let log = std::env::temp_dir().join(format!("recsys-tansu-outage-{broker_port}.log"));
        let _tansu = Tansu::advertising(broker_port, proxy_port, log.clone());
        let mut proxy = Proxy::start(proxy_port, broker_port);
        let bus = KafkaBus::connect(&KafkaConfig::new(format!("127.0.0.1:{proxy_port}")))
            .await
            .unwrap();
        let topic = unique("outage");
        bus.ensure_topics(&[&topic]).await.unwrap();
        for i in 0..5 {
            bus.publish(&topic, "u", format!("before-{i}").as_bytes())
                .await
                .unwrap();
        }
        bus.flush(Duration::from_secs(10)).await.unwrap();

        proxy.cut();
        assert!(
            matches!(
                bus.ping().await,
                Err(recsys::live::BusError::Unavailable(_))
            ),
            "ping must fail while the broker is away"
        );
        for i in 0..10 {
            let published = tokio::time::timeout(
                Duration::from_secs(2),
                bus.publish(&topic, "u", format!("during-{i}").as_bytes()),
            )
            .await
            .expect("publish must not wait for the broker");
            published.expect("publish while the broker is away");
        }

        proxy.restore();
        let mut subscription = bus
            .subscribe(&topic, &unique("g"), StartAt::Earliest)
            .await
            .unwrap();
        let expected: Vec<String> = (0..5)
            .map(|i| format!("before-{i}"))
            .chain((0..10).map(|i| format!("during-{i}")))
            .collect();
        let mut received = Vec::new();
        while received.len() < expected.len() {
            let message = next(&mut subscription).await;
            let value = String::from_utf8(message.value).unwrap();
            // At-least-once: a retried batch may come twice; count each message once.
            if !received.contains(&value) {
                received.push(value);
            }
        }
        assert_eq!(received, expected, "tansu log: {}", log.display());
        assert_eq!(bus.failed_deliveries(), 0);
    }
}
