#!/usr/bin/env bash
# Installs the Debian 12 packages scalinglab needs. Idempotent: a no-op when all are present.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suite uses (PyTorch/SciPy references, Chromium)
#   scripts/install-deps.sh --bench  also what the side-by-side benchmarks use
set -euo pipefail

build_pkgs=(g++ make cmake pkg-config libeigen3-dev liblbfgspp-dev libcli11-dev nlohmann-json3-dev
            libsqlite3-dev libopenblas-dev zlib1g-dev
            bible-kjv bible-kjv-text)  # the default training corpus (KJV text + its decoder)
test_pkgs=(libgtest-dev python3-numpy python3-scipy python3-torch
           chromium)  # headless browser for the HTML report test (tests/report)
bench_pkgs=(libbenchmark-dev python3-numpy python3-scipy)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) want+=("${test_pkgs[@]}") ;;
    --bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "install-deps.sh: unknown option '$arg' (expected --test or --bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps.sh: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
