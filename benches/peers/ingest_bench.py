#!/usr/bin/env python3
"""The Python side of `scripts/bench-ingest.sh`: the work `recsys ingest --dry-run` does (read,
parse, validate, clean, build the BSON documents; no database), done by

  * `python`: a plain single-process loop over the lines, with the same cleaning rules
    (examples/spark/recsys_clean.py) and `bson.encode` per document;
  * `spark`: the Spark job's own parse stage (examples/spark/ingest.py) in local[2], each
    document built and BSON-encoded on the executors, then counted.

Prints one JSON object: records, seconds, records per second (and Spark's start-up seconds).
Usage: ingest_bench.py python|spark FILE
"""
import json, os, sys, time

here = os.path.dirname(os.path.abspath(__file__))
spark_dir = os.path.join(here, "..", "..", "examples", "spark")
sys.path.insert(0, spark_dir)
import recsys_clean as rc  # noqa: E402


def build(record, line, name):
    from bson import BSON
    from bson.int64 import Int64
    _id, fields = record
    doc = {"_id": _id}
    doc.update(fields)
    doc["ingest"] = {"run": "bench", "file": name, "line": Int64(line)}
    return len(BSON.encode(doc))


def python_loop(path, fmt):
    import gzip
    op = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    name = os.path.basename(path)
    records = problems = 0
    with op(path, "rb") as f:
        for number, line in enumerate(f, 1):
            parsed = rc.parse_line(fmt, number, line.rstrip(b"\n"))
            if parsed is None:
                continue
            if parsed[0] == "record":
                build((parsed[1], parsed[2]), number, name)
                records += 1
            else:
                problems += 1
    return records + problems


def spark(path, fmt):
    import ingest
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    t0 = time.perf_counter()
    session = (SparkSession.builder.master("local[2]").appName("recsys-ingest-bench")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    sc = session.sparkContext
    sc.setLogLevel("ERROR")
    sc.addPyFile(os.path.join(spark_dir, "recsys_clean.py"))
    sc.addPyFile(os.path.join(spark_dir, "ingest.py"))
    startup = time.perf_counter() - t0
    name = os.path.basename(path)
    t0 = time.perf_counter()
    rows = ingest.parse_rdd(ingest.text_lines(session, os.path.abspath(path)), fmt)
    # Records are ("record", _id, (line, fields, copies, repaired)); problems count as read
    # lines too.
    n = rows.map(lambda row: (build((row[1], row[2][1]), row[2][0], name), row[2][2])[1]
                 if row[0] == "record" else 1).sum()
    elapsed = time.perf_counter() - t0
    session.stop()
    return n, elapsed, startup


def main():
    mode, path = sys.argv[1], sys.argv[2]
    fmt = rc.sniff_line(next(line for line in __import__("gzip").open(path, "rt")))
    if mode == "python":
        t0 = time.perf_counter()
        n = python_loop(path, fmt)
        elapsed, startup = time.perf_counter() - t0, 0.0
    else:
        n, elapsed, startup = spark(path, fmt)
    print(json.dumps({"mode": mode, "records": n, "seconds": elapsed,
                      "records_per_second": n / elapsed, "startup_seconds": startup}))


if __name__ == "__main__":
    main()
