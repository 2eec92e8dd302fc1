#!/usr/bin/env bash
# A short real run of the soma command line: train an MLP for one epoch on the
# 10k MNIST subset, check the files it writes, then eval, info and predict on
# its checkpoint, and compare their numbers with each other.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
data="$src/data/mnist"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}

run() { # run ARGS...: soma with stdout, stderr and exit status kept
    set +e
    "$soma" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}

# A JSON number field of summary.json (the file is written one key per line).
json_field() { sed -n "s/^  \"$1\": \\([^,]*\\),\\{0,1\\}\$/\\1/p" "$2"; }
# "98.91" from a fraction, the way the CLI prints percentages.
percent() { awk -v x="$1" 'BEGIN { printf "%.2f", 100 * x }'; }

if [[ ! -f "$data/train10k-images-idx3-ubyte.gz" ]]; then
    echo "cli_train: $data lacks the MNIST subset" >&2
    exit 1
fi

# ---- train: one epoch, output to a pipe (so: one plain line per epoch, no bar)
out="$tmp/run"
common=(--data "$data" --threads 1 --batch 128 --opt adam --schedule const)
run train mlp --epochs 1 "${common[@]}" --device cpu --out "$out"
check "train exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
cp "$tmp/out" "$tmp/train.out"
check "one epoch line" test "$(grep -c '^epoch 1/1  loss ' "$tmp/train.out")" -eq 1
check "epoch line has validation and rate" grep -qE '^epoch 1/1  loss [0-9.]+  acc [0-9.]+%  val_loss [0-9.]+  val_acc [0-9.]+%  lr 0.001  [0-9.]+s  [0-9,]+ img/s  \*$' "$tmp/train.out"
check "no carriage returns when not on a terminal" test "$(cat "$tmp/train.out" "$tmp/err" | tr -cd '\r' | wc -c)" -eq 0
check "header shows the model table" grep -qF "235,146" "$tmp/train.out"
check "header shows the split" grep -qF "9,000 training + 1,000 validation images" "$tmp/train.out"
test_line=$(grep '^test accuracy ' "$tmp/train.out" || true)
check "test line format: $test_line" grep -qE '^test accuracy [0-9]+\.[0-9]{2}%  \(error [0-9]+\.[0-9]{2}%, loss [0-9.]+\)  on 10000 images$' <<<"$test_line"

# ---- the files of the run
for f in best.safetensors last.safetensors metrics.csv summary.json; do
    check "$f written" test -s "$out/$f"
done
check "no temporary files left" test -z "$(find "$out" -name '*.tmp')"
check "metrics.csv header" test "$(head -1 "$out/metrics.csv")" = \
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_second"
check "metrics.csv has one data row" test "$(wc -l <"$out/metrics.csv")" -eq 2
row=$(sed -n 2p "$out/metrics.csv")
check "metrics row '$row' has 8 fields, epoch 1" awk -F, 'NF == 8 && $1 == 1 && $5 > 0.5 && $5 <= 1 { ok = 1 } END { exit !ok }' <<<"$row"
# the row agrees with the printed epoch line
val_acc_csv=$(percent "$(cut -d, -f5 <<<"$row")")
check "metrics val_accuracy matches the epoch line ($val_acc_csv%)" grep -qF "val_acc $val_acc_csv%" "$tmp/train.out"

summary="$out/summary.json"
for key in test_accuracy test_loss test_error epochs_run best_epoch best_val_accuracy parameters \
    wall_seconds images_per_second model data optimizer lr batch seed threads device command \
    soma_version stopped_early; do
    check "summary.json has $key" grep -q "^  \"$key\": " "$summary"
done
check "the device is recorded" grep -qF '"device": "cpu"' "$summary"
check "the header names the device" grep -qE '^device     cpu  threads 1$' "$tmp/train.out"
check "summary.json is one object" test "$(head -c1 "$summary")$(tail -c2 "$summary" | head -c1)" = "{}"
test_acc=$(json_field test_accuracy "$summary")
test_err=$(json_field test_error "$summary")
check "test_accuracy + test_error = 1" awk -v a="$test_acc" -v e="$test_err" 'BEGIN { exit !((a + e - 1)^2 < 1e-12) }'
check "test accuracy $test_acc is sensible after one epoch" awk -v a="$test_acc" 'BEGIN { exit !(a > 0.8 && a <= 1) }'
check "summary accuracy matches the test line" grep -qF "test accuracy $(percent "$test_acc")%" <<<"$test_line"
check "parameters" test "$(json_field parameters "$summary")" = 235146
check "epochs_run" test "$(json_field epochs_run "$summary")" = 1
check "batch recorded" test "$(json_field batch "$summary")" = 128
check "command recorded" grep -qF '"command": "'"$soma"' train mlp --epochs 1' "$summary"
check "validated run: the best weights were tested" grep -qF '"tested_checkpoint": "best.safetensors"' "$summary"
check "stopped_early false" test "$(json_field stopped_early "$summary")" = false

# ---- the final test's confusion matrix and mistakes agree with its accuracy
for f in confusion.csv misclassified.csv misclassified.png steps.csv; do
    check "$f written" test -s "$out/$f"
done
right=$(awk -F, 'NR > 1 { d += $(NR) } END { print d }' "$out/confusion.csv")
total=$(awk -F, 'NR > 1 { for (i = 2; i <= NF; i++) t += $i } END { print t }' "$out/confusion.csv")
check "confusion.csv counts the 10000 test images ($total)" test "$total" = 10000
check "its diagonal ($right) is the test accuracy $test_acc" \
    awk -v r="$right" -v a="$test_acc" 'BEGIN { exit !((r / 10000 - a)^2 < 1e-10) }'
check "misclassified.csv lists every mistake" \
    test "$(($(wc -l <"$out/misclassified.csv") - 1))" -eq $((10000 - right))
check "misclassified.csv: predicted differs from true, confidences descending" \
    awk -F, 'NR > 1 && ($2 == $3 || (NR > 2 && $4 > last) || $4 <= 0 || $4 > 1) { bad = 1 }
             NR > 1 { last = $4 } END { exit bad }' "$out/misclassified.csv"
check "misclassified.png is a PNG" test "$(head -c4 "$out/misclassified.png" | tail -c3)" = PNG

# ---- eval reproduces the test accuracy (data taken from the checkpoint's command)
run eval "$out/last.safetensors" --threads 1
check "eval exits 0: $(cat "$tmp/err")" test "$rc" -eq 0
eval_line=$(grep '^test accuracy ' "$tmp/out" || true)
check "eval '$eval_line' = train '$test_line'" test "$eval_line" = "$test_line"
check "eval names its data" grep -qF "t10k-images-idx3-ubyte" "$tmp/out"
run eval "$out/best.safetensors" --data "$data" --split train --batch 1000 --threads 1
check "eval on the train split: the 9,000 images trained on" grep -qE '^train accuracy [0-9.]+%.* on 9000 images$' "$tmp/out"
run eval "$out/best.safetensors" --data "$data" --split val --threads 1
check "eval on the val split: the 1,000 held out" grep -qE '^val accuracy [0-9.]+%.* on 1000 images$' "$tmp/out"

# ---- info on a checkpoint: the table and the metadata
run info "$out/last.safetensors"
check "info checkpoint exits 0" test "$rc" -eq 0
check "info shows parameters" grep -qF "235,146" "$tmp/out"
check "info shows the epoch" grep -qE '^  epoch +1$' "$tmp/out"
check "info shows the command" grep -qE '^  command .* train mlp --epochs 1' "$tmp/out"
check "info shows the optimizer" grep -qE '^  optimizer +adam$' "$tmp/out"

# ---- predict on the IDX test file: one line per image, and the accuracy from the labels beside it
run predict "$out/last.safetensors" "$data/t10k-images-idx3-ubyte.gz" --threads 1
check "predict idx exits 0: $(cat "$tmp/err")" test "$rc" -eq 0
check "10000 prediction lines" test "$(grep -cE '^[0-9]+ [0-9] [0-9.]+$' "$tmp/out")" -eq 10000
check "predict accuracy equals eval's" grep -qF "accuracy $(percent "$test_acc")%" "$tmp/out"
first_prediction=$(sed -n 1p "$tmp/out" | cut -d' ' -f2)

# ---- predict on a PGM: the first test image, cut out of the IDX file by hand
gzip -dc "$data/t10k-images-idx3-ubyte.gz" >"$tmp/t10k-images"
gzip -dc "$data/t10k-labels-idx1-ubyte.gz" >"$tmp/t10k-labels"
{
    printf 'P5\n# first MNIST test image\n28 28\n255\n'
    head -c $((16 + 784)) "$tmp/t10k-images" | tail -c 784
} >"$tmp/digit.pgm"
first_label=$(od -An -tu1 -j8 -N1 "$tmp/t10k-labels" | tr -d ' ')
run predict "$out/last.safetensors" "$tmp/digit.pgm"
check "predict pgm exits 0: $(cat "$tmp/err")" test "$rc" -eq 0
check "pgm prediction equals the IDX one ($first_prediction)" grep -qE "^$tmp/digit.pgm: class $first_prediction \(p=[01]\.[0-9]{3}\)$" "$tmp/out"
check "the first test image ($first_label) is recognised" test "$first_prediction" = "$first_label"
run predict "$out/last.safetensors" "$tmp/digit.pgm" --top 3
check "--top 3 gives three classes" test "$(grep -o 'class [0-9]' "$tmp/out" | wc -l)" -eq 3
check "--top 3 in decreasing probability" awk -F'p=' '{ a = $2 + 0; b = $3 + 0; c = $4 + 0; exit !(a >= b && b >= c && a + b + c <= 1.002) }' "$tmp/out"
check "--top 3 starts with the top 1" grep -qE ": class $first_prediction " "$tmp/out"

# a wrong-sized image is a clear error, exit 1
printf 'P5\n4 4\n255\n%016d' 0 >"$tmp/small.pgm"
run predict "$out/last.safetensors" "$tmp/small.pgm"
check "small image: exit 1" test "$rc" -eq 1
check "small image: says the expected size" grep -qF "but the model expects 28x28" "$tmp/err"
printf 'P5\n28 28\n255\nshort' >"$tmp/short.pgm"
run predict "$out/last.safetensors" "$tmp/short.pgm"
check "truncated pgm: exit 1 and says so" grep -qF "truncated" "$tmp/err"

# a PNG is read when soma is built with libpng, else refused in one line; a
# corrupt one is an error either way
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDRjunk' >"$tmp/bad.png"
run predict "$out/last.safetensors" "$tmp/bad.png"
check "corrupt png: exit 1, one line" test "$rc" -eq 1 -a "$(wc -l <"$tmp/err")" -eq 1
check "corrupt png: names the file" grep -qF "soma: error: $tmp/bad.png: " "$tmp/err"

# ---- a model that does not fit the data is refused before training
printf 'input channels=3 height=32 width=32\nflatten\nlinear units=10\n' >"$tmp/rgb.cfg"
run train "$tmp/rgb.cfg" "${common[@]}" --out "$tmp/rgb"
check "rgb model on mnist: exit 1" test "$rc" -eq 1
check "rgb model on mnist: one clear line" grep -qF "takes 3x32x32 inputs (CxHxW) but" "$tmp/err"

# ---- SIGTERM: checkpoint, exit 130, a resume hint; then resume to the end
stop="$tmp/stop"
set +e
"$soma" train mlp --epochs 50 "${common[@]}" --out "$stop" --quiet >"$tmp/stop.out" 2>"$tmp/stop.err" &
pid=$!
for _ in $(seq 200); do # wait (up to 20 s) until training has begun
    [[ -e "$stop/metrics.csv" ]] && break
    sleep 0.1
done
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
set -e
check "interrupted: exit 130 (rc=$rc): $(cat "$tmp/stop.err")" test "$rc" -eq 130
check "interrupted: resume hint" grep -qF "soma: interrupted; resume with: $soma train --resume $stop/last.safetensors --threads 1" "$tmp/stop.err"
check "interrupted: hint names the checkpoint" grep -qF -- "--resume $stop/last.safetensors" "$tmp/stop.err"
check "interrupted: last.safetensors saved" test -s "$stop/last.safetensors"
check "interrupted: no summary.json" test ! -e "$stop/summary.json"
check "quiet: nothing on stdout" test ! -s "$tmp/stop.out"
# resume (output directory defaults to the checkpoint's) for one more epoch
# than the checkpoint holds: how many finished before the signal depends on
# the machine's speed
done_epochs=$("$soma" info "$stop/last.safetensors" | sed -n 's/^  epoch  *\([0-9]*\)$/\1/p')
check "interrupted: checkpoint epoch readable ('$done_epochs')" test -n "$done_epochs"
want=$((${done_epochs:-0} + 1))
run train mlp --epochs "$want" "${common[@]}" --resume "$stop/last.safetensors" --quiet
check "resume exits 0: $(cat "$tmp/err")" test "$rc" -eq 0
check "quiet resume prints only the test line" test "$(wc -l <"$tmp/out")" -eq 1
check "resume wrote summary.json beside the checkpoint" test -s "$stop/summary.json"
check "resumed metrics.csv has one row per epoch 1..$want" \
    test "$(cut -d, -f1 "$stop/metrics.csv" | tr '\n' ' ')" = "epoch $(seq -s ' ' 1 "$want") "

# ---- a directory with a training split only: trains, skips the test with a note
mkdir "$tmp/trainonly"
ln -s "$data"/train10k-* "$tmp/trainonly/"
run train mlp --epochs 1 --data="$tmp/trainonly" --threads=1 --batch=256 --val-split=0.5 --out="$tmp/to"
check "train-only data: exit 0: $(cat "$tmp/err")" test "$rc" -eq 0
check "train-only data: a note" grep -qF "note: no test split" "$tmp/out"
check "train-only data: no test line" test "$(grep -c '^test accuracy' "$tmp/out")" -eq 0
check "train-only data: test_accuracy null" test "$(json_field test_accuracy "$tmp/to/summary.json")" = null
check "train-only data: 5,000 + 5,000 images" grep -qF "5,000 training + 5,000 validation images" "$tmp/out"

# ---- on a terminal: a live bar redrawn with \r, then the epoch line. Without
# validation there is no best checkpoint and the epoch line has no val_ fields.
if command -v script >/dev/null 2>&1; then
    tty_cmd=$(printf '%q ' "$soma" train mlp --epochs 1 "${common[@]}" --val-split 0 --out "$tmp/tty")
    script -qec "$tty_cmd" /dev/null >"$tmp/tty.out" 2>&1 </dev/null || true
    check "tty: the bar is drawn" grep -qF $'\repoch 1/1 [' "$tmp/tty.out"
    check "tty: the bar has a rate and an ETA" grep -qE 'img/s loss [0-9.]+ acc [0-9.]+% ETA [0-9]+:[0-9]{2}' "$tmp/tty.out"
    check "tty: epoch line without validation" grep -qE 'epoch 1/1  loss [0-9.]+  acc [0-9.]+%  lr 0.001  ' "$tmp/tty.out"
    check "tty: run finished" test -s "$tmp/tty/summary.json"
    check "no validation: no improvement mark" grep -qE 'epoch 1/1  .* img/s'$'\r''?$' "$tmp/tty.out"
    check "no validation: the last (= best) weights were tested" grep -qF '"tested_checkpoint": "best.safetensors"' "$tmp/tty/summary.json"
    check "no validation: best_val_accuracy null" test "$(json_field best_val_accuracy "$tmp/tty/summary.json")" = null
    check "no validation: 10,000 training images" test "$(json_field train_images "$tmp/tty/summary.json")" = 10000
else
    echo "cli_train: 'script' not found; terminal output not tested"
fi

echo "cli_train: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
