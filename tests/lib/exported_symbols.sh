#!/usr/bin/env bash
# libsoma.so exports its public API and nothing else: every defined dynamic
# symbol starts with soma_, and every function of include/soma.h is there.
# Run by CTest with the path of libsoma.so and of soma.h.
set -euo pipefail
lib=${1:?usage: exported_symbols.sh LIBSOMA_SO SOMA_H}
header=${2:?usage: exported_symbols.sh LIBSOMA_SO SOMA_H}
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort)
declared=$(grep -o '^SOMA_API [^(]*\bsoma_[a-z0-9_]*(' "$header" | grep -o 'soma_[a-z0-9_]*($' | tr -d '(' | sort)
failed=0
stray=$(grep -v '^soma_' <<<"$exported" || true)
if [[ -n "$stray" ]]; then
    echo "FAIL: libsoma.so exports $(wc -l <<<"$stray") symbols without the soma_ prefix:" >&2
    head -20 <<<"$stray" >&2
    failed=1
fi
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [[ -n "$missing" ]]; then
    echo "FAIL: declared in soma.h but not exported: $missing" >&2
    failed=1
fi
undeclared=$(comm -13 <(echo "$declared") <(echo "$exported"))
if [[ -n "$undeclared" ]]; then
    echo "FAIL: exported but not declared in soma.h: $undeclared" >&2
    failed=1
fi
echo "exported_symbols: $(wc -l <<<"$exported") exported, $(wc -l <<<"$declared") declared"
exit $failed
