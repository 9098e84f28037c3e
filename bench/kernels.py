#!/usr/bin/python3
"""bench/kernels.py: the distance-kernel benchmark (`make bench-kernels`).

Runs bench/bench_kernels (one core: float32 L2 per variant and dimension,
cache- and memory-resident, sequential-read bandwidth, PQ ADC scan rates),
then measures Debian's faiss (python3-faiss, one thread) scanning the same
number of PQ codes with the same m and nbits, and prints a markdown table of
both with the ratios the targets are stated in.  --json FILE also saves the
raw figures.

faiss is measured through IndexPQ (8-bit) and IndexPQFastScan (4-bit)
searching 1M codes with k=1; its time includes building the lookup table
per query, which is negligible at this size.
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))


def run_c(binary):
    out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def faiss_rates(n=1 << 20, d=128, nq=20):
    import numpy as np
    try:
        import faiss
    except ImportError:
        return {}
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(1)
    train = rng.standard_normal((20000, d), dtype=np.float32)
    base = rng.standard_normal((n, d), dtype=np.float32)
    queries = rng.standard_normal((nq, d), dtype=np.float32)
    rates = {}
    for m in (8, 16, 64):
        for nbits in (8, 4):
            if nbits == 8:
                index = faiss.IndexPQ(d, m, 8)
            else:
                index = faiss.IndexPQFastScan(d, m, 4)
            index.train(train)
            index.add(base)
            index.search(queries[:2], 1)  # warm up
            best = []
            for _ in range(3):
                t = time.perf_counter()
                index.search(queries, 1)
                best.append(time.perf_counter() - t)
            rates[(m, nbits)] = n * nq / sorted(best)[1]
    rates["version"] = faiss.__version__
    return rates


def table(rows, frates):
    seq = [r["gbs"] for r in rows if r["what"] == "seqread"]
    seqbw = max(seq)
    l2 = {(r["variant"], r["dim"], r["resident"]): r for r in rows if r["what"] == "l2"}
    variants = []
    for r in rows:
        if r["what"] == "l2" and r["variant"] not in variants:
            variants.append(r["variant"])
    out = [f"Sequential-read bandwidth, one core: {seqbw:.1f} GB/s "
           f"(measured before and after: {', '.join(f'{s:.1f}' for s in seq)})", "",
           "| variant | dim | cache ns | cache GB/s | x scalar | memory ns | memory GB/s | % of seq. read |",
           "|---|---|---|---|---|---|---|---|"]
    for v in variants:
        for dim in sorted({k[1] for k in l2}):
            c, m = l2.get((v, dim, "cache")), l2.get((v, dim, "memory"))
            s = l2.get(("scalar", dim, "cache"))
            if not c:
                continue
            out.append(f"| {v} | {dim} | {c['ns']:.1f} | {c['gbs']:.1f} | {s['ns'] / c['ns']:.1f} | "
                       f"{m['ns']:.1f} | {m['gbs']:.1f} | {100 * m['gbs'] / seqbw:.0f}% |")
    out += ["", f"PQ ADC scan of 1M codes, codes/s (faiss {frates.get('version', 'not installed')}, one thread, "
            "same m and nbits; faiss 8-bit = IndexPQ with a float LUT, 4-bit = IndexPQFastScan):", "",
            "| variant | m | nbits | LUT | vectorx codes/s | faiss codes/s | x faiss |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["what"] != "pq":
            continue
        f = frates.get((r["m"], r["nbits"]))
        fs = f"{f / 1e6:.0f} M | {r['codes_per_s'] / f:.1f}" if f else "- | -"
        out.append(f"| {r['variant']} | {r['m']} | {r['nbits']} | {r['lut']} | {r['codes_per_s'] / 1e6:.0f} M | {fs} |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.path.join(HERE, "bench_kernels"))
    p.add_argument("--json", help="also write the raw figures here")
    p.add_argument("--no-faiss", action="store_true")
    a = p.parse_args()
    if not os.path.exists(a.binary):
        sys.exit(f"{a.binary} missing: run `make bench/bench_kernels` first")
    rows = run_c(a.binary)
    frates = {} if a.no_faiss else faiss_rates()
    print(table(rows, frates))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(kernels=rows, faiss={f"m{k[0]}_b{k[1]}": v for k, v in frates.items()
                                                 if isinstance(k, tuple)}), f, indent=1)


if __name__ == "__main__":
    main()
