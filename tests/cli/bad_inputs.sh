#!/usr/bin/env bash
# Bad input never crashes soma and never costs a good file. For every file of
# tests/corpus/ (made by scripts/make-bad-corpus.sh; each name says what is
# wrong) the matching soma commands must exit 1, print exactly one line on
# stderr that names the file and the problem, print no result, end within 20 s
# and not by a signal. Then: bad option values, a resume from a corrupt
# checkpoint that must leave the run directory byte for byte as it was, and
# writes that fail.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
corpus=$src/tests/corpus
good=$corpus/good
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/cwd" # soma runs here: a core file would show up in it
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# run ARGS...: soma (at most 20 s) with stdout, stderr and the exit status kept;
# it runs in $tmp/cwd, or in $run_in when set.
run() {
    set +e
    (cd "${run_in:-$tmp/cwd}" && timeout 20 "$soma" "$@" >"$tmp/out" 2>"$tmp/err")
    rc=$?
    set -e
}

# expect_error STATUS NAME REGEX ARGS...: soma ARGS exits with STATUS, by
# itself (no signal, no timeout), with one line on stderr that contains NAME
# and, NAME aside, matches REGEX (case-insensitive), and nothing on stdout.
expect_error() {
    local status=$1 name=$2 regex=$3
    shift 3
    run "$@"
    local line problems=""
    line=$(head -c 2000 "$tmp/err")
    ((rc < 124)) || problems+=" ended by a signal or the timeout (exit $rc);"
    ((rc == status)) || problems+=" exit $rc, expected $status;"
    [[ $(wc -l <"$tmp/err") -eq 1 ]] || problems+=" $(wc -l <"$tmp/err") lines on stderr;"
    [[ "$line" == *"$name"* ]] || problems+=" does not name $name;"
    grep -qiE -- "$regex" <<<"${line//"$name"/}" || problems+=" does not say /$regex/;"
    [[ ! -s "$tmp/out" ]] || problems+=" stdout: $(head -c 200 "$tmp/out");"
    if [[ -z "$problems" ]]; then pass; else fail "soma $*:$problems stderr: $line"; fi
}
# expect_ok ARGS...: soma ARGS succeeds.
expect_ok() {
    run "$@"
    if [[ $rc -eq 0 ]]; then pass; else fail "soma $*: exit $rc: $(cat "$tmp/err")"; fi
}
# empty_or_absent DIR: nothing was written there
empty_or_absent() { [[ ! -e "$1" || -z "$(ls -A "$1")" ]]; }

# ---- the good fixtures work, so each bad file fails for its own reason
expect_ok train "$good/tiny.cfg" --data "$good" --epochs 1 --batch 8 --threads 1 --quiet --out "$tmp/good-run"
expect_ok eval "$good/tiny.safetensors" --data "$good" --threads 1
expect_ok predict "$good/tiny.safetensors" "$good/digit.pgm" --threads 1
grep -qE '^.*digit.pgm: class [0-2] \(p=' "$tmp/out" && pass || fail "predict digit.pgm: $(cat "$tmp/out")"
expect_ok info "$good/hand.safetensors"
printf 'P5\n2 2\n255\n\x10\x20\x30\x40' >"$tmp/2x2.pgm"
expect_ok predict "$good/hand.safetensors" "$tmp/2x2.pgm"

# ---- what each corpus file must be reported as (a regex, case-insensitive).
# Every file needs an entry and every entry a file, so none goes untested.
declare -A says=(
    # idx/: images-* replace the training images, labels-* the labels
    [images-5x5-for-4x4-model]="1x5x5 images"
    [images-7-dimensions]="7 dimensions"
    [images-claims-39-GB-of-pixels]="the limit is"
    [images-claims-4-billion-images]="4000000000 images; the limit"
    [images-claims-million-images-holds-64-bytes]="truncated"
    [images-claims-million-images-holds-64-bytes.gz]="truncated"
    [images-element-type-float32]="float32.*not supported"
    [images-element-type-int8]="int8.*not supported"
    [images-gzip-cut-short.gz]="truncated gzip"
    [images-gzip-flipped-byte.gz]="corrupt gzip"
    [images-gzip-garbage-after-20-bytes.gz]="truncated gzip"
    [images-is-a-labels-file]="is it a label file"
    [images-trailing-data]="trailing data"
    [images-trailing-data.gz]="trailing data"
    [images-truncated-data]="truncated: expected 960 bytes"
    [images-truncated-data.gz]="truncated: expected 960 bytes"
    [images-truncated-header]="truncated header"
    [images-wrong-magic]="bad magic"
    [images-zero-count]="dimension 1 of 3 is 0"
    [labels-claims-4-billion-labels]="4000000000 labels; the limit"
    [labels-count-59-for-60-images]="60 images but .* 59 labels"
    [labels-empty-file]="empty file"
    [labels-is-an-images-file]="is it an image file"
    [labels-truncated]="truncated"
    [labels-up-to-9-for-3-class-model]="labels up to 9"
    # model/
    [binary-garbage.cfg]="bad character|not a text file"
    [conv-5x5-on-2x2-input.cfg]="5x5 filter does not fit the 2x2 input"
    [conv-groups-do-not-divide-channels.cfg]="groups=2 does not divide the 3 input channels"
    [dropout-p-1.cfg]="'p' must be between"
    [duplicate-key.cfg]="duplicate key 'filters'"
    [empty.cfg]="no 'input' line"
    [huge-number.cfg]="'filters' must be between"
    [input-8x8-for-4x4-data.cfg]="takes 1x8x8 inputs"
    [input-too-large.cfg]="too many"
    [input-zero-channels.cfg]="'channels' must be between"
    [last-layer-not-flat.cfg]="flat vector of class scores"
    [line-too-long.cfg]="longer than 1024"
    [linear-weights-overflow.cfg]="weights are too many"
    [linear-without-flatten.cfg]="add 'flatten'"
    [lrn-k-zero.cfg]="lrn: 'k' must be between"
    [negative-pad.cfg]="'pad' must be between"
    [no-input-line.cfg]="expected 'input"
    [no-layers.cfg]="no layers"
    [non-ascii-outside-comment.cfg]="only ASCII"
    [non-utf8-in-comment.cfg]="invalid UTF-8 byte 0xf6 in a comment"
    [overlong-utf8.cfg]="invalid UTF-8 byte 0xc0 in a comment \(an overlong encoding\)"
    [truncated-utf8-sequence.cfg]="invalid UTF-8 byte 0xe2 in a comment \(a truncated sequence\)"
    [nul-byte.cfg]="NUL byte"
    [one-output-class.cfg]="at least 2"
    [only-comments.cfg]="no 'input' line"
    [second-input-line.cfg]="second 'input' line"
    [size-not-an-integer.cfg]="must be an integer"
    [syntax-missing-equals.cfg]="missing '='"
    [syntax-no-layer-name.cfg]="expected a layer name"
    [syntax-spaces-around-equals.cfg]="missing '='"
    [two-billion-parameters.cfg]="more than 1073741824 parameters"
    [two-outputs-for-3-class-data.cfg]="labels up to 2"
    [unknown-key-near-miss.cfg]="did you mean 'filters'"
    [unknown-layer.cfg]="unknown layer 'convolution'"
    # checkpoint/
    [binary-garbage.safetensors]="over the 100 MiB limit"
    [checksum-key-renamed.safetensors]="has no checksum \(metadata 'soma.crc32' must open the header"
    [checksum-not-first.safetensors]="'soma.crc32' is not the first entry of the header"
    [checksum-not-hex.safetensors]="'soma.crc32' is not 8 lowercase hex digits"
    [empty.safetensors]="0 bytes, too short"
    [epoch-past-epochs.safetensors]="metadata 'epoch' = 7 is past 'epochs' = 2"
    [flipped-data-byte.safetensors]="checksum mismatch"
    [format-from-a-newer-soma.safetensors]="format 'soma-checkpoint-3' is not one this soma reads"
    [global-step-does-not-match-epoch.safetensors]="metadata 'global_step' = 17 does not match 'epoch' = 2 and 'step' = 0 at 8 steps per epoch"
    [header-json-malformed.safetensors]="JSON error"
    [header-json-trailing-comma.safetensors]="trailing comma"
    [header-length-huge.safetensors]="over the 100 MiB limit"
    [header-length-past-end.safetensors]="runs past the end of the file"
    [header-not-an-object.safetensors]="not a safetensors file"
    [header-not-json.safetensors]="not a safetensors file"
    [header-value-flipped.safetensors]="checksum mismatch"
    [hostile-17-dimensions.safetensors]="more dimensions than the 16"
    [hostile-deep-nesting.safetensors]="nested deeper than 64"
    [hostile-duplicate-key.safetensors]="duplicate key"
    [hostile-huge-shape.safetensors]="does not fit its 4 bytes"
    [hostile-invalid-utf8.safetensors]="invalid UTF-8"
    [hostile-metadata-not-a-string.safetensors]="'format' is not a string"
    [hostile-negative-shape.safetensors]="not a non-negative integer"
    [hostile-offsets-gap.safetensors]="not part of any tensor"
    [hostile-offsets-out-of-range.safetensors]="past the end of the data"
    [hostile-offsets-overlap.safetensors]="overlap"
    [hostile-shape-beyond-int64.safetensors]="not a non-negative integer"
    [hostile-unknown-dtype.safetensors]="unknown dtype"
    [missing-norm-metadata.safetensors]="'norm_mean' is missing"
    [model-claims-more-parameters-than-file.safetensors]="more than the file holds"
    [model-text-has-unknown-key.safetensors]="unknown key 'unitz'"
    [no-model-metadata.safetensors]="'model' is missing"
    [norm-mean-huge.safetensors]="metadata 'norm_mean' = 1e\+30 is outside \[0, 1\]"
    [norm-std-not-a-number.safetensors]="'norm_std' is not a number"
    [norm-std-zero.safetensors]="metadata 'norm_std' = 0 is not a positive finite number"
    [not-a-soma-checkpoint.safetensors]="not a soma checkpoint"
    [optimizer-state-inf.safetensors]="tensor 'optimizer.exp_avg_sq' holds inf at index 0"
    [optimizer-steps-not-global-step.safetensors]="metadata 'optimizer.t' = 1000000 differs from 'global_step' = 16"
    [running-var-negative.safetensors]="tensor '1.running_var' holds -1 at index 0, but it is a variance"
    [step-past-epoch-end.safetensors]="metadata 'step' = 9 is past the end of an epoch \(8 steps of batch 8 over 60"
    [tensor-missing.safetensors]="no tensor '1.bias'"
    [tensor-shape-does-not-match-model.safetensors]="has shape \[4,2\], the model expects \[2,4\]"
    [tensor-wrong-dtype.safetensors]="dtype F64, expected F32"
    [truncated-at-4-bytes.safetensors]="4 bytes, too short"
    [truncated-in-data.safetensors]="past the end of the data"
    [truncated-in-header.safetensors]="runs past the end of the file"
    [truncated-last-byte.safetensors]="past the end of the data"
    [v1-without-checksum.safetensors]="has no checksum \(metadata 'soma.checksum' of a soma-checkpoint-1 file is missing"
    [v2-without-checksum.safetensors]="has no checksum \(metadata 'soma.crc32' must open the header"
    [weight-nan.safetensors]="tensor '0.weight' holds nan at index 0"
    # image/ (soma predict)
    [16-bit.pgm]="maxval 65535 is not supported"
    [28x28-for-4x4-model.pgm]="28x28 but the model expects 4x4"
    [ascii-p2.pgm]="only binary 8-bit PGM"
    [corrupt.png]="corrupt PNG: IHDR: CRC error|built with libpng"
    [dimensions-too-large.pgm]="out of range"
    [empty.pgm]="not an image soma can read"
    [header-garbage.pgm]="malformed PGM header"
    [idx-claims-2-million-images-idx3-ubyte]="truncated"
    [idx-labels-not-images-idx1-ubyte]="is it a label file"
    [text-file-named.png]="not an image soma can read"
    [truncated-signature.png]="not an image soma can read"
    [truncated.pgm]="truncated"
    [idat-not-zlib.png]="corrupt PNG: IDAT|built with libpng"
    [idx-28x28-images-for-4x4-model-idx3-ubyte]="images are 1x28x28, the model expects 1x4x4"
    [pgm-16384x16384-holds-10-bytes.pgm]="16384x16384 but the model expects 4x4"
    [rgb-16384x16384-in-69-bytes.png]="16384x16384 but the model expects 4x4|built with libpng"
    [truncated-in-idat.png]="truncated PNG|built with libpng"
    [width-0.png]="corrupt PNG: .*IHDR|built with libpng"
    [jpeg-soi-only.jpg]="corrupt or truncated JPEG: Premature end"
    [jpeg-garbage-after-header.jpg]="corrupt or truncated JPEG"
    [text-file-named.jpg]="not an image soma can read"
    # cifar/: each stands in for data_batch_1.bin
    [cifar10-truncated-record.bin]="3173 bytes is not a whole number of 3073-byte CIFAR-10 records \(1 records and 100 bytes over\)"
    [cifar10-label-10.bin]="record 1: label 10 is out of range \(CIFAR-10 has 10 classes\)"
    [cifar10-empty.bin]="empty file"
    [cifar10-shorter-than-a-record.bin]="not a whole number of 3073-byte CIFAR-10 records \(0 records"
)
declare -A seen=()
for file in "$corpus"/{idx,model,checkpoint,image,cifar}/*; do
    name=$(basename "$file")
    seen[$name]=1
    [[ -n "${says[$name]:-}" ]] && pass || fail "tests/corpus has $name but bad_inputs.sh no expectation for it"
done
for name in "${!says[@]}"; do
    [[ -n "${seen[$name]:-}" ]] && pass || fail "bad_inputs.sh expects $name but tests/corpus lacks it"
done

# ---- IDX: as training data (soma train) and as data to evaluate on (soma eval)
for file in "$corpus"/idx/*; do
    name=$(basename "$file")
    dir=$tmp/data-$name
    mkdir "$dir"
    case $name in
    images-*) cp "$good/train-labels-idx1-ubyte" "$dir/"; target=train-images-idx3-ubyte ;;
    labels-*) cp "$good/train-images-idx3-ubyte" "$dir/"; target=train-labels-idx1-ubyte ;;
    esac
    [[ $name == *.gz ]] && target+=.gz
    cp "$file" "$dir/$target"
    expect_error 1 "$dir" "${says[$name]}" train "$good/tiny.cfg" --data "$dir" --epochs 1 \
        --batch 8 --threads 1 --quiet --out "$tmp/out-$name"
    empty_or_absent "$tmp/out-$name" && pass || fail "train on $name wrote into its output directory"
    expect_error 1 "$dir" "${says[$name]}" eval "$good/tiny.safetensors" --data "$dir" --split train \
        --threads 1
done

# ---- model files: soma train, and soma info (which only checks the model)
for file in "$corpus"/model/*; do
    name=$(basename "$file")
    expect_error 1 "$file" "${says[$name]}" train "$file" --data "$good" --epochs 1 --batch 8 \
        --threads 1 --quiet --out "$tmp/out-$name"
    empty_or_absent "$tmp/out-$name" && pass || fail "train $name wrote into its output directory"
    case $name in
    input-8x8-for-4x4-data.cfg | two-outputs-for-3-class-data.cfg)
        expect_ok info "$file" ;; # a valid model that does not fit the data
    *)
        expect_error 1 "$file" "${says[$name]}" info "$file"
        grep -qE -- "$file:[0-9]+:[0-9]+: " "$tmp/err" && pass || fail "info $name: not file:line:col: $(cat "$tmp/err")"
        ;;
    esac
done

# ---- checkpoints: eval, info, predict, and train --resume
# A resume runs where good/tiny.safetensors was trained: the run's settings
# name its model and data relative to it (tiny.cfg, --data .).
mkdir "$tmp/resume-in"
cp "$good/tiny.cfg" "$good"/*-ubyte "$tmp/resume-in/"
for file in "$corpus"/checkpoint/*; do
    name=$(basename "$file")
    case $name in
    step-past-epoch-end.* | global-step-* | epoch-past-epochs.* | optimizer-steps-not-global-step.*)
        # the run's position: only a resume reads it
        expect_ok eval "$file" --data "$good" --threads 1
        expect_ok info "$file"
        ;;
    *)
        expect_error 1 "$file" "${says[$name]}" eval "$file" --data "$good" --threads 1
        expect_error 1 "$file" "${says[$name]}" info "$file"
        expect_error 1 "$file" "${says[$name]}" predict "$file" "$good/digit.pgm" --threads 1
        ;;
    esac
    # a resume checks first that the checkpoint holds the same model
    run_in=$tmp/resume-in expect_error 1 "$file" "${says[$name]}|holds a different model" train tiny.cfg \
        --data . --epochs 100 --batch 8 --threads 1 --quiet --resume "$file" --out "$tmp/out-$name"
    empty_or_absent "$tmp/out-$name" && pass || fail "resume from $name wrote into its output directory"
done
[[ $(ls "$tmp/resume-in" | wc -l) -eq 5 ]] && pass || fail "a refused resume wrote into $tmp/resume-in: $(ls "$tmp/resume-in")"

# ---- images: soma predict with a good checkpoint
for file in "$corpus"/image/*; do
    name=$(basename "$file")
    expect_error 1 "$file" "${says[$name]}" predict "$good/tiny.safetensors" "$file" --threads 1
done

# ---- CIFAR: as the training data of a CIFAR-10 folder (train), and to evaluate on
for file in "$corpus"/cifar/*; do
    name=$(basename "$file")
    dir=$tmp/cifar-$name
    mkdir "$dir"
    cp "$file" "$dir/data_batch_1.bin"
    expect_error 1 "$dir/data_batch_1.bin" "${says[$name]}" train "$good/tiny.cfg" --data "$dir" \
        --epochs 1 --batch 8 --threads 1 --quiet --out "$tmp/out-$name"
    empty_or_absent "$tmp/out-$name" && pass || fail "train on $name wrote into its output directory"
    expect_error 1 "$dir/data_batch_1.bin" "${says[$name]}" eval "$good/tiny.safetensors" \
        --data "$dir" --split train --threads 1
done

# ---- images in an image folder: the batch that reads one stops the run, naming it;
# --skip-bad-images leaves it out (and the good image trains)
for name in truncated.pgm empty.pgm corrupt.png truncated-in-idat.png idat-not-zlib.png \
    text-file-named.png jpeg-soi-only.jpg jpeg-garbage-after-header.jpg text-file-named.jpg; do
    dir=$tmp/folder-$name
    mkdir -p "$dir/train/a" "$dir/train/b"
    cp "$good/digit.png" "$dir/train/a/good.png"
    cp "$corpus/image/$name" "$dir/train/b/$name"
    expect_error 1 "$dir/train/b/$name" "${says[$name]}" train "$good/tiny.cfg" --data "$dir" \
        --epochs 1 --batch 8 --val-split 0 --threads 1 --quiet --out "$tmp/out-folder-$name"
    run train "$good/tiny.cfg" --data "$dir" --epochs 1 --batch 8 --val-split 0 --threads 1 --quiet \
        --skip-bad-images --out "$tmp/out-skip-$name"
    [[ $rc -eq 0 ]] && grep -q "skipped 1 unreadable image in $dir/train" "$tmp/err" && pass ||
        fail "train --skip-bad-images with $name: exit $rc: $(cat "$tmp/err")"
done

# ---- files that are not there, or are directories
expect_error 1 "$tmp/missing.safetensors" "cannot open" eval "$tmp/missing.safetensors"
expect_error 1 "$tmp/missing.pgm" "cannot open" predict "$good/tiny.safetensors" "$tmp/missing.pgm"
expect_error 1 "$good" "directory" eval "$good"
expect_error 1 "$good" "directory" info "$good"
expect_error 1 "$good" "not an image" predict "$good/tiny.safetensors" "$good"
expect_error 1 "$good" "directory" train "$good" --data "$good" --quiet
expect_error 1 "$tmp/nowhere" "no such directory" train "$good/tiny.cfg" --data "$tmp/nowhere" --quiet
expect_error 1 "unknown model ''" "expected one of" train "" --data "$good" --quiet

# ---- endless streams: refused after a few bytes, not read to the size limit
expect_error 1 /dev/zero "not a safetensors file" eval /dev/zero --data "$good"
expect_error 1 /dev/urandom "over the 100 MiB limit" eval /dev/urandom --data "$good"
expect_error 1 /dev/zero "too large|NUL byte" info /dev/zero
expect_error 1 /dev/zero "too large|NUL byte" train /dev/zero --data "$good" --quiet
expect_error 1 /dev/zero "not an image" predict "$good/tiny.safetensors" /dev/zero
mkdir "$tmp/endless"
cp "$good/train-labels-idx1-ubyte" "$tmp/endless/"
ln -s /dev/zero "$tmp/endless/train-images-idx3-ubyte"
expect_error 1 "$tmp/endless/train-images-idx3-ubyte" "bad magic" train "$good/tiny.cfg" \
    --data "$tmp/endless" --quiet --out "$tmp/out-endless"
# a checkpoint through a pipe is read as far as its header says
expect_ok eval <(cat "$good/tiny.safetensors") --data "$good" --threads 1
expect_error 1 /dev/fd "not part of any tensor" eval <(cat "$good/tiny.safetensors"; echo extra) \
    --data "$good"

# ---- bad option values (tests/cli/args.sh has the others)
usage() { # usage NAME-IN-MESSAGE ARGS...: exit 2, one line naming the option
    local option=$1
    shift
    expect_error 2 "$option" "expects|needs a value|unknown option|takes no value" "$@"
}
k=$good/tiny.safetensors
for value in 0 -1 abc 65537 2.0 " 5"; do usage --batch eval "$k" --batch "$value"; done
for value in -1 1.5 x 1025; do usage --threads eval "$k" --threads "$value"; done
usage --split eval "$k" --split
usage --split eval "$k" --split=
expect_error 2 "--bach" "did you mean '--batch'" eval "$k" --bach 5
for value in abc -1 1001 1e3; do usage --top predict "$k" x.pgm --top "$value"; done
expect_error 2 "--topp" "did you mean '--top'" predict "$k" x.pgm --topp 3
for value in 0 -5 abc; do usage --batch bench mlp --batch "$value"; done
for value in -1 abc 100001; do usage --steps bench mlp --steps "$value"; done
usage --threads bench mlp --threads abc
for value in 0 -1 601 abc; do usage --seconds bench mlp --seconds "$value"; done
expect_error 2 "--seconds" "--steps and  exclude each other" bench mlp --steps 5 --seconds 1
expect_error 2 "--inferense" "did you mean '--inference'" bench mlp --inferense
usage --inference bench mlp --inference=yes
usage --verbose info lenet5 --verbose
# the distributed training flags take no value
usage --sync-bn train mlp --sync-bn=yes
usage --overlap train mlp --overlap=1
expect_error 2 "--synch-bn" "did you mean '--sync-bn'" train mlp --synch-bn
usage --all zoo --all
for value in abc 5x 1.5 -1m m 10s 1e99 ""; do
    usage --checkpoint-every train mlp --checkpoint-every "$value"
done
usage --step-epochs train mlp --step-epochs 0 --schedule step
usage --step-gamma train mlp --step-gamma 1.5 --schedule step
usage --val-split train mlp --val-split abc
usage --seed train mlp --seed 18446744073709551616
usage --epochs train mlp --epochs 99999999999999999999
for value in 1e999 1e-400 0x; do usage --lr train mlp --lr "$value"; done
usage --batch train mlp --batch 2.0
usage --threads train mlp --threads 2.0
usage --weight-decay train mlp --weight-decay abc
usage --warmup train mlp --warmup abc
# augmentation specs: the column of the problem, exit 2, before any data is read
expect_error 2 "--augment: 1:9:" "unknown transform 'rotat' .did you mean 'rotate'.\)$" \
    train mlp --augment "shift=2,rotat=10"
expect_error 2 "--augment: 1:8:" "rotate degrees must be in \(0, 180\], got 200" \
    train mlp --augment "rotate=200"
for spec in "shift=2.5" "flip=1" "flip@2" "crop=4:mirror" "shift=2,," "p=0.5" "elastic=1:2:3" \
    "noise=-1" "flip,none" $'flip\x01' "shift=1e3" "cutout=0" "flip,resized-crop" \
    "resized-crop=0.5:0.2" "resized-crop=0.1:1:0:1" "resized-crop=1:1:1:1:1"; do
    expect_error 2 "--augment: 1:" "train: [0-9]+: [a-z']" train mlp --augment "$spec"
done
expect_error 2 "--augment: 1:1:" "unknown transform 'rotat'" augment --augment rotat \
    --preview "$tmp/never.png"
[[ ! -e "$tmp/never.png" ]] && pass || fail "a bad spec wrote a preview"
expect_error 2 --augment "is required" augment --preview "$tmp/never.png"
expect_error 2 --preview "is required" augment --augment flip
for value in 0 65 x; do usage --samples augment --augment flip --preview x.png --samples "$value"; done
usage --augment train mlp --augment ""
# resized-crop cuts decoded images: on IDX data (in memory, one size) it is
# refused before the run's directory is made
expect_error 1 "resized-crop" "needs an image folder" \
    train "$good/tiny.cfg" --data "$good" --augment resized-crop --out "$tmp/crop-run"
[[ ! -e "$tmp/crop-run" ]] && pass || fail "resized-crop on IDX data made the run's directory"
for value in 0 51 x; do usage --tta train mlp --tta "$value"; done
expect_error 2 "--tta 26" "1..25" train mlp --tta 26 --augment shift=1
for value in 0 51 x; do usage --tta eval "$k" --tta "$value"; done
expect_error 2 "--tta 30" "1..25" eval "$k" --tta 30 --data "$good"
for option in --data --resume --out --opt --init --schedule; do
    usage "$option" train mlp "$option"      # no value
    usage "$option" train mlp "$option" ""   # an empty one
done

# ---- a failed resume leaves the run directory byte for byte as it was
run_dir=$tmp/run
expect_ok train "$good/tiny.cfg" --data "$good" --epochs 1 --batch 8 --threads 1 --quiet --out "$run_dir"
cp -r "$run_dir" "$tmp/run-before" 2>/dev/null || mkdir -p "$run_dir" "$tmp/run-before"
for bad in flipped-data-byte truncated-in-data truncated-last-byte header-length-huge hostile-offsets-overlap; do
    expect_error 1 "$bad" "${says[$bad.safetensors]}" train "$good/tiny.cfg" --data "$good" \
        --epochs 2 --batch 8 --threads 1 --quiet --resume "$corpus/checkpoint/$bad.safetensors" \
        --out "$run_dir"
done
# the run's own checkpoint, damaged in place: refused, and left as it is for inspection
cp "$corpus/checkpoint/flipped-data-byte.safetensors" "$tmp/damaged.safetensors"
expect_error 1 "$tmp/damaged.safetensors" "checksum mismatch" train "$good/tiny.cfg" --data "$good" \
    --epochs 2 --batch 8 --threads 1 --quiet --resume "$tmp/damaged.safetensors" --out "$run_dir"
cmp -s "$tmp/damaged.safetensors" "$corpus/checkpoint/flipped-data-byte.safetensors" && pass ||
    fail "the refused checkpoint was modified"
# a good checkpoint that does not match the command: another batch size
expect_error 2 "$run_dir/last.safetensors" "--batch 4 contradicts .*trained with --batch 8" train "$good/tiny.cfg" --data "$good" \
    --epochs 2 --batch 4 --threads 1 --quiet --resume "$run_dir/last.safetensors"
diff -r "$tmp/run-before" "$run_dir" >/dev/null && pass ||
    fail "a failed resume changed $run_dir: $(diff -r "$tmp/run-before" "$run_dir" | head -5)"

# ---- writes that fail: one line, and no temporary file left behind
mkdir -p "$tmp/blocked/last.safetensors" # a directory where the checkpoint goes
expect_error 1 "$tmp/blocked/last.safetensors" "cannot rename.*is a directory" train "$good/tiny.cfg" \
    --data "$good" --epochs 1 --batch 8 --threads 1 --quiet --out "$tmp/blocked" --overwrite
[[ -z "$(find "$tmp/blocked" -name '*.tmp*')" ]] && pass || fail "a failed write left $(find "$tmp/blocked" -name '*.tmp*')"
touch "$tmp/a-file"
expect_error 1 "$tmp/a-file" "not a directory" train "$good/tiny.cfg" --data "$good" --epochs 1 \
    --quiet --out "$tmp/a-file"
expect_error 1 "$tmp/a-file/run" "cannot create directory" train "$good/tiny.cfg" --data "$good" \
    --epochs 1 --quiet --out "$tmp/a-file/run"
expect_error 1 "/proc/soma-run" "cannot create directory" train "$good/tiny.cfg" --data "$good" \
    --epochs 1 --quiet --out /proc/soma-run
if [[ $(id -u) -ne 0 ]]; then # root writes through permissions
    mkdir "$tmp/read-only"
    chmod 555 "$tmp/read-only"
    expect_error 1 "$tmp/read-only" "permission denied" train "$good/tiny.cfg" --data "$good" \
        --epochs 1 --batch 8 --threads 1 --quiet --out "$tmp/read-only"
    empty_or_absent "$tmp/read-only" && pass || fail "wrote into a read-only directory"
fi

# ---- soma report: run directories with missing or corrupt records
rep=$tmp/report-runs
good_run=$tmp/good-run
bad_run() { rm -rf "$rep/$1" && mkdir -p "$rep" && cp -r "$good_run" "$rep/$1"; }
bad_run no-metrics && rm "$rep/no-metrics/metrics.csv"
expect_error 1 "$rep/no-metrics/metrics.csv" "cannot open" report "$rep/no-metrics" --out "$tmp/r.html"
bad_run no-summary && rm "$rep/no-summary/summary.json"
expect_error 1 "$rep/no-summary/summary.json" "cannot open" report "$rep/no-summary" --out "$tmp/r.html"
bad_run garbage-metrics && echo "1,garbage,,,,,," >>"$rep/garbage-metrics/metrics.csv"
expect_error 1 "$rep/garbage-metrics/metrics.csv" ":3: not a metrics row" report "$rep/garbage-metrics" \
    --out "$tmp/r.html"
bad_run empty-metrics && head -1 "$good_run/metrics.csv" >"$rep/empty-metrics/metrics.csv"
expect_error 1 "$rep/empty-metrics/metrics.csv" "no epochs" report "$rep/empty-metrics" --out "$tmp/r.html"
bad_run cut-summary && head -c 100 "$good_run/summary.json" >"$rep/cut-summary/summary.json"
expect_error 1 "$rep/cut-summary/summary.json" "JSON error" report "$rep/cut-summary" --out "$tmp/r.html"
bad_run array-summary && echo "[1, 2]" >"$rep/array-summary/summary.json"
expect_error 1 "$rep/array-summary/summary.json" "not a run summary" report "$rep/array-summary" \
    --out "$tmp/r.html"
bad_run bad-steps && echo "1,1,x,0.1,2" >>"$rep/bad-steps/steps.csv"
expect_error 1 "$rep/bad-steps/steps.csv" "not a steps row" report "$rep/bad-steps" --out "$tmp/r.html"
bad_run bad-confusion && echo "9,1,2" >>"$rep/bad-confusion/confusion.csv"
expect_error 1 "$rep/bad-confusion/confusion.csv" "more rows than classes|too few cells" \
    report "$rep/bad-confusion" --out "$tmp/r.html"
bad_run bad-mistakes && echo "3,1,1,7" >>"$rep/bad-mistakes/misclassified.csv"
expect_error 1 "$rep/bad-mistakes/misclassified.csv" "not a misclassified row" \
    report "$rep/bad-mistakes" --out "$tmp/r.html"
bad_run bad-grid && echo "not a png" >"$rep/bad-grid/misclassified.png"
expect_error 1 "$rep/bad-grid/misclassified.png" "not a PNG" report "$rep/bad-grid" --out "$tmp/r.html"
bad_run linked && rm "$rep/linked/metrics.csv" && ln -s /dev/zero "$rep/linked/metrics.csv"
expect_error 1 "$rep/linked/metrics.csv" "not a regular file" report "$rep/linked" --out "$tmp/r.html"
expect_error 1 "$tmp/no-such-run" "cannot open" report "$tmp/no-such-run" --out "$tmp/r.html"
expect_error 1 "$good/tiny.cfg" "not a run directory" report "$good/tiny.cfg" --out "$tmp/r.html"
[[ ! -e "$tmp/r.html" ]] && pass || fail "a refused report wrote its page"
expect_error 2 "report" "at least one run directory" report --out "$tmp/r.html"
expect_ok report "$good_run" --out "$tmp/r.html"
expect_error 2 "optimisers" "unknown experiment.*did you mean 'optimizers'" experiment optimisers
expect_error 2 "experiment" "name an .*optimizers, init, dropout or batchnorm" experiment --quick
expect_error 1 "$tmp/a-file" "not a directory|cannot create" experiment init --quick --out "$tmp/a-file"
# ---- interop: weights from elsewhere (soma import), --init-from, soma export
# A soma checkpoint is also a state_dict of its model: the good case first.
expect_ok import "$good/tiny.safetensors" --model "$good/tiny.cfg" --out "$tmp/imported.safetensors" \
    --input-scale 1/255
sed 's/filters=2/filters=3/' "$good/tiny.cfg" >"$tmp/wide.cfg"          # other shapes
sed 's/^relu$/relu\nconv2d filters=2 size=1/' "$good/tiny.cfg" >"$tmp/deeper.cfg" # more tensors
expect_error 1 "$good/tiny.safetensors" \
    "problems with the model .*'0.weight' has shape \\[2,1,3,3\\], layer 0 \\(conv2d\\) expects \\[3,1,3,3\\]" \
    import "$good/tiny.safetensors" --model "$tmp/wide.cfg" --out "$tmp/no.safetensors" \
    --input-scale 1/255
expect_error 1 "$good/tiny.safetensors" "missing tensor '3.weight'.*missing tensor '3.bias'" \
    import "$good/tiny.safetensors" --model "$tmp/deeper.cfg" --out "$tmp/no.safetensors" \
    --input-scale 1/255
head -c 300 "$good/tiny.safetensors" >"$tmp/truncated.safetensors"
expect_error 1 "$tmp/truncated.safetensors" "past the end|truncated|shorter|data section" \
    import "$tmp/truncated.safetensors" --model "$good/tiny.cfg" --out "$tmp/no.safetensors" \
    --input-scale 1/255
# the checksum's key renamed (the file is then any safetensors file), a dtype changed
perl -0777 -pe 's/soma\.crc32/soma.crcXX/; s/"dtype":"F32"/"dtype":"F99"/' \
    "$good/tiny.safetensors" >"$tmp/unknown-dtype.safetensors"
expect_error 1 "$tmp/unknown-dtype.safetensors" "dtype" \
    import "$tmp/unknown-dtype.safetensors" --model "$good/tiny.cfg" --out "$tmp/no.safetensors" \
    --input-scale 1/255
perl -0777 -pe 's/soma\.crc32/soma.crcXX/; s/"dtype":"F32"/"dtype":"I32"/' \
    "$good/tiny.safetensors" >"$tmp/int-weights.safetensors"
expect_error 1 "$tmp/int-weights.safetensors" "has dtype I32 \\(F32, F16, BF16 or F64 are read\\)" \
    import "$tmp/int-weights.safetensors" --model "$good/tiny.cfg" --out "$tmp/no.safetensors" \
    --input-scale 1/255
printf 'PK\3\4 a zip archive, as torch.save writes' >"$tmp/weights.pt"
expect_error 1 "$tmp/weights.pt" "torch.save .*safetensors.torch.save_file" \
    import "$tmp/weights.pt" --model "$good/tiny.cfg" --out "$tmp/no.safetensors" --input-scale 1
[[ ! -e "$tmp/no.safetensors" ]] && pass || fail "a failed import wrote a checkpoint"
expect_error 1 "$tmp/no-such-map" "cannot open" import "$good/tiny.safetensors" \
    --model "$good/tiny.cfg" --out "$tmp/no.safetensors" --input-scale 1/255 --map "$tmp/no-such-map"
expect_error 1 "$good/tiny.safetensors" "renaming 'features=...' matches no tensor" \
    import "$good/tiny.safetensors" --model "$good/tiny.cfg" --out "$tmp/no.safetensors" \
    --input-scale 1/255 --map features=
expect_error 2 "--input-scale" "expected a positive number" import "$good/tiny.safetensors" \
    --model "$good/tiny.cfg" --out "$tmp/no.safetensors" --input-scale 1/0
expect_error 2 "--mean" "input channel" import "$good/tiny.safetensors" --model "$good/tiny.cfg" \
    --out "$tmp/no.safetensors" --mean 0.1,0.2 --std 0.3
# export of a damaged checkpoint: refused, nothing written
cp "$good/tiny.safetensors" "$tmp/flipped.safetensors"
printf '\x55' | dd of="$tmp/flipped.safetensors" bs=1 seek=$(($(stat -c %s "$tmp/flipped.safetensors") - 3)) \
    conv=notrunc status=none
expect_error 1 "$tmp/flipped.safetensors" "checksum mismatch" export "$tmp/flipped.safetensors" \
    --onnx "$tmp/flipped.onnx"
[[ ! -e "$tmp/flipped.onnx" ]] && pass || fail "export of a damaged checkpoint wrote a file"
expect_error 1 "$tmp/truncated.safetensors" "past the end|truncated|shorter|data section" \
    export "$tmp/truncated.safetensors" --onnx "$tmp/flipped.onnx"
# --init-from a checkpoint of another model: the layer named, no run directory made
expect_error 1 "$good/tiny.safetensors" "layer 0 \\(conv2d\\) of .* does not fit: '0.weight' is F32 \\[2,1,3,3\\]" \
    train "$tmp/wide.cfg" --data "$good" --epochs 1 --batch 8 --threads 1 --quiet \
    --init-from "$good/tiny.safetensors" --out "$tmp/init-run"
empty_or_absent "$tmp/init-run" && pass || fail "a refused --init-from made $tmp/init-run"
expect_error 1 "$tmp/flipped.safetensors" "checksum mismatch" train "$good/tiny.cfg" \
    --data "$good" --epochs 1 --batch 8 --threads 1 --quiet --init-from "$tmp/flipped.safetensors" \
    --out "$tmp/init-run"

# ---- nothing dumped core
[[ -z "$(ls -A "$tmp/cwd")" ]] && pass || fail "files appeared in the working directory: $(ls "$tmp/cwd")"

echo "bad_inputs: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
