#!/usr/bin/env bash
# Data-parallel training equals one process: 2 ranks at global batch 64 end
# with weights bit-identical to one process whose step is split into 2
# slices (--threads 2: the same two sums of two operands), and within 1e-5
# relative of one process unsplit; 3 ranks within 1e-5 too; dropout (mlp)
# and augmentation keyed by the sample's place in the global batch, so they
# split the same way; --sync-bn on LeNet-5 with BatchNorm within 1e-5 of
# one process (SGD: Adam's updates of the conv biases before BatchNorm,
# whose true gradient is 0, would be sign(rounding noise)).
set -euo pipefail
source "$(dirname "$0")/../support/dist.sh"

common=(--data "$tiny" --epochs 1 --batch 64 --seed 3 --quiet --overwrite)
"$soma" train lenet5 "${common[@]}" --threads 2 --out "$tmp/one2" >/dev/null
"$soma" train lenet5 "${common[@]}" --threads 1 --out "$tmp/one1" >/dev/null
mpi 2 train lenet5 "${common[@]}" --threads 1 --out "$tmp/two"
check "2 ranks exit 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
check "only rank 0 prints: one test line" test "$(grep -c '^test accuracy' "$tmp/out")" -eq 1
check "2 ranks == 1 process in 2 slices, bit for bit" same "$tmp/two/last.safetensors" "$tmp/one2/last.safetensors"
check "2 ranks ~ 1 process unsplit" near "$tmp/two/last.safetensors" "$tmp/one1/last.safetensors"
check "the test split among ranks: the same accuracy" test \
    "$(grep '"test_accuracy"' "$tmp/two/summary.json")" = "$(grep '"test_accuracy"' "$tmp/one2/summary.json")"
check "summary.json records 2 processes" grep -q '"processes": 2' "$tmp/two/summary.json"
mpi 3 train lenet5 "${common[@]}" --threads 1 --out "$tmp/three"
check "3 ranks exit 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
check "3 ranks ~ 1 process" near "$tmp/three/last.safetensors" "$tmp/one1/last.safetensors"

# dropout (mlp) and augmentation: masks and transforms by global sample index
aug=(--augment "shift=2,rotate=10")
"$soma" train mlp "${common[@]}" "${aug[@]}" --threads 2 --out "$tmp/mlp1" >/dev/null
mpi 2 train mlp "${common[@]}" "${aug[@]}" --threads 1 --out "$tmp/mlp2"
check "mlp, augmented: 2 ranks exit 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
check "mlp with dropout, augmented: 2 ranks == 2 slices" same "$tmp/mlp2/last.safetensors" "$tmp/mlp1/last.safetensors"

# BatchNorm: --sync-bn statistics over the global batch
sgd=(--opt momentum --lr 0.05)
"$soma" train lenet5-bn "${common[@]}" "${sgd[@]}" --threads 1 --out "$tmp/bn1" >/dev/null
for np in 2 3; do
    mpi "$np" train lenet5-bn "${common[@]}" "${sgd[@]}" --threads 1 --sync-bn --out "$tmp/bn$np"
    check "sync-bn, $np ranks exit 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
    check "sync-bn, $np ranks ~ 1 process" near "$tmp/bn$np/last.safetensors" "$tmp/bn1/last.safetensors"
done
# local statistics (the default) differ from the global batch's
mpi 2 train lenet5-bn "${common[@]}" "${sgd[@]}" --threads 1 --out "$tmp/bnlocal"
check "local BN, 2 ranks exit 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
check "local BN statistics are not the global batch's" \
    bash -c "! '$compare' '$tmp/bnlocal/last.safetensors' '$tmp/bn1/last.safetensors' --relative 1e-5 >/dev/null"
finish dist_equivalence
