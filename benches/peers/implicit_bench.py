#!/usr/bin/env python3
"""The peer side of `scripts/bench-peers.sh`: implicit (CPU) on the same file and split as recsys.

Reads Amazon review JSON lines (the `recsys synth` output or real files), collapses duplicate
(user, item) pairs to the latest, holds out each user's latest interaction (ties: file order;
users with < 2 interactions only train) - the protocol of `recsys evaluate` - then times
implicit's ALS and item-kNN cosine fits and a full-ranking top-k for every test user, and
scores NDCG@k and HR@k. Prints one JSON object.

Usage: implicit_bench.py FILE [--factors 64 --iters 15 --reg 0.05 --threads 2 --k 10]
"""
import argparse, gzip, json, math, os, resource, sys, time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np
import scipy.sparse as sp


def read(path):
    op = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    latest = {}
    with op(path, "rt", encoding="utf-8") as f:
        for order, line in enumerate(f):
            try:
                d = json.loads(line)
                u, a, t = d["reviewerID"], d["asin"], int(d["unixReviewTime"])
            except Exception:
                continue
            key = (u, a)
            if key not in latest or (t, order) >= latest[key]:
                latest[key] = (t, order)
    by_user = {}
    for (u, a), (t, order) in latest.items():
        by_user.setdefault(u, []).append((t, order, a))
    train, test = [], {}
    for u, rows in by_user.items():
        rows.sort()
        if len(rows) >= 2:
            test[u] = rows[-1][2]
            rows = rows[:-1]
        train += [(u, a) for _, _, a in rows]
    return train, test


def score(recs, targets, k):
    ndcg = hr = 0.0
    for row, target in zip(recs, targets):
        row = list(row)
        if target in row:
            hr += 1
            ndcg += 1.0 / math.log2(row.index(target) + 2)
    n = max(1, len(targets))
    return ndcg / n, hr / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--iters", type=int, default=15)
    ap.add_argument("--reg", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    import implicit
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import CosineRecommender

    t0 = time.perf_counter()
    train, test = read(a.file)
    users = sorted({u for u, _ in train})
    items = sorted({i for _, i in train} | set(test.values()))
    uidx = {u: j for j, u in enumerate(users)}
    iidx = {i: j for j, i in enumerate(items)}
    ui = sp.csr_matrix(
        (np.ones(len(train), dtype=np.float32),
         ([uidx[u] for u, _ in train], [iidx[i] for _, i in train])),
        shape=(len(users), len(items)))
    read_s = time.perf_counter() - t0
    evald = [u for u in users if u in test]
    ids = np.array([uidx[u] for u in evald])
    targets = [iidx[test[u]] for u in evald]

    out = {"peer": "implicit " + implicit.__version__, "file": a.file, "users": len(users),
           "items": len(items), "train_interactions": int(ui.nnz), "test_users": len(evald),
           "read_seconds": read_s, "threads": a.threads, "models": {}}
    models = {
        "als": AlternatingLeastSquares(factors=a.factors, iterations=a.iters, regularization=a.reg,
                                       num_threads=a.threads, random_state=1),
        "item_knn_cosine": CosineRecommender(K=100, num_threads=a.threads),
    }
    for name, model in models.items():
        t0 = time.perf_counter()
        model.fit(ui, show_progress=False)
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        recs = []
        for j in range(0, len(ids), 4096):
            batch = ids[j:j + 4096]
            got, _ = model.recommend(batch, ui[batch], N=a.k, filter_already_liked_items=True)
            recs.extend(got)
        rank = time.perf_counter() - t0
        ndcg, hr = score(recs, targets, a.k)
        out["models"][name] = {"fit_seconds": fit, "eval_seconds": rank, "ndcg": ndcg, "hit_rate": hr}
        print(f"implicit {name}: fit {fit:.2f}s, ranked {len(ids)} users in {rank:.2f}s, "
              f"NDCG@{a.k} {ndcg:.4f}", file=sys.stderr)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
