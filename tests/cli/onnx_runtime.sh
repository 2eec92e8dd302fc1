#!/usr/bin/env bash
# soma export checked by another runtime: LeNet-5, LeNet-5 with BatchNorm and
# a net of grouped convolutions, LRN, both pools, tanh, sigmoid and dropout
# (tests/interop/grouped-lrn.cfg), trained here for an epoch, exported to
# ONNX and run by onnxruntime (npm onnxruntime-node, its CPU library inside the
# package) on 1,000 MNIST test images: the logits match `soma predict
# --logits` within 1e-4. onnx.checker (Debian python3-onnx) passes on each
# file when /usr/bin/python3 has it.
# onnxruntime-node is installed once into BUILD/interop/node with
# `npm install --ignore-scripts`; without node and npm, or when the install
# fails (offline), the test is skipped (77).
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail
source "${SOMA_SOURCE_DIR:?}/tests/support/cli.sh"

skip() {
    echo "onnx_runtime: skipped: $*"
    exit 77
}
command -v node >/dev/null 2>&1 || skip "no node (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || skip "no npm (apt-get install npm)"
node_dir=$PWD/interop/node # in the build directory: CTest runs the test there
if [[ ! -d $node_dir/node_modules/onnxruntime-node ]]; then
    mkdir -p "$node_dir"
    log=$node_dir/npm-install.log
    if ! (cd "$node_dir" && timeout 300 npm install --ignore-scripts --no-audit --no-fund \
            --no-save onnxruntime-node >"$log" 2>&1); then
        rm -rf "$node_dir/node_modules"
        skip "npm install onnxruntime-node failed (offline?): see $log"
    fi
fi
export NODE_PATH=$node_dir/node_modules
node -e "require('onnxruntime-node')" 2>"$tmp/node-err" ||
    skip "onnxruntime-node does not load here: $(head -1 "$tmp/node-err")"
checker=0
/usr/bin/python3 -c "import onnx" 2>/dev/null && checker=1 ||
    echo "onnx_runtime: note: /usr/bin/python3 has no onnx module: onnx.checker not run"

mnist=$src/data/mnist
# the first 1,000 test images as one IDX file, for soma and onnxruntime alike
gzip -dc "$mnist/t10k-images-idx3-ubyte.gz" >"$tmp/all-idx3-ubyte"
{ printf '\x00\x00\x08\x03\x00\x00\x03\xe8\x00\x00\x00\x1c\x00\x00\x00\x1c'
  head -c $((16 + 1000 * 28 * 28)) "$tmp/all-idx3-ubyte" | tail -c +17; } >"$tmp/images-idx3-ubyte"

for model in lenet5 lenet5-bn "$src/tests/interop/grouped-lrn.cfg"; do
    name=$(basename "$model" .cfg)
    run train "$model" --data "$mnist" --epochs 1 --threads 2 --quiet --out "$tmp/$name"
    check "training $name: $(cat "$tmp/err")" test "$rc" = 0
    run export "$tmp/$name/last.safetensors" --onnx "$tmp/$name.onnx"
    check "export of $name: $(cat "$tmp/err")" test "$rc" = 0
    run predict "$tmp/$name/last.safetensors" "$tmp/images-idx3-ubyte" --logits
    check "soma's logits of $name" test "$rc" = 0 -a "$(wc -l <"$tmp/out")" = 1000
    cp "$tmp/out" "$tmp/$name.logits"
    if node "$src/tests/interop/onnx_logits.js" "$tmp/$name.onnx" "$tmp/images-idx3-ubyte" \
            "$tmp/$name.logits" 1000 1e-4; then
        pass
    else
        fail "onnxruntime's logits of $name"
    fi
    if ((checker)); then
        check "onnx.checker accepts $name.onnx" /usr/bin/python3 -c \
            "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" \
            "$tmp/$name.onnx"
    fi
done

finish onnx_runtime
