#!/usr/bin/env bash
# The figures of docs/scaling.md (see scaling.cpp): checkpoint write / load / resume times of a
# 10^4-evaluation history, and the wall time of a training search with k = 2 in flight against
# k = 1 with one and with two intra-op threads.
# Usage: benchmarks/search/scaling.sh [--part checkpoint|train|all] [--evaluations 20] [--data DIR]
# Env: CXX (g++), CXXFLAGS (-O3 -DNDEBUG: the flags of the default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${CXX:-g++}" -std=c++20 ${CXXFLAGS:--O3 -DNDEBUG} -Iinclude -I/usr/include/eigen3 \
    benchmarks/search/scaling.cpp -ltbb -lz -o "$tmp/scaling"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$tmp/scaling" --data "${NASCENT_DATA:-../shared/data}" "$@"
