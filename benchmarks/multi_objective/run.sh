#!/usr/bin/env bash
# NSGA-II cross-check: pagmo2's nsga2 against nascent::strategy::nsga2 on NAS-Bench-201
# (test_acc@200 vs latency:<device>), same objectives, same number of fitness evaluations, in one
# process. Prints, per population size, the hypervolume per evaluation budget (mean +- std over
# the seeds) and the time per generation of both, as a ratio. Protocol: pagmo_vs_nascent.cpp.
#
# Usage: benchmarks/multi_objective/run.sh [--seeds 100] [--pops 20,52] [--budgets 100,300,1000]
#                                          [--device pixel3] [--dataset cifar10] [--timing-reps 7]
#                                          [--data DIR] [--json FILE]
# Env: CXX (g++), CXXFLAGS (-O2). Compiles only pagmo_vs_nascent.cpp (header-only nascent).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash scripts/setup.sh # compiler, oneTBB, nlohmann-json...
# The peer this benchmark needs (one of setup.sh --python's packages; not the rest, e.g. torch).
if ! dpkg-query -W -f='${Status}' libpagmo-dev 2>/dev/null | grep -q "install ok installed"; then
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    echo "run.sh: installing libpagmo-dev" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends libpagmo-dev >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=benchmarks/multi_objective/pagmo_vs_nascent.cpp
data_default=$(cd .. && pwd)/shared/data # as the CLI's default: ../shared/data beside the source tree
cxx=(${CXX:-g++} -std=c++20 ${CXXFLAGS:--O2} -Iinclude "-DNASCENT_BENCH_DATA_DIR=\"$data_default\""
     "$src" -o "$tmp/pagmo_vs_nascent")
# libpagmo.so brings Boost.Serialization and oneTBB itself; name them if the linker wants them.
if ! "${cxx[@]}" -lpagmo 2>"$tmp/link.log"; then
    "${cxx[@]}" -lpagmo -lboost_serialization -ltbb || { cat "$tmp/link.log" >&2; exit 1; }
fi
echo "pagmo $(dpkg-query -W -f='${Version}' libpagmo-dev), $(${CXX:-g++} --version | head -n1), ${CXXFLAGS:--O2}"
"$tmp/pagmo_vs_nascent" "$@"
