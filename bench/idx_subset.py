"""Writes a smaller copy of an IDX dataset directory for `bench/run.sh --quick`:
the first N training images and labels (gzip), and links to the full test
split, under the usual names so that soma and torch_lenet.py both read it.

usage: idx_subset.py SRC_DIR DST_DIR N
"""
import gzip
import os
import sys


def find(directory, stem):
    for suffix in ("", ".gz"):
        path = os.path.join(directory, stem + suffix)
        if os.path.exists(path):
            return path
    raise SystemExit(f"idx_subset.py: {directory}: no {stem}[.gz]")


def read(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        return f.read()


def head(data, n):
    """The first n items of an IDX file, header count rewritten."""
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    if n > dims[0]:
        raise SystemExit(f"idx_subset.py: asked for {n} items, the file has {dims[0]}")
    item = 1
    for d in dims[1:]:
        item *= d
    header = data[:4] + n.to_bytes(4, "big") + data[8:4 + 4 * ndim]
    start = 4 + 4 * ndim
    return header + data[start:start + n * item]


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(dst, exist_ok=True)
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        with gzip.open(os.path.join(dst, f"train-{kind}.gz"), "wb", compresslevel=1) as f:
            f.write(head(read(find(src, f"train-{kind}")), n))
        test = find(src, f"t10k-{kind}")
        link = os.path.join(dst, os.path.basename(test))
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.abspath(test), link)


if __name__ == "__main__":
    main()
