#!/usr/bin/env bash
# Starts and stops the servers that the test suite talks to, on 127.0.0.1 only.
#
#   scripts/test-services.sh up      start them (if needed) and print the variables to export
#   scripts/test-services.sh down    stop what `up` started
#   scripts/test-services.sh env     print the variables without starting anything
#
# MongoDB protocol: when RECSYS_TEST_MONGODB_URI is already set, that server (a real mongod, say)
# is used and nothing is started or stopped. Otherwise the MongoDB wire-protocol emulator in
# ../shared/services/mongo-emulator (see ../shared/SERVICES.md) is started on port
# RECSYS_TEST_MONGODB_PORT (default 27117, away from a developer's own mongod on 27017).
#
# `up` prints `export NAME=VALUE` lines, so a shell can `eval "$(scripts/test-services.sh up)"`;
# scripts/test.sh does that around `cargo test`. Progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[test-services] %s\n' "$*" >&2; }

port="${RECSYS_TEST_MONGODB_PORT:-27117}"
emulator="${RECSYS_MONGO_EMULATOR:-$root/../shared/services/mongo-emulator/run.sh}"
emulator_uri="mongodb://127.0.0.1:$port/?directConnection=true"

mongodb_up() {
  if [ -n "${RECSYS_TEST_MONGODB_URI:-}" ]; then
    log "MongoDB: using RECSYS_TEST_MONGODB_URI (nothing started)"
    echo "export RECSYS_TEST_MONGODB_URI='$RECSYS_TEST_MONGODB_URI'"
    return
  fi
  if [ ! -x "$emulator" ] && [ ! -f "$emulator" ]; then
    log "MongoDB: emulator not found at $emulator; set RECSYS_TEST_MONGODB_URI to a server"
    exit 1
  fi
  log "MongoDB: starting the emulator on 127.0.0.1:$port"
  bash "$emulator" start "$port" >&2
  echo "export RECSYS_TEST_MONGODB_URI='$emulator_uri'"
}

mongodb_down() {
  if [ -n "${RECSYS_TEST_MONGODB_URI:-}" ] && [ "$RECSYS_TEST_MONGODB_URI" != "$emulator_uri" ]; then
    return # not ours
  fi
  if [ -f "$emulator" ]; then
    log "MongoDB: stopping the emulator on 127.0.0.1:$port"
    bash "$emulator" stop "$port" >&2 || true
  fi
}

case "${1:-}" in
  up) mongodb_up ;;
  down) mongodb_down ;;
  env) echo "export RECSYS_TEST_MONGODB_URI='${RECSYS_TEST_MONGODB_URI:-$emulator_uri}'" ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
