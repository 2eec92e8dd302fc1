#!/usr/bin/env bash
# Checkpoints of a distributed run hold nothing per process: a run stopped
# after an epoch on 2 ranks and resumed on 2 ends bit-identical to the run
# never stopped (LeNet-5 with BatchNorm: each rank's running statistics,
# averaged before every checkpoint); resumed as one process it
# ends within 1e-5 of it, and on 3 ranks too (with --sync-bn, which the
# checkpoint keeps: each rank's own statistics would depend on the split).
set -euo pipefail
source "$(dirname "$0")/../support/dist.sh"

common=(--data "$tiny" --batch 64 --seed 5 --opt momentum --lr 0.05 --schedule const --quiet)
mpi 2 train lenet5-bn "${common[@]}" --epochs 3 --threads 1 --out "$tmp/whole"
check "uninterrupted run exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
mpi 2 train lenet5-bn "${common[@]}" --epochs 1 --threads 1 --out "$tmp/part"
check "first epoch exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0

mpi 2 train --resume "$tmp/part/last.safetensors" --epochs 3 --threads 1 --quiet
check "resume on 2 ranks exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
check "resumed on 2 ranks == never stopped, bit for bit" \
    same "$tmp/part/last.safetensors" "$tmp/whole/last.safetensors"
check "metrics.csv of the resumed run: 3 epochs" test "$(wc -l <"$tmp/part/metrics.csv")" -eq 4
check "the same metrics as the run never stopped" \
    test "$(cut -d, -f1-6 "$tmp/part/metrics.csv")" = "$(cut -d, -f1-6 "$tmp/whole/metrics.csv")"

# N ranks to M: the same global batches, split otherwise
sync=("${common[@]}" --sync-bn --threads 1)
mpi 2 train lenet5-bn "${sync[@]}" --epochs 3 --out "$tmp/sync"
check "uninterrupted sync-bn run exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
mpi 2 train lenet5-bn "${sync[@]}" --epochs 1 --out "$tmp/part3"
check "sync-bn first epoch exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
cp -r "$tmp/part3" "$tmp/part1"

mpi 3 train --resume "$tmp/part3/last.safetensors" --epochs 3 --threads 1 --quiet
check "resume on 3 ranks exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
check "2 ranks then 3 ~ 2 ranks throughout" near "$tmp/part3/last.safetensors" "$tmp/sync/last.safetensors"

run train --resume "$tmp/part1/last.safetensors" --epochs 3 --threads 1 --quiet
check "resume as one process exits 0 (rc=$rc): $(cat "$tmp/err")" test "$rc" -eq 0
check "2 ranks then 1 process ~ 2 ranks throughout" near "$tmp/part1/last.safetensors" "$tmp/sync/last.safetensors"
finish dist_resume
