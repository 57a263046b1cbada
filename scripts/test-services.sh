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
# Kafka protocol: when RECSYS_TEST_KAFKA_BROKERS is already set, those brokers are used and
# nothing is started or stopped. Otherwise Tansu (`tansu`, installed by scripts/dev-setup.sh;
# see ../shared/SERVICES.md) is started in the background with in-memory storage on port
# RECSYS_TEST_KAFKA_PORT (default 19092, away from a developer's own broker on 9092); its pid
# and log are kept in RECSYS_TEST_SERVICES_STATE (default $TMPDIR/recsys-test-services).
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

kafka_port="${RECSYS_TEST_KAFKA_PORT:-19092}"
kafka_brokers="127.0.0.1:$kafka_port"
state="${RECSYS_TEST_SERVICES_STATE:-${TMPDIR:-/tmp}/recsys-test-services}"
tansu_pid_file="$state/tansu-$kafka_port.pid"
tansu_log="$state/tansu-$kafka_port.log"

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

tansu_running() {
  [ -f "$tansu_pid_file" ] && kill -0 "$(cat "$tansu_pid_file")" 2>/dev/null
}

kafka_up() {
  if [ -n "${RECSYS_TEST_KAFKA_BROKERS:-}" ]; then
    log "Kafka: using RECSYS_TEST_KAFKA_BROKERS (nothing started)"
    echo "export RECSYS_TEST_KAFKA_BROKERS='$RECSYS_TEST_KAFKA_BROKERS'"
    return
  fi
  if tansu_running && port_answers "$kafka_port"; then
    log "Kafka: tansu already running on $kafka_brokers (pid $(cat "$tansu_pid_file"))"
    echo "export RECSYS_TEST_KAFKA_BROKERS='$kafka_brokers'"
    return
  fi
  if port_answers "$kafka_port"; then
    log "Kafka: port $kafka_port is taken by another program; set RECSYS_TEST_KAFKA_PORT (or RECSYS_TEST_KAFKA_BROKERS to use that broker)"
    exit 1
  fi
  local tansu
  tansu="$(command -v tansu || true)"
  if [ -z "$tansu" ] && [ -x "$HOME/.cargo/bin/tansu" ]; then
    tansu="$HOME/.cargo/bin/tansu"
  fi
  if [ -z "$tansu" ]; then
    log "Kafka: tansu not found: run scripts/dev-setup.sh (or set RECSYS_TEST_KAFKA_BROKERS to a broker)"
    exit 1
  fi
  mkdir -p "$state"
  log "Kafka: starting tansu on $kafka_brokers (log: $tansu_log)"
  # Its output goes to the log, never to our stdout (which `up`'s caller reads to the end).
  nohup "$tansu" broker \
    --listener-url "tcp://$kafka_brokers" \
    --advertised-listener-url "tcp://$kafka_brokers" \
    --storage-engine memory://tansu/ \
    </dev/null >"$tansu_log" 2>&1 &
  echo $! >"$tansu_pid_file"
  local waited=0
  until port_answers "$kafka_port"; do
    if ! tansu_running; then
      log "Kafka: tansu exited; the end of $tansu_log:"
      tail -n 20 "$tansu_log" >&2 || true
      rm -f "$tansu_pid_file"
      exit 1
    fi
    if [ "$waited" -ge 300 ]; then
      log "Kafka: tansu did not answer on $kafka_brokers within 30 s; the end of $tansu_log:"
      tail -n 20 "$tansu_log" >&2 || true
      kafka_down
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "export RECSYS_TEST_KAFKA_BROKERS='$kafka_brokers'"
}

kafka_down() {
  if [ -n "${RECSYS_TEST_KAFKA_BROKERS:-}" ] && [ "$RECSYS_TEST_KAFKA_BROKERS" != "$kafka_brokers" ]; then
    return # not ours
  fi
  if tansu_running; then
    local pid waited=0
    pid="$(cat "$tansu_pid_file")"
    log "Kafka: stopping tansu on $kafka_brokers (pid $pid)"
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 50 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$tansu_pid_file"
}

case "${1:-}" in
  up) mongodb_up; kafka_up ;;
  down) mongodb_down; kafka_down ;;
  env)
    echo "export RECSYS_TEST_MONGODB_URI='${RECSYS_TEST_MONGODB_URI:-$emulator_uri}'"
    echo "export RECSYS_TEST_KAFKA_BROKERS='${RECSYS_TEST_KAFKA_BROKERS:-$kafka_brokers}'"
    ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
