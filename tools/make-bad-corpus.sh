#!/usr/bin/env bash
# Regenerates tests/corpus/: small good fixtures and, for every reader, bad
# files whose names say what is wrong with them. tests/cli/bad_inputs.sh runs
# soma on each committed file; this script only exists to rebuild them.
#
# Usage: tools/make-bad-corpus.sh SOMA_BIN [OUT_DIR]   (default tests/corpus)
#
# Needs only bash, coreutils and gzip. SOMA_BIN trains the tiny model once to
# get a real checkpoint (good/tiny.safetensors), from which the damaged
# checkpoints are cut. The fuzz seeds in fuzz/corpus/checkpoint/ are copied
# from here as well.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
soma=$(cd "$(dirname "${1:?usage: tools/make-bad-corpus.sh SOMA_BIN [OUT_DIR]}")" && pwd)/$(basename "$1")
out=${2:-$root/tests/corpus}
seeds=$root/fuzz/corpus/checkpoint
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -rf "$out"/{good,idx,model,checkpoint,image}
mkdir -p "$out"/{good,idx,model,checkpoint,image} "$seeds"

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

# A hand-made checkpoint: no optimizer, no checksum, zero weights. Each
# hand-made bad checkpoint below differs from it in one way only.
hand_model='input channels=1 height=2 width=2\nflatten\nlinear units=2\n'
hand_meta='"__metadata__":{"format":"soma-checkpoint-1","model":"'$hand_model'","norm_mean":"0.5","norm_std":"0.25"}'
hand_tensors='"1.weight":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]},"1.bias":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}'
head -c 40 /dev/zero >"$tmp/zeros40"
safetensors "$out/good/hand.safetensors" "{$hand_meta,$hand_tensors}" "$tmp/zeros40"

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
safetensors "$c/header-json-trailing-comma.safetensors" "{$hand_meta,$hand_tensors,}" "$tmp/zeros40"
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
safetensors "$c/checksum-not-hex.safetensors" \
    "{\"__metadata__\":{\"soma.checksum\":\"zzzzzzzz\",${hand_meta#\"__metadata__\":\{},$hand_tensors}" "$tmp/zeros40"
safetensors "$c/not-a-soma-checkpoint.safetensors" \
    '{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[2,4],"data_offsets":[0,32]},"bias":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}}' \
    "$tmp/zeros40"
safetensors "$c/no-model-metadata.safetensors" \
    "{\"__metadata__\":{\"format\":\"soma-checkpoint-1\",\"norm_mean\":\"0.5\",\"norm_std\":\"0.25\"},$hand_tensors}" \
    "$tmp/zeros40"
safetensors "$c/missing-norm-metadata.safetensors" \
    "{\"__metadata__\":{\"format\":\"soma-checkpoint-1\",\"model\":\"$hand_model\"},$hand_tensors}" "$tmp/zeros40"
safetensors "$c/norm-std-not-a-number.safetensors" \
    "{${hand_meta/\"0.25\"/\"abc\"},$hand_tensors}" "$tmp/zeros40"
safetensors "$c/model-text-has-unknown-key.safetensors" \
    "{${hand_meta/units=2/unitz=2},$hand_tensors}" "$tmp/zeros40"
safetensors "$c/tensor-shape-does-not-match-model.safetensors" \
    "{$hand_meta,${hand_tensors/\[2,4\]/[4,2]}}" "$tmp/zeros40"
safetensors "$c/tensor-missing.safetensors" \
    "{$hand_meta,\"1.weight\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,32]}}" \
    <(head -c 32 /dev/zero)
safetensors "$c/tensor-wrong-dtype.safetensors" \
    "{$hand_meta,\"1.weight\":{\"dtype\":\"F64\",\"shape\":[2,4],\"data_offsets\":[0,64]},\"1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[64,72]}}" \
    <(head -c 72 /dev/zero)
# the model text asks for 16.7M weights; the file holds 40 bytes
safetensors "$c/model-claims-more-parameters-than-file.safetensors" \
    "{${hand_meta/units=2/units=16777216},$hand_tensors}" "$tmp/zeros40"
: >"$c/empty.safetensors"
noise 700 21 >"$c/binary-garbage.safetensors"

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

# ------------------------------------------------------------ fuzz seeds
rm -f "$seeds"/*
cp "$good_ckpt" "$seeds/tiny-trained.safetensors"
cp "$out/good/hand.safetensors" "$seeds/hand.safetensors"
for f in truncated-in-data flipped-data-byte header-json-malformed tensor-shape-does-not-match-model \
    model-claims-more-parameters-than-file missing-norm-metadata hostile-offsets-overlap; do
    cp "$c/$f.safetensors" "$seeds/"
done

echo "make-bad-corpus: $(find "$out" -type f | wc -l) files, $(du -sk "$out" | cut -f1) KiB in $out;" \
    "$(ls "$seeds" | wc -l) fuzz seeds in $seeds"
