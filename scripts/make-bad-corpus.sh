#!/usr/bin/env bash
# Regenerates tests/corpus/: small good fixtures and, for every reader, bad
# files whose names say what is wrong with them. tests/cli/bad_inputs.sh runs
# soma on each committed file; this script only exists to rebuild them.
#
# Usage: scripts/make-bad-corpus.sh SOMA_BIN [OUT_DIR]   (default tests/corpus)
#
# Needs only bash, coreutils and gzip. SOMA_BIN trains the tiny model once to
# get a real checkpoint (good/tiny.safetensors), from which the damaged
# checkpoints are cut. Checkpoints are sealed with a CRC32 of the whole file
# (soma-checkpoint-2): the files that must fail a later check (a value, the
# model text, a tensor's shape) are resealed after the edit, computed here
# with gzip (its trailer holds the CRC32 of its input), so that they pass the
# checksum and fail the check they are named for. The fuzz seeds in
# fuzz/corpus/checkpoint/ and fuzz/corpus/safetensors/checkpoint.safetensors
# are written here as well.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
soma=$(cd "$(dirname "${1:?usage: scripts/make-bad-corpus.sh SOMA_BIN [OUT_DIR]}")" && pwd)/$(basename "$1")
out=${2:-$root/tests/corpus}
seeds=$root/fuzz/corpus/checkpoint
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -rf "$out"/{good,idx,model,checkpoint,image,cifar}
mkdir -p "$out"/{good,idx,model,checkpoint,image,cifar} "$seeds"

# ------------------------------------------------------------ byte helpers
hex8() { printf "\\x$(printf %02x $(($1 & 255)))"; }
be32() { hex8 $(($1 >> 24)); hex8 $(($1 >> 16)); hex8 $(($1 >> 8)); hex8 "$1"; }
le64() { local i; for i in 0 8 16 24 32 40 48 56; do hex8 $(($1 >> i)); done; }
# A deterministic byte stream (a linear congruential generator), N bytes.
noise() {
    local n=$1 x=${2:-12345} i
    for ((i = 0; i < n; i++)); do
        x=$(((x * 1103515245 + 12345) & 0x7fffffff))
        hex8 $((x >> 16))
    done
}
# Overwrites one byte of FILE at OFFSET with VALUE.
poke() { hex8 "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
peek() { od -An -tu1 -j"$2" -N1 "$1" | tr -d ' '; }
# safetensors FILE HEADER_JSON [DATA_FILE]: 8-byte length, header padded
# with spaces so the data starts 8-byte aligned, then the data.
safetensors() {
    local file=$1 header=$2 data=${3:-/dev/null}
    local n=${#header}
    local pad=$(((8 - (8 + n) % 8) % 8))
    { le64 $((n + pad)); printf '%s' "$header"; printf "%${pad}s" ''; cat "$data"; } >"$file"
}
header_len() { # the N of a safetensors file
    local b=($(od -An -tu1 -N8 "$1")) n=0 i
    for ((i = 7; i >= 0; i--)); do n=$((n * 256 + b[i])); done
    echo "$n"
}
# The whole-file CRC32: soma's header starts {"__metadata__":{"soma.crc32":"
# and the 8 hex digits at byte 39 are the CRC32 of the file with them as '0'.
crc_at=39
seal() {
    local file=$1 crc
    [[ $(head -c $crc_at "$file" | tail -c +9) == '{"__metadata__":{"soma.crc32":"' ]] ||
        { echo "make-bad-corpus: $file has no soma.crc32 to seal" >&2; exit 1; }
    printf 00000000 | dd of="$file" bs=1 seek=$crc_at conv=notrunc status=none
    crc=$(gzip -c <"$file" | tail -c 8 | od -An -tu4 -N4 | tr -d ' ')
    printf %08x "$crc" | dd of="$file" bs=1 seek=$crc_at conv=notrunc status=none
}
# checkpoint FILE METADATA TENSORS [DATA_FILE]: a sealed soma checkpoint, its
# metadata (JSON members, without braces) after the checksum.
checkpoint() {
    safetensors "$1" "{\"__metadata__\":{\"soma.crc32\":\"00000000\",$2},$3}" "${4:-/dev/null}"
    seal "$1"
}
header_of() { # the header of a safetensors file, without its padding
    local h
    h=$(head -c $((8 + $(header_len "$1"))) "$1" | tail -c +9)
    printf '%s' "${h%"${h##*[! ]}"}"
}
# recut FROM TO SED_SCRIPT: TO is FROM with its header edited, resealed.
recut() {
    tail -c +$((9 + $(header_len "$1"))) "$1" >"$tmp/data"
    safetensors "$2" "$(header_of "$1" | sed -E "$3")" "$tmp/data"
    seal "$2"
}
# poke_f32 FILE TENSOR B0 B1 B2 B3: the tensor's first float becomes those
# bytes (little-endian), and the file is resealed.
poke_f32() {
    local begin i bytes=("${@:3}")
    begin=$(header_of "$1" | grep -o "\"$2\":{[^}]*}" | sed -E 's/.*"data_offsets":\[([0-9]+),.*/\1/')
    for i in 0 1 2 3; do
        poke "$1" $((8 + $(header_len "$1") + begin + i)) $((bytes[i]))
    done
    seal "$1"
}

# ------------------------------------------------------------ good fixtures
# tiny.cfg: 4x4 gray images, 3 classes; conv + batchnorm so that the
# checkpoint holds weights, running statistics and optimizer state.
cat >"$out/good/tiny.cfg" <<'EOF'
# A tiny model for the bad-input tests: 4x4 gray images, 3 classes.
input channels=1 height=4 width=4
conv2d filters=2 size=3 pad=1
batchnorm
relu
flatten
linear units=3
EOF
# 60 images: class 0 bright top half, class 1 bright left half, class 2 dark.
pixels() {
    local i p label bright
    for ((i = 0; i < $1; i++)); do
        label=$((i % 3))
        for ((p = 0; p < 16; p++)); do
            bright=$(((label == 0 && p < 8) || (label == 1 && p % 4 < 2)))
            if ((bright)); then hex8 $((200 + (i * 7 + p * 13) % 50)); else hex8 $(((i * 11 + p * 5) % 80)); fi
        done
    done
}
labels() { local i; for ((i = 0; i < $1; i++)); do hex8 $((i % 3)); done; }
{ printf '\x00\x00\x08\x03'; be32 60; be32 4; be32 4; pixels 60; } >"$out/good/train-images-idx3-ubyte"
{ printf '\x00\x00\x08\x01'; be32 60; labels 60; } >"$out/good/train-labels-idx1-ubyte"
cp "$out/good/train-images-idx3-ubyte" "$out/good/t10k-images-idx3-ubyte"
cp "$out/good/train-labels-idx1-ubyte" "$out/good/t10k-labels-idx1-ubyte"
{ printf 'P5\n4 4\n255\n'; pixels 1; } >"$out/good/digit.pgm"

# A real checkpoint, trained by soma with relative paths (so the recorded
# command holds no path of this machine).
mkdir "$tmp/train"
cp "$out/good/tiny.cfg" "$tmp/train/"
cp "$out"/good/*-ubyte "$tmp/train/"
(cd "$tmp/train" && PATH="$(dirname "$soma"):$PATH" "$(basename "$soma")" train tiny.cfg \
    --data . --epochs 2 --batch 8 --opt adam --val-split 0 --threads 1 --seed 1 --out run --quiet) >/dev/null
good_ckpt=$out/good/tiny.safetensors
cp "$tmp/train/run/last.safetensors" "$good_ckpt"

# A hand-made checkpoint: no optimizer, zero weights. Each hand-made bad
# checkpoint below differs from it in one way only.
hand_model='input channels=1 height=2 width=2\nflatten\nlinear units=2\n'
hand_meta='"format":"soma-checkpoint-2","model":"'$hand_model'","norm_mean":"0.5","norm_std":"0.25"'
hand_tensors='"1.weight":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]},"1.bias":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}'
head -c 40 /dev/zero >"$tmp/zeros40"
checkpoint "$out/good/hand.safetensors" "$hand_meta" "$hand_tensors" "$tmp/zeros40"

# ------------------------------------------------------------ IDX files
# images-*: stand in for train-images-idx3-ubyte beside good labels;
# labels-*: stand in for train-labels-idx1-ubyte beside good images.
good_images=$out/good/train-images-idx3-ubyte
good_labels=$out/good/train-labels-idx1-ubyte
i=$out/idx
{ printf '\x00\x00\x09\x03'; tail -c +5 "$good_images"; } >"$i/images-element-type-int8"
{ printf '\x00\x00\x0d\x03'; tail -c +5 "$good_images"; } >"$i/images-element-type-float32"
{ printf 'GIF89a'; tail -c +7 "$good_images"; } >"$i/images-wrong-magic"
{ printf '\x00\x00\x08\x07'; tail -c +5 "$good_images"; } >"$i/images-7-dimensions"
head -c 10 "$good_images" >"$i/images-truncated-header"
head -c 500 "$good_images" >"$i/images-truncated-data"
head -c 500 "$good_images" | gzip -9n >"$i/images-truncated-data.gz"
gzip -9nc "$good_images" >"$tmp/images.gz"
head -c 60 "$tmp/images.gz" >"$i/images-gzip-cut-short.gz"
{ head -c 20 "$tmp/images.gz"; noise 40 7; } >"$i/images-gzip-garbage-after-20-bytes.gz"
cp "$tmp/images.gz" "$i/images-gzip-flipped-byte.gz"
poke "$i/images-gzip-flipped-byte.gz" 200 $(($(peek "$tmp/images.gz" 200) ^ 0x55))
{ cat "$good_images"; printf 'extra bytes'; } >"$i/images-trailing-data"
{ cat "$good_images"; printf 'extra bytes'; } | gzip -9n >"$i/images-trailing-data.gz"
{ printf '\x00\x00\x08\x03'; be32 0; be32 4; be32 4; } >"$i/images-zero-count"
# tiny files that claim billions of images or terabytes of pixels
{ printf '\x00\x00\x08\x03'; be32 4000000000; be32 4; be32 4; noise 64 3; } >"$i/images-claims-4-billion-images"
{ printf '\x00\x00\x08\x03'; be32 50000000; be32 28; be32 28; noise 64 4; } >"$i/images-claims-39-GB-of-pixels"
{ printf '\x00\x00\x08\x03'; be32 1000000; be32 28; be32 28; noise 64 5; } >"$i/images-claims-million-images-holds-64-bytes"
{ printf '\x00\x00\x08\x03'; be32 1000000; be32 28; be32 28; noise 64 5; } | gzip -9n \
    >"$i/images-claims-million-images-holds-64-bytes.gz"
{ printf '\x00\x00\x08\x03'; be32 60; be32 5; be32 5; noise 1500 6; } >"$i/images-5x5-for-4x4-model"
cp "$good_labels" "$i/images-is-a-labels-file"
cp "$good_images" "$i/labels-is-an-images-file"
{ printf '\x00\x00\x08\x01'; be32 59; labels 59; } >"$i/labels-count-59-for-60-images"
{ printf '\x00\x00\x08\x01'; be32 60; labels 59; hex8 9; } >"$i/labels-up-to-9-for-3-class-model"
head -c 30 "$good_labels" >"$i/labels-truncated"
{ printf '\x00\x00\x08\x01'; be32 4000000000; } >"$i/labels-claims-4-billion-labels"
: >"$i/labels-empty-file"

# ------------------------------------------------------------ model files
m=$out/model
input='input channels=1 height=4 width=4'
printf '%s\nconv2d filters 2 size=3\nflatten\nlinear units=3\n' "$input" >"$m/syntax-missing-equals.cfg"
printf '%s\nconv2d filters = 2 size=3\nflatten\nlinear units=3\n' "$input" >"$m/syntax-spaces-around-equals.cfg"
printf '%s\nfilters=2 size=3\nflatten\nlinear units=3\n' "$input" >"$m/syntax-no-layer-name.cfg"
printf '%s\nconvolution filters=2 size=3\nflatten\nlinear units=3\n' "$input" >"$m/unknown-layer.cfg"
printf '%s\nconv2d filers=2 size=3\nflatten\nlinear units=3\n' "$input" >"$m/unknown-key-near-miss.cfg"
printf '%s\nconv2d filters=2 filters=3 size=3\nflatten\nlinear units=3\n' "$input" >"$m/duplicate-key.cfg"
printf '%s\nconv2d filters=2 size=3.5\nflatten\nlinear units=3\n' "$input" >"$m/size-not-an-integer.cfg"
printf '%s\nconv2d filters=99999999999999999999 size=3\nflatten\nlinear units=3\n' "$input" >"$m/huge-number.cfg"
printf '%s\nconv2d filters=2 size=3 pad=-1\nflatten\nlinear units=3\n' "$input" >"$m/negative-pad.cfg"
printf '%s\ndropout p=1\nflatten\nlinear units=3\n' "$input" >"$m/dropout-p-1.cfg"
printf 'input channels=1 height=2 width=2\nconv2d filters=2 size=5\nflatten\nlinear units=3\n' >"$m/conv-5x5-on-2x2-input.cfg"
printf '%s\nlinear units=3\n' "$input" >"$m/linear-without-flatten.cfg"
printf '%s\nconv2d filters=2 size=3\n' "$input" >"$m/last-layer-not-flat.cfg"
printf '%s\nflatten\nlinear units=1\n' "$input" >"$m/one-output-class.cfg"
printf 'input channels=1 height=4096 width=4096\nflatten\nlinear units=16777216\n' >"$m/linear-weights-overflow.cfg"
printf 'input channels=1 height=256 width=256\nflatten\nlinear units=32768\n' >"$m/two-billion-parameters.cfg"
printf 'input channels=0 height=4 width=4\nflatten\nlinear units=3\n' >"$m/input-zero-channels.cfg"
printf 'input channels=65536 height=65536 width=65536\nflatten\nlinear units=3\n' >"$m/input-too-large.cfg"
printf 'conv2d filters=2 size=3\nflatten\nlinear units=3\n' >"$m/no-input-line.cfg"
printf '%s\n%s\nflatten\nlinear units=3\n' "$input" "$input" >"$m/second-input-line.cfg"
printf '%s\n' "$input" >"$m/no-layers.cfg"
printf '%s\nflatten\x00\nlinear units=3\n' "$input" >"$m/nul-byte.cfg"
printf '%s\nflatten\nlinear units=3 \xc3\xa9\n' "$input" >"$m/non-ascii-outside-comment.cfg"
# comments may hold UTF-8 only: the model text goes into checkpoint metadata
printf '%s\nflatten # Gr\xf6\xdfe in Latin-1\nlinear units=3\n' "$input" >"$m/non-utf8-in-comment.cfg"
printf '# a slash as two bytes: \xc0\xaf\n%s\nflatten\nlinear units=3\n' "$input" >"$m/overlong-utf8.cfg"
printf '%s\nflatten # cut short: \xe2\x82\nlinear units=3\n' "$input" >"$m/truncated-utf8-sequence.cfg"
{ printf '%s\nflatten\nlinear units=3 # ' "$input"; printf 'x%.0s' $(seq 1100); printf '\n'; } >"$m/line-too-long.cfg"
: >"$m/empty.cfg"
printf '# only a comment\n\n   \n' >"$m/only-comments.cfg"
noise 600 11 >"$m/binary-garbage.cfg"
printf 'input channels=1 height=8 width=8\nflatten\nlinear units=3\n' >"$m/input-8x8-for-4x4-data.cfg"
printf '%s\nflatten\nlinear units=2\n' "$input" >"$m/two-outputs-for-3-class-data.cfg"

# ------------------------------------------------------------ checkpoints
c=$out/checkpoint
size=$(stat -c %s "$good_ckpt")
n=$(header_len "$good_ckpt")
data_start=$((8 + n))
head -c 4 "$good_ckpt" >"$c/truncated-at-4-bytes.safetensors"
head -c $((8 + n / 2)) "$good_ckpt" >"$c/truncated-in-header.safetensors"
head -c $((data_start + (size - data_start) / 2)) "$good_ckpt" >"$c/truncated-in-data.safetensors"
head -c $((size - 1)) "$good_ckpt" >"$c/truncated-last-byte.safetensors"
cp "$good_ckpt" "$c/flipped-data-byte.safetensors"
poke "$c/flipped-data-byte.safetensors" $((data_start + 100)) $(($(peek "$good_ckpt" $((data_start + 100))) ^ 0x10))
{ printf '\xff\xff\xff\xff\xff\xff\xff\xff'; tail -c +9 "$good_ckpt"; } >"$c/header-length-huge.safetensors"
{ le64 $((size)); tail -c +9 "$good_ckpt"; } >"$c/header-length-past-end.safetensors"
# the header's first quote becomes an 'x': {x__metadata__":...
cp "$good_ckpt" "$c/header-json-malformed.safetensors"
poke "$c/header-json-malformed.safetensors" 9 120
safetensors "$c/header-json-trailing-comma.safetensors" \
    "{\"__metadata__\":{\"soma.crc32\":\"00000000\",$hand_meta},$hand_tensors,}" "$tmp/zeros40"
safetensors "$c/header-not-an-object.safetensors" '[1,2,3]'
safetensors "$c/header-not-json.safetensors" 'PK this is a zip file, not a header'
deep=$(printf '[%.0s' $(seq 200))$(printf ']%.0s' $(seq 200))
safetensors "$c/hostile-deep-nesting.safetensors" "{\"x\":$deep}"
safetensors "$c/hostile-huge-shape.safetensors" \
    '{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}' \
    <(head -c 8 /dev/zero)
safetensors "$c/hostile-shape-beyond-int64.safetensors" \
    '{"x":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}' <(head -c 8 /dev/zero)
safetensors "$c/hostile-negative-shape.safetensors" \
    '{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}' <(head -c 8 /dev/zero)
safetensors "$c/hostile-17-dimensions.safetensors" \
    '{"x":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}}' <(head -c 8 /dev/zero)
safetensors "$c/hostile-offsets-out-of-range.safetensors" \
    '{"x":{"dtype":"F32","shape":[2],"data_offsets":[1099511627776,1099511627784]}}' <(head -c 8 /dev/zero)
safetensors "$c/hostile-offsets-overlap.safetensors" \
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}' \
    <(head -c 16 /dev/zero)
safetensors "$c/hostile-offsets-gap.safetensors" \
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}' \
    <(head -c 16 /dev/zero)
safetensors "$c/hostile-unknown-dtype.safetensors" \
    '{"x":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}' <(head -c 16 /dev/zero)
safetensors "$c/hostile-duplicate-key.safetensors" \
    '{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}' \
    <(head -c 8 /dev/zero)
safetensors "$c/hostile-metadata-not-a-string.safetensors" \
    '{"__metadata__":{"format":1},"x":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}' <(head -c 8 /dev/zero)
safetensors "$c/hostile-invalid-utf8.safetensors" \
    $'{"\xff\xfe":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}' <(head -c 8 /dev/zero)
safetensors "$c/not-a-soma-checkpoint.safetensors" \
    '{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]},"bias":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}}' \
    "$tmp/zeros40"
: >"$c/empty.safetensors"
noise 700 21 >"$c/binary-garbage.safetensors"

# The checksum: missing, misplaced, malformed, or not matching one flipped bit.
safetensors "$c/checksum-not-hex.safetensors" \
    "{\"__metadata__\":{\"soma.crc32\":\"zzzzzzzz\",$hand_meta},$hand_tensors}" "$tmp/zeros40"
safetensors "$c/checksum-not-first.safetensors" \
    "{\"__metadata__\":{$hand_meta,\"soma.crc32\":\"00000000\"},$hand_tensors}" "$tmp/zeros40"
# one bit of the key: soma.crc32 becomes soma.crc33, and the file has no checksum
cp "$good_ckpt" "$c/checksum-key-renamed.safetensors"
poke "$c/checksum-key-renamed.safetensors" 35 $(($(peek "$good_ckpt" 35) ^ 1))
# one bit of a metadata value (a digit of norm_std), which the v1 CRC did not cover
at=$(grep -abo '"norm_std":"0\.[0-9]' "$good_ckpt" | cut -d: -f1)
cp "$good_ckpt" "$c/header-value-flipped.safetensors"
poke "$c/header-value-flipped.safetensors" $((at + 14)) $(($(peek "$good_ckpt" $((at + 14))) ^ 1))
safetensors "$c/v2-without-checksum.safetensors" "{\"__metadata__\":{$hand_meta},$hand_tensors}" "$tmp/zeros40"
safetensors "$c/v1-without-checksum.safetensors" \
    "{\"__metadata__\":{${hand_meta/soma-checkpoint-2/soma-checkpoint-1}},$hand_tensors}" "$tmp/zeros40"
checkpoint "$c/format-from-a-newer-soma.safetensors" "${hand_meta/soma-checkpoint-2/soma-checkpoint-3}" \
    "$hand_tensors" "$tmp/zeros40"

# Sealed, so that each fails the check it is named for and not the checksum.
checkpoint "$c/no-model-metadata.safetensors" \
    '"format":"soma-checkpoint-2","norm_mean":"0.5","norm_std":"0.25"' "$hand_tensors" "$tmp/zeros40"
checkpoint "$c/missing-norm-metadata.safetensors" \
    "\"format\":\"soma-checkpoint-2\",\"model\":\"$hand_model\"" "$hand_tensors" "$tmp/zeros40"
checkpoint "$c/norm-std-not-a-number.safetensors" "${hand_meta/\"0.25\"/\"abc\"}" "$hand_tensors" "$tmp/zeros40"
checkpoint "$c/model-text-has-unknown-key.safetensors" "${hand_meta/units=2/unitz=2}" "$hand_tensors" \
    "$tmp/zeros40"
checkpoint "$c/tensor-shape-does-not-match-model.safetensors" "$hand_meta" "${hand_tensors/\[2,4\]/[4,2]}" \
    "$tmp/zeros40"
checkpoint "$c/tensor-missing.safetensors" "$hand_meta" \
    '"1.weight":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]}' <(head -c 32 /dev/zero)
checkpoint "$c/tensor-wrong-dtype.safetensors" "$hand_meta" \
    '"1.weight":{"dtype":"F64","shape":[2,4],"data_offsets":[0,64]},"1.bias":{"dtype":"F32","shape":[2],"data_offsets":[64,72]}' \
    <(head -c 72 /dev/zero)
# the model text asks for 16.7M weights; the file holds 40 bytes
checkpoint "$c/model-claims-more-parameters-than-file.safetensors" "${hand_meta/units=2/units=16777216}" \
    "$hand_tensors" "$tmp/zeros40"

# Values: the real checkpoint with one value changed, resealed. It stands at
# the end of epoch 2 of 2: epoch 2, step 0, global_step 16 (8 steps of batch
# 8 over 60 images), optimizer.t 16.
recut "$good_ckpt" "$c/norm-std-zero.safetensors" 's/"norm_std":"[^"]*"/"norm_std":"0"/'
recut "$good_ckpt" "$c/norm-mean-huge.safetensors" 's/"norm_mean":"[^"]*"/"norm_mean":"1e30"/'
cp "$good_ckpt" "$c/weight-nan.safetensors"
poke_f32 "$c/weight-nan.safetensors" 0.weight 0x00 0x00 0xc0 0x7f
cp "$good_ckpt" "$c/optimizer-state-inf.safetensors"
poke_f32 "$c/optimizer-state-inf.safetensors" optimizer.exp_avg_sq 0x00 0x00 0x80 0x7f
cp "$good_ckpt" "$c/running-var-negative.safetensors"
poke_f32 "$c/running-var-negative.safetensors" 1.running_var 0x00 0x00 0x80 0xbf
# the run's position; only a resume reads it
recut "$good_ckpt" "$c/step-past-epoch-end.safetensors" \
    's/"step":"0"/"step":"9"/; s/"global_step":"16"/"global_step":"25"/; s/"optimizer.t":"16"/"optimizer.t":"25"/; s/"epoch_seen":"0"/"epoch_seen":"60"/'
recut "$good_ckpt" "$c/global-step-does-not-match-epoch.safetensors" \
    's/"global_step":"16"/"global_step":"17"/; s/"optimizer.t":"16"/"optimizer.t":"17"/'
recut "$good_ckpt" "$c/epoch-past-epochs.safetensors" 's/"epoch":"2"/"epoch":"7"/'
recut "$good_ckpt" "$c/optimizer-steps-not-global-step.safetensors" 's/"optimizer.t":"16"/"optimizer.t":"1000000"/'

# ------------------------------------------------------------ images
g=$out/image
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' >"$g/corrupt.png"; noise 40 31 >>"$g/corrupt.png"
printf '\x89PNG\r\n' >"$g/truncated-signature.png"
printf 'This is a text file, not an image.\n' >"$g/text-file-named.png"
{ printf 'P5\n4 4\n255\n'; head -c 5 "$out/good/digit.pgm"; } >"$g/truncated.pgm"
{ printf 'P5\n28 28\n255\n'; noise 784 41; } >"$g/28x28-for-4x4-model.pgm"
{ printf 'P5\n4 4\n65535\n'; noise 32 42; } >"$g/16-bit.pgm"
printf 'P5\n100000 100000\n255\n' >"$g/dimensions-too-large.pgm"
printf 'P5\nfour four\n255\n' >"$g/header-garbage.pgm"
printf 'P2\n4 4\n255\n0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n' >"$g/ascii-p2.pgm"
: >"$g/empty.pgm"
{ printf '\x00\x00\x08\x03'; be32 2000000; be32 4; be32 4; noise 64 43; } >"$g/idx-claims-2-million-images-idx3-ubyte"
cp "$good_labels" "$g/idx-labels-not-images-idx1-ubyte"
# images whose header says they cannot fit a 4x4 model: refused from the
# header alone, before gigabytes of pixels are taken or read
{ printf 'P5\n16384 16384\n255\n'; noise 10 44; } >"$g/pgm-16384x16384-holds-10-bytes.pgm"
{ printf '\x00\x00\x08\x03'; be32 1000000; be32 28; be32 28; noise 64 45; } \
    >"$g/idx-28x28-images-for-4x4-model-idx3-ubyte"
# PNG, chunk by chunk: a chunk's CRC-32 is the one gzip writes in its
# trailer; IDAT is gzip's deflate data between a zlib header and an Adler-32.
png_crc32() { # of stdin, big-endian
    local b=($(gzip -c | tail -c 8 | head -c 4 | od -An -tu1))
    hex8 "${b[3]}"; hex8 "${b[2]}"; hex8 "${b[1]}"; hex8 "${b[0]}"
}
png_adler32() { # of FILE, big-endian
    local a=1 s=0 x
    for x in $(od -An -tu1 -v "$1"); do a=$(((a + x) % 65521)); s=$(((s + a) % 65521)); done
    be32 $((s << 16 | a))
}
png_chunk() { # TYPE DATA_FILE
    be32 "$(wc -c <"$2")"
    { printf '%s' "$1"; cat "$2"; } >"$tmp/chunk"
    cat "$tmp/chunk"
    png_crc32 <"$tmp/chunk"
}
# png_file FILE WIDTH HEIGHT COLOR_TYPE IDAT_FILE: 8-bit, IHDR + one IDAT + IEND
png_file() {
    { be32 "$2"; be32 "$3"; printf '\x08'; hex8 "$4"; printf '\x00\x00\x00'; } >"$tmp/ihdr"
    : >"$tmp/iend"
    { printf '\x89PNG\r\n\x1a\n'; png_chunk IHDR "$tmp/ihdr"; png_chunk IDAT "$5"; png_chunk IEND "$tmp/iend"; } >"$1"
}
png_zlib() { printf '\x78\x9c'; gzip -9nc "$1" | tail -c +11 | head -c -8; png_adler32 "$1"; } # of FILE
# good/digit.png: digit.pgm's pixels, each row after its filter byte (0 = none)
for r in 0 1 2 3; do printf '\x00'; tail -c 16 "$out/good/digit.pgm" | head -c $((4 * r + 4)) | tail -c 4; done >"$tmp/rows"
png_zlib "$tmp/rows" >"$tmp/idat"
png_file "$out/good/digit.png" 4 4 0 "$tmp/idat"
head -c 50 "$out/good/digit.png" >"$g/truncated-in-idat.png"
head -c 100 /dev/zero >"$tmp/zeros100"
png_zlib "$tmp/zeros100" >"$tmp/idat-huge"
png_file "$g/rgb-16384x16384-in-69-bytes.png" 16384 16384 2 "$tmp/idat-huge"
noise 20 46 >"$tmp/idat-noise"
png_file "$g/idat-not-zlib.png" 4 4 0 "$tmp/idat-noise"
png_file "$g/width-0.png" 0 4 0 "$tmp/idat"

# ------------------------------------------------------------ JPEG files (soma predict, image folders)
printf '\xff\xd8\xff' >"$g/jpeg-soi-only.jpg"
{ printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00'; noise 60 47; } >"$g/jpeg-garbage-after-header.jpg"
printf 'This is a text file, not an image.\n' >"$g/text-file-named.jpg"

# ------------------------------------------------------------ CIFAR record files
# each stands in for DIR/data_batch_1.bin (CIFAR-10: 1 label byte + 3072 pixel bytes a record)
k=$out/cifar
{ hex8 3; noise 3072 51; noise 100 52; } >"$k/cifar10-truncated-record.bin"
{ hex8 3; noise 3072 53; hex8 10; noise 3072 54; } >"$k/cifar10-label-10.bin"
: >"$k/cifar10-empty.bin"
{ hex8 1; noise 3000 55; } >"$k/cifar10-shorter-than-a-record.bin"

# ------------------------------------------------------------ fuzz seeds
rm -f "$seeds"/*
cp "$good_ckpt" "$seeds/tiny-trained.safetensors"
cp "$out/good/hand.safetensors" "$seeds/hand.safetensors"
for f in truncated-in-data flipped-data-byte header-json-malformed tensor-shape-does-not-match-model \
    model-claims-more-parameters-than-file missing-norm-metadata hostile-offsets-overlap \
    checksum-key-renamed norm-std-zero weight-nan; do
    cp "$c/$f.safetensors" "$seeds/"
done
# A checkpoint-like file for the safetensors reader, written without soma's
# writer: 0.weight = i/2 - 1, 0.bias = [0.5, -0.25, 3], optimizer.step = 42.
floats() { local b; for b in "$@"; do hex8 $((b)); done; }
{
    floats 0 0 0x80 0xbf 0 0 0 0xbf 0 0 0 0 0 0 0 0x3f 0 0 0x80 0x3f 0 0 0xc0 0x3f
    floats 0 0 0 0x3f 0 0 0x80 0xbe 0 0 0x40 0x40
    floats 42 0 0 0 0 0 0 0
} >"$tmp/foreign-data"
checkpoint "$root/fuzz/corpus/safetensors/checkpoint.safetensors" '"soma.model":"input channels=1\nconv"' \
    '"0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"0.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]},"optimizer.step":{"dtype":"I64","shape":[],"data_offsets":[36,44]}' \
    "$tmp/foreign-data"

echo "make-bad-corpus: $(find "$out" -type f | wc -l) files, $(du -sk "$out" | cut -f1) KiB in $out;" \
    "$(ls "$seeds" | wc -l) fuzz seeds in $seeds"
