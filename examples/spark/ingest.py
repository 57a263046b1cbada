#!/usr/bin/env python3
"""Ingest Amazon review and metadata files into MongoDB with Apache Spark.

The cluster-scale twin of `recsys ingest`: the same files (2014/2018 review JSON lines, 2018
metadata JSON lines, the headerless ratings CSV, the Kaggle CSV; gzip or plain), the same
cleaning rules (`recsys_clean.py`), the same `_id`s and documents (`docs/schema.md`), the same
collections (`products`, `reviews`, `quarantine`, `ingest_runs`) and the same counts:
`read = inserted + updated + duplicates + quarantined`, per file and per run, and `repaired`.

    python ingest.py --mongodb-uri mongodb://127.0.0.1:27017 --db recsys FILE...
    python ingest.py --dump DIR FILE...

With `--dump DIR`, nothing is written to MongoDB: each partition writes the documents it would
send as canonical extended JSON lines under DIR, in the layout of `recsys ingest --dry-run --dump
DIR` (`DIR/<collection>/file-<i>-part-<p>.jsonl`, `DIR/ingest_runs.jsonl`; DIR must be new or
empty), as into an empty database: a review's `unknown_product` says whether a product of the
same run has its ASIN, and each file counts on its own. The test in `server/tests/spark` compares
the two dumps document by document on every shared data file.

Each file is read as lines of bytes numbered in file order (Spark's text source cast to binary,
`zipWithIndex`; bytes, so that a line that is not UTF-8 is quarantined as `recsys ingest` does),
parsed in parallel, de-duplicated by `_id` (the last line wins, the others count as duplicates,
as in one `recsys ingest` batch), and written per partition with pymongo (`foreachPartition`):
an unordered `insert_many`; for the `_id`s already stored, a `find` and, where a field differs, a
`$set` upsert. Metadata files are written first, so reviews find the products of the same run. A
file that cannot be read (a truncated `.gz`) fails the run with an error naming it, in one line.

See README.md for running it locally and with the MongoDB Spark Connector on a cluster.
"""

import argparse
import datetime
import gzip
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import recsys_clean as rc  # noqa: E402

PRODUCTS, REVIEWS, QUARANTINE, INGEST_RUNS = "products", "reviews", "quarantine", "ingest_runs"
COUNTS = ("read", "inserted", "updated", "duplicates", "quarantined")
# Not part of the balance: how many of the records read needed a documented repair.
ALL_COUNTS = COUNTS + ("repaired",)
DUPLICATE_KEY = 11000
MAX_DOCUMENT = 16 << 20
MAX_SENT_DOCUMENT = MAX_DOCUMENT - (64 << 10)
VERSION = "0.1.0"


def open_text(path):
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, "rt", encoding="utf-8", errors="replace", newline="")


def detect_format(path, lines=64):
    """The format of a file, from its first non-blank lines (as `recsys ingest` detects it)."""
    with open_text(path) as text:
        for number, line in enumerate(text, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if number == 1:
                line = line.lstrip("\ufeff")
            if rc.is_blank(line):
                continue
            fmt = rc.sniff_line(line)
            if fmt is not None:
                return fmt
            if number >= lines:
                break
    raise SystemExit(f"cannot ingest {path}: its format is not recognised "
                     f"(give --format, one of {', '.join(rc.FORMATS)})")


def covers(stored, update):
    """`schema::covers`: whether `stored` already holds every field of `update`, equal."""
    return all(key in stored and same(value, stored[key]) for key, value in update.items())


def same(a, b):
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return len(a) == len(b) and covers(b, a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime):
        strip = lambda d: d.replace(tzinfo=None) if d.tzinfo is None else \
            d.astimezone(datetime.timezone.utc).replace(tzinfo=None)  # noqa: E731
        return strip(a) == strip(b)
    return type(a) is type(b) and a == b


def document_text(doc):
    from bson import json_util

    text = json_util.dumps(doc, json_options=json_util.RELAXED_JSON_OPTIONS)
    data = text.encode("utf-8")
    if len(data) <= rc.MAX_RAW:
        return text
    return data[:rc.MAX_RAW].decode("utf-8", "ignore") + \
        f" …[truncated, {len(data)} bytes in all]"


def quarantine_doc(run_id, index, path, fmt, line, reason, raw, stage):
    from bson.int64 import Int64

    return {
        "_id": f"{run_id}:{index}:{line}",
        "run_id": run_id,
        "file": path,
        "file_name": os.path.basename(path) or path,
        "format": fmt,
        "line": Int64(line),
        "reason": reason,
        "raw": raw,
        "stage": stage,
        "at": datetime.datetime.now(datetime.timezone.utc),
    }


def write_partition(rows, ctx, acc):
    """Writes one partition: records (`(_id, (line, fields, copies))`) or problems."""
    from pymongo import MongoClient, UpdateOne
    from pymongo.errors import BulkWriteError

    if ctx.get("dump"):
        dump_partition(rows, ctx, acc)
        return
    client = MongoClient(ctx["uri"], serverSelectionTimeoutMS=20000)
    db = client[ctx["db"]]
    collection = db[ctx["collection"]]
    batch, quarantine = [], []

    def refuse(doc, line, reason):
        quarantine.append(quarantine_doc(ctx["run_id"], ctx["index"], ctx["path"], ctx["format"],
                                         line, reason, document_text(doc), "write"))

    def flush():
        if ctx["collection"] == REVIEWS and batch:
            asins = sorted({doc["asin"] for _, doc in batch})
            known = {d["_id"] for d in db[PRODUCTS].find({"_id": {"$in": asins}}, {"_id": 1})}
            for _, doc in batch:
                doc["unknown_product"] = doc["asin"] not in known
        stored, inserted_ids = [], []
        if batch:
            try:
                collection.insert_many([doc for _, doc in batch], ordered=False)
            except BulkWriteError as error:
                for failure in error.details.get("writeErrors", []):
                    position = failure["index"]
                    if failure["code"] == DUPLICATE_KEY:
                        stored.append(position)
                    else:
                        line, doc = batch[position]
                        refuse(doc, line, f"MongoDB refused the document (code "
                                          f"{failure['code']}): {failure.get('errmsg', '')}")
                        stored.append(-1 - position)
        not_new = {p if p >= 0 else -1 - p for p in stored}
        inserted_ids = [batch[i][1]["_id"] for i in range(len(batch)) if i not in not_new]
        acc["inserted"].add(len(inserted_ids))
        stored = [p for p in stored if p >= 0]
        if stored:
            ids = [batch[p][1]["_id"] for p in stored]
            current = {d["_id"]: d for d in collection.find({"_id": {"$in": ids}})}
            updates = []
            for p in stored:
                doc = batch[p][1]
                fields = {k: v for k, v in doc.items() if k not in ("_id", "ingest")}
                if doc["_id"] in current and covers(current[doc["_id"]], fields):
                    acc["duplicates"].add(1)
                else:
                    updates.append(UpdateOne({"_id": doc["_id"]},
                                             {"$set": fields,
                                              "$setOnInsert": {"ingest": doc["ingest"]}},
                                             upsert=True))
            if updates:
                result = collection.bulk_write(updates, ordered=False)
                acc["inserted"].add(result.upserted_count)
                acc["updated"].add(result.modified_count)
                acc["duplicates"].add(result.matched_count - result.modified_count)
        if ctx["collection"] == PRODUCTS and inserted_ids:
            linked = db[REVIEWS].update_many(
                {"asin": {"$in": inserted_ids}, "unknown_product": True},
                {"$set": {"unknown_product": False}})
            acc["reviews_linked"].add(linked.modified_count)
        if quarantine:
            db[QUARANTINE].insert_many(quarantine, ordered=False)
            acc["quarantined"].add(len(quarantine))
        batch.clear()
        quarantine.clear()

    for line, doc in documents(rows, ctx, acc, quarantine):
        if doc is not None:
            batch.append((line, doc))
        if len(batch) >= ctx["batch_size"] or len(quarantine) >= ctx["batch_size"]:
            flush()
    flush()
    client.close()


def documents(rows, ctx, acc, quarantine):
    """The documents of a partition's rows, as `(line, doc)`; a malformed or oversized record
    goes to `quarantine` (yielding `(line, None)`). Counts what is read and superseded."""
    from bson import BSON
    from bson.int64 import Int64

    name = os.path.basename(ctx["path"]) or ctx["path"]
    for row in rows:
        if row[0] == "problem":
            _, line, reason, raw = row
            acc["read"].add(1)
            quarantine.append(quarantine_doc(ctx["run_id"], ctx["index"], ctx["path"],
                                             ctx["format"], line, reason, raw, "parse"))
            yield line, None
            continue
        _, _id, (line, fields, copies, repaired) = row
        acc["read"].add(copies)
        acc["duplicates"].add(copies - 1)  # superseded by a later line with the same _id
        acc["repaired"].add(repaired)
        doc = {"_id": _id}
        doc.update(fields)
        doc["ingest"] = {"run": ctx["run_id"], "file": name, "line": Int64(line)}
        size = len(BSON.encode(doc))
        if size > MAX_SENT_DOCUMENT:
            quarantine.append(quarantine_doc(
                ctx["run_id"], ctx["index"], ctx["path"], ctx["format"], line,
                f"document of {size} bytes is larger than MongoDB allows ({MAX_DOCUMENT} bytes)",
                document_text(doc), "write"))
            yield line, None
        else:
            yield line, doc


def dump_partition(rows, ctx, acc):
    """`--dump`: writes one partition's documents as canonical extended JSON lines instead of
    sending them; a review's `unknown_product` is looked up in the run's products."""
    from bson import json_util
    from pyspark import TaskContext

    part = TaskContext.get().partitionId()
    known = ctx["known"].value if ctx["collection"] == REVIEWS else None
    quarantine = []
    options = json_util.CANONICAL_JSON_OPTIONS

    def path(collection):
        return os.path.join(ctx["dump"], collection, f"file-{ctx['index']}-part-{part}.jsonl")

    with open(path(ctx["collection"]), "w", encoding="utf-8") as out:
        for _, doc in documents(rows, ctx, acc, quarantine):
            if doc is None:
                continue
            if known is not None:
                doc["unknown_product"] = doc["asin"] not in known
            out.write(json_util.dumps(doc, json_options=options) + "\n")
            acc["inserted"].add(1)
    if quarantine:
        with open(path(QUARANTINE), "w", encoding="utf-8") as out:
            for doc in quarantine:
                out.write(json_util.dumps(doc, json_options=options) + "\n")
        acc["quarantined"].add(len(quarantine))


def text_lines(spark, path):
    """The lines of a file as (1-based number, bytes), in file order; gzip or plain, split on
    `\\n` only. Spark's text source keeps a line's bytes as they are (the cast to binary undoes
    nothing), where Hadoop's `Text` would replace invalid UTF-8."""
    from pyspark.sql.functions import col

    lines = spark.read.option("lineSep", "\n").text(path).select(col("value").cast("binary"))
    return lines.rdd.map(lambda row: bytes(row[0])).zipWithIndex() \
        .map(lambda pair: (pair[1] + 1, pair[0]))


def parse_rdd(lines, fmt):
    """Parsed lines: problems as they are, records reduced to one per `_id` (the last wins),
    with how many lines had it and how many of them were repaired."""
    parsed = lines.map(lambda pair: (pair[0], rc.parse_line(fmt, pair[0], pair[1]))) \
        .filter(lambda pair: pair[1] is not None)
    problems = parsed.filter(lambda pair: pair[1][0] == "problem") \
        .map(lambda pair: ("problem", pair[0], pair[1][1], pair[1][2]))
    records = parsed.filter(lambda pair: pair[1][0] == "record") \
        .map(lambda pair: (pair[1][1], (pair[0], pair[1][2], 1, int(pair[1][3])))) \
        .reduceByKey(lambda a, b: (a if a[0] > b[0] else b)[:2] + (a[2] + b[2], a[3] + b[3])) \
        .map(lambda pair: ("record", pair[0], pair[1]))
    return problems.union(records)


class FileFailed(Exception):
    """Reading or writing one file failed; the message names it, with the cause in one line."""


def one_line(error):
    """The cause of an error in one line. A Java exception (Py4JJavaError) is its innermost
    cause's class and message (`java.io.EOFException: Unexpected end of input stream`), not the
    stack traces around it; a Python error raised in a task, its traceback's last line."""
    java = getattr(error, "java_exception", None)
    text = str(error)
    if java is not None:
        while java.getCause() is not None:
            java = java.getCause()
        text = java.toString()
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if "Traceback (most recent call last)" in lines[0]:
        return lines[-1]
    return lines[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--mongodb-uri")
    target.add_argument("--dump", metavar="DIR",
                        help="write the documents under DIR as extended JSON, not to MongoDB")
    parser.add_argument("--db", default="recsys")
    parser.add_argument("--format", choices=rc.FORMATS)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    parser.add_argument("--partitions", type=int, default=0,
                        help="partitions per file after parsing (default: Spark's parallelism)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)

    from bson import ObjectId
    from bson.int64 import Int64
    from pymongo import MongoClient

    plan = []
    for index, path in enumerate(args.files):
        if not os.path.isfile(path):
            raise SystemExit(f"cannot read {path}: no such file")
        fmt = args.format or detect_format(path)
        plan.append((index, path, fmt))
    plan.sort(key=lambda entry: entry[2] != rc.METADATA)  # metadata first (stable)

    run_id = str(ObjectId())
    files = [{"file": path, "format": fmt, **{k: Int64(0) for k in ALL_COUNTS}}
             for _, path, fmt in plan]
    if args.dump:
        client = None
        db = Dump(args.dump, run_id)
    else:
        client = MongoClient(args.mongodb_uri, serverSelectionTimeoutMS=10000)
        client.admin.command("ping")
        db = client[args.db]
        for collection, keys in ((REVIEWS, ("user", "asin")),
                                 (PRODUCTS, ("categories", "brand")),
                                 (QUARANTINE, ("run_id",)), (INGEST_RUNS, ("started",))):
            for key in keys:
                db[collection].create_index([(key, 1)], name=key)
        db[INGEST_RUNS].insert_one({
            "_id": run_id, "status": "running", "database": args.db, "files": files,
            "started": datetime.datetime.now(datetime.timezone.utc), "finished": None,
            "batch_size": Int64(args.batch_size), "recsys_version": VERSION,
            "writer": "spark", **{k: Int64(0) for k in ALL_COUNTS},
        })

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(args.master).appName("recsys-ingest")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "4")
             .getOrCreate())
    sc = spark.sparkContext
    sc.setLogLevel("WARN")
    sc.addPyFile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "recsys_clean.py"))
    start = time.monotonic()
    totals = {k: 0 for k in ALL_COUNTS}
    linked = 0
    known = set()  # --dump: the products of the run
    try:
        for position, (index, path, fmt) in enumerate(plan):
            acc = {k: sc.accumulator(0) for k in ALL_COUNTS + ("reviews_linked",)}
            ctx = {"uri": args.mongodb_uri, "db": args.db, "run_id": run_id, "index": index,
                   "path": path, "format": fmt, "batch_size": args.batch_size,
                   "collection": PRODUCTS if fmt == rc.METADATA else REVIEWS,
                   "dump": args.dump}
            try:
                rows = parse_rdd(text_lines(spark, os.path.abspath(path)), fmt)
                if args.partitions:
                    rows = rows.repartition(args.partitions)
                if args.dump:
                    if fmt == rc.METADATA:
                        rows = rows.cache()
                        known.update(rows.filter(lambda row: row[0] == "record")
                                     .map(lambda row: row[1]).collect())
                    else:
                        ctx["known"] = sc.broadcast(frozenset(known))
                rows.foreachPartition(
                    lambda part, ctx=ctx, acc=acc: write_partition(part, ctx, acc))
            except Exception as error:
                raise FileFailed(f"{path}: {one_line(error)}") from error
            counts = {k: acc[k].value for k in ALL_COUNTS}
            if counts["read"] != sum(counts[k] for k in COUNTS[1:]):
                raise FileFailed(f"{path}: the counts do not add up: {counts}")
            linked += acc["reviews_linked"].value
            for k in ALL_COUNTS:
                totals[k] += counts[k]
            files[position].update({k: Int64(v) for k, v in counts.items()})
            print(f"{path} ({fmt}): " + ", ".join(f"{k} {v}" for k, v in counts.items()),
                  file=sys.stderr)
    except BaseException as error:
        message = str(error) if isinstance(error, FileFailed) else one_line(error)
        db[INGEST_RUNS].update_one({"_id": run_id}, {"$set": {
            "status": "failed", "failed_at": datetime.datetime.now(datetime.timezone.utc),
            "error": message, "files": files, **{k: Int64(v) for k, v in totals.items()}}})
        if isinstance(error, FileFailed):
            raise SystemExit(f"ingest run {run_id} failed, and is not finished (running it "
                             f"again is safe): {message}") from None
        raise
    finally:
        spark.stop()
    db[INGEST_RUNS].update_one({"_id": run_id}, {"$set": {
        "status": "finished", "finished": datetime.datetime.now(datetime.timezone.utc),
        "files": files, "reviews_linked": Int64(linked),
        "elapsed_seconds": time.monotonic() - start,
        **{k: Int64(v) for k, v in totals.items()}}})
    nothing_new = totals["inserted"] == 0 and totals["updated"] == 0
    print(f"run {run_id}: " + ", ".join(f"{k} {totals[k]}" for k in ALL_COUNTS)
          + (" (nothing new)" if nothing_new else ""))
    print(f"RUN_ID={run_id}")
    if client is not None:
        client.close()


class Dump:
    """`--dump`: the run's record goes to DIR/ingest_runs.jsonl instead of MongoDB."""

    def __init__(self, directory, run_id):
        if os.path.exists(directory) and (not os.path.isdir(directory) or os.listdir(directory)):
            raise SystemExit(f"--dump {directory}: not a new or empty directory; a dump holds one "
                             f"run, so give a new or empty directory (or remove the previous "
                             f"dump first)")
        for collection in (PRODUCTS, REVIEWS, QUARANTINE):
            os.makedirs(os.path.join(directory, collection), exist_ok=True)
        self.path = os.path.join(directory, INGEST_RUNS + ".jsonl")
        self.run = {"_id": run_id, "status": "running", "dry_run": True}

    def __getitem__(self, collection):
        assert collection == INGEST_RUNS, collection
        return self

    def update_one(self, _filter, update):
        from bson import json_util

        self.run.update(update["$set"])
        with open(self.path, "w", encoding="utf-8") as out:
            out.write(json_util.dumps(self.run, json_options=json_util.CANONICAL_JSON_OPTIONS)
                      + "\n")


if __name__ == "__main__":
    main()
