# Shared by the CLI tests (tests/cli/*.sh): source it after `set -euo pipefail`.
# Sets soma (SOMA_BIN), src (SOMA_SOURCE_DIR), a temporary directory $tmp
# removed at exit, and the pass/fail counting that `finish NAME` reports.
soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}
# run ARGS...: runs soma, keeping stdout in $tmp/out, stderr in $tmp/err, the status in $rc
run() {
    set +e
    "$soma" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
}
# finish NAME: the counts, and the script's status
finish() {
    echo "$1: $passed passed, $failed failed"
    ((failed == 0))
}
