#!/usr/bin/env bash
# `soma experiment batchnorm --quick`: the files (training curves, the loss
# landscape, gradient predictiveness and beta-smoothness at both learning
# rates, the CSVs) and the measurements behind them: each range is a range
# (min <= max), every run with BatchNorm stays finite at the high learning
# rate where the plain network's landscape is far rougher, and noisy BN
# trains without diverging.
# Run by CTest with SOMA_BIN and SOMA_SOURCE_DIR.
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
out=$tmp/exp
run experiment batchnorm --quick --out "$out" --threads 2
check "experiment ran (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
for f in bn_training bn_landscape_lr1 bn_landscape_lr2 bn_predictiveness_lr1 \
         bn_predictiveness_lr2 bn_smoothness_lr1 bn_smoothness_lr2; do
    for ext in svg png; do
        check "$f.$ext written" test -s "$out/$f.$ext"
    done
done
check "the landscape is drawn as shaded ranges" grep -q 'fill-opacity="0.25"' "$out/bn_landscape_lr2.svg"
m=$out/bn_measures.csv
t=$out/bn_training.csv
check "the output says what the charts show" grep -q "covariate shift" "$tmp/out"
for r in "BN lr 0.02" "no BN lr 0.02" "BN lr 0.1"; do
    check "$r: 2 measurements" test "$(grep -c "^$r," "$m")" -eq 2
    check "$r: 8 steps trained" test "$(grep -c "^$r," "$t")" -eq 8
done
check "every measured range is a range, every change >= 0" \
    awk -F, 'NR > 1 && $4 == $4 + 0 && !($4 <= $5 && $6 <= $7 && $6 >= 0 && $8 >= 0) { bad = 1 } END { exit bad }' "$m"
check "BN at lr 0.1 trains without diverging" \
    awk -F, '$1 == "BN lr 0.1" && $6 != $6 + 0 { bad = 1 } END { exit bad }' "$t"
check "noisy BN trains without diverging (8 finite steps)" \
    test "$(awk -F, '$1 == "noisy BN lr 0.1" && $6 == $6 + 0' "$t" | wc -l)" -eq 8
range() { awk -F, -v r="$1" '$1 == r { s += $5 - $4; n++ } END { print (n ? s / n : "nan") }' "$m"; }
check "at lr 0.1 the plain network's loss range ($(range "no BN lr 0.1")) is wider than BN's ($(range "BN lr 0.1"))" \
    awk -v p="$(range "no BN lr 0.1")" -v b="$(range "BN lr 0.1")" 'BEGIN { exit !(p != p || p > b) }'
finish cli_experiment_batchnorm
