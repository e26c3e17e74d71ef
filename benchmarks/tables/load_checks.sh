#!/usr/bin/env bash
# The cost of the tables' range checks: builds load_time.cpp against include/ of BASE (default:
# the commit before the checks) and of the work tree, runs the two alternately ROUNDS times and
# prints each table's median load time and the ratio checked / unchecked.
#   benchmarks/tables/load_checks.sh [BASE] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
base=6cf2fc4
data=${NASCENT_DATA:-../shared/data}
while (($#)); do
  case $1 in
    --data) data=$2; shift 2 ;;
    *) base=$1; shift ;;
  esac
done
rounds=${ROUNDS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/base"
git archive "$base" include | tar -x -C "$tmp/base"
cxx=${CXX:-g++}
flags=(-std=c++20 -O2 -DNDEBUG) # the Release build's flags, no -march
"$cxx" "${flags[@]}" -I "$tmp/base/include" benchmarks/tables/load_time.cpp -o "$tmp/before"
"$cxx" "${flags[@]}" -I include benchmarks/tables/load_time.cpp -o "$tmp/after"
for ((r = 0; r < rounds; ++r)); do
  "$tmp/before" "$data" 5 >>"$tmp/before.txt"
  "$tmp/after" "$data" 5 >>"$tmp/after.txt"
done
python3 - "$tmp/before.txt" "$tmp/after.txt" "$base" <<'PY'
import statistics, sys
def read(path):
    out = {}
    for line in open(path):
        name, ms = line.split()
        out.setdefault(name, []).append(float(ms))
    return {k: statistics.median(v) for k, v in out.items()}
before, after = read(sys.argv[1]), read(sys.argv[2])
print(f"{'table':<15} {'before (' + sys.argv[3] + ')':>18} {'after':>10} {'ratio':>7}")
for name in before:
    print(f"{name:<15} {before[name]:>15.2f} ms {after[name]:>7.2f} ms {after[name] / before[name]:>7.3f}")
PY
