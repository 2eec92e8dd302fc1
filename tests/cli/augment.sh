#!/usr/bin/env bash
# Data augmentation from the command line: `soma augment --preview` writes a
# valid PNG of the expected size that changes with the spec and the seed (and
# not otherwise); `soma train --augment` records the canonical spec, resumes
# with it and refuses another; --tta adds a test accuracy over shifted copies
# (the same as the plain one for 1 copy) to the output and summary.json.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
good=$src/tests/corpus/good

# png_info FILE: "WIDTH HEIGHT COLOR-TYPE" from the signature and IHDR, or "bad"
png_info() {
    local sig
    sig=$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')
    if [[ $sig != 89504e470d0a1a0a ]]; then echo bad; return; fi
    local ihdr
    ihdr=$(head -c 26 "$1" | tail -c 14 | od -An -tx1 | tr -d ' \n')
    [[ ${ihdr:0:8} == 49484452 ]] || { echo bad; return; }
    echo "$((16#${ihdr:8:8})) $((16#${ihdr:16:8})) $((16#${ihdr:26:2}))"
}

spec="shift=2,rotate=10,elastic=34:4,p=0.8"
# ---- previews: 8 rows x (original + 7 copies) of 28x28 cells, 2-pixel gaps
"$soma" augment --data "$src/data/mnist" --augment "$spec" --preview "$tmp/a.png" >"$tmp/out"
check "preview: valid 242x242 grayscale PNG (got $(png_info "$tmp/a.png"))" \
    test "$(png_info "$tmp/a.png")" = "242 242 0"
check "preview: says what it wrote" grep -q "wrote $tmp/a.png: 8 samples, each with 7" "$tmp/out"
"$soma" augment --data "$src/data/mnist" --augment "$spec" --preview "$tmp/a2.png" >/dev/null
check "preview: the same spec and seed give the same file" cmp -s "$tmp/a.png" "$tmp/a2.png"
"$soma" augment --data "$src/data/mnist" --augment "flip@1,cutout=10" --preview "$tmp/b.png" >/dev/null
check "preview: another spec, another image" test "$(png_info "$tmp/b.png")" = "242 242 0"
check "preview: another spec, other pixels" bash -c "! cmp -s '$tmp/a.png' '$tmp/b.png'"
"$soma" augment --data "$src/data/mnist" --augment "$spec" --seed 2 --preview "$tmp/c.png" >/dev/null
check "preview: another seed, other pixels" bash -c "! cmp -s '$tmp/a.png' '$tmp/c.png'"
"$soma" augment --data "$src/data/mnist" --augment "$spec" --samples 3 --copies 2 \
    --preview "$tmp/d.png" >/dev/null
check "preview: 3 rows of 3 cells is 92x92 (got $(png_info "$tmp/d.png"))" \
    test "$(png_info "$tmp/d.png")" = "92 92 0"

# ---- training with augmentation and TTA on the tiny fixture data
"$soma" train "$good/tiny.cfg" --data "$good" --epochs 2 --batch 8 --threads 1 \
    --augment "shift=1, flip" --tta 4 --out "$tmp/run" >"$tmp/train.out"
check "train: prints the canonical spec" grep -q "^augment    shift=1@1,flip@0.5$" "$tmp/train.out"
check "train: prints the TTA accuracy" grep -qE "^test TTA 4 accuracy [0-9.]+%" "$tmp/train.out"
summary=$tmp/run/summary.json
check "summary.json: canonical spec in the settings" \
    grep -q '"augment": "shift=1@1,flip@0.5"' "$summary"
check "summary.json: tta_copies" grep -q '"tta_copies": 4,' "$summary"
check "summary.json: test accuracy with TTA" grep -qE '"test_accuracy_tta": [0-9.]+,' "$summary"
check "summary.json: test accuracy without TTA" grep -qE '"test_accuracy": [0-9.]+,' "$summary"

# eval --tta 1 is the plain evaluation; --tta 3 is deterministic
"$soma" eval "$tmp/run/last.safetensors" --data "$good" --threads 1 --tta 1 >"$tmp/e1"
plain=$(sed -n 's/^test accuracy //p' "$tmp/e1")
tta1=$(sed -n 's/^test TTA 1 accuracy //p' "$tmp/e1")
check "eval --tta 1 equals the plain evaluation ($plain vs $tta1)" test -n "$plain" -a "$plain" = "$tta1"
"$soma" eval "$tmp/run/last.safetensors" --data "$good" --threads 1 --tta 3 >"$tmp/e3"
"$soma" eval "$tmp/run/last.safetensors" --data "$good" --threads 2 --tta 3 >"$tmp/e3b"
check "eval --tta 3 prints a TTA line" grep -q "^test TTA 3 accuracy" "$tmp/e3"
check "eval --tta 3: the same on 1 and 2 threads" cmp -s "$tmp/e3" "$tmp/e3b"
check "eval --tta 3 differs from --tta 1" bash -c "! cmp -s '$tmp/e1' '$tmp/e3'"
# flips make up to 50 copies for this run
"$soma" eval "$tmp/run/last.safetensors" --data "$good" --threads 1 --tta 50 >/dev/null
check "eval --tta 50 with a flipping run" test $? -eq 0

# ---- resume: the recorded spec holds; another is refused
set +e
"$soma" train --resume "$tmp/run/last.safetensors" --augment "shift=2" --epochs 3 \
    >/dev/null 2>"$tmp/err"
rc=$?
set -e
check "resume with another spec: exit 2 (got $rc)" test $rc -eq 2
check "resume with another spec: names both" \
    grep -q -- "--augment shift=2@1 contradicts .*trained with --augment shift=1@1,flip@0.5" \
    "$tmp/err"
"$soma" train --resume "$tmp/run/last.safetensors" --augment "flip@0.5,shift=1" --epochs 3 \
    --threads 1 --quiet >/dev/null 2>"$tmp/err" && fail "reordered spec accepted on resume" || pass
"$soma" train --resume "$tmp/run/last.safetensors" --augment "shift=1,flip" --epochs 3 \
    --threads 1 >"$tmp/resumed.out"
check "resume with the same spec (other spelling)" grep -q "^augment    shift=1@1,flip@0.5$" \
    "$tmp/resumed.out"
"$soma" train --config "$summary" --epochs 1 --threads 1 --out "$tmp/again" >"$tmp/again.out"
check "--config takes the spec" grep -q "^augment    shift=1@1,flip@0.5$" "$tmp/again.out"

# a recorded spec that does not parse is the file's error, with the column
sed 's/"augment": "shift=1@1,flip@0.5"/"augment": "shift=1,rotat=3"/' "$summary" >"$tmp/bad.json"
set +e
"$soma" train --config "$tmp/bad.json" --out "$tmp/never" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
check "--config with a bad recorded spec: exit 1 (got $rc)" test $rc -eq 1
check "--config with a bad recorded spec: one line naming the file and column" \
    grep -qx "soma: error: $tmp/bad.json: settings: 'augment': 1:9: unknown transform 'rotat' (did you mean 'rotate'?)" "$tmp/err"
check "--config with a bad recorded spec: nothing written" test ! -e "$tmp/never"

finish augment
