#!/usr/bin/env bash
# soma against soma: two git revisions built side by side (Release, default
# flags) and timed alternately with `soma bench`, so that load on the machine
# falls on both alike. Prints images/s medians and the ratio NEW/OLD per
# workload and thread count. For "did this change slow anything down".
#
# usage: bench/compare-revisions.sh OLD [NEW] [--reps N] [--threads "1 2"] [--steps N]
#   OLD, NEW   git revisions (NEW defaults to the working tree, uncommitted changes included)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OLD='' NEW='' REPS=5 THREADS="1 2" STEPS=300
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) REPS=${2:?}; shift ;;
        --threads) THREADS=${2:?}; shift ;;
        --steps) STEPS=${2:?}; shift ;;
        -h|--help) sed -n 2,8p "$0"; exit 0 ;;
        -*) echo "compare-revisions: unknown option '$1'" >&2; exit 2 ;;
        *) if [[ -z "$OLD" ]]; then OLD=$1; elif [[ -z "$NEW" ]]; then NEW=$1;
           else echo "compare-revisions: too many revisions" >&2; exit 2; fi ;;
    esac
    shift
done
[[ -n "$OLD" ]] || { sed -n 2,8p "$0" >&2; exit 2; }
work=$(mktemp -d)
trap 'git -C "$ROOT" worktree remove --force "$work/old" >/dev/null 2>&1 || true;
      [[ -d "$work/new" && -f "$work/new/.git" ]] && git -C "$ROOT" worktree remove --force "$work/new" >/dev/null 2>&1;
      rm -rf "$work"' EXIT

build() { # SOURCE_DIR BUILD_DIR
    cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$2" -j"$(nproc)" --target soma >/dev/null
}
git -C "$ROOT" worktree add --detach "$work/old" "$OLD" >/dev/null 2>&1
build "$work/old" "$work/old/build"
if [[ -n "$NEW" ]]; then
    git -C "$ROOT" worktree add --detach "$work/new" "$NEW" >/dev/null 2>&1
    build "$work/new" "$work/new/build"
    new_bin=$work/new/build/soma
else
    build "$ROOT" "$work/build-new"
    new_bin=$work/build-new/soma
fi
old_bin=$work/old/build/soma

# images/s of one `soma bench` run: MODEL THREADS MODE(train|inference) BATCH
rate() {
    local bin=$1 model=$2 threads=$3 mode=$4 batch=$5 flag=--training
    [[ $mode == inference ]] && flag=--inference
    "$bin" bench "$model" --threads "$threads" --batch "$batch" --steps "$STEPS" $flag |
        awk -v m="$mode" '$1 == m { gsub(",", "", $2); print $2 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-12s %-9s %7s %12s %12s %7s\n' model mode threads "old img/s" "new img/s" new/old
for spec in "lenet5 train 64" "lenet5-bn train 64" "lenet5 inference 256" "bench-bn-cnn train 64"; do
    read -r model mode batch <<<"$spec"
    for t in $THREADS; do
        : >"$work/a"; : >"$work/b"
        for ((r = 0; r < REPS; r++)); do
            rate "$old_bin" "$model" "$t" "$mode" "$batch" >>"$work/a"
            rate "$new_bin" "$model" "$t" "$mode" "$batch" >>"$work/b"
        done
        a=$(median <"$work/a") b=$(median <"$work/b")
        printf '%-12s %-9s %7s %12.0f %12.0f %7.3f\n' "$model" "$mode" "$t" "$a" "$b" \
            "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
    done
done
