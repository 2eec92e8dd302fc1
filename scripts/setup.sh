#!/usr/bin/env bash
# Installs what soma needs to build and test, from Debian's packages, when missing.
# Usage: scripts/setup.sh [--bench|--fixtures|--interop]   (each adds PyTorch: for bench/,
# for regenerating the PyTorch fixtures of tests/fixtures/ with /usr/bin/python3, and for
# the PyTorch round trip test, tests/cli/torch_roundtrip.sh)
set -euo pipefail

packages=(build-essential cmake pkg-config zlib1g-dev libopenblas-dev libomp-dev libpng-dev
          libjpeg62-turbo-dev clang libclang-rt-dev valgrind dataset-fashion-mnist
          libopenmpi-dev openmpi-bin
          chromium) # chromium: cli_report_render opens a `soma report` page headless
if [[ "${1:-}" == "--bench" || "${1:-}" == "--fixtures" || "${1:-}" == "--interop" ]]; then
  packages+=(python3-torch python3-numpy)
fi
# The ONNX tests (tests/cli/onnx_runtime.sh): onnx.checker, and npm for onnxruntime-node.
packages+=(python3-onnx)
# A node from elsewhere (nodesource) is not Debian's package by name: only when there is no
# npm at all are Debian's nodejs and npm installed, never over a working node.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
