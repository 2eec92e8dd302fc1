# The soma side of bench/run.sh's LeNet-5 training recipe, sourced by run.sh,
# thread-cost.sh and compare-epochs.sh so that their epochs stay the same one.
# Spelled out in full (Adam 1e-3, no weight decay, constant rate, He init),
# so that a change of `soma train`'s defaults cannot change it.
# shellcheck shell=bash disable=SC2034
RECIPE=(--epochs 1 --batch 64 --opt adam --lr 0.001 --weight-decay 0 --schedule const --warmup 0
        --init he --seed 1 --val-split 0 --quiet)
