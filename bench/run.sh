#!/usr/bin/env bash
# Side-by-side benchmark of soma and PyTorch on the same machine, same
# threads, same workloads, runs alternating (soma, torch, soma, torch, ...).
# Writes bench/RESULTS.md. See docs/benchmarks.md.
#
# usage: bench/run.sh [--quick] [--reps N] [--threads "1 2"] [--only LIST] [--out FILE] [--no-install]
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/run.sh [options]

Builds soma (Release, in build-bench/) and times it against PyTorch on
LeNet-5 training (Fashion-MNIST), LeNet-5 inference, a BatchNorm/dropout CNN,
AlexNet (its convolutions, and the whole network training and inference),
LeNet-5 training with one core kept busy by another process, and OpenBLAS
sgemm; writes a markdown table.

  --quick          a smoke test (a few minutes): one repetition, fewer timed
                   steps, LeNet-5 trained on the first 10,000 images only
  --reps N         repetitions of every run (default 3; medians are reported)
  --threads LIST   thread counts, e.g. "1" or "1 2" (default "1 2", capped at
                   the number of CPUs); each run is pinned with taskset
  --only LIST      some of: sgemm lenet5-train lenet5-infer bn-cnn-train
                   vgg-small-train (the zoo's VGG-style BN network, batch 64)
                   alexnet-train (AlexNet's convolutions, batch 8)
                   alexnet-b8-train alexnet-b32-train alexnet-infer (the
                   whole AlexNet of models/alexnet.cfg, batch 8, 32, 32)
                   busy (LeNet-5 and LeNet-5-BN training while a pinned busy
                   loop keeps one core busy: rounds of soma with its default
                   threads then 1 thread, seconds apart; PyTorch default
                   and 1 thread)
                   lenet5-dist (data-parallel training, one epoch of LeNet-5
                   and of the BN CNN: soma 1 process x 1 and x 2 threads,
                   soma 2 MPI ranks x 1 thread, PyTorch DDP gloo 2 processes
                   x 1 thread; needs 2 CPUs, Open MPI's mpirun)
                   pair (the LeNet-5 goals from runs seconds apart: rounds
                   of sgemm and one epoch on 1 thread, on CPU 0 and on CPU
                   1, then on 2 threads; then two 1-thread runs at once on
                   CPUs 0 and 1; needs 2 CPUs)
                   winograd (bench/winograd.sh: Winograd against the
                   convolution algorithm chosen without it, per 3x3 layer and
                   on whole models; appended to the table)
                   (default: all)
  --out FILE       where the table goes (default bench/RESULTS.md)
  --no-install     do not apt-get install missing packages; fail instead
  -h, --help       this help
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND="bench/run.sh${*:+ $*}"
PY=/usr/bin/python3 # Debian's: python3-torch installs there, not in a pyenv
ALL_WORKLOADS="sgemm lenet5-train lenet5-infer bn-cnn-train vgg-small-train alexnet-train alexnet-b8-train alexnet-b32-train alexnet-infer busy lenet5-dist pair winograd"
QUICK=0 REPS='' THREADS="1 2" OUT="$ROOT/bench/RESULTS.md" INSTALL=1 ONLY=$ALL_WORKLOADS
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS=${2:?--reps needs a number}; shift ;;
        --reps=*) REPS=${1#*=} ;;
        --threads) THREADS=${2:?--threads needs a list}; shift ;;
        --threads=*) THREADS=${1#*=} ;;
        --only) ONLY=${2:?--only needs a list}; shift ;;
        --only=*) ONLY=${1#*=} ;;
        --out) OUT=${2:?--out needs a file}; shift ;;
        --out=*) OUT=${1#*=} ;;
        --no-install) INSTALL=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ -z "$REPS" ]] && { [[ $QUICK == 1 ]] && REPS=1 || REPS=3; }
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: --reps must be a positive number" >&2; exit 2; }
[[ "$OUT" = /* ]] || OUT="$PWD/$OUT"
for w in $ONLY; do
    [[ " $ALL_WORKLOADS " == *" $w "* ]] || { echo "bench/run.sh: --only: unknown workload '$w' (one of: $ALL_WORKLOADS)" >&2; exit 2; }
done
want() { [[ " $ONLY " == *" $1 "* ]]; }

# Timed steps per run of `soma bench` / torch_bench.py (warm-up: a fifth, >= 2).
# LeNet-5 training: one epoch over TRAIN_IMAGES images (all 60,000 unless --quick).
# The soma recipe: bench/recipe.sh.
# shellcheck source=bench/recipe.sh
source "$ROOT/bench/recipe.sh"
if [[ $QUICK == 1 ]]; then
    STEPS_LENET_INFER=20 STEPS_BN_CNN=8 STEPS_ALEXNET=3 STEPS_ALEXNET_FULL=2 TRAIN_IMAGES=10000
    DIST_BN_IMAGES=1000 # the BN CNN's epoch of lenet5-dist (LeNet-5's: TRAIN_IMAGES)
else
    STEPS_LENET_INFER=50 STEPS_BN_CNN=20 STEPS_ALEXNET=10 STEPS_ALEXNET_FULL=6 TRAIN_IMAGES=60000
    DIST_BN_IMAGES=10000
fi

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }

apt_install() {
    [[ $INSTALL == 1 ]] || die "missing $*: install it (apt-get install -y $*) or drop --no-install"
    [[ $(id -u) == 0 ]] || die "missing $*: run 'sudo apt-get install -y $*' first"
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null ||
        { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null; } ||
        die "apt-get install $* failed"
}

# ---------------------------------------------------------------- setup
[[ -x $PY ]] || apt_install python3
$PY -c 'import torch, numpy' 2>/dev/null || apt_install python3-torch python3-numpy
[[ -x /usr/bin/time ]] || apt_install time
if want lenet5-dist; then
    command -v mpirun >/dev/null || apt_install openmpi-bin libopenmpi-dev
fi
DATA=""
for dir in ${SOMA_DATA:+"$SOMA_DATA/fashion-mnist"} "$ROOT/data/fashion-mnist" /usr/share/datasets/fashion-mnist; do
    if compgen -G "$dir/train-images-idx3-ubyte*" >/dev/null && compgen -G "$dir/t10k-images-idx3-ubyte*" >/dev/null; then
        DATA=$dir; break
    fi
done
if [[ -z $DATA ]]; then
    apt_install dataset-fashion-mnist
    DATA=/usr/share/datasets/fashion-mnist
fi

NCPU=$(nproc)
THREAD_LIST=()
for t in $THREADS; do
    [[ "$t" =~ ^[1-9][0-9]*$ ]] || die "--threads: '$t' is not a positive number"
    if (( t > NCPU )); then log "skipping $t threads: only $NCPU CPUs"; continue; fi
    THREAD_LIST+=("$t")
done
(( ${#THREAD_LIST[@]} > 0 )) || die "no thread count fits this machine's $NCPU CPUs"

BUILD="$ROOT/build-bench"
mkdir -p "$BUILD"
log "building soma (Release) in build-bench/"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSOMA_NATIVE=OFF >"$BUILD/build.log" 2>&1 ||
    { tail -20 "$BUILD/build.log" >&2; die "cmake configure failed (log: $BUILD/build.log)"; }
cmake --build "$BUILD" -j"$NCPU" --target soma >>"$BUILD/build.log" 2>&1 ||
    { tail -20 "$BUILD/build.log" >&2; die "soma build failed (log: $BUILD/build.log)"; }
if want winograd; then
    cmake --build "$BUILD" -j"$NCPU" --target kernels_conv_bench >>"$BUILD/build.log" 2>&1 ||
        { tail -20 "$BUILD/build.log" >&2; die "conv_bench build failed (log: $BUILD/build.log)"; }
fi
gcc -O2 -Wall -Wextra -o "$BUILD/sgemm_peak" "$ROOT/bench/sgemm_peak.c" -lopenblas ||
    die "cannot build bench/sgemm_peak.c (needs libopenblas-dev)"
SOMA="$BUILD/soma"
TRAIN_DATA=$DATA
if [[ $TRAIN_IMAGES != 60000 ]]; then
    TRAIN_DATA="$BUILD/fashion-mnist-$TRAIN_IMAGES"
    "$PY" "$ROOT/bench/idx_subset.py" "$DATA" "$TRAIN_DATA" "$TRAIN_IMAGES" ||
        die "cannot write the $TRAIN_IMAGES-image subset of $DATA"
fi
DIST_BN_DATA="$BUILD/fashion-mnist-$DIST_BN_IMAGES"
if want lenet5-dist; then
    "$PY" "$ROOT/bench/idx_subset.py" "$DATA" "$DIST_BN_DATA" "$DIST_BN_IMAGES" ||
        die "cannot write the $DIST_BN_IMAGES-image subset of $DATA"
fi

# Debian's OpenBLAS 0.3.21 takes recent AVX-512 CPUs for "Prescott" (SSE3).
# soma re-selects its kernels itself (src/ops/cpu/blas_setup.c); give the
# sgemm peak and PyTorch (whose linear layers call OpenBLAS) the same kernels.
BLAS_ENV=()
if [[ -z "${OPENBLAS_CORETYPE:-}" ]] && grep -qw avx512f /proc/cpuinfo; then
    BLAS_ENV=(OPENBLAS_CORETYPE=SkylakeX)
fi

RUNS="$BUILD/bench-runs"
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
rm -rf "$RUNS"
mkdir -p "$RUNS"
cpus_for() { seq -s, 0 $(($1 - 1)); }

# run_one REP WORKLOAD FRAMEWORK THREADS CMD...: one pinned process; its
# stdout, stderr, exit status and peak RSS (KiB, /usr/bin/time %M) land in
# RUNS/REP/WORKLOAD/FRAMEWORK-tTHREADS/. THREADS 0: the framework's default
# (no thread variables, every CPU allowed). PIN_CPUS=N pins to N CPUs
# instead of THREADS (several processes of THREADS threads each); PIN_AT=LIST
# pins to exactly those CPUs.
run_one() {
    local rep=$1 workload=$2 fw=$3 t=$4
    shift 4
    local dir="$RUNS/$rep/$workload/$fw-t$t"
    mkdir -p "$dir"
    local pin=(env OMP_NUM_THREADS="$t" MKL_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t"
               taskset -c "${PIN_AT:-$(cpus_for "${PIN_CPUS:-$t}")}")
    [[ $t == 0 ]] && pin=(taskset -c "$(cpus_for "$NCPU")")
    printf '%q ' "${pin[@]}" "$@" >"$dir/command"
    log "rep $rep/$REPS  $workload  $fw  $( [[ $t == 0 ]] && echo "default" || echo "$t") thread(s)"
    local rc=0
    (cd "$dir" && "${pin[@]}" /usr/bin/time -f %M -o "$dir/maxrss_kib" \
        "$@" >"$dir/stdout" 2>"$dir/stderr") || rc=$?
    echo "$rc" >"$dir/rc"
    if [[ $rc != 0 ]]; then
        log "  FAILED (exit $rc): $(tail -1 "$dir/stderr")"
    fi
    return 0
}

# PyTorch runs as: env [OPENBLAS_CORETYPE=...] /usr/bin/python3 bench/SCRIPT ...
TORCH=(env "${BLAS_ENV[@]}" "$PY")

# Another program that keeps the last CPU busy (a pinned shell loop), for the
# "busy" rows: started before and stopped after them, and on any exit.
BUSY_PID=''
busy_start() {
    taskset -c "$((NCPU - 1))" bash -c 'while :; do :; done' &
    BUSY_PID=$!
    sleep 0.5
}
busy_stop() {
    if [[ -n $BUSY_PID ]]; then
        kill "$BUSY_PID" 2>/dev/null || true
        wait "$BUSY_PID" 2>/dev/null || true # killed: a non-zero status, as expected
    fi
    BUSY_PID=''
}
trap busy_stop EXIT

# lenet_train REP WORKLOAD MODEL THREADS: one epoch of soma and of PyTorch
lenet_train() {
    local rep=$1 workload=$2 model=$3 t=$4
    run_one "$rep" "$workload" soma "$t" "$SOMA" train "$model" --data "$TRAIN_DATA" "${RECIPE[@]}" \
        --threads "$t" --out "$RUNS/$rep/$workload/soma-t$t/out"
    run_one "$rep" "$workload" pytorch "$t" "${TORCH[@]}" "$ROOT/bench/torch_lenet.py" "$TRAIN_DATA" \
        --model "$ROOT/models/$model.cfg" --epochs 1 --batch 64 --lr 0.001 --threads "$t"
}

# busy_train REP MODEL: while the busy loop runs, rounds of one epoch of
# soma with its default threads then with 1 thread (the goal's ratio from
# runs seconds apart: how fast the host lets the free core run drifts by
# 20% from minute to minute, more than the goal's 10%), then PyTorch's two
BUSY_ROUNDS=3
busy_train() {
    local rep=$1 model=$2 workload=$2-busy round fw t threads
    for round in $(seq 1 $BUSY_ROUNDS); do
        fw=soma && (( round > 1 )) && fw=soma-r$round
        for t in 0 1; do
            threads=() && [[ $t != 0 ]] && threads=(--threads "$t")
            run_one "$rep" "$workload" "$fw" "$t" "$SOMA" train "$model" --data "$TRAIN_DATA" \
                "${RECIPE[@]}" "${threads[@]}" --out "$RUNS/$rep/$workload/$fw-t$t/out"
        done
    done
    for t in 0 1; do
        run_one "$rep" "$workload" pytorch "$t" "${TORCH[@]}" "$ROOT/bench/torch_lenet.py" \
            "$TRAIN_DATA" --model "$ROOT/models/$model.cfg" --epochs 1 --batch 64 --lr 0.001 \
            --threads "$t"
    done
}

# dist_train REP WORKLOAD MODEL DATA: one epoch data-parallel and its references
# (the LeNet-5 recipe above), all on the first 2 CPUs but the 1-thread run
MPIRUN=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe
        --bind-to none -np 2)
dist_train() {
    local rep=$1 workload=$2 model=$3 data=$4 recipe
    recipe=(train "$ROOT/models/$model.cfg" --data "$data" "${RECIPE[@]}")
    for t in 1 2; do
        run_one "$rep" "$workload" soma "$t" "$SOMA" "${recipe[@]}" --threads "$t" \
            --out "$RUNS/$rep/$workload/soma-t$t/out"
    done
    PIN_CPUS=2 run_one "$rep" "$workload" soma-mpi2 1 "${MPIRUN[@]}" "$SOMA" "${recipe[@]}" \
        --threads 1 --out "$RUNS/$rep/$workload/soma-mpi2-t1/out"
    PIN_CPUS=2 run_one "$rep" "$workload" pytorch-ddp2 1 "${TORCH[@]}" "$ROOT/bench/torch_ddp.py" \
        "$data" --model "$ROOT/models/$model.cfg" --procs 2 --threads 1 --batch 64 --lr 0.001
}

# pair_train REP: rounds of sgemm and the LeNet-5 recipe on 1 thread, on
# CPU 0 then on CPU 1, then the recipe on 2 threads (the issue's two
# LeNet-5 goals, from runs seconds apart: on a shared machine the speed of
# a core drifts by 20% from minute to minute, more than either goal's
# margin, and one core can run a third slower than the other for minutes),
# then two 1-thread runs at once (CPU 0 and CPU 1: what two independent
# jobs get from the machine, the ceiling for any 2-thread speed-up)
PAIR_ROUNDS=3
pair_train() {
    local rep=$1 recipe pids=() round fw cpu suffix
    recipe=(train lenet5 --data "$TRAIN_DATA" "${RECIPE[@]}")
    for round in $(seq 1 $PAIR_ROUNDS); do
        fw=soma && (( round > 1 )) && fw=soma-r$round
        for cpu in 0 1; do
            suffix='' && (( cpu > 0 )) && suffix=-c$cpu
            PIN_AT=$cpu run_one "$rep" lenet5-pair "${fw/soma/openblas}$suffix" 1 \
                env "${BLAS_ENV[@]}" "$BUILD/sgemm_peak" 1 2048 5
            PIN_AT=$cpu run_one "$rep" lenet5-pair "$fw$suffix" 1 "$SOMA" "${recipe[@]}" \
                --threads 1 --out "$RUNS/$rep/lenet5-pair/$fw$suffix-t1/out"
        done
        run_one "$rep" lenet5-pair "$fw" 2 "$SOMA" "${recipe[@]}" --threads 2 \
            --out "$RUNS/$rep/lenet5-pair/$fw-t2/out"
    done
    for cpu in 0 1; do
        PIN_AT=$cpu run_one "$rep" lenet5-pair soma-cpu$cpu 1 "$SOMA" "${recipe[@]}" --threads 1 \
            --out "$RUNS/$rep/lenet5-pair/soma-cpu$cpu-t1/out" &
        pids+=($!)
    done
    wait "${pids[@]}"
}

for rep in $(seq 1 "$REPS"); do
    want sgemm && for t in "${THREAD_LIST[@]}"; do
        run_one "$rep" sgemm openblas "$t" env "${BLAS_ENV[@]}" "$BUILD/sgemm_peak" "$t" 2048 5
    done
    want lenet5-train && for t in "${THREAD_LIST[@]}"; do
        lenet_train "$rep" lenet5-train lenet5 "$t"
    done
    want lenet5-infer && for t in "${THREAD_LIST[@]}"; do
        run_one "$rep" lenet5-infer soma "$t" "$SOMA" bench lenet5 --batch 256 --inference \
            --threads "$t" --steps "$STEPS_LENET_INFER"
        run_one "$rep" lenet5-infer pytorch "$t" "${TORCH[@]}" "$ROOT/bench/torch_bench.py" "$ROOT/models/lenet5.cfg" \
            --batch 256 --inference --threads "$t" --steps "$STEPS_LENET_INFER"
    done
    want bn-cnn-train && for t in "${THREAD_LIST[@]}"; do
        run_one "$rep" bn-cnn-train soma "$t" "$SOMA" bench "$ROOT/models/bench-bn-cnn.cfg" \
            --batch 64 --threads "$t" --steps "$STEPS_BN_CNN"
        run_one "$rep" bn-cnn-train pytorch "$t" "${TORCH[@]}" "$ROOT/bench/torch_bench.py" "$ROOT/models/bench-bn-cnn.cfg" \
            --batch 64 --threads "$t" --steps "$STEPS_BN_CNN"
    done
    want vgg-small-train && for t in "${THREAD_LIST[@]}"; do
        run_one "$rep" vgg-small-train soma "$t" "$SOMA" bench "$ROOT/models/vgg-small.cfg" \
            --batch 64 --training --threads "$t" --steps "$STEPS_BN_CNN"
        run_one "$rep" vgg-small-train pytorch "$t" "${TORCH[@]}" "$ROOT/bench/torch_bench.py" "$ROOT/models/vgg-small.cfg" \
            --batch 64 --threads "$t" --steps "$STEPS_BN_CNN"
    done
    want alexnet-train && for t in "${THREAD_LIST[@]}"; do
        run_one "$rep" alexnet-train soma "$t" "$SOMA" bench "$ROOT/models/alexnet-convs.cfg" \
            --batch 8 --threads "$t" --steps "$STEPS_ALEXNET"
        run_one "$rep" alexnet-train pytorch "$t" "${TORCH[@]}" "$ROOT/bench/torch_bench.py" "$ROOT/models/alexnet-convs.cfg" \
            --batch 8 --threads "$t" --steps "$STEPS_ALEXNET"
    done
    for workload in alexnet-b8-train alexnet-b32-train alexnet-infer; do
        want $workload || continue
        batch=32 mode=(--training) torch_mode=()
        [[ $workload == alexnet-b8-train ]] && batch=8
        [[ $workload == alexnet-infer ]] && mode=(--inference) torch_mode=(--inference)
        for t in "${THREAD_LIST[@]}"; do
            run_one "$rep" $workload soma "$t" "$SOMA" bench alexnet --batch $batch "${mode[@]}" \
                --threads "$t" --steps "$STEPS_ALEXNET_FULL"
            run_one "$rep" $workload pytorch "$t" "${TORCH[@]}" "$ROOT/bench/torch_bench.py" \
                "$ROOT/models/alexnet.cfg" --batch $batch "${torch_mode[@]}" --threads "$t" --steps "$STEPS_ALEXNET_FULL"
        done
    done
    if want lenet5-dist && (( NCPU > 1 )); then
        dist_train "$rep" lenet5-dist lenet5 "$TRAIN_DATA"
        dist_train "$rep" bn-cnn-dist bench-bn-cnn "$DIST_BN_DATA"
    fi
    if want pair && (( NCPU > 1 )); then
        pair_train "$rep"
    fi
    if want busy && (( NCPU > 1 )); then
        busy_start
        for model in lenet5 lenet5-bn; do
            busy_train "$rep" $model
        done
        busy_stop
    fi
done

# ---------------------------------------------------------------- report
COMMIT=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ $COMMIT != unknown ]] && ! git -C "$ROOT" diff --quiet HEAD -- src include CMakeLists.txt models 2>/dev/null; then
    COMMIT="$COMMIT + uncommitted changes"
fi
export BENCH_COMMAND="$COMMAND" BENCH_QUICK="$QUICK" BENCH_REPS="$REPS" BENCH_COMMIT="$COMMIT"
export BENCH_LOAD_START="$LOAD_START" BENCH_DATA="$TRAIN_DATA" BENCH_TRAIN_IMAGES="$TRAIN_IMAGES" BENCH_BLAS_ENV="${BLAS_ENV[*]:-}" BENCH_SOMA="$SOMA"
export BENCH_STEPS="lenet5-infer=$STEPS_LENET_INFER bn-cnn-train=$STEPS_BN_CNN vgg-small-train=$STEPS_BN_CNN alexnet-train=$STEPS_ALEXNET alexnet (whole)=$STEPS_ALEXNET_FULL"
"$PY" "$ROOT/bench/report.py" "$RUNS" "$ROOT/models" >"$OUT.tmp"
if want winograd; then
    log "winograd: bench/winograd.sh $REPS"
    { echo; bash "$ROOT/bench/winograd.sh" "$REPS" "$BUILD"; } >>"$OUT.tmp"
fi
mv "$OUT.tmp" "$OUT"
log "wrote $OUT (raw runs in $RUNS)"
