#!/usr/bin/python3
"""scripts/load_sample.py: print sample vectors as COPY text rows
"id<TAB>label<TAB>[v1,...]" on stdout, for the demo and the tests.

    load_sample.py fashion-mnist [--split train|test] [--limit N]
    load_sample.py synthetic --n 10000 --dim 128 [--seed 1]

Fashion-MNIST comes from Debian's dataset-fashion-mnist (60000 train and
10000 test images, 784 pixels 0..255, labels 0..9).  Synthetic vectors are
seeded Gaussian clusters (label = cluster), so every run prints the same rows.
Only the Python standard library is used.
"""
import argparse
import gzip
import os
import random
import sys

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def fashion_available():
    return os.path.exists(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"))


def fashion(split, limit):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(os.path.join(FASHION_DIR, f"{prefix}-images-idx3-ubyte.gz")) as f:
        images = f.read()
    with gzip.open(os.path.join(FASHION_DIR, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        labels = f.read()
    n = int.from_bytes(images[4:8], "big")
    dim = int.from_bytes(images[8:12], "big") * int.from_bytes(images[12:16], "big")
    n = min(n, limit) if limit else n
    out = sys.stdout
    for i in range(n):
        px = images[16 + i * dim:16 + (i + 1) * dim]
        out.write(f"{i}\t{labels[8 + i]}\t[{','.join(map(str, px))}]\n")


def synthetic(n, dim, seed, clusters=10):
    rnd = random.Random(seed)
    centres = [[rnd.gauss(0, 1) for _ in range(dim)] for _ in range(clusters)]
    out = sys.stdout
    for i in range(n):
        c = rnd.randrange(clusters)
        v = (x + 0.3 * rnd.gauss(0, 1) for x in centres[c])
        out.write(f"{i}\t{c}\t[{','.join(f'{x:.5g}' for x in v)}]\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    f = sub.add_parser("fashion-mnist")
    f.add_argument("--split", choices=["train", "test"], default="train")
    f.add_argument("--limit", type=int, default=0)
    s = sub.add_parser("synthetic")
    s.add_argument("--n", type=int, default=10000)
    s.add_argument("--dim", type=int, default=128)
    s.add_argument("--seed", type=int, default=1)
    sub.add_parser("has-fashion-mnist")
    a = p.parse_args()
    if a.what == "has-fashion-mnist":
        sys.exit(0 if fashion_available() else 1)
    if a.what == "fashion-mnist":
        fashion(a.split, a.limit)
    else:
        synthetic(a.n, a.dim, a.seed)


if __name__ == "__main__":
    main()
