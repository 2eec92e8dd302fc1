#!/usr/bin/env bash
# Where a second thread's time goes: one LeNet-5 epoch (bench/run.sh's
# recipe) on 1 thread (CPU 0) and on 2 threads (CPUs 0 and 1) under
# `perf record`, and the CPU samples of each function during the epoch
# (from the first to the last sample of dataset_gather: loading and the
# test pass left out). Samples are CPU time, so a function's 2-thread count
# above its 1-thread count is what the second thread costs beyond its
# share; `total` gives the CPU time per image of 2 threads against 1. Run it
# on an otherwise idle machine; it takes about 10 seconds.
#
# usage: bench/thread-cost.sh [--data DIR] [--soma BIN] [--top N]
#   --data   an MNIST-format directory (default: Fashion-MNIST's Debian
#            package, else the repo's MNIST subset)
#   --soma   the soma binary (default: build/soma)
#   --top    rows of the difference to print (default 20)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=/usr/share/datasets/fashion-mnist SOMA=$ROOT/build/soma TOP=20
[[ -d $DATA ]] || DATA=$ROOT/data/mnist
while [[ $# -gt 0 ]]; do
    case "$1" in
        --data) DATA=${2:?}; shift ;;
        --soma) SOMA=${2:?}; shift ;;
        --top) TOP=${2:?}; shift ;;
        -h|--help) sed -n 2,15p "$0"; exit 0 ;;
        *) echo "thread-cost: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done
command -v perf >/dev/null || { echo "thread-cost: needs perf (apt-get install linux-perf)" >&2; exit 2; }
[[ -x $SOMA ]] || { echo "thread-cost: no soma at $SOMA (build it first)" >&2; exit 2; }
(( $(nproc) >= 2 )) || { echo "thread-cost: needs 2 CPUs" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# as bench/run.sh: its recipe, and OpenBLAS choosing its own kernels
# shellcheck source=bench/recipe.sh
source "$ROOT/bench/recipe.sh"
for t in 1 2; do
    cpus=0 && (( t == 2 )) && cpus=0,1
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE perf record -q -o "$work/t$t.data" -F 5000 -- \
        taskset -c $cpus "$SOMA" train lenet5 --data "$DATA" "${RECIPE[@]}" --threads $t \
        --out "$work/out$t" >/dev/null 2>"$work/err$t" ||
        { echo "thread-cost: the $t-thread run failed: $(tail -1 "$work/err$t")" >&2; exit 1; }
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(sys.argv[2], 'thread(s):', round(s['images_per_second']), 'img/s')" \
        "$work/out$t/summary.json" $t
    window=$(perf script -i "$work/t$t.data" -F time,ip,sym 2>/dev/null |
             awk '$3 == "dataset_gather" { t = $1; sub(":", "", t); if (!f) f = t; l = t }
                  END { if (f) print f "," l }')
    [[ -n $window ]] || { echo "thread-cost: no samples in dataset_gather (perf too coarse?)" >&2; exit 1; }
    # unnamed addresses (a stripped libgomp: its threads waiting) go under their library
    perf report -i "$work/t$t.data" --stdio -n -s dso,sym --time "$window" 2>/dev/null |
        awk '!/^#/ && NF >= 5 { sym = $5; if (sym ~ /^0x/) sym = $3 "(unnamed)"; n[sym] += $2 }
             END { for (s in n) print s, n[s] }' | sort >"$work/t$t.txt"
done
echo
join -a1 -a2 -e 0 -o 0,1.2,2.2 "$work/t1.txt" "$work/t2.txt" |
    awk '{ print $3 - $2, $0 }' | sort -n -r |
    awk -v top="$TOP" 'BEGIN { printf "%-44s %9s %9s %9s\n", "function", "1 thread", "2 threads", "extra" }
         { a += $3; b += $4 }
         NR <= top { printf "%-44s %9d %9d %+9d\n", $2, $3, $4, $1 }
         END { printf "%-44s %9d %9d %+9d  (2 threads: %.2fx the CPU time)\n", "total", a, b, b - a, b / a }'
