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

step "build every plugin library (the plugin tests load them through dlopen)"
cargo build --workspace

step "cargo test"
cargo test --workspace

step "cargo doc (plugin SDK, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p recsys-plugin-api
