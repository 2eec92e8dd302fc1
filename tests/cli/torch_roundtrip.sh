#!/usr/bin/env bash
# The PyTorch round trip (scripts/torch_roundtrip.py) on 1,000 MNIST test
# images: soma checkpoints trained here load into the same nn.Sequential and
# give the same logits, and torch's weights (F32 and BF16 state_dicts) come
# in through soma import and give torch's logits, within 1e-4. Models:
# LeNet-5, LeNet-5 with BatchNorm, and one with grouped convolutions, LRN,
# both pools, tanh, sigmoid and dropout (tests/interop/grouped-lrn.cfg).
# Needs Debian's python3-torch in /usr/bin/python3: skipped (77) without it.
# Run by CTest with SOMA_BIN (the soma binary) and SOMA_SOURCE_DIR (the repo root).
set -euo pipefail
source "${SOMA_SOURCE_DIR:?}/tests/support/cli.sh"

python=${SOMA_TORCH_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
    echo "torch_roundtrip: skipped: $python cannot import torch and numpy (apt-get install python3-torch)"
    exit 77
fi
mnist=$src/data/mnist
images=$mnist/t10k-images-idx3-ubyte.gz

roundtrip() { # MODEL [CHECKPOINT]
    local args=(--soma "$soma" --model "$1" --images "$images" --n 1000)
    [[ $# -gt 1 ]] && args+=(--checkpoint "$2")
    if OMP_NUM_THREADS=2 "$python" "$src/scripts/torch_roundtrip.py" "${args[@]}"; then
        pass
    else
        fail "round trip of $1"
    fi
}

roundtrip lenet5
for model in lenet5-bn "$src/tests/interop/grouped-lrn.cfg"; do
    out=$tmp/$(basename "$model" .cfg)
    run train "$model" --data "$mnist" --epochs 1 --threads 2 --quiet --out "$out"
    check "training $model: $(cat "$tmp/err")" test "$rc" = 0
    roundtrip "$model" "$out/last.safetensors"
done

finish torch_roundtrip
