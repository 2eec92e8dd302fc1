#!/usr/bin/env bash
# The long acceptance runs of the core (not part of CI): trains and prints one
# line per check with the measured figure and the bar it must clear.
#   1. the README's main job (LeNet-5 + BN on the MNIST 10k subset, defaults): error <= 2.0%
#   2. lenet5-bn on Fashion-MNIST, 10 epochs, defaults: accuracy >= 90.5%
#   3. every optimizer, LeNet-5 on Fashion-MNIST, 2 epochs, its default lr: accuracy >= 85%
# Usage: scripts/acceptance.sh [BUILD_DIR] [--only main|fashion|optimizers]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
only=${3:-all}
[[ "${2:-}" == "--only" ]] || only=all
soma="$build/soma"
out=$(mktemp -d /tmp/soma-acceptance-XXXXXX)
failed=0

accuracy() { sed -n 's/.*"test_accuracy": *\([0-9.]*\).*/\1/p' "$1/summary.json"; }
verdict() { # name measured bar cmp
  if awk -v m="$2" -v b="$3" -v c="$4" 'BEGIN { exit !(c == "le" ? m <= b : m >= b) }'; then
    printf '%-44s %8s  (bar %s %s)  ok\n' "$1" "$2" "$([[ $4 == le ]] && echo '<=' || echo '>=')" "$3"
  else
    printf '%-44s %8s  (bar %s %s)  FAILED\n' "$1" "$2" "$([[ $4 == le ]] && echo '<=' || echo '>=')" "$3"
    failed=1
  fi
}

if [[ $only == all || $only == main ]]; then
  "$soma" train lenet5-bn --data mnist --out "$out/main" --quiet >/dev/null
  err=$(awk -v a="$(accuracy "$out/main")" 'BEGIN { printf "%.2f", 100 * (1 - a) }')
  verdict "main job: lenet5-bn mnist (defaults), error %" "$err" 2.0 le
fi
if [[ $only == all || $only == fashion ]]; then
  "$soma" train lenet5-bn --data fashion-mnist --epochs 10 --out "$out/fashion" --quiet >/dev/null
  acc=$(awk -v a="$(accuracy "$out/fashion")" 'BEGIN { printf "%.2f", 100 * a }')
  verdict "lenet5-bn fashion-mnist 10 epochs, accuracy %" "$acc" 90.5 ge
fi
if [[ $only == all || $only == optimizers ]]; then
  for opt in sgd momentum nesterov adagrad rmsprop adam adamw; do
    "$soma" train lenet5 --data fashion-mnist --epochs 2 --opt "$opt" --schedule const \
      --out "$out/opt-$opt" --quiet >/dev/null
    acc=$(awk -v a="$(accuracy "$out/opt-$opt")" 'BEGIN { printf "%.2f", 100 * a }')
    verdict "lenet5 fashion-mnist 2 epochs --opt $opt, acc %" "$acc" 85 ge
  done
fi
echo "runs kept in $out"
exit $failed
