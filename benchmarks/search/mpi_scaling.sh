#!/usr/bin/env bash
# The MPI figures of docs/scaling.md (see mpi_scaling.cpp): the MPI executor's overhead per
# evaluation with a trivial evaluator at -np 3 against tbb_executor(2); a scaling curve measured
# at 1, 2 and 3 workers (-np 2..4) with a sleeping evaluator; the asynchronous simulator to 64
# workers. Prints the load average before each part: the figures mean little on a busy machine.
# Usage: benchmarks/search/mpi_scaling.sh [--data DIR] [--sleep-ms 20] [--budget 120]
# Env: CXX (mpicxx), CXXFLAGS (-O3 -DNDEBUG: the flags of the default build).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
data=${NASCENT_DATA:-../shared/data}
sleep_ms=20
budget=120
while (($#)); do
    case $1 in
    --data) data=$2; shift 2 ;;
    --sleep-ms) sleep_ms=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    *) echo "mpi_scaling.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${CXX:-mpicxx}" -std=c++20 ${CXXFLAGS:--O3 -DNDEBUG} -Iinclude -I/usr/include/eigen3 \
    benchmarks/search/mpi_scaling.cpp -ltbb -lz -o "$tmp/mpi_scaling"
mpirun=(mpirun --allow-run-as-root --oversubscribe)
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
load
"${mpirun[@]}" -np 3 "$tmp/mpi_scaling" "$data" --part overhead --budget 3000
load
for np in 2 3 4; do
    "${mpirun[@]}" -np "$np" "$tmp/mpi_scaling" "$data" --part curve --budget "$budget" --sleep-ms "$sleep_ms"
done
load
"${mpirun[@]}" -np 1 "$tmp/mpi_scaling" "$data" --part simulate
