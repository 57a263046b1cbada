#!/usr/bin/env bash
# Peer comparison, one run, same machine, same data, same split: recsys (mf ALS, cf item-kNN)
# against implicit (CPU) on a `recsys synth` dataset. Prints the ratios for the README.
#
#   scripts/bench-peers.sh [INTERACTIONS]      default 1000000
#
# Needs python3 with venv; implicit, scipy and numpy are installed into ~/.cache/recsys-bench.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-1000000}"
users=$(( n / 20 )); items=$(( n / 100 ))
[ "$items" -ge 100 ] || items=100
venv="${RECSYS_BENCH_VENV:-$HOME/.cache/recsys-bench/venv}"
if ! "$venv/bin/python" -c 'import implicit, scipy, numpy' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'implicit==0.7.3' scipy numpy
fi
cargo build --release -q -p recsys -p recsys-mf -p recsys-cf
out="target/bench/synth-$n"
mkdir -p "$out"
[ -f "$out/reviews.json.gz" ] || target/release/recsys synth --users "$users" --items "$items" \
  --interactions "$n" --seed 42 --gz --out "$out"

echo "== recsys (mf ALS 64 factors, 15 iterations, reg 0.05; cf plain cosine item-kNN, 100 neighbours, as implicit; 2 threads)"
/usr/bin/time -v -o "$out/recsys.time" env RAYON_NUM_THREADS=2 target/release/recsys evaluate \
  --data "$out/reviews.json.gz" --plugins mf,cf --quiet --json "$out/recsys.json" \
  --param mf.factors=64 --param mf.iterations=15 --param mf.regularization=0.05 --param cf.neighbours=100 \
  --param cf.shrinkage=0 --param cf.recency_decay=1 --param cf.sequence_weight=0
echo "== implicit (same file, same split)"
/usr/bin/time -v -o "$out/implicit.time" "$venv/bin/python" benches/peers/implicit_bench.py \
  "$out/reviews.json.gz" --threads 2 > "$out/implicit.json"

python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
r = json.load(open(f"{out}/recsys.json")); p = json.load(open(f"{out}/implicit.json"))
def rss(path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return int(m.group(1)) / 1024
mine = {x["plugin"]: x for x in r["results"]}
print(f"\n{r['n_users']} users x {r['n_items']} items, {r['train_interactions']} training interactions, "
      f"{r['users_evaluated']} test users (implicit saw {p['train_interactions']} / {p['test_users']})")
print(f"{'':28s} {'recsys':>10s} {'implicit':>10s} {'ratio':>7s}")
for ours, theirs, label in (("mf", "als", "ALS"), ("cf", "item_knn_cosine", "item-kNN cosine")):
    a, b = mine[ours], p["models"][theirs]
    print(f"{label + ' fit s':28s} {a['fit_seconds']:10.2f} {b['fit_seconds']:10.2f} {a['fit_seconds']/b['fit_seconds']:7.2f}")
    print(f"{label + ' rank all users s':28s} {a['eval_seconds']:10.2f} {b['eval_seconds']:10.2f} {a['eval_seconds']/b['eval_seconds']:7.2f}")
    print(f"{label + ' NDCG@10':28s} {a['metrics']['ndcg']:10.4f} {b['ndcg']:10.4f} {a['metrics']['ndcg']/max(b['ndcg'],1e-9):7.2f}")
a, b = rss(f"{out}/recsys.time"), rss(f"{out}/implicit.time")
print(f"{'peak RSS MiB (whole run)':28s} {a:10.0f} {b:10.0f} {a/b:7.2f}")
PY
