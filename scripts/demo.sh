#!/usr/bin/env bash
# The main job: build recsys and its plugins, then run the demo web app at http://127.0.0.1:8080
# with zero external services: a generated catalogue (default) or real Amazon files, the EDA
# report, an ensemble tuned on held-out data, live recommendations streamed to the page.
#
#   scripts/demo.sh                                            generated catalogue
#   scripts/demo.sh --data reviews.json.gz --data meta.json.gz real Amazon files
#
# Extra arguments go to `recsys demo` (e.g. --bind 0.0.0.0:8080, --ensemble ensemble.json).
# With RECSYS__MONGODB__URI and RECSYS__KAFKA__BROKERS set, MongoDB and Kafka are used instead of
# the embedded store and the in-process bus. To compare the plugins on the command line instead:
#   target/release/recsys evaluate --ensemble --data reviews.json.gz --data meta.json.gz
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/dev-setup.sh demo
cargo build --release
bin=target/release/recsys

"$bin" plugins
exec "$bin" demo --state-dir target/demo "$@"
