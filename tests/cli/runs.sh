#!/usr/bin/env bash
# Runs cannot be mixed up, silently lost or silently changed: a resumed run
# keeps its settings (and refuses flags that contradict them), a run
# directory belongs to one run at a time, metrics.csv is read strictly and
# within bounds, a finished run is left alone, summary.json holds every
# setting and re-runs with --config, and `eval --split val` reproduces the
# logged validation accuracy. Uses the tiny fixtures of tests/corpus/good.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
good=$src/tests/corpus/good
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}
run() { # run ARGS...: soma (at most 60 s) with stdout, stderr and exit status kept
    set +e
    timeout 60 "$soma" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}
# A field of summary.json (one key per line) or of its one-line "settings" object.
json_field() { sed -n "s/^  \"$1\": \\([^,]*\\),\\{0,1\\}\$/\\1/p" "$2"; }
setting() { grep -o "\"$1\": [^,}]*" <(grep '"settings"' "$2" | sed 's/^  "settings": //') | head -1 | sed 's/^[^:]*: //'; }
# A fingerprint of a directory: names, sizes and contents.
fingerprint() { (cd "$1" && find . -type f ! -name .soma.lock -print0 | sort -z | xargs -0 sha256sum); }
# The rows of metrics.csv without the timing columns (seconds, images/s).
rows() { cut -d, -f1-6 "$1/metrics.csv"; }

loud=("$good/tiny.cfg" --data "$good" --batch 8 --threads 1)
tiny=("${loud[@]}" --quiet)

# ---- 1. a resumed run takes every setting from its checkpoint
run train "${tiny[@]}" --epochs 1 --seed 5 --val-split 0.2 --opt sgd --lr 0.1 --schedule const --out a
check "train a (rc=$rc): $(cat err)" test "$rc" -eq 0
run train "${tiny[@]}" --epochs 2 --seed 5 --val-split 0.2 --opt sgd --lr 0.1 --schedule const --out whole
check "train whole (rc=$rc): $(cat err)" test "$rc" -eq 0
cp -r a m0
m0_before=$(fingerprint m0)
before=$(fingerprint a)
for flag in "--seed 6" "--data mnist" "--val-split 0.3" "--lr 0.2" "--batch 4" "--opt adam" \
            "--schedule cosine" "--init xavier"; do
    run train --resume a/last.safetensors --epochs 2 $flag
    check "resume $flag is refused (rc=$rc)" test "$rc" -eq 2
    set -- $flag
    check "resume $flag names both values: $(cat err)" \
        grep -qE -- "$1 .*contradicts a/last.safetensors, which was trained with $1 " err
done
# a MODEL named on resume is opened as named, and must be the checkpoint's
run train "$src/models/mlp.cfg" --resume a/last.safetensors --epochs 2
check "resume naming another model is refused (rc=$rc): $(cat err)" \
    grep -q "a/last.safetensors: the checkpoint holds a different model than .*mlp.cfg" err
check "refused resumes changed nothing" test "$(fingerprint a)" = "$before"
# no --data, no --seed: they come from the checkpoint; a flag that agrees is fine
run train --resume a/last.safetensors --epochs 2 --seed 5 --threads 1 --quiet
check "resume without --data (rc=$rc): $(cat err)" test "$rc" -eq 0
check "resumed run continued on the run's data, not mnist" \
    test "$(json_field data a/summary.json)" = "\"$good\""
check "resumed run kept its seed and split" \
    test "$(setting seed a/summary.json) $(setting val_split a/summary.json)" = "5 0.2"
check "resumed metrics equal the uninterrupted run's" test "$(rows a)" = "$(rows whole)"
check "resumed steps.csv equals the uninterrupted run's" cmp -s a/steps.csv whole/steps.csv
steps_whole=$(($(wc -l <whole/steps.csv) - 1))
check "steps.csv has one row per step ($steps_whole)" \
    test "$(tail -1 whole/steps.csv | cut -d, -f1)" -eq "$steps_whole"
check "steps.csv's gradient norms are positive numbers" \
    awk -F, 'NR > 1 && !($5 > 0) { bad = 1 } END { exit bad }' whole/steps.csv
check "summary keeps the first command and records the resume" \
    grep -q '"resumed_by": ".*--resume a/last.safetensors' a/summary.json
check "the original command stays" grep -q '"command": ".*--out a"' a/summary.json

# resumed into a new directory: the run's rows and best checkpoint come along
run train --resume m0/last.safetensors --epochs 2 --out moved --quiet
check "resume into a new --out (rc=$rc): $(cat err)" test "$rc" -eq 0
check "the new directory has all the rows" test "$(cut -d, -f1 moved/metrics.csv | tr '\n' ' ')" = "epoch 1 2 "
check "the new directory has a best checkpoint" test -s moved/best.safetensors
check "the new directory has all the steps" cmp -s moved/steps.csv whole/steps.csv
check "the old directory is untouched" test "$(fingerprint m0)" = "$m0_before"

# ---- 4. a finished run is left alone
before=$(fingerprint a)
run train --resume a/last.safetensors
check "resuming a finished run exits 0 (rc=$rc)" test "$rc" -eq 0
check "it says the run is complete: $(cat out)" grep -q "already complete (2 of 2 epochs)" out
check "a finished run's files are unchanged" test "$(fingerprint a)" = "$before"
run train --resume a/last.safetensors --epochs 1
check "asking for fewer epochs than done: complete too: $(cat out)" \
    grep -q "already complete (2 epochs done, more than --epochs 1)" out
check "... and unchanged" test "$(fingerprint a)" = "$before"
run train --resume a/last.safetensors --out elsewhere
check "into a new --out: nothing written" test ! -e elsewhere

# ---- 2. one run per directory
before=$(fingerprint a)
run train "${tiny[@]}" --epochs 1 --out a
check "a non-empty --out is refused (rc=$rc)" test "$rc" -eq 1
check "the refusal says how to go on: $(cat err)" grep -q "not empty.*--resume a/last.safetensors.*--overwrite" err
check "the refused run changed nothing" test "$(fingerprint a)" = "$before"
mkdir locked
flock locked/.soma.lock sleep 30 &
holder=$!
sleep 0.5
run train "${tiny[@]}" --epochs 1 --out locked
check "a locked directory is refused (rc=$rc)" test "$rc" -eq 1
check "the refusal names the other run: $(cat err)" grep -q "another soma train is writing" err
check "nothing written beside the lock" test -z "$(ls locked)"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
# --overwrite replaces the run's files (and a diverging run names none of the old ones)
touch a/notes.txt
run train "${tiny[@]}" --epochs 1 --opt sgd --lr 1e30 --out a --overwrite
check "a diverging run fails (rc=$rc)" test "$rc" -eq 1
check "it names no old checkpoint as its last good one: $(cat err)" \
    bash -c "! grep -q 'last good checkpoint' err"
check "--overwrite removed the old run's checkpoints" test ! -e a/best.safetensors
check "--overwrite kept a file that is not the run's" test -e a/notes.txt
run train "${tiny[@]}" --epochs 1 --out a --overwrite
check "--overwrite trains (rc=$rc): $(cat err)" test "$rc" -eq 0
check "one row after --overwrite" test "$(wc -l <a/metrics.csv)" -eq 2

# ---- 3. metrics.csv is read within bounds, strictly
run train "${tiny[@]}" --epochs 2 --out m
check "train m (rc=$rc)" test "$rc" -eq 0
mv m/metrics.csv m/metrics.good
ln -s /dev/zero m/metrics.csv
cp m/last.safetensors m/first.safetensors
run train --resume m/first.safetensors --epochs 3
check "metrics.csv linked to /dev/zero is refused (rc=$rc)" test "$rc" -eq 1
check "... as not a regular file: $(cat err)" grep -q "m/metrics.csv: not a regular file" err
rm m/metrics.csv
{ head -2 m/metrics.good; echo "2,garbage,,,,,,"; } >m/metrics.csv
run train --resume m/first.safetensors --epochs 3
check "a garbage row is refused (rc=$rc)" test "$rc" -eq 1
check "... with its line: $(cat err)" grep -q "m/metrics.csv:3: not a metrics row" err
{ cat m/metrics.good; head -c $((17 << 20)) /dev/zero | tr '\0' '9'; } >m/metrics.csv
run train --resume m/first.safetensors --epochs 3
check "an oversized metrics.csv is refused (rc=$rc)" test "$rc" -eq 1
check "... naming the limit: $(cat err)" grep -q "m/metrics.csv: file is [0-9]* bytes, more than the limit of 16777216" err
mv m/metrics.good m/metrics.csv
cp m/steps.csv m/steps.good
{ head -3 m/steps.good; echo "2,1,0.5,0.1,1"; } >m/steps.csv
run train --resume m/first.safetensors --epochs 3
check "a steps.csv row out of order is refused (rc=$rc)" test "$rc" -eq 1
check "... with its line: $(cat err)" grep -q "m/steps.csv:4: not a steps row" err
mv m/steps.good m/steps.csv
run train --resume m/first.safetensors --epochs 3
check "a good metrics.csv resumes (rc=$rc): $(cat err)" test "$rc" -eq 0
check "three rows after the resume" test "$(cut -d, -f1 m/metrics.csv | tr '\n' ' ')" = "epoch 1 2 3 "

# ---- 5. summary.json holds every setting; --config re-runs the run
for key in model data val_split init seed optimizer lr momentum weight_decay schedule \
           step_epochs step_gamma warmup_epochs epochs batch patience checkpoint_every \
           started_at command; do
    check "summary.json settings have $key" test -n "$(setting "$key" whole/summary.json)"
done
run train --config whole/summary.json --threads 1 --quiet --out again
check "--config summary.json (rc=$rc): $(cat err)" test "$rc" -eq 0
check "--config summary.json re-runs the run" test "$(rows again)" = "$(rows whole)"
run train --config whole/last.safetensors --threads 1 --quiet --out again2
check "--config checkpoint re-runs the run" test "$(rows again2)" = "$(rows whole)"
run train --config whole/summary.json --threads 1 --quiet --out again3 --epochs 1 --seed 9
check "--config with flags that override (rc=$rc)" test "$rc" -eq 0
check "... takes the flags" test "$(setting seed again3/summary.json) $(setting epochs again3/summary.json)" = "9 1"

# ---- 10. naming an optimizer starts from its own defaults
run train "${loud[@]}" --epochs 1 --opt adamw --out adamw
check "--opt adamw: lr 0.001, weight decay 0.01: $(grep optimizer out)" \
    grep -q "^optimizer  adamw  lr 0.001  weight decay 0.01 " out
run train "${loud[@]}" --epochs 1 --out recipe
check "no --opt: the recipe's lr 0.002, weight decay 0.05" \
    grep -q "^optimizer  adamw  lr 0.002  weight decay 0.05 " out

# ---- 11. equal validation accuracy: the lower loss wins
run train "${tiny[@]}" --epochs 2 --seed 1 --out tie
check "train tie (rc=$rc)" test "$rc" -eq 0
read -r acc1 loss1 < <(awk -F, 'NR == 2 { print $5, $4 }' tie/metrics.csv)
read -r acc2 loss2 < <(awk -F, 'NR == 3 { print $5, $4 }' tie/metrics.csv)
check "the fixture ties on validation accuracy ($acc1 / $acc2) with a lower loss ($loss1 / $loss2)" \
    awk -v a="$acc1" -v b="$acc2" -v l1="$loss1" -v l2="$loss2" 'BEGIN { exit !(a == b && l2 < l1) }'
check "best_epoch is the tie's lower-loss epoch" test "$(json_field best_epoch tie/summary.json)" = 2

# ---- 15. eval --split val reproduces the logged validation accuracy
run eval whole/best.safetensors --split val
check "eval --split val (rc=$rc): $(cat err)" test "$rc" -eq 0
logged=$(awk -v x="$(json_field best_val_accuracy whole/summary.json)" 'BEGIN { printf "%.2f", 100 * x }')
check "val accuracy $logged% as logged: $(grep accuracy out)" grep -q "^val accuracy $logged%" out
check "... on the 12 validation images" grep -q "on 12 images" out
run eval whole/best.safetensors --split train
check "eval --split train is the rest: 48 images" grep -q "on 48 images" out
cp -r "$good" other-data
run eval whole/best.safetensors --data other-data
check "another dataset than the run's is evaluated with a warning: $(cat err)" \
    grep -q "warning: whole/best.safetensors was trained on $good; evaluating it on other-data" err
run eval whole/best.safetensors --data mnist
check "... and when that fails, the error is the one line: $(cat err)" \
    test "$(wc -l <err)" -eq 1 -a "$rc" -eq 1

echo "cli_runs: $passed passed, $failed failed"
((failed == 0))
