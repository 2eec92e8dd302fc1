#!/usr/bin/env bash
# Installs what soma needs to build and test, from Debian's packages, when missing.
# Usage: scripts/setup.sh [--bench|--fixtures]   (either adds PyTorch: for bench/, and for
# regenerating the PyTorch fixtures of tests/fixtures/ with /usr/bin/python3)
set -euo pipefail

packages=(build-essential cmake pkg-config zlib1g-dev libopenblas-dev libomp-dev libpng-dev
          libjpeg62-turbo-dev clang libclang-rt-dev valgrind dataset-fashion-mnist
          libopenmpi-dev openmpi-bin
          chromium) # chromium: cli_report_render opens a `soma report` page headless
if [[ "${1:-}" == "--bench" || "${1:-}" == "--fixtures" ]]; then
  packages+=(python3-torch python3-numpy)
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
