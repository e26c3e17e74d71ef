#!/usr/bin/env bash
# Installs the Debian packages nascent needs, skipping those already present.
# Usage: scripts/setup.sh [--python] [--sanitizers]   (--python also installs the Python peers
# used by the baseline benchmark and the plotting script; --sanitizers, clang-14 and its
# sanitizer and libFuzzer runtimes)
set -euo pipefail

packages=(g++ cmake ninja-build libeigen3-dev xtensor-dev libtbb-dev librange-v3-dev
          doctest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev zlib1g-dev dataset-fashion-mnist
          clang-format-14
          libopenmpi-dev openmpi-bin # the MPI executor's test (optional for the library)
          pybind11-dev python3-dev python3-numpy python3-pytest) # the Python module and its tests
if [[ " $* " == *" --sanitizers "* ]]; then
  packages+=(clang-14 libclang-rt-14-dev) # scripts/sanitize.sh and scripts/fuzz.sh
fi
if [[ " $* " == *" --python "* ]]; then
  # Peers the benchmarks compare against, on OpenBLAS as users' installs run them.
  packages+=(python3 python3-numpy python3-matplotlib python3-sklearn python3-torch
             libopenblas0-pthread libopenblas-dev libpagmo-dev
             python3-optuna python3-scipy) # benchmarks: Optuna beside nascent; SciPy's statistics
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup: installing ${missing[*]}" >&2
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
