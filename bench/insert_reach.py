#!/usr/bin/python3
"""bench/insert_reach.py (bench/run insert-reach): what inserts into a
built HNSW index cost and leave behind, with hnsw.insert_relink on and off
in one run (the relink of elements an insert's pruning cut off: hnsw.h,
ALGORITHM).

Fashion-MNIST (Debian's dataset-fashion-mnist): build an index on the
first half of --rows images (m 16, ef_construction 64), insert the second
half in one COPY, then report the insert rate, the elements unreachable
from the entry point (vectorx_hnsw_check; VACUUM would reconnect them) and
recall@10 of --queries test images at ef_search 10 and 40 against a
brute-force answer.  Pairs run interleaved (off, on, off, on, ...); the
summary gives the median of the per-pair insert-rate ratios.  L2 on the
raw pixels, and the inner product on pixels scaled to [0, 1] (vectors all
in one orthant, where the inner product's pruning drops those of small
norm).  The libpq environment (bench/run sets it) names the server."""
import argparse
import gzip
import io
import os
import statistics
import time

import numpy as np
import psycopg2

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path) as f:
        data = f.read()
    n, r, c = np.frombuffer(data[4:16], dtype=">u4")
    return np.frombuffer(data[16:], dtype=np.uint8).reshape(n, r * c).astype(np.float32)


def lit(v):
    return "[" + ",".join("%g" % x for x in v) + "]"


def copy_rows(cur, base, lo, hi):
    buf = io.StringIO()
    for i in range(lo, hi):
        buf.write("%d\t%s\n" % (i, lit(base[i])))
    buf.seek(0)
    cur.copy_expert("COPY reach FROM STDIN", buf)


def one_run(cur, base, queries, gt, metric, relink, efs):
    op, opc = ("<->", "vector_l2_ops") if metric == "l2" else ("<#>", "vector_ip_ops")
    half = len(base) // 2
    cur.execute("DROP TABLE IF EXISTS reach")
    cur.execute("CREATE TABLE reach (id int, v vector(%d))" % base.shape[1])
    copy_rows(cur, base, 0, half)
    cur.execute(f"CREATE INDEX reach_v ON reach USING hnsw (v {opc}) WITH (m = 16, ef_construction = 64)")
    cur.execute("SET hnsw.insert_relink = %s" % ("on" if relink else "off"))
    t0 = time.perf_counter()
    copy_rows(cur, base, half, len(base))
    rate = (len(base) - half) / (time.perf_counter() - t0)
    cur.execute("SELECT unreachable FROM vectorx_hnsw_check('reach_v')")
    unreachable = cur.fetchone()[0]
    recall = {}
    for ef in efs:
        cur.execute("SET hnsw.ef_search = %d" % ef)
        hits = 0
        for qi, q in enumerate(queries):
            cur.execute(f"SELECT id FROM reach ORDER BY v {op} %s::vector LIMIT 10", (lit(q),))
            hits += len({r[0] for r in cur.fetchall()} & set(gt[qi].tolist()))
        recall[ef] = hits / (10 * len(queries))
    cur.execute("RESET hnsw.insert_relink; RESET hnsw.ef_search")
    return dict(rate=rate, unreachable=unreachable, recall=recall)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--pairs", type=int, default=5, help="off/on pairs per metric")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--metric", choices=["l2", "ip", "both"], default="both")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = ap.parse_args()

    base_all = read_idx(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"))[: args.rows]
    queries_all = read_idx(os.path.join(FASHION_DIR, "t10k-images-idx3-ubyte.gz"))[: args.queries]
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vectorx")
    efs = (10, 40)
    lines = ["## insert-reach: Fashion-MNIST, %d rows (half built, half inserted), m 16, ef_construction 64, "
             "%d queries, %s" % (args.rows, args.queries, time.strftime("%Y-%m-%d")), "",
             "| metric | pair | relink | insert rows/s | unreachable | recall@10 ef 10 | recall@10 ef 40 |",
             "|---|---|---|---|---|---|---|"]
    summary = []
    for metric in (["l2", "ip"] if args.metric == "both" else [args.metric]):
        base, queries = (base_all, queries_all) if metric == "l2" else (base_all / 255.0, queries_all / 255.0)
        if metric == "l2":
            d = (queries ** 2).sum(1)[:, None] - 2 * queries @ base.T + (base ** 2).sum(1)[None, :]
        else:
            d = -(queries @ base.T)
        gt = np.argsort(d, axis=1, kind="stable")[:, :10]
        ratios, unr = [], {False: [], True: []}
        for p in range(args.pairs):
            res = {}
            for relink in (False, True):
                r = one_run(cur, base, queries, gt, metric, relink, efs)
                res[relink] = r
                unr[relink].append(r["unreachable"])
                lines.append("| %s | %d | %s | %.0f | %d | %.4f | %.4f |" % (
                    metric, p + 1, "on" if relink else "off", r["rate"], r["unreachable"],
                    r["recall"][10], r["recall"][40]))
                print(lines[-1], flush=True)
            ratios.append(res[True]["rate"] / res[False]["rate"])
        summary.append("- %s: insert rate on/off, median of %d pairs %.2f (%s); unreachable off %s, on %s" % (
            metric, len(ratios), statistics.median(ratios), ", ".join("%.2f" % x for x in ratios),
            unr[False], unr[True]))
    cur.execute("DROP TABLE IF EXISTS reach")
    lines += [""] + summary
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "insert-reach-%s.md" % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(summary))
    print("written: " + path)


if __name__ == "__main__":
    main()
