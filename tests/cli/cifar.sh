#!/usr/bin/env bash
# CIFAR end to end: a folder of CIFAR-10 record files written here (CIFAR
# cannot be downloaded in tests) trains a small 3x32x32 model for an epoch;
# the checkpoint keeps one normalisation pair per channel (the channels are
# made to differ), eval reads the test split, convert writes RGB PNG files
# that train again; a cut file is one line naming it.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

source "${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}/tests/support/cli.sh"
# plane VALUE: 1024 bytes of VALUE (a 32x32 channel)
plane() { head -c 1024 /dev/zero | tr '\0' "\\$(printf '%03o' "$1")"; }
# record LABEL R G B: one CIFAR-10 record of constant channels
record() { printf "\\$(printf '%03o' "$1")"; plane "$2"; plane "$3"; plane "$4"; }
mkdir "$tmp/c10"
for batch in 1 2; do
    for i in 0 1 2 3 4 5 6 7 8 9; do record "$i" $((20 + i)) $((100 + 5 * i)) $((200 + 2 * i)); done \
        >"$tmp/c10/data_batch_$batch.bin"
done
for i in 0 1 2 3 4; do record "$i" $((20 + i)) $((100 + 5 * i)) $((200 + 2 * i)); done >"$tmp/c10/test_batch.bin"
printf 'input channels=3 height=32 width=32\nconv2d filters=4 size=3 stride=2\nrelu\nflatten\nlinear units=10\n' \
    >"$tmp/small.cfg"

run train "$tmp/small.cfg" --data "$tmp/c10" --epochs 1 --batch 4 --val-split 0 --threads 2 --out "$tmp/run"
[[ $rc -eq 0 ]] && pass || fail "train on CIFAR-10 files: exit $rc: $(cat "$tmp/err")"
grep -q "20 training + 0 validation" "$tmp/out" && grep -q "3x32x32, 10 classes" "$tmp/out" &&
    pass || fail "train on CIFAR-10 files: $(head -20 "$tmp/out")"
grep -q "test accuracy .* on 5 images" "$tmp/out" && pass || fail "no test line: $(cat "$tmp/out")"
run info "$tmp/run/last.safetensors"
mean=$(awk '$1 == "norm_mean" { print $2 }' "$tmp/out")
IFS=, read -r r g b <<<"$mean"
[[ -n "$b" && "$r" != "$g" && "$g" != "$b" ]] && pass || fail "norm_mean is not per channel: '$mean'"
awk -v r="$r" -v g="$g" 'BEGIN { exit !(r > 0.08 && r < 0.1 && g > 0.4 && g < 0.5) }' && pass ||
    fail "norm_mean '$mean' is not the channels' means (about 0.096, 0.48, 0.80)"
run eval "$tmp/run/last.safetensors" --data "$tmp/c10" --threads 2
[[ $rc -eq 0 ]] && grep -q "on 5 images" "$tmp/out" && pass || fail "eval: $(cat "$tmp/out" "$tmp/err")"

# ---- as RGB PNG files, and back
run convert --data "$tmp/c10" --to-folder "$tmp/png"
[[ $rc -eq 0 && $(find "$tmp/png" -name '*.png' | wc -l) -eq 25 ]] && pass ||
    fail "convert CIFAR: exit $rc: $(cat "$tmp/out" "$tmp/err")"
run train "$tmp/small.cfg" --data "$tmp/png" --epochs 1 --batch 4 --val-split 0 --threads 2 --out "$tmp/png-run" --quiet
[[ $rc -eq 0 ]] && pass || fail "train on the PNG folder: exit $rc: $(cat "$tmp/err")"
run info "$tmp/png-run/last.safetensors"
[[ "$(awk '$1 == "norm_mean" { print $2 }' "$tmp/out")" == "$mean" ]] && pass ||
    fail "the PNG folder's normalisation differs from the CIFAR files': $(grep norm_mean "$tmp/out") vs $mean"

# ---- class names from batches.meta.txt: into the checkpoint, and folder names
# that keep the label order when the names do not sort
printf 'zebra\nyak\nxerus\nwolf\nvole\nurial\ntapir\nseal\nrat\nquail\n\n' >"$tmp/c10/batches.meta.txt"
run train "$tmp/small.cfg" --data "$tmp/c10" --epochs 1 --batch 4 --threads 2 --out "$tmp/named-run" --quiet
[[ $rc -eq 0 ]] && grep -qa '"class_names":"\[\\"zebra\\",\\"yak\\"' "$tmp/named-run/last.safetensors" && pass ||
    fail "train with batches.meta.txt: exit $rc, no class names in the checkpoint: $(cat "$tmp/err")"
run convert --data "$tmp/c10" --to-folder "$tmp/named-png" --split test
[[ $rc -eq 0 && "$(ls "$tmp/named-png/test" | tr '\n' ' ')" == "0_zebra 1_yak 2_xerus 3_wolf 4_vole 5_urial 6_tapir 7_seal 8_rat 9_quail " ]] &&
    pass || fail "convert with unsorted names: $(ls "$tmp/named-png/test" | tr '\n' ' ') $(cat "$tmp/err")"
[[ -f "$tmp/named-png/test/3_wolf/000003.png" ]] && pass || fail "convert: record 3 (label 3) is not in 3_wolf/"

# ---- a cut file
head -c 5000 "$tmp/c10/data_batch_2.bin" >"$tmp/c10/data_batch_3.bin"
run train "$tmp/small.cfg" --data "$tmp/c10" --epochs 1 --batch 4 --threads 2 --out "$tmp/cut-run"
[[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] &&
    grep -qF "$tmp/c10/data_batch_3.bin: 5000 bytes is not a whole number of 3073-byte CIFAR-10 records" "$tmp/err" &&
    pass || fail "a cut CIFAR file: exit $rc: $(cat "$tmp/err")"

finish cifar.sh
