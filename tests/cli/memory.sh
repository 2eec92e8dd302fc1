#!/usr/bin/env bash
# Memory stated before it is allocated. soma info builds a model of 805M
# parameters (3 GiB of weights) without allocating them, and prints what
# training it would need; soma train refuses, up front and with the numbers,
# a run that cannot fit, before it trains or writes a checkpoint. The limits
# come from ulimit -v, so a failure shows as an error rather than as time or
# swap (tests are never timed). A build with AddressSanitizer reserves
# terabytes of address space and cannot run under ulimit -v: there the peak
# RSS stands in for it, and the refusal is checked with a model too large
# for any machine.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
good=$src/tests/corpus/good # 4x4 images, 3 classes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}
# run LIMIT_KIB ARGS...: soma under ulimit -v LIMIT_KIB (0: none), output kept
run() {
    local limit=$1
    shift
    set +e
    (if ((limit > 0)); then ulimit -v "$limit"; fi
     exec "$soma" "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}
says() { grep -qE -- "$1" "$2"; }

GiB=1048576 # in KiB, as ulimit -v counts
asan=0
if grep -aq __asan_init "$soma"; then asan=1; fi

# 3 linear layers of 16384 x 16384: 805,519,370 parameters, 3 GiB of weights
# and 3 GiB of gradients, which the old build allocated and initialised.
big=$tmp/big.cfg
printf 'input channels=1 height=128 width=128\nflatten\nlinear units=16384\nrelu\nlinear units=16384\nrelu\nlinear units=16384\nrelu\nlinear units=10\n' >"$big"

# ---- soma info: shapes and counts, no parameter memory
if ((asan)); then
    if [[ -x /usr/bin/time ]]; then
        set +e
        /usr/bin/time -f '%M' -o "$tmp/rss" "$soma" info "$big" >"$tmp/out" 2>"$tmp/err"
        rc=$?
        set -e
        rss=$(tail -1 "$tmp/rss")
        check "info $big: peak RSS ${rss} KiB under AddressSanitizer, expected < 1 GiB" \
            test "$rss" -lt "$GiB"
    else
        echo "memory.sh: AddressSanitizer build and no /usr/bin/time: the info RSS is not checked"
        run 0 info "$big"
    fi
else
    run "$GiB" info "$big"
fi
check "info $big exits 0 (rc $rc): $(head -c 300 "$tmp/err")" test "$rc" -eq 0
check "info $big: parameter count" says '^parameters: 805,519,370 ' "$tmp/out"
check "info $big: the memory estimate" \
    says '^memory +soma train --batch 32 \(adamw, [0-9]+ threads?\) needs about [0-9.]+ GiB; ' "$tmp/out"
check "info $big: its parts" \
    says '^ +parameters 3\.0 GiB, gradients 3\.[0-9] GiB, adamw state 6\.0 GiB, activations ' "$tmp/out"
if ((!asan)); then
    check "info $big under ulimit -v: what is available, and the verdict" \
        says '; [0-9]+ MiB is available \(ulimit -v\): it would be refused$' "$tmp/out"
fi

# ---- soma info --batch: the estimate follows the batch; a bad value is a usage error
run 0 info lenet5 --batch 64
check "info lenet5 --batch 64: $(cat "$tmp/err")" says '^memory +soma train --batch 64 ' "$tmp/out"
run 0 info lenet5 --batch 0
check "info --batch 0 is a usage error (rc $rc)" test "$rc" -eq 2

# ---- soma train: refused up front, with the numbers, nothing trained or written
# no_run DIR: no checkpoint, no summary, no metrics row (a header alone is allowed)
no_run() {
    local dir=$1
    [[ -z "$(find "$dir" -name '*.safetensors*' -o -name 'summary.json' 2>/dev/null)" ]] &&
        { [[ ! -f "$dir/metrics.csv" ]] || [[ $(wc -l <"$dir/metrics.csv") -le 1 ]]; }
}
# train_refused NAME REGEX LIMIT ARGS...: soma train exits 1 with one line
# that names the model and matches REGEX, and leaves no run behind
train_refused() {
    local name=$1 regex=$2 limit=$3
    shift 3
    local out=$tmp/run-$(basename "$name" .cfg)
    run "$limit" train "$name" --data "$good" --epochs 1 --threads 1 --quiet --out "$out" "$@"
    check "train $name: exit 1 (rc $rc)" test "$rc" -eq 1
    check "train $name: one line on stderr: $(cat "$tmp/err")" test "$(wc -l <"$tmp/err")" -eq 1
    check "train $name: says /$regex/: $(cat "$tmp/err")" says "$name: $regex" "$tmp/err"
    check "train $name: nothing trained or written in $out" no_run "$out"
}

# 60 planes of 2052 x 2052 per sample: 185 TiB of activations at batch 65536,
# more than any machine has, whatever the build
acts=$tmp/acts.cfg
printf 'input channels=1 height=4 width=4\nconv2d filters=60 size=1 pad=1024\nmaxpool size=1024\nflatten\nlinear units=3\n' >"$acts"
train_refused "$acts" \
    'training with batch 65536 needs about [0-9.]+ TiB \(parameters [0-9]+ KiB, gradients [0-9]+ KiB, adamw state [0-9]+ KiB, activations [0-9.]+ TiB, .*\), but [0-9.]+ [KMGT]iB is available \(' \
    0 --batch 65536

if ((asan)); then
    echo "memory.sh: AddressSanitizer build: the ulimit -v checks of soma train are skipped"
else
    # 21M parameters (80 MiB) fit in 1 GiB, training them at batch 64 does not
    wide=$tmp/wide.cfg
    printf 'input channels=1 height=4 width=4\nflatten\nlinear units=1048576\nrelu\nlinear units=3\n' >"$wide"
    train_refused "$wide" \
        'training with batch 64 needs about [0-9.]+ GiB \(parameters 80 MiB, gradients 80 MiB, adamw state 160 MiB, activations [0-9]+ MiB, workspace [0-9]+ MiB, best weights 80 MiB, checkpoint copy 400 MiB\), but [0-9]+ MiB is available \(ulimit -v\)$' \
        "$GiB" --batch 64
    # the estimate is not just cautious: with SGD at batch 8 the same model
    # trains (on data without a test split, which soma train evaluates at
    # batch 256: 1 GiB of activations alone)
    mkdir "$tmp/train-only"
    cp "$good"/train-* "$tmp/train-only/"
    run "$GiB" train "$wide" --data "$tmp/train-only" --epochs 1 --threads 1 --quiet --opt sgd \
        --batch 8 --out "$tmp/run-wide-sgd"
    check "train $wide with SGD at batch 8 fits in 1 GiB: $(cat "$tmp/err")" test "$rc" -eq 0
    check "train $wide with SGD: wrote its checkpoint" test -s "$tmp/run-wide-sgd/last.safetensors"

    # 335M parameters (1.3 GiB): not even the weights fit; refused before
    # they are allocated
    huge=$tmp/huge.cfg
    printf 'input channels=1 height=4 width=4\nflatten\nlinear units=16777216\nrelu\nlinear units=3\n' >"$huge"
    train_refused "$huge" 'training with batch 8 needs about [0-9.]+ GiB \(parameters 1\.[0-9] GiB, .*\), but [0-9]+ MiB is available \(ulimit -v\)$' \
        "$GiB" --batch 8
    check "train $huge: no run directory" test ! -e "$tmp/run-huge"
fi

echo "memory.sh: $passed passed, $failed failed"
((failed == 0))
