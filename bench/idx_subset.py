"""Writes a smaller copy of an IDX dataset directory for `bench/run.sh --quick`:
the first N training images and labels (gzip), and links to the full test
split, under the usual names so that soma and torch_lenet.py both read it.

usage: idx_subset.py SRC_DIR DST_DIR N
"""
import gzip
import os
import sys

import idx_files


def head(data, n):
    """The first n items of an IDX file, header count rewritten."""
    shape, start = idx_files.dims(data)
    if n > shape[0]:
        raise SystemExit(f"idx_subset.py: asked for {n} items, the file has {shape[0]}")
    item = 1
    for d in shape[1:]:
        item *= d
    header = data[:4] + n.to_bytes(4, "big") + data[8:start]
    return header + data[start:start + n * item]


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(dst, exist_ok=True)
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        with gzip.open(os.path.join(dst, f"train-{kind}.gz"), "wb", compresslevel=1) as f:
            f.write(head(idx_files.read(idx_files.find(src, f"train-{kind}")), n))
        test = idx_files.find(src, f"t10k-{kind}")
        link = os.path.join(dst, os.path.basename(test))
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.abspath(test), link)


if __name__ == "__main__":
    try:
        main()
    except FileNotFoundError as e:
        raise SystemExit(f"idx_subset.py: {e}")
