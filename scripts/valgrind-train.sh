#!/usr/bin/env bash
# A short training run under valgrind memcheck: no leaks, no invalid access.
# Usage: scripts/valgrind-train.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scripts/make-tiny-mnist.sh "$tmp/data" 128
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect --quiet \
  "$build"/soma train lenet5-bn --data "$tmp/data" --epochs 2 --batch 32 --val-split 0.25 \
  --threads 1 --out "$tmp/run" --quiet
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --show-leak-kinds=definite,indirect --quiet \
  "$build"/soma eval "$tmp/run/last.safetensors" --data "$tmp/data" --threads 1
echo "valgrind: clean"
