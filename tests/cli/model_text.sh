#!/usr/bin/env bash
# What soma accepts as a model, its checkpoints can store: the model's text
# and its file name go into every checkpoint's metadata, which is UTF-8.
# A comment in UTF-8 ("# Größe") trains, checkpoints and resumes; a file
# name that is not UTF-8 is stored escaped (\xff) rather than failing the
# first checkpoint after a whole epoch. (Comments that are not UTF-8 are
# refused when the model is read: tests/corpus/model/, bad_inputs.sh.)
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
good=$src/tests/corpus/good
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
run() { # run ARGS...: soma with stdout, stderr and exit status kept
    set +e
    "$soma" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}
train() { # train MODEL OUT [ARGS...]
    local model=$1 out=$2
    shift 2
    run train "$model" --data "$good" --batch 8 --threads 1 --quiet --out "$out" "$@"
}

# ---- a UTF-8 comment, through training, a checkpoint and a resume
utf8=$tmp/größe.cfg
{ printf '# Größe: 4x4, 3 Klassen — ein Modell für Tests 🙂\n'; cat "$good/tiny.cfg"; } >"$utf8"
run info "$utf8"
check "info $utf8: $(cat "$tmp/err")" test "$rc" -eq 0
train "$utf8" "$tmp/utf8" --epochs 1
check "train $utf8: $(cat "$tmp/err")" test "$rc" -eq 0
check "train $utf8 wrote last.safetensors" test -s "$tmp/utf8/last.safetensors"
check "the checkpoint holds the comment as written" grep -aq 'Größe: 4x4' "$tmp/utf8/last.safetensors"
train "$utf8" "$tmp/utf8" --epochs 2 --resume "$tmp/utf8/last.safetensors"
check "resume of $utf8 (the stored text matches the file's): $(cat "$tmp/err")" test "$rc" -eq 0
run info "$tmp/utf8/last.safetensors"
check "info on its checkpoint: epoch 2: $(cat "$tmp/err")" grep -qE '^  epoch +2$' "$tmp/out"

# ---- a file name that is not UTF-8 (Latin-1 'ÿ')
latin1=$tmp/tiny-$'\xff'.cfg
cp "$good/tiny.cfg" "$latin1"
train "$latin1" "$tmp/latin1" --epochs 1
check "train tiny-\\xff.cfg: $(cat "$tmp/err")" test "$rc" -eq 0
check "train tiny-\\xff.cfg wrote last.safetensors" test -s "$tmp/latin1/last.safetensors"
run info "$tmp/latin1/last.safetensors"
check "info: the stored model_source is escaped: $(grep model_source "$tmp/out")" \
    grep -qF "model_source             $tmp/tiny-\\xff.cfg" "$tmp/out"
check "info: so is the stored command: $(grep command "$tmp/out")" \
    grep -qF "tiny-\\xff.cfg" <(grep '^  command ' "$tmp/out")

echo "model_text.sh: $passed passed, $failed failed"
((failed == 0))
