//! MongoDB as the system of record: the collections, their documents and indexes, and the
//! writes that ingest makes.
//!
//! [`MongoStore`] connects with the official `mongodb` driver (async, on tokio) and offers the
//! few operations ingest needs: idempotent batch writes that say exactly how many records were
//! inserted, updated or already there, the quarantine of refused records, and the
//! `ingest_runs` log. [`schema`] builds every document; `docs/schema.md` describes them.
//!
//! ```no_run
//! # async fn example() -> Result<(), recsys::store::StoreError> {
//! use recsys::store::{MongoConfig, MongoStore};
//!
//! let store = MongoStore::connect(&MongoConfig::new("mongodb://127.0.0.1:27017", "recsys")).await?;
//! store.ensure_indexes().await?;
//! # Ok(()) }
//! ```

mod error;
mod mongo;
pub mod schema;

pub use error::{redact_uri, StoreError};
pub use mongo::{MongoConfig, MongoStore, Pending, WriteOutcome};
