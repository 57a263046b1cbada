#!/usr/bin/env bash
# Installs what recsys needs to build and test, skipping what is already there.
# Used by the README's commands and by .ci/run, so a fresh Debian machine with a Rust toolchain
# gets exactly what CI gets.
#
#   scripts/dev-setup.sh            everything the test suite needs
#   scripts/dev-setup.sh demo       only what `scripts/demo.sh` needs (the Rust toolchain)
#   scripts/dev-setup.sh browser    only the headless browser (scripts/eda-screenshot.sh)
#   scripts/dev-setup.sh bench      what the benchmarks need besides the tests' tools (wrk)
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

# --- MongoDB test server (owner: store/ingest; see scripts/test-services.sh) ---------------
# The MongoDB wire-protocol emulator (../shared/services/mongo-emulator/run.sh) makes its own
# virtualenv under ~/.cache/recsys-services and pip-installs pymongo and mongomock into it on
# first start. It needs python3 with a working `venv` (Debian: the python3-venv package).
# Skipped when RECSYS_TEST_MONGODB_URI points at a server of one's own.
need_mongo_emulator() {
  if [ -n "${RECSYS_TEST_MONGODB_URI:-}" ]; then
    return
  fi
  local services="${RECSYS_SERVICES_HOME:-$HOME/.cache/recsys-services}"
  if [ -x "$services/mongo-emulator-venv/bin/python" ]; then
    return
  fi
  local probe
  probe="$(mktemp -d)"
  if command -v python3 >/dev/null && python3 -m venv "$probe/venv" >/dev/null 2>&1; then
    rm -rf "$probe"
    return
  fi
  rm -rf "$probe"
  if ! command -v apt-get >/dev/null; then
    log "python3 with venv is needed for the MongoDB test emulator: install it (or set RECSYS_TEST_MONGODB_URI)"
    exit 1
  fi
  log "installing python3-venv (for the MongoDB test emulator)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
}
# --- end MongoDB test server ---------------------------------------------------------------

# --- Kafka test broker (owner: live/bus; see scripts/test-services.sh) ----------------------
# Tansu, a Kafka-compatible broker on crates.io, built from source with its in-memory storage
# (the `dynostore` feature). Skipped when it is installed or RECSYS_TEST_KAFKA_BROKERS points
# at a broker of one's own.
tansu_version=0.6.0
need_tansu() {
  if [ -n "${RECSYS_TEST_KAFKA_BROKERS:-}" ]; then
    return
  fi
  if command -v tansu >/dev/null || [ -x "$HOME/.cargo/bin/tansu" ]; then
    return
  fi
  log "installing tansu $tansu_version (the Kafka test broker): cargo install builds it, 12-17 minutes on a fresh 2-core machine"
  cargo install tansu --version "$tansu_version" --locked --features dynostore
}
# --- end Kafka test broker -----------------------------------------------------------------

# --- Spark job test (owner: examples/spark; see server/tests/spark) ------------------------
# pyspark (4.x, a full local Spark on the machine's Java 17) and pymongo in a virtualenv of
# their own, never the system Python: ${RECSYS_SERVICES_HOME:-~/.cache/recsys-services}/spark-venv.
# server/tests/spark runs examples/spark/ingest.py with its python (scripts/test.sh exports it
# as RECSYS_SPARK_PYTHON). Skipped when that python already imports both.
spark_venv() {
  printf '%s/spark-venv' "${RECSYS_SERVICES_HOME:-$HOME/.cache/recsys-services}"
}
need_spark() {
  local venv
  venv="$(spark_venv)"
  if "$venv/bin/python" -c 'import pyspark, pymongo' >/dev/null 2>&1; then
    return
  fi
  command -v java >/dev/null || { log "Java 17 is needed for the Spark job test: install openjdk-17-jre-headless"; exit 1; }
  log "installing pyspark and pymongo into $venv"
  mkdir -p "$(dirname "$venv")"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    command -v apt-get >/dev/null || { log "python3 with venv is needed for the Spark job test"; exit 1; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check pyspark pymongo
}
# --- end Spark job test --------------------------------------------------------------------

# --- Headless browser (the live page's end-to-end test; scripts/eda-screenshot.sh) ----------
# Debian's chromium driven by playwright-core from npm (scripts/browser/): never a browser
# download.
apt_install() { # package...
  command -v apt-get >/dev/null || { log "$* needed: install it"; exit 1; }
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  log "installing $* (apt)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
need_browser() {
  command -v chromium >/dev/null || apt_install chromium
  command -v npm >/dev/null || { log "node and npm (18+) are needed for scripts/browser"; exit 1; }
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/browser"
  if [ ! -d "$dir/node_modules/playwright-core" ]; then
    log "installing playwright-core into scripts/browser"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
}
case "${1:-}" in
  browser) need_browser; log "ready"; exit 0 ;;
  demo) need_rust; log "ready"; exit 0 ;;
  bench) need_rust; command -v wrk >/dev/null || apt_install wrk; log "ready"; exit 0 ;;
esac
# --- end headless browser ----------------------------------------------------------------

need_rust
need_mongo_emulator
need_tansu
need_spark
need_browser
log "ready"
