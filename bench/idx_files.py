"""IDX files for the benchmark scripts: finding them (raw or gzip) and
reading their bytes and header. No numpy or torch, so idx_subset.py can run
before python3-torch is installed."""
import gzip
import os


def find(directory, stem):
    """DIR/STEM or DIR/STEM.gz, whichever exists."""
    for suffix in ("", ".gz"):
        path = os.path.join(directory, stem + suffix)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{directory}: no {stem}[.gz]")


def read(path):
    """The whole (decompressed) file."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        return f.read()


def dims(data):
    """The dimensions in an unsigned-byte IDX header, and the data offset."""
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file")
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return shape, 4 + 4 * ndim
