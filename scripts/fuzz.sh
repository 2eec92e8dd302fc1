#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) and runs each for a
# bounded time over a scratch copy of its committed corpus (fuzz/corpus/NAME).
# Usage: scripts/fuzz.sh [SECONDS_EACH]   (default 20)
# A crash stops with the reproducer saved under build-fuzz/artifacts/; add it
# to tests as a regression case and to the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
CC=clang cmake -S . -B build-fuzz -DSOMA_FUZZ=ON -DSOMA_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(cd fuzz && ls fuzz_*.c | sed 's/\.c$//') >/dev/null
mkdir -p build-fuzz/artifacts
total=0
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  corpus=fuzz/corpus/${name#fuzz_}
  scratch=build-fuzz/corpus-${name#fuzz_}
  rm -rf "$scratch" && mkdir -p "$scratch"
  [[ -d "$corpus" ]] && cp "$corpus"/* "$scratch"/ 2>/dev/null || true
  log=build-fuzz/$name.log
  if ! build-fuzz/"$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=build-fuzz/artifacts/"$name"- -print_final_stats=1 "$scratch" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $name found a problem (see $log)"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  total=$((total + runs))
  printf 'fuzz: %-20s %10d executions in %ss, no findings\n' "$name" "$runs" "$seconds"
done
echo "fuzz: $total executions in total"
