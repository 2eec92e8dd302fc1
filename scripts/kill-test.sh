#!/usr/bin/env bash
# Kills a training run with SIGKILL at random moments and checks that it
# never leaves a checkpoint that fails to load, and that resuming from what it
# left reaches exactly the weights of an uninterrupted run.
#
# Usage: scripts/kill-test.sh [KILLS] [SOMA_BIN]   (default 20, $SOMA_BIN or build/soma)
#   KILL_TEST_SEED=N   seed of the kill times (default 1), to replay a failure
#   KILL_TEST_IMAGES=N training images (default 2000; more makes a longer run)
#   KILL_TEST_THREADS=N threads of every run (default 1; 2 splits LeNet-5's
#                      steps into slices, see docs/design.md)
#
# For each kill: a fresh output directory, the same training as the
# reference run, SIGKILL after a random delay within the reference run's
# length; then OUT/last.safetensors (if any) must pass `soma info` and
# `soma eval`, and `soma train ... --resume OUT/last.safetensors` (a fresh
# start when the kill came before the first checkpoint) must end with the
# reference's data (a hash of the data section, which holds weights,
# running statistics and optimizer state) for last.safetensors
# and best.safetensors, the same deterministic metrics.csv columns and the
# same steps.csv.
# Temporary files (NAME.tmp.PID) that SIGKILL leaves behind are counted: they
# are expected and must not get in the way. Exits non-zero on any failure.
# Not part of CTest (about 15 s for 20 kills); scripts/test.sh runs 10 kills
# after CTest. See docs/reliability.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kills=${1:-20}
soma=${2:-${SOMA_BIN:-$root/build/soma}}
[[ -x "$soma" ]] || { echo "kill-test: no soma binary at $soma (build first, or pass its path)" >&2; exit 2; }
RANDOM=${KILL_TEST_SEED:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'echo "kill-test: unexpected failure at line $LINENO (exit $?)" >&2' ERR

"$root/scripts/make-tiny-mnist.sh" "$work/data" "${KILL_TEST_IMAGES:-2000}"
flags=(lenet5 --data "$work/data" --epochs 3 --batch 32 --threads "${KILL_TEST_THREADS:-1}"
       --checkpoint-every 5 --seed 3 --val-split 0.1 --quiet)

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A hash of a safetensors file's data section (weights, running statistics,
# optimizer state, best weights): after the 8-byte little-endian header length
# and the header. The header itself differs between runs (command, start time).
checksum() {
    local n
    n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
    tail -c +$((8 + n + 1)) "$1" | sha256sum | cut -c1-16
}
# The columns of metrics.csv that a resumed run must reproduce exactly (not times or rates).
metrics() { cut -d, -f1-6 "$1"; }

# ---- the reference: one uninterrupted run
start=$(now_ms)
"$soma" train "${flags[@]}" --out "$work/ref" >/dev/null
run_ms=$(($(now_ms) - start))
ref_last=$(checksum "$work/ref/last.safetensors")
ref_best=$(checksum "$work/ref/best.safetensors")
ref_metrics=$(metrics "$work/ref/metrics.csv")
ref_steps=$(cat "$work/ref/steps.csv")
[[ -n "$ref_last" && -n "$ref_best" ]] || { echo "kill-test: the reference run has no checksums" >&2; exit 1; }
echo "kill-test: reference run ${run_ms} ms, last.safetensors checksum $ref_last, best $ref_best"

failures=0 loadable=0 identical=0 no_checkpoint=0 finished=0 stray=0
fail() { failures=$((failures + 1)); echo "kill-test: FAIL: $*" >&2; }

for ((i = 1; i <= kills; i++)); do
    out=$work/run$i
    # a delay within the run: 10 ms to 95% of the reference's length
    span=$((run_ms * 95 / 100 - 10))
    ((span > 0)) || span=1
    delay_ms=$((10 + (RANDOM * 32768 + RANDOM) % span))
    "$soma" train "${flags[@]}" --out "$out" >/dev/null 2>"$work/err$i" &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if kill -KILL "$pid" 2>/dev/null; then
        what="killed after ${delay_ms} ms"
    else
        what="finished before the kill at ${delay_ms} ms"
        finished=$((finished + 1))
    fi
    wait "$pid" 2>/dev/null || true

    # (a kill during start-up may come before the directory exists)
    tmp_files=$( (find "$out" -name '*.tmp*' 2>/dev/null || true) | wc -l)
    stray=$((stray + tmp_files))
    ckpt=$out/last.safetensors
    if [[ -e "$ckpt" ]]; then
        step=$(head -c 4096 "$ckpt" | grep -ao '"global_step":"[0-9]*"' | cut -d'"' -f4 || true)
        if "$soma" info "$ckpt" >/dev/null 2>"$work/info$i" &&
            "$soma" eval "$ckpt" --data "$work/data" --threads 1 >/dev/null 2>"$work/eval$i"; then
            loadable=$((loadable + 1))
        else
            fail "kill $i ($what): $ckpt does not load: $(cat "$work/info$i" "$work/eval$i")"
            continue
        fi
        resume=(--resume "$ckpt")
        what="$what, checkpoint at step ${step:-?}"
    else
        loadable=$((loadable + 1)) # nothing written, nothing broken
        no_checkpoint=$((no_checkpoint + 1))
        resume=(--overwrite) # a fresh start: the killed run may have left metrics.csv
        what="$what, no checkpoint yet"
    fi
    ((tmp_files == 0)) || what="$what, $tmp_files temporary file(s) left"

    if ! "$soma" train "${flags[@]}" --out "$out" "${resume[@]}" >/dev/null 2>"$work/resume$i"; then
        fail "kill $i ($what): resuming failed: $(cat "$work/resume$i")"
        continue
    fi
    last=$(checksum "$ckpt")
    best=$(checksum "$out/best.safetensors")
    if [[ "$last" != "$ref_last" ]]; then
        fail "kill $i ($what): final last.safetensors checksum $last, reference $ref_last"
    elif [[ "$best" != "$ref_best" ]]; then
        fail "kill $i ($what): final best.safetensors checksum $best, reference $ref_best"
    elif [[ "$(metrics "$out/metrics.csv")" != "$ref_metrics" ]]; then
        fail "kill $i ($what): metrics.csv differs: $(diff <(metrics "$out/metrics.csv") <(echo "$ref_metrics") | tr '\n' ' ')"
    elif [[ "$(cat "$out/steps.csv")" != "$ref_steps" ]]; then
        fail "kill $i ($what): steps.csv differs: $(diff "$out/steps.csv" <(echo "$ref_steps") | head -4 | tr '\n' ' ')"
    else
        identical=$((identical + 1))
        echo "kill-test: kill $i: $what; resumed identical"
    fi
    rm -rf "$out"
done

echo "kill-test: $no_checkpoint kills before the first checkpoint, $finished runs finished before" \
    "their kill, $stray temporary files left by SIGKILL (harmless: never read, replaced by the next write)"
echo "kill-test: $kills kills, $loadable loadable, $identical resumed identical"
trap - ERR
[[ $failures -eq 0 && $loadable -eq $kills && $identical -eq $kills ]]
