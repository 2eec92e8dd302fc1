#!/usr/bin/env bash
# Two soma binaries, one LeNet-5 training epoch each in turn (bench/run.sh's
# recipe, data loading included, which `soma bench` leaves out), and the
# ratio NEW/OLD of each pair: the median and quartiles of those ratios. On
# a shared machine a core's speed drifts by 20% from minute to minute;
# pairs seconds apart cancel most of it, and many pairs resolve a few percent.
#
# usage: bench/compare-epochs.sh OLD_SOMA NEW_SOMA [--pairs N] [--threads T] [--data DIR]
#   --pairs    epoch pairs (default 16; about 5 s a pair on 2 threads)
#   --threads  soma's --threads (default 1: pinned to CPU 0; otherwise not pinned)
#   --data     an MNIST-format directory (default: Fashion-MNIST's Debian package)
# Build OLD_SOMA from another revision without touching this checkout, e.g.
#   git archive OLD | tar -x -C /tmp/old && cmake -S /tmp/old -B /tmp/old/build \
#     -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build --target soma
set -euo pipefail
PAIRS=16 THREADS=1 DATA=/usr/share/datasets/fashion-mnist OLD='' NEW=''
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pairs) PAIRS=${2:?--pairs needs a number}; shift ;;
        --threads) THREADS=${2:?--threads needs a number}; shift ;;
        --data) DATA=${2:?--data needs a directory}; shift ;;
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        -*) echo "compare-epochs: unknown option '$1'" >&2; exit 2 ;;
        *) if [[ -z $OLD ]]; then OLD=$1; elif [[ -z $NEW ]]; then NEW=$1;
           else echo "compare-epochs: too many binaries" >&2; exit 2; fi ;;
    esac
    shift
done
[[ -n $OLD && -n $NEW ]] || { sed -n 8,11p "$0" >&2; exit 2; }
[[ $PAIRS =~ ^[1-9][0-9]*$ && $THREADS =~ ^[1-9][0-9]*$ ]] ||
    { echo "compare-epochs: --pairs and --threads take positive integers" >&2; exit 2; }
for bin in "$OLD" "$NEW"; do
    [[ -x $bin ]] || { echo "compare-epochs: no soma binary at $bin" >&2; exit 2; }
done
[[ -d $DATA ]] || { echo "compare-epochs: no dataset at $DATA" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# bench/run.sh's recipe; OpenBLAS picks its own kernels there too
# shellcheck source=bench/recipe.sh
source "$(dirname "${BASH_SOURCE[0]}")/recipe.sh"
PIN=()
(( THREADS == 1 )) && PIN=(taskset -c 0)

# images/s of one epoch of BIN
epoch() {
    rm -rf "$work/out"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${PIN[@]}" "$1" train lenet5 --data "$DATA" \
        "${RECIPE[@]}" --threads "$THREADS" --out "$work/out" >/dev/null 2>"$work/err" ||
        { echo "compare-epochs: $1 failed: $(tail -1 "$work/err")" >&2; exit 1; }
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['images_per_second'])" \
        "$work/out/summary.json"
}

for ((i = 0; i < PAIRS; i++)); do
    echo "$(epoch "$OLD") $(epoch "$NEW")"
done | python3 -c '
import statistics, sys
rows = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
ratios = [new / old for old, new in rows]
q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
print("%d pairs, %s thread(s): old %.0f img/s, new %.0f img/s (medians)" % (
    len(rows), sys.argv[1], statistics.median(r[0] for r in rows),
    statistics.median(r[1] for r in rows)))
print("new/old per pair: median %.3f (quartiles %.3f to %.3f)" % (
    statistics.median(ratios), q[0], q[2]))' "$THREADS"
