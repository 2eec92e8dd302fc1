#!/usr/bin/env bash
# A soma built without MPI, started by a launcher as one of several
# processes, says in one line that distributed training needs an MPI build,
# and exits 1 before loading anything. (A build with MPI trains instead:
# tests/dist/; comm_test checks the message in every build.)
set -euo pipefail
source "$SOMA_SOURCE_DIR/tests/support/cli.sh"
run --version
if grep -q ', MPI)' "$tmp/out"; then
    echo "SKIP: this soma has MPI (tests/dist/ train with it)"
    exit 77
fi
set +e
OMPI_COMM_WORLD_SIZE=2 "$soma" train lenet5 --epochs 1 --out "$tmp/run" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
check "exits 1 (rc=$rc)" test "$rc" -eq 1
check "one line: $(cat "$tmp/err")" test "$(wc -l <"$tmp/err")" -eq 1
check "says why" grep -qF "distributed training needs a soma built with MPI" "$tmp/err"
check "nothing written" test ! -e "$tmp/run"
finish cli_needs_mpi
