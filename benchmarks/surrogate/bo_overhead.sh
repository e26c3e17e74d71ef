#!/usr/bin/env bash
# Per-iteration overhead of BO and BANANAS as the history grows to 1,000 points (see
# bo_overhead.cpp for what is timed). Target: under 1 s per iteration at 1,000 points on 2 cores.
# Usage: benchmarks/surrogate/bo_overhead.sh [--sizes 100,250,500,1000] [--repeats 3] [--data DIR]
# Env: CXX (g++), CXXFLAGS (-O3 -DNDEBUG: the flags of the default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${CXX:-g++}" -std=c++20 ${CXXFLAGS:--O3 -DNDEBUG} -Iinclude -I/usr/include/eigen3 \
    benchmarks/surrogate/bo_overhead.cpp -ltbb -lz -o "$tmp/bo_overhead"
"$tmp/bo_overhead" --data "${NASCENT_DATA:-../shared/data}" "$@"
