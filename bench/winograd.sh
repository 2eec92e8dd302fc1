#!/usr/bin/env bash
# Winograd F(4x4, 3x3) against the algorithm soma would run without it, per
# 3x3 layer shape of the BN-CNN, vgg-small and AlexNet (bench/kernels/conv_bench,
# one thread, the best of N runs of each), then whole models through
# `soma bench` with SOMA_CONV_ALGO=direct (no Winograd) and the default,
# alternating. Every process is pinned with taskset to as many CPUs as it
# has threads (unpinned, one run's threads may share a CPU while another's
# do not). Prints markdown; ratios > 1 mean Winograd is faster.
#
# usage: bench/winograd.sh [N] [BUILD_DIR]   (N: runs per measurement, default 3;
#        BUILD_DIR: a Release build, default build)
# WINOGRAD_LAYERS and WINOGRAD_MODELS ("model batch,model batch") narrow it down.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-3}
BUILD=${2:-$ROOT/build}
die() { echo "bench/winograd.sh: $1" >&2; exit "${2:-1}"; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number" 2
BENCH=$BUILD/bench/kernels/conv_bench SOMA=$BUILD/soma
[[ -x $BENCH && -x $SOMA ]] || die "build soma first (no $BENCH or $SOMA)"
LAYERS=${WINOGRAD_LAYERS:-"bn2 bn3 bn4 vgg2 vgg3 vgg4 vgg5 vgg6 alex3 alex4g alex5g"}
MODELS=${WINOGRAD_MODELS:-"vgg-small 64,bench-bn-cnn 64,alexnet 8,alexnet 32"}

# conv_bench's lines to a table row per layer: the ratio, per pass, of the time
# of the algorithm chosen by shape to Winograd's
TABLE='
function flush() {
    if (layer != "")
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", layer, shape, fixed,
               r["forward"], r["dx"] r["dx+dw"], r["dw"], pick
}
/^[a-z]/ {
    flush(); layer = $1; shape = $3 " " $4 " " $5; split("", r); split("", t)
    for (i = 1; i <= NF; i++) {
        if ($i == "auto:") pick = $(i + 1)
        if ($i == "shape:") fixed = $(i + 1)
    }
    split(fixed, f, "/")
    want["forward"] = f[1]; want["dx"] = f[2]; want["dx+dw"] = f[2]; want["dw"] = f[3]
    next
}
/ms/ {
    t[$1 " " $2] = $3
    if ((($1 " winograd") in t) && (($1 " " want[$1]) in t))
        r[$1] = sprintf("%.2f", t[$1 " " want[$1]] / t[$1 " winograd"])
}
END { flush() }'

echo "## Winograd per layer, 1 thread (best of $N; time of the algorithm by shape / Winograd's)"
echo
for cpu in native generic; do
    env=(env OMP_NUM_THREADS=1)
    [[ $cpu == generic ]] && env+=(SOMA_CPU=generic)
    env+=(taskset -c 0)
    echo "### kernels: $cpu"
    echo
    echo "| layer | shape | by shape (fwd/dx/dw) | forward | dx | dw | rule picks |"
    echo "| --- | --- | --- | ---: | ---: | ---: | --- |"
    # shellcheck disable=SC2086
    "${env[@]}" sh "$ROOT/bench/kernels/best_of.sh" "$N" "$BENCH" $LAYERS | awk "$TABLE"
    echo
done

echo "## Whole models, images/s (soma bench, median of $N alternating runs each)"
echo
echo "| model | batch | threads | without Winograd | default | ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
# the first images/s figure `soma bench` prints (training), without its
# thousands separators (sort -g and awk would read "1,209" as 1)
rate() {
    "$@" 2>/dev/null |
        awk '/img\/s/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "img/s") { gsub(",", "", $i); print $i; exit } }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
IFS=, read -r -a specs <<<"$MODELS"
for spec in "${specs[@]}"; do
    read -r model batch <<<"$spec"
    for t in 1 2; do
        a=() b=()
        args=(bench "$ROOT/models/$model.cfg" --training --batch "$batch" --threads "$t")
        pin=(taskset -c "$(seq -s, 0 $((t - 1)))")
        for _ in $(seq "$N"); do
            a+=("$(rate env SOMA_CONV_ALGO=direct "${pin[@]}" "$SOMA" "${args[@]}")")
            b+=("$(rate "${pin[@]}" "$SOMA" "${args[@]}")")
        done
        ma=$(printf '%s\n' "${a[@]}" | median) mb=$(printf '%s\n' "${b[@]}" | median)
        ratio=$(awk -v a="$ma" -v b="$mb" \
            'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
        echo "| $model | $batch | $t | $ma | $mb | $ratio |"
    done
done
