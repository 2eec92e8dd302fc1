#!/usr/bin/env bash
# soma predict over several files: a bad one is one line on stderr and the
# others are still classified (exit 1 at the end); images too large for the
# model are refused from their header, without their pixels' memory; PNG and
# PGM files are classified alike; --top above the model's classes and IDX
# labels the model has no output for are refused, not clamped or scored 0%.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
corpus=$src/tests/corpus
good=$corpus/good # tiny.safetensors: 4x4 gray images, 3 classes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
run() {
    set +e
    "$soma" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}
have_png=1
run predict "$good/tiny.safetensors" "$good/digit.png" --threads 1
grep -q "built with libpng" "$tmp/err" && have_png=0

# ---- [good, bad, good]: two results, one error line, exit 1
bad=$corpus/image/truncated.pgm
run predict "$good/tiny.safetensors" "$good/digit.pgm" "$bad" "$good/digit.pgm" --threads 1
[[ $rc -eq 1 ]] && pass || fail "predict good bad good: exit $rc, expected 1"
[[ $(grep -c "digit.pgm: class [0-2] (p=" "$tmp/out") -eq 2 && $(wc -l <"$tmp/out") -eq 2 ]] && pass ||
    fail "predict good bad good: stdout is not the two results: $(cat "$tmp/out")"
[[ $(wc -l <"$tmp/err") -eq 1 ]] && grep -qF "soma: error: $bad: PGM data is truncated" "$tmp/err" && pass ||
    fail "predict good bad good: stderr is not one line about $bad: $(cat "$tmp/err")"
# every bad file has its line, in order, and the good ones their results
run predict "$good/tiny.safetensors" "$corpus/image/empty.pgm" "$good/digit.pgm" \
    "$corpus/image/28x28-for-4x4-model.pgm" "$tmp/missing.pgm" --threads 1
[[ $rc -eq 1 && $(wc -l <"$tmp/out") -eq 1 && $(wc -l <"$tmp/err") -eq 3 ]] && pass ||
    fail "predict with three bad files: exit $rc, stdout $(cat "$tmp/out"), stderr $(cat "$tmp/err")"
[[ "$(cut -d: -f3 "$tmp/err" | tr -d ' ' | tr '\n' ,)" == "$corpus/image/empty.pgm,$corpus/image/28x28-for-4x4-model.pgm,$tmp/missing.pgm," ]] &&
    pass || fail "predict with three bad files: stderr out of order: $(cat "$tmp/err")"
# a good list still exits 0
run predict "$good/tiny.safetensors" "$good/digit.pgm" "$good/digit.pgm" --threads 1
[[ $rc -eq 0 && ! -s "$tmp/err" ]] && pass || fail "predict good good: exit $rc $(cat "$tmp/err")"

# ---- PNG: the same pixels as digit.pgm give the same answer
if ((have_png)); then
    run predict "$good/tiny.safetensors" "$good/digit.pgm" "$good/digit.png" --top 3 --threads 1
    [[ $rc -eq 0 && "$(sed -n 1p "$tmp/out" | cut -d: -f2)" == "$(sed -n 2p "$tmp/out" | cut -d: -f2)" ]] &&
        pass || fail "digit.png and digit.pgm differ: $(cat "$tmp/out" "$tmp/err")"
fi

# ---- too large for the model: refused from the header, without the pixels'
# memory (768 MiB of RGB, 256 MiB of gray) and in the place of its result
if grep -aq __asan_init "$soma"; then
    echo "predict_files.sh: AddressSanitizer build: the ulimit -v check is skipped"
else
    huge=("$corpus/image/pgm-16384x16384-holds-10-bytes.pgm")
    ((have_png)) && huge+=("$corpus/image/rgb-16384x16384-in-69-bytes.png")
    for file in "${huge[@]}"; do
        set +e
        (ulimit -v 400000 && exec "$soma" predict "$good/tiny.safetensors" "$file" "$good/digit.pgm" \
            --threads 1) >"$tmp/out" 2>"$tmp/err"
        rc=$?
        set -e
        [[ $rc -eq 1 && $(wc -l <"$tmp/out") -eq 1 ]] &&
            grep -qF "$file: image is 16384x16384 but the model expects 4x4" "$tmp/err" && pass ||
            fail "predict $file under ulimit -v 400000: exit $rc, $(cat "$tmp/out" "$tmp/err")"
    done
fi

# ---- --top above the model's classes: refused with both numbers
run predict "$good/tiny.safetensors" "$good/digit.pgm" --top 4 --threads 1
[[ $rc -eq 2 && ! -s "$tmp/out" ]] &&
    grep -qxF "soma predict: --top 4 is more than the 3 classes of $good/tiny.safetensors" "$tmp/err" &&
    pass || fail "predict --top 4 on a 3-class model: exit $rc, $(cat "$tmp/out" "$tmp/err")"
run predict "$good/tiny.safetensors" "$good/digit.pgm" --top 3 --threads 1
[[ $rc -eq 0 ]] && grep -qE "digit.pgm: class [0-2] \(p=[0-9.]+\), class [0-2] \(p=[0-9.]+\), class [0-2] " "$tmp/out" &&
    pass || fail "predict --top 3: exit $rc, $(cat "$tmp/out" "$tmp/err")"

# ---- IDX with labels beside it that the model has no output for: refused as soma eval does
mkdir "$tmp/idx"
cp "$good/t10k-images-idx3-ubyte" "$tmp/idx/t10k-images-idx3-ubyte"
cp "$corpus/idx/labels-up-to-9-for-3-class-model" "$tmp/idx/t10k-labels-idx1-ubyte"
run predict "$good/tiny.safetensors" "$tmp/idx/t10k-images-idx3-ubyte" --threads 1
[[ $rc -eq 1 && ! -s "$tmp/out" && $(wc -l <"$tmp/err") -eq 1 ]] &&
    grep -qF "has 3 outputs but $tmp/idx/t10k-images-idx3-ubyte has labels up to 9" "$tmp/err" && pass ||
    fail "predict on IDX with labels up to 9: exit $rc, $(head -c 300 "$tmp/out") $(cat "$tmp/err")"
run eval "$good/tiny.safetensors" --data "$tmp/idx" --threads 1
grep -qF "has labels up to 9" "$tmp/err" && pass || fail "eval does not refuse labels up to 9 alike: $(cat "$tmp/err")"
# and with its own labels, the accuracy
run predict "$good/tiny.safetensors" "$good/t10k-images-idx3-ubyte" --threads 1
[[ $rc -eq 0 ]] && grep -qE "^accuracy [0-9.]+%  \([0-9]+ of 60 correct" "$tmp/out" && pass ||
    fail "predict on good IDX: exit $rc, $(tail -2 "$tmp/out") $(cat "$tmp/err")"

echo "predict_files: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
