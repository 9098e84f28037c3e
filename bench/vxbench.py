#!/usr/bin/python3
"""bench/vxbench.py: vectorx's benchmark suite (usually started by bench/run,
which provides a private cluster through PGHOST/PGPORT/PGUSER).

A scenario names a dataset and a list of systems.  For each system the run
(re)loads the table if its storage differs, builds the index (time, index
and table size), sweeps the search parameter and measures recall@k against
exact ground truth, QPS and latency percentiles with one client running a
prepared statement (SELECT id FROM t ORDER BY embedding <op> $1 LIMIT k).
Library baselines (hnswlib, faiss) run in the same process, one thread, on
the same data, so every figure can be read as a ratio measured in one run.

    vxbench.py list
    vxbench.py exact [--rows N] [--queries N] [--out DIR]

Datasets (ground truth computed once by brute force and cached in
--data-dir, default $VX_DATA or bench/data):
    fashion-mnist   Debian dataset-fashion-mnist: 60000 x 784 base, 10000 test queries, L2
    synth-N-D       seeded clustered Gaussian, N x D, 1000 queries
"""
import argparse
import datetime
import gzip
import io
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


# ------------------------------------------------------------------ data

def data_dir(arg):
    return arg or os.environ.get("VX_DATA") or os.path.join(HERE, "data")


def read_idx(path, labels=False):
    with gzip.open(path) as f:
        raw = f.read()
    if labels:
        return np.frombuffer(raw, np.uint8, offset=8).astype(np.int32)
    n, r, c = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(raw, np.uint8, offset=16).reshape(n, r * c).astype(np.float32)


def distances(q, x, metric):
    q = np.asarray(q, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    dot = q @ x.T
    if metric == "l2":
        return np.sqrt(np.maximum((q * q).sum(1)[:, None] - 2 * dot + (x * x).sum(1)[None, :], 0))
    if metric == "ip":
        return -dot
    return 1 - dot / np.maximum(np.linalg.norm(q, axis=1)[:, None] * np.linalg.norm(x, axis=1)[None, :], 1e-30)


def ground_truth(base, queries, k, metric, block=200):
    ids = np.empty((len(queries), k), np.int64)
    dist = np.empty((len(queries), k), np.float64)
    for s in range(0, len(queries), block):
        d = distances(queries[s:s + block], base, metric)
        part = np.argpartition(d, k - 1, axis=1)[:, :k]
        pd = np.take_along_axis(d, part, 1)
        order = np.argsort(pd, axis=1, kind="stable")
        ids[s:s + block] = np.take_along_axis(part, order, 1)
        dist[s:s + block] = np.take_along_axis(pd, order, 1)
    return ids, dist


class Dataset:
    """base [n, d] float32 (row i has id i), queries, labels, exact top-100."""

    def __init__(self, name, base, queries, metric, cache, labels=None):
        self.name, self.base, self.queries, self.metric = name, base, queries, metric
        self.labels = labels
        gt = os.path.join(cache, f"{name}-gt.npz")
        if os.path.exists(gt):
            z = np.load(gt)
            self.gt_ids, self.gt_dist = z["ids"], z["dist"]
        else:
            t = time.time()
            self.gt_ids, self.gt_dist = ground_truth(base, queries, 100, metric)
            os.makedirs(cache, exist_ok=True)
            np.savez(gt, ids=self.gt_ids, dist=self.gt_dist)
            print(f"ground truth for {name}: {time.time() - t:.0f} s (cached in {gt})", flush=True)

    @property
    def dim(self):
        return self.base.shape[1]

    def recall(self, results, k):
        """Mean recall@k; a returned id whose distance ties the k-th true
        distance counts as a hit (duplicates do not lower the score)."""
        hits = 0
        for qi, found in enumerate(results):
            found = np.unique(np.asarray(found, dtype=np.int64)[:k])
            if len(found):
                d = distances(self.queries[qi:qi + 1], self.base[found], self.metric)[0]
                kth = self.gt_dist[qi, k - 1]
                hits += np.count_nonzero(d <= kth + 1e-6 * max(1.0, abs(kth)))
        return hits / (k * len(results))


def load_dataset(name, args):
    cache = data_dir(args.data_dir)
    if name == "fashion-mnist":
        base = read_idx(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"))
        queries = read_idx(os.path.join(FASHION_DIR, "t10k-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz"), labels=True)
        rows = args.rows or len(base)
        suffix = "" if rows == len(base) else f"-{rows}"
        return Dataset(name + suffix, base[:rows], queries, "l2", cache, labels[:rows])
    if name.startswith("synth-"):
        _, n, d = name.split("-")[:3]
        n, d = int(n), int(d)
        rng = np.random.default_rng(1)
        centres = rng.standard_normal((100, d), dtype=np.float32)

        def draw(m):
            x = centres[rng.integers(0, 100, m)]
            return x + 0.5 * rng.standard_normal((m, d), dtype=np.float32)
        base = np.concatenate([draw(min(100000, n - s)) for s in range(0, n, 100000)])
        return Dataset(name, base, draw(1000), "l2", cache)
    sys.exit(f"unknown dataset {name}")


# ------------------------------------------------------------------ database

def connect(dbname="postgres"):
    import psycopg2
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def vec_text(row):
    return "[" + ",".join(f"{x:.9g}" for x in row.tolist()) + "]"


def prepare_db(dbname):
    c = connect()
    cur = c.cursor()
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
    if not cur.fetchone():
        cur.execute(f"CREATE DATABASE {dbname}")
    c.close()
    conn = connect(dbname)
    conn.cursor().execute("CREATE EXTENSION IF NOT EXISTS vectorx")
    return conn


def load_table(cur, table, ds, storage=None):
    """Create and COPY the table; storage None keeps vectorx's default."""
    t = time.perf_counter()
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, label int, embedding vector({ds.dim}))")
    if storage:
        cur.execute(f"ALTER TABLE {table} ALTER COLUMN embedding SET STORAGE {storage}")
    labels = ds.labels if ds.labels is not None else np.zeros(len(ds.base), np.int32)
    for s in range(0, len(ds.base), 5000):
        buf = io.StringIO("".join(f"{s + i}\t{labels[s + i]}\t{vec_text(r)}\n"
                                  for i, r in enumerate(ds.base[s:s + 5000])))
        cur.copy_expert(f"COPY {table} (id, label, embedding) FROM STDIN", buf)
    cur.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - t


def relation_sizes(cur, table):
    cur.execute("SELECT pg_relation_size(%s), pg_table_size(%s)", (table, table))
    return cur.fetchone()


def timed(fn, items):
    out, lat = [], np.empty(len(items))
    for i, x in enumerate(items):
        t = time.perf_counter()
        out.append(fn(x))
        lat[i] = (time.perf_counter() - t) * 1e3
    return out, lat


def summarize(lat_runs, n):
    lat = np.concatenate(lat_runs)
    qps = [len(r) / (r.sum() / 1e3) for r in lat_runs]
    return dict(qps=round(float(np.median(qps)), 1), qps_runs=[round(q, 1) for q in qps],
                **{f"p{p}_ms": round(float(np.percentile(lat, p)), 3) for p in (50, 95, 99)})


def run_sql_system(conn, ds, sysdef, args):
    """One database system: setup, index build, sweep.  Returns its result dict."""
    cur = conn.cursor()
    table = args.table
    res = dict(name=sysdef["name"], kind="sql")
    for s in sysdef.get("session", []):
        cur.execute(s)
    if sysdef.get("reload", True) or not args._loaded.get(sysdef.get("storage")):
        res["load_s"] = round(load_table(cur, table, ds, sysdef.get("storage")), 1)
        args._loaded = {sysdef.get("storage"): True}
    cur.execute(f"SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = '{table}'::regclass "
                "AND NOT indisprimary")
    for (name,) in cur.fetchall():
        cur.execute(f"DROP INDEX {name}")
    if sysdef.get("index"):
        del conn.notices[:]
        t = time.perf_counter()
        cur.execute(sysdef["index"].format(table=table))
        res["build_s"] = round(time.perf_counter() - t, 2)
        res["notices"] = [n.strip() for n in conn.notices]
        cur.execute(f"SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                    f"WHERE indrelid = '{table}'::regclass AND NOT indisprimary")
        res["index"], res["index_bytes"] = cur.fetchone()
    res["table_bytes"], res["table_bytes_with_toast"] = relation_sizes(cur, table)
    op = sysdef.get("op", "<->")
    cur.execute("DEALLOCATE ALL")
    cur.execute(f"PREPARE ann(vector) AS SELECT id FROM {table} ORDER BY embedding {op} $1 LIMIT {args.k}")
    qtexts = [vec_text(q) for q in ds.queries[:args.queries]]
    wtexts = [vec_text(q) for q in ds.queries[-args.warmup:]] if args.warmup else []

    def query(qt):
        cur.execute("EXECUTE ann(%s)", (qt,))
        return [r[0] for r in cur.fetchall()]

    res["sweep"] = []
    for v in sysdef.get("values", [None]):
        if v is not None:
            cur.execute(sysdef["guc"].format(v=v))
        timed(query, wtexts)
        runs, ids = [], None
        for _ in range(args.repeat):
            ids, lat = timed(query, qtexts)
            runs.append(lat)
        cur.execute("EXPLAIN EXECUTE ann(%s)", (qtexts[0],))
        plan = [line for (line,) in cur.fetchall()]
        point = dict(value=v, recall=round(ds.recall(ids, args.k), 4),
                     returned_min=min(map(len, ids)), **summarize(runs, len(qtexts)),
                     plan=[p[:120] for p in plan[:4]])
        res["sweep"].append(point)
        print(f"  {sysdef['name']} {sysdef.get('guc', '')}={v}: recall {point['recall']:.4f} "
              f"QPS {point['qps']} p99 {point['p99_ms']} ms", flush=True)
    for s in sysdef.get("reset", []):
        cur.execute(s)
    return res


def run_hnswlib(ds, sysdef, args):
    """hnswlib (Debian python3-hnswlib), one thread, one query per call."""
    import hnswlib
    space = {"l2": "l2", "ip": "ip", "cosine": "cosine"}[ds.metric]
    index = hnswlib.Index(space=space, dim=ds.dim)
    index.init_index(max_elements=len(ds.base), M=sysdef["m"], ef_construction=sysdef["efc"], random_seed=1)
    index.set_num_threads(1)
    t = time.perf_counter()
    index.add_items(ds.base, np.arange(len(ds.base)), num_threads=1)
    res = dict(name=sysdef["name"], kind="library", build_s=round(time.perf_counter() - t, 2))
    path = os.path.join(data_dir(args.data_dir), "hnswlib.tmp")
    index.save_index(path)
    res["index_bytes"] = os.path.getsize(path)
    os.unlink(path)
    return library_sweep(ds, res, sysdef["values"], args,
                         lambda v: index.set_ef(int(v)),
                         lambda q: index.knn_query(q[None, :], k=args.k, num_threads=1)[0][0])


def run_faiss_ivfpq(ds, sysdef, args):
    """faiss IndexIVFPQ (Debian python3-faiss), one thread, optionally refined."""
    import faiss
    faiss.omp_set_num_threads(1)
    mt = faiss.METRIC_L2 if ds.metric == "l2" else faiss.METRIC_INNER_PRODUCT
    base = np.ascontiguousarray(ds.base, dtype=np.float32)
    ivf = faiss.IndexIVFPQ(faiss.IndexFlat(ds.dim, mt), ds.dim, sysdef["nlist"], sysdef["m"], sysdef.get("nbits", 8), mt)
    index = faiss.IndexRefineFlat(ivf) if sysdef.get("refine") else ivf
    if sysdef.get("refine"):
        index.k_factor = sysdef["refine"]
    t = time.perf_counter()
    index.train(base)
    index.add(base)
    res = dict(name=sysdef["name"], kind="library", build_s=round(time.perf_counter() - t, 2),
               index_bytes=len(faiss.serialize_index(index)))

    def setv(v):
        ivf.nprobe = int(v)
    return library_sweep(ds, res, sysdef["values"], args, setv,
                         lambda q: index.search(np.ascontiguousarray(q[None, :], dtype=np.float32), args.k)[1][0])


def library_sweep(ds, res, values, args, setv, search):
    queries = ds.queries[:args.queries]
    warm = ds.queries[-args.warmup:] if args.warmup else []
    res["sweep"] = []
    for v in values:
        setv(v)
        timed(search, warm)
        runs, ids = [], None
        for _ in range(args.repeat):
            ids, lat = timed(search, queries)
            runs.append(lat)
        point = dict(value=v, recall=round(ds.recall(ids, args.k), 4), returned_min=min(map(len, ids)),
                     **summarize(runs, len(queries)))
        res["sweep"].append(point)
        print(f"  {res['name']} {v}: recall {point['recall']:.4f} QPS {point['qps']} p99 {point['p99_ms']} ms", flush=True)
    return res


# ------------------------------------------------------------------ scenarios

def scenario_exact(ds, args):
    """Exact k-NN without an index: vectorx as shipped, and with each of its
    exact-scan features turned off, in one run."""
    return [
        dict(name="vectorx (PLAIN storage, SIMD)", storage=None),
        dict(name="vectorx, SIMD off (scalar kernels)", storage=None, reload=False,
             session=["SET vectorx.simd = scalar"], reset=["RESET vectorx.simd"]),
        dict(name="vectorx, STORAGE MAIN (rows compressed)", storage="MAIN"),
        dict(name="vectorx, STORAGE EXTERNAL (TOAST, pgvector's layout)", storage="EXTERNAL"),
    ]


def scenario_hnsw(ds, args):
    """HNSW (m=16, ef_construction=64): vectorx against hnswlib, ef_search sweep."""
    values = [10, 20, 40, 80, 200, 400]
    return [
        dict(name="vectorx hnsw", storage=None,
             index="CREATE INDEX ON {table} USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)",
             guc="SET hnsw.ef_search = {v}", values=values),
        dict(name="hnswlib (Debian, 1 thread)", kind="hnswlib", m=16, efc=64, values=values),
    ]


SCENARIOS = {
    "exact": (scenario_exact, "fashion-mnist", dict(queries=100, warmup=10, repeat=3)),
    "hnsw": (scenario_hnsw, "fashion-mnist", dict(queries=1000, warmup=100, repeat=3)),
}
RUNNERS = {"hnswlib": run_hnswlib, "faiss-ivfpq": run_faiss_ivfpq}


# ------------------------------------------------------------------ output

def markdown(result):
    ds = result["dataset"]
    lines = [f"## {result['scenario']}: {ds['name']} ({ds['rows']} x {ds['dim']}, {ds['metric']}), "
             f"{result['queries']} queries x {result['repeat']} passes, k={result['k']}",
             f"{result['date']}, {result['server']}, kernels {result['simd']}", "",
             "| system | setting | recall@k | QPS (median) | p50 ms | p95 ms | p99 ms | build s | index MiB | table MiB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    mib = lambda b: f"{b / 2**20:.1f}"  # noqa: E731
    for s in result["systems"]:
        for i, p in enumerate(s["sweep"]):
            first = i == 0
            cells = [s["name"] if first else "", "-" if p["value"] is None else str(p["value"]),
                     f"{p['recall']:.4f}", f"{p['qps']:.0f}", f"{p['p50_ms']:.2f}",
                     f"{p['p95_ms']:.2f}", f"{p['p99_ms']:.2f}",
                     str(s.get("build_s", "")) if first else "",
                     mib(s["index_bytes"]) if first and "index_bytes" in s else "",
                     f"{mib(s['table_bytes_with_toast'])} (heap {mib(s['table_bytes'])})"
                     if first and "table_bytes" in s else ""]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(result, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for s in result["systems"]:
        xs = [p["recall"] for p in s["sweep"]]
        ys = [p["qps"] for p in s["sweep"]]
        ax.plot(xs, ys, marker="o", label=s["name"])
    ax.set_xlabel(f"recall@{result['k']}")
    ax.set_ylabel("queries per second (1 client)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{result['scenario']}: {result['dataset']['name']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", help="a scenario name, or list")
    p.add_argument("--dataset", help="override the scenario's dataset")
    p.add_argument("--rows", type=int, help="use only the first ROWS base vectors")
    p.add_argument("--queries", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--repeat", type=int)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--table", default="items")
    p.add_argument("--dbname", default="vxbench")
    p.add_argument("--data-dir")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()
    if args.scenario == "list":
        for name, (fn, dsname, _) in SCENARIOS.items():
            print(f"{name:12s} {dsname:15s} {fn.__doc__.split(chr(10))[0]}")
        return
    fn, dsname, defaults = SCENARIOS[args.scenario]
    for key, val in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, val)
    args._loaded = {}
    ds = load_dataset(args.dataset or dsname, args)
    conn = prepare_db(args.dbname)
    cur = conn.cursor()
    cur.execute("SELECT version(), vectorx_simd()")
    server, simd = cur.fetchone()
    result = dict(scenario=args.scenario, date=datetime.datetime.now().isoformat(timespec="seconds"),
                  server=server.split(" on ")[0], simd=simd, k=args.k, queries=args.queries,
                  repeat=args.repeat, dataset=dict(name=ds.name, rows=len(ds.base), dim=ds.dim,
                                                    metric=ds.metric), systems=[])
    for sysdef in fn(ds, args):
        print(f"- {sysdef['name']}", flush=True)
        if sysdef.get("kind") in RUNNERS:
            result["systems"].append(RUNNERS[sysdef["kind"]](ds, sysdef, args))
        else:
            result["systems"].append(run_sql_system(conn, ds, sysdef, args))
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{args.scenario}-{ds.name}")
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    md = markdown(result)
    with open(stem + ".md", "w") as f:
        f.write(md)
    png = plot(result, stem + ".png")
    print()
    print(md)
    print(f"written: {stem}.json, {stem}.md" + (f", {png}" if png else ""))


if __name__ == "__main__":
    main()
