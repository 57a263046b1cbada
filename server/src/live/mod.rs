//! The live side of the server: users' preferences and their latest recommendations (the
//! [`PreferenceStore`]), preference events and fresh recommendations in flight (the
//! [`EventBus`]), and the [`worker`] that turns one into the other.
//!
//! Each trait has an embedded backend (zero setup: [`EmbeddedStore`] on redb, [`MemoryBus`]
//! in-process) and a production one ([`MongoPreferenceStore`], [`KafkaBus`]); the same
//! conformance tests run against all of them (`tests/live`).

mod bus;
mod store;
mod types;
pub mod worker;

pub use worker::{Live, LiveCounters, LiveError, Topics};

pub use bus::{BusError, BusMessage, BusResult, EventBus, MemoryBus, StartAt, Subscription};
#[cfg(feature = "kafka")]
pub use bus::{KafkaBus, KafkaConfig};
#[cfg(feature = "mongodb")]
pub use store::MongoPreferenceStore;
pub use store::{Bounded, EmbeddedStore, PreferenceStore, StoreError, StoreResult};
pub use types::{
    now_millis, Change, Preference, PreferenceEvent, PreferenceKind, RecommendationsMessage,
    StoredRecommendations, User,
};
