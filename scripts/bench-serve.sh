#!/usr/bin/env bash
# Serving benchmarks (not tests), on loopback, release build:
#
#   scripts/bench-serve.sh [RATE] [SECONDS]      (defaults 1000 requests/s for 20 s)
#
# 1. `GET /api/users/{id}/recommendations` (fold-in of the user's history on every request) on
#    the embedded store and in-process bus: latency at a fixed request rate, measured by the
#    open-loop generator `server/examples/loadgen.rs` (latency counted from when each request
#    was due, so a stall is not hidden), then the most wrk can get through (closed loop).
# 2. Preference event -> Server-Sent Event latency through the real Kafka-protocol broker (Tansu,
#    started by scripts/test-services.sh) and, for comparison in the same run, the in-process bus.
#
# The demo catalogue's default size is used (config [demo]); the server, the generator and wrk
# share the machine's cores, as they would on a 2-core box.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rate="${1:-1000}"
seconds="${2:-20}"
port=18080
key=bench-key
base="http://127.0.0.1:$port"
state="$(mktemp -d)"
server_pid=""

log() { printf '\n== %s\n' "$*" >&2; }
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "${kafka_started:-}" ] && scripts/test-services.sh down >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

scripts/dev-setup.sh         # Tansu and the emulator (scripts/test-services.sh)
scripts/dev-setup.sh bench   # wrk
cargo build --release --workspace -q
cargo build --release -p recsys --example loadgen -q
loadgen=target/release/examples/loadgen

start_server() { # extra env assignments as arguments
  env RECSYS__SERVER__API_KEY=$key RECSYS__SERVER__BIND=127.0.0.1:$port "$@" \
    target/release/recsys serve --state-dir "$state" >"$state/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && return
    kill -0 "$server_pid" 2>/dev/null || { cat "$state/server.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "the server did not start" >&2; exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

auth=(-H "Authorization: Bearer $key")
setup_user() { # user id; likes five popular products
  curl -fs "${auth[@]}" -X PUT -H 'Content-Type: application/json' -d "{\"name\":\"$1\"}" "$base/api/users/$1" >/dev/null
  for asin in $(curl -fs "$base/api/products?page=2" | python3 -c 'import json,sys; print(" ".join(i["asin"] for i in json.load(sys.stdin)["items"][:5]))'); do
    curl -fs "${auth[@]}" -H 'Content-Type: application/json' -d "{\"asin\":\"$asin\",\"kind\":\"like\"}" "$base/api/users/$1/preferences" >/dev/null
  done
}
asins() { curl -fs "$base/api/products?page=3" | python3 -c 'import json,sys; print(",".join(i["asin"] for i in json.load(sys.stdin)["items"][:10]))'; }

log "embedded store + in-process bus: start-up (generate, tune, train)"
start_server
setup_user bench
url="$base/api/users/bench/recommendations"
log "fixed rate: $rate requests/s for ${seconds}s, GET /api/users/bench/recommendations"
$loadgen rate "$url" --rate "$rate" --seconds "$seconds" --connections 32 --header "Authorization: Bearer $key"
log "wrk, closed loop (2 threads, 32 connections, ${seconds}s): the most the server gets through"
wrk -t2 -c32 -d"${seconds}s" --latency -H "Authorization: Bearer $key" "$url" | sed -n '1,20p'
log "event -> SSE, in-process bus (200 events)"
setup_user sse-memory
$loadgen sse "$base" --user sse-memory --key "$key" --asins "$(asins)" --events 200
stop_server

log "event -> SSE through Kafka (Tansu on 127.0.0.1)"
if [ -z "${RECSYS_TEST_KAFKA_BROKERS:-}" ]; then
  eval "$(scripts/test-services.sh up)"
  kafka_started=1
fi
start_server RECSYS__KAFKA__BROKERS="$RECSYS_TEST_KAFKA_BROKERS"
setup_user sse-kafka
$loadgen sse "$base" --user sse-kafka --key "$key" --asins "$(asins)" --events 200
