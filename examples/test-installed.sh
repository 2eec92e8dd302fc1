#!/usr/bin/env bash
# CI for the install: installs BUILD_DIR to a temporary prefix, builds the
# examples against that install with pkg-config (libsoma.so) and with
# find_package (soma::soma and soma::soma_static), trains LeNet-5 for one
# epoch on the MNIST subset in data/mnist and classifies data/examples/digit-7.pgm
# with the checkpoint it wrote. Any failure fails the script.
#
# Usage: examples/test-installed.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: examples/test-installed.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/soma-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/soma lib/libsoma.a lib/libsoma.so lib/libsoma.so.0 include/soma.h \
         lib/pkgconfig/soma.pc lib/cmake/soma/somaConfig.cmake lib/cmake/soma/somaConfigVersion.cmake; do
  [[ -e "$prefix/$f" ]] || { echo "not installed: $f" >&2; exit 1; }
done
# The examples see the installed soma.h only: no -I into the source tree.
if grep -n '#include *"' "$root"/examples/*.c; then
  echo "the examples must include only <soma.h> and system headers" >&2
  exit 1
fi

echo "-- pkg-config (libsoma.so)"
mkdir "$work/pc"
PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -C "$root/examples" OUT="$work/pc" \
  CFLAGS="-O2 -std=c11 -Wall -Wextra -Werror"
echo "-- find_package (soma::soma and soma::soma_static)"
for linkage in OFF ON; do
  cmake -S "$root/examples" -B "$work/cm-$linkage" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DSOMA_EXAMPLES_STATIC=$linkage -DCMAKE_C_FLAGS=-Werror >/dev/null
  cmake --build "$work/cm-$linkage" >/dev/null
done
# The shared-library builds must use the installed libsoma.so.
for exe in "$work/pc/train_lenet5" "$work/cm-OFF/train_lenet5"; do
  lib=$(ldd "$exe" | awk '$1 == "libsoma.so.0" { print $3 }')
  [[ -n "$lib" && $(realpath "$lib") == $(realpath "$prefix/lib/libsoma.so.0") ]] ||
    { echo "$exe: not linked to the installed libsoma.so (${lib:-none})" >&2; exit 1; }
done

echo "-- train_lenet5, one epoch on data/mnist; classify data/examples/digit-7.pgm"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
for exe in "$work/pc" "$work/cm-ON"; do
  out=$("$exe/train_lenet5" "$root/data/mnist" 1 "$work/run")
  echo "$out" | tail -1
  grep -q '^test accuracy ' <<<"$out" || { echo "no test accuracy line" >&2; exit 1; }
done
for exe in "$work/pc" "$work/cm-OFF" "$work/cm-ON"; do
  out=$("$exe/classify" "$work/run/best.safetensors" "$root/data/examples/digit-7.pgm")
  echo "$out"
  grep -q ': class 7, probability ' <<<"$out" || { echo "digit-7.pgm not classified as 7" >&2; exit 1; }
done
"$prefix/bin/soma" info lenet5 >/dev/null
echo "install and examples: ok"
