#!/usr/bin/env bash
# The directories of src/ are layers, and a file includes headers only from
# its own layer or from those below it:
#
#   core                      errors, RNG, strings, threads: needs nothing
#   ops, io                   kernels behind the backend; general file formats
#                             (JSON, safetensors, atomic files)
#   nn, optim, data           model code (layers, model files, the model's part
#                             of a checkpoint), optimizers, datasets
#   train                     the training loop and the run state it resumes
#   cli                       the soma command: a client of the public API
#                             (soma.h) plus the general helpers of core and io
#
# The allowed edges below are those the code uses, and the ones the layers
# above permit that it does not use yet (optim -> io, data -> io). Siblings
# (nn, optim, data) do not include each other, and cli reaches the library
# only through soma.h. Any file may include "soma.h", the public header.
#
# Usage: layering.sh SRC_DIR        checks every #include "dir/..." in SRC_DIR
#        layering.sh --self-test    checks that a forbidden include is caught
# Run by CTest (CMakeLists.txt).
set -euo pipefail

declare -A allowed=(
    [core]=""
    [ops]="core"
    [io]="core"
    [nn]="core ops io"
    [optim]="core ops io"
    [data]="core io"
    [train]="core ops io nn optim data"
    [cli]="core io"
)

# `#include "dir/file.h"`, the quoted name captured
include_line='[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)"'

check() {
    local src=$1 failed=0 file dir line target
    while IFS=: read -r file line target; do
        dir=${file#"$src"/}
        dir=${dir%%/*}
        if [[ -z ${allowed[$dir]+set} ]]; then
            echo "$file: directory '$dir' is not a known layer (add it to $0)" >&2
            failed=1
            continue
        fi
        [[ $target == soma.h || $target != */* ]] && continue # public, or same directory
        target=${target%%/*}
        [[ $target == "$dir" ]] && continue
        if [[ " ${allowed[$dir]} " != *" $target "* ]]; then
            echo "$file:$line: $dir may not include $target/" \
                "(allowed: ${allowed[$dir]:-nothing})" >&2
            failed=1
        fi
    done < <(grep -rnoE --include="*.c" --include="*.h" "^$include_line" "$src" |
             sed -E "s/:$include_line\$/:\\1/")
    return $failed
}

if [[ ${1:-} == --self-test ]]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/io" "$tmp/nn"
    printf '#include "core/error.h"\n#include "nn/layer.h"\n' >"$tmp/io/bad.h"
    printf '#include "io/json.h"\n' >"$tmp/nn/good.c"
    if out=$(check "$tmp" 2>&1); then
        echo "FAIL: io/bad.h including nn/layer.h was not caught" >&2
        exit 1
    fi
    if [[ $out != "$tmp/io/bad.h:2: io may not include nn/ (allowed: core)" ]]; then
        echo "FAIL: unexpected report: $out" >&2
        exit 1
    fi
    echo "layering: a forbidden include is caught"
    exit 0
fi

src=${1:?usage: layering.sh SRC_DIR | --self-test}
check "$src"
echo "layering: every include of $src follows the layers"
