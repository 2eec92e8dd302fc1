#!/usr/bin/env bash
# Image folders end to end: soma convert writes a few hundred Fashion-MNIST
# images (MNIST's subset in data/mnist when Fashion-MNIST is not installed) as
# PNG files; soma train reads them back for one short epoch; the PNG files
# classify exactly as the IDX images they came from; class names go from the
# folder names into the checkpoint and soma predict's output; a val/ folder
# is the validation set; a bad image is one error line naming it, or with
# --skip-bad-images a warning and a run.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
data=fashion-mnist idx=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
if [[ ! -e $idx ]]; then
    data=$src/data/mnist idx=$src/data/mnist/t10k-images-idx3-ubyte.gz
fi

# ---- convert: 300 images a split, every class folder there
run convert --data "$data" --to-folder "$tmp/f" --limit 300
[[ $rc -eq 0 ]] && pass || fail "convert: exit $rc: $(cat "$tmp/err")"
[[ $(find "$tmp/f/train" -name '*.png' | wc -l) -eq 300 && $(find "$tmp/f/test" -name '*.png' | wc -l) -eq 300 ]] &&
    pass || fail "convert --limit 300: not 300 PNG files a split"
[[ $(ls "$tmp/f/train" | tr '\n' ' ') == "0 1 2 3 4 5 6 7 8 9 " ]] && pass ||
    fail "convert: class folders are $(ls "$tmp/f/train" | tr '\n' ' ')"
grep -q "^train: 300 images from" "$tmp/out" && pass || fail "convert: $(cat "$tmp/out")"
run convert --data "$data" --to-folder "$tmp/g" --limit 0
[[ $rc -eq 2 ]] && pass || fail "convert --limit 0: exit $rc"
run convert --data "$tmp/nowhere" --to-folder "$tmp/g"
[[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] && grep -q "$tmp/nowhere" "$tmp/err" && pass ||
    fail "convert from a missing directory: exit $rc: $(cat "$tmp/err")"

# ---- one short epoch on the folder
run train lenet5 --data "$tmp/f" --epochs 1 --batch 32 --threads 2 --out "$tmp/run" --quiet
[[ $rc -eq 0 ]] && pass || fail "train on the folder: exit $rc: $(cat "$tmp/err")"
grep -q "^test accuracy .* on 300 images" "$tmp/out" && pass || fail "train on the folder: $(cat "$tmp/out")"
ckpt=$tmp/run/best.safetensors
grep -qa '"class_names":"\[\\"0\\",\\"1\\"' "$ckpt" && pass || fail "no class_names in $ckpt"

# ---- a PNG classifies exactly as the IDX image it was written from
run predict "$ckpt" "$idx"
idx_line=$(head -1 "$tmp/out") # "0 CLASS P"
first=$(find "$tmp/f/test" -name 000000.png)
run predict "$ckpt" "$first"
png_class=$(sed -E 's/.*: class ([0-9]+) \(p=([0-9.]+)\)/\1 \2/' "$tmp/out")
read -r _ idx_class idx_p <<<"$idx_line"
[[ "$png_class" == "$idx_class $(printf '%.3f' "$idx_p")" ]] && pass ||
    fail "predict: the PNG gives '$png_class', the IDX image '$idx_class $idx_p'"
run eval "$ckpt" --data "$tmp/f" --threads 2
[[ $rc -eq 0 ]] && grep -q "on 300 images" "$tmp/out" && pass || fail "eval on the folder: $(cat "$tmp/out" "$tmp/err")"

# ---- random-resized crops in training; eval of its checkpoint takes the
# same 87.5% centre crop as the run's own test (so the same accuracy)
run train lenet5 --data "$tmp/f" --epochs 1 --batch 32 --threads 2 --out "$tmp/crop-run" --quiet \
    --augment "resized-crop=0.3,flip"
[[ $rc -eq 0 ]] && grep -q '"augment": "resized-crop=0.3:1:0.75:1.3333334@1,flip@0.5"' \
    "$tmp/crop-run/summary.json" && pass || fail "train --augment resized-crop: exit $rc: $(cat "$tmp/err")"
logged=$(grep -o 'test accuracy [0-9.]*%' "$tmp/out")
run eval "$tmp/crop-run/best.safetensors" --threads 2
[[ $rc -eq 0 && -n "$logged" ]] && grep -q "^$logged" "$tmp/out" && pass ||
    fail "eval after resized-crop: not the run's '$logged': $(cat "$tmp/out" "$tmp/err")"

# soma augment previews an image folder fitted to a model's input
run augment --data "$tmp/f" --model lenet5 --augment "resized-crop,flip" --preview "$tmp/grid.png" \
    --samples 2 --copies 3
[[ $rc -eq 0 && -s "$tmp/grid.png" ]] && grep -q "wrote .*: 2 samples, each with 3" "$tmp/out" && pass ||
    fail "augment --model on a folder: exit $rc: $(cat "$tmp/err")"

# ---- class names from the folder names, through the checkpoint to predict
mkdir -p "$tmp/named"
cp -r "$tmp/f/train" "$tmp/named/train"
names=(zero one two three four five six seven eight nine)
for k in 0 1 2 3 4 5 6 7 8 9; do mv "$tmp/named/train/$k" "$tmp/named/train/${k}_${names[$k]}"; done
run train lenet5 --data "$tmp/named" --epochs 1 --batch 32 --threads 2 --out "$tmp/named-run" --quiet
[[ $rc -eq 0 ]] && pass || fail "train on named folders: exit $rc: $(cat "$tmp/err")"
run predict "$tmp/named-run/last.safetensors" "$first" --top 3
grep -qE ": class ([0-9]) \1_[a-z]+ \(p=[0-9.]+\), class ([0-9]) \2_[a-z]+ \(p=" "$tmp/out" && pass ||
    fail "predict does not print the class names: $(cat "$tmp/out")"

# ---- DIR/val: the validation set (train/ whole), also for eval --split val
cp -r "$tmp/f/test" "$tmp/f/val"
run train lenet5 --data "$tmp/f" --epochs 1 --batch 32 --threads 2 --out "$tmp/val-run"
[[ $rc -eq 0 ]] && grep -q "300 training + 300 validation images" "$tmp/out" && pass ||
    fail "train with a val folder: exit $rc: $(head -3 "$tmp/out") $(cat "$tmp/err")"
logged=$(grep -o 'val_acc [0-9.]*%' "$tmp/out" | tail -1 | grep -o '[0-9.]*%')
run eval "$tmp/val-run/last.safetensors" --split val --threads 2
[[ $rc -eq 0 && -n "$logged" ]] && grep -q "val accuracy $logged .* on 300 images" "$tmp/out" && pass ||
    fail "eval --split val: not the logged $logged: $(cat "$tmp/out" "$tmp/err")"
rm -r "$tmp/f/val"

# ---- a bad image: one line naming it, or skipped with a count
bad=$tmp/f/train/3/zz-cut.png
head -c 100 "$first" >"$bad"
run train lenet5 --data "$tmp/f" --epochs 1 --batch 32 --threads 2 --out "$tmp/bad-run" --quiet
[[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] && grep -qF "$bad: truncated PNG" "$tmp/err" && pass ||
    fail "train with a cut PNG: exit $rc: $(cat "$tmp/err")"
run train lenet5 --data "$tmp/f" --epochs 1 --batch 32 --threads 2 --out "$tmp/skip-run" --quiet \
    --skip-bad-images
[[ $rc -eq 0 ]] && grep -qF "soma: warning: skipped 1 unreadable image in $tmp/f/train" "$tmp/err" && pass ||
    fail "train --skip-bad-images: exit $rc: $(cat "$tmp/err")"

finish image_folder.sh
