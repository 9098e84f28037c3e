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
    vxbench.py filtered        filtered k-NN: every vectorx.filter_strategy
    vxbench.py table --dbname DB --table T --column C [--id-column ID]
        your own table and its index, on the server that PGHOST/PGPORT name:
        read-only (queries are rows of the table, each left out of its answer)

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
    dot = q @ x.T if metric != "l1" else None
    if metric == "l2":
        return np.sqrt(np.maximum((q * q).sum(1)[:, None] - 2 * dot + (x * x).sum(1)[None, :], 0))
    if metric == "ip":
        return -dot
    if metric == "l1":
        return np.stack([np.abs(x - row).sum(1) for row in q])
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
    """base [n, d] float32 (row i has id i), queries, labels, exact top-100.
    A table's data (TableDataset) has its own ids and takes its queries
    from its rows, leaving each query's own row out (self_ids)."""

    ids = None
    self_ids = None

    def __init__(self, name, base, queries, metric, cache, labels=None):
        self.name, self.base, self.queries, self.metric = name, base, queries, metric
        self.labels = labels
        gt = os.path.join(cache, f"{name}-gt.npz") if cache else None
        if gt is None:
            self.gt_ids, self.gt_dist = self.exact()
        elif os.path.exists(gt):
            z = np.load(gt)
            self.gt_ids, self.gt_dist = z["ids"], z["dist"]
        else:
            t = time.time()
            self.gt_ids, self.gt_dist = ground_truth(base, queries, 100, metric)
            os.makedirs(cache, exist_ok=True)
            np.savez(gt, ids=self.gt_ids, dist=self.gt_dist)
            print(f"ground truth for {name}: {time.time() - t:.0f} s (cached in {gt})", flush=True)

    def exact(self):
        return ground_truth(self.base, self.queries, 100, self.metric)

    @property
    def dim(self):
        return self.base.shape[1]

    @property
    def fetch_k_extra(self):
        """rows to fetch beyond k: the query's own row, when it is in the data"""
        return 0 if self.self_ids is None else 1

    def rows_of(self, ids):
        return ids

    def recall(self, results, k):
        """Mean recall@k; a returned id whose distance ties the k-th true
        distance counts as a hit (duplicates do not lower the score)."""
        hits = 0
        for qi, found in enumerate(results):
            if self.self_ids is not None:
                found = [f for f in found if f != self.self_ids[qi]]
            found = np.unique(np.asarray(found, dtype=np.int64)[:k])
            if len(found):
                d = distances(self.queries[qi:qi + 1], self.base[self.rows_of(found)], self.metric)[0]
                kth = self.gt_dist[qi, k - 1]
                hits += np.count_nonzero(d <= kth + 1e-6 * max(1.0, abs(kth)))
        return hits / (k * len(results))


class TableDataset(Dataset):
    """The vectors of a user's table, read once (binary COPY); queries are
    --queries of its rows drawn with a fixed seed, each one's own row left
    out of its exact and approximate answers."""

    def __init__(self, conn, args, metric):
        import struct
        cur = conn.cursor()
        buf = io.BytesIO()
        cur.copy_expert(f"COPY (SELECT {args.id_column}::bigint, {args.column} FROM {args.table} "
                        f"WHERE {args.column} IS NOT NULL ORDER BY 1) TO STDOUT (FORMAT binary)", buf)
        raw = buf.getvalue()
        pos, ids, vecs = 19, [], []
        ext = struct.unpack(">i", raw[15:19])[0]
        pos += ext
        while True:
            (nf,) = struct.unpack(">h", raw[pos:pos + 2])
            if nf == -1:
                break
            pos += 2
            (ln,) = struct.unpack(">i", raw[pos:pos + 4])
            ids.append(struct.unpack(">q", raw[pos + 4:pos + 12])[0])
            pos += 4 + ln
            (ln,) = struct.unpack(">i", raw[pos:pos + 4])
            (dim,) = struct.unpack(">h", raw[pos + 4:pos + 6])
            vecs.append(np.frombuffer(raw, ">f4", dim, pos + 8))
            pos += 4 + ln
        self.ids = np.asarray(ids, dtype=np.int64)
        base = np.asarray(vecs, dtype=np.float32)
        rng = np.random.default_rng(7)
        nq = min(args.queries + args.warmup, len(base))
        self.query_rows = rng.choice(len(base), nq, replace=False)
        self.self_ids = self.ids[self.query_rows]
        super().__init__(args.table, base, base[self.query_rows], metric, None)

    def exact(self):
        ids, dist = ground_truth(self.base, self.queries, 101, self.metric)
        keep = ids != self.query_rows[:, None]
        out_i = np.array([r[m][:100] for r, m in zip(ids, keep)])
        out_d = np.array([r[m][:100] for r, m in zip(dist, keep)])
        return out_i, out_d

    def rows_of(self, ids):
        return np.searchsorted(self.ids, ids)


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


def load_table(cur, table, ds, storage=None, coltype="vector"):
    """Create and COPY the table; storage None keeps vectorx's default;
    coltype is the embedding column's type (vector or halfvec)."""
    t = time.perf_counter()
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, label int, embedding {coltype}({ds.dim}))")
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


def load_queries(cur, ds, args):
    """bench_queries (qid, v): the timed queries then the warm-up ones, for pgbench."""
    nq = args.queries
    cur.execute("DROP TABLE IF EXISTS bench_queries")
    cur.execute(f"CREATE TABLE bench_queries (qid int PRIMARY KEY, v vector({ds.dim}))")
    rows = list(ds.queries[:nq]) + (list(ds.queries[-args.warmup:]) if args.warmup else [])
    buf = io.StringIO("".join(f"{i + 1}\t{vec_text(q)}\n" for i, q in enumerate(rows)))
    cur.copy_expert("COPY bench_queries FROM STDIN", buf)
    cur.execute("VACUUM ANALYZE bench_queries")


def pgbench(args, sql, clients, xacts, gucs=None, latency=False, seconds=None):
    """Run one SQL script with pgbench (prepared statements, no vacuum), for
    xacts transactions or, with seconds, for that long.
    Returns (qps, latencies in ms or None)."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "q.sql")
        with open(script, "w") as f:
            f.write(sql)
        env = dict(os.environ)
        if gucs:
            env["PGOPTIONS"] = " ".join(f"-c {k}={v}" for k, v in gucs.items())
        cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients),
               *(["-T", str(max(1, round(seconds)))] if seconds else ["-t", str(max(1, xacts // clients))]),
               "-f", script, args.dbname]
        if latency:
            cmd[1:1] = ["-l", "--log-prefix", os.path.join(d, "log")]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        qps = float(next(line.split("=")[1].split()[0] for line in out.splitlines()
                         if line.startswith("tps") and "without" in line))
        lat = None
        if latency:
            lat = np.array([int(line.split()[2]) / 1000.0
                            for fn in os.listdir(d) if fn.startswith("log")
                            for line in open(os.path.join(d, fn))])
        return qps, lat


def query_sql(sysdef, args, ds, q, v):
    """a system's own query (sysdef "sql"): {table}, {q} the query vector,
    {v} the sweep value, {k} the rows asked for"""
    return sysdef["sql"].format(table=sysdef.get("table", args.table), q=q, v=v, k=args.k + ds.fetch_k_extra)


def knn_script(args, op, ds, table=None, coltype="vector"):
    """pgbench script: a random one of the timed queries, its vector read by
    a subquery (from bench_queries, or from the user's table by id)"""
    if ds.self_ids is not None:
        idlist = ",".join(str(i) for i in ds.self_ids[:args.queries])
        qexpr = (f"(SELECT {args.column} FROM {args.table} WHERE {args.id_column} = "
                 f"('{{{idlist}}}'::bigint[])[:i])")
    else:
        # the query in the column's type, cast once in the subquery (not per
        # row in the ORDER BY)
        cast = "" if coltype == "vector" else f"::{coltype}"
        qexpr = f"(SELECT v{cast} FROM bench_queries WHERE qid = :i)"
    return (f"\\set i random(1, {args.queries})\n"
            f"SELECT {args.id_column} FROM {table or args.table} ORDER BY {args.column} {op} {qexpr} LIMIT {args.k};\n")


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None


def proc_status_kb(pid, fields):
    out = dict.fromkeys(fields, 0)
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in out:
                    out[key] = int(line.split()[1])
    except OSError:
        pass
    return out


class MemorySampler:
    """Samples, every 0.2 s, the private memory (RssAnon) of a backend and
    of its parallel workers, and the shared memory they have touched
    (RssShmem: shared_buffers pages and the build's DSM).  VmHWM alone
    counts every shared buffer a build writes, which says nothing about
    what maintenance_work_mem bounds."""

    def __init__(self, pid):
        import threading
        self.pid, self.peak_private_kb, self.peak_shmem_kb = pid, 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def workers(self):
        tag = f"parallel worker for PID {self.pid}".encode()
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/cmdline", "rb") as f:
                        if tag in f.read():
                            pids.append(int(d))
                except OSError:
                    pass
        return pids

    def run(self):
        while not self.stop.is_set():
            priv = shm = 0
            for p in [self.pid] + self.workers():
                st = proc_status_kb(p, ("RssAnon", "RssShmem"))
                priv += st["RssAnon"]
                shm = max(shm, st["RssShmem"])
            self.peak_private_kb = max(self.peak_private_kb, priv)
            self.peak_shmem_kb = max(self.peak_shmem_kb, shm)
            self.stop.wait(0.2)

    def finish(self):
        self.stop.set()
        self.thread.join()
        return round(self.peak_private_kb / 1024, 1), round(self.peak_shmem_kb / 1024, 1)


def build_index(conn, table, sql, session=()):
    """Build on a fresh connection (so its peak RSS is the build's); returns timings."""
    c = connect(conn.info.dbname)
    cur = c.cursor()
    for st in session:
        cur.execute(st)
    cur.execute("SET client_min_messages = debug1")
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    cur.execute(f"SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = '{table}'::regclass "
                "AND NOT indisprimary")
    for (name,) in cur.fetchall():
        cur.execute(f"DROP INDEX {name}")
    del c.notices[:]
    sampler = MemorySampler(pid)
    t = time.perf_counter()
    cur.execute(sql.format(table=table))
    res = dict(build_s=round(time.perf_counter() - t, 2), peak_rss_mb=peak_rss_mb(pid))
    res["peak_private_mb"], res["peak_shmem_mb"] = sampler.finish()
    notes = [n.strip() for n in c.notices]
    res["notices"] = [n for n in notes if "hnsw" in n or "ivfpq" in n or n.startswith("NOTICE")]
    res["parallel"] = any("parallel," in n for n in notes)
    cur.execute(f"SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                f"WHERE indrelid = '{table}'::regclass AND NOT indisprimary")
    res["index"], res["index_bytes"] = cur.fetchone()
    c.close()
    return res


def prepare_sql_system(conn, ds, sysdef, args):
    """One database system: table, index build(s); returns its SqlSweep."""
    cur = conn.cursor()
    # a system's own table ("table"): several systems in one group, their
    # passes interleaved
    table = sysdef.get("table", args.table)
    res = dict(name=sysdef["name"], kind="sql")
    for st in sysdef.get("session", []):
        cur.execute(st)
    if sysdef.get("keep_index"):
        # the index the previous system built, measured with other settings
        cur.execute(f"SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                    f"WHERE indrelid = '{table}'::regclass AND NOT indisprimary")
        res["index"], res["index_bytes"] = cur.fetchone()
        res["table_bytes"], res["table_bytes_with_toast"] = relation_sizes(cur, table)
        return SqlSweep(conn, ds, sysdef, args, res)
    if sysdef.get("existing"):
        # the user's table and index as they are: nothing loaded, built or dropped
        res["index"] = sysdef["existing"]
        cur.execute("SELECT pg_relation_size(%s)", (res["index"],))
        res["index_bytes"] = cur.fetchone()[0]
        res["table_bytes"], res["table_bytes_with_toast"] = relation_sizes(cur, table)
        return SqlSweep(conn, ds, sysdef, args, res)
    layout = (sysdef.get("storage"), sysdef.get("coltype", "vector"))
    if sysdef.get("reload", True) or not args._loaded.get((table,) + layout):
        res["load_s"] = round(load_table(cur, table, ds, *layout), 1)
        for st in sysdef.get("after_load", []):
            cur.execute(st.format(table=table))
        args._loaded = {(table,) + layout: True}
    if not args._queries_loaded:
        load_queries(cur, ds, args)
        args._queries_loaded = True
    if sysdef.get("index"):
        res["builds"] = []
        for label, session in sysdef.get("builds", [("default", [])]):
            b = build_index(conn, table, sysdef["index"], session)
            b["variant"] = label
            res["builds"].append(b)
            print(f"  build ({label}): {b['build_s']} s, {b['index_bytes'] / 2**20:.1f} MiB, "
                  f"peak private {b['peak_private_mb']} MB, shared touched {b['peak_shmem_mb']} MB, "
                  f"parallel {b['parallel']}", flush=True)
        res.update({k: res["builds"][-1][k] for k in ("build_s", "index", "index_bytes")})
    else:
        cur.execute(f"SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = '{table}'::regclass "
                    "AND NOT indisprimary")
        for (name,) in cur.fetchall():
            cur.execute(f"DROP INDEX {name}")
    res["table_bytes"], res["table_bytes_with_toast"] = relation_sizes(cur, table)
    return SqlSweep(conn, ds, sysdef, args, res)


def finish_sql_system(conn, ds, sysdef, args, res):
    """What a system measures after its sweep (updates, churn, ...), which
    changes the table."""
    cur = conn.cursor()
    for fn in sysdef.get("extras", []):
        res.update(fn(conn, ds, sysdef, args, res))
    for st in sysdef.get("reset", []):
        cur.execute(st)


def recall_pass(conn, ds, sysdef, args, v, repeat=None):
    """Set v, run the queries through psycopg2; returns ids and latency runs."""
    cur = conn.cursor()
    op = sysdef.get("op", "<->")
    cur.execute("DEALLOCATE ALL")
    if sysdef.get("sql"):
        cur.execute(f"PREPARE ann(vector) AS "
                    + query_sql(sysdef, args, ds, "$1", v))
    else:
        cur.execute(f"PREPARE ann({sysdef.get('coltype', 'vector')}) AS SELECT {args.id_column} "
                    f"FROM {sysdef.get('table', args.table)} "
                    f"ORDER BY {args.column} {op} $1 LIMIT {args.k + ds.fetch_k_extra}")
    for name, val in sysdef.get("settings", {}).items():
        cur.execute(f"SET {name} = {val}")
    if v is not None:
        cur.execute(sysdef["guc"].format(v=v))
    qtexts = [vec_text(q) for q in ds.queries[:args.queries]]
    wtexts = [vec_text(q) for q in ds.queries[-args.warmup:]] if args.warmup else []

    def query(qt):
        cur.execute("EXECUTE ann(%s)", (qt,))
        return [r[0] for r in cur.fetchall()]

    timed(query, wtexts)
    runs, ids = [], None
    for _ in range(repeat or args.repeat):
        ids, lat = timed(query, qtexts)
        runs.append(lat)
    cur.execute("EXPLAIN EXECUTE ann(%s)", (qtexts[0],))
    plan = [line for (line,) in cur.fetchall()]
    return ids, runs, plan


class Affinity:
    """One-core measurements: the postmaster (so every backend it forks
    from now on), this process and its pgbench children on one CPU, or
    back on all.  On a virtual machine a wake-up across cores costs far
    more than the query (measured by floor()), so with the client and the
    server on different cores a one-client benchmark measures the
    hypervisor; on one core it measures the work, the client's included."""

    def __init__(self, conn, cpu):
        cur = conn.cursor()
        cur.execute("SHOW data_directory")
        with open(os.path.join(cur.fetchone()[0], "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        self.cpu, self.all = cpu, os.sched_getaffinity(0)

    def set(self, pinned):
        cpus = {self.cpu} if pinned else self.all
        os.sched_setaffinity(self.postmaster, cpus)
        os.sched_setaffinity(0, cpus)


def floor(args, affinity):
    """QPS of SELECT 1 with one pgbench client: the round trip every query pays."""
    out = {}
    for pinned in ([True, False] if affinity else [False]):
        if affinity:
            affinity.set(pinned)
        out["one_core" if pinned else "all_cores"] = round(float(np.median(
            [pgbench(args, "SELECT 1;\n", 1, 0, seconds=args.seconds)[0] for _ in range(args.repeat)])))
    if affinity:
        affinity.set(False)
    return out


class SqlSweep:
    """Per sweep value of a database system: recall and QPS through psycopg2
    (prepared statement, query as a text parameter: the pgvector baseline runs'
    method), then timed pgbench passes (C client, prepared, the query vector
    read from bench_queries by a subquery) with one client, on one core and
    on all, and with --clients clients."""

    def __init__(self, conn, ds, sysdef, args, res):
        self.conn, self.ds, self.sysdef, self.args, self.res = conn, ds, sysdef, args, res
        self.values = sysdef.get("values", [None])
        self.base_script = knn_script(args, sysdef.get("op", "<->"), ds, sysdef.get("table"),
                                      sysdef.get("coltype", "vector"))
        self.script = self.base_script
        res["sweep"] = []

    def gucs(self, v):
        """settings of pgbench's sessions: the swept one and the system's fixed ones"""
        out = dict(self.sysdef.get("settings", {}))
        if v is not None and self.sysdef.get("gucname"):
            out[self.sysdef["gucname"]] = v
        return out or None

    def begin(self, v):
        if self.sysdef.get("sql"):
            # the system's own query, the vector from bench_queries
            self.script = (f"\\set i random(1, {self.args.queries})\n"
                           + query_sql(self.sysdef, self.args, self.ds,
                                       "(SELECT v FROM bench_queries WHERE qid = :i)", v) + ";\n")
        self.ids, self.py_runs, self.plan = recall_pass(self.conn, self.ds, self.sysdef, self.args, v)
        pgbench(self.args, self.script, 1, max(200, self.args.queries // 5), self.gucs(v))    # warm-up
        self.passes = {True: [], False: []}

    def timed_pass(self, v, pinned):
        self.passes[pinned].append(pgbench(self.args, self.script, 1, 0, self.gucs(v), latency=True,
                                           seconds=self.args.seconds))

    def end(self, v, affinity):
        args = self.args
        if affinity:
            affinity.set(False)
        qpsn = float(np.median([pgbench(args, self.script, args.clients, 0, self.gucs(v), seconds=args.seconds)[0]
                                for _ in range(args.repeat)]))
        main = self.passes[True] if affinity else self.passes[False]
        lat = np.concatenate([x for _, x in main])
        py = summarize(self.py_runs, args.queries)
        point = dict(value=v, recall=round(self.ds.recall(self.ids, args.k), 4),
                     returned_min=min(map(len, self.ids)),
                     qps=round(float(np.median([q for q, _ in main])), 1),
                     qps_runs=[round(q, 1) for q, _ in main],
                     qps_clients=round(qpsn, 1), clients=args.clients,
                     qps_psycopg2=py["qps"], p50_psycopg2_ms=py["p50_ms"], p99_psycopg2_ms=py["p99_ms"],
                     **{f"p{q}_ms": round(float(np.percentile(lat, q)), 3) for q in (50, 95, 99)},
                     plan=[p[:120] for p in self.plan[:4]])
        if affinity:
            point["qps_all_cores"] = round(float(np.median([q for q, _ in self.passes[False]])), 1)
        self.res["sweep"].append(point)
        print(f"  {self.sysdef['name']} {self.sysdef.get('gucname', '')}={v}: recall {point['recall']:.4f} "
              f"QPS {point['qps']}" + (f" (all cores {point['qps_all_cores']})" if affinity else "") +
              f", psycopg2 {point['qps_psycopg2']}, {args.clients} clients {point['qps_clients']}, "
              f"p99 {point['p99_ms']} ms", flush=True)


class LibSweep:
    """Per sweep value of an in-process library: recall from one pass over
    the queries, then timed passes as long as pgbench's (one thread)."""

    def __init__(self, ds, args, res, values, setv, search):
        self.ds, self.args, self.res, self.values = ds, args, res, values
        self.setv, self.search = setv, search
        res["sweep"] = []

    def begin(self, v):
        self.setv(v)
        queries = self.ds.queries[:self.args.queries]
        timed(self.search, self.ds.queries[-self.args.warmup:] if self.args.warmup else [])
        self.ids, _ = timed(self.search, queries)
        self.runs = []

    def timed_pass(self, v, pinned):
        # a pass lasts at least --seconds, like a pgbench run: short passes
        # on a shared machine measure its noise, not the library
        queries = self.ds.queries[:self.args.queries]
        lats, t0 = [], time.perf_counter()
        while not lats or time.perf_counter() - t0 < self.args.seconds:
            lats.append(timed(self.search, queries)[1])
        self.runs.append(np.concatenate(lats))

    def end(self, v, affinity):
        point = dict(value=v, recall=round(self.ds.recall(self.ids, self.args.k), 4),
                     returned_min=min(map(len, self.ids)), **summarize(self.runs, self.args.queries))
        self.res["sweep"].append(point)
        print(f"  {self.res['name']} {v}: recall {point['recall']:.4f} QPS {point['qps']} "
              f"p99 {point['p99_ms']} ms", flush=True)


def sweep(sweeps, args, affinity):
    """Every value of every system; with several systems, their timed passes
    alternate (value by value, pass by pass), so that the machine's slow
    spells hit all of them alike and their ratios hold."""
    values = []
    for sw in sweeps:
        values += [v for v in sw.values if v not in values]
    for v in values:
        active = [sw for sw in sweeps if v in sw.values]
        for sw in active:
            sw.begin(v)
        for _ in range(args.repeat):
            for sw in active:
                if affinity:
                    affinity.set(True)
                sw.timed_pass(v, affinity is not None)
                if affinity and isinstance(sw, SqlSweep):
                    affinity.set(False)
                    sw.timed_pass(v, False)
        if affinity:
            affinity.set(False)
        for sw in active:
            sw.end(v, affinity)


def prepare_hnswlib(ds, sysdef, args):
    """hnswlib (Debian python3-hnswlib), one thread, one query per call."""
    import hnswlib
    space = {"l2": "l2", "ip": "ip", "cosine": "cosine"}[ds.metric]
    index = hnswlib.Index(space=space, dim=ds.dim)
    index.init_index(max_elements=len(ds.base), M=sysdef["m"], ef_construction=sysdef["efc"], random_seed=1)
    index.set_num_threads(1)
    t = time.perf_counter()
    index.add_items(ds.base, ds.ids if ds.ids is not None else np.arange(len(ds.base)), num_threads=1)
    res = dict(name=sysdef["name"], kind="library", build_s=round(time.perf_counter() - t, 2))
    path = os.path.join(data_dir(args.data_dir), "hnswlib.tmp")
    index.save_index(path)
    res["index_bytes"] = os.path.getsize(path)
    os.unlink(path)
    print(f"  build: {res['build_s']} s, {res['index_bytes'] / 2**20:.1f} MiB", flush=True)
    return LibSweep(ds, args, res, sysdef["values"], lambda v: index.set_ef(int(v)),
                    lambda q: index.knn_query(q[None, :], k=args.k + ds.fetch_k_extra, num_threads=1)[0][0])


def centred_bits(ds):
    """the bits of the mean-centred base and queries (binary_quantize of
    v - mean), as 0/1 float32 and packed most significant bit first"""
    mean = ds.base.mean(axis=0, dtype=np.float64).astype(np.float32)
    base = (ds.base - mean > 0)
    queries = (ds.queries - mean > 0)
    return base, queries


def rerank(ds, cand, q, k):
    """the k of the candidate ids nearest to q by exact L2"""
    cand = np.asarray(cand, dtype=np.int64)
    cand = cand[cand >= 0]
    d = ((ds.base[cand] - q) ** 2).sum(axis=1)
    return cand[np.argsort(d, kind="stable")[:k]]


def prepare_bits_library(ds, sysdef, args):
    """The two-phase bit search in-process, one thread: the sweep value
    candidates by Hamming distance from an HNSW graph over the centred bits,
    re-ranked by exact L2 in numpy.  hnswlib (Debian python3-hnswlib) on the
    bits as 0/1 float32 (L2 squared = Hamming), or faiss IndexBinaryHNSW
    (Debian python3-faiss) on the packed bits."""
    base, queries = centred_bits(ds)
    qpos = {q.tobytes(): i for i, q in enumerate(ds.queries)}
    k = args.k + ds.fetch_k_extra
    t = time.perf_counter()
    if sysdef["kind"] == "hnswlib-bits":
        import hnswlib
        index = hnswlib.Index(space="l2", dim=ds.dim)
        index.init_index(max_elements=len(base), M=sysdef["m"], ef_construction=sysdef["efc"], random_seed=1)
        index.set_num_threads(1)
        index.add_items(base.astype(np.float32), np.arange(len(base)), num_threads=1)
        path = os.path.join(data_dir(args.data_dir), "hnswlib.tmp")
        index.save_index(path)
        size = os.path.getsize(path)
        os.unlink(path)
        qbits = queries.astype(np.float32)

        def setv(v):
            index.set_ef(int(v))
        cand = lambda i, c: index.knn_query(qbits[i][None, :], k=c, num_threads=1)[0][0]  # noqa: E731
    else:
        import faiss
        faiss.omp_set_num_threads(1)
        index = faiss.IndexBinaryHNSW(ds.dim, sysdef["m"])
        index.hnsw.efConstruction = sysdef["efc"]
        index.add(np.packbits(base, axis=1))
        size = len(faiss.serialize_index_binary(index))
        qbits = np.packbits(queries, axis=1)

        def setv(v):
            index.hnsw.efSearch = int(v)
        cand = lambda i, c: index.search(qbits[i][None, :], c)[1][0]  # noqa: E731
    res = dict(name=sysdef["name"], kind="library", build_s=round(time.perf_counter() - t, 2), index_bytes=size)
    print(f"  build: {res['build_s']} s, {res['index_bytes'] / 2**20:.1f} MiB", flush=True)
    state = {}

    def setv_c(v):
        state["c"] = int(v)
        setv(v)
    return LibSweep(ds, args, res, sysdef["values"], setv_c,
                    lambda q: rerank(ds, cand(qpos[q.tobytes()], state["c"]), q, k))


def prepare_faiss_ivfpq(ds, sysdef, args):
    """faiss IndexIVFPQ (Debian python3-faiss), one thread, optionally
    refined; or (kind faiss-ivfflat) IndexIVFFlat, float vectors in the lists."""
    import faiss
    faiss.omp_set_num_threads(1)
    mt = faiss.METRIC_L2 if ds.metric == "l2" else faiss.METRIC_INNER_PRODUCT
    base = np.ascontiguousarray(ds.base, dtype=np.float32)
    if sysdef["kind"] == "faiss-ivfflat":
        ivf = faiss.IndexIVFFlat(faiss.IndexFlat(ds.dim, mt), ds.dim, sysdef["nlist"], mt)
    else:
        ivf = faiss.IndexIVFPQ(faiss.IndexFlat(ds.dim, mt), ds.dim, sysdef["nlist"], sysdef["m"],
                               sysdef.get("nbits", 8), mt)
    index = faiss.IndexRefineFlat(ivf) if sysdef.get("refine") else ivf
    if sysdef.get("refine"):
        index.k_factor = sysdef["refine"]
    t = time.perf_counter()
    index.train(base)
    index.add(base)
    res = dict(name=sysdef["name"], kind="library", build_s=round(time.perf_counter() - t, 2),
               index_bytes=len(faiss.serialize_index(index)))
    print(f"  build: {res['build_s']} s, {res['index_bytes'] / 2**20:.1f} MiB", flush=True)

    def setv(v):
        ivf.nprobe = int(v)
    return LibSweep(ds, args, res, sysdef["values"], setv,
                    lambda q: index.search(np.ascontiguousarray(q[None, :], dtype=np.float32), args.k)[1][0])


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


def hnsw_updates(conn, ds, sysdef, args, res):
    """Insert rate into the built index (one statement; single-row
    transactions with synchronous_commit off, so the index work is what is
    timed) and the time from an insert's start until a k-NN query returns
    the new row."""
    cur = conn.cursor()
    t = args.table
    n = min(5000, len(ds.base))
    out = {}
    cur.execute(f"SELECT max(id) FROM {t}")
    base_id = cur.fetchone()[0] + 1
    start = time.perf_counter()
    cur.execute(f"INSERT INTO {t} SELECT id + {base_id}, label, embedding FROM {t} WHERE id < {n}")
    out["insert_batch_rows_per_s"] = round(n / (time.perf_counter() - start))
    cur.execute(f"DROP SEQUENCE IF EXISTS bench_ins_seq; CREATE SEQUENCE bench_ins_seq START {base_id + n}")
    script = (f"\\set i random(0, {len(ds.base) - 1})\n"
              f"INSERT INTO {t} SELECT nextval('bench_ins_seq'), label, embedding FROM {t} WHERE id = :i;\n")
    rate, _ = pgbench(args, script, 1, 2000, {"synchronous_commit": "off"})
    out["insert_single_rows_per_s"] = round(rate)
    # visibility: insert a perturbed copy, then look for it
    lat, found = [], 0
    cur.execute(sysdef["guc"].format(v=40) if sysdef.get("guc") else "SELECT 1")
    for i in range(100):
        vec = vec_text(ds.base[i] + 0.25)
        s0 = time.perf_counter()
        cur.execute(f"INSERT INTO {t} VALUES (nextval('bench_ins_seq'), -1, %s) RETURNING id", (vec,))
        new_id = cur.fetchone()[0]
        cur.execute(f"SELECT id FROM {t} ORDER BY embedding <-> %s::vector LIMIT 1", (vec,))
        found += cur.fetchone()[0] == new_id
        lat.append((time.perf_counter() - s0) * 1e3)
    out["insert_to_visible_p50_ms"] = round(float(np.median(lat)), 3)
    out["insert_visible_first_query"] = f"{found}/100"
    cur.execute(f"DELETE FROM {t} WHERE id >= {base_id}")
    cur.execute(f"VACUUM (INDEX_CLEANUP ON) {t}")
    print(f"  inserts: {out}", flush=True)
    return dict(updates=out)


def indb_recall(conn, ds, sysdef, args, res):
    """vectorx_recall (stored rows, leave-one-out) and vectorx_recall_queries
    (the benchmark's own queries) at two settings, next to the recall this
    benchmark measured from outside: the in-database monitor must agree."""
    cur = conn.cursor()
    out = []
    sample = min(1000, args.queries)
    qarr = "ARRAY(SELECT v FROM bench_queries WHERE qid <= %d ORDER BY qid)" % args.queries
    for p in res["sweep"]:
        if p["value"] not in sysdef.get("indb_values", [20, 40]):
            continue
        cur.execute(sysdef["guc"].format(v=p["value"]))
        t0 = time.perf_counter()
        cur.execute(f"SELECT recall, mean_ms, p99_ms, queries FROM vectorx_recall('{res['index']}', {sample}, {args.k})")
        loo = cur.fetchone()
        loo_s = time.perf_counter() - t0
        cur.execute(f"SELECT recall FROM vectorx_recall_queries('{res['index']}', {qarr}, {args.k})")
        same = cur.fetchone()[0]
        out.append(dict(value=p["value"], outside=p["recall"], leave_one_out=round(loo[0], 4),
                        leave_one_out_mean_ms=round(loo[1], 3), leave_one_out_p99_ms=round(loo[2], 3),
                        sample=loo[3], seconds=round(loo_s, 1), same_queries=round(same, 4)))
    print(f"  in-database recall: {out}", flush=True)
    return dict(indb_recall=out)


def hnsw_churn(conn, ds, sysdef, args, res):
    """Delete half the rows, vacuum, insert them again; recall at the sweep's
    settings against the fresh index's."""
    cur = conn.cursor()
    t = args.table
    cur.execute(f"DROP TABLE IF EXISTS churn_half; CREATE TABLE churn_half AS SELECT * FROM {t} WHERE id % 2 = 0")
    cur.execute(f"DELETE FROM {t} WHERE id % 2 = 0")
    s0 = time.perf_counter()
    cur.execute(f"VACUUM (INDEX_CLEANUP ON) {t}")
    vac = time.perf_counter() - s0
    s0 = time.perf_counter()
    cur.execute(f"INSERT INTO {t} SELECT * FROM churn_half")
    ins = time.perf_counter() - s0
    cur.execute("DROP TABLE churn_half")
    out = dict(vacuum_s=round(vac, 2), reinsert_rows_per_s=round((len(ds.base) // 2) / ins))
    cur.execute(f"SELECT pg_relation_size('{res['index']}')")
    out["index_bytes"] = cur.fetchone()[0]
    out["recall"] = {}
    for p in res["sweep"]:
        ids, _, _ = recall_pass(conn, ds, sysdef, args, p["value"], repeat=1)
        out["recall"][str(p["value"])] = round(ds.recall(ids, args.k), 4)
    print(f"  churn: {out}", flush=True)
    return dict(churn=out)


OPCLASS_METRICS = {"vector_l2_ops": ("l2", "<->"), "vector_ip_ops": ("ip", "<#>"),
                   "vector_cosine_ops": ("cosine", "<=>"), "vector_l1_ops": ("l1", "<+>")}
SEARCH_GUCS = {"hnsw": ("hnsw.ef_search", [10, 20, 40, 80, 160, 320]),
               "ivfpq": ("ivfpq.probes", [1, 2, 4, 8, 16, 32, 64])}


def find_index(conn, args):
    """The vectorx index on the user's column: name, access method, metric."""
    cur = conn.cursor()
    cur.execute("""
        SELECT i.indexrelid::regclass::text, am.amname, opc.opcname
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
             JOIN pg_opclass opc ON opc.oid = i.indclass[0]
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = %s::regclass AND a.attname = %s AND am.amname IN ('hnsw', 'ivfpq')
          AND (%s IS NULL OR i.indexrelid = %s::regclass)
        ORDER BY 1""", (args.table, args.column, args.index, args.index))
    row = cur.fetchone()
    if row is None:
        sys.exit(f"no hnsw or ivfpq index on {args.table}.{args.column}" +
                 (f" named {args.index}" if args.index else ""))
    metric, op = OPCLASS_METRICS[row[2]]
    return dict(index=row[0], am=row[1], metric=metric, op=op)


def scenario_table(ds, args, found):
    """Your own table and its index, read-only: recall (leave-one-out) and speed
    of the index's search setting; hnswlib on the same vectors beside it."""
    gucname, values = SEARCH_GUCS[found["am"]]
    out = [dict(name=f"vectorx {found['am']} ({found['index']})", existing=found["index"], op=found["op"],
                guc=f"SET {gucname} = {{v}}", gucname=gucname, values=values)]
    try:
        import hnswlib  # noqa: F401
        if ds.metric != "l1":
            out.append(dict(name="hnswlib (Debian, 1 thread)", kind="hnswlib", m=16, efc=64,
                            values=[10, 20, 40, 80, 160, 320]))
    except ImportError:
        pass
    return out


def scenario_hnsw_1m(ds, args):
    """HNSW at scale: 1M x 128 seeded clustered data, builds with 1 GB and 256 MB of maintenance_work_mem."""
    return [
        dict(name="vectorx hnsw 1M", storage=None,
             index="CREATE INDEX ON {table} USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)",
             builds=[("maintenance_work_mem 256MB", ["SET maintenance_work_mem = '256MB'"]),
                     ("maintenance_work_mem 1GB", ["SET maintenance_work_mem = '1GB'"])],
             guc="SET hnsw.ef_search = {v}", gucname="hnsw.ef_search", values=[40, 200],
             indb_values=[40], extras=[indb_recall]),
        dict(name="hnswlib (Debian, 1 thread)", kind="hnswlib", m=16, efc=64, values=[40, 200]),
    ]


def scenario_hnsw_1m_768(ds, args):
    """HNSW at scale, embedding-sized: 1M x 768 seeded clustered data, maintenance_work_mem 1 GB."""
    return [
        dict(name="vectorx hnsw 1M x 768", storage=None,
             index="CREATE INDEX ON {table} USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)",
             builds=[("maintenance_work_mem 1GB", ["SET maintenance_work_mem = '1GB'"])],
             guc="SET hnsw.ef_search = {v}", gucname="hnsw.ef_search", values=[40, 200],
             indb_values=[40], extras=[indb_recall]),
        dict(name="hnswlib (Debian, 1 thread)", kind="hnswlib", m=16, efc=64, values=[40, 200]),
    ]


def scenario_ivfpq(ds, args):
    """IVF-PQ (245 lists, m 56 and 112, 8 bits): vectorx with exact re-rank against faiss IVFPQ alone and refined."""
    probes = [1, 2, 4, 8, 16, 32, 64]
    groups = []
    for m in (56, 112):
        index = ("CREATE INDEX ON {table} USING ivfpq (embedding vector_l2_ops) "
                 f"WITH (lists = 245, m = {m}, nbits = 8)")
        groups.append([
            dict(name=f"vectorx ivfpq m{m}, rerank 100", storage=None, reload=m == 56, index=index,
                 builds=[("maintenance_work_mem 4GB", [])],
                 guc="SET ivfpq.probes = {v}", gucname="ivfpq.probes", values=probes,
                 settings={"ivfpq.rerank": 100}, indb_values=[8], extras=[indb_recall] if m == 56 else []),
            dict(name=f"faiss IVFPQ m{m} + RefineFlat (k_factor 10)", kind="faiss-ivfpq", nlist=245, m=m,
                 nbits=8, refine=10, values=probes),
            dict(name=f"faiss IVFPQ m{m} alone", kind="faiss-ivfpq", nlist=245, m=m, nbits=8, values=probes),
        ])
        groups.append([
            dict(name=f"vectorx ivfpq m{m}, no re-rank", storage=None, reload=False, keep_index=True,
                 guc="SET ivfpq.probes = {v}", gucname="ivfpq.probes", values=probes,
                 settings={"ivfpq.rerank": 0, "ivfpq.iterative_scan": "relaxed_order"}),
        ])
    return groups


def scenario_ivfflat(ds, args):
    """IVFFlat (245 lists, pgvector's layout of the baseline runs): vectorx's
    ivfflat (8-bit codes, executor re-check) over vector and halfvec against
    faiss IndexIVFFlat (float vectors), probes sweep, the three interleaved.
    Recall at equal lists and probes tells whether the k-means and the
    answers match; QPS tells the speed."""
    probes = [1, 2, 4, 8, 16, 32]
    index = "CREATE INDEX ON {table} USING ivfflat (embedding %s) WITH (lists = 245)"
    return [[
        dict(name="vectorx ivfflat, vector", storage=None, index=index % "vector_l2_ops", table="items_vector",
             builds=[("one process", ["SET max_parallel_maintenance_workers = 0"])],
             guc="SET ivfflat.probes = {v}", gucname="ivfflat.probes", values=probes),
        dict(name="vectorx ivfflat, halfvec", storage=None, coltype="halfvec", index=index % "halfvec_l2_ops",
             table="items_halfvec", builds=[("one process", ["SET max_parallel_maintenance_workers = 0"])],
             guc="SET ivfflat.probes = {v}", gucname="ivfflat.probes", values=probes),
        dict(name="faiss IndexIVFFlat (245 lists)", kind="faiss-ivfflat", nlist=245, values=probes),
    ]]


def scenario_ivfpq_1m(ds, args):
    """IVF-PQ at scale: 1M x 128 seeded clustered data, 1000 lists, m 32, against faiss."""
    probes = [8, 32]
    return [[
        dict(name="vectorx ivfpq 1M (1000 lists, m 32)", storage=None,
             index="CREATE INDEX ON {table} USING ivfpq (embedding vector_l2_ops) WITH (lists = 1000, m = 32)",
             builds=[("maintenance_work_mem 1GB", ["SET maintenance_work_mem = '1GB'"])],
             guc="SET ivfpq.probes = {v}", gucname="ivfpq.probes", values=probes,
             settings={"ivfpq.rerank": 100}, indb_values=[8], extras=[indb_recall]),
        dict(name="faiss IVFPQ (1000, m 32) + RefineFlat (k_factor 10)", kind="faiss-ivfpq", nlist=1000, m=32,
             nbits=8, refine=10, values=probes),
    ]]


def scenario_hnsw(ds, args):
    """HNSW (m=16, ef_construction=64): vectorx against hnswlib, ef_search sweep."""
    values = [10, 15, 20, 30, 40, 60, 80, 120, 200, 400]
    return [
        dict(name="vectorx hnsw", storage=None,
             index="CREATE INDEX ON {table} USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)",
             builds=[("one process", ["SET max_parallel_maintenance_workers = 0"]),
                     ("parallel, 1 worker", ["SET max_parallel_maintenance_workers = 1"])],
             guc="SET hnsw.ef_search = {v}", gucname="hnsw.ef_search", values=values,
             extras=[indb_recall, hnsw_updates, hnsw_churn]),
        dict(name="hnswlib (Debian, 1 thread)", kind="hnswlib", m=16, efc=64, values=values),
    ]


def scenario_halfvec(ds, args):
    """HNSW (m=16, ef_construction=64) over a halfvec column against the same
    over vector, and hnswlib (float32), ef_search sweep: recall, QPS, build,
    index and table size.  Each type has its table, so the three run in one
    group with their timed passes interleaved."""
    values = [10, 20, 40, 80, 160]
    index = "CREATE INDEX ON {table} USING hnsw (embedding %s) WITH (m = 16, ef_construction = 64)"
    return [[
        dict(name="vectorx hnsw, vector", storage=None, index=index % "vector_l2_ops", table="items_vector",
             builds=[("one process", ["SET max_parallel_maintenance_workers = 0"])],
             guc="SET hnsw.ef_search = {v}", gucname="hnsw.ef_search", values=values),
        dict(name="vectorx hnsw, halfvec", storage=None, coltype="halfvec", index=index % "halfvec_l2_ops",
             table="items_halfvec",
             builds=[("one process", ["SET max_parallel_maintenance_workers = 0"])],
             guc="SET hnsw.ef_search = {v}", gucname="hnsw.ef_search", values=values),
        dict(name="hnswlib (Debian, 1 thread)", kind="hnswlib", m=16, efc=64, values=values),
    ]]


def scenario_bit(ds, args):
    """Binary quantization with re-rank, as pgvector applications do it:
    HNSW (m 16, ef_construction 64) over bit(784) holding binary_quantize of
    the mean-centred images, the sweep value v candidates by Hamming distance
    (hnsw.ef_search = v) re-ranked by exact L2 in SQL; against vectorx's
    vector index (ef_search = v), hnswlib on the same bits as 0/1 floats
    and faiss IndexBinaryHNSW on the packed bits (both re-ranking the same
    way in numpy), and hnswlib on the floats.  Recall is against exact L2."""
    values = [10, 20, 40, 80, 160, 320]
    mean = "(SELECT m FROM bit_mean)"
    return [[
        dict(name="vectorx hnsw, vector", storage=None, index="CREATE INDEX ON {table} USING hnsw "
             "(embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)", table="items_vector",
             builds=[("one process", ["SET max_parallel_maintenance_workers = 0"])],
             guc="SET hnsw.ef_search = {v}", gucname="hnsw.ef_search", values=values),
        dict(name="vectorx hnsw, bit + re-rank", storage=None, table="items_bit",
             after_load=["DROP TABLE IF EXISTS bit_mean", "CREATE TABLE bit_mean AS SELECT avg(embedding) AS m FROM {table}",
                         f"ALTER TABLE {{table}} ADD COLUMN b bit({ds.dim})",
                         # inline: the PLAIN vector(784) would push it to TOAST, and the
                         # scan's ORDER BY column is computed from every row it returns
                         "ALTER TABLE {table} ALTER COLUMN b SET STORAGE PLAIN",
                         f"UPDATE {{table}} SET b = binary_quantize(embedding - {mean})",
                         "VACUUM ANALYZE {table}"],
             index="CREATE INDEX ON {table} USING hnsw (b bit_hamming_ops) WITH (m = 16, ef_construction = 64)",
             builds=[("one process", ["SET max_parallel_maintenance_workers = 0"])],
             sql=("SELECT id FROM (SELECT id, embedding FROM {table} ORDER BY b <~> binary_quantize({q} - "
                  + mean + ") LIMIT {v}) c ORDER BY embedding <-> {q} LIMIT {k}"),
             guc="SET hnsw.ef_search = {v}", gucname="hnsw.ef_search", values=values),
        dict(name="hnswlib bits (0/1 float) + re-rank", kind="hnswlib-bits", m=16, efc=64, values=values),
        dict(name="faiss IndexBinaryHNSW + re-rank", kind="faiss-bits", m=16, efc=64, values=values),
        dict(name="hnswlib (Debian, 1 thread)", kind="hnswlib", m=16, efc=64, values=values),
    ]]


def scenario_filtered(ds, args):
    """Filtered k-NN (HNSW m 16): class label and seeded 0.1/1/10/50% filters, auto against each strategy forced."""
    return []


FILTER_STRATEGIES = ["auto", "prefilter", "inscan", "postfilter"]


def run_filtered(conn, ds, args, affinity):
    """WHERE <filter> ORDER BY embedding <-> $1 LIMIT k on Fashion-MNIST with
    btree indexes on the filter columns and one HNSW index: the query's own
    class label (~10%, correlated with the vector) and a seeded uniform
    attribute r (r < 0.001, 0.01, 0.1, 0.5: independent of it).  For every
    filter, recall@k against the exact filtered answer, rows returned, QPS and
    p99 under vectorx.filter_strategy = auto and each strategy forced; the
    strategies' timed passes alternate.  Also HNSW's own index without the
    hook (filter_strategy off) for reference."""
    cur = conn.cursor()
    t = args.table
    out = dict(load_s=round(load_table(cur, t, ds), 1))
    rng = np.random.default_rng(7)
    r = rng.random(len(ds.base))
    cur.execute("DROP TABLE IF EXISTS bench_attr")
    cur.execute("CREATE TABLE bench_attr (id int PRIMARY KEY, r float8)")
    cur.copy_expert("COPY bench_attr FROM STDIN",
                    io.StringIO("".join(f"{i}\t{x!r}\n" for i, x in enumerate(r))))
    cur.execute(f"ALTER TABLE {t} ADD COLUMN r float8")
    cur.execute(f"UPDATE {t} SET r = a.r FROM bench_attr a WHERE a.id = {t}.id")
    b = build_index(conn, t, "CREATE INDEX ON {table} USING hnsw (embedding vector_l2_ops) "
                    "WITH (m = 16, ef_construction = 64)", [])
    out.update(build_s=b["build_s"], index_bytes=b["index_bytes"])
    print(f"  hnsw build {b['build_s']} s", flush=True)
    # after the build: build_index drops the table's other indexes
    cur.execute(f"CREATE INDEX ON {t} (r)")
    cur.execute(f"CREATE INDEX ON {t} (label)")
    cur.execute(f"VACUUM ANALYZE {t}")

    nq = args.queries
    queries = ds.queries[:nq]
    qlabels = read_idx(os.path.join(FASHION_DIR, "t10k-labels-idx1-ubyte.gz"), labels=True)[:nq]
    dist = np.concatenate([distances(queries[s:s + 100], ds.base, ds.metric) for s in range(0, nq, 100)])
    filters = [dict(name="class label", sql="label = $2", mask=lambda qi: ds.labels == qlabels[qi])]
    for frac in (0.001, 0.01, 0.1, 0.5):
        filters.append(dict(name=f"r < {frac}", sql=f"r < {frac}", mask=lambda qi, f=frac: r < f))
    qtexts = [vec_text(q) for q in queries]
    out["filters"] = []
    for f in filters:
        masks = [f["mask"](qi) for qi in range(nq)]
        kth = np.array([np.sort(dist[qi][m])[args.k - 1] if m.sum() >= args.k else np.inf
                        for qi, m in enumerate(masks)])
        entry = dict(name=f["name"], sql=f["sql"], selectivity=round(float(np.mean([m.mean() for m in masks])), 5),
                     strategies={})
        runs = {s: [] for s in FILTER_STRATEGIES}
        results = {}

        labelled = "$2" in f["sql"]

        def prepare(s):
            cur.execute("DEALLOCATE ALL")
            cur.execute(f"SET vectorx.filter_strategy = {s}")
            cur.execute(f"PREPARE fq(vector{', int' if labelled else ''}) AS SELECT id FROM {t} "
                        f"WHERE {f['sql']} ORDER BY embedding <-> $1 LIMIT {args.k}")

        def params(qi):
            return (qtexts[qi], int(qlabels[qi])) if labelled else (qtexts[qi],)

        def query(qi):
            cur.execute("EXECUTE fq(%s, %s)" if labelled else "EXECUTE fq(%s)", params(qi))
            return [x for (x,) in cur.fetchall()]

        for s in FILTER_STRATEGIES:
            prepare(s)
            timed(query, list(range(min(args.warmup, nq))))
            results[s] = timed(query, list(range(nq)))[0]
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE fq(%s" + (", %s)" if labelled else ")"),
                        params(0))
            plan = [line for (line,) in cur.fetchall()]
            chosen = [p.split(":", 1)[1].strip() for p in plan if "Strategy:" in p]
            entry["strategies"][s] = dict(plan=chosen)
        for _ in range(args.repeat):
            for s in FILTER_STRATEGIES:
                prepare(s)
                if affinity:
                    affinity.set(True)
                runs[s].append(timed(query, list(range(nq)))[1])
                if affinity:
                    affinity.set(False)
        for s in FILTER_STRATEGIES:
            hits = 0
            for qi, ids in enumerate(results[s]):
                d = dist[qi][np.asarray(ids, dtype=np.int64)] if ids else np.array([])
                hits += int(np.count_nonzero(d <= kth[qi] + 1e-6 * max(1.0, kth[qi])))
            lat = np.concatenate(runs[s])
            qps = [len(x) / (x.sum() / 1e3) for x in runs[s]]
            entry["strategies"][s].update(
                recall=round(hits / (args.k * nq), 4), rows_min=min(map(len, results[s])),
                rows_mean=round(float(np.mean([len(x) for x in results[s]])), 2),
                qps=round(float(np.median(qps)), 1), qps_runs=[round(q, 1) for q in qps],
                p50_ms=round(float(np.percentile(lat, 50)), 3), p99_ms=round(float(np.percentile(lat, 99)), 3))
            e = entry["strategies"][s]
            print(f"  {f['name']:12s} {s:10s} recall {e['recall']:.4f} rows {e['rows_min']}..10 "
                  f"QPS {e['qps']:.0f} p99 {e['p99_ms']} ms  [{'; '.join(e['plan'])}]", flush=True)
        out["filters"].append(entry)
    return out


def filtered_markdown(result):
    ds, fr = result["dataset"], result["filtered"]
    lines = [f"## {result['scenario']}: {ds['name']} ({ds['rows']} x {ds['dim']}, {ds['metric']}), "
             f"{result['queries']} queries x {result['repeat']} passes, k={result['k']}",
             f"{result['date']}, {result['server']}, kernels {result['simd']}; HNSW m 16, ef_construction 64, "
             f"hnsw.ef_search 40 (default), btree indexes on label and r; build {fr['build_s']} s",
             "",
             "QPS: one psycopg2 client, prepared statement (the class label as its second parameter: "
             "generic plans after five executions), median of the passes, "
             + ("client and server on one CPU; " if result.get("one_core") else "unpinned; ")
             + "strategies' passes alternate.  Recall@k against the exact filtered answer (brute force).", "",
             "| filter | selectivity | strategy | plan | recall@k | rows (min / mean) | QPS | p50 ms | p99 ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    summary = []
    for f in fr["filters"]:
        for i, (s, e) in enumerate(f["strategies"].items()):
            lines.append("| " + " | ".join([
                f["name"] if i == 0 else "", f"{f['selectivity']:.4f}" if i == 0 else "", s,
                "; ".join(e["plan"]), f"{e['recall']:.4f}", f"{e['rows_min']} / {e['rows_mean']}",
                f"{e['qps']:.0f}", f"{e['p50_ms']:.3f}", f"{e['p99_ms']:.3f}"]) + " |")
        st = f["strategies"]
        forced = {s: e for s, e in st.items() if s != "auto" and e["recall"] >= 0.95 and e["rows_min"] == result["k"]}
        best = max(forced.items(), key=lambda kv: kv[1]["qps"]) if forced else None
        text = (f"- {f['name']}: auto {st['auto']['qps']:.0f} QPS at recall {st['auto']['recall']:.4f}, "
                f"{st['auto']['rows_min']} rows min")
        if best:
            text += f"; best forced (recall >= 0.95, k rows) {best[0]} {best[1]['qps']:.0f} QPS: auto = {st['auto']['qps'] / best[1]['qps']:.2f}x"
        text += f"; postfilter {st['postfilter']['qps']:.0f} QPS (recall {st['postfilter']['recall']:.4f}): auto = {st['auto']['qps'] / st['postfilter']['qps']:.2f}x"
        summary.append(text)
    return "\n".join(lines) + "\n\n" + "\n".join(summary) + "\n"


def filtered_plot(result, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fr = [f for f in result["filtered"]["filters"] if f["name"].startswith("r <")]
    fig, ax = plt.subplots(figsize=(8, 5))
    for s in FILTER_STRATEGIES:
        ax.plot([f["selectivity"] for f in fr], [f["strategies"][s]["qps"] for f in fr], marker="o",
                linestyle="-" if s == "auto" else "--", label=s)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("filter selectivity (fraction of rows matching, independent of the vectors)")
    ax.set_ylabel("queries per second (1 client)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(f"{result['scenario']}: {result['dataset']['name']}, WHERE r < s ORDER BY <-> LIMIT {result['k']}")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


SCENARIOS = {
    "exact": (scenario_exact, "fashion-mnist", dict(queries=100, warmup=10, repeat=3)),
    "hnsw": (scenario_hnsw, "fashion-mnist", dict(queries=1000, warmup=100, repeat=3)),
    "hnsw-1m": (scenario_hnsw_1m, "synth-1000000-128", dict(queries=1000, warmup=100, repeat=1)),
    "hnsw-1m-768": (scenario_hnsw_1m_768, "synth-1000000-768", dict(queries=1000, warmup=100, repeat=1)),
    "ivfpq": (scenario_ivfpq, "fashion-mnist", dict(queries=1000, warmup=100, repeat=3)),
    "ivfpq-1m": (scenario_ivfpq_1m, "synth-1000000-128", dict(queries=1000, warmup=100, repeat=1)),
    "table": (scenario_table, "(yours)", dict(queries=1000, warmup=100, repeat=3)),
    "filtered": (scenario_filtered, "fashion-mnist", dict(queries=200, warmup=20, repeat=3)),
    "halfvec": (scenario_halfvec, "fashion-mnist", dict(queries=1000, warmup=100, repeat=3)),
    "bit": (scenario_bit, "fashion-mnist", dict(queries=1000, warmup=100, repeat=3)),
    "ivfflat": (scenario_ivfflat, "fashion-mnist", dict(queries=1000, warmup=100, repeat=3)),
}
PREPARERS = {"hnswlib": prepare_hnswlib, "faiss-ivfpq": prepare_faiss_ivfpq,
             "hnswlib-bits": prepare_bits_library, "faiss-bits": prepare_bits_library,
             "faiss-ivfflat": prepare_faiss_ivfpq}


# ------------------------------------------------------------------ output

def markdown(result):
    if "filtered" in result:
        return filtered_markdown(result)
    ds = result["dataset"]
    mib = lambda b: f"{b / 2**20:.1f}"  # noqa: E731
    lines = [f"## {result['scenario']}: {ds['name']} ({ds['rows']} x {ds['dim']}, {ds['metric']}), "
             f"{result['queries']} queries x {result['repeat']} passes, k={result['k']}",
             f"{result['date']}, {result['server']}, kernels {result['simd']}, shared_buffers "
             f"{result.get('shared_buffers')}, huge pages "
             + ("on (PostgreSQL huge_pages = on; THP always for the libraries)" if result.get("huge_pages")
                else "off (4 kB pages on both sides)"), "",
             "QPS: one pgbench client (prepared statement, query vector read by a subquery), median of the passes "
             f"of {result.get('seconds', '?')} s each, "
             + ("with the client, the server and the libraries on one CPU (--pin-cpu; all cores: the same "
                "client and server free to use both), passes of the systems alternating; "
                if result.get("one_core") else "unpinned; ")
             + "psycopg2: one Python client, prepared statement, query as a text parameter "
             "(the method of the pgvector baseline runs); N clients: pgbench.  Libraries: in-process, one thread, "
             "timed passes as long as pgbench's.  Latencies: the QPS passes'.",
             f"Round-trip floor (SELECT 1, one pgbench client): {result.get('floor_qps')} QPS.", "",
             "| system | setting | recall@k | QPS | QPS all cores | QPS psycopg2 | QPS N clients | p50 ms | p95 ms | p99 ms | build s | index MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in result["systems"]:
        for i, p in enumerate(s["sweep"]):
            first = i == 0
            cells = [s["name"] if first else "", "-" if p["value"] is None else str(p["value"]),
                     f"{p['recall']:.4f}", f"{p['qps']:.0f}",
                     f"{p['qps_all_cores']:.0f}" if "qps_all_cores" in p else "-",
                     f"{p['qps_psycopg2']:.0f}" if "qps_psycopg2" in p else "-",
                     f"{p['qps_clients']:.0f} ({p['clients']})" if "qps_clients" in p else "-",
                     f"{p['p50_ms']:.3f}", f"{p['p95_ms']:.3f}", f"{p['p99_ms']:.3f}",
                     str(s.get("build_s", "")) if first else "",
                     mib(s["index_bytes"]) if first and "index_bytes" in s else ""]
            lines.append("| " + " | ".join(cells) + " |")
    extra = []
    systems = result["systems"]
    for target in (0.95, 0.99):
        # the pgvector baseline's reading: each system's first sweep point at
        # or above the recall, against the first library listed after it
        cells = []
        for si, s in enumerate(systems):
            p = next((p for p in s["sweep"] if p["recall"] >= target), None)
            if p is None:
                cells.append(f"{s['name']}: not reached")
                continue
            text = f"{s['name']}: {p['qps']:.0f} QPS (setting {p['value']}, recall {p['recall']:.4f})"
            lib = next((t for t in systems[si + 1:] + systems[:si] if t.get("kind") == "library"), None)
            lp = lib and next((q for q in lib["sweep"] if q["recall"] >= target), None)
            if lp and s.get("kind") != "library":
                text += f" = {p['qps'] / lp['qps']:.2f}x {lib['name']}"
                if "qps_all_cores" in p:
                    text += (f" (all cores: {p['qps_all_cores']:.0f} QPS = "
                             f"{p['qps_all_cores'] / lp['qps']:.2f}x)")
            cells.append(text)
        extra.append(f"- at recall@{result['k']} >= {target}: " + "; ".join(cells))
    for s in result["systems"]:
        if s.get("index_bytes"):
            extra.append(f"- {s['name']}: index {s['index_bytes'] / 2**20:.1f} MiB, "
                         f"{s['index_bytes'] / result['dataset']['rows']:.1f} bytes per vector")
        for b in s.get("builds", []):
            extra.append(f"- {s['name']}, build {b['variant']}: {b['build_s']} s, index {mib(b['index_bytes'])} MiB, "
                         f"peak private memory (RssAnon, leader + workers) {b.get('peak_private_mb')} MB, "
                         f"peak shared memory touched (shared_buffers + DSM) {b.get('peak_shmem_mb')} MB, "
                         f"parallel: {b['parallel']}"
                         + ("; " + "; ".join(b["notices"]) if b["notices"] else ""))
        if "table_bytes" in s:
            extra.append(f"- {s['name']}: table {mib(s['table_bytes_with_toast'])} MiB (heap {mib(s['table_bytes'])})")
        if "updates" in s:
            u = s["updates"]
            extra.append(f"- {s['name']}, inserts into the built index: {u['insert_batch_rows_per_s']} rows/s in one "
                         f"statement, {u['insert_single_rows_per_s']} rows/s as single-row transactions "
                         f"(synchronous_commit off); insert start to row returned by k-NN: "
                         f"{u['insert_to_visible_p50_ms']} ms (p50), found by the first query {u['insert_visible_first_query']}")
        for r in s.get("indb_recall", []):
            extra.append(f"- {s['name']}, in-database recall at {r['value']}: vectorx_recall (leave-one-out, "
                         f"{r['sample']} stored rows, {r['seconds']} s) {r['leave_one_out']:.4f}, "
                         f"vectorx_recall_queries (these queries) {r['same_queries']:.4f}; measured from outside "
                         f"{r['outside']:.4f} (difference {r['leave_one_out'] - r['outside']:+.4f}); index scan "
                         f"{r['leave_one_out_mean_ms']} ms mean, {r['leave_one_out_p99_ms']} ms p99")
        if "churn" in s:
            c = s["churn"]
            fresh = {str(p["value"]): p["recall"] for p in s["sweep"]}
            pairs = ", ".join(f"{k}: {v:.4f} (fresh {fresh[k]:.4f}, {v - fresh[k]:+.4f})" for k, v in c["recall"].items())
            extra.append(f"- {s['name']}, after deleting half, VACUUM ({c['vacuum_s']} s) and re-inserting "
                         f"({c['reinsert_rows_per_s']} rows/s): recall {pairs}; index {mib(c['index_bytes'])} MiB")
    return "\n".join(lines) + "\n" + ("\n" + "\n".join(extra) + "\n" if extra else "")


def plot(result, path):
    """recall against QPS, one curve per system (and per mode of a database)"""
    if "filtered" in result:
        return filtered_plot(result, path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 5))
    for s in result["systems"]:
        xs = [p["recall"] for p in s["sweep"]]
        ys = [p["qps"] for p in s["sweep"]]
        line = ax.plot(xs, ys, marker="o", label=s["name"])[0]
        if all("qps_all_cores" in p for p in s["sweep"]):
            ax.plot(xs, [p["qps_all_cores"] for p in s["sweep"]], marker=".", linestyle="--",
                    color=line.get_color(), label=s["name"] + " (client and server free to use all cores)")
    ax.set_xlabel(f"recall@{result['k']}")
    ax.set_ylabel("queries per second (1 client" + (", one core)" if result.get("one_core") else ")"))
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    ax.set_title(f"{result['scenario']}: {result['dataset']['name']}")
    fig.savefig(path, dpi=110, bbox_inches="tight")
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
    p.add_argument("--seconds", type=int, default=2,
                   help="length of one timed pass (pgbench -T; libraries loop the queries as long)")
    p.add_argument("--clients", type=int, default=os.cpu_count() or 2, help="pgbench clients for the N-client QPS")
    p.add_argument("--pin-cpu", type=int,
                   help="run one-client passes and libraries on this CPU (client, server and library "
                        "share it; default the last CPU, for scenario table -1); -1: do not pin")
    p.add_argument("--table", default="items", help="the table (scenario table: yours)")
    p.add_argument("--column", default="embedding", help="its vector column")
    p.add_argument("--id-column", default="id", help="its key column (integer)")
    p.add_argument("--index", help="scenario table: the index to measure (default: the first hnsw "
                   "or ivfpq index on --column)")
    p.add_argument("--dbname", default="vxbench")
    p.add_argument("--data-dir")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--replot", metavar="JSON", help="only redraw the table and plot of a result file")
    args = p.parse_args()
    if args.replot:
        with open(args.replot) as f:
            result = json.load(f)
        stem = args.replot[:-len(".json")]
        with open(stem + ".md", "w") as f:
            f.write(markdown(result))
        print(plot(result, stem + ".png"))
        return
    if args.scenario == "list":
        for name, (fn, dsname, _) in SCENARIOS.items():
            print(f"{name:12s} {dsname:15s} {fn.__doc__.split(chr(10))[0]}")
        return
    if args.pin_cpu is None:
        args.pin_cpu = -1 if args.scenario == "table" else (os.cpu_count() or 1) - 1
    fn, dsname, defaults = SCENARIOS[args.scenario]
    for key, val in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, val)
    args._loaded = {}
    args._queries_loaded = False
    if args.scenario == "table":
        # a user's own table, on the server PG* names: read-only
        conn = connect(args.dbname)
        found = find_index(conn, args)
        ds = TableDataset(conn, args, found["metric"])
        sysdefs = scenario_table(ds, args, found)
    else:
        ds = load_dataset(args.dataset or dsname, args)
        conn = prepare_db(args.dbname)
        sysdefs = fn(ds, args)
    cur = conn.cursor()
    cur.execute("SELECT version(), vectorx_simd(), current_setting('huge_pages'), current_setting('shared_buffers')")
    server, simd, huge, sb = cur.fetchone()
    huge = huge == "on" and os.environ.get("VX_BENCH_HUGEPAGES") == "1"
    result = dict(scenario=args.scenario, date=datetime.datetime.now().isoformat(timespec="seconds"),
                  server=server.split(" on ")[0], simd=simd, huge_pages=huge, shared_buffers=sb,
                  k=args.k, queries=args.queries, seconds=args.seconds,
                  repeat=args.repeat, dataset=dict(name=ds.name, rows=len(ds.base), dim=ds.dim,
                                                    metric=ds.metric), systems=[])
    affinity = Affinity(conn, args.pin_cpu) if args.pin_cpu >= 0 else None
    result["floor_qps"] = floor(args, affinity)
    result["one_core"] = affinity is not None
    print(f"round trip floor (SELECT 1, one client): {result['floor_qps']} QPS", flush=True)
    sql = [d for d in sysdefs if isinstance(d, dict) and d.get("kind") not in PREPARERS]
    # one database system with libraries: measure them side by side;
    # several database systems share the table: one after the other, unless
    # the scenario groups them (lists: each a database system and libraries)
    if args.scenario == "filtered":
        result["filtered"] = run_filtered(conn, ds, args, affinity)
        groups = []
    elif isinstance(sysdefs[0], list):
        groups = sysdefs
    else:
        groups = [sysdefs] if len(sql) <= 1 else [[d] for d in sysdefs]
    for group in groups:
        sweeps = []
        for sysdef in group:
            print(f"- {sysdef['name']}", flush=True)
            if sysdef.get("kind") in PREPARERS:
                sweeps.append(PREPARERS[sysdef["kind"]](ds, sysdef, args))
            else:
                sweeps.append(prepare_sql_system(conn, ds, sysdef, args))
            result["systems"].append(sweeps[-1].res)
        print("- sweep: " + ", ".join(d["name"] for d in group), flush=True)
        sweep(sweeps, args, affinity)
        for sysdef, sw in zip(group, sweeps):
            if isinstance(sw, SqlSweep):
                finish_sql_system(conn, ds, sysdef, args, sw.res)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{args.scenario}-{ds.name}" + ("-hugepages" if huge else ""))
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
