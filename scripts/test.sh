#!/usr/bin/env bash
# The whole test suite: formatting, lints, the workspace's plugin libraries, every test, docs.
# `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/dev-setup.sh

step() { printf '\n== %s\n' "$*"; }

# A CI checkout is built once: the incremental cache would only double the target directory.
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
fi
disk() {
  df -h --output=avail,target . | tail -1 | awk -v what="$1" '{print "[disk] " what ": " $1 " free on " $2}'
  if [ -d target ]; then du -sh target | awk '{print "[disk] target/ holds " $1}'; fi
}
disk "before the build"
trap 'disk "at the end"' EXIT

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy for embedders (recsys without the MongoDB feature)"
cargo clippy -p recsys --no-default-features -- -D warnings

step "build every plugin library (the plugin tests load them through dlopen)"
cargo build --workspace

step "examples/embed: the engine in a program of its own, the bundled plugins linked statically"
# Its own workspace (the plugins without their entry symbols) and its own target/embed (see
# examples/embed/.cargo/config.toml); its test loads the plugin libraries built just above.
cargo fmt --manifest-path examples/embed/Cargo.toml -- --check
cargo clippy --manifest-path examples/embed/Cargo.toml --target-dir target/embed --all-targets -- -D warnings
cargo run --manifest-path examples/embed/Cargo.toml --target-dir target/embed
cargo test --manifest-path examples/embed/Cargo.toml --target-dir target/embed

step "cargo test for embedders (recsys without default features: no server, Kafka, MongoDB)"
cargo test -p recsys --no-default-features

step "test services (scripts/test-services.sh: MongoDB protocol and Kafka on 127.0.0.1)"
# A server given in RECSYS_TEST_MONGODB_URI is used as it is; otherwise the emulator is started
# on port 27117 and stopped on exit, whether the tests pass or not.
# Likewise Kafka: RECSYS_TEST_KAFKA_BROKERS, or Tansu on port 19092.
if [ -z "${RECSYS_TEST_MONGODB_URI:-}" ] || [ -z "${RECSYS_TEST_KAFKA_BROKERS:-}" ]; then
  trap 'scripts/test-services.sh down; disk "at the end"' EXIT
  services="$(scripts/test-services.sh up)" # fails the script if a service cannot start
  eval "$services"
fi
export RECSYS_TEST_MONGODB_URI
echo "RECSYS_TEST_MONGODB_URI=$RECSYS_TEST_MONGODB_URI"
export RECSYS_TEST_KAFKA_BROKERS
echo "RECSYS_TEST_KAFKA_BROKERS=$RECSYS_TEST_KAFKA_BROKERS"
# The Python that runs the Spark job in server/tests/spark (installed by scripts/dev-setup.sh).
export RECSYS_SPARK_PYTHON="${RECSYS_SPARK_PYTHON:-${RECSYS_SERVICES_HOME:-$HOME/.cache/recsys-services}/spark-venv/bin/python}"

step "cargo test"
cargo test --workspace

step "cargo doc (plugin SDK, server and bundled plugins; warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p recsys-plugin-api -p recsys -p recsys-cf \
  -p recsys-mf -p recsys-content
