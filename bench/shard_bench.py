#!/usr/bin/python3
"""bench/shard_bench.py: the `sharded` scenario of bench/run.

Sharded k-NN on postgres_fdw (src/planner/shard.h) against single-node
vectorx, in one run on this machine.  bench/run sharded starts a
coordinator cluster and up to 8 shard clusters (unix sockets: loopback)
and passes the shards as VX_SHARDS="socketdir:port,...".

For each dataset (Fashion-MNIST 60000 x 784 with HNSW in every shard, and
a seeded synthetic 1M x 128 with IVF-PQ in every shard: the hybrid
layout):
  - single node: the whole table and one index on the coordinator;
  - hash sharding over 1, 2, 4 and 8 shards (PARTITION BY HASH (id), rows
    loaded through the coordinator), each shard with its own index of the
    same kind (IVF-PQ: the single node's lists divided among the shards);
    measured with vectorx's pushdown on and off (PostgreSQL's own plan);
  - cluster sharding over the most shards (a routing of 4 cells per shard,
    cells balanced over the shards by the training sample's counts),
    measured against vectorx.shard_probes: the fan-out curve.
For each: recall@10 against exact ground truth, QPS (one client, prepared
statement, median of passes), p50/p99 latency, rows the shards sent and
shards contacted per query (EXPLAIN ANALYZE of a sample of the queries),
load and index build time.  Writes a markdown table, a JSON file and a PNG
plot per dataset under --out.
"""
import argparse
import json
import os
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vxbench as vb  # noqa: E402


def connect(dbname, host=None, port=None):
    import psycopg2
    kw = dict(dbname=dbname)
    if host:
        kw.update(host=host, port=port)
    c = psycopg2.connect(**kw)
    c.autocommit = True
    return c


FETCH_SIZE = 100  # postgres_fdw's default fetch_size, which the layouts keep


def plan_verbose(cur, q):
    cur.execute("EXPLAIN (VERBOSE, COSTS OFF) EXECUTE knn(%s)", (q,))
    return "\n".join(r[0] for r in cur.fetchall())


def shard_list():
    s = os.environ.get("VX_SHARDS", "")
    out = []
    for item in filter(None, s.split(",")):
        host, port = item.rsplit(":", 1)
        out.append((host, int(port)))
    if not out:
        sys.exit("VX_SHARDS is empty: run through bench/run sharded")
    return out


def fresh_db(host, port, db):
    c = connect("postgres", host, port)
    c.cursor().execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    c.cursor().execute(f"CREATE DATABASE {db}")
    c.close()
    c = connect(db, host, port)
    c.cursor().execute("CREATE EXTENSION vectorx")
    return c


INDEX = {
    # kind: (index DDL for a table holding `share` of the rows, session setting, setting value)
    "hnsw": (lambda t, share: f"CREATE INDEX ON {t} USING hnsw (embedding) WITH (m = 16, ef_construction = 64)",
             "hnsw.ef_search", 40),
    "ivfpq": (lambda t, share: f"CREATE INDEX ON {t} USING ivfpq (embedding) WITH (lists = {max(16, round(1000 * share))}, m = 32)",
              "ivfpq.probes", 8),
}


class Bench:
    def __init__(self, args, ds, kind):
        self.args, self.ds, self.kind = args, ds, kind
        self.shards = shard_list()
        self.db = "shardbench"
        self.qtext = [vb.vec_text(q) for q in ds.queries[:args.queries]]
        self.truth = ds.gt_ids[:args.queries, :args.k]

    # --- layout -------------------------------------------------------
    def coordinator(self):
        # the database preloads vectorx in each session (setup_coordinator)
        return connect(self.db)

    def setup_coordinator(self):
        c = connect("postgres")
        c.cursor().execute(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        c.cursor().execute(f"CREATE DATABASE {self.db}")
        c.cursor().execute(f"ALTER DATABASE {self.db} SET session_preload_libraries = 'vectorx'")
        c.close()
        c = connect(self.db)
        cur = c.cursor()
        cur.execute("CREATE EXTENSION vectorx")
        cur.execute("CREATE EXTENSION postgres_fdw")
        t = vb.load_table(cur, "items", self.ds)
        print(f"  loaded {len(self.ds.base)} rows on the coordinator in {t:.1f} s", flush=True)
        c.close()

    def layout(self, n, mode, cells_of=None):
        """n shards; mode 'hash' or 'cluster' (cells_of[i]: shard i's cells)"""
        c = connect(self.db)
        cur = c.cursor()
        cur.execute("DROP TABLE IF EXISTS sitems")
        for i in range(len(self.shards)):
            cur.execute(f"DROP SERVER IF EXISTS s{i} CASCADE")
        setting, value = INDEX[self.kind][1:]
        for i in range(n):
            host, port = self.shards[i]
            sc = fresh_db(host, port, self.db)
            sc.cursor().execute(f"CREATE TABLE items (id int PRIMARY KEY, label int, embedding vector({self.ds.dim}))")
            sc.close()
            cur.execute(f"CREATE SERVER s{i} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{host}', port '{port}', "
                        f"dbname '{self.db}', extensions 'vectorx', async_capable 'true', batch_size '1000', "
                        f"options '-c {setting}={value}')")
            cur.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER s{i}")
        if mode == "hash":
            cur.execute(f"CREATE TABLE sitems (id int, label int, embedding vector({self.ds.dim})) PARTITION BY HASH (id)")
            for i in range(n):
                cur.execute(f"CREATE FOREIGN TABLE sitems_{i} PARTITION OF sitems FOR VALUES WITH (MODULUS {n}, REMAINDER {i}) "
                            f"SERVER s{i} OPTIONS (table_name 'items')")
        else:
            cur.execute(f"CREATE TABLE sitems (id int, label int, embedding vector({self.ds.dim})) "
                        f"PARTITION BY LIST (vectorx_shard_cell(embedding, 'bench'))")
            for i in range(n):
                cur.execute(f"CREATE FOREIGN TABLE sitems_{i} PARTITION OF sitems FOR VALUES IN "
                            f"({','.join(map(str, cells_of[i]))}) SERVER s{i} OPTIONS (table_name 'items')")
        t = time.perf_counter()
        cur.execute("INSERT INTO sitems SELECT * FROM items")
        load_s = time.perf_counter() - t
        c.close()
        builds = []
        for i in range(n):
            host, port = self.shards[i]
            sc = connect(self.db, host, port)
            scur = sc.cursor()
            scur.execute("SET maintenance_work_mem = '1GB'")
            t = time.perf_counter()
            scur.execute(INDEX[self.kind][0]("items", 1.0 / n))
            builds.append(time.perf_counter() - t)
            scur.execute("VACUUM ANALYZE items")
            scur.execute("SELECT pg_indexes_size('items')")
            sc.close()
        print(f"  {mode} x{n}: load through the coordinator {load_s:.1f} s, index builds {sum(builds):.1f} s "
              f"(largest shard {max(builds):.1f} s)", flush=True)
        return dict(load_s=round(load_s, 2), build_total_s=round(sum(builds), 2), build_max_s=round(max(builds), 2))

    def train_cells(self, n):
        """a routing of 4 cells per shard; cells to shards largest first, each to the lightest shard"""
        c = connect(self.db)
        cur = c.cursor()
        cur.execute("DELETE FROM vectorx_shard_routing WHERE name = 'bench'")
        t = time.perf_counter()
        cur.execute("SELECT vectorx_shard_train('bench', 'SELECT embedding FROM items', %s, 'l2', 50000)", (4 * n,))
        train_s = time.perf_counter() - t
        cur.execute("SELECT sample_counts FROM vectorx_shard_routing WHERE name = 'bench'")
        counts = cur.fetchone()[0]
        c.close()
        load = [0] * n
        cells = [[] for _ in range(n)]
        for cell in sorted(range(len(counts)), key=lambda x: (-counts[x], x)):
            s = min(range(n), key=lambda x: (load[x], x))
            cells[s].append(cell)
            load[s] += counts[cell]
        return cells, round(train_s, 2)

    # --- measurement -------------------------------------------------
    def measure(self, table, gucs=(), nq=None, repeat=None):
        args = self.args
        nq = nq or args.queries
        qtext, truth = self.qtext[:nq], self.truth[:nq]
        c = self.coordinator()
        cur = c.cursor()
        for g in gucs:
            cur.execute(g)
        cur.execute(f"PREPARE knn(vector) AS SELECT id FROM {table} ORDER BY embedding <-> $1 LIMIT {args.k}")
        for q in self.qtext[:args.warmup]:
            cur.execute("EXECUTE knn(%s)", (q,))
            cur.fetchall()
        results = None
        lat_runs = []
        for _ in range(repeat or args.repeat):
            out, lat = vb.timed(lambda q: (cur.execute("EXECUTE knn(%s)", (q,)), cur.fetchall())[1], qtext)
            lat_runs.append(lat)
            results = out
        found = [[r[0] for r in rows] for rows in results]
        recall = float(np.mean([len(set(f) & set(t.tolist())) / args.k for f, t in zip(found, truth)]))
        # rows sent by the shards and shards contacted, from EXPLAIN ANALYZE
        sent, contacted = [], []
        for q in qtext[:args.explain]:
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE knn(%s)", (q,))
            plan = "\n".join(r[0] for r in cur.fetchall())
            scans = re.findall(r"Foreign Scan on \S+(?: \S+)? \(actual rows=(\d+) loops=(\d+)\)", plan)
            # a cursor fetches FETCH_SIZE rows at a time: a scan that passed
            # r rows up received ceil(r / FETCH_SIZE) batches, unless its
            # remote LIMIT (pushdown) ended the result first
            limited = "LIMIT" in plan_verbose(cur, q)
            sent.append(sum(int(r) if limited else -(-max(int(r), 1) // FETCH_SIZE) * FETCH_SIZE
                            for r, lo in scans))
            contacted.append(len(scans))
        c.close()
        res = dict(recall=round(recall, 4), queries=nq, **vb.summarize(lat_runs, nq))
        if any(contacted):
            res.update(rows_sent=round(float(np.mean(sent)), 1), shards_contacted=round(float(np.mean(contacted)), 2))
        return res

    def run(self):
        args = self.args
        setting, value = INDEX[self.kind][1:]
        result = dict(scenario="sharded", dataset=dict(name=self.ds.name, rows=len(self.ds.base), dim=self.ds.dim),
                      index=self.kind, setting=f"{setting} = {value}", k=args.k, queries=args.queries,
                      repeat=args.repeat, started=time.strftime("%Y-%m-%dT%H:%M:%S"), rows=[])
        self.setup_coordinator()
        c = connect(self.db)
        cur = c.cursor()
        cur.execute("SET maintenance_work_mem = '2GB'")
        t = time.perf_counter()
        cur.execute(INDEX[self.kind][0]("items", 1.0))
        build = time.perf_counter() - t
        cur.execute("SELECT version()")
        result["server"] = cur.fetchone()[0]
        c.close()
        single = self.measure("items", [f"SET {setting} = {value}"])
        single.update(layout="single node", shards=1, build_total_s=round(build, 2), build_max_s=round(build, 2))
        result["rows"].append(single)
        print(f"  single node: {single}", flush=True)

        counts = [n for n in args.shards if n <= len(self.shards)]
        for n in counts:
            info = self.layout(n, "hash")
            on = self.measure("sitems")
            on.update(layout="hash", shards=n, pushdown=True, **info)
            # PostgreSQL's own plan sorts every shard's rows: fewer queries, one pass
            off = self.measure("sitems", ["SET vectorx.shard_pushdown = off"], args.off_queries, 1)
            off.update(layout="hash", shards=n, pushdown=False)
            result["rows"] += [on, off]
            print(f"  hash x{n}: pushdown on {on}\n           off {off}", flush=True)

        n = max(counts)
        cells, train_s = self.train_cells(n)
        info = self.layout(n, "cluster", cells)
        info["train_s"] = train_s
        for p in [x for x in (1, 2, 4, 8) if x <= n]:
            r = self.measure("sitems", [f"SET vectorx.shard_probes = {p}"])
            r.update(layout="cluster", shards=n, pushdown=True, probes=p, **info)
            result["rows"].append(r)
            print(f"  cluster x{n}, shard_probes {p}: {r}", flush=True)
        return result


def markdown(res):
    d = res["dataset"]
    lines = [f"## sharded: {d['name']} ({d['rows']} x {d['dim']}), {res['index']} in every shard ({res['setting']}), "
             f"{res['queries']} queries x {res['repeat']} passes, k={res['k']}",
             f"{res['started']}, {res['server']}; shards are PostgreSQL clusters on this machine (unix sockets); "
             "one Python client, prepared statement, query vector as a text parameter; medians of the passes "
             "(pushdown off: the first queries, one pass, column queries); "
             "rows sent and shards contacted from EXPLAIN ANALYZE of the first queries (rows sent: with a remote "
             "LIMIT the rows the shards returned, without it the batches of fetch_size 100 their cursors sent).", "",
             "| layout | shards | pushdown | shard_probes | queries | recall@10 | QPS | p50 ms | p99 ms | rows sent / query | shards contacted | load s | build s (sum / largest shard) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append("| " + " | ".join([
            r["layout"], str(r["shards"]), {True: "on", False: "off"}.get(r.get("pushdown"), "-"),
            str(r.get("probes", "-")), str(r.get("queries", "-")), f"{r['recall']:.4f}", f"{r['qps']:.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
            str(r.get("rows_sent", "-")), str(r.get("shards_contacted", "-")), str(r.get("load_s", "-")),
            f"{r['build_total_s']} / {r['build_max_s']}" if "build_total_s" in r and r.get("pushdown") is not False else "-"]) + " |")
    single = res["rows"][0]
    notes = []
    for r in res["rows"]:
        if r["layout"] == "hash" and r.get("pushdown"):
            off = next(o for o in res["rows"] if o["layout"] == "hash" and o["shards"] == r["shards"] and o.get("pushdown") is False)
            notes.append(f"- hash x{r['shards']}: pushdown on {r['qps'] / off['qps']:.2f}x the QPS of PostgreSQL's own plan "
                         f"({r['rows_sent']} rows sent per query against {off['rows_sent']}); "
                         f"{r['qps'] / single['qps']:.2f}x single node's QPS at recall {r['recall']:.4f} (single {single['recall']:.4f})")
    lines += [""] + notes
    return "\n".join(lines) + "\n"


def plot(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    rows = res["rows"]
    single = rows[0]
    for push, style in ((True, "o-"), (False, "s--")):
        h = [r for r in rows if r["layout"] == "hash" and r.get("pushdown") is push]
        a.plot([r["shards"] for r in h], [r["qps"] for r in h], style,
               label=f"hash, vectorx pushdown {'on' if push else 'off'}")
    a.axhline(single["qps"], color="grey", ls=":", label="single node")
    a.set_xlabel("shards")
    a.set_ylabel("QPS (one client)")
    a.set_xscale("log", base=2)
    a.legend()
    a.set_title("hash sharding")
    cl = [r for r in rows if r["layout"] == "cluster"]
    b.plot([r["probes"] for r in cl], [r["recall"] for r in cl], "o-", label="recall@10")
    b.set_xlabel("vectorx.shard_probes")
    b.set_ylabel("recall@10")
    b2 = b.twinx()
    b2.plot([r["probes"] for r in cl], [r["p50_ms"] for r in cl], "s--", color="tab:red", label="p50 ms")
    b2.set_ylabel("p50 ms")
    b.set_title(f"cluster sharding over {cl[0]['shards'] if cl else '?'} shards: fan-out")
    b.legend(loc="lower right")
    fig.suptitle(f"sharded: {res['dataset']['name']}, {res['index']} in every shard")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", default="fashion-mnist:hnsw,synth-1000000-128:ivfpq",
                   help="dataset:index pairs (index hnsw or ivfpq)")
    p.add_argument("--rows", type=int, help="use only the first ROWS base vectors")
    p.add_argument("--shards", default="1,2,4,8")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--off-queries", type=int, default=30, help="queries for the pushdown-off runs (one pass)")
    p.add_argument("--explain", type=int, default=20, help="queries run under EXPLAIN ANALYZE for rows sent")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--data-dir")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args()
    args.shards = [int(x) for x in args.shards.split(",")]
    os.makedirs(args.out, exist_ok=True)
    for item in args.datasets.split(","):
        name, kind = item.split(":")
        ds = vb.load_dataset(name, args)
        print(f"sharded: {ds.name}, {kind}", flush=True)
        res = Bench(args, ds, kind).run()
        base = os.path.join(args.out, f"sharded-{ds.name}")
        with open(base + ".json", "w") as f:
            json.dump(res, f, indent=1)
        with open(base + ".md", "w") as f:
            f.write(markdown(res))
        plot(res, base + ".png")
        print(markdown(res), flush=True)


if __name__ == "__main__":
    main()
