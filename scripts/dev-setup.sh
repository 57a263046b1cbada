#!/usr/bin/env bash
# Installs what recsys needs to build and test, skipping what is already there.
# Used by the README's commands and by .ci/run, so a fresh Debian machine with a Rust toolchain
# gets exactly what CI gets.
#
#   scripts/dev-setup.sh            everything the test suite needs
set -euo pipefail

log() { printf '[dev-setup] %s\n' "$*" >&2; }

need_rust() {
  command -v cargo >/dev/null || { log "cargo not found: install a Rust toolchain (rustup)"; exit 1; }
  if command -v rustup >/dev/null; then
    for component in rustfmt clippy; do
      if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
        log "installing rustup component $component"
        rustup component add "$component"
      fi
    done
  fi
}

need_rust
log "ready"
