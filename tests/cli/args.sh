#!/usr/bin/env bash
# The soma command line without training: help, version, usage errors, info, zoo.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# run ARGS...: runs soma, keeping stdout, stderr and the exit status.
run() {
    set +e
    "$soma" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}

# expect_usage_error ARGS...: exit 2, exactly one line on stderr, nothing on stdout.
expect_usage_error() {
    run "$@"
    local lines
    lines=$(wc -l <"$tmp/err")
    if [[ $rc -eq 2 && $lines -eq 1 && ! -s "$tmp/out" ]]; then
        pass
    else
        fail "soma $*: rc=$rc, $lines stderr lines: $(cat "$tmp/err")"
    fi
}

# expect_stderr TEXT: the last run's stderr contains TEXT.
expect_stderr() {
    if grep -qF -- "$1" "$tmp/err"; then pass; else fail "stderr lacks '$1': $(cat "$tmp/err")"; fi
}

# --version agrees with the public header.
header_version=$(sed -n 's/^#define SOMA_VERSION "\(.*\)"/\1/p' "$src/include/soma.h")
run --version
[[ $rc -eq 0 && "$(head -1 "$tmp/out")" == "soma $header_version (cpu: "*" kernels, OpenMP, "*")" ]] && pass ||
    fail "--version: rc=$rc '$(cat "$tmp/out")', header says $header_version"
# and lists the devices of the build, the CPU first
[[ "$(sed -n 2p "$tmp/out")" == "devices: cpu"* ]] && pass || fail "--version: no device list: $(cat "$tmp/out")"

# --device: a device the build lacks is one usage line naming those it has
for cmd in "train lenet5" "bench lenet5" "eval x.safetensors" "predict x.safetensors a.png"; do
    expect_usage_error $cmd --device nope
    expect_stderr "--device expects cpu"
done
expect_usage_error bench lenet5 --device gpu
expect_stderr "this build has no cuda backend, only cpu"

# soma --help lists every command; soma alone is a usage error.
run --help
[[ $rc -eq 0 ]] && pass || fail "soma --help: rc=$rc"
for cmd in train eval predict info bench zoo; do
    grep -qE "^  $cmd " "$tmp/out" && pass || fail "soma --help does not list $cmd"
done
run
[[ $rc -eq 2 ]] && pass || fail "soma without a command: rc=$rc"
expect_usage_error frobnicate
expect_usage_error trian
expect_stderr "soma: unknown command 'trian' (did you mean 'train'?)"
expect_usage_error --frobnicate

# Every subcommand's --help and -h exit 0 and mention each of its flags.
declare -A flags=(
    [train]="--data --epochs --batch --opt --lr --momentum --weight-decay --schedule --warmup
             --init --val-split --patience --seed --threads --out --resume --checkpoint-every
             --profile --quiet --step-epochs --step-gamma --device"
    [eval]="--data --split --batch --threads --device"
    [predict]="--top --threads --device"
    [info]="--help"
    [bench]="--batch --threads --steps --seconds --training --inference --device"
    [zoo]="--help"
)
for cmd in "${!flags[@]}"; do
    run "$cmd" --help
    [[ $rc -eq 0 && -s "$tmp/out" && ! -s "$tmp/err" ]] && pass || fail "soma $cmd --help: rc=$rc"
    cp "$tmp/out" "$tmp/help"
    for flag in ${flags[$cmd]}; do
        grep -qF -- "$flag" "$tmp/help" && pass || fail "soma $cmd --help does not mention $flag"
    done
    run "$cmd" -h
    cmp -s "$tmp/out" "$tmp/help" && pass || fail "soma $cmd -h differs from --help"
    run help "$cmd"
    cmp -s "$tmp/out" "$tmp/help" && pass || fail "soma help $cmd differs from --help"
done
# --help wins over other problems
run train --epochs abc --help
[[ $rc -eq 0 ]] && pass || fail "train --epochs abc --help: rc=$rc"

# Usage errors: exit 2, one line on stderr naming the problem.
expect_usage_error train
expect_stderr "usage: soma train MODEL"
expect_usage_error train mlp --lr-rate 0.1
expect_stderr "soma train: unknown option '--lr-rate' (did you mean '--lr'?)"
expect_usage_error train mlp --epoch 3
expect_stderr "did you mean '--epochs'?"
expect_usage_error train mlp --lr abc
expect_stderr "soma train: --lr expects a positive number, got 'abc'"
for bad in "--lr 0" "--lr -1" "--lr nan" "--lr inf" "--lr 1e-3x" "--lr=" "--lr= 1"; do
    # shellcheck disable=SC2086
    expect_usage_error train mlp $bad
done
for bad in "--epochs 0" "--epochs 100001" "--epochs 1.5" "--epochs 12abc" "--epochs=-3" \
    "--batch 0" "--batch 65537" "--val-split 1" "--val-split -0.1" "--threads 1025" \
    "--threads -1" "--patience -1" "--seed -1" "--seed 1x" "--momentum 1 --opt momentum" \
    "--weight-decay -1" "--warmup -1" "--checkpoint-every -5" "--step-gamma 0 --schedule step"; do
    # shellcheck disable=SC2086
    expect_usage_error train mlp $bad
done
expect_usage_error train mlp --opt adamm
expect_stderr "--opt expects sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw, got 'adamm'"
expect_usage_error train mlp --schedule linear
expect_usage_error train mlp --init glorot_normal # glorot is xavier; tests/cli/values.sh has the aliases
expect_usage_error train mlp --lr
expect_stderr "option '--lr' needs a value"
expect_usage_error train mlp --out --quiet
expect_usage_error train mlp --quiet=1
expect_stderr "option '--quiet' takes no value"
expect_usage_error train mlp extra
expect_stderr "unexpected argument 'extra'"
expect_usage_error train mlp -x
expect_usage_error train mlp --patience 3 --val-split 0
expect_usage_error train mlp --momentum 0.5 --opt adam
expect_usage_error train mlp --epochs 2 --warmup 3
expect_usage_error eval
expect_usage_error eval ckpt --split holdout
expect_usage_error predict ckpt
expect_usage_error predict ckpt x.pgm --top 0
expect_usage_error bench
expect_usage_error bench mlp --steps 0
expect_usage_error info a b
expect_usage_error zoo extra

# info: the LeNet-5 table; its parameter count, computed here by hand:
# conv 1->6 5x5, conv 6->16 5x5, linear 400->120, 120->84, 84->10 (weights + biases).
lenet_params=$(( (1*25+1)*6 + (6*25+1)*16 + (400+1)*120 + (120+1)*84 + (84+1)*10 ))
[[ $lenet_params -eq 61706 ]] && pass || fail "hand count of LeNet-5 is $lenet_params"
run info lenet5
[[ $rc -eq 0 ]] && grep -qF "61,706" "$tmp/out" && pass || fail "soma info lenet5: rc=$rc, no 61,706"
for kind in conv2d maxpool linear; do
    grep -qF "$kind" "$tmp/out" && pass || fail "soma info lenet5 does not show $kind"
done

# info alexnet: its description first (the paper's "60 million" explained),
# then the table with the same exact count (checked by hand in zoo_models_test).
run info alexnet
[[ $rc -eq 0 ]] && head -1 "$tmp/out" | grep -q '^# AlexNet' && pass ||
    fail "soma info alexnet: rc=$rc, does not open with the model's description"
grep -q '^# 60,965,224 parameters: the paper.s "60 million"' "$tmp/out" && pass ||
    fail "soma info alexnet does not relate its count to the paper's 60 million"
grep -qxE 'parameters: 60,965,224 .*' "$tmp/out" && pass || fail "soma info alexnet: not 60,965,224"
grep -qE '^ +4 +conv2d +2x128@5x5 pad 2 ' "$tmp/out" && pass || fail "soma info alexnet: conv2 groups"

# zoo (and info without an argument) list the built-in models.
run zoo
[[ $rc -eq 0 ]] && pass || fail "soma zoo: rc=$rc"
for model in lenet5 mlp vgg-small vgg-small-32 alexnet alexnet-1tower; do
    grep -qE "^$model " "$tmp/out" && pass || fail "soma zoo does not list $model"
done
grep -E "^lenet5 " "$tmp/out" | grep -qF "61,706" && pass || fail "soma zoo: lenet5 is not 61,706"
cp "$tmp/out" "$tmp/zoo"
run info
cmp -s "$tmp/out" "$tmp/zoo" && pass || fail "soma info without an argument differs from soma zoo"

# Errors from the library: exit 1, one line "soma: error: ...".
run info "$tmp/no-such-model.cfg"
[[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] && pass || fail "info missing file: rc=$rc"
expect_stderr "soma: error: "
expect_stderr "no-such-model.cfg"
printf 'input channels=1 height=28 width=28\nconv2d filers=6 size=5\n' >"$tmp/typo.cfg"
run info "$tmp/typo.cfg"
[[ $rc -eq 1 ]] && pass || fail "info of a bad model file: rc=$rc"
expect_stderr "typo.cfg:2"

run train mlp --resume "$tmp/nowhere/last.safetensors"
[[ $rc -eq 1 ]] && pass || fail "train --resume of a missing file: rc=$rc"
expect_stderr "soma: error: $tmp/nowhere/last.safetensors: cannot open"
[[ ! -e "$tmp/nowhere" ]] && pass || fail "train --resume of a missing file created its directory"

# --flag=value and --flag value are the same; options may come before MODEL.
run bench --steps=1 --batch=2 mlp --threads 1 --inference
[[ $rc -eq 0 ]] && grep -q "img/s" "$tmp/out" && pass || fail "bench --steps=1: rc=$rc $(cat "$tmp/err")"
grep -q "^train" "$tmp/out" && fail "bench --inference also timed training" || pass
# --training and --inference together time both (they once printed nothing);
# a time-based run (--seconds) reports the spread and GFLOP/s on each line
run bench mlp --threads 1 --batch 2 --training --inference --seconds 0.02
[[ $rc -eq 0 ]] && grep -qE "^train +[0-9,.]+ img/s .* IQR [0-9,.]+-[0-9,.]+  range [0-9,.]+-[0-9,.]+  [0-9.]+ GFLOP/s  [0-9]+ steps in" "$tmp/out" &&
    grep -qE "^inference +[0-9,.]+ img/s .* GFLOP/s" "$tmp/out" && pass ||
    fail "bench --training --inference: rc=$rc $(cat "$tmp/out" "$tmp/err")"
run bench mlp --threads 1 --batch 2 --steps 7 --training
[[ $rc -eq 0 ]] && grep -qE "^train .* 7 steps in" "$tmp/out" && ! grep -q "^inference" "$tmp/out" &&
    pass || fail "bench --steps 7 --training: rc=$rc $(cat "$tmp/out" "$tmp/err")"
# "--" ends the options
expect_usage_error info -- --not-an-option extra

echo "cli_args: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
