#!/usr/bin/env bash
# Downloads the four official MNIST files into data/mnist/ (or $1) and checks
# their MD5 sums. Files already present with the right sum are kept; a file
# whose sum is wrong is deleted. Needs curl or wget, and md5sum.
#
# Usage: scripts/download-mnist.sh [DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here/../data/mnist}"

mirrors=(
  "https://ossci-datasets.s3.amazonaws.com/mnist"
  "https://storage.googleapis.com/cvdf-datasets/mnist"
)

# file -> expected md5
declare -A md5=(
  [train-images-idx3-ubyte.gz]=f68b3c2dcbeaaa9fbdd348bbdeb94873
  [train-labels-idx1-ubyte.gz]=d53e105ee54ea40749a09fcbcd1e9432
  [t10k-images-idx3-ubyte.gz]=9fb629c4189551a2d022fa330f9573f3
  [t10k-labels-idx1-ubyte.gz]=ec29112dd5afa0611ce80d1b7f02629c
)
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
       t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

name=download-mnist
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fetch.sh"

mkdir -p "$dest" || die "cannot create $dest"
failed=()
for f in "${files[@]}"; do
  out="$dest/$f"
  if sum_ok "$out" "${md5[$f]}"; then
    echo "download-mnist: $f is already there"
    continue
  fi
  got=0
  for m in "${mirrors[@]}"; do
    if fetch_checked "$m/$f" "$out" "${md5[$f]}"; then
      got=1
      break
    fi
  done
  ((got)) || failed+=("$f")
done

if ((${#failed[@]})); then
  die "failed: ${failed[*]} (no mirror gave a file with the expected MD5 sum; are you online?)"
fi
echo "download-mnist: all four files are in $dest"
