#!/usr/bin/env bash
# examples/model_in_code.c, built against this build's libsoma.so with the
# public header only: it builds LeNet-5 in code, whose table is the zoo's
# lenet5 table (soma info lenet5) under its own name, and reports a dataset
# it cannot find as an error (exit 1) naming what failed.
# Run by CTest with SOMA_BIN (the soma binary, beside libsoma.so) and SOMA_SOURCE_DIR.
set -euo pipefail

soma=${SOMA_BIN:?set SOMA_BIN to the soma binary}
src=${SOMA_SOURCE_DIR:?set SOMA_SOURCE_DIR to the repository root}
libdir=$(cd "$(dirname "$soma")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# a sanitizer build's libsoma.so needs its runtime in the program too
cc=${CC:-cc} sanitize=()
symbols=$(nm -D "$libdir/libsoma.so") # whole, not piped to grep -q (pipefail, SIGPIPE)
if grep -q ' __asan_init$' <<<"$symbols"; then
    cc=clang sanitize=(-fsanitize=address,undefined)
fi
"$cc" -std=c11 -Wall -Wextra -Werror "${sanitize[@]}" -I"$src/include" \
    "$src/examples/model_in_code.c" -L"$libdir" -lsoma -Wl,-rpath,"$libdir" -o "$tmp/model_in_code"

"$tmp/model_in_code" >"$tmp/out" || fail "model_in_code without DATA exits $?"
grep -q '^model lenet5-in-code  (input 1x28x28, 10 classes)$' "$tmp/out" || fail "no model line"
grep -q '^parameters: 61,706 ' "$tmp/out" || fail "not 61,706 parameters"
grep -q '^no DATA given: not trained' "$tmp/out" || fail "no 'not trained' line"
# the layer table is the zoo's, line for line
"$soma" info lenet5 >"$tmp/info"
sed -n '/^  #  layer/,/^parameters:/p' "$tmp/out" >"$tmp/table.code"
sed -n '/^  #  layer/,/^parameters:/p' "$tmp/info" >"$tmp/table.zoo"
[[ -s "$tmp/table.code" ]] && cmp -s "$tmp/table.code" "$tmp/table.zoo" ||
    { fail "the table differs from soma info lenet5's"; diff "$tmp/table.code" "$tmp/table.zoo" >&2 || true; }

set +e
"$tmp/model_in_code" "$tmp/no-such-data" >/dev/null 2>"$tmp/err"
rc=$?
set -e
[[ $rc == 1 ]] || fail "missing data: exit $rc, expected 1"
grep -q '^model_in_code: training data: .*no-such-data' "$tmp/err" || fail "missing data: $(cat "$tmp/err")"

"$tmp/model_in_code" a b >/dev/null 2>&1 && fail "two arguments accepted"
[[ $failed == 0 ]] && echo "example_model_in_code: ok"
exit $failed
