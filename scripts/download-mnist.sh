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

die() { echo "download-mnist: $*" >&2; exit 1; }

command -v md5sum >/dev/null || die "md5sum is missing (apt-get install coreutils)"
if command -v curl >/dev/null; then
  fetch() { curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
  fetch() { wget -q --tries=3 --timeout=20 -O "$2" "$1"; }
else
  die "neither curl nor wget is installed (apt-get install curl)"
fi

sum_ok() { [[ -f "$1" && "$(md5sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

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
    echo "download-mnist: fetching $m/$f"
    if fetch "$m/$f" "$out.part"; then
      if sum_ok "$out.part" "${md5[$f]}"; then
        mv -f "$out.part" "$out"
        got=1
        break
      fi
      echo "download-mnist: $f from $m has the wrong MD5 sum; deleted it" >&2
    else
      echo "download-mnist: could not fetch $m/$f" >&2
    fi
    rm -f "$out.part"
  done
  ((got)) || failed+=("$f")
done

if ((${#failed[@]})); then
  die "failed: ${failed[*]} (no mirror gave a file with the expected MD5 sum; are you online?)"
fi
echo "download-mnist: all four files are in $dest"
