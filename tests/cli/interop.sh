#!/usr/bin/env bash
# soma import, train --init-from and export on small files made here: the
# imported weights are the ones predict uses (checked against the logits of
# a plain re-implementation in awk for a one-layer model), the normalisation
# options land in the checkpoint, --init-from starts from the weights it
# names, and an ONNX file is written atomically.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail
source "${SOMA_SOURCE_DIR:?}/tests/support/cli.sh"
good=$src/tests/corpus/good

# A linear model on 4x4 images: logits = W x + b, x = (pixel/255 - mean) / std;
# W[k][i] = ((16k + i) % 7 - 3) / 4, b = (0.1, -0.2, 0.3), pixel i = 17 i.
cat >"$tmp/lin.cfg" <<'CFG'
input channels=1 height=4 width=4
flatten
linear units=3
CFG
# W (3x4) and b (3) as a PyTorch state_dict would hold them, F64 to check the conversion.
python_free_safetensors() { # NAME=VALUES... -> a safetensors file of F64 tensors
    local out=$1
    shift
    perl -e '
        my $out = shift; my (@names, @shapes, @vals);
        for (@ARGV) { my ($n, $s, $v) = split /:/; push @names, $n; push @shapes, $s; push @vals, [split /,/, $v]; }
        my ($hdr, $data, $at) = ("", "", 0);
        for my $i (0..$#names) {
            my $bytes = pack("d<*", @{$vals[$i]}); my $end = $at + length $bytes;
            $hdr .= "," if $hdr ne "";
            $hdr .= "\"$names[$i]\":{\"dtype\":\"F64\",\"shape\":[$shapes[$i]],\"data_offsets\":[$at,$end]}";
            $data .= $bytes; $at = $end;
        }
        $hdr = "{$hdr}"; $hdr .= " " x ((8 - (8 + length $hdr) % 8) % 8);
        open my $f, ">", $out or die; binmode $f;
        print $f pack("Q<", length $hdr), $hdr, $data;' "$out" "$@"
}
weights=$(awk 'BEGIN { for (j = 0; j < 48; j++) printf "%s%g", j ? "," : "", (j % 7 - 3) / 4 }')
python_free_safetensors "$tmp/lin.safetensors" "1.weight:3,16:$weights" "1.bias:3:0.1,-0.2,0.3"
{ printf 'P5\n4 4\n255\n'; for i in $(seq 0 15); do printf "\\$(printf %o $((17 * i)))"; done; } \
    >"$tmp/x.pgm"
close() { # "A B C" "A B C": equal within 1e-5 relative
    awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); if (n != split(b, y, " ")) exit 1;
        for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d;
            m = y[i] < 0 ? -y[i] : y[i]; if (d > 1e-5 * (m > 1 ? m : 1)) exit 1 } }'
}
logits() { # MEAN STD: the logits worked out here
    awk -v mean="$1" -v std="$2" 'BEGIN { split("0.1 -0.2 0.3", b, " ");
        for (k = 0; k < 3; k++) { s = b[k + 1];
            for (i = 0; i < 16; i++) s += ((16 * k + i) % 7 - 3) / 4 * (17 * i / 255 - mean) / std;
            printf "%s%.9g", k ? " " : "", s } }'
}

run import "$tmp/lin.safetensors" --model "$tmp/lin.cfg" --out "$tmp/lin-soma.safetensors" \
    --mean 0.5 --std 0.25
check "import of a linear model: $(cat "$tmp/err")" test "$rc" = 0
run predict "$tmp/lin-soma.safetensors" "$tmp/x.pgm" --logits
want=$(logits 0.5 0.25)
got=$(cut -d' ' -f2- "$tmp/out")
check "imported weights give the logits worked out by hand: got '$got', want '$want'" \
    close "$got" "$want"
run info "$tmp/lin-soma.safetensors"
check "info shows the normalisation given" grep -q "norm_std *0.25" "$tmp/out"

# --input-scale 1: raw pixels, i.e. mean 0 and std 1/255
run import "$tmp/lin.safetensors" --model "$tmp/lin.cfg" --out "$tmp/raw.safetensors" \
    --input-scale 1
run predict "$tmp/raw.safetensors" "$tmp/x.pgm" --logits
want=$(logits 0 0.0039215686)
got=$(cut -d' ' -f2- "$tmp/out")
check "--input-scale 1 feeds raw pixels: got '$got', want '$want'" close "$got" "$want"

# --init-from: training with a vanishing learning rate keeps the imported weights
# (and their normalisation); without it the run starts from its own.
run train "$tmp/lin.cfg" --data "$good" --epochs 1 --batch 8 --threads 1 --quiet \
    --lr 1e-30 --init-from "$tmp/lin-soma.safetensors" --out "$tmp/ft"
check "train --init-from runs: $(cat "$tmp/err")" test "$rc" = 0
run predict "$tmp/lin-soma.safetensors" "$tmp/x.pgm" --logits
before=$(awk '{ printf "%.5f %.5f %.5f", $2, $3, $4 }' "$tmp/out")
run predict "$tmp/ft/last.safetensors" "$tmp/x.pgm" --logits
after=$(awk '{ printf "%.5f %.5f %.5f", $2, $3, $4 }' "$tmp/out")
check "--init-from keeps the weights at lr 1e-30: '$before' vs '$after'" test "$before" = "$after"
check "summary.json records --init-from" \
    grep -q "\"init_from\": \"$tmp/lin-soma.safetensors\"" "$tmp/ft/summary.json"
run train "$tmp/lin.cfg" --data "$good" --epochs 1 --batch 8 --threads 1 --quiet \
    --lr 1e-30 --out "$tmp/fresh"
run predict "$tmp/fresh/last.safetensors" "$tmp/x.pgm" --logits
fresh=$(awk '{ printf "%.5f %.5f %.5f", $2, $3, $4 }' "$tmp/out")
check "without --init-from the weights are others" test "$fresh" != "$before"
check "summary.json without --init-from says null" grep -q '"init_from": null' \
    "$tmp/fresh/summary.json"

# --init-from is one of the run's settings: --config repeats it (the same
# start, so the same weights after the same steps), and a resumed run keeps it
run train --config "$tmp/ft/summary.json" --threads 1 --quiet --out "$tmp/ft-again"
run predict "$tmp/ft-again/last.safetensors" "$tmp/x.pgm" --logits
again=$(awk '{ printf "%.5f %.5f %.5f", $2, $3, $4 }' "$tmp/out")
check "--config repeats --init-from: '$after' vs '$again'" test "$after" = "$again"
check "--config's run records it too" \
    grep -q "\"init_from\": \"$tmp/lin-soma.safetensors\"" "$tmp/ft-again/summary.json"
run train --resume "$tmp/ft/last.safetensors" --epochs 2 --quiet
check "a run begun with --init-from resumes: $(cat "$tmp/err")" test "$rc" = 0
check "the resumed run's summary.json still records --init-from" \
    grep -q "\"init_from\": \"$tmp/lin-soma.safetensors\"" "$tmp/ft/summary.json"

# soma export: a file in place, and an even LRN window refused without touching it
run export "$tmp/lin-soma.safetensors" --onnx "$tmp/lin.onnx"
check "export writes an ONNX file: $(cat "$tmp/err")" test "$rc" = 0 -a -s "$tmp/lin.onnx"
check "the ONNX file names its producer" grep -q soma "$tmp/lin.onnx"
cat >"$tmp/lrn4.cfg" <<'CFG'
input channels=1 height=4 width=4
lrn size=4
flatten
linear units=3
CFG
run train "$tmp/lrn4.cfg" --data "$good" --epochs 1 --batch 8 --threads 1 --quiet --out "$tmp/lrn4"
echo keep >"$tmp/kept.onnx"
run export "$tmp/lrn4/last.safetensors" --onnx "$tmp/kept.onnx"
check "an even LRN size is refused in one line: $(cat "$tmp/err")" \
    test "$rc" = 1 -a "$(wc -l <"$tmp/err")" = 1
check "the refusal names the layer" grep -q "layer 0 (lrn size=4)" "$tmp/err"
check "a refused export leaves the file as it was" test "$(cat "$tmp/kept.onnx")" = keep

finish interop
