#!/usr/bin/env bash
# The main job: build recsys and its plugins, then train and compare every plugin on a
# generated catalogue (default) or on real Amazon files.
#
#   scripts/demo.sh                              generated catalogue (20k users, 4k items, 400k reviews)
#   scripts/demo.sh --data reviews.json.gz [--data meta.json.gz ...]   real Amazon files
#
# Extra arguments are passed to `recsys evaluate` (e.g. --plugins cf,mf --k 20 --json out.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/dev-setup.sh
cargo build --release
bin=target/release/recsys

"$bin" plugins
if [[ " $* " != *" --data "* ]]; then
  out=target/demo-catalogue
  if [ ! -f "$out/reviews.json.gz" ]; then
    "$bin" synth --users 20000 --items 4000 --interactions 400000 --seed 42 --gz --out "$out"
  fi
  set -- --data "$out/reviews.json.gz" --data "$out/meta.json.gz" "$@"
fi
exec "$bin" evaluate "$@"
