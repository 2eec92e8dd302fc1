#!/usr/bin/env bash
# Option values: names in any case and with their aliases, a "did you mean"
# for a near miss (of values, commands, models, and a model given where a
# checkpoint goes); numbers only in decimal; --checkpoint-every 0m refused;
# --threads that cannot start refused before anything is loaded or written.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
good=$src/tests/corpus/good # tiny.cfg: 4x4 images, 3 classes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/cwd" # soma runs here, away from the repository's models/ and data/
export SOMA_DATA=$src/data # where --data mnist is found
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

run() {
    set +e
    (cd "$tmp/cwd" && "$soma" "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}
# expect STATUS TEXT ARGS...: exit STATUS, one line on stderr containing TEXT
expect() {
    local status=$1 text=$2
    shift 2
    run "$@"
    if [[ $rc -eq $status && $(wc -l <"$tmp/err") -eq 1 ]] && grep -qF -- "$text" "$tmp/err"; then
        pass
    else
        fail "soma $*: rc=$rc (expected $status), stderr: $(cat "$tmp/err") (expected '$text')"
    fi
}
# accepted ARGS... / refused TEXT ARGS...: soma train mlp ARGS. --warmup 2
# --epochs 1 is refused after every value has been read, so nothing trains
# (even where a value is wrongly accepted).
accepted() {
    expect 2 "--warmup (2 epochs) is longer than --epochs (1)" train mlp "$@" --warmup 2 --epochs 1
}
refused() {
    local text=$1
    shift
    expect 2 "$text" train mlp "$@" --warmup 2 --epochs 1
}

# ---- names: any case, '-' or '_', and the aliases of PyTorch and Keras
for opt in Adam ADAMW SGD RMSprop Adagrad nag sgdm; do accepted --opt "$opt"; done
for schedule in Cosine constant CONST fixed StepLR cosine_annealing CosineAnnealingLR; do
    accepted --schedule "$schedule"
done
for init in He kaiming kaiming_normal he_normal Xavier glorot glorot_uniform xavier_uniform lecun_normal; do
    accepted --init "$init"
done
for data in MNIST Mnist fashion fashion_mnist Fashion-MNIST fashionmnist fmnist; do accepted --data "$data"; done

# ---- a near miss: the names, and the nearest one
refused "soma train: --opt expects sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw, got 'adma' (did you mean 'adam'?)" \
    --opt adma
refused "--schedule expects const, step or cosine, got 'cosin' (did you mean 'cosine'?)" --schedule cosin
refused "--init expects he, xavier or lecun, got 'kaimin' (did you mean 'kaiming'?)" --init kaimin
refused "--init expects he, xavier or lecun, got 'glorot_normal'" --init glorot_normal # not xavier's distribution
refused "--data expects mnist, fashion-mnist, cifar-10, cifar-100 or a directory of IDX, CIFAR or image-folder files, got 'mnst' (did you mean 'mnist'?)" \
    --data mnst
refused "got 'nowhere' (no such directory)" --data nowhere
refused "--init expects he, xavier or lecun, got 'x'" --init x # a word replaced whole is no near miss
grep -q "did you mean" "$tmp/err" && fail "--init x: $(cat "$tmp/err")" || pass
expect 2 "soma eval: --data expects mnist, fashion-mnist, cifar-10, cifar-100 or a directory of IDX, CIFAR or image-folder files, got 'fashon' (did you mean 'fashion'?)" \
    eval "$good/tiny.safetensors" --data fashon
expect 2 "soma: unknown command 'trian' (did you mean 'train'?)" help trian
expect 2 "soma: unknown command 'hlep' (did you mean 'help'?)" hlep

# ---- models: the zoo name behind a near miss or a .cfg file that is not there
expect 1 "unknown model 'lenet' (did you mean 'lenet5'?)" train lenet
expect 1 "unknown model 'lenet' (did you mean 'lenet5'?)" info lenet
expect 1 "unknown model 'lenet-bn' (did you mean 'lenet5-bn'?)" bench lenet-bn
expect 1 "lenet5.cfg: cannot open: No such file or directory (the zoo model 'lenet5' is built in" train lenet5.cfg
expect 1 "models/lenet5.cfg: cannot open: No such file or directory (the zoo model 'lenet5' is built in" \
    info models/lenet5.cfg
expect 1 "lenet.cfg: cannot open: No such file or directory (did you mean the zoo model 'lenet5'?)" info lenet.cfg
# ... and where a checkpoint goes
expect 2 "soma eval: 'lenet5' is a zoo model, not a checkpoint: eval takes a checkpoint file written by soma train, e.g. runs/lenet5-DATE/best.safetensors" \
    eval lenet5
expect 2 "soma predict: 'mlp' is a zoo model, not a checkpoint" predict mlp "$good/digit.pgm"
expect 2 "soma eval: '$good/tiny.cfg' is a model file, not a checkpoint" eval "$good/tiny.cfg"

# ---- the recorded data name is the one the alias stands for
run train "$good/tiny.cfg" --data "$good" --epochs 1 --batch 8 --threads 1 --quiet --init Kaiming \
    --opt ADAM --schedule Constant --out "$tmp/run"
[[ $rc -eq 0 ]] && pass || fail "train with aliases: rc=$rc $(cat "$tmp/err")"
grep -q '"optimizer": "adam"' "$tmp/run/summary.json" && grep -q '"schedule": "const"' "$tmp/run/summary.json" &&
    pass || fail "summary.json does not record adam and const: $(cat "$tmp/run/summary.json")"

# ---- numbers: decimal only (strtod would take hex, inf, nan)
for value in 0x10 0X1p-3 inf Infinity nan " 0.1" 1e 1e+ . -; do
    refused "--lr expects a positive number, got '$value'" --lr "$value"
done
for value in 0.001 1e-3 .5 5. +0.1 1E-2; do accepted --lr "$value"; done
refused "--momentum expects a number in [0, 1), got '0x0.8'" --opt momentum --momentum 0x0.8
refused "--val-split expects a fraction in [0, 1), got 'nan'" --val-split nan

# ---- --checkpoint-every: N steps (0 = epoch ends only) or N > 0 minutes
for value in 0m 0.0m 0x10 0x10m inf infm nanm +5 -0 " 5"; do
    refused "--checkpoint-every expects N steps (0 = at epoch ends only) or Nm minutes with N > 0 (e.g. 10m), got '$value'" \
        --checkpoint-every "$value"
done
for value in 0 500 10m 0.5m; do accepted --checkpoint-every "$value"; done

# ---- --threads: checked by starting them, before data is read or a directory made
if grep -aq __asan_init "$soma"; then
    echo "values.sh: AddressSanitizer build: the ulimit -v check of --threads is skipped"
else
    # 999 stacks of 8 MiB do not fit in 4 GB of address space
    limited() { (ulimit -v 4000000 && ulimit -s 8192 && unset OMP_STACKSIZE GOMP_STACKSIZE && "$@"); }
    set +e
    limited "$soma" train "$good/tiny.cfg" --data "$good" --epochs 1 --batch 8 --threads 1000 --quiet \
        --out "$tmp/threads" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 && ! -s "$tmp/out" ]] &&
        grep -qE '^soma: error: --threads 1000: cannot start 1000 threads here \(.* after [0-9]+\); this machine has [0-9]+ cores' "$tmp/err" &&
        pass || fail "train --threads 1000 under ulimit -v: rc=$rc, stderr: $(head -c 600 "$tmp/err")"
    [[ ! -e "$tmp/threads" ]] && pass || fail "train --threads 1000 made its output directory"
    for cmd in "eval $good/tiny.safetensors --data $good" "predict $good/tiny.safetensors $good/digit.pgm" \
        "bench $good/tiny.cfg --steps 1"; do
        set +e
        # shellcheck disable=SC2086
        limited "$soma" $cmd --threads 1000 >"$tmp/out" 2>"$tmp/err"
        rc=$?
        set -e
        [[ $rc -eq 1 ]] && grep -qF -- "--threads 1000: cannot start" "$tmp/err" && pass ||
            fail "$cmd --threads 1000: rc=$rc $(head -c 300 "$tmp/err")"
    done
    set +e
    limited "$soma" train "$good/tiny.cfg" --data "$good" --epochs 1 --batch 8 --threads 64 --quiet \
        --out "$tmp/threads64" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [[ $rc -eq 0 ]] && pass || fail "train --threads 64 under ulimit -v: rc=$rc $(cat "$tmp/err")"
fi

echo "values: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
