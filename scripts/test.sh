#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what is missing, builds
# with warnings as errors, runs CTest and a short kill test (SIGKILLed training
# runs resumed, scripts/kill-test.sh), installs the build and builds the
# examples against the install, then runs the same tests under AddressSanitizer
# and UndefinedBehaviorSanitizer, short fuzz runs of every parser, and a short
# training run under valgrind memcheck.
#
# Usage: scripts/test.sh [--quick]   (--quick: the main build and CTest only)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

step() { printf '\n== %s\n' "$*"; }

step "setup"
scripts/setup.sh

step "build (gcc, -Werror)"
cmake -S . -B build -DSOMA_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
step "tests"
# Two at a time: many tests wait on processes (mpirun, chromium, a killed run)
# more than they compute. Each test's own timing checks allow for a busy machine.
(cd build && ctest -j"$jobs" --output-on-failure)

if [[ "${1:-}" == "--quick" ]]; then
  exit 0
fi

step "kill test: training runs SIGKILLed at random moments, then resumed"
# 10 kills take about 10 s on 2 cores; scripts/kill-test.sh alone defaults to 20.
scripts/kill-test.sh "${SOMA_KILL_TEST_KILLS:-10}" build/soma

step "install: examples built against the installed library (pkg-config, find_package)"
examples/test-installed.sh build

step "tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
CC=clang cmake -S . -B build-asan -DSOMA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSOMA_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$jobs"
# LeakSanitizer runs with ASan: a leak fails the test that leaked. Left out
# here: the checks that run soma's output through onnxruntime and PyTorch
# (their soma side, export and logits, is in onnx_export_test and
# cli_interop), and the distributed tests' TCP twins (the same soma code as
# over shared memory).
# intercept_tls_get_addr=0: clang 14's leak tracer can die on dynamic TLS
# blocks (see the distributed tests in CMakeLists.txt).
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 ctest -j"$jobs" --output-on-failure \
  -E 'cli_onnx_runtime|cli_torch_roundtrip|^dist_.*_tcp$')

step "fuzz (libFuzzer, bounded runs over the committed corpora)"
scripts/fuzz.sh "${SOMA_FUZZ_SECONDS:-20}"

step "valgrind memcheck: a short training run"
# valgrind does not emulate AVX-512: a portable build, whose kernels pick
# their instruction set at run time from what the (virtual) CPU reports.
cmake -S . -B build-valgrind -DSOMA_WERROR=ON -DSOMA_NATIVE=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-valgrind -j"$jobs" --target soma
scripts/valgrind-train.sh build-valgrind

echo
echo "all test stages passed"
