#!/usr/bin/env bash
# `soma experiment dropout --quick`: the files, and the curves behind the
# charts: without dropout the small training set is learnt by heart and the
# gap between validation and training loss is wide; dropout keeps the
# training loss higher, the validation loss lower and the gap smaller.
# Run by CTest with SOMA_BIN and SOMA_SOURCE_DIR.
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
out=$tmp/exp
run experiment dropout --quick --out "$out" --threads 2
check "experiment ran (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
for f in dropout_loss dropout_accuracy; do
    for ext in svg png; do
        check "$f.$ext written" test -s "$out/$f.$ext"
    done
done
csv=$out/dropout.csv
check "dropout.csv: 12 epochs of each" test "$(grep -c '^plain,' "$csv"),$(grep -c '^dropout,' "$csv")" = "12,12"
check "the output says what the charts show" grep -q "the gap is much smaller" "$tmp/out"
# the last epoch's train_loss val_loss of each
last() { awk -F, -v m="$1" '$1 == m { t = $3; v = $5 } END { print t, v }' "$csv"; }
read -r pt pv < <(last plain)
read -r dt dv < <(last dropout)
echo "last epoch: plain train $pt val $pv; dropout train $dt val $dv"
check "without dropout the training set is learnt by heart (train loss $pt)" \
    awk -v t="$pt" 'BEGIN { exit !(t < 0.1) }'
check "dropout keeps the training loss higher ($dt vs $pt)" awk -v a="$dt" -v b="$pt" 'BEGIN { exit !(a > 3 * b) }'
check "dropout's validation loss is lower ($dv vs $pv)" awk -v a="$dv" -v b="$pv" 'BEGIN { exit !(a < b) }'
check "dropout's gap is less than half ($dv - $dt vs $pv - $pt)" \
    awk -v a="$dv" -v b="$dt" -v c="$pv" -v d="$pt" 'BEGIN { exit !(a - b < (c - d) / 2) }'
finish cli_experiment_dropout
