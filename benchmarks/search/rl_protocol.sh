#!/usr/bin/env bash
# The RL controllers on the NAS-Bench-201 protocol: learning-rate sweep on CIFAR-10, overhead per
# query against REA, and the three-dataset table (see rl_protocol.cpp).
# Usage: benchmarks/search/rl_protocol.sh [--mode tune|overhead|protocol] [--runs N] [--data DIR]
# Env: CXX (g++), CXXFLAGS (-O3 -DNDEBUG: the flags of the default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${CXX:-g++}" -std=c++20 ${CXXFLAGS:--O3 -DNDEBUG} -Iinclude -I/usr/include/eigen3 \
    benchmarks/search/rl_protocol.cpp -ltbb -lz -o "$tmp/rl_protocol"
"$tmp/rl_protocol" --data "${NASCENT_DATA:-../shared/data}" "$@"
