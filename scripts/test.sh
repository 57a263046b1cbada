#!/usr/bin/env bash
# The whole test suite: formatting, lints, the workspace's plugin libraries, every test, docs.
# `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/dev-setup.sh

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy for embedders (recsys without the MongoDB feature)"
cargo clippy -p recsys --no-default-features -- -D warnings

step "build every plugin library (the plugin tests load them through dlopen)"
cargo build --workspace

step "test services (scripts/test-services.sh: MongoDB protocol on 127.0.0.1)"
# A server given in RECSYS_TEST_MONGODB_URI is used as it is; otherwise the emulator is started
# on port 27117 and stopped on exit, whether the tests pass or not.
if [ -z "${RECSYS_TEST_MONGODB_URI:-}" ]; then
  trap 'scripts/test-services.sh down' EXIT
  services="$(scripts/test-services.sh up)" # fails the script if a service cannot start
  eval "$services"
fi
export RECSYS_TEST_MONGODB_URI
echo "RECSYS_TEST_MONGODB_URI=$RECSYS_TEST_MONGODB_URI"
# The Python that runs the Spark job in server/tests/spark (installed by scripts/dev-setup.sh).
export RECSYS_SPARK_PYTHON="${RECSYS_SPARK_PYTHON:-${RECSYS_SERVICES_HOME:-$HOME/.cache/recsys-services}/spark-venv/bin/python}"

step "cargo test"
cargo test --workspace

step "cargo doc (plugin SDK, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p recsys-plugin-api
