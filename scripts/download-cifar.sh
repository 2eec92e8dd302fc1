#!/usr/bin/env bash
# Downloads the official CIFAR-10 (or CIFAR-100) binary archive, checks its
# MD5 sum (the one published on https://www.cs.toronto.edu/~kriz/cifar.html)
# and unpacks the record files into data/cifar-10/ (or data/cifar-100/, or
# DIR). An archive with a wrong sum is deleted and nothing is unpacked.
# Needs curl or wget, md5sum and tar. soma never downloads anything itself.
#
# Usage: scripts/download-cifar.sh [10|100] [DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
which="${1:-10}"
case "$which" in
  10) archive=cifar-10-binary.tar.gz; sum=c32a1d4ab5d03f1284b67883e8d87530 ;;
  100) archive=cifar-100-binary.tar.gz; sum=03b5dce01913d631647c71ecec9e9cb8 ;;
  *) echo "usage: scripts/download-cifar.sh [10|100] [DIR]" >&2; exit 2 ;;
esac
dest="${2:-$here/../data/cifar-$which}"
url="https://www.cs.toronto.edu/~kriz/$archive"

name=download-cifar
source "$here/lib/fetch.sh"

mkdir -p "$dest" || die "cannot create $dest"
out="$dest/$archive"
if ! sum_ok "$out" "$sum"; then
  fetch_checked "$url" "$out" "$sum" || die "no $archive with the expected MD5 sum (are you online?)"
fi
# the archive holds one folder (cifar-10-batches-bin/ or cifar-100-binary/)
tar -xzf "$out" -C "$dest" --strip-components=1 || die "cannot unpack $out"
echo "download-cifar: CIFAR-$which is in $dest (soma train --data $dest, or --data cifar-$which)"
