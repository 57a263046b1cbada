#!/usr/bin/env bash
# Ingest throughput, one run, same machine, same file: `recsys ingest --dry-run` (read, parse,
# validate, clean, build BSON documents; no database) against the same work in a plain Python
# loop and in the Spark job's parse stage in local[2]. MongoDB write throughput is not measured
# here (the test emulator is a semantic stand-in, not a performance reference).
#
#   scripts/bench-ingest.sh [REVIEWS]      default 1000000 synthetic reviews
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-1000000}"
scripts/dev-setup.sh
py="${RECSYS_SPARK_PYTHON:-${RECSYS_SERVICES_HOME:-$HOME/.cache/recsys-services}/spark-venv/bin/python}"
cargo build --release -q -p recsys
out="target/bench/ingest-$n"
mkdir -p "$out"
[ -f "$out/reviews.json.gz" ] || target/release/recsys synth --users $(( n / 20 )) \
  --items $(( n / 100 )) --interactions "$n" --seed 7 --gz --out "$out"
file="$out/reviews.json.gz"

echo "== recsys ingest --dry-run"
/usr/bin/time -v -o "$out/recsys.time" target/release/recsys ingest --dry-run --quiet "$file" \
  | tee "$out/recsys.txt"
echo "== plain Python loop"
/usr/bin/time -v -o "$out/python.time" "$py" benches/peers/ingest_bench.py python "$file" \
  | tee "$out/python.json"
echo "== Spark local[2]"
/usr/bin/time -v -o "$out/spark.time" "$py" benches/peers/ingest_bench.py spark "$file" 2>/dev/null \
  | tee "$out/spark.json"

"$py" - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
def wall(path):
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", open(path).read())
    h, mnt, s = m.groups()
    return int(h or 0) * 3600 + int(mnt) * 60 + float(s)
def rss(path):
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read()).group(1)) / 1024
py, sp = json.load(open(f"{out}/python.json")), json.load(open(f"{out}/spark.json"))
records = py["records"]
rust_rate = records / wall(f"{out}/recsys.time")
print(f"\n{records} lines; rate = lines per second of wall time for the whole command")
print(f"{'':34s} {'lines/s':>10s} {'vs recsys':>10s} {'peak RSS MiB':>13s}")
print(f"{'recsys ingest --dry-run':34s} {rust_rate:10.0f} {1.0:10.2f} {rss(f'{out}/recsys.time'):13.0f}")
prate = records / wall(f"{out}/python.time")
print(f"{'plain Python loop (json + bson)':34s} {prate:10.0f} {prate / rust_rate:10.2f} {rss(f'{out}/python.time'):13.0f}")
srate = records / wall(f"{out}/spark.time")
print(f"{'Spark local[2] (incl. start-up)':34s} {srate:10.0f} {srate / rust_rate:10.2f} {rss(f'{out}/spark.time'):13.0f}")
print(f"{'Spark local[2] (parse stage only)':34s} {sp['records_per_second']:10.0f} {sp['records_per_second'] / rust_rate:10.2f}")
PY
