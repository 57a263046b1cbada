//! `recsys ingest` against a real MongoDB-protocol server (`RECSYS_TEST_MONGODB_URI`; in the
//! test suite the emulator that `scripts/test-services.sh up` starts): the Amazon files of
//! `shared/data/amazon`, every kind of bad input, and a server that is unreachable or goes away.
//!
//! Each test works in a database of its own, dropped at the end. The emulator is single-threaded
//! and scans for every query, so the big ratings CSVs are ingested through their first lines.

mod amazon;
mod bad_input;
mod cli;
mod support;
mod unreachable;
