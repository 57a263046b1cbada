//! The live stack: the store and bus conformance suites (embedded backends and the real
//! MongoDB- and Kafka-protocol servers), the HTTP API and pages, the `recsys serve` binary with
//! dependencies that go away and come back, and the page in headless Chromium.
mod browser;
mod bus;
mod http;
mod outage;
mod serve;
mod store;
mod support;
