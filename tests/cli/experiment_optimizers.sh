#!/usr/bin/env bash
# `soma experiment optimizers --quick`: the files, and the numbers behind the
# pictures. On the quadratic SGD's first step is -lr*g and Adam's lr*sign(g)
# against the gradient; SGD zig-zags across the steep coordinate at every
# step while momentum turns round far less and travels less in y; at the
# saddle Adam leaves the ridge before SGD; every optimizer lowers LeNet-5's
# loss.
# Run by CTest with SOMA_BIN and SOMA_SOURCE_DIR.
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
out=$tmp/exp
run experiment optimizers --quick --out "$out" --threads 2
check "experiment ran (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
for f in paths_quadratic paths_rosenbrock paths_saddle lenet_loss; do
    for ext in svg png csv; do
        check "$f.$ext written" test -s "$out/$f.$ext"
    done
    check "$f.svg is an SVG with its lines" grep -q '<polyline' "$out/$f.svg"
    check "$f.png is a PNG" test "$(head -c4 "$out/$f.png" | tail -c3)" = PNG
done
check "the contour lines are drawn" grep -q '<path fill="none" stroke="#b0b0b0"' "$out/paths_quadratic.svg"
check "the output says what the plot shows" grep -q "zig-zags across the valley" "$tmp/out"

q=$out/paths_quadratic.csv
# the start (-9, 2): g = (0.05 x, 5 y) = (-0.45, 10)
step1() { awk -F, -v o="$1" '$1 == o && $3 == 0 { x = $4; y = $5 } $1 == o && $3 == 1 { printf "%.7f %.7f %s\n", $4 - x, $5 - y, $2 }' "$q"; }
read -r dx dy lr < <(step1 sgd)
check "SGD's first step is -lr*g ($dx, $dy at lr $lr)" \
    awk -v dx="$dx" -v dy="$dy" -v lr="$lr" 'BEGIN { exit !((dx - lr * 0.45)^2 < 1e-10 && (dy + lr * 10)^2 < 1e-8) }'
read -r dx dy lr < <(step1 adam)
check "Adam's first step is -lr*sign(g) ($dx, $dy at lr $lr)" \
    awk -v dx="$dx" -v dy="$dy" -v lr="$lr" 'BEGIN { exit !((dx - lr)^2 < 1e-10 && (dy + lr)^2 < 1e-10) }'
# turns of the y coordinate, and the distance travelled along y
zigzag() { awk -F, -v o="$1" '$1 == o { if (n >= 2 && ($5 - py) * (py - ppy) < 0) t++; if (n >= 1) len += ($5 > py ? $5 - py : py - $5); ppy = py; py = $5; n++ } END { print t + 0, len, n }' "$q"; }
read -r sgd_turns sgd_len n < <(zigzag sgd)
read -r mom_turns mom_len _ < <(zigzag momentum)
echo "quadratic: SGD turned $sgd_turns times in $n points, travelled $sgd_len in y; momentum $mom_turns, $mom_len"
check "SGD zig-zags: its y step turns round at every step ($sgd_turns of $((n - 2)))" test "$sgd_turns" -eq $((n - 2))
check "momentum turns round far less ($mom_turns vs $sgd_turns)" test $((mom_turns * 3)) -lt "$sgd_turns"
check "momentum travels less in y ($mom_len vs $sgd_len)" awk -v a="$mom_len" -v b="$sgd_len" 'BEGIN { exit !(a < b / 2) }'
last_f() { awk -F, -v o="$1" '$1 == o { f = $6 } END { print f }' "$2"; }
check "momentum ends lower than SGD on the quadratic" \
    awk -v m="$(last_f momentum "$q")" -v s="$(last_f sgd "$q")" 'BEGIN { exit !(m < s) }'
# the saddle: the first step at which |y| > 0.5
leave() { awk -F, -v o="$1" '$1 == o && ($5 > 0.5 || $5 < -0.5) { print $3; exit }' "$out/paths_saddle.csv"; }
check "Adam leaves the saddle before SGD ($(leave adam) vs $(leave sgd))" test "$(leave adam)" -lt "$(leave sgd)"
# LeNet-5: every optimizer's loss goes down
for o in sgd momentum nesterov adagrad rmsprop adam; do
    check "LeNet-5 with $o: 10 steps" test "$(grep -c "^$o," "$out/lenet_loss.csv")" -eq 10
    check "LeNet-5 with $o: the loss went down" \
        awk -F, -v o="$o" '$1 == o { if (!n++) first = $4; last = $4 } END { exit !(last < first) }' \
        "$out/lenet_loss.csv"
done
finish cli_experiment_optimizers
