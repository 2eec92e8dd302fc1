#!/usr/bin/env bash
# What a second thread gains against the batch size: one LeNet-5 training
# epoch of bench/run.sh's recipe (its batch replaced) on 1 thread (pinned to
# CPU 0) and on 2 threads in turn, and per batch size the medians and the
# median and range of the pairs' 2-thread / 1-thread ratios. A sliced step
# pays for its threads' meeting and for the weights and gradients crossing
# cores once a step, whatever the batch; a larger batch spreads that cost
# over more images (docs/design.md, threads).
#
# usage: bench/batch-scaling.sh [--batches "64 128 256 512"] [--pairs N] [--data DIR] [--soma BIN]
#   --batches  the batch sizes, in one argument (default "64 128 256 512")
#   --pairs    epoch pairs per batch size (default 6; about 3 s a pair)
#   --data     an MNIST-format directory (default: Fashion-MNIST's Debian package)
#   --soma     the soma binary (default: build/soma beside this script)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BATCHES="64 128 256 512" PAIRS=6 DATA=/usr/share/datasets/fashion-mnist SOMA=$here/../build/soma
while [[ $# -gt 0 ]]; do
    case "$1" in
        --batches) BATCHES=${2?--batches needs a list}; shift ;;
        --pairs) PAIRS=${2:?--pairs needs a number}; shift ;;
        --data) DATA=${2:?--data needs a directory}; shift ;;
        --soma) SOMA=${2:?--soma needs a binary}; shift ;;
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        *) echo "batch-scaling: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
read -r -a batches <<<"$BATCHES"
(( ${#batches[@]} > 0 )) || { echo "batch-scaling: --batches is empty" >&2; exit 2; }
for b in "${batches[@]}" "$PAIRS"; do
    [[ $b =~ ^[1-9][0-9]*$ ]] ||
        { echo "batch-scaling: '$b' is not a positive integer (--batches, --pairs)" >&2; exit 2; }
done
[[ -x $SOMA ]] || { echo "batch-scaling: no soma binary at $SOMA" >&2; exit 2; }
[[ -d $DATA ]] || { echo "batch-scaling: no dataset at $DATA" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=bench/recipe.sh
source "$here/recipe.sh"

# images/s of one epoch: THREADS BATCH (the later --batch wins over the recipe's)
epoch() {
    local pin=()
    (( $1 == 1 )) && pin=(taskset -c 0)
    rm -rf "$work/out"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${pin[@]}" "$SOMA" train lenet5 --data "$DATA" \
        "${RECIPE[@]}" --batch "$2" --threads "$1" --out "$work/out" >/dev/null 2>"$work/err" ||
        { echo "batch-scaling: soma failed: $(tail -1 "$work/err")" >&2; exit 1; }
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['images_per_second'])" \
        "$work/out/summary.json"
}

echo "LeNet-5, one epoch of bench/run.sh's recipe per run, $PAIRS pairs per batch size, $(date -u '+%F %H:%M UTC')"
for b in "${batches[@]}"; do
    for ((i = 0; i < PAIRS; i++)); do
        one=$(epoch 1 "$b")
        two=$(epoch 2 "$b")
        echo "$b $one $two" >>"$work/rows"
    done
done
python3 -c '
import collections, statistics, sys
runs = collections.OrderedDict()
for line in sys.stdin:
    batch, one, two = line.split()
    runs.setdefault(batch, []).append((float(one), float(two)))
print("| batch | 1 thread img/s | 2 threads img/s | 2 threads / 1 thread (range) |")
print("| ---: | ---: | ---: | ---: |")
for batch, pairs in runs.items():
    ratios = sorted(two / one for one, two in pairs)
    print("| %s | %s | %s | %.2fx (%.2fx to %.2fx) |" % (
        batch, format(round(statistics.median(p[0] for p in pairs)), ","),
        format(round(statistics.median(p[1] for p in pairs)), ","),
        statistics.median(ratios), ratios[0], ratios[-1]))' <"$work/rows"
