#!/usr/bin/env bash
# Renders the EDA report of a dataset and screenshots it in headless Chromium, at desktop and
# phone widths.
#
#   scripts/eda-screenshot.sh [OUT_DIR] [DATA_FILE...]
#
# Defaults: OUT_DIR target/eda-screenshot, data: the Magazine Subscriptions reviews and
# metadata of ../shared/data/amazon (it has every section: verified, prices, categories, brands).
# Writes OUT_DIR/index.html, OUT_DIR/stats.json, OUT_DIR/desktop.png and OUT_DIR/phone.png.
# Installs what is missing first (scripts/dev-setup.sh browser: Debian's chromium and
# playwright-core from npm, never a browser download).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/eda-screenshot}"
shift || true
if [ "$#" -eq 0 ]; then
  data="$root/../shared/data/amazon/mcauley2018-magazine-subscriptions"
  set -- "$data/Magazine_Subscriptions_5.json.gz" "$data/meta_Magazine_Subscriptions.json.gz"
fi

"$root/scripts/dev-setup.sh" browser
cargo build --quiet -p recsys --manifest-path "$root/Cargo.toml"
"$root/target/debug/recsys" eda --quiet --data "$@" --out "$out" >/dev/null
node "$root/scripts/browser/screenshot.js" "$out/index.html" "$out/desktop.png" --width 1280
node "$root/scripts/browser/screenshot.js" "$out/index.html" "$out/phone.png" --width 390 --scale 2
echo "$out/desktop.png"
echo "$out/phone.png"
