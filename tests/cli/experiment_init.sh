#!/usr/bin/env bash
# `soma experiment init --quick`: the files, and the statistics behind the
# charts: zero weights give zero activations and zero gradients everywhere,
# weights too small make the activations vanish with depth, He keeps a ReLU
# network's activations at one scale, Xavier lets them shrink.
# Run by CTest with SOMA_BIN and SOMA_SOURCE_DIR.
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
out=$tmp/exp
run experiment init --quick --out "$out" --threads 2
check "experiment ran (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
for net in relu tanh; do
    for f in init_activations_$net init_gradients_$net init_histogram_$net; do
        for ext in svg png; do
            check "$f.$ext written" test -s "$out/$f.$ext"
        done
    done
done
csv=$out/init_stats.csv
check "init_stats.csv: 2 networks x 5 inits x 10 layers" test "$(($(wc -l <"$csv") - 1))" -eq 100
check "the output says what the charts show" grep -q "zero weights make every activation" "$tmp/out"
# field of network $1, init $2, layer $3: columns act_mean 4, act_std 5, grad_mean 6, grad_std 7
field() { awk -F, -v n="$1" -v i="$2" -v l="$3" -v c="$4" '$1 == n && $2 == i && $3 == l { print $c }' "$csv"; }
for net in relu tanh; do
    check "$net, zero init: every activation and gradient is 0" \
        awk -F, -v n="$net" '$1 == n && $2 == "zero" && ($4 != 0 || $5 != 0 || $6 != 0 || $7 != 0 || $8 != 0) { bad = 1 } END { exit bad }' "$csv"
    a1=$(field $net small 1 5) a10=$(field $net small 10 5)
    check "$net, too small: activations vanish with depth ($a1 -> $a10)" \
        awk -v a="$a1" -v b="$a10" 'BEGIN { exit !(b > 0 && b < a * 1e-6) }'
    check "$net, too small: shrinking at every layer" \
        awk -F, -v n="$net" '$1 == n && $2 == "small" { if ($3 > 1 && !($5 < last / 3)) bad = 1; last = $5 } END { exit bad }' "$csv"
done
h1=$(field relu he 1 5) h10=$(field relu he 10 5)
check "relu, He: the activations keep their scale ($h1 -> $h10)" \
    awk -v a="$h1" -v b="$h10" 'BEGIN { r = b / a; exit !(r > 0.5 && r < 2) }'
g1=$(field relu he 1 7) g10=$(field relu he 10 7)
check "relu, He: so do the gradients ($g1 -> $g10)" \
    awk -v a="$g1" -v b="$g10" 'BEGIN { r = b / a; exit !(r > 0.5 && r < 2) }'
x1=$(field relu xavier 1 5) x10=$(field relu xavier 10 5)
check "relu, Xavier: the activations shrink with depth ($x1 -> $x10)" \
    awk -v a="$x1" -v b="$x10" 'BEGIN { exit !(b < a / 5) }'
finish cli_experiment_init
