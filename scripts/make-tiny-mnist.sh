#!/usr/bin/env bash
# Writes the first N images and labels of the MNIST training subset as raw IDX
# files into DIR (for quick runs under valgrind and in tests).
# Usage: scripts/make-tiny-mnist.sh DIR [N]   (N <= 10000, default 256)
set -eu  # no pipefail: head closes the gzip pipes early on purpose
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
n=${2:-256}
mkdir -p "$dir"
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
{ printf '\x00\x00\x08\x03'; be32 "$n"; be32 28; be32 28
  gzip -dc "$root/data/mnist/train10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784)); } \
  > "$dir/train-images-idx3-ubyte"
{ printf '\x00\x00\x08\x01'; be32 "$n"
  gzip -dc "$root/data/mnist/train10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$n"; } \
  > "$dir/train-labels-idx1-ubyte"
# the same images serve as a tiny test split
cp "$dir/train-images-idx3-ubyte" "$dir/t10k-images-idx3-ubyte"
cp "$dir/train-labels-idx1-ubyte" "$dir/t10k-labels-idx1-ubyte"
