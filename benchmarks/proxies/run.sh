#!/usr/bin/env bash
# Zero-cost proxies against NASLib's published NAS-Bench-201 scores (docs/proxies.md), and the
# throughput of synflow. Builds the programs standalone (no CMake tree needed), then
#   1. scores all 724 cells of zc/nb201_cifar10.csv with seed 0 (~25 min on 2 shared cores) and the
#      first 120 again with seed 1, checkpointing to nb201_fmnist_scores*.csv here: rerun this
#      script to resume after a kill (finished cells are not recomputed);
#   2. writes the Spearman tables to report.md here;
#   3. measures synflow cells/s on 1 and 2 threads;
#   4. compares finite-difference GraSP with the exact one on 24 cells (~5 min).
# Usage: benchmarks/proxies/run.sh [DATA_DIR] [THREADS]   (defaults: ../shared/data, 2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${1:-${NASCENT_DATA:-$root/../shared/data}}"
threads="${2:-2}"
build="${TMPDIR:-/tmp}/nascent_proxies_bench"
mkdir -p "$build"
flags=(-std=c++20 -O3 -DNDEBUG -march=native -I"$root/include" -isystem /usr/include/eigen3)
for program in compare_naslib synflow_throughput grasp_hvp; do
    if [[ ! -x "$build/$program" || "$here/$program.cpp" -nt "$build/$program" ||
          -n "$(find "$root/include" -newer "$build/$program" -name '*.hpp' -print -quit)" ]]; then
        echo "building $program" >&2
        g++ "${flags[@]}" "$here/$program.cpp" -ltbb -lz -o "$build/$program"
    fi
done
common=(--data "$data" --threads "$threads" --batch 32)
"$build/compare_naslib" "${common[@]}" --seed 1 --limit 120 \
    --scores "$here/nb201_fmnist_scores_seed1.csv" > /dev/null
"$build/compare_naslib" "${common[@]}" --seed 0 --scores "$here/nb201_fmnist_scores.csv" \
    --other-scores "$here/nb201_fmnist_scores_seed1.csv" --report "$here/report.md"
"$build/synflow_throughput" --threads 1 --cells 200
"$build/synflow_throughput" --threads "$threads" --cells 400
"$build/grasp_hvp" --cells 24 --threads "$threads"
